"""ops/special_math.py: atan2, nextafter, gcd and the Bessel functions I0/I1 against numpy (and scipy
where present); gradients and second derivatives; shape rules; errors; GPU vs CPU."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import Case, S, op_tests


def _np_i1(x):
    try:
        from scipy.special import i1
    except ImportError:  # pragma: no cover - scipy is a dev dependency
        pytest.skip("scipy is needed for the I1 reference")
    return i1(x)


CASES = [
    Case("atan2", tl.math.atan2, np.arctan2, [S(), S()]),
    Case("atan2_broadcast", tl.math.atan2, np.arctan2, [S((4, 1)), S((3,), low=0.5, high=2.0)]),
    Case("bessel_i0", tl.math.bessel_i0, np.i0, [S((3, 4), low=-12.0, high=12.0)]),
    Case("bessel_i1", tl.math.bessel_i1, lambda x: _np_i1(x), [S((3, 4), low=-12.0, high=12.0)]),
    Case("nextafter", tl.math.nextafter, np.nextafter, [S(), S()], grad=False),
    Case("gcd", tl.math.gcd, np.gcd, [S(kind="int", dtype="int32", low=-60, high=60)] * 2, grad=False),
]
globals().update(op_tests(CASES))


def test_bessel_values_far_out():
    x = np.array([0.0, 1e-8, 7.99, 8.0, 8.01, 30.0, -40.0, 700.0, 800.0, np.inf, -np.inf, np.nan])
    with np.errstate(all="ignore"):
        want0 = np.where(np.isinf(x), np.inf, np.i0(x))
        want = np.where(np.isinf(x), np.inf * np.sign(x), _np_i1(x))
    np.testing.assert_allclose(tl.math.bessel_i0(x).numpy(), want0, rtol=1e-14)
    np.testing.assert_allclose(tl.math.bessel_i1(x).numpy(), want, rtol=1e-14)
    np.testing.assert_allclose(tl.math.bessel_i0(x.astype("float32")[:7]).numpy(), np.i0(x[:7]), rtol=1e-6)


def test_gradient_of_i1_at_zero():
    x = tl.constant([0.0, 1.0], tl.float64)
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = tl.reduce_sum(tl.math.bessel_i1(x))
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.5, np.i0(1.0) - _np_i1(1.0)], rtol=1e-12)


def test_atan2_quadrants_and_nextafter_steps():
    y = np.array([0.0, -0.0, 1.0, -1.0, 0.0, 0.0])
    x = np.array([-1.0, -1.0, 0.0, 0.0, 0.0, -0.0])
    np.testing.assert_array_equal(tl.math.atan2(y, x).numpy(), np.arctan2(y, x))
    a = np.array([1.0, 0.0, -2.0], "float32")
    np.testing.assert_array_equal(tl.math.nextafter(a, np.float32(-np.inf)).numpy(), np.nextafter(a, -np.inf))


def test_errors():
    with pytest.raises(TypeError, match="atan2: expected a floating-point tensor|atan2: dtype int32 is not supported"):
        tl.math.atan2(tl.constant([1]), tl.constant([2]))
    with pytest.raises(TypeError, match="gcd: dtype float32 is not supported; valid dtypes: int16, int32"):
        tl.math.gcd(tl.constant([1.0]), tl.constant([2.0]))
    with pytest.raises(TypeError, match="nextafter: input #1 has dtype float64 but input #0 has dtype float32"):
        tl.math.nextafter(tl.constant([1.0]), tl.constant([2.0], tl.float64))
    with pytest.raises(TypeError, match="bessel_i0: expected a floating-point tensor"):
        tl.math.bessel_i0(tl.constant([1]))
