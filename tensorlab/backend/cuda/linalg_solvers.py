"""CUDA implementations of the dense solvers and decompositions (ops/linalg_solvers.py).

The solvers and decompositions are CuPy fallbacks (cuSOLVER / batched cuBLAS
through ``cupy.linalg``, which takes stacked matrices): cholesky, solve,
slogdet and qr call the functions of the same name. triangular_solve is a
general ``cupy.linalg.solve`` (batched LU) of the masked triangle, as on the
CPU, not ``cupyx.scipy.linalg.solve_triangular`` (one matrix per call).
Batch dims are broadcast to equal ones first: ``cupy.linalg.solve`` does not
broadcast. Unlike numpy, ``cupy.linalg.cholesky`` and ``solve`` do not raise
for a matrix that is not positive definite or is singular (the result holds
NaN/inf) unless ``cupyx.errstate(linalg="raise")`` asks them to, which costs
a device sync.
"""
from tensorlab.backend.cpu import linalg_solvers as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
