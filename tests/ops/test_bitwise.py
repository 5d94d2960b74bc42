"""Bitwise primitives (ops/bitwise.py): and/or/xor, shifts (out-of-range counts pinned down),
bitcast, against numpy; shape rules; errors; GPU vs CPU."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import Case, S, op_tests

I32 = S((3, 4), kind="int", dtype="int32", low=-1000, high=1000)
I8 = S((3, 1), kind="int", dtype="int8", low=-128, high=127)
COUNT = S((3, 4), kind="int", dtype="int32", low=-3, high=40)  # includes counts past the bit width


def _np_left(x, y):
    ok = (y >= 0) & (y < x.dtype.itemsize * 8)
    return np.where(ok, np.left_shift(x, np.where(ok, y, 0)), 0).astype(x.dtype)


def _np_right(x, y):
    ok = (y >= 0) & (y < x.dtype.itemsize * 8)
    return np.where(ok, np.right_shift(x, np.where(ok, y, 0)), np.where(x < 0, -1, 0)).astype(x.dtype)


CASES = [
    Case("bitwise_and", tl.bitwise.bitwise_and, np.bitwise_and, [I32, I32], grad=False),
    Case("bitwise_or", tl.bitwise.bitwise_or, np.bitwise_or, [I32, I32], grad=False),
    Case("bitwise_xor", tl.bitwise.bitwise_xor, np.bitwise_xor,
         [I8, S((3, 4), kind="int", dtype="int8", low=-9, high=9)], grad=False),
    Case("bitwise_and_bool", tl.bitwise.bitwise_and, np.bitwise_and, [S(kind="bool", dtype="bool")] * 2, grad=False),
    Case("left_shift", tl.bitwise.left_shift, _np_left, [I32, COUNT], grad=False),
    Case("right_shift", tl.bitwise.right_shift, _np_right, [I32, COUNT], grad=False),
    Case("bitcast_same_size", lambda x: tl.bitcast(x, tl.float32), lambda x: x.view(np.float32), [I32], grad=False),
    Case("bitcast_narrower", lambda x: tl.bitcast(x, tl.uint8), lambda x: x.view(np.uint8).reshape(3, 4, 4), [I32],
         grad=False),
    Case("bitcast_wider", lambda x: tl.bitcast(x, tl.int16), lambda x: x.view(np.int16).reshape(3),
         [S((3, 2), kind="int", dtype="int8", low=-100, high=100)], grad=False),
]
globals().update(op_tests(CASES))


def test_bitcast_floats(rng):
    x = rng.normal(size=(2, 3))
    np.testing.assert_array_equal(tl.bitcast(tl.constant(x), tl.int64).numpy(), x.view(np.int64))
    np.testing.assert_array_equal(tl.bitcast(tl.constant(x.astype("float16")), tl.int16).numpy(),
                                  x.astype("float16").view(np.int16))


def test_shift_edges():
    x = tl.constant(np.array([1, -8, 5, -1], "int8"))
    np.testing.assert_array_equal(tl.bitwise.left_shift(x, tl.constant(np.array([7, 1, 8, -1], "int8"))).numpy(),
                                  [-128, -16, 0, 0])
    np.testing.assert_array_equal(tl.bitwise.right_shift(x, tl.constant(np.array([0, 2, 9, 100], "int8"))).numpy(),
                                  [1, -2, 0, -1])
    np.testing.assert_array_equal(tl.bitwise.invert(tl.constant([0, 5])).numpy(), [-1, -6])


def test_errors():
    with pytest.raises(TypeError, match="bitwise_and: dtype float32 is not supported"):
        tl.bitwise.bitwise_and(tl.constant([1.0]), tl.constant([2.0]))
    with pytest.raises(TypeError, match="left_shift: dtype bool"):
        tl.bitwise.left_shift(tl.constant([True]), tl.constant([False]))
    with pytest.raises(TypeError, match="right_shift: input #1 has dtype int64 but input #0 has dtype int32"):
        tl.bitwise.right_shift(tl.constant([1]), tl.constant(np.array([1], "int64")))
    with pytest.raises(tl.errors.InvalidArgumentError, match="bitcast: casting uint8 .*shape \\[3\\].* needs a last "
                                                             "dimension of 4"):
        tl.bitcast(tl.constant(np.zeros(3, "uint8")), tl.float32)
    with pytest.raises(TypeError, match="bitcast: dtype bool is not supported"):
        tl.bitcast(tl.constant([True]), tl.int8)


def test_symbolic_shapes():
    x = tl.SymbolicTensor((None, 4), tl.float32)
    assert tl.bitcast(x, tl.uint8).shape == (None, 4, 4)
    assert tl.bitcast(tl.SymbolicTensor((None, 2), tl.float32), tl.float64).shape == (None,)
    assert tl.bitwise.bitwise_or(tl.SymbolicTensor((None, 1), tl.int32), tl.SymbolicTensor((3,), tl.int32)).shape \
        == (None, 3)
