"""Colour ops (``tl.image``): colour spaces (HSV, YUV, YIQ), contrast, gamma, hue and saturation
adjustments with their random and stateless-random variants, and edge/gradient maps.

All are composites that follow TF's kernels step for step, so they run on
every device and differentiate where the math does. As in TF, ``adjust_*``
convert integer images to float ``[0, 1]`` (``convert_image_dtype``) and the
result back to the input's dtype; float32 and float64 images keep their dtype
(TF computes float64 in float32), float16/bfloat16 ones are computed in float32.
The colour-space conversions need float images, as TF's do.
"""
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import creation as _cr
from tensorlab.ops import elementwise as _ew
from tensorlab.ops import random_ops as _rnd
from tensorlab.ops import reduction as _red
from tensorlab.ops import shape as _sh
from tensorlab.ops._rules import FLOATS, fmt, t
from tensorlab.ops.image import _on_device_of, adjust_brightness, convert_image_dtype

# TF's colour-space matrices (rows: input channel, columns: output channel).
_RGB_TO_YIQ = ((0.299, 0.59590059, 0.2115), (0.587, -0.27455667, -0.52273617), (0.114, -0.32134392, 0.31119955))
_YIQ_TO_RGB = ((1, 1, 1), (0.95598634, -0.27201283, -1.10674021), (0.6208248, -0.64720424, 1.70423049))
_RGB_TO_YUV = ((0.299, -0.14714119, 0.61497538), (0.587, -0.28886916, -0.51496512), (0.114, 0.43601035, -0.10001026))
_YUV_TO_RGB = ((1, 1, 1), (0, -0.394642334, 2.03206185), (1.13988303, -0.58062185, 0))
_SOBEL = (((-1, -2, -1), (0, 0, 0), (1, 2, 1)), ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)))  # d/dy, d/dx


# ----------------------------------------------------------------- argument checks
def _three_channels(op, images, channels="R, G, B", min_rank=1):
    x = t(images)
    if x.ndim < min_rank or x.ndim == 0 or (x.shape[-1] is not None and x.shape[-1] != 3):
        rank = f"of rank {min_rank} or more " if min_rank > 1 else ""
        raise InvalidArgumentError(f"{op}: expected images {rank}whose last dimension is 3 ({channels}), got shape "
                                   f"{fmt(x.shape)}")
    return x


def _float_images(op, x):
    if x.dtype not in FLOATS:
        raise TypeError(f"{op}: images must be float16, bfloat16, float32 or float64, got {x.dtype.name}; convert "
                        f"integer images first, e.g. tl.image.convert_image_dtype(images, tl.float32)")
    return x


def _at_least_3d(op, images):
    x = t(images)
    if x.ndim < 3:
        raise InvalidArgumentError(f"{op}: expected images of rank 3 or more ([..., height, width, channels]), got "
                                   f"shape {fmt(x.shape)}")
    return x


def _working(x):
    """The image in the dtype the adjustment runs in: float32/float64 as is, others as float32 (TF's rule)."""
    return x if x.dtype in (dt.float32, dt.float64) else convert_image_dtype(x, dt.float32)


def _scalar(op, name, value, like):
    """A Python number as a float, or a scalar tensor cast to ``like``'s dtype."""
    if isinstance(value, (Tensor, Variable, SymbolicTensor)):
        if value.ndim != 0:
            raise InvalidArgumentError(f"{op}: {name} must be a scalar, got shape {fmt(value.shape)}")
        return _ew.cast(value, like.dtype)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be a number or a scalar tensor, got {value!r}") from None


def _eager_value(value):
    """A number to check ranges on: Python numbers and eager scalar tensors (None for symbolic ones)."""
    if isinstance(value, SymbolicTensor):
        return None
    if isinstance(value, (Tensor, Variable)):
        return float(value.numpy())
    return float(value)


# ----------------------------------------------------------------- colour spaces
def _mix_channels(x, kernel):
    """``x[..., 3] @ kernel[3, 3]`` (TF's tensordot over the channel axis)."""
    with _on_device_of(x):
        k = _cr.constant(kernel, x.dtype)
    return _red.reduce_sum(_ew.multiply(_sh.expand_dims(x, -1), k), axis=-2)


def _linear_space(op, images, kernel, channels):
    return _mix_channels(_float_images(op, _three_channels(op, images, channels)), kernel)


def rgb_to_yiq(images):
    """Converts RGB images (last dimension 3, values in [0, 1]) to YIQ with TF's matrix.

    Example:
      >>> tl.image.rgb_to_yiq(tl.ones([2, 2, 3]))[0, 0].numpy()   # white: Y = 1, I = 0, Q = 0 to 4 digits
      array([ 1.0000000e+00,  0.0000000e+00, -3.6656857e-05], dtype=float32)
    """
    return _linear_space("rgb_to_yiq", images, _RGB_TO_YIQ, "R, G, B")


def yiq_to_rgb(images):
    """Converts YIQ images (last dimension 3) back to RGB (the inverse of ``rgb_to_yiq``)."""
    return _linear_space("yiq_to_rgb", images, _YIQ_TO_RGB, "Y, I, Q")


def rgb_to_yuv(images):
    """Converts RGB images (last dimension 3, values in [0, 1]) to YUV with TF's matrix.

    Example:
      >>> tl.image.rgb_to_yuv(tl.random.uniform([8, 8, 3])).shape
      TensorShape([8, 8, 3])
    """
    return _linear_space("rgb_to_yuv", images, _RGB_TO_YUV, "R, G, B")


def yuv_to_rgb(images):
    """Converts YUV images (last dimension 3) back to RGB (the inverse of ``rgb_to_yuv``)."""
    return _linear_space("yuv_to_rgb", images, _YUV_TO_RGB, "Y, U, V")


def _hsv_parts(x):
    """TF's RGBToHSV on the last axis: (hue in [0, 1), max = value, min), each ``x.shape[:-1]``."""
    r, g, b = _sh.unstack(x, num=3, axis=-1)
    v = _ew.maximum(_ew.maximum(r, g), b)
    low = _ew.minimum(_ew.minimum(r, g), b)
    span = _ew.subtract(v, low)
    chroma = _ew.greater(span, 0.0)
    # where() passes gradients into both branches: a safe divisor keeps the unused one finite.
    six_span = _ew.multiply(_ew.where(chroma, span, 1.0), 6.0)
    h = _ew.where(_ew.equal(r, v), _ew.truediv(_ew.subtract(g, b), six_span),
                  _ew.where(_ew.equal(g, v), _ew.add(_ew.truediv(_ew.subtract(b, r), six_span), 2.0 / 6.0),
                            _ew.add(_ew.truediv(_ew.subtract(r, g), six_span), 4.0 / 6.0)))
    h = _ew.where(chroma, h, 0.0)
    h = _ew.where(_ew.less(h, 0.0), _ew.add(h, 1.0), h)
    return h, v, low


def _hue_weights(h):
    """Each channel's position between min (0) and max (1) at hue ``h``: TF's HSVToRGB ramps, stacked last."""
    dh = _ew.multiply(h, 6.0)
    dr = _ew.clip_by_value(_ew.subtract(_ew.abs(_ew.subtract(dh, 3.0)), 1.0), 0.0, 1.0)
    dg = _ew.clip_by_value(_ew.subtract(2.0, _ew.abs(_ew.subtract(dh, 2.0))), 0.0, 1.0)
    db = _ew.clip_by_value(_ew.subtract(2.0, _ew.abs(_ew.subtract(dh, 4.0))), 0.0, 1.0)
    return _sh.stack([dr, dg, db], axis=-1)


def rgb_to_hsv(images, name=None):
    """Converts RGB images (last dimension 3, values in [0, 1]) to HSV, as ``tf.image.rgb_to_hsv``.

    Hue, saturation and value are in [0, 1]: hue 0 is red, 1/3 green, 2/3 blue;
    grey pixels get hue 0 and black ones saturation 0.

    Args:
      images: float images ``[..., 3]``.

    Returns:
      ``[..., 3]`` (hue, saturation, value) in the images' dtype.

    Example:
      >>> tl.image.rgb_to_hsv(tl.constant([[[0.0, 0.5, 0.5]]])).numpy()   # cyan
      array([[[0.5, 1. , 0.5]]], dtype=float32)
    """
    x = _float_images("rgb_to_hsv", _three_channels("rgb_to_hsv", images))
    h, v, low = _hsv_parts(x)
    lit = _ew.greater(v, 0.0)
    s = _ew.where(lit, _ew.truediv(_ew.subtract(v, low), _ew.where(lit, v, 1.0)), 0.0)
    return _sh.stack([h, s, v], axis=-1)


def hsv_to_rgb(images, name=None):
    """Converts HSV images (last dimension 3, values in [0, 1]) to RGB, as ``tf.image.hsv_to_rgb``.

    Example:
      >>> tl.image.hsv_to_rgb(tl.constant([[[0.5, 1.0, 0.5]]])).numpy()
      array([[[0. , 0.5, 0.5]]], dtype=float32)
    """
    x = _float_images("hsv_to_rgb", _three_channels("hsv_to_rgb", images, "H, S, V"))
    h, s, v = (_sh.expand_dims(c, -1) for c in _sh.unstack(x, num=3, axis=-1))
    ramps = _hue_weights(_sh.squeeze(h, [-1]))
    return _ew.multiply(_ew.add(_ew.subtract(1.0, s), _ew.multiply(s, ramps)), v)


# ----------------------------------------------------------------- adjustments
def _adjust_contrast(op, images, contrast_factor):
    x = _at_least_3d(op, images)
    f = _working(x)
    c = _scalar(op, "contrast_factor", contrast_factor, f)
    mean = _red.reduce_mean(f, axis=[-3, -2], keepdims=True)
    y = _ew.add(_ew.multiply(_ew.subtract(f, mean), c), mean)
    return convert_image_dtype(y, x.dtype, saturate=True)


def adjust_contrast(images, contrast_factor):
    """Scales each channel's deviation from its mean: ``(x - mean) * contrast_factor + mean``.

    The mean is over each image's height and width, per channel. Integer
    images go through float [0, 1] and are saturated back.

    Args:
      images: ``[..., height, width, channels]`` (rank 3 or more).
      contrast_factor: a number or scalar tensor.

    Example:
      >>> tl.image.adjust_contrast(tl.constant([[[1.0], [3.0]]]), 2.0)[..., 0].numpy()
      array([[0., 4.]], dtype=float32)
    """
    return _adjust_contrast("adjust_contrast", images, contrast_factor)


def adjust_gamma(image, gamma=1, gain=1):
    """Gamma correction: ``gain * image ** gamma`` (integer images through float [0, 1], saturated back).

    Args:
      image: an image (or any tensor).
      gamma: a non-negative number or scalar tensor.
      gain: a number or scalar tensor.

    Raises:
      ValueError: a negative ``gamma``.

    Example:
      >>> tl.image.adjust_gamma(tl.constant([0.25, 1.0]), gamma=0.5).numpy()
      array([0.5, 1. ], dtype=float32)
    """
    x = t(image)
    f = _working(x)
    g = _scalar("adjust_gamma", "gamma", gamma, f)
    value = _eager_value(g)
    if value is not None and not value >= 0:
        raise ValueError(f"adjust_gamma: gamma should be a non-negative real number, got {value}")
    y = _ew.multiply(_ew.pow(f, g), _scalar("adjust_gamma", "gain", gain, f))
    return convert_image_dtype(y, x.dtype, saturate=True)


def _adjust_hue(op, image, delta):
    x = _three_channels(op, image, min_rank=3)
    f = _working(x)
    h, v, low = _hsv_parts(f)
    h = _ew.floormod(_ew.add(h, _scalar(op, "delta", delta, f)), 1.0)
    # Min and max stay; the middle channel moves along the hue ramp (TF's AdjustHue kernel).
    low = _sh.expand_dims(low, -1)
    y = _ew.add(low, _ew.multiply(_ew.subtract(_sh.expand_dims(v, -1), low), _hue_weights(h)))
    return convert_image_dtype(y, x.dtype)


def adjust_hue(image, delta, name=None):
    """Rotates the hue of RGB images by ``delta`` (a fraction of the colour circle), as ``tf.image.adjust_hue``.

    Saturation and value are kept; hue wraps around. Integer images go
    through float [0, 1] and back.

    Args:
      image: RGB images ``[..., height, width, 3]`` (rank 3 or more).
      delta: a number or scalar tensor, usually in [-1, 1].

    Example:
      >>> tl.image.adjust_hue(tl.constant([[[1.0, 2.0, 3.0]]]), 0.2).numpy()
      array([[[2.4000006, 1.       , 3.       ]]], dtype=float32)
    """
    return _adjust_hue("adjust_hue", image, delta)


def _adjust_saturation(op, image, saturation_factor):
    x = _three_channels(op, image, min_rank=3)
    f = _working(x)
    k = _scalar(op, "saturation_factor", saturation_factor, f)
    k = max(k, 0.0) if isinstance(k, float) else _ew.maximum(k, 0.0)
    r, g, b = _sh.unstack(f, num=3, axis=-1)
    v = _ew.maximum(_ew.maximum(r, g), b)
    span = _ew.subtract(v, _ew.minimum(_ew.minimum(r, g), b))
    ok = _ew.logical_and(_ew.greater(v, 0.0), _ew.greater(span, 0.0))
    # TF clips s * factor to [0, 1] and rebuilds from HSV; per channel that is
    # v - (v - x) * min(factor, v / span), with no hue and no division by v.
    limit = _ew.truediv(v, _ew.where(ok, span, 1.0))
    scale = _ew.where(ok, _ew.minimum(limit, k), 0.0)
    v, scale = _sh.expand_dims(v, -1), _sh.expand_dims(scale, -1)
    y = _ew.subtract(v, _ew.multiply(_ew.subtract(v, f), scale))
    return convert_image_dtype(y, x.dtype)


def adjust_saturation(image, saturation_factor, name=None):
    """Multiplies the HSV saturation of RGB images by ``saturation_factor`` (clipped to [0, 1]).

    As ``tf.image.adjust_saturation``: 0 gives grey images, 1 the image
    itself; hue and value are kept. Integer images go through float [0, 1] and back.

    Args:
      image: RGB images ``[..., height, width, 3]`` (rank 3 or more).
      saturation_factor: a number or scalar tensor (negative acts as 0).

    Example:
      >>> tl.image.adjust_saturation(tl.constant([[[1.0, 2.0, 3.0]]]), 0.5).numpy()
      array([[[2. , 2.5, 3. ]]], dtype=float32)
    """
    return _adjust_saturation("adjust_saturation", image, saturation_factor)


# ----------------------------------------------------------------- random adjustments
def _check_bounds(op, lower, upper):
    if not upper > lower:
        raise ValueError(f"{op}: upper must be > lower, got lower={lower} and upper={upper}")
    if lower < 0:
        raise ValueError(f"{op}: lower must be non-negative, got lower={lower}")


def _check_hue_delta(op, max_delta):
    if max_delta > 0.5:
        raise ValueError(f"{op}: max_delta must be <= 0.5, got max_delta={max_delta}")
    if max_delta < 0:
        raise ValueError(f"{op}: max_delta must be non-negative, got max_delta={max_delta}")


def _draw(x, low, high, seed, stateless):
    """One uniform float32 draw in [low, high) on the image's device (stateless: determined by ``seed``)."""
    with _on_device_of(x):
        if stateless:
            return _rnd.stateless_uniform([], seed=seed, minval=float(low), maxval=float(high))
        return _rnd.uniform([], float(low), float(high), seed=seed)


def _random_adjustment(name, adjust):
    """The composite ``(x, *seed_input, low, high, seed, stateless) -> adjust(x, one uniform draw in [low, high))``.

    The factor is drawn each time the op runs, so that on Functional-API images a model draws a new one on
    every call (stateless: the one its seed determines) instead of keeping the one drawn when it was built.
    """
    def rule(x, *seed_specs, low, high, seed, stateless):
        _rnd.stateless_seed_spec(name, *seed_specs)
        return TensorSpec(x.shape, x.dtype)

    def run(x, *seed_input, low, high, seed, stateless):
        if stateless:
            seed = _rnd.stateless_seed_of(seed_input, seed)
        return adjust(name, x, _draw(x, low, high, seed, stateless))
    return composite(name, rule)(run)


def _brightness(name, x, delta):
    return adjust_brightness(x, delta)


_RANDOM = {name: _random_adjustment(name, adjust) for name, adjust in (
    ("random_contrast", _adjust_contrast), ("random_hue", _adjust_hue), ("random_saturation", _adjust_saturation),
    ("stateless_random_brightness", _brightness), ("stateless_random_contrast", _adjust_contrast),
    ("stateless_random_hue", _adjust_hue), ("stateless_random_saturation", _adjust_saturation))}


def _random(name, check, image, low, high, seed, stateless):
    x = check(name, image)
    if stateless:
        inputs, seed = _rnd.stateless_seed_inputs(name, seed)
    else:
        inputs, seed = (), _rnd.op_seed(seed)
    return _RANDOM[name](x, *inputs, low=float(low), high=float(high), seed=seed, stateless=stateless)


def _hue_images(op, image):
    return _three_channels(op, image, min_rank=3)


def random_contrast(image, lower, upper, seed=None):
    """``adjust_contrast`` with a factor drawn uniformly from ``[lower, upper)`` (one draw for the whole input).

    Raises:
      ValueError: ``upper <= lower`` or ``lower < 0``.

    Example:
      >>> tl.image.random_contrast(images, 0.2, 0.5, seed=1)
    """
    _check_bounds("random_contrast", lower, upper)
    return _random("random_contrast", _at_least_3d, image, lower, upper, seed, False)


def random_hue(image, max_delta, seed=None):
    """``adjust_hue`` with a delta drawn uniformly from ``[-max_delta, max_delta)``.

    Raises:
      ValueError: ``max_delta`` outside [0, 0.5].

    Example:
      >>> tl.image.random_hue(images, 0.2)
    """
    _check_hue_delta("random_hue", max_delta)
    return _random("random_hue", _hue_images, image, -max_delta, max_delta, seed, False)


def random_saturation(image, lower, upper, seed=None):
    """``adjust_saturation`` with a factor drawn uniformly from ``[lower, upper)``.

    Raises:
      ValueError: ``upper <= lower`` or ``lower < 0``.

    Example:
      >>> tl.image.random_saturation(images, 0.5, 1.5)
    """
    _check_bounds("random_saturation", lower, upper)
    return _random("random_saturation", _hue_images, image, lower, upper, seed, False)


def stateless_random_brightness(image, max_delta, seed):
    """``adjust_brightness`` with a delta from ``[-max_delta, max_delta)`` determined by ``seed`` alone.

    Args:
      seed: a shape-[2] int32/int64 tensor or a pair of integers (see
        ``tl.random.stateless_uniform``; the numbers differ from TF's).

    Example:
      >>> a = tl.image.stateless_random_brightness(images, 0.2, seed=(1, 2))   # the same on every call
    """
    if max_delta < 0:
        raise ValueError(f"stateless_random_brightness: max_delta must be non-negative, got max_delta={max_delta}")
    return _random("stateless_random_brightness", lambda op, image: t(image), image, -max_delta, max_delta, seed,
                   True)


def stateless_random_contrast(image, lower, upper, seed):
    """``random_contrast`` determined by ``seed`` (a shape-[2] integer tensor or pair) alone."""
    _check_bounds("stateless_random_contrast", lower, upper)
    return _random("stateless_random_contrast", _at_least_3d, image, lower, upper, seed, True)


def stateless_random_hue(image, max_delta, seed):
    """``random_hue`` determined by ``seed`` (a shape-[2] integer tensor or pair) alone."""
    _check_hue_delta("stateless_random_hue", max_delta)
    return _random("stateless_random_hue", _hue_images, image, -max_delta, max_delta, seed, True)


def stateless_random_saturation(image, lower, upper, seed=None):
    """``random_saturation`` determined by ``seed`` (a shape-[2] integer tensor or pair) alone."""
    _check_bounds("stateless_random_saturation", lower, upper)
    return _random("stateless_random_saturation", _hue_images, image, lower, upper, seed, True)


# ----------------------------------------------------------------- edges and gradients
def _batch_4d(op, image):
    x = t(image)
    if x.ndim != 4:
        raise InvalidArgumentError(f"{op}: expected a 4-D tensor [batch_size, height, width, depth], got shape "
                                   f"{fmt(x.shape)}")
    return x


def sobel_edges(image):
    """Sobel edge maps of each channel, as ``tf.image.sobel_edges``.

    The image is padded by reflection and filtered with the 3x3 Sobel kernels
    (a depthwise convolution): ``[..., 0]`` is the vertical derivative
    (rows going down), ``[..., 1]`` the horizontal one.

    Args:
      image: float images ``[batch, height, width, depth]`` (height and width >= 2).

    Returns:
      ``[batch, height, width, depth, 2]``.

    Example:
      >>> tl.image.sobel_edges(tl.random.uniform([1, 8, 8, 3])).shape
      TensorShape([1, 8, 8, 3, 2])
    """
    from tensorlab.ops.conv import depthwise_conv2d
    x = _float_images("sobel_edges", _batch_4d("sobel_edges", image))
    n, h, w, d = x.shape
    for size in (h, w):
        if size is not None and size < 2:
            raise InvalidArgumentError(f"sobel_edges: height and width must be at least 2 for the reflection "
                                       f"padding, got shape {fmt(x.shape)}")
    if d is None:
        raise InvalidArgumentError(f"sobel_edges: the depth must be known, got shape {fmt(x.shape)}")
    with _on_device_of(x):
        kernel = _sh.transpose(_cr.constant(_SOBEL, x.dtype), [1, 2, 0])  # [3, 3, 2]
    kernel = _sh.tile(_sh.expand_dims(kernel, 2), [1, 1, d, 1])
    padded = _sh.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    out = depthwise_conv2d(padded, kernel, strides=[1, 1, 1, 1], padding="VALID")
    return _sh.reshape(out, [-1 if s is None else s for s in (n, h, w)] + [d, 2])


def image_gradients(image):
    """Forward differences ``(dy, dx)`` of images, as ``tf.image.image_gradients``.

    ``dy[:, i, j] = image[:, i + 1, j] - image[:, i, j]`` (zero in the last
    row), ``dx`` likewise along the width (zero in the last column).

    Args:
      image: ``[batch, height, width, depth]``.

    Returns:
      ``(dy, dx)``, each of the image's shape and dtype.

    Example:
      >>> dy, dx = tl.image.image_gradients(tl.reshape(tl.range(9.), [1, 3, 3, 1]))
      >>> dy[0, :, :, 0].numpy()
      array([[3., 3., 3.],
             [3., 3., 3.],
             [0., 0., 0.]], dtype=float32)
    """
    x = _batch_4d("image_gradients", image)
    dy = _ew.subtract(x[:, 1:], x[:, :-1])
    dx = _ew.subtract(x[:, :, 1:], x[:, :, :-1])
    return (_sh.pad(dy, [[0, 0], [0, 1], [0, 0], [0, 0]]), _sh.pad(dx, [[0, 0], [0, 0], [0, 1], [0, 0]]))


__all__ = []
IMAGE = ["rgb_to_hsv", "hsv_to_rgb", "rgb_to_yuv", "yuv_to_rgb", "rgb_to_yiq", "yiq_to_rgb", "adjust_contrast",
         "adjust_gamma", "adjust_hue", "adjust_saturation", "random_contrast", "random_hue", "random_saturation",
         "stateless_random_brightness", "stateless_random_contrast", "stateless_random_hue",
         "stateless_random_saturation", "sobel_edges", "image_gradients"]
