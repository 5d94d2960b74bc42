"""Linear algebra (``keras.ops.linalg``) with Keras 3's names and arguments, over ``tl.linalg``.

    from tensorlab.keras import ops
    x = ops.linalg.solve(a, b)
"""
import math

import tensorlab as tl
from tensorlab.keras import backend as _backend
from tensorlab.keras.ops._common import on_device_of

__all__ = ["cholesky", "det", "inv", "solve", "solve_triangular", "qr", "norm", "cholesky_inverse", "eig", "eigh",
           "lstsq", "lu_factor", "matrix_rank", "pinv", "svd", "jvp"]


def _f(x):
    x = x if tl.is_tensor(x) or hasattr(x, "_keras_history") else tl.convert_to_tensor(x)
    return x if x.dtype.is_floating else tl.cast(x, _backend.floatx())


def _square(name, x):
    if len(x.shape) < 2 or (x.shape[-1] is not None and x.shape[-2] != x.shape[-1]):
        raise ValueError(f"{name}: expected a square matrix or a batch of them (shape (..., n, n)), got shape "
                         f"{tuple(x.shape)}")
    return x


def cholesky(x, upper=False):
    """The Cholesky factor of symmetric positive-definite ``x``: lower ``L`` with ``L @ L.T == x``,
    or upper ``U = L.T`` with ``upper=True``."""
    lower = tl.linalg.cholesky(_square("cholesky", _f(x)))
    return tl.linalg.adjoint(lower) if upper else lower


def det(x):
    """The determinant of each square matrix in ``x``."""
    return tl.linalg.det(_square("det", _f(x)))


def inv(x):
    """The inverse of each square matrix in ``x``."""
    return tl.linalg.inv(_square("inv", _f(x)))


def _rhs(a, b):
    """``b`` as a matrix for ``a`` (a vector right-hand side becomes one column); and whether it was one."""
    vector = len(b.shape) == len(a.shape) - 1
    return (tl.expand_dims(b, -1) if vector else b), vector


def solve(a, b):
    """``x`` with ``a @ x == b``; ``b`` is a matrix ``(..., n, k)`` or a vector ``(..., n)``.

    Example:
      >>> ops.linalg.solve([[2., 0.], [0., 4.]], [2., 4.])   # [1., 1.]
    """
    a = _square("solve", _f(a))
    b, vector = _rhs(a, tl.cast(_f(b), a.dtype))
    x = tl.linalg.solve(a, b)
    return tl.squeeze(x, -1) if vector else x


def solve_triangular(a, b, lower=False):
    """``x`` with ``a @ x == b`` for triangular ``a`` (upper unless ``lower=True``)."""
    a = _square("solve_triangular", _f(a))
    b, vector = _rhs(a, tl.cast(_f(b), a.dtype))
    x = tl.linalg.triangular_solve(a, b, lower=lower)
    return tl.squeeze(x, -1) if vector else x


def qr(x, mode="reduced"):
    """The QR decomposition ``(q, r)`` of ``x``; ``mode`` is ``"reduced"`` or ``"complete"``."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete', got mode={mode!r}")
    x = _f(x)
    if len(x.shape) < 2:
        raise ValueError(f"qr: x must have at least 2 dimensions, got shape {tuple(x.shape)}")
    return tl.linalg.qr(x, full_matrices=mode == "complete")


def _vector_norm(x, ord, axis, keepdims):
    a = tl.abs(x)
    if ord is None or ord == 2:
        return tl.sqrt(tl.reduce_sum(tl.square(x), axis=axis, keepdims=keepdims))
    if ord == math.inf:
        return tl.reduce_max(a, axis=axis, keepdims=keepdims)
    if ord == -math.inf:
        return tl.reduce_min(a, axis=axis, keepdims=keepdims)
    if ord == 0:
        return tl.reduce_sum(tl.cast(tl.not_equal(x, 0.0), x.dtype), axis=axis, keepdims=keepdims)
    if ord == 1:
        return tl.reduce_sum(a, axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm; give a 2-tuple axis for matrix norms")
    return tl.pow(tl.reduce_sum(tl.pow(a, float(ord)), axis=axis, keepdims=keepdims), 1.0 / ord)


def _matrix_norm(x, ord, axis, keepdims):
    r, c = axis
    if ord is None or ord == "fro":
        return tl.sqrt(tl.reduce_sum(tl.square(x), axis=list(axis), keepdims=keepdims))
    a = tl.abs(x)
    if ord in (1, -1):  # max / min over columns of the column sums
        red, sums_axis = (tl.reduce_max if ord == 1 else tl.reduce_min), r
    elif ord in (math.inf, -math.inf):  # over rows of the row sums
        red, sums_axis = (tl.reduce_max if ord == math.inf else tl.reduce_min), c
    else:
        raise ValueError(f"norm: matrix ord must be None, 'fro', 1, -1, inf or -inf in tensorlab, got ord={ord!r}")
    other = c if sums_axis == r else r
    sums = tl.reduce_sum(a, axis=sums_axis, keepdims=True)
    out = red(sums, axis=other, keepdims=True)
    return out if keepdims else tl.squeeze(out, axis=sorted((r, c)))


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm, as ``numpy.linalg.norm``.

    ``axis`` None: the 2-norm of the flattened ``x`` (or the matrix norm ``ord`` of a 2-D ``x``);
    an int: vector norms along it; a pair: matrix norms over those two axes.
    """
    x = _f(x)
    ndim = len(x.shape)
    if axis is None:
        if ord is None:
            return tl.sqrt(tl.reduce_sum(tl.square(x), axis=None, keepdims=keepdims))
        if ndim not in (1, 2):
            raise ValueError(f"norm: with ord={ord!r} and axis=None, x must be 1-D or 2-D, got shape "
                             f"{tuple(x.shape)}")
        axis = tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if not all(isinstance(a, int) and -ndim <= a < ndim for a in axes) or len(axes) not in (1, 2):
        raise ValueError(f"norm: axis must be None, an int or a pair of ints within rank {ndim}, got {axis!r}")
    axes = tuple(a % ndim for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if axes[0] == axes[1]:
        raise ValueError(f"norm: the two axes must differ, got {axis!r}")
    return _matrix_norm(x, ord, axes, keepdims)


# ----------------------------------------------------------------------------- decompositions
def cholesky_inverse(x, upper=False):
    """The inverse of ``A`` from its Cholesky factor ``x``: ``A = x @ x.T`` (lower) or ``x.T @ x`` (upper).

    Example:
      >>> ops.linalg.cholesky_inverse(ops.linalg.cholesky(a))   # inv(a)
    """
    factor = _square("cholesky_inverse", _f(x))
    with on_device_of(factor):
        identity = tl.linalg.eye(factor.shape[-1], dtype=factor.dtype)
    inv_factor = tl.linalg.triangular_solve(factor, identity + tl.zeros_like(factor), lower=not upper)
    if upper:  # A^-1 = U^-1 U^-T
        return tl.matmul(inv_factor, inv_factor, transpose_b=True)
    return tl.matmul(inv_factor, inv_factor, transpose_a=True)  # L^-T L^-1


def eig(x):
    """Eigenvalues and eigenvectors ``(w, v)`` of square matrices whose eigenvalues are all real.

    tensorlab has no complex dtypes, so a matrix with a complex eigenvalue raises
    ``InvalidArgumentError`` (Keras returns complex results there); symmetric matrices
    always qualify (``eigh`` is faster for them). Order as LAPACK's (unsorted), unit-norm
    eigenvector columns.
    """
    return tl.linalg.eig(_square("eig", _f(x)))


def eigh(x):
    """Eigenvalues (ascending) and eigenvectors ``(w, v)`` of symmetric matrices (lower triangle read)."""
    return tl.linalg.eigh(_square("eigh", _f(x)))


def lu_factor(x):
    """LU with partial pivoting, as ``scipy.linalg.lu_factor``: ``(lu, pivots)``, int32 ``pivots``
    ``[..., min(M, N)]`` (row ``i`` swapped with row ``pivots[i]``, in order)."""
    x = _f(x)
    if len(x.shape) < 2:
        raise ValueError(f"lu_factor: x must have at least 2 dimensions, got shape {tuple(x.shape)}")
    return tl.linalg.lu_factor(x)


def _cutoff(name, x, rcond):
    """``rcond``, or numpy's default ``max(M, N) * eps``."""
    if rcond is not None:
        return rcond
    if x.shape[-1] is None or x.shape[-2] is None:
        raise ValueError(f"{name}: the matrix dimensions must be known for the default rcond, got shape "
                         f"{tuple(x.shape)}")
    return max(x.shape[-2], x.shape[-1]) * (2.0 ** -52 if x.dtype == tl.float64 else 2.0 ** -23)


def _matrices(name, x):
    x = _f(x)
    if len(x.shape) < 2:
        raise ValueError(f"{name}: x must have at least 2 dimensions (matrices (..., M, N)), got shape "
                         f"{tuple(x.shape)}")
    return x


def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse; singular values below ``rcond * max(s)`` count as zero
    (default ``rcond``: ``max(M, N) * eps``, numpy's)."""
    x = _matrices("pinv", x)
    return tl.linalg.pinv(x, rcond=_cutoff("pinv", x, rcond))


def lstsq(a, b, rcond=None):
    """The minimum-norm least-squares solution of ``a @ x = b`` (``numpy.linalg.lstsq(...)[0]``).

    Args:
      a: ``(M, N)`` (or a batch of them).
      b: ``(M,)`` or ``(M, K)``.
      rcond: singular values below ``rcond * max(s)`` count as zero (default ``max(M, N) * eps``).

    Returns:
      ``(N,)`` or ``(N, K)``.
    """
    a = _matrices("lstsq", a)
    b = tl.cast(_f(b), a.dtype)
    vector = len(b.shape) == len(a.shape) - 1
    if vector:
        b = tl.expand_dims(b, -1)
    if b.shape[-2] != a.shape[-2]:
        raise ValueError(f"lstsq: a has shape {tuple(a.shape)} but b has shape "
                         f"{tuple(b.shape[:-1]) if vector else tuple(b.shape)}; b needs {a.shape[-2]} rows")
    x = tl.matmul(tl.linalg.pinv(a, rcond=_cutoff("lstsq", a, rcond)), b)
    return tl.squeeze(x, -1) if vector else x


def matrix_rank(x, tol=None):
    """The number of singular values above ``tol`` (default ``max(s) * max(M, N) * eps``), int32."""
    return tl.linalg.matrix_rank(_matrices("matrix_rank", x), tol=tol)


def svd(x, full_matrices=True, compute_uv=True):
    """The SVD ``x = u @ diag(s) @ vh``: ``(u, s, vh)``, or ``s`` alone with ``compute_uv=False``
    (singular values descending)."""
    x = _matrices("svd", x)
    if not compute_uv:
        return tl.linalg.svd(x, compute_uv=False)
    s, u, v = tl.linalg.svd(x, full_matrices=full_matrices)
    return u, s, tl.linalg.adjoint(v)


# ----------------------------------------------------------------------------- forward mode
def jvp(fun, primals, tangents, has_aux=False):
    """The Jacobian-vector product of ``fun`` at ``primals`` along ``tangents``.

    Computed in reverse mode twice (the "double-backward" trick): ``u -> J^T u`` is
    linear in ``u``, and the gradient of ``<J^T u, tangents>`` with respect to ``u``
    is ``J @ tangents``.

    Args:
      fun: a function of ``len(primals)`` tensors returning a tensor or a nested
        structure of them (with ``has_aux``: a pair ``(outputs, aux)``).
      primals: a tuple or list of the inputs.
      tangents: the same structure and shapes as ``primals``.

    Returns:
      ``(outputs, jvp)`` with ``jvp`` shaped like ``outputs``; ``(outputs, jvp, aux)``
      with ``has_aux``.

    Example:
      >>> ops.linalg.jvp(lambda x: x ** 3, (tl.constant(2.0),), (tl.constant(1.0),))   # (8.0, 12.0)
    """
    if not callable(fun):
        raise TypeError(f"jvp: fun must be callable, got {type(fun).__name__}")
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(f"jvp: primals and tangents must be tuples or lists, got {type(primals).__name__} and "
                        f"{type(tangents).__name__}")
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: primals and tangents must have the same length, got {len(primals)} and "
                         f"{len(tangents)}")
    xs = tl.nest.flatten(list(primals))
    vs = tl.nest.flatten(list(tangents))
    if len(xs) != len(vs):
        raise ValueError(f"jvp: primals and tangents must have the same structure, got {len(xs)} and {len(vs)} "
                         "leaves")
    xs = [_f(x) for x in xs]
    vs = [tl.cast(_f(v), x.dtype) for x, v in zip(xs, vs)]
    for x, v in zip(xs, vs):
        if tuple(x.shape) != tuple(v.shape):
            raise ValueError(f"jvp: each tangent must have its primal's shape, got {tuple(v.shape)} for a primal of "
                             f"shape {tuple(x.shape)}")
    with tl.GradientTape(persistent=True) as outer:
        with tl.GradientTape(persistent=True) as inner:
            for x in xs:
                inner.watch(x)
            result = fun(*tl.nest.pack_sequence_as(list(primals), xs))
        outputs, aux = result if has_aux else (result, None)
        if has_aux and not (isinstance(result, (tuple, list)) and len(result) == 2):
            raise ValueError("jvp: with has_aux=True, fun must return a pair (outputs, aux)")
        ys = tl.nest.flatten(outputs)
        us = [tl.zeros_like(y) for y in ys]
        for u in us:
            outer.watch(u)
        cotangents = inner.gradient(ys, xs, output_gradients=us)
        dot = None
        for g, v in zip(cotangents, vs):
            if g is not None:
                term = tl.reduce_sum(g * v)
                dot = term if dot is None else dot + term
    if dot is None:  # the outputs do not depend on the primals
        out = [tl.zeros_like(y) for y in ys]
    else:
        out = [tl.zeros_like(y) if d is None else d for y, d in zip(ys, outer.gradient(dot, us))]
    tangent_out = tl.nest.pack_sequence_as(outputs, out) if tl.nest.is_nested(outputs) else out[0]
    return (outputs, tangent_out, aux) if has_aux else (outputs, tangent_out)
