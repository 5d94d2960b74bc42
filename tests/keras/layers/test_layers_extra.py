"""GroupNormalization, UnitNormalization, UpSampling1D, ZeroPadding1D, Cropping1D, Attention,
AdditiveAttention, Conv1DTranspose, AlphaDropout and EinsumDense against float64 numpy references."""
import json

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import check_grads, check_input_grad_fd, check_rank_error, check_roundtrip, \
    check_symbolic, input_grad, rand


def config_keys(layer):
    return set(layer.get_config()) - {"name", "trainable", "dtype"}


# ---------------------------------------------------------------------------------------------- GroupNormalization
def gn_ref(x, groups, axis, gamma, beta, eps=1e-3):
    x = np.moveaxis(x, axis, -1)
    c = x.shape[-1]
    g = x.reshape(x.shape[:-1] + (groups, c // groups))
    red = tuple(range(1, g.ndim - 2)) + (g.ndim - 1,)
    mean, var = g.mean(red, keepdims=True), g.var(red, keepdims=True)
    y = ((g - mean) / np.sqrt(var + eps)).reshape(x.shape) * gamma + beta
    return np.moveaxis(y, -1, axis)


@pytest.mark.parametrize("shape,groups,axis", [((3, 5, 8), 4, -1), ((2, 4, 3, 6), 3, -1), ((2, 6, 4, 3), 2, 1),
                                               ((3, 6), 1, -1), ((2, 5, 4), -1, 2)])
def test_groupnorm_matches_numpy(shape, groups, axis, rng):
    layer = layers.GroupNormalization(groups=groups, axis=axis, gamma_initializer="normal",
                                      beta_initializer="normal", dtype="float64")
    x = rand(rng, *shape) * 3.0 + 2.0
    y = layer(x).numpy()
    c = shape[axis]
    want = gn_ref(x.numpy(), c if groups == -1 else groups, axis % len(shape), layer.gamma.numpy(),
                  layer.beta.numpy())
    np.testing.assert_allclose(y, want, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer(x, training=True).numpy(), y)  # same statistics in training
    assert tuple(layer.gamma.shape) == (c,) and [w.name.split("/")[-1] for w in layer.weights] == ["gamma:0",
                                                                                                  "beta:0"]
    if groups == -1:
        assert layer.get_config()["groups"] == c  # -1 resolves to one group per channel, as in Keras


def test_groupnorm_no_center_scale_config_grads(rng):
    layer = layers.GroupNormalization(groups=2, center=False, scale=False, epsilon=1e-2, dtype="float64")
    x = rand(rng, 2, 3, 4)
    np.testing.assert_allclose(layer(x).numpy(), gn_ref(x.numpy(), 2, 2, 1.0, 0.0, 1e-2), rtol=1e-10, atol=1e-12)
    assert layer.weights == []
    check_input_grad_fd(layer, x, rng)
    layer = layers.GroupNormalization(groups=2, gamma_initializer="normal", beta_initializer="normal",
                                      dtype="float64")
    check_input_grad_fd(layer, rand(rng, 2, 3, 4), rng)
    check_grads(layer, rand(rng, 2, 3, 4))
    check_symbolic(layer, rand(rng, 2, 3, 4))
    check_roundtrip(layer, rand(rng, 2, 3, 4))
    assert config_keys(layer) == {"groups", "axis", "epsilon", "center", "scale", "beta_initializer",
                                  "gamma_initializer", "beta_regularizer", "gamma_regularizer", "beta_constraint",
                                  "gamma_constraint"}
    cfg = layers.GroupNormalization().get_config()
    assert (cfg["groups"], cfg["axis"], cfg["epsilon"], cfg["center"], cfg["scale"]) == (32, -1, 1e-3, True, True)


def test_groupnorm_float16_and_unknown_steps(rng):
    layer = layers.GroupNormalization(groups=2, dtype="float16")
    xn = rng.standard_normal((2, 7, 4)) * 4 + 50
    y = layer(tl.constant(xn.astype("float16")))
    assert y.dtype == tl.float16
    np.testing.assert_allclose(y.numpy().astype(np.float64), gn_ref(xn.astype("float16").astype(np.float64), 2, 2,
                                                                      1.0, 0.0), atol=2e-2)
    seq = keras.Input((None, 4))
    assert tuple(layers.GroupNormalization(groups=4)(seq).shape) == (None, None, 4)


def test_groupnorm_passes_mask(rng):
    ids = tl.constant([[1, 2, 0], [3, 0, 0]])
    emb = layers.Embedding(5, 4, mask_zero=True)(ids)
    out = layers.GroupNormalization(groups=2)(emb)
    np.testing.assert_array_equal(out._keras_mask.numpy(), ids.numpy() != 0)


def test_error_groupnorm_arguments(rng):
    x = rand(rng, 2, 3, 6, dtype="float32")
    with pytest.raises(ValueError, match=r"group_normalization.*channels \(6.*multiple of `groups` \(4\)"):
        layers.GroupNormalization(groups=4)(x)
    with pytest.raises(ValueError, match=r"channels \(6.*`groups` \(32\)"):
        layers.GroupNormalization()(x)  # default 32 groups > 6 channels
    with pytest.raises(ValueError, match=r"GroupNormalization: `groups` must be a positive integer or -1.*0"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match=r"GroupNormalization: `axis` must be an integer.*\(1, 2\)"):
        layers.GroupNormalization(groups=1, axis=(1, 2))
    with pytest.raises(ValueError, match="axis 0 is the batch axis"):
        layers.GroupNormalization(groups=1, axis=0)(x)
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        layers.GroupNormalization(groups=1, axis=3)(x)
    with pytest.raises(ValueError, match=r"axis 2 of the input must have a known size.*\(None, 3, None\)"):
        layers.GroupNormalization(groups=1)(keras.Input((3, None)))
    layer = layers.GroupNormalization(groups=3)
    layer(x)
    with pytest.raises(ValueError, match=r"group_normalization.*expected axis 2.*6.*\(2, 3, 9\)"):
        layer(rand(rng, 2, 3, 9, dtype="float32"))


# ---------------------------------------------------------------------------------------------- UnitNormalization
@pytest.mark.parametrize("axis", [-1, 1, [1, 2], (0, 2)])
def test_unitnorm_matches_numpy(axis, rng):
    layer = layers.UnitNormalization(axis=axis, dtype="float64")
    x = rand(rng, 3, 4, 5)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    xn = x.numpy()
    want = xn / np.maximum(np.sqrt((xn ** 2).sum(axes, keepdims=True)), 1e-6)
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(np.sqrt((layer(x).numpy() ** 2).sum(axes)), 1.0, rtol=1e-12)
    check_input_grad_fd(layer, x, rng)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    assert layer.get_config()["axis"] == (axis if isinstance(axis, int) else list(axis))


def test_unitnorm_zero_vector_stays_zero(rng):
    xn = rng.standard_normal((3, 4))
    xn[1] = 0.0
    y = layers.UnitNormalization(dtype="float64")(tl.constant(xn)).numpy()
    np.testing.assert_array_equal(y[1], 0.0)
    np.testing.assert_allclose(np.linalg.norm(y[[0, 2]], axis=-1), 1.0, rtol=1e-12)
    tiny = np.full((1, 4), 1e-9)  # norm below 1e-6: divided by 1e-6, as x * rsqrt(max(sum(x^2), 1e-12))
    np.testing.assert_allclose(layers.UnitNormalization(dtype="float64")(tl.constant(tiny)).numpy(), tiny / 1e-6,
                               rtol=1e-12)


def test_error_unitnorm_axis(rng):
    with pytest.raises(TypeError, match=r"UnitNormalization: `axis` must be an int or a list/tuple.*'a'"):
        layers.UnitNormalization(axis="a")
    layer = layers.UnitNormalization(axis=3)
    with pytest.raises(ValueError, match=r"unit_normalization.*axis 3 is out of range.*\(2, 3\)"):
        layer(rand(rng, 2, 3, dtype="float32"))


# ---------------------------------------------------------------------------------------------- 1-D reshaping
@pytest.mark.parametrize("size", [1, 2, 3])
def test_upsampling1d(size, rng):
    layer = layers.UpSampling1D(size, dtype="float64")
    x = rand(rng, 2, 5, 3)
    np.testing.assert_array_equal(layer(x).numpy(), np.repeat(x.numpy(), size, axis=1))
    r = rng.standard_normal((2, 5 * size, 3))
    np.testing.assert_allclose(input_grad(layer, x, r), r.reshape(2, 5, size, 3).sum(2), rtol=1e-12)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    assert tuple(layer(keras.Input((None, 3))).shape) == (None, None, 3)
    assert layers.UpSampling1D().get_config()["size"] == 2


def test_error_upsampling1d(rng):
    for bad in (0, -1, 2.5, (2,)):
        with pytest.raises(ValueError, match=r"UpSampling1D: `size` must be a positive integer"):
            layers.UpSampling1D(bad)
    check_rank_error(layers.UpSampling1D(), rand(rng, 2, 3, dtype="float32"), "expected ndim=3")


@pytest.mark.parametrize("padding,data_format", [(1, None), ((2, 0), None), ((0, 3), "channels_first"),
                                                 (2, "channels_first")])
def test_zeropadding1d(padding, data_format, rng):
    layer = layers.ZeroPadding1D(padding, data_format=data_format, dtype="float64")
    x = rand(rng, 2, 4, 3)
    p = (padding, padding) if isinstance(padding, int) else padding
    pads = [(0, 0), p, (0, 0)] if data_format is None else [(0, 0), (0, 0), p]
    y = layer(x).numpy()
    np.testing.assert_array_equal(y, np.pad(x.numpy(), pads))
    r = rng.standard_normal(y.shape)
    sl = tuple(slice(a, s - b) for (a, b), s in zip(pads, y.shape))
    np.testing.assert_array_equal(input_grad(layer, x, r), r[sl])
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    assert layer.get_config()["padding"] == p
    assert layers.ZeroPadding1D().get_config()["padding"] == (1, 1)


def test_error_zeropadding1d(rng):
    with pytest.raises(ValueError, match=r"`padding` argument must have all values >= 0"):
        layers.ZeroPadding1D(-1)
    with pytest.raises(ValueError, match=r"`padding` argument must be a tuple of 2 ints.*\(1, 2, 3\)"):
        layers.ZeroPadding1D((1, 2, 3))
    with pytest.raises(ValueError, match="data_format"):
        layers.ZeroPadding1D(1, data_format="nwc")
    check_rank_error(layers.ZeroPadding1D(), rand(rng, 2, 3, 4, 5, dtype="float32"), "expected ndim=3")


@pytest.mark.parametrize("cropping", [(1, 1), (2, 0), (0, 3), 1])
def test_cropping1d(cropping, rng):
    layer = layers.Cropping1D(cropping, dtype="float64")
    x = rand(rng, 2, 7, 3)
    a, b = (cropping, cropping) if isinstance(cropping, int) else cropping
    y = layer(x).numpy()
    np.testing.assert_array_equal(y, x.numpy()[:, a:7 - b])
    r = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(input_grad(layer, x, r), np.pad(r, [(0, 0), (a, b), (0, 0)]))
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    assert tuple(layer(keras.Input((None, 3))).shape) == (None, None, 3)
    assert layers.Cropping1D().get_config()["cropping"] == (1, 1)


def test_error_cropping1d(rng):
    with pytest.raises(ValueError, match=r"cropping1d.*cropping \(3, 4\) must remove fewer steps.*\(2, 7, 3\)"):
        layers.Cropping1D((3, 4))(rand(rng, 2, 7, 3, dtype="float32"))
    with pytest.raises(ValueError, match=r"must remove fewer steps.*\(None, 2, 3\)"):
        layers.Cropping1D((1, 1))(keras.Input((2, 3)))
    with pytest.raises(ValueError, match=r"`cropping` argument must have all values >= 0"):
        layers.Cropping1D((-1, 2))
    check_rank_error(layers.Cropping1D(), rand(rng, 2, 7, dtype="float32"), "expected ndim=3")


# ---------------------------------------------------------------------------------------------- Attention
def softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def attention_ref(q, v, k=None, mode="dot", scale=None, concat_w=1.0, additive_scale=None, q_mask=None,
                  v_mask=None, causal=False):
    k = v if k is None else k
    if mode == "dot":
        s = np.einsum("bqd,bvd->bqv", q, k) * (1.0 if scale is None else scale)
    elif mode == "concat":
        t = q[:, :, None] + k[:, None]
        s = concat_w * np.tanh(t * (1.0 if scale is None else scale)).sum(-1)
    else:
        s = (np.tanh(q[:, :, None] + k[:, None]) * (1.0 if additive_scale is None else additive_scale)).sum(-1)
    keep = np.ones(s.shape, bool)
    if v_mask is not None:
        keep &= v_mask[:, None, :]
    if causal:
        keep &= np.tril(np.ones(s.shape[1:], bool))[None]
    w = softmax(np.where(keep, s, s - 1e9))
    out = w @ v
    if q_mask is not None:
        out = out * q_mask[..., None]
    return out, w


@pytest.mark.parametrize("use_scale,score_mode", [(False, "dot"), (True, "dot"), (False, "concat"), (True, "concat")])
def test_attention_matches_numpy(use_scale, score_mode, rng):
    layer = layers.Attention(use_scale=use_scale, score_mode=score_mode, dtype="float64")
    q, v, k = rand(rng, 2, 3, 4), rand(rng, 2, 5, 6), rand(rng, 2, 5, 4)
    layer([q, v, k])
    scale = None
    if use_scale:
        scale = 0.3 + rng.random()
        layer.scale.assign(tl.constant(scale, dtype="float64"))
    if score_mode == "concat":
        layer.concat_score_weight.assign(tl.constant(0.5 + rng.random(), dtype="float64"))
    cw = layer.concat_score_weight.numpy() if score_mode == "concat" else 1.0
    out, w = layer([q, v, k], return_attention_scores=True)
    ref_out, ref_w = attention_ref(q.numpy(), v.numpy(), k.numpy(), score_mode, scale, cw)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-10, atol=1e-12)
    # key defaults to value
    v2 = rand(rng, 2, 5, 4)
    np.testing.assert_allclose(layer([q, v2]).numpy(),
                               attention_ref(q.numpy(), v2.numpy(), None, score_mode, scale, cw)[0], rtol=1e-10)
    names = [w.name.split("/")[-1] for w in layer.weights]
    assert names == (["scale:0"] if use_scale else []) + (["concat_score_weight:0"] if score_mode == "concat" else [])
    assert all(tuple(w.shape) == () for w in layer.weights)


def test_attention_masks_and_causal(rng):
    layer = layers.Attention(dtype="float64")
    q, v = rand(rng, 3, 4, 2), rand(rng, 3, 4, 2)
    q_mask = rng.random((3, 4)) < 0.6
    v_mask = rng.random((3, 4)) < 0.6
    v_mask[:, 0] = True
    out, w = layer([q, v], mask=[tl.constant(q_mask), tl.constant(v_mask)], return_attention_scores=True)
    ref_out, ref_w = attention_ref(q.numpy(), v.numpy(), q_mask=q_mask, v_mask=v_mask)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-10, atol=1e-12)
    assert np.all(w.numpy()[np.broadcast_to(~v_mask[:, None], w.shape)] < 1e-12)
    assert np.all(out.numpy()[~q_mask] == 0)
    out, w = layer([q, v], mask=[None, tl.constant(v_mask)], use_causal_mask=True, return_attention_scores=True)
    ref_out, ref_w = attention_ref(q.numpy(), v.numpy(), v_mask=v_mask, causal=True)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-10, atol=1e-12)
    assert np.all(np.triu(w.numpy()[0], 1) < 1e-12)
    out = layer([q, v], use_causal_mask=True)
    np.testing.assert_allclose(out.numpy(), attention_ref(q.numpy(), v.numpy(), causal=True)[0], rtol=1e-10)


def test_attention_uses_keras_masks_of_inputs(rng):
    q_ids = tl.constant([[1, 2, 0], [3, 0, 0]])
    v_ids = tl.constant([[1, 2, 3, 0], [4, 1, 0, 0]])
    emb = layers.Embedding(6, 4, mask_zero=True, dtype="float64")
    q, v = emb(q_ids), emb(v_ids)
    layer = layers.Attention(dtype="float64")
    out = layer([q, v])
    ref, _ = attention_ref(q.numpy(), v.numpy(), q_mask=q_ids.numpy() != 0, v_mask=v_ids.numpy() != 0)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(out._keras_mask.numpy(), q_ids.numpy() != 0)  # the query mask passes on


def test_attention_dropout_training_only_and_seeded(rng):
    layer = layers.Attention(dropout=0.5, seed=3, dtype="float64")
    q, v = rand(rng, 2, 6, 12) * 0.3, rand(rng, 2, 8, 12)  # features > steps: the weights are recoverable
    ref, ref_w = attention_ref(q.numpy(), v.numpy())
    for kw in ({}, {"training": False}):
        np.testing.assert_allclose(layer([q, v], **kw).numpy(), ref, rtol=1e-10)
    tl.random.set_seed(4)
    a, w = layer([q, v], training=True, return_attention_scores=True)
    tl.random.set_seed(4)
    b = layer([q, v], training=True)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), ref)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-10)  # the returned scores are before dropout
    # each output row is (weights with some dropped, the rest scaled by 1 / (1 - rate)) @ v
    dropped_w = np.linalg.lstsq(v.numpy()[0].T, a.numpy()[0].T, rcond=None)[0].T  # (Tq, Tv)
    assert np.all(np.isclose(dropped_w, 0, atol=1e-8) | np.isclose(dropped_w, 2 * ref_w[0], rtol=1e-6))
    assert np.any(np.isclose(dropped_w, 0, atol=1e-8))


def test_attention_grads_symbolic_config(rng):
    layer = layers.Attention(use_scale=True, score_mode="concat", dtype="float64")
    q, v = rand(rng, 2, 3, 4), rand(rng, 2, 5, 4)
    check_grads(layer, [q, v], wrt_input=False)
    r = rng.standard_normal((2, 3, 4))
    with tl.GradientTape() as tape:
        tape.watch(q)
        loss = tl.reduce_sum(layer([q, v]) * tl.constant(r))
    g = tape.gradient(loss, q).numpy()
    fd = np.zeros_like(q.numpy())
    for i in np.ndindex(q.shape):
        d = np.zeros(q.shape)
        d[i] = 1e-6
        fd[i] = (np.sum(layer([tl.constant(q.numpy() + d), v]).numpy() * r)
                 - np.sum(layer([tl.constant(q.numpy() - d), v]).numpy() * r)) / 2e-6
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)
    qi, vi, ki = keras.Input((3, 4)), keras.Input((None, 6)), keras.Input((None, 4))
    out, scores = layers.Attention()([qi, vi, ki], return_attention_scores=True)
    assert tuple(out.shape) == (None, 3, 6) and tuple(scores.shape) == (None, 3, None)
    check_roundtrip(layers.Attention(use_scale=True, dropout=0.25), [rand(rng, 2, 3, 4, dtype="float32")] * 2)
    assert config_keys(layers.Attention()) == {"use_scale", "score_mode", "dropout"}
    cfg = layers.Attention().get_config()
    assert (cfg["use_scale"], cfg["score_mode"], cfg["dropout"]) == (False, "dot", 0.0)


def test_additive_attention_matches_numpy(rng):
    layer = layers.AdditiveAttention(dtype="float64")
    q, v, k = rand(rng, 2, 3, 4), rand(rng, 2, 5, 6), rand(rng, 2, 5, 4)
    out, w = layer([q, v, k], return_attention_scores=True)
    assert tuple(layer.scale.shape) == (4,) and layer.weights[0].name.endswith("scale:0")
    ref_out, ref_w = attention_ref(q.numpy(), v.numpy(), k.numpy(), "additive", additive_scale=layer.scale.numpy())
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.numpy(), ref_w, rtol=1e-10, atol=1e-12)
    v_mask = np.array([[True, True, False, True, False], [True, False, False, False, False]])
    out = layer([q, v, k], mask=[None, tl.constant(v_mask)], use_causal_mask=True)
    np.testing.assert_allclose(out.numpy(), attention_ref(q.numpy(), v.numpy(), k.numpy(), "additive",
                                                          additive_scale=layer.scale.numpy(), v_mask=v_mask,
                                                          causal=True)[0], rtol=1e-10, atol=1e-12)
    plain = layers.AdditiveAttention(use_scale=False, dtype="float64")
    np.testing.assert_allclose(plain([q, k]).numpy(), attention_ref(q.numpy(), k.numpy(), None, "additive")[0],
                               rtol=1e-10)
    assert plain.weights == []
    check_grads(layer, [q, v, k], wrt_input=False)
    check_roundtrip(layer, [q, v, k])
    qi = keras.Input((None, 4))
    assert tuple(layers.AdditiveAttention()([qi, qi]).shape) == (None, None, 4)
    assert config_keys(layer) == {"use_scale", "dropout"}
    assert layers.AdditiveAttention().get_config()["use_scale"] is True


def test_error_attention_arguments(rng):
    q = rand(rng, 2, 3, 4, dtype="float32")
    with pytest.raises(ValueError, match=r"Attention: `score_mode` must be one of 'dot', 'concat'.*'add'"):
        layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match=r"AdditiveAttention: `dropout` must be a float in \[0, 1\].*1.5"):
        layers.AdditiveAttention(dropout=1.5)
    with pytest.raises(ValueError, match=r'"attention.*must be called on a list of inputs'):
        layers.Attention()(q)
    with pytest.raises(ValueError, match=r"accepts a list of 2 or 3 inputs.*received 1"):
        layers.Attention()([q])
    with pytest.raises(ValueError, match=r"query and key must have the same last dimension.*\(2, 3, 4\).*\(2, 5, 3\)"):
        layers.Attention()([q, rand(rng, 2, 5, 3, dtype="float32")])
    with pytest.raises(ValueError, match=r"value and key must have the same number of steps"):
        layers.Attention()([q, rand(rng, 2, 5, 4, dtype="float32"), rand(rng, 2, 6, 4, dtype="float32")])
    with pytest.raises(ValueError, match=r"query must have rank 3.*\(2, 4\)"):
        layers.AdditiveAttention()([rand(rng, 2, 4, dtype="float32"), q])
    with pytest.raises(ValueError, match=r"`mask` must be a list \[query_mask, value_mask\]"):
        layers.Attention()([q, q], mask=tl.constant(np.ones((2, 3), bool)))


# ---------------------------------------------------------------------------------------------- Conv1DTranspose
def conv1d_transpose_ref(x, w, b, stride, padding, dilation, out_len):
    """Scatter each input step through the kernel, then crop like TF's conv1d_transpose."""
    n, steps, _ = x.shape
    k, f, _ = w.shape
    k_eff = (k - 1) * dilation + 1
    full = np.zeros((n, (steps - 1) * stride + k_eff + out_len, f))
    for i in range(steps):
        for j in range(k):
            full[:, i * stride + j * dilation] += x[:, i] @ w[j].T
    pad = 0
    if padding == "same":
        pad = max((-(-out_len // stride) - 1) * stride + k_eff - out_len, 0) // 2
    return full[:, pad:pad + out_len] + b


@pytest.mark.parametrize("kernel,stride,padding,dilation,output_padding", [
    (3, 1, "valid", 1, None), (3, 2, "same", 1, None), (4, 3, "valid", 1, None), (2, 3, "valid", 1, None),
    (3, 2, "same", 1, 1), (3, 2, "valid", 1, 1), (3, 1, "same", 2, None), (5, 3, "same", 1, 2)])
def test_conv1d_transpose_matches_numpy(kernel, stride, padding, dilation, output_padding, rng):
    layer = layers.Conv1DTranspose(3, kernel, strides=stride, padding=padding, dilation_rate=dilation,
                                   output_padding=output_padding, bias_initializer="normal", dtype="float64")
    x = rand(rng, 2, 5, 4)
    y = layer(x).numpy()
    k_eff = (kernel - 1) * dilation + 1
    if output_padding is None:
        out_len = 5 * stride + (max(k_eff - stride, 0) if padding == "valid" else 0)
    else:
        out_len = 4 * stride + k_eff - 2 * (k_eff // 2 if padding == "same" else 0) + output_padding
    assert y.shape == (2, out_len, 3) and tuple(layer.kernel.shape) == (kernel, 3, 4)
    want = conv1d_transpose_ref(x.numpy(), layer.kernel.numpy(), layer.bias.numpy(), stride, padding, dilation,
                                out_len)
    np.testing.assert_allclose(y, want, rtol=1e-10, atol=1e-12)
    check_symbolic(layer, x)


def test_conv1d_transpose_channels_first_grads_config(rng):
    layer = layers.Conv1DTranspose(2, 3, strides=2, padding="same", data_format="channels_first",
                                   activation="tanh", bias_initializer="normal", dtype="float64")
    x = rand(rng, 2, 4, 5)                                       # (batch, channels, steps)
    y = layer(x).numpy()
    want = np.tanh(conv1d_transpose_ref(x.numpy().transpose(0, 2, 1), layer.kernel.numpy(), layer.bias.numpy(), 2,
                                        "same", 1, 10)).transpose(0, 2, 1)
    np.testing.assert_allclose(y, want, rtol=1e-10, atol=1e-12)
    check_input_grad_fd(layer, rand(rng, 1, 4, 3), rng)
    check_grads(layer, x)
    check_roundtrip(layer, x)
    cfg = layer.get_config()
    assert cfg["kernel_size"] == (3,) and cfg["strides"] == (2,) and cfg["output_padding"] is None
    assert "groups" not in cfg
    assert tuple(layers.Conv1DTranspose(4, 3, strides=2)(keras.Input((None, 3))).shape) == (None, None, 4)
    assert layers.Convolution1DTranspose is layers.Conv1DTranspose


def test_error_conv1d_transpose(rng):
    with pytest.raises(ValueError, match=r"Conv1DTranspose: each output_padding \(2,\) must be smaller than the "
                                         r"stride \(2,\)"):
        layers.Conv1DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match=r"Conv1DTranspose: `padding` must be one of \('valid', 'same'\)"):
        layers.Conv1DTranspose(2, 3, padding="causal")
    with pytest.raises(ValueError, match=r"`filters` must be a positive integer"):
        layers.Conv1DTranspose(0, 3)
    with pytest.raises(ValueError, match=r"conv1d_transpose.*expected ndim=3.*\(2, 5\)"):
        layers.Conv1DTranspose(2, 3)(rand(rng, 2, 5, dtype="float32"))
    layer = layers.Conv1DTranspose(2, 3)
    layer(rand(rng, 2, 5, 4, dtype="float32"))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 4.*\(2, 5, 3\)"):
        layer(rand(rng, 2, 5, 3, dtype="float32"))


# ---------------------------------------------------------------------------------------------- AlphaDropout
ALPHA_P = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


def alpha_affine(rate):
    a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
    return a, -a * ALPHA_P * rate


def test_alpha_dropout_identity_in_inference(rng):
    layer = layers.AlphaDropout(0.4, dtype="float64")
    x = rand(rng, 3, 5)
    for kw in ({}, {"training": False}):
        np.testing.assert_array_equal(layer(x, **kw).numpy(), x.numpy())
    np.testing.assert_array_equal(layers.AlphaDropout(0.0, dtype="float64")(x, training=True).numpy(), x.numpy())
    np.testing.assert_array_equal(layers.AlphaDropout(1.0, dtype="float64")(x, training=True).numpy(), 0.0)
    check_symbolic(layer, x, training=True)


@pytest.mark.parametrize("rate", [0.1, 0.5])
def test_alpha_dropout_training_formula_and_moments(rate, rng):
    layer = layers.AlphaDropout(rate, dtype="float64")
    x = rand(rng, 200, 100)
    r = rng.standard_normal((200, 100))
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tl.reduce_sum(y * tl.constant(r))
    g = tape.gradient(loss, x).numpy()
    y = y.numpy()
    a, b = alpha_affine(rate)
    kept = np.isclose(y, a * x.numpy() + b, rtol=0, atol=1e-12)
    dropped = np.isclose(y, a * ALPHA_P + b, rtol=0, atol=1e-12)
    assert np.all(kept | dropped)
    assert abs(dropped.mean() - rate) < 0.02
    # self-normalizing: standard-normal inputs keep mean 0 and variance 1
    assert abs(y.mean()) < 0.03 and abs(y.var() - 1) < 0.05
    np.testing.assert_allclose(g, np.where(kept, a * r, 0.0), rtol=1e-12, atol=1e-12)


def test_alpha_dropout_noise_shape_seed_config(rng):
    x = rand(rng, 4, 6, 5)
    layer = layers.AlphaDropout(0.5, noise_shape=(None, 1, 5), seed=7, dtype="float64")
    y = layer(x, training=True).numpy()
    a, b = alpha_affine(0.5)
    dropped = np.isclose(y, a * ALPHA_P + b, atol=1e-12)
    np.testing.assert_array_equal(dropped, np.broadcast_to(dropped[:, :1], dropped.shape))  # same along axis 1
    tl.random.set_seed(9)
    y1 = layer(x, training=True).numpy()
    tl.random.set_seed(9)
    np.testing.assert_array_equal(layers.AlphaDropout(0.5, noise_shape=(None, 1, 5), seed=7,
                                                      dtype="float64")(x, training=True).numpy(), y1)
    check_roundtrip(layer, x)
    cfg = layer.get_config()
    assert (cfg["rate"], cfg["noise_shape"], cfg["seed"]) == (0.5, (None, 1, 5), 7)
    assert config_keys(layer) == {"rate", "noise_shape", "seed"}


def test_error_alpha_dropout(rng):
    with pytest.raises(ValueError, match=r"AlphaDropout: `rate` must be a float in the range \[0, 1\].*1.5"):
        layers.AlphaDropout(1.5)
    layer = layers.AlphaDropout(0.5, noise_shape=(None, 1))
    with pytest.raises(ValueError, match=r"alpha_dropout.*noise_shape \(None, 1\) must have one entry per input "
                                         r"axis.*\(2, 3, 4\)"):
        layer(rand(rng, 2, 3, 4, dtype="float32"), training=True)


# ---------------------------------------------------------------------------------------------- EinsumDense
@pytest.mark.parametrize("equation,output_shape,bias_axes,in_shape,kernel_shape,bias_shape,out_shape", [
    ("ab,bc->ac", 4, "c", (3, 5), (5, 4), (4,), (3, 4)),
    ("abc,cd->abd", (None, 4), "d", (2, 3, 5), (5, 4), (4,), (2, 3, 4)),
    ("abc,cde->abde", (None, 2, 4), "de", (2, 3, 5), (5, 2, 4), (2, 4), (2, 3, 2, 4)),
    ("abc,cde->abde", (3, 2, 4), "be", (2, 3, 5), (5, 2, 4), (3, 1, 4), (2, 3, 2, 4)),
    ("...b,bc->...c", 4, "c", (2, 3, 6, 5), (5, 4), (4,), (2, 3, 6, 4)),
    ("...b,bc->...c", 4, None, (2, 5), (5, 4), None, (2, 4)),
    ("ab...,bc->ac...", 4, "c", (2, 5, 3, 2), (5, 4), (4, 1, 1), (2, 4, 3, 2)),
    ("abc,bd->adc", (4, None), "d", (2, 5, 3), (5, 4), (4, 1), (2, 4, 3)),
])
def test_einsum_dense_matches_numpy(equation, output_shape, bias_axes, in_shape, kernel_shape, bias_shape, out_shape,
                                    rng):
    layer = layers.EinsumDense(equation, output_shape, activation="relu", bias_axes=bias_axes,
                               bias_initializer="normal", dtype="float64")
    x = rand(rng, *in_shape)
    y = layer(x).numpy()
    assert tuple(layer.kernel.shape) == kernel_shape
    assert (None if layer.bias is None else tuple(layer.bias.shape)) == bias_shape
    want = np.einsum(equation, x.numpy(), layer.kernel.numpy())
    if layer.bias is not None:
        want = want + layer.bias.numpy()
    np.testing.assert_allclose(y, np.maximum(want, 0), rtol=1e-10, atol=1e-12)
    assert layer.compute_output_shape(in_shape) == out_shape
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def test_einsum_dense_grads_config_and_json(rng):
    layer = layers.EinsumDense("abc,cde->abde", (None, 2, 3), bias_axes="e", activation="tanh", dtype="float64")
    x = rand(rng, 2, 3, 4)
    check_grads(layer, x)
    check_input_grad_fd(layer, x, rng)
    r = rng.standard_normal((2, 3, 2, 3))
    with tl.GradientTape() as tape:
        loss = tl.reduce_sum(layer(x) * tl.constant(r))
    gk = tape.gradient(loss, layer.kernel).numpy()
    pre = np.einsum("abc,cde->abde", x.numpy(), layer.kernel.numpy()) + layer.bias.numpy()
    np.testing.assert_allclose(gk, np.einsum("abc,abde->cde", x.numpy(), r * (1 - np.tanh(pre) ** 2)), rtol=1e-10)
    cfg = layer.get_config()
    assert config_keys(layer) == {"output_shape", "equation", "activation", "bias_axes", "kernel_initializer",
                                  "bias_initializer", "kernel_regularizer", "bias_regularizer", "activity_regularizer",
                                  "kernel_constraint", "bias_constraint"}
    assert cfg["output_shape"] == (None, 2, 3) and cfg["equation"] == "abc,cde->abde" and cfg["bias_axes"] == "e"
    assert layers.EinsumDense("ab,bc->ac", 4).get_config()["output_shape"] == (4,)
    c = json.loads(json.dumps(cfg))
    c2 = json.loads(json.dumps(layers.EinsumDense.from_config(c).get_config()))
    c.pop("name")
    c2.pop("name")
    assert c == c2
    assert tuple(layers.EinsumDense("...b,bc->...c", 6)(keras.Input((None, 5))).shape) == (None, None, 6)


def test_error_einsum_dense(rng):
    x = rand(rng, 2, 3, dtype="float32")
    with pytest.raises(ValueError, match=r"EinsumDense: invalid einsum equation 'ab->b'"):
        layers.EinsumDense("ab->b", 3)
    with pytest.raises(ValueError, match=r"einsum_dense.*bias dimension 'z' is not part of the output spec 'ac'"):
        layers.EinsumDense("ab,bc->ac", 4, bias_axes="z")(x)
    with pytest.raises(ValueError, match=r"einsum_dense.*do not match at shared dimension 'b'.*\(2, 3, 5\) has 3, "
                                         r"output_shape \(7, 4\) has 7"):
        layers.EinsumDense("abc,cd->abd", (7, 4))(rand(rng, 2, 3, 5, dtype="float32"))
    with pytest.raises(ValueError, match=r"weight dimension 'z' is in neither the input spec 'ab' nor the output "
                                         r"spec 'ac'"):
        layers.EinsumDense("ab,bcz->ac", 4)(x)
    with pytest.raises(ValueError, match=r"output dimension 'd' of 'ad' is in neither the input spec"):
        layers.EinsumDense("ab,bc->ad", 4)(x)
    with pytest.raises(ValueError, match=r"output_shape \(4, 2\) must have one entry per output axis of 'ac'"):
        layers.EinsumDense("ab,bc->ac", (4, 2))(x)
    with pytest.raises(ValueError, match=r"does not fit inputs of shape \(2, 3\)"):
        layers.EinsumDense("abc,cd->abd", (3, 4))(x)
    with pytest.raises(ValueError, match="LoRA"):
        layers.EinsumDense("ab,bc->ac", 4, lora_rank=2)
    layer = layers.EinsumDense("...b,bc->...c", 4)
    layer(rand(rng, 2, 3, 5, dtype="float32"))
    with pytest.raises(ValueError, match=r"einsum_dense.*expected ndim=3.*\(2, 5\)"):
        layer(rand(rng, 2, 5, dtype="float32"))


# ---------------------------------------------------------------------------------------------- all together
NEW_LAYERS = [layers.GroupNormalization(2), layers.UnitNormalization(), layers.UpSampling1D(3),
              layers.ZeroPadding1D((1, 2)), layers.Cropping1D(2), layers.Attention(use_scale=True, dropout=0.1),
              layers.AdditiveAttention(), layers.Conv1DTranspose(2, 3, strides=2, output_padding=1),
              layers.AlphaDropout(0.2, noise_shape=(None, 1, 4), seed=3),
              layers.EinsumDense("...b,bc->...c", 4, bias_axes="c")]


@pytest.mark.parametrize("layer", NEW_LAYERS, ids=lambda l: type(l).__name__)
def test_new_layers_serialize_by_name(layer):
    d = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))
    clone = keras.saving.deserialize_keras_object(d)
    assert type(clone) is type(layer)
    assert type(layers.deserialize(layers.serialize(layer))) is type(layer)
    c1, c2 = clone.get_config(), layer.get_config()
    c1.pop("name")
    c2.pop("name")
    assert json.loads(json.dumps(c1)) == json.loads(json.dumps(c2))


def test_model_of_new_layers_fits_saves_and_loads(tmp_path, rng):
    inp = keras.Input((6, 4))
    x = layers.Conv1DTranspose(8, 3, strides=2, padding="same")(inp)      # (12, 8)
    x = layers.GroupNormalization(groups=4)(x)
    x = layers.UpSampling1D(2)(x)                                         # (24, 8)
    x = layers.ZeroPadding1D((1, 2))(x)                                   # (27, 8)
    x = layers.Cropping1D((2, 1))(x)                                      # (24, 8)
    x = layers.EinsumDense("abc,cd->abd", (None, 4), bias_axes="d")(x)   # (24, 4)
    a = layers.Attention(use_scale=True)([x, x])
    b = layers.AdditiveAttention()([x, a])
    x = layers.UnitNormalization()(b)
    x = layers.AlphaDropout(0.1, seed=2)(x)
    out = layers.Dense(2)(layers.GlobalAveragePooling1D()(x))
    model = keras.Model(inp, out)
    assert tuple(out.shape) == (None, 2)
    data = rng.standard_normal((8, 6, 4)).astype("float32")
    model.compile(optimizer="adam", loss="mse")
    model.fit(data, rng.standard_normal((8, 2)).astype("float32"), epochs=1, batch_size=4, verbose=0)
    want = model.predict(data, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), want, rtol=1e-5, atol=1e-6)
