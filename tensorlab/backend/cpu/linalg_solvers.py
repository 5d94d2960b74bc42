"""numpy implementations of the dense solvers and decompositions (ops/linalg_solvers.py).

They call ``np.linalg`` on stacked matrices (float32/float64 only: the ops
layer rejects other dtypes before they get here), functions CuPy also has, so
the CUDA backend mirrors them.
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import linalg_solvers as S


def _broadcast_batch(a, b):
    """``a`` [..., M, M] and ``b`` [..., M, K] with equal batch dims (CuPy's solve does not broadcast)."""
    sa, sb = tuple(a.shape[:-2]), tuple(b.shape[:-2])
    if sa == sb:
        return a, b
    n = max(len(sa), len(sb))
    sa, sb = (1,) * (n - len(sa)) + sa, (1,) * (n - len(sb)) + sb
    batch = tuple(y if x == 1 else x for x, y in zip(sa, sb))
    return (np.ascontiguousarray(np.broadcast_to(a, batch + tuple(a.shape[-2:]))),
            np.ascontiguousarray(np.broadcast_to(b, batch + tuple(b.shape[-2:]))))


@impl(S.cholesky_p, "cpu")
def cholesky(x):
    return np.linalg.cholesky(x)  # reads the lower triangle only


@impl(S.solve_p, "cpu")
def solve(matrix, rhs, adjoint):
    if adjoint:
        matrix = np.swapaxes(matrix, -1, -2)
    return np.linalg.solve(*_broadcast_batch(matrix, rhs))


@impl(S.triangular_solve_p, "cpu")
def triangular_solve(matrix, rhs, lower, adjoint):
    # numpy has no triangular solver: an LU solve of the masked triangle (exact up to
    # rounding; O(M^3) instead of O(M^2 K), and a zero on the diagonal reads as singular).
    a = np.tril(matrix) if lower else np.triu(matrix)
    if adjoint:
        a = np.swapaxes(a, -1, -2)
    return np.linalg.solve(*_broadcast_batch(a, rhs))


@impl(S.slogdet_p, "cpu")
def slogdet(x):
    sign, log_abs = np.linalg.slogdet(x)
    return np.asarray(sign, dtype=x.dtype), np.asarray(log_abs, dtype=x.dtype)


@impl(S.qr_p, "cpu")
def qr(x, full_matrices):
    q, r = np.linalg.qr(x, mode="complete" if full_matrices else "reduced")
    return q, r
