"""CUDA implementations of the dense solvers and decompositions (ops/linalg_solvers.py).

The solvers and decompositions are CuPy fallbacks (cuSOLVER / batched cuBLAS
through ``cupy.linalg``, which takes stacked matrices): cholesky, solve,
slogdet and qr call the functions of the same name. triangular_solve is a
general ``cupy.linalg.solve`` (batched LU) of the masked triangle, as on the
CPU, not ``cupyx.scipy.linalg.solve_triangular`` (one matrix per call).
Batch dims are broadcast to equal ones first: ``cupy.linalg.solve`` does not
broadcast. Unlike numpy, ``cupy.linalg.cholesky`` and ``solve`` do not raise
for a matrix that is not positive definite or is singular (the result holds
NaN/inf) unless ``cupyx.errstate(linalg="raise")`` asks them to. These three
run under it, so a failed factorization raises the same error as on the CPU
(tf.linalg does the same on GPUs) instead of returning NaN; the check costs one
device sync per call, which these O(M^3) ops can afford.
"""
import functools

import cupyx

from tensorlab.backend.cpu import linalg_solvers as _cpu
from tensorlab.backend.cuda._mirror import mirror
from tensorlab.ops import linalg_solvers as S

mirror(_cpu)


def _raise_on_failed_factorization(fn):
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with cupyx.errstate(linalg="raise"):
            return fn(*args, **kwargs)
    run.raises_linalg_errors = True
    return run


for _prim in (S.cholesky_p, S.solve_p, S.triangular_solve_p):
    _prim.impls["cuda"] = _raise_on_failed_factorization(_prim.impls["cuda"])
