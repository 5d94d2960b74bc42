"""Signal processing (``tl.signal``): framing, overlap-add, windows, mel filter banks, DCTs, MFCCs.

The real-valued part of ``tf.signal``: composites that follow TF's
algorithms, built on the Fourier primitives of ``spectral.py`` (the DCTs are
TF's rfft/irfft constructions), so they run on every device and differentiate
with respect to their tensor inputs. TF's complex-valued functions (``fft``,
``stft``, ...) need a complex dtype; ``keras.ops.fft``/``stft`` give them as
(real, imag) pairs.
"""
import math

from tensorlab.core import dtypes as dt
from tensorlab.core.tensor import Tensor, Variable
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import creation as _cr
from tensorlab.ops import elementwise as _ew
from tensorlab.ops import indexing as _ix
from tensorlab.ops import reduction as _red
from tensorlab.ops import shape as _sh
from tensorlab.ops._rules import FLOATS, fmt, norm_axis, t
from tensorlab.ops.image import _on_device_of
from tensorlab.ops.random_ops import _float_dtype  # the same check of a dtype argument
from tensorlab.ops.spectral import fit_last, irfft, rfft

__all__ = []
SIGNAL = ["frame", "overlap_and_add", "hann_window", "hamming_window", "linear_to_mel_weight_matrix",
          "mfccs_from_log_mel_spectrograms", "dct", "idct"]

_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


# ----------------------------------------------------------------- helpers
def _int(op, name, value, minimum=1):
    if isinstance(value, (Tensor, Variable)) and value.ndim == 0 and value.dtype.is_integer:
        value = int(value.numpy())
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(f"{op}: {name} must be an integer >= {minimum}, got {value!r}")
    return value


def _number(op, name, value):
    if isinstance(value, (Tensor, Variable)) and value.ndim == 0:
        return float(value.numpy())
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be a number or a scalar tensor, got {value!r}") from None


def _known_dim(op, x, axis, what):
    n = x.shape[axis]
    if n is None:
        raise InvalidArgumentError(f"{op}: the {what} dimension of shape {fmt(x.shape)} must be known")
    return n


def _frame_indices(num_frames, frame_length, frame_step):
    """``[num_frames, frame_length]`` int32 indices: row f is ``f * frame_step + range(frame_length)``."""
    starts = _sh.reshape(_ew.multiply(_cr.range(num_frames), frame_step), [num_frames, 1])
    return _ew.add(starts, _sh.reshape(_cr.range(frame_length), [1, frame_length]))


# ----------------------------------------------------------------- framing
def frame(signal, frame_length, frame_step, pad_end=False, pad_value=0, axis=-1, name=None):
    """Slides a window of ``frame_length`` samples over ``axis`` in steps of ``frame_step`` (``tf.signal.frame``).

    Args:
      signal: a tensor of rank >= 1.
      frame_length, frame_step: positive integers.
      pad_end: pad the end of the signal with ``pad_value`` so that every sample is in a frame
        (``ceil(n / frame_step)`` frames); otherwise only whole frames (``1 + (n - frame_length) //
        frame_step``, at least 0).
      axis: the axis to frame.

    Returns:
      ``signal.shape[:axis] + [num_frames, frame_length] + signal.shape[axis + 1:]``.

    Example:
      >>> tl.signal.frame(tl.range(6), 3, 2).numpy()
      array([[0, 1, 2],
             [2, 3, 4]], dtype=int32)
    """
    x = t(signal)
    if x.ndim < 1:
        raise InvalidArgumentError("frame: signal must have rank >= 1, got a scalar")
    frame_length = _int("frame", "frame_length", frame_length)
    frame_step = _int("frame", "frame_step", frame_step)
    ax = norm_axis("frame", axis, x.ndim)
    n = _known_dim("frame", x, ax, f"framed (axis {ax})")
    if pad_end:
        num_frames = -(-n // frame_step)
        extra = max(0, frame_length + frame_step * (num_frames - 1) - n)
        if extra:
            paddings = [[0, 0]] * x.ndim
            paddings[ax] = [0, extra]
            x = _sh.pad(x, paddings, constant_values=pad_value)
    else:
        num_frames = max(0, 1 + (n - frame_length) // frame_step)
    with _on_device_of(x):
        idx = _frame_indices(num_frames, frame_length, frame_step)
    return _ix.gather(x, idx, axis=ax)


def overlap_and_add(signal, frame_step, name=None):
    """Sums frames ``[..., frames, frame_length]`` placed ``frame_step`` apart (``tf.signal.overlap_and_add``).

    Returns:
      ``[..., (frames - 1) * frame_step + frame_length]``.

    Example:
      >>> tl.signal.overlap_and_add(tl.ones([3, 4]), 2).numpy()
      array([1., 1., 2., 2., 2., 2., 1., 1.], dtype=float32)
    """
    x = t(signal)
    if x.ndim < 2:
        raise InvalidArgumentError(f"overlap_and_add: signal must have rank >= 2 ([..., frames, frame_length]), got "
                                   f"shape {fmt(x.shape)}")
    step = _int("overlap_and_add", "frame_step", frame_step)
    frames = _known_dim("overlap_and_add", x, -2, "frames")
    length = _known_dim("overlap_and_add", x, -1, "frame_length")
    outer = list(x.shape[:-2])
    if any(d is None for d in outer):
        outer = [-1] + outer[1:] if all(d is not None for d in outer[1:]) else None
        if outer is None:
            raise InvalidArgumentError(f"overlap_and_add: only the first dimension of shape {fmt(x.shape)} may be "
                                       "unknown")
    out_length = max(0, (frames - 1) * step + length)
    if frames == 0:
        return _sh.reshape(x, outer + [0])  # no frames: an empty signal
    # TF's construction: split each frame into `segments` pieces of `step` samples; piece s of
    # frame f lands at output block f + s, so shifting piece s by s blocks and summing over s is it.
    segments = -(-length // step)
    nd = x.ndim
    x = _sh.pad(x, [[0, 0]] * (nd - 2) + [[0, segments], [0, segments * step - length]])
    x = _sh.reshape(x, outer + [frames + segments, segments, step])
    perm = list(range(nd - 2)) + [nd - 1, nd - 2, nd]
    x = _sh.transpose(x, perm)  # [..., segments, frames + segments, step]
    x = _sh.reshape(x, outer + [segments * (frames + segments), step])
    x = x[..., :(frames + segments - 1) * segments, :]
    x = _sh.reshape(x, outer + [segments, frames + segments - 1, step])
    x = _red.reduce_sum(x, axis=nd - 2)
    x = _sh.reshape(x, outer + [(frames + segments - 1) * step])
    return x[..., :out_length]


# ----------------------------------------------------------------- windows
def _raised_cosine(op, window_length, periodic, dtype, a, b):
    n = _int(op, "window_length", window_length, minimum=0)
    d = _float_dtype(op, dtype)
    if n == 1:
        return _cr.ones([1], d)
    # TF's rule: a periodic window of even length is the symmetric one of length n + 1, truncated;
    # an odd length stays symmetric.
    denom = n - 1 + (1 if periodic and n % 2 == 0 else 0)
    arg = _ew.multiply(_cr.range(n, dtype=dt.float64), 2.0 * math.pi / max(denom, 1))
    return _ew.cast(_ew.subtract(a, _ew.multiply(_ew.cos(arg), b)), d)


def hann_window(window_length, periodic=True, dtype=dt.float32, name=None):
    """A Hann window ``0.5 - 0.5 cos(2 pi n / N)`` of ``window_length`` samples (``tf.signal.hann_window``).

    ``periodic`` (default) suits spectral analysis: for an even length, N is the length; otherwise
    (and for ``periodic=False``) N is the length - 1, as in TF.

    Example:
      >>> tl.signal.hann_window(4).numpy()
      array([0. , 0.5, 1. , 0.5], dtype=float32)
    """
    return _raised_cosine("hann_window", window_length, periodic, dtype, 0.5, 0.5)


def hamming_window(window_length, periodic=True, dtype=dt.float32, name=None):
    """A Hamming window ``0.54 - 0.46 cos(2 pi n / N)`` (``tf.signal.hamming_window``; N as in ``hann_window``).

    Example:
      >>> tl.signal.hamming_window(3, periodic=False).numpy()
      array([0.08, 1.  , 0.08], dtype=float32)
    """
    return _raised_cosine("hamming_window", window_length, periodic, dtype, 0.54, 0.46)


# scipy.signal.windows' generalized cosine windows: w = sum_k (-1)^k a_k cos(2 pi k n / (M - 1)).
_COSINE_SUMS = {
    "hann": (0.5, 0.5), "hamming": (0.54, 0.46), "blackman": (0.42, 0.5, 0.08),
    "nuttall": (0.3635819, 0.4891775, 0.1365995, 0.0106411),
    "blackmanharris": (0.35875, 0.48829, 0.14128, 0.01168),
    "flattop": (0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368),
}
WINDOW_NAMES = sorted(_COSINE_SUMS) + ["bartlett", "boxcar", "cosine", "triang"]


def _symmetric_window(name, m):
    n = _cr.range(m, dtype=dt.float64)
    if name in _COSINE_SUMS:
        arg = _ew.multiply(n, 2.0 * math.pi / (m - 1))
        w = _cr.zeros([m], dt.float64)
        for k, a in enumerate(_COSINE_SUMS[name]):
            w = _ew.add(w, _ew.multiply(_ew.cos(_ew.multiply(arg, float(k))), a * (-1) ** k))
        return w
    if name == "boxcar":
        return _cr.ones([m], dt.float64)
    if name == "cosine":
        return _ew.sin(_ew.multiply(_ew.add(n, 0.5), math.pi / m))
    # Triangles peaking at the centre (m - 1) / 2: bartlett reaches 0 at both ends, triang does not.
    span = {"bartlett": m - 1, "triang": m if m % 2 == 0 else m + 1}[name]
    return _ew.subtract(1.0, _ew.truediv(_ew.abs(_ew.subtract(_ew.multiply(n, 2.0), m - 1.0)), float(span)))


def named_window(name, length, periodic=False, dtype=dt.float32):
    """scipy's ``get_window(name, length, fftbins=periodic)`` for the names in ``WINDOW_NAMES``.

    A periodic window is the symmetric one of ``length + 1`` samples without its last (the
    convention of scipy, torch and Keras' ``stft``; TF's ``hann_window`` differs for odd lengths).
    """
    if not isinstance(name, str) or name not in WINDOW_NAMES:
        raise ValueError(f"unknown window {name!r}; supported window names: {', '.join(WINDOW_NAMES)}")
    n = _int("window", "window length", length, minimum=0)
    d = _float_dtype("window", dtype)
    if n <= 1:
        return _cr.ones([n], d)
    w = _symmetric_window(name, n + 1 if periodic else n)
    return _ew.cast(w[:n] if periodic else w, d)


# ----------------------------------------------------------------- mel scale
def _hertz_to_mel(hz):
    return _ew.multiply(_ew.log(_ew.add(_ew.truediv(hz, _MEL_BREAK_FREQUENCY_HERTZ), 1.0)), _MEL_HIGH_FREQUENCY_Q)


def _linspace64(start, stop, num):
    if num == 1:
        return _cr.constant([start], dt.float64)
    return _ew.add(_ew.multiply(_cr.range(num, dtype=dt.float64), (stop - start) / (num - 1)), start)


def mel_weight_matrix(num_mel_bins, num_spectrogram_bins, sample_rate, lower_edge_hertz, upper_edge_hertz,
                      dtype=dt.float32):
    """The HTK mel filter bank of ``linear_to_mel_weight_matrix``, without its argument checks
    (Keras' ``MelSpectrogram`` makes none)."""
    freqs = _linspace64(0.0, sample_rate / 2.0, num_spectrogram_bins)[1:]  # HTK leaves out the DC bin
    bins_mel = _sh.expand_dims(_hertz_to_mel(freqs), 1)
    lo, hi = (_MEL_HIGH_FREQUENCY_Q * math.log1p(f / _MEL_BREAK_FREQUENCY_HERTZ) for f in (lower_edge_hertz,
                                                                                             upper_edge_hertz))
    edges = _linspace64(lo, hi, num_mel_bins + 2)
    lower, center, upper = (_sh.reshape(edges[i:i + num_mel_bins], [1, num_mel_bins]) for i in range(3))
    lower_slopes = _ew.truediv(_ew.subtract(bins_mel, lower), _ew.subtract(center, lower))
    upper_slopes = _ew.truediv(_ew.subtract(upper, bins_mel), _ew.subtract(upper, center))
    weights = _ew.maximum(_ew.minimum(lower_slopes, upper_slopes), 0.0)
    return _ew.cast(_sh.pad(weights, [[1, 0], [0, 0]]), dt.as_dtype(dtype))


def linear_to_mel_weight_matrix(num_mel_bins=20, num_spectrogram_bins=129, sample_rate=8000, lower_edge_hertz=125.0,
                                upper_edge_hertz=3800.0, dtype=dt.float32, name=None):
    """A ``[num_spectrogram_bins, num_mel_bins]`` matrix of triangular mel filters (HTK's mel scale,
    ``1127 ln(1 + f / 700)``), as ``tf.signal.linear_to_mel_weight_matrix``.

    The spectrogram bins are linearly spaced over ``[0, sample_rate / 2]`` (the DC bin gets no
    weight); the filters split ``[lower_edge_hertz, upper_edge_hertz]`` evenly on the mel scale and
    peak at 1. ``spectrogram @ matrix`` is the mel spectrogram.

    Example:
      >>> tl.signal.linear_to_mel_weight_matrix(num_mel_bins=40, num_spectrogram_bins=257).shape
      TensorShape([257, 40])
    """
    op = "linear_to_mel_weight_matrix"
    num_mel_bins = _int(op, "num_mel_bins", num_mel_bins)
    num_spectrogram_bins = _int(op, "num_spectrogram_bins", num_spectrogram_bins)
    rate, lower, upper = (_number(op, k, v) for k, v in (("sample_rate", sample_rate),
                                                         ("lower_edge_hertz", lower_edge_hertz),
                                                         ("upper_edge_hertz", upper_edge_hertz)))
    d = _float_dtype(op, dtype)
    if lower < 0.0:
        raise InvalidArgumentError(f"{op}: lower_edge_hertz must be non-negative, got {lower}")
    if lower >= upper:
        raise InvalidArgumentError(f"{op}: lower_edge_hertz ({lower}) must be below upper_edge_hertz ({upper})")
    if rate <= 0.0:
        raise InvalidArgumentError(f"{op}: sample_rate must be positive, got {rate}")
    if upper > rate / 2:
        raise InvalidArgumentError(f"{op}: upper_edge_hertz ({upper}) must not exceed the Nyquist frequency "
                                   f"sample_rate / 2 = {rate / 2}")
    return mel_weight_matrix(num_mel_bins, num_spectrogram_bins, rate, lower, upper, d)


# ----------------------------------------------------------------- DCT
def _cos_sin(count, scale):
    """Python lists ``cos(scale * k)`` and ``sin(scale * k)``, k < count (constants on the input's device)."""
    return [math.cos(scale * k) for k in range(count)], [math.sin(scale * k) for k in range(count)]


def _check_dct(op, x, type, n, axis, norm):
    if type not in (1, 2, 3, 4):
        raise InvalidArgumentError(f"{op}: type must be 1, 2, 3 or 4, got {type!r}")
    if norm not in (None, "ortho"):
        raise InvalidArgumentError(f"{op}: norm must be None or 'ortho', got {norm!r}")
    if type == 1 and norm == "ortho":
        raise InvalidArgumentError(f"{op}: norm='ortho' is not supported for type 1 (as in TF)")
    if x.ndim < 1 or axis not in (-1, x.ndim - 1):
        raise InvalidArgumentError(f"{op}: only the last axis is supported (axis=-1) on a tensor of rank >= 1, got "
                                   f"axis={axis!r} and shape {fmt(x.shape)}")
    if x.dtype not in FLOATS:
        raise TypeError(f"{op}: expected a float tensor, got {x.dtype.name}")
    if n is not None:
        x = fit_last(x, _int(op, "n", n))
    size = _known_dim(op, x, -1, "last")
    if size < 1 or (type == 1 and size < 2):
        raise InvalidArgumentError(f"{op}: type {type} needs at least {2 if type == 1 else 1} samples, got shape "
                                   f"{fmt(x.shape)}")
    return x, size


def _dct(x, type, size, norm):
    if type == 1:  # the real DFT of the even extension x0 .. x_{N-1} .. x1
        return rfft(_sh.concat([x, _sh.reverse(x, [x.ndim - 1])[..., 1:size - 1]], -1))[0]
    if type == 2:  # Re(2 e^{-i pi k / 2N} rfft(x, 2N)_k), k < N
        re, im = rfft(x, 2 * size)
        cos, sin = _cos_sin(size, math.pi / (2 * size))
        out = _ew.multiply(_ew.add(_ew.multiply(re[..., :size], cos), _ew.multiply(im[..., :size], sin)), 2.0)
        if norm == "ortho":
            out = _ew.multiply(out, [0.5 / math.sqrt(size)] + [math.sqrt(0.5 / size)] * (size - 1))
        return out
    if type == 3:  # irfft of the spectrum 2 x_k e^{i pi k / 2N}, the first N of 2N samples
        w = [math.sqrt(size)] + [math.sqrt(0.5 * size)] * (size - 1) if norm == "ortho" else float(size)
        x = _ew.multiply(x, w)
        cos, sin = _cos_sin(size, math.pi / (2 * size))
        spec = (_ew.multiply(x, [2 * c for c in cos]), _ew.multiply(x, [2 * s for s in sin]))
        return irfft(spec, 2 * size)[..., :size]
    # type 4: the odd bins of the type-2 DCT of x zero-padded to 2N
    out = _dct(fit_last(x, 2 * size), 2, 2 * size, None)[..., 1::2]
    return _ew.multiply(out, math.sqrt(0.5 / size)) if norm == "ortho" else out


def dct(input, type=2, n=None, axis=-1, norm=None, name=None):
    """The discrete cosine transform of types 1-4 over the last axis (``tf.signal.dct``; scipy's definitions).

    Args:
      input: a float tensor ``[..., samples]``.
      type: 1, 2 (default), 3 or 4.
      n: crop or zero-pad the samples to ``n`` first.
      axis: must be -1, as in TF.
      norm: None or ``"ortho"`` (orthonormal; not for type 1).

    Example:
      >>> tl.signal.dct(tl.constant([1., 1., 1., 1.])).numpy()
      array([8., 0., 0., 0.], dtype=float32)
    """
    x, size = _check_dct("dct", t(input), type, n, axis, norm)
    return _dct(x, type, size, norm)


def idct(input, type=2, n=None, axis=-1, norm=None, name=None):
    """The inverse of ``dct`` (``tf.signal.idct``): the DCT of the inverse type (2 and 3 swap; 1 and 4 are
    their own). Unnormalized, ``idct(dct(x))`` is ``2 N x`` (``2 (N - 1) x`` for type 1), as in TF."""
    inverse = {1: 1, 2: 3, 3: 2, 4: 4}.get(type, type)
    x, size = _check_dct("idct", t(input), inverse, n, axis, norm)
    return _dct(x, inverse, size, norm)


def mfccs_from_log_mel_spectrograms(log_mel_spectrograms, name=None):
    """Mel-frequency cepstral coefficients ``[..., num_mel_bins]`` of log-magnitude mel spectrograms:
    their orthonormal-scaled type-2 DCT, ``dct(x) / sqrt(2 * num_mel_bins)`` as in TF (keep the first
    few coefficients).

    Example:
      >>> tl.signal.mfccs_from_log_mel_spectrograms(tl.ones([10, 40]))[:, :13].shape
      TensorShape([10, 13])
    """
    x = t(log_mel_spectrograms)
    if x.ndim < 1 or x.shape[-1] == 0:
        raise InvalidArgumentError(f"mfccs_from_log_mel_spectrograms: expected [..., num_mel_bins] with num_mel_bins "
                                   f"> 0, got shape {fmt(x.shape)}")
    x, size = _check_dct("mfccs_from_log_mel_spectrograms", x, 2, None, -1, None)
    return _ew.multiply(_dct(x, 2, size, None), 1.0 / math.sqrt(2.0 * size))
