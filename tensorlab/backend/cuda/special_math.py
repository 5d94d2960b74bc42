"""CUDA implementations of ops/special_math.py: CuPy mirrors of the CPU code (CuPy's ufuncs, and
the Bessel functions' Chebyshev sums as CuPy elementwise ops; no kernels of our own)."""
from tensorlab.backend.cpu import special_math as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
