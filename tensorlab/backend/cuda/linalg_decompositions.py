"""CUDA implementations of the spectral decompositions (ops/linalg_decompositions.py).

CuPy fallbacks: ``cupy.linalg.svd`` (cuSOLVER gesvdj, batched) and
``cupy.linalg.eigh`` / ``eigvalsh`` (syevj, batched) take stacked matrices
like numpy's, so the CPU implementations are mirrored onto CuPy.
"""
from tensorlab.backend.cpu import linalg_decompositions as _cpu
from tensorlab.backend.cuda._mirror import mirror

mirror(_cpu)
