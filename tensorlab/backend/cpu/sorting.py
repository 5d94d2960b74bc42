"""numpy implementation of the sorting primitive (ops/sorting.py)."""
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
