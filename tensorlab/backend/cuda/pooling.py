"""CUDA implementations of the pooling primitives.

float32 pooling whose pads are TF's SAME or VALID pads runs our kernels
(kernels/pool.py); other dtypes and explicit pads use the CuPy mirror.
"""
import numpy as np

from tensorlab.backend.cpu import pooling as _cpu
from tensorlab.backend.cuda._mirror import cupy_versions, mirror
from tensorlab.backend.cuda.kernels import conv as _kconv
from tensorlab.backend.cuda.kernels import pool as _kpool
from tensorlab.core.registry import impl
from tensorlab.ops import pooling as P

_fallback = cupy_versions(_cpu)
_F32 = np.dtype(np.float32)


def padding_mode(in_hw, ksize, strides, pads):
    """"SAME" or "VALID" if ``pads`` are exactly TF's pads for that mode, else None."""
    for mode in ("VALID", "SAME"):
        _, p = _kconv.same_valid_pads(tuple(in_hw), tuple(ksize), tuple(strides), (1, 1), mode)
        if tuple(p) == tuple(pads):
            return mode
    return None


def _mode(x_shape, dtype, ksize, strides, pads):
    if dtype != _F32:
        return None
    return padding_mode(x_shape[1:3], ksize, strides, pads)


@impl(P.max_pool2d_p, "cuda")
def max_pool2d(x, ksize, strides, pads):
    mode = _mode(x.shape, x.dtype, ksize, strides, pads)
    if mode:
        return _kpool.max_pool2d(x, tuple(ksize), tuple(strides), mode)
    return _fallback["max_pool2d"](x, ksize, strides, pads)


@impl(P.max_pool2d_grad_p, "cuda")
def max_pool2d_grad(x, y, dy, ksize, strides, pads):
    mode = _mode(x.shape, x.dtype, ksize, strides, pads)
    if mode:
        return _kpool.max_pool2d_grad(x, y, dy, tuple(ksize), tuple(strides), mode)
    return _fallback["max_pool2d_grad"](x, y, dy, ksize, strides, pads)


@impl(P.avg_pool2d_p, "cuda")
def avg_pool2d(x, ksize, strides, pads):
    mode = _mode(x.shape, x.dtype, ksize, strides, pads)
    if mode:
        return _kpool.avg_pool2d(x, tuple(ksize), tuple(strides), mode)
    return _fallback["avg_pool2d"](x, ksize, strides, pads)


@impl(P.avg_pool2d_grad_p, "cuda")
def avg_pool2d_grad(dy, input_shape, ksize, strides, pads):
    mode = _mode(tuple(input_shape), dy.dtype, ksize, strides, pads)
    if mode:
        return _kpool.avg_pool2d_grad(tuple(input_shape), dy, tuple(ksize), tuple(strides), mode)
    return _fallback["avg_pool2d_grad"](dy, input_shape, ksize, strides, pads)


mirror(_cpu)
