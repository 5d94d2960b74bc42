"""Weight constraints (``keras.constraints``), applied after each optimizer update."""
import tensorlab as tl
from tensorlab.keras import _ids
from tensorlab.keras import backend as _backend


class Constraint:
    """Base class: ``constraint(weight) -> projected weight``."""

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _norms(w, axis):
    return tl.sqrt(tl.reduce_sum(tl.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """Rescales weights whose norm along ``axis`` exceeds ``max_value``.

    For a Dense kernel ``(in, out)``, ``axis=0`` constrains each unit's incoming weights.
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        n = _norms(w, self.axis)
        desired = tl.clip_by_value(n, 0.0, float(self.max_value))
        return w * (desired / (n + _backend.epsilon()))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w):
        return tl.maximum(w, 0.0)


class UnitNorm(Constraint):
    """Scales weights to unit norm along ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (_norms(w, self.axis) + _backend.epsilon())

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps norms along ``axis`` within ``[min_value, max_value]`` (blended by ``rate``)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        n = _norms(w, self.axis)
        desired = self.rate * tl.clip_by_value(n, float(self.min_value), float(self.max_value)) \
            + (1 - self.rate) * n
        return w * (desired / (n + _backend.epsilon()))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm
_TABLE = {"MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm, "MinMaxNorm": MinMaxNorm,
          "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm, "min_max_norm": MinMaxNorm,
          "maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm}


def get(identifier):
    """A constraint from an instance, a name (``"non_neg"``), a config dict or a callable."""
    if identifier is None or isinstance(identifier, Constraint):
        return identifier
    if isinstance(identifier, str):
        return _ids.lookup("constraint", identifier, _TABLE)()
    if isinstance(identifier, dict):
        return _ids.from_dict("constraint", identifier, _TABLE)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret constraint identifier: {identifier!r}; valid: "
                     f"{', '.join(sorted(_TABLE))}")


def serialize(constraint):
    return _ids.serialize(constraint)


def deserialize(config, custom_objects=None):
    return _ids.from_dict("constraint", config, dict(_TABLE, **(custom_objects or {})))
