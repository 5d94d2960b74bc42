"""Spectral decompositions (ops/linalg_decompositions.py): svd, eigh, eigvalsh, pinv, lstsq,
matrix_rank, expm; forward vs numpy/scipy float64, invariants, gradients vs finite differences
(second order too), dropped outputs, shape rules, error messages, GPU vs CPU."""
import numpy as np
import pytest
import scipy.linalg

import tensorlab as tl
from tests.ops.harness import Case, S, op_tests
# The solvers' checks of square inputs, under a name pytest does not collect here.
from tests.ops.test_linalg_solvers import test_error_square_ops_reject_bad_shapes_and_dtypes as _check_square_errors


def _T(x):
    return np.swapaxes(x, -1, -2)


# Well-conditioned inputs built inside the case from a random x in [-2, 2): a small multiple of x
# added to a fixed matrix whose singular values (eigenvalues) are 2 apart, so they stay distinct
# and the vectors smooth functions of x (Weyl: the perturbation's norm stays below 1).
def _base(m, n):
    base = np.zeros((m, n))
    p = min(m, n)
    base[np.arange(p), np.arange(p)] = 2.0 * np.arange(p, 0, -1) + 2.0
    return base


def _spread_np(x):
    return 0.05 * x + _base(*x.shape[-2:])


def _spread(x):
    return 0.05 * x + tl.constant(_base(*tuple(x.shape)[-2:]), dtype=x.dtype)


def _weights(m):
    return np.linspace(1.0, 2.0, m)[:, None]


# Singular/eigen-vectors are defined up to sign: each column is signed so that a fixed positive
# weighting of it is positive (u's sign decides for the pair (u_i, v_i)).
def _signs_np(m):
    return np.sign(np.sum(m * _weights(m.shape[-2]), axis=-2, keepdims=True))


def _signs(m):
    return tl.sign(tl.reduce_sum(m * tl.constant(_weights(m.shape[-2]), dtype=m.dtype), axis=-2, keepdims=True))


def _fix_np(u, v, p):
    d = _signs_np(u[..., :p])
    u = np.concatenate([u[..., :p] * d, u[..., p:] * _signs_np(u[..., p:])], -1)
    v = np.concatenate([v[..., :p] * d, v[..., p:] * _signs_np(v[..., p:])], -1)
    return u, v


def _fix(u, v, p):
    d = _signs(u[..., :p])
    u = tl.concat([u[..., :p] * d, u[..., p:] * _signs(u[..., p:])], -1)
    v = tl.concat([v[..., :p] * d, v[..., p:] * _signs(v[..., p:])], -1)
    return u, v


def _svd_np(x, full):
    u, s, vh = np.linalg.svd(_spread_np(x), full_matrices=full)
    return (s,) + _fix_np(u, _T(vh), s.shape[-1])


def _svd_tl(x, full):
    s, u, v = tl.linalg.svd(_spread(x), full_matrices=full)
    return (s,) + _fix(u, v, s.shape[-1])


def _svd(tag, shape, full=False, **kw):
    return Case(f"svd[{tag}]", lambda x: _svd_tl(x, full), lambda x: _svd_np(x, full), [S(shape)], **kw)


def _sym_base(n):
    return np.diag(2.0 * np.arange(n))


def _eigh_np(x):
    e, v = np.linalg.eigh(0.05 * x + _sym_base(x.shape[-1]))
    return e, v * _signs_np(v)


def _eigh_tl(x):
    e, v = tl.linalg.eigh(0.05 * x + tl.constant(_sym_base(x.shape[-1]), dtype=x.dtype))
    return e, v * _signs(v)


def _lstsq(tag, sa, sb, **kw):
    def ref(a, b):
        a = _spread_np(a)
        l2 = kw.get("l2_regularizer", 0.0)
        if a.shape[-2] >= a.shape[-1]:
            return np.linalg.solve(_T(a) @ a + l2 * np.eye(a.shape[-1]), _T(a) @ b)
        return _T(a) @ np.linalg.solve(a @ _T(a) + l2 * np.eye(a.shape[-2]), b)
    return Case(f"lstsq[{tag}]", lambda a, b: tl.linalg.lstsq(_spread(a), b, **kw), ref, [S(sa), S(sb)])


def _expm_np(x, scale):
    return np.vectorize(scipy.linalg.expm, signature="(n,n)->(n,n)")(scale * x)


def _expm(tag, shape, scale, **kw):
    return Case(f"expm[{tag}]", lambda x: tl.linalg.expm(scale * x), lambda x: _expm_np(x, scale), [S(shape)], **kw)


CASES = [
    _svd("deep", (5, 3)),
    _svd("wide", (3, 5)),
    _svd("square", (4, 4)),
    _svd("deep,batched", (2, 3, 4, 3)),
    _svd("full,square", (3, 3), full=True),
    _svd("full,deep by 1", (4, 3), full=True),
    _svd("full,wide by 1,batched", (2, 3, 4), full=True),
    Case("svd[values]", lambda x: tl.linalg.svd(_spread(x), compute_uv=False),
         lambda x: np.linalg.svd(_spread_np(x), compute_uv=False), [S((2, 4, 3))]),
    Case("svd[values,wide]", lambda x: tl.linalg.svd(_spread(x), compute_uv=False),
         lambda x: np.linalg.svd(_spread_np(x), compute_uv=False), [S((3, 5))]),
    Case("eigh", _eigh_tl, _eigh_np, [S((4, 4))]),
    Case("eigh[batched]", _eigh_tl, _eigh_np, [S((2, 3, 4, 4))]),
    Case("eigvalsh[batched]", lambda x: tl.linalg.eigvalsh(0.05 * x + tl.constant(_sym_base(4), dtype=x.dtype)),
         lambda x: np.linalg.eigvalsh(0.05 * x + _sym_base(4)), [S((2, 4, 4))]),
    Case("pinv[deep]", lambda x: tl.linalg.pinv(_spread(x)), lambda x: np.linalg.pinv(_spread_np(x)), [S((5, 3))]),
    Case("pinv[wide,batched]", lambda x: tl.linalg.pinv(_spread(x)), lambda x: np.linalg.pinv(_spread_np(x)),
         [S((2, 3, 5))]),
    _lstsq("deep", (5, 3), (5, 2)),
    _lstsq("wide", (3, 5), (3, 2)),
    _lstsq("l2,batched", (2, 5, 3), (2, 5, 1), l2_regularizer=0.5),
    _lstsq("wide,l2,broadcast", (3, 4), (2, 3, 2), l2_regularizer=0.25),
    _lstsq("fast=False", (2, 5, 3), (2, 5, 2), fast=False),
    _expm("small", (3, 3), 0.1),
    _expm("squarings,batched", (2, 3, 3), 3.0, grad_rtol=1e-4),
]

globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


# ----------------------------------------------------------------- invariants
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 2e-5)])
@pytest.mark.parametrize("shape,full", [((5, 3), False), ((3, 5), False), ((2, 6, 2), True), ((2, 3, 2, 6), True),
                                        ((4, 4), True)])
def test_svd_invariants(rng, shape, full, dtype, tol):
    x = rng.normal(size=shape)
    s, u, v = (a.numpy() for a in tl.linalg.svd(tl.constant(x, dtype=dtype), full_matrices=full))
    m, n = shape[-2:]
    p = min(m, n)
    assert s.dtype == dtype and s.shape == shape[:-2] + (p,)
    assert u.shape == shape[:-2] + (m, m if full else p) and v.shape == shape[:-2] + (n, n if full else p)
    assert np.all(np.diff(s, axis=-1) <= 0) and np.all(s >= 0)
    for q in (u, v):
        k = q.shape[-1]
        np.testing.assert_allclose(_T(q) @ q, np.broadcast_to(np.eye(k), q.shape[:-2] + (k, k)), atol=10 * tol)
    np.testing.assert_allclose((u[..., :p] * s[..., None, :]) @ _T(v[..., :p]), x, atol=10 * tol * np.abs(x).max())
    np.testing.assert_allclose(s, np.linalg.svd(x, compute_uv=False), rtol=tol, atol=tol * s.max())
    # Each singular pair matches numpy's up to one sign for the pair.
    nu, _, nvh = np.linalg.svd(x, full_matrices=False)
    d = np.sign(np.sum(u[..., :p] * nu, axis=-2, keepdims=True))
    np.testing.assert_allclose(u[..., :p] * d, nu, atol=100 * tol)
    np.testing.assert_allclose(v[..., :p] * d, _T(nvh), atol=100 * tol)


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 2e-5)])
def test_eigh_invariants_and_lower_triangle(rng, dtype, tol):
    a = rng.normal(size=(2, 3, 5, 5))
    sym = np.tril(a) + _T(np.tril(a, -1))  # the matrix eigh sees: the lower triangle, mirrored
    e, v = (t.numpy() for t in tl.linalg.eigh(tl.constant(a, dtype=dtype)))
    assert e.dtype == dtype and e.shape == (2, 3, 5) and v.shape == (2, 3, 5, 5)
    assert np.all(np.diff(e, axis=-1) >= 0)
    np.testing.assert_allclose(e, np.linalg.eigvalsh(sym), atol=10 * tol * np.abs(e).max())
    np.testing.assert_allclose(_T(v) @ v, np.broadcast_to(np.eye(5), v.shape), atol=10 * tol)
    np.testing.assert_allclose(sym @ v, v * e[..., None, :], atol=100 * tol * np.abs(e).max())
    np.testing.assert_allclose(tl.linalg.eigvalsh(tl.constant(a, dtype=dtype)).numpy(), e, rtol=tol, atol=tol)


def test_pinv_of_rank_deficient_matrices_and_rcond(rng):
    b = rng.normal(size=(2, 5, 2))
    x = b @ rng.normal(size=(2, 2, 4))  # rank 2
    np.testing.assert_allclose(tl.linalg.pinv(tl.constant(x)).numpy(), np.linalg.pinv(x), atol=1e-10)
    d = np.diag([4.0, 1.0, 1e-3])
    np.testing.assert_allclose(tl.linalg.pinv(tl.constant(d), rcond=1e-2).numpy(), np.diag([0.25, 1.0, 0.0]))
    np.testing.assert_allclose(tl.linalg.pinv(tl.constant(d)).numpy(), np.diag([0.25, 1.0, 1e3]), rtol=1e-12)


def test_lstsq_fast_false_gives_the_minimum_norm_solution_of_a_rank_deficient_system(rng):
    a = rng.normal(size=(6, 2)) @ rng.normal(size=(2, 4))
    b = rng.normal(size=(6, 3))
    want = np.linalg.lstsq(a, b, rcond=None)[0]
    got = tl.linalg.lstsq(tl.constant(a), tl.constant(b), fast=False).numpy()
    np.testing.assert_allclose(got, want, atol=1e-10)
    got32 = tl.linalg.lstsq(tl.constant(a, dtype=tl.float32), tl.constant(b, dtype=tl.float32), fast=False)
    assert got32.dtype == tl.float32
    np.testing.assert_allclose(got32.numpy(), want, atol=1e-4)


def test_matrix_rank(rng):
    full = rng.normal(size=(3, 5, 4))
    low = rng.normal(size=(3, 5, 2)) @ rng.normal(size=(3, 2, 4))
    x = np.concatenate([full, low])
    r = tl.linalg.matrix_rank(tl.constant(x))
    assert r.dtype == tl.int32 and r.shape == (6,)
    np.testing.assert_array_equal(r.numpy(), [4, 4, 4, 2, 2, 2])
    np.testing.assert_array_equal(tl.linalg.matrix_rank(tl.constant(np.diag([3.0, 1e-3, 0.0])), tol=1e-2).numpy(), 1)
    assert tl.linalg.matrix_rank(tl.constant(low[0], dtype=tl.float32)).numpy() == 2
    assert tl.linalg.matrix_rank(tl.zeros([3, 3])).numpy() == 0


def test_expm_known_values_and_non_finite_input():
    t = 0.7
    rot = tl.linalg.expm(tl.constant([[0.0, -t], [t, 0.0]], dtype=tl.float64)).numpy()
    np.testing.assert_allclose(rot, [[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(tl.linalg.expm(tl.zeros([2, 3, 3], dtype=tl.float64)).numpy(),
                               np.broadcast_to(np.eye(3), (2, 3, 3)))
    big = np.array([[1.0, 40.0], [0.0, 2.0]])
    np.testing.assert_allclose(tl.linalg.expm(tl.constant(big)).numpy(), scipy.linalg.expm(big), rtol=1e-12)
    assert np.all(np.isnan(tl.linalg.expm(tl.constant([[np.inf, 0.0], [0.0, 1.0]])).numpy()))


# ----------------------------------------------------------------- gradients of one output
def _check_grad_of(fn, x, rng, eps=1e-6):
    w = rng.uniform(0.5, 1.5, size=tuple(fn(tl.constant(x)).shape))

    def f(a):
        return float(tl.reduce_sum(fn(tl.constant(a)) * w).numpy())
    xt = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(xt)
        y = tl.reduce_sum(fn(xt) * w)
    g = tape.gradient(y, xt).numpy()
    num = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        num[idx] = (f(xp) - f(xm)) / (2 * eps)
    np.testing.assert_allclose(g, num, atol=1e-5 * max(1.0, np.abs(num).max()))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5)])
def test_svd_gradient_when_the_caller_keeps_one_output(rng, shape):
    """The outputs the caller drops are gone when the gradient runs: the rule recomputes them
    (with each singular pair signed like the kept vectors)."""
    x = _spread_np(rng.uniform(-2, 2, size=(2,) + shape))
    only_u = lambda a: tl.linalg.svd(a)[1] * _signs(tl.linalg.svd(a)[1])  # noqa: E731
    only_v = lambda a: tl.linalg.svd(a)[2] * _signs(tl.linalg.svd(a)[2])  # noqa: E731
    for fn in (only_u, only_v, lambda a: tl.linalg.svd(a)[0]):
        _check_grad_of(fn, x, rng)


def test_eigh_gradient_when_the_caller_keeps_one_output(rng):
    x = 0.05 * rng.uniform(-2, 2, size=(2, 4, 4)) + _sym_base(4)
    _check_grad_of(lambda a: tl.linalg.eigh(a)[0], x, rng)
    _check_grad_of(lambda a: tl.linalg.eigh(a)[1] * _signs(tl.linalg.eigh(a)[1]), x, rng)


def test_svd_values_gradient_reads_only_s(rng):
    x = tl.constant(_spread_np(rng.uniform(-2, 2, size=(4, 3))))
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = tl.reduce_sum(tl.linalg.svd(x, compute_uv=False))
    s, u, v = tl.linalg.svd(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), (u @ tl.linalg.matrix_transpose(v)).numpy(), atol=1e-12)


# ----------------------------------------------------------------- shapes and errors
def test_decompositions_symbolic_shapes():
    sym = tl.SymbolicTensor
    s, u, v = tl.linalg.svd(sym((None, 5, 3)))
    assert (tuple(s.shape), tuple(u.shape), tuple(v.shape)) == ((None, 3), (None, 5, 3), (None, 3, 3))
    s, u, v = tl.linalg.svd(sym((2, 5, 3)), full_matrices=True)
    assert (tuple(s.shape), tuple(u.shape), tuple(v.shape)) == ((2, 3), (2, 5, 5), (2, 3, 3))
    assert tuple(tl.linalg.svd(sym((None, None)), compute_uv=False).shape) == (None,)
    e, v = tl.linalg.eigh(sym((None, 4, 4)))
    assert tuple(e.shape) == (None, 4) and tuple(v.shape) == (None, 4, 4)
    assert tuple(tl.linalg.eigvalsh(sym((3, 3))).shape) == (3,)
    assert tuple(tl.linalg.pinv(sym((None, 5, 3))).shape) == (None, 3, 5)
    assert tuple(tl.linalg.lstsq(sym((None, 5, 3)), sym((None, 5, 2))).shape) == (None, 3, 2)
    assert tuple(tl.linalg.matrix_rank(sym((None, 5, 3))).shape) == (None,)
    assert tuple(tl.linalg.expm(sym((None, 3, 3))).shape) == (None, 3, 3)


_IAE = tl.errors.InvalidArgumentError


@pytest.mark.parametrize("fn", [tl.linalg.eigh, tl.linalg.eigvalsh, tl.linalg.expm], ids=lambda f: f.__name__)
def test_error_square_decompositions_reject_bad_shapes_and_dtypes(fn):
    _check_square_errors(fn)  # the same messages as the solvers' square ops


@pytest.mark.parametrize("fn", [tl.linalg.svd, tl.linalg.pinv, tl.linalg.matrix_rank], ids=lambda f: f.__name__)
def test_error_rectangular_decompositions_reject_bad_ranks_and_dtypes(fn):
    name = fn.__name__
    with pytest.raises(_IAE, match=rf"{name}: .*rank >= 2.*\[4\]"):
        fn(tl.ones([4]))
    with pytest.raises(TypeError, match=rf"{name}: .*float32 or float64.*int32.*\[2,3\]"):
        fn(tl.constant([[1, 2, 3], [4, 5, 6]]))


def test_error_lstsq_names_both_shapes():
    with pytest.raises(_IAE, match=r"lstsq: matrix has shape \[4,3\] but rhs has shape \[5,2\].*4 rows"):
        tl.linalg.lstsq(tl.ones([4, 3]), tl.ones([5, 2]))
    with pytest.raises(_IAE, match=r"lstsq: batch .*\[2\].*\[2,4,3\].*\[3\].*\[3,4,1\]"):
        tl.linalg.lstsq(tl.ones([2, 4, 3]), tl.ones([3, 4, 1]))
    with pytest.raises(_IAE, match=r"lstsq: rhs must have rank >= 2.*\[4\]"):
        tl.linalg.lstsq(tl.ones([4, 3]), tl.ones([4]))
    with pytest.raises(TypeError, match=r"lstsq: input #1 has dtype float64 but input #0 has dtype float32"):
        tl.linalg.lstsq(tl.ones([4, 3]), tl.ones([4, 1], dtype=tl.float64))


def test_error_lstsq_fast_on_a_rank_deficient_matrix_names_the_factorization(rng):
    a = rng.normal(size=(5, 3))
    a[:, 1] = 0.0  # exactly rank-deficient: A^T A has a zero pivot
    with pytest.raises(_IAE, match=r"cholesky"):
        tl.linalg.lstsq(tl.constant(a), tl.ones([5, 1], dtype=tl.float64))


def test_error_svd_gradient_of_full_matrices_far_from_square(rng):
    x = tl.constant(rng.normal(size=(5, 3)))
    with tl.GradientTape() as tape:
        tape.watch(x)
        s, u, v = tl.linalg.svd(x, full_matrices=True)
        y = tl.reduce_sum(u) + tl.reduce_sum(s)
    with pytest.raises(NotImplementedError, match=r"svd: .*full_matrices=True.*at most 1.*\[5,3\]"):
        tape.gradient(y, x)
