"""Shape manipulation: reshape, transpose, expand/squeeze, concat/split, stack/unstack,
tile, broadcast_to, pad, reverse and shape queries. Sorting lives in sorting.py."""
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import defgrad, not_differentiable, primitive
from tensorlab.core.spec import TensorShape, TensorSpec
from tensorlab.core.tensor import SymbolicTensor
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import broadcast_shapes, check_same_dtype, fmt, norm_axes, norm_axis, t


def _ints(name, what, v):
    """A tuple of Python ints from a list, tuple or (concrete) tensor."""
    if hasattr(v, "numpy"):
        v = v.numpy().tolist()
    if isinstance(v, int):
        v = [v]
    try:
        return tuple(int(x) for x in v)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name}: {what} must be a list of integers, got {v!r}") from None


def _is_symbolic(x):
    return isinstance(x, SymbolicTensor)


# ----------------------------------------------------------------- reshape
def _resolve_shape(name, in_shape, shape):
    shape = [int(s) for s in shape]
    if sum(1 for s in shape if s == -1) > 1:
        raise InvalidArgumentError(f"{name}: only one dimension can be -1, got shape {shape}")
    if any(s < -1 for s in shape):
        raise InvalidArgumentError(f"{name}: shape {shape} has a negative dimension other than -1")
    n_in = 1
    for d in in_shape:
        if d is None:
            n_in = None
            break
        n_in *= d
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if -1 in shape:
        if n_in is None:
            return tuple(None if s == -1 else s for s in shape)
        if known == 0 or n_in % known:
            raise InvalidArgumentError(
                f"{name}: cannot reshape a tensor of shape {fmt(in_shape)} ({n_in} elements) into shape "
                f"{shape}: {n_in} is not a multiple of {known}")
        return tuple(n_in // known if s == -1 else s for s in shape)
    if n_in is not None and n_in != known:
        raise InvalidArgumentError(
            f"{name}: cannot reshape a tensor of shape {fmt(in_shape)} ({n_in} elements) into shape "
            f"{shape} ({known} elements); the element counts must match")
    return tuple(shape)


def _reshape_rule(x, shape):
    if None in shape:  # symbolic callers (expand_dims, squeeze) pass unknown dims through
        return TensorSpec(shape, x.dtype)
    return TensorSpec(_resolve_shape("reshape", x.shape, shape), x.dtype)


reshape_p = primitive("reshape", _reshape_rule)


@defgrad(reshape_p)
def _reshape_grad(g, out, x, shape):
    return reshape(g, x.shape)


def reshape(tensor, shape, name=None):
    """Gives ``tensor`` a new shape with the same elements; one dim may be -1.

    Example:
      >>> tl.reshape(tl.range(6), [2, -1]).shape
      TensorShape([2, 3])
    """
    x = t(tensor)
    if hasattr(shape, "numpy"):
        shape = shape.numpy().tolist()
    if x._device.kind != "symbolic":
        shape = _resolve_shape("reshape", tuple(x.shape), shape)
        if shape == tuple(x._data.shape):
            return x
    else:
        shape = tuple(int(s) for s in shape)
    return reshape_p(x, shape=shape)


def _reshape_to(x, shape):
    """Reshape to a shape computed from ``x.shape`` (may hold None dims when symbolic)."""
    shape = tuple(shape)
    if tuple(x.shape) == shape:
        return x
    return reshape_p(x, shape=shape)


def expand_dims(input, axis, name=None):
    """Inserts a dimension of size 1 at ``axis`` (``-rank-1 <= axis <= rank``).

    Example:
      >>> tl.expand_dims(tl.ones([2, 3]), -1).shape
      TensorShape([2, 3, 1])
    """
    x = t(input)
    ax = norm_axis("expand_dims", axis, x.ndim + 1)
    shape = list(x.shape)
    shape.insert(ax, 1)
    return _reshape_to(x, shape)


def squeeze(input, axis=None, name=None):
    """Removes dimensions of size 1 (all of them, or those listed in ``axis``).

    Raises:
      InvalidArgumentError: when a listed dimension is not of size 1.
    """
    x = t(input)
    shape = tuple(x.shape)
    if axis is None:
        return _reshape_to(x, [d for d in shape if d != 1])
    axes = norm_axes("squeeze", [axis] if isinstance(axis, int) else axis, x.ndim)
    for a in axes:
        if shape[a] is not None and shape[a] != 1:
            raise InvalidArgumentError(f"squeeze: cannot squeeze dim[{a}] of a tensor of shape {fmt(shape)}: "
                                       f"expected a dimension of size 1, got {shape[a]}")
    return _reshape_to(x, [d for i, d in enumerate(shape) if i not in axes])


# ----------------------------------------------------------------- transpose, reverse
def _check_perm(x, perm):
    if sorted(perm) != list(range(len(x.shape))):
        raise InvalidArgumentError(f"transpose: perm {list(perm)} is not a permutation of 0..{len(x.shape) - 1} "
                                   f"for a tensor of rank {len(x.shape)} (shape {fmt(x.shape)})")


def _transpose_rule(x, perm):
    _check_perm(x, perm)
    return TensorSpec([x.shape[p] for p in perm], x.dtype)


transpose_p = primitive("transpose", _transpose_rule)


@defgrad(transpose_p)
def _transpose_grad(g, out, x, perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return transpose_p(g, perm=tuple(inv))


def transpose(a, perm=None, conjugate=False, name="transpose"):
    """Permutes the dimensions of ``a``: output dim i is input dim ``perm[i]``.

    Args:
      a: a tensor.
      perm: a permutation of ``range(rank)``; by default the dims are reversed.

    Example:
      >>> tl.transpose(tl.ones([2, 3, 4]), [1, 0, 2]).shape
      TensorShape([3, 2, 4])
    """
    x = t(a)
    r = x.ndim
    perm = tuple(range(r - 1, -1, -1)) if perm is None else _ints("transpose", "perm", perm)
    perm = tuple(p + r if -r <= p < 0 else p for p in perm)
    _check_perm(x, perm)
    if perm == tuple(range(r)):
        return x
    return transpose_p(x, perm=perm)


reverse_p = primitive("reverse", lambda x, axes: TensorSpec(x.shape, x.dtype))


@defgrad(reverse_p)
def _reverse_grad(g, out, x, axes):
    return reverse_p(g, axes=axes)


def reverse(tensor, axis, name=None):
    """Reverses the order of elements along each axis in the list ``axis``.

    Example:
      >>> tl.reverse(tl.constant([[1, 2], [3, 4]]), [1]).numpy()
      array([[2, 1],
             [4, 3]], dtype=int32)
    """
    x = t(tensor)
    axes = norm_axes("reverse", list(_ints("reverse", "axis", axis)), x.ndim)
    if not axes:
        return x
    return reverse_p(x, axes=axes)


# ----------------------------------------------------------------- concat, split
def _concat_rule(*xs, axis):
    check_same_dtype("concat", *xs)
    r = len(xs[0].shape)
    shapes = " and ".join(f"input #{i} {fmt(x.shape)}" for i, x in enumerate(xs))
    if not 0 <= axis < r:
        raise InvalidArgumentError(f"concat: axis {axis} is out of range for inputs of rank {r} ({shapes})")
    out = list(xs[0].shape)
    for x in xs[1:]:
        if len(x.shape) != r:
            raise InvalidArgumentError(f"concat: all inputs must have the same rank; got {shapes}")
        for i, (a, b) in enumerate(zip(out, x.shape)):
            if i == axis:
                out[i] = None if a is None or b is None else a + b
            elif a is not None and b is not None and a != b:
                raise InvalidArgumentError(f"concat: input shapes must match in every dimension but axis {axis}; "
                                           f"dimension {i} differs: {shapes}")
            elif a is None:
                out[i] = b
    return TensorSpec(out, xs[0].dtype)


def _split_rule(x, axis, sizes):
    d = x.shape[axis]
    if d is not None and None not in sizes and sum(sizes) != d:
        raise InvalidArgumentError(f"split: sizes {list(sizes)} add up to {sum(sizes)} but dimension {axis} of "
                                   f"the input (shape {fmt(x.shape)}) has size {d}")
    out = []
    for s in sizes:
        shape = list(x.shape)
        shape[axis] = s
        out.append(TensorSpec(shape, x.dtype))
    return tuple(out)


concat_p = primitive("concat", _concat_rule)
split_p = primitive("split", _split_rule, multiple_results=True)


@defgrad(concat_p)
def _concat_grad(g, out, *xs, axis):
    return split_p(g, axis=axis, sizes=tuple(x.shape[axis] for x in xs))


@defgrad(split_p)
def _split_grad(g, out, x, axis, sizes):
    return concat_p(*g, axis=axis)


def concat(values, axis, name="concat"):
    """Joins tensors along an existing axis; all other dims must match.

    Example:
      >>> tl.concat([tl.ones([2, 3]), tl.zeros([2, 1])], axis=1).shape
      TensorShape([2, 4])
    """
    xs = [t(v) for v in values]
    if not xs:
        raise InvalidArgumentError("concat: needs at least one tensor")
    r = xs[0].ndim
    if r == 0:
        raise InvalidArgumentError("concat: cannot concatenate scalars (rank 0); use tl.stack")
    ax = norm_axis("concat", axis, r)
    if len(xs) == 1:
        return xs[0]
    check_same_dtype("concat", *xs)  # numpy would promote; shape errors come from the rule
    return concat_p(*xs, axis=ax)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits a tensor along ``axis`` into a list of tensors.

    Args:
      value: the tensor to split.
      num_or_size_splits: an int (that many equal parts; must divide the
        dimension), or a list of sizes, one of which may be -1 (the rest).
      axis: the dimension to split.
      num: the number of outputs when it cannot be inferred (unused otherwise).

    Returns:
      A list of tensors.

    Example:
      >>> [p.shape for p in tl.split(tl.ones([5, 2]), [2, -1])]
      [TensorShape([2, 2]), TensorShape([3, 2])]
    """
    x = t(value)
    ax = norm_axis("split", axis, x.ndim)
    d = x.shape[ax]
    if isinstance(num_or_size_splits, int) or (hasattr(num_or_size_splits, "shape")
                                               and len(num_or_size_splits.shape) == 0):
        n = int(num_or_size_splits)
        if n <= 0:
            raise InvalidArgumentError(f"split: the number of splits must be positive, got {n}")
        if d is not None and d % n:
            raise InvalidArgumentError(f"split: dimension {ax} of size {d} (input shape {fmt(x.shape)}) "
                                       f"cannot be split evenly into {n} parts")
        sizes = (None if d is None else d // n,) * n
    else:
        sizes = _ints("split", "num_or_size_splits", num_or_size_splits)
        if sum(1 for s in sizes if s == -1) > 1 or any(s < -1 for s in sizes):
            raise InvalidArgumentError(f"split: size_splits {list(sizes)} may hold at most one -1 and "
                                       "no other negative size")
        if -1 in sizes:
            rest = None if d is None else d - (sum(sizes) + 1)
            if rest is not None and rest < 0:
                raise InvalidArgumentError(f"split: sizes {list(sizes)} exceed dimension {ax} of size {d} "
                                           f"(input shape {fmt(x.shape)})")
            sizes = tuple(rest if s == -1 else s for s in sizes)
        _split_rule(x, axis=ax, sizes=sizes)
    return list(split_p(x, axis=ax, sizes=sizes))


# ----------------------------------------------------------------- stack, unstack, tile, broadcast_to
def _stack_rule(*xs, axis):
    check_same_dtype("stack", *xs)
    s0 = xs[0].shape
    for i, s in enumerate(x.shape for x in xs[1:]):
        i += 1
        if len(s) != len(s0) or any(a is not None and b is not None and a != b for a, b in zip(s, s0)):
            raise InvalidArgumentError(f"stack: all inputs must have the same shape; input #0 has shape "
                                       f"{fmt(s0)} and input #{i} has shape {fmt(s)}")
    shape = list(s0)
    shape.insert(axis, len(xs))
    return TensorSpec(shape, xs[0].dtype)


stack_p = primitive("stack", _stack_rule)


def _unstack_rule(x, axis, num):
    shape = list(x.shape)
    shape.pop(axis)
    return tuple(TensorSpec(shape, x.dtype) for _ in range(num))


unstack_p = primitive("unstack", _unstack_rule, multiple_results=True)


@defgrad(stack_p)
def _stack_grad(g, out, *xs, axis):
    return unstack_p(g, axis=axis, num=len(xs))


@defgrad(unstack_p)
def _unstack_grad(g, out, x, axis, num):
    return stack_p(*g, axis=axis)


def stack(values, axis=0, name="stack"):
    """Stacks same-shaped tensors along a new axis."""
    xs = [t(v) for v in values]
    if not xs:
        raise InvalidArgumentError("stack: needs at least one tensor")
    return stack_p(*xs, axis=norm_axis("stack", axis, xs[0].ndim + 1))


def unstack(value, num=None, axis=0, name="unstack"):
    """Splits a tensor into a list of tensors along ``axis`` (that axis removed)."""
    x = t(value)
    ax = norm_axis("unstack", axis, x.ndim)
    n = x.shape[ax]
    if n is None:
        if num is None:
            raise ValueError("unstack: the axis size is unknown; give num")
        n = num
    return list(unstack_p(x, axis=ax, num=int(n)))


def _tile_rule(x, multiples):
    if len(multiples) != len(x.shape):
        raise InvalidArgumentError(f"tile: multiples has {len(multiples)} entries but the input has rank "
                                   f"{len(x.shape)} (shape {fmt(x.shape)}); give one multiple per dimension")
    return TensorSpec([None if d is None else d * m for d, m in zip(x.shape, multiples)], x.dtype)


tile_p = primitive("tile", _tile_rule)


@defgrad(tile_p)
def _tile_grad(g, out, x, multiples):
    from tensorlab.ops.reduction import reduce_sum
    split_shape = []
    for m, d in zip(multiples, x.shape):
        split_shape += [m, d]
    g = reshape(g, split_shape)
    return reduce_sum(g, axis=list(range(0, 2 * len(multiples), 2)))


def tile(input, multiples, name=None):
    """Repeats ``input`` ``multiples[i]`` times along each dimension i."""
    x = t(input)
    multiples = _ints("tile", "multiples", multiples)
    _tile_rule(x, multiples)  # numpy would prepend dims silently
    return tile_p(x, multiples=multiples)


def _broadcast_to_rule(x, shape):
    out = broadcast_shapes("broadcast_to", x.shape, shape)
    if len(x.shape) > len(shape) or tuple(out) != tuple(shape) and all(d is not None for d in out):
        raise InvalidArgumentError(f"broadcast_to: cannot broadcast shape {fmt(x.shape)} to {fmt(shape)}")
    return TensorSpec(shape, x.dtype)


broadcast_to_p = primitive("broadcast_to", _broadcast_to_rule)


@defgrad(broadcast_to_p)
def _broadcast_to_grad(g, out, x, shape):
    return g  # the autodiff engine sums back to x's shape


def broadcast_to(input, shape, name=None):
    """Broadcasts ``input`` to ``shape`` (numpy rules)."""
    x = t(input)
    shape = _ints("broadcast_to", "shape", shape)
    if tuple(x.shape) == shape:
        return x
    return broadcast_to_p(x, shape=shape)


# ----------------------------------------------------------------- pad
_PAD_MODES = ("CONSTANT", "REFLECT", "SYMMETRIC")


def _pad_rule(x, paddings, mode, constant_values):
    r = len(x.shape)
    if len(paddings) != r:
        raise InvalidArgumentError(f"pad: paddings has {len(paddings)} rows but the input has rank {r} "
                                   f"(shape {fmt(x.shape)}); give one [before, after] pair per dimension")
    out = []
    for i, ((b, a), d) in enumerate(zip(paddings, x.shape)):
        if b < 0 or a < 0:
            raise InvalidArgumentError(f"pad: paddings must be non-negative, got [{b}, {a}] for dimension {i}")
        if mode != "CONSTANT" and d is not None:
            limit = d - 1 if mode == "REFLECT" else d
            if b > limit or a > limit:
                raise InvalidArgumentError(
                    f"pad: {mode} padding of dimension {i} (size {d}, input shape {fmt(x.shape)}) must be at "
                    f"most {limit} on each side, got [{b}, {a}]")
        out.append(None if d is None else d + b + a)
    return TensorSpec(out, x.dtype)


pad_p = primitive("pad", _pad_rule)


def _axis_slice(r, ax, lo, hi):
    return tuple(("s", lo, hi, None) if i == ax else ("s", None, None, None) for i in range(r))


def _fold(g, ax, b, a, n, mode):
    """Adds the gradient of the mirrored borders of axis ``ax`` back onto their sources."""
    from tensorlab.ops.elementwise import add
    from tensorlab.ops.indexing import getitem_p
    r = len(g.shape)
    k = 1 if mode == "REFLECT" else 0  # REFLECT skips the edge element, SYMMETRIC repeats it

    def place(lo, hi, before, after):
        p = [(0, 0)] * r
        p[ax] = (before, after)
        piece = reverse_p(getitem_p(g, key=_axis_slice(r, ax, lo, hi)), axes=(ax,))
        return pad_p(piece, paddings=tuple(p), mode="CONSTANT", constant_values=0)

    out = getitem_p(g, key=_axis_slice(r, ax, b, b + n))
    if b:
        out = add(out, place(0, b, k, n - k - b))
    if a:
        out = add(out, place(b + n, b + n + a, n - k - a, k))
    return out


@defgrad(pad_p)
def _pad_grad(g, out, x, paddings, mode, constant_values):
    from tensorlab.ops.indexing import getitem_p
    if mode == "CONSTANT":
        return getitem_p(g, key=tuple(("s", b, b + d, None) for (b, a), d in zip(paddings, x.shape)))
    for ax, ((b, a), n) in enumerate(zip(paddings, x.shape)):
        if b or a:
            g = _fold(g, ax, b, a, n, mode)
    return g


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """Pads a tensor: ``paddings[i] = [before, after]`` elements around dimension i.

    Args:
      tensor: the tensor to pad.
      paddings: an int list/tensor of shape ``[rank, 2]``.
      mode: ``"CONSTANT"`` (fill with ``constant_values``), ``"REFLECT"``
        (mirror without the edge; padding < dim) or ``"SYMMETRIC"`` (mirror
        with the edge; padding <= dim). Case-insensitive.
      constant_values: the fill value for ``"CONSTANT"``.

    Example:
      >>> tl.pad(tl.constant([[1, 2]]), [[1, 0], [0, 1]]).numpy()
      array([[0, 0, 0],
             [1, 2, 0]], dtype=int32)
    """
    x = t(tensor)
    if hasattr(paddings, "numpy"):
        paddings = paddings.numpy().tolist()
    try:
        rows = tuple((int(b), int(a)) for b, a in paddings)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"pad: paddings must have shape [rank, 2] (one [before, after] pair per "
                                   f"dimension), got {paddings!r}") from None
    m = str(mode).upper()
    if m not in _PAD_MODES:
        raise InvalidArgumentError(f"pad: mode must be one of {', '.join(_PAD_MODES)}, got {mode!r}")
    if hasattr(constant_values, "numpy"):
        constant_values = constant_values.numpy().item()
    _pad_rule(x, rows, m, constant_values)
    if all(b == 0 and a == 0 for b, a in rows):
        return x
    return pad_p(x, paddings=rows, mode=m, constant_values=constant_values)


# ----------------------------------------------------------------- roll, repeat, meshgrid
def roll(input, shift, axis, name=None):
    """Rotates elements by ``shift`` positions along ``axis`` (``tf.roll``).

    Elements pushed past the end come back at the start. ``shift`` and
    ``axis`` may be lists of the same length; shifts for a repeated axis add up.
    A negative shift rolls toward the start.

    Args:
      input: a tensor of rank >= 1.
      shift: an int or a list of ints.
      axis: an int or a list of ints (the same length as ``shift``).

    Returns:
      A tensor of ``input``'s shape and dtype.

    Example:
      >>> tl.roll(tl.constant([0, 1, 2, 3, 4]), shift=2, axis=0).numpy()
      array([3, 4, 0, 1, 2], dtype=int32)
    """
    x = t(input)
    shifts, axes = _ints("roll", "shift", shift), _ints("roll", "axis", axis)
    if len(shifts) != len(axes):
        raise InvalidArgumentError(f"roll: shift {list(shifts)} and axis {list(axes)} must have the same length")
    if x.ndim == 0:
        raise InvalidArgumentError("roll: input must be 1-D or higher, got a scalar")
    total = {}
    for s, a in zip(shifts, axes):
        a = norm_axis("roll", a, x.ndim)
        total[a] = total.get(a, 0) + s
    for a, s in sorted(total.items()):
        n = x.shape[a]
        if n is None:
            raise InvalidArgumentError(f"roll: dimension {a} of the input (shape {fmt(x.shape)}) is unknown")
        s = s % n if n else 0
        if s:
            head, tail = split_p(x, axis=a, sizes=(n - s, s))
            x = concat_p(tail, head, axis=a)
    return x


def repeat(input, repeats, axis=None, name=None):
    """Repeats each element of ``input`` along ``axis`` (``tf.repeat``).

    Args:
      input: a tensor.
      repeats: an int (every element that many times) or a list of ints,
        one per element along ``axis``.
      axis: the dimension to repeat along; None flattens ``input`` first.

    Returns:
      The tensor with dimension ``axis`` of size ``sum(repeats)``.

    Example:
      >>> tl.repeat(tl.constant([[1, 2], [3, 4]]), [1, 2], axis=0).numpy()
      array([[1, 2],
             [3, 4],
             [3, 4]], dtype=int32)
    """
    x = t(input)
    if axis is None:
        x = reshape(x, [-1])
    elif x.ndim == 0:
        raise InvalidArgumentError(f"repeat: cannot repeat a scalar along axis {axis}; use axis=None")
    ax = 0 if axis is None else norm_axis("repeat", axis, x.ndim)
    reps = _ints("repeat", "repeats", repeats)
    if any(r < 0 for r in reps):
        raise InvalidArgumentError(f"repeat: repeats must be non-negative, got {list(reps)}")
    shape, n = list(x.shape), x.shape[ax]
    if len(reps) == 1:
        r = reps[0]
        tiled = tile_p(_reshape_to(x, shape[:ax + 1] + [1] + shape[ax + 1:]),
                       multiples=(1,) * (ax + 1) + (r,) + (1,) * (x.ndim - ax - 1))
        return _reshape_to(tiled, shape[:ax] + [None if n is None else n * r] + shape[ax + 1:])
    if n is not None and len(reps) != n:
        raise InvalidArgumentError(f"repeat: repeats has {len(reps)} entries but dimension {ax} of the input "
                                   f"(shape {fmt(x.shape)}) has size {n}; give one count per element or a scalar")
    from tensorlab.ops.indexing import gather
    return gather(x, [i for i, r in enumerate(reps) for _ in range(r)], axis=ax)


def meshgrid(*args, indexing="xy", name=None):
    """Coordinate grids from 1-D coordinate vectors (``tf.meshgrid``).

    Args:
      *args: N tensors of one dtype (flattened to 1-D), of sizes s1, ..., sN.
      indexing: "xy" (Cartesian: outputs of shape [s2, s1, s3, ...]) or
        "ij" (matrix: outputs of shape [s1, s2, s3, ...]).

    Returns:
      A list of N tensors; the i-th holds ``args[i]``'s values along its axis.

    Example:
      >>> x, y = tl.meshgrid(tl.constant([1, 2, 3]), tl.constant([4, 5]))
      >>> x.numpy()
      array([[1, 2, 3],
             [1, 2, 3]], dtype=int32)
    """
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    xs = [reshape(t(a), [-1]) for a in args]
    if not xs:
        return []
    check_same_dtype("meshgrid", *xs)
    n = len(xs)
    pos = list(range(n))
    if indexing == "xy" and n > 1:
        pos[0], pos[1] = 1, 0
    sizes = [0] * n
    for x, p in zip(xs, pos):
        sizes[p] = x.shape[0]
    return [broadcast_to(reshape(x, [-1 if i == p else 1 for i in range(n)]), sizes) for x, p in zip(xs, pos)]


# ----------------------------------------------------------------- shape queries
def _shape_of_rule(x, out_type, what):
    return TensorSpec((len(x.shape),) if what == "shape" else (), out_type)


shape_of_p = primitive("shape_of", _shape_of_rule)
not_differentiable(shape_of_p)


def _index_dtype(name, out_type):
    d = dt.as_dtype(out_type)
    if d not in (dt.int32, dt.int64):
        raise TypeError(f"{name}: out_type must be int32 or int64, got {d.name}")
    return d


def shape(input, out_type=dt.int32, name=None):
    """The shape of ``input`` as a 1-D integer tensor (``tf.shape``).

    Example:
      >>> tl.shape(tl.ones([2, 3])).numpy()
      array([2, 3], dtype=int32)
    """
    return shape_of_p(t(input), out_type=_index_dtype("shape", out_type), what="shape")


def rank(input, name=None):
    """The number of dimensions of ``input`` as a scalar int32 tensor."""
    return shape_of_p(t(input), out_type=dt.int32, what="rank")


def size(input, out_type=dt.int32, name=None):
    """The number of elements of ``input`` as a scalar integer tensor."""
    return shape_of_p(t(input), out_type=_index_dtype("size", out_type), what="size")


def ensure_shape(x, shape, name=None):
    """Returns ``x`` after checking its shape is compatible with ``shape`` (None = any size).

    Raises:
      InvalidArgumentError: when the shapes are incompatible.
    """
    x = t(x)
    want = TensorShape(shape)
    if not x.shape.is_compatible_with(want):
        raise InvalidArgumentError(f"ensure_shape: shape of tensor {fmt(x.shape)} is not compatible with "
                                   f"expected shape {fmt(want)}")
    merged = tuple(a if a is not None else b for a, b in zip(x.shape, want))
    return _reshape_to(x, merged) if _is_symbolic(x) else x


__all__ = ["reshape", "transpose", "expand_dims", "squeeze", "concat", "split", "stack", "unstack", "tile",
           "broadcast_to", "pad", "reverse", "shape", "rank", "size", "ensure_shape", "roll", "repeat", "meshgrid"]
