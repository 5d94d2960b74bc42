"""CUDA implementations of the reduction primitives.

Floating-point sum/prod/max/min and argmax/argmin run our kernels
(kernels/reduce.py: warp-per-row, block-per-row with a two-stage reduce for
long rows, and strided column reductions), logsumexp over the last axis the
row kernel (kernels/rowwise.py); integer and bool reductions,
cumsum, cumprod and empty reductions use CuPy mirrors of the CPU code.
"""
import numpy as np

from tensorlab.backend.cpu import reduction as _cpu
from tensorlab.backend.cuda._mirror import cupy_versions, mirror
from tensorlab.backend.cuda.kernels import reduce as _kreduce
from tensorlab.backend.cuda.kernels import rowwise as _krow
from tensorlab.core.registry import impl
from tensorlab.ops import reduction as R

_fallback = cupy_versions(_cpu)
_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def use_reduce_kernel(x, axes):
    """Our kernels take non-empty float tensors and at least one reduced axis."""
    return x.dtype in _FLOATS and x.size > 0 and len(axes) > 0


def _cupy_sum(x, axes, keepdims):
    # The CPU code's np.add.reduce has no CuPy twin; cupy.sum is the same sum.
    import cupy as cp
    acc = np.float32 if x.dtype.itemsize == 2 and x.dtype.kind == "f" else x.dtype
    return cp.asarray(cp.sum(x, axis=axes, keepdims=keepdims, dtype=acc)).astype(x.dtype, copy=False)


_fallback["reduce_sum"] = _cupy_sum


def _wire(prim, op, cpu_name):
    def reduce_impl(x, axes, keepdims):
        if use_reduce_kernel(x, axes):
            return _kreduce.reduce(x, op, axes=tuple(axes), keepdims=keepdims)
        return _fallback[cpu_name](x, axes, keepdims)
    reduce_impl.__name__ = cpu_name
    impl(prim, "cuda")(reduce_impl)


_wire(R.reduce_sum_p, "sum", "reduce_sum")
_wire(R.reduce_prod_p, "prod", "reduce_prod")
_wire(R.reduce_max_p, "max", "reduce_max")
_wire(R.reduce_min_p, "min", "reduce_min")


def _wire_arg(prim, op):
    def arg_impl(x, axis, output_type):
        if x.dtype in _FLOATS and x.size > 0:
            return _kreduce.argreduce(x, op, axis=axis).astype(output_type.as_numpy_dtype, copy=False)
        return _fallback[op](x, axis, output_type)
    arg_impl.__name__ = op
    impl(prim, "cuda")(arg_impl)


@impl(R.logsumexp_p, "cuda")
def logsumexp(x):
    if x.dtype in _FLOATS[1:] and x.size > 0:   # float32/float64: the row kernel
        return _krow.logsumexp(x)
    return _fallback["logsumexp"](x)


_wire_arg(R.argmax_p, "argmax")
_wire_arg(R.argmin_p, "argmin")

mirror(_cpu)
