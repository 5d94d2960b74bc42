"""The Keras 3 activations added to keras.activations (celu, glu, hard_shrink, ..., threshold) against
float64 numpy versions of Keras' formulas and the real Keras; lookup by name, serialization in a
layer's config, gradients; plus OrthogonalRegularizer and the initializer compatibility names."""
import json

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import activations, initializers, layers, regularizers
from tests.keras.ops.test_ops_nn_extra import _sparsemax_np, check_grad
from tests.keras.real_keras import K


def _sig(x):
    return 1 / (1 + np.exp(-x))


REFS = {
    "celu": lambda x: np.maximum(x, 0) + np.minimum(0, np.expm1(x)),
    "glu": lambda x: x[..., :3] * _sig(x[..., 3:]),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "log_sigmoid": lambda x: -np.logaddexp(0, -x),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x)),
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
    "sparsemax": _sparsemax_np,
    "squareplus": lambda x: (x + np.sqrt(x ** 2 + 4)) / 2,
    "tanh_shrink": lambda x: x - np.tanh(x),
}


@pytest.mark.parametrize("name", sorted(REFS))
def test_activation_matches_numpy_and_keras(name, rng):
    x = rng.normal(scale=2.0, size=(4, 6))
    fn = activations.get(name)
    np.testing.assert_allclose(fn(tl.constant(x)).numpy(), REFS[name](x), rtol=1e-10, atol=1e-12)
    assert activations.serialize(fn) == name and activations.deserialize(name) is fn
    if K is not None and name != "sparsemax":  # Keras 3.15's sparsemax is off when several entries survive
        f = x.astype("float32")
        want = K.ops.convert_to_numpy(K.activations.get(name)(K.ops.convert_to_tensor(f)))
        np.testing.assert_allclose(fn(tl.constant(f)).numpy(), want, rtol=1e-5, atol=1e-6)


def test_activation_arguments_and_gradients(rng):
    x = rng.normal(scale=2.0, size=(3, 4))
    np.testing.assert_allclose(activations.celu(tl.constant(x), alpha=2.0).numpy(),
                               np.maximum(x, 0) + np.minimum(0, 2 * np.expm1(x / 2)), rtol=1e-10)
    np.testing.assert_allclose(activations.threshold(tl.constant(x), 0.3, -2.0).numpy(), np.where(x > 0.3, x, -2.0))
    np.testing.assert_allclose(activations.glu(tl.constant(x[:2]), axis=0).numpy()[0], x[0] * _sig(x[1]), rtol=1e-10)
    np.testing.assert_allclose(activations.squareplus(tl.constant(x), b=1).numpy(), (x + np.sqrt(x ** 2 + 1)) / 2)
    for name in ("celu", "log_sigmoid", "squareplus", "tanh_shrink", "glu"):
        check_grad(activations.get(name), rng.normal(size=(2, 4)), rng)
    with pytest.raises(ValueError, match=r"glu: the size of axis -1 must be even, got shape \(3, 5\)"):
        activations.glu(tl.zeros([3, 5]))


def test_activation_names_in_layer_configs():
    layer = layers.Dense(3, activation="sparse_plus")
    cfg = json.loads(json.dumps(layer.get_config()))
    assert cfg["activation"] == "sparse_plus"
    assert layers.Dense.from_config(cfg).activation is activations.sparse_plus
    model = keras.Sequential([keras.Input((4,)), layers.Dense(4, activation="hard_tanh"),
                              layers.Activation("soft_shrink")])
    assert model(tl.ones([2, 4])).shape == (2, 4)


def test_orthogonal_regularizer(rng):
    w = rng.normal(size=(5, 3))
    for mode, vecs in (("rows", w), ("columns", w.T)):
        unit = vecs / np.linalg.norm(vecs, axis=1, keepdims=True)
        gram = np.abs(unit @ unit.T) * (1 - np.eye(len(unit)))
        want = 0.1 * 0.5 * gram.sum() / (len(unit) * (len(unit) - 1) / 2)
        reg = regularizers.OrthogonalRegularizer(0.1, mode)
        assert float(reg(tl.constant(w))) == pytest.approx(want, rel=1e-10)
        again = regularizers.deserialize(regularizers.serialize(reg))
        assert isinstance(again, regularizers.OrthogonalRegularizer) and again.get_config() == reg.get_config()
        if K is not None:
            kw = K.ops.convert_to_tensor(w.astype("float32"))
            assert float(reg(tl.constant(w.astype("float32")))) == pytest.approx(
                float(K.regularizers.OrthogonalRegularizer(0.1, mode)(kw)), rel=1e-5)
    assert regularizers.orthogonal_regularizer is regularizers.OrthogonalRegularizer
    assert regularizers.get("orthogonal_regularizer").get_config() == {"factor": 0.01, "mode": "rows"}
    check_grad(regularizers.OrthogonalRegularizer(0.5), rng.normal(size=(3, 4)), rng)
    with pytest.raises(ValueError, match=r"OrthogonalRegularizer: mode must be 'rows' or 'columns', got mode='diag'"):
        regularizers.OrthogonalRegularizer(mode="diag")
    with pytest.raises(ValueError, match=r"OrthogonalRegularizer: factor must be a non-negative float"):
        regularizers.OrthogonalRegularizer(-1.0)
    with pytest.raises(ValueError, match=r"OrthogonalRegularizer: inputs must have rank 2, got shape \(2, 2, 2\)"):
        regularizers.OrthogonalRegularizer()(tl.zeros([2, 2, 2]))


def test_initializer_compatibility_names():
    assert initializers.IdentityInitializer is initializers.Identity
    assert initializers.OrthogonalInitializer is initializers.Orthogonal
    assert isinstance(initializers.get("OrthogonalInitializer"), initializers.Orthogonal)
    got = initializers.get({"class_name": "IdentityInitializer", "config": {"gain": 2.0}})((2, 2)).numpy()
    np.testing.assert_array_equal(got, 2 * np.eye(2))
