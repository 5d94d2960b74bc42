"""Audio spectrogram layers: ``STFTSpectrogram`` (trainable STFT kernels as a strided convolution) and
``MelSpectrogram`` (STFT, mel filter bank, decibels)."""
import math
import warnings

import tensorlab as tl
from tensorlab.keras import backend as _backend
from tensorlab.keras.initializers_stft import STFT, _check_scaling, _check_window, window_config
from tensorlab.keras.layers._common import check_ndim, normalize_data_format, shape_str
from tensorlab.keras.layers.base import InputSpec, Layer
from tensorlab.keras.ops import spectral as _ops
from tensorlab.ops import signal as _signal

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


def _positive_int(layer, name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{layer}: `{name}` must be a positive integer; received {name}={value!r}")
    return value


def _split_channels(y, channels):
    """``[batch, time, channels * bins]`` (channel-major) as ``[batch, time, channels, bins]``."""
    b, t, cf = y.shape
    shape = [b if b is not None else -1, t if t is not None else -1, channels, cf // channels]
    return tl.reshape(y, shape)


class STFTSpectrogram(Layer):
    """Spectrograms of 1-D signals by a short-time Fourier transform, computed as a strided convolution
    with (trainable) kernels from ``keras.initializers.STFT``.

    Args:
      mode: ``"log"`` (default: log magnitude), ``"magnitude"``, ``"psd"`` (power spectral density),
        ``"real"``, ``"imag"``, ``"angle"`` or ``"stft"`` (real and imaginary parts side by side).
      frame_length: samples per frame (default 256).
      frame_step: hop between frames (default ``frame_length // 2``; at most ``frame_length``).
      fft_length: FFT size (>= ``frame_length``; default the next power of two).
      window: a window name (``"hann"``, ``"hamming"``, ...), ``frame_length`` values, or None.
      periodic: use the periodic variant of a named window.
      scaling: ``"density"`` (default), ``"spectrum"`` or None: how the window is normalized.
      padding: ``"valid"`` (default) or ``"same"``.
      expand_dims: return 4-D ``(batch, time, bins, channels)`` (channels_last) instead of
        flattening the channels into the bins.
      data_format: ``"channels_last"`` (inputs ``(batch, time, channels)``) or ``"channels_first"``.

    Input shape: ``(batch, time, channels)`` or, channels_first, ``(batch, channels, time)``.

    Output shape: channels_last ``(batch, frames, channels * bins)`` or, with ``expand_dims``,
    ``(batch, frames, bins, channels)``; channels_first ``(batch, channels * bins, frames)`` or
    ``(batch, channels, frames, bins)``. ``bins`` is ``fft_length // 2 + 1`` (twice that for "stft").

    Example:
      >>> layer = tl.keras.layers.STFTSpectrogram(frame_length=256, frame_step=128, fft_length=512)
      >>> layer(tl.random.uniform([3, 16000, 1])).shape
      TensorShape([3, 124, 257])
    """

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None, window="hann", periodic=False,
                 scaling="density", padding="valid", expand_dims=False, data_format=None, **kwargs):
        who = "STFTSpectrogram"
        frame_length = _positive_int(who, "frame_length", frame_length)
        if frame_step is not None and (_positive_int(who, "frame_step", frame_step) > frame_length):
            raise ValueError(f"{who}: `frame_step` must be a positive integer not greater than `frame_length`; "
                             f"received frame_step={frame_step}, frame_length={frame_length}")
        if fft_length is not None and _positive_int(who, "fft_length", fft_length) < frame_length:
            raise ValueError(f"{who}: `fft_length` must be at least `frame_length`; received fft_length="
                             f"{fft_length}, frame_length={frame_length}")
        if fft_length is not None and fft_length & (fft_length - 1):
            warnings.warn(f"{who}: `fft_length` is recommended to be a power of two; received fft_length={fft_length}")
        if mode not in _MODES:
            raise ValueError(f"{who}: mode must be one of {', '.join(_MODES)}; received mode={mode!r}")
        _check_scaling(who, scaling)
        if padding not in ("valid", "same"):
            raise ValueError(f"{who}: padding must be 'valid' or 'same'; received padding={padding!r}")
        _check_window(who, window)
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or frame_length // 2
        if self._frame_step < 1:
            raise ValueError(f"{who}: frame_length={frame_length} gives a default frame_step of 0; pass frame_step")
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** int(math.ceil(math.log2(frame_length)))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def build(self, input_shape):
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        self.real_kernel = self.imag_kernel = None
        if self.mode != "imag":
            self.real_kernel = self.add_weight(name="real_kernel", shape=shape, initializer=STFT(
                "real", self.window, self.scaling, self.periodic))
        if self.mode != "real":
            self.imag_kernel = self.add_weight(name="imag_kernel", shape=shape, initializer=STFT(
                "imag", self.window, self.scaling, self.periodic))
        self.built = True

    def _channels(self, shape):
        return shape[-1] if self.data_format == "channels_last" else shape[1]

    def _apply_conv(self, x, kernel, channels):
        # One grouped convolution: the kernel repeated per channel, so channel c's bins are outputs
        # c * bins ... (c + 1) * bins - 1, Keras' channel-major flattening.
        k = tl.tile(tl.cast(kernel, x.dtype), [1, 1, channels])
        return tl.nn.conv1d(x, k, self._frame_step, self.padding.upper())

    def call(self, inputs):
        x = inputs
        check_ndim(self, x, ndim=3)
        if x.dtype.name not in ("float16", "bfloat16", "float32", "float64"):
            raise TypeError(f'Layer "{self.name}" (STFTSpectrogram): expected float16, float32 or float64 inputs; '
                            f"received dtype {x.dtype.name}")
        if self.data_format == "channels_first":
            x = tl.transpose(x, [0, 2, 1])
        channels = x.shape[-1]
        if channels is None:
            raise ValueError(f'Layer "{self.name}" (STFTSpectrogram): the number of channels must be known; '
                             f"received input shape {shape_str(tuple(inputs.shape))}")
        if self.mode == "stft":
            kernel = tl.concat([tl.cast(self.real_kernel, x.dtype), tl.cast(self.imag_kernel, x.dtype)], -1)
            return self._adjust_shapes(self._apply_conv(x, kernel, channels), channels)
        real = self._apply_conv(x, self.real_kernel, channels) if self.mode != "imag" else None
        imag = self._apply_conv(x, self.imag_kernel, channels) if self.mode != "real" else None
        if self.mode in ("real", "imag", "angle"):
            out = {"real": real, "imag": imag}.get(self.mode)
            return self._adjust_shapes(tl.math.atan2(imag, real) if out is None else out, channels)
        power = tl.square(real) + tl.square(imag)
        if self.mode == "psd":  # one-sided: every bin but DC and the last also holds its mirror image
            bins = self._fft_length // 2 + 1
            weights = [1.0] + [2.0] * (bins - 2) + [1.0] * min(1, bins - 1)
            return self._adjust_shapes(tl.multiply(power, weights * channels), channels)
        eps = _backend.epsilon()
        linear = tl.sqrt(tl.maximum(power, eps))
        if self.mode == "magnitude":
            return self._adjust_shapes(linear, channels)
        return self._adjust_shapes(tl.math.log(tl.maximum(linear, eps)), channels)

    def _adjust_shapes(self, y, channels):
        """``[batch, frames, channels * bins]`` in the layout ``data_format`` and ``expand_dims`` ask for."""
        if self.expand_dims:
            y = _split_channels(y, channels)  # [batch, frames, channels, bins]
            return tl.transpose(y, [0, 1, 3, 2] if self.data_format == "channels_last" else [0, 2, 1, 3])
        return y if self.data_format == "channels_last" else tl.transpose(y, [0, 2, 1])

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        channels = self._channels(s)
        time = s[1] if self.data_format == "channels_last" else s[2]
        bins = (self._fft_length // 2 + 1) * (2 if self.mode == "stft" else 1)
        frames = None
        if time is not None:
            frames = -(-time // self._frame_step) if self.padding == "same" else max(
                0, (time - self.frame_length) // self._frame_step + 1)
        if self.expand_dims:
            return (s[0], frames, bins, channels) if self.data_format == "channels_last" else (s[0], channels, frames,
                                                                                               bins)
        flat = None if channels is None else channels * bins
        return (s[0], frames, flat) if self.data_format == "channels_last" else (s[0], flat, frames)

    def get_config(self):
        config = super().get_config()
        config.update({"mode": self.mode, "frame_length": self.frame_length, "frame_step": self.frame_step,
                       "fft_length": self.fft_length, "window": window_config(self.window),
                       "periodic": self.periodic, "scaling": self.scaling, "padding": self.padding,
                       "data_format": self.data_format, "expand_dims": self.expand_dims})
        return config


class MelSpectrogram(Layer):
    """Mel spectrograms of audio signals: STFT magnitudes to the power ``mag_exp``, mapped onto
    ``num_mel_bins`` mel filters, optionally in decibels.

    Args:
      fft_length: FFT size (default 2048).
      sequence_stride: samples between frames (default 512).
      sequence_length: window length (default ``fft_length``).
      window: ``"hann"`` (default), ``"hamming"``, ``sequence_length`` values, or None.
      sampling_rate: the signal's sample rate (default 16000).
      num_mel_bins: number of mel filters (default 128).
      min_freq, max_freq: the frequency range of the filters (default 20 Hz to ``sampling_rate / 2``).
      power_to_db: convert to decibels ``10 log10(S / ref_power)`` (default True).
      top_db: with ``power_to_db``, clip values below the maximum (over the whole batch, as Keras)
        minus ``top_db`` (default 80; None: no clipping).
      mag_exp: exponent of the magnitudes (1: magnitude, 2: power; default 2).
      min_power: floor of the power and of ``ref_power`` before the logarithm (default 1e-10).
      ref_power: the reference power for decibels (default 1).

    Input shape: ``(samples,)`` or ``(batch, samples)`` (more leading axes work too).

    Output shape: ``(..., num_mel_bins, frames)`` with ``frames = 1 + samples // sequence_stride``
    for even ``fft_length`` (the signal is reflect-padded by ``fft_length // 2`` on both sides).

    Example:
      >>> layer = tl.keras.layers.MelSpectrogram(num_mel_bins=64, sampling_rate=8000, sequence_stride=256,
      ...                                        fft_length=2048)
      >>> layer(tl.random.uniform([16000])).shape
      TensorShape([64, 63])
    """

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None, window="hann",
                 sampling_rate=16000, num_mel_bins=128, min_freq=20.0, max_freq=None, power_to_db=True, top_db=80.0,
                 mag_exp=2.0, min_power=1e-10, ref_power=1.0, **kwargs):
        who = "MelSpectrogram"
        self.fft_length = _positive_int(who, "fft_length", fft_length)
        self.sequence_stride = _positive_int(who, "sequence_stride", sequence_stride)
        self.sequence_length = _positive_int(who, "sequence_length", sequence_length or fft_length)
        if self.fft_length < self.sequence_length:
            raise ValueError(f"{who}: `fft_length` must be at least `sequence_length`; received sequence_length="
                             f"{self.sequence_length}, fft_length={self.fft_length}")
        if isinstance(window, str) and window not in ("hann", "hamming"):
            raise ValueError(f'{who}: window must be "hann", "hamming", an array of sequence_length values or None; '
                             f"received window={window!r}")
        self.num_mel_bins = _positive_int(who, "num_mel_bins", num_mel_bins)
        self.max_freq = max_freq or int(sampling_rate / 2)
        if sampling_rate <= 0 or not 0 <= min_freq < self.max_freq:
            raise ValueError(f"{who}: expected sampling_rate > 0 and 0 <= min_freq < max_freq; received sampling_rate="
                             f"{sampling_rate}, min_freq={min_freq}, max_freq={self.max_freq}")
        super().__init__(**kwargs)
        self.window = window
        self.sampling_rate = sampling_rate
        self.min_freq = min_freq
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power

    def call(self, inputs):
        x = inputs
        check_ndim(self, x, min_ndim=1)
        dtype = self.compute_dtype if self.compute_dtype in ("float32", "float64") else "float32"
        x = tl.cast(x, dtype)
        real, imag = _ops.stft(x, self.sequence_length, self.sequence_stride, self.fft_length, self.window,
                               center=True)
        power = tl.square(real) + tl.square(imag)
        spec = power if self.mag_exp == 2 else tl.pow(power, self.mag_exp / 2.0)
        with _ops.on_device_of(x):
            mel = _signal.mel_weight_matrix(self.num_mel_bins, self.fft_length // 2 + 1, float(self.sampling_rate),
                                            float(self.min_freq), float(self.max_freq), spec.dtype)
        out = tl.matmul(spec, mel)
        if self.power_to_db:
            out = self._dbscale(out)
        out = tl.transpose(out, list(range(len(out.shape) - 2)) + [len(out.shape) - 1, len(out.shape) - 2])
        return tl.cast(out, self.compute_dtype)

    def _dbscale(self, x):
        ten_over_ln10 = 10.0 / math.log(10.0)
        db = tl.math.log(tl.maximum(x, self.min_power)) * ten_over_ln10
        db = db - 10.0 * math.log10(max(abs(float(self.ref_power)), self.min_power))
        if self.top_db is None:
            return db
        return tl.maximum(db, tl.reduce_max(db) - self.top_db)

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        n = s[-1]
        frames = None if n is None else 1 + (n + 2 * (self.fft_length // 2) - self.fft_length) // self.sequence_stride
        return s[:-1] + (self.num_mel_bins, frames)

    def get_config(self):
        config = super().get_config()
        config.update({"fft_length": self.fft_length, "sequence_stride": self.sequence_stride,
                       "sequence_length": self.sequence_length, "window": window_config(self.window),
                       "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
                       "min_freq": self.min_freq, "max_freq": self.max_freq, "power_to_db": self.power_to_db,
                       "top_db": self.top_db, "mag_exp": self.mag_exp, "min_power": self.min_power,
                       "ref_power": self.ref_power})
        return config
