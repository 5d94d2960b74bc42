"""CUDA implementations of the reduction primitives: CuPy mirrors of the CPU ones.

Our reduction kernels (kernels/reduce.py) are registered over these where wired.
"""
from tensorlab.backend.cpu import reduction as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
