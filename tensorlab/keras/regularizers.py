"""Weight regularizers (``keras.regularizers``): penalties added to the training loss."""
import tensorlab as tl
from tensorlab.keras import _ids


class Regularizer:
    """Base class: ``regularizer(weight) -> scalar`` penalty."""

    def __call__(self, x):
        return 0.0

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x ** 2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = float(l1)
        self.l2 = float(l2)

    def __call__(self, x):
        out = None
        if self.l1:
            out = self.l1 * tl.reduce_sum(tl.abs(x))
        if self.l2:
            p = self.l2 * tl.reduce_sum(tl.square(x))
            out = p if out is None else out + p
        return out if out is not None else tl.zeros((), dtype=x.dtype)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|x|)``."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(x ** 2)``."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1=l1, l2=l2)


l1, l2 = L1, L2
_TABLE = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": l1_l2, "l1l2": L1L2}


def get(identifier):
    """A regularizer from an instance, a name (``"l2"``), a config dict or a callable."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        return _ids.lookup("regularizer", identifier, _TABLE)()
    if isinstance(identifier, dict):
        return _ids.from_dict("regularizer", identifier, _TABLE)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer identifier: {identifier!r}; valid: "
                     f"{', '.join(sorted(_TABLE))}, a Regularizer or a callable")


def serialize(regularizer):
    return _ids.serialize(regularizer)


def deserialize(config, custom_objects=None):
    return _ids.from_dict("regularizer", config, dict(_TABLE, **(custom_objects or {})))
