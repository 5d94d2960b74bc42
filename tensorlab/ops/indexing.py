"""Indexing: Tensor ``__getitem__`` (numpy semantics), gather, gather_nd, boolean_mask,
slice, strided_slice, scatter_nd, tensor_scatter_nd_* and embedding_lookup.

Two primitive pairs carry everything:

- ``getitem`` / ``getitem_grad``: basic indexing (ints, slices, new axes) with the
  key as a hashable param, so symbolic tensors get exact result shapes. The
  gradient writes ``g`` into zeros: basic indexing never repeats an element.
- ``gather_index`` / ``scatter_index_add``: advanced indexing, with the index
  tensors as inputs and a key template naming where each goes. The gradient
  scatter-adds, which is exact with repeated indices. ``scatter_index_update``
  overwrites instead (``tensor_scatter_nd_update``).

Key entries: an int, ``("s", start, stop, step)`` for a slice, ``("a", j)`` for
the j-th index tensor input, ``None`` for a new axis (basic keys only).
"""
import builtins
import operator

from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite, defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable, _copy_to, _to_array, as_operand, wrap
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import broadcast_shapes, check_same_dtype, fmt, norm_axis, t

_FULL = ("s", None, None, None)


def _check_int(op, i, dim, shape):
    n = shape[dim]
    if n is not None and not -n <= i < n:
        raise InvalidArgumentError(f"{op}: index {i} is out of bounds for dimension {dim} with size {n} "
                                   f"(tensor shape {fmt(shape)})")
    return i % n if n else i


def _too_many(op, shape):
    return InvalidArgumentError(f"{op}: too many indices for a tensor of rank {len(shape)} (shape {fmt(shape)})")


def _slice_len(e, n):
    return None if n is None else len(builtins.range(*builtins.slice(e[1], e[2], e[3]).indices(n)))


def _basic_shape(shape, key):
    out, d = [], 0
    for e in key:
        if e is None:
            out.append(1)
            continue
        if d >= len(shape):
            raise _too_many("getitem", shape)
        if type(e) is int:
            _check_int("getitem", e, d, shape)
        else:
            out.append(_slice_len(e, shape[d]))
        d += 1
    return out + list(shape[d:])


def _advanced_shape(op, shape, key, idx_shapes):
    """numpy's result shape: broadcast index dims go in place if the advanced
    entries are adjacent, else in front."""
    if len(key) > len(shape):
        raise _too_many(op, shape)
    adv, bshapes, before, after = [], [], [], []
    for i, e in enumerate(key):
        if type(e) is int:
            _check_int(op, e, i, shape)
            adv.append(i)
            bshapes.append(())
        elif e[0] == "a":
            adv.append(i)
            bshapes.append(tuple(idx_shapes[e[1]]))
        else:
            (before if not adv else after).append(_slice_len(e, shape[i]))
    b = list(broadcast_shapes(op, *bshapes))
    rest = list(shape[len(key):])
    if adv[-1] - adv[0] + 1 == len(adv):
        return before + b + after + rest
    return b + before + after + rest


def _check_index_dtypes(op, idx):
    for i in idx:
        if not i.dtype.is_integer:
            raise TypeError(f"{op}: indices must be an integer tensor (int32 or int64), got dtype {i.dtype.name}")


def _check_updates(op, u_shape, expected, out_shape):
    if len(u_shape) != len(expected) or any(a is not None and b is not None and a != b
                                            for a, b in zip(u_shape, expected)):
        raise InvalidArgumentError(f"{op}: updates must have shape {fmt(expected)} for these indices and an output "
                                   f"of shape {fmt(out_shape)}, got updates of shape {fmt(u_shape)}")


def _gather_index_rule(x, *idx, key, op, negative):
    _check_index_dtypes(op, idx)
    return TensorSpec(_advanced_shape(op, x.shape, key, [i.shape for i in idx]), x.dtype)


def _scatter_add_rule(u, *idx, shape, key, op, negative):
    _check_index_dtypes(op, idx)
    _check_updates(op, u.shape, _advanced_shape(op, shape, key, [i.shape for i in idx]), shape)
    return TensorSpec(shape, u.dtype)


def _scatter_update_rule(x, u, *idx, key, op, negative):
    check_same_dtype(op, x, u)
    _scatter_add_rule(u, *idx, shape=x.shape, key=key, op=op, negative=negative)
    return TensorSpec(x.shape, x.dtype)


getitem_p = primitive("getitem", lambda x, key: TensorSpec(_basic_shape(x.shape, key), x.dtype))
getitem_grad_p = primitive("getitem_grad", lambda g, shape, key: TensorSpec(shape, g.dtype))
gather_index_p = primitive("gather_index", _gather_index_rule)
scatter_index_add_p = primitive("scatter_index_add", _scatter_add_rule)
scatter_index_update_p = primitive("scatter_index_update", _scatter_update_rule)


@defgrad(getitem_p)
def _getitem_grad(g, out, x, key):
    return getitem_grad_p(g, shape=tuple(x.shape), key=key)


@defgrad(getitem_grad_p)
def _getitem_grad_grad(g, out, gy, shape, key):
    return getitem_p(g, key=key)


@defgrad(gather_index_p)
def _gather_index_grad(g, out, x, *idx, key, op, negative):
    ga = scatter_index_add_p(g, *idx, shape=tuple(x.shape), key=key, op=op, negative=negative)
    return (ga,) + (None,) * len(idx)


@defgrad(scatter_index_add_p)
def _scatter_add_grad(g, out, u, *idx, shape, key, op, negative):
    return (gather_index_p(g, *idx, key=key, op=op, negative=negative),) + (None,) * len(idx)


@defgrad(scatter_index_update_p)
def _scatter_update_grad(g, out, x, u, *idx, key, op, negative):
    from tensorlab.ops.creation import zeros_like
    gx = scatter_index_update_p(g, zeros_like(u), *idx, key=key, op=op, negative=negative)
    return (gx, gather_index_p(g, *idx, key=key, op=op, negative=negative)) + (None,) * len(idx)


# ----------------------------------------------------------------- helpers
def _on_device_of(x, v, op):
    """``v`` (tensor, array or nested list) as a tensor on ``x``'s device."""
    if isinstance(v, Variable):
        v = v._read()
    if isinstance(v, (Tensor, SymbolicTensor)):
        if type(v) is Tensor and x._device.kind != "symbolic" and v._device is not x._device:
            v = _copy_to(v, x._device)
        return v
    empty = isinstance(v, (list, tuple)) and len(v) == 0
    try:
        dev, arr = _to_array(v, dt.int64 if empty else None, x._device)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{op}: cannot use {v!r} as an index: {e}") from None
    return wrap(arr, dev)


def _int_indices(x, v, op):
    i = _on_device_of(x, v, op)
    _check_index_dtypes(op, [i])
    return i


def _ranges(x, dims, rank):
    """int64 ``range(d)`` for each batch dim j, shaped to broadcast over ``rank`` dims."""
    from tensorlab.ops.creation import range as _range
    from tensorlab.ops.shape import reshape
    out = []
    with _dev.device(x._device):
        for j, d in enumerate(dims):
            out.append(reshape(_range(d, dtype=dt.int64), [1] * j + [d] + [1] * (rank - j - 1)))
    return out


def _symbolic(*xs):
    return any(isinstance(x, SymbolicTensor) for x in xs)


# ----------------------------------------------------------------- __getitem__
def _scalar_int(k):
    """``k`` as a Python int when it is an integer scalar, else None."""
    if isinstance(k, (Tensor, Variable)):
        if k.dtype.is_integer and len(k.shape) == 0:
            return int(k)
        return None
    if isinstance(k, (SymbolicTensor, list, tuple)):
        return None
    try:
        return operator.index(k)
    except TypeError:
        return None


def _opt_int(v, op):
    if v is None:
        return None
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"{op}: slice bounds must be integers or None, got {v!r}") from None


def _parse_key(x, key):
    """Key entries as: None, Ellipsis, int, ("s", a, b, c) or an index tensor."""
    items = []
    for k in key if isinstance(key, tuple) else (key,):
        if k is None or k is Ellipsis:
            items.append(k)
        elif isinstance(k, builtins.slice):
            e = ("s", _opt_int(k.start, "getitem"), _opt_int(k.stop, "getitem"), _opt_int(k.step, "getitem"))
            if e[3] == 0:
                raise InvalidArgumentError("getitem: slice step cannot be zero")
            items.append(e)
        elif isinstance(k, bool) or (hasattr(k, "dtype") and getattr(k, "shape", None) == ()
                                     and str(getattr(k.dtype, "name", k.dtype)) == "bool"):
            raise TypeError("getitem: a scalar bool index is not supported; use tl.newaxis to add an axis")
        else:
            i = _scalar_int(k)
            if i is not None:
                items.append(i)
            else:
                idx = _on_device_of(x, k, "getitem")
                if not (idx.dtype.is_integer or idx.dtype.is_bool):
                    raise TypeError(f"getitem: index tensors must be integers or booleans, got dtype "
                                    f"{idx.dtype.name}")
                items.append(idx)
    return items


def _consumed(e):
    if e is None or e is Ellipsis:
        return 0
    if isinstance(e, (Tensor, SymbolicTensor)) and e.dtype.is_bool:
        return len(e.shape)
    return 1


def getitem(tensor, key):
    """``tensor[key]`` with numpy's indexing semantics (``Tensor.__getitem__``).

    Supports ints (negative count from the end), slices with steps,
    ``...``, ``None``/``tl.newaxis``, integer index arrays (tensors, numpy
    arrays, lists; broadcast together) and boolean masks. Gradients flow
    back to the indexed elements (summed where an index repeats).

    Raises:
      InvalidArgumentError: for an out-of-range index (naming the index, the
        dimension and the shape) or too many indices.

    Example:
      >>> x = tl.reshape(tl.range(12), [3, 4])
      >>> x[1:, ::2].numpy()
      array([[ 4,  6],
             [ 8, 10]], dtype=int32)
      >>> x[[0, 2], -1].numpy()
      array([ 3, 11], dtype=int32)
    """
    x = t(tensor)
    shape = tuple(x.shape)
    items = _parse_key(x, key)
    n_ell = sum(1 for e in items if e is Ellipsis)
    used = sum(_consumed(e) for e in items)
    if n_ell > 1:
        raise InvalidArgumentError("getitem: an index can only have a single ellipsis ('...')")
    if used > len(shape):
        raise _too_many("getitem", shape)
    if n_ell:
        i = items.index(Ellipsis)
        items[i:i + 1] = [_FULL] * (len(shape) - used)
    if not any(isinstance(e, (Tensor, SymbolicTensor)) for e in items):
        return _basic(x, shape, items)
    return _advanced(x, shape, items)


def _basic(x, shape, items):
    d = 0
    for i, e in enumerate(items):
        if type(e) is int:
            items[i] = _check_int("getitem", e, d, shape)
        if e is not None:
            d += 1
    while items and items[-1] == _FULL:
        items.pop()
    if not items:
        return x
    return getitem_p(x, key=tuple(items))


def _advanced(x, shape, items):
    from tensorlab.ops.elementwise import where_indices_p
    from tensorlab.ops.shape import _reshape_to, unstack_p
    if None in items:  # a new axis = a size-1 dim sliced whole; numpy places the index dims the same way
        new_shape, d = [], 0
        for i, e in enumerate(items):
            if e is None:
                new_shape.append(1)
                items[i] = _FULL
            else:
                new_shape.extend(shape[d:d + _consumed(e)])
                d += _consumed(e)
        shape = tuple(new_shape) + shape[d:]
        x = _reshape_to(x, shape)
    key, arrays, d = [], [], 0
    for e in items:
        if isinstance(e, (Tensor, SymbolicTensor)) and e.dtype.is_bool:
            k = len(e.shape)
            if not e.shape.is_compatible_with(shape[d:d + k]):
                raise InvalidArgumentError(f"getitem: boolean mask of shape {fmt(e.shape)} does not match "
                                           f"dimensions {d}..{d + k - 1} of the tensor (shape {fmt(shape)})")
            coords = where_indices_p(e)
            for c in (unstack_p(coords, axis=1, num=k) if k else ()):
                key.append(("a", len(arrays)))
                arrays.append(c)
            d += k
            continue
        if isinstance(e, (Tensor, SymbolicTensor)):
            key.append(("a", len(arrays)))
            arrays.append(e)
        elif type(e) is int:
            key.append(_check_int("getitem", e, d, shape))
        else:
            key.append(e)
        d += 1
    if not arrays:
        return _basic(x, shape, key)
    return gather_index_p(x, *arrays, key=tuple(key), op="getitem", negative=True)


# ----------------------------------------------------------------- gather family
def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Gathers slices of ``params`` along ``axis`` at ``indices`` (``tf.gather``).

    The output shape is ``params.shape[:axis] + indices.shape[batch_dims:] +
    params.shape[axis + 1:]``. The gradient scatter-adds into ``params``.

    Args:
      params: the tensor to gather from.
      indices: int32/int64 indices in ``[0, params.shape[axis])``.
      axis: the dimension to gather along (default ``batch_dims``).
      batch_dims: leading dims shared by ``params`` and ``indices``: entry b of
        the output gathers from ``params[b]`` with ``indices[b]``.

    Raises:
      InvalidArgumentError: for an index out of range (checked on every device).

    Example:
      >>> tl.gather(tl.constant([[1, 2], [3, 4], [5, 6]]), [2, 0]).numpy()
      array([[5, 6],
             [1, 2]], dtype=int32)
    """
    x = t(params)
    idx = _int_indices(x, indices, "gather")
    r, ri = x.ndim, idx.ndim
    bd = int(batch_dims)
    bd = bd + ri if bd < 0 else bd
    if not 0 <= bd <= min(ri, r):
        raise InvalidArgumentError(f"gather: batch_dims {batch_dims} must be in [{-ri}, {ri}] and at most the rank "
                                   f"of params (params shape {fmt(x.shape)}, indices shape {fmt(idx.shape)})")
    ax = bd if axis is None else norm_axis("gather", int(axis), r)
    if ax < bd:
        raise InvalidArgumentError(f"gather: batch_dims ({bd}) must be less than or equal to axis ({ax})")
    if not x.shape[:bd].is_compatible_with(idx.shape[:bd]):
        raise InvalidArgumentError(f"gather: the first batch_dims={bd} dimensions of params {fmt(x.shape)} and "
                                   f"indices {fmt(idx.shape)} must match")
    if bd == 0:
        return gather_index_p(x, idx, key=(_FULL,) * ax + (("a", 0),), op="gather", negative=False)
    return _batch_gather(x, idx, axis=ax, batch_dims=bd)


def _batch_gather_rule(x, idx, axis, batch_dims):
    return TensorSpec(tuple(x.shape[:axis]) + tuple(idx.shape[batch_dims:]) + tuple(x.shape[axis + 1:]), x.dtype)


@composite("gather", _batch_gather_rule)
def _batch_gather(x, idx, axis, batch_dims):
    # Each batch entry's range picks its own slice of params: the ranges need the batch dims'
    # sizes, so on symbolic tensors this runs as one recorded composite.
    ax, bd, ri = axis, batch_dims, idx.ndim
    arrays = _ranges(x, tuple(x.shape[:bd]), ri) + [idx]
    key = tuple(("a", j) for j in builtins.range(bd)) + (_FULL,) * (ax - bd) + (("a", bd),)
    out = gather_index_p(x, *arrays, key=key, op="gather", negative=False)
    if ax > bd:  # the index dims came out in front of params' dims between batch_dims and axis
        from tensorlab.ops.shape import transpose_p
        pre = ax - bd
        perm = (list(builtins.range(bd)) + list(builtins.range(ri, ri + pre)) + list(builtins.range(bd, ri))
                + list(builtins.range(ri + pre, out.ndim)))
        out = transpose_p(out, perm=tuple(perm))
    return out


def take_along_axis(x, indices, axis, negative=False):
    """``x`` picked at ``indices`` along ``axis``, as numpy's: the other axes of ``x`` and
    ``indices`` broadcast. ``negative``: indices in ``[-n, 0)`` count from the end."""
    return _take_along_axis(t(x), indices, axis=axis, negative=negative)


def _take_along_axis_rule(x, indices, axis, negative):
    shape = list(x.shape)
    shape[axis] = indices.shape[axis]
    return TensorSpec(broadcast_shapes("take_along_axis", tuple(shape), tuple(indices.shape)), x.dtype)


@composite("take_along_axis", _take_along_axis_rule)
def _take_along_axis(x, indices, axis, negative):
    # x's ranges broadcast against indices (a size-1 dim of either stretches), as numpy's advanced indexing.
    r = x.ndim
    arrays = _ranges(x, tuple(x.shape), r)
    arrays[axis] = indices
    key = tuple(("a", j) for j in builtins.range(r))
    return gather_index_p(x, *arrays, key=key, op="take_along_axis", negative=negative)


def _nd_key(op, x_shape, idx, batch_dims=0):
    ri = len(idx.shape)
    k = idx.shape[-1] if ri else None
    if k is None:
        raise InvalidArgumentError(f"{op}: indices must have rank >= 1 with a known last dimension, "
                                   f"got shape {fmt(idx.shape)}")
    if k + batch_dims > len(x_shape):
        raise InvalidArgumentError(f"{op}: the last dimension of indices ({k}) must be at most the rank "
                                   f"{len(x_shape) - batch_dims} of the indexed tensor (shape {fmt(x_shape)}, "
                                   f"indices shape {fmt(idx.shape)}, batch_dims={batch_dims})")
    return k


def _columns(idx, k):
    from tensorlab.ops.shape import unstack_p
    return list(unstack_p(idx, axis=len(idx.shape) - 1, num=k)) if k else []


def gather_nd(params, indices, batch_dims=0, name=None):
    """Gathers slices of ``params`` at multi-dimensional ``indices`` (``tf.gather_nd``).

    ``indices[..., :]`` is a coordinate into the first ``indices.shape[-1]``
    dims of ``params`` (after ``batch_dims``); the output shape is
    ``indices.shape[:-1] + params.shape[batch_dims + indices.shape[-1]:]``.

    Example:
      >>> tl.gather_nd(tl.constant([[1, 2], [3, 4]]), [[1, 0], [0, 1]]).numpy()
      array([3, 2], dtype=int32)
    """
    x = t(params)
    idx = _int_indices(x, indices, "gather_nd")
    bd = int(batch_dims)
    _nd_key("gather_nd", x.shape, idx, bd)
    if bd and not x.shape[:bd].is_compatible_with(idx.shape[:bd]):
        raise InvalidArgumentError(f"gather_nd: the first batch_dims={bd} dimensions of params {fmt(x.shape)} "
                                   f"and indices {fmt(idx.shape)} must match")
    if bd:
        return _batch_gather_nd(x, idx, batch_dims=bd)
    return _gather_nd(x, idx, 0)


@composite("gather_nd", lambda x, idx, batch_dims: TensorSpec(
    tuple(idx.shape[:-1]) + tuple(x.shape[batch_dims + idx.shape[-1]:]), x.dtype))
def _batch_gather_nd(x, idx, batch_dims):
    return _gather_nd(x, idx, batch_dims)  # the batch dims' ranges need their sizes


def _gather_nd(x, idx, bd):
    from tensorlab.ops.shape import broadcast_to, reshape
    k, ri = idx.shape[-1], idx.ndim
    arrays = (_ranges(x, tuple(x.shape[:bd]), ri - 1) if bd else []) + _columns(idx, k)
    if not arrays:  # an empty coordinate selects all of params, for every index row
        lead = list(idx.shape[:-1])
        return broadcast_to(reshape(x, [1] * len(lead) + list(x.shape)), lead + list(x.shape))
    key = tuple(("a", j) for j in builtins.range(len(arrays)))
    return gather_index_p(x, *arrays, key=key, op="gather_nd", negative=False)


def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    """Keeps the entries of ``tensor`` where ``mask`` is true (``tf.boolean_mask``).

    ``mask`` (rank k) must match ``tensor.shape[axis:axis + k]``; those dims
    are replaced by one dim holding the selected entries, in row-major order.

    Example:
      >>> tl.boolean_mask(tl.constant([1, 2, 3]), [True, False, True]).numpy()
      array([1, 3], dtype=int32)
    """
    x = t(tensor)
    m = _on_device_of(x, mask, "boolean_mask")
    if not m.dtype.is_bool:
        raise TypeError(f"boolean_mask: mask must be a bool tensor, got dtype {m.dtype.name}")
    k = m.ndim
    ax = 0 if axis is None else norm_axis("boolean_mask", int(axis), x.ndim)
    if k == 0 or ax + k > x.ndim or not m.shape.is_compatible_with(x.shape[ax:ax + k]):
        raise InvalidArgumentError(f"boolean_mask: mask of shape {fmt(m.shape)} must match dimensions "
                                   f"{ax}..{ax + k - 1} of the tensor (shape {fmt(x.shape)}, axis={ax})")
    return getitem(x, (builtins.slice(None),) * ax + (m,))


# ----------------------------------------------------------------- slices
def slice(input_, begin, size, name=None):
    """Extracts ``size[i]`` elements from ``begin[i]`` in each dim (``tf.slice``); -1 = to the end.

    Example:
      >>> tl.slice(tl.reshape(tl.range(6), [2, 3]), [0, 1], [-1, 2]).numpy()
      array([[1, 2],
             [4, 5]], dtype=int32)
    """
    from tensorlab.ops.shape import _ints
    x = t(input_)
    b, s = _ints("slice", "begin", begin), _ints("slice", "size", size)
    shape = tuple(x.shape)
    if len(b) != len(shape) or len(s) != len(shape):
        raise InvalidArgumentError(f"slice: begin {list(b)} and size {list(s)} must both have one entry per "
                                   f"dimension of the input (shape {fmt(shape)})")
    key = []
    for i, (bi, si, n) in enumerate(zip(b, s, shape)):
        end = n if si == -1 else bi + si
        if bi < 0 or si < -1 or (n is not None and end is not None and end > n):
            raise InvalidArgumentError(f"slice: begin[{i}]={bi} and size[{i}]={si} do not fit dimension {i} of "
                                       f"size {n} (input shape {fmt(shape)}); need 0 <= begin <= begin + size "
                                       "<= dim, or size -1 for the rest")
        key.append(("s", bi, None if si == -1 else bi + si, None))
    return _basic(x, shape, key)


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """``input_[begin:end:strides]`` per dim, with TF's bit masks (``tf.strided_slice``).

    Bit i of ``begin_mask``/``end_mask`` ignores ``begin[i]``/``end[i]``;
    ``ellipsis_mask`` puts ``...``, ``new_axis_mask`` a new axis and
    ``shrink_axis_mask`` the single index ``begin[i]`` at position i.
    """
    from tensorlab.ops.shape import _ints
    b, e = _ints("strided_slice", "begin", begin), _ints("strided_slice", "end", end)
    st = (1,) * len(b) if strides is None else _ints("strided_slice", "strides", strides)
    if not len(b) == len(e) == len(st):
        raise InvalidArgumentError(f"strided_slice: begin {list(b)}, end {list(e)} and strides {list(st)} "
                                   "must have the same length")
    key = []
    for i in builtins.range(len(b)):
        bit = 1 << i
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            key.append(b[i])
        else:
            key.append(builtins.slice(None if begin_mask & bit else b[i], None if end_mask & bit else e[i], st[i]))
    return getitem(input_, tuple(key))


# ----------------------------------------------------------------- scatter family
def _scatter_args(op, shape, indices, updates, like):
    plain = like is None or isinstance(updates, (Tensor, Variable, SymbolicTensor))
    u = t(updates) if plain else as_operand(updates, like)
    idx = _int_indices(like if like is not None else u, indices, op)
    k = _nd_key(op, shape, idx)
    expected = list(idx.shape[:-1]) + list(shape[k:])
    _check_updates(op, tuple(u.shape), expected, shape)
    return u, _columns(idx, k), tuple(("a", j) for j in builtins.range(k))


def scatter_nd(indices, updates, shape, name=None):
    """A zero tensor of ``shape`` with ``updates`` added at ``indices`` (repeats add up).

    Example:
      >>> tl.scatter_nd([[1], [3], [1]], tl.constant([1., 2., 3.]), [5]).numpy()
      array([0., 4., 0., 2., 0.], dtype=float32)
    """
    from tensorlab.ops.shape import _ints
    shape = _ints("scatter_nd", "shape", shape)
    u, cols, key = _scatter_args("scatter_nd", shape, indices, updates, None)
    if not cols:
        from tensorlab.ops.reduction import reduce_sum
        return reduce_sum(u, axis=list(builtins.range(u.ndim - len(shape))))
    return scatter_index_add_p(u, *cols, shape=shape, key=key, op="scatter_nd", negative=False)


def _tensor_scatter(op, tensor, indices, updates):
    x = t(tensor)
    u, cols, key = _scatter_args(op, tuple(x.shape), indices, updates, x)
    check_same_dtype(op, x, u)
    return x, u, cols, key


def tensor_scatter_nd_add(tensor, indices, updates, name=None):
    """``tensor`` with ``updates`` added at ``indices`` (``tf.tensor_scatter_nd_add``)."""
    from tensorlab.ops.elementwise import add
    x, u, cols, key = _tensor_scatter("tensor_scatter_nd_add", tensor, indices, updates)
    if not cols:
        return add(x, scatter_nd(indices, u, x.shape))
    return add(x, scatter_index_add_p(u, *cols, shape=tuple(x.shape), key=key, op="tensor_scatter_nd_add",
                                      negative=False))


def tensor_scatter_nd_sub(tensor, indices, updates, name=None):
    """``tensor`` with ``updates`` subtracted at ``indices``."""
    from tensorlab.ops.elementwise import negative
    return tensor_scatter_nd_add(tensor, indices, negative(t(updates)))


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    """``tensor`` with the entries at ``indices`` replaced by ``updates``.

    Example:
      >>> tl.tensor_scatter_nd_update(tl.zeros([4]), [[2]], [7.]).numpy()
      array([0., 0., 7., 0.], dtype=float32)
    """
    x, u, cols, key = _tensor_scatter("tensor_scatter_nd_update", tensor, indices, updates)
    if not cols:  # every index row names the whole tensor: the last update wins
        from tensorlab.ops.shape import reshape
        flat = reshape(u, [-1] + list(x.shape))
        return flat[-1] if flat.shape[0] else x
    return scatter_index_update_p(x, u, *cols, key=key, op="tensor_scatter_nd_update", negative=False)


def embedding_lookup(params, ids, max_norm=None, name=None):
    """Rows of an embedding table at ``ids`` (``tf.nn.embedding_lookup``).

    Args:
      params: the table, ``[vocab, ...]``, or a list of tensors that split it
        along axis 0 in order (TF 2's "div" sharding).
      ids: an int32/int64 tensor of any shape, with values in ``[0, vocab)``.
      max_norm: if given, embeddings with an L2 norm above it are scaled down to it.

    Returns:
      A tensor of shape ``ids.shape + params.shape[1:]``. The gradient
      scatter-adds into ``params`` (summed where an id repeats).

    Example:
      >>> table = tl.constant([[0., 1.], [2., 3.], [4., 5.]])
      >>> tl.nn.embedding_lookup(table, [2, 0]).numpy()
      array([[4., 5.],
             [0., 1.]], dtype=float32)
    """
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("embedding_lookup: params is an empty list; give the table or its shards")
        from tensorlab.ops.shape import concat
        x = concat([t(p) for p in params], 0)
    else:
        x = t(params)
    if x.ndim == 0:
        raise InvalidArgumentError("embedding_lookup: params must have rank >= 1 (a table of rows), got a scalar")
    idx = _int_indices(x, ids, "embedding_lookup")
    out = gather_index_p(x, idx, key=(("a", 0),), op="embedding_lookup", negative=False)
    if max_norm is not None:
        from tensorlab.ops.elementwise import clip_by_norm
        out = clip_by_norm(out, max_norm, axes=list(builtins.range(idx.ndim, out.ndim)))
    return out


__all__ = ["getitem", "gather", "gather_nd", "boolean_mask", "slice", "strided_slice", "scatter_nd",
           "tensor_scatter_nd_add", "tensor_scatter_nd_sub", "tensor_scatter_nd_update"]
NN = ["embedding_lookup"]
