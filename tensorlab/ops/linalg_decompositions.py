"""Spectral decompositions for ``tl.linalg``: svd and eigh (primitives: LAPACK / cuSOLVER
calls on stacked matrices, with TF's gradient rules), and the composites eigvalsh, pinv,
lstsq, matrix_rank and expm built on them and on the solvers of ``linalg_solvers.py``.
"""
import math

from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite, defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import broadcast_shapes, check_same_dtype, fmt, pair, t
from tensorlab.ops.creation import ones_like
from tensorlab.ops.linalg import _E, _R, _eye_like, band_part, diag, diag_part, matmul_p, matrix_transpose, set_diag
from tensorlab.ops.linalg_solvers import _float_matrix, _square, cholesky_p, solve_p, triangular_solve_p
from tensorlab.ops.shape import expand_dims

_EPS = {dt.float32: 2.0 ** -23, dt.float64: 2.0 ** -52}


# ----------------------------------------------------------------- primitives
def _svd_rule(x, full_matrices, compute_uv):
    _float_matrix("svd", x)
    m, n = x.shape[-2], x.shape[-1]
    p = None if m is None or n is None else min(m, n)
    b = tuple(x.shape[:-2])
    s = TensorSpec(b + (p,), x.dtype)
    if not compute_uv:
        return (s,)
    return (s, TensorSpec(b + (m, m if full_matrices else p), x.dtype),
            TensorSpec(b + (n, n if full_matrices else p), x.dtype))


def _eigh_rule(x, compute_v):
    n = _square("eigh", x)
    e = TensorSpec(tuple(x.shape[:-2]) + (n,), x.dtype)
    return (e, TensorSpec(x.shape, x.dtype)) if compute_v else (e,)


# Both return a 1-tuple (values only) without vectors, so one primitive serves svd and
# singular values, eigh and eigvalsh (LAPACK skips the vectors, as TF's ops do).
svd_p = primitive("svd", _svd_rule, multiple_results=True)
eigh_p = primitive("eigh", _eigh_rule, multiple_results=True)


def _mm(a, b, ta=False, tb=False):
    return matmul_p(a, b, transpose_a=ta, transpose_b=tb)


def _safe_reciprocal(x, epsilon=1e-20):
    # TF's _SafeReciprocal: 0 instead of inf where x is exactly 0 (a repeated value).
    E = _E()
    return E.divide(x, E.add(E.multiply(x, x), epsilon))


def _pair_gaps(values, square=False):
    """``f[..., i, j] = 1 / (v_j - v_i)`` (0 on the diagonal and for repeated values)."""
    E = _E()
    if square:
        values = E.multiply(values, values)
    gaps = E.subtract(expand_dims(values, -2), expand_dims(values, -1))
    # The diagonal is masked out before the reciprocal, not after: the reciprocal's derivative
    # at 0 is 1/epsilon, which would swamp second derivatives in cancellation.
    n = values.shape[-1]
    on_diag = E.cast(_eye_like(n, n, values), dt.bool_)
    return E.where(on_diag, 0.0, _safe_reciprocal(E.where(on_diag, 1.0, gaps)))


def _aligned(present, recomputed_missing, recomputed_present, k):
    """``recomputed_missing`` with its first ``k`` columns signed like the caller's ``present``
    vectors: each singular pair (u_i, v_i) may flip sign as a whole between two calls."""
    from tensorlab.ops.shape import concat
    E, R = _E(), _R()
    signs = E.sign(R.reduce_sum(E.multiply(present[..., :k], recomputed_present[..., :k]), axis=-2, keepdims=True))
    head = E.multiply(recomputed_missing[..., :k], signs)
    if recomputed_missing.shape[-1] == k:
        return head
    return concat([head, recomputed_missing[..., k:]], axis=-1)


def _svd_outputs(x, out, full_matrices):
    """(s, u, v) of the forward call; an output the caller dropped (the tape hands None) is
    recomputed, signed consistently with the kept one."""
    s, u, v = out
    if s is not None and u is not None and v is not None:
        return s, u, v
    s2, u2, v2 = svd_p(x, full_matrices=full_matrices, compute_uv=True)
    k = s2.shape[-1]
    if u is not None and v is None:
        v = _aligned(u, v2, u2, k)
    elif v is not None and u is None:
        u = _aligned(v, u2, v2, k)
    elif u is None and v is None:
        u, v = u2, v2
    return (s2 if s is None else s), u, v


@defgrad(svd_p)
def _svd_grad(g, out, x, full_matrices, compute_uv):
    # TF's _SvdGrad (Giles 2008; Townsend's note for full_matrices=False).
    E = _E()
    m, n = x.shape[-2], x.shape[-1]
    if not compute_uv:
        _, u, v = svd_p(x, full_matrices=False, compute_uv=True)
        return _mm(E.multiply(u, expand_dims(g[0], -2)), v, tb=True)
    if m is None or n is None:
        raise NotImplementedError(f"svd: the gradient needs known matrix dimensions, got shape {fmt(x.shape)}")
    gs, gu, gv = g
    s, u, v = _svd_outputs(x, out, full_matrices)
    adjoint = m > n
    if adjoint:  # differentiate x^T = v s u^T and transpose at the end
        m, n, u, v, gu, gv = n, m, v, u, gv, gu
    if full_matrices and n - m > 1:
        raise NotImplementedError(
            f"svd: the gradient of u and v with full_matrices=True is only implemented when the number of "
            f"rows and columns differ by at most 1 (input shape {fmt(x.shape)}); use full_matrices=False")
    f = _pair_gaps(s, square=True)
    v1, gv1 = v[..., :, :m], gv[..., :, :m]
    f_u = E.multiply(f, _mm(u, gu, ta=True))
    f_v = E.multiply(f, _mm(v1, gv1, ta=True))
    s_row = expand_dims(s, -2)
    middle = E.add(E.add(diag(gs), E.multiply(E.add(f_u, matrix_transpose(f_u)), s_row)),
                   E.multiply(expand_dims(s, -1), E.add(f_v, matrix_transpose(f_v))))
    grad = _mm(u, _mm(middle, v1, tb=True))
    if m != n:
        gv1t = matrix_transpose(gv1)
        rest = E.subtract(gv1t, _mm(_mm(gv1t, v1), v1, tb=True))
        if full_matrices:
            v2, gv2 = v[..., :, m:], gv[..., :, m:]
            rest = E.subtract(rest, _mm(_mm(v1, gv2, ta=True), v2, tb=True))
        grad = E.add(grad, _mm(E.multiply(u, _safe_reciprocal(s_row)), rest))
    return matrix_transpose(grad) if adjoint else grad


def _lower_of_symmetric(grad):
    """The gradient w.r.t. the lower triangle the forward reads: ``tril(g + g^T)``, diagonal halved."""
    total = _E().add(grad, matrix_transpose(grad))
    return set_diag(band_part(total, -1, 0), _E().multiply(diag_part(total), 0.5))


@defgrad(eigh_p)
def _eigh_grad(g, out, x, compute_v):
    # TF's _SelfAdjointEigV2Grad.
    E = _E()
    if not compute_v:
        _, v = eigh_p(x, compute_v=True)
        middle = diag(g[0])
    else:
        (ge, gv), (e, v) = g, out
        if e is None or v is None:  # the caller dropped one: its gradient is zero, recompute its value
            e2, v2 = eigh_p(x, compute_v=True)
            e, v = (e2 if e is None else e), (v2 if v is None else v)
        middle = E.add(diag(ge), E.multiply(_pair_gaps(e), _mm(v, gv, ta=True)))
    return _lower_of_symmetric(_mm(v, _mm(middle, v, tb=True)))


# ----------------------------------------------------------------- public functions
def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """The singular value decomposition ``tensor = u @ diag(s) @ v^T`` of each innermost matrix.

    Args:
      tensor: float32/float64 tensor of shape ``[..., M, N]``.
      full_matrices: if True, ``u`` is ``[..., M, M]`` and ``v`` is ``[..., N, N]``;
        otherwise (default) ``[..., M, P]`` and ``[..., N, P]``, P = min(M, N).
      compute_uv: if False, only the singular values are computed and returned.

    Returns:
      ``s`` (``[..., P]``, descending) if ``compute_uv`` is False, else ``(s, u, v)``,
      TF's order, with ``v`` not transposed.

    Raises:
      NotImplementedError: from the gradient of ``u``/``v`` with ``full_matrices=True``
        and rows and columns differing by more than 1 (as in TF).

    Example:
      >>> s, u, v = tl.linalg.svd(tl.constant([[3., 0.], [0., -2.]]))
      >>> s.numpy()
      array([3., 2.], dtype=float32)
    """
    x = t(tensor)
    _float_matrix("svd", x)
    if not compute_uv:
        return svd_p(x, full_matrices=False, compute_uv=False)[0]
    return svd_p(x, full_matrices=bool(full_matrices), compute_uv=True)


def eigh(tensor, name=None):
    """Eigenvalues and eigenvectors of each innermost symmetric matrix (only its lower triangle is read).

    Args:
      tensor: float32/float64 tensor of shape ``[..., N, N]``.

    Returns:
      ``(e, v)``: eigenvalues ``[..., N]`` in ascending order and the eigenvectors as the
      columns of ``v`` (``[..., N, N]``), so ``tensor @ v = v * e[..., None, :]``.

    Example:
      >>> e, v = tl.linalg.eigh(tl.constant([[2., 1.], [1., 2.]]))
      >>> e.numpy()
      array([1., 3.], dtype=float32)
    """
    x = t(tensor)
    _square("eigh", x)
    return eigh_p(x, compute_v=True)


def eigvalsh(tensor, name=None):
    """The eigenvalues of each innermost symmetric matrix (lower triangle read), ascending.

    Example:
      >>> tl.linalg.eigvalsh(tl.constant([[2., 1.], [1., 2.]])).numpy()
      array([1., 3.], dtype=float32)
    """
    x = t(tensor)
    _square("eigvalsh", x)
    return eigh_p(x, compute_v=False)[0]


def _max_dims(name, x):
    m, n = x.shape[-2], x.shape[-1]
    if m is None or n is None:
        raise InvalidArgumentError(f"{name}: the matrix dimensions must be known for the default tolerance, got "
                                   f"shape {fmt(x.shape)}")
    return float(max(m, n))


def pinv(a, rcond=None, validate_args=False, name=None):
    """The Moore-Penrose pseudo-inverse of each innermost matrix, via the SVD.

    Args:
      a: float32/float64 tensor of shape ``[..., M, N]``.
      rcond: singular values below ``rcond * max(s)`` count as zero; default
        ``10 * max(M, N) * eps`` (TF's, not numpy's).

    Returns:
      ``[..., N, M]``.

    Example:
      >>> tl.linalg.pinv(tl.constant([[2., 0.], [0., 0.]])).numpy()
      array([[0.5, 0. ],
             [0. , 0. ]], dtype=float32)
    """
    x = t(a)
    _float_matrix("pinv", x)
    E, R = _E(), _R()
    if rcond is None:
        rcond = 10.0 * _max_dims("pinv", x) * _EPS[x.dtype]
    s, u, v = svd_p(x, full_matrices=False, compute_uv=True)
    cutoff = E.multiply(R.reduce_max(s, axis=-1, keepdims=True), rcond)
    # Small singular values become inf, so 1/s is 0 without NaN gradients (as in TF).
    s = E.where(E.greater(s, cutoff), s, float("inf"))
    return _mm(E.divide(v, expand_dims(s, -2)), u, tb=True)


def _lstsq_rule(a, b):
    _float_matrix("lstsq", a, "matrix")
    _float_matrix("lstsq", b, "rhs")
    check_same_dtype("lstsq", a, b)
    m, rows = a.shape[-2], b.shape[-2]
    if m is not None and rows is not None and m != rows:
        raise InvalidArgumentError(f"lstsq: matrix has shape {fmt(a.shape)} but rhs has shape {fmt(b.shape)}; "
                                   f"rhs must have {m} rows ([..., {m}, K]) like the matrix")
    try:
        broadcast_shapes("lstsq", a.shape[:-2], b.shape[:-2])
    except InvalidArgumentError:
        raise InvalidArgumentError(
            f"lstsq: batch dimensions {fmt(a.shape[:-2])} of matrix (shape {fmt(a.shape)}) and "
            f"{fmt(b.shape[:-2])} of rhs (shape {fmt(b.shape)}) cannot be broadcast together") from None


def _regularized_gram_cholesky(a, l2_regularizer, rows):
    """Cholesky factor of ``a^T a + l2 I`` (``rows=False``) or ``a a^T + l2 I`` (``rows=True``)."""
    gram = _mm(a, a, tb=True) if rows else _mm(a, a, ta=True)
    if l2_regularizer:
        k = gram.shape[-1]
        gram = _E().add(gram, _E().multiply(_eye_like(k, k, gram), l2_regularizer))
    return cholesky_p(gram)


def _cholesky_solve(chol, b):
    return triangular_solve_p(chol, triangular_solve_p(chol, b, lower=True, adjoint=False), lower=True,
                              adjoint=True)


def lstsq(matrix, rhs, l2_regularizer=0.0, fast=True, name=None):
    """Least-squares solutions ``X`` minimizing ``||matrix @ X - rhs||^2 + l2 * ||X||^2``.

    With ``fast=True`` (default) the normal equations are solved by Cholesky
    (``(A^T A + l2 I)^-1 A^T rhs`` for M >= N, ``A^T (A A^T + l2 I)^-1 rhs`` otherwise):
    the matrix must have full rank unless ``l2_regularizer > 0``. With ``fast=False``
    the minimum-norm solution ``pinv(A) @ rhs`` (via the SVD) is returned, also for
    rank-deficient matrices, and ``l2_regularizer`` is ignored (as in TF).

    Args:
      matrix: float32/float64 tensor ``[..., M, N]``.
      rhs: ``[..., M, K]``, same dtype (batch dims broadcast).

    Returns:
      ``[..., N, K]``.

    Example:
      >>> a = tl.constant([[1., 0.], [0., 1.], [1., 1.]])
      >>> tl.linalg.lstsq(a, tl.constant([[1.], [2.], [3.]])).numpy()
      array([[1.],
             [2.]], dtype=float32)
    """
    a, b = pair(matrix, rhs, "lstsq")
    _lstsq_rule(a, b)
    if not fast:
        return _mm(pinv(a), b)
    l2 = float(l2_regularizer)
    m, n = a.shape[-2], a.shape[-1]
    if m is None or n is None:
        raise InvalidArgumentError(f"lstsq: the matrix dimensions must be known, got shape {fmt(a.shape)}")
    if m >= n:
        return _cholesky_solve(_regularized_gram_cholesky(a, l2, rows=False), _mm(a, b, ta=True))
    return _mm(a, _cholesky_solve(_regularized_gram_cholesky(a, l2, rows=True), b), ta=True)


def matrix_rank(a, tol=None, validate_args=False, name=None):
    """The number of singular values above ``tol`` of each innermost matrix (int32).

    Args:
      a: float32/float64 tensor ``[..., M, N]``.
      tol: the threshold; default ``eps * max(M, N) * max(s)``.

    Example:
      >>> tl.linalg.matrix_rank(tl.constant([[1., 2.], [2., 4.]])).numpy()
      1
    """
    x = t(a)
    _float_matrix("matrix_rank", x)
    E, R = _E(), _R()
    s = svd_p(x, full_matrices=False, compute_uv=False)[0]
    if tol is None:
        tol = E.multiply(R.reduce_max(s, axis=-1, keepdims=True), _EPS[x.dtype] * _max_dims("matrix_rank", x))
    return R.reduce_sum(E.cast(E.greater(s, tol), dt.int32), axis=-1)


# Pade coefficients b_0..b_q of exp (Higham 2005); _THETA adds the largest 1-norm each degree
# approximates to the dtype's precision.
_PADE7 = (17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0)
_PADE13 = (64764752532480000.0, 32382376266240000.0, 7771770303897600.0, 1187353796428800.0,
           129060195264000.0, 10559470521600.0, 670442572800.0, 33522128640.0, 1323241920.0,
           40840800.0, 960960.0, 16380.0, 182.0, 1.0)
_THETA = {dt.float32: (_PADE7, 3.925724783138660), dt.float64: (_PADE13, 5.371920351148152)}


def _pade(x, b):
    """``(u, v)`` with ``exp(x) ~ (v - u)^-1 (v + u)``: ``u`` sums the odd terms, ``v`` the even."""
    E = _E()
    n = x.shape[-1]
    x2 = _mm(x, x)
    powers = [_eye_like(n, n, x), x2]
    while len(powers) < (len(b) + 1) // 2:
        powers.append(_mm(powers[-1], x2))
    odd = even = None
    for k, p in enumerate(powers):
        odd = E.multiply(p, b[2 * k + 1]) if odd is None else E.add(odd, E.multiply(p, b[2 * k + 1]))
        even = E.multiply(p, b[2 * k]) if even is None else E.add(even, E.multiply(p, b[2 * k]))
    return _mm(x, odd), even


def expm(input, name=None):
    """The matrix exponential of each innermost square matrix (scaling and squaring with a
    Pade approximant of degree 13 for float64, 7 for float32; Higham 2005).

    Args:
      input: float32/float64 tensor ``[..., N, N]``.

    Returns:
      A tensor of the input's shape; all NaN for a matrix with a non-finite entry.

    Example:
      >>> tl.linalg.expm(tl.constant([[0., 1.], [0., 0.]])).numpy()
      array([[1., 1.],
             [0., 1.]], dtype=float32)
    """
    x = t(input)
    _square("expm", x)
    return _expm(x)


@composite("expm", lambda x: TensorSpec(x.shape, x.dtype))
def _expm(x):
    # The number of squarings is read back from the data: on Functional-API tensors this runs as a composite.
    if x.shape[-1] == 0:
        return x
    E, R = _E(), _R()
    coeffs, theta = _THETA[x.dtype]
    norm = R.reduce_max(R.reduce_sum(E.abs(x), axis=-2, keepdims=True), axis=-1, keepdims=True)
    # Each matrix is scaled by 2^-s into the approximant's range, then squared s times.
    squarings = E.maximum(E.ceil(E.divide(E.log(E.divide(norm, theta)), math.log(2.0))), 0.0)
    # The number of squarings is read on the host (one device sync), as TF's while_loop does.
    most = 0.0 if not squarings.shape.num_elements() else float(R.reduce_max(squarings).numpy())
    if not math.isfinite(most):
        return E.multiply(ones_like(x), float("nan"))
    u, v = _pade(E.divide(x, E.pow(2.0, squarings)), coeffs)
    result = solve_p(E.subtract(v, u), E.add(v, u), adjoint=False)
    for i in range(int(most)):
        result = E.where(E.less(float(i), squarings), _mm(result, result), result)
    return result


__all__ = []
LINALG = ["svd", "eigh", "eigvalsh", "pinv", "lstsq", "matrix_rank", "expm"]
