"""ReLU, LeakyReLU, PReLU, ELU, Softmax."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import check_grads, check_rank_error, check_roundtrip, check_symbolic, input_grad, rand


def relu_ref(x, max_value=None, negative_slope=0.0, threshold=0.0):
    y = np.where(x >= threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else np.minimum(y, max_value)


@pytest.mark.parametrize("kw", [dict(), dict(max_value=1.0), dict(negative_slope=0.1),
                                dict(threshold=0.5, negative_slope=0.2, max_value=1.5), dict(max_value=0.0)])
def test_relu(kw, rng):
    x = rand(rng, 3, 4) * 2
    layer = layers.ReLU(dtype="float64", **kw)
    np.testing.assert_allclose(layer(x).numpy(), relu_ref(x.numpy(), **kw), rtol=1e-12)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def test_relu_gradient(rng):
    x = rand(rng, 3, 4) * 2
    r = rng.standard_normal((3, 4))
    g = input_grad(layers.ReLU(max_value=1.0, negative_slope=0.1, dtype="float64"), x, r)
    xn = x.numpy()
    np.testing.assert_allclose(g, r * np.where(xn >= 1.0, 0.0, np.where(xn >= 0, 1.0, 0.1)))


def test_error_relu_args():
    with pytest.raises(ValueError, match="max_value"):
        layers.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope"):
        layers.ReLU(negative_slope=-0.1)


def test_leaky_relu(rng):
    x = rand(rng, 3, 4)
    layer = layers.LeakyReLU(dtype="float64")
    assert layer.negative_slope == 0.3
    np.testing.assert_allclose(layer(x).numpy(), np.where(x.numpy() >= 0, x.numpy(), 0.3 * x.numpy()))
    np.testing.assert_allclose(layers.LeakyReLU(alpha=0.1, dtype="float64")(x).numpy(),
                               np.where(x.numpy() >= 0, x.numpy(), 0.1 * x.numpy()))
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def test_prelu(rng):
    layer = layers.PReLU(alpha_initializer="normal", shared_axes=[1, 2], dtype="float64")
    x = rand(rng, 2, 3, 4, 5)
    y = layer(x).numpy()
    a = layer.alpha.numpy()
    assert a.shape == (1, 1, 5)
    xn = x.numpy()
    np.testing.assert_allclose(y, np.where(xn >= 0, xn, a * xn), rtol=1e-12)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x)
    assert layers.PReLU().get_config()["shared_axes"] is None


def test_error_prelu_rank(rng):
    layer = layers.PReLU()
    layer(rand(rng, 2, 3, dtype="float32"))
    check_rank_error(layer, rand(rng, 2, 3, 4, dtype="float32"), "expected ndim=2")


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_elu(alpha, rng):
    x = rand(rng, 3, 4) * 3
    layer = layers.ELU(alpha=alpha, dtype="float64")
    xn = x.numpy()
    np.testing.assert_allclose(layer(x).numpy(), np.where(xn > 0, xn, alpha * np.expm1(xn)), rtol=1e-12)
    r = rng.standard_normal((3, 4))
    np.testing.assert_allclose(input_grad(layer, x, r), r * np.where(xn > 0, 1.0, alpha * np.exp(xn)), rtol=1e-10)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("axis", [-1, 1, (1, 2)])
def test_softmax(axis, rng):
    x = rand(rng, 2, 3, 4)
    layer = layers.Softmax(axis=axis, dtype="float64")
    np.testing.assert_allclose(layer(x).numpy(), _softmax(x.numpy(), axis), rtol=1e-10)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def test_softmax_mask(rng):
    x = rand(rng, 2, 4)
    mask = np.array([[True, True, False, True], [False, True, True, True]])
    y = layers.Softmax(dtype="float64")(x, mask=tl.constant(mask)).numpy()
    ref = _softmax(np.where(mask, x.numpy(), -np.inf), -1)
    np.testing.assert_allclose(y, ref, atol=1e-12)


def test_activation_layers_in_model(rng):
    inp = keras.Input((4,))
    y = layers.ELU()(layers.LeakyReLU()(layers.ReLU()(inp)))
    assert tuple(layers.Softmax()(y).shape) == (None, 4)
