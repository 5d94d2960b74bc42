"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax."""
import tensorlab as tl
from tensorlab.keras import constraints, initializers, regularizers
from tensorlab.keras.layers._common import shape_str
from tensorlab.keras.layers.base import Layer


class _Elementwise(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ReLU(_Elementwise):
    """Rectified linear unit, with optional cap, leak and threshold.

    ``f(x) = max_value`` for ``x >= max_value``, ``x`` for ``threshold <= x < max_value``,
    ``negative_slope * (x - threshold)`` otherwise.

    Args:
      max_value: upper cap (None: no cap).
      negative_slope: slope below the threshold (default 0).
      threshold: where the function switches from the slope to the identity (default 0).

    Example:
      >>> tl.keras.layers.ReLU(max_value=1.0)(tl.constant([-1., 0.5, 2.])).numpy()
      array([0. , 0.5, 1. ], dtype=float32)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU: max_value must be >= 0 or None; received max_value={max_value}")
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"ReLU: negative_slope must be >= 0; received negative_slope={negative_slope}")
        if threshold is None:
            raise ValueError("ReLU: threshold must be a number; received None")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)

    def call(self, inputs):
        x = inputs
        if self.negative_slope == 0.0 and self.threshold == 0.0:
            y = tl.nn.relu(x)
        else:
            y = tl.where(tl.greater_equal(x, self.threshold), x, (x - self.threshold) * self.negative_slope)
        if self.max_value is not None:
            y = tl.minimum(y, self.max_value)
        return y

    def get_config(self):
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(_Elementwise):
    """Leaky ReLU: ``x`` for ``x >= 0``, ``negative_slope * x`` otherwise.

    Args:
      negative_slope: slope for negative inputs (default 0.3; ``alpha`` is the tf.keras spelling).

    Example:
      >>> tl.keras.layers.LeakyReLU()(tl.constant([-1., 2.])).numpy()
      array([-0.3,  2. ], dtype=float32)
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"LeakyReLU: negative_slope must be >= 0; received negative_slope={negative_slope}")
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        return tl.where(tl.greater_equal(inputs, 0.0), inputs, inputs * self.negative_slope)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class PReLU(_Elementwise):
    """Parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` otherwise, with a learned ``alpha``.

    Args:
      alpha_initializer, alpha_regularizer, alpha_constraint: for ``alpha``.
      shared_axes: axes (1-indexed, batch excluded) along which ``alpha`` is
        shared, e.g. ``[1, 2]`` for one alpha per channel of an image.

    ``alpha`` has the input's shape without the batch axis (size 1 on shared axes).
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, int):
            self.shared_axes = (shared_axes,)
        else:
            self.shared_axes = tuple(int(a) for a in shared_axes)

    def build(self, input_shape):
        param_shape = list(tuple(input_shape)[1:])
        for a in self.shared_axes or ():
            if not 1 <= a <= len(param_shape):
                raise ValueError(f'Layer "{self.name}" (PReLU): shared axis {a} is out of range for inputs of '
                                 f"shape {shape_str(tuple(input_shape))}")
            param_shape[a - 1] = 1
        if any(d is None for d in param_shape):
            raise ValueError(f'Layer "{self.name}" (PReLU) needs known non-batch dimensions (or shared_axes '
                             f"over the unknown ones); received input shape {shape_str(tuple(input_shape))}")
        self._param_shape = tuple(param_shape)
        self.alpha = self.add_weight(name="alpha", shape=tuple(param_shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)
        self.built = True

    def call(self, inputs):
        x = inputs
        if len(x.shape) - 1 != len(self._param_shape):
            raise ValueError(f'Input 0 of layer "{self.name}" (PReLU) is incompatible with the layer: expected '
                             f"ndim={len(self._param_shape) + 1}, found ndim={len(x.shape)}. Full shape received: "
                             f"{shape_str(tuple(x.shape))}")
        alpha = self.alpha if self.alpha.dtype == x.dtype else tl.cast(self.alpha, x.dtype)
        return tl.nn.relu(x) + alpha * tl.minimum(x, 0.0)

    def get_config(self):
        config = super().get_config()
        config.update({
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        })
        return config


class ELU(_Elementwise):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Args:
      alpha: scale of the negative part (default 1.0).
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        x = inputs
        # expm1 of min(x, 0) keeps the unused branch finite for large x.
        neg = tl.expm1(tl.minimum(x, 0.0))
        if self.alpha != 1.0:
            neg = neg * self.alpha
        return tl.where(tl.greater(x, 0.0), x, neg)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class Softmax(_Elementwise):
    """Softmax along ``axis``; an optional boolean ``mask`` excludes positions.

    Args:
      axis: the axis (or list of axes) to normalize over (default -1).

    Call arguments:
      inputs: the logits.
      mask: optional boolean tensor broadcastable to the inputs; False
        positions get (almost) zero probability.

    Example:
      >>> tl.keras.layers.Softmax()(tl.constant([[1., 1.]])).numpy()
      array([[0.5, 0.5]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else tuple(int(a) for a in axis)

    def call(self, inputs, mask=None):
        x = inputs
        if mask is not None:
            big = 1e9 if x.dtype != tl.float16 else 3e4
            x = x + (1.0 - tl.cast(mask, x.dtype)) * (-big)
        if isinstance(self.axis, tuple):
            return tl.exp(x - tl.reduce_logsumexp(x, axis=list(self.axis), keepdims=True))
        return tl.nn.softmax(x, axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
