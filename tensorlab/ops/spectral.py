"""Discrete Fourier transforms of (real, imag) pairs.

tensorlab has no complex dtype: a complex signal is a pair of float tensors of
one shape and dtype, as in Keras 3's ``keras.ops.fft``. Three primitives, with
numpy's conventions (unnormalized forward transform, ``1/n`` on the inverse):

* ``fft``: the complex DFT over the last axis (``rank=1``) or the last two
  (``rank=2``), forward or inverse;
* ``rfft``: the DFT of a real signal cropped or zero-padded to ``n`` samples,
  its ``n // 2 + 1`` non-negative frequencies;
* ``irfft``: the real signal of ``n`` samples whose ``rfft`` is the input (the
  bins cropped or zero-padded to ``n // 2 + 1``).

Their gradient rules are transforms too, so higher derivatives work. The
functions below take and return pairs (float16/bfloat16 computed in float32);
``tl.signal`` and ``keras.ops`` build on them.
"""
import math

from tensorlab.core import dtypes as dt
from tensorlab.core.registry import defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import elementwise as _ew
from tensorlab.ops import shape as _sh
from tensorlab.ops._rules import FLOATS, fmt, t

__all__ = []  # pairs of tensors have no TF name: keras.ops and tl.signal expose them

_NATIVE = (dt.float32, dt.float64)


# ----------------------------------------------------------------- shape rules
def _float_spec(op, spec, what="input"):
    if spec.dtype not in _NATIVE:
        raise TypeError(f"{op}: the {what} must be float32 or float64, got {spec.dtype.name}")


def _pair_spec(op, re, im, min_rank):
    """The common spec of a (real, imag) pair; checks dtypes, shapes and rank."""
    _float_spec(op, re, "real part")
    if re.dtype != im.dtype:
        raise TypeError(f"{op}: the real and imaginary parts must have one dtype, got {re.dtype.name} and "
                        f"{im.dtype.name}")
    if len(re.shape) != len(im.shape) or any(a is not None and b is not None and a != b
                                             for a, b in zip(re.shape, im.shape)):
        raise InvalidArgumentError(f"{op}: the real and imaginary parts must have one shape, got {fmt(re.shape)} "
                                   f"and {fmt(im.shape)}")
    if len(re.shape) < min_rank:
        raise InvalidArgumentError(f"{op}: expected a pair of tensors of rank >= {min_rank}, got shape "
                                   f"{fmt(re.shape)}")
    shape = tuple(a if a is not None else b for a, b in zip(re.shape, im.shape))
    return TensorSpec(shape, re.dtype)


def _length(op, n, what="fft_length"):
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidArgumentError(f"{op}: {what} must be a positive integer, got {n!r}")
    return n


def _fft_name(rank, inverse):
    return ("ifft" if inverse else "fft") + ("2" if rank == 2 else "")


def _fft_rule(re, im, rank, inverse):
    op = _fft_name(rank, inverse)
    spec = _pair_spec(op, re, im, rank)
    if any(d == 0 for d in spec.shape[-rank:]):
        raise InvalidArgumentError(f"{op}: the transformed axes must not be empty, got shape {fmt(spec.shape)}")
    return spec, spec


def _rfft_rule(x, n):
    _float_spec("rfft", x)
    if len(x.shape) < 1:
        raise InvalidArgumentError("rfft: expected a tensor of rank >= 1, got a scalar")
    spec = TensorSpec(tuple(x.shape[:-1]) + (_length("rfft", n) // 2 + 1,), x.dtype)
    return spec, spec


def _irfft_rule(re, im, n):
    spec = _pair_spec("irfft", re, im, 1)
    return TensorSpec(tuple(spec.shape[:-1]) + (_length("irfft", n),), spec.dtype)


fft_p = primitive("fft", _fft_rule, multiple_results=True,
                  doc="complex DFT of a (real, imag) pair over the last `rank` axes; `inverse` scales by 1/n")
rfft_p = primitive("rfft", _rfft_rule, multiple_results=True, doc="DFT of a real signal: n // 2 + 1 bins")
irfft_p = primitive("irfft", _irfft_rule, doc="real signal of n samples from n // 2 + 1 Hermitian bins")


# ----------------------------------------------------------------- gradient rules
def fit_last(x, size):
    """``x`` cropped or zero-padded at the end of its last axis to ``size`` (numpy's ``n`` rule)."""
    m = x.shape[-1]
    if m > size:
        return x[..., :size]
    if m < size:
        return _sh.pad(x, [[0, 0]] * (len(x.shape) - 1) + [[0, size - m]])
    return x


def _multiplicity(n):
    """How many of the ``n`` DFT bins each of the ``n // 2 + 1`` rfft bins stands for: 2 for a bin
    and its mirror image ``n - k``, 1 for the DC bin and (``n`` even) the Nyquist bin."""
    return [1.0] + [2.0] * ((n - 1) // 2) + ([1.0] if n % 2 == 0 else [])


@defgrad(fft_p)
def _fft_grad(g, out, re, im, rank, inverse):
    # The DFT matrix F is symmetric, so its adjoint is conj(F) = n * F^-1 (and (F^-1)^H = F / n).
    n = math.prod(re.shape[-rank:])
    gr, gi = fft_p(g[0], g[1], rank=rank, inverse=not inverse)
    scale = 1.0 / n if inverse else float(n)
    return _ew.multiply(gr, scale), _ew.multiply(gi, scale)


@defgrad(rfft_p)
def _rfft_grad(g, out, x, n):
    # d<g, rfft(x)>/dx_j = Re sum_k G_k e^{+2 pi i jk/n} over the kept bins, which is n * irfft(G / c):
    # irfft counts each mirrored bin twice and reads only the real part of DC and Nyquist, whose
    # imaginary parts (sin 0 = sin(pi j) = 0) carry no gradient anyway.
    w = [n / c for c in _multiplicity(n)]
    gz = irfft_p(_ew.multiply(g[0], w), _ew.multiply(g[1], w), n=n)
    return fit_last(gz, x.shape[-1])


@defgrad(irfft_p)
def _irfft_grad(g, out, re, im, n):
    # x_j = (1/n) sum_k c_k (Zr_k cos - Zi_k sin)(2 pi jk/n), so dZ = (c/n) * rfft(g), bin by bin.
    w = [c / n for c in _multiplicity(n)]
    gr, gi = rfft_p(g, n=n)
    bins = re.shape[-1]
    return fit_last(_ew.multiply(gr, w), bins), fit_last(_ew.multiply(gi, w), bins)


# ----------------------------------------------------------------- pair functions
def as_pair(op, x):
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"{op}: expected a (real, imag) pair of float tensors, got {type(x).__name__}"
                         + (f" of length {len(x)}" if isinstance(x, (tuple, list)) else ""))
    re, im = t(x[0]), t(x[1])
    for part, what in ((re, "real"), (im, "imaginary")):
        if part.dtype not in FLOATS:
            raise TypeError(f"{op}: the {what} part must be a float tensor, got {part.dtype.name}")
    return re, im


def _widened(x):
    """``x`` and the dtype to return: float16/bfloat16 are computed in float32 (as numpy's FFT does)."""
    if x.dtype in _NATIVE:
        return x, None
    return _ew.cast(x, dt.float32), x.dtype


def _narrowed(xs, dtype):
    if dtype is None:
        return xs
    if isinstance(xs, tuple):
        return tuple(_ew.cast(x, dtype) for x in xs)
    return _ew.cast(xs, dtype)


def _complex_transform(op, x, rank, inverse):
    re, im = as_pair(op, x)
    if re.dtype != im.dtype:
        raise TypeError(f"{op}: the real and imaginary parts must have one dtype, got {re.dtype.name} and "
                        f"{im.dtype.name}")
    (re, back), (im, _) = _widened(re), _widened(im)
    return _narrowed(fft_p(re, im, rank=rank, inverse=inverse), back)


def fft(x):
    """The DFT over the last axis of a (real, imag) pair: ``y_k = sum_j x_j e^{-2 pi i jk/n}``."""
    return _complex_transform("fft", x, 1, False)


def ifft(x):
    """The inverse DFT over the last axis of a (real, imag) pair (``1/n`` scaling)."""
    return _complex_transform("ifft", x, 1, True)


def fft2(x):
    """The 2-D DFT over the last two axes of a (real, imag) pair."""
    return _complex_transform("fft2", x, 2, False)


def ifft2(x):
    """The inverse 2-D DFT over the last two axes of a (real, imag) pair (``1/(m n)`` scaling)."""
    return _complex_transform("ifft2", x, 2, True)


def rfft(x, fft_length=None):
    """The DFT of a real signal over its last axis, cropped or zero-padded to ``fft_length`` samples
    (default: its length): the ``fft_length // 2 + 1`` non-negative frequencies as (real, imag)."""
    x = t(x)
    if x.dtype not in FLOATS:
        raise TypeError(f"rfft: expected a float tensor, got {x.dtype.name}")
    if len(x.shape) < 1:
        raise InvalidArgumentError("rfft: expected a tensor of rank >= 1, got a scalar")
    if fft_length is None:
        fft_length = x.shape[-1]
        if fft_length is None:
            raise InvalidArgumentError(f"rfft: the last dimension of shape {fmt(x.shape)} is unknown; pass "
                                       "fft_length")
    x, back = _widened(x)
    return _narrowed(rfft_p(x, n=_length("rfft", fft_length)), back)


def irfft(x, fft_length=None):
    """The real signal of ``fft_length`` samples (default ``2 * (bins - 1)``) whose rfft is the
    (real, imag) pair ``x``; the bins are cropped or zero-padded to ``fft_length // 2 + 1``."""
    re, im = as_pair("irfft", x)
    if fft_length is None:
        bins = re.shape[-1] if len(re.shape) else None
        if bins is None or bins < 2:
            raise InvalidArgumentError(f"irfft: cannot infer fft_length from bins of shape {fmt(re.shape)} (it is "
                                       "2 * (bins - 1) and needs 2 or more bins); pass fft_length")
        fft_length = 2 * (bins - 1)
    (re, back), (im, _) = _widened(re), _widened(im)
    return _narrowed(irfft_p(re, im, n=_length("irfft", fft_length)), back)
