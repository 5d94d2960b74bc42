"""keras.ops fft/fft2/ifft2/rfft/irfft/stft/istft and tl.signal vs float64 numpy/scipy references, and vs
the real Keras 3 (skipped where it cannot be imported)."""
import numpy as np
import pytest
import scipy.fft
import scipy.signal

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import ops
from tests.keras.ops.helpers import check
from tests.keras.real_keras import K, needs_keras

SPECTRAL = ["fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft"]


def _np(x):
    return x.numpy() if hasattr(x, "numpy") else K.ops.convert_to_numpy(x)


def _pair(z):
    return tl.constant(z.real), tl.constant(z.imag)


def test_names_in_ops_and_ops_math():
    for name in SPECTRAL:
        assert getattr(ops, name) is getattr(ops.math, name) is getattr(ops.spectral, name)
    if K is not None:
        assert all(hasattr(K.ops, name) for name in SPECTRAL)


# ----------------------------------------------------------------- FFTs vs numpy (float64)
def test_ffts_match_numpy(rng):
    z = rng.normal(size=(2, 3, 6)) + 1j * rng.normal(size=(2, 3, 6))
    for fn, ref in ((ops.fft, np.fft.fft), (ops.fft2, np.fft.fft2), (ops.ifft2, np.fft.ifft2)):
        re, im = fn(_pair(z))
        check(re, ref(z).real)
        check(im, ref(z).imag)
    x = rng.normal(size=(3, 7))
    for n in (None, 5, 7, 10):
        re, im = ops.rfft(tl.constant(x), n)
        check(re, np.fft.rfft(x, n).real)
        check(im, np.fft.rfft(x, n).imag)
    spec = np.fft.rfft(x)
    for n in (None, 7, 12):
        check(ops.irfft(_pair(spec), n), np.fft.irfft(spec, n))
    check(ops.irfft(ops.rfft(tl.constant(x)), 7), x)
    assert ops.rfft(tl.constant([1, 2, 3]))[0].dtype == tl.float32  # integers: floatx


@needs_keras
def test_ffts_match_keras(rng):
    z = [rng.normal(size=(2, 4, 5)).astype("float32") for _ in range(2)]
    for name in ("fft", "fft2", "ifft2"):
        for a, b in zip(getattr(ops, name)(tuple(tl.constant(v) for v in z)), getattr(K.ops, name)(tuple(z))):
            np.testing.assert_allclose(_np(a), _np(b), atol=1e-4)
    for n in (None, 4, 9):
        for a, b in zip(ops.rfft(tl.constant(z[0]), n), K.ops.rfft(z[0], n)):
            np.testing.assert_allclose(_np(a), _np(b), atol=1e-4)
        np.testing.assert_allclose(_np(ops.irfft(tuple(tl.constant(v) for v in z), n)), _np(K.ops.irfft(tuple(z), n)),
                                   atol=1e-5)


# ----------------------------------------------------------------- STFT
def _stft_ref(x, seq, stride, fft, window, center):
    """Keras' definition in float64 numpy: reflect padding, frames of fft_length, a periodic window of
    sequence_length centred in the frame (None: no window), rfft."""
    if center:
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(fft // 2, fft // 2)], mode="reflect")
    n = 1 + (x.shape[-1] - fft) // stride
    frames = np.stack([x[..., i * stride:i * stride + fft] for i in range(n)], axis=-2)
    if window is not None:
        win = scipy.signal.get_window(window, seq) if isinstance(window, str) else np.asarray(window, np.float64)
        left = (fft - seq) // 2
        frames = frames * np.pad(win, [left, fft - seq - left])
    return np.fft.rfft(frames, fft)


STFT_CONFIGS = [  # sequence_length, sequence_stride, fft_length, window, center
    (32, 8, 32, "hann", True), (24, 10, 32, "hamming", True), (31, 7, 32, "hann", False),
    (16, 16, 16, None, True), (20, 5, 32, None, False), (9, 3, 9, "hann", True),
]


@pytest.mark.parametrize("config", STFT_CONFIGS, ids=str)
def test_stft_matches_reference(rng, config):
    seq, stride, fft, window, center = config
    x = rng.normal(size=(2, 100))
    want = _stft_ref(x, seq, stride, fft, window, center)
    re, im = ops.stft(tl.constant(x), seq, stride, fft, window, center)
    check(re, want.real, rtol=1e-9, atol=1e-9)
    check(im, want.imag, rtol=1e-9, atol=1e-9)
    win = rng.uniform(size=seq)
    re, _ = ops.stft(tl.constant(x), seq, stride, fft, tl.constant(win), center)
    check(re, _stft_ref(x, seq, stride, fft, win, center).real, rtol=1e-9, atol=1e-9)


@needs_keras
@pytest.mark.parametrize("config", STFT_CONFIGS, ids=str)
def test_stft_istft_match_keras(rng, config):
    seq, stride, fft, window, center = config
    x = rng.normal(size=(2, 3, 120)).astype("float32")
    ours = ops.stft(tl.constant(x), seq, stride, fft, window, center)
    theirs = K.ops.stft(x, seq, stride, fft, window, center)
    if window is not None or seq == fft:  # Keras' torch backend zero-pads a None window to fft_length
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(_np(a), _np(b), atol=1e-4)
    spec = tuple(_np(v) for v in theirs)
    for length in (None, 100):
        a = _np(ops.istft(tuple(tl.constant(v) for v in spec), seq, stride, fft, length, window, center))
        b = _np(K.ops.istft(spec, seq, stride, fft, length, window, center))
        k = min(a.shape[-1], b.shape[-1])  # Keras' backends disagree on padding to `length`; we pad
        assert a.shape[-1] == (length or b.shape[-1])
        np.testing.assert_allclose(a[..., :k], b[..., :k], atol=1e-4)


def test_istft_inverts_stft(rng):
    x = rng.normal(size=(3, 480))  # whole frames: no window with no overlap covers every sample too
    for window, stride in (("hann", 16), ("hamming", 16), (None, 64)):  # None: no overlap, as Keras scales nothing
        spec = ops.stft(tl.constant(x), 64, stride, 64, window)
        check(ops.istft(spec, 64, stride, 64, length=480, window=window), x, rtol=1e-9, atol=1e-9)


def test_stft_gradient_and_symbolic_shapes(rng):
    x = tl.constant(rng.normal(size=(2, 40)))
    weights = tl.constant(rng.normal(size=(2, 11, 9)))
    with tl.GradientTape() as tape:
        tape.watch(x)
        re, im = ops.stft(x, 16, 4, 16)
        loss = tl.reduce_sum(re * weights) + tl.reduce_sum(tl.square(im))
    g = tape.gradient(loss, x).numpy()
    eps, idx = 1e-6, (1, 5)

    def f(v):
        re, im = ops.stft(tl.constant(v), 16, 4, 16)
        return float(tl.reduce_sum(re * weights) + tl.reduce_sum(tl.square(im)))

    xp, xm = x.numpy().copy(), x.numpy().copy()
    xp[idx] += eps
    xm[idx] -= eps
    np.testing.assert_allclose(g[idx], (f(xp) - f(xm)) / (2 * eps), rtol=1e-5)
    inp = keras.Input((1000,))
    re, im = ops.stft(inp, 256, 64, 512)
    assert tuple(re.shape) == (None, 16, 257) == tuple(im.shape)
    assert tuple(ops.istft((re, im), 256, 64, 512).shape) == (None, 960)
    assert tuple(ops.istft((re, im), 256, 64, 512, length=1000).shape) == (None, 1000)


def test_stft_errors():
    x = tl.ones([2, 50])
    with pytest.raises(TypeError, match="ops.stft: expected a float32 or float64 signal, got int32"):
        ops.stft(tl.ones([50], tl.int32), 8, 4, 8)
    with pytest.raises(ValueError, match="ops.stft: `fft_length` must be at least `sequence_length`"):
        ops.stft(x, 16, 4, 8)
    with pytest.raises(ValueError, match="ops.stft: `sequence_stride` must be a positive integer"):
        ops.stft(x, 8, 0, 8)
    with pytest.raises(ValueError, match='ops.stft: a window given by name must be "hann" or "hamming"'):
        ops.stft(x, 8, 4, 8, window="kaiser")
    with pytest.raises(ValueError, match=r"ops.stft: the window must have shape \[sequence_length\] = \[8\]"):
        ops.stft(x, 8, 4, 8, window=tl.ones([7]))
    with pytest.raises(ValueError, match="ops.stft: the signal .* is shorter than fft_length=64"):
        ops.stft(x, 8, 4, 64, center=False)
    with pytest.raises(ValueError, match="ops.istft: expected .* rank >= 2"):
        ops.istft((tl.ones([5]), tl.ones([5])), 8, 4, 8)
    with pytest.raises(ValueError, match="ops.istft: the overlap-added squared window is"):
        ops.istft((tl.ones([4, 5]), tl.ones([4, 5])), 8, 8, 8, window=[0., 1, 1, 1, 1, 1, 1, 1])


# ----------------------------------------------------------------- tl.signal
def test_frame_and_overlap_and_add(rng):
    x = rng.normal(size=(2, 11, 3))
    got = tl.signal.frame(tl.constant(x), 4, 3, axis=1)
    check(got, np.stack([x[:, i * 3:i * 3 + 4] for i in range(3)], axis=1))
    padded = np.concatenate([x, np.full((2, 2, 3), 9.0)], axis=1)
    got = tl.signal.frame(tl.constant(x), 4, 3, pad_end=True, pad_value=9.0, axis=-2)
    check(got, np.stack([padded[:, i * 3:i * 3 + 4] for i in range(4)], axis=1))
    assert tuple(tl.signal.frame(tl.ones([3]), 5, 1).shape) == (0, 5)
    frames = rng.normal(size=(2, 5, 6))
    want = np.zeros((2, 4 * 4 + 6))
    for f in range(5):
        want[:, f * 4:f * 4 + 6] += frames[:, f]
    check(tl.signal.overlap_and_add(tl.constant(frames), 4), want)
    check(tl.signal.overlap_and_add(tl.signal.frame(tl.constant(np.arange(12.)), 4, 4), 4), np.arange(12.))
    with pytest.raises(ValueError, match="frame: frame_step must be an integer >= 1, got 0"):
        tl.signal.frame(tl.ones([5]), 2, 0)
    with pytest.raises(ValueError, match=r"overlap_and_add: signal must have rank >= 2.*\[5\]"):
        tl.signal.overlap_and_add(tl.ones([5]), 2)


@pytest.mark.parametrize("n", [1, 4, 7])
def test_windows_follow_tf(n):
    for fn, a, b in ((tl.signal.hann_window, 0.5, 0.5), (tl.signal.hamming_window, 0.54, 0.46)):
        for periodic in (True, False):
            # TF: the periodic window of even length uses N = length, otherwise N = length - 1
            denom = max(n - 1 + (1 if periodic and n % 2 == 0 else 0), 1)
            want = np.ones(1) if n == 1 else a - b * np.cos(2 * np.pi * np.arange(n) / denom)
            w = fn(n, periodic=periodic, dtype=tl.float64)
            assert w.dtype == tl.float64
            check(w, want, rtol=1e-12, atol=1e-12)
    assert fn(4).dtype == tl.float32
    with pytest.raises(TypeError, match="hann_window: dtype must be a floating-point type"):
        tl.signal.hann_window(4, dtype=tl.int32)


def _mel_ref(num_mel, num_spec, rate, lo, hi):
    """TF's linear_to_mel_weight_matrix in float64 numpy."""
    def mel(f):
        return 1127.0 * np.log1p(np.asarray(f) / 700.0)
    bins = mel(np.linspace(0.0, rate / 2, num_spec))[1:, None]
    edges = np.linspace(mel(lo), mel(hi), num_mel + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    w = np.maximum(0.0, np.minimum((bins - lower) / (center - lower), (upper - bins) / (upper - center)))
    return np.pad(w, [(1, 0), (0, 0)])


def test_linear_to_mel_weight_matrix():
    got = tl.signal.linear_to_mel_weight_matrix(40, 257, 16000, 20.0, 8000.0, dtype=tl.float64)
    check(got, _mel_ref(40, 257, 16000, 20.0, 8000.0), rtol=1e-10, atol=1e-12)
    default = tl.signal.linear_to_mel_weight_matrix()
    assert default.dtype == tl.float32 and tuple(default.shape) == (129, 20)
    check(default, _mel_ref(20, 129, 8000, 125.0, 3800.0), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"upper_edge_hertz \(5000.0\) must not exceed the Nyquist frequency"):
        tl.signal.linear_to_mel_weight_matrix(upper_edge_hertz=5000.0)
    with pytest.raises(ValueError, match="lower_edge_hertz must be non-negative"):
        tl.signal.linear_to_mel_weight_matrix(lower_edge_hertz=-1.0)
    with pytest.raises(ValueError, match="num_mel_bins must be an integer >= 1, got 0"):
        tl.signal.linear_to_mel_weight_matrix(num_mel_bins=0)


@pytest.mark.parametrize("type_", [1, 2, 3, 4])
def test_dct_idct_match_scipy(rng, type_):
    x = rng.normal(size=(3, 8))
    for norm in ((None,) if type_ == 1 else (None, "ortho")):
        check(tl.signal.dct(tl.constant(x), type=type_, norm=norm), scipy.fft.dct(x, type=type_, norm=norm),
              rtol=1e-10, atol=1e-10)
        scale = 1.0 if norm else (2 * (8 - 1) if type_ == 1 else 16)  # TF's idct is unnormalized
        check(tl.signal.idct(tl.constant(x), type=type_, norm=norm), scale * scipy.fft.idct(x, type=type_, norm=norm),
              rtol=1e-10, atol=1e-10)
    check(tl.signal.dct(tl.constant(x), type=type_, n=5), scipy.fft.dct(x, type=type_, n=5), rtol=1e-10, atol=1e-10)


def test_mfccs_and_dct_errors(rng):
    x = rng.normal(size=(4, 5, 40))
    check(tl.signal.mfccs_from_log_mel_spectrograms(tl.constant(x)), scipy.fft.dct(x, type=2) / np.sqrt(80.0),
          rtol=1e-10, atol=1e-10)
    with pytest.raises(ValueError, match="dct: norm='ortho' is not supported for type 1"):
        tl.signal.dct(tl.ones([4]), type=1, norm="ortho")
    with pytest.raises(ValueError, match="dct: only the last axis is supported"):
        tl.signal.dct(tl.ones([4, 3]), axis=0)
    with pytest.raises(ValueError, match="dct: type must be 1, 2, 3 or 4, got 5"):
        tl.signal.dct(tl.ones([4]), type=5)
    with pytest.raises(TypeError, match="dct: expected a float tensor, got int32"):
        tl.signal.dct(tl.ones([4], tl.int32))
    with pytest.raises(ValueError, match="mfccs_from_log_mel_spectrograms: expected .* num_mel_bins > 0"):
        tl.signal.mfccs_from_log_mel_spectrograms(tl.ones([3, 0]))


@needs_keras
def test_mel_matrix_matches_keras():
    layer = K.layers.MelSpectrogram()
    want = _np(layer.linear_to_mel_weight_matrix(64, 513, 16000, 20.0, 8000.0))
    got = tl.signal.linear_to_mel_weight_matrix(64, 513, 16000, 20.0, 8000.0)
    np.testing.assert_allclose(got.numpy(), want, atol=2e-5)
