"""keras.ops.nn and keras.ops.linalg against numpy float64 references."""
import math

import numpy as np
import pytest

import tensorlab as tl
from tensorlab.keras import ops
from tensorlab import keras
from tensorlab.keras.ops import linalg as L
from tensorlab.keras.ops import nn as N

KERAS_NN = ["relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "log_sigmoid", "leaky_relu",
            "hard_sigmoid", "hard_silu", "hard_swish", "elu", "selu", "gelu", "celu", "glu", "tanh_shrink",
            "hard_tanh", "soft_shrink", "hard_shrink", "squareplus", "sparse_plus", "threshold", "softmax",
            "log_softmax", "one_hot", "multi_hot", "binary_crossentropy", "categorical_crossentropy",
            "sparse_categorical_crossentropy", "conv", "conv_transpose", "depthwise_conv", "separable_conv",
            "max_pool", "average_pool", "moments", "batch_normalization", "normalize",
            # nn_ctc.py, nn_extra.py (Keras' polar is left out: tensorlab has no complex dtypes)
            "ctc_loss", "ctc_decode", "sparse_sigmoid", "sparsemax", "depth_to_space", "space_to_depth", "psnr",
            "dot_product_attention", "layer_normalization", "rms_normalization", "unfold", "fold",
            "adaptive_average_pool", "adaptive_max_pool"]
KERAS_LINALG = ["cholesky", "det", "inv", "solve", "solve_triangular", "qr", "norm", "cholesky_inverse", "eig", "eigh",
                "lstsq", "lu_factor", "matrix_rank", "pinv", "svd", "jvp"]


def _sig(x):
    return 1 / (1 + np.exp(-x))


def _erf(x):
    return np.vectorize(math.erf)(x)


_SELU_A, _SELU_S = 1.6732632423543772, 1.0507009873554805
ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": _sig,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (np.abs(x) + 1),
    "silu": lambda x: x * _sig(x),
    "log_sigmoid": lambda x: np.log(_sig(x)),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hard_silu": lambda x: x * np.clip(x / 6 + 0.5, 0, 1),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: _SELU_S * np.where(x > 0, x, _SELU_A * np.expm1(x)),
    "gelu": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
    "celu": lambda x: np.maximum(x, 0) + np.minimum(0, np.expm1(x)),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "soft_shrink": lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "squareplus": lambda x: (x + np.sqrt(x ** 2 + 4)) / 2,
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x)),
}


def test_names_match_keras_and_are_callable():
    assert sorted(N.__all__) == sorted(KERAS_NN)
    assert sorted(L.__all__) == sorted(KERAS_LINALG)
    for mod in (N, L):
        for name in mod.__all__:
            assert callable(getattr(mod, name)), name


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_numpy(name, rng):
    x = rng.normal(scale=3.0, size=(4, 7))
    np.testing.assert_allclose(getattr(N, name)(x).numpy(), ACTIVATIONS[name](x), rtol=1e-5, atol=1e-6)


def test_activation_arguments(rng):
    x = rng.normal(scale=3.0, size=(5, 6))
    np.testing.assert_allclose(N.leaky_relu(x, negative_slope=0.5).numpy(), np.where(x >= 0, x, 0.5 * x))
    np.testing.assert_allclose(N.elu(x, alpha=2.0).numpy(), np.where(x > 0, x, 2 * np.expm1(x)), rtol=1e-6)
    np.testing.assert_allclose(N.gelu(x, approximate=False).numpy(), 0.5 * x * (1 + _erf(x / np.sqrt(2))),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(N.threshold(x, 0.3, -7.0).numpy(), np.where(x > 0.3, x, -7.0))
    np.testing.assert_allclose(N.glu(x).numpy(), x[:, :3] * _sig(x[:, 3:]), rtol=1e-6)
    assert N.swish is N.silu and N.hard_swish is N.hard_silu
    # integer input becomes floatx, as in Keras
    assert N.relu(np.array([-1, 2])).dtype == tl.float32


def test_softmax_and_log_softmax(rng):
    x = rng.normal(scale=4.0, size=(3, 4, 5))
    for axis in (-1, 0, 1):
        e = np.exp(x - x.max(axis, keepdims=True))
        ref = e / e.sum(axis, keepdims=True)
        np.testing.assert_allclose(N.softmax(x, axis=axis).numpy(), ref, rtol=1e-6, atol=1e-12)
        np.testing.assert_allclose(N.log_softmax(x, axis=axis).numpy(), np.log(ref), rtol=1e-6, atol=1e-10)
    e = np.exp(x - x.max((1, 2), keepdims=True))
    ref = e / e.sum((1, 2), keepdims=True)
    np.testing.assert_allclose(N.softmax(x, axis=(1, 2)).numpy(), ref, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(N.log_softmax(x, axis=(1, -1)).numpy(), np.log(ref), rtol=1e-6, atol=1e-10)


def test_gradients_match_numpy(rng):
    x = tl.constant(rng.normal(size=(3, 5)))
    with tl.GradientTape(persistent=True) as tape:
        tape.watch(x)
        s = tl.reduce_sum(N.silu(x))
        p = N.softmax(x)
        loss = tl.reduce_sum(p[:, 0])
        ce = tl.reduce_sum(N.categorical_crossentropy(np.eye(5)[[0, 2, 4]], x, from_logits=True))
    xv = x.numpy()
    sg = _sig(xv)
    np.testing.assert_allclose(tape.gradient(s, x).numpy(), sg * (1 + xv * (1 - sg)), rtol=1e-10)
    pv = p.numpy()
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(),
                               pv[:, :1] * ((np.arange(5) == 0) - pv), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(tape.gradient(ce, x).numpy(), pv - np.eye(5)[[0, 2, 4]], rtol=1e-10, atol=1e-14)


def test_one_hot_and_multi_hot(rng):
    labels = rng.integers(0, 6, size=(4, 3))
    ref = np.eye(6)[labels]
    out = N.one_hot(labels, 6)
    assert out.dtype == tl.float32
    np.testing.assert_array_equal(out.numpy(), ref)
    np.testing.assert_array_equal(N.one_hot(labels, 6, axis=1).numpy(), np.moveaxis(ref, -1, 1))
    assert N.one_hot(labels, 6, dtype="int32").dtype == tl.int32
    np.testing.assert_array_equal(N.one_hot([-1, 2], 3).numpy(), [[0, 0, 0], [0, 0, 1]])
    np.testing.assert_array_equal(N.multi_hot(labels, num_classes=6).numpy(), ref.max(1))
    np.testing.assert_array_equal(N.multi_hot(labels[0], 6).numpy(), ref[0].max(0))


def test_crossentropies(rng):
    eps = 1e-7
    logits = rng.normal(size=(6, 4))
    probs = rng.uniform(0.05, 1.0, size=(6, 4))
    labels = rng.integers(0, 4, size=6)
    onehot = np.eye(4)[labels]
    lsm = logits - logits.max(-1, keepdims=True)
    lsm = lsm - np.log(np.exp(lsm).sum(-1, keepdims=True))
    norm = np.clip(probs / probs.sum(-1, keepdims=True), eps, 1 - eps)
    np.testing.assert_allclose(N.categorical_crossentropy(onehot, logits, from_logits=True).numpy(),
                               -(onehot * lsm).sum(-1), rtol=1e-6)
    np.testing.assert_allclose(N.categorical_crossentropy(onehot, probs).numpy(), -(onehot * np.log(norm)).sum(-1),
                               rtol=1e-6)
    np.testing.assert_allclose(N.sparse_categorical_crossentropy(labels, logits, from_logits=True).numpy(),
                               -(onehot * lsm).sum(-1), rtol=1e-6)
    np.testing.assert_allclose(N.sparse_categorical_crossentropy(labels[:, None], probs).numpy(),
                               -(onehot * np.log(norm)).sum(-1), rtol=1e-6)
    target = rng.uniform(size=(6, 4))
    p = np.clip(_sig(logits), eps, 1 - eps)
    ref = -(target * np.log(p) + (1 - target) * np.log(1 - p))
    np.testing.assert_allclose(N.binary_crossentropy(target, logits, from_logits=True).numpy(), ref, rtol=1e-5)
    np.testing.assert_allclose(N.binary_crossentropy(target, _sig(logits)).numpy(), ref, rtol=1e-5)


def _conv_ref(x, w, stride, pad_before, dilation=1):
    """NWC 1-D or NHWC 2-D cross-correlation, float64, with explicit zero padding."""
    nd = x.ndim - 2
    pads = [(0, 0)] + [(p, p2) for p, p2 in pad_before] + [(0, 0)]
    xp = np.pad(x, pads)
    k = w.shape[:nd]
    keff = [(kk - 1) * dilation + 1 for kk in k]
    out_sp = [(xp.shape[1 + i] - keff[i]) // stride + 1 for i in range(nd)]
    out = np.zeros((x.shape[0], *out_sp, w.shape[-1]))
    for idx in np.ndindex(*out_sp):
        sl = tuple(slice(idx[i] * stride, idx[i] * stride + keff[i], dilation) for i in range(nd))
        patch = xp[(slice(None),) + sl]
        out[(slice(None),) + idx] = np.tensordot(patch, w, axes=(list(range(1, nd + 2)), list(range(nd + 1))))
    return out


def test_conv_matches_numpy(rng):
    x = rng.normal(size=(2, 7, 8, 3))
    w = rng.normal(size=(3, 3, 3, 4))
    np.testing.assert_allclose(N.conv(x, w).numpy(), _conv_ref(x, w, 1, [(0, 0), (0, 0)]), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(N.conv(x, w, strides=2, padding="same").numpy(),
                               _conv_ref(x, w, 2, [(1, 1), (0, 1)]), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(N.conv(x, w, dilation_rate=2).numpy(), _conv_ref(x, w, 1, [(0, 0), (0, 0)], 2),
                               rtol=1e-9, atol=1e-10)
    xc = np.transpose(x, (0, 3, 1, 2))
    np.testing.assert_allclose(N.conv(xc, w, data_format="channels_first").numpy(),
                               np.transpose(_conv_ref(x, w, 1, [(0, 0), (0, 0)]), (0, 3, 1, 2)), rtol=1e-9, atol=1e-10)
    x1, w1 = rng.normal(size=(2, 9, 3)), rng.normal(size=(2, 3, 5))
    np.testing.assert_allclose(N.conv(x1, w1).numpy(), _conv_ref(x1, w1, 1, [(0, 0)]), rtol=1e-9, atol=1e-10)


def test_depthwise_separable_and_transpose(rng):
    x = rng.normal(size=(2, 6, 7, 3))
    dw = rng.normal(size=(3, 3, 3, 2))
    ref = np.concatenate([_conv_ref(x[..., c:c + 1], dw[:, :, c:c + 1, :], 1, [(0, 0), (0, 0)]) for c in range(3)],
                         axis=-1)
    np.testing.assert_allclose(N.depthwise_conv(x, dw).numpy(), ref, rtol=1e-9, atol=1e-10)
    pw = rng.normal(size=(1, 1, 6, 4))
    np.testing.assert_allclose(N.separable_conv(x, dw, pw).numpy(), ref @ pw[0, 0], rtol=1e-9, atol=1e-10)
    # conv_transpose is the gradient of conv with respect to its input
    wt = rng.normal(size=(3, 3, 4, 3))
    xt = tl.constant(rng.normal(size=(2, 13, 15, 4)))
    with tl.GradientTape() as tape:
        tape.watch(xt)
        y = N.conv(xt, wt, strides=2)
    dy = rng.normal(size=tuple(y.shape))
    grad = tape.gradient(y, xt, output_gradients=tl.constant(dy))
    out = N.conv_transpose(dy, wt, strides=2)
    assert tuple(out.shape) == (2, 13, 15, 4)
    np.testing.assert_allclose(out.numpy(), grad.numpy(), rtol=1e-9, atol=1e-10)
    assert tuple(N.conv_transpose(dy, wt, strides=2, padding="same").shape) == (2, 12, 14, 4)


def test_pooling(rng):
    x = rng.normal(size=(2, 6, 8, 3))
    win = x.reshape(2, 3, 2, 4, 2, 3)
    np.testing.assert_allclose(N.max_pool(x, 2).numpy(), win.max((2, 4)))
    np.testing.assert_allclose(N.average_pool(x, (2, 2)).numpy(), win.mean((2, 4)), rtol=1e-12)
    xc = np.transpose(x, (0, 3, 1, 2))
    np.testing.assert_allclose(N.max_pool(xc, 2, data_format="channels_first").numpy(),
                               np.transpose(win.max((2, 4)), (0, 3, 1, 2)))
    x1 = rng.normal(size=(2, 9, 3))
    np.testing.assert_allclose(N.max_pool(x1, 3, strides=1).numpy(),
                               np.stack([x1[:, i:i + 3].max(1) for i in range(7)], 1))
    assert tuple(N.average_pool(x, 3, strides=2, padding="same").shape) == (2, 3, 4, 3)


def test_moments_batch_normalization_normalize(rng):
    x = rng.normal(loc=2.0, size=(4, 5, 3))
    mean, var = N.moments(x, axes=[0, 1])
    np.testing.assert_allclose(mean.numpy(), x.mean((0, 1)), rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), x.var((0, 1)), rtol=1e-10)
    mk, vk = N.moments(x, axes=[1], keepdims=True)
    assert tuple(mk.shape) == tuple(vk.shape) == (4, 1, 3)
    scale, offset = rng.normal(size=3), rng.normal(size=3)
    out = N.batch_normalization(x, mean, var, axis=-1, offset=offset, scale=scale, epsilon=1e-3)
    np.testing.assert_allclose(out.numpy(), (x - x.mean((0, 1))) / np.sqrt(x.var((0, 1)) + 1e-3) * scale + offset,
                               rtol=1e-10)
    m1, v1 = x.mean((0, 2)), x.var((0, 2))
    np.testing.assert_allclose(N.batch_normalization(x, m1, v1, axis=1).numpy(),
                               (x - m1[:, None]) / np.sqrt(v1[:, None] + 1e-3), rtol=1e-10)
    np.testing.assert_allclose(N.normalize(x).numpy(), x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-10)
    np.testing.assert_allclose(N.normalize(x, axis=1, order=1).numpy(), x / np.abs(x).sum(1, keepdims=True),
                               rtol=1e-10)


def test_symbolic_shapes():
    x = keras.Input((6, 8, 3))
    assert tuple(N.conv(x, np.ones((3, 3, 3, 5), "float32")).shape) == (None, 4, 6, 5)
    assert tuple(N.max_pool(x, 2).shape) == (None, 3, 4, 3)
    assert tuple(N.conv_transpose(x, np.ones((3, 3, 2, 3), "float32"), strides=2).shape) == (None, 13, 17, 2)
    assert tuple(N.softmax(x).shape) == (None, 6, 8, 3)
    assert tuple(N.moments(x, [1, 2])[1].shape) == (None, 3)
    assert tuple(N.one_hot(keras.Input((4,), dtype="int32"), 7).shape) == (None, 4, 7)


def test_linalg_matches_numpy(rng):
    a = rng.normal(size=(3, 4, 4))
    spd = a @ np.swapaxes(a, -1, -2) + 4 * np.eye(4)
    b = rng.normal(size=(3, 4, 2))
    chol = np.linalg.cholesky(spd)
    np.testing.assert_allclose(L.cholesky(spd).numpy(), chol, rtol=1e-10)
    np.testing.assert_allclose(L.cholesky(spd, upper=True).numpy(), np.swapaxes(chol, -1, -2), rtol=1e-10)
    np.testing.assert_allclose(L.det(a).numpy(), np.linalg.det(a), rtol=1e-9)
    np.testing.assert_allclose(L.inv(a).numpy(), np.linalg.inv(a), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(L.solve(a, b).numpy(), np.linalg.solve(a, b), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(L.solve(a[0], b[0, :, 0]).numpy(), np.linalg.solve(a[0], b[0, :, 0]), rtol=1e-8)
    up = np.triu(a[0]) + 4 * np.eye(4)
    np.testing.assert_allclose(L.solve_triangular(up, b[0]).numpy(), np.linalg.solve(up, b[0]), rtol=1e-9)
    np.testing.assert_allclose(L.solve_triangular(up.T, b[0], lower=True).numpy(), np.linalg.solve(up.T, b[0]),
                               rtol=1e-9)
    m = rng.normal(size=(5, 3))
    q, r = L.qr(m)
    assert tuple(q.shape) == (5, 3) and tuple(r.shape) == (3, 3)
    np.testing.assert_allclose((q @ r).numpy(), m, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(np.triu(r.numpy()), r.numpy())
    qc, rc = L.qr(m, mode="complete")
    assert tuple(qc.shape) == (5, 5) and tuple(rc.shape) == (5, 3)
    np.testing.assert_allclose((qc @ rc).numpy(), m, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("ord_, axis", [(None, None), (None, 1), (1, -1), (np.inf, 2), (-np.inf, 0), (0, 1),
                                        (3, 1), ("fro", (1, 2)), (1, (1, 2)), (-1, (2, 1)), (np.inf, (1, 2)),
                                        (-np.inf, (0, 2))])
def test_norm_matches_numpy(ord_, axis, rng):
    x = rng.normal(size=(3, 4, 5))
    for keepdims in (False, True):
        np.testing.assert_allclose(L.norm(x, ord_, axis, keepdims).numpy(), np.linalg.norm(x, ord_, axis, keepdims),
                                   rtol=1e-10)


def test_error_bad_arguments(rng):
    x = rng.normal(size=(2, 6, 6, 3))
    with pytest.raises(ValueError, match="padding"):
        N.conv(x, np.ones((3, 3, 3, 2)), padding="full")
    with pytest.raises(ValueError, match="data_format"):
        N.max_pool(x, 2, data_format="NHWC")
    with pytest.raises(ValueError, match="strides"):
        N.conv(x, np.ones((3, 3, 3, 2)), strides=0)
    with pytest.raises(ValueError, match="rank"):
        N.conv(rng.normal(size=(1, 4, 4, 4, 2)), np.ones((2, 2, 2, 2, 2)))
    with pytest.raises(ValueError, match="same shape"):
        N.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="same shape"):
        N.sparse_categorical_crossentropy(np.ones((3,), "int32"), np.ones((2, 4)))
    with pytest.raises(ValueError, match="num_classes"):
        N.one_hot([1, 2], 0)
    with pytest.raises(ValueError, match="sparse"):
        N.one_hot([1, 2], 3, sparse=True)
    with pytest.raises(ValueError, match="even"):
        N.glu(rng.normal(size=(2, 3)))
    with pytest.raises(ValueError, match="square"):
        L.inv(rng.normal(size=(3, 4)))
    with pytest.raises(ValueError, match="mode"):
        L.qr(rng.normal(size=(3, 3)), mode="full")
    with pytest.raises(ValueError, match="ord"):
        L.norm(rng.normal(size=(3, 3)), ord="nuc", axis=(0, 1))
    with pytest.raises(ValueError, match="axis"):
        L.norm(rng.normal(size=(3, 3)), axis=(0, 1, 2))


# ------------------------------------------------------------------ ops.image
def _bilinear_ref(img, out_h, out_w):
    """Half-pixel-centered bilinear resize of one [H, W, C] image, float64."""
    h, w, _ = img.shape
    ys = np.clip((np.arange(out_h) + 0.5) * h / out_h - 0.5, 0, h - 1)
    xs = np.clip((np.arange(out_w) + 0.5) * w / out_w - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bot = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    return top * (1 - wy) + bot * wy


def test_image_resize_matches_bilinear_reference_in_both_layouts(rng):
    x = rng.uniform(-1, 1, size=(2, 5, 7, 3))
    want = np.stack([_bilinear_ref(im, 8, 4) for im in x])
    got = ops.image.resize(x, (8, 4))
    np.testing.assert_allclose(ops.convert_to_numpy(got), want, rtol=1e-6, atol=1e-6)
    first = ops.image.resize(np.transpose(x, (0, 3, 1, 2)), (8, 4), data_format="channels_first")
    np.testing.assert_allclose(ops.convert_to_numpy(first), np.transpose(want, (0, 3, 1, 2)), rtol=1e-6, atol=1e-6)
    assert tuple(ops.image.resize(x[0], (3, 3)).shape) == (3, 3, 3)
    assert tuple(ops.image.resize(x, (6, 6), crop_to_aspect_ratio=True).shape) == (2, 6, 6, 3)
    padded = ops.convert_to_numpy(ops.image.resize(x, (7, 7), pad_to_aspect_ratio=True, fill_value=5.0))
    assert padded.shape == (2, 7, 7, 3) and np.allclose(padded[:, 0], 5.0)   # the short side was padded


def test_image_affine_transform_translates_and_fills(rng):
    x = rng.uniform(1, 2, size=(2, 4, 5, 1))
    shift = [1, 0, -2, 0, 1, -1, 0, 0]          # output (x, y) reads input (x - 2, y - 1)
    got = ops.convert_to_numpy(ops.image.affine_transform(x, shift, fill_value=0.0))
    want = np.zeros_like(x)
    want[:, 1:, 2:] = x[:, :-1, :-2]
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    one = ops.convert_to_numpy(ops.image.affine_transform(x[0], shift, interpolation="nearest"))
    np.testing.assert_allclose(one, want[0], rtol=1e-6, atol=1e-6)


def test_error_image_ops():
    with pytest.raises(ValueError, match="resize: interpolation must be one of"):
        ops.image.resize(np.ones((1, 4, 4, 1), np.float32), (2, 2), interpolation="bicubic")
    with pytest.raises(ValueError, match=r"resize: images must be 3-D .* received shape \(4, 4\)"):
        ops.image.resize(np.ones((4, 4), np.float32), (2, 2))
    with pytest.raises(ValueError, match=r"affine_transform: transform must have shape \[8\]"):
        ops.image.affine_transform(np.ones((1, 4, 4, 1), np.float32), [1, 0, 0])
