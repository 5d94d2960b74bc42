"""Dense solvers and decompositions (ops/linalg_solvers.py): cholesky, triangular_solve,
solve, inv, det, slogdet, logdet, qr, and band_part/set_diag; gradients vs finite
differences, second derivatives, shape rules, error messages (CPU and GPU), GPU vs CPU."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import Case, S, op_tests


def _T(x):
    return np.swapaxes(x, -1, -2)


# ----------------------------------------------------------------- solvers and decompositions
# Well-conditioned inputs built inside the case from a random x: x x^T + n I (symmetric
# positive definite, so finite differences see the same function as the symmetric
# gradient rules) or x + 3n diag(signs) (diagonally dominant, det sign = prod(signs)).
def _spd_np(x):
    return x @ _T(x) + x.shape[-1] * np.eye(x.shape[-1])


def _spd(x):
    n = x.shape[-1]
    return tl.matmul(x, x, transpose_b=True) + tl.eye(n, dtype=x.dtype) * n


def _dom_np(x, signs=None):
    # inputs are drawn from [-2, 2): a row's off-diagonal entries sum to at most 2(n-1) in
    # magnitude, so a 3n shift keeps every matrix strictly diagonally dominant and well
    # conditioned (float32 results stay within tolerance for every draw)
    n = x.shape[-1]
    return x + 3 * n * np.diag(np.ones(n) if signs is None else np.asarray(signs, dtype=np.float64))


def _dom(x, signs=None):
    return x + tl.constant(_dom_np(np.zeros(tuple(x.shape)[-2:]), signs), dtype=x.dtype)


def _band_np(x, lo, hi):
    i, j = np.indices(x.shape[-2:])
    return x * (((lo < 0) | (i - j <= lo)) & ((hi < 0) | (j - i <= hi)))


def _set_diag_np(x, d):
    y = x.copy()
    k = np.arange(d.shape[-1])
    y[..., k, k] = d
    return y


def _tri_np(a, b, lower, adjoint):
    a = np.tril(a) if lower else np.triu(a)
    return np.linalg.solve(_T(a) if adjoint else a, b)


def _band(lo, hi, shape):
    return Case(f"band_part[{lo},{hi}]", lambda x: tl.linalg.band_part(x, lo, hi),
                lambda x: _band_np(x, lo, hi), [S(shape)])


def _tri(tag, sa, sb, lower, adjoint):
    # The other triangle of _dom(a) is random and must be ignored (zero gradient).
    return Case(f"triangular_solve[{tag}]",
                lambda a, b: tl.linalg.triangular_solve(_dom(a), b, lower=lower, adjoint=adjoint),
                lambda a, b: _tri_np(_dom_np(a), b, lower, adjoint), [S(sa), S(sb)])


def _solve(tag, sa, sb, adjoint=False):
    return Case(f"solve[{tag}]", lambda a, b: tl.linalg.solve(_dom(a), b, adjoint=adjoint),
                lambda a, b: np.linalg.solve(_T(_dom_np(a)) if adjoint else _dom_np(a), b), [S(sa), S(sb)])


def _det(fn, ref, tag, shape, signs=None):
    return Case(f"{fn.__name__}[{tag}]", lambda x: fn(_dom(x, signs)), lambda x: ref(_dom_np(x, signs)),
                [S(shape)])


def _slogdet_np(x):
    s, ld = np.linalg.slogdet(x)
    return s, ld


def _qr(tag, shape, full=False, **kw):
    return Case(f"qr[{tag}]", lambda x: tl.linalg.qr(x, full_matrices=full),
                lambda x: tuple(np.linalg.qr(x, mode="complete" if full else "reduced")), [S(shape)], **kw)


DENSE = [
    _band(-1, 0, (2, 3, 4, 5)),
    _band(0, -1, (4, 3)),
    _band(1, 2, (2, 5, 4)),
    _band(0, 0, (3, 3)),
    _band(-1, -1, (2, 3)),
    Case("set_diag", tl.linalg.set_diag, _set_diag_np, [S((2, 3, 3)), S((2, 3))]),
    Case("set_diag[rect]", tl.linalg.set_diag, _set_diag_np, [S((2, 3, 4)), S((2, 3))]),
    Case("cholesky", lambda x: tl.linalg.cholesky(_spd(x)), lambda x: np.linalg.cholesky(_spd_np(x)),
         [S((4, 4))]),
    Case("cholesky[batched]", lambda x: tl.linalg.cholesky(_spd(x)), lambda x: np.linalg.cholesky(_spd_np(x)),
         [S((2, 3, 4, 4))]),
    Case("cholesky_solve", lambda x, b: tl.linalg.cholesky_solve(tl.linalg.cholesky(_spd(x)), b),
         lambda x, b: np.linalg.solve(_spd_np(x), b), [S((2, 3, 3)), S((2, 3, 2))]),
    _tri("lower", (4, 4), (4, 2), True, False),
    _tri("upper", (4, 4), (4, 3), False, False),
    _tri("lower,adjoint", (3, 3), (3, 2), True, True),
    _tri("upper,adjoint,batched", (2, 3, 4, 4), (2, 3, 4, 2), False, True),
    _tri("broadcast", (2, 1, 3, 3), (4, 3, 2), True, False),
    _solve("2d", (4, 4), (4, 3)),
    _solve("adjoint", (4, 4), (4, 2), adjoint=True),
    _solve("batched", (2, 3, 4, 4), (2, 3, 4, 1)),
    _solve("broadcast", (3, 3), (2, 3, 2)),
    Case("inv", lambda x: tl.linalg.inv(_dom(x)), lambda x: np.linalg.inv(_dom_np(x)), [S((2, 3, 4, 4))]),
    Case("inv[adjoint]", lambda x: tl.linalg.inv(_dom(x), adjoint=True),
         lambda x: np.linalg.inv(_T(_dom_np(x))), [S((3, 3))]),
    _det(tl.linalg.det, np.linalg.det, "positive", (4, 4)),
    _det(tl.linalg.det, np.linalg.det, "negative,batched", (2, 3, 3, 3), signs=(1, -1, 1)),
    _det(tl.linalg.slogdet, _slogdet_np, "positive,batched", (2, 3, 4, 4)),
    _det(tl.linalg.slogdet, _slogdet_np, "negative", (3, 3), signs=(-1, -1, -1)),
    Case("logdet", lambda x: tl.linalg.logdet(_spd(x)), lambda x: np.linalg.slogdet(_spd_np(x))[1],
         [S((2, 3, 4, 4))]),
    _qr("deep", (5, 3)),
    _qr("square", (4, 4)),
    _qr("deep,batched", (2, 3, 5, 3)),
    _qr("wide", (3, 5)),
    _qr("wide,batched,full", (2, 3, 5), full=True),
    _qr("deep,full", (5, 3), full=True, grad=False),  # no gradient rule (as in TF): see the error test
]
CASES = DENSE


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


# ----------------------------------------------------------------- solvers: semantics
def test_cholesky_reads_only_the_lower_triangle(rng):
    a = _spd_np(rng.normal(size=(2, 4, 4)))
    junk = np.tril(a) + np.triu(rng.normal(size=(2, 4, 4)), 1)
    np.testing.assert_allclose(tl.linalg.cholesky(tl.constant(junk)).numpy(), np.linalg.cholesky(a), rtol=1e-12)


def test_solvers_agree_with_each_other(rng):
    a = _spd_np(rng.normal(size=(3, 4, 4)))
    b = rng.normal(size=(3, 4, 2))
    chol = tl.linalg.cholesky(tl.constant(a))
    x = tl.linalg.cholesky_solve(chol, tl.constant(b)).numpy()
    np.testing.assert_allclose(a @ x, b, atol=1e-12)
    np.testing.assert_allclose(tl.linalg.inv(tl.constant(a)).numpy() @ b, x, atol=1e-12)
    y = tl.linalg.triangular_solve(chol, tl.constant(b), lower=True).numpy()
    np.testing.assert_allclose(chol.numpy() @ y, b, atol=1e-12)


def test_det_and_slogdet_of_singular_and_permuted_matrices(rng):
    x = rng.normal(size=(3, 3))
    sing = np.stack([x, x.copy()])
    sing[1][2] = sing[1][0] + sing[1][1]  # rank 2
    sing[0][:, 1] = 0.0                   # a zero column
    np.testing.assert_allclose(tl.linalg.det(tl.constant(sing)).numpy(), 0.0, atol=1e-12)
    s, ld = tl.linalg.slogdet(tl.constant(sing[:1]))
    assert s.numpy()[0] == 0.0 and ld.numpy()[0] == -np.inf
    perm = np.eye(4)[[1, 0, 2, 3]] * rng.uniform(1, 2, size=4)  # one swap: negative determinant
    res = tl.linalg.slogdet(tl.constant(perm))
    assert res.sign.numpy() == -1.0
    np.testing.assert_allclose(res.log_abs_determinant.numpy(), np.log(np.abs(np.linalg.det(perm))))


def test_qr_namedtuple_orthonormal_and_shapes(rng):
    for shape, full in [((2, 6, 4), False), ((2, 6, 4), True), ((3, 5), False), ((3, 5), True)]:
        x = rng.normal(size=shape)
        res = tl.linalg.qr(tl.constant(x), full_matrices=full)
        q, r = res.q.numpy(), res.r.numpy()
        m, n = shape[-2:]
        k = m if full else min(m, n)
        assert q.shape == shape[:-2] + (m, k) and r.shape == shape[:-2] + (k, n)
        np.testing.assert_allclose(_T(q) @ q, np.broadcast_to(np.eye(k), q.shape[:-2] + (k, k)), atol=1e-12)
        np.testing.assert_allclose(np.tril(r, -1), 0.0, atol=0)
        np.testing.assert_allclose(q @ r, x, atol=1e-12)


def test_band_part_accepts_tensor_bounds_and_keeps_dtype(rng):
    x = rng.integers(1, 9, size=(3, 4)).astype(np.int32)
    y = tl.linalg.band_part(tl.constant(x), tl.constant(1), tl.constant(0))
    assert y.dtype == tl.int32
    np.testing.assert_array_equal(y.numpy(), _band_np(x, 1, 0))


def test_solvers_symbolic_shapes():
    sym = tl.SymbolicTensor
    assert tuple(tl.linalg.cholesky(sym((None, 4, 4))).shape) == (None, 4, 4)
    assert tuple(tl.linalg.solve(sym((None, 1, 3, 3)), sym((5, 3, 2))).shape) == (None, 5, 3, 2)
    assert tuple(tl.linalg.triangular_solve(sym((3, 3)), sym((None, 3, 1))).shape) == (None, 3, 1)
    assert tuple(tl.linalg.inv(sym((None, 3, 3))).shape) == (None, 3, 3)
    assert tuple(tl.linalg.det(sym((None, 2, 3, 3))).shape) == (None, 2)
    s, ld = tl.linalg.slogdet(sym((None, 3, 3)))
    assert tuple(s.shape) == (None,) and tuple(ld.shape) == (None,)
    q, r = tl.linalg.qr(sym((None, 5, 3)))
    assert tuple(q.shape) == (None, 5, 3) and tuple(r.shape) == (None, 3, 3)
    q, r = tl.linalg.qr(sym((None, 5, 3)), full_matrices=True)
    assert tuple(q.shape) == (None, 5, 5) and tuple(r.shape) == (None, 5, 3)
    q, r = tl.linalg.qr(sym((None, None)))
    assert tuple(q.shape) == (None, None) and tuple(r.shape) == (None, None)
    assert tuple(tl.linalg.band_part(sym((None, 3, 4)), 1, -1).shape) == (None, 3, 4)


def test_orthogonal_initializer_uses_qr_with_positive_r_diagonal():
    from tensorlab.keras import initializers
    for shape in [(6, 4), (3, 5), (2, 3, 4)]:
        w = initializers.Orthogonal(gain=1.5, seed=7)(shape, dtype="float64").numpy()
        flat = w.reshape(-1, shape[-1])
        if flat.shape[0] < flat.shape[1]:
            flat = flat.T
        k = flat.shape[1]
        np.testing.assert_allclose(flat.T @ flat, 2.25 * np.eye(k), atol=1e-12)
        # The Keras construction: q of qr(a) with columns signed by diag(r), so q^T a has a positive diagonal.
        a = initializers._draw("normal", 7, flat.shape, 0.0, 1.0, "float64").numpy()
        q, r = np.linalg.qr(a)
        np.testing.assert_allclose(flat, 1.5 * q * np.sign(np.diag(r)), atol=1e-12)
        assert np.all(np.diag(flat.T @ a) > 0)


# ----------------------------------------------------------------- solvers: errors
_IAE = tl.errors.InvalidArgumentError


@pytest.mark.parametrize("fn", [tl.linalg.cholesky, tl.linalg.inv, tl.linalg.det, tl.linalg.slogdet,
                                tl.linalg.logdet], ids=lambda f: f.__name__)
def test_error_square_ops_reject_bad_shapes_and_dtypes(fn):
    name = fn.__name__
    with pytest.raises(_IAE, match=rf"{name}: .*square.*\[2,3,4\].*3 rows, 4 columns"):
        fn(tl.ones([2, 3, 4]))
    with pytest.raises(_IAE, match=rf"{name}: .*rank >= 2.*\[3\]"):
        fn(tl.ones([3]))
    with pytest.raises(TypeError, match=rf"{name}: .*float32 or float64.*int32.*\[2,2\]"):
        fn(tl.constant([[1, 0], [0, 1]]))
    with pytest.raises(_IAE, match=rf"{name}: .*square.*\[\?,3,4\]"):
        fn(tl.SymbolicTensor((None, 3, 4)))


@pytest.mark.parametrize("fn", [tl.linalg.solve, tl.linalg.triangular_solve], ids=lambda f: f.__name__)
def test_error_solvers_name_both_shapes(fn):
    name = fn.__name__
    with pytest.raises(_IAE, match=rf"{name}: matrix has shape \[3,3\] but rhs has shape \[4,2\].*3 rows"):
        fn(tl.ones([3, 3]), tl.ones([4, 2]))
    with pytest.raises(_IAE, match=rf"{name}: batch .*\[2\].*\[2,3,3\].*\[4\].*\[4,3,1\]"):
        fn(tl.ones([2, 3, 3]), tl.ones([4, 3, 1]))
    with pytest.raises(_IAE, match=rf"{name}: rhs must have rank >= 2.*\[3\]"):
        fn(tl.ones([3, 3]), tl.ones([3]))
    with pytest.raises(_IAE, match=rf"{name}: matrix must be square.*\[3,2\]"):
        fn(tl.ones([3, 2]), tl.ones([3, 1]))
    with pytest.raises(TypeError, match=rf"{name}: input #1 has dtype float64 but input #0 has dtype float32"):
        fn(tl.ones([2, 2]), tl.ones([2, 1], dtype=tl.float64))
    with pytest.raises(TypeError, match=rf"{name}: matrix must be float32 or float64.*int32"):
        fn(tl.constant([[1, 0], [0, 1]]), tl.constant([[1], [1]]))
    with pytest.raises(_IAE, match=rf"{name}: matrix has shape \[\?,3,3\] but rhs has shape \[\?,2,1\]"):
        fn(tl.SymbolicTensor((None, 3, 3)), tl.SymbolicTensor((None, 2, 1)))


def test_error_singular_and_indefinite_matrices_raise_on_cpu():
    with pytest.raises(_IAE, match=r"cholesky: .*positive definite"):
        tl.linalg.cholesky(tl.constant([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(_IAE, match=r"solve: .*[Ss]ingular"):
        tl.linalg.solve(tl.constant([[1.0, 2.0], [2.0, 4.0]]), tl.ones([2, 1]))
    with pytest.raises(_IAE, match=r"inv: the input is not invertible.*[Ss]ingular.*\(2, 2\)"):
        tl.linalg.inv(tl.constant([[1.0, 2.0], [2.0, 4.0]]))
    with pytest.raises(_IAE, match=r"triangular_solve: .*[Ss]ingular"):
        tl.linalg.triangular_solve(tl.constant([[1.0, 0.0], [2.0, 0.0]]), tl.ones([2, 1]))


@pytest.mark.gpu
def test_error_singular_and_indefinite_matrices_raise_on_gpu():
    """The same errors on the GPU (CuPy alone would return NaN)."""
    with tl.device("gpu:0"):
        with pytest.raises(_IAE, match=r"cholesky: .*"):
            tl.linalg.cholesky(tl.constant([[1.0, 2.0], [2.0, 1.0]]))
        with pytest.raises(_IAE, match=r"solve: .*"):
            tl.linalg.solve(tl.constant([[1.0, 2.0], [2.0, 4.0]]), tl.ones([2, 1]))
        with pytest.raises(_IAE, match=r"triangular_solve: .*"):
            tl.linalg.triangular_solve(tl.constant([[1.0, 0.0], [2.0, 0.0]]), tl.ones([2, 1]))
        good = tl.linalg.cholesky(tl.constant([[4.0, 2.0], [2.0, 3.0]]))  # the process stays usable
        np.testing.assert_allclose(good.numpy(), np.linalg.cholesky([[4.0, 2.0], [2.0, 3.0]]), rtol=1e-6)


def test_error_qr_messages_and_unsupported_gradient(rng):
    with pytest.raises(TypeError, match=r"qr: .*float32 or float64.*int32.*\[2,3\]"):
        tl.linalg.qr(tl.constant([[1, 2, 3], [4, 5, 6]]))
    with pytest.raises(_IAE, match=r"qr: .*rank >= 2.*\[3\]"):
        tl.linalg.qr(tl.ones([3]))
    x = tl.constant(rng.normal(size=(5, 3)))
    with tl.GradientTape() as tape:
        tape.watch(x)
        q, r = tl.linalg.qr(x, full_matrices=True)
        y = tl.reduce_sum(q) + tl.reduce_sum(r)
    with pytest.raises(NotImplementedError, match=r"qr: .*rows > columns and full_matrices=True.*\[5,3\]"):
        tape.gradient(y, x)


def test_error_band_part_and_set_diag():
    with pytest.raises(_IAE, match=r"band_part: num_lower must be negative or at most the number of rows \(3\), "
                                   r"got 5"):
        tl.linalg.band_part(tl.ones([3, 4]), 5, 0)
    with pytest.raises(_IAE, match=r"band_part: num_upper .*columns \(4\), got 6"):
        tl.linalg.band_part(tl.ones([3, 4]), 0, 6)
    with pytest.raises(_IAE, match=r"band_part: input must have rank >= 2.*\[4\]"):
        tl.linalg.band_part(tl.ones([4]), 0, 0)
    with pytest.raises(_IAE, match=r"set_diag: diagonal must have shape \[2,3\].*\[2,3,4\].*got shape \[2,4\]"):
        tl.linalg.set_diag(tl.ones([2, 3, 4]), tl.ones([2, 4]))
    with pytest.raises(NotImplementedError, match=r"set_diag: .*k=0"):
        tl.linalg.set_diag(tl.ones([3, 3]), tl.ones([3]), k=1)
