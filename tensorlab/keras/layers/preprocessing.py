"""Preprocessing layers: Rescaling, Normalization (with ``adapt``), Resizing and CenterCrop."""
import tensorlab as tl
from tensorlab.keras.layers._common import check_ndim, normalize_data_format, normalized_axes, shape_str
from tensorlab.keras.layers.base import Layer


class Rescaling(Layer):
    """Rescales inputs: ``inputs * scale + offset`` (integer inputs are cast to the layer's dtype).

    Args:
      scale: the multiplier (e.g. ``1 / 255``).
      offset: added after scaling (default 0).

    Example:
      >>> tl.keras.layers.Rescaling(1 / 255)(tl.constant([[0., 255.]])).numpy()
      array([[0., 1.]], dtype=float32)
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def call(self, inputs):
        x = inputs
        if x.dtype.name != self.compute_dtype:
            x = tl.cast(x, self.compute_dtype)
        y = x * self.scale
        if not (isinstance(self.offset, (int, float)) and self.offset == 0):
            y = y + self.offset
        return y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config


class Normalization(Layer):
    """Shifts and scales features to zero mean and unit variance: ``(x - mean) / sqrt(var)``.

    The statistics come from ``mean``/``variance`` or are computed from data
    with ``adapt(data)`` before training.

    Args:
      axis: the axis (or axes) that keep separate statistics (default -1:
        one mean and variance per feature); None for one scalar mean and variance.
      mean, variance: known statistics (broadcastable to the kept axes).
      invert: apply the inverse transform ``x * sqrt(var) + mean`` instead.

    Example:
      >>> norm = tl.keras.layers.Normalization()
      >>> norm.adapt(np.array([[1.], [2.], [3.]]))
      >>> norm(tl.constant([[2.]])).numpy()
      array([[0.]], dtype=float32)
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            self.axis = ()
        elif isinstance(axis, int):
            self.axis = (axis,)
        else:
            self.axis = tuple(int(a) for a in axis)
        if (mean is None) != (variance is None):
            raise ValueError("Normalization: give both `mean` and `variance`, or neither (and call adapt); "
                             f"received mean={mean!r}, variance={variance!r}")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self._adapted = mean is not None

    def _setup(self, input_shape):
        input_shape = tuple(input_shape)
        nd = len(input_shape)
        keep = normalized_axes(self, self.axis, input_shape)
        self._ndim = nd
        self._keep = keep
        self._reduce = [i for i in range(nd) if i not in keep]
        self._param_shape = tuple(input_shape[a] for a in keep)
        self._bshape = tuple(input_shape[i] if i in keep else 1 for i in range(nd))

    def build(self, input_shape):
        self._setup(input_shape)
        self.mean = self.add_weight(name="mean", shape=self._param_shape, initializer="zeros", trainable=False)
        self.variance = self.add_weight(name="variance", shape=self._param_shape, initializer="ones",
                                        trainable=False)
        self.count = self.add_weight(name="count", shape=(), dtype="int64", initializer="zeros", trainable=False)
        if self.input_mean is not None:
            for v, val in ((self.mean, self.input_mean), (self.variance, self.input_variance)):
                val = tl.cast(tl.convert_to_tensor(val), v.dtype)
                if tuple(val.shape) != self._param_shape:
                    val = tl.broadcast_to(val, self._param_shape)
                v.assign(val)
        self.built = True

    def adapt(self, data, batch_size=None, steps=None):
        """Computes the mean and variance of ``data`` (an array, a tensor, or an iterable of batches).

        Args:
          data: the data; for an iterable (e.g. a ``tl.data.Dataset`` or a
            generator) every batch is used (or the first ``steps``).
          batch_size, steps: for compatibility; ``steps`` limits an iterable.
        """
        batches = _batches(data, steps)
        count = None
        mean = var = None
        for x in batches:
            if not self.built:
                self.build(tuple(x.shape))
            x64 = tl.cast(x, tl.float64)
            n = 1
            for a in self._reduce:
                n *= x.shape[a]
            if n == 0:
                continue
            bm = tl.reduce_mean(x64, axis=self._reduce)
            bv = tl.reduce_mean(tl.square(x64 - tl.reshape(bm, self._bshape)), axis=self._reduce)
            if count is None:
                count, mean, var = n, bm, bv
                continue
            # Chan et al.'s pairwise update of mean and (population) variance.
            total = count + n
            delta = bm - mean
            mean = mean + delta * (n / total)
            var = (var * count + bv * n + tl.square(delta) * (count * n / total)) / total
            count = total
        if count is None:
            raise ValueError(f'Layer "{self.name}" (Normalization): adapt() received no data')
        self.mean.assign(tl.cast(mean, self.mean.dtype))
        self.variance.assign(tl.cast(var, self.variance.dtype))
        self.count.assign(tl.constant(count, dtype=tl.int64))
        self._adapted = True

    def call(self, inputs):
        x = inputs
        if x.dtype.name != self.compute_dtype:
            x = tl.cast(x, self.compute_dtype)
        if len(x.shape) != self._ndim:
            raise ValueError(f'Input 0 of layer "{self.name}" (Normalization) is incompatible with the layer: '
                             f"expected ndim={self._ndim}, found ndim={len(x.shape)}. Full shape received: "
                             f"{shape_str(tuple(x.shape))}")
        mean = tl.reshape(tl.cast(self.mean, x.dtype), self._bshape)
        std = tl.maximum(tl.sqrt(tl.reshape(tl.cast(self.variance, x.dtype), self._bshape)), 1e-7)
        if self.invert:
            return mean + x * std
        return (x - mean) / std

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        axis = None if self.axis == () else (self.axis[0] if len(self.axis) == 1 else self.axis)
        mean, var = self.input_mean, self.input_variance
        if hasattr(mean, "tolist"):
            mean, var = mean.tolist(), var.tolist()
        elif hasattr(mean, "numpy"):
            mean, var = mean.numpy().tolist(), var.numpy().tolist()
        config.update({"axis": axis, "mean": mean, "variance": var, "invert": self.invert})
        return config


# ----------------------------------------------------------------- images
def to_channels_last_image(layer, x):
    """``x`` (rank 3 or 4, in ``layer.data_format``) as channels_last; checks the rank."""
    check_ndim(layer, x, min_ndim=3, max_ndim=4)
    if layer.data_format == "channels_last":
        return x
    return tl.transpose(x, [1, 2, 0] if len(x.shape) == 3 else [0, 2, 3, 1])


def from_channels_last_image(layer, x):
    if layer.data_format == "channels_last":
        return x
    return tl.transpose(x, [2, 0, 1] if len(x.shape) == 3 else [0, 3, 1, 2])


def image_hw(layer, x):
    """The static height and width of a channels_last image (a ValueError when unknown)."""
    h, w = x.shape[-3], x.shape[-2]
    if h is None or w is None:
        raise ValueError(f'Layer "{layer.name}" ({type(layer).__name__}) needs images with a known height and '
                         f"width; received shape {shape_str(tuple(x.shape))}")
    return h, w


def crop_box(x, top, left, height, width):
    """The ``height`` x ``width`` window at (top, left) of a channels_last image or batch."""
    lead = len(x.shape) - 3
    return tl.slice(x, [0] * lead + [top, left, 0], [-1] * lead + [height, width, -1])


def aspect_crop(x, target_height, target_width):
    """The largest central window of ``x`` with the target aspect ratio (Keras' ``smart_resize`` crop)."""
    h, w = x.shape[-3], x.shape[-2]
    ch = max(min(h, int(float(w * target_height) / target_width)), 1)
    cw = max(min(w, int(float(h * target_width) / target_height)), 1)
    return crop_box(x, int(float(h - ch) / 2), int(float(w - cw) / 2), ch, cw)


def check_size(cls, **sizes):
    for k, v in sizes.items():
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{cls}: `{k}` must be a positive integer; received {k}={v!r}")


def set_image_shape(input_shape, data_format, height, width):
    shape = list(input_shape)
    h_ax = len(shape) - (2 if data_format == "channels_first" else 3)
    shape[h_ax], shape[h_ax + 1] = height, width
    return tuple(shape)


_RESIZE_INTERPOLATIONS = ("bilinear", "nearest")


class Resizing(Layer):
    """Resizes images to ``(height, width)``.

    Inputs are 4-D ``(batch, height, width, channels)`` or 3-D unbatched
    images (channels first with ``data_format="channels_first"``), of any value
    range. Float inputs come out in the layer's dtype; integer inputs are
    resized in float32, rounded and clipped back to their own dtype.

    Args:
      height, width: the output size.
      interpolation: ``"bilinear"`` (default) or ``"nearest"`` (TF2's
        half-pixel-centered resizing); the other Keras methods (``"bicubic"``,
        ``"lanczos3"``...) are not implemented and raise.
      crop_to_aspect_ratio: first crop the largest central window with the
        target aspect ratio, so the image is not distorted.
      pad_to_aspect_ratio: first pad the short side evenly with ``fill_value``
        to the target aspect ratio, so the image is not distorted.
      fill_mode: the padding mode; only ``"constant"``.
      fill_value: the padding value for ``pad_to_aspect_ratio``.
      antialias: must be False (antialiased downsampling is not implemented).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.Resizing(64, 48)(tl.ones([2, 32, 32, 3])).shape
      TensorShape([2, 64, 48, 3])
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, antialias=False,
                 data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_size("Resizing", height=height, width=width)
        if interpolation not in _RESIZE_INTERPOLATIONS:
            raise ValueError(f"Resizing: `interpolation` must be one of {_RESIZE_INTERPOLATIONS}; received "
                             f"interpolation={interpolation!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing: only one of `pad_to_aspect_ratio` and `crop_to_aspect_ratio` can be True")
        if fill_mode != "constant":
            raise ValueError(f"Resizing: `fill_mode` must be 'constant'; received fill_mode={fill_mode!r}")
        if antialias:
            raise ValueError("Resizing: antialias=True is not implemented; received antialias=True")
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = False
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        x = to_channels_last_image(self, inputs)
        image_hw(self, x)
        if self.crop_to_aspect_ratio:
            x = aspect_crop(x, self.height, self.width)
        elif self.pad_to_aspect_ratio:
            x = self._pad(x)
        y = tl.image.resize(x, [self.height, self.width], method=self.interpolation)
        if y.dtype != inputs.dtype and inputs.dtype.is_integer:
            d = inputs.dtype
            y = tl.cast(tl.clip_by_value(tl.round(y), float(d.min), float(d.max)), d)
        return from_channels_last_image(self, y)

    def _pad(self, x):
        h, w = x.shape[-3], x.shape[-2]
        top = int(float(max(h, int(float(w * self.height) / self.width)) - h) / 2)
        left = int(float(max(w, int(float(h * self.width) / self.height)) - w) / 2)
        lead = [[0, 0]] * (len(x.shape) - 3)
        if top > 0:
            return tl.pad(x, lead + [[top, top], [0, 0], [0, 0]], constant_values=self.fill_value)
        if left > 0:
            return tl.pad(x, lead + [[0, 0], [left, left], [0, 0]], constant_values=self.fill_value)
        return x

    def compute_output_shape(self, input_shape):
        return set_image_shape(input_shape, self.data_format, self.height, self.width)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "height": self.height, "width": self.width,
                       "interpolation": self.interpolation, "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                       "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                       "fill_value": self.fill_value, "antialias": self.antialias})
        return config


class CenterCrop(Layer):
    """Crops the central ``(height, width)`` window of images.

    An image smaller than the target (in either dimension) is instead cropped
    to the largest central window with the target aspect ratio and resized
    (bilinear) to ``(height, width)``. Inputs are 3-D or 4-D images of any value
    range; the output has the layer's dtype.

    Args:
      height, width: the output size.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.CenterCrop(24, 24)(tl.ones([2, 32, 32, 3])).shape
      TensorShape([2, 24, 24, 3])
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        check_size("CenterCrop", height=height, width=width)
        self.height, self.width = height, width
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        x = to_channels_last_image(self, tl.cast(inputs, self.compute_dtype))
        h, w = image_hw(self, x)
        if h >= self.height and w >= self.width:
            y = crop_box(x, int((h - self.height) / 2), int((w - self.width) / 2), self.height, self.width)
        else:
            y = tl.image.resize(aspect_crop(x, self.height, self.width), [self.height, self.width])
        return from_channels_last_image(self, y)

    def compute_output_shape(self, input_shape):
        return set_image_shape(input_shape, self.data_format, self.height, self.width)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "height": self.height, "width": self.width})
        return config


def _batches(data, steps):
    if isinstance(data, (tl.Tensor, tl.Variable)) or hasattr(data, "__array__") or \
            isinstance(data, (list, tuple)) and data and not hasattr(data[0], "shape"):
        yield data if isinstance(data, tl.Tensor) else tl.convert_to_tensor(data)
        return
    for i, b in enumerate(data):
        if steps is not None and i >= steps:
            return
        if isinstance(b, (list, tuple)):  # (x, y) pairs: use x
            b = b[0]
        yield b if isinstance(b, tl.Tensor) else tl.convert_to_tensor(b)
