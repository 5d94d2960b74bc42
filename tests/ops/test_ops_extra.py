"""More TF ops: unique / unique_with_counts, searchsorted, cumprod, bincount,
in_top_k, histogram_fixed_width and the stateless random ops: forward vs
numpy float64, gradients, shape rules, errors, GPU vs CPU."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import (Case, S, assert_close, check_forward, check_grad, check_second, numeric_grad,
                               op_tests)

IAE = tl.errors.InvalidArgumentError


# ----------------------------------------------------------------- numpy references
def _np_cumprod(x, axis=0, exclusive=False, reverse=False):
    if reverse:
        x = np.flip(x, axis)
    y = np.cumprod(x, axis=axis)
    if exclusive:
        y = np.concatenate([np.ones_like(np.take(y, [0], axis)), np.delete(y, -1, axis)], axis=axis)
    return np.flip(y, axis) if reverse else y


def _np_searchsorted(s, v, side="left"):
    s2, v2 = s.reshape(-1, s.shape[-1]), v.reshape(-1, v.shape[-1])
    out = [np.searchsorted(a, b, side=side) for a, b in zip(s2, v2)]  # one row at a time: the plain definition
    return np.array(out).reshape(v.shape)


def _np_in_top_k(targets, predictions, k):
    out = []
    for t, p in zip(targets, predictions):
        ok = 0 <= t < p.shape[0] and np.all(np.isfinite(p))
        out.append(bool(ok and np.sum(p > p[t]) < k))
    return np.array(out)


def _np_histogram(values, lo, hi, nbins):
    out = np.zeros(nbins, np.int64)
    for x in values.reshape(-1):
        i = int(np.floor((x - lo) / (hi - lo) * nbins))
        out[min(max(i, 0), nbins - 1)] += 1
    return out


def _np_unique(x):
    """TF's unique: values by first occurrence (each NaN its own value), positions, counts."""
    y, idx, count, seen = [], [], [], {}
    for v in x.tolist():
        key = v if v == v else object()  # NaN != NaN
        if key not in seen:
            seen[key] = len(y)
            y.append(v)
            count.append(0)
        idx.append(seen[key])
        count[seen[key]] += 1
    return np.array(y, dtype=x.dtype), np.array(idx), np.array(count)


# ----------------------------------------------------------------- harness cases
def _sorted_search(side):
    return lambda s, v: tl.searchsorted(tl.sort(s, axis=-1), v, side=side)


def _ref_sorted_search(side):
    return lambda s, v: _np_searchsorted(np.sort(s, axis=-1), v, side)


CASES = [
    Case("cumprod[positive]", tl.math.cumprod, _np_cumprod, [S((5,), low=0.5, high=1.5)]),
    Case("cumprod[axis=1,mixed signs]", tl.math.cumprod, _np_cumprod, [S((3, 4), low=-1.6, high=-0.6)],
         kwargs={"axis": 1}),
    Case("cumprod[exclusive]", tl.math.cumprod, _np_cumprod, [S((4, 3), low=0.5, high=2.0)],
         kwargs={"exclusive": True}),
    Case("cumprod[reverse,axis=-1]", tl.math.cumprod, _np_cumprod, [S((2, 5), low=-2.0, high=-0.5)],
         kwargs={"axis": -1, "reverse": True}),
    Case("cumprod[exclusive,reverse]", tl.math.cumprod, _np_cumprod, [S((3, 2, 4), low=0.5, high=1.5)],
         kwargs={"axis": 2, "exclusive": True, "reverse": True}),
    Case("searchsorted[left]", _sorted_search("left"), _ref_sorted_search("left"),
         [S((3, 6), diff=False), S((3, 5), diff=False)], grad=False),
    Case("searchsorted[right,ties]", _sorted_search("right"), _ref_sorted_search("right"),
         [S((2, 3, 7), kind="int", low=0, high=5, dtype="int32"),
          S((2, 3, 4), kind="int", low=-1, high=6, dtype="int32")], grad=False),
    Case("searchsorted[left,ties,1-D]", _sorted_search("left"), _ref_sorted_search("left"),
         [S((9,), kind="int", low=0, high=4, dtype="int64"), S((6,), kind="int", low=-1, high=5, dtype="int64")],
         grad=False),
    Case("in_top_k[k=2]", lambda tg, p: tl.math.in_top_k(tg, p, k=2), lambda tg, p: _np_in_top_k(tg, p, 2),
         [S((7,), kind="int", low=-1, high=6, dtype="int32"), S((7, 5), diff=False)], grad=False),
    Case("histogram_fixed_width", lambda v: tl.histogram_fixed_width(v, [-1.5, 1.5], nbins=7),
         lambda v: _np_histogram(v, -1.5, 1.5, 7), [S((4, 9), low=-2.0, high=2.0)], grad=False),
]


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


# ----------------------------------------------------------------- unique
def test_unique_integers_match_first_occurrence_order(rng):
    x = rng.integers(-5, 6, size=40).astype(np.int32)
    ry, ridx, rcount = _np_unique(x)
    y, idx = tl.unique(tl.constant(x))
    np.testing.assert_array_equal(y.numpy(), ry)
    np.testing.assert_array_equal(idx.numpy(), ridx)
    assert y.dtype == tl.int32 and idx.dtype == tl.int32
    np.testing.assert_array_equal(y.numpy()[idx.numpy()], x)  # y[idx] rebuilds x
    y2, idx2, count = tl.unique_with_counts(tl.constant(x), out_idx=tl.int64)
    np.testing.assert_array_equal(y2.numpy(), ry)
    np.testing.assert_array_equal(idx2.numpy(), ridx)
    np.testing.assert_array_equal(count.numpy(), rcount)
    assert idx2.dtype == tl.int64 and count.dtype == tl.int64


def test_unique_floats_keep_each_nan_and_named_fields(rng):
    x = rng.choice(np.array([1.5, -2.0, 3.25, np.nan]), size=25).astype(np.float32)
    x[3] = np.nan  # at least one NaN
    ry, ridx, rcount = _np_unique(x)
    res = tl.unique_with_counts(x)
    np.testing.assert_array_equal(res.y.numpy(), ry)  # NaNs compare equal in assert_array_equal
    np.testing.assert_array_equal(res.idx.numpy(), ridx)
    np.testing.assert_array_equal(res.count.numpy(), rcount)
    assert int(np.isnan(res.y.numpy()).sum()) == int(np.isnan(x).sum())


def test_unique_example_bool_and_empty():
    y, idx = tl.unique(tl.constant([1, 1, 2, 4, 4, 4, 7, 8, 8]))
    np.testing.assert_array_equal(y.numpy(), [1, 2, 4, 7, 8])
    np.testing.assert_array_equal(idx.numpy(), [0, 0, 1, 2, 2, 2, 3, 4, 4])
    y, idx, count = tl.unique_with_counts(tl.constant([True, False, True]))
    np.testing.assert_array_equal(y.numpy(), [True, False])
    np.testing.assert_array_equal(count.numpy(), [2, 1])
    y, idx = tl.unique(tl.constant(np.zeros(0, np.float32)))
    assert tuple(y.shape) == (0,) and tuple(idx.shape) == (0,)


def test_unique_symbolic_length_is_unknown():
    y, idx, count = tl.unique_with_counts(tl.SymbolicTensor((6,), tl.float32), out_idx=tl.int64)
    assert tuple(y.shape) == (None,) and y.dtype == tl.float32
    assert tuple(idx.shape) == (6,) and idx.dtype == tl.int64
    assert tuple(count.shape) == (None,) and count.dtype == tl.int64


def test_unique_is_not_differentiable(rng):
    x = tl.constant(rng.uniform(-1, 1, size=5))
    with tl.GradientTape() as tape:
        tape.watch(x)
        y, _ = tl.unique(x)
        loss = tl.reduce_sum(y)
    assert tape.gradient(loss, x) is None


def test_error_unique_arguments():
    with pytest.raises(IAE, match=r"unique: x must be 1-D, got shape \[2,3\]"):
        tl.unique(tl.ones([2, 3]))
    with pytest.raises(IAE, match=r"unique_with_counts: x must be 1-D, got shape \[\]"):
        tl.unique_with_counts(tl.constant(1.0))
    with pytest.raises(TypeError, match=r"unique: out_idx must be int32 or int64, got float32"):
        tl.unique(tl.ones([3]), out_idx=tl.float32)


# ----------------------------------------------------------------- searchsorted
@pytest.mark.parametrize("side", ["left", "right"])
def test_searchsorted_many_rows_with_ties_matches_row_by_row(rng, side):
    s = np.sort(rng.integers(-20, 20, size=(4, 5, 33)), axis=-1).astype(np.int64)
    v = rng.integers(-25, 25, size=(4, 5, 17)).astype(np.int64)
    got = tl.searchsorted(tl.constant(s), tl.constant(v), side=side, out_type=tl.int64)
    assert got.dtype == tl.int64 and tuple(got.shape) == (4, 5, 17)
    np.testing.assert_array_equal(got.numpy(), _np_searchsorted(s, v, side))
    # Float rows whose values are close together stay exact (no offset rounding).
    f = np.sort(1e8 + rng.uniform(0, 1e-6, size=(3, 20)), axis=-1)
    q = np.concatenate([f[:, ::3], 1e8 + rng.uniform(0, 1e-6, size=(3, 5))], axis=1)
    np.testing.assert_array_equal(tl.searchsorted(f, q, side=side).numpy(), _np_searchsorted(f, q, side))


def test_searchsorted_example_edges_and_unsorted_rows(rng):
    got = tl.searchsorted(tl.constant([[0., 3., 9., 10.]]), tl.constant([[2., 3., 11.]]))
    np.testing.assert_array_equal(got.numpy(), [[1, 1, 4]])
    assert got.dtype == tl.int32
    got = tl.searchsorted(tl.constant([1, 2, 2, 3]), [2, 0, 4], side="right")
    np.testing.assert_array_equal(got.numpy(), [3, 0, 4])
    empty = tl.searchsorted(tl.constant(np.zeros((2, 0), np.float32)), tl.ones([2, 3]))
    np.testing.assert_array_equal(empty.numpy(), np.zeros((2, 3)))
    # Rows that are not sorted give undefined positions, but always within [0, N].
    s = rng.uniform(-1, 1, size=(6, 8))
    out = tl.searchsorted(s, rng.uniform(-1, 1, size=(6, 5))).numpy()
    assert out.min() >= 0 and out.max() <= 8


def test_error_searchsorted_arguments():
    with pytest.raises(IAE, match=r"searchsorted: sorted_sequence \[2,4\] and values \[3,2\] must have the same rank"):
        tl.searchsorted(tl.ones([2, 4]), tl.ones([3, 2]))
    with pytest.raises(IAE, match=r"searchsorted: sorted_sequence \[4\] and values \[2,2\]"):
        tl.searchsorted(tl.ones([4]), tl.ones([2, 2]))
    with pytest.raises(IAE, match=r"searchsorted: side must be 'left' or 'right', got 'middle'"):
        tl.searchsorted(tl.ones([4]), tl.ones([2]), side="middle")
    with pytest.raises(TypeError, match=r"searchsorted: out_type must be int32 or int64, got float32"):
        tl.searchsorted(tl.ones([4]), tl.ones([2]), out_type=tl.float32)
    with pytest.raises(TypeError, match=r"searchsorted: input #1 has dtype int32 but input #0 has dtype float32"):
        tl.searchsorted(tl.ones([4]), tl.constant([1, 2]))
    with pytest.raises(TypeError, match=r"searchsorted: dtype bool is not supported"):
        tl.searchsorted(tl.constant([False, True]), tl.constant([True]))


# ----------------------------------------------------------------- cumprod
def _np_cumprod_grad_hess(x, w, axis, exclusive, reverse):
    """Gradient and Hessian of sum(w * cumprod(x)) in float64, from the definition:
    out_k is the product of the x_j in its window, so d out_k / d x_i is the product
    of the window's other elements (no division, exact at zeros). The Hessian couples
    entries of one slice only: it is returned as hess[..., i, m], the slice axis last."""
    xm, wm = np.moveaxis(x, axis, -1), np.moveaxis(w, axis, -1)
    n = xm.shape[-1]
    grad = np.zeros_like(xm)
    hess = np.zeros(xm.shape + (n,))
    for k in range(n):
        window = [j for j in range(n) if (j > k if reverse else j < k) or (j == k and not exclusive)]
        for i in window:
            others = [j for j in window if j != i]
            grad[..., i] += wm[..., k] * np.prod(xm[..., others], axis=-1)
            for m in others:
                rest = [j for j in others if j != m]
                hess[..., i, m] += wm[..., k] * np.prod(xm[..., rest], axis=-1)
    return np.moveaxis(grad, -1, axis), hess


def _with_zeros(rng, shape, axis, zeros):
    # Fresh non-zero values of both signs, then `zeros` zeros at random places in each slice.
    x = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    xm = np.moveaxis(x, axis, -1)  # a view: writes land in x
    for idx in np.ndindex(xm.shape[:-1]):
        xm[idx][rng.choice(xm.shape[-1], size=zeros, replace=False)] = 0.0
    return x


_ZERO_CASES = [((7,), 0), ((5, 3), 0), ((3, 6), 1), ((2, 3, 5), -1), ((2, 6, 3), 1)]


@pytest.mark.parametrize("exclusive", [False, True])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("zeros", [1, 2, 3])
@pytest.mark.parametrize("shape,axis", _ZERO_CASES)
def test_cumprod_gradient_with_zeros(rng, shape, axis, exclusive, reverse, zeros):
    x = _with_zeros(rng, shape, axis, zeros)
    w = rng.uniform(0.5, 1.5, size=shape)
    kw = {"axis": axis, "exclusive": exclusive, "reverse": reverse}
    xt = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(xt)
        loss = tl.reduce_sum(tl.math.cumprod(xt, **kw) * tl.constant(w))
    g = tape.gradient(loss, xt).numpy()
    ref, _ = _np_cumprod_grad_hess(x, w, **kw)
    assert_close(g, ref, 1e-12, what="cumprod gradient at zeros")
    # The objective is multilinear in x: central differences are exact up to rounding.
    num = numeric_grad(lambda a: float(np.sum(w * _np_cumprod(a[0], **kw))), [x.copy()], 0, 1e-6)
    assert_close(g, num, 1e-7, what="cumprod gradient at zeros vs finite differences")


@pytest.mark.parametrize("exclusive,reverse", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("zeros", [0, 1, 2, 3])
@pytest.mark.parametrize("shape,axis", [((6,), 0), ((2, 5), 1), ((5, 2), 0), ((2, 2, 4), -1)])
def test_cumprod_second_derivative_with_zeros(rng, shape, axis, exclusive, reverse, zeros):
    x = _with_zeros(rng, shape, axis, zeros)
    w, v = rng.uniform(0.5, 1.5, size=shape), rng.uniform(-1.0, 1.0, size=shape)
    kw = {"axis": axis, "exclusive": exclusive, "reverse": reverse}

    def grad_dot_v(a):
        at = tl.constant(a)
        with tl.GradientTape() as tape:
            tape.watch(at)
            loss = tl.reduce_sum(tl.math.cumprod(at, **kw) * tl.constant(w))
        return tl.reduce_sum(tape.gradient(loss, at) * tl.constant(v))

    xt = tl.constant(x)
    with tl.GradientTape() as outer:
        outer.watch(xt)
        with tl.GradientTape() as inner:
            inner.watch(xt)
            loss = tl.reduce_sum(tl.math.cumprod(xt, **kw) * tl.constant(w))
        gv = tl.reduce_sum(inner.gradient(loss, xt) * tl.constant(v))
    hv = outer.gradient(gv, xt).numpy()
    _, hess = _np_cumprod_grad_hess(x, w, **kw)
    ref = np.moveaxis(np.einsum("...im,...m->...i", hess, np.moveaxis(v, axis, -1)), -1, axis)
    assert np.all(np.isfinite(hv))
    assert_close(hv, ref, 1e-10, what="cumprod Hessian-vector product at zeros")
    num = numeric_grad(lambda a: float(grad_dot_v(a[0]).numpy()), [x.copy()], 0, 1e-5)
    assert_close(hv, num, 1e-6, what="cumprod Hessian-vector product vs finite differences")


def test_cumprod_gradient_with_zeros_float32_is_finite(rng):
    x = _with_zeros(rng, (4, 9), 1, 2)
    xt = tl.constant(x.astype(np.float32))
    with tl.GradientTape() as tape:
        tape.watch(xt)
        loss = tl.reduce_sum(tl.math.cumprod(xt, axis=1, reverse=True))
    g = tape.gradient(loss, xt)
    assert g.dtype == tl.float32
    ref, _ = _np_cumprod_grad_hess(x.astype(np.float32).astype(np.float64), np.ones_like(x), 1, False, True)
    assert_close(g.numpy(), ref, 2e-5, what="cumprod float32 gradient at zeros")


def test_cumprod_integers_and_float16(rng):
    a = rng.integers(-3, 4, size=(3, 5)).astype(np.int32)
    got = tl.math.cumprod(tl.constant(a), axis=1, exclusive=True)
    assert got.dtype == tl.int32
    np.testing.assert_array_equal(got.numpy(), _np_cumprod(a, axis=1, exclusive=True))
    h = rng.uniform(0.8, 1.2, size=(6,))
    got = tl.math.cumprod(tl.constant(h.astype(np.float16)), reverse=True)
    assert got.dtype == tl.float16
    np.testing.assert_allclose(got.numpy().astype(np.float64), _np_cumprod(h.astype(np.float16).astype(np.float64),
                                                                           reverse=True), rtol=5e-3)


def test_error_cumprod_arguments():
    with pytest.raises(IAE, match=r"cumprod: needs a tensor of rank >= 1, got a scalar"):
        tl.math.cumprod(tl.constant(2.0))
    with pytest.raises(IAE, match=r"cumprod: axis 2 is out of range for a tensor of rank 2"):
        tl.math.cumprod(tl.ones([2, 3]), axis=2)
    with pytest.raises(TypeError, match=r"cumprod: dtype bool is not supported"):
        tl.math.cumprod(tl.constant([True, False]))


# ----------------------------------------------------------------- bincount
def test_bincount_counts_and_lengths(rng):
    a = rng.integers(0, 9, size=50).astype(np.int32)
    got = tl.math.bincount(tl.constant(a))
    assert got.dtype == tl.int32
    np.testing.assert_array_equal(got.numpy(), np.bincount(a))
    np.testing.assert_array_equal(tl.math.bincount(a, minlength=15, dtype=tl.int64).numpy(),
                                  np.bincount(a, minlength=15))
    assert tl.math.bincount(a, dtype=tl.int64).dtype == tl.int64
    # maxlength drops the values at or above it.
    np.testing.assert_array_equal(tl.math.bincount(a, maxlength=4).numpy(), np.bincount(a)[:4])
    np.testing.assert_array_equal(tl.math.bincount(a, minlength=3, maxlength=3).numpy(), np.bincount(a)[:3])
    np.testing.assert_array_equal(tl.math.bincount(a, binary_output=True).numpy(), np.bincount(a) > 0)
    assert tuple(tl.math.bincount(tl.constant(np.zeros(0, np.int32))).shape) == (0,)
    np.testing.assert_array_equal(tl.math.bincount(tl.constant(np.zeros(0, np.int64)), minlength=3).numpy(),
                                  [0, 0, 0])
    # Any rank is flattened (axis None or 0).
    b = a.reshape(5, 10)
    np.testing.assert_array_equal(tl.math.bincount(b, axis=0).numpy(), np.bincount(a))


def test_bincount_rows_with_axis_minus_one(rng):
    a = rng.integers(0, 6, size=(4, 12)).astype(np.int64)
    want = np.stack([np.bincount(r, minlength=8)[:8] for r in a])
    got = tl.math.bincount(tl.constant(a), axis=-1, minlength=8)
    np.testing.assert_array_equal(got.numpy(), want)
    got = tl.math.bincount(tl.constant(a), axis=-1, maxlength=3)
    np.testing.assert_array_equal(got.numpy(), want[:, :3])
    assert tuple(got.shape) == (4, 3)


def test_bincount_weights_forward_and_gradient(rng):
    a = rng.integers(0, 6, size=20).astype(np.int32)

    def ref(w):
        return np.bincount(a, weights=w, minlength=7)

    case = Case("bincount[weights]", lambda w: tl.math.bincount(tl.constant(a), weights=w, minlength=7), ref,
                [S((20,))])
    check_forward(case, rng)
    check_grad(case, rng)
    check_second(case, rng)
    w = tl.constant(rng.uniform(-1, 1, size=20).astype(np.float32))
    assert tl.math.bincount(a, weights=w).dtype == tl.float32


def test_bincount_symbolic_length_is_unknown():
    out = tl.math.bincount(tl.SymbolicTensor((5,), tl.int32), dtype=tl.int64)
    assert tuple(out.shape) == (None,) and out.dtype == tl.int64


def test_error_bincount_arguments():
    with pytest.raises(IAE, match=r"bincount: arr must be non-negative, got the value -2"):
        tl.math.bincount(tl.constant([1, -2, 3]))
    with pytest.raises(TypeError, match=r"bincount: arr must be an int32 or int64 tensor, got dtype float32"):
        tl.math.bincount(tl.constant([1.0, 2.0]))
    with pytest.raises(IAE, match=r"bincount: weights \[2\] must have the shape of arr \[3\]"):
        tl.math.bincount(tl.constant([1, 2, 3]), weights=[1.0, 2.0])
    with pytest.raises(IAE, match=r"bincount: axis must be None, 0 or -1, got 1"):
        tl.math.bincount(tl.constant([[1, 2]]), axis=1)
    with pytest.raises(IAE, match=r"bincount: minlength must be non-negative, got -1"):
        tl.math.bincount(tl.constant([1]), minlength=-1)
    with pytest.raises(IAE, match=r"bincount: axis=-1 needs a 1-D or 2-D arr, got shape \[1,1,2\]"):
        tl.math.bincount(tl.constant([[[1, 2]]]), axis=-1)


# ----------------------------------------------------------------- in_top_k
def test_in_top_k_ties_out_of_range_and_non_finite():
    p = tl.constant([[0.1, 0.5, 0.5, 0.2], [0.4, 0.3, 0.2, 0.1], [0.4, np.nan, 0.2, 0.1], [0.9, 0.1, 0.0, 0.0]])
    # Row 0: classes 1 and 2 tie for first, so with k=1 both count as in the top 1.
    got = tl.math.in_top_k(tl.constant([2, 1, 0, 4]), p, k=1)
    assert got.dtype == tl.bool
    np.testing.assert_array_equal(got.numpy(), [True, False, False, False])
    np.testing.assert_array_equal(tl.nn.in_top_k([3, 1, 0, -1], p, 2).numpy(), [False, True, False, False])
    np.testing.assert_array_equal(tl.math.in_top_k(tl.constant([3, 2], tl.int64), p[:2], k=tl.constant(3)).numpy(),
                                  [True, True])


def test_in_top_k_symbolic_shape():
    out = tl.math.in_top_k(tl.SymbolicTensor((None,), tl.int32), tl.SymbolicTensor((None, 10), tl.float32), 3)
    assert tuple(out.shape) == (None,) and out.dtype == tl.bool


def test_error_in_top_k_arguments():
    with pytest.raises(IAE, match=r"in_top_k: predictions must be 2-D \[batch_size, num_classes\] and targets 1-D "
                                  r"\[batch_size\], got predictions \[3,4\] and targets \[2\]"):
        tl.math.in_top_k([0, 1], tl.ones([3, 4]), 1)
    with pytest.raises(TypeError, match=r"in_top_k: predictions must be a floating-point tensor, got dtype int32"):
        tl.math.in_top_k([0], tl.constant([[1, 2]]), 1)
    with pytest.raises(TypeError, match=r"in_top_k: targets must be an int32 or int64 tensor, got dtype float32"):
        tl.math.in_top_k(tl.constant([0.0]), tl.ones([1, 2]), 1)


# ----------------------------------------------------------------- histogram_fixed_width
def test_histogram_fixed_width_example_integers_and_nan(rng):
    got = tl.histogram_fixed_width(tl.constant([-1.0, 0.0, 1.5, 2.0, 5.0, 15.0]), [0.0, 5.0], nbins=5)
    np.testing.assert_array_equal(got.numpy(), [2, 1, 1, 0, 2])
    assert got.dtype == tl.int32
    a = rng.integers(-5, 30, size=(6, 7)).astype(np.int32)
    got = tl.histogram_fixed_width(tl.constant(a), tl.constant([0, 25]), nbins=6, dtype=tl.int64)
    assert got.dtype == tl.int64
    np.testing.assert_array_equal(got.numpy(), _np_histogram(a.astype(np.float64), 0, 25, 6))
    v = rng.uniform(0, 1, size=30)
    v[[2, 11]] = np.nan
    got = tl.histogram_fixed_width(tl.constant(v), [0.0, 1.0], nbins=4)
    np.testing.assert_array_equal(got.numpy(), _np_histogram(v[~np.isnan(v)], 0.0, 1.0, 4))
    assert int(got.numpy().sum()) == 28
    assert tuple(tl.histogram_fixed_width(tl.SymbolicTensor((None, 3), tl.float32), [0.0, 1.0]).shape) == (100,)


def test_error_histogram_fixed_width_arguments():
    with pytest.raises(IAE, match=r"histogram_fixed_width: value_range must satisfy value_range\[0\] < "
                                  r"value_range\[1\], got \[5.0, 0.0\]"):
        tl.histogram_fixed_width(tl.ones([3]), [5.0, 0.0])
    with pytest.raises(IAE, match=r"histogram_fixed_width: nbins must be positive, got 0"):
        tl.histogram_fixed_width(tl.ones([3]), [0.0, 1.0], nbins=0)
    with pytest.raises(IAE, match=r"histogram_fixed_width: value_range must have shape \[2\], got \[3\]"):
        tl.histogram_fixed_width(tl.ones([3]), [0.0, 1.0, 2.0])
    with pytest.raises(TypeError, match=r"histogram_fixed_width: dtype must be int32 or int64, got float32"):
        tl.histogram_fixed_width(tl.ones([3]), [0.0, 1.0], dtype=tl.float32)


# ----------------------------------------------------------------- stateless random ops
@pytest.mark.parametrize("fn", [tl.random.stateless_uniform, tl.random.stateless_normal,
                                tl.random.stateless_truncated_normal], ids=lambda f: f.__name__)
def test_stateless_same_seed_same_numbers_whatever_ran_before(fn, rng):
    seed = [int(s) for s in rng.integers(0, 2 ** 31, size=2)]
    a = fn([3, 4], seed=seed).numpy()
    tl.random.set_seed(int(rng.integers(0, 1000)))
    tl.random.normal([5])
    b = fn([3, 4], seed=tl.constant(seed, dtype=tl.int64)).numpy()
    tl.random.set_seed(None)
    c = fn([3, 4], seed=np.array(seed, np.int32)).numpy()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, fn([3, 4], seed=[seed[0], seed[1] + 1]).numpy())
    assert not np.array_equal(a, fn([3, 4], seed=[seed[1], seed[0]]).numpy()) or seed[0] == seed[1]


def test_stateless_distributions(rng):
    seed = [int(s) for s in rng.integers(0, 2 ** 31, size=2)]
    u = tl.random.stateless_uniform([100_000], seed, minval=-1.0, maxval=3.0, dtype=tl.float64).numpy()
    assert u.dtype == np.float64 and u.min() >= -1.0 and u.max() < 3.0
    assert abs(u.mean() - 1.0) < 0.03 and abs(u.std() - 4 / np.sqrt(12)) < 0.03
    z = tl.random.stateless_normal([100_000], seed, mean=1.5, stddev=2.0).numpy().astype(np.float64)
    assert abs(z.mean() - 1.5) < 0.05 and abs(z.std() - 2.0) < 0.05
    i = tl.random.stateless_uniform([20_000], seed, minval=-3, maxval=4, dtype=tl.int32).numpy()
    assert i.dtype == np.int32 and set(np.unique(i).tolist()) == set(range(-3, 4))


def test_error_stateless_arguments():
    with pytest.raises(IAE, match=r"stateless_uniform: seed must have shape \[2\], got \[3\]"):
        tl.random.stateless_uniform([2], seed=[1, 2, 3])
    with pytest.raises(IAE, match=r"stateless_normal: seed must have shape \[2\], got \[\]"):
        tl.random.stateless_normal([2], seed=5)
    with pytest.raises(TypeError, match=r"stateless_normal: seed must be an int32 or int64 tensor, got dtype float32"):
        tl.random.stateless_normal([2], seed=tl.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"stateless_uniform: seed must be a pair of integers"):
        tl.random.stateless_uniform([2], seed=[1.5, 2.0])
    with pytest.raises(ValueError, match=r"stateless_uniform: for integer dtype int32, give both minval and maxval"):
        tl.random.stateless_uniform([2], seed=[1, 2], dtype=tl.int32)
    with pytest.raises(TypeError, match=r"normal: dtype must be a floating-point type"):
        tl.random.stateless_normal([2], seed=[1, 2], dtype=tl.int32)


# ----------------------------------------------------------------- GPU
@pytest.mark.gpu
def test_gpu_unique_bincount_and_stateless_match_cpu(rng):
    x = rng.integers(-4, 5, size=60).astype(np.int32)
    f = rng.choice(np.array([0.5, -1.0, np.nan]), size=30).astype(np.float32)
    a = rng.integers(0, 7, size=(3, 20)).astype(np.int32)
    out = {}
    for dev in ("cpu", "gpu:0"):
        with tl.device(dev):
            res = tl.unique_with_counts(tl.constant(x)) + tl.unique_with_counts(tl.constant(f))
            assert "GPU" in res[0].device or dev == "cpu"
            res += (tl.math.bincount(tl.constant(a), minlength=9), tl.math.bincount(tl.constant(a), axis=-1),
                    tl.searchsorted(tl.sort(tl.constant(a)), tl.constant(x[:60].reshape(3, 20)), side="right"))
            u = tl.random.stateless_uniform([50], seed=[3, 4])
            np.testing.assert_array_equal(u.numpy(), tl.random.stateless_uniform([50], seed=[3, 4]).numpy())
            out[dev] = [r.numpy() for r in res]
    for c, g in zip(out["cpu"], out["gpu:0"]):
        np.testing.assert_array_equal(g, c)
