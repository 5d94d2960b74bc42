"""CUDA implementations of the shape primitives: the CPU ones run with CuPy."""
from tensorlab.backend.cpu import shape as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
