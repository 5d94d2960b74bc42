"""tl.nn.local_response_normalization / lrn (ops/nn.py), atrous_conv2d (ops/conv.py) and
max_pool_with_argmax (ops/pooling.py), all composites: forward vs numpy float64, gradients vs
finite differences (second order too), shape rules, GPU vs CPU, argmax/gradient agreement on
ties, error messages."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import Case, S, op_tests


# ----------------------------------------------------------------- references
def _lrn_np(x, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5):
    c = x.shape[-1]
    sq = np.stack([np.sum(x[..., max(0, d - depth_radius):d + depth_radius + 1] ** 2, axis=-1) for d in range(c)], -1)
    return x / (bias + alpha * sq) ** beta


def _same_pads(size, k, s):
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return out, total // 2, total - total // 2


def _atrous_np(x, w, rate, padding):
    kh, kw, ci, co = w.shape
    wd = np.zeros(((kh - 1) * rate + 1, (kw - 1) * rate + 1, ci, co))
    wd[::rate, ::rate] = w
    eh, ew = wd.shape[:2]
    if padding == "SAME":
        (_, t, b), (_, l, r) = _same_pads(x.shape[1], eh, 1), _same_pads(x.shape[2], ew, 1)
        x = np.pad(x, [(0, 0), (t, b), (l, r), (0, 0)])
    oh, ow = x.shape[1] - eh + 1, x.shape[2] - ew + 1
    out = np.zeros((x.shape[0], oh, ow, co))
    for i in range(oh):
        for j in range(ow):
            out[:, i, j] = np.einsum("nhwc,hwco->no", x[:, i:i + eh, j:j + ew], wd)
    return out


def _argmax_pool_np(x, k, s, padding, include_batch=False):
    n, h, w, c = x.shape
    if padding == "SAME":
        (oh, top, _), (ow, left, _) = _same_pads(h, k[0], s[0]), _same_pads(w, k[1], s[1])
    else:
        oh, ow, top, left = (h - k[0]) // s[0] + 1, (w - k[1]) // s[1] + 1, 0, 0
    out = np.zeros((n, oh, ow, c), x.dtype)
    idx = np.zeros((n, oh, ow, c), np.int64)
    for b, i, j, ch in np.ndindex(n, oh, ow, c):
        best = None
        for di in range(k[0]):  # row-major within the window: the first maximum wins
            for dj in range(k[1]):
                y, xx = i * s[0] - top + di, j * s[1] - left + dj
                if 0 <= y < h and 0 <= xx < w and (best is None or x[b, y, xx, ch] > best[0]):
                    best = (x[b, y, xx, ch], y, xx)
        out[b, i, j, ch] = best[0]
        idx[b, i, j, ch] = (best[1] * w + best[2]) * c + ch + (b * h * w * c if include_batch else 0)
    return out, idx


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


# ----------------------------------------------------------------- cases
def _lrn(tag, shape, **kw):
    return Case(f"lrn[{tag}]", lambda x: tl.nn.local_response_normalization(x, **kw), lambda x: _lrn_np(x, **kw),
                [S(shape)])


def _atrous(tag, xs, ws, rate, padding):
    return Case(f"atrous_conv2d[{tag}]", lambda x, w: tl.nn.atrous_conv2d(x, w, rate, padding),
                lambda x, w: _atrous_np(x, w, rate, padding), [S(xs), S(ws)])


def _argmax(tag, shape, k, s, padding, include_batch=False, output_dtype=tl.int64):
    return Case(f"max_pool_with_argmax[{tag}]",
                lambda x: tuple(tl.nn.max_pool_with_argmax(x, k, s, padding, output_dtype=output_dtype,
                                                           include_batch_in_index=include_batch)),
                lambda x: _argmax_pool_np(x, _pair(k), _pair(s), padding, include_batch), [S(shape)])


CASES = [
    _lrn("defaults", (2, 3, 4, 7)),
    _lrn("radius 2,constants", (1, 2, 3, 12), depth_radius=2, bias=2.0, alpha=0.5, beta=0.75),
    _lrn("radius 0", (2, 2, 2, 3), depth_radius=0, bias=1.5, alpha=0.3, beta=1.0),
    _atrous("rate 2,valid", (2, 9, 8, 3), (3, 3, 3, 4), 2, "VALID"),
    _atrous("rate 3,same", (1, 7, 8, 2), (3, 2, 2, 3), 3, "SAME"),
    _atrous("rate 1,same", (2, 5, 5, 2), (3, 3, 2, 2), 1, "SAME"),
    _argmax("3x3/2,same", (2, 5, 7, 3), 3, 2, "SAME"),
    _argmax("2x2/2,valid,batch", (3, 6, 6, 2), 2, 2, "VALID", include_batch=True),
    _argmax("2x3/(1,2),same,int32", (1, 4, 5, 3), (2, 3), (1, 2), "SAME", output_dtype=tl.int32),
]

globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


# ----------------------------------------------------------------- semantics
def test_lrn_is_the_same_function_and_float32_matches(rng):
    assert tl.nn.lrn is tl.nn.local_response_normalization
    x = rng.normal(size=(2, 3, 3, 9)).astype(np.float32)
    got = tl.nn.lrn(tl.constant(x), depth_radius=3, bias=0.5, alpha=2.0, beta=0.75)
    assert got.dtype == tl.float32
    np.testing.assert_allclose(got.numpy(), _lrn_np(x.astype(np.float64), 3, 0.5, 2.0, 0.75), rtol=2e-5, atol=1e-6)


def test_atrous_conv2d_is_a_dilated_conv2d(rng):
    x, w = rng.normal(size=(2, 10, 9, 3)), rng.normal(size=(2, 3, 3, 5))
    for rate, padding in [(2, "SAME"), (4, "VALID")]:
        got = tl.nn.atrous_conv2d(tl.constant(x), tl.constant(w), rate, padding).numpy()
        want = tl.nn.conv2d(tl.constant(x), tl.constant(w), 1, padding, dilations=rate).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_max_pool_with_argmax_ties_go_where_the_gradient_goes(rng):
    x = rng.integers(0, 3, size=(2, 6, 7, 3)).astype(np.float64)  # many ties
    xt = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(xt)
        out, idx = tl.nn.max_pool_with_argmax(xt, 3, 2, "SAME", include_batch_in_index=True)
        w = rng.uniform(0.5, 1.5, size=tuple(out.shape))
        y = tl.reduce_sum(out * w)
    g = tape.gradient(y, xt).numpy().ravel()
    scattered = np.zeros(x.size)
    np.add.at(scattered, idx.numpy().ravel(), w.ravel())
    np.testing.assert_allclose(g, scattered, rtol=1e-12)
    np.testing.assert_array_equal(x.ravel()[idx.numpy()], out.numpy())
    _, ref_idx = _argmax_pool_np(x, (3, 3), (2, 2), "SAME", include_batch=True)
    np.testing.assert_array_equal(idx.numpy(), ref_idx)


def test_max_pool_with_argmax_integer_input_and_lowest_values():
    x = np.full((1, 3, 3, 1), np.iinfo(np.int32).min, np.int32)
    x[0, 2, 2, 0] = 5
    out, idx = tl.nn.max_pool_with_argmax(tl.constant(x), 2, 2, "SAME")
    assert out.dtype == tl.int32 and idx.dtype == tl.int64
    np.testing.assert_array_equal(out.numpy()[0, :, :, 0], [[x.min(), x.min()], [x.min(), 5]])
    # every index names a real cell of its window holding the maximum (padding never does)
    flat = idx.numpy()[0, :, :, 0]
    np.testing.assert_array_equal(x.ravel()[flat], out.numpy()[0, :, :, 0])
    assert flat[1, 1] == 8 and flat[0, 1] in (1, 2, 4, 5) and flat[1, 0] in (3, 4, 6, 7)
    neg = tl.constant([[[[-np.inf], [-np.inf]], [[-np.inf], [-np.inf]]]])
    assert tl.nn.max_pool_with_argmax(neg, 3, 2, "SAME").argmax.numpy().ravel()[0] in range(4)


def test_nn_extra_symbolic_shapes():
    sym = tl.SymbolicTensor
    assert tuple(tl.nn.lrn(sym((None, 4, 4, 6))).shape) == (None, 4, 4, 6)
    assert tuple(tl.nn.atrous_conv2d(sym((None, 9, 9, 3)), sym((3, 3, 3, 8)), 2, "VALID").shape) == (None, 5, 5, 8)
    out, idx = tl.nn.max_pool_with_argmax(sym((None, 5, 5, 3)), 3, 2, "SAME", output_dtype=tl.int32)
    assert tuple(out.shape) == tuple(idx.shape) == (None, 3, 3, 3) and idx.dtype == tl.int32


# ----------------------------------------------------------------- errors
_IAE = tl.errors.InvalidArgumentError


def test_error_lrn():
    with pytest.raises(_IAE, match=r"local_response_normalization: input must have rank 4 \(NHWC\).*\[2,3,4\]"):
        tl.nn.lrn(tl.ones([2, 3, 4]))
    with pytest.raises(_IAE, match=r"local_response_normalization: depth_radius must be an integer >= 0, got -1"):
        tl.nn.lrn(tl.ones([1, 2, 2, 3]), depth_radius=-1)
    with pytest.raises(TypeError, match=r"local_response_normalization: expected a floating-point tensor"):
        tl.nn.lrn(tl.ones([1, 2, 2, 3], dtype=tl.int32))


def test_error_atrous_conv2d():
    x, w = tl.ones([1, 5, 5, 2]), tl.ones([3, 3, 2, 4])
    for rate in (0, 1.5, True):
        with pytest.raises(_IAE, match=rf"atrous_conv2d: rate must be a positive integer .*got {rate!r}"):
            tl.nn.atrous_conv2d(x, w, rate, "SAME")
    with pytest.raises(_IAE, match=r"atrous_conv2d: padding must be 'SAME' or 'VALID'"):
        tl.nn.atrous_conv2d(x, w, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])
    with pytest.raises(_IAE, match=r"atrous_conv2d: .*input depth 3.*filter's in_channels 2"):
        tl.nn.atrous_conv2d(tl.ones([1, 5, 5, 3]), w, 2, "SAME")
    with pytest.raises(_IAE, match=r"atrous_conv2d: the window \(size 3, dilation 3, so 7 wide\) is larger than "
                                   r"the padded input"):
        tl.nn.atrous_conv2d(x, w, 3, "VALID")


def test_error_max_pool_with_argmax():
    x = tl.ones([1, 4, 4, 2])
    with pytest.raises(_IAE, match=r"max_pool_with_argmax: padding must be 'SAME' or 'VALID'"):
        tl.nn.max_pool_with_argmax(x, 2, 2, [[0, 0], [1, 1], [1, 1], [0, 0]])
    with pytest.raises(TypeError, match=r"max_pool_with_argmax: output_dtype must be int32 or int64, got float32"):
        tl.nn.max_pool_with_argmax(x, 2, 2, "SAME", output_dtype=tl.float32)
    with pytest.raises(_IAE, match=r"max_pool_with_argmax: input must have rank 4 \(NHWC\).*\[4,4,2\]"):
        tl.nn.max_pool_with_argmax(tl.ones([4, 4, 2]), 2, 2, "SAME")
    with pytest.raises(_IAE, match=r"max_pool_with_argmax: the batch size, height, width and depth .*\[\?,4,4,2\]"):
        tl.nn.max_pool_with_argmax(tl.SymbolicTensor((None, 4, 4, 2)), 2, 2, "SAME", include_batch_in_index=True)
    with pytest.raises(_IAE, match=r"max_pool_with_argmax: data_format"):
        tl.nn.max_pool_with_argmax(x, 2, 2, "SAME", data_format="NCHW")
