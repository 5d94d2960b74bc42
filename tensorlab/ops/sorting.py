"""Sorting: argsort (the primitive), sort and top_k (gathers of argsort's order),
in_top_k; unique and searchsorted (primitives of their own, not differentiable)."""
import collections

from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite, not_differentiable, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import FLOATS, check_same_dtype, fmt, norm_axis, pair, t
from tensorlab.ops.shape import _axis_slice

_INDEX_DTYPES = (dt.int32, dt.int64)


def _unique_rule(x, out_idx):
    if len(x.shape) != 1:
        raise InvalidArgumentError(f"unique: x must be 1-D, got shape {fmt(x.shape)}")
    # How many distinct values there are depends on the data: the length is unknown.
    return TensorSpec((None,), x.dtype), TensorSpec(x.shape, out_idx), TensorSpec((None,), out_idx)


def _searchsorted_rule(sorted_sequence, values, side, out_type):
    s, v = sorted_sequence.shape, values.shape
    check_same_dtype("searchsorted", sorted_sequence, values)
    if sorted_sequence.dtype.is_bool or not (sorted_sequence.dtype.is_integer or sorted_sequence.dtype in FLOATS):
        raise TypeError(f"searchsorted: dtype {sorted_sequence.dtype.name} is not supported; valid dtypes: "
                        "integer and floating-point types")
    if len(s) == 0 or len(s) != len(v) or not s[:-1].is_compatible_with(v[:-1]):
        raise InvalidArgumentError(f"searchsorted: sorted_sequence {fmt(s)} and values {fmt(v)} must have the "
                                   "same rank (at least 1) and the same leading dimensions (all but the last)")
    return TensorSpec(v, out_type)


argsort_p = primitive("argsort", lambda x, axis, descending: TensorSpec(x.shape, dt.int32))
unique_p = primitive("unique", _unique_rule, multiple_results=True)
searchsorted_p = primitive("searchsorted", _searchsorted_rule)
not_differentiable(argsort_p, unique_p, searchsorted_p)

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])
Unique = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])


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
    x = _sortable("top_k", input)
    k = int(k)
    n = x.shape[-1]
    if k < 0 or (n is not None and k > n):
        raise InvalidArgumentError(f"top_k: k={k} must be in [0, {n}], the size of the last dimension of the "
                                   f"input (shape {fmt(x.shape)})")
    return TopKV2(*_top_k(x, k=k))


def _top_k_rule(x, k):
    out = tuple(x.shape[:-1]) + (k,)  # exact even where the last dimension is unknown
    return TensorSpec(out, x.dtype), TensorSpec(out, dt.int32)


@composite("top_k", _top_k_rule, multiple_results=True)
def _top_k(x, k):
    from tensorlab.ops.indexing import getitem_p, take_along_axis
    r = x.ndim
    idx = argsort_p(x, axis=r - 1, descending=True)
    if k != x.shape[-1]:
        idx = getitem_p(idx, key=_axis_slice(r, r - 1, 0, k))
    return take_along_axis(x, idx, r - 1), idx


def in_top_k(targets, predictions, k, name=None):
    """Whether each target class is among the ``k`` highest predictions of its row.

    As in TF, a target is in the top ``k`` when fewer than ``k`` classes have
    a strictly higher prediction, so classes tied at the boundary all count
    as in the top ``k``. A target outside ``[0, num_classes)``, or a row with
    a non-finite prediction, gives False.

    Args:
      targets: a 1-D int32/int64 tensor of class ids, ``[batch_size]``.
      predictions: a 2-D float tensor ``[batch_size, num_classes]``.
      k: the number of top predictions to look at.

    Returns:
      A bool tensor ``[batch_size]``.

    Example:
      >>> tl.math.in_top_k([2, 0], tl.constant([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4]]), k=2).numpy()
      array([ True,  True])
    """
    from tensorlab.ops import elementwise as E
    from tensorlab.ops.indexing import _on_device_of, take_along_axis
    from tensorlab.ops.reduction import reduce_all, reduce_sum
    p = t(predictions)
    if p.dtype not in FLOATS:
        raise TypeError(f"in_top_k: predictions must be a floating-point tensor, got dtype {p.dtype.name}")
    tg = _on_device_of(p, targets, "in_top_k")
    if not tg.dtype.is_integer or tg.dtype.is_bool:
        raise TypeError(f"in_top_k: targets must be an int32 or int64 tensor, got dtype {tg.dtype.name}")
    if p.ndim != 2 or tg.ndim != 1 or not p.shape[:1].is_compatible_with(tg.shape):
        raise InvalidArgumentError(f"in_top_k: predictions must be 2-D [batch_size, num_classes] and targets 1-D "
                                   f"[batch_size], got predictions {fmt(p.shape)} and targets {fmt(tg.shape)}")
    k = int(k.numpy()) if hasattr(k, "numpy") else int(k)
    n = p.shape[1]
    tg = E.cast(tg, dt.int64)
    inside = E.logical_and(E.greater_equal(tg, 0), E.less(tg, n if n is not None else 0))
    safe = E.where(inside, tg, 0)
    target_pred = take_along_axis(p, E.cast(safe[:, None], dt.int64), 1)
    higher = reduce_sum(E.cast(E.greater(p, target_pred), dt.int32), axis=1)
    finite = reduce_all(E.is_finite(p), axis=1)
    return E.logical_and(E.logical_and(inside, finite), E.less(higher, k))


# ----------------------------------------------------------------- unique, searchsorted
def _index_dtype(op, arg, value):
    d = dt.as_dtype(value)
    if d not in _INDEX_DTYPES:
        raise TypeError(f"{op}: {arg} must be int32 or int64, got {d.name}")
    return d


def _unique(op, x, out_idx):
    x = t(x)
    if x.ndim != 1:
        raise InvalidArgumentError(f"{op}: x must be 1-D, got shape {fmt(x.shape)}")
    return unique_p(x, out_idx=_index_dtype(op, "out_idx", out_idx))


def unique(x, out_idx=dt.int32, name=None):
    """The distinct values of a 1-D tensor, in order of first occurrence, and each entry's position among them.

    ``y[idx[i]] == x[i]`` for every ``i``. NaNs never compare equal, so each
    NaN is its own value, as in TF. The length of ``y`` depends on the data
    (unknown for a symbolic input). Not differentiable.

    Args:
      x: a 1-D tensor.
      out_idx: the dtype of ``idx``, int32 (default) or int64.

    Returns:
      ``Unique(y, idx)``: ``y`` has ``x``'s dtype; ``idx`` has ``x``'s shape.

    Example:
      >>> y, idx = tl.unique(tl.constant([1, 1, 2, 4, 4, 4, 7, 8, 8]))
      >>> y.numpy(), idx.numpy()
      (array([1, 2, 4, 7, 8], dtype=int32), array([0, 0, 1, 2, 2, 2, 3, 4, 4], dtype=int32))
    """
    y, idx, _ = _unique("unique", x, out_idx)
    return Unique(y, idx)


def unique_with_counts(x, out_idx=dt.int32, name=None):
    """``unique`` plus how many times each distinct value occurs.

    Args:
      x: a 1-D tensor.
      out_idx: the dtype of ``idx`` and ``count``, int32 (default) or int64.

    Returns:
      ``UniqueWithCounts(y, idx, count)``; ``count[j]`` is the number of ``i``
      with ``x[i] == y[j]``.

    Example:
      >>> y, idx, count = tl.unique_with_counts(tl.constant([1, 1, 2, 4, 4, 4, 7, 8, 8]))
      >>> count.numpy()
      array([2, 1, 3, 1, 2], dtype=int32)
    """
    return UniqueWithCounts(*_unique("unique_with_counts", x, out_idx))


def searchsorted(sorted_sequence, values, side="left", out_type=dt.int32, name=None):
    """Where ``values`` would be inserted into the last axis of ``sorted_sequence`` to keep it sorted.

    Batched as TF: each row ``sorted_sequence[..., :]`` is searched for the
    values in the matching row ``values[..., :]``. The result is undefined
    (but within ``[0, N]``) for rows that are not sorted ascending.

    Args:
      sorted_sequence: an ``[..., N]`` numeric tensor sorted ascending along
        its last axis.
      values: an ``[..., M]`` tensor of the same dtype and leading dimensions.
      side: ``"left"`` gives the first position whose entry is ``>=`` the
        value, ``"right"`` the first whose entry is ``>`` it.
      out_type: int32 (default) or int64.

    Returns:
      An ``out_type`` tensor of ``values``' shape, with entries in ``[0, N]``.

    Example:
      >>> tl.searchsorted(tl.constant([[0., 3., 9., 10.]]), tl.constant([[2., 3., 11.]])).numpy()
      array([[1, 1, 4]], dtype=int32)
    """
    if side not in ("left", "right"):
        raise InvalidArgumentError(f"searchsorted: side must be 'left' or 'right', got {side!r}")
    out = _index_dtype("searchsorted", "out_type", out_type)
    s, v = pair(sorted_sequence, values, "searchsorted")
    _searchsorted_rule(s, v, side, out)  # eagerly too: rows are matched by position
    return searchsorted_p(s, v, side=side, out_type=out)


__all__ = ["sort", "argsort", "unique", "unique_with_counts", "searchsorted"]
MATH = ["top_k", "in_top_k"]
NN = ["top_k", "in_top_k"]
