"""Colour augmentation layers against numpy transcriptions of Keras 3's formulas (fixed factors, or the
layer's seeded draws replayed), identity at inference, value ranges, configs, training and errors."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers
from tests.keras.layers.layer_checks import check_rank_error, check_roundtrip, check_symbolic
from tests.ops.test_image_color import ref_hsv_to_rgb, ref_rgb_to_hsv

GRAY = np.array([0.2989, 0.5870, 0.1140])
F03 = float(np.float32(0.3))  # a fixed factor of 0.3 is drawn in float32


def images(rng, *shape, high=255.0):
    return tl.constant(rng.uniform(0.5, high, size=shape))


def draws(seed, *specs):
    """The draws a layer built with ``seed`` makes: one uniform per (shape, low, high), in order."""
    g = tl.random.Generator.from_seed(seed)
    return [g.uniform(shape, low, high).numpy().astype(np.float64) for shape, low, high in specs]


def gray(x):
    return (x @ GRAY)[..., None]


def ref_hue(x, delta, value_range=(0, 255)):
    lo, hi = value_range
    hsv = ref_rgb_to_hsv((x - lo) / (hi - lo))
    h = hsv[..., 0] + np.reshape(delta, (-1,) + (1,) * (hsv.ndim - 2))
    h = np.where(h > 1, h - 1, h)
    hsv[..., 0] = np.where(h < 0, h + 1, h)
    return np.clip(ref_hsv_to_rgb(hsv), 0, 1) * (hi - lo) + lo


def ref_saturation(x, f, value_range=(0, 255)):
    lo, hi = value_range
    hsv = ref_rgb_to_hsv((x - lo) / (hi - lo))
    hsv[..., 1] = np.clip(hsv[..., 1] * np.reshape(f / (1 - f), (-1,) + (1,) * (hsv.ndim - 2)), 0, 1)
    return ref_hsv_to_rgb(hsv) * (hi - lo) + lo


def ref_equalize(x, value_range=(0, 255), bins=256):
    """Keras' Equalization._equalize_channel, on each image and channel."""
    lo, hi = value_range
    y = (x - lo) / (hi - lo) * 255.0
    out = y.copy()
    for idx in np.ndindex(y.shape[0], y.shape[-1]):
        v = y[idx[0], ..., idx[1]]
        hist = np.bincount(np.clip((v * (bins - 1) / 255).astype(np.int32), 0, bins - 1).ravel(), minlength=bins)
        if np.count_nonzero(hist) <= 1:
            continue
        cdf = np.cumsum(hist)
        cdf_min = cdf[np.nonzero(cdf)[0][0]]
        lut = np.clip(np.round((cdf - cdf_min) * 255 / ((cdf[-1] - cdf_min) or 1)), 0, 255)
        out[idx[0], ..., idx[1]] = lut[np.clip(v / 255 * (bins - 1), 0, bins - 1).astype(np.int32)]
    return out / 255.0 * (hi - lo) + lo


def ref_smooth(x):
    """Keras' sharpness blur: [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13, zero padding."""
    k = np.array([[1, 1, 1], [1, 5, 1], [1, 1, 1]]) / 13.0
    p = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    h, w = x.shape[1:3]
    return sum(k[a, b] * p[:, a:a + h, b:b + w] for a in range(3) for b in range(3))


def check_basics(layer, x, roundtrip_training=False):
    """The identity at inference, the symbolic shape and the config round trip (in training when the layer's
    factor is fixed, so that the clone's output is the same)."""
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
    check_symbolic(layer, x)
    check_roundtrip(layer, x, training=roundtrip_training)


# ----------------------------------------------------------------- one layer at a time
def test_random_grayscale(rng):
    x = images(rng, 8, 4, 5, 3)
    layer = layers.RandomGrayscale(0.5, seed=3, dtype="float64")
    (u,) = draws(3, ([8, 1, 1, 1], 0.0, 1.0))
    want = np.where(u < 0.5, np.broadcast_to(gray(x.numpy()), x.shape), x.numpy())
    np.testing.assert_allclose(layer(x, training=True).numpy(), want, rtol=1e-12)
    always = layers.RandomGrayscale(1.0, dtype="float64")
    np.testing.assert_allclose(always(x[0]).numpy(), np.repeat(gray(x.numpy()[0]), 3, -1), rtol=1e-12)
    np.testing.assert_array_equal(layers.RandomGrayscale(0.0)(x).numpy(), x.numpy().astype(np.float32))
    cf = layers.RandomGrayscale(1.0, data_format="channels_first", dtype="float64")
    got = cf(tl.transpose(x, [0, 3, 1, 2])).numpy()
    np.testing.assert_allclose(got, np.transpose(np.repeat(gray(x.numpy()), 3, -1), [0, 3, 1, 2]), rtol=1e-12)
    check_basics(layer, x)
    assert layer.get_config()["factor"] == 0.5 and layer.get_config()["seed"] == 3


def test_random_hue(rng):
    x = images(rng, 6, 4, 5, 3)
    layer = layers.RandomHue((0.3, 0.3), seed=5, dtype="float64")
    coin, f = draws(5, ([6], 0.0, 1.0), ([6], 0.3, 0.3))
    delta = np.where(coin > 0.5, -1.0, 1.0) * f * 0.5
    assert {-0.15, 0.15} == set(np.round(delta, 6))  # a fixed factor: the coin picks the direction
    np.testing.assert_allclose(layer(x, training=True).numpy(), ref_hue(x.numpy(), delta), rtol=1e-9, atol=1e-9)
    # value_range (0, 1), unbatched.
    x01 = x[0] / 255.0
    one = layers.RandomHue(0.4, value_range=(0, 1), seed=2, dtype="float64")
    assert one.factor == (0, 0.4)
    coin, f = draws(2, ([1], 0.0, 1.0), ([1], 0.0, 0.4))
    want = ref_hue(x01.numpy()[None], np.where(coin > 0.5, -1.0, 1.0) * f * 0.5, (0, 1))[0]
    np.testing.assert_allclose(one(x01, training=True).numpy(), want, rtol=1e-9, atol=1e-12)
    check_basics(layer, x)


def test_random_saturation(rng):
    x = images(rng, 3, 4, 5, 3)
    layer = layers.RandomSaturation((0.3, 0.3), seed=1, dtype="float64")
    np.testing.assert_allclose(layer(x, training=True).numpy(), ref_saturation(x.numpy(), F03), rtol=1e-9)
    np.testing.assert_allclose(layers.RandomSaturation((0.5, 0.5), dtype="float64")(x).numpy(), x.numpy(),
                               rtol=1e-12)
    grey = layers.RandomSaturation((0.0, 0.0), dtype="float64")(x).numpy()
    np.testing.assert_allclose(grey, np.broadcast_to(x.numpy().max(-1, keepdims=True), x.shape), rtol=1e-12)
    with_grey = np.concatenate([x.numpy(), np.full((3, 4, 5, 3), 7.0)], 1)
    full = layers.RandomSaturation((1.0, 1.0), dtype="float64")(tl.constant(with_grey))
    assert np.all(np.isfinite(full.numpy()))  # f / (1 - f) at f = 1 stays finite, grey pixels stay grey
    np.testing.assert_allclose(full.numpy().min(-1)[:, :4], 0, atol=1e-6)
    np.testing.assert_allclose(full.numpy()[:, 4:], 7.0)
    rand = layers.RandomSaturation(0.6, value_range=(0, 1), seed=4, dtype="float64")
    assert rand.factor == (-0.6, 0.6)  # Keras 3's code: one number f means (-f, f)
    (f,) = draws(4, ([3], -0.6, 0.6))
    np.testing.assert_allclose(rand(x / 255.0).numpy(), ref_saturation(x.numpy() / 255.0, f, (0, 1)), rtol=1e-9,
                               atol=1e-12)
    check_basics(layer, x, roundtrip_training=True)


def test_random_color_jitter(rng):
    x = images(rng, 4, 5, 6, 3)
    layer = layers.RandomColorJitter(brightness_factor=(0.1, 0.1), contrast_factor=(0.3, 0.3),
                                     saturation_factor=(0.4, 0.4), hue_factor=(0.2, 0.2), seed=9, dtype="float64")
    b, c, s, coin, f = draws(9, ([4, 1, 1, 1], 0.1, 0.1), ([4, 1, 1, 1], 0.7, 1.3), ([4], 0.4, 0.4),
                             ([4], 0.0, 1.0), ([4], 0.2, 0.2))
    want = np.clip(x.numpy() + b * 255, 0, 255)
    mean = want.mean(axis=(1, 2), keepdims=True)
    want = np.clip((want - mean) * c + mean, 0, 255)
    want = ref_hue(ref_saturation(want, s), np.where(coin > 0.5, -1.0, 1.0) * f * 0.5)
    np.testing.assert_allclose(layer(x, training=True).numpy(), want, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(layers.RandomColorJitter()(x).numpy(), x.numpy().astype(np.float32))
    cf = layers.RandomColorJitter(contrast_factor=(0.5, 0.5), data_format="channels_first", seed=2, dtype="float64")
    (c,) = draws(2, ([4, 1, 1, 1], 0.5, 1.5))
    mean = x.numpy().mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(cf(tl.transpose(x, [0, 3, 1, 2])).numpy(),
                               np.transpose(np.clip((x.numpy() - mean) * c + mean, 0, 255), [0, 3, 1, 2]), rtol=1e-9)
    check_basics(layer, x)
    assert layer.get_config()["hue_factor"] == (0.2, 0.2) and layer.get_config()["brightness_factor"] == (0.1, 0.1)


def test_random_color_degeneration(rng):
    x = images(rng, 3, 4, 5, 3)
    layer = layers.RandomColorDegeneration((0.3, 0.3), dtype="float64")
    want = np.clip(x.numpy() + F03 * (gray(x.numpy()) - x.numpy()), 0, 255)
    np.testing.assert_allclose(layer(x, training=True).numpy(), want, rtol=1e-12)
    wide = layers.RandomColorDegeneration(0.8, value_range=(0, 1), seed=6, dtype="float64")
    assert wide.factor == (-0.8, 0.8)
    (f,) = draws(6, ([3, 1, 1, 1], -0.8, 0.8))
    x01 = x.numpy() / 255.0
    np.testing.assert_allclose(wide(x / 255.0).numpy(), np.clip(x01 + f * (gray(x01) - x01), 0, 1), rtol=1e-12)
    check_basics(layer, x, roundtrip_training=True)


def test_solarization(rng):
    # atol: 255 - y and 1 - x01 near 0 are differences of nearly equal numbers (float64 rounding)
    x = images(rng, 3, 4, 5, 3)
    layer = layers.Solarization(addition_factor=(0.1, 0.1), threshold_factor=(0.5, 0.5), dtype="float64")
    y = np.clip(x.numpy() + 25.5, 0, 255)
    np.testing.assert_allclose(layer(x, training=True).numpy(), np.where(y < 127.5, y, 255 - y), rtol=1e-12, atol=1e-10)
    np.testing.assert_allclose(layers.Solarization(dtype="float64")(x).numpy(), 255 - x.numpy(), rtol=1e-12, atol=1e-10)
    unit = layers.Solarization(threshold_factor=(0.6, 0.6), value_range=(0, 1), dtype="float64")
    x01 = x.numpy() / 255.0
    np.testing.assert_allclose(unit(x / 255.0).numpy(), np.where(x01 * 255 < 153, x01, 1 - x01), rtol=1e-12, atol=1e-10)
    rand = layers.Solarization(addition_factor=0.2, threshold_factor=(0.3, 0.9), seed=3, dtype="float64")
    assert rand.addition_factor == (0, 0.2)
    add, thr = draws(3, ([3, 1, 1, 1], 0.0, 0.2 * 255), ([3, 1, 1, 1], 0.3 * 255, 0.9 * 255))
    y = np.clip(x.numpy() + add, 0, 255)
    np.testing.assert_allclose(rand(x).numpy(), np.where(y < thr, y, 255 - y), rtol=1e-12, atol=1e-10)
    check_basics(layer, x, roundtrip_training=True)


def test_random_invert(rng):
    x = images(rng, 8, 3, 4, 3)
    layer = layers.RandomInvert((0.5, 0.5), seed=7, dtype="float64")
    p, u = draws(7, ([8, 1, 1, 1], 0.5, 0.5), ([8, 1, 1, 1], 0.0, 1.0))
    np.testing.assert_allclose(layer(x).numpy(), np.where(u < p, 255 - x.numpy(), x.numpy()), rtol=1e-12, atol=1e-10)
    assert layers.RandomInvert().factor == (0, 1.0)
    unit = layers.RandomInvert((1.0, 1.0), value_range=(0, 1), dtype="float64")
    np.testing.assert_allclose(unit(x[0] / 255.0).numpy(), 1 - x.numpy()[0] / 255.0, rtol=1e-12, atol=1e-10)
    check_basics(layer, x)


def test_random_posterization(rng):
    x = images(rng, 4, 3, 5, 3)
    layer = layers.RandomPosterization((3, 3), dtype="float64")
    np.testing.assert_array_equal(layer(x, training=True).numpy(), np.floor(np.floor(x.numpy()) / 32) * 32)
    rand = layers.RandomPosterization(4, value_range=(0, 1), seed=2, dtype="float64")
    assert rand.factor == (1, 4)
    (bits,) = draws(2, ([4, 1, 1, 1], 1, 4))
    step = 2.0 ** (8 - np.floor(bits))
    x01 = x.numpy() / 255.0
    np.testing.assert_allclose(rand(x / 255.0).numpy(), np.floor(np.floor(x01 * 255) / step) * step / 255,
                               rtol=1e-12)
    np.testing.assert_array_equal(layers.RandomPosterization((8, 8))(x).numpy(),
                                  np.floor(x.numpy()).astype(np.float32))
    check_basics(layer, x, roundtrip_training=True)


def test_auto_contrast_applies_in_training_and_inference(rng):
    x = images(rng, 3, 4, 5, 3, high=200.0).numpy()
    x[1, ..., 2] = 42.0  # a constant channel stays as it is
    low, high = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        want = np.where(high > low, (x - low) * 255 / (high - low), x)
    layer = layers.AutoContrast(dtype="float64")
    for training in (True, False):
        np.testing.assert_allclose(layer(tl.constant(x), training=training).numpy(), want, rtol=1e-9, atol=1e-9)
    unit = layers.AutoContrast(value_range=(0, 1), dtype="float64")
    np.testing.assert_allclose(unit(tl.constant(x[0] / 255.0)).numpy(), want[0] / 255.0, rtol=1e-9, atol=1e-12)
    check_symbolic(layer, tl.constant(x))
    check_roundtrip(layer, tl.constant(x))


@pytest.mark.parametrize("bins", [256, 64, 7])
def test_equalization(rng, bins):
    x = rng.integers(0, 256, size=(3, 6, 7, 3)).astype(np.float64)
    x[..., :3] = np.minimum(x[..., :3], 80)  # a skewed histogram
    x[2, ..., 1] = 17.0  # one occupied bin: unchanged
    layer = layers.Equalization(bins=bins, dtype="float64")
    np.testing.assert_allclose(layer(tl.constant(x), training=True).numpy(), ref_equalize(x, bins=bins), rtol=1e-12)
    unit = layers.Equalization(value_range=(0, 1), bins=bins, dtype="float64")
    np.testing.assert_allclose(unit(tl.constant(x[0] / 255.0)).numpy(), ref_equalize(x[:1] / 255.0, (0, 1), bins)[0],
                               rtol=1e-12, atol=1e-12)
    check_basics(layer, tl.constant(x))


def test_random_sharpness(rng):
    x = images(rng, 3, 5, 6, 3)
    layer = layers.RandomSharpness((0.3, 0.3), dtype="float64")
    want = np.clip(x.numpy() + (1 - 2 * F03) * (ref_smooth(x.numpy()) - x.numpy()), 0, 255)
    np.testing.assert_allclose(layer(x, training=True).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(layers.RandomSharpness((0.5, 0.5), dtype="float64")(x).numpy(), x.numpy(), rtol=1e-12)
    rand = layers.RandomSharpness(0.9, seed=4, data_format="channels_first", dtype="float64")
    assert rand.factor == (0, 0.9)
    (f,) = draws(4, ([1, 1, 1], 0.0, 0.9))
    one = x.numpy()[:1]
    want = np.clip(one + (1 - 2 * f) * (ref_smooth(one) - one), 0, 255)[0]
    np.testing.assert_allclose(rand(tl.transpose(x[0], [2, 0, 1])).numpy(), np.transpose(want, [2, 0, 1]),
                               rtol=1e-12)
    check_basics(layer, x, roundtrip_training=True)


# ----------------------------------------------------------------- in models
def _all_layers(seed):
    return [layers.RandomColorJitter(value_range=(0, 1), brightness_factor=0.1, contrast_factor=0.2,
                                     saturation_factor=(0.4, 0.6), hue_factor=0.1, seed=seed),
            layers.RandomGrayscale(0.2, seed=seed), layers.RandomColorDegeneration(0.3, (0, 1), seed=seed),
            layers.Solarization(0.1, (0.8, 0.9), value_range=(0, 1), seed=seed),
            layers.RandomInvert(0.2, value_range=(0, 1), seed=seed), layers.RandomPosterization((5, 7), (0, 1)),
            layers.RandomSharpness(0.7, value_range=(0, 1), seed=seed), layers.Equalization(value_range=(0, 1)),
            layers.AutoContrast(value_range=(0, 1)), layers.RandomHue(0.1, (0, 1)),
            layers.RandomSaturation(0.5, (0, 1))]


def test_layers_in_a_model_that_trains(rng):
    x = rng.uniform(0, 1, size=(8, 6, 6, 3)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    model = keras.Sequential([keras.Input((6, 6, 3))] + _all_layers(1) +
                             [layers.Conv2D(2, 3), layers.GlobalAveragePooling2D(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    hist = model.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    # predict() is inference: only AutoContrast acts.
    head = keras.Sequential([keras.Input((6, 6, 3))] + _all_layers(1))
    want = layers.AutoContrast(value_range=(0, 1))(x, training=False).numpy()
    np.testing.assert_allclose(head.predict(x, verbose=0), want, rtol=1e-6, atol=1e-6)
    for layer in _all_layers(2):  # every layer serializes and comes back
        again = layers.deserialize(layers.serialize(layer))
        assert type(again) is type(layer) and again.get_config() == layer.get_config()


# ----------------------------------------------------------------- errors
def test_errors_name_the_layer_and_the_valid_values(rng):
    with pytest.raises(ValueError, match=r"RandomGrayscale: `factor` should be a number between 0 and 1; "
                                         r"received factor=1.5"):
        layers.RandomGrayscale(1.5)
    with pytest.raises(ValueError, match=r"RandomHue: the `factor` argument .* range \[0, 1\]; received factor=-0.2"):
        layers.RandomHue(-0.2)
    with pytest.raises(ValueError, match=r"RandomSaturation: the `factor` .* \[-1, 1\]; received factor=\(1.5, 2\)"):
        layers.RandomSaturation((1.5, 2))
    with pytest.raises(ValueError, match=r"RandomSharpness: .*\[0, 1\]; received factor='x'"):
        layers.RandomSharpness("x")
    with pytest.raises(ValueError, match=r"RandomInvert: .*\[0, 1\]; received factor=\(0.2, 0.3, 0.4\)"):
        layers.RandomInvert((0.2, 0.3, 0.4))
    with pytest.raises(ValueError, match=r"RandomColorDegeneration: the `value_range` argument should be a list of "
                                         r"two numbers; received value_range=255"):
        layers.RandomColorDegeneration(0.2, value_range=255)
    with pytest.raises(ValueError, match=r"Solarization: the `threshold_factor` argument .* \[0, 1\]; received "
                                         r"threshold_factor=1.2"):
        layers.Solarization(threshold_factor=1.2)
    with pytest.raises(ValueError, match=r"RandomPosterization: the `factor` argument should be an integer .* "
                                         r"\[1, 8\]; received factor=9"):
        layers.RandomPosterization(9)
    with pytest.raises(ValueError, match=r"RandomPosterization: .*received factor=2.5"):
        layers.RandomPosterization(2.5)
    with pytest.raises(ValueError, match=r"Equalization: `bins` must be a positive integer; received bins=0"):
        layers.Equalization(bins=0)
    with pytest.raises(ValueError, match=r"AutoContrast: the `value_range` .*received value_range=\(0, 1, 2\)"):
        layers.AutoContrast(value_range=(0, 1, 2))
    with pytest.raises(ValueError, match=r"RandomColorJitter: invalid `hue_factor`: RandomHue: the `factor` "
                                         r"argument .*\[0, 1\]; received factor=3"):
        layers.RandomColorJitter(hue_factor=3)
    with pytest.raises(ValueError, match=r"RandomHue.*seed.*'a'"):
        layers.RandomHue(0.1, seed="a")
    check_rank_error(layers.RandomHue(0.1), images(rng, 4, 4), "expected min_ndim=3")
    check_rank_error(layers.AutoContrast(), images(rng, 1, 2, 4, 4, 3), "expected max_ndim=4")
    for layer in (layers.RandomHue(0.1), layers.RandomGrayscale(), layers.RandomColorJitter(saturation_factor=0.2)):
        with pytest.raises(ValueError, match=rf'"{layer.name}" \({type(layer).__name__}\).*expected the number of '
                                             r"channels \(R, G, B\) = 3, found 4.*\(2, 4, 4, 4\)"):
            layer(images(rng, 2, 4, 4, 4), training=True)


# ----------------------------------------------------------------- devices
@pytest.mark.gpu
def test_gpu_matches_cpu(rng):
    x = rng.uniform(0, 255, size=(2, 5, 6, 3)).astype(np.float32)
    makers = [lambda: layers.RandomSaturation((0.3, 0.3)), lambda: layers.RandomColorDegeneration((0.3, 0.3)),
              lambda: layers.RandomSharpness((0.2, 0.2)), lambda: layers.Equalization(bins=64),
              lambda: layers.AutoContrast(), lambda: layers.RandomPosterization((4, 4)),
              lambda: layers.Solarization((0.1, 0.1), (0.5, 0.5))]
    for make in makers:
        with tl.device("cpu"):
            ref = make()(tl.constant(x)).numpy()
        with tl.device("gpu:0"):
            xg = tl.constant(x)
        with tl.device("cpu"):  # the layers' own constants and draws must follow the images to the GPU
            got = make()(xg)
            seeded = layers.RandomHue(0.3, seed=1)(xg)
        assert "GPU" in got.device and "GPU" in seeded.device
        np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-3)
