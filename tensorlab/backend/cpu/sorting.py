"""numpy implementations of the sorting primitives (ops/sorting.py).

Written against numpy functions that CuPy also provides (stable argsort,
unique, searchsorted), so the CUDA backend mirrors them (backend/cuda/sorting.py).
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import sorting as So


@impl(So.argsort_p, "cpu")
def argsort(x, axis, descending):
    if not descending:
        return np.argsort(x, axis=axis, kind="stable").astype(np.int32)
    # Sorting the reversed array ascending and reversing the order gives a
    # descending order in which equal values keep their original order.
    r = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return (x.shape[axis] - 1 - np.flip(r, axis)).astype(np.int32)


@impl(So.unique_p, "cpu")
def unique(x, out_idx):
    # np.unique sorts; TF lists values by first occurrence, so reorder the sorted
    # distinct values by where each first occurs (``first`` is distinct: any sort works).
    y, first, inverse, counts = np.unique(x, return_index=True, return_inverse=True, return_counts=True,
                                          equal_nan=False)
    order = np.argsort(first, kind="stable")
    rank = np.argsort(order, kind="stable")  # the inverse permutation: sorted position -> output position
    nd = out_idx.as_numpy_dtype
    return y[order], rank[inverse.reshape(-1)].astype(nd), counts[order].astype(nd)


@impl(So.searchsorted_p, "cpu")
def searchsorted(sorted_sequence, values, side, out_type):
    nd = out_type.as_numpy_dtype
    n, m = sorted_sequence.shape[-1], values.shape[-1]
    if values.size == 0 or n == 0:
        return np.zeros(values.shape, dtype=nd)
    rows = values.size // m
    s = sorted_sequence.reshape(rows, n)
    v = values.reshape(rows, m)
    if rows == 1:
        return np.searchsorted(s[0], v[0], side=side).reshape(values.shape).astype(nd)
    # One search for all rows: replace every entry by its rank among all entries
    # (exact, order-preserving, equal values get equal ranks), then shift row b by
    # b * (number of ranks) so that the flattened rows form one sorted sequence.
    ranks = np.unique(np.concatenate([s.reshape(-1), v.reshape(-1)]), return_inverse=True)[1].reshape(-1)
    span = int(ranks.max()) + 1
    offset = np.arange(rows, dtype=np.int64)[:, None] * span
    keys = ranks[:s.size].reshape(rows, n).astype(np.int64) + offset
    queries = ranks[s.size:].reshape(rows, m).astype(np.int64) + offset
    pos = np.searchsorted(keys.reshape(-1), queries.reshape(-1), side=side).reshape(rows, m)
    # Unsorted rows could land outside their own row; keep the result in [0, n].
    out = np.clip(pos - np.arange(rows, dtype=pos.dtype)[:, None] * n, 0, n)
    return out.reshape(values.shape).astype(nd)
