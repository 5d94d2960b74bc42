"""numpy implementations of the creation primitives (ops/creation.py)."""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import creation as C


@impl(C.fill_p, "cpu")
def fill(shape, value, dtype):
    return np.full(shape, value, dtype=dtype.as_numpy_dtype)


@impl(C.eye_p, "cpu")
def eye(n, m, dtype):
    return np.eye(n, m, dtype=dtype.as_numpy_dtype)


@impl(C.range_p, "cpu")
def range_(start, limit, delta, dtype):
    return np.arange(start, limit, delta).astype(dtype.as_numpy_dtype)


@impl(C.linspace_p, "cpu")
def linspace(start, stop, num, dtype):
    return np.linspace(start, stop, num).astype(dtype.as_numpy_dtype)


@impl(C.one_hot_p, "cpu")
def one_hot(indices, depth, on_value, off_value, axis, dtype):
    nd = dtype.as_numpy_dtype
    hot = indices[..., None] == np.arange(depth)
    out = np.where(hot, np.asarray(on_value, nd), np.asarray(off_value, nd)).astype(nd, copy=False)
    if axis != -1 and axis != indices.ndim:
        out = np.moveaxis(out, -1, axis)
    return np.ascontiguousarray(out)
