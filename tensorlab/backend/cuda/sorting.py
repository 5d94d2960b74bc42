"""CUDA implementations of ops/sorting.py: CuPy mirrors of the CPU code (stable argsort,
unique, searchsorted), registered as CuPy fallbacks (no kernels of our own yet)."""
from tensorlab.backend.cpu import sorting as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
