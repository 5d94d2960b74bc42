"""Linear algebra: matmul (transposes, batch broadcasting drawn by hypothesis),
matvec, tensordot, einsum (products, transposes, traces, diagonals, outer
products, ellipses), norms, trace/diag; gradients vs finite differences, second
derivatives, shape rules, error messages, GPU vs CPU. The solvers and
decompositions are in test_linalg_solvers.py."""
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


CASES = MATMUL + OTHER
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


def test_float16_products_are_rounded_once_from_exact_sums(rng):
    """float16 matmul, einsum and conv: the float64 result of the float16 inputs, rounded
    to float16 once (float32 accumulation, as tensor cores do), on a long K."""
    a = rng.standard_normal((5, 3000)).astype(np.float16)
    b = rng.standard_normal((3000, 4)).astype(np.float16)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    for y in (tl.matmul(a, b), tl.einsum("ij,jk->ik", a, b)):
        # within float32 accumulation error of the exact sum, then one float16 rounding
        np.testing.assert_allclose(y.numpy().astype(np.float64), exact, rtol=2 ** -10, atol=1e-3)
    x = rng.standard_normal((2, 9, 9, 40)).astype(np.float16)
    w = rng.standard_normal((3, 3, 40, 5)).astype(np.float16)
    y = tl.nn.conv2d(x, w, 1, "VALID")
    ref = tl.nn.conv2d(x.astype(np.float64), w.astype(np.float64), 1, "VALID").numpy()
    assert y.dtype == tl.float16
    np.testing.assert_allclose(y.numpy().astype(np.float64), ref, rtol=2 ** -10, atol=1e-3)
