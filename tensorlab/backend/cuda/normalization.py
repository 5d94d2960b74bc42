"""CUDA implementations of the fused normalization primitives (ops/normalization.py).

float32/float64 run our row kernels (kernels/rowwise.py): ``tl_layer_norm_fwd`` /
``tl_layer_norm_bwd_dx`` plus the per-feature parameter gradient for layer norm, and
``tl_batch_norm_stats`` / ``tl_batch_norm_bwd`` for batch norm, whose forward normalization is
then one CuPy multiply-add with per-channel scale and shift. float16/bfloat16 use the CuPy
mirror of the CPU code (normalized in float32).
"""
import numpy as np

from tensorlab.backend.cpu import normalization as _cpu
from tensorlab.backend.cuda._mirror import cupy_versions, mirror
from tensorlab.backend.cuda.kernels import rowwise as _krow
from tensorlab.core.registry import impl
from tensorlab.ops import normalization as N

_fallback = cupy_versions(_cpu)
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _use_kernel(x):
    return x.dtype in _KERNEL_DTYPES and x.size > 0


@impl(N.layer_norm_p, "cuda")
def layer_norm(x, gamma, beta, epsilon):
    if _use_kernel(x):
        return _krow.layer_norm(x, gamma, beta, epsilon)
    return _fallback["layer_norm"](x, gamma, beta, epsilon)


@impl(N.layer_norm_grad_p, "cuda")
def layer_norm_grad(dy, x, gamma, mean, rstd, epsilon):
    if _use_kernel(x):
        return _krow.layer_norm_grad(dy, x, gamma, mean, rstd)
    return _fallback["layer_norm_grad"](dy, x, gamma, mean, rstd, epsilon)


def _rstd(var, epsilon):
    import cupy

    return 1.0 / cupy.sqrt(var + var.dtype.type(epsilon))


@impl(N.batch_norm_p, "cuda")
def batch_norm(x, gamma, beta, epsilon):
    if not _use_kernel(x):
        return _fallback["batch_norm"](x, gamma, beta, epsilon)
    mean, var = _krow.batch_norm_stats(x)
    scale = gamma * _rstd(var, epsilon)         # per channel: only C elements
    y = x * scale + (beta - mean * scale)
    return y, mean, var


@impl(N.batch_norm_grad_p, "cuda")
def batch_norm_grad(dy, x, gamma, mean, var, epsilon):
    if _use_kernel(x):
        return _krow.batch_norm_grad(dy, x, mean, _rstd(var, epsilon), gamma)
    return _fallback["batch_norm_grad"](dy, x, gamma, mean, var, epsilon)


mirror(_cpu)
