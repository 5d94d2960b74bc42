"""MultiHeadAttention against a numpy softmax-attention reference."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import rand


def mha_ref(layer, q, v, k=None, mask=None):
    k = v if k is None else k
    W = {w.name.split("/", 1)[1].split(":")[0]: w.numpy() for w in layer.weights}
    Q = np.einsum("btd,dhk->bhtk", q, W["query/kernel"]) + W["query/bias"][None, :, None]
    K = np.einsum("btd,dhk->bhtk", k, W["key/kernel"]) + W["key/bias"][None, :, None]
    V = np.einsum("btd,dhk->bhtk", v, W["value/kernel"]) + W["value/bias"][None, :, None]
    s = np.einsum("bhqk,bhsk->bhqs", Q, K) / np.sqrt(layer.key_dim)
    if mask is not None:
        s = np.where(mask[:, None], s, -1e9)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    ctx = np.einsum("bhqs,bhsk->bqhk", p, V)
    out = np.einsum("bqhk,hko->bqo", ctx, W["attention_output/kernel"]) + W["attention_output/bias"]
    return out, p


def _layer(**kw):
    kw.setdefault("bias_initializer", "normal")
    return layers.MultiHeadAttention(dtype="float64", **kw)


def test_mha_self_attention_matches_numpy(rng):
    layer = _layer(num_heads=2, key_dim=3)
    x = rand(rng, 2, 5, 4)
    out, scores = layer(x, x, return_attention_scores=True)
    ref, p = mha_ref(layer, x.numpy(), x.numpy())
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scores.numpy(), p, rtol=1e-10, atol=1e-12)
    assert [w.name.split("/", 1)[1] for w in layer.weights] == [
        "query/kernel:0", "query/bias:0", "key/kernel:0", "key/bias:0", "value/kernel:0", "value/bias:0",
        "attention_output/kernel:0", "attention_output/bias:0"]
    assert tuple(layer.weights[0].shape) == (4, 2, 3)


def test_mha_cross_attention_value_dim_output_shape(rng):
    layer = _layer(num_heads=3, key_dim=2, value_dim=4, output_shape=5)
    q, v, k = rand(rng, 2, 3, 6), rand(rng, 2, 4, 7), rand(rng, 2, 4, 8)
    out = layer(q, v, key=k)
    assert tuple(out.shape) == (2, 3, 5)
    ref, _ = mha_ref(layer, q.numpy(), v.numpy(), k.numpy())
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_mha_attention_mask_and_causal(rng):
    layer = _layer(num_heads=2, key_dim=2)
    q, v = rand(rng, 2, 3, 4), rand(rng, 2, 5, 4)
    mask = rng.random((2, 3, 5)) < 0.6
    mask[..., 0] = True
    out, scores = layer(q, v, attention_mask=tl.constant(mask), return_attention_scores=True)
    ref, p = mha_ref(layer, q.numpy(), v.numpy(), mask=mask)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-9, atol=1e-12)
    assert np.all(scores.numpy()[np.broadcast_to(~mask[:, None], p.shape)] < 1e-12)
    x = rand(rng, 2, 4, 4)
    out = layer(x, x, use_causal_mask=True)
    causal = np.broadcast_to(np.tril(np.ones((4, 4), bool)), (2, 4, 4))
    np.testing.assert_allclose(out.numpy(), mha_ref(layer, x.numpy(), x.numpy(), mask=causal)[0], rtol=1e-9)


def test_mha_rank4_attends_over_both_axes(rng):
    layer = _layer(num_heads=2, key_dim=2)
    x = rand(rng, 2, 2, 3, 4)
    out = layer(x, x)
    assert tuple(out.shape) == (2, 2, 3, 4)
    flat = x.numpy().reshape(2, 6, 4)
    np.testing.assert_allclose(out.numpy().reshape(2, 6, 4), mha_ref(layer, flat, flat)[0], rtol=1e-10)


def test_mha_dropout_only_in_training(rng):
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2, dropout=0.5)
    x = rand(rng, 2, 6, 4, dtype="float32")
    a, b = layer(x, x).numpy(), layer(x, x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(layer(x, x, training=True).numpy(), a)


def test_mha_symbolic_config_grads(rng):
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, use_bias=True, dropout=0.1)
    q, v = keras.Input((5, 4)), keras.Input((7, 6))
    out = layer(q, v)
    assert tuple(out.shape) == (None, 5, 4)
    out, scores = layers.MultiHeadAttention(2, 3)(q, v, return_attention_scores=True)
    assert tuple(scores.shape) == (None, 2, 5, 7)
    xq, xv = rand(rng, 2, 5, 4, dtype="float32"), rand(rng, 2, 7, 6, dtype="float32")
    y = layer(xq, xv)
    clone = layers.MultiHeadAttention.from_config(layer.get_config())
    clone(xq, xv)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(xq, xv).numpy(), y.numpy(), rtol=1e-6)
    cfg = layer.get_config()
    assert cfg["num_heads"] == 2 and cfg["key_dim"] == 3 and cfg["value_dim"] == 2 and cfg["dropout"] == 0.1
    with tl.GradientTape() as tape:
        loss = tl.reduce_sum(layer(xq, xv) * tl.constant(rng.standard_normal((2, 5, 4)).astype("float32")))
    grads = tape.gradient(loss, layer.trainable_weights)
    assert len(grads) == 8
    for w, g in zip(layer.trainable_weights, grads):
        # the key bias cancels in the softmax (its gradient is zero), as in any attention layer
        assert g is not None and (np.any(g.numpy() != 0) or "key/bias" in w.name), w.name


def test_error_mha_shapes(rng):
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    with pytest.raises(ValueError, match=r"multi_head_attention.*rank >= 3.*\(2, 4\)"):
        layer(rand(rng, 2, 4, dtype="float32"), rand(rng, 2, 4, dtype="float32"))
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    layer(rand(rng, 2, 3, 4, dtype="float32"), rand(rng, 2, 3, 4, dtype="float32"))
    with pytest.raises(ValueError, match=r"multi_head_attention.*query.*4.*\(2, 3, 5\)"):
        layer(rand(rng, 2, 3, 5, dtype="float32"), rand(rng, 2, 3, 4, dtype="float32"))
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(num_heads=0, key_dim=2)
