"""CUDA implementations of the random-distribution primitives (ops/random_distributions.py).

CuPy fallbacks: the CPU implementations are mirrored onto CuPy. The samplers call CuPy's
``RandomState`` (``standard_gamma``, ``poisson``, ``binomial``: cuRAND-seeded kernels) with the
arguments numpy's ``Generator`` takes; ``random_gamma_grad``'s series and continued fraction are
elementwise CuPy arithmetic, with one convergence flag read back every few terms. CuPy's binomial
kernel takes the counts as a C ``int``: the op refuses counts of 2**31 or more.
"""
from tensorlab.backend.cpu import random_distributions as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
