"""STFTSpectrogram, MelSpectrogram and keras.initializers.STFT: vs the real Keras 3 with the same config on
random audio (skipped where it cannot be imported), vs float64 references, shapes (also symbolic), config
round trips, gradients, a model that trains and saves, errors, and the GPU (emulated in CI)."""
import numpy as np
import pytest
import scipy.signal

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import initializers, layers
from tests.keras.layers.layer_checks import check_grads, check_rank_error, check_roundtrip, check_symbolic
from tests.keras.real_keras import K, needs_keras

STFT_CONFIGS = [
    {},
    {"mode": "magnitude", "frame_length": 100, "frame_step": 30, "fft_length": 128, "padding": "same"},
    {"mode": "psd", "window": "hamming", "periodic": True, "scaling": "spectrum", "frame_length": 64},
    {"mode": "stft", "expand_dims": True, "frame_length": 64, "window": None},
    {"mode": "angle", "data_format": "channels_first", "frame_length": 48, "window": "blackman"},
    {"mode": "real", "data_format": "channels_first", "expand_dims": True, "frame_length": 32},
    {"mode": "imag", "padding": "same", "frame_step": 50, "frame_length": 64, "scaling": None},
    {"mode": "log", "data_format": "channels_first", "frame_length": 40, "frame_step": 40, "fft_length": 64},
]


def _audio(rng, config, batch=2, time=600, channels=3):
    cf = config.get("data_format") == "channels_first"
    return rng.uniform(-1, 1, size=(batch, channels, time) if cf else (batch, time, channels)).astype("float32")


def _kernel_ref(side, window, scaling, periodic, frame_length, bins):
    """Keras' STFT initializer in float64 numpy (scipy's windows)."""
    n = 2 * (bins - 1)
    phase = -2 * np.pi * np.outer(np.arange(frame_length), np.arange(bins)) / n
    k = np.cos(phase) if side == "real" else np.sin(phase)
    if window is not None:
        win = scipy.signal.get_window(window, frame_length, periodic) if isinstance(window, str) else window
        scale = {"density": np.sqrt(np.sum(win ** 2)), "spectrum": np.sum(np.abs(win)), None: 1.0}[scaling]
        k = k * win[:, None] / scale
    return k[:, None, :]


@pytest.mark.parametrize("side", ["real", "imag"])
@pytest.mark.parametrize("window,scaling,periodic", [("hann", "density", False), ("hamming", "spectrum", True),
                                                     (None, "density", False), ("bartlett", None, False)])
def test_stft_initializer_matches_float64_reference(side, window, scaling, periodic):
    got = initializers.STFT(side, window, scaling, periodic)((100, 1, 65), dtype="float64")
    np.testing.assert_allclose(got.numpy(), _kernel_ref(side, window, scaling, periodic, 100, 65), atol=1e-12)
    assert initializers.STFTInitializer is initializers.STFT
    assert isinstance(initializers.get("stft"), initializers.STFT)
    again = initializers.deserialize(initializers.serialize(initializers.STFT(side, window, scaling, periodic)))
    assert again.get_config() == {"side": side, "window": window, "periodic": periodic, "scaling": scaling}


@needs_keras
def test_stft_initializer_matches_keras():
    for side, window, scaling, periodic in (("real", "hann", "density", False), ("imag", "hamming", "spectrum", True)):
        want = K.ops.convert_to_numpy(K.initializers.STFT(side, window, scaling, periodic)((64, 1, 33)))
        got = initializers.STFT(side, window, scaling, periodic)((64, 1, 33))
        np.testing.assert_allclose(got.numpy(), want, atol=2e-5)  # Keras computes the phases in float32


@needs_keras
@pytest.mark.parametrize("config", STFT_CONFIGS, ids=str)
def test_stft_spectrogram_matches_keras(rng, config):
    x = _audio(rng, config)
    ours, theirs = layers.STFTSpectrogram(**config), K.layers.STFTSpectrogram(**config)
    y = ours(tl.constant(x)).numpy()
    theirs.build(x.shape)
    assert [w.name for w in theirs.weights] == [w._keras_attrs["name"] for w in ours.weights]
    theirs.set_weights(ours.get_weights())
    want = K.ops.convert_to_numpy(theirs(x))
    assert y.shape == want.shape == tuple(theirs.compute_output_shape(x.shape))
    assert ours.compute_output_shape(x.shape) == y.shape
    # both float32; "log" mode magnifies the rounding of near-zero bins (seen: 4e-5 relative at -7.7)
    np.testing.assert_allclose(y, want, rtol=1e-4, atol=2e-5 * max(1.0, np.abs(want).max()))
    config_keys = set(theirs.get_config()) - {"dtype", "name"}
    assert config_keys == set(ours.get_config()) - {"dtype", "name"}


def test_stft_spectrogram_against_ops_stft(rng):
    """With a periodic Hann window and no scaling, the layer's "stft" mode is ops.stft without centring."""
    x = rng.normal(size=(2, 300, 1))
    layer = layers.STFTSpectrogram("stft", frame_length=64, frame_step=16, window="hann", periodic=True, scaling=None,
                                   dtype="float64")
    y = layer(tl.constant(x)).numpy()
    re, im = keras.ops.stft(tl.constant(x[..., 0]), 64, 16, 64, center=False)
    np.testing.assert_allclose(y, np.concatenate([re.numpy(), im.numpy()], -1), atol=1e-10)


def test_stft_spectrogram_config_symbolic_and_grads(rng):
    x = tl.constant(_audio(rng, {}, time=300))
    layer = layers.STFTSpectrogram(mode="magnitude", frame_length=32, fft_length=64, padding="same")
    check_roundtrip(layer, x)
    check_symbolic(layers.STFTSpectrogram(frame_length=32, expand_dims=True), x)
    check_grads(layers.STFTSpectrogram(mode="log", frame_length=32), x)
    inp = keras.Input((None, 2))
    assert tuple(layers.STFTSpectrogram(frame_length=64, fft_length=64)(inp).shape) == (None, None, 66)
    clone = layers.deserialize(layers.serialize(layers.STFTSpectrogram(window=np.hanning(256), mode="psd")))
    assert clone.mode == "psd" and len(clone.window) == 256
    assert not layers.STFTSpectrogram(trainable=False).trainable


def test_stft_spectrogram_errors():
    with pytest.raises(ValueError, match="STFTSpectrogram: `frame_step` must be a positive integer not greater"):
        layers.STFTSpectrogram(frame_length=16, frame_step=32)
    with pytest.raises(ValueError, match="STFTSpectrogram: `fft_length` must be at least `frame_length`"):
        layers.STFTSpectrogram(frame_length=64, fft_length=32)
    with pytest.raises(ValueError, match="STFTSpectrogram: mode must be one of log, magnitude"):
        layers.STFTSpectrogram(mode="power")
    with pytest.raises(ValueError, match="STFTSpectrogram: unknown window 'kaiser'; use one of"):
        layers.STFTSpectrogram(window="kaiser")
    with pytest.raises(ValueError, match="STFTSpectrogram: padding must be 'valid' or 'same'"):
        layers.STFTSpectrogram(padding="causal")
    with pytest.raises(ValueError, match="STFTSpectrogram: scaling must be None, 'density' or 'spectrum'"):
        layers.STFTSpectrogram(scaling="l2")
    with pytest.warns(UserWarning, match="power of two"):
        layers.STFTSpectrogram(frame_length=100, fft_length=100)
    check_rank_error(layers.STFTSpectrogram(frame_length=8), tl.ones([2, 50]), "expected ndim=3")
    with pytest.raises(TypeError, match="STFTSpectrogram.*expected float16, float32 or float64 inputs"):
        layers.STFTSpectrogram(frame_length=8, dtype="int32")(tl.ones([1, 20, 1], tl.int32))
    with pytest.raises(ValueError, match="STFT initializer: side must be 'real' or 'imag'"):
        initializers.STFT("both")
    with pytest.raises(ValueError, match=r"STFT initializer: the window must have shape \[frame_length\] = \[8\]"):
        initializers.STFT(window=np.ones(7))((8, 1, 5))


MEL_CONFIGS = [
    {"fft_length": 256, "sequence_stride": 64, "num_mel_bins": 40},
    {"fft_length": 512, "sequence_stride": 128, "sequence_length": 400, "window": "hamming", "sampling_rate": 8000,
     "num_mel_bins": 32, "power_to_db": False, "mag_exp": 1.0},
    {"fft_length": 256, "sequence_stride": 100, "top_db": 20.0, "ref_power": 3.0, "min_freq": 100.0,
     "max_freq": 6000.0},
]


@needs_keras
@pytest.mark.parametrize("config", MEL_CONFIGS, ids=str)
@pytest.mark.parametrize("shape", [(3000,), (2, 3000)])
def test_mel_spectrogram_matches_keras(rng, config, shape):
    x = rng.uniform(-1, 1, size=shape).astype("float32")
    ours, theirs = layers.MelSpectrogram(**config), K.layers.MelSpectrogram(**config)
    y = ours(tl.constant(x)).numpy()
    want = K.ops.convert_to_numpy(theirs(x))
    assert y.shape == want.shape == ours.compute_output_shape(shape)
    # Keras builds the mel matrix in float32: small relative errors in tiny powers, 1e-2 dB at most
    atol = 1e-2 if config.get("power_to_db", True) else 1e-4 * max(1.0, np.abs(want).max())
    np.testing.assert_allclose(y, want, atol=atol, rtol=1e-4)
    ours_cfg, theirs_cfg = ours.get_config(), theirs.get_config()
    for cfg in (ours_cfg, theirs_cfg):
        cfg.pop("name"), cfg.pop("dtype")
    assert ours_cfg == theirs_cfg


def test_mel_spectrogram_reference_config_and_errors(rng):
    x = rng.uniform(-1, 1, size=(2, 2000))
    layer = layers.MelSpectrogram(fft_length=128, sequence_stride=32, num_mel_bins=16, sampling_rate=8000,
                                  power_to_db=False, dtype="float64")
    y = layer(tl.constant(x)).numpy()
    re, im = keras.ops.stft(tl.constant(x), 128, 32, 128)
    mel = tl.signal.linear_to_mel_weight_matrix(16, 65, 8000, 20.0, 4000.0, dtype=tl.float64).numpy()
    want = np.swapaxes((re.numpy() ** 2 + im.numpy() ** 2) @ mel, -1, -2)
    np.testing.assert_allclose(y, want, rtol=1e-10, atol=1e-12)
    assert y.shape == (2, 16, 1 + 2000 // 32)
    check_roundtrip(layers.MelSpectrogram(fft_length=128, sequence_stride=32, num_mel_bins=16), tl.constant(x))
    inp = keras.Input((2000,))
    assert tuple(layers.MelSpectrogram(fft_length=128, sequence_stride=32, num_mel_bins=16)(inp).shape) == (
        None, 16, 63)
    ints = layers.MelSpectrogram(fft_length=64, sequence_stride=32, num_mel_bins=8)(tl.constant([[1, 2, 3] * 40]))
    assert ints.dtype == tl.float32
    with pytest.raises(ValueError, match="MelSpectrogram: `fft_length` must be at least `sequence_length`"):
        layers.MelSpectrogram(fft_length=256, sequence_length=512)
    with pytest.raises(ValueError, match=r"MelSpectrogram: expected sampling_rate > 0 and 0 <= min_freq < max_freq"):
        layers.MelSpectrogram(sampling_rate=8000, min_freq=5000.0)
    with pytest.raises(ValueError, match="MelSpectrogram: window must be"):
        layers.MelSpectrogram(window="blackman")
    with pytest.raises(ValueError, match="MelSpectrogram: `num_mel_bins` must be a positive integer"):
        layers.MelSpectrogram(num_mel_bins=0)


def test_a_model_trains_a_step_and_saves(tmp_path, rng):
    x = rng.uniform(-1, 1, size=(8, 800, 1)).astype("float32")
    y = rng.uniform(size=(8, 2)).astype("float32")
    inp = keras.Input((800, 1))
    h = layers.STFTSpectrogram(mode="log", frame_length=64, frame_step=32)(inp)
    out = layers.Dense(2)(layers.GlobalAveragePooling1D()(h))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    stft_layer = model.layers[1]
    before = stft_layer.real_kernel.numpy().copy()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not np.allclose(stft_layer.real_kernel.numpy(), before)  # the STFT kernels train too
    path = str(tmp_path / "stft.keras")
    model.save(path)
    back = keras.models.load_model(path)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.parametrize("make,shape", [
    (lambda: layers.STFTSpectrogram(mode="psd", frame_length=32, padding="same"), (2, 200, 2)),
    (lambda: layers.STFTSpectrogram(mode="stft", frame_length=32, expand_dims=True, data_format="channels_first"),
     (2, 2, 200)),
    (lambda: layers.MelSpectrogram(fft_length=128, sequence_stride=32, num_mel_bins=16), (2, 1000)),
], ids=["stft_psd", "stft_expand", "mel"])
def test_gpu_matches_cpu(rng, make, shape):
    x = rng.uniform(-1, 1, size=shape).astype("float32")
    results = []
    for dev in ("cpu", "gpu:0"):
        with tl.device(dev):
            layer = make()
            xt = tl.constant(x)
            with tl.GradientTape() as tape:
                tape.watch(xt)
                out = layer(xt)
                loss = tl.reduce_sum(out * out)
            assert ("GPU" in out.device) == (dev != "cpu"), out.device
            results.append((out.numpy(), tape.gradient(loss, xt).numpy()))
    (yc, gc), (yg, gg) = results
    np.testing.assert_allclose(yg, yc, rtol=1e-4, atol=1e-4 * np.abs(yc).max())
    np.testing.assert_allclose(gg, gc, rtol=1e-4, atol=1e-4 * np.abs(gc).max())
