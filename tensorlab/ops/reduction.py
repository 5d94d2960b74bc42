"""Reductions along axes: sum, mean, max/min, prod, logsumexp, all/any,
argmax/argmin, cumsum/cumprod, variance/std and euclidean norm; segment sums, means
and extrema; bincount and histogram_fixed_width.

Primitives: reduce_sum, reduce_max, reduce_min, reduce_prod, reduce_all,
reduce_any, argmax, argmin, cumsum, cumprod. Everything else (mean, logsumexp,
variance, std, euclidean norm, count_nonzero) is a composite of these; the
segment reductions, bincount and histogram_fixed_width are composites of the
indexing primitives (scatter-add).
Reduction primitives take ``axes`` (a sorted tuple of non-negative axes) and
``keepdims``; the public functions normalize TF's ``axis`` argument.
"""
from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import defgrad, not_differentiable, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import Tensor
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import FLOATS, fmt, norm_axes, norm_axis, pair, require_dtypes, t

_INTS = frozenset({dt.int8, dt.int16, dt.int32, dt.int64, dt.uint8})
NUMERIC = FLOATS | _INTS
_BOOL = frozenset({dt.bool_})
_HALF = frozenset(d for d in (dt.float16, dt.bfloat16) if d in FLOATS)


def _reduce_shape(x, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return tuple(d for i, d in enumerate(x.shape) if i not in axes)


def reduce_rule(name, out_dtype=None, allowed=NUMERIC):
    def rule(x, axes, keepdims):
        require_dtypes(name, x, allowed)
        for a in axes:
            if not 0 <= a < len(x.shape):
                raise InvalidArgumentError(f"{name}: axis {a} is out of range for a tensor of rank "
                                           f"{len(x.shape)} (shape {fmt(x.shape)})")
        return TensorSpec(_reduce_shape(x, axes, keepdims), out_dtype or x.dtype)
    return rule


reduce_sum_p = primitive("reduce_sum", reduce_rule("reduce_sum"))
reduce_max_p = primitive("reduce_max", reduce_rule("reduce_max"))
reduce_min_p = primitive("reduce_min", reduce_rule("reduce_min"))
reduce_prod_p = primitive("reduce_prod", reduce_rule("reduce_prod"))
reduce_all_p = primitive("reduce_all", reduce_rule("reduce_all", allowed=_BOOL))
reduce_any_p = primitive("reduce_any", reduce_rule("reduce_any", allowed=_BOOL))
not_differentiable(reduce_all_p, reduce_any_p)


def _expand_reduced(g, x, axes, keepdims):
    """Reshapes a reduced tensor so it broadcasts against ``x``."""
    from tensorlab.ops.shape import reshape
    if not keepdims:
        g = reshape(g, _reduce_shape(x, axes, True))
    return g


_MODS = []


def _ops():
    # Imported late (sibling families import this module), then cached: hot path.
    if not _MODS:
        from tensorlab.ops import creation, elementwise, gradient_ops, shape
        _MODS.extend((elementwise, shape, creation, gradient_ops))
    return _MODS


@defgrad(reduce_sum_p)
def _sum_grad(g, out, x, axes, keepdims):
    from tensorlab.ops.shape import broadcast_to
    return broadcast_to(_expand_reduced(g, x, axes, keepdims), x.shape)


def _extremum_grad(g, out, x, axes, keepdims):
    # Ties share the gradient equally, as in TF.
    if x.dtype not in FLOATS:
        return None
    E = _ops()[0]
    mask = E.cast(E.equal(x, _expand_reduced(out, x, axes, keepdims)), x.dtype)
    count = reduce_sum_p(mask, axes=axes, keepdims=True)
    return E.multiply(E.divide(mask, count), _expand_reduced(g, x, axes, keepdims))


defgrad(reduce_max_p)(_extremum_grad)
defgrad(reduce_min_p)(_extremum_grad)


@defgrad(reduce_prod_p)
def _prod_grad(g, out, x, axes, keepdims):
    # d prod / d x_i = product of the other elements, computed without dividing
    # by zero: with no zero in the slice it is prod / x_i; with exactly one zero
    # only that element gets the product of the rest; with two or more, nothing.
    if x.dtype not in FLOATS:
        return None
    E, _, C, _ = _ops()
    is_zero = E.equal(x, 0)
    safe = E.where(is_zero, C.ones_like(x), x)
    nonzero_prod = reduce_prod_p(safe, axes=axes, keepdims=True)
    zeros = reduce_sum_p(E.cast(is_zero, x.dtype), axes=axes, keepdims=True)
    none = C.zeros_like(nonzero_prod)
    at_zero = E.where(E.equal(zeros, 1), nonzero_prod, none)
    elsewhere = E.where(E.equal(zeros, 0), E.divide(nonzero_prod, safe), none)
    return E.multiply(E.where(is_zero, at_zero, elsewhere), _expand_reduced(g, x, axes, keepdims))


def _axes(name, x, axis):
    # A scalar reduced over axis 0/-1 is itself (TF accepts no axis on scalars;
    # being lenient here keeps rank-generic code simple).
    if x.ndim == 0:
        if axis is None:
            return ()
        norm_axes(name, axis, 0)
        return ()
    return norm_axes(name, axis, x.ndim)


_NP_SETS = {}


def _np_set(allowed):
    """numpy dtypes of a DType set, for a cheap eager check (cached per set)."""
    key = id(allowed)
    got = _NP_SETS.get(key)
    if got is None:
        got = _NP_SETS[key] = frozenset(d._np for d in allowed if d._np is not None)
    return got


def _reduce(prim, name, input_tensor, axis, keepdims, allowed=NUMERIC):
    x = t(input_tensor)
    if type(x) is not Tensor or x._data.dtype not in _np_set(allowed):
        require_dtypes(name, x, allowed)
    return prim(x, axes=_axes(name, x, axis), keepdims=bool(keepdims))


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """Sum of elements across ``axis`` (int, list, negative, or None for all).

    Integer inputs keep their dtype; bool inputs must be cast first (as in TF).

    Args:
      input_tensor: a numeric tensor.
      axis: the axes to reduce; None reduces all of them.
      keepdims: keep reduced axes with length 1.

    Returns:
      The reduced tensor, same dtype as the input.

    Example:
      >>> tl.reduce_sum(tl.ones([2, 3]), axis=1).numpy()
      array([3., 3.], dtype=float32)
    """
    return _reduce(reduce_sum_p, "reduce_sum", input_tensor, axis, keepdims)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    """Maximum of elements across ``axis``; tied maxima share the gradient equally.

    Example:
      >>> tl.reduce_max(tl.constant([[1., 5.], [3., 2.]]), axis=0).numpy()
      array([3., 5.], dtype=float32)
    """
    return _reduce(reduce_max_p, "reduce_max", input_tensor, axis, keepdims)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    """Minimum of elements across ``axis``; tied minima share the gradient equally."""
    return _reduce(reduce_min_p, "reduce_min", input_tensor, axis, keepdims)


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    """Product of elements across ``axis``; its gradient is exact with zeros present."""
    return _reduce(reduce_prod_p, "reduce_prod", input_tensor, axis, keepdims)


def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    """Logical AND of a bool tensor's elements across ``axis``."""
    return _reduce(reduce_all_p, "reduce_all", input_tensor, axis, keepdims, _BOOL)


def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    """Logical OR of a bool tensor's elements across ``axis``."""
    return _reduce(reduce_any_p, "reduce_any", input_tensor, axis, keepdims, _BOOL)


def _count(x, axes):
    shape = x.shape
    n = 1
    for a in axes:
        # Symbolic tensors may have unknown dims; only the result's shape matters there.
        n *= shape[a] if shape[a] is not None else 1
    return n


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean of elements across ``axis``.

    Integer inputs give an integer mean truncated toward zero, as in TF;
    float16/bfloat16 inputs are accumulated in float32.

    Args:
      input_tensor: a numeric tensor.
      axis: the axes to reduce; None reduces all of them.
      keepdims: keep reduced axes with length 1.

    Returns:
      The reduced tensor, same dtype as the input.

    Example:
      >>> tl.reduce_mean(tl.constant([[1., 2.], [3., 4.]]), axis=0).numpy()
      array([2., 3.], dtype=float32)
    """
    E = _ops()[0]
    x = t(input_tensor)
    require_dtypes("reduce_mean", x, NUMERIC)
    axes = _axes("reduce_mean", x, axis)
    n = _count(x, axes)
    if x.dtype in _INTS:
        s = reduce_sum_p(x, axes=axes, keepdims=bool(keepdims))
        if n == 0:
            raise InvalidArgumentError(f"reduce_mean: integer mean over an empty axis (shape {fmt(x.shape)}, "
                                       f"axis {list(axes)})")
        return E.multiply(E.sign(s), E.floordiv(E.abs(s), n))
    if x.dtype in _HALF:
        s = reduce_sum_p(E.cast(x, dt.float32), axes=axes, keepdims=bool(keepdims))
        return E.cast(E.divide(s, float(n)), x.dtype)
    return E.divide(reduce_sum_p(x, axes=axes, keepdims=bool(keepdims)), float(n))


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """Computes ``log(sum(exp(x)))`` across ``axis``, stably (shifted by the maximum).

    Example:
      >>> tl.reduce_logsumexp(tl.constant([1000., 1000.])).numpy()   # 1000 + log(2)
      1000.6931
    """
    E, _, C, G = _ops()
    x = t(input_tensor)
    require_dtypes("reduce_logsumexp", x, FLOATS)
    axes = _axes("reduce_logsumexp", x, axis)
    raw = reduce_max_p(x, axes=axes, keepdims=True)
    # An all -inf (or inf) slice must not produce inf - inf = nan: shift by 0 there.
    if x._device.kind != "symbolic":  # symbolic: only the shape matters
        raw = E.where(E.less(E.abs(raw), float("inf")), raw, C.zeros_like(raw))
    m = G.stop_gradient(raw)
    s = E.log(reduce_sum_p(E.exp(E.subtract(x, m)), axes=axes, keepdims=bool(keepdims)))
    if not keepdims:
        m = reduce_sum_p(m, axes=axes, keepdims=False)  # drops the size-1 axes
    return E.add(s, m)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance (mean squared deviation) of elements across ``axis``.

    Example:
      >>> tl.math.reduce_variance(tl.constant([1., 2., 3., 4.])).numpy()
      1.25
    """
    E = _ops()[0]
    x = t(input_tensor)
    require_dtypes("reduce_variance", x, FLOATS)
    m = reduce_mean(x, axis, keepdims=True)
    return reduce_mean(E.square(E.subtract(x, m)), axis, keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation of elements across ``axis``."""
    x = t(input_tensor)
    require_dtypes("reduce_std", x, FLOATS)
    return _ops()[0].sqrt(reduce_variance(x, axis, keepdims))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """``sqrt(sum(x ** 2))`` across ``axis``; integer inputs give a truncated integer, as in TF."""
    E = _ops()[0]
    x = t(input_tensor)
    require_dtypes("reduce_euclidean_norm", x, NUMERIC)
    if x.dtype in _INTS:
        return E.cast(reduce_euclidean_norm(E.cast(x, dt.float64), axis, keepdims), x.dtype)
    axes = _axes("reduce_euclidean_norm", x, axis)
    return E.sqrt(reduce_sum_p(E.square(x), axes=axes, keepdims=bool(keepdims)))


def count_nonzero(input, axis=None, keepdims=None, dtype=dt.int64, name=None):
    """Number of non-zero (or True) elements across ``axis``, as ``dtype`` (default int64)."""
    E = _ops()[0]
    x = t(input)
    nz = E.cast(E.not_equal(x, False if x.dtype.is_bool else 0), dt.int64)
    return E.cast(reduce_sum(nz, axis, bool(keepdims)), dtype)


# ----------------------------------------------------------------- argmax / argmin
def _arg_rule(name):
    def rule(x, axis, output_type):
        require_dtypes(name, x, NUMERIC)
        if not 0 <= axis < len(x.shape):
            raise InvalidArgumentError(f"{name}: axis {axis} is out of range for a tensor of rank "
                                       f"{len(x.shape)} (shape {fmt(x.shape)})")
        return TensorSpec(tuple(d for i, d in enumerate(x.shape) if i != axis), output_type)
    return rule


argmax_p = primitive("argmax", _arg_rule("argmax"))
argmin_p = primitive("argmin", _arg_rule("argmin"))
not_differentiable(argmax_p, argmin_p)


def _arg(prim, name, input, axis, output_type):
    x = t(input)
    require_dtypes(name, x, NUMERIC)
    if x.ndim == 0:
        raise InvalidArgumentError(f"{name}: needs a tensor of rank >= 1, got a scalar")
    out = dt.as_dtype(output_type)
    if out not in (dt.int32, dt.int64):
        raise TypeError(f"{name}: output_type must be int32 or int64, got {out.name}")
    return prim(x, axis=norm_axis(name, 0 if axis is None else axis, x.ndim), output_type=out)


def argmax(input, axis=None, output_type=dt.int64, name=None):
    """Index of the largest value along ``axis`` (default 0, as in TF); the first one on ties.

    Args:
      input: a numeric tensor of rank >= 1.
      axis: the axis to reduce (default 0).
      output_type: int64 (default) or int32.

    Returns:
      An integer tensor with ``axis`` removed.

    Example:
      >>> tl.argmax(tl.constant([[1., 9.], [5., 2.]]), axis=1).numpy()
      array([1, 0])
    """
    return _arg(argmax_p, "argmax", input, axis, output_type)


def argmin(input, axis=None, output_type=dt.int64, name=None):
    """Index of the smallest value along ``axis`` (default 0); the first one on ties."""
    return _arg(argmin_p, "argmin", input, axis, output_type)


# ----------------------------------------------------------------- cumsum
def _cumsum_rule(x, axis, exclusive, reverse):
    require_dtypes("cumsum", x, NUMERIC)
    if not 0 <= axis < len(x.shape):
        raise InvalidArgumentError(f"cumsum: axis {axis} is out of range for a tensor of rank "
                                   f"{len(x.shape)} (shape {fmt(x.shape)})")
    return TensorSpec(x.shape, x.dtype)


cumsum_p = primitive("cumsum", _cumsum_rule)


@defgrad(cumsum_p)
def _cumsum_grad(g, out, x, axis, exclusive, reverse):
    # Each input feeds every later (earlier, if reversed) output: sum g the other way.
    return cumsum_p(g, axis=axis, exclusive=exclusive, reverse=not reverse)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative sum along ``axis``.

    Args:
      x: a numeric tensor of rank >= 1.
      axis: the axis to accumulate along (default 0).
      exclusive: element i sums the elements before i (the first output is 0).
      reverse: accumulate from the end.

    Returns:
      A tensor of the same shape and dtype.

    Example:
      >>> tl.cumsum(tl.constant([1, 2, 3]), exclusive=True).numpy()
      array([0, 1, 3], dtype=int32)
    """
    x = t(x)
    require_dtypes("cumsum", x, NUMERIC)
    if x.ndim == 0:
        raise InvalidArgumentError("cumsum: needs a tensor of rank >= 1, got a scalar")
    return cumsum_p(x, axis=norm_axis("cumsum", axis, x.ndim), exclusive=bool(exclusive),
                    reverse=bool(reverse))


# ----------------------------------------------------------------- cumprod
def _cumprod_rule(x, axis, exclusive, reverse):
    require_dtypes("cumprod", x, NUMERIC)
    if not 0 <= axis < len(x.shape):
        raise InvalidArgumentError(f"cumprod: axis {axis} is out of range for a tensor of rank "
                                   f"{len(x.shape)} (shape {fmt(x.shape)})")
    return TensorSpec(x.shape, x.dtype)


cumprod_p = primitive("cumprod", _cumprod_rule)


@defgrad(cumprod_p)
def _cumprod_grad(g, out, x, axis, exclusive, reverse):
    # TF's rule: sum g * out over the outputs each input feeds, divided by that input.
    # It is inf/nan where x is 0, as in TF.
    if x.dtype not in FLOATS:
        return None
    E = _ops()[0]
    acc = cumsum_p(E.multiply(out, g), axis=axis, exclusive=exclusive, reverse=not reverse)
    return E.divide(acc, x)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative product along ``axis``.

    The gradient is TF's, ``reverse_cumsum(grad * output) / x``: it is not
    finite where ``x`` holds a zero (as in TF).

    Args:
      x: a numeric tensor of rank >= 1.
      axis: the axis to accumulate along (default 0).
      exclusive: element i multiplies the elements before i (the first output is 1).
      reverse: accumulate from the end.

    Returns:
      A tensor of the same shape and dtype.

    Example:
      >>> tl.math.cumprod(tl.constant([2., 3., 4.]), exclusive=True).numpy()
      array([1., 2., 6.], dtype=float32)
    """
    x = t(x)
    require_dtypes("cumprod", x, NUMERIC)
    if x.ndim == 0:
        raise InvalidArgumentError("cumprod: needs a tensor of rank >= 1, got a scalar")
    return cumprod_p(x, axis=norm_axis("cumprod", axis, x.ndim), exclusive=bool(exclusive),
                     reverse=bool(reverse))


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
    if stats is not None and stats[1] >= n:
        raise InvalidArgumentError(f"{op}: segment_ids holds {stats[1]}, which is out of range [0, {n}) for "
                                   f"num_segments={n}")


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
    stats = _id_stats(ids)
    _check_below("unsorted_segment_sum", stats, n)
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
    if type(ids) is not Tensor:
        from tensorlab.core.tensor import SymbolicTensor
        return SymbolicTensor((None,) + tuple(x.shape[1:]), x.dtype)
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
    E, S, C = _ops()[:3]
    x, ids, n = _segment_args("unsorted_segment_mean", data, segment_ids, num_segments)
    require_dtypes("unsorted_segment_mean", x, FLOATS)
    stats = _id_stats(ids)
    _check_below("unsorted_segment_mean", stats, n)
    total = _segment_sum("unsorted_segment_mean", x, ids, n, stats)
    count = _segment_sum("unsorted_segment_mean", C.ones_like(ids, dtype=x.dtype), ids, n, stats)
    count = S.reshape(count, [n] + [1] * (x.ndim - ids.ndim))
    return E.divide(total, E.maximum(count, 1))


def _segment_extremum(op, prim, fill, data, segment_ids, num_segments):
    # Compares every entry with every segment: [num_segments, data entries] work and memory.
    E, S, C = _ops()[:3]
    x, ids, n = _segment_args(op, data, segment_ids, num_segments)
    require_dtypes(op, x, NUMERIC)
    _check_below(op, _id_stats(ids), n)
    rest = list(x.shape[ids.ndim:])
    rows = S.reshape(x, [1, -1] + rest)
    with _dev.device(ids._device if type(ids) is Tensor else _dev.current()):
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
    return _segment_extremum("unsorted_segment_max", reduce_max_p, lambda d: d.min, data, segment_ids,
                             num_segments)


def unsorted_segment_min(data, segment_ids, num_segments, name=None):
    """The minimum of the entries of ``data`` that share a segment id (``tf.math.unsorted_segment_min``).

    An empty segment holds the largest value of the dtype; otherwise as
    ``unsorted_segment_max``.
    """
    return _segment_extremum("unsorted_segment_min", reduce_min_p, lambda d: d.max, data, segment_ids,
                             num_segments)


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
    from tensorlab.core.tensor import SymbolicTensor
    from tensorlab.ops.indexing import _on_device_of
    E, S, C = _ops()[:3]
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
        w = C.ones_like(a, dtype=dtype)
    else:
        w = weights
        if not hasattr(w, "dtype"):  # Python numbers: TF's default dtypes, on arr's device
            with _dev.device(a._device if type(a) is Tensor else _dev.current()):
                w = t(w)
        w = _on_device_of(a, w, "bincount")
        require_dtypes("bincount", w, NUMERIC)
        if not w.shape.is_compatible_with(a.shape):
            raise InvalidArgumentError(f"bincount: weights {fmt(w.shape)} must have the shape of arr {fmt(a.shape)}")
    out_dtype = w.dtype
    if type(a) is not Tensor:
        return SymbolicTensor((a.shape[0], None) if rows else (None,), out_dtype)
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
    from tensorlab.core.tensor import SymbolicTensor
    E, S, C = _ops()[:3]
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
    if type(v) is not Tensor or type(r) is not Tensor:
        return SymbolicTensor((n,), out_dtype)
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
    ones = C.ones_like(ids, dtype=out_dtype)
    return _segment_sum("histogram_fixed_width", ones, ids, n, [-1, 0] if v.dtype in FLOATS else None)


__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_logsumexp",
           "reduce_all", "reduce_any", "argmax", "argmin", "cumsum", "histogram_fixed_width"]
MATH = __all__ + ["reduce_variance", "reduce_std", "reduce_euclidean_norm", "count_nonzero", "segment_sum",
                  "unsorted_segment_sum", "unsorted_segment_mean", "unsorted_segment_max", "unsorted_segment_min",
                  "cumprod", "bincount"]
