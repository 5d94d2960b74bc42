"""Decompositions of general (non-symmetric) matrices for ``tl.linalg``: LU with partial
pivoting and the eigendecomposition of matrices whose eigenvalues are real.

Primitives: ``lu`` (an unblocked right-looking Doolittle elimination, vectorized over the
batch; LAPACK's getrf order of row swaps) and ``eig`` (LAPACK geev; tensorlab has no complex
dtypes, so matrices with complex eigenvalues are rejected). Both gradients are written with
tensorlab's own ops.
"""
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.ops._rules import fmt, t
from tensorlab.ops.linalg import _E, band_part, diag, diag_part, matrix_transpose, set_diag
from tensorlab.ops.linalg_decompositions import _mm, _pair_gaps
from tensorlab.ops.linalg_solvers import _float_matrix, _square, solve_p, triangular_solve_p


# ----------------------------------------------------------------- primitives
def _lu_rule(x):
    _float_matrix("lu", x)
    m, n = x.shape[-2], x.shape[-1]
    k = None if m is None or n is None else min(m, n)
    b = tuple(x.shape[:-2])
    return (TensorSpec(x.shape, x.dtype), TensorSpec(b + (k,), dt.int32), TensorSpec(b + (m,), dt.int32))


def _eig_rule(x):
    n = _square("eig", x)
    return TensorSpec(tuple(x.shape[:-2]) + (n,), x.dtype), TensorSpec(x.shape, x.dtype)


# lu -> (packed L\U, LAPACK pivots: row i was swapped with row pivots[i], in order,
#        permutation p with L @ U == x[..., p, :])
lu_p = primitive("lu", _lu_rule, multiple_results=True)
# eig -> (eigenvalues, unit-norm eigenvectors as columns), LAPACK's order
eig_p = primitive("eig", _eig_rule, multiple_results=True)


@defgrad(lu_p)
def _lu_grad(g, out, x):
    # A[p] = L U, so dA[p] = L (tril_strict(L^-1 dA[p] U^-1) + triu(...)) U and, backwards,
    # grad A[p] = L^-T (tril_strict(L^T gL) + triu(gU U^T)) U^-T (TF's _LuGrad).
    m, n = x.shape[-2], x.shape[-1]
    if m is None or m != n:
        raise NotImplementedError(f"lu: the gradient is only implemented for square matrices, got shape "
                                  f"{fmt(x.shape)}")
    from tensorlab.ops.indexing import gather
    from tensorlab.ops.sorting import argsort
    E = _E()
    packed, _, perm = out
    g_lu = g[0]
    if g_lu is None:
        return None
    if packed is None or perm is None:  # the caller dropped one: recompute it
        packed2, _, perm2 = lu_p(x)
        packed, perm = (packed2 if packed is None else packed), (perm2 if perm is None else perm)
    eye_diag = E.add(E.multiply(diag_part(packed), 0.0), 1.0)
    lower = set_diag(band_part(packed, -1, 0), eye_diag)
    upper = band_part(packed, 0, -1)
    g_lower = set_diag(band_part(g_lu, -1, 0), E.multiply(diag_part(g_lu), 0.0))
    g_upper = band_part(g_lu, 0, -1)
    lt_gl = _mm(lower, g_lower, ta=True)
    middle = E.add(set_diag(band_part(lt_gl, -1, 0), E.multiply(diag_part(lt_gl), 0.0)),
                   band_part(_mm(g_upper, upper, tb=True), 0, -1))
    left = triangular_solve_p(lower, middle, lower=True, adjoint=True)  # L^-T middle
    grad_permuted = matrix_transpose(triangular_solve_p(upper, matrix_transpose(left), lower=False, adjoint=False))
    inverse = argsort(perm, axis=-1)  # grad A = grad A[p] with the rows put back
    return gather(grad_permuted, inverse, axis=len(x.shape) - 2, batch_dims=len(x.shape) - 2)


@defgrad(eig_p)
def _eig_grad(g, out, x):
    # For A = V diag(w) V^-1 with unit columns (PyTorch's linalg_eig_backward, real case):
    # grad A = V^-T (diag(gw) + F o (V^T gV - V^T V diag(V^T gV))) V^T, F_ij = 1 / (w_j - w_i).
    E = _E()
    gw, gv = g
    w, v = out
    if w is None or v is None:
        w2, v2 = eig_p(x)
        w, v = (w2 if w is None else w), (v2 if v is None else v)
    inner = diag(gw) if gw is not None else E.multiply(diag(w), 0.0)
    if gv is not None:
        vtgv = _mm(v, gv, ta=True)
        vtgv = E.subtract(vtgv, _mm(_mm(v, v, ta=True), diag(diag_part(vtgv))))
        inner = E.add(inner, E.multiply(_pair_gaps(w), vtgv))
    return solve_p(v, _mm(inner, v, tb=True), adjoint=True)


# ----------------------------------------------------------------- public functions
def lu(input, output_idx_type=dt.int32, name=None):
    """The LU decomposition with partial pivoting of each innermost matrix (``tf.linalg.lu``).

    Args:
      input: float32/float64 tensor ``[..., M, M]``.

    Returns:
      ``(lu, p)``: ``lu`` packs the unit lower-triangular ``L`` (below the diagonal)
      and the upper-triangular ``U``; ``p`` is the row permutation with
      ``L @ U == input[..., p, :]``.

    Example:
      >>> lu, p = tl.linalg.lu(tl.constant([[1., 2.], [3., 4.]]))
      >>> p.numpy()
      array([1, 0], dtype=int32)
    """
    x = t(input)
    _square("lu", x)
    packed, _, perm = lu_p(x)
    return packed, (perm if output_idx_type in (dt.int32, "int32") else _E().cast(perm, output_idx_type))


def lu_factor(input, name=None):
    """LU with partial pivoting in LAPACK's form (``scipy.linalg.lu_factor``); also rectangular.

    Returns:
      ``(lu, pivots)``: the packed factors ``[..., M, N]`` and int32 ``pivots``
      ``[..., min(M, N)]``: row ``i`` was interchanged with row ``pivots[i]``, for ``i`` in order.
      Only square matrices are differentiable.

    Example:
      >>> lu, piv = tl.linalg.lu_factor(tl.constant([[1., 2.], [3., 4.]]))
      >>> piv.numpy()
      array([1, 1], dtype=int32)
    """
    x = t(input)
    _float_matrix("lu_factor", x)
    packed, pivots, _ = lu_p(x)
    return packed, pivots


def eig(tensor, name=None):
    """Eigenvalues and eigenvectors of each innermost real matrix whose eigenvalues are all real.

    tensorlab has no complex dtypes: a matrix with a complex eigenvalue raises
    ``InvalidArgumentError`` (use ``eigh`` for symmetric matrices, whose eigenvalues are
    always real). Eigenvalues come in LAPACK's order (unsorted), eigenvectors are the
    unit-norm columns of ``v``: ``tensor @ v = v * w[..., None, :]``. The gradient needs
    distinct eigenvalues.

    Example:
      >>> w, v = tl.linalg.eig(tl.constant([[2., 1.], [0., 3.]]))
      >>> w.numpy()
      array([2., 3.], dtype=float32)
    """
    x = t(tensor)
    _square("eig", x)
    return eig_p(x)


__all__ = []
LINALG = ["lu", "lu_factor", "eig"]
