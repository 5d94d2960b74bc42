"""Random image augmentation layers: RandomFlip, RandomCrop, RandomContrast, RandomBrightness,
RandomTranslation, RandomRotation and RandomZoom.

They augment when called with ``training=True``, which is also the default of
a direct call (as in Keras 3); ``fit`` passes True and ``predict``/``evaluate``
pass False, where they are the identity (RandomCrop then center-crops).
Inputs are channels_last images ``(batch, height, width, channels)`` or one
unbatched ``(height, width, channels)`` image (channels first with
``data_format="channels_first"``). Each image of a batch gets its own draw.
A layer's draws come from its own ``tl.random.Generator`` when it has a
``seed`` (so two layers built with the same seed draw the same sequence) and
from ``tl.random``'s global stream otherwise (reproducible after ``tl.random.set_seed``).
"""
import math

import tensorlab as tl
from tensorlab.keras.layers._common import is_symbolic, normalize_data_format, symbolic_like
from tensorlab.keras.layers.base import Layer
from tensorlab.keras.layers.preprocessing import (aspect_crop, check_size, crop_box, from_channels_last_image,
                                                  image_hw, set_image_shape, to_channels_last_image)


class _RandomImageLayer(Layer):
    _FACTOR_BOUNDS = (-1, 1)

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"{type(self).__name__}: `seed` must be an integer or None; received seed={seed!r}")
        self.seed = seed
        self.data_format = normalize_data_format(data_format)
        self._generator = None if seed is None else tl.random.Generator.from_seed(seed)

    def _set_factor(self, factor, name="factor"):
        lo, hi = self._FACTOR_BOUNDS
        msg = (f"{type(self).__name__}: the `{name}` argument should be a number (or a list of two numbers) in "
               f"the range [{lo}, {hi}]; received {name}={factor!r}")
        if isinstance(factor, (tuple, list)):
            if len(factor) != 2 or not all(isinstance(f, (int, float)) for f in factor) or \
                    factor[0] > hi or factor[1] < lo:
                raise ValueError(msg)
            return tuple(sorted(factor))
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not lo <= factor <= hi:
            raise ValueError(msg)
        factor = abs(factor)
        return (max(-factor, lo), factor)

    def _uniform(self, like, shape, minval, maxval):
        """Uniform float32 draws in [minval, maxval) on ``like``'s device and in its dtype, from this layer's
        stream (float32 whatever the dtype, so a seed gives the same draws in every precision)."""
        src = tl.random if self._generator is None else self._generator
        with tl.device(like.device):
            return tl.cast(src.uniform(shape, minval, maxval), like.dtype)

    def _per_image(self, x):
        """The shape of one draw per image: ``[batch, 1, 1, 1]``, or ``[1, 1, 1]`` unbatched."""
        return [x.shape[0], 1, 1, 1] if len(x.shape) == 4 else [1, 1, 1]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


_FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(_RandomImageLayer):
    """Randomly flips images left-right and/or top-bottom in training.

    Each image is flipped with probability 1/2. In ``"horizontal_and_vertical"``
    mode one draw per image decides both flips (the image is left as is or
    rotated by 180 degrees), as in Keras 3. The output has the layer's dtype.

    Args:
      mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"`` (default).
      seed: an integer seed for the draws.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> flip = tl.keras.layers.RandomFlip("horizontal", seed=1)
      >>> flip(images, training=True)
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in _FLIP_MODES:
            raise ValueError(f"RandomFlip: `mode` must be one of {_FLIP_MODES}; received mode={mode!r}")
        self.mode = mode

    def call(self, inputs, training=True):
        x = tl.cast(inputs, self.compute_dtype)
        if not training or is_symbolic(x):
            return x
        x = to_channels_last_image(self, x)
        flips = tl.broadcast_to(self._uniform(x, self._per_image(x), 0.0, 1.0) <= 0.5, tuple(x.shape))
        r = len(x.shape)
        if self.mode != "vertical":
            x = tl.where(flips, tl.reverse(x, [r - 2]), x)
        if self.mode != "horizontal":
            x = tl.where(flips, tl.reverse(x, [r - 3]), x)
        return from_channels_last_image(self, x)

    def get_config(self):
        config = super().get_config()
        config.update({"seed": self.seed, "mode": self.mode})
        return config


class RandomCrop(_RandomImageLayer):
    """Crops a random ``(height, width)`` window of the images in training.

    In training one random window (uniform offsets) is cropped from the whole
    batch. At inference, and in training when an image is not larger than the
    target in both dimensions, the largest central window with the target
    aspect ratio is cropped and resized (bilinear) to ``(height, width)``.
    The output has the layer's dtype.

    Args:
      height, width: the output size.
      seed: an integer seed for the draws; when None a random one is chosen
        (and saved in the config).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.RandomCrop(24, 24)(tl.ones([2, 32, 32, 3]), training=True).shape
      TensorShape([2, 24, 24, 3])
    """

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        check_size("RandomCrop", height=height, width=width)
        if seed is None:
            seed = int(tl.random.uniform([], 1, 10 ** 9, dtype=tl.int64))
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height, self.width = height, width

    def call(self, inputs, training=True):
        x = tl.cast(inputs, self.compute_dtype)
        if is_symbolic(x):
            return symbolic_like(self.compute_output_shape(tuple(x.shape)), x.dtype)
        x = to_channels_last_image(self, x)
        h, w = image_hw(self, x)
        if training and h > self.height and w > self.width:
            # One draw per offset, each uniform over the valid starts.
            top = int(self._uniform(x, [], 0.0, float(h - self.height + 1)).numpy())
            left = int(self._uniform(x, [], 0.0, float(w - self.width + 1)).numpy())
            y = crop_box(x, top, left, self.height, self.width)
        else:
            y = aspect_crop(x, self.height, self.width)
            if tuple(y.shape[-3:-1]) != (self.height, self.width):
                y = tl.image.resize(y, [self.height, self.width])
        return from_channels_last_image(self, y)

    def compute_output_shape(self, input_shape):
        return set_image_shape(input_shape, self.data_format, self.height, self.width)

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width, "seed": self.seed})
        return config


def _check_value_range(cls, value_range):
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2 or \
            not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value_range):
        raise ValueError(f"{cls}: the `value_range` argument should be a list of two numbers; received "
                         f"value_range={value_range!r}")


class RandomContrast(_RandomImageLayer):
    """Randomly adjusts the contrast of images in training.

    For each image a factor ``c`` is drawn uniformly from
    ``[1 - factor[0], 1 + factor[1]]``; each channel becomes
    ``(x - mean) * c + mean`` (``mean`` over the image's pixels, per channel),
    clipped to ``value_range``.

    Args:
      factor: a number in [0, 1] or a pair ``(lower, upper)``. As in Keras 3,
        a single number ``f`` is stored as ``(0, f)``, so contrast factors are
        drawn from ``[1, 1 + f]``; give ``(f, f)`` for ``[1 - f, 1 + f]``.
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      seed: an integer seed for the draws.

    Example:
      >>> tl.keras.layers.RandomContrast((0.2, 0.2), value_range=(0, 1))(images, training=True)
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = self._set_factor(factor)
        _check_value_range("RandomContrast", value_range)
        self.value_range = value_range

    def call(self, inputs, training=True):
        if not training or is_symbolic(inputs):
            return inputs
        x = to_channels_last_image(self, tl.cast(inputs, self.compute_dtype))
        c = self._uniform(x, self._per_image(x), 1.0 - self.factor[0], 1.0 + self.factor[1])
        mean = tl.reduce_mean(x, axis=[-3, -2], keepdims=True)
        y = tl.clip_by_value((x - mean) * c + mean, float(self.value_range[0]), float(self.value_range[1]))
        return from_channels_last_image(self, y)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range, "seed": self.seed})
        return config


class RandomBrightness(_RandomImageLayer):
    """Randomly shifts the brightness of images in training.

    For each image a ``delta`` is drawn uniformly from ``[factor[0], factor[1])``
    and ``delta * (value_range[1] - value_range[0])`` is added to every pixel;
    the result is clipped to ``value_range``.

    Args:
      factor: a number in [-1, 1] (``f`` means ``(-|f|, |f|)``) or a pair
        ``(lower, upper)``; -1 makes the image black, 1 white.
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      seed: an integer seed for the draws.

    Example:
      >>> tl.keras.layers.RandomBrightness(0.2, value_range=(0, 1))(images, training=True)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = self._set_factor(factor)
        _check_value_range("RandomBrightness", value_range)
        self.value_range = sorted(value_range)

    def call(self, inputs, training=True):
        if not training or is_symbolic(inputs):
            return inputs
        x = to_channels_last_image(self, tl.cast(inputs, self.compute_dtype))
        lo, hi = self.value_range
        delta = self._uniform(x, self._per_image(x), float(self.factor[0]), float(self.factor[1])) * float(hi - lo)
        return from_channels_last_image(self, tl.clip_by_value(x + delta, float(lo), float(hi)))

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range, "seed": self.seed})
        return config


_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
_INTERPOLATIONS = ("nearest", "bilinear")


class _RandomAffine(_RandomImageLayer):
    """Shared by the layers that resample images through ``tl.image.transform``."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        name = type(self).__name__
        if fill_mode not in _FILL_MODES:
            raise NotImplementedError(f"{name}: unknown `fill_mode` {fill_mode!r}; expected one of {_FILL_MODES}")
        if interpolation not in _INTERPOLATIONS:
            raise NotImplementedError(f"{name}: unknown `interpolation` {interpolation!r}; expected one of "
                                      f"{_INTERPOLATIONS}")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = fill_value

    def _check_range(self, factor, name, open_low=False):
        """A number ``f`` (as ``(-|f|, |f|)``) or a pair in [-1, 1] (``(-1, 1]`` when ``open_low``), sorted."""
        pair = isinstance(factor, (tuple, list))
        vals = list(factor) if pair else [factor]
        ok = (not pair or len(vals) == 2) and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and v <= 1 and (v > -1 if open_low else v >= -1)
            for v in vals)
        if not ok:
            raise ValueError(f"{type(self).__name__}: the `{name}` argument should be a number (or a list of two "
                             f"numbers) in the range {'(-1' if open_low else '[-1'}, 1]; received {name}={factor!r}")
        return tuple(sorted(vals)) if pair else (-abs(factor), abs(factor))

    def call(self, inputs, training=True):
        x = tl.cast(inputs, self.compute_dtype)
        if not training or is_symbolic(x):
            return x
        x = to_channels_last_image(self, x)
        h, w = image_hw(self, x)
        n = x.shape[0] if len(x.shape) == 4 else 1
        y = tl.image.transform(x, self._transforms(x, n, h, w), interpolation=self.interpolation,
                               fill_mode=self.fill_mode, fill_value=self.fill_value)
        return from_channels_last_image(self, y)

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "interpolation": self.interpolation, "seed": self.seed,
                       "fill_value": self.fill_value})
        return config


def _stack_rows(*cols):
    """``[n, 8]`` transforms from eight ``[n]`` columns (tensors or numbers)."""
    n = next(c.shape[0] for c in cols if hasattr(c, "shape"))
    like = next(c for c in cols if hasattr(c, "shape"))
    with tl.device(like.device):  # the constant columns go where the drawn ones are
        return tl.stack([c if hasattr(c, "shape") else tl.fill([n], tl.cast(c, like.dtype)) for c in cols], axis=1)


class RandomTranslation(_RandomAffine):
    """Randomly translates images in training.

    Each image moves by ``dy * height`` rows and ``dx * width`` columns, with
    ``dy`` and ``dx`` drawn uniformly from the factor ranges (positive values
    move the content down / right); the uncovered area follows ``fill_mode``.

    Args:
      height_factor: a number ``f`` in [-1, 1] (range ``[-|f|, |f|]``) or a pair
        ``(lower, upper)``: the vertical shift as a fraction of the height.
      width_factor: the same for the horizontal shift.
      fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or
        ``"nearest"`` (see ``tl.image.transform``).
      interpolation: ``"bilinear"`` (default) or ``"nearest"``.
      seed: an integer seed for the draws.
      fill_value: the value outside the image for ``fill_mode="constant"``.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.RandomTranslation(0.1, 0.1, fill_mode="constant")(images, training=True)
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = self._check_range(height_factor, "height_factor")
        self.width_factor = width_factor
        self.width_lower, self.width_upper = self._check_range(width_factor, "width_factor")

    def _transforms(self, x, n, h, w):
        dy = self._uniform(x, [n], self.height_lower, self.height_upper) * float(h)
        dx = self._uniform(x, [n], self.width_lower, self.width_upper) * float(w)
        return _stack_rows(1.0, 0.0, -dx, 0.0, 1.0, -dy, 0.0, 0.0)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config


class RandomRotation(_RandomAffine):
    """Randomly rotates images about their center in training.

    Each image turns by an angle drawn uniformly from
    ``[factor[0] * 2 pi, factor[1] * 2 pi]`` radians (positive: counter-clockwise
    as displayed, with rows going down); the uncovered corners follow ``fill_mode``.

    Args:
      factor: a number ``f`` in [-1, 1] (range ``(-|f|, |f|)``) or a pair
        ``(lower, upper)``, as fractions of a full turn.
      fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
      interpolation: ``"bilinear"`` (default) or ``"nearest"``.
      seed: an integer seed for the draws.
      fill_value: the value outside the image for ``fill_mode="constant"``.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.RandomRotation(0.1)(images, training=True)   # up to +-36 degrees
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = self._set_factor(factor)

    def _transforms(self, x, n, h, w):
        angle = self._uniform(x, [n], self.factor[0] * 360.0, self.factor[1] * 360.0) * (math.pi / 180.0)
        cos, sin = tl.cos(angle), tl.sin(angle)
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        # The output pixel (x, y) reads the input at R(angle) (x - c) + c.
        return _stack_rows(cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos, 0.0, 0.0)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config


class RandomZoom(_RandomAffine):
    """Randomly zooms images about their center in training.

    Each image is resampled with scale ``zy = 1 + u`` rows and ``zx = 1 + v``
    columns per output pixel, ``u`` drawn from ``height_factor``'s range and
    ``v`` from ``width_factor``'s (``v = u`` when ``width_factor`` is None, which
    keeps the aspect ratio). Positive factors zoom out (the image shrinks and
    the border follows ``fill_mode``), negative ones zoom in.

    Args:
      height_factor: a number ``f`` in (-1, 1] (range ``[-|f|, |f|]``) or a pair
        ``(lower, upper)``.
      width_factor: the same for the width, or None (default) to use the height's zoom.
      fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
      interpolation: ``"bilinear"`` (default) or ``"nearest"``.
      seed: an integer seed for the draws.
      fill_value: the value outside the image for ``fill_mode="constant"``.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.RandomZoom((-0.2, 0.0))(images, training=True)   # zoom in up to 20%
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = self._check_range(height_factor, "height_factor", open_low=True)
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = self._check_range(width_factor, "width_factor", open_low=True)

    def _transforms(self, x, n, h, w):
        zy = self._uniform(x, [n], 1.0 + self.height_lower, 1.0 + self.height_upper)
        zx = zy if self.width_factor is None else \
            self._uniform(x, [n], 1.0 + self.width_lower, 1.0 + self.width_upper)
        return _stack_rows(zx, 0.0, (w - 1) / 2.0 * (1.0 - zx), 0.0, zy, (h - 1) / 2.0 * (1.0 - zy), 0.0, 0.0)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config
