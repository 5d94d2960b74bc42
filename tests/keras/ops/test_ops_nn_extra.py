"""keras.ops.nn additions (nn_ctc.py, nn_extra.py) against float64 numpy versions of Keras'
formulas and against the real Keras where it imports: CTC loss and decoding, attention,
layer/RMS normalization, pixel shuffles, PSNR, sparse activations, unfold/fold, adaptive
pooling; gradients vs finite differences; error messages."""
import itertools
import math

import numpy as np
import pytest

import tensorlab as tl
from tensorlab.keras import ops
from tests.keras.ops.helpers import check
from tests.keras.real_keras import K, needs_keras


def _keras(fn, *args, **kwargs):
    """The real Keras' ``fn`` on host arrays (converted to its backend's tensors), as numpy."""
    conv = [K.ops.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    return K.ops.convert_to_numpy(fn(*conv, **kwargs))


def _fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


def _grad(fn, x, w):
    t = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(t)
        y = tl.reduce_sum(fn(t) * w)
    return tape.gradient(y, t).numpy()


def check_grad(fn, x, rng, rtol=1e-6):
    """``fn``'s gradient (float64) against central differences of a random weighting of its output."""
    w = rng.uniform(0.5, 1.5, size=tuple(fn(tl.constant(x)).shape))
    num = _fd_grad(lambda v: float(tl.reduce_sum(fn(tl.constant(v)) * w).numpy()), x)
    np.testing.assert_allclose(_grad(fn, x, w), num, rtol=rtol, atol=rtol * max(1.0, np.abs(num).max()))


# ----------------------------------------------------------------------------- activations
def _sparsemax_np(x, axis=-1):
    x = np.moveaxis(x, axis, -1)
    z = -np.sort(-x, axis=-1)
    k = np.arange(1, x.shape[-1] + 1)
    cs = np.cumsum(z, axis=-1)
    support = 1 + k * z > cs
    size = support.sum(-1, keepdims=True)
    tau = (np.take_along_axis(cs, size - 1, -1) - 1) / size
    return np.moveaxis(np.maximum(x - tau, 0), -1, axis)


def test_sparse_sigmoid_and_sparsemax(rng):
    x = rng.normal(scale=2.0, size=(3, 4, 5))
    check(ops.sparse_sigmoid(x), np.clip(0.5 * (x + 1), 0, 1))
    for axis in (-1, 1):
        y = ops.sparsemax(x, axis=axis).numpy()
        check(y, _sparsemax_np(x, axis))
        np.testing.assert_allclose(y.sum(axis), 1.0)
    check_grad(lambda t: ops.sparsemax(t), rng.normal(size=(2, 6)), rng)


@needs_keras
def test_sparse_activations_match_keras(rng):
    x = rng.normal(size=(4, 6)).astype("float32")
    check(ops.sparse_sigmoid(x), _keras(K.ops.sparse_sigmoid, x), rtol=1e-6, atol=1e-6)
    # Keras 3.15 sums cumulative sums over the support: equal to the paper only with one survivor.
    dominant = x + 8.0 * np.eye(4, 6, dtype="float32")
    check(ops.sparsemax(dominant), _keras(K.ops.sparsemax, dominant), rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------- pixel shuffles, PSNR
def _d2s_np(x, b, fmt):
    if fmt == "channels_last":
        n, h, w, c = x.shape
        y = x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5)
        return y.reshape(n, h * b, w * b, c // (b * b))
    n, c, h, w = x.shape
    y = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return y.reshape(n, c // (b * b), h * b, w * b)


@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
def test_depth_to_space_and_back(fmt, rng):
    x = rng.normal(size=(2, 3, 4, 8) if fmt == "channels_last" else (2, 8, 3, 4))
    y = ops.depth_to_space(x, 2, data_format=fmt)
    check(y, _d2s_np(x, 2, fmt))
    check(ops.space_to_depth(y, 2, data_format=fmt), x)
    if K is not None:
        check(y, _keras(K.ops.depth_to_space, x.astype("float32"), 2, data_format=fmt), rtol=1e-6, atol=1e-6)


def test_psnr(rng):
    a, b = rng.random((2, 5, 6, 3)), rng.random((2, 5, 6, 3))
    want = 20 * np.log10(2.0) - 10 * np.log10(np.mean((a - b) ** 2))
    check(ops.psnr(a, b, 2.0), want)
    if K is not None:
        check(ops.psnr(a.astype("float32"), b.astype("float32"), 2.0),
              _keras(K.ops.psnr, a.astype("float32"), b.astype("float32"), 2.0), rtol=1e-5)


# ----------------------------------------------------------------------------- attention
def _attention_np(q, k, v, bias=None, mask=None, scale=None, is_causal=False):
    groups = q.shape[2] // k.shape[2]
    k, v = np.repeat(k, groups, axis=2), np.repeat(v, groups, axis=2)
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    logits = np.einsum("btnh,bsnh->bnts", q, k) * scale
    if bias is not None:
        logits = logits + bias
    keep = np.ones(logits.shape, bool)
    if mask is not None:
        keep &= mask
    if is_causal:
        keep &= np.tril(np.ones(logits.shape[-2:], bool))
    logits = np.where(keep, logits, -0.7 * 3.38953e38)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bnts,bsnh->btnh", p, v)


@pytest.mark.parametrize("kv_heads", [4, 2, 1])
def test_dot_product_attention(kv_heads, rng):
    q = rng.normal(size=(2, 5, 4, 8))
    k, v = rng.normal(size=(2, 7, kv_heads, 8)), rng.normal(size=(2, 7, kv_heads, 8))
    check(ops.dot_product_attention(q, k, v), _attention_np(q, k, v))
    check(ops.dot_product_attention(q, k, v, is_causal=True, scale=0.3), _attention_np(q, k, v, scale=0.3,
                                                                                        is_causal=True))
    mask, bias = rng.random((2, 1, 5, 7)) > 0.3, rng.normal(size=(1, 4, 5, 7))
    check(ops.dot_product_attention(q, k, v, bias=bias, mask=mask, flash_attention=True),
          _attention_np(q, k, v, bias=bias, mask=mask))
    if K is not None and kv_heads == 4:
        f = [a.astype("float32") for a in (q, k, v)]
        check(ops.dot_product_attention(*f, is_causal=True), _keras(K.ops.dot_product_attention, *f, is_causal=True),
              rtol=1e-5, atol=1e-5)
        check(ops.dot_product_attention(*f, mask=mask), _keras(K.ops.dot_product_attention, *f, mask=mask),
              rtol=1e-5, atol=1e-5)


def test_dot_product_attention_gradient_and_errors(rng):
    k, v = rng.normal(size=(1, 3, 2, 4)), rng.normal(size=(1, 3, 2, 4))
    check_grad(lambda t: ops.dot_product_attention(t, tl.constant(k), tl.constant(v), is_causal=True),
               rng.normal(size=(1, 3, 2, 4)), rng)
    with pytest.raises(ValueError, match="dot_product_attention: only 4-D inputs.*query.shape=\\(3, 2, 4\\)"):
        ops.dot_product_attention(np.zeros((3, 2, 4)), k, v)
    with pytest.raises(ValueError, match="dot_product_attention: .*multiple of K"):
        ops.dot_product_attention(np.zeros((1, 3, 3, 4)), k, v)
    with pytest.raises(ValueError, match="attn_logits_soft_cap is only supported for JAX on TPU"):
        ops.dot_product_attention(k, k, v, attn_logits_soft_cap=2.0)


# ----------------------------------------------------------------------------- normalization
def test_layer_and_rms_normalization(rng):
    x = rng.normal(size=(3, 4, 5))
    g, b = rng.normal(size=(5,)), rng.normal(size=(5,))
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    check(ops.layer_normalization(x, g, b), (x - mean) / np.sqrt(var + 1e-7) * g + b)
    g2 = rng.normal(size=(4, 5))
    mean, var = x.mean((1, 2), keepdims=True), x.var((1, 2), keepdims=True)
    check(ops.layer_normalization(x, g2, axis=(1, 2), epsilon=1e-3), (x - mean) / np.sqrt(var + 1e-3) * g2)
    check(ops.rms_normalization(x, g), x / np.sqrt((x ** 2).mean(-1, keepdims=True) + 1e-7) * g)
    with pytest.warns(UserWarning, match="rms_scaling=True is deprecated"):
        y = ops.layer_normalization(x, g, rms_scaling=True)
    check(y, x / np.sqrt(x.var(-1, keepdims=True) + 1e-7) * g)
    half = ops.layer_normalization(x.astype("float16"))
    assert half.dtype == tl.float16
    check_grad(lambda t: ops.layer_normalization(t, tl.constant(g), tl.constant(b)), x[0], rng)
    check_grad(lambda t: ops.rms_normalization(t, tl.constant(g)), x[0], rng)
    if K is not None:
        f = x.astype("float32")
        check(ops.layer_normalization(f, g, b), _keras(K.ops.layer_normalization, f, g.astype("float32"),
                                                       b.astype("float32")), rtol=1e-4, atol=1e-5)
        check(ops.rms_normalization(f, g), _keras(K.ops.rms_normalization, f, g.astype("float32")), rtol=1e-4,
              atol=1e-5)
    with pytest.raises(ValueError, match=r"layer_normalization: axis must be an int or a list of ints in \[-3, 3\)"):
        ops.layer_normalization(x, axis=3)


# ----------------------------------------------------------------------------- unfold / fold
def _unfold_np(x, k, d, p, s):
    n, c, h, w = x.shape
    x = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    oh = (x.shape[2] - d[0] * (k[0] - 1) - 1) // s[0] + 1
    ow = (x.shape[3] - d[1] * (k[1] - 1) - 1) // s[1] + 1
    out = np.zeros((n, c, k[0], k[1], oh * ow))
    for i, j in itertools.product(range(k[0]), range(k[1])):
        rows = (np.arange(oh)[:, None] * s[0] + i * d[0]).repeat(ow, 1).ravel()
        cols = (np.arange(ow)[None, :] * s[1] + j * d[1]).repeat(oh, 0).ravel()
        out[:, :, i, j] = x[:, :, rows, cols]
    return out.reshape(n, c * k[0] * k[1], oh * ow)


def test_unfold_and_fold_are_adjoint(rng):
    x = rng.normal(size=(2, 3, 7, 6))
    args = dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    cols = ops.unfold(x, **args)
    check(cols, _unfold_np(x, (2, 3), (1, 2), (1, 1), (2, 1)))
    y = rng.normal(size=tuple(cols.shape))
    # <unfold(x), y> == <x, fold(y)>: fold is unfold's adjoint (col2im)
    np.testing.assert_allclose(np.sum(cols.numpy() * y), np.sum(x * ops.fold(y, (7, 6), **args).numpy()))
    check_grad(lambda t: ops.fold(t, (4, 4), 2, stride=2), rng.normal(size=(1, 8, 4)), rng)
    if K is not None:
        f = x.astype("float32")
        check(cols.numpy().astype("float32"), _keras(K.ops.unfold, f, **args), rtol=1e-6)
        check(ops.fold(y.astype("float32"), (7, 6), **args), _keras(K.ops.fold, y.astype("float32"), (7, 6), **args),
              rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match=r"fold: x of shape \(1, 8, 5\) does not match kernel_size"):
        ops.fold(np.zeros((1, 8, 5)), (4, 4), 2, stride=2)
    with pytest.raises(ValueError, match=r"unfold: x must be 4-D \(N, C, H, W\)"):
        ops.unfold(np.zeros((3, 4, 4)), 2)


# ----------------------------------------------------------------------------- adaptive pooling
def _adaptive_np(x, out, reduce):
    """Channels-last ``x``; window j of n cells: [floor(j n / o), ceil((j + 1) n / o))."""
    spatial = x.shape[1:-1]
    result = np.zeros((x.shape[0],) + tuple(out) + (x.shape[-1],))
    for idx in np.ndindex(*out):
        sl = tuple(slice(j * n // o, -(-(j + 1) * n // o)) for j, n, o in zip(idx, spatial, out))
        result[(slice(None),) + idx] = reduce(x[(slice(None),) + sl].reshape(x.shape[0], -1, x.shape[-1]), axis=1)
    return result


@pytest.mark.parametrize("shape,out", [((2, 11, 3), (4,)), ((2, 9, 7, 2), (4, 3)), ((1, 5, 6, 7, 2), (2, 3, 4))])
def test_adaptive_pooling(shape, out, rng):
    x = rng.normal(size=shape)
    check(ops.adaptive_average_pool(x, out), _adaptive_np(x, out, np.mean))
    check(ops.adaptive_max_pool(x, out), _adaptive_np(x, out, np.max))
    first = np.moveaxis(x, -1, 1)
    check(ops.adaptive_max_pool(first, out, data_format="channels_first"),
          np.moveaxis(_adaptive_np(x, out, np.max), -1, 1))
    if K is not None and len(shape) == 4:
        f = x.astype("float32")
        check(ops.adaptive_average_pool(f, out), _keras(K.ops.adaptive_average_pool, f, out), rtol=1e-5, atol=1e-6)


def test_adaptive_pooling_gradient_and_errors(rng):
    check_grad(lambda t: ops.adaptive_average_pool(t, 3), rng.normal(size=(1, 7, 5, 1)), rng)
    with pytest.raises(ValueError, match=r"adaptive_max_pool: output_size must be an int >= 1 or a tuple of 2"):
        ops.adaptive_max_pool(np.zeros((1, 4, 4, 1)), (2, 2, 2))
    with pytest.raises(ValueError, match=r"adaptive_average_pool: inputs must be 3-D, 4-D or 5-D"):
        ops.adaptive_average_pool(np.zeros((4, 4)), 2)


# ----------------------------------------------------------------------------- CTC
def _log_softmax(x):
    return x - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True)) - x.max(-1, keepdims=True)


def _collapse(path, blank):
    out = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
    return tuple(out)


def _brute_force(logits, blank):
    """Every label sequence's probability, summed over all alignments (exact, for tiny inputs)."""
    lp = _log_softmax(logits)
    total = {}
    for path in itertools.product(range(lp.shape[1]), repeat=lp.shape[0]):
        p = math.exp(sum(lp[t, c] for t, c in enumerate(path)))
        key = _collapse(path, blank)
        total[key] = total.get(key, 0.0) + p
    return total


def test_ctc_loss_matches_brute_force(rng):
    logits = rng.normal(size=(2, 4, 3))
    labels = np.array([[1, 2], [2, 0]])
    loss = ops.ctc_loss(labels, logits, np.array([2, 1]), np.array([4, 4]))
    want = [-math.log(_brute_force(logits[0], 0)[(1, 2)]), -math.log(_brute_force(logits[1], 0)[(2,)])]
    check(loss, np.array(want), rtol=1e-10)


def test_ctc_greedy_decode(rng):
    x = rng.normal(size=(3, 6, 4))
    lengths = np.array([6, 4, 1])
    paths, scores = ops.ctc_decode(x, lengths)
    best = x.argmax(-1)
    want = np.full((3, 6), -1)
    for b in range(3):
        decoded = _collapse(list(best[b, :lengths[b]]), 0)
        want[b, :len(decoded)] = decoded
    check(paths, want[None])
    check(scores, -np.array([[x[b, :lengths[b]].max(-1).sum()] for b in range(3)]))
    unmerged, _ = ops.ctc_decode(x, lengths, merge_repeated=False, mask_index=None)
    kept = [[c for c in best[b, :lengths[b]] if c != 3] for b in range(3)]
    check(unmerged[0, :, :2], np.array([(k + [-1, -1])[:2] for k in kept]))


def test_ctc_beam_search_finds_the_most_probable_labels(rng):
    x = rng.normal(scale=2.0, size=(2, 4, 3))
    paths, scores = ops.ctc_decode(x, [4, 4], strategy="beam_search", beam_width=30, top_paths=3)
    assert tuple(paths.shape) == (3, 2, 4) and tuple(scores.shape) == (2, 3)
    for b in range(2):
        ranked = sorted(_brute_force(x[b], 0).items(), key=lambda kv: -kv[1])[:3]
        for k, (labels, p) in enumerate(ranked):
            got = tuple(int(c) for c in paths.numpy()[k, b] if c >= 0)
            assert got == labels
            np.testing.assert_allclose(scores.numpy()[b, k], math.log(p), rtol=1e-10)


@needs_keras
def test_ctc_matches_keras(rng):
    x = rng.normal(size=(3, 8, 5)).astype("float32")
    labels, lab_len, frames = np.array([[1, 2, 0], [3, 3, 1], [4, 0, 0]]), np.array([2, 3, 1]), np.array([8, 7, 5])
    check(ops.ctc_loss(labels, x, lab_len, frames), _keras(K.ops.ctc_loss, labels, x, lab_len, frames), rtol=1e-4,
          atol=1e-4)
    for kwargs in ({}, {"merge_repeated": False, "mask_index": None},
                   {"strategy": "beam_search", "beam_width": 4, "top_paths": 3}):
        got = ops.ctc_decode(x, frames, **kwargs)
        want = K.ops.ctc_decode(K.ops.convert_to_tensor(x), K.ops.convert_to_tensor(frames), **kwargs)
        check(got[0], K.ops.convert_to_numpy(want[0]))
        check(got[1], K.ops.convert_to_numpy(want[1]), rtol=1e-4, atol=1e-4)


def test_ctc_gradient_and_errors(rng):
    labels, frames = tl.constant([[1, 2]]), tl.constant([4])
    check_grad(lambda t: ops.ctc_loss(labels, t, tl.constant([2]), frames), rng.normal(size=(1, 4, 3)), rng,
               rtol=1e-5)
    with pytest.raises(ValueError, match="ctc_decode: invalid strategy 'best'; supported values are 'greedy' and"):
        ops.ctc_decode(np.zeros((1, 2, 3)), [2], strategy="best")
    with pytest.raises(ValueError, match=r"ctc_decode: top_paths \(3\) must be <= beam_width \(2\)"):
        ops.ctc_decode(np.zeros((1, 2, 3)), [2], strategy="beam_search", beam_width=2, top_paths=3)
    with pytest.raises(ValueError, match=r"ctc_loss: output must be logits of shape \(batch, frames, classes\)"):
        ops.ctc_loss([[1]], np.zeros((2, 3)), [1], [2])


def test_ops_on_functional_inputs(rng):
    from tensorlab import keras
    x, q = keras.Input((6, 6, 4)), keras.Input((5, 2, 4))
    y = ops.adaptive_average_pool(ops.layer_normalization(ops.depth_to_space(x, 2)), 3)
    z = ops.dot_product_attention(q, q, q, is_causal=True)
    model = keras.Model([x, q], [y, z])
    assert tuple(y.shape) == (None, 3, 3, 1) and tuple(z.shape) == (None, 5, 2, 4)
    data, seq = rng.normal(size=(2, 6, 6, 4)).astype("float32"), rng.normal(size=(2, 5, 2, 4)).astype("float32")
    got_y, got_z = model([data, seq])
    check(got_y, ops.adaptive_average_pool(ops.layer_normalization(ops.depth_to_space(data, 2)), 3).numpy(),
          rtol=1e-6, atol=1e-6)
    check(got_z, _attention_np(seq.astype("float64"), seq, seq, is_causal=True), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="ctc_decode: the beam search runs on concrete values"):
        ops.ctc_decode(keras.Input((6, 5)), keras.Input((), dtype="int32"), strategy="beam_search")


GPU_CASES = {
    "sparsemax": lambda x, q, m: ops.sparsemax(x),
    "attention": lambda x, q, m: ops.dot_product_attention(q, q, q, is_causal=True),
    "adaptive_max_pool": lambda x, q, m: ops.adaptive_max_pool(x, 3),
    "unfold": lambda x, q, m: ops.unfold(x, 2),
    "ctc_decode": lambda x, q, m: ops.ctc_decode(x[:, 0], tl.constant([5, 3]))[0],
    "map_coordinates": lambda x, q, m: ops.image.map_coordinates(m, tl.constant([[0.5, 2.2], [1.5, 0.1]]), 1),
    "perspective": lambda x, q, m: ops.image.perspective_transform(x, [[0, 0], [4, 0], [0, 4], [4, 4]],
                                                                   [[1, 0], [4, 1], [0, 3], [4, 4]]),
    "blur": lambda x, q, m: ops.image.gaussian_blur(x),
    "scale_and_translate": lambda x, q, m: ops.image.scale_and_translate(m, (3, 7), (0.7, 1.4), (0.0, 0.1), (0, 1),
                                                                         "cubic"),
    "lu_factor": lambda x, q, m: ops.linalg.lu_factor(m[:, :4])[0],
    "cholesky_inverse": lambda x, q, m: ops.linalg.cholesky_inverse(tl.linalg.band_part(m[:, :4], -1, 0) + 3.0),
}


@pytest.mark.gpu
@pytest.mark.parametrize("name", sorted(GPU_CASES))
def test_ops_follow_their_inputs_to_the_gpu(name, rng):
    arrays = (rng.random((2, 5, 5, 3)).astype("float32"), rng.normal(size=(2, 4, 2, 8)).astype("float32"),
              rng.random((4, 5)).astype("float32"))
    with tl.device("cpu"):
        want = GPU_CASES[name](*[tl.constant(a) for a in arrays])
    with tl.device("gpu:0"):
        on_gpu = [tl.constant(a) for a in arrays]
    got = GPU_CASES[name](*on_gpu)  # called outside the GPU scope: constants follow the inputs
    assert "GPU" in got.device
    check(got, want.numpy(), rtol=1e-4, atol=1e-5)
