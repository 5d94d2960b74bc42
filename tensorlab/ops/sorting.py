"""Sorting: argsort (the primitive), sort and top_k (gathers of argsort's order)."""
import collections

from tensorlab.core import dtypes as dt
from tensorlab.core.registry import not_differentiable, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import fmt, norm_axis, t
from tensorlab.ops.shape import _axis_slice, _is_symbolic

argsort_p = primitive("argsort", lambda x, axis, descending: TensorSpec(x.shape, dt.int32))
not_differentiable(argsort_p)

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])


def _descending(name, direction):
    d = str(direction).upper()
    if d not in ("ASCENDING", "DESCENDING"):
        raise InvalidArgumentError(f"{name}: direction must be 'ASCENDING' or 'DESCENDING', got {direction!r}")
    return d == "DESCENDING"


def _sortable(name, values):
    x = t(values)
    if x.ndim == 0:
        raise InvalidArgumentError(f"{name}: input must have rank >= 1, got a scalar")
    return x


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """Indices (int32) that sort ``values`` along ``axis``; ties keep their order (stable).

    Example:
      >>> tl.argsort(tl.constant([3., 1., 2.])).numpy()
      array([1, 2, 0], dtype=int32)
    """
    x = _sortable("argsort", values)
    return argsort_p(x, axis=norm_axis("argsort", axis, x.ndim), descending=_descending("argsort", direction))


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """Sorts ``values`` along ``axis``; the gradient flows back to the sorted elements.

    Example:
      >>> tl.sort(tl.constant([3., 1., 2.]), direction="DESCENDING").numpy()
      array([3., 2., 1.], dtype=float32)
    """
    from tensorlab.ops.indexing import take_along_axis
    x = _sortable("sort", values)
    ax = norm_axis("sort", axis, x.ndim)
    idx = argsort_p(x, axis=ax, descending=_descending("sort", direction))
    return take_along_axis(x, idx, ax)


def top_k(input, k=1, sorted=True, name=None):
    """The ``k`` largest entries along the last axis and their indices.

    Ties go to the lower index. The gradient flows to the selected entries.

    Args:
      input: a tensor of rank >= 1 with at least ``k`` entries in its last axis.
      k: how many entries to keep.
      sorted: results are always sorted in descending order.

    Returns:
      ``TopKV2(values, indices)``; ``indices`` is int32.

    Example:
      >>> v, i = tl.math.top_k(tl.constant([1., 5., 3.]), k=2)
      >>> i.numpy()
      array([1, 2], dtype=int32)
    """
    from tensorlab.ops.indexing import getitem_p, take_along_axis
    x = _sortable("top_k", input)
    k = int(k)
    n = x.shape[-1]
    if k < 0 or (n is not None and k > n):
        raise InvalidArgumentError(f"top_k: k={k} must be in [0, {n}], the size of the last dimension of the "
                                   f"input (shape {fmt(x.shape)})")
    r = x.ndim
    if _is_symbolic(x):
        out = list(x.shape[:-1]) + [k]
        return TopKV2(SymbolicTensor(out, x.dtype), SymbolicTensor(out, dt.int32))
    idx = argsort_p(x, axis=r - 1, descending=True)
    if k != n:
        idx = getitem_p(idx, key=_axis_slice(r, r - 1, 0, k))
    return TopKV2(take_along_axis(x, idx, r - 1), idx)


__all__ = ["sort", "argsort"]
MATH = ["top_k"]
NN = ["top_k"]
