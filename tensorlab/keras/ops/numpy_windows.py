"""Window functions (``keras.ops.numpy``): Bartlett, Blackman, Hamming, Hann and Kaiser windows,
with numpy's formulas (symmetric windows, computed in float64, returned as ``floatx``).

    from tensorlab.keras import ops
    w = ops.hanning(64)
"""
import math as _math

import tensorlab as tl
from tensorlab.keras.ops import _numpy_helpers as H
from tensorlab.keras.ops import numpy as knp

__all__ = ["bartlett", "blackman", "hamming", "hanning", "kaiser"]


def _length(name, x):
    try:
        m = int(x.numpy()) if H.is_eager(x) else int(x)
    except (TypeError, ValueError):
        raise TypeError(f"ops.{name}: the window length must be an integer, got {x!r}") from None
    return m


def _window(name, x, f):
    """``f(n)`` at ``n = 1 - M, 3 - M, ..., M - 1`` divided by ``M - 1``, as ``floatx``; 1 for ``M == 1``."""
    m = _length(name, x)
    if m < 1:
        return tl.zeros([0], knp._floatx())
    if m == 1:
        return tl.ones([1], knp._floatx())
    t = tl.cast(tl.range(1 - m, m, 2), "float64") / (m - 1)
    return tl.cast(f(t), knp._floatx())


def bartlett(x):
    """The Bartlett (triangular) window of length ``x``."""
    return _window("bartlett", x, lambda t: 1.0 - tl.abs(t))


def blackman(x):
    """The Blackman window of length ``x``."""
    return _window("blackman", x, lambda t: 0.42 + 0.5 * tl.cos(_math.pi * t) + 0.08 * tl.cos(2.0 * _math.pi * t))


def hamming(x):
    """The Hamming window of length ``x``."""
    return _window("hamming", x, lambda t: 0.54 + 0.46 * tl.cos(_math.pi * t))


def hanning(x):
    """The Hann window of length ``x``."""
    return _window("hanning", x, lambda t: 0.5 + 0.5 * tl.cos(_math.pi * t))


def kaiser(x, beta):
    """The Kaiser window of length ``x`` with shape parameter ``beta``."""
    b = H.as_float64(beta)
    return _window("kaiser", x, lambda t: tl.math.bessel_i0(b * tl.sqrt(1.0 - t * t)) / tl.math.bessel_i0(b))


H.on_input_device(globals(), __all__)
