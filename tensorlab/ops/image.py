"""Image ops (``tl.image``): flips, crops, resizing, projective transforms, brightness, standardization,
grayscale conversion and patch extraction (quality measures are in ``image_quality.py``).

All are composites of other ops (gather, reverse, where, reductions), so they
run on every device, differentiate where the math does, and need no kernels.
Images are ``[height, width, channels]`` or batches ``[batch, height, width, channels]``.
"""
from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable
from tensorlab.errors import InvalidArgumentError, UnimplementedError
from tensorlab.ops import creation as _cr
from tensorlab.ops import elementwise as _ew
from tensorlab.ops import indexing as _ix
from tensorlab.ops import random_ops as _rnd
from tensorlab.ops import reduction as _red
from tensorlab.ops import shape as _sh
from tensorlab.ops._rules import FLOATS, fmt, t


def _image(name, image, ranks=(3, 4)):
    x = t(image)
    if x.ndim not in ranks:
        raise InvalidArgumentError(
            f"{name}: expected an image of rank {' or '.join(map(str, ranks))} ([height, width, channels] or "
            f"[batch, height, width, channels]), got shape {fmt(x.shape)}")
    return x


def _same_spec(x, *seed, **params):
    """The shape rule of an op whose result has its input's shape and dtype."""
    return TensorSpec(x.shape, x.dtype)


class _on_device_of:
    """Random draws go to the image's device (the current one for symbolic images)."""

    def __init__(self, x):
        self._scope = None if isinstance(x, SymbolicTensor) else _dev.device(x._device)

    def __enter__(self):
        if self._scope is not None:
            self._scope.__enter__()

    def __exit__(self, *exc):
        if self._scope is not None:
            self._scope.__exit__(*exc)


# ----------------------------------------------------------------- flips
def flip_left_right(image):
    """Flips an image (or each image of a batch) horizontally.

    Example:
      >>> tl.image.flip_left_right(tl.reshape(tl.range(4.), [1, 4, 1]))[0, :, 0].numpy()
      array([3., 2., 1., 0.], dtype=float32)
    """
    x = _image("flip_left_right", image)
    return _sh.reverse(x, [x.ndim - 2])


def flip_up_down(image):
    """Flips an image (or each image of a batch) vertically."""
    x = _image("flip_up_down", image)
    return _sh.reverse(x, [x.ndim - 3])


def _random_flip(x, axis_from_end, seed):
    # One coin per image needs the batch size, and the coins must be drawn each time the op runs: on
    # Functional-API images this runs as a composite, drawn when the model runs on data.
    flipped = _sh.reverse(x, [x.ndim - axis_from_end])
    with _on_device_of(x):
        if x.ndim == 3:
            coin = _ew.less(_rnd.uniform([], seed=seed), 0.5)
            return _ew.where(coin, flipped, x)
        coin = _ew.less(_rnd.uniform([x.shape[0], 1, 1, 1], seed=seed), 0.5)
        return _ew.where(_sh.broadcast_to(coin, x.shape), flipped, x)


_random_flip_left_right = composite("random_flip_left_right", _same_spec)(_random_flip)
_random_flip_up_down = composite("random_flip_up_down", _same_spec)(_random_flip)


def random_flip_left_right(image, seed=None):
    """Flips an image horizontally with probability 1/2 (each image of a batch independently).

    Example:
      >>> ds = ds.map(lambda x, y: (tl.image.random_flip_left_right(x), y))
    """
    x = _image("random_flip_left_right", image)
    return _random_flip_left_right(x, axis_from_end=2, seed=_rnd.op_seed(seed))


def random_flip_up_down(image, seed=None):
    """Flips an image vertically with probability 1/2 (each image of a batch independently)."""
    x = _image("random_flip_up_down", image)
    return _random_flip_up_down(x, axis_from_end=3, seed=_rnd.op_seed(seed))


# ----------------------------------------------------------------- crops
def random_crop(value, size, seed=None, name=None):
    """A random ``size``-shaped slice of ``value`` (one offset per dimension, uniform).

    Args:
      value: a tensor of any rank.
      size: the crop shape, one entry per dimension of ``value`` (each <= its dim).

    Example:
      >>> tl.image.random_crop(tl.zeros([32, 32, 3]), [24, 24, 3]).shape
      TensorShape([24, 24, 3])
    """
    x = t(value)
    size = tuple(int(s) for s in (size.numpy().tolist() if hasattr(size, "numpy") else size))
    _check_crop_size(tuple(x.shape), size)
    return _random_crop(x, size=size, seed=_rnd.op_seed(seed))


def _check_crop_size(shape, size):
    if len(size) != len(shape):
        raise InvalidArgumentError(f"random_crop: size {list(size)} must have one entry per dimension of value "
                                   f"(shape {fmt(shape)})")
    for i, (s, n) in enumerate(zip(size, shape)):
        if s < 0 or (n is not None and s > n):
            raise InvalidArgumentError(f"random_crop: Need value.shape >= size, got shape {fmt(shape)} and size "
                                       f"{list(size)} (dimension {i})")


@composite("random_crop", lambda x, size, seed: TensorSpec(size, x.dtype))
def _random_crop(x, size, seed):
    # The offsets are drawn on each run and read back to slice: on Functional-API tensors this runs as a
    # composite, so that a model crops at fresh offsets on every call (the sizes known only then are checked).
    shape = tuple(x.shape)
    _check_crop_size(shape, size)
    with _on_device_of(x):
        r = _rnd.uniform([len(size)], seed=seed).numpy().tolist()
    offsets = [min(int(u * (n - s + 1)), n - s) for u, n, s in zip(r, shape, size)]
    return _ix.slice(x, offsets, list(size))


def central_crop(image, central_fraction):
    """The central ``central_fraction`` (0 < f <= 1) of an image's height and width."""
    x = _image("central_crop", image)
    f = float(central_fraction)
    if not 0.0 < f <= 1.0:
        raise InvalidArgumentError(f"central_crop: central_fraction must be in (0, 1], got {f}")
    h, w = x.shape[-3], x.shape[-2]
    if h is None or w is None:
        raise InvalidArgumentError(f"central_crop: height and width must be known, got shape {fmt(x.shape)}")
    top, left = int((h - h * f) / 2), int((w - w * f) / 2)
    begin = [0] * (x.ndim - 3) + [top, left, 0]
    size = [-1] * (x.ndim - 3) + [h - 2 * top, w - 2 * left, -1]
    return _ix.slice(x, begin, size)


# ----------------------------------------------------------------- resize
class ResizeMethod:
    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


def _source_coords(in_size, out_size):
    """``(i + 0.5) * in/out`` in float32, as TF's half-pixel-centers scaler computes it."""
    scale = _ew.truediv(_cr.constant(float(in_size), dt.float32), _cr.constant(float(out_size), dt.float32))
    return _ew.multiply(_ew.add(_cr.range(out_size, dtype=dt.float32), 0.5), scale)


def _nearest_axis(x, axis, in_size, out_size):
    idx = _ew.minimum(_ew.floor(_source_coords(in_size, out_size)), float(in_size - 1))
    return _ix.gather(x, _ew.cast(idx, dt.int32), axis=axis)


def _bilinear_axis(x, axis, in_size, out_size):
    src = _ew.subtract(_source_coords(in_size, out_size), 0.5)
    f = _ew.floor(src)
    lo = _ew.cast(_ew.maximum(f, 0.0), dt.int32)
    hi = _ew.cast(_ew.minimum(_ew.ceil(src), float(in_size - 1)), dt.int32)
    lerp = _ew.cast(_ew.subtract(src, f), x.dtype)
    shape = [1] * x.ndim
    shape[axis] = out_size
    lerp = _sh.reshape(lerp, shape)
    a, b = _ix.gather(x, lo, axis=axis), _ix.gather(x, hi, axis=axis)
    return _ew.add(a, _ew.multiply(_ew.subtract(b, a), lerp))


def resize(images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False, antialias=False, name=None):
    """Resizes images to ``size = [new_height, new_width]`` (TF2's ``tf.image.resize``, half-pixel centers).

    Args:
      images: ``[h, w, c]`` or ``[batch, h, w, c]``.
      size: the output height and width.
      method: ``"bilinear"`` or ``"nearest"``.
      preserve_aspect_ratio: fit within ``size`` keeping the aspect ratio.
      antialias: not supported (raises ``UnimplementedError`` when True).

    Returns:
      Bilinear: a float tensor (float inputs keep their dtype, others become
      float32; TF always returns float32). Nearest: the input's dtype.

    Example:
      >>> tl.image.resize(tl.ones([2, 32, 32, 3]), [64, 48]).shape
      TensorShape([2, 64, 48, 3])
    """
    x = _image("resize", images)
    m = str(method).lower()
    if m in ("nearest_neighbor",):
        m = "nearest"
    if m not in ("bilinear", "nearest"):
        raise UnimplementedError(f"resize: method {method!r} is not implemented; valid: 'bilinear', 'nearest'")
    if antialias:
        raise UnimplementedError("resize: antialias=True is not implemented; resize without it")
    size = [int(s) for s in (size.numpy().tolist() if hasattr(size, "numpy") else size)]
    if len(size) != 2 or min(size) <= 0:
        raise InvalidArgumentError(f"resize: size must be [new_height, new_width] with positive entries, got {size}")
    h_ax, w_ax = x.ndim - 3, x.ndim - 2
    in_h, in_w = x.shape[h_ax], x.shape[w_ax]
    if in_h is None or in_w is None:
        raise InvalidArgumentError(f"resize: the input height and width must be known, got shape {fmt(x.shape)}")
    out_h, out_w = size
    if preserve_aspect_ratio:
        s = min(out_h / in_h, out_w / in_w)
        out_h, out_w = max(1, int(round(in_h * s))), max(1, int(round(in_w * s)))
    with _on_device_of(x):  # the sample coordinates are made on the image's device
        if m == "nearest":
            y = _nearest_axis(x, h_ax, in_h, out_h) if out_h != in_h else x
            return _nearest_axis(y, w_ax, in_w, out_w) if out_w != in_w else y
        if x.dtype not in FLOATS:
            x = _ew.cast(x, dt.float32)
        y = _bilinear_axis(x, h_ax, in_h, out_h) if out_h != in_h else x
        return _bilinear_axis(y, w_ax, in_w, out_w) if out_w != in_w else y


# ----------------------------------------------------------------- projective transforms
_FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def _fill_index(idx, n, fill_mode):
    """Maps float pixel indices outside ``[0, n)`` into range; returns (int32 index, in-range mask or None)."""
    inside = None
    if fill_mode == "reflect":  # d c b a | a b c d | d c b a
        m = _ew.floormod(idx, float(2 * n))
        idx = _ew.where(_ew.greater_equal(m, float(n)), _ew.subtract(float(2 * n - 1), m), m)
    elif fill_mode == "wrap":  # a b c d | a b c d | a b c d
        idx = _ew.floormod(idx, float(n))
    elif fill_mode == "constant":
        inside = _ew.logical_and(_ew.greater_equal(idx, 0.0), _ew.less_equal(idx, float(n - 1)))
    # The clip is exact for "nearest" and "constant"; for the others it only guards float rounding of floormod.
    return _ew.cast(_ew.clip_by_value(idx, 0.0, float(n - 1)), dt.int32), inside


def _sample_transformed(x, m, interp, mode, fill_value, out_h, out_w):
    """``transform``'s sampling of a batch ``x`` [n, h, w, c] with transforms ``m`` [n or 1, 8]."""
    n, h, w, c = x.shape
    if m.shape[0] != n:
        m = _sh.broadcast_to(m, [n, 8])
    xs = _sh.reshape(_cr.range(out_w, dtype=x.dtype), [1, 1, out_w])
    ys = _sh.reshape(_cr.range(out_h, dtype=x.dtype), [1, out_h, 1])

    def coef(i):
        return _sh.reshape(_ix.gather(m, i, axis=1), [n, 1, 1])

    k = _ew.add(_ew.add(_ew.multiply(coef(6), xs), _ew.multiply(coef(7), ys)), 1.0)
    degenerate = _ew.equal(k, 0.0)
    k = _ew.where(degenerate, _ew.add(k, 1.0), k)
    src_x = _ew.truediv(_ew.add(_ew.add(_ew.multiply(coef(0), xs), _ew.multiply(coef(1), ys)), coef(2)), k)
    src_y = _ew.truediv(_ew.add(_ew.add(_ew.multiply(coef(3), xs), _ew.multiply(coef(4), ys)), coef(5)), k)
    # A point projected to infinity (k near 0) reads as outside the image: fill_value in "constant" mode.
    src_x = _ew.where(_ew.is_finite(src_x), src_x, -2.0)
    src_y = _ew.where(_ew.is_finite(src_y), src_y, -2.0)
    flat = _sh.reshape(x, [n * h * w, c])
    base = _sh.reshape(_ew.multiply(_cr.range(n, dtype=dt.int32), h * w), [n, 1, 1])
    fill = _cr.constant(float(fill_value), x.dtype)

    def sample(iy, ix):
        """Pixels at float indices (iy, ix) [n, out_h, out_w] with the fill mode applied: [n, out_h, out_w, c]."""
        yi, y_in = _fill_index(iy, h, mode)
        xi, x_in = _fill_index(ix, w, mode)
        v = _ix.gather(flat, _ew.add(base, _ew.add(_ew.multiply(yi, w), xi)))
        if y_in is not None:
            inside = _sh.expand_dims(_ew.logical_and(y_in, x_in), -1)
            v = _ew.where(_sh.broadcast_to(inside, v.shape), v, fill)
        return v

    if interp == "nearest":
        out = sample(_ew.floor(_ew.add(src_y, 0.5)), _ew.floor(_ew.add(src_x, 0.5)))
    else:
        y0, x0 = _ew.floor(src_y), _ew.floor(src_x)
        wy = _sh.expand_dims(_ew.subtract(src_y, y0), -1)
        wx = _sh.expand_dims(_ew.subtract(src_x, x0), -1)
        y1, x1 = _ew.add(y0, 1.0), _ew.add(x0, 1.0)
        v00, v01, v10, v11 = sample(y0, x0), sample(y0, x1), sample(y1, x0), sample(y1, x1)
        top = _ew.add(v00, _ew.multiply(wx, _ew.subtract(v01, v00)))
        bottom = _ew.add(v10, _ew.multiply(wx, _ew.subtract(v11, v10)))
        out = _ew.add(top, _ew.multiply(wy, _ew.subtract(bottom, top)))
    # A point mapped to infinity (k == 0) is fill_value in every mode, as in TF.
    out = _ew.where(_sh.broadcast_to(_sh.expand_dims(degenerate, -1), out.shape), fill, out)
    return out


def transform(images, transforms, interpolation="bilinear", fill_mode="constant", fill_value=0.0,
              output_shape=None, name=None):
    """Applies projective transforms to images (the convention of TF's ``ImageProjectiveTransformV3``).

    A transform ``[a0, a1, a2, b0, b1, b2, c0, c1]`` maps each output pixel
    ``(x, y)`` (column, row) to the input point
    ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with ``k = c0 x + c1 y + 1``,
    which is sampled from the input: it is the inverse of the transform applied
    to the image. Pixel ``(x, y)`` has its center at integer coordinates.

    Sampling (a gather of the neighbouring pixels, blended with bilinear
    weights) differentiates with respect to the images and the transforms.
    Points outside the image follow ``fill_mode``:

    * ``"constant"``: pixels outside are ``fill_value`` (and blend with the
      pixels inside near the border);
    * ``"nearest"``: the nearest edge pixel (``a a a | a b c d | d d d``);
    * ``"reflect"``: mirrored about the edge (``d c b a | a b c d | d c b a``);
    * ``"wrap"``: tiled (``a b c d | a b c d | a b c d``); between the last and
      the first pixel the interpolation wraps around (where TF's kernel
      clamps to the last pixel).

    Args:
      images: ``[batch, height, width, channels]`` or ``[height, width, channels]``.
      transforms: ``[8]`` (one for all images) or ``[batch, 8]``, a list or tensor.
      interpolation: ``"bilinear"`` or ``"nearest"`` (the pixel at
        ``floor(coordinate + 0.5)``).
      fill_mode: ``"constant"`` (default), ``"nearest"``, ``"reflect"`` or ``"wrap"``.
      fill_value: the value outside the image for ``"constant"``.
      output_shape: ``[out_height, out_width]`` (default: the input's).

    Returns:
      The transformed images, ``[batch, out_height, out_width, channels]`` (or
      unbatched). Float images keep their dtype; other dtypes become float32.

    Example:
      >>> shift_right = [1, 0, -1, 0, 1, 0, 0, 0]   # output (x, y) samples input (x - 1, y)
      >>> tl.image.transform(tl.reshape(tl.range(1., 4.), [1, 3, 1]), shift_right)[0, :, 0].numpy()
      array([0., 1., 2.], dtype=float32)
    """
    x = _image("transform", images)
    interp = str(interpolation).lower()
    mode = str(fill_mode).lower()
    if interp not in ("bilinear", "nearest"):
        raise InvalidArgumentError(f"transform: interpolation must be 'bilinear' or 'nearest', got "
                                   f"{interpolation!r}")
    if mode not in _FILL_MODES:
        raise InvalidArgumentError(f"transform: fill_mode must be one of {_FILL_MODES}, got {fill_mode!r}")
    if x.dtype not in FLOATS:
        x = _ew.cast(x, dt.float32)
    unbatched = x.ndim == 3
    if unbatched:
        x = _sh.expand_dims(x, 0)
    _, h, w, c = x.shape
    if h is None or w is None:
        raise InvalidArgumentError(f"transform: the input height and width must be known, got shape {fmt(x.shape)}")
    out_h, out_w = (h, w) if output_shape is None else \
        [int(s) for s in (output_shape.numpy().tolist() if hasattr(output_shape, "numpy") else output_shape)]
    if out_h <= 0 or out_w <= 0:
        raise InvalidArgumentError(f"transform: output_shape must be two positive sizes, got {output_shape}")
    # Python lists/arrays convert in the images' float dtype, so float64 images get exact float64 transforms.
    if isinstance(transforms, (Tensor, Variable, SymbolicTensor)):
        m = transforms
    else:
        with _on_device_of(x):
            m = _cr.constant(transforms, x.dtype)
    m = _ew.cast(t(m), x.dtype)
    given = m.shape
    if m.ndim == 1:
        m = _sh.expand_dims(m, 0)
    if m.ndim != 2 or m.shape[1] != 8 or (x.shape[0] is not None and m.shape[0] not in (1, x.shape[0])):
        raise InvalidArgumentError(f"transform: transforms must have shape [8] or [batch, 8] (batch = "
                                   f"{x.shape[0]}), got shape {fmt(given)}")
    return _transform(x, m, interp=interp, mode=mode, fill_value=float(fill_value), out_size=(out_h, out_w),
                      unbatched=unbatched)


def _transform_rule(x, m, interp, mode, fill_value, out_size, unbatched):
    return TensorSpec(((() if unbatched else (x.shape[0],)) + tuple(out_size) + (x.shape[3],)), x.dtype)


@composite("transform", _transform_rule)
def _transform(x, m, interp, mode, fill_value, out_size, unbatched):
    # The sampling grid needs the batch size: on Functional-API images this runs as one composite.
    with _on_device_of(x):
        out = _sample_transformed(x, m, interp, mode, fill_value, *out_size)
    return _sh.squeeze(out, [0]) if unbatched else out


# ----------------------------------------------------------------- intensities
def convert_image_dtype(image, dtype, saturate=False, name=None):
    """Converts between integer and float images, rescaling (uint8 [0, 255] <-> float [0, 1])."""
    x = t(image)
    d = dt.as_dtype(dtype)
    if x.dtype == d:
        return x
    if x.dtype.is_floating and d.is_floating:
        return _ew.cast(x, d)
    if x.dtype.is_integer and d.is_floating:
        return _ew.multiply(_ew.cast(x, d), 1.0 / float(x.dtype.max))
    if x.dtype.is_floating and d.is_integer:
        y = _ew.multiply(x, float(d.max) + 0.5)
        if saturate:
            y = _ew.clip_by_value(y, float(d.min), float(d.max))
        return _ew.cast(y, d)
    if x.dtype.is_integer and d.is_integer:  # rescale through float64, exact for 8/16/32-bit ranges
        y = _ew.multiply(_ew.cast(x, dt.float64), float(d.max) / float(x.dtype.max))
        return _ew.cast(_ew.floor(y), d)
    raise TypeError(f"convert_image_dtype: cannot convert {x.dtype.name} to {d.name}")


def adjust_brightness(image, delta):
    """Adds ``delta`` to every pixel (integer images go through float [0, 1] and back)."""
    x = t(image)
    if x.dtype in FLOATS:
        return _ew.add(x, _ew.cast(delta, x.dtype) if hasattr(delta, "dtype") else float(delta))
    f = convert_image_dtype(x, dt.float32)
    f = _ew.add(f, _ew.cast(delta, dt.float32) if hasattr(delta, "dtype") else float(delta))
    return convert_image_dtype(f, x.dtype, saturate=True)


def random_brightness(image, max_delta, seed=None):
    """Adds one random ``delta`` drawn from ``[-max_delta, max_delta)`` to the image (or batch).

    Example:
      >>> tl.image.random_brightness(tl.zeros([4, 4, 3]), 0.2)   # all pixels equal one delta
    """
    x = t(image)
    if max_delta < 0:
        raise ValueError(f"random_brightness: max_delta must be non-negative, got {max_delta}")
    return _random_brightness(x, max_delta=float(max_delta), seed=_rnd.op_seed(seed))


@composite("random_brightness", _same_spec)
def _random_brightness(x, max_delta, seed):
    # The delta is drawn each time the op runs (on Functional-API images: each time the model runs).
    with _on_device_of(x):
        delta = _rnd.uniform([], -max_delta, max_delta, seed=seed)
    return adjust_brightness(x, delta)


def per_image_standardization(image):
    """Scales each image to zero mean and unit variance: ``(x - mean) / max(stddev, 1/sqrt(N))``.

    ``N`` is the number of values in one image; integer images become float32.

    Example:
      >>> y = tl.image.per_image_standardization(tl.random.uniform([8, 8, 3]))
    """
    x = _image("per_image_standardization", image)
    if x.dtype not in FLOATS:
        x = _ew.cast(x, dt.float32)
    axes = [x.ndim - 3, x.ndim - 2, x.ndim - 1]
    dims = [x.shape[a] for a in axes]
    if None in dims:
        raise InvalidArgumentError(f"per_image_standardization: height, width and channels must be known, got "
                                   f"shape {fmt(x.shape)}")
    n = dims[0] * dims[1] * dims[2]
    mean = _red.reduce_mean(x, axis=axes, keepdims=True)
    std = _red.reduce_std(x, axis=axes, keepdims=True)
    adjusted = _ew.maximum(std, float(n) ** -0.5)
    return _ew.truediv(_ew.subtract(x, mean), adjusted)


# ----------------------------------------------------------------- colour channels
_GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)  # TF's (ITU-R BT.601 luma) weights


def rgb_to_grayscale(images, name=None):
    """Converts RGB images (last dimension 3) to grayscale (last dimension 1) with TF's luma weights.

    Integer images are converted through float ``[0, 1]`` and back, as in TF;
    float32/float64 images are weighted in their own dtype.

    Example:
      >>> tl.image.rgb_to_grayscale(tl.ones([4, 4, 3])).shape
      TensorShape([4, 4, 1])
    """
    x = t(images)
    if x.ndim < 1 or x.shape[-1] != 3:
        raise InvalidArgumentError(f"rgb_to_grayscale: the last dimension must be 3 (R, G, B), got shape "
                                   f"{fmt(x.shape)}")
    f = x if x.dtype in (dt.float32, dt.float64) else convert_image_dtype(x, dt.float32)
    with _on_device_of(f):
        weights = _cr.constant(_GRAY_WEIGHTS, f.dtype)
    gray = _red.reduce_sum(_ew.multiply(f, weights), axis=-1, keepdims=True)
    return convert_image_dtype(gray, x.dtype)


def grayscale_to_rgb(images, name=None):
    """Repeats the single channel of grayscale images (last dimension 1) three times.

    Example:
      >>> tl.image.grayscale_to_rgb(tl.ones([4, 4, 1])).shape
      TensorShape([4, 4, 3])
    """
    x = t(images)
    if x.ndim < 2 or x.shape[-1] != 1:
        raise InvalidArgumentError(f"grayscale_to_rgb: expected images of rank 2 or more whose last dimension is 1, "
                                   f"got shape {fmt(x.shape)}")
    return _sh.tile(x, [1] * (x.ndim - 1) + [3])


# ----------------------------------------------------------------- patches
def extract_patches(images, sizes, strides, rates, padding, name=None):
    """Extracts ``sizes``-shaped patches of ``images`` into the depth dimension (``tf.image.extract_patches``).

    Output pixel ``(i, j)`` holds the patch whose top-left input pixel is
    ``(i * stride_rows, j * stride_cols)`` (after padding), sampled every
    ``rate`` pixels and flattened in (row, column, channel) order. ``"SAME"``
    zero-pads as a convolution with the dilated patch size does.

    Args:
      images: ``[batch, height, width, depth]``, any dtype.
      sizes: ``[1, size_rows, size_cols, 1]``.
      strides: ``[1, stride_rows, stride_cols, 1]``.
      rates: ``[1, rate_rows, rate_cols, 1]`` (the patch's dilation).
      padding: ``"VALID"`` or ``"SAME"``.

    Returns:
      ``[batch, out_rows, out_cols, size_rows * size_cols * depth]``.

    Example:
      >>> x = tl.reshape(tl.range(16), [1, 4, 4, 1])
      >>> tl.image.extract_patches(x, [1, 2, 2, 1], [1, 2, 2, 1], [1, 1, 1, 1], "VALID")[0, 0, 0].numpy()
      array([0, 1, 4, 5], dtype=int32)
    """
    from tensorlab.ops.conv import compute_padding, norm_padding, norm_window
    op = "extract_patches"
    x = _image(op, images, ranks=(4,))
    ks, ss, rs = (norm_window(op, what, v, 2) for what, v in (("sizes", sizes), ("strides", strides),
                                                              ("rates", rates)))
    pad = norm_padding(op, padding, 2)
    if not isinstance(pad, str):
        raise InvalidArgumentError(f"{op}: padding must be 'SAME' or 'VALID', got {padding!r}")
    n, h, w, c = x.shape
    if None in (h, w, c):
        raise InvalidArgumentError(f"{op}: height, width and depth must be known, got shape {fmt(x.shape)}")
    (oh, top, bottom), (ow, left, right) = (compute_padding(op, d, k, s, r, pad)
                                            for d, k, s, r in zip((h, w), ks, ss, rs))
    if top or bottom or left or right:
        x = _sh.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]])
    with _on_device_of(x):  # input row of (output row i, patch row k): i * stride + k * rate
        rows = _ew.add(_sh.reshape(_cr.range(oh) * ss[0], [oh, 1]), _sh.reshape(_cr.range(ks[0]) * rs[0], [1, -1]))
        cols = _ew.add(_sh.reshape(_cr.range(ow) * ss[1], [ow, 1]), _sh.reshape(_cr.range(ks[1]) * rs[1], [1, -1]))
    p = _ix.gather(_ix.gather(x, rows, axis=1), cols, axis=3)  # [n, oh, kh, ow, kw, c]
    p = _sh.transpose(p, [0, 1, 3, 2, 4, 5])
    return _sh.reshape(p, [-1 if n is None else n, oh, ow, ks[0] * ks[1] * c])


__all__ = []
IMAGE = ["flip_left_right", "flip_up_down", "random_flip_left_right", "random_flip_up_down", "random_crop",
         "central_crop", "resize", "ResizeMethod", "transform", "convert_image_dtype", "adjust_brightness",
         "random_brightness", "per_image_standardization", "rgb_to_grayscale", "grayscale_to_rgb", "extract_patches"]
