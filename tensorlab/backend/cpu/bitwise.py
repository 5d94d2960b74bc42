"""numpy implementations of the bitwise primitives (ops/bitwise.py).

Written against numpy functions CuPy also has, so backend/cuda/bitwise.py mirrors them.
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import bitwise as B

for _p, _f in {B.bitwise_and_p: np.bitwise_and, B.bitwise_or_p: np.bitwise_or,
               B.bitwise_xor_p: np.bitwise_xor}.items():
    impl(_p, "cpu")(_f)


def _shift_in_range(x, y):
    # C (and so a CUDA kernel) leaves shifts by < 0 or >= the bit width undefined; pin them down.
    ok = (y >= 0) & (y < x.dtype.itemsize * 8)
    return ok, np.where(ok, y, 0).astype(x.dtype)


@impl(B.left_shift_p, "cpu")
def left_shift(x, y):
    ok, s = _shift_in_range(x, y)
    return np.where(ok, np.left_shift(x, s), 0).astype(x.dtype)


@impl(B.right_shift_p, "cpu")
def right_shift(x, y):
    ok, s = _shift_in_range(x, y)
    return np.where(ok, np.right_shift(x, s), np.where(x < 0, -1, 0)).astype(x.dtype)


@impl(B.bitcast_p, "cpu")
def bitcast(x, dtype):
    nd = np.dtype(dtype.as_numpy_dtype)
    a, b = x.dtype.itemsize, nd.itemsize
    shape = x.shape if a == b else (x.shape + (a // b,) if a > b else x.shape[:-1])
    return np.ascontiguousarray(x).reshape(-1).view(nd).reshape(shape)
