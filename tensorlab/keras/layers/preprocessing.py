"""Preprocessing layers: Rescaling and Normalization (with ``adapt``)."""
import tensorlab as tl
from tensorlab.keras.layers._common import shape_str
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
        keep = []
        for a in self.axis:
            if not -nd <= a < nd:
                raise ValueError(f'Layer "{self.name}" (Normalization): axis {a} is out of range for inputs of '
                                 f"shape {shape_str(input_shape)}")
            keep.append(a % nd)
        keep = sorted(set(keep))
        for a in keep:
            if input_shape[a] is None:
                raise ValueError(f'Layer "{self.name}" (Normalization): axis {a} must have a known size; '
                                 f"received input shape {shape_str(input_shape)}")
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
