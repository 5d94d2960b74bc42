"""CUDA implementations of the linear-algebra primitives.

matmul runs our kernels (kernels/matmul.py: SIMT float32/float64 GEMMs,
tensor-core float16, TF32 when ``tl.config.enable_tensor_float_32_execution``
asks for it); integer matmuls and the rest are CuPy mirrors of the CPU code.
"""
import numpy as np

from tensorlab.backend.cpu import linalg as _cpu
from tensorlab.backend.cuda._mirror import cupy_versions, mirror
from tensorlab.backend.cuda.kernels import matmul as _kmatmul
from tensorlab.core.registry import impl
from tensorlab.ops import linalg as L

_fallback = cupy_versions(_cpu)
KERNEL_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def _tf32():
    from tensorlab import config
    return config.tensor_float_32_execution_enabled()


def use_matmul_kernel(a, b):
    """Whether our GEMM kernels cover these operands (float dtypes, rank >= 2)."""
    return a.dtype in KERNEL_DTYPES and a.ndim >= 2 and b.ndim >= 2


@impl(L.matmul_p, "cuda")
def matmul(a, b, transpose_a, transpose_b):
    if use_matmul_kernel(a, b):
        return _kmatmul.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b, tf32=_tf32())
    return _fallback["matmul"](a, b, transpose_a, transpose_b)


mirror(_cpu)
