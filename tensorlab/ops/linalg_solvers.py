"""Dense solvers and decompositions for ``tl.linalg``: cholesky, triangular_solve,
solve, slogdet and qr (primitives: LAPACK / cuSOLVER calls on stacked matrices,
with TF's gradient rules), and the composites inv, det, logdet, cholesky_solve.
"""
import collections

from tensorlab.core import dtypes as dt
from tensorlab.core.registry import defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import broadcast_shapes, check_same_dtype, fmt, pair, t
from tensorlab.ops.linalg import (_E, _R, _eye_like, _reshape, band_part, diag, diag_part, matmul_p,
                                  matrix_transpose)

# ----------------------------------------------------------------- solvers and decompositions
# Primitives: cholesky, triangular_solve, solve, slogdet, qr (LAPACK/cuSOLVER calls on
# stacked matrices). inv, det, logdet and cholesky_solve are composites of them.
DECOMP_FLOATS = frozenset({dt.float32, dt.float64})
Qr = collections.namedtuple("Qr", ["q", "r"])
LogMatrixDeterminant = collections.namedtuple("LogMatrixDeterminant", ["sign", "log_abs_determinant"])


def _float_matrix(name, x, what="input"):
    if x.dtype not in DECOMP_FLOATS:
        raise TypeError(f"{name}: {what} must be float32 or float64, got dtype {x.dtype.name} (shape "
                        f"{fmt(x.shape)}); use tl.cast({what}, tl.float64) first")
    if len(x.shape) < 2:
        raise InvalidArgumentError(f"{name}: {what} must have rank >= 2 (matrices [..., M, N]), got shape "
                                   f"{fmt(x.shape)}")


def _square(name, x, what="input"):
    _float_matrix(name, x, what)
    m, n = x.shape[-2], x.shape[-1]
    if m is not None and n is not None and m != n:
        raise InvalidArgumentError(f"{name}: {what} must be square matrices [..., M, M], got shape "
                                   f"{fmt(x.shape)} ({m} rows, {n} columns)")
    return n if n is not None else m


def _square_rule(name):
    def rule(x):
        _square(name, x)
        return TensorSpec(x.shape, x.dtype)
    return rule


def _solve_rule(name):
    def rule(matrix, rhs, adjoint, lower=None):
        n = _square(name, matrix, "matrix")
        _float_matrix(name, rhs, "rhs")
        check_same_dtype(name, matrix, rhs)
        rows = rhs.shape[-2]
        if n is not None and rows is not None and n != rows:
            raise InvalidArgumentError(f"{name}: matrix has shape {fmt(matrix.shape)} but rhs has shape "
                                       f"{fmt(rhs.shape)}; rhs must have {n} rows ([..., {n}, K])")
        try:
            batch = broadcast_shapes(name, matrix.shape[:-2], rhs.shape[:-2])
        except InvalidArgumentError:
            raise InvalidArgumentError(
                f"{name}: batch dimensions {fmt(matrix.shape[:-2])} of matrix (shape {fmt(matrix.shape)}) and "
                f"{fmt(rhs.shape[:-2])} of rhs (shape {fmt(rhs.shape)}) cannot be broadcast together "
                "(each must be equal or 1)") from None
        return TensorSpec(tuple(batch) + (rows if n is None else n, rhs.shape[-1]), matrix.dtype)
    return rule


def _slogdet_rule(x):
    _square("slogdet", x)
    return TensorSpec(x.shape[:-2], x.dtype), TensorSpec(x.shape[:-2], x.dtype)


def _qr_rule(x, full_matrices):
    _float_matrix("qr", x)
    m, n = x.shape[-2], x.shape[-1]
    k = m if full_matrices else (None if m is None or n is None else min(m, n))
    b = tuple(x.shape[:-2])
    return TensorSpec(b + (m, k), x.dtype), TensorSpec(b + (k, n), x.dtype)


cholesky_p = primitive("cholesky", _square_rule("cholesky"))
triangular_solve_p = primitive("triangular_solve", _solve_rule("triangular_solve"))
solve_p = primitive("solve", _solve_rule("solve"))
slogdet_p = primitive("slogdet", _slogdet_rule, multiple_results=True)
qr_p = primitive("qr", _qr_rule, multiple_results=True)


def _mm(a, b, ta=False, tb=False):
    return matmul_p(a, b, transpose_a=ta, transpose_b=tb)


@defgrad(cholesky_p)
def _cholesky_grad(g, chol, x):
    # With P = tril(L^T g) with halved diagonal: grad = sym(L^-T P L^-1).
    E = _E()
    n = chol.shape[-1]
    l_inv = triangular_solve_p(chol, _eye_like(n, n, chol), lower=True, adjoint=False)
    middle = _mm(chol, g, ta=True)
    middle = E.subtract(band_part(middle, -1, 0), E.multiply(diag(diag_part(middle)), 0.5))
    grad = _mm(_mm(l_inv, middle, ta=True), l_inv)
    return E.multiply(E.add(grad, matrix_transpose(grad)), 0.5)


def _solve_grads(solver, g, c, a, adjoint, **kw):
    """Gradients of ``c = op(a)^-1 b``: ``gb = op(a)^-T g``, ``ga = -gb c^T`` (``-c gb^T`` for adjoint)."""
    gb = solver(a, g, adjoint=not adjoint, **kw)
    ga = _E().negative(_mm(c, gb, tb=True) if adjoint else _mm(gb, c, tb=True))
    return ga, gb


@defgrad(triangular_solve_p)
def _triangular_solve_grad(g, c, a, b, lower, adjoint):
    ga, gb = _solve_grads(triangular_solve_p, g, c, a, adjoint, lower=lower)
    return (band_part(ga, -1, 0) if lower else band_part(ga, 0, -1)), gb


@defgrad(solve_p)
def _solve_grad(g, c, a, b, adjoint):
    return _solve_grads(solve_p, g, c, a, adjoint)


@defgrad(slogdet_p)
def _slogdet_grad(g, out, x):
    # d log|det x| / dx = x^-T; the sign is piecewise constant.
    n = x.shape[-1]
    g_log = g[1]
    inv_t = solve_p(x, _eye_like(n, n, x), adjoint=True)
    return _E().multiply(_reshape(g_log, tuple(g_log.shape) + (1, 1)), inv_t)


def _times_inv_rt(x, r):
    """``x @ r^-T`` for upper-triangular ``r``."""
    return matrix_transpose(triangular_solve_p(r, matrix_transpose(x), lower=False, adjoint=False))


def _qr_grad_deep(q, r, dq, dr):
    """The gradient of qr for M >= N, full_matrices=False (arXiv:2009.10071)."""
    E = _E()
    qdq = _mm(q, dq, ta=True)
    rdr = _mm(r, dr, tb=True)
    m = E.add(E.subtract(qdq, matrix_transpose(qdq)), E.subtract(rdr, matrix_transpose(rdr)))
    grad_a = _mm(q, E.add(dr, _times_inv_rt(band_part(m, -1, 0), r)))
    grad_b = _times_inv_rt(E.subtract(dq, _mm(q, qdq)), r)
    return E.add(grad_a, grad_b)


@defgrad(qr_p)
def _qr_grad(g, out, x, full_matrices):
    (dq, dr), (q, r) = g, out
    m, n = x.shape[-2], x.shape[-1]
    if m > n and full_matrices:
        raise NotImplementedError(
            f"qr: the gradient is not implemented when rows > columns and full_matrices=True (input shape "
            f"{fmt(x.shape)}); use full_matrices=False")
    if m >= n:
        return _qr_grad_deep(q, r, dq, dr)
    # Wide: with x = [u_x, y] and r = [u, v], reduce to the square case of u_x = q u.
    from tensorlab.ops.shape import concat
    y, dv = x[..., :, m:], dr[..., :, m:]
    dx = _qr_grad_deep(q, r[..., :, :m], _E().add(dq, _mm(y, dv, tb=True)), dr[..., :, :m])
    return concat([dx, _mm(q, dv)], axis=-1)


def cholesky(input, name=None):
    """The Cholesky factor ``L`` (lower triangular, ``L @ L^T = input``) of each innermost matrix.

    Only the lower triangle of ``input`` is read; it must be symmetric positive definite.

    Args:
      input: float32/float64 tensor of shape ``[..., M, M]``.

    Returns:
      A tensor of the input's shape: the lower-triangular factors.

    Raises:
      InvalidArgumentError: rank < 2, non-square input, or a matrix that is not
        positive definite (on a GPU too: the check costs one device sync).

    Example:
      >>> tl.linalg.cholesky(tl.constant([[4., 2.], [2., 5.]])).numpy()
      array([[2., 0.],
             [1., 2.]], dtype=float32)
    """
    x = t(input)
    _square("cholesky", x)
    return cholesky_p(x)


def triangular_solve(matrix, rhs, lower=True, adjoint=False, name=None):
    """Solves ``matrix @ X = rhs`` for triangular ``matrix`` (batched; batch dims broadcast).

    Args:
      matrix: float32/float64 tensor of shape ``[..., M, M]``; only its lower (``lower=True``)
        or upper triangle is read.
      rhs: tensor of shape ``[..., M, K]``, same dtype.
      lower: whether ``matrix`` is lower (True) or upper (False) triangular.
      adjoint: solve with the (conjugate) transpose of ``matrix`` instead.

    Returns:
      ``X``, of shape ``broadcast(batch) + [M, K]``.

    Example:
      >>> a = tl.constant([[2., 0.], [1., 1.]])
      >>> tl.linalg.triangular_solve(a, tl.constant([[2.], [3.]])).numpy()
      array([[1.],
             [2.]], dtype=float32)
    """
    a, b = pair(matrix, rhs, "triangular_solve")
    triangular_solve_p.shape_rule(a, b, adjoint=bool(adjoint))
    return triangular_solve_p(a, b, lower=bool(lower), adjoint=bool(adjoint))


def cholesky_solve(chol, rhs, name=None):
    """Solves ``A @ X = rhs`` given the Cholesky factor ``chol`` of ``A`` (from ``tl.linalg.cholesky``).

    Example:
      >>> a = tl.constant([[4., 2.], [2., 5.]])
      >>> tl.linalg.cholesky_solve(tl.linalg.cholesky(a), tl.constant([[6.], [7.]])).numpy()
      array([[1.],
             [1.]], dtype=float32)
    """
    y = triangular_solve(chol, rhs, lower=True, adjoint=False)
    return triangular_solve_p(t(chol), y, lower=True, adjoint=True)


def solve(matrix, rhs, adjoint=False, name=None):
    """Solves ``matrix @ X = rhs`` (batched over leading dims, which broadcast).

    Args:
      matrix: float32/float64 tensor of shape ``[..., M, M]``, invertible.
      rhs: tensor of shape ``[..., M, K]``, same dtype.
      adjoint: solve with the (conjugate) transpose of ``matrix`` instead.

    Returns:
      ``X``, of shape ``broadcast(batch) + [M, K]``.

    Raises:
      InvalidArgumentError: bad shapes, or a singular matrix.

    Example:
      >>> a = tl.constant([[2., 1.], [1., 3.]])
      >>> tl.linalg.solve(a, tl.constant([[3.], [4.]])).numpy()
      array([[1.],
             [1.]], dtype=float32)
    """
    a, b = pair(matrix, rhs, "solve")
    solve_p.shape_rule(a, b, adjoint=bool(adjoint))
    return solve_p(a, b, adjoint=bool(adjoint))


def inv(input, adjoint=False, name=None):
    """The inverse of each innermost square matrix (of its transpose, with ``adjoint``).

    Example:
      >>> tl.linalg.inv(tl.constant([[2., 0.], [0., 4.]])).numpy()
      array([[0.5 , 0.  ],
             [0.  , 0.25]], dtype=float32)
    """
    x = t(input)
    n = _square("inv", x)
    try:
        return solve_p(x, _eye_like(n, n, x), adjoint=bool(adjoint))
    except InvalidArgumentError as e:
        raise InvalidArgumentError(f"inv: the input is not invertible ({e})") from e


def slogdet(input, name=None):
    """Sign and log of the absolute value of the determinant of each innermost square matrix.

    More robust than ``log(det(x))``: no overflow or underflow for large matrices.

    Args:
      input: float32/float64 tensor of shape ``[..., M, M]``.

    Returns:
      A pair ``(sign, log_abs_determinant)``, each of shape ``[...]``; a singular
      matrix gives ``(0, -inf)``.

    Example:
      >>> s, ld = tl.linalg.slogdet(tl.constant([[0., 2.], [3., 0.]]))
      >>> s.numpy(), ld.numpy()
      (-1.0, 1.7917595)
    """
    x = t(input)
    _square("slogdet", x)
    return LogMatrixDeterminant(*slogdet_p(x))


def det(input, name=None):
    """The determinant of each innermost square matrix: ``[..., M, M] -> [...]``.

    Example:
      >>> tl.linalg.det(tl.constant([[1., 2.], [3., 4.]])).numpy()
      -2.0
    """
    x = t(input)
    _square("det", x)
    sign, log_abs = slogdet_p(x)
    return _E().multiply(sign, _E().exp(log_abs))


def logdet(matrix, name=None):
    """The log-determinant of each innermost symmetric positive definite matrix (via Cholesky).

    Example:
      >>> tl.linalg.logdet(tl.constant([[4., 0.], [0., 1.]])).numpy()
      1.3862944
    """
    x = t(matrix)
    _square("logdet", x)
    chol = cholesky_p(x)
    return _E().multiply(_R().reduce_sum(_E().log(diag_part(chol)), axis=-1), 2.0)


def qr(input, full_matrices=False, name=None):
    """The QR decomposition ``input = q @ r`` of each innermost matrix.

    ``q`` has orthonormal columns and ``r`` is upper triangular (LAPACK's
    Householder signs: the diagonal of ``r`` may be negative).

    Args:
      input: float32/float64 tensor of shape ``[..., M, N]``.
      full_matrices: if True, ``q`` is ``[..., M, M]`` and ``r`` is ``[..., M, N]``;
        otherwise (default) ``q`` is ``[..., M, P]`` and ``r`` is ``[..., P, N]``, P = min(M, N).

    Returns:
      A namedtuple ``(q, r)``.

    Raises:
      NotImplementedError: from the gradient, for M > N with ``full_matrices=True``.

    Example:
      >>> q, r = tl.linalg.qr(tl.ones([4, 3]))
      >>> q.shape, r.shape
      (TensorShape([4, 3]), TensorShape([3, 3]))
    """
    x = t(input)
    _float_matrix("qr", x)
    return Qr(*qr_p(x, full_matrices=bool(full_matrices)))


__all__ = []
LINALG = ["cholesky", "cholesky_solve", "triangular_solve", "solve", "inv", "det", "slogdet", "logdet", "qr"]
