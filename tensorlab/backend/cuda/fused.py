"""CUDA implementations of the fused bias + activation primitives (ops/fused.py).

float32/float64 run ``tl_bias_act_fwd`` / ``tl_bias_act_bwd`` (kernels/fused.py); float16 and
bfloat16 use the CuPy mirror of the CPU code.
"""
import numpy as np

from tensorlab.backend.cpu import fused as _cpu
from tensorlab.backend.cuda._mirror import cupy_versions, mirror
from tensorlab.backend.cuda.kernels import fused as _kfused
from tensorlab.core.registry import impl
from tensorlab.ops import fused as F

_fallback = cupy_versions(_cpu)
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _use_kernel(x):
    return x.dtype in _KERNEL_DTYPES and x.size > 0


@impl(F.bias_act_p, "cuda")
def bias_act(x, b, activation):
    if _use_kernel(x):
        return _kfused.bias_act(x, b, activation)
    return _fallback["bias_act"](x, b, activation)


@impl(F.bias_act_grad_p, "cuda")
def bias_act_grad(dy, x, b, y, activation):
    if _use_kernel(x):  # the kernel recomputes x + b on the fly: y is not read
        return _kfused.bias_act_grad(dy, x, b, activation, reduce_bias=False)[0]
    return _fallback["bias_act_grad"](dy, x, b, y, activation)


mirror(_cpu)
