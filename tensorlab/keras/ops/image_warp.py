"""``keras.ops.image`` resampling (Keras 3): ``map_coordinates``, ``perspective_transform``,
``elastic_transform`` and ``scale_and_translate``.

Composed of gathers and weighted sums of tensorlab ops: they run on the images'
device and are differentiable with respect to the values (and to the sampling
coordinates, for linear interpolation).

    from tensorlab.keras import ops
    warped = ops.image.perspective_transform(images, corners, new_corners)
"""
import itertools
import math

import tensorlab as tl
from tensorlab.keras import random as _random
from tensorlab.keras.ops._common import at_least_float32, channels_back, channels_last, constant_like
from tensorlab.keras.ops._common import data_format as _data_format
from tensorlab.keras.ops._common import on_device_of, tensor

__all__ = ["map_coordinates", "perspective_transform", "elastic_transform", "scale_and_translate"]

_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
_INTERPOLATIONS = {"nearest": 0, "bilinear": 1}
_SCALE_METHODS = ("linear", "bilinear", "trilinear", "cubic", "bicubic", "tricubic", "lanczos3", "lanczos5")


# ----------------------------------------------------------------------------- map_coordinates
def _mirror(index, size):
    """Reflection about the edge samples (scipy's "mirror"): period ``2 (size - 1)``."""
    if size == 1:
        return tl.zeros_like(index)
    s = size - 1
    return tl.abs(tl.math.floormod(index + s, 2 * s) - s)


def _fix(index, size, fill_mode):
    if fill_mode in ("constant", "nearest"):
        return tl.clip_by_value(index, 0, size - 1)
    if fill_mode == "wrap":
        return tl.math.floormod(index, size)
    if fill_mode == "mirror":
        return _mirror(index, size)
    # "reflect": about the edges themselves (scipy's "reflect", the edge sample repeats)
    return tl.math.floordiv(_mirror(2 * index + 1, 2 * size + 1) - 1, 2)


def _nodes(coordinate, order):
    """[(int32 index, weight or None)] of one axis: integer coordinates are read exactly."""
    if not coordinate.dtype.is_floating:
        return [(tl.cast(coordinate, tl.int32), None)]
    if order == 0:
        return [(tl.cast(tl.round(coordinate), tl.int32), None)]
    lower = tl.floor(coordinate)
    upper_weight = coordinate - lower
    index = tl.cast(lower, tl.int32)
    return [(index, 1.0 - upper_weight), (index + 1, upper_weight)]


def _sample(x, coordinates, order, fill_mode, fill_value, exact=()):
    """``x`` read at ``coordinates`` (one same-shaped tensor per axis of ``x``), interpolated.

    Axes in ``exact`` are read at their (integer, in range) coordinates as they are.
    """
    shape = list(x.shape)
    strides = [math.prod(shape[i + 1:]) for i in range(len(shape))]
    per_axis = []
    for axis, (c, size) in enumerate(zip(coordinates, shape)):
        if axis in exact:
            per_axis.append([(c, None, None)])
            continue
        axis_nodes = []
        for index, weight in _nodes(c, order):
            valid = tl.logical_and(tl.greater_equal(index, 0), tl.less(index, size)) if fill_mode == "constant" \
                else None
            axis_nodes.append((_fix(index, size, fill_mode), valid, weight))
        per_axis.append(axis_nodes)
    values = at_least_float32(x) if x.dtype.is_floating else tl.cast(x, tl.float32)
    flat = tl.reshape(values, [-1])
    result = None
    for corner in itertools.product(*per_axis):
        linear = None
        valid = None
        weight = None
        for (index, ok, w), stride in zip(corner, strides):
            term = index * stride if stride != 1 else index
            linear = term if linear is None else linear + term
            if ok is not None:
                valid = ok if valid is None else tl.logical_and(valid, ok)
            if w is not None:
                weight = w if weight is None else weight * w
        value = tl.gather(flat, linear)
        if valid is not None:
            value = tl.where(valid, value, tl.cast(fill_value, value.dtype))
        if weight is not None:
            value = value * tl.cast(weight, value.dtype)
        result = value if result is None else result + value
    if not x.dtype.is_floating:
        return tl.cast(tl.round(result), x.dtype)
    return result if result.dtype == x.dtype else tl.cast(result, x.dtype)


def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0):
    """Reads ``inputs`` at arbitrary ``coordinates`` (``scipy.ndimage.map_coordinates``).

    Args:
      inputs: an array of any rank ``R``.
      coordinates: ``R`` arrays of one shape (or a tensor ``(R, ...)``): where to read,
        in index units along each axis.
      order: 0 (nearest, half to even) or 1 (linear interpolation).
      fill_mode: points outside: ``"constant"`` (``fill_value``), ``"nearest"`` (the edge),
        ``"wrap"``, ``"mirror"`` (about the edge samples) or ``"reflect"`` (about the edges).
      fill_value: the value outside with ``"constant"``.

    Returns:
      The coordinates' shape, in ``inputs``' dtype (integer results rounded).

    Example:
      >>> ops.image.map_coordinates(tl.reshape(tl.range(12.0), [3, 4]), [[0.5, 2.0], [0.5, 1.0]], order=1)
      [2.5, 9.]
    """
    x = tensor(inputs)
    if order not in (0, 1):
        raise ValueError(f"map_coordinates: order must be 0 or 1; received order={order!r}")
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"map_coordinates: fill_mode must be one of {_FILL_MODES}; received fill_mode={fill_mode!r}")
    coords = list(coordinates) if isinstance(coordinates, (list, tuple)) else tl.unstack(tensor(coordinates))
    coords = [tensor(c) for c in coords]
    if len(coords) != len(x.shape):
        raise ValueError(f"map_coordinates: coordinates must hold one array per axis of inputs ({len(x.shape)}, "
                         f"inputs shape {tuple(x.shape)}); received {len(coords)}")
    if not coords or len(coords[0].shape) < 1:
        raise ValueError("map_coordinates: coordinates must have rank 2 or more ((rank of inputs, ...)); received "
                         f"arrays of shape {tuple(coords[0].shape) if coords else ()}")
    if any(tuple(c.shape) != tuple(coords[0].shape) for c in coords):
        raise ValueError(f"map_coordinates: the coordinate arrays must have one shape; received "
                         f"{[tuple(c.shape) for c in coords]}")
    return _sample(x, coords, order, fill_mode, fill_value)


# ----------------------------------------------------------------------------- warps of image batches
def _batch(name, images, data_format):
    x = tensor(images)
    if len(x.shape) not in (3, 4):
        raise ValueError(f"{name}: images must be 3-D (height, width, channels) or 4-D (batch, height, width, "
                         f"channels); received shape {tuple(x.shape)}")
    fmt = _data_format(name, data_format)
    unbatched = len(x.shape) == 3
    if unbatched:
        x = tl.expand_dims(x, 0)
    return channels_last(x, fmt, 2), fmt, unbatched


def _unbatch(x, fmt, unbatched):
    x = channels_back(x, fmt, 2)
    return x[0] if unbatched else x


def _interpolation(name, interpolation):
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}: interpolation must be one of {tuple(_INTERPOLATIONS)}; received "
                         f"interpolation={interpolation!r}")
    return _INTERPOLATIONS[interpolation]


def _grid(x):
    """The (batch, row, column, channel) index of every element of ``x`` (n, h, w, c), int32."""
    _, h, w, c = x.shape
    # Ones of x's shape also for an unknown (symbolic) batch size, where ones_like cannot be
    # used; "x == x or x != x" holds for NaN too.
    ones = tl.cast(tl.logical_or(tl.equal(x, x), tl.not_equal(x, x)), tl.int32)
    with on_device_of(x):
        rows, cols, chans = (tl.reshape(tl.range(0, size), shape) * ones
                             for size, shape in ((h, [1, h, 1, 1]), (w, [1, 1, w, 1]), (c, [1, 1, 1, c])))
    return tl.math.cumsum(ones, axis=0) - 1, rows, cols, chans


def _homography(start, end):
    """The 8 projective coefficients mapping each ``end`` quad onto its ``start`` quad (``(B, 4, 2)`` each)."""
    rows, target = [], []
    for i in range(4):
        sx, sy, ex, ey = start[:, i, 0], start[:, i, 1], end[:, i, 0], end[:, i, 1]
        one, zero = tl.ones_like(ex), tl.zeros_like(ex)
        rows.append(tl.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], axis=-1))
        rows.append(tl.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], axis=-1))
        target += [sx, sy]
    return tl.squeeze(tl.linalg.solve(tl.stack(rows, axis=1), tl.expand_dims(tl.stack(target, axis=-1), -1)), -1)


def perspective_transform(images, start_points, end_points, interpolation="bilinear", fill_value=0,
                          data_format=None):
    """Warps images so that the quadrilateral ``start_points`` lands on ``end_points``.

    Each output pixel ``(x, y)`` reads the input at the homography's image of it
    (points outside read ``fill_value``).

    Args:
      images: 3-D or 4-D images.
      start_points, end_points: ``(4, 2)`` or ``(batch, 4, 2)`` corner ``(x, y)`` coordinates.
      interpolation: ``"bilinear"`` or ``"nearest"``.

    Example:
      >>> corners = [[0, 0], [31, 0], [0, 31], [31, 31]]
      >>> ops.image.perspective_transform(images, corners, [[2, 2], [29, 1], [1, 30], [30, 29]])
    """
    name = "perspective_transform"
    order = _interpolation(name, interpolation)
    x, fmt, unbatched = _batch(name, images, data_format)
    start, end = at_least_float32(start_points), at_least_float32(end_points)
    if tl.is_tensor(start) and start.dtype != end.dtype:
        end = tl.cast(end, start.dtype)
    for what, p in (("start_points", start), ("end_points", end)):
        if len(p.shape) not in (2, 3) or tuple(p.shape[-2:]) != (4, 2):
            raise ValueError(f"{name}: {what} must have shape (4, 2) or (batch, 4, 2); received shape "
                             f"{tuple(p.shape)}")
    if tuple(start.shape) != tuple(end.shape):
        raise ValueError(f"{name}: start_points and end_points must have the same shape; received "
                         f"{tuple(start.shape)} and {tuple(end.shape)}")
    if len(start.shape) == 2:
        start, end = tl.expand_dims(start, 0), tl.expand_dims(end, 0)
    coeffs = _homography(start, end)  # (B or 1, 8)
    b, row, col, ch = _grid(x)
    xs, ys = tl.cast(col, coeffs.dtype), tl.cast(row, coeffs.dtype)
    a = [tl.reshape(coeffs[:, i], [-1, 1, 1, 1]) for i in range(8)]
    denom = a[6] * xs + a[7] * ys + 1.0
    x_in = (a[0] * xs + a[1] * ys + a[2]) / denom
    y_in = (a[3] * xs + a[4] * ys + a[5]) / denom
    y = _sample(x, [b, y_in, x_in, ch], order, "constant", fill_value, exact=(0, 3))
    return _unbatch(y, fmt, unbatched)


def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                      seed=None, data_format=None):
    """Elastic deformation (Simard et al., 2003): a random displacement field, smoothed by a
    Gaussian of ``sigma``, scaled by ``alpha``, moves each pixel's sampling point.

    Args:
      images: 3-D or 4-D images; one field per image, shared by its channels.
      alpha: the displacement scale. sigma: the smoothing (the kernel is ``int(6 sigma) | 1`` wide).
      interpolation: ``"bilinear"`` or ``"nearest"``.
      fill_mode: ``"constant"``, ``"nearest"``, ``"wrap"``, ``"mirror"`` or ``"reflect"``.
      seed: an int, a ``keras.random.SeedGenerator`` or None (the random numbers are tensorlab's).

    Example:
      >>> ops.image.elastic_transform(images, alpha=10.0, sigma=3.0, seed=1)
    """
    from tensorlab.keras.ops.image_extra import gaussian_blur
    name = "elastic_transform"
    order = _interpolation(name, interpolation)
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"{name}: fill_mode must be one of {_FILL_MODES}; received fill_mode={fill_mode!r}")
    if not sigma > 0:
        raise ValueError(f"{name}: sigma must be positive; received sigma={sigma!r}")
    x, fmt, unbatched = _batch(name, images, data_format)
    n, h, w, _ = x.shape
    if n is None:
        raise ValueError(f"{name}: the batch size must be known to draw the displacement fields; received images "
                         f"of shape {tuple(x.shape)}")
    dtype = at_least_float32(x).dtype
    width = int(6 * sigma) | 1
    with on_device_of(x):
        noise = _random.normal([2 * n, h, w, 1], dtype=dtype.name, seed=seed) * sigma
    field = gaussian_blur(noise, (width, width), (sigma, sigma), data_format="channels_last")
    dx, dy = field[:n], field[n:]  # (n, h, w, 1), broadcast over channels
    b, row, col, ch = _grid(x)
    y_in = tl.cast(row, dtype) + alpha * dy
    x_in = tl.cast(col, dtype) + alpha * dx
    y = _sample(x, [b, y_in, x_in, ch], order, fill_mode, fill_value, exact=(0, 3))
    return _unbatch(y, fmt, unbatched)


# ----------------------------------------------------------------------------- scale_and_translate
def _kernel(method, x):
    if method == "linear":
        return tl.nn.relu(1.0 - tl.abs(x))
    if method == "cubic":  # Keys (a = -0.5)
        inner = ((1.5 * x - 2.5) * x) * x + 1.0
        outer = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
        return tl.where(tl.greater_equal(x, 2.0), tl.zeros_like(x), tl.where(tl.greater_equal(x, 1.0), outer, inner))
    radius = 3.0 if method == "lanczos3" else 5.0
    safe = tl.where(tl.greater(x, 1e-3), x, tl.ones_like(x))
    y = radius * tl.sin(math.pi * safe) * tl.sin(math.pi * safe / radius) / (math.pi ** 2 * safe * safe)
    y = tl.where(tl.greater(x, 1e-3), y, tl.ones_like(x))
    return tl.where(tl.greater(x, radius), tl.zeros_like(x), y)


def _weights(size_in, size_out, scale, translation, method, antialias, like):
    """The ``(size_in, size_out)`` resampling matrix of one axis (jax.image's ``compute_weight_mat``)."""
    inv_scale = 1.0 / scale
    kernel_scale = tl.maximum(inv_scale, 1.0) if antialias else 1.0
    with on_device_of(like):
        out_pos = tl.cast(tl.range(0, size_out), like.dtype)
        in_pos = tl.cast(tl.range(0, size_in), like.dtype)
    sample = (out_pos + 0.5) * inv_scale - translation * inv_scale - 0.5
    w = _kernel(method, tl.abs(tl.expand_dims(sample, 0) - tl.expand_dims(in_pos, 1)) / kernel_scale)
    total = tl.reduce_sum(w, axis=0, keepdims=True)
    usable = tl.greater(tl.abs(total), 1000.0 * 2.0 ** -23)
    w = tl.where(usable, w / tl.where(tl.equal(total, 0.0), tl.ones_like(total), total), tl.zeros_like(w))
    inside = tl.logical_and(tl.greater_equal(sample, -0.5), tl.less_equal(sample, size_in - 0.5))
    return tl.where(tl.expand_dims(inside, 0), w, tl.zeros_like(w))


def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method, antialias=True):
    """Resamples ``images`` along ``spatial_dims`` (``jax.image.scale_and_translate``).

    Output index ``o`` of an axis samples input position ``(o + 0.5 - translation) / scale - 0.5``
    with the ``method``'s kernel (widened by ``1 / scale`` when downscaling with ``antialias``).

    Args:
      images: any rank. output_shape: the full output shape.
      scale, translation: one number per entry of ``spatial_dims``.
      spatial_dims: the axes resampled.
      method: ``"linear"``/``"bilinear"``/``"trilinear"``, ``"cubic"``/``"bicubic"``/``"tricubic"``,
        ``"lanczos3"`` or ``"lanczos5"``.

    Returns:
      ``output_shape``; integer images are rounded and clipped to their input range.

    Example:
      >>> ops.image.scale_and_translate(x, (1, 8, 8, 3), (2.0, 2.0), (0.0, 0.0), (1, 2), "linear")
    """
    name = "scale_and_translate"
    if method not in _SCALE_METHODS:
        raise ValueError(f"{name}: method must be one of {_SCALE_METHODS}; received method={method!r}")
    kind = "linear" if method in ("linear", "bilinear", "trilinear") else \
        "cubic" if method in ("cubic", "bicubic", "tricubic") else method
    x = tensor(images)
    ndim = len(x.shape)
    dims = [int(d) % ndim for d in spatial_dims]
    output_shape = tuple(None if s is None else int(s) for s in output_shape)
    if len(output_shape) != ndim or any(output_shape[d] is None for d in dims):
        raise ValueError(f"{name}: output_shape must have one entry per axis of images ({ndim}), known along "
                         f"spatial_dims {tuple(dims)}; received {output_shape}")
    out = at_least_float32(x)
    scale, translation = (tl.cast(v, out.dtype) if tl.is_tensor(v) else constant_like(v, out.dtype, out)
                          for v in (scale, translation))
    if tuple(scale.shape) != (len(dims),) or tuple(translation.shape) != (len(dims),):
        raise ValueError(f"{name}: scale and translation need one value per spatial dim ({len(dims)}); received "
                         f"shapes {tuple(scale.shape)} and {tuple(translation.shape)}")
    for i, d in enumerate(dims):
        weights = _weights(x.shape[d], output_shape[d], scale[i], translation[i], kind, antialias, out)
        perm = [a for a in range(ndim) if a != d] + [d]
        moved = tl.matmul(tl.reshape(tl.transpose(out, perm), [-1, x.shape[d]]), weights)
        shape = [-1 if out.shape[a] is None else out.shape[a] for a in perm[:-1]] + [output_shape[d]]
        back = [perm.index(a) for a in range(ndim)]
        out = tl.transpose(tl.reshape(moved, shape), back)
    if x.dtype.is_floating:
        return out if out.dtype == x.dtype else tl.cast(out, x.dtype)
    low, high = tl.cast(tl.reduce_min(x), out.dtype), tl.cast(tl.reduce_max(x), out.dtype)
    return tl.cast(tl.clip_by_value(tl.round(out), low, high), x.dtype)
