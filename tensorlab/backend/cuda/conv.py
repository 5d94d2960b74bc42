"""CUDA implementations of the convolution primitives.

float32 convolutions run our implicit-GEMM kernels (kernels/conv.py: forward,
input gradient and filter gradient on NHWC, groups and depthwise included).
float16 (mixed precision) forward convolutions and stride-1 input gradients run
our tensor-core kernel (2.2-5.6x the CuPy path on the H200, 2026-11-27); the
float16 filter gradient, strided float16 input gradients and other dtypes use
the CuPy mirror of the CPU implementation.
"""
import numpy as np

from tensorlab.backend.cpu import conv as _cpu
from tensorlab.backend.cuda._mirror import cupy_versions, mirror
from tensorlab.backend.cuda.kernels import conv as _kconv
from tensorlab.core.registry import impl
from tensorlab.ops import conv as C

_fallback = cupy_versions(_cpu)
_F32 = np.dtype(np.float32)
_F16 = np.dtype(np.float16)


@impl(C.conv2d_p, "cuda")
def conv2d(x, w, strides, pads, dilations, groups):
    if x.dtype == _F32:
        return _kconv.conv2d_forward(x, w, strides, pads, dilations, groups)
    if x.dtype == _F16 and w.dtype == _F16:
        return _kconv.conv2d_forward(x, w, strides, pads, dilations, groups, variant="tc")
    return _fallback["conv2d"](x, w, strides, pads, dilations, groups)


@impl(C.conv2d_backprop_input_p, "cuda")
def conv2d_backprop_input(dy, w, input_shape, strides, pads, dilations, groups):
    if dy.dtype == _F32:
        return _kconv.conv2d_backprop_input(dy, w, tuple(input_shape), strides, pads, dilations, groups)
    if (dy.dtype == _F16 and w.dtype == _F16
            and _kconv.backprop_input_as_forward(w.shape, strides, pads, dilations) is not None):
        return _kconv.conv2d_backprop_input(dy, w, tuple(input_shape), strides, pads, dilations, groups,
                                            variant="tc")
    return _fallback["conv2d_backprop_input"](dy, w, input_shape, strides, pads, dilations, groups)


@impl(C.conv2d_backprop_filter_p, "cuda")
def conv2d_backprop_filter(x, dy, filter_shape, strides, pads, dilations, groups):
    if x.dtype == _F32:
        return _kconv.conv2d_backprop_filter(x, dy, tuple(filter_shape), strides, pads, dilations, groups)
    return _fallback["conv2d_backprop_filter"](x, dy, filter_shape, strides, pads, dilations, groups)


mirror(_cpu)
