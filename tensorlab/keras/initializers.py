"""Weight initializers (``keras.initializers``): ``init(shape, dtype) -> tensor``.

Initializers given an integer ``seed`` produce the same values on every
call; unseeded ones draw from the global generator (``tl.random.set_seed`` /
``keras.utils.set_random_seed`` make runs reproducible).
"""
import math
import operator

import tensorlab as tl
from tensorlab.keras import _ids
from tensorlab.keras import backend as _backend


def _dtype(dtype):
    return dtype if dtype is not None else _backend.floatx()


def compute_fans(shape, input_axes=None, output_axes=None):
    """(fan_in, fan_out) of a weight shape; conv kernels count the receptive field.

    With both ``input_axes`` and ``output_axes`` (as Keras 3's, e.g. for an ``EinsumDense``
    kernel), the fans are the products of the sizes along those axes; with only one of
    them, Keras 3 ignores it and so does this.
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        fan_in = fan_out = 1
        for a in input_axes:
            fan_in *= shape[a]
        for a in output_axes:
            fan_out *= shape[a]
        return int(fan_in), int(fan_out)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = 1
    for d in shape[:-2]:
        receptive *= d
    return shape[-2] * receptive, shape[-1] * receptive


def _axes_arg(name, arg, axes):
    """``input_axes``/``output_axes``: None or a list of ints (a JSON config gives lists)."""
    if axes is None:
        return None
    try:
        items = list(axes) if isinstance(axes, (list, tuple)) else [operator.index(axes)]
        if any(isinstance(a, bool) for a in items):
            raise TypeError
        return [operator.index(a) for a in items]
    except TypeError:
        raise ValueError(f"{name}: {arg} must be None or a list of integer axes, got {axes!r}") from None


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)`` and ``get_config``."""

    def __call__(self, shape, dtype=None, **kwargs):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None, **kwargs):
        return tl.zeros(shape, dtype=_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None, **kwargs):
        return tl.ones(shape, dtype=_dtype(dtype))


class Constant(Initializer):
    """Every value equal to ``value``."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None, **kwargs):
        return tl.broadcast_to(tl.constant(self.value, dtype=_dtype(dtype)), tuple(shape)) * 1

    def get_config(self):
        v = self.value
        return {"value": v.tolist() if hasattr(v, "tolist") else v}


def _draw(kind, seed, shape, a, b, dtype):
    """A sample from the global stream, or from a fresh generator for a seeded initializer
    (so that it returns the same values on every call, as in Keras)."""
    src = tl.random if seed is None else tl.random.Generator.from_seed(int(seed))
    return getattr(src, kind)(tuple(shape), a, b, dtype=dtype)


class _Random(Initializer):
    def __init__(self, seed=None):
        self.seed = seed

    def get_config(self):
        return {"seed": self.seed}


class RandomNormal(_Random):
    """Normal distribution with ``mean`` and ``stddev``."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None, **kwargs):
        return _draw("normal", self.seed, shape, self.mean, self.stddev, _dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(_Random):
    """Uniform distribution on ``[minval, maxval)``."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, dtype=None, **kwargs):
        return _draw("uniform", self.seed, shape, self.minval, self.maxval, _dtype(dtype))

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(_Random):
    """Normal distribution with values beyond two standard deviations redrawn."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def __call__(self, shape, dtype=None, **kwargs):
        return _draw("truncated_normal", self.seed, shape, self.mean, self.stddev, _dtype(dtype))

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class VarianceScaling(_Random):
    """Scales the variance by the weight's fan-in, fan-out or their average.

    Args:
      scale: the variance multiplier.
      mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
      distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"`` (any case).
        ``"normal"`` means ``"truncated_normal"``, as in Keras 3 (and is stored and saved as that):
        for untruncated samples say ``"untruncated_normal"``. Truncated samples lie within two
        standard deviations of 0 and, after the truncation, have the stddev ``sqrt(scale / n)``.
      seed: optional integer seed.
      input_axes, output_axes: optional lists of the weight's axes that count as its input and
        output units (both needed, as in Keras 3): the fans are the products of their sizes
        instead of the dense/conv-kernel rule of ``compute_fans``.

    Example:
      >>> init = tl.keras.initializers.VarianceScaling(2.0, "fan_in", "uniform", input_axes=[0, 1],
      ...                                              output_axes=[2])
      >>> init((4, 3, 8)).shape   # fan_in = 4 * 3 = 12
      TensorShape([4, 3, 8])
    """

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None, input_axes=None,
                 output_axes=None):
        super().__init__(seed)
        name = type(self).__name__
        if scale <= 0:
            raise ValueError(f"{name}: scale must be positive, got {scale}")
        if mode not in self._MODES:
            raise ValueError(f"{name}: unknown mode {mode!r}; valid: {', '.join(self._MODES)}")
        given = distribution
        distribution = str(distribution).lower()
        if distribution == "normal":  # Keras 3's alias
            distribution = "truncated_normal"
        if distribution not in self._DISTS:
            raise ValueError(f"{name}: unknown distribution {given!r}; valid: "
                             f"{', '.join(self._DISTS)} (or 'normal', the same as 'truncated_normal')")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes = _axes_arg(name, "input_axes", input_axes)
        self.output_axes = _axes_arg(name, "output_axes", output_axes)

    def __call__(self, shape, dtype=None, **kwargs):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        var = self.scale / max(1.0, n)
        dtype = _dtype(dtype)
        if self.distribution == "truncated_normal":
            # 0.879... is the stddev of a unit normal truncated to [-2, 2]: the samples' stddev is sqrt(var).
            std = math.sqrt(var) / 0.87962566103423978
            return _draw("truncated_normal", self.seed, shape, 0.0, std, dtype)
        if self.distribution == "untruncated_normal":
            return _draw("normal", self.seed, shape, 0.0, math.sqrt(var), dtype)
        limit = math.sqrt(3.0 * var)
        return _draw("uniform", self.seed, shape, -limit, limit, dtype)

    def _axes_config(self):
        # Written only when set, so that Keras versions before input_axes still read the config.
        return {k: v for k, v in (("input_axes", self.input_axes), ("output_axes", self.output_axes))
                if v is not None}

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed,
                **self._axes_config()}


def _with_fan_axes(initializer, input_axes, output_axes):
    """``initializer`` for a kernel whose input and output units lie along ``input_axes`` and ``output_axes``
    (as Keras 3's EinsumDense and MultiHeadAttention set them): a ``VarianceScaling`` (Glorot, He, ...)
    without both axes is cloned with these, so that its fans are not the convolution-kernel rule's; any
    other initializer is returned as it is."""
    if not isinstance(initializer, VarianceScaling) or (initializer.input_axes is not None
                                                        and initializer.output_axes is not None):
        return initializer
    config = initializer.get_config()
    config["seed"] = initializer.seed
    config["input_axes"], config["output_axes"] = list(input_axes), list(output_axes)
    return type(initializer).from_config(config)


def _vs_subclass(name, scale, mode, dist, doc):
    def __init__(self, seed=None, input_axes=None, output_axes=None):
        VarianceScaling.__init__(self, scale, mode, dist, seed, input_axes, output_axes)

    def get_config(self):
        return {"seed": self.seed, **self._axes_config()}
    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config, "__doc__": doc})


GlorotUniform = _vs_subclass("GlorotUniform", 1.0, "fan_avg", "uniform",
                             "Uniform on [-l, l] with l = sqrt(6 / (fan_in + fan_out)) (Xavier).")
GlorotNormal = _vs_subclass("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                            "Truncated normal with stddev sqrt(2 / (fan_in + fan_out)).")
HeUniform = _vs_subclass("HeUniform", 2.0, "fan_in", "uniform", "Uniform on [-l, l], l = sqrt(6 / fan_in).")
HeNormal = _vs_subclass("HeNormal", 2.0, "fan_in", "truncated_normal",
                        "Truncated normal with stddev sqrt(2 / fan_in).")
LecunUniform = _vs_subclass("LecunUniform", 1.0, "fan_in", "uniform",
                            "Uniform on [-l, l], l = sqrt(3 / fan_in).")
LecunNormal = _vs_subclass("LecunNormal", 1.0, "fan_in", "truncated_normal",
                           "Truncated normal with stddev sqrt(1 / fan_in).")


class Orthogonal(_Random):
    """A (scaled) random orthogonal matrix; higher-rank shapes are flattened to 2-D."""

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = gain

    def __call__(self, shape, dtype=None, **kwargs):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: the shape must have at least 2 dimensions, got {shape}")
        rows = 1
        for d in shape[:-1]:
            rows *= d
        cols = shape[-1]
        flat = (max(rows, cols), min(rows, cols))
        a = _draw("normal", self.seed, flat, 0.0, 1.0, "float64")
        q, r = tl.linalg.qr(a)
        q = q * tl.sign(tl.linalg.diag_part(r))  # unique: the signs of r's diagonal made positive
        if rows < cols:
            q = tl.linalg.matrix_transpose(q)
        return tl.cast(tl.reshape(q * self.gain, shape), _dtype(dtype))

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None, **kwargs):
        if len(shape) != 2:
            raise ValueError(f"Identity: needs a 2-D shape, got {tuple(shape)}")
        return tl.eye(shape[0], shape[1], dtype=_dtype(dtype)) * self.gain

    def get_config(self):
        return {"gain": self.gain}


_TABLE = {
    "Zeros": Zeros, "Ones": Ones, "Constant": Constant, "RandomNormal": RandomNormal,
    "RandomUniform": RandomUniform, "TruncatedNormal": TruncatedNormal, "VarianceScaling": VarianceScaling,
    "GlorotUniform": GlorotUniform, "GlorotNormal": GlorotNormal, "HeUniform": HeUniform, "HeNormal": HeNormal,
    "LecunUniform": LecunUniform, "LecunNormal": LecunNormal, "Orthogonal": Orthogonal, "Identity": Identity,
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal, "normal": RandomNormal,
    "random_uniform": RandomUniform, "uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "orthogonal": Orthogonal, "identity": Identity,
    "OrthogonalInitializer": Orthogonal, "IdentityInitializer": Identity,  # Keras 3's compatibility names
    "zeros_initializer": Zeros, "ones_initializer": Ones, "xavier_uniform": GlorotUniform,
    "xavier_normal": GlorotNormal,
}


def get(identifier):
    """An initializer from an instance, a name (``"he_normal"``), a config dict or a callable."""
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, str):
        return _ids.lookup("initializer", identifier, _TABLE)()
    if isinstance(identifier, dict):
        return _ids.from_dict("initializer", identifier, _TABLE)
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}; use a name such as "
                     f"'glorot_uniform', an Initializer instance or a callable(shape, dtype)")


def serialize(initializer):
    return _ids.serialize(initializer)


def deserialize(config, custom_objects=None):
    return _ids.from_dict("initializer", config, dict(_TABLE, **(custom_objects or {})))


# lower-case function aliases, as in keras.initializers
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_uniform, lecun_normal, orthogonal, identity = LecunUniform, LecunNormal, Orthogonal, Identity
variance_scaling = VarianceScaling
OrthogonalInitializer, IdentityInitializer = Orthogonal, Identity

from tensorlab.keras.initializers_stft import STFT, STFTInitializer  # noqa: E402 (it subclasses Initializer)

_TABLE.update({"STFT": STFT, "STFTInitializer": STFTInitializer, "stft": STFT})
