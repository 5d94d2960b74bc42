"""CUDA implementations of ops/bitwise.py: CuPy mirrors of the CPU code (CuPy's own
elementwise kernels; no kernels of our own)."""
from tensorlab.backend.cpu import bitwise as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
