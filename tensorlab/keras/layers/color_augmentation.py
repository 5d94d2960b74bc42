"""Colour augmentation layers (Keras 3's): RandomGrayscale, RandomHue, RandomSaturation, RandomColorJitter,
RandomColorDegeneration, Solarization, RandomInvert, RandomPosterization, AutoContrast, Equalization and
RandomSharpness.

Like the other image augmentation layers (``image_augmentation.py``) they take
channels_last ``(batch, height, width, channels)`` images or one unbatched
``(height, width, channels)`` image (channels first with
``data_format="channels_first"``), compute in the layer's dtype, draw one
value per image from the layer's ``seed`` (or ``tl.random``'s global stream),
and augment only in training (a direct call defaults to ``training=True``);
AutoContrast is the one applied at inference too. ``value_range`` is the
``(low, high)`` range of the pixel values.
"""
import tensorlab as tl
from tensorlab.keras.layers._common import check_last_dim, is_symbolic
from tensorlab.keras.layers.image_augmentation import (RandomBrightness, RandomContrast, _check_value_range,
                                                       _RandomImageLayer)
from tensorlab.keras.layers.preprocessing import from_channels_last_image, to_channels_last_image


def _rescale(x, source, target):
    """Maps ``x`` linearly from the ``source`` value range onto ``target`` (Keras' ``_transform_value_range``)."""
    if source[0] == target[0] and source[1] == target[1]:
        return x
    unit = (x - float(source[0])) / float(source[1] - source[0])
    return unit * float(target[1] - target[0]) + float(target[0])


class _ColorLayer(_RandomImageLayer):
    """A colour layer: the images as channels_last, the RGB check, the per-image draw count, and a config of
    the ``_CONFIG`` attributes."""

    _RGB = False
    _CONFIG = ("factor", "value_range", "seed")
    _SORT_RANGE = True  # Keras sorts value_range, except in RandomHue and RandomInvert

    def _set_value_range(self, value_range):
        _check_value_range(type(self).__name__, value_range)
        self.value_range = sorted(value_range) if self._SORT_RANGE else value_range

    def _images(self, inputs):
        x = to_channels_last_image(self, tl.cast(inputs, self.compute_dtype))
        if self._RGB:
            check_last_dim(self, x, 3, "the number of channels (R, G, B)")
        return x

    def _batch(self, x):
        return x.shape[0] if len(x.shape) == 4 else 1

    def call(self, inputs, training=True):
        if not training or is_symbolic(inputs):
            return inputs
        x = self._images(inputs)
        return from_channels_last_image(self, self._augment(x))

    def get_config(self):
        config = super().get_config()
        config.update({k: getattr(self, k) for k in self._CONFIG})
        return config


class _FactorLayer(_ColorLayer):
    """A colour layer whose constructor is Keras' ``(factor, value_range, data_format, seed)``."""

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = self._set_factor(factor)
        self._set_value_range(value_range)

    def _draw_factor(self, x, shape):
        return self._uniform(x, shape, float(self.factor[0]), float(self.factor[1]))


class RandomGrayscale(_ColorLayer):
    """Turns each image into grayscale (kept as 3 equal channels) with probability ``factor``, in training.

    The grey value uses TF's luma weights (``tl.image.rgb_to_grayscale``).

    Args:
      factor: the probability in [0, 1] of converting an image (default 0.5).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      seed: an integer seed for the draws.

    Example:
      >>> tl.keras.layers.RandomGrayscale(0.2)(images, training=True)
    """

    _CONFIG = ("factor", "seed")
    _RGB = True

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor <= 1:
            raise ValueError(f"RandomGrayscale: `factor` should be a number between 0 and 1; received "
                             f"factor={factor!r}")
        self.factor = factor

    def _augment(self, x):
        apply = self._uniform(x, self._per_image(x), 0.0, 1.0) < float(self.factor)
        gray = tl.broadcast_to(tl.image.rgb_to_grayscale(x), tuple(x.shape))
        return tl.where(tl.broadcast_to(apply, tuple(x.shape)), gray, x)


class RandomHue(_FactorLayer):
    """Randomly rotates the hue of RGB images in training (Keras 3's formula).

    Each image's hue (in [0, 1]) moves by ``+-f / 2`` with ``f`` drawn
    uniformly from ``[factor[0], factor[1]]`` and the sign by a fair coin
    (draws: the coins, then ``f``); the images are mapped to [0, 1] from
    ``value_range``, converted to HSV and back, clipped to [0, 1] and mapped back.

    Args:
      factor: a number ``f`` in [0, 1] (``(0, f)``) or a pair ``(lower, upper)``;
        1 shifts the hue by up to half the colour circle.
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      seed: an integer seed for the draws.

    Example:
      >>> tl.keras.layers.RandomHue((0.2, 0.2), value_range=(0, 1))(images, training=True)
    """

    _SORT_RANGE = False
    _FACTOR_BOUNDS = (0, 1)
    _RGB = True

    def _augment(self, x):
        n = self._batch(x)
        sign = 1.0 - 2.0 * tl.cast(self._uniform(x, [n], 0.0, 1.0) > 0.5, x.dtype)  # a coin: -1 or +1
        delta = sign * self._draw_factor(x, [n]) * 0.5
        hsv = tl.image.rgb_to_hsv(_rescale(x, self.value_range, (0, 1)))
        h, s, v = tl.unstack(hsv, axis=-1)
        h = h + tl.reshape(delta, self._per_image(x)[:-1])
        h = tl.where(h > 1.0, h - 1.0, h)
        h = tl.where(h < 0.0, h + 1.0, h)
        rgb = tl.clip_by_value(tl.image.hsv_to_rgb(tl.stack([h, s, v], axis=-1)), 0.0, 1.0)
        return _rescale(rgb, (0, 1), self.value_range)


class RandomSaturation(_FactorLayer):
    """Randomly scales the saturation of RGB images in training (Keras 3's formula).

    For each image ``f`` is drawn uniformly from ``[factor[0], factor[1]]``
    and the HSV saturation is multiplied by ``f / (1 - f)`` and clipped to
    [0, 1]: ``f = 0.5`` keeps the image, 0 (or less) makes it grey, 1 fully
    saturated (``1 - f`` is floored at 1e-7). As in Keras 3's code, a single
    number ``f`` means ``(-f, f)``. Two choices differ from Keras 3.8+, which
    clips the saturation to ``value_range`` (letting pixels leave it) and works
    on the raw values: the saturation is clipped to [0, 1], and the images are
    mapped from ``value_range`` to [0, 1] and back (no change for ranges starting at 0).

    Args:
      factor: a number in [-1, 1] or a pair ``(lower, upper)``.
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      seed: an integer seed for the draws.

    Example:
      >>> tl.keras.layers.RandomSaturation((0.3, 0.7))(images, training=True)
    """

    _RGB = True

    def _augment(self, x):
        f = self._draw_factor(x, [self._batch(x)])
        scale = tl.reshape(f / tl.maximum(1.0 - f, 1e-7), self._per_image(x)[:-1])
        h, s, v = tl.unstack(tl.image.rgb_to_hsv(_rescale(x, self.value_range, (0, 1))), axis=-1)
        rgb = tl.image.hsv_to_rgb(tl.stack([h, tl.clip_by_value(s * scale, 0.0, 1.0), v], axis=-1))
        return _rescale(rgb, (0, 1), self.value_range)


class RandomColorJitter(_ColorLayer):
    """Randomly adjusts brightness, contrast, saturation and hue, in that order, in training.

    Each adjustment is that of ``RandomBrightness``, ``RandomContrast``,
    ``RandomSaturation`` and ``RandomHue`` with the given factor; a factor of
    None skips it. All draw from this layer's one stream.

    Args:
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      brightness_factor, contrast_factor, saturation_factor, hue_factor: the
        ``factor`` of the matching layer, or None (default).
      seed: an integer seed for the draws.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> jitter = tl.keras.layers.RandomColorJitter((0, 1), brightness_factor=0.2, hue_factor=0.1)
    """

    _CONFIG = ("value_range", "brightness_factor", "contrast_factor", "saturation_factor", "hue_factor",
               "seed")
    _SORT_RANGE = False

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None, saturation_factor=None,
                 hue_factor=None, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._set_value_range(value_range)
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        self._RGB = saturation_factor is not None or hue_factor is not None
        self._steps = []
        for name, cls, factor in (("brightness_factor", RandomBrightness, brightness_factor),
                                  ("contrast_factor", RandomContrast, contrast_factor),
                                  ("saturation_factor", RandomSaturation, saturation_factor),
                                  ("hue_factor", RandomHue, hue_factor)):
            if factor is None:
                continue
            try:
                step = cls(factor, value_range=value_range, dtype=self.dtype_policy.name)
            except ValueError as e:
                raise ValueError(f"RandomColorJitter: invalid `{name}`: {e}") from None
            step._generator = self._generator  # one stream for the four draws, as Keras' jitter
            self._steps.append(step)

    def _augment(self, x):
        for step in self._steps:  # all channels_last: the steps keep the default data_format
            x = step._augment(x) if isinstance(step, _ColorLayer) else step.call(x, training=True)
        return x


class RandomColorDegeneration(_FactorLayer):
    """Randomly blends RGB images with their grayscale version in training: ``x + f * (gray - x)``.

    ``f`` is drawn per image from ``[factor[0], factor[1]]`` (0: no change,
    1: grey; negative values move away from grey) and the result is clipped
    to ``value_range``. As in Keras 3's code, a single number ``f`` means ``(-f, f)``.

    Args:
      factor: a number in [-1, 1] or a pair ``(lower, upper)``.
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      seed: an integer seed for the draws.

    Example:
      >>> tl.keras.layers.RandomColorDegeneration((0.2, 0.6))(images, training=True)
    """

    _RGB = True

    def _augment(self, x):
        f = self._draw_factor(x, self._per_image(x))
        y = x + f * (tl.image.rgb_to_grayscale(x) - x)
        return tl.clip_by_value(y, float(self.value_range[0]), float(self.value_range[1]))


class Solarization(_ColorLayer):
    """Inverts the pixels at or above a threshold, after adding a value, in training (Keras 3's formula).

    On the images mapped to [0, 255]: ``y = clip(x + addition, 0, 255)``,
    then ``255 - y`` where ``y >= threshold``, mapped back to ``value_range``.
    ``addition`` and ``threshold`` are drawn per image from the factor ranges
    times 255 (Keras 3 scales only the upper end, which makes a fixed
    ``(f, f)`` random). With the defaults every pixel is inverted.

    Args:
      addition_factor: a number ``f`` in [0, 1] (``(0, f)``) or a pair (default 0).
      threshold_factor: a number ``f`` in [0, 1] (``(0, f)``) or a pair (default 0).
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      seed: an integer seed for the draws.

    Example:
      >>> tl.keras.layers.Solarization(threshold_factor=(0.5, 0.5), value_range=(0, 1))(images, training=True)
    """

    _CONFIG = ("value_range", "addition_factor", "threshold_factor", "seed")

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = self._unit_pair(addition_factor, "addition_factor")
        self.threshold_factor = self._unit_pair(threshold_factor, "threshold_factor")
        self._set_value_range(value_range)

    def _unit_pair(self, factor, name):
        msg = (f"Solarization: the `{name}` argument should be a number (or a list of two numbers) in the range "
               f"[0, 1]; received {name}={factor!r}")
        vals = list(factor) if isinstance(factor, (tuple, list)) else [factor]
        if len(vals) != (2 if isinstance(factor, (tuple, list)) else 1) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in vals):
            raise ValueError(msg)
        return tuple(sorted(vals)) if len(vals) == 2 else (0, vals[0])

    def _augment(self, x):
        shape = self._per_image(x)
        add = self._uniform(x, shape, self.addition_factor[0] * 255.0, self.addition_factor[1] * 255.0)
        thr = self._uniform(x, shape, self.threshold_factor[0] * 255.0, self.threshold_factor[1] * 255.0)
        y = tl.clip_by_value(_rescale(x, self.value_range, (0, 255)) + add, 0.0, 255.0)
        y = tl.where(y < tl.broadcast_to(thr, tuple(y.shape)), y, 255.0 - y)
        return _rescale(y, (0, 255), self.value_range)


class RandomInvert(_FactorLayer):
    """Randomly inverts images in training: ``value_range[1] - x``.

    Each image draws a probability ``p`` from ``[factor[0], factor[1]]`` and is
    inverted when a second uniform draw is below ``p``.

    Args:
      factor: a number ``f`` in [0, 1] (``(0, f)``) or a pair (default 1.0).
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      seed: an integer seed for the draws.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.RandomInvert((0.5, 0.5), value_range=(0, 1))(images, training=True)
    """

    _SORT_RANGE = False
    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(factor, value_range, data_format=data_format, seed=seed, **kwargs)

    def _augment(self, x):
        shape = self._per_image(x)
        p = self._draw_factor(x, shape)
        apply = tl.broadcast_to(self._uniform(x, shape, 0.0, 1.0) < p, tuple(x.shape))
        return tl.where(apply, float(self.value_range[1]) - x, x)


class RandomPosterization(_ColorLayer):
    """Keeps the ``bits`` most significant bits of each 8-bit pixel value, in training.

    The images are mapped to [0, 255], clipped and truncated to integers, and
    each value ``v`` becomes ``floor(v / 2**(8 - bits)) * 2**(8 - bits)``, then
    mapped back. ``bits`` is ``factor[0]`` when both ends are equal, else
    drawn per image from the integers in ``[factor[0], factor[1])`` (Keras' randint).

    Args:
      factor: an integer ``f`` in [1, 8] (``(1, f)``) or a pair of integers.
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      seed: an integer seed for the draws.

    Example:
      >>> tl.keras.layers.RandomPosterization((3, 3))(images, training=True)   # 8 levels per channel
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        vals = list(factor) if isinstance(factor, (tuple, list)) else [factor]
        if len(vals) != (2 if isinstance(factor, (tuple, list)) else 1) or not all(
                isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 8 for v in vals):
            raise ValueError(f"RandomPosterization: the `factor` argument should be an integer (or a list of two "
                             f"integers) in the range [1, 8]; received factor={factor!r}")
        self.factor = tuple(sorted(vals)) if len(vals) == 2 else (1, vals[0])
        self._set_value_range(value_range)

    def _augment(self, x):
        lo, hi = self.factor
        shape = self._per_image(x)
        step = 2.0 ** (8 - lo) if lo == hi else tl.pow(2.0, 8.0 - tl.floor(self._uniform(x, shape, lo, hi)))
        v = tl.floor(tl.clip_by_value(_rescale(x, self.value_range, (0, 255)), 0.0, 255.0))
        return _rescale(tl.floor(v / step) * step, (0, 255), self.value_range)


class AutoContrast(_ColorLayer):
    """Stretches each channel of each image to the whole ``value_range``; applied in training and inference.

    Per image and channel: ``(x - min) / (max - min)`` of the full range (on
    the values mapped to [0, 255], clipped, and mapped back); a constant
    channel is left as is.

    Args:
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).

    Example:
      >>> tl.keras.layers.AutoContrast(value_range=(0, 1))(images)
    """

    _CONFIG = ("value_range",)

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self._set_value_range(value_range)

    def call(self, inputs, training=True):
        x = tl.cast(inputs, self.compute_dtype)
        if is_symbolic(x):
            return x
        x = self._images(x)
        y = _rescale(x, self.value_range, (0, 255))
        low = tl.reduce_min(y, axis=[-3, -2], keepdims=True)
        high = tl.reduce_max(y, axis=[-3, -2], keepdims=True)
        flat = tl.broadcast_to(high <= low, tuple(y.shape))
        scale = 255.0 / tl.where(high > low, high - low, tl.ones_like(high))
        out = _rescale(tl.clip_by_value((y - low) * scale, 0.0, 255.0), (0, 255), self.value_range)
        return from_channels_last_image(self, tl.where(flat, x, out))


class Equalization(_ColorLayer):
    """Histogram equalization of each channel of each image, in training (Keras 3's formula).

    On the values mapped to [0, 255]: a ``bins``-bin histogram, its cumulative
    sum ``cdf`` and the lookup table ``round((cdf - cdf_min) * 255 / (n - cdf_min))``
    (``cdf_min`` the first non-zero count, ``n`` the pixel count), applied
    through each value's bin and mapped back; a channel with one occupied
    bin is left as is. Keras 3 pools the histogram over the whole batch;
    here each image has its own (as for an unbatched image in Keras).

    Args:
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      bins: the number of histogram bins (default 256).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.Equalization(value_range=(0, 1), bins=128)(images, training=True)
    """

    _CONFIG = ("bins", "value_range")

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
            raise ValueError(f"Equalization: `bins` must be a positive integer; received bins={bins!r}")
        self.bins = bins
        self._set_value_range(value_range)

    def _augment(self, x):
        batched = len(x.shape) == 4
        y = _rescale(x if batched else tl.expand_dims(x, 0), self.value_range, (0, 255))
        n, h, w, c = y.shape
        nb = self.bins
        # Keras bins the histogram with x * (bins - 1) / 255 and the lookup with x / 255 * (bins - 1).
        hist_bin = tl.clip_by_value(tl.cast(y * float(nb - 1) / 255.0, tl.int32), 0, nb - 1)
        look_bin = tl.cast(tl.clip_by_value(y / 255.0 * float(nb - 1), 0.0, float(nb - 1)), tl.int32)
        with tl.device(y.device):
            base = tl.reshape(tl.range(n * c, dtype=tl.int32), [n, 1, 1, c]) * nb  # one histogram per (image, channel)
        ones = tl.ones_like(tl.reshape(y, [-1]))
        hist = tl.math.unsorted_segment_sum(ones, tl.reshape(base + hist_bin, [-1]), n * c * nb)
        hist = tl.reshape(hist, [n * c, nb])
        cdf = tl.cumsum(hist, axis=-1)
        cdf_min = tl.reduce_min(tl.where(cdf > 0, cdf, float(h * w + 1)), -1, keepdims=True)  # the first non-zero
        denom = cdf[:, -1:] - cdf_min
        lut = tl.clip_by_value(tl.round((cdf - cdf_min) * 255.0 / tl.where(denom == 0, tl.ones_like(denom), denom)),
                               0.0, 255.0)
        out = tl.reshape(tl.gather(tl.reshape(lut, [-1]), tl.reshape(base + look_bin, [-1])), [n, h, w, c])
        used = tl.reduce_sum(tl.cast(hist > 0, tl.int32), -1)
        keep = tl.broadcast_to(tl.reshape(used <= 1, [n, 1, 1, c]), (n, h, w, c))
        out = _rescale(tl.where(keep, y, out), (0, 255), self.value_range)
        return out if batched else tl.squeeze(out, [0])


class RandomSharpness(_FactorLayer):
    """Randomly sharpens or blurs images in training (Keras 3's formula).

    The images are smoothed with the 3x3 kernel ``[[1, 1, 1], [1, 5, 1],
    [1, 1, 1]] / 13`` (per channel, zero padding) and each becomes
    ``x + (1 - 2 f) * (smoothed - x)``, clipped to ``value_range``, with ``f``
    drawn per image from ``[factor[0], factor[1]]``: 0 gives the smoothed
    image, 0.5 the image itself, 1 a sharpened one.

    Args:
      factor: a number ``f`` in [0, 1] (``(0, f)``) or a pair ``(lower, upper)``.
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      seed: an integer seed for the draws.

    Example:
      >>> tl.keras.layers.RandomSharpness((0.8, 1.0))(images, training=True)
    """

    _FACTOR_BOUNDS = (0, 1)

    def _augment(self, x):
        f = self._draw_factor(x, self._per_image(x))
        c = x.shape[-1]
        a, b = 1.0 / 13.0, 5.0 / 13.0
        with tl.device(x.device):
            kernel = tl.constant([[a, a, a], [a, b, a], [a, a, a]], dtype=x.dtype)
        kernel = tl.tile(tl.reshape(kernel, [3, 3, 1, 1]), [1, 1, c, 1])
        batch = x if len(x.shape) == 4 else tl.expand_dims(x, 0)
        smoothed = tl.nn.depthwise_conv2d(batch, kernel, [1, 1, 1, 1], "SAME")
        smoothed = smoothed if len(x.shape) == 4 else tl.squeeze(smoothed, [0])
        y = x + (1.0 - 2.0 * f) * (smoothed - x)
        return tl.clip_by_value(y, float(self.value_range[0]), float(self.value_range[1]))
