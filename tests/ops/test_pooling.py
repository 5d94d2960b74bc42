"""Pooling: forward vs direct loops in float64 (TF's padding and averaging
rules), gradients vs finite differences, the grad primitives' own gradients,
tie-breaking, shape rules and error messages."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorlab as tl
from tests.ops.harness import (Case, S, check_forward, check_grad, check_gpu_matches_cpu,
                               check_second, check_shape_rule)


# ----------------------------------------------------------------- direct references
def _same(size, k, s):
    out = (size + s - 1) // s
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


def _geometry(shape, ksize, strides, padding):
    _, h, w, _ = shape
    if padding == "VALID":
        pads = (0, 0, 0, 0)
    elif padding == "SAME":
        pads = _same(h, ksize[0], strides[0]) + _same(w, ksize[1], strides[1])
    else:
        (t, b), (l, r) = padding[1:3]
        pads = (t, b, l, r)
    oh = (h + pads[0] + pads[1] - ksize[0]) // strides[0] + 1
    ow = (w + pads[2] + pads[3] - ksize[1]) // strides[1] + 1
    return pads, oh, ow


def _cells(i, pad, k, s, size):
    """Real input rows of window i: [lo, hi)."""
    start = i * s - pad
    return max(start, 0), min(start + k, size)


def ref_pool(x, ksize, strides, padding, kind):
    pads, oh, ow = _geometry(x.shape, ksize, strides, padding)
    y = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i in range(oh):
        r0, r1 = _cells(i, pads[0], ksize[0], strides[0], x.shape[1])
        for j in range(ow):
            c0, c1 = _cells(j, pads[2], ksize[1], strides[1], x.shape[2])
            win = x[:, r0:r1, c0:c1, :]
            y[:, i, j, :] = win.max(axis=(1, 2)) if kind == "max" else win.mean(axis=(1, 2))
    return y


def ref_max_pool_grad(x, dy, ksize, strides, padding):
    """Each window's dy goes to its first (row-major) maximal real cell."""
    pads, oh, ow = _geometry(x.shape, ksize, strides, padding)
    dx = np.zeros_like(x, dtype=np.float64)
    n, _, _, c = x.shape
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    for i in range(oh):
        r0, r1 = _cells(i, pads[0], ksize[0], strides[0], x.shape[1])
        for j in range(ow):
            c0, c1 = _cells(j, pads[2], ksize[1], strides[1], x.shape[2])
            win = x[:, r0:r1, c0:c1, :].reshape(n, -1, c)
            a, b = np.divmod(np.argmax(win, axis=1), c1 - c0)
            np.add.at(dx, (nn, r0 + a, c0 + b, cc), dy[:, i, j, :])
    return dx


def ref_avg_pool_grad(shape, dy, ksize, strides, padding):
    pads, oh, ow = _geometry(shape, ksize, strides, padding)
    dx = np.zeros(shape)
    for i in range(oh):
        r0, r1 = _cells(i, pads[0], ksize[0], strides[0], shape[1])
        for j in range(ow):
            c0, c1 = _cells(j, pads[2], ksize[1], strides[1], shape[2])
            dx[:, r0:r1, c0:c1, :] += dy[:, i:i + 1, j:j + 1, :] / ((r1 - r0) * (c1 - c0))
    return dx


def _pair(v):
    v = (v, v) if isinstance(v, int) else tuple(v)
    return v[1:3] if len(v) == 4 else v


def _pool_case(kind, shape, ksize, strides, padding, **kw):
    fn = tl.nn.max_pool2d if kind == "max" else tl.nn.avg_pool2d
    k2, s2 = _pair(ksize), _pair(strides)
    name = f"{kind}_{k2[0]}x{k2[1]}_s{s2[0]}{s2[1]}_{padding if isinstance(padding, str) else 'explicit'}"
    return Case(name, lambda x: fn(x, ksize, strides, padding),
                lambda x: ref_pool(x, k2, s2, padding, kind), [S(shape)], **kw)


def _pool1d_ref(kind, k, s, padding):
    def ref(x):
        pad = padding if isinstance(padding, str) else [(0, 0), (0, 0), tuple(padding[0]), (0, 0)]
        return ref_pool(x[:, None], (1, k), (1, s), pad, kind)[:, 0]
    return ref


GEOMS = [((2, 5, 7, 3), 3, 2, "SAME"), ((2, 5, 7, 3), (2, 3), 1, "VALID"), ((2, 5, 7, 2), 2, 2, "SAME"),
         ((2, 5, 7, 2), [1, 3, 3, 1], [1, 1, 1, 1], "SAME"), ((2, 6, 7, 2), (3, 2), (2, 3), "VALID"),
         # disjoint windows (stride == ksize, VALID) with cropped edges: the reshape fast path
         ((2, 5, 7, 3), 2, 2, "VALID"), ((1, 7, 8, 2), (3, 2), (3, 2), "VALID")]
CASES = [_pool_case(kind, *g) for kind in ("max", "avg") for g in GEOMS] + [
    _pool_case("max", (2, 5, 7, 2), 2, 2, [[0, 0], [1, 0], [0, 1], [0, 0]]),
    Case("max_pool1d_k3_s2_same", lambda x: tl.nn.max_pool1d(x, 3, 2, "SAME"),
         _pool1d_ref("max", 3, 2, "SAME"), [S((2, 9, 3))]),
    Case("avg_pool1d_k2_s1_valid", lambda x: tl.nn.avg_pool1d(x, [1, 2, 1], 1, "VALID"),
         _pool1d_ref("avg", 2, 1, "VALID"), [S((2, 9, 3))]),
    Case("avg_pool1d_k4_s3_same", lambda x: tl.nn.avg_pool1d(x, 4, 3, "SAME"),
         _pool1d_ref("avg", 4, 3, "SAME"), [S((2, 9, 2))]),
    Case("max_pool_generic_1d", lambda x: tl.nn.max_pool(x, 2, 2, "SAME"),
         _pool1d_ref("max", 2, 2, "SAME"), [S((2, 7, 3))]),
    Case("avg_pool_generic_2d", lambda x: tl.nn.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
         lambda x: ref_pool(x, (2, 2), (2, 2), "SAME", "avg"), [S((2, 5, 5, 2))]),
]


def _through_tape(fn):
    """dx of <fn(x), dy>: the pooling grad primitive, reached the way the tape reaches it."""
    def f(x, dy):
        with tl.GradientTape() as tape:
            tape.watch(x)
            y = tl.reduce_sum(fn(x) * dy)
        return tape.gradient(y, x)
    return f


GRAD_PRIMS = [
    Case("max_pool2d_grad", _through_tape(lambda x: tl.nn.max_pool2d(x, 3, 2, "SAME")),
         lambda x, dy: ref_max_pool_grad(x, dy, (3, 3), (2, 2), "SAME"),
         [S((2, 5, 7, 2), diff=False), S((2, 3, 4, 2))]),
    Case("max_pool2d_grad_overlap_valid", _through_tape(lambda x: tl.nn.max_pool2d(x, (2, 3), 1, "VALID")),
         lambda x, dy: ref_max_pool_grad(x, dy, (2, 3), (1, 1), "VALID"),
         [S((1, 4, 5, 2), diff=False), S((1, 3, 3, 2))]),
    Case("avg_pool2d_grad", _through_tape(lambda x: tl.nn.avg_pool2d(x, 3, 2, "SAME")),
         lambda x, dy: ref_avg_pool_grad(x.shape, dy, (3, 3), (2, 2), "SAME"),
         [S((2, 5, 7, 2), diff=False), S((2, 3, 4, 2))]),
]


@pytest.mark.parametrize("case", CASES + GRAD_PRIMS, ids=str)
def test_forward(case, rng):
    check_forward(case, rng)


@pytest.mark.parametrize("case", CASES + GRAD_PRIMS, ids=str)
def test_gradient(case, rng):
    check_grad(case, rng)


@pytest.mark.parametrize("case", [CASES[0], CASES[5]] + GRAD_PRIMS, ids=str)
def test_second_derivative(case, rng):
    check_second(case, rng)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_shape_rule(case, rng):
    check_shape_rule(case, rng)


@pytest.mark.gpu
@pytest.mark.parametrize("case", CASES, ids=str)
def test_gpu_matches_cpu(case, rng):
    check_gpu_matches_cpu(case, rng)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 3), kw=st.integers(1, 3),
       sh=st.integers(1, 3), sw=st.integers(1, 3), padding=st.sampled_from(["SAME", "VALID"]),
       kind=st.sampled_from(["max", "avg"]), seed=st.integers(0, 2**32 - 1))
def test_random_geometry_matches_reference(h, w, kh, kw, sh, sw, padding, kind, seed):
    """Sizes 1..7 with drawn windows and strides: forward and gradient vs the loops."""
    if padding == "VALID" and (h < kh or w < kw):
        fn = tl.nn.max_pool2d if kind == "max" else tl.nn.avg_pool2d
        with pytest.raises(tl.errors.InvalidArgumentError, match=f"{kind}_pool2d.*larger than"):
            fn(tl.ones([1, h, w, 1]), (kh, kw), (sh, sw), padding)
        return
    case = _pool_case(kind, (2, h, w, 2), (kh, kw), (sh, sw), padding)
    rng = np.random.default_rng(seed)
    check_forward(case, rng, dtypes=("float64",))
    check_grad(case, rng)


# ----------------------------------------------------------------- TF semantics, exactly
def test_same_avg_pool_divides_by_real_cells():
    x = tl.constant(np.arange(9.0).reshape(1, 3, 3, 1))
    y = tl.nn.avg_pool2d(x, 2, 2, "SAME").numpy()[0, :, :, 0]
    np.testing.assert_allclose(y, [[2.0, 3.5], [6.5, 8.0]])


def test_padding_never_wins_max_pool():
    x = tl.constant(-np.arange(1.0, 10.0).reshape(1, 3, 3, 1))
    y = tl.nn.max_pool2d(x, 3, 1, "SAME").numpy()[0, :, :, 0]
    np.testing.assert_allclose(y, [[-1, -1, -2], [-1, -1, -2], [-4, -4, -5]])


def test_max_pool_gradient_goes_to_first_maximum():
    x = tl.constant(np.ones((1, 2, 4, 1)))
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = tl.reduce_sum(tl.nn.max_pool2d(x, 2, 2, "VALID"))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy()[0, :, :, 0], [[1, 0, 1, 0], [0, 0, 0, 0]])
    x1 = tl.constant(np.ones((1, 3, 1)))
    with tl.GradientTape() as tape:
        tape.watch(x1)
        y = tl.reduce_sum(tl.nn.max_pool1d(x1, 2, 1, "VALID"))
    np.testing.assert_array_equal(tape.gradient(y, x1).numpy()[0, :, 0], [1, 1, 0])


def test_integer_max_pool(rng):
    a = rng.integers(-50, 50, size=(2, 5, 5, 3)).astype(np.int32)
    y = tl.nn.max_pool2d(tl.constant(a), 2, 2, "SAME")
    assert y.dtype == tl.int32
    np.testing.assert_array_equal(y.numpy(), ref_pool(a, (2, 2), (2, 2), "SAME", "max"))


def test_float32_matches_float64(rng):
    a = rng.normal(size=(2, 8, 8, 4))
    for fn in (tl.nn.max_pool2d, tl.nn.avg_pool2d):
        y32 = fn(tl.constant(a.astype(np.float32)), 3, 2, "SAME")
        assert y32.dtype == tl.float32
        np.testing.assert_allclose(y32.numpy(), fn(tl.constant(a), 3, 2, "SAME").numpy(), rtol=1e-5, atol=1e-6)


def test_symbolic_unknown_dims():
    y = tl.nn.max_pool2d(tl.SymbolicTensor([None, 7, None, 3]), 2, 2, "SAME")
    assert tuple(y.shape) == (None, 4, None, 3)
    y = tl.nn.avg_pool2d(tl.SymbolicTensor([None, 7, 6, 3]), 3, 2, "VALID")
    assert tuple(y.shape) == (None, 3, 2, 3)
    y = tl.nn.max_pool1d(tl.SymbolicTensor([None, 9, 3]), 3, 2, "VALID")
    assert tuple(y.shape) == (None, 4, 3)


# ----------------------------------------------------------------- errors
def test_error_bad_padding_string():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"max_pool2d.*padding.*'FULL'"):
        tl.nn.max_pool2d(tl.ones([1, 4, 4, 1]), 2, 2, "FULL")


def test_error_window_larger_than_valid_input():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"avg_pool2d.*window \(size 3.*larger.*\(2"):
        tl.nn.avg_pool2d(tl.ones([1, 2, 5, 1]), 3, 1, "VALID")


def test_error_wrong_rank_names_shape():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"max_pool2d.*rank 4.*\[4,4,1\]"):
        tl.nn.max_pool2d(tl.ones([4, 4, 1]), 2, 2, "SAME")
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"max_pool.*rank-3.*rank-4.*rank-5.*\[1,2,2,2,2,1\]"):
        tl.nn.max_pool(tl.ones([1, 2, 2, 2, 2, 1]), 2, 2, "SAME")


def test_error_nchw_is_not_supported():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"avg_pool2d.*NCHW.*NHWC"):
        tl.nn.avg_pool2d(tl.ones([1, 1, 4, 4]), 2, 2, "SAME", data_format="NCHW")


def test_error_avg_pool_of_integers():
    with pytest.raises(TypeError, match="avg_pool2d.*int32"):
        tl.nn.avg_pool2d(tl.ones([1, 4, 4, 1], dtype=tl.int32), 2, 2, "SAME")


def test_error_explicit_pads_as_large_as_window():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"max_pool2d.*pads \(2, 0, 0, 0\).*window \(2, 2\)"):
        tl.nn.max_pool2d(tl.ones([1, 4, 4, 1]), 2, 2, [[0, 0], [2, 0], [0, 0], [0, 0]])


def test_error_bad_ksize():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"max_pool2d.*ksize.*\[1, 2, 2, 2\]"):
        tl.nn.max_pool2d(tl.ones([1, 4, 4, 1]), [1, 2, 2, 2], 2, "SAME")
