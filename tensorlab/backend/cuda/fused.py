"""CUDA implementations of the fused bias + activation primitives (ops/fused.py).

``tl_bias_act_fwd`` / ``tl_bias_act_bwd`` (kernels/fused.py) in float32 and float64; 16-bit
floats go through the float32 kernels and are cast back, as the CPU computes them in float32.
"""
import numpy as np

from tensorlab.backend.cuda.kernels import fused as _kfused
from tensorlab.core.registry import impl
from tensorlab.ops import fused as F

_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _kernel_dtype(*arrays):
    return arrays if arrays[0].dtype in _KERNEL_DTYPES else tuple(a.astype(np.float32) for a in arrays)


@impl(F.bias_act_p, "cuda")
def bias_act(x, b, activation):
    return _kfused.bias_act(*_kernel_dtype(x, b), activation).astype(x.dtype, copy=False)


@impl(F.bias_act_grad_p, "cuda")
def bias_act_grad(dy, x, b, y, activation):
    # the kernel recomputes x + b on the fly: y is not read
    dz, _ = _kfused.bias_act_grad(*_kernel_dtype(dy, x, b), activation, reduce_bias=False)
    return dz.astype(x.dtype, copy=False)
