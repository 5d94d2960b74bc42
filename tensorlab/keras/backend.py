"""``tl.keras.backend``: floatx, epsilon, unique layer names, ``clear_session``, dtype helpers
(``standardize_dtype``, ``result_type`` with Keras 3's promotion lattice)."""
import collections
import functools
import re
import sys

_config = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}
_name_counts = collections.defaultdict(int)


def floatx():
    """The default float dtype of layers and weights, as a string (``"float32"``)."""
    return _config["floatx"]


def replica_context():
    """The tl.distribute replica context this thread runs in (inside ``strategy.run``
    or a distributed Keras step), else None. Cheap, and never imports tl.distribute."""
    values = sys.modules.get("tensorlab.distribute.values")
    return values._local.replica if values is not None else None


def replica_context_of_many():
    """``replica_context()`` when its strategy has several replicas in sync (then
    losses are scaled and metrics aggregate across replicas); else None."""
    ctx = replica_context()
    if ctx is None or ctx._strategy.num_replicas_in_sync == 1:
        return None
    return ctx


def replica_shares(ctx):
    """(share of the global batch, share of the regularization) of the replica ``ctx``.

    In a replica of a distributed step a loss is that replica's part of the global
    loss, so that the replicas' gradients add up to the global batch's (TF's
    ``compute_average_loss`` and ``scale_regularization_loss``). ``fit`` knows each
    replica's rows; elsewhere the batch is assumed split evenly, as TF assumes.
    """
    n = ctx._strategy.num_replicas_in_sync
    batch, reg = ctx._batch_share, ctx._reg_share
    return (1.0 / n if batch is None else batch), (1.0 / n if reg is None else reg)


def unscaled_loss(loss):
    """A replica's scaled loss back at the scale of its own batch, for the loss tracker."""
    ctx = replica_context_of_many()
    if ctx is None:
        return loss
    share = replica_shares(ctx)[0]
    return loss * (1.0 / share) if share else loss


def set_floatx(value):
    """Sets the default float dtype (``"float16"``, ``"bfloat16"``, ``"float32"`` or ``"float64"``)."""
    valid = ("float16", "bfloat16", "float32", "float64")
    value = getattr(value, "name", value)
    if value not in valid:
        raise ValueError(f"set_floatx: unknown float dtype {value!r}; valid: {', '.join(valid)}")
    _config["floatx"] = str(value)


def epsilon():
    """The fuzz factor used to keep divisions and logs finite (``1e-7``)."""
    return _config["epsilon"]


def set_epsilon(value):
    _config["epsilon"] = float(value)


def image_data_format():
    return _config["image_data_format"]


def set_image_data_format(data_format):
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"set_image_data_format: {data_format!r} is not one of 'channels_last', 'channels_first'")
    _config["image_data_format"] = data_format


def to_snake_case(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)  # Keras' rule: ConvLSTM2D -> conv_lstm2d
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return s[1:] if s.startswith("_") else s


def unique_name(base):
    """``base`` the first time, then ``base_1``, ``base_2``... (reset by ``clear_session``)."""
    n = _name_counts[base]
    _name_counts[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def clear_session(free_memory=True):
    """Resets layer auto-naming (the next ``Dense`` is called ``dense`` again) and ``get_uid``'s counters."""
    _name_counts.clear()
    _uids.clear()


_uids = collections.defaultdict(int)


def get_uid(prefix=""):
    """1, 2, 3... on successive calls with one ``prefix`` (reset by ``clear_session``).

    Example:
      >>> keras.backend.get_uid("dense"), keras.backend.get_uid("dense")
      (1, 2)
    """
    _uids[prefix] += 1
    return _uids[prefix]


def backend():
    """The name of the backend running Keras: ``"tensorlab"``."""
    return "tensorlab"


def is_keras_tensor(x):
    from tensorlab.keras._node import KerasTensor
    return isinstance(x, KerasTensor)


def get_value(x):
    """The value of a variable or tensor as a numpy array (or a Python number as is)."""
    return x.numpy() if hasattr(x, "numpy") else x


def set_value(x, value):
    """Assigns ``value`` to variable ``x`` (e.g. ``set_value(model.optimizer.learning_rate, 1e-4)``)."""
    import tensorlab as tl
    if not isinstance(x, tl.Variable):
        raise TypeError(f"set_value: expected a tl.Variable, got {type(x).__name__}")
    x.assign(tl.cast(tl.constant(value), x.dtype) if not isinstance(value, tl.Tensor) else value)


def int_shape(x):
    """The static shape of ``x`` as a tuple of ints (``None`` for unknown dims)."""
    return tuple(x.shape)


# ----------------------------------------------------------------------------- dtypes
ALLOWED_DTYPES = ("float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8", "int16", "int32",
                  "int64", "bfloat16", "bool", "string", "float8_e4m3fn", "float8_e5m2", "complex64", "complex128")
# Python types map as on Keras' TensorFlow backend, whose conventions tensorlab follows.
_PYTHON_DTYPES = {bool: "bool", int: "int64", float: "float32", str: "string", "int": "int64", complex: "complex128"}


def standardize_dtype(dtype):
    """A dtype's Keras name (``"float32"``): from a string, a ``tl.DType``, a numpy dtype or a Python
    type; None gives ``floatx()``.

    Example:
      >>> keras.backend.standardize_dtype(float), keras.backend.standardize_dtype(tl.int32)
      ('float32', 'int32')
    """
    if dtype is None:
        return floatx()
    dtype = _PYTHON_DTYPES.get(dtype, dtype) if isinstance(dtype, (type, str)) else dtype
    if hasattr(dtype, "name"):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    if dtype == "bool_":
        dtype = "bool"
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"standardize_dtype: invalid dtype {dtype!r}; valid: {', '.join(ALLOWED_DTYPES)}")
    return dtype


def is_float_dtype(dtype):
    """Whether ``dtype`` is a float type (``float*`` or ``bfloat16``)."""
    dtype = standardize_dtype(dtype)
    return dtype.startswith("float") or dtype.startswith("bfloat")


def is_int_dtype(dtype):
    """Whether ``dtype`` is a signed or unsigned integer type."""
    dtype = standardize_dtype(dtype)
    return dtype.startswith("int") or dtype.startswith("uint")


# Keras 3's (JAX's) type promotion lattice: each type and the types just above it.
# "int" and "float" are the weak types of Python numbers.
_LATTICE = {"bool": ["int"], "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"],
            "uint32": ["int64", "uint64"], "uint64": ["float"], "int": ["uint8", "int8", "complex64"],
            "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
            "float": ["bfloat16", "float16"], "bfloat16": ["float32"], "float16": ["float32"],
            "float32": ["float64", "complex64"], "float64": ["complex128"], "complex64": ["complex128"],
            "complex128": []}


@functools.lru_cache(None)
def _upper_bounds(node):
    out = {node}
    for above in _LATTICE[node]:
        out |= _upper_bounds(above)
    return frozenset(out)


def _least_upper_bound(nodes):
    if any(n not in _LATTICE for n in nodes):
        bad = next(n for n in nodes if n not in _LATTICE)
        raise ValueError(f"result_type: {bad!r} is not a valid dtype for type promotion")
    common = frozenset.intersection(*(_upper_bounds(n) for n in nodes))
    least = set(common & set(nodes)) or {c for c in common if common <= _upper_bounds(c)}
    if len(least) != 1:
        raise ValueError(f"result_type: the dtypes {tuple(nodes)} have no implicit promotion; cast explicitly")
    return least.pop()


def _weak(dtype):
    if dtype == "bool":
        return dtype
    return "float" if "float" in dtype else "int" if "int" in dtype else "complex"


def result_type(*dtypes):
    """The dtype of an op on arguments of ``dtypes``, by Keras 3's promotion rules.

    Python ``int`` and ``float`` are weak (they take the other operand's type);
    None means ``floatx()``; with no argument, ``floatx()``. 64-bit types stay 64-bit
    (Keras' TensorFlow-backend behaviour).

    Example:
      >>> keras.backend.result_type("int32", "float16"), keras.backend.result_type("bfloat16", int)
      ('float16', 'bfloat16')
    """
    if not dtypes:
        return floatx()
    args = [floatx() if d is None else d for d in dtypes]
    if any(standardize_dtype(a).startswith("float8") for a in args):
        raise ValueError(f"result_type: there is no implicit conversion from float8 dtypes; received {dtypes}")
    weak = [a is int or a is float for a in args]
    names = [standardize_dtype(a) for a in args]
    if len(names) == 1 or (len(set(names)) == 1 and not all(weak)):
        out, out_weak = names[0], weak[0] and len(names) == 1
    elif all(weak):
        out, out_weak = _least_upper_bound(set(names)), True
    else:
        out = _least_upper_bound({_weak(n) if w else n for n, w in zip(names, weak)})
        out_weak = out in ("int", "float", "complex")
    if out != "bool" and out_weak:
        bits = floatx()[-2:]
        kind = "f" if out == "bfloat16" else out[:1]
        out = {"b": "bool", "i": f"int{bits}", "u": f"uint{bits}"}.get(kind, f"float{bits}")
    return {"uint64": "uint32", "complex128": "complex64"}.get(out, out)
