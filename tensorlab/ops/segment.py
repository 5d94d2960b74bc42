"""Segment reductions (``tl.math.unsorted_segment_sum`` and friends), ``bincount``,
``histogram_fixed_width`` and ``confusion_matrix``.

All are composites: sums are the indexing family's scatter-add primitive, the
extrema the reduction primitives over a segment mask, so gradients come from
those rules and there is no backend code of their own. Their sizes and checks
read the ids' values, so each public op runs as one registry ``composite``: on
Functional-API tensors it is recorded as one node with its static shape (None
where the size depends on the values) and a ``keras.Model`` replays it on data.
"""
from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import Tensor
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import FLOATS, fmt, pair, require_dtypes, t
from tensorlab.ops.reduction import NUMERIC, _ops, reduce_any, reduce_max_p, reduce_min_p


# ----------------------------------------------------------------- segment reductions
def _segment_args(op, data, segment_ids, num_segments=None, rank1=False):
    """``data`` and ``segment_ids`` as tensors (ids on data's device), and ``num_segments`` as an int."""
    from tensorlab.ops.indexing import _int_indices
    x = t(data)
    ids = _int_indices(x, segment_ids, op)
    k = ids.ndim
    if rank1 and k != 1:
        raise InvalidArgumentError(f"{op}: segment_ids must be 1-D, got shape {fmt(ids.shape)}")
    if k > x.ndim or not x.shape[:k].is_compatible_with(ids.shape):
        raise InvalidArgumentError(f"{op}: segment_ids.shape {fmt(ids.shape)} must be a prefix of data.shape "
                                   f"{fmt(x.shape)}")
    if num_segments is None:
        return x, ids, None
    if hasattr(num_segments, "shape") and tuple(num_segments.shape) != ():
        raise InvalidArgumentError(f"{op}: num_segments must be a scalar, got shape {fmt(num_segments.shape)}")
    try:
        n = int(num_segments)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: num_segments must be an integer, got {num_segments!r}") from None
    if n < 0:
        raise InvalidArgumentError(f"{op}: num_segments must be non-negative, got {n}")
    return x, ids, n


def _id_stats(ids, sorted_check=False):
    """``[min, max]`` (and 1 if ids ever decrease) of concrete ids, in one device-to-host copy;
    None for symbolic or empty ids."""
    if type(ids) is not Tensor or ids.size == 0:
        return None
    E, S = _ops()[:2]
    parts = [reduce_min_p(ids, axes=tuple(range(ids.ndim)), keepdims=False),
             reduce_max_p(ids, axes=tuple(range(ids.ndim)), keepdims=False)]
    if sorted_check:
        parts.append(E.cast(reduce_any(E.less(ids[1:], ids[:-1])), ids.dtype))
    return S.stack(parts).numpy().tolist()


def _check_below(op, stats, n):
    """Checks the ids are below ``n``; returns ``n``, or ``max(ids) + 1`` (0 without ids) for ``n=None``."""
    if n is None:
        return 0 if stats is None else max(stats[1] + 1, 0)
    if stats is not None and stats[1] >= n:
        raise InvalidArgumentError(f"{op}: segment_ids holds {stats[1]}, which is out of range [0, {n}) for "
                                   f"num_segments={n}")
    return n


def _segment_sum(op, x, ids, n, stats):
    """Sums the rows of ``x`` into ``n`` segments; negative ids go to a dropped extra row."""
    from tensorlab.ops.indexing import scatter_index_add_p
    E = _ops()[0]
    drop = stats is not None and stats[0] < 0
    if drop:
        ids = E.where(E.less(ids, 0), n, ids)
    shape = (n + drop,) + tuple(x.shape[ids.ndim:])
    out = scatter_index_add_p(x, ids, shape=shape, key=(("a", 0),), op=op, negative=False)
    return out[:n] if drop else out


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    """Sums the entries of ``data`` that share a segment id (``tf.math.unsorted_segment_sum``).

    ``output[i, ...] = sum of data[j..., ...] over the j... with segment_ids[j...] == i``.
    Ids need not be sorted; a negative id drops its entry; an empty segment is 0.

    Args:
      data: a numeric tensor.
      segment_ids: an int32/int64 tensor whose shape is a prefix of ``data.shape``.
      num_segments: the number of segments (ids must be below it).

    Returns:
      A tensor of shape ``[num_segments] + data.shape[segment_ids.ndim:]``.

    Raises:
      InvalidArgumentError: for an id >= ``num_segments`` or mismatched shapes.

    Example:
      >>> tl.math.unsorted_segment_sum(tl.constant([1., 2., 3., 4.]), [1, 0, 1, -1], 3).numpy()
      array([2., 4., 0.], dtype=float32)
    """
    x, ids, n = _segment_args("unsorted_segment_sum", data, segment_ids, num_segments)
    require_dtypes("unsorted_segment_sum", x, NUMERIC)
    return _unsorted_segment_sum(x, ids, n=n)


def _segments_rule(x, ids, n):  # n=None: max(ids) + 1 segments, known only from the data
    return TensorSpec((n,) + tuple(x.shape[ids.ndim:]), x.dtype)


def segment_reduce(kind, data, segment_ids, num_segments=None):
    """``unsorted_segment_<kind>`` (sum, mean, max or min) with ``num_segments`` optional, as Keras'
    ``ops.segment_*``: without it there are ``max(segment_ids) + 1`` segments."""
    fn = {"sum": _unsorted_segment_sum, "mean": _unsorted_segment_mean, "max": _unsorted_segment_max,
          "min": _unsorted_segment_min}[kind]
    op = f"unsorted_segment_{kind}"
    x, ids, n = _segment_args(op, data, segment_ids, num_segments)
    require_dtypes(op, x, FLOATS if kind == "mean" else NUMERIC)
    return fn(x, ids, n=n)


@composite("unsorted_segment_sum", _segments_rule)
def _unsorted_segment_sum(x, ids, n):
    stats = _id_stats(ids)
    n = _check_below("unsorted_segment_sum", stats, n)
    return _segment_sum("unsorted_segment_sum", x, ids, n, stats)


def segment_sum(data, segment_ids, name=None):
    """Sums the rows of ``data`` that share a sorted segment id (``tf.math.segment_sum``).

    Args:
      data: a numeric tensor of rank >= 1.
      segment_ids: a 1-D int32/int64 tensor of non-negative, non-decreasing
        ids, one per row of ``data``.

    Returns:
      A tensor of shape ``[max(segment_ids) + 1] + data.shape[1:]``; ids that
      do not occur give rows of 0.

    Raises:
      InvalidArgumentError: for ids that are negative, decrease, or do not
        match the rows of ``data``.

    Example:
      >>> tl.math.segment_sum(tl.constant([[1, 2], [3, 4], [5, 6]]), [0, 0, 2]).numpy()
      array([[4, 6],
             [0, 0],
             [5, 6]], dtype=int32)
    """
    x, ids, _ = _segment_args("segment_sum", data, segment_ids, rank1=True)
    require_dtypes("segment_sum", x, NUMERIC)
    return _sorted_segment_sum(x, ids, n=None)


@composite("segment_sum", _segments_rule)  # n=None: the number of segments is max(ids) + 1, as in TF
def _sorted_segment_sum(x, ids, n):
    stats = _id_stats(ids, sorted_check=True)
    if stats is not None and stats[0] < 0:
        raise InvalidArgumentError(f"segment_sum: segment ids must be >= 0, got {stats[0]}")
    if stats is not None and stats[2]:
        raise InvalidArgumentError("segment_sum: segment ids are not increasing (they must be sorted); "
                                   "use tl.math.unsorted_segment_sum for unsorted ids")
    return _segment_sum("segment_sum", x, ids, 0 if stats is None else stats[1] + 1, stats)


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """Averages the entries of ``data`` that share a segment id (``tf.math.unsorted_segment_mean``).

    Like ``unsorted_segment_sum``, divided by each segment's count; an empty
    segment is 0.

    Example:
      >>> tl.math.unsorted_segment_mean(tl.constant([1., 2., 3.]), [0, 1, 0], 2).numpy()
      array([2., 2.], dtype=float32)
    """
    x, ids, n = _segment_args("unsorted_segment_mean", data, segment_ids, num_segments)
    require_dtypes("unsorted_segment_mean", x, FLOATS)
    return _unsorted_segment_mean(x, ids, n=n)


@composite("unsorted_segment_mean", _segments_rule)
def _unsorted_segment_mean(x, ids, n):
    E, S, C = _ops()[:3]
    stats = _id_stats(ids)
    n = _check_below("unsorted_segment_mean", stats, n)
    total = _segment_sum("unsorted_segment_mean", x, ids, n, stats)
    count = _segment_sum("unsorted_segment_mean", C.ones_like(ids, dtype=x.dtype), ids, n, stats)
    count = S.reshape(count, [n] + [1] * (x.ndim - ids.ndim))
    return E.divide(total, E.maximum(count, 1))


def _segment_extremum(op, prim, fill, x, ids, n):
    # Compares every entry with every segment: [num_segments, data entries] work and memory.
    E, S, C = _ops()[:3]
    n = _check_below(op, _id_stats(ids), n)
    rest = list(x.shape[ids.ndim:])
    rows = S.reshape(x, [1, -1] + rest)
    with _dev.device(ids._device):
        segs = S.reshape(C.range(n, dtype=ids.dtype), [n, 1])
    hit = S.reshape(E.equal(segs, S.reshape(ids, [1, -1])), [n, -1] + [1] * len(rest))
    return prim(E.where(hit, rows, fill(x.dtype)), axes=(1,), keepdims=False)


def unsorted_segment_max(data, segment_ids, num_segments, name=None):
    """The maximum of the entries of ``data`` that share a segment id (``tf.math.unsorted_segment_max``).

    An empty segment holds the lowest value of the dtype; a negative id drops
    its entry. Tied maxima share the gradient equally. The work and memory
    grow as ``num_segments * data.size``, so this suits moderate sizes.

    Example:
      >>> tl.math.unsorted_segment_max(tl.constant([1., 5., 3.]), [0, 1, 0], 2).numpy()
      array([3., 5.], dtype=float32)
    """
    x, ids, n = _segment_args("unsorted_segment_max", data, segment_ids, num_segments)
    require_dtypes("unsorted_segment_max", x, NUMERIC)
    return _unsorted_segment_max(x, ids, n=n)


@composite("unsorted_segment_max", _segments_rule)
def _unsorted_segment_max(x, ids, n):
    return _segment_extremum("unsorted_segment_max", reduce_max_p, lambda d: d.min, x, ids, n)


def unsorted_segment_min(data, segment_ids, num_segments, name=None):
    """The minimum of the entries of ``data`` that share a segment id (``tf.math.unsorted_segment_min``).

    An empty segment holds the largest value of the dtype; otherwise as
    ``unsorted_segment_max``.
    """
    x, ids, n = _segment_args("unsorted_segment_min", data, segment_ids, num_segments)
    require_dtypes("unsorted_segment_min", x, NUMERIC)
    return _unsorted_segment_min(x, ids, n=n)


@composite("unsorted_segment_min", _segments_rule)
def _unsorted_segment_min(x, ids, n):
    return _segment_extremum("unsorted_segment_min", reduce_min_p, lambda d: d.max, x, ids, n)


# ----------------------------------------------------------------- bincount, histogram
def _opt_int(op, arg, v):
    if v is None:
        return None
    try:
        n = int(v.numpy()) if hasattr(v, "numpy") else int(v)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {arg} must be an integer, got {v!r}") from None
    if n < 0:
        raise InvalidArgumentError(f"{op}: {arg} must be non-negative, got {n}")
    return n


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dt.int32, name=None, axis=None,
             binary_output=False):
    """Counts how often each non-negative integer occurs in ``arr`` (``tf.math.bincount``).

    The output has ``max(arr) + 1`` bins (0 for an empty ``arr``), at least
    ``minlength`` and at most ``maxlength``; values at or above the bin count
    are not counted. With ``weights``, bin ``i`` sums the weights of the
    entries equal to ``i``.

    Args:
      arr: an int32/int64 tensor of non-negative values.
      weights: None, or a numeric tensor of ``arr``'s shape; the output then
        has its dtype.
      minlength, maxlength: bounds on the number of bins.
      dtype: the output dtype without ``weights`` (default int32).
      axis: None or 0 counts all of ``arr``; -1 counts each row of a 2-D ``arr``.
      binary_output: 1 for each value that occurs instead of its count.

    Returns:
      A 1-D tensor ``[bins]`` (``[rows, bins]`` for ``axis=-1``).

    Raises:
      InvalidArgumentError: negative values, or ``weights`` of another shape.

    Example:
      >>> tl.math.bincount(tl.constant([1, 1, 3, 0]), minlength=5).numpy()
      array([1, 2, 0, 1, 0], dtype=int32)
    """
    from tensorlab.ops.indexing import _on_device_of
    a = t(arr)
    if a.dtype not in (dt.int32, dt.int64):
        raise TypeError(f"bincount: arr must be an int32 or int64 tensor, got dtype {a.dtype.name}")
    if axis not in (None, 0, -1):
        raise InvalidArgumentError(f"bincount: axis must be None, 0 or -1, got {axis!r}")
    rows = axis == -1 and a.ndim != 1
    if rows and a.ndim != 2:
        raise InvalidArgumentError(f"bincount: axis=-1 needs a 1-D or 2-D arr, got shape {fmt(a.shape)}")
    lo, hi = _opt_int("bincount", "minlength", minlength), _opt_int("bincount", "maxlength", maxlength)
    if weights is None:
        return _bincount(a, lo=lo, hi=hi, rows=rows, binary_output=bool(binary_output), dtype=dt.as_dtype(dtype))
    w = weights
    if not hasattr(w, "dtype"):  # Python numbers: TF's default dtypes, on arr's device
        with _dev.device(a._device if type(a) is Tensor else _dev.current()):
            w = t(w)
    w = _on_device_of(a, w, "bincount")
    require_dtypes("bincount", w, NUMERIC)
    if not w.shape.is_compatible_with(a.shape):
        raise InvalidArgumentError(f"bincount: weights {fmt(w.shape)} must have the shape of arr {fmt(a.shape)}")
    return _bincount(a, w, lo=lo, hi=hi, rows=rows, binary_output=bool(binary_output), dtype=w.dtype)


def _bincount_rule(a, *w, lo, hi, rows, binary_output, dtype):
    # The bin count is max(arr) + 1 clipped to [minlength, maxlength]: known only when the bounds meet.
    size = hi if hi is not None and (hi == 0 or lo is not None and lo >= hi) else None
    return TensorSpec((a.shape[0], size) if rows else (size,), dtype)


@composite("bincount", _bincount_rule)
def _bincount(a, *w, lo, hi, rows, binary_output, dtype):
    E, S, C = _ops()[:3]
    w = w[0] if w else C.ones_like(a, dtype=dtype)
    out_dtype = w.dtype
    stats = _id_stats(a)
    if stats is not None and stats[0] < 0:
        raise InvalidArgumentError(f"bincount: arr must be non-negative, got the value {stats[0]}")
    size = 0 if stats is None else stats[1] + 1
    size = size if lo is None else max(size, lo)
    size = size if hi is None else min(size, hi)
    ids = S.reshape(a, [-1])
    if binary_output:
        w = C.ones_like(ids, dtype=out_dtype)
    w = S.reshape(w, [-1])
    n = size
    if rows:
        r = a.shape[0]
        with _dev.device(a._device):
            starts = S.reshape(C.range(r, dtype=a.dtype) * size, [r, 1])
        ids = E.where(E.less(a, size), E.add(a, starts), -1)
        ids, n = S.reshape(ids, [-1]), r * size
    elif stats is not None and stats[1] >= size:
        ids = E.where(E.less(ids, size), ids, -1)
    drop = rows or (stats is not None and stats[1] >= size)
    out = _segment_sum("bincount", w, ids, n, [-1, 0] if drop else None)
    if binary_output:
        out = E.cast(E.greater(out, 0), out_dtype)
    return S.reshape(out, [a.shape[0], size]) if rows else out


def histogram_fixed_width(values, value_range, nbins=100, dtype=dt.int32, name=None):
    """Counts ``values`` in ``nbins`` equal-width bins spanning ``value_range``.

    Bin ``i`` covers ``[lo + i * w, lo + (i + 1) * w)`` with
    ``w = (hi - lo) / nbins``; values below ``lo`` count in the first bin and
    values at or above ``hi`` in the last, as in TF. NaNs are not counted.

    Args:
      values: a numeric tensor of any shape.
      value_range: ``[lo, hi]`` with ``lo < hi``, of ``values``' dtype.
      nbins: the number of bins (positive).
      dtype: the output dtype, int32 (default) or int64.

    Returns:
      A 1-D ``dtype`` tensor ``[nbins]``.

    Example:
      >>> tl.histogram_fixed_width(tl.constant([-1.0, 0.0, 1.5, 2.0, 5.0, 15.]), [0.0, 5.0], nbins=5).numpy()
      array([2, 1, 1, 0, 2], dtype=int32)
    """
    out_dtype = dt.as_dtype(dtype)
    if out_dtype not in (dt.int32, dt.int64):
        raise TypeError(f"histogram_fixed_width: dtype must be int32 or int64, got {out_dtype.name}")
    v, r = pair(values, value_range, "histogram_fixed_width")
    require_dtypes("histogram_fixed_width", v, NUMERIC)
    n = _opt_int("histogram_fixed_width", "nbins", nbins)
    if n == 0:
        raise InvalidArgumentError("histogram_fixed_width: nbins must be positive, got 0")
    if tuple(r.shape) != (2,):
        raise InvalidArgumentError(f"histogram_fixed_width: value_range must have shape [2], got {fmt(r.shape)}")
    return _histogram_fixed_width(v, r, n=n, dtype=out_dtype)


@composite("histogram_fixed_width", lambda v, r, n, dtype: TensorSpec((n,), dtype))
def _histogram_fixed_width(v, r, n, dtype):
    E, S, C = _ops()[:3]
    lo, hi = r.numpy()
    if not lo < hi:
        raise InvalidArgumentError(f"histogram_fixed_width: value_range must satisfy value_range[0] < "
                                   f"value_range[1], got [{lo}, {hi}]")
    step = float(hi - lo) / n  # hi - lo in values' dtype, then in double, as TF
    flat = S.reshape(v, [-1])
    pos = E.divide(E.cast(E.subtract(E.maximum(flat, lo), lo), dt.float64), step)
    pos = E.minimum(pos, float(n - 1))
    if v.dtype in FLOATS:
        pos = E.where(E.is_nan(flat), -1.0, pos)
    ids = E.cast(pos, dt.int64)  # pos >= 0: truncation is the floor
    ones = C.ones_like(ids, dtype=dtype)
    return _segment_sum("histogram_fixed_width", ones, ids, n, [-1, 0] if v.dtype in FLOATS else None)


# ----------------------------------------------------------------- confusion_matrix
def _class_range(op, what, v, n):
    """Checks the class ids ``v`` are in ``[0, n)`` (any non-negative id without ``n``); returns max + 1."""
    stats = _id_stats(v)
    if stats is None:
        return 0
    if stats[0] < 0:
        raise InvalidArgumentError(f"{op}: {what} holds the negative value {stats[0]}; classes must be in "
                                   f"[0, num_classes)")
    if n is not None and stats[1] >= n:
        raise InvalidArgumentError(f"{op}: {what} holds {stats[1]}, which is out of range [0, {n}) for "
                                   f"num_classes={n}")
    return stats[1] + 1


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype=dt.int32, name=None):
    """The confusion matrix of ``labels`` vs ``predictions`` (``tf.math.confusion_matrix``).

    Entry ``[i, j]`` counts (or sums the weights of) the examples with label
    ``i`` predicted as ``j``. Class ids are cast to int64 (floats truncate, bools
    are 0 and 1), as in TF.

    Args:
      labels, predictions: 1-D tensors of class ids of one length (a trailing
        dimension of size 1 on either is squeezed).
      num_classes: the matrix size (default: the largest id + 1).
      weights: None, or one weight per example.
      dtype: the output dtype (weights are cast to it).

    Returns:
      A ``[num_classes, num_classes]`` tensor of ``dtype``.

    Raises:
      InvalidArgumentError: negative ids, ids >= ``num_classes``, or mismatched shapes.

    Example:
      >>> tl.math.confusion_matrix([1, 2, 4], [2, 2, 4]).numpy()
      array([[0, 0, 0, 0, 0],
             [0, 0, 1, 0, 0],
             [0, 0, 1, 0, 0],
             [0, 0, 0, 0, 0],
             [0, 0, 0, 0, 1]], dtype=int32)
    """
    from tensorlab.ops.indexing import _on_device_of
    op = "confusion_matrix"
    lab = t(labels)
    pred = _on_device_of(lab, predictions, op)
    squeeze = None  # TF's remove_squeezable_dimensions, decided on the static ranks
    if pred.ndim == lab.ndim + 1 and pred.shape[-1] == 1:
        squeeze = "predictions"
    elif lab.ndim == pred.ndim + 1 and lab.shape[-1] == 1:
        squeeze = "labels"
    lab_shape = lab.shape[:-1] if squeeze == "labels" else lab.shape
    pred_shape = pred.shape[:-1] if squeeze == "predictions" else pred.shape
    if len(lab_shape) != 1 or len(pred_shape) != 1 or not lab_shape.is_compatible_with(pred_shape):
        raise InvalidArgumentError(f"{op}: labels and predictions must be 1-D and of one length, got shapes "
                                   f"{fmt(lab_shape)} and {fmt(pred_shape)}")
    w = None if weights is None else _on_device_of(lab, weights, op)
    if w is not None and not w.shape.is_compatible_with(pred_shape):
        raise InvalidArgumentError(f"{op}: weights {fmt(w.shape)} must have the shape of predictions "
                                   f"{fmt(pred_shape)}")
    n = _opt_int(op, "num_classes", num_classes)
    return _confusion_matrix(lab, pred, *([] if w is None else [w]), n=n, dtype=dt.as_dtype(dtype), squeeze=squeeze)


# n=None: the size is the largest id + 1, known only from the data.
@composite("confusion_matrix", lambda lab, pred, *w, n, dtype, squeeze: TensorSpec((n, n), dtype))
def _confusion_matrix(lab, pred, *w, n, dtype, squeeze):
    E, S, C = _ops()[:3]
    op = "confusion_matrix"
    if squeeze == "predictions":
        pred = S.squeeze(pred, [-1])
    elif squeeze == "labels":
        lab = S.squeeze(lab, [-1])
    lab, pred = E.cast(lab, dt.int64), E.cast(pred, dt.int64)
    w = C.ones_like(pred, dtype=dtype) if not w else E.cast(w[0], dtype)
    size = max(_class_range(op, "labels", lab, n), _class_range(op, "predictions", pred, n))
    n = size if n is None else n
    cells = _segment_sum(op, w, E.add(E.multiply(lab, n), pred), n * n, None)
    return S.reshape(cells, [n, n])


__all__ = ["histogram_fixed_width"]
MATH = ["segment_sum", "unsorted_segment_sum", "unsorted_segment_mean", "unsorted_segment_max",
        "unsorted_segment_min", "bincount", "confusion_matrix"]
