"""Linear algebra: matmul (transposes, batch broadcasting drawn by hypothesis),
matvec, tensordot, einsum (products, transposes, traces, diagonals, outer
products, ellipses), norms, trace/diag, band_part/set_diag, and the solvers
and decompositions (cholesky, triangular_solve, solve, inv, det, slogdet,
logdet, qr); gradients vs finite differences, second derivatives, shape
rules, error messages, GPU vs CPU."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorlab as tl
from tests.ops.harness import Case, S, check_forward, check_grad, check_shape_rule, op_tests


def _T(x):
    return np.swapaxes(x, -1, -2)


def _np_matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False):
    return np.matmul(_T(a) if transpose_a or adjoint_a else a, _T(b) if transpose_b or adjoint_b else b)


def _mm(name, sa, sb, **kw):
    return Case(f"matmul[{name}]", tl.matmul, _np_matmul, [S(sa), S(sb)], kwargs=kw)


def _es(eq, *shapes, **kw):
    return Case(f"einsum[{eq}]", lambda *xs: tl.einsum(eq, *xs), lambda *xs: np.einsum(eq, *xs),
                [S(s) for s in shapes], **kw)


def _norm_ref(x, ord="euclidean", axis=None, keepdims=False):
    if axis is None:
        r = _norm_ref(x.reshape(-1), ord, 0)
        return np.reshape(r, (1,) * x.ndim) if keepdims else r
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    if ord in ("euclidean", "fro"):
        ord = "fro" if isinstance(axis, tuple) else 2
    return np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def _normc(tag, shape, **kw):
    return Case(f"norm[{tag}]", tl.norm, _norm_ref, [S(shape, low=0.3, high=2.0)], kwargs=kw)


MATMUL = [
    _mm("2d", (3, 4), (4, 2)),
    _mm("ta", (4, 3), (4, 2), transpose_a=True),
    _mm("tb", (3, 4), (2, 4), transpose_b=True),
    _mm("ta,tb", (4, 3), (2, 4), transpose_a=True, transpose_b=True),
    _mm("adjoint_b", (3, 4), (2, 4), adjoint_b=True),
    _mm("batched", (2, 3, 4), (2, 4, 2)),
    _mm("broadcast-rank", (2, 2, 3, 4), (4, 3)),
    _mm("broadcast-1", (1, 3, 2), (3, 2, 4), transpose_a=False),
    _mm("broadcast-ta", (3, 1, 4, 3), (2, 4, 2), transpose_a=True),
    _mm("1x1", (1, 1), (1, 1)),
]
OTHER = [
    Case("matvec", tl.linalg.matvec, lambda a, b: np.einsum("...ij,...j->...i", a, b), [S((2, 3, 4)), S((4,))]),
    Case("matvec[ta]", lambda a, b: tl.linalg.matvec(a, b, transpose_a=True),
         lambda a, b: np.einsum("...ji,...j->...i", a, b), [S((3, 4)), S((2, 3))]),
    Case("tensordot[1]", lambda a, b: tl.tensordot(a, b, 1), lambda a, b: np.tensordot(a, b, 1),
         [S((2, 3, 4)), S((4, 2))]),
    Case("tensordot[2]", lambda a, b: tl.tensordot(a, b, axes=2), lambda a, b: np.tensordot(a, b, 2),
         [S((2, 3, 4)), S((3, 4, 2))]),
    Case("tensordot[0]", lambda a, b: tl.tensordot(a, b, 0), lambda a, b: np.tensordot(a, b, 0),
         [S((2, 3)), S((3,))]),
    Case("tensordot[lead-lead]", lambda a, b: tl.tensordot(a, b, [[0], [0]]),
         lambda a, b: np.tensordot(a, b, [[0], [0]]), [S((3, 2)), S((3, 4))]),
    Case("tensordot[trail-trail]", lambda a, b: tl.tensordot(a, b, [[1, 2], [1, 2]]),
         lambda a, b: np.tensordot(a, b, [[1, 2], [1, 2]]), [S((2, 3, 4)), S((5, 3, 4))]),
    Case("tensordot[mixed]", lambda a, b: tl.tensordot(a, b, [[2, 0], [0, -1]]),
         lambda a, b: np.tensordot(a, b, [[2, 0], [0, 2]]), [S((2, 3, 4)), S((4, 3, 2))]),
    _es("ij,jk->ik", (3, 4), (4, 2)),
    _es("bij,bjk->bik", (2, 3, 4), (2, 4, 2)),
    _es("ij->ji", (3, 4)),
    _es("ii->", (3, 3)),
    _es("ii->i", (4, 4)),
    _es("ii", (3, 3)),
    _es("i,j->ij", (3,), (4,)),
    _es("ij,ij->", (3, 4), (3, 4)),
    _es("ij->", (3, 4)),
    _es("ijk->kj", (2, 3, 4)),
    _es("ij,jk", (3, 4), (4, 2)),
    _es("...ij,...jk->...ik", (2, 1, 3, 4), (3, 4, 2)),
    _es("...ij,jk", (2, 3, 4), (4, 5)),
    _es("b...i,b...i->b...", (2, 3, 4), (2, 1, 4)),
    _es("ij,jk,kl->il", (2, 3), (3, 4), (4, 2)),
    _es("iij,j->i", (3, 3, 2), (2,)),
    _es("bhqd,bhkd->bhqk", (2, 2, 3, 4), (2, 2, 2, 4)),
    Case("trace", tl.linalg.trace, lambda x: np.trace(x, axis1=-2, axis2=-1), [S((2, 3, 3))]),
    Case("trace[rect]", tl.linalg.trace, lambda x: np.trace(x, axis1=-2, axis2=-1), [S((2, 3, 4))]),
    Case("diag_part", tl.linalg.diag_part, lambda x: np.diagonal(x, axis1=-2, axis2=-1), [S((2, 3, 3))]),
    Case("diag_part[rect]", tl.linalg.diag_part, lambda x: np.diagonal(x, axis1=-2, axis2=-1), [S((4, 2))]),
    Case("diag", tl.linalg.diag, lambda d: d[..., :, None] * np.eye(d.shape[-1]), [S((2, 3))]),
    Case("matrix_transpose", tl.linalg.matrix_transpose, _T, [S((2, 3, 4))]),
    _normc("euclidean", (3, 4)),
    _normc("fro,axis=1", (3, 4), ord="fro", axis=1),
    _normc("1,axis=0", (3, 4), ord=1, axis=0),
    _normc("inf,axis=-1,keepdims", (3, 4), ord=np.inf, axis=-1, keepdims=True),
    _normc("2,axis=1", (3, 4), ord=2, axis=1),
    _normc("3,axis=1", (3, 4), ord=3, axis=1),
    _normc("matrix-fro", (2, 3, 4), ord="fro", axis=(1, 2)),
    _normc("matrix-1", (2, 3, 4), ord=1, axis=[-2, -1]),
    _normc("matrix-inf,keepdims", (2, 3, 4), ord=np.inf, axis=(1, 2), keepdims=True),
    Case("global_norm", lambda a, b: tl.linalg.global_norm([a, None, b]),
         lambda a, b: np.sqrt(np.sum(a * a) + np.sum(b * b)), [S((3,)), S((2, 2))]),
]


# ----------------------------------------------------------------- solvers and decompositions
# Well-conditioned inputs built inside the case from a random x: x x^T + n I (symmetric
# positive definite, so finite differences see the same function as the symmetric
# gradient rules) or x + n diag(signs) (diagonally dominant, det sign = prod(signs)).
def _spd_np(x):
    return x @ _T(x) + x.shape[-1] * np.eye(x.shape[-1])


def _spd(x):
    n = x.shape[-1]
    return tl.matmul(x, x, transpose_b=True) + tl.eye(n, dtype=x.dtype) * n


def _dom_np(x, signs=None):
    n = x.shape[-1]
    return x + n * np.diag(np.ones(n) if signs is None else np.asarray(signs, dtype=np.float64))


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
CASES = MATMUL + OTHER + DENSE
# max-based norms: the second derivative is zero and finite differences agree; abs is non-smooth only at 0.


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


@st.composite
def matmul_shapes(draw):
    """Operand shapes with broadcast batch dims (missing, size-1 or equal) and size-1 matrix dims."""
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    nb = draw(st.integers(0, 2))
    batch = [draw(st.integers(1, 3)) for _ in range(nb)]
    ba, bb = [], []
    for d in batch:
        ba.append(1 if draw(st.booleans()) else d)
        bb.append(1 if draw(st.booleans()) else d)
    ba = ba[draw(st.integers(0, nb)):]
    bb = bb[draw(st.integers(0, nb)):]
    ta, tb = draw(st.booleans()), draw(st.booleans())
    sa = tuple(ba) + ((k, m) if ta else (m, k))
    sb = tuple(bb) + ((n, k) if tb else (k, n))
    return sa, sb, ta, tb


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=matmul_shapes(), seed=st.integers(0, 2**32 - 1))
def test_matmul_broadcasting_drawn(shapes, seed):
    """Forward, gradients (summed back over broadcast batch dims) and shape rule for drawn shapes."""
    sa, sb, ta, tb = shapes
    rng = np.random.default_rng(seed)
    case = _mm("drawn", sa, sb, transpose_a=ta, transpose_b=tb)
    check_forward(case, rng, dtypes=("float64",))
    check_grad(case, rng)
    check_shape_rule(case, rng)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shapes=matmul_shapes(), seed=st.integers(0, 2**32 - 1))
def test_einsum_batch_matmul_drawn(shapes, seed):
    """einsum with '...' broadcasting agrees with matmul, gradients included."""
    sa, sb, ta, tb = shapes
    eq = ("...ki" if ta else "...ik") + "," + ("...jk" if tb else "...kj") + "->...ij"
    rng = np.random.default_rng(seed)
    case = _es(eq, sa, sb)
    check_forward(case, rng, dtypes=("float64",))
    check_grad(case, rng)


# ----------------------------------------------------------------- semantics
def test_integer_matmul_and_operator(rng):
    a = rng.integers(-3, 3, size=(2, 3)).astype(np.int32)
    b = rng.integers(-3, 3, size=(3, 2)).astype(np.int32)
    y = tl.constant(a) @ tl.constant(b)
    assert y.dtype == tl.int32
    np.testing.assert_array_equal(y.numpy(), a @ b)
    z = tl.matmul(tl.constant(a.astype(np.int8)), tl.constant(b.astype(np.int8)), output_type=tl.int32)
    assert z.dtype == tl.int32
    np.testing.assert_array_equal(z.numpy(), a @ b)


def test_matmul_symbolic_unknown_dims():
    a = tl.SymbolicTensor((None, 5, 3))
    assert tuple(tl.matmul(a, tl.SymbolicTensor((3, 4))).shape) == (None, 5, 4)
    assert tuple(tl.matmul(a, tl.SymbolicTensor((None, 3, None))).shape) == (None, 5, None)
    assert tuple(tl.linalg.matvec(a, tl.SymbolicTensor((None, 3))).shape) == (None, 5)
    assert tuple(tl.tensordot(a, tl.SymbolicTensor((3, 2)), 1).shape) == (None, 5, 2)
    assert tuple(tl.einsum("bij,bkj->bik", a, a).shape) == (None, 5, 5)


def test_einsum_symbolic_broadcast_of_unknown_dims():
    a, b = tl.SymbolicTensor((None, 1, 3, 4)), tl.SymbolicTensor((1, 5, 4, 2))
    assert tuple(tl.einsum("...ij,...jk->...ik", a, b).shape) == (None, 5, 3, 2)
    assert tuple(tl.einsum("...ij,...jk->...ik", a, tl.SymbolicTensor((None, 4, 2))).shape) == (None, None, 3, 2)
    assert tuple(tl.linalg.trace(tl.SymbolicTensor((None, 3, 3))).shape) == (None,)
    assert tuple(tl.linalg.diag(tl.SymbolicTensor((None, 3))).shape) == (None, 3, 3)


def test_matmul_variable_gradient(rng):
    w = tl.Variable(rng.normal(size=(3, 2)))
    x = tl.constant(rng.normal(size=(4, 3)))
    with tl.GradientTape() as tape:
        y = tl.reduce_sum(tl.matmul(x, w))
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), x.numpy().T @ np.ones((4, 2)))


def test_einsum_accepts_a_list_and_spaces(rng):
    a, b = rng.normal(size=(2, 3)), rng.normal(size=(3,))
    np.testing.assert_allclose(tl.einsum("ij, j -> i", [tl.constant(a), tl.constant(b)]).numpy(), a @ b)


def test_einsum_second_derivative_through_diagonal(rng):
    x0 = rng.normal(size=(3, 3))
    x = tl.constant(x0)
    with tl.GradientTape() as outer:
        outer.watch(x)
        with tl.GradientTape() as inner:
            inner.watch(x)
            y = tl.einsum("ii->", x) ** 2
        g = inner.gradient(y, x)           # 2 tr(x) I
        s = tl.reduce_sum(g * tl.constant(x0))
    np.testing.assert_allclose(g.numpy(), 2 * np.trace(x0) * np.eye(3))
    # d/dx sum(2 tr(x) I * x0) = 2 tr(x0) I
    np.testing.assert_allclose(outer.gradient(s, x).numpy(), 2 * np.trace(x0) * np.eye(3))


def test_norm_defaults_flatten_all_values(rng):
    x = rng.normal(size=(2, 3, 4))
    np.testing.assert_allclose(tl.norm(tl.constant(x)).numpy(), np.sqrt((x ** 2).sum()))
    np.testing.assert_allclose(tl.linalg.norm(tl.constant(x), ord=1).numpy(), np.abs(x).sum())
    y = tl.norm(tl.constant(x), keepdims=True)
    assert tuple(y.shape) == (1, 1, 1)


# ----------------------------------------------------------------- errors
def test_error_matmul_rank1_like_tf():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"matmul.*rank >= 2.*\[3\].*\[3,2\]"):
        tl.matmul(tl.ones([3]), tl.ones([3, 2]))


def test_error_matmul_inner_dimension_names_both_shapes():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"matmul.*\[2,3\].*\[4,5\].*3 and 4"):
        tl.matmul(tl.ones([2, 3]), tl.ones([4, 5]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"matmul.*\[3,2\].*transpose_a=True"):
        tl.matmul(tl.ones([3, 2]), tl.ones([2, 5]), transpose_a=True)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"matmul.*\[\?,3\].*\[4,5\]"):
        tl.matmul(tl.SymbolicTensor((None, 3)), tl.SymbolicTensor((4, 5)))


def test_error_matmul_batch_mismatch():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"matmul.*batch.*\[2\].*\[2,3,4\].*\[3\].*\[3,4,5\]"):
        tl.matmul(tl.ones([2, 3, 4]), tl.ones([3, 4, 5]))


def test_error_matmul_dtype_mix_and_flags():
    with pytest.raises(TypeError, match=r"matmul.*float32.*float64|matmul.*float64.*float32"):
        tl.matmul(tl.ones([2, 2]), tl.ones([2, 2], dtype=tl.float64))
    with pytest.raises(TypeError, match=r"matmul.*bool"):
        tl.matmul(tl.constant([[True]]), tl.constant([[True]]))
    with pytest.raises(ValueError, match=r"matmul.*transpose_a.*adjoint_a"):
        tl.matmul(tl.ones([2, 2]), tl.ones([2, 2]), transpose_a=True, adjoint_a=True)


def test_error_einsum_messages():
    a = tl.ones([2, 3])
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"einsum.*2 operands.*1"):
        tl.einsum("ij,jk->ik", a)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"einsum.*'ijk'.*rank 2"):
        tl.einsum("ijk->i", a)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"einsum.*'j'.*size 3.*\[2,3\].*size 2.*\[2,2\]"):
        tl.einsum("ij,jk->ik", a, tl.ones([2, 2]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"einsum.*'j'.*size 3.*size 1"):
        tl.einsum("ij,jk->ik", a, tl.ones([1, 2]))  # only '...' dims broadcast, as in TF
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"einsum.*output subscript 'z'"):
        tl.einsum("ij->iz", a)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"einsum.*'i' repeats"):
        tl.einsum("ij->ii", a)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"einsum.*invalid subscript '1'"):
        tl.einsum("i1->i", a)


def test_error_tensordot_messages():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"tensordot.*axis 1 of a.*\[2,3\].*size 3.*size 4"):
        tl.tensordot(tl.ones([2, 3]), tl.ones([4, 5]), 1)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"tensordot.*axes=3.*\[2,3\]"):
        tl.tensordot(tl.ones([2, 3]), tl.ones([3, 5]), 3)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"tensordot.*axis 2 is out of range.*rank 2"):
        tl.tensordot(tl.ones([2, 3]), tl.ones([3, 5]), [[2], [0]])


def test_error_norm_messages():
    x = tl.ones([2, 3])
    with pytest.raises(ValueError, match=r"norm.*ord=2.*matrix|norm: matrix norm ord=2"):
        tl.norm(x, ord=2, axis=(0, 1))
    with pytest.raises(ValueError, match=r"norm.*ord=-1"):
        tl.norm(x, ord=-1)
    with pytest.raises(ValueError, match=r"norm.*axis"):
        tl.norm(x, axis=(0, 1, 2))
    with pytest.raises(TypeError, match=r"norm.*int32"):
        tl.norm(tl.constant([1, 2]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"trace.*rank >= 2.*\[3\]"):
        tl.linalg.trace(tl.ones([3]))


@pytest.mark.parametrize("dtype", [tl.float16, tl.bfloat16])
def test_half_precision_keeps_dtype(dtype, rng):
    a, b = rng.uniform(-1, 1, size=(3, 4)), rng.uniform(-1, 1, size=(4, 2))
    for y in (tl.matmul(tl.constant(a, dtype=dtype), tl.constant(b, dtype=dtype)),
              tl.einsum("ij,jk->ik", tl.constant(a, dtype=dtype), tl.constant(b, dtype=dtype)),
              tl.tensordot(tl.constant(a, dtype=dtype), tl.constant(b, dtype=dtype), 1)):
        assert y.dtype == dtype
        np.testing.assert_allclose(y.numpy().astype(np.float64), a @ b, atol=5e-2)


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
