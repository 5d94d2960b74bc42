"""``keras.initializers.STFT`` (alias ``STFTInitializer``): conv kernels that compute a short-time
Fourier transform, as ``keras.layers.STFTSpectrogram`` uses them."""
import math

import tensorlab as tl
from tensorlab.keras.initializers import Initializer, _dtype
from tensorlab.ops import signal as _signal


def _check_window(who, window):
    if isinstance(window, str) and window not in _signal.WINDOW_NAMES:
        raise ValueError(f"{who}: unknown window {window!r}; use one of {', '.join(_signal.WINDOW_NAMES)}, an "
                         "array of window values, or None")


def _check_scaling(who, scaling):
    if scaling is not None and scaling not in ("density", "spectrum"):
        raise ValueError(f"{who}: scaling must be None, 'density' or 'spectrum'; received scaling={scaling!r}")


def window_config(window):
    """A window argument as it goes into a config: names and None as they are, values as a list."""
    if window is None or isinstance(window, str):
        return window
    return window.numpy().tolist() if hasattr(window, "numpy") else (
        window.tolist() if hasattr(window, "tolist") else list(window))


class STFT(Initializer):
    """Kernels ``(frame_length, channels, fft_length // 2 + 1)`` of the real or the imaginary part of the
    windowed DFT: ``cos`` / ``sin`` of ``-2 pi t k / fft_length`` times the window, divided by its scale.

    ``fft_length`` is ``2 * (bins - 1)``, taken from the last dimension of the shape.

    Args:
      side: ``"real"`` (cosines) or ``"imag"`` (sines).
      window: a window name (``"hann"``, ``"hamming"``, ``"blackman"``, ... as
        ``scipy.signal.get_window``), an array of ``frame_length`` values, or None.
      scaling: ``"density"`` divides by the window's L2 norm, ``"spectrum"`` by its sum, None by 1.
      periodic: use the periodic variant of a named window (default symmetric).

    Example:
      >>> tl.keras.initializers.STFT("real", "hann")(shape=(256, 1, 129)).shape
      TensorShape([256, 1, 129])
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT initializer: side must be 'real' or 'imag', got {side!r}")
        _check_window("STFT initializer", window)
        _check_scaling("STFT initializer", scaling)
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape, dtype=None, **kwargs):
        shape = tuple(shape)
        if len(shape) != 3:
            raise ValueError(f"STFT initializer: expected a shape (frame_length, channels, fft_length // 2 + 1), "
                             f"got {shape}")
        frame_length, _, bins = shape
        n = max(2 * (bins - 1), 1)
        # t * k mod n is exact in integers, so the phases stay accurate for long frames.
        tk = tl.math.floormod(tl.reshape(tl.range(frame_length, dtype=tl.int64), [frame_length, 1, 1])
                              * tl.reshape(tl.range(bins, dtype=tl.int64), [1, 1, bins]), n)
        phase = tl.cast(tk, tl.float64) * (-2.0 * math.pi / n)
        kernel = tl.cos(phase) if self.side == "real" else tl.sin(phase)
        if self.window is not None:
            if isinstance(self.window, str):
                win = _signal.named_window(self.window, frame_length, self.periodic, tl.float64)
            else:
                win = tl.cast(tl.convert_to_tensor(self.window), tl.float64)
            if tuple(win.shape) != (frame_length,):
                raise ValueError(f"STFT initializer: the window must have shape [frame_length] = [{frame_length}], "
                                 f"got shape {list(win.shape)}")
            scale = 1.0
            if self.scaling == "density":
                scale = tl.sqrt(tl.reduce_sum(tl.square(win)))
            elif self.scaling == "spectrum":
                scale = tl.reduce_sum(tl.abs(win))
            kernel = kernel * tl.reshape(win, [frame_length, 1, 1]) / scale
        return tl.cast(tl.broadcast_to(kernel, shape), _dtype(dtype))

    def get_config(self):
        return {"side": self.side, "window": window_config(self.window), "periodic": self.periodic,
                "scaling": self.scaling}


STFTInitializer = STFT
