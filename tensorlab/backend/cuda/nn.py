"""CUDA implementations of the nn primitives.

softmax/log_softmax (and their backward primitives) over the last axis run
our row-wise kernels (kernels/rowwise.py); relu and bias_add on channels-last
float tensors run the fused bias+activation kernel (kernels/fused.py). Other
axes, layouts and dtypes use CuPy mirrors of the CPU code.
"""
import numpy as np

from tensorlab.backend.cpu import nn as _cpu
from tensorlab.backend.cuda._mirror import cupy_versions, mirror
from tensorlab.backend.cuda.kernels import fused as _kfused
from tensorlab.backend.cuda.kernels import rowwise as _krow
from tensorlab.core.registry import impl
from tensorlab.ops import nn as N

_fallback = cupy_versions(_cpu)
_ROW_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def use_row_kernel(x, axis):
    """Row kernels: float32/float64, reduction over the last axis, non-empty."""
    return x.dtype in _ROW_DTYPES and x.ndim >= 1 and axis == x.ndim - 1 and x.size > 0


@impl(N.softmax_p, "cuda")
def softmax(x, axis):
    if use_row_kernel(x, axis):
        return _krow.softmax(x)
    return _fallback["softmax"](x, axis)


@impl(N.log_softmax_p, "cuda")
def log_softmax(x, axis):
    if use_row_kernel(x, axis):
        return _krow.log_softmax(x)
    return _fallback["log_softmax"](x, axis)


@impl(N.softmax_grad_p, "cuda")
def softmax_grad(y, g, axis):
    if use_row_kernel(y, axis) and g.dtype == y.dtype:
        return _krow.softmax_grad(y, g)
    return _fallback["softmax_grad"](y, g, axis)


@impl(N.log_softmax_grad_p, "cuda")
def log_softmax_grad(y, g, axis):
    if use_row_kernel(y, axis) and g.dtype == y.dtype:
        return _krow.log_softmax_grad(y, g)
    return _fallback["log_softmax_grad"](y, g, axis)


@impl(N.relu_p, "cuda")
def relu(x):
    if x.dtype in _ROW_DTYPES and x.size > 0:
        return _kfused.bias_act(x, None, "relu")
    return _fallback["relu"](x)


@impl(N.bias_add_p, "cuda")
def bias_add(x, b, data_format):
    if data_format != "NCHW" and x.dtype in _ROW_DTYPES and x.size > 0 and b.dtype == x.dtype \
            and b.ndim == 1 and x.ndim >= 1 and b.shape[0] == x.shape[-1]:
        return _kfused.bias_act(x, b, "linear")
    return _fallback["bias_add"](x, b, data_format)


mirror(_cpu)
