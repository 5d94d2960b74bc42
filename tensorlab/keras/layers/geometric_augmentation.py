"""Geometric augmentation layers (Keras 3's): RandomShear, RandomPerspective, RandomElasticTransform,
RandomErasing and RandomGaussianBlur, and the composites Pipeline and RandAugment (MixUp and CutMix are in
``mixing_augmentation.py``).

Like the other image augmentation layers (``image_augmentation.py``) they take
channels_last ``(batch, height, width, channels)`` images or one unbatched
``(height, width, channels)`` image (channels first with
``data_format="channels_first"``), compute in the layer's dtype, draw from the
layer's ``seed`` (or ``tl.random``'s global stream), and augment only in
training (a direct call defaults to ``training=True``). Where a ``factor`` is a
probability (RandomErasing, RandomGaussianBlur, RandomPerspective,
RandomElasticTransform), each image draws a probability ``p`` from
``[factor[0], factor[1]]`` and is augmented when a second uniform draw is below ``p``.
"""
import tensorlab as tl
from tensorlab.keras.layers._common import is_symbolic
from tensorlab.keras.layers.base import Layer
from tensorlab.keras.layers.color_augmentation import (AutoContrast, Equalization, RandomColorDegeneration,
                                                       RandomPosterization, RandomSharpness, Solarization)
from tensorlab.keras.layers.image_augmentation import (_INTERPOLATIONS, RandomBrightness, RandomContrast,
                                                       RandomRotation, RandomTranslation, _check_value_range,
                                                       _RandomAffine, _RandomImageLayer, _stack_rows)
from tensorlab.keras.layers.preprocessing import from_channels_last_image, image_hw, to_channels_last_image


def _check_interpolation(cls, interpolation):
    if interpolation not in _INTERPOLATIONS:
        raise NotImplementedError(f"{cls}: unknown `interpolation` {interpolation!r}; expected one of "
                                  f"{_INTERPOLATIONS}")


def _gaussian_blur(x, kernel_size, sigma):
    """Keras' ``ops.image.gaussian_blur`` of a batch ``x``: separable Gaussian weights (``sigma`` = (x, y), numbers
    or scalar tensors), a depthwise convolution with zero ("SAME") padding."""
    def kernel1d(size, s):
        with tl.device(x.device):
            r = tl.range(size, dtype=x.dtype) - (size - 1) / 2.0
        k = tl.exp(-0.5 * tl.square(r / s))
        return k / tl.reduce_sum(k)
    kx, ky = kernel1d(kernel_size[0], sigma[0]), kernel1d(kernel_size[1], sigma[1])
    # Keras reshapes the [ky, kx] outer product to [kernel_size[0], kernel_size[1]] (the same for square kernels).
    kernel = tl.reshape(tl.reshape(ky, [-1, 1]) * tl.reshape(kx, [1, -1]), [kernel_size[0], kernel_size[1], 1, 1])
    kernel = tl.tile(kernel, [1, 1, x.shape[-1], 1])
    return tl.nn.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "SAME")


class _BatchAugmentation(_RandomImageLayer):
    """A layer whose ``_augment`` works on a channels_last batch ``[n, h, w, c]`` (an unbatched image is a batch
    of one), with Keras' per-image probability draws."""

    _FACTOR_BOUNDS = (0, 1)
    _CONFIG = ()  # the attributes get_config adds

    def call(self, inputs, training=True):
        x = tl.cast(inputs, self.compute_dtype)
        if not training or is_symbolic(x):
            return x
        x = to_channels_last_image(self, x)
        image_hw(self, x)
        batched = len(x.shape) == 4
        y = self._augment(x if batched else tl.expand_dims(x, 0))
        return from_channels_last_image(self, y if batched else tl.squeeze(y, [0]))

    def _normal(self, like, shape):
        """Standard normal float32 draws from this layer's stream, on ``like``'s device, in its dtype."""
        src = tl.random if self._generator is None else self._generator
        with tl.device(like.device):
            return tl.cast(src.normal(shape), like.dtype)

    def _chance(self, x):
        """Which images to augment, ``[n, 1, 1, 1]``: a probability from ``factor``, then a uniform below it."""
        n = x.shape[0]
        p = self._uniform(x, [n], float(self.factor[0]), float(self.factor[1]))
        return tl.reshape(self._uniform(x, [n], 0.0, 1.0) < p, [n, 1, 1, 1])

    def _clip(self, x):
        return tl.clip_by_value(x, float(self.value_range[0]), float(self.value_range[1]))

    def get_config(self):
        config = super().get_config()
        config.update({k: getattr(self, k) for k in self._CONFIG})
        return config


def _box_mask(x, x0, x1, y0, y1):
    """Keras' erase/cut mask of a batch: ``x0 <= column < x1`` and ``y0 <= row < y1`` per image: ``[n, h, w, 1]``."""
    n, h, w, _ = x.shape
    with tl.device(x.device):
        cols = tl.reshape(tl.range(w, dtype=x.dtype), [1, 1, w, 1])
        rows = tl.reshape(tl.range(h, dtype=x.dtype), [1, h, 1, 1])
    x0, x1, y0, y1 = (tl.reshape(v, [n, 1, 1, 1]) for v in (x0, x1, y0, y1))
    return tl.logical_and(tl.logical_and(cols >= x0, cols < x1), tl.logical_and(rows >= y0, rows < y1))


def _span(layer, x, length, ratio):
    """Keras' ``_compute_crop_bounds``: a ``ratio * length`` run starting uniformly within ``length``."""
    crop = ratio * float(length)
    start = layer._uniform(x, [x.shape[0]], 0.0, 1.0) * (float(length) - crop)
    return start, start + crop


# ----------------------------------------------------------------- affine and projective
class RandomShear(_RandomAffine):
    """Randomly shears images in training (Keras 3's formula).

    Each image draws ``sx`` from ``x_factor``'s range and ``sy`` from
    ``y_factor``'s, and a sign (a fair coin, applied to both); output pixel
    ``(x, y)`` samples the input at ``(x + sx y, sy x + y)`` (no centering, as
    Keras). The uncovered area follows ``fill_mode``. Draws: the coins, ``sy``, ``sx``.

    Args:
      x_factor, y_factor: a number ``f`` in [0, 1] (range ``(-f, f)``) or a
        pair ``(lower, upper)`` in [0, 1].
      interpolation: ``"bilinear"`` (default) or ``"nearest"``.
      fill_mode: ``"reflect"`` (default), ``"wrap"``, ``"constant"`` or ``"nearest"``.
      fill_value: the value outside the image for ``fill_mode="constant"``.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      seed: an integer seed for the draws.

    Example:
      >>> tl.keras.layers.RandomShear(x_factor=0.2, y_factor=(0.1, 0.3))(images, training=True)
    """

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 data_format=None, seed=None, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.x_factor, self.y_factor = x_factor, y_factor
        self._x_range = self._shear_range(x_factor, "x_factor")
        self._y_range = self._shear_range(y_factor, "y_factor")

    def _shear_range(self, factor, name):
        vals = list(factor) if isinstance(factor, (tuple, list)) else [factor]
        if len(vals) != (2 if isinstance(factor, (tuple, list)) else 1) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and 0 <= v <= 1 for v in vals):
            raise ValueError(f"RandomShear: the `{name}` argument should be a number (or a list of two numbers) in "
                             f"the range [0, 1]; received {name}={factor!r}")
        return tuple(sorted(vals)) if len(vals) == 2 else (-vals[0], vals[0])

    def _transforms(self, x, n, h, w):
        sign = 1.0 - 2.0 * tl.cast(self._uniform(x, [n], 0.0, 1.0) > 0.5, x.dtype)
        sy = self._uniform(x, [n], *self._y_range) * sign
        sx = self._uniform(x, [n], *self._x_range) * sign
        with tl.device(x.device):  # the constant columns go with the images
            return _stack_rows(1.0, sx, 0.0, sy, 1.0, 0.0, 0.0, 0.0)

    def get_config(self):
        config = super().get_config()
        config.update({"x_factor": self.x_factor, "y_factor": self.y_factor})
        return config


def _homography(start, end):
    """Keras' ``compute_homography_matrix``: the projective transforms ``[n, 8]`` mapping each output point
    ``end[i, k]`` to the input point ``start[k]`` (``start`` four (x, y) pairs, ``end`` ``[n, 4, 2]``)."""
    rows, target = [], []
    for k, (sx, sy) in enumerate(start):
        ex, ey = end[:, k, 0], end[:, k, 1]
        one, zero = tl.ones_like(ex), tl.zeros_like(ex)
        rows.append(tl.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], axis=1))
        rows.append(tl.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], axis=1))
        target += [sx, sy]
    with tl.device(end.device):
        b = tl.broadcast_to(tl.reshape(tl.constant(target, dtype=end.dtype), [1, 8, 1]), [end.shape[0], 8, 1])
    return tl.reshape(tl.linalg.solve(tl.stack(rows, axis=1), b), [-1, 8])


class RandomPerspective(_BatchAugmentation):
    """Randomly distorts the perspective of images in training (Keras 3's formula).

    Each image's corners ``(0, 0), (w-1, 0), (0, h-1), (w-1, h-1)`` move to
    ``corner * (1 + d)`` with ``d`` drawn per corner and axis from
    ``[-scale / 2, scale / 2]`` (so the top-left corner stays); the image is
    resampled through the homography mapping the moved corners back, with
    ``fill_value`` outside. Draws: the probabilities, the thresholds, ``d``.

    Args:
      factor: the probability of distorting an image: a number ``f`` in
        [0, 1] (``(0, f)``) or a pair (default 1.0).
      scale: the relative corner shift, in [0, 1] (default 1.0).
      interpolation: ``"bilinear"`` (default) or ``"nearest"``.
      fill_value: the value outside the image.
      seed: an integer seed for the draws.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.RandomPerspective(factor=0.5, scale=0.2)(images, training=True)
    """

    _CONFIG = ("factor", "scale", "interpolation", "fill_value", "seed")

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0, seed=None, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = self._set_factor(factor)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale <= 1:
            raise ValueError(f"RandomPerspective: the `scale` argument should be a number in the range [0, 1]; "
                             f"received scale={scale!r}")
        _check_interpolation("RandomPerspective", interpolation)
        self.scale, self.interpolation, self.fill_value = scale, interpolation, fill_value

    def _augment(self, x):
        n, h, w, _ = x.shape
        apply = self._chance(x)
        shift = self._uniform(x, [n, 4, 2], -0.5 * self.scale, 0.5 * self.scale)
        start = [(0.0, 0.0), (w - 1.0, 0.0), (0.0, h - 1.0), (w - 1.0, h - 1.0)]
        with tl.device(x.device):
            corners = tl.constant([start], dtype=x.dtype)
        y = tl.image.transform(x, _homography(start, corners + corners * shift), interpolation=self.interpolation,
                               fill_mode="constant", fill_value=self.fill_value)
        return tl.where(tl.broadcast_to(apply, tuple(x.shape)), y, x)


_ELASTIC_FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


def _fold(idx, n, mode):
    """Integer-valued float indices mapped into ``[0, n)`` by ``mode`` (scipy's conventions): int32 indices and,
    for "constant", where they were inside."""
    if mode == "reflect":  # d c b a | a b c d | d c b a
        m = tl.math.floormod(idx, float(2 * n))
        idx = tl.where(m >= n, 2.0 * n - 1.0 - m, m)
    elif mode == "mirror":  # d c b | a b c d | c b a
        m = tl.math.floormod(idx, float(max(2 * n - 2, 1)))
        idx = tl.where(m >= n, 2.0 * n - 2.0 - m, m)
    elif mode == "wrap":
        idx = tl.math.floormod(idx, float(n))
    inside = tl.logical_and(idx >= 0.0, idx <= n - 1.0) if mode == "constant" else None
    return tl.cast(tl.clip_by_value(idx, 0.0, n - 1.0), tl.int32), inside


def _map_coordinates(x, ys, xs, order, mode, fill_value):
    """Samples each image of ``x [n, h, w, c]`` at float rows ``ys`` and columns ``xs`` (``[n, h, w]``), as
    Keras' ``map_coordinates`` (order 0: rounding half to even; order 1: bilinear, each tap filled apart)."""
    n, h, w, c = x.shape
    flat = tl.reshape(x, [n * h * w, c])
    with tl.device(x.device):
        base = tl.reshape(tl.range(n) * (h * w), [n, 1, 1])

    def tap(iy, ix):
        (yi, y_in), (xi, x_in) = _fold(iy, h, mode), _fold(ix, w, mode)
        v = tl.gather(flat, base + yi * w + xi)
        if y_in is not None:
            v = tl.where(tl.broadcast_to(tl.expand_dims(tl.logical_and(y_in, x_in), -1), v.shape), v,
                         tl.cast(fill_value, x.dtype))
        return v

    if order == 0:
        return tap(tl.round(ys), tl.round(xs))
    y0, x0 = tl.floor(ys), tl.floor(xs)
    wy, wx = tl.expand_dims(ys - y0, -1), tl.expand_dims(xs - x0, -1)
    return ((1.0 - wy) * (1.0 - wx) * tap(y0, x0) + (1.0 - wy) * wx * tap(y0, x0 + 1.0)
            + wy * (1.0 - wx) * tap(y0 + 1.0, x0) + wy * wx * tap(y0 + 1.0, x0 + 1.0))


class RandomElasticTransform(_BatchAugmentation):
    """Randomly deforms images elastically in training (Keras 3's formula, Simard et al. 2003).

    A distortion ``d`` is drawn from ``scale``'s range for the batch; each
    image gets displacement fields ``N(0, 1) * sigma`` blurred by a Gaussian of
    ``sigma`` (kernel ``int(6 sigma) | 1``) and scaled by ``alpha``, with
    ``alpha = 0.1 d max(h, w)`` and ``sigma = 0.05 d min(h, w)``; pixels are
    resampled there (``fill_mode`` outside) and clipped to ``value_range``.
    Draws: the probabilities, the thresholds, ``d``, the x field, the y field;
    ``d`` is read back to size the kernel.

    Args:
      factor: the probability of deforming an image: ``f`` in [0, 1] (``(0, f)``) or a pair (default 1.0).
      scale: the distortion: ``f`` in [0, 1] (``(0, f)``) or a pair (default 1.0).
      interpolation: ``"bilinear"`` (default) or ``"nearest"``.
      fill_mode: ``"reflect"`` (default), ``"mirror"``, ``"wrap"``, ``"nearest"``
        or ``"constant"`` (scipy's ``map_coordinates`` conventions).
      fill_value: the value outside the image for ``"constant"``.
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      seed: an integer seed for the draws.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.RandomElasticTransform(scale=0.5, value_range=(0, 1))(images, training=True)
    """

    _CONFIG = ("factor", "scale", "interpolation", "fill_mode", "fill_value", "value_range", "seed")

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_mode="reflect", fill_value=0.0,
                 value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = self._set_factor(factor)
        self.scale = self._set_factor(scale, "scale")
        _check_interpolation("RandomElasticTransform", interpolation)
        if fill_mode not in _ELASTIC_FILL_MODES:
            raise NotImplementedError(f"RandomElasticTransform: unknown `fill_mode` {fill_mode!r}; expected one of "
                                      f"{_ELASTIC_FILL_MODES}")
        _check_value_range("RandomElasticTransform", value_range)
        self.interpolation, self.fill_mode, self.fill_value = interpolation, fill_mode, fill_value
        self.value_range = value_range

    def _augment(self, x):
        if self.scale[1] == 0 or self.factor[1] == 0:
            return x
        n, h, w, _ = x.shape
        apply = self._chance(x)
        d = float(self._uniform(x, [], float(self.scale[0]), float(self.scale[1])).numpy())
        alpha, sigma = max(h, w) * (0.1 * d), min(h, w) * (0.05 * d)
        fields = []
        for _ in range(2):
            f = self._normal(x, [n, h, w, 1]) * sigma
            if sigma > 0:
                k = int(6 * sigma) | 1
                f = _gaussian_blur(f, (k, k), (sigma, sigma))
            fields.append(tl.squeeze(f, [3]) * alpha)
        with tl.device(x.device):
            cols = tl.reshape(tl.range(w, dtype=x.dtype), [1, 1, w])
            rows = tl.reshape(tl.range(h, dtype=x.dtype), [1, h, 1])
        y = _map_coordinates(x, rows + fields[1], cols + fields[0], 0 if self.interpolation == "nearest" else 1,
                             self.fill_mode, self.fill_value)
        return self._clip(tl.where(tl.broadcast_to(apply, tuple(x.shape)), y, x))


# ----------------------------------------------------------------- erasing and blurring
class RandomErasing(_BatchAugmentation):
    """Randomly erases a rectangle of each image in training (Keras 3's formula, Zhong et al. 2017).

    Each image draws ``(sw, sh) = sqrt(u)`` with ``u`` from ``scale``'s range;
    the rectangle is ``sw * width`` by ``sh * height`` at a uniform position,
    and is filled with ``fill_value`` (or, when None, normal noise times
    ``value_range[1]``), clipped to ``value_range``. Draws: ``u``, the column
    starts, the row starts, the probabilities, the thresholds, the noise.

    Args:
      factor: the probability of erasing: ``f`` in [0, 1] (``(0, f)``) or a pair (default 1.0).
      scale: the range of ``u``: ``f`` in [0, 1] (``(0, f)``) or a pair (default ``(0.02, 0.33)``).
      fill_value: a number, three numbers (one per channel), or None (noise).
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      seed: an integer seed for the draws.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.RandomErasing(factor=0.5, fill_value=0)(images, training=True)
    """

    _CONFIG = ("factor", "scale", "fill_value", "value_range", "seed")

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255), seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = self._set_factor(factor)
        self.scale = self._set_factor(scale, "scale")
        values = list(fill_value) if isinstance(fill_value, (tuple, list)) else [fill_value]
        if fill_value is not None and (len(values) != (3 if isinstance(fill_value, (tuple, list)) else 1) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)):
            raise ValueError(f"RandomErasing: the `fill_value` argument should be a number (or a list of three "
                             f"numbers) or None; received fill_value={fill_value!r}")
        _check_value_range("RandomErasing", value_range)
        self.fill_value, self.value_range = fill_value, value_range

    def _augment(self, x):
        mix = tl.sqrt(self._uniform(x, [x.shape[0], 2], float(self.scale[0]), float(self.scale[1])))
        x0, x1 = _span(self, x, x.shape[2], mix[:, 0])
        y0, y1 = _span(self, x, x.shape[1], mix[:, 1])
        apply = self._chance(x)
        if self.fill_value is None:
            fill = self._normal(x, list(x.shape)) * float(self.value_range[1])
        else:
            with tl.device(x.device):
                fill = tl.constant(self.fill_value, dtype=x.dtype)
        mask = tl.broadcast_to(tl.logical_and(_box_mask(x, x0, x1, y0, y1), apply), tuple(x.shape))
        return tl.where(mask, self._clip(tl.broadcast_to(fill, tuple(x.shape))), x)


class RandomGaussianBlur(_BatchAugmentation):
    """Randomly blurs images with a Gaussian kernel in training (Keras 3's formula).

    One pair ``(sigma_x, sigma_y)`` is drawn for the batch from ``sigma``'s
    range (plus ``1e-6``); the chosen images are convolved with the
    normalized ``kernel_size`` Gaussian (zero padding), and all are clipped to
    ``value_range``. Draws: the probabilities, the thresholds, the sigmas.

    Args:
      factor: the probability of blurring: ``f`` in [0, 1] (``(0, f)``) or a pair (default 1.0).
      kernel_size: an odd integer, or a pair of odd integers (x, y) (default 3).
      sigma: ``f`` in [0, 1] (``(0, f)``) or a pair (default 1.0).
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      seed: an integer seed for the draws.

    Example:
      >>> tl.keras.layers.RandomGaussianBlur(kernel_size=5, sigma=(0.5, 1.0))(images, training=True)
    """

    _CONFIG = ("factor", "kernel_size", "sigma", "value_range", "seed")

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255), data_format=None, seed=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = self._set_factor(factor)
        sizes = list(kernel_size) if isinstance(kernel_size, (tuple, list)) else [kernel_size] * 2
        if len(sizes) != 2 or not all(isinstance(k, int) and not isinstance(k, bool) and k > 0 and k % 2 == 1
                                      for k in sizes):
            raise ValueError(f"RandomGaussianBlur: `kernel_size` must be an odd positive integer (or a pair of "
                             f"them); received kernel_size={kernel_size!r}")
        self.kernel_size = tuple(sizes)
        self.sigma = self._set_factor(sigma, "sigma")
        _check_value_range("RandomGaussianBlur", value_range)
        self.value_range = value_range

    def _augment(self, x):
        apply = self._chance(x)
        sigma = self._uniform(x, [2], float(self.sigma[0]), float(self.sigma[1])) + 1e-6
        y = _gaussian_blur(x, self.kernel_size, (sigma[0], sigma[1]))
        return self._clip(tl.where(tl.broadcast_to(apply, tuple(x.shape)), y, x))


# ----------------------------------------------------------------- composites
class Pipeline(Layer):
    """Applies a list of layers in turn; a plain layer (not a model), handy for augmentation pipelines.

    ``training`` is passed on to every layer (a direct call defaults to
    ``training=True``, as the augmentation layers do).

    Args:
      layers: a list of layers.

    Example:
      >>> augment = tl.keras.layers.Pipeline([tl.keras.layers.AutoContrast(), tl.keras.layers.RandomZoom(0.2)])
      >>> augment(images)
    """

    def __init__(self, layers, name=None, **kwargs):
        kwargs.setdefault("autocast", False)  # the inputs reach the first layer as given, as in Keras
        super().__init__(name=name, **kwargs)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(v, Layer) for v in layers):
            raise ValueError(f"Pipeline: `layers` must be a list of layers; received layers={layers!r}")
        self._pipeline_layers = list(layers)

    @property
    def layers(self):
        return list(self._pipeline_layers)

    def call(self, inputs, training=True):
        for layer in self._pipeline_layers:
            inputs = layer(inputs, training=training)
        return inputs

    def compute_output_shape(self, input_shape):
        for layer in self._pipeline_layers:
            input_shape = layer.compute_output_shape(input_shape)
        return input_shape

    def get_config(self):
        from tensorlab.keras.layers import serialize
        config = super().get_config()
        config["layers"] = [serialize(v) for v in self._pipeline_layers]
        return config

    @classmethod
    def from_config(cls, config):
        from tensorlab.keras.layers import deserialize
        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(f"Pipeline: the config must have a `layers` list of serialized layers; received "
                             f"layers={layers!r}")
        return cls(**{**config, "layers": [deserialize(v) for v in layers]})


class RandAugment(_RandomImageLayer):
    """RandAugment (Cubuk et al., 2019): ``num_ops`` operations drawn at random for the batch, in training.

    The operations are Keras 3's eleven: RandomShear, RandomTranslation,
    RandomRotation, RandomBrightness, RandomColorDegeneration, RandomContrast,
    RandomSharpness, RandomPosterization, Solarization, AutoContrast and
    Equalization, built with ``factor`` as their factor (posterization keeps
    ``max(1, int(8 * factor[1]))`` bits at most) and this layer's ``seed``.
    Each of the ``num_ops`` draws picks one (repeats allowed) and applies it to
    the whole batch with its own random parameters; the picks are read back.

    Args:
      value_range: ``(low, high)`` of the pixel values (default ``(0, 255)``).
      num_ops: how many operations to apply (default 2).
      factor: the strength: ``f`` in [0, 1] (``(0, f)``) or a pair (default 0.5).
      interpolation: ``"bilinear"`` (default) or ``"nearest"``, for the geometric operations.
      seed: an integer seed for the draws.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.RandAugment(value_range=(0, 1), num_ops=3, factor=0.3)(images, training=True)
    """

    _FACTOR_BOUNDS = (0, 1)

    def __init__(self, value_range=(0, 255), num_ops=2, factor=0.5, interpolation="bilinear", seed=None,
                 data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        _check_value_range("RandAugment", value_range)
        if isinstance(num_ops, bool) or not isinstance(num_ops, int) or num_ops < 0:
            raise ValueError(f"RandAugment: `num_ops` must be a non-negative integer; received num_ops={num_ops!r}")
        _check_interpolation("RandAugment", interpolation)
        self.value_range, self.num_ops, self.interpolation = value_range, num_ops, interpolation
        self.factor = f = self._set_factor(factor)
        common = {"seed": seed, "dtype": self.dtype_policy.name}
        ranged = dict(common, value_range=value_range)
        self._ops = [RandomShear(f, f, interpolation=interpolation, **common),
                     RandomTranslation(f, f, interpolation=interpolation, **common),
                     RandomRotation(f, interpolation=interpolation, **common),
                     RandomBrightness(f, **ranged), RandomColorDegeneration(f, **ranged),
                     RandomContrast(f, **ranged), RandomSharpness(f, **ranged),
                     RandomPosterization(max(1, int(8 * f[1])), **ranged),
                     Solarization(f, f, **ranged), AutoContrast(value_range, dtype=self.dtype_policy.name),
                     Equalization(value_range, dtype=self.dtype_policy.name)]

    def call(self, inputs, training=True):
        x = tl.cast(inputs, self.compute_dtype)
        if not training or is_symbolic(x) or self.num_ops == 0:
            return x
        x = to_channels_last_image(self, x)
        src = tl.random if self._generator is None else self._generator
        with tl.device(x.device):
            picks = src.uniform([self.num_ops], 0, len(self._ops), dtype=tl.int32).numpy().tolist()
        with tl.device(x.device):  # the operations' own constants go with the images
            for i in picks:  # the operations are channels_last (their default)
                x = self._ops[i](x, training=True)
        return from_channels_last_image(self, x)

    def get_config(self):
        config = super().get_config()
        config.update({"value_range": self.value_range, "num_ops": self.num_ops, "factor": self.factor,
                       "interpolation": self.interpolation, "seed": self.seed})
        return config
