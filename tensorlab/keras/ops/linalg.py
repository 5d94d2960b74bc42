"""Linear algebra (``keras.ops.linalg``) with Keras 3's names and arguments, over ``tl.linalg``.

    from tensorlab.keras import ops
    x = ops.linalg.solve(a, b)
"""
import math

import tensorlab as tl
from tensorlab.keras import backend as _backend

__all__ = ["cholesky", "det", "inv", "solve", "solve_triangular", "qr", "norm"]


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
