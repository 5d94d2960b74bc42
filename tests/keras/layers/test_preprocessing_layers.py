"""Rescaling and Normalization (adapt, given statistics, invert)."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import check_roundtrip, check_symbolic, rand


def test_rescaling(rng):
    x = rand(rng, 2, 3, dtype="float32")
    layer = layers.Rescaling(1 / 255, offset=-0.5)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() / 255 - 0.5, rtol=1e-6, atol=1e-6)
    ints = tl.constant(rng.integers(0, 256, size=(2, 4)).astype("int32"))
    y = layer(ints)
    assert y.dtype == tl.float32
    np.testing.assert_allclose(y.numpy(), ints.numpy() / 255 - 0.5, rtol=1e-6, atol=1e-6)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def test_normalization_adapt_array(rng):
    data = rng.standard_normal((50, 3)) * np.array([1.0, 3.0, 0.5]) + np.array([2.0, -1.0, 0.0])
    layer = layers.Normalization()
    layer.adapt(data)
    np.testing.assert_allclose(layer.mean.numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.variance.numpy(), data.var(0), rtol=1e-5)
    x = rand(rng, 4, 3, dtype="float32")
    np.testing.assert_allclose(layer(x).numpy(), (x.numpy() - data.mean(0)) / data.std(0), rtol=1e-4, atol=1e-5)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3


def test_normalization_adapt_batches_equals_full_data(rng):
    data = rng.standard_normal((40, 2, 3)) * 2 + 1
    full = layers.Normalization(axis=-1)
    full.adapt(data)
    batched = layers.Normalization(axis=-1)
    batched.adapt(iter([data[:7], data[7:25], data[25:]]))
    np.testing.assert_allclose(batched.mean.numpy(), full.mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(batched.variance.numpy(), full.variance.numpy(), rtol=1e-5)
    np.testing.assert_allclose(full.mean.numpy(), data.mean((0, 1)), rtol=1e-5)


def test_normalization_axes_and_invert(rng):
    data = rng.standard_normal((30, 4, 2)) + 3
    layer = layers.Normalization(axis=None)
    layer.adapt(tl.constant(data.astype("float32")))
    np.testing.assert_allclose(layer.mean.numpy(), data.mean(), rtol=1e-5)
    layer2 = layers.Normalization(axis=(1, 2))
    layer2.adapt(data)
    assert layer2.mean.shape == (4, 2)
    np.testing.assert_allclose(layer2.variance.numpy(), data.var(0), rtol=1e-4)
    inv = layers.Normalization(mean=2.0, variance=9.0, invert=True)
    x = rand(rng, 3, 2, dtype="float32")
    np.testing.assert_allclose(inv(x).numpy(), x.numpy() * 3 + 2, rtol=1e-6, atol=1e-6)
    fwd = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0])
    np.testing.assert_allclose(fwd(x).numpy(), (x.numpy() - [1, 2]) / [2, 1], rtol=1e-6, atol=1e-6)
    check_roundtrip(fwd, x)


def test_error_normalization(rng):
    with pytest.raises(ValueError, match="mean.*variance"):
        layers.Normalization(mean=1.0)
    layer = layers.Normalization()
    layer.adapt(rng.standard_normal((10, 3)))
    with pytest.raises(ValueError, match=r"normalization.*ndim=2.*\(2, 3, 1\)"):
        layer(rand(rng, 2, 3, 1, dtype="float32"))
