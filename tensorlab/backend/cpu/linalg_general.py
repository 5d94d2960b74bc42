"""numpy implementations of the general-matrix decompositions (ops/linalg_general.py).

``lu`` is a right-looking Doolittle elimination with partial pivoting, one column at a
time and vectorized over the batch, written so that the CUDA backend can mirror it onto
CuPy. ``eig`` calls LAPACK's geev through ``np.linalg.eig``.
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import linalg_general as G


@impl(G.lu_p, "cpu")
def lu(x):
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n)
    batch = tuple(x.shape[:-2])
    a = np.array(x, copy=True).reshape((-1, m, n))
    count = a.shape[0]
    rows = np.arange(count)
    pivots = np.zeros((count, k), dtype=np.int32)
    perm = np.tile(np.arange(m, dtype=np.int32), (count, 1))
    for j in range(k):
        # The first largest |entry| on or below the diagonal (LAPACK's idamax).
        p = j + np.argmax(np.abs(a[:, j:, j]), axis=1)
        pivots[:, j] = p
        top = a[rows, j, :].copy()
        a[rows, j, :] = a[rows, p, :]
        a[rows, p, :] = top
        top_index = perm[rows, j].copy()
        perm[rows, j] = perm[rows, p]
        perm[rows, p] = top_index
        pivot = a[:, j, j]
        # A zero pivot leaves an all-zero column below it: dividing by 1 keeps it (getrf's behaviour).
        a[:, j + 1:, j] /= np.where(pivot == 0, 1, pivot)[:, None]
        a[:, j + 1:, j + 1:] -= a[:, j + 1:, j:j + 1] * a[:, j:j + 1, j + 1:]
    return a.reshape(batch + (m, n)), pivots.reshape(batch + (k,)), perm.reshape(batch + (m,))


@impl(G.eig_p, "cpu")
def eig(x):
    w, v = np.linalg.eig(x)
    if np.iscomplexobj(w):
        bad = np.abs(w.imag) > 0
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            where = f"the matrix at batch index {first[:-1]}" if len(first) > 1 else "the matrix"
            raise InvalidArgumentError(
                f"eig: {where} has complex eigenvalues (e.g. {complex(w[first]):.6g}); tensorlab has no complex "
                "dtypes, so eig supports only matrices whose eigenvalues are all real; use eigh for symmetric "
                "matrices")
        w, v = w.real, v.real
    return np.ascontiguousarray(w, dtype=x.dtype), np.ascontiguousarray(v, dtype=x.dtype)
