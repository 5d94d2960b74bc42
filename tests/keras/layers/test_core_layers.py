"""Dense, Activation, Identity, Lambda, Embedding, Masking."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import check_grads, check_rank_error, check_roundtrip, check_symbolic, rand


def test_dense_matches_numpy(rng):
    layer = layers.Dense(5, activation="relu", bias_initializer="normal", dtype="float64")
    x = rand(rng, 4, 3)
    y = layer(x).numpy()
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    np.testing.assert_allclose(y, np.maximum(x.numpy() @ w + b, 0), rtol=1e-12, atol=1e-12)
    assert [v.name for v in layer.weights] == ["dense/kernel:0", "dense/bias:0"] or \
        [v.name.split("/")[-1] for v in layer.weights] == ["kernel:0", "bias:0"]


@settings(max_examples=15, deadline=None)
@given(batch=st.integers(1, 4), time=st.integers(1, 3), din=st.integers(1, 5), units=st.integers(1, 4))
def test_dense_rank3_and_shapes(batch, time, din, units):
    rng = np.random.default_rng(batch * 100 + din)
    layer = layers.Dense(units, use_bias=False, dtype="float64")
    x = rand(rng, batch, time, din)
    y = layer(x)
    assert tuple(y.shape) == (batch, time, units)
    np.testing.assert_allclose(y.numpy(), x.numpy() @ layer.kernel.numpy(), rtol=1e-12, atol=1e-12)
    assert len(layer.weights) == 1


def test_dense_symbolic_roundtrip_grads(rng):
    layer = layers.Dense(3, activation="tanh", kernel_regularizer="l2")
    x = rand(rng, 2, 4, dtype="float32")
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x)
    assert len(layer.losses) == 1  # the kernel's L2 penalty


def test_dense_input_dim_and_string_initializer():
    layer = layers.Dense(256, input_dim=800, activation="relu", kernel_initializer="normal")
    assert layer.get_config()["batch_input_shape"] == [None, 800]
    model = keras.Sequential([layer, layers.Dense(10, activation="softmax")]) \
        if hasattr(keras, "Sequential") else None
    if model is not None:
        assert model.count_params() == 800 * 256 + 256 + 2570


def test_error_dense_rank(rng):
    layer = layers.Dense(3)
    check_rank_error(layer, rand(rng, 4, dtype="float32"), "min_ndim=2")


def test_error_dense_last_dim(rng):
    layer = layers.Dense(3)
    layer(rand(rng, 2, 4, dtype="float32"))
    with pytest.raises(ValueError, match=r"dense.*4.*\(2, 5\)"):
        layer(rand(rng, 2, 5, dtype="float32"))


def test_error_dense_units():
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)


def test_keras_lora_and_quantization_options_only_at_their_defaults():
    # Keras 3 writes quantization_config=None into every Dense, EinsumDense and Embedding config.
    assert layers.Dense(3, quantization_config=None, lora_rank=None).units == 3
    assert layers.Embedding(5, 2, quantization_config=None).output_dim == 2
    assert layers.EinsumDense("ab,bc->ac", 4, quantization_config=None).equation == "ab,bc->ac"
    for make in (lambda **k: layers.Dense(3, **k), lambda **k: layers.Embedding(5, 2, **k),
                 lambda **k: layers.EinsumDense("ab,bc->ac", 4, **k)):
        with pytest.raises(ValueError, match=r"quantization_config=\{'mode': 'int8'\} is not supported: tensorlab "
                                             r"does not implement quantization; only quantization_config=None"):
            make(quantization_config={"mode": "int8"})
        with pytest.raises(ValueError, match=r"lora_rank=4 is not supported: tensorlab does not implement LoRA"):
            make(lora_rank=4)


@pytest.mark.parametrize("name,ref", [
    ("relu", lambda x: np.maximum(x, 0)), ("tanh", np.tanh), ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("softmax", lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)), ("linear", lambda x: x),
])
def test_activation_layer(name, ref, rng):
    layer = layers.Activation(name, dtype="float64")
    x = rand(rng, 3, 4)
    np.testing.assert_allclose(layer(x).numpy(), ref(x.numpy()), rtol=1e-10, atol=1e-12)
    check_roundtrip(layer, x)
    check_symbolic(layer, x)


def test_error_activation_unknown_name():
    with pytest.raises(ValueError, match="relu"):
        layers.Activation("not_an_activation")


def test_identity(rng):
    x = rand(rng, 2, 3, dtype="float32")
    layer = layers.Identity()
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def test_lambda(rng):
    layer = layers.Lambda(lambda x, k: x * k + 1.0, arguments={"k": 3.0}, dtype="float64")
    x = rand(rng, 2, 3)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() * 3 + 1, rtol=1e-12)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    lay2 = layers.Lambda(lambda x: tl.reduce_sum(x, axis=-1), output_shape=())
    assert lay2.compute_output_shape((None, 3)) == (None,)


def test_error_lambda_not_callable():
    with pytest.raises(ValueError, match="callable"):
        layers.Lambda(3)


def test_embedding(rng):
    layer = layers.Embedding(10, 4, mask_zero=True, dtype="float64")
    ids = rng.integers(0, 10, size=(3, 5)).astype("int32")
    ids[0, -2:] = 0
    y = layer(tl.constant(ids))
    np.testing.assert_array_equal(y.numpy(), layer.embeddings.numpy()[ids])
    np.testing.assert_array_equal(layer.compute_mask(tl.constant(ids)).numpy(), ids != 0)
    ys = layer(keras.Input((5,), dtype="int32"))
    assert tuple(ys.shape) == (None, 5, 4)
    check_roundtrip(layer, tl.constant(ids))
    check_grads(layers.Embedding(10, 4), tl.constant(ids), wrt_input=False)


def test_error_embedding_dims():
    with pytest.raises(ValueError, match="input_dim"):
        layers.Embedding(0, 3)


def test_masking(rng):
    x = rng.standard_normal((2, 4, 3))
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    layer = layers.Masking(0.0, dtype="float64")
    y = layer(tl.constant(x))
    np.testing.assert_allclose(y.numpy(), x)
    np.testing.assert_array_equal(layer.compute_mask(tl.constant(x)).numpy(), np.any(x != 0, axis=-1))
    check_roundtrip(layer, tl.constant(x))


def test_lambda_registered_function_survives_json(rng):
    import json

    @keras.saving.register_keras_serializable(package="layer_tests")
    def triple(x):
        return x * 3.0

    layer = layers.Lambda(triple)
    blob = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))
    clone = keras.saving.deserialize_keras_object(blob)
    x = rand(rng, 2, 3, dtype="float32")
    np.testing.assert_allclose(clone(x).numpy(), x.numpy() * 3.0, rtol=1e-6)


@pytest.mark.parametrize("act", ["relu", "gelu", "swish", "sigmoid", "tanh"])
def test_dense_and_conv_fuse_bias_and_activation(act, rng, monkeypatch):
    """With a bias and one of these activations, one bias_act op; same values and gradients."""
    import tensorlab.backend.cpu as cpu_backend
    from tensorlab.core.registry import REGISTRY

    cpu_backend.load()  # the CPU implementations register on first use
    impls = REGISTRY["bias_act"].impls
    orig, calls = impls["cpu"], []
    monkeypatch.setitem(impls, "cpu", lambda *a, **k: calls.append(k["activation"]) or orig(*a, **k))
    for layer, x in ((layers.Dense(5, activation=act, bias_initializer="normal"), rand(rng, 3, 4, dtype="float32")),
                     (layers.Conv2D(3, 2, activation=act, bias_initializer="normal"),
                      rand(rng, 2, 5, 5, 2, dtype="float32"))):
        with tl.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = layer(x)
            fn = tl.keras.activations.get(act)
            kernel, bias = layer.kernel, layer.bias
            z = (tl.matmul(x, kernel) if isinstance(layer, layers.Dense) else
                 tl.nn.conv2d(x, kernel, 1, "VALID")) + bias
            ref = fn(z)
            w = tl.constant(rng.normal(size=tuple(y.shape)).astype("float32"))
            loss, ref_loss = tl.reduce_sum(y * w), tl.reduce_sum(ref * w)
        assert calls and calls[-1] == ("silu" if act == "swish" else act)
        np.testing.assert_allclose(y.numpy(), ref.numpy(), rtol=1e-5, atol=1e-6)
        for a, b in zip(tape.gradient(loss, [x, kernel, bias]), tape.gradient(ref_loss, [x, kernel, bias])):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-5)
    calls.clear()
    layers.Dense(5, activation="softmax")(rand(rng, 3, 4))
    layers.Dense(5, activation=act, use_bias=False)(rand(rng, 3, 4))
    assert not calls


def test_einsum_dense_fuses_a_last_axis_bias_with_its_activation(rng, monkeypatch):
    import tensorlab.backend.cpu as cpu_backend
    from tensorlab.core.registry import REGISTRY

    cpu_backend.load()
    impls = REGISTRY["bias_act"].impls
    orig, calls = impls["cpu"], []
    monkeypatch.setitem(impls, "cpu", lambda *a, **k: calls.append(k["activation"]) or orig(*a, **k))
    x = rand(rng, 2, 3, 4, dtype="float32")
    last = layers.EinsumDense("abc,cd->abd", output_shape=(3, 5), bias_axes="d", activation="tanh",
                              bias_initializer="normal")
    y = last(x)
    assert calls == ["tanh"]
    ref = np.tanh(np.einsum("abc,cd->abd", x.numpy(), last.kernel.numpy()) + last.bias.numpy())
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-6)
    middle = layers.EinsumDense("abc,cd->abd", output_shape=(3, 5), bias_axes="b", activation="tanh",
                                bias_initializer="normal")
    y = middle(x)
    assert calls == ["tanh"]   # a bias over axis b broadcasts unfused
    ref = np.tanh(np.einsum("abc,cd->abd", x.numpy(), middle.kernel.numpy()) + middle.bias.numpy())
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-6)
