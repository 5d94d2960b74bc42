"""Elementwise math beyond the basic set: ``atan2``, ``nextafter``, the modified Bessel functions
``bessel_i0``/``bessel_i1`` (``tf.math``) and the integer ``gcd``.

Gradient rules sit next to each primitive; ``nextafter`` and ``gcd`` have none (a step to the
next float, an integer result).
"""
from tensorlab.core.registry import defgrad, not_differentiable, primitive
from tensorlab.ops._rules import FLOATS, float_rule, pair, tf
from tensorlab.ops.bitwise import _INTS, _binary_rule, _checked
from tensorlab.ops.elementwise import add, divide, equal, multiply, negative, subtract, where

atan2_p = primitive("atan2", _binary_rule("atan2", FLOATS))
nextafter_p = primitive("nextafter", _binary_rule("nextafter", FLOATS))
gcd_p = primitive("gcd", _binary_rule("gcd", _INTS))
bessel_i0_p = primitive("bessel_i0", float_rule("bessel_i0"))
bessel_i1_p = primitive("bessel_i1", float_rule("bessel_i1"))
not_differentiable(nextafter_p, gcd_p)


@defgrad(atan2_p)
def _atan2_grad(g, out, y, x):
    s = divide(g, add(multiply(x, x), multiply(y, y)))
    return multiply(s, x), negative(multiply(s, y))


@defgrad(bessel_i0_p)
def _i0_grad(g, out, x):
    return multiply(g, bessel_i1(x))


@defgrad(bessel_i1_p)
def _i1_grad(g, out, x):
    # I1'(x) = I0(x) - I1(x) / x, which tends to 1/2 at x = 0.
    zero = equal(x, 0)
    d = subtract(bessel_i0(x), divide(out, where(zero, 1.0, x)))
    return multiply(g, where(zero, 0.5, d))


def atan2(y, x, name=None):
    """The angle of the point ``(x, y)``, in ``[-pi, pi]``, elementwise (``tf.math.atan2``).

    Example:
      >>> tl.math.atan2(tl.constant([1.0, -1.0]), tl.constant([-1.0, -1.0])).numpy()
      array([ 2.3561945, -2.3561945], dtype=float32)
    """
    y, x = pair(y, x, "atan2")
    return _checked(atan2_p, y, x)


def nextafter(x1, x2, name=None):
    """The next representable value after ``x1`` in the direction of ``x2`` (``tf.math.nextafter``).

    Example:
      >>> tl.math.nextafter(tl.constant([1.0]), tl.constant([2.0])).numpy()
      array([1.0000001], dtype=float32)
    """
    return _checked(nextafter_p, *pair(x1, x2, "nextafter"))


def gcd(x1, x2, name=None):
    """The greatest common divisor of ``|x1|`` and ``|x2|``, elementwise; ``gcd(0, 0) == 0``.

    Example:
      >>> tl.math.gcd(tl.constant([12, -9, 0]), tl.constant([18, 6, 0])).numpy()
      array([6, 3, 0], dtype=int32)
    """
    return _checked(gcd_p, *pair(x1, x2, "gcd"))


def bessel_i0(x, name=None):
    """The modified Bessel function of the first kind of order 0, elementwise (``tf.math.bessel_i0``).

    Example:
      >>> tl.math.bessel_i0(tl.constant([0.0, 1.0])).numpy()
      array([1.       , 1.2660658], dtype=float32)
    """
    return bessel_i0_p(tf(x, "bessel_i0"))


def bessel_i1(x, name=None):
    """The modified Bessel function of the first kind of order 1, elementwise (``tf.math.bessel_i1``).

    Example:
      >>> tl.math.bessel_i1(tl.constant([0.0, 1.0])).numpy()
      array([0.        , 0.5651591], dtype=float32)
    """
    return bessel_i1_p(tf(x, "bessel_i1"))


__all__ = []
MATH = ["atan2", "nextafter", "gcd", "bessel_i0", "bessel_i1"]
