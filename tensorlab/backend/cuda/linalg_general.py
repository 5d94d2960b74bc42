"""CUDA implementations of the general-matrix decompositions (ops/linalg_general.py).

CuPy fallbacks: ``lu`` is the CPU elimination mirrored onto CuPy (one vectorized update
per column). ``eig`` copies the matrices to the host for LAPACK's geev: CuPy has no
general (non-symmetric) eigensolver.
"""
import cupy as cp

from tensorlab.backend.cpu import linalg_general as _cpu
from tensorlab.backend.cuda._mirror import mirror
from tensorlab.core.registry import impl
from tensorlab.ops import linalg_general as G

mirror(_cpu, skip=("eig",))


@impl(G.eig_p, "cuda", fallback="numpy.linalg.eig on the host (CuPy has no general eigensolver)")
def eig(x):
    w, v = _cpu.eig(cp.asnumpy(x))
    return cp.asarray(w), cp.asarray(v)
