"""Spectral ops of ``keras.ops`` (Keras 3 keeps them in ``keras.ops.math``): FFTs and the STFT.

Complex values are (real, imag) pairs of float tensors, as in Keras 3.

    from tensorlab.keras import ops
    real, imag = ops.stft(audio, sequence_length=400, sequence_stride=160, fft_length=512)
    audio_again = ops.istft((real, imag), 400, 160, 512)
"""
import contextlib

import tensorlab as tl
from tensorlab.ops import signal as _signal
from tensorlab.ops import spectral as _spectral

__all__ = ["fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft"]


def fft(x):
    """The FFT along the last axis of a (real, imag) pair; returns the (real, imag) pair.

    Example:
      >>> re, im = ops.fft((tl.constant([1., 2.]), tl.constant([0., 1.])))
      >>> re.numpy(), im.numpy()
      (array([ 3., -1.], dtype=float32), array([ 1., -1.], dtype=float32))
    """
    return _spectral.fft(x)


def fft2(x):
    """The 2-D FFT over the last two axes of a (real, imag) pair; returns the (real, imag) pair."""
    return _spectral.fft2(x)


def ifft2(x):
    """The inverse 2-D FFT over the last two axes of a (real, imag) pair (scaled by ``1 / (m n)``)."""
    return _spectral.ifft2(x)


def rfft(x, fft_length=None):
    """The FFT of a real signal along its last axis: the ``fft_length // 2 + 1`` non-negative frequencies.

    Args:
      x: real input (integers are converted to ``floatx()``).
      fft_length: crop or zero-pad the last axis to this many samples first (default: its length).

    Returns:
      The (real, imag) pair.

    Example:
      >>> re, im = ops.rfft(tl.constant([0., 1., 2., 3., 4.]))
      >>> re.numpy()
      array([10. , -2.5, -2.5], dtype=float32)
    """
    x = tl.convert_to_tensor(x)
    if not x.dtype.is_floating:
        from tensorlab.keras import backend
        x = tl.cast(x, backend.floatx())
    return _spectral.rfft(x, _optional_length("rfft", fft_length))


def irfft(x, fft_length=None):
    """The real signal whose ``rfft`` is the (real, imag) pair ``x``, along the last axis.

    Args:
      x: (real, imag) of the ``fft_length // 2 + 1`` non-negative frequencies (cropped or
        zero-padded to that many).
      fft_length: the output length; default ``2 * (bins - 1)`` (pass it for odd lengths).

    Example:
      >>> ops.irfft(ops.rfft(tl.constant([0., 1., 2., 3., 4.])), 5).numpy()
      array([0., 1., 2., 3., 4.], dtype=float32)
    """
    return _spectral.irfft(x, _optional_length("irfft", fft_length))


def _optional_length(op, n):
    if n is None:
        return None
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"ops.{op}: fft_length must be a positive integer or None, got {n!r}")
    return n


def _positive(op, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"ops.{op}: `{name}` must be a positive integer, got {name}={value!r}")
    return value


def on_device_of(x):
    if isinstance(x, tl.SymbolicTensor):
        return contextlib.nullcontext()
    return tl.device(x.device)


def _window(op, window, sequence_length, fft_length, like):
    """The window (``None``, ``"hann"``, ``"hamming"`` or ``sequence_length`` values) centred in
    ``fft_length`` samples, on ``like``'s device and in its dtype; None for no window."""
    if window is None:
        return None
    with on_device_of(like):
        if isinstance(window, str):
            if window not in ("hann", "hamming"):
                raise ValueError(f'ops.{op}: a window given by name must be "hann" or "hamming", got '
                                 f"window={window!r}")
            # scipy's and torch's periodic window (the symmetric one of length + 1, truncated)
            win = _signal.named_window(window, sequence_length, periodic=True, dtype=like.dtype)
        else:
            win = tl.cast(tl.convert_to_tensor(window), like.dtype)
        if tuple(win.shape) != (sequence_length,):
            raise ValueError(f"ops.{op}: the window must have shape [sequence_length] = [{sequence_length}], got "
                             f"shape {list(win.shape)}")
        left = (fft_length - sequence_length) // 2
        return tl.pad(win, [[left, fft_length - sequence_length - left]])


def _stft_args(op, sequence_length, sequence_stride, fft_length):
    seq = _positive(op, "sequence_length", sequence_length)
    stride = _positive(op, "sequence_stride", sequence_stride)
    n = _positive(op, "fft_length", fft_length)
    if n < seq:
        raise ValueError(f"ops.{op}: `fft_length` must be at least `sequence_length`; received sequence_length="
                         f"{seq}, fft_length={n}")
    return seq, stride, n


def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Short-time Fourier transform along the last axis.

    Frames of ``fft_length`` samples, ``sequence_stride`` apart, are multiplied by the window
    (``sequence_length`` samples, centred in the frame) and transformed with ``rfft``.

    Args:
      x: float32/float64 signal ``[..., samples]``.
      sequence_length: the window length.
      sequence_stride: the hop between frames.
      fft_length: the frame and FFT length (>= ``sequence_length``).
      window: ``"hann"`` (default), ``"hamming"`` (periodic windows), a tensor of
        ``sequence_length`` values, or None for no window (all ``fft_length`` samples count).
      center: reflect-pad ``fft_length // 2`` samples on both sides, so frame t is centred at
        ``t * sequence_stride``.

    Returns:
      (real, imag), each ``[..., frames, fft_length // 2 + 1]``.

    Example:
      >>> re, im = ops.stft(tl.constant([0., 1., 2., 3., 4.]), 3, 2, 3)
      >>> re.numpy()
      array([[ 0.75 , -0.375],
             [ 3.75 , -1.875],
             [ 5.25 , -2.625]], dtype=float32)
    """
    seq, stride, n = _stft_args("stft", sequence_length, sequence_stride, fft_length)
    x = tl.convert_to_tensor(x)
    if x.dtype not in (tl.float32, tl.float64):
        raise TypeError(f"ops.stft: expected a float32 or float64 signal, got {x.dtype.name}")
    if len(x.shape) < 1:
        raise ValueError("ops.stft: expected a signal of rank >= 1 ([..., samples]), got a scalar")
    samples = x.shape[-1]
    if samples is None:
        raise ValueError(f"ops.stft: the number of samples (last dimension of {tuple(x.shape)}) must be known")
    if center:
        half = n // 2
        if half and samples <= half:
            raise ValueError(f"ops.stft: center=True reflect-pads fft_length // 2 = {half} samples, which needs a "
                             f"signal longer than that; got {samples} samples")
        x = tl.pad(x, [[0, 0]] * (len(x.shape) - 1) + [[half, half]], mode="REFLECT")
    if x.shape[-1] < n:
        padded = f", padded to {x.shape[-1]}" if center else ""
        raise ValueError(f"ops.stft: the signal ({samples} samples{padded}) is shorter than fft_length={n}")
    frames = tl.signal.frame(x, n, stride)
    win = _window("stft", window, seq, n, x)
    if win is not None:
        frames = frames * win
    return _spectral.rfft(frames, n)


def _periodic_square_sum(win, stride):
    """``sum_j win[i + j * stride]^2`` for each i of the window (TF's ``inverse_stft_window_fn`` denominator)."""
    n = win.shape[0]
    overlaps = -(-n // stride)
    sq = tl.pad(tl.square(win), [[0, overlaps * stride - n]])
    per_phase = tl.reduce_sum(tl.reshape(sq, [overlaps, stride]), axis=0)
    return tl.tile(per_phase, [overlaps])[:n]


def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann", center=True):
    """Inverse short-time Fourier transform: the signal whose ``stft`` (same arguments) is ``x``.

    Frames are ``irfft``-ed, windowed and overlap-added. With a window and
    ``sequence_length == fft_length`` and ``center``, the sum is divided by the overlap-added
    squared window (exact reconstruction, as torch's ``istft``); otherwise the window is divided
    by its periodic square sum (TF's ``inverse_stft_window_fn``). Keras 3 does the same.

    Args:
      x: (real, imag), each ``[..., frames, fft_length // 2 + 1]``.
      sequence_length, sequence_stride, fft_length, window, center: as given to ``stft``.
      length: clip (or zero-pad) the output to exactly this many samples.

    Returns:
      ``[..., samples]``.

    Example:
      >>> sig = tl.random.normal([2, 1000])
      >>> back = ops.istft(ops.stft(sig, 256, 64, 256), 256, 64, 256, length=1000)
    """
    seq, stride, n = _stft_args("istft", sequence_length, sequence_stride, fft_length)
    re, im = _spectral.as_pair("ops.istft", x)
    if len(re.shape) < 2:
        raise ValueError(f"ops.istft: expected (real, imag) of rank >= 2 ([..., frames, bins]), got shape "
                         f"{tuple(re.shape)}")
    if length is not None:
        length = _positive("istft", "length", length)
    frames = _spectral.irfft((re, im), n)
    win = _window("istft", window, seq, n, frames)
    envelope = None
    if win is not None and seq == n and center:
        envelope = tl.signal.overlap_and_add(tl.broadcast_to(tl.square(win), [frames.shape[-2], n]), stride)
        frames = frames * win
    elif win is not None:
        frames = frames * (win / _periodic_square_sum(win, stride))
    y = tl.signal.overlap_and_add(frames, stride)
    start = n // 2 if center else 0
    total = y.shape[-1]
    end = start + length if length is not None else (total - n // 2 if center else total)
    y = y[..., start:end]
    if envelope is not None:
        envelope = envelope[start:end]
        if not isinstance(envelope, tl.SymbolicTensor) and float(tl.reduce_min(envelope)) <= 1e-11:
            raise ValueError(f"ops.istft: the overlap-added squared window is (nearly) zero somewhere, so the "
                             f"signal cannot be recovered; use a sequence_stride below {stride} or another window")
        y = y / envelope
    if length is not None and y.shape[-1] < length:
        y = tl.pad(y, [[0, 0]] * (len(y.shape) - 1) + [[0, length - y.shape[-1]]])
    return y
