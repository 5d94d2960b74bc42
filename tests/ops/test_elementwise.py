"""Elementwise ops: forward vs numpy float64, gradients vs finite differences,
second derivatives, shape rules, broadcasting drawn by hypothesis, GPU vs CPU."""
import math

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

import tensorlab as tl
from tests.ops.harness import (Case, S, check_forward, check_grad, check_gpu_matches_cpu,
                               check_second, check_shape_rule)

POS = S(low=0.5, high=2.0)
UNIT = S(low=-0.9, high=0.9)
_erf = np.vectorize(math.erf)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


BINARY = [
    Case("add", tl.add, np.add, [S(), S()]),
    Case("subtract", tl.subtract, np.subtract, [S(), S()]),
    Case("multiply", tl.multiply, np.multiply, [S(), S()]),
    Case("divide", tl.divide, np.divide, [S(), POS]),
    Case("truediv", tl.truediv, np.true_divide, [S(), POS]),
    Case("pow", tl.pow, np.power, [POS, S(low=-1.5, high=1.5)]),
    Case("maximum", tl.maximum, np.maximum, [S(), S()]),
    Case("minimum", tl.minimum, np.minimum, [S(), S()]),
    Case("floormod", tl.floormod, np.mod, [S(low=0.1, high=3), S(low=0.7, high=1.3)], second=False),
    Case("squared_difference", tl.math.squared_difference, lambda x, y: (x - y) ** 2, [S(), S()]),
]
UNARY = [
    Case("negative", tl.negative, np.negative, [S()]),
    Case("abs", tl.abs, np.abs, [S(low=0.1, high=2)]),
    Case("square", tl.square, np.square, [S()]),
    Case("sqrt", tl.sqrt, np.sqrt, [POS]),
    Case("rsqrt", tl.math.rsqrt, lambda x: 1 / np.sqrt(x), [POS]),
    Case("reciprocal", tl.math.reciprocal, np.reciprocal, [POS]),
    Case("exp", tl.exp, np.exp, [S()]),
    Case("expm1", tl.math.expm1, np.expm1, [S()]),
    Case("log", tl.math.log, np.log, [POS]),
    Case("log1p", tl.math.log1p, np.log1p, [UNIT]),
    Case("sin", tl.sin, np.sin, [S()]),
    Case("cos", tl.cos, np.cos, [S()]),
    Case("tan", tl.tan, np.tan, [UNIT]),
    Case("tanh", tl.tanh, np.tanh, [S()]),
    Case("sigmoid", tl.sigmoid, _sigmoid, [S(low=-6, high=6)]),
    Case("erf", tl.math.erf, _erf, [S()]),
    Case("asin", tl.math.asin, np.arcsin, [UNIT]),
    Case("acos", tl.math.acos, np.arccos, [UNIT]),
    Case("atan", tl.math.atan, np.arctan, [S()]),
    Case("sinh", tl.math.sinh, np.sinh, [S()]),
    Case("cosh", tl.math.cosh, np.cosh, [S()]),
    Case("softplus", tl.math.softplus, lambda x: np.log1p(np.exp(x)), [S(low=-5, high=5)]),
    Case("clip_by_value", lambda x: tl.clip_by_value(x, -0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7),
         [S()], second=False),
    Case("where", lambda c, x, y: tl.where(c, x, y), np.where, [S(kind="bool"), S(), S()]),
    Case("cast_f64_f32", lambda x: tl.cast(tl.cast(x, tl.float32), tl.float64) if x.dtype == tl.float64 else x,
         lambda x: x.astype(np.float32).astype(np.float64), [S()], second=False, eps=1e-2,
         grad_rtol=1e-4),
]
NONDIFF = [
    Case("floor", tl.floor, np.floor, [S()], grad=False, second=False),
    Case("ceil", tl.math.ceil, np.ceil, [S()], grad=False, second=False),
    Case("round", tl.round, np.round, [S(low=-5, high=5)], grad=False, second=False),
    Case("sign", tl.sign, np.sign, [S()], grad=False, second=False),
    Case("floordiv", tl.math.floordiv, np.floor_divide, [S(), POS], grad=False, second=False),
]
ALL = BINARY + UNARY + NONDIFF
DIFF = [c for c in ALL if c.grad]


@pytest.mark.parametrize("case", ALL, ids=str)
def test_forward(case, rng):
    check_forward(case, rng)


@pytest.mark.parametrize("case", DIFF, ids=str)
def test_gradient(case, rng):
    check_grad(case, rng)


@pytest.mark.parametrize("case", [c for c in DIFF if c.second], ids=str)
def test_second_derivative(case, rng):
    check_second(case, rng)


@pytest.mark.parametrize("case", ALL, ids=str)
def test_shape_rule(case, rng):
    check_shape_rule(case, rng)


@pytest.mark.gpu
@pytest.mark.parametrize("case", ALL, ids=str)
def test_gpu_matches_cpu(case, rng):
    check_gpu_matches_cpu(case, rng)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       which=st.sampled_from([c for c in BINARY if c.name in ("add", "multiply", "divide", "maximum", "pow")]),
       seed=st.integers(0, 2**32 - 1))
def test_binary_broadcasting_gradients(shapes, which, seed):
    """Gradients through broadcasting (size-1 and missing dims) match finite differences."""
    rng = np.random.default_rng(seed)
    check_forward(which, rng, shapes=shapes.input_shapes, dtypes=("float64",))
    check_grad(which, rng, shapes=shapes.input_shapes)


def test_python_scalars_take_tensor_dtype():
    x = tl.constant([1.0, 2.0])
    assert (x + 1).dtype == tl.float32
    assert (2 * x).dtype == tl.float32
    assert (tl.constant([1, 2]) * 3).dtype == tl.int32
    assert (tl.constant([1.0], dtype=tl.float64) / 2).dtype == tl.float64


def test_error_dtype_mix_names_both_dtypes():
    with pytest.raises(TypeError, match=r"add.*float32.*int32|add.*int32.*float32"):
        tl.constant([1.0]) + tl.constant([1])


def test_error_int_tensor_with_fractional_scalar():
    with pytest.raises(TypeError, match="int32"):
        tl.constant([1, 2]) + 1.5


def test_error_shape_mismatch_names_op_and_shapes():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"multiply.*\[2,3\].*\[4\]"):
        tl.ones([2, 3]) * tl.ones([4])


def test_error_float_op_on_ints():
    with pytest.raises(TypeError, match="exp.*int32"):
        tl.exp(tl.constant([1, 2]))


def test_integer_truediv_gives_float64_like_tf():
    y = tl.constant([3, 4]) / tl.constant([2, 8])
    assert y.dtype == tl.float64
    np.testing.assert_allclose(y.numpy(), [1.5, 0.5])


def test_integer_floordiv_by_zero_is_an_error():
    with pytest.raises(tl.errors.InvalidArgumentError, match="division by zero"):
        tl.constant([3]) // tl.constant([0])


def test_operators_and_comparisons(rng):
    a, b = rng.normal(size=(3,)), rng.normal(size=(3,))
    x, y = tl.constant(a), tl.constant(b)
    np.testing.assert_allclose((x - y).numpy(), a - b)
    np.testing.assert_allclose((-x).numpy(), -a)
    np.testing.assert_allclose(abs(x).numpy(), np.abs(a))
    np.testing.assert_allclose((x ** 2).numpy(), a ** 2)
    np.testing.assert_allclose((2.0 - x).numpy(), 2.0 - a)
    np.testing.assert_array_equal((x < y).numpy(), a < b)
    np.testing.assert_array_equal((x >= y).numpy(), a >= b)
    np.testing.assert_array_equal((x == x).numpy(), np.ones(3, bool))
    m = (x > 0) & (y > 0)
    np.testing.assert_array_equal(m.numpy(), (a > 0) & (b > 0))
    np.testing.assert_array_equal((~m).numpy(), ~((a > 0) & (b > 0)))
    np.testing.assert_array_equal(((x > 0) | (y > 0)).numpy(), (a > 0) | (b > 0))
    np.testing.assert_array_equal((~tl.constant([1, 2])).numpy(), ~np.array([1, 2], np.int32))
    np.testing.assert_allclose((tl.constant([7.0, -7.0]) % 3.0).numpy(), [1.0, 2.0])
    np.testing.assert_allclose((tl.constant([7.0, -7.0]) // 2.0).numpy(), [3.0, -4.0])


def test_where_with_condition_only_returns_coordinates():
    idx = tl.where(tl.constant([[True, False], [False, True]]))
    assert idx.dtype == tl.int64
    np.testing.assert_array_equal(idx.numpy(), [[0, 0], [1, 1]])


def test_cast_truncates_toward_zero():
    np.testing.assert_array_equal(tl.cast(tl.constant([1.7, -1.7]), tl.int32).numpy(), [1, -1])


def test_float32_erf_is_within_a_few_ulp_everywhere(rng):
    """The CPU's float32 erf (a rational approximation) against math.erf: dense over [-6, 6],
    tiny and huge magnitudes, signed zeros, infinities and NaN."""
    x = np.concatenate([np.linspace(-6, 6, 20001), rng.standard_normal(1000) * 3,
                        [1e-30, -1e-30, 1e-8, 3.9999, 4.0, 4.0001, 1e30, -1e30]]).astype(np.float32)
    got = tl.math.erf(tl.constant(x)).numpy().astype(np.float64)
    ref = np.array([math.erf(float(v)) for v in x])
    np.testing.assert_allclose(got, ref, rtol=5e-7, atol=1e-37)
    special = tl.math.erf(tl.constant(np.array([0.0, -0.0, np.inf, -np.inf, np.nan], np.float32))).numpy()
    assert np.signbit(special[1]) and not np.signbit(special[0])
    np.testing.assert_array_equal(special[:4], [0.0, -0.0, 1.0, -1.0])
    assert np.isnan(special[4])
