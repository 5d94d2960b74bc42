"""Elementwise NumPy-style math (``keras.ops.numpy``): inverse hyperbolics, arctan2, cbrt, hypot,
fmod, fmax, nextafter, sinc, i0, NaN/Inf tests and the identities of real numbers.

    from tensorlab.keras import ops
    ops.hypot(x, y)
    ops.nan_to_num(x, nan=0.0)

Dtypes follow Keras 3 (with the TF backend's 64-bit types): floating functions of integers give
``floatx`` (float64 for int64 where Keras says so), Python numbers are weakly typed.
"""
import functools
import math as _math

import tensorlab as tl
from tensorlab.keras.ops import _numpy_helpers as H
from tensorlab.keras.ops import numpy as knp

__all__ = [
    "allclose", "angle", "arccosh", "arcsinh", "arctan2", "arctanh", "cbrt", "conj", "conjugate", "copy",
    "deg2rad", "exp2", "fabs", "fmax", "fmin", "fmod", "heaviside", "hypot", "i0", "imag", "isneginf",
    "isposinf", "isreal", "ldexp", "logaddexp2", "nan_to_num", "nextafter", "rad2deg", "real", "signbit",
    "sinc",
]

_LN2 = _math.log(2.0)
_BIG = 2.0 ** 28  # past it, sqrt(x * x + 1) is x to double precision


def _odd(f, x):
    """``f`` extended to negative ``x`` as an odd function. ``|x|`` is taken with ``where`` so that its
    gradient at 0 is 1 (``abs``'s would be 0)."""
    neg = tl.less(x, 0)
    y = f(tl.where(neg, -x, x))
    return tl.where(neg, -y, y)


def _via_float32(f):
    """``f`` computed in float32 for 16-bit floats (whose range its intermediate squares overflow)."""
    @functools.wraps(f)
    def g(x):
        x = knp._to_float(x)
        if x.dtype.size == 2:
            return tl.cast(f(tl.cast(x, "float32")), x.dtype)
        return f(x)
    return g


@_via_float32
def arcsinh(x):
    """Inverse hyperbolic sine, elementwise."""
    def f(a):
        big = tl.greater(a, _BIG)
        s = tl.where(big, 1.0, a)  # each branch sees only inputs it is finite for (finite gradients too)
        small = tl.log1p(s + s * s / (1.0 + tl.sqrt(1.0 + s * s)))
        return tl.where(big, tl.log(tl.where(big, a, 1.0)) + _LN2, small)
    return _odd(f, knp._to_float(x))


@_via_float32
def arccosh(x):
    """Inverse hyperbolic cosine, elementwise (NaN below 1)."""
    big = tl.greater(x, _BIG)
    t = tl.where(big, 1.0, x) - 1.0  # exact near 1, where log(x + sqrt(x*x - 1)) would cancel
    small = tl.log1p(t + tl.sqrt(t) * tl.sqrt(t + 2.0))  # NaN below 1; no overflow in t * (t + 2)
    return tl.where(big, tl.log(tl.where(big, x, 2.0)) + _LN2, small)


@_via_float32
def arctanh(x):
    """Inverse hyperbolic tangent, elementwise (NaN outside [-1, 1])."""
    return _odd(lambda a: 0.5 * tl.log1p(2.0 * a / (1.0 - a)), x)


def arctan2(x1, x2):
    """The angle of the point ``(x2, x1)`` in ``[-pi, pi]``, elementwise (the quadrant-aware ``arctan(x1 / x2)``)."""
    y, x = H.promote_float(x1, x2)
    return tl.math.atan2(y, x)


def angle(x):
    """The complex argument of real ``x``: 0 for ``x >= +0``, pi for negative ``x`` (and ``-0.0``)."""
    x = knp._to_float(x)
    return tl.math.atan2(tl.zeros_like(x), x)


def cbrt(x):
    """Cube root, elementwise (negative for negative ``x``)."""
    return _odd(lambda a: tl.pow(a, 1.0 / 3.0), H.float_wide(x))


def deg2rad(x):
    """Degrees to radians."""
    return H.float_wide(x) * (_math.pi / 180.0)


def rad2deg(x):
    """Radians to degrees."""
    return H.float_wide(x) * (180.0 / _math.pi)


def exp2(x):
    """``2 ** x``, elementwise."""
    return tl.pow(2.0, knp._to_float(x))


def fabs(x):
    """``|x|`` as floats."""
    return tl.abs(knp._to_float(x))


def _nan_ignoring(pick, logical):
    def f(x1, x2):
        a, b = knp._promote(x1, x2)
        if a.dtype.name == "bool":
            return logical(a, b)
        if not knp._is_float(a):
            return pick(a, b)
        return tl.where(tl.math.is_nan(a), b, tl.where(tl.math.is_nan(b), a, pick(a, b)))
    return f


fmax = _nan_ignoring(tl.maximum, tl.logical_or)
fmax.__name__, fmax.__doc__ = "fmax", "Elementwise maximum that ignores NaN (NaN only where both are NaN)."
fmin = _nan_ignoring(tl.minimum, tl.logical_and)
fmin.__name__, fmin.__doc__ = "fmin", "Elementwise minimum that ignores NaN (NaN only where both are NaN)."


def fmod(x1, x2):
    """The remainder of ``x1 / x2`` truncated towards zero: it has the sign of ``x1`` (``mod`` takes ``x2``'s)."""
    a, b = knp._promote(x1, x2)
    if a.dtype.name == "bool":
        a, b = tl.cast(a, "int32"), tl.cast(b, "int32")
    if a.dtype.name == "uint8":
        return tl.floormod(a, b)
    neg = tl.less(a, 0)
    r = tl.floormod(tl.where(neg, -a, a), tl.abs(b))
    return tl.where(neg, -r, r)


def heaviside(x1, x2):
    """The step function: 0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0``."""
    a, b = knp._promote(x1, x2)
    if a.dtype.name == "bool":
        return tl.logical_or(a, b)
    if not knp._is_float(a):
        d = "float64" if a.dtype.name == "int64" else knp._floatx()
        a, b = tl.cast(a, d), tl.cast(b, d)
    out = tl.where(tl.less(a, 0), 0.0, tl.where(tl.greater(a, 0), 1.0, b))
    return tl.where(tl.math.is_nan(a), a, out)


def hypot(x1, x2):
    """``sqrt(x1**2 + x2**2)``, elementwise, without overflow or underflow in between."""
    a, b = knp._promote(x1, x2)
    if not knp._is_float(a):
        d = "float64" if a.dtype.name == "int64" else knp._floatx()
        a, b = tl.cast(a, d), tl.cast(b, d)
    a, b = tl.abs(a), tl.abs(b)
    hi, lo = tl.maximum(a, b), tl.minimum(a, b)
    r = lo / tl.where(tl.equal(hi, 0), 1.0, hi)
    out = hi * tl.sqrt(1.0 + r * r)
    return tl.where(tl.logical_or(tl.math.is_inf(a), tl.math.is_inf(b)), _math.inf, out)


def i0(x):
    """The modified Bessel function of the first kind, order 0."""
    return tl.math.bessel_i0(H.float_wide(x))


def ldexp(x1, x2):
    """``x1 * 2 ** x2`` for integer ``x2``."""
    e = knp._t(x2)
    if not H.is_int(e):
        raise TypeError(f"ops.ldexp: the exponent x2 must be an integer tensor, got dtype {e.dtype.name}")
    a, _ = H.promote_float(x1, x2)
    # Two half steps: 2 ** x2 alone can overflow (or underflow) where the product is representable.
    h = tl.floordiv(e, tl.cast(2, e.dtype))
    out = a * tl.pow(2.0, tl.cast(h, a.dtype)) * tl.pow(2.0, tl.cast(e - h, a.dtype))
    return tl.where(tl.logical_or(tl.equal(a, 0), tl.math.is_inf(a)), a, out)


def logaddexp2(x1, x2):
    """``log2(2**x1 + 2**x2)``, computed stably."""
    a, b = H.promote_float(x1, x2)
    out = tl.maximum(a, b) + tl.log1p(tl.pow(2.0, -tl.abs(a - b))) / _LN2
    # Equal infinities make a - b NaN; the answer is that infinity.
    return tl.where(tl.logical_and(tl.equal(a, b), tl.math.is_inf(a)), a, out)


def nextafter(x1, x2):
    """The next representable float after ``x1`` towards ``x2``, elementwise."""
    a, b = H.promote_float(x1, x2)
    return tl.math.nextafter(a, b)


_BITS_OF = {"float16": "int16", "bfloat16": "int16", "float32": "int32", "float64": "int64"}


def signbit(x):
    """True where the sign bit is set: negative numbers, ``-0.0`` and negative NaNs."""
    x = knp._t(x)
    if x.dtype.name == "bool":
        return tl.zeros_like(x)
    if not knp._is_float(x):
        return tl.less(x, 0)
    return tl.less(tl.bitcast(x, _BITS_OF[x.dtype.name]), 0)


def sinc(x):
    """``sin(pi x) / (pi x)``, with 1 at 0."""
    x = knp._to_float(x)
    zero = tl.equal(x, 0)
    y = _math.pi * tl.where(zero, 1.0, x)
    return tl.where(zero, 1.0, tl.sin(y) / y)


def isneginf(x):
    """True where ``x`` is -inf."""
    x = knp._t(x)
    return tl.equal(x, -_math.inf) if knp._is_float(x) else tl.cast(tl.zeros_like(x), "bool")


def isposinf(x):
    """True where ``x`` is +inf."""
    x = knp._t(x)
    return tl.equal(x, _math.inf) if knp._is_float(x) else tl.cast(tl.zeros_like(x), "bool")


def isreal(x):
    """True everywhere: tensorlab tensors are real."""
    return tl.cast(tl.ones_like(knp._t(x)), "bool")


_FINITE_MAX = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38, "float32": 3.4028234663852886e38,
               "float64": 1.7976931348623157e308}


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (default: the dtype's largest
    and smallest finite values); integer and bool tensors are returned as they are."""
    x = knp._t(x)
    if not knp._is_float(x):
        return x
    big = _FINITE_MAX[x.dtype.name]
    hi = big if posinf is None else posinf
    lo = -big if neginf is None else neginf
    x = tl.where(tl.math.is_nan(x), H.as_dtype(nan, x.dtype), x)
    x = tl.where(tl.equal(x, _math.inf), H.as_dtype(hi, x.dtype), x)
    return tl.where(tl.equal(x, -_math.inf), H.as_dtype(lo, x.dtype), x)


def real(x):
    """The real part: ``x`` itself (tensorlab tensors are real)."""
    return tl.identity(knp._t(x))


def imag(x):
    """The imaginary part: zeros (tensorlab tensors are real)."""
    return tl.zeros_like(knp._t(x))


def conjugate(x):
    """The complex conjugate: ``x`` itself (tensorlab tensors are real)."""
    return tl.identity(knp._t(x))


conj = conjugate


def copy(x):
    """A copy of ``x`` (tensors are immutable, so it is a new tensor with the same values)."""
    return tl.identity(knp._t(x))


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """True (a bool scalar tensor) if ``isclose`` holds for every element."""
    return tl.reduce_all(knp.isclose(x1, x2, rtol=rtol, atol=atol, equal_nan=equal_nan))


H.on_input_device(globals(), [n for n in __all__ if n != "conj"])
conj = conjugate
