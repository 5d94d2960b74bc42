"""CUDA implementations of ops/creation.py (CuPy built-ins, mirrored)."""
from tensorlab.backend.cpu import creation as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
