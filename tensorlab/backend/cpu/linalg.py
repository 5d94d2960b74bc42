"""numpy implementations of the linear-algebra primitives (ops/linalg.py).

Written against numpy functions that CuPy also provides, so the CUDA backend
can mirror them; matmul's CUDA implementation is our kernel.
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import linalg as L


_F16 = np.dtype(np.float16)
_HOST_ARRAY = np.ndarray  # bound at import: stays numpy's in the CuPy mirror


@impl(L.matmul_p, "cpu")
def matmul(a, b, transpose_a, transpose_b):
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    dtype = a.dtype
    if dtype == _F16:
        # numpy has no BLAS for float16 (about 100x slower than float32): multiply in
        # float32 and round once, as the GPU's tensor cores do.
        a, b = a.astype(np.float32), b.astype(np.float32)
    out = np.matmul(a, b)
    # numpy computes bfloat16 products in float32; keep the input dtype.
    return out if out.dtype == dtype else out.astype(dtype)


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
    # numpy has no einsum loops for bfloat16 and no BLAS for float16: compute in float32
    # (float16 on the host only; CuPy's float16 products are fast).
    if dtype.name == "bfloat16" or (dtype == _F16 and isinstance(operands[0], _HOST_ARRAY)):
        operands = [a.astype(np.float32) for a in operands]
    out = np.asarray(np.einsum(equation, *operands, optimize=len(operands) > 1))
    # Single-operand einsums (transposes, diagonals) return views of the input.
    if len(operands) == 1 or not out.flags.c_contiguous:
        out = np.array(out, order="C")
    return out.astype(dtype, copy=False)
