"""``tl.keras.backend``: floatx, epsilon, unique layer names, ``clear_session``."""
import collections
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
    """Resets layer auto-naming (the next ``Dense`` is called ``dense`` again)."""
    _name_counts.clear()


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
