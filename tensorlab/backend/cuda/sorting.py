"""CUDA implementation of ops/sorting.py: the CuPy mirror of the CPU code (stable argsort)."""
from tensorlab.backend.cpu import sorting as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
