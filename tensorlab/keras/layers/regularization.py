"""Regularization layers: Dropout, SpatialDropout1D/2D, AlphaDropout, GaussianNoise, GaussianDropout,
ActivityRegularization. The random ones act only in training."""
import tensorlab as tl
from tensorlab.keras.layers._common import check_ndim, is_symbolic, normalize_data_format
from tensorlab.keras.layers.base import Layer


def _check_rate(cls, rate):
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise ValueError(f"{cls}: `rate` must be a float in the range [0, 1]; received rate={rate!r}")
    return float(rate)


class _Noise(Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Dropout(_Noise):
    """Sets input units to 0 with frequency ``rate`` in training, scaling the rest by ``1 / (1 - rate)``.

    In inference (``training`` false or unset, e.g. in ``predict`` and
    ``evaluate``) the layer is the identity, so the expected sum is unchanged.

    Args:
      rate: fraction of the input units to drop, in ``[0, 1]``.
      noise_shape: shape of the binary mask, broadcast against the input (e.g.
        ``(batch, 1, features)`` drops the same features at every step);
        ``None`` entries take the input's size.
      seed: seed for the random mask (reproducible per global seed).

    Example:
      >>> layer = tl.keras.layers.Dropout(0.5)
      >>> layer(tl.ones((2, 4)), training=True)   # entries are 0 or 2
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate("Dropout", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def _noise_shape(self, x):
        return self.noise_shape

    def call(self, inputs, training=None):
        if not training or self.rate == 0 or is_symbolic(inputs):
            return inputs
        if self.rate == 1:
            return inputs * 0.0
        return tl.nn.dropout(inputs, self.rate, noise_shape=self._noise_shape(inputs), seed=self.seed)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config


class SpatialDropout2D(Dropout):
    """Dropout of whole feature maps: one keep/drop decision per (example, channel).

    Args:
      rate: fraction of the channels to drop.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      seed: seed for the random mask.
    """

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs, training=None):
        check_ndim(self, inputs, ndim=4)
        return super().call(inputs, training=training)

    def _noise_shape(self, x):
        b = x.shape[0]
        if self.data_format == "channels_last":
            return (b, 1, 1, x.shape[3])
        return (b, x.shape[1], 1, 1)

    def get_config(self):
        config = super().get_config()
        config.pop("noise_shape", None)
        config["data_format"] = self.data_format
        return config


class SpatialDropout1D(SpatialDropout2D):
    """Dropout of whole channels of ``(batch, steps, channels)`` inputs."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def call(self, inputs, training=None):
        check_ndim(self, inputs, ndim=3)
        return Dropout.call(self, inputs, training=training)

    def _noise_shape(self, x):
        return (x.shape[0], 1, x.shape[2])

    def get_config(self):
        config = super().get_config()
        config.pop("data_format", None)
        return config


class AlphaDropout(_Noise):
    """Dropout that keeps the mean and variance of its inputs (for SELU networks), in training only.

    Dropped units are set to SELU's negative saturation value ``-alpha * scale``
    instead of 0, then an affine map ``a * x + b`` restores zero mean and unit
    variance for standard-normal inputs:
    ``a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5``, ``b = -a * alpha_p * rate``.
    With ``rate=1`` every unit is dropped and the output is 0 (the limit of the map).

    Args:
      rate: fraction of the input units to drop, in ``[0, 1]``.
      noise_shape: shape of the keep/drop mask, broadcast against the input;
        ``None`` entries take the input's size.
      seed: seed for the random mask.

    Example:
      >>> layer = tl.keras.layers.AlphaDropout(0.2, seed=1)
      >>> layer(tl.random.normal((4, 8)), training=True).shape
      TensorShape([4, 8])
    """

    _ALPHA = 1.6732632423543772848170429916717
    _SCALE = 1.0507009873554804934193349852946

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate("AlphaDropout", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed

    def _concrete_noise_shape(self, x):
        shape = tuple(x.shape)
        if self.noise_shape is None:
            return shape
        if len(self.noise_shape) != len(shape):
            raise ValueError(f'Layer "{self.name}" (AlphaDropout): noise_shape {self.noise_shape} must have one '
                             f"entry per input axis; received input shape {shape}")
        return tuple(d if n is None else n for n, d in zip(self.noise_shape, shape))

    def call(self, inputs, training=None):
        if not training or self.rate == 0 or is_symbolic(inputs):
            return inputs
        noise_shape = self._concrete_noise_shape(inputs)
        if self.rate == 1:
            return inputs * 0.0
        alpha_p = -self._ALPHA * self._SCALE
        kept = tl.cast(tl.greater_equal(tl.random.uniform(noise_shape, dtype=inputs.dtype, seed=self.seed),
                                        self.rate), inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * kept + alpha_p * (1.0 - kept)) + b

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config


class GaussianNoise(_Noise):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev``, in training only.

    Args:
      stddev: standard deviation of the noise.
      seed: seed for the noise.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if stddev < 0:
            raise ValueError(f"GaussianNoise: `stddev` must be >= 0; received stddev={stddev!r}")
        self.stddev = float(stddev)
        self.seed = seed

    def call(self, inputs, training=None):
        if not training or self.stddev == 0 or is_symbolic(inputs):
            return inputs
        return inputs + tl.random.normal(tuple(inputs.shape), stddev=self.stddev, dtype=inputs.dtype,
                                         seed=self.seed)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_Noise):
    """Multiplies the inputs by Gaussian noise of mean 1 and variance ``rate / (1 - rate)``, in training only.

    Args:
      rate: the equivalent drop probability.
      seed: seed for the noise.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _check_rate("GaussianDropout", rate)
        self.seed = seed

    def call(self, inputs, training=None):
        if not training or self.rate == 0 or self.rate == 1 or is_symbolic(inputs):
            return inputs
        std = (self.rate / (1.0 - self.rate)) ** 0.5
        return inputs * tl.random.normal(tuple(inputs.shape), mean=1.0, stddev=std, dtype=inputs.dtype,
                                         seed=self.seed)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class ActivityRegularization(_Noise):
    """Identity that adds ``l1 * sum(|x|) + l2 * sum(x^2)`` of its input to the layer's losses.

    Args:
      l1, l2: the penalty factors.
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        from tensorlab.keras import regularizers
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = float(l1)
        self.l2 = float(l2)

    def call(self, inputs):
        return inputs

    def get_config(self):
        config = super().get_config()
        config.update({"l1": self.l1, "l2": self.l2})
        return config
