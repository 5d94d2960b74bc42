"""Helpers shared by the ``keras.ops`` modules added beside ``nn.py``, ``linalg.py`` and ``image.py``."""
import contextlib

import tensorlab as tl
from tensorlab.core.tensor import SymbolicTensor
from tensorlab.keras import backend as _backend


def tensor(x):
    """``x`` as a tensor: tensors (also symbolic ones) pass through, arrays and numbers convert."""
    return x if tl.is_tensor(x) or hasattr(x, "_keras_history") else tl.convert_to_tensor(x)


def at_least_float32(x):
    """``x`` as a float tensor of at least 32 bits (Keras' ``result_type(x.dtype, "float32")``)."""
    x = tensor(x)
    if x.dtype.is_floating and x.dtype.size >= 4:
        return x
    return tl.cast(x, tl.float32)


def floating(x):
    """``x`` as a floating tensor (integers and bools become ``floatx()``)."""
    x = tensor(x)
    return x if x.dtype.is_floating else tl.cast(x, _backend.floatx())


def on_device_of(x):
    """A scope placing new constants on ``x``'s device (the current one for symbolic tensors)."""
    if isinstance(x, SymbolicTensor) or not hasattr(x, "device"):
        return contextlib.nullcontext()
    return tl.device(x.device)


def constant_like(value, dtype, like):
    """``tl.constant(value, dtype)`` on ``like``'s device."""
    with on_device_of(like):
        return tl.constant(value, dtype=dtype)


def data_format(name, value):
    """``value`` or ``keras.config.image_data_format()``, checked."""
    value = value or _backend.image_data_format()
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: data_format must be 'channels_last' or 'channels_first', got {value!r}")
    return value


def int_tuple(name, what, value, rank, minimum=1):
    """``value`` (an int or a sequence of ``rank`` ints, each >= ``minimum``) as a tuple."""
    v = (value,) * rank if isinstance(value, int) and not isinstance(value, bool) else tuple(value)
    if len(v) != rank or not all(isinstance(i, int) and not isinstance(i, bool) and i >= minimum for i in v):
        raise ValueError(f"{name}: {what} must be an int >= {minimum} or a tuple of {rank} of them, got {value!r}")
    return v


def channels_last(x, fmt, spatial):
    """``x`` (channels at axis 1 when ``fmt`` is channels_first) with channels last."""
    if fmt == "channels_last":
        return x
    return tl.transpose(x, [0] + list(range(2, spatial + 2)) + [1])


def channels_back(x, fmt, spatial):
    """The inverse of ``channels_last``."""
    if fmt == "channels_last":
        return x
    return tl.transpose(x, [0, spatial + 1] + list(range(1, spatial + 1)))
