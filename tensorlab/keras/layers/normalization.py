"""Normalization layers: BatchNormalization, LayerNormalization, RMSNormalization, GroupNormalization,
UnitNormalization, SpectralNormalization."""
import sys

import tensorlab as tl
from tensorlab.keras import constraints, initializers, regularizers
from tensorlab.keras.layers._common import is_symbolic, normalized_axes, shape_str, symbolic_like
from tensorlab.keras.layers.base import Layer
from tensorlab.keras.layers.wrapper import Wrapper
from tensorlab.ops import normalization as _fused
from tensorlab.ops import training_ops as _training_ops


class _NormBase(Layer):
    """Shared by the normalization layers: weights, axes, and float32 statistics for
    float16/bfloat16 inputs (``call``, which runs the subclass's ``_call_float``)."""

    def _common_init(self, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                     gamma_regularizer, beta_constraint, gamma_constraint):
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def _make_params(self, param_shape):
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(name="gamma", shape=param_shape, initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                                         trainable=True, autocast=False)
        if self.center:
            self.beta = self.add_weight(name="beta", shape=param_shape, initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                                        trainable=True, autocast=False)

    def _check_built_shape(self, x):
        nd = len(x.shape)
        if nd != self._ndim:
            raise ValueError(f'Input 0 of layer "{self.name}" ({type(self).__name__}) is incompatible with the '
                             f"layer: expected ndim={self._ndim}, found ndim={nd}. Full shape received: "
                             f"{shape_str(tuple(x.shape))}")
        for a in self._axes:
            if x.shape[a] is not None and x.shape[a] != self._sizes[a]:
                raise ValueError(f'Input 0 of layer "{self.name}" ({type(self).__name__}) is incompatible '
                                 f"with the layer: expected axis {a} of input shape to have value "
                                 f"{self._sizes[a]}, but received input with shape {shape_str(tuple(x.shape))}")

    def call(self, inputs, **kwargs):
        # float16/bfloat16 inputs (mixed precision) are normalized in float32, with the
        # float32 weights (not autocast), and the result cast back, as Keras does.
        x = inputs
        in_dtype = x.dtype
        if in_dtype.is_floating and in_dtype.size < 4:
            x = tl.cast(x, tl.float32)
        y = self._call_float(x, **kwargs)
        return tl.cast(y, in_dtype) if y.dtype != in_dtype else y

    def _bcast(self, v, dtype):
        """A per-feature parameter shaped to broadcast against the input."""
        if v.dtype != dtype:
            v = tl.cast(v, dtype)
        if self._bshape is not None:
            v = tl.reshape(v, self._bshape)
        return v

    def _last_axis_only(self):
        """Whether the features are exactly the last axis (what the fused ops normalize over)."""
        return self._axes == [self._ndim - 1]

    def _param(self, v, x):
        """gamma / beta for the fused ops: None, or the weight in x's dtype."""
        return None if v is None else (v if v.dtype == x.dtype else tl.cast(v, x.dtype))

    def _setup_axes(self, input_shape):
        input_shape = tuple(input_shape)
        self._ndim = len(input_shape)
        self._axes = normalized_axes(self, self.axis, input_shape)
        self._sizes = {a: input_shape[a] for a in self._axes}
        self._reduction_axes = [i for i in range(self._ndim) if i not in self._axes]
        param_shape = tuple(input_shape[a] for a in self._axes)
        trailing = self._axes == list(range(self._ndim - len(self._axes), self._ndim))
        self._bshape = None if trailing else tuple(input_shape[i] if i in self._axes else 1
                                                   for i in range(self._ndim))
        return param_shape

    def _normalize(self, x, mean, var):
        inv = tl.rsqrt(var + self.epsilon)
        if self.gamma is not None:
            inv = inv * self._bcast(self.gamma, x.dtype)
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + self._bcast(self.beta, x.dtype)
        return x * inv + shift

    def _rms_normalize(self, x, scale):
        """``x * rsqrt(mean(x ** 2 over the feature axes) + epsilon) * scale`` (scale may be None)."""
        ms = tl.reduce_mean(tl.square(x), axis=self._axes, keepdims=True)
        y = x * tl.rsqrt(ms + self.epsilon)
        return y * self._bcast(scale, x.dtype) if scale is not None else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _norm_config(self):
        return {
            "center": self.center, "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }


class BatchNormalization(_NormBase):
    """Normalizes each feature with batch statistics in training and moving statistics in inference.

    In training (``training=True``, e.g. inside ``fit``) the output is
    ``gamma * (x - mean(x)) / sqrt(var(x) + epsilon) + beta`` over the batch
    (and spatial) axes, and the moving statistics are updated:
    ``moving = moving * momentum + batch_stat * (1 - momentum)``. In inference
    the moving statistics are used instead. A layer with ``trainable = False``
    always runs in inference mode (Keras' fine-tuning behaviour).

    Args:
      axis: the feature axis (or list of axes), default -1 (channels_last).
      momentum: momentum of the moving averages (default 0.99).
      epsilon: added to the variance (default 1e-3).
      center, scale: whether to learn ``beta`` / ``gamma``.
      beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: for the weights.
      synchronized: under a ``tl.distribute`` strategy with several replicas, compute the
        batch statistics over the global batch (all replicas) instead of each replica's part.
      renorm, renorm_clipping, renorm_momentum: Keras' batch renormalization, which tensorlab
        does not implement: accepted at their defaults (``False``, ``None``, ``0.99``, as Keras
        configs carry them); other values raise ``ValueError``.

    Example:
      >>> bn = tl.keras.layers.BatchNormalization()
      >>> y = bn(tl.random.normal((8, 3)), training=True)
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        # Keras 3 writes the batch-renormalization options into every config; tensorlab does not
        # implement batch renormalization, so only their defaults (renorm off) are accepted.
        for k, v, ok in (("renorm", renorm, not renorm), ("renorm_clipping", renorm_clipping, not renorm_clipping),
                         ("renorm_momentum", renorm_momentum, renorm_momentum is None or renorm_momentum == 0.99)):
            if not ok:
                raise ValueError(f"BatchNormalization: {k}={v!r} is not supported: tensorlab does not implement "
                                 "batch renormalization; only renorm=False, renorm_clipping=None and "
                                 "renorm_momentum=0.99 (the defaults) are accepted")
        for k in ("fused", "virtual_batch_size", "adjustment"):
            if kwargs.pop(k, None) not in (None, False):
                raise ValueError(f"BatchNormalization: argument {k!r} is not supported")
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else tuple(int(a) for a in axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.synchronized = bool(synchronized)
        self._common_init(center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                          gamma_regularizer, beta_constraint, gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        param_shape = self._setup_axes(input_shape)
        self._make_params(param_shape)
        self.moving_mean = self.add_weight(name="moving_mean", shape=param_shape,
                                           initializer=self.moving_mean_initializer, trainable=False,
                                           autocast=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=param_shape,
                                               initializer=self.moving_variance_initializer, trainable=False,
                                               autocast=False)
        self.built = True

    def call(self, inputs, training=None):
        return _NormBase.call(self, inputs, training=training)

    def _call_float(self, x, training=None):
        self._check_built_shape(x)
        if training and self.trainable and not is_symbolic(x):
            ctx = self._sync_context() if self.synchronized else None
            if ctx is None and self._last_axis_only():
                # One fused op (statistics, normalization and a fused backward).
                y, mean, var = _fused.batch_norm(x, self._param(self.gamma, x), self._param(self.beta, x),
                                                 self.epsilon)
                self._update_moving(mean, var)
                return y
            if ctx is not None:
                mean, var = self._synchronized_moments(x, ctx)
            else:
                mean = tl.reduce_mean(x, axis=self._reduction_axes, keepdims=self._bshape is not None)
                var = tl.reduce_mean(tl.square(x - mean), axis=self._reduction_axes,
                                     keepdims=self._bshape is not None)
            self._update_moving(mean, var)
            return self._normalize(x, mean, var)
        return self._normalize(x, self._bcast(self.moving_mean, x.dtype), self._bcast(self.moving_variance, x.dtype))

    @staticmethod
    def _sync_context():
        dist = sys.modules.get("tensorlab.distribute")  # no strategy can exist before it is imported
        ctx = dist.get_replica_context() if dist is not None else None
        return ctx if ctx is not None and ctx.num_replicas_in_sync > 1 else None

    def _synchronized_moments(self, x, ctx):
        """Mean and variance over all replicas' rows (two differentiable all-reduces)."""
        keep = self._bshape is not None
        count = 1
        for a in self._reduction_axes:
            count *= x.shape[a]
        total, n = ctx.all_reduce("SUM", [tl.reduce_sum(x, axis=self._reduction_axes, keepdims=keep),
                                          tl.constant(float(count), dtype=x.dtype)])
        mean = total / n
        sq = ctx.all_reduce("SUM", tl.reduce_sum(tl.square(x - mean), axis=self._reduction_axes, keepdims=keep))
        return mean, sq / n

    def _update_moving(self, mean, var):
        m = self.momentum
        for v, stat in ((self.moving_mean, mean), (self.moving_variance, var)):
            # (apply_moving_average is not differentiable: no gradient flows into the statistics here)
            if self._bshape is not None:
                stat = tl.reshape(stat, tuple(v.shape))
            if stat.dtype != v.dtype:
                stat = tl.cast(stat, v.dtype)
            # one op (v * m + stat * (1 - m)) instead of four, with m never a device tensor
            v.assign(_training_ops.apply_moving_average(v.read_value(), stat, momentum=m)[0])

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "synchronized": self.synchronized,
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
        })
        config.update(self._norm_config())
        return config


class LayerNormalization(_NormBase):
    """Normalizes each example over its feature axes: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    Statistics are computed per example (same in training and inference).

    Args:
      axis: axis or list of axes to normalize over (default -1).
      epsilon: added to the variance (default 1e-3).
      center, scale: whether to learn ``beta`` / ``gamma`` (shaped like the normalized axes).
      rms_scaling: if True, skip centering and scale by the root mean square instead.
      beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: for the weights.

    Example:
      >>> ln = tl.keras.layers.LayerNormalization()
      >>> ln(tl.random.normal((2, 5))).shape
      TensorShape([2, 5])
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else tuple(int(a) for a in axis)
        self.epsilon = float(epsilon)
        self.rms_scaling = bool(rms_scaling)
        self._common_init(center and not rms_scaling, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint)
        self._center_arg = bool(center)
        self.supports_masking = True

    def build(self, input_shape):
        param_shape = self._setup_axes(input_shape)
        self._make_params(param_shape)
        self.built = True

    def call(self, inputs):
        return _NormBase.call(self, inputs)

    def _call_float(self, x):
        self._check_built_shape(x)
        if self.rms_scaling:
            return self._rms_normalize(x, self.gamma)
        if self._last_axis_only() and not is_symbolic(x):
            return _fused.layer_norm(x, self._param(self.gamma, x), self._param(self.beta, x), self.epsilon)
        mean = tl.reduce_mean(x, axis=self._axes, keepdims=True)
        var = tl.reduce_mean(tl.square(x - mean), axis=self._axes, keepdims=True)
        return self._normalize(x, mean, var)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon, "rms_scaling": self.rms_scaling})
        config.update(self._norm_config())
        config["center"] = self._center_arg
        return config


class RMSNormalization(_NormBase):
    """Root-mean-square normalization (Zhang & Sennrich, 2019), as in Keras 3.9:
    ``x * rsqrt(mean(x ** 2, axis) + epsilon) * scale``.

    Unlike ``LayerNormalization`` it neither centers nor learns a shift. float16/bfloat16 inputs
    are normalized in float32 and cast back.

    Args:
      axis: axis or list of axes to normalize over (default -1); ``scale`` has their sizes.
      epsilon: added to the mean square (default 1e-6).

    Example:
      >>> rms = tl.keras.layers.RMSNormalization()
      >>> rms(tl.constant([[3.0, 4.0]])).numpy()  # sqrt(mean([9, 16])) = 3.5355
      array([[0.8485281, 1.1313708]], dtype=float32)
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        ints = isinstance(axis, (list, tuple)) and axis and \
            all(isinstance(a, int) and not isinstance(a, bool) for a in axis)
        if not ints and (isinstance(axis, bool) or not isinstance(axis, int)):
            raise TypeError(f"RMSNormalization: `axis` must be an int or a non-empty list of ints; received "
                            f"axis={axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon < 0:
            raise ValueError(f"RMSNormalization: `epsilon` must be a non-negative float; received "
                             f"epsilon={epsilon!r}")
        self.axis = axis if isinstance(axis, int) else list(axis)
        self.epsilon = float(epsilon)
        self.supports_masking = True

    def build(self, input_shape):
        param_shape = self._setup_axes(input_shape)
        # float32 under mixed precision: the normalization runs in float32 (_NormBase.call).
        self.scale = self.add_weight(name="scale", shape=param_shape, initializer="ones", trainable=True,
                                     autocast=False)
        self.built = True

    def call(self, inputs):
        return _NormBase.call(self, inputs)

    def _call_float(self, x):
        self._check_built_shape(x)
        return self._rms_normalize(x, self.scale)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config


class GroupNormalization(_NormBase):
    """Normalizes each example over groups of channels: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    The ``axis`` channels are split into ``groups`` contiguous groups; mean and
    variance are computed per example and group, over the group's channels and
    all other non-batch axes. ``groups=1`` is close to LayerNormalization over
    all non-batch axes; ``groups=-1`` (one group per channel) is instance
    normalization. The statistics are the same in training and inference.

    Args:
      groups: number of groups (default 32), or -1 for one group per channel;
        the channel count must be divisible by it.
      axis: the channel axis (default -1).
      epsilon: added to the variance (default 1e-3).
      center, scale: whether to learn ``beta`` / ``gamma`` (one value per channel).
      beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: for the weights.

    Example:
      >>> gn = tl.keras.layers.GroupNormalization(groups=2)
      >>> gn(tl.random.normal((3, 5, 4))).shape
      TensorShape([3, 5, 4])
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(groups, bool) or not isinstance(groups, int) or (groups < 1 and groups != -1):
            raise ValueError(f"GroupNormalization: `groups` must be a positive integer or -1; received "
                             f"groups={groups!r}")
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"GroupNormalization: `axis` must be an integer; received axis={axis!r}")
        self.groups = groups
        self.axis = axis
        self.epsilon = float(epsilon)
        self._common_init(center, scale, beta_initializer, gamma_initializer, beta_regularizer,
                          gamma_regularizer, beta_constraint, gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        (a,) = normalized_axes(self, self.axis, input_shape)
        if a == 0:
            raise ValueError(f'Layer "{self.name}" (GroupNormalization): axis {self.axis} is the batch axis of '
                             f"inputs of shape {shape_str(input_shape)}; choose a channel axis")
        dim = input_shape[a]
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups or dim % self.groups:
            raise ValueError(f'Layer "{self.name}" (GroupNormalization): the number of channels ({dim}, axis '
                             f"{self.axis} of input shape {shape_str(input_shape)}) must be a multiple of "
                             f"`groups` ({self.groups}) and at least `groups`")
        self._ndim, self._axes, self._sizes = len(input_shape), [a], {a: dim}
        self._make_params((dim,))
        # Parameters broadcast against the grouped input (..., groups, dim // groups, ...).
        self._bshape = (1,) * a + (self.groups, dim // self.groups) + (1,) * (len(input_shape) - a - 1)
        self.built = True

    def call(self, inputs):
        return _NormBase.call(self, inputs)

    def _call_float(self, x):
        self._check_built_shape(x)
        a, g = self._axes[0], self.groups
        shape = tuple(x.shape)
        grouped = [-1 if d is None else d for d in shape]
        grouped[a:a + 1] = [g, shape[a] // g]
        if grouped.count(-1) > 1:  # only a symbolic input has several unknown sizes
            return symbolic_like(shape, x.dtype)
        y = tl.reshape(x, grouped)
        axes = [i for i in range(1, len(grouped)) if i != a]
        mean = tl.reduce_mean(y, axis=axes, keepdims=True)
        var = tl.reduce_mean(tl.square(y - mean), axis=axes, keepdims=True)
        return tl.reshape(self._normalize(y, mean, var), [-1 if d is None else d for d in shape])

    def get_config(self):
        config = super().get_config()
        config.update({"groups": self.groups, "axis": self.axis, "epsilon": self.epsilon})
        config.update(self._norm_config())
        return config


class UnitNormalization(Layer):
    """Scales each example to unit L2 norm over ``axis``: ``x / max(||x||, 1e-6)``.

    Computed as ``x * rsqrt(max(sum(x ** 2, axis), 1e-12))``.

    Args:
      axis: axis or list of axes to normalize over (default -1).

    Example:
      >>> y = tl.keras.layers.UnitNormalization()(tl.constant([[3.0, 4.0]]))
      >>> y.numpy()
      array([[0.6, 0.8]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and all(isinstance(a, int) and not isinstance(a, bool) for a in axis):
            self.axis = list(axis)
        elif isinstance(axis, int) and not isinstance(axis, bool):
            self.axis = axis
        else:
            raise TypeError(f"UnitNormalization: `axis` must be an int or a list/tuple of ints; received "
                            f"axis={axis!r}")
        self.supports_masking = True

    def call(self, inputs):
        x = inputs
        nd = len(x.shape)
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        if any(not -nd <= a < nd for a in axes):
            raise ValueError(f'Layer "{self.name}" (UnitNormalization): axis {self.axis} is out of range for '
                             f"inputs of rank {nd} (input shape {shape_str(tuple(x.shape))})")
        square_sum = tl.reduce_sum(tl.square(x), axis=axes, keepdims=True)
        return x * tl.rsqrt(tl.maximum(square_sum, 1e-12))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class SpectralNormalization(Wrapper):
    """Divides a wrapped layer's kernel by its largest singular value in training (GAN
    discriminators), as Keras does.

    Each training call runs ``power_iterations`` steps of the power method on the kernel
    (viewed as ``[-1, out_features]``) from the stored estimate ``vector_u``, divides the kernel
    by the resulting spectral norm, and writes the normalized kernel back into the wrapped
    layer's variable (Keras' semantics: the next update starts from it). Inference uses the
    kernel as it is. An all-zero kernel is left alone.

    Args:
      layer: a layer with a ``kernel`` (Dense, Conv*) or ``embeddings`` (Embedding) weight.
      power_iterations: power-method steps per training call (default 1).

    Example:
      >>> sn = tl.keras.layers.SpectralNormalization(tl.keras.layers.Dense(8))
      >>> sn(tl.ones((2, 4)), training=True).shape
      TensorShape([2, 8])
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if int(power_iterations) <= 0:
            raise ValueError(f"SpectralNormalization: `power_iterations` must be a positive integer; received "
                             f"{power_iterations!r}")
        self.power_iterations = int(power_iterations)

    def build(self, input_shape):
        Wrapper.build(self, input_shape)
        self.kernel = getattr(self.layer, "kernel", None)
        if self.kernel is None:
            self.kernel = getattr(self.layer, "embeddings", None)
        if not isinstance(self.kernel, tl.Variable):
            raise ValueError(f'Layer "{self.name}" (SpectralNormalization): the wrapped '
                             f'{type(self.layer).__name__} "{self.layer.name}" has neither a `kernel` nor an '
                             "`embeddings` weight")
        self.vector_u = self.add_weight(name="vector_u", shape=(1, self.kernel.shape[-1]),
                                        initializer=initializers.TruncatedNormal(stddev=0.02), trainable=False,
                                        dtype=self.kernel.dtype, autocast=False)
        self.built = True

    def _normalized(self):
        """(new u, kernel / sigma) from the power method."""
        k = self.kernel.read_value()
        w = tl.reshape(k, (-1, k.shape[-1]))
        u = self.vector_u.read_value()
        for _ in range(self.power_iterations):
            v = tl.math.l2_normalize(tl.matmul(u, w, transpose_b=True))
            u = tl.math.l2_normalize(tl.matmul(v, w))
        u, v = tl.stop_gradient(u), tl.stop_gradient(v)
        sigma = tl.matmul(tl.matmul(v, w), u, transpose_b=True)
        return u, k / tl.reshape(sigma, ())

    def call(self, inputs, training=None):
        if training and not is_symbolic(inputs) and bool(tl.reduce_any(tl.not_equal(self.kernel, 0))):
            u, k = self._normalized()
            self.vector_u.assign(u)
            self.kernel.assign(tl.stop_gradient(k))
        return self.layer(inputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config["power_iterations"] = self.power_iterations
        return config
