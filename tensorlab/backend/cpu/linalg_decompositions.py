"""numpy implementations of the spectral decompositions (ops/linalg_decompositions.py).

They call ``np.linalg`` on stacked matrices (float32/float64 only: the ops
layer rejects other dtypes before they get here), functions CuPy also has, so
the CUDA backend mirrors them. ``eigh`` reads the lower triangle (``UPLO="L"``,
numpy's and CuPy's default), as TF's does.
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import linalg_decompositions as D


@impl(D.svd_p, "cpu")
def svd(x, full_matrices, compute_uv):
    if not compute_uv:
        return (np.linalg.svd(x, compute_uv=False),)
    u, s, vh = np.linalg.svd(x, full_matrices=full_matrices)
    return s, u, np.ascontiguousarray(np.swapaxes(vh, -1, -2))  # TF returns v, not v^T


@impl(D.eigh_p, "cpu")
def eigh(x, compute_v):
    if not compute_v:
        return (np.linalg.eigvalsh(x),)
    e, v = np.linalg.eigh(x)
    return e, v
