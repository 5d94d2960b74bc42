"""Image ops (``tl.image``): flips, crops, resizing, brightness, standardization.

All are composites of other ops (gather, reverse, where, reductions), so they
run on every device, differentiate where the math does, and need no kernels.
Images are ``[height, width, channels]`` or batches ``[batch, height, width, channels]``.
"""
from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.tensor import SymbolicTensor
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


def _random_flip(name, image, axis_from_end, seed):
    x = _image(name, image)
    flipped = _sh.reverse(x, [x.ndim - axis_from_end])
    with _on_device_of(x):
        if x.ndim == 3:
            coin = _ew.less(_rnd.uniform([], seed=seed), 0.5)
            return _ew.where(coin, flipped, x)
        n = x.shape[0]
        if n is None:  # symbolic batch of unknown size: the result has the input's shape
            return x
        coin = _ew.less(_rnd.uniform([n, 1, 1, 1], seed=seed), 0.5)
        return _ew.where(_sh.broadcast_to(coin, x.shape), flipped, x)


def random_flip_left_right(image, seed=None):
    """Flips an image horizontally with probability 1/2 (each image of a batch independently).

    Example:
      >>> ds = ds.map(lambda x, y: (tl.image.random_flip_left_right(x), y))
    """
    return _random_flip("random_flip_left_right", image, 2, seed)


def random_flip_up_down(image, seed=None):
    """Flips an image vertically with probability 1/2 (each image of a batch independently)."""
    return _random_flip("random_flip_up_down", image, 3, seed)


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
    size = [int(s) for s in (size.numpy().tolist() if hasattr(size, "numpy") else size)]
    shape = tuple(x.shape)
    if len(size) != len(shape):
        raise InvalidArgumentError(f"random_crop: size {size} must have one entry per dimension of value "
                                   f"(shape {fmt(shape)})")
    for i, (s, n) in enumerate(zip(size, shape)):
        if s < 0 or (n is not None and s > n):
            raise InvalidArgumentError(f"random_crop: Need value.shape >= size, got shape {fmt(shape)} and size "
                                       f"{size} (dimension {i})")
    if isinstance(x, SymbolicTensor):
        return _ix.slice(x, [0] * len(size), size)
    with _on_device_of(x):
        r = _rnd.uniform([len(size)], seed=seed).numpy().tolist()
    offsets = [min(int(u * (n - s + 1)), n - s) for u, n, s in zip(r, shape, size)]
    return _ix.slice(x, offsets, size)


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
    if m == "nearest":
        y = _nearest_axis(x, h_ax, in_h, out_h) if out_h != in_h else x
        return _nearest_axis(y, w_ax, in_w, out_w) if out_w != in_w else y
    if x.dtype not in FLOATS:
        x = _ew.cast(x, dt.float32)
    y = _bilinear_axis(x, h_ax, in_h, out_h) if out_h != in_h else x
    return _bilinear_axis(y, w_ax, in_w, out_w) if out_w != in_w else y


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
    with _on_device_of(x):
        delta = _rnd.uniform([], -float(max_delta), float(max_delta), seed=seed)
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


__all__ = []
IMAGE = ["flip_left_right", "flip_up_down", "random_flip_left_right", "random_flip_up_down", "random_crop",
         "central_crop", "resize", "ResizeMethod", "convert_image_dtype", "adjust_brightness", "random_brightness",
         "per_image_standardization"]
