"""Dropout, SpatialDropout, GaussianNoise, GaussianDropout, ActivityRegularization: noise only in training."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import check_roundtrip, check_symbolic, input_grad, rand


def test_dropout_identity_in_inference(rng):
    x = rand(rng, 4, 5, dtype="float32")
    layer = layers.Dropout(0.5)
    for kw in ({}, {"training": False}, {"training": None}):
        np.testing.assert_array_equal(layer(x, **kw).numpy(), x.numpy())
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


@pytest.mark.parametrize("rate", [0.2, 0.6])
def test_dropout_training_scales_kept_units(rate, rng):
    x = tl.constant(rng.uniform(1.0, 2.0, size=(100, 200)).astype("float32"))
    y = layers.Dropout(rate)(x, training=True).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x.numpy()[kept] / (1 - rate), rtol=1e-6)
    assert abs(1 - kept.mean() - rate) < 0.02
    r = rng.standard_normal((100, 200))
    layer = layers.Dropout(rate, seed=5)
    tl.random.set_seed(3)
    y = layer(x, training=True).numpy()
    tl.random.set_seed(3)
    g = input_grad(layer, x, r, training=True)
    np.testing.assert_allclose(g, r * (y != 0) / (1 - rate), rtol=1e-5)


def test_dropout_noise_shape_and_seed(rng):
    x = tl.constant(rng.uniform(1.0, 2.0, size=(4, 6, 8)).astype("float32"))
    y = layers.Dropout(0.5, noise_shape=(None, 1, 8))(x, training=True).numpy()
    kept = y != 0
    assert np.all(kept == kept[:, :1, :])  # the same features dropped at every step
    tl.random.set_seed(11)
    a = layers.Dropout(0.5, seed=7)(x, training=True).numpy()
    tl.random.set_seed(11)
    b = layers.Dropout(0.5, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    cfg = layers.Dropout(0.5, noise_shape=(None, 1, 8), seed=7).get_config()
    assert cfg["rate"] == 0.5 and cfg["noise_shape"] == (None, 1, 8) and cfg["seed"] == 7


def test_error_dropout_rate():
    with pytest.raises(ValueError, match=r"Dropout.*rate.*1\.5"):
        layers.Dropout(1.5)


def test_spatial_dropout2d_drops_whole_channels(rng):
    x = tl.constant(rng.uniform(1.0, 2.0, size=(8, 3, 3, 16)).astype("float32"))
    y = layers.SpatialDropout2D(0.5)(x, training=True).numpy()
    kept = (y != 0)
    assert np.all(kept == kept[:, :1, :1, :])
    assert 0 < kept[:, 0, 0, :].mean() < 1
    np.testing.assert_allclose(y[kept], x.numpy()[kept] * 2, rtol=1e-6)
    np.testing.assert_array_equal(layers.SpatialDropout2D(0.5)(x).numpy(), x.numpy())
    xc = tl.constant(rng.uniform(1.0, 2.0, size=(8, 16, 3, 3)).astype("float32"))
    yc = layers.SpatialDropout2D(0.5, data_format="channels_first")(xc, training=True).numpy() != 0
    assert np.all(yc == yc[:, :, :1, :1])
    check_roundtrip(layers.SpatialDropout2D(0.3), x)


def test_error_spatial_dropout_rank(rng):
    layer = layers.SpatialDropout2D(0.5)
    with pytest.raises(ValueError, match=r"spatial_dropout2d.*ndim=4.*\(2, 3\)"):
        layer(rand(rng, 2, 3, dtype="float32"), training=True)


def test_gaussian_noise(rng):
    x = tl.constant(rng.uniform(-1, 1, size=(200, 100)))
    layer = layers.GaussianNoise(0.5, dtype="float64")
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    noise = layer(x, training=True).numpy() - x.numpy()
    assert abs(noise.std() - 0.5) < 0.02 and abs(noise.mean()) < 0.02
    check_roundtrip(layer, x)
    check_symbolic(layer, x)


def test_gaussian_dropout(rng):
    x = tl.constant(rng.uniform(1, 2, size=(200, 100)))
    layer = layers.GaussianDropout(0.2, dtype="float64")
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    factor = layer(x, training=True).numpy() / x.numpy()
    assert abs(factor.mean() - 1) < 0.02 and abs(factor.std() - 0.5) < 0.02
    check_roundtrip(layer, x)


def test_activity_regularization(rng):
    x = rand(rng, 4, 3, dtype="float32")
    layer = layers.ActivityRegularization(l1=0.1, l2=0.2)
    y = layer(x)
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    xn = x.numpy().astype("float64")
    want = (0.1 * np.abs(xn).sum() + 0.2 * (xn ** 2).sum()) / 4  # per example, as in Keras
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), want, rtol=1e-5)
    check_roundtrip(layer, x)
