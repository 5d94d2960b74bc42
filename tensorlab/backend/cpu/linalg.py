"""numpy implementations of the linear-algebra primitives (ops/linalg.py).

Written against numpy functions that CuPy also provides, so the CUDA backend
can mirror them; matmul's CUDA implementation is our kernel. The solvers and
decompositions call ``np.linalg`` on stacked matrices (float32/float64 only:
the ops layer rejects other dtypes before they get here).
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import linalg as L


@impl(L.matmul_p, "cpu")
def matmul(a, b, transpose_a, transpose_b):
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    out = np.matmul(a, b)
    # numpy computes bfloat16 products in float32; keep the input dtype.
    return out if out.dtype == a.dtype else out.astype(a.dtype)


@impl(L.einsum_p, "cpu")
def einsum(*operands, equation, bcast):
    lhs = equation.split("->")[0].split(",")
    if bcast:
        # Broadcast size-1 '...' dims up front (views), so the contraction never
        # relies on implicit broadcasting in the einsum implementation.
        sizes = {}
        for term, a in zip(lhs, operands):
            for c, d in zip(term, a.shape):
                if d != 1:
                    sizes[c] = d
        operands = [np.broadcast_to(a, tuple(sizes.get(c, d) if d == 1 else d for c, d in zip(term, a.shape)))
                    for term, a in zip(lhs, operands)]
    dtype = operands[0].dtype
    if dtype.name == "bfloat16":  # numpy has no einsum loops for bfloat16: compute in float32
        operands = [a.astype(np.float32) for a in operands]
    out = np.asarray(np.einsum(equation, *operands, optimize=len(operands) > 1))
    # Single-operand einsums (transposes, diagonals) return views of the input.
    if len(operands) == 1 or not out.flags.c_contiguous:
        out = np.array(out, order="C")
    return out.astype(dtype, copy=False)


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


@impl(L.cholesky_p, "cpu")
def cholesky(x):
    return np.linalg.cholesky(x)  # reads the lower triangle only


@impl(L.solve_p, "cpu")
def solve(matrix, rhs, adjoint):
    if adjoint:
        matrix = np.swapaxes(matrix, -1, -2)
    return np.linalg.solve(*_broadcast_batch(matrix, rhs))


@impl(L.triangular_solve_p, "cpu")
def triangular_solve(matrix, rhs, lower, adjoint):
    # numpy has no triangular solver: an LU solve of the masked triangle (exact up to
    # rounding; O(M^3) instead of O(M^2 K), and a zero on the diagonal reads as singular).
    a = np.tril(matrix) if lower else np.triu(matrix)
    if adjoint:
        a = np.swapaxes(a, -1, -2)
    return np.linalg.solve(*_broadcast_batch(a, rhs))


@impl(L.slogdet_p, "cpu")
def slogdet(x):
    sign, log_abs = np.linalg.slogdet(x)
    return np.asarray(sign, dtype=x.dtype), np.asarray(log_abs, dtype=x.dtype)


@impl(L.qr_p, "cpu")
def qr(x, full_matrices):
    q, r = np.linalg.qr(x, mode="complete" if full_matrices else "reduced")
    return q, r
