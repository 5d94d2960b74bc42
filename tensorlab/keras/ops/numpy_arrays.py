"""NumPy-style array creation and rearrangement (``keras.ops.numpy``): splits and stacks along fixed
axes, flips and rotations, diagonals, ``unravel_index``, ``empty``, ``logspace``/``geomspace``.

    from tensorlab.keras import ops
    top, bottom = ops.vsplit(x, 2)
    ops.rot90(image, k=1, axes=(0, 1))
"""
import builtins

import tensorlab as tl
from tensorlab.keras.ops import _numpy_helpers as H
from tensorlab.keras.ops import numpy as knp

__all__ = ["array_split", "diagflat", "diagonal", "dsplit", "dstack", "empty", "empty_like", "fliplr", "flipud",
           "geomspace", "hsplit", "logspace", "rot90", "unravel_index", "vsplit"]


def array_split(x, indices_or_sections, axis=0):
    """Splits ``x`` into ``indices_or_sections`` nearly equal parts (the first ``n % sections`` one longer),
    or at the given indices. Returns a list."""
    x = knp._t(x)
    axis = H.norm_axis("array_split", axis, len(x.shape))
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k < 1:
            raise ValueError(f"ops.array_split: the number of sections must be positive, got {k}")
        n = H.static_dim("array_split", x, axis)
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        return tl.split(x, sizes, axis=axis)
    return knp.split(x, indices_or_sections, axis=axis)


def _split_along(name, x, indices_or_sections, axis, min_rank):
    x = knp._t(x)
    if len(x.shape) < min_rank:
        raise ValueError(f"ops.{name}: x must have at least {min_rank} dimensions, got shape {tuple(x.shape)}")
    if isinstance(indices_or_sections, int):
        n = H.static_dim(name, x, axis)
        if indices_or_sections < 1 or n % indices_or_sections:
            raise ValueError(f"ops.{name}: axis {axis} of size {n} does not divide into {indices_or_sections} "
                             "equal sections (ops.array_split allows unequal ones)")
    return knp.split(x, indices_or_sections, axis=axis)


def hsplit(x, indices_or_sections):
    """Splits along axis 1 (axis 0 for 1-D ``x``) into equal parts, or at the given indices."""
    x = knp._t(x)
    return _split_along("hsplit", x, indices_or_sections, 1 if len(x.shape) > 1 else 0, 1)


def vsplit(x, indices_or_sections):
    """Splits along axis 0 (``x`` at least 2-D) into equal parts, or at the given indices."""
    return _split_along("vsplit", x, indices_or_sections, 0, 2)


def dsplit(x, indices_or_sections):
    """Splits along axis 2 (``x`` at least 3-D) into equal parts, or at the given indices."""
    return _split_along("dsplit", x, indices_or_sections, 2, 3)


def dstack(xs):
    """Stacks tensors along a third axis: 1-D ``(n,)`` becomes ``(1, n, 1)``, 2-D ``(m, n)`` ``(m, n, 1)``."""
    xs = knp._promote(*xs)
    out = []
    for x in xs:
        if len(x.shape) == 0:
            x = tl.reshape(x, [1, 1, 1])
        elif len(x.shape) == 1:
            x = tl.reshape(x, [1, -1, 1])
        elif len(x.shape) == 2:
            x = x[..., None]
        out.append(x)
    return tl.concat(out, axis=2)


def fliplr(x):
    """Reverses axis 1 (``x`` at least 2-D)."""
    x = knp._t(x)
    if len(x.shape) < 2:
        raise ValueError(f"ops.fliplr: x must be at least 2-D, got shape {tuple(x.shape)}")
    return tl.reverse(x, [1])


def flipud(x):
    """Reverses axis 0 (``x`` at least 1-D)."""
    x = knp._t(x)
    if len(x.shape) < 1:
        raise ValueError("ops.flipud: x must be at least 1-D, got a scalar")
    return tl.reverse(x, [0])


def rot90(array, k=1, axes=(0, 1)):
    """Rotates by 90 degrees ``k`` times in the plane of ``axes``, from the first axis towards the second."""
    x = knp._t(array)
    r = len(x.shape)
    if r < 2:
        raise ValueError(f"ops.rot90: the array must have at least 2 dimensions, got shape {tuple(x.shape)}")
    if len(axes) != 2:
        raise ValueError(f"ops.rot90: axes must be two different dimensions, got {axes}")
    a, b = (H.norm_axis("rot90", ax, r) for ax in axes)
    if a == b:
        raise ValueError(f"ops.rot90: axes must be two different dimensions, got {axes}")
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return tl.reverse(x, [a, b])
    perm = list(range(r))
    perm[a], perm[b] = b, a
    if k == 1:
        return tl.transpose(tl.reverse(x, [b]), perm)
    return tl.reverse(tl.transpose(x, perm), [b])


def diagflat(x, k=0):
    """A 2-D tensor with the flattened ``x`` on its ``k``-th diagonal."""
    return knp.diag(tl.reshape(knp._t(x), [-1]), k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The ``offset``-th diagonal of the 2-D slices of ``x`` over ``axis1``/``axis2``; those axes are
    removed and the diagonal becomes the last axis."""
    x = knp._t(x)
    r = len(x.shape)
    if r < 2:
        raise ValueError(f"ops.diagonal: x must be at least 2-D, got shape {tuple(x.shape)}")
    a, b = H.norm_axis("diagonal", axis1, r), H.norm_axis("diagonal", axis2, r)
    if a == b:
        raise ValueError(f"ops.diagonal: axis1 and axis2 must differ, got {axis1} and {axis2}")
    x = knp.moveaxis(x, [a, b], [-2, -1])
    m, n = H.static_dim("diagonal", x, -2), H.static_dim("diagonal", x, -1)
    r0, c0 = builtins.max(-offset, 0), builtins.max(offset, 0)
    length = builtins.max(0, builtins.min(m - r0, n - c0))
    i = tl.range(0, length)
    flat = H.reshape("diagonal", x, list(x.shape[:-2]) + [m * n])
    return tl.gather(flat, (i + r0) * n + (i + c0), axis=len(x.shape) - 2)


def unravel_index(indices, shape):
    """The coordinates, in a tensor of ``shape``, of the flat (C-order) ``indices``: a tuple of tensors of
    ``indices``' shape and dtype."""
    shape = [int(d) if d is not None else None for d in shape]
    if None in shape:
        raise ValueError(f"ops.unravel_index: shape must be fully known, got {shape}")
    idx = knp._t(indices)
    if not H.is_int(idx):
        raise TypeError(f"ops.unravel_index: indices must be integers, got dtype {idx.dtype.name}")
    size = 1
    for d in shape:
        size *= d
    if H.any_true(tl.logical_or(tl.less(idx, 0), tl.greater_equal(idx, size))):
        raise ValueError(f"ops.unravel_index: indices must lie in [0, {size}) for shape {tuple(shape)}")
    coords = []
    for d in reversed(shape):
        coords.append(tl.floormod(idx, tl.cast(d, idx.dtype)))
        idx = tl.floordiv(idx, tl.cast(d, idx.dtype))
    return tuple(reversed(coords))


def empty(shape, dtype=None):
    """A tensor of ``shape`` (``floatx`` by default). Tensors are immutable, so it is zero-filled."""
    return knp.zeros(shape, dtype=dtype)


def empty_like(x, dtype=None):
    """A tensor of ``x``'s shape and dtype (or ``dtype``), zero-filled."""
    return knp.zeros_like(x, dtype=dtype)


def _linspace64(name, start, stop, num, endpoint, axis):
    """numpy's ``linspace`` computed in float64: ``start + i * step``, the last value exactly ``stop``."""
    if num < 0:
        raise ValueError(f"ops.{name}: num must be >= 0, got {num}")
    start, stop = H.as_float64(start), H.as_float64(stop)
    start, stop = start + tl.zeros_like(stop), stop + tl.zeros_like(start)
    div = (num - 1) if endpoint else num
    step = (stop - start) / builtins.max(div, 1)
    frac = tl.reshape(tl.cast(tl.range(0, num), "float64"), [num] + [1] * len(start.shape))
    out = start + frac * step
    if endpoint and num > 1:
        out = tl.concat([out[:-1], stop[None]], axis=0)
    return knp.moveaxis(out, 0, axis) if axis != 0 else out


def _space_dtype(dtype, *values):
    if dtype is not None:
        return knp._dt(dtype)
    floats = [v.dtype.name for v in values if H.is_eager(v) and knp._is_float(v)]
    if floats:
        name = floats[0]
        for f in floats[1:]:
            name = knp._promote_pair(name, f)
        return tl.as_dtype(name)
    return tl.as_dtype(knp._floatx())


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``num`` values ``base ** t`` for ``t`` evenly spaced from ``start`` to ``stop``."""
    t = _linspace64("logspace", start, stop, num, endpoint, axis)
    return tl.cast(tl.pow(H.as_float64(base), t), _space_dtype(dtype, start, stop))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` values from ``start`` to ``stop`` in geometric progression (both nonzero, of one sign)."""
    a, b = H.as_float64(start), H.as_float64(stop)
    if H.any_true(tl.logical_or(tl.equal(a, 0), tl.equal(b, 0))):
        raise ValueError(f"ops.geomspace: a geometric sequence cannot include zero (start={start}, stop={stop})")
    if H.any_true(tl.less(a * b, 0)):
        raise ValueError(f"ops.geomspace: start and stop must have the same sign, got {start} and {stop}")
    sign = tl.sign(a + tl.zeros_like(b))
    t = _linspace64("geomspace", tl.math.log(tl.abs(a)) / 2.302585092994046,
                    tl.math.log(tl.abs(b)) / 2.302585092994046, num, endpoint, 0)
    out = tl.pow(10.0, t) * sign
    # numpy makes the ends exact.
    if num > 0:
        out = tl.concat([(a + tl.zeros_like(b))[None], out[1:]], 0)
    if endpoint and num > 1:
        out = tl.concat([out[:-1], (b + tl.zeros_like(a))[None]], 0)
    out = knp.moveaxis(out, 0, axis) if axis != 0 else out
    return tl.cast(out, knp._dtype_or_floatx(dtype))  # Keras: floatx unless dtype is given


H.on_input_device(globals(), __all__)
