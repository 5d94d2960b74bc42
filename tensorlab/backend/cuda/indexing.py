"""CUDA implementations of the indexing primitives: the CPU ones run with CuPy."""
from tensorlab.backend.cpu import indexing as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
