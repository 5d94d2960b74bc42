"""GroupQueryAttention against a float64 numpy grouped-query attention; masks (query, value, key,
attention, causal, sliding window, Keras masks), the gate, MultiHeadAttention equivalence,
gradients against finite differences, dropout, config, errors, and a model that trains and saves."""
import json

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import check_input_grad_fd, check_roundtrip, check_weight_grads_fd, rand


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def gqa_ref(layer, q, v, k=None, mask=None):
    """(output, probabilities) of a GroupQueryAttention in float64, one query head at a time."""
    k = v if k is None else k
    w = {(sub.name, x.name.split("/")[-1].split(":")[0]): x.numpy() for sub in layer._flatten_layers(False)
         for x in sub.weights}

    def proj(x, name):
        y = np.einsum("btm,muh->btuh", x, w[name, "kernel"])
        return y + w[name, "bias"] if (name, "bias") in w else y

    Q, K, V = proj(q, "query"), proj(k, "key"), proj(v, "value")
    b, tq, heads, hd = Q.shape
    tv, groups = K.shape[1], K.shape[2]
    mask = np.ones((b, tq, tv), bool) if mask is None else np.broadcast_to(mask, (b, tq, tv))
    probs = np.zeros((b, heads, tq, tv))
    ctx = np.zeros((b, tq, heads, hd))
    for u in range(heads):
        g = u // (heads // groups)  # the key/value head this query head shares
        s = np.einsum("bqh,bkh->bqk", Q[:, :, u], K[:, :, g]) / np.sqrt(hd)
        s = np.where(mask, s, -np.inf)
        top = np.max(np.where(mask, s, 0.0), axis=-1, keepdims=True)
        e = np.where(mask, np.exp(s - top), 0.0)
        total = e.sum(-1, keepdims=True)
        p = np.divide(e, total, out=np.zeros_like(e), where=total > 0)  # nothing to attend to: zeros
        probs[:, u] = p
        ctx[:, :, u] = np.einsum("bqk,bkh->bqh", p, V[:, :, g])
    if layer.use_gate:
        ctx = ctx * _sigmoid(proj(q, "gate"))
    out = np.einsum("bquh,uhm->bqm", ctx, w["attention_output", "kernel"])
    if ("attention_output", "bias") in w:
        out = out + w["attention_output", "bias"]
    return out, probs


def _layer(head_dim=3, num_query_heads=4, num_key_value_heads=2, **kw):
    kw.setdefault("bias_initializer", "random_normal")
    return layers.GroupQueryAttention(head_dim, num_query_heads, num_key_value_heads, dtype="float64", **kw)


@pytest.mark.parametrize("heads,kv_heads,use_bias", [(4, 2, True), (4, 1, False), (3, 3, True), (6, 2, True)])
def test_matches_the_reference(rng, heads, kv_heads, use_bias):
    layer = _layer(2, heads, kv_heads, use_bias=use_bias)
    q, v, k = rand(rng, 2, 5, 6), rand(rng, 2, 7, 4), rand(rng, 2, 7, 3)
    out, scores = layer(q, v, key=k, return_attention_scores=True)
    ref, p = gqa_ref(layer, q.numpy(), v.numpy(), k.numpy())
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(scores.numpy(), p, rtol=1e-10, atol=1e-12)
    assert tuple(out.shape) == (2, 5, 6) and tuple(scores.shape) == (2, heads, 5, 7)
    # Keras' sub-layers and weight shapes
    assert [type(x).__name__ for x in (layer.query_dense, layer.key_dense, layer.value_dense, layer.output_dense)] \
        == ["EinsumDense"] * 4
    names = [w.name.split(":")[0] for w in layer.weights]
    shapes = [tuple(w.shape) for w in layer.weights]
    if use_bias:
        assert names == ["query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
                         "attention_output/kernel", "attention_output/bias"]
        assert shapes == [(6, heads, 2), (heads, 2), (3, kv_heads, 2), (kv_heads, 2), (4, kv_heads, 2),
                          (kv_heads, 2), (heads, 2, 6), (6,)]
    else:
        assert shapes == [(6, heads, 2), (3, kv_heads, 2), (4, kv_heads, 2), (heads, 2, 6)]
    np.testing.assert_allclose(layer(q, v, key=k).numpy(), ref, rtol=1e-10, atol=1e-12)  # without the scores


def test_masks_causal_and_sliding_window(rng):
    layer = _layer(sliding_window=2)
    q, v = rand(rng, 2, 4, 5), rand(rng, 2, 6, 5)
    am = rng.random((2, 4, 6)) < 0.7
    am[0, 1] = False  # a query row with nothing to attend to
    qm = np.array([[1, 1, 0, 1], [1, 1, 1, 1]], bool)
    vm = np.array([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]], bool)
    km = np.array([[1, 1, 1, 1, 1, 1], [0, 1, 1, 1, 1, 1]], bool)
    out, scores = layer(q, v, key=v * 1.0, query_mask=tl.constant(qm), value_mask=tl.constant(vm),
                        key_mask=tl.constant(km), attention_mask=tl.constant(am), use_causal_mask=True,
                        return_attention_scores=True)
    rows, cols = np.arange(4)[:, None], np.arange(6)[None]
    mask = am & qm[:, :, None] & vm[:, None] & km[:, None] & (cols <= rows) & (np.abs(rows - cols) < 2)
    ref, p = gqa_ref(layer, q.numpy(), v.numpy(), mask=mask)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(scores.numpy(), p, rtol=1e-9, atol=1e-12)
    assert np.all(scores.numpy()[0, :, 1] == 0.0) and np.all(scores.numpy()[0, :, 2] == 0.0)
    # the Keras masks of the inputs count as query and value masks (an Embedding with mask_zero)
    ids = np.array([[3, 1, 4, 0], [2, 7, 1, 8]])
    emb = layers.Embedding(10, 5, mask_zero=True, dtype="float64")
    x = emb(tl.constant(ids))
    plain = _layer()
    y = plain(x, x)
    pad = ids != 0
    np.testing.assert_allclose(y.numpy(), gqa_ref(plain, x.numpy(), x.numpy(), mask=pad[:, :, None] & pad[:, None])[0],
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(y._keras_mask.numpy(), pad)  # the query's mask travels on


def test_gate(rng):
    layer = _layer(2, 4, 2, use_gate=True)
    x = rand(rng, 2, 5, 4)
    out = layer(x, x, use_causal_mask=True)
    assert [w.name.split(":")[0] for w in layer.weights][4:6] == ["gate/kernel", "gate/bias"]
    ref, _ = gqa_ref(layer, x.numpy(), x.numpy(), mask=np.tril(np.ones((5, 5), bool)))
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_as_many_key_value_heads_as_query_heads_is_multi_head_attention(rng):
    gqa, mha = _layer(3, 4, 4), layers.MultiHeadAttention(4, 3, dtype="float64")
    q, v = rand(rng, 2, 5, 6), rand(rng, 2, 7, 6)
    gqa(q, v)
    mha(q, v)
    gqa.set_weights(mha.get_weights())  # the same weights in the same order and shapes
    am = rng.random((2, 5, 7)) < 0.6
    am[..., 0] = True
    for kw in ({}, {"attention_mask": tl.constant(am)}, {"use_causal_mask": True}):
        a, sa = gqa(q, v, return_attention_scores=True, **kw)
        b, sb = mha(q, v, return_attention_scores=True, **kw)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(sa.numpy(), sb.numpy(), rtol=1e-10, atol=1e-12)


def test_gradients_match_finite_differences(rng):
    layer = _layer(2, 2, 1, use_gate=True)
    q, v = rand(rng, 2, 3, 3), rand(rng, 2, 4, 3)
    check_input_grad_fd(layer, q, rng, value=v, use_causal_mask=True)
    check_input_grad_fd(lambda value: layer(q, value, key=2.0 * value), v, rng)  # through the values and keys
    check_weight_grads_fd(layer, q, rng, value=v)


def test_dropout_only_in_training(rng):
    layer = layers.GroupQueryAttention(2, 4, 2, dropout=0.5, seed=3)
    x = rand(rng, 2, 6, 4, dtype="float32")
    a, b = layer(x, x).numpy(), layer(x, x, training=False).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(layer(x, x, training=True).numpy(), a)


def test_config_symbolic_and_weight_gradients(rng):
    layer = layers.GroupQueryAttention(3, 4, 2, dropout=0.1, use_bias=False, sliding_window=3,
                                       kernel_regularizer="l2", activity_regularizer="l1")
    q, v = keras.Input((5, 4)), keras.Input((7, 6))
    out = layer(q, v)
    assert tuple(out.shape) == (None, 5, 4)
    out, scores = layers.GroupQueryAttention(3, 4, 1)(q, v, return_attention_scores=True)
    assert tuple(scores.shape) == (None, 4, 5, 7)
    xq, xv = rand(rng, 2, 5, 4, dtype="float32"), rand(rng, 2, 7, 6, dtype="float32")
    y = layer(xq, xv)
    cfg = layer.get_config()
    assert {k: cfg[k] for k in ("head_dim", "num_query_heads", "num_key_value_heads", "dropout", "use_bias",
                                "sliding_window", "use_gate", "flash_attention")} == {
        "head_dim": 3, "num_query_heads": 4, "num_key_value_heads": 2, "dropout": 0.1, "use_bias": False,
        "sliding_window": 3, "use_gate": False, "flash_attention": None}
    clone = layers.deserialize(json.loads(json.dumps(layers.serialize(layer))))
    assert clone.get_config() == {**cfg, "name": clone.name}
    clone(xq, xv)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone(xq, xv).numpy(), y.numpy(), rtol=1e-6)
    assert len(layer.losses) == 5  # four kernel penalties and the activity penalty
    x = rand(rng, 2, 5, 4, dtype="float32")
    gqa = layers.GroupQueryAttention(2, 4, 2)
    check_roundtrip(gqa, x, value=x)
    with tl.GradientTape() as tape:
        loss = tl.reduce_sum(gqa(x, x) * tl.constant(rng.standard_normal((2, 5, 4)).astype("float32")))
    grads = tape.gradient(loss, gqa.trainable_weights)
    for w, g in zip(gqa.trainable_weights, grads):
        # the key bias cancels in the softmax (its gradient is zero), as in any attention layer
        assert g is not None and (np.any(g.numpy() != 0) or "key/bias" in w.name), w.name
    assert type(layers.GroupedQueryAttention(2, 2, 1)) is layers.GroupQueryAttention
    assert layers.serialize(gqa)["class_name"] == "GroupQueryAttention"  # the name Keras writes in its configs
    assert gqa.name.startswith("grouped_query_attention")


def test_mixed_precision(rng):
    layer = layers.GroupQueryAttention(4, 4, 2, dtype="mixed_float16")
    x = rand(rng, 2, 6, 8, dtype="float32")
    y = layer(x, x, use_causal_mask=True)
    assert y.dtype.name == "float16" and layer.query_dense.kernel.dtype.name == "float32"
    full = layers.GroupQueryAttention(4, 4, 2)
    full(x, x)
    full.set_weights(layer.get_weights())
    np.testing.assert_allclose(y.numpy().astype(np.float32), full(x, x, use_causal_mask=True).numpy(), rtol=2e-2,
                               atol=2e-2)


def test_a_model_trains_saves_and_loads(tmp_path):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 12, (64, 6))
    y = np.any(ids == 1, axis=1).astype(np.int32)  # whether token 1 occurs
    inp = keras.Input((6,), dtype="int32")
    x = layers.Embedding(12, 8)(inp)
    x = layers.GroupQueryAttention(4, 4, 2, use_gate=True)(x, x)
    x = layers.GlobalAveragePooling1D()(x)
    model = keras.Model(inp, layers.Dense(2)(x))
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(ids, y, epochs=10, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.8 * hist.history["loss"][0]
    path = str(tmp_path / "gqa.keras")
    model.save(path)
    back = keras.models.load_model(path)
    assert any(isinstance(l, layers.GroupQueryAttention) for l in back.layers)
    np.testing.assert_allclose(back.predict(ids, verbose=0), model.predict(ids, verbose=0), rtol=1e-5, atol=1e-6)


def test_errors_name_the_layer_and_the_values(rng):
    with pytest.raises(ValueError, match=r"GroupQueryAttention: `num_query_heads` \(6\) must be a multiple of "
                                         r"`num_key_value_heads` \(4\)"):
        layers.GroupQueryAttention(2, 6, 4)
    with pytest.raises(ValueError, match=r"GroupQueryAttention: head_dim, num_query_heads and num_key_value_heads "
                                         r"must be positive integers; received head_dim=0"):
        layers.GroupQueryAttention(0, 4, 2)
    with pytest.raises(ValueError, match=r"`dropout` must be a float in \[0, 1\); received dropout=1.5"):
        layers.GroupQueryAttention(2, 4, 2, dropout=1.5)
    with pytest.raises(ValueError, match=r"`sliding_window` must be None or a positive integer; received "
                                         r"sliding_window=0"):
        layers.GroupQueryAttention(2, 4, 2, sliding_window=0)
    with pytest.raises(ValueError, match=r"dropout \(0.1\) is not supported with flash_attention=True"):
        layers.GroupQueryAttention(2, 4, 2, dropout=0.1, flash_attention=True)
    layer = layers.GroupQueryAttention(2, 4, 2)
    with pytest.raises(ValueError, match=r"grouped_query_attention.*expects query of rank 3 \(batch, steps, "
                                         r"features\).*\(2, 4\)"):
        layer(rand(rng, 2, 4, dtype="float32"), rand(rng, 2, 4, dtype="float32"))
    layer = layers.GroupQueryAttention(2, 4, 2)
    layer(rand(rng, 2, 3, 4, dtype="float32"), rand(rng, 2, 5, 6, dtype="float32"))
    with pytest.raises(ValueError, match=r"grouped_query_attention.*expected the last dimension of value to be 6, "
                                         r"but received value with shape \(2, 5, 4\)"):
        layer(rand(rng, 2, 3, 4, dtype="float32"), rand(rng, 2, 5, 4, dtype="float32"))
    with pytest.raises(ValueError, match=r"value and key must have the same number of steps; received value shape "
                                         r"\(2, 5, 6\) and key shape \(2, 4, 6\)"):
        layer(rand(rng, 2, 3, 4, dtype="float32"), rand(rng, 2, 5, 6, dtype="float32"),
              key=rand(rng, 2, 4, 6, dtype="float32"))
    with pytest.raises(ValueError, match=r"query must have rank 3.*\(2, 1, 3, 4\)"):
        layer(rand(rng, 2, 1, 3, 4, dtype="float32"), rand(rng, 2, 5, 6, dtype="float32"))
    flash = layers.GroupQueryAttention(2, 4, 2, flash_attention=True)
    x = rand(rng, 2, 3, 4, dtype="float32")
    assert tuple(flash(x, x).shape) == (2, 3, 4)
    with pytest.raises(ValueError, match=r"return_attention_scores=True is not supported with flash_attention=True"):
        flash(x, x, return_attention_scores=True)
