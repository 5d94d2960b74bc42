"""Weight regularizers (``keras.regularizers``): penalties added to the training loss."""
import math

import tensorlab as tl
from tensorlab.keras import _ids
from tensorlab.keras import backend as _backend


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


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards orthogonality.

    The penalty is ``factor`` times half the mean absolute cosine similarity between
    distinct rows (``mode="rows"``) or columns (``mode="columns"``).

    Args:
      factor: a non-negative float (default 0.01).
      mode: ``"rows"`` or ``"columns"``.

    Example:
      >>> layers.Dense(4, kernel_regularizer=keras.regularizers.OrthogonalRegularizer(0.01))
    """

    def __init__(self, factor=0.01, mode="rows"):
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not math.isfinite(factor) or factor < 0:
            raise ValueError(f"OrthogonalRegularizer: factor must be a non-negative float, got factor={factor!r}")
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: mode must be 'rows' or 'columns', got mode={mode!r}")
        self.factor = float(factor)
        self.mode = mode

    def __call__(self, x):
        if len(x.shape) != 2:
            raise ValueError(f"OrthogonalRegularizer: inputs must have rank 2, got shape {tuple(x.shape)}")
        if self.mode == "columns":
            x = tl.transpose(x)
        # L2-normalized rows, as keras.ops.normalize (x * min(rsqrt(sum x^2), 1 / epsilon)).
        inv = tl.minimum(tl.math.rsqrt(tl.reduce_sum(tl.square(x), axis=1, keepdims=True)), 1.0 / _backend.epsilon())
        rows = x * inv
        size = x.shape[0]
        product = tl.matmul(rows, rows, transpose_b=True)
        product = product - tl.linalg.diag(tl.linalg.diag_part(product))  # distinct pairs only
        pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * tl.reduce_sum(tl.abs(product)) / pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1=l1, l2=l2)


l1, l2 = L1, L2
orthogonal_regularizer = OrthogonalRegularizer
_TABLE = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": l1_l2, "l1l2": L1L2,
          "OrthogonalRegularizer": OrthogonalRegularizer, "orthogonal_regularizer": OrthogonalRegularizer}


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
