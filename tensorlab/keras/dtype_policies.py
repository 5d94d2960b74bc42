"""Dtype policies (``keras.DTypePolicy``): the dtype of a layer's weights and of its computation.

A policy named after a float dtype (``"float32"``, ``"float64"``, ``"float16"``,
``"bfloat16"``) uses that dtype for both. The mixed policies ``"mixed_float16"``
and ``"mixed_bfloat16"`` keep the weights in float32 and compute in the 16-bit
dtype: inside the layer's ``call``, floating inputs are cast to the compute
dtype and the layer's weights are read as it (the cast is recorded on the tape,
so gradients reach the float32 weights in float32). On a GPU that puts matmuls
and convolutions on the tensor cores; optimizer updates stay in float32.

``set_global_policy`` sets the policy of layers created afterwards without a
``dtype`` argument; with none set, the global policy is ``backend.floatx()``.
"""
from tensorlab.core import dtypes as _dt
from tensorlab.keras import backend as _backend

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
_global = {"policy": None}  # None: follow backend.floatx()


class DTypePolicy:
    """A dtype policy: ``variable_dtype`` (the weights) and ``compute_dtype`` (the computation).

    Args:
      name: ``"float32"``, ``"float64"``, ``"float16"``, ``"bfloat16"`` (also other dtype
        names), ``"mixed_float16"`` or ``"mixed_bfloat16"``; None: ``backend.floatx()``.

    Example:
      >>> p = tl.keras.mixed_precision.Policy("mixed_float16")
      >>> p.compute_dtype, p.variable_dtype
      ('float16', 'float32')
    """

    __slots__ = ("_name", "compute", "variable", "compute_is_float", "is_mixed")

    def __init__(self, name=None):
        if name is None:
            name = _backend.floatx()
        if not isinstance(name, str):
            raise TypeError(f"DTypePolicy: `name` must be a string such as 'float32' or 'mixed_float16', "
                            f"got {type(name).__name__} {name!r}")
        if name in _MIXED:
            compute, variable = _MIXED[name], "float32"
        else:
            compute = variable = name
        try:
            # The compute dtype as a DType: Layer.__call__ compares it per call.
            self.compute = _dt.as_dtype(compute)
        except TypeError:
            raise ValueError(f"Cannot convert {name!r} to a dtype policy; valid: a dtype name such as "
                             f"'float32', 'float64', 'float16', 'bfloat16', or one of "
                             f"{', '.join(repr(k) for k in _MIXED)}") from None
        self.variable = _dt.as_dtype(variable)
        self._name = name
        self.compute_is_float = self.compute.is_floating
        self.is_mixed = self.compute is not self.variable

    @property
    def name(self):
        return self._name

    @property
    def compute_dtype(self):
        """The dtype of the layer's computations and outputs, as a string."""
        return self.compute.name

    @property
    def variable_dtype(self):
        """The dtype of the layer's weights, as a string."""
        return self.variable.name

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other._name == self._name

    def __hash__(self):
        return hash(self._name)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'

    def get_config(self):
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


Policy = DTypePolicy  # tf.keras.mixed_precision.Policy


def get(identifier):
    """A ``DTypePolicy`` from a policy, a name, a ``DType``, a serialized policy, or None (the global one)."""
    if identifier is None:
        return global_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        cfg = identifier.get("config", identifier)
        if not isinstance(cfg, dict) or "name" not in cfg:
            raise ValueError(f"Cannot interpret dtype policy {identifier!r}: expected "
                             "{'class_name': 'DTypePolicy', 'config': {'name': ...}}")
        return DTypePolicy(cfg["name"])
    return DTypePolicy(getattr(identifier, "name", identifier))


def serialize(policy):
    return {"module": "keras", "class_name": "DTypePolicy", "config": policy.get_config()}


def deserialize(config, custom_objects=None):
    return get(config)


def set_global_policy(policy):
    """Sets the policy of layers created from now on without a ``dtype`` argument.

    Args:
      policy: a ``DTypePolicy`` or its name (``"mixed_float16"``, ``"float32"``...);
        None goes back to following ``backend.floatx()``.
    """
    if policy is None:
        _global["policy"] = None
        return
    p = get(policy)
    if not p.compute_is_float:
        raise ValueError(f"set_global_policy: the global policy must compute in a floating dtype, "
                         f"got {p.name!r}; valid: 'float32', 'float64', 'float16', 'bfloat16', "
                         "'mixed_float16', 'mixed_bfloat16'")
    _global["policy"] = p


def global_policy():
    """The policy of layers created without a ``dtype`` argument."""
    p = _global["policy"]
    return p if p is not None else DTypePolicy(_backend.floatx())


# Keras 3 spellings
set_dtype_policy = set_global_policy
dtype_policy = global_policy

__all__ = ["DTypePolicy", "Policy", "get", "serialize", "deserialize", "set_global_policy", "global_policy",
           "set_dtype_policy", "dtype_policy"]
