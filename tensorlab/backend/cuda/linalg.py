"""CUDA implementations of the linear-algebra primitives: CuPy mirrors of the CPU ones.

matmul's own kernel (kernels/matmul.py) is registered over the mirror where wired.
"""
from tensorlab.backend.cpu import linalg as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
