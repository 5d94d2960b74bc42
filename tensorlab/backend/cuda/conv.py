"""CUDA implementations of the convolution primitives (ops/conv.py).

Until the implicit-GEMM kernels are attached here, the CPU im2col
implementations run on CuPy (``as_strided`` views, ``cupy.matmul``).
"""
from tensorlab.backend.cpu import conv as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
