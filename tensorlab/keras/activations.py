"""Activation functions (``keras.activations``) and lookup by name (``activation="relu"``)."""
import weakref

import tensorlab as tl
from tensorlab.keras import _ids

# id(softmax output) -> (weak reference to it, its logits), so that a cross-entropy
# loss on the probabilities can use the fused, more accurate logits form (as Keras
# does with TensorFlow). Entries vanish with the output tensor.
_SOFTMAX_LOGITS = {}


def logits_of(probs):
    """The logits a softmax output was computed from along its last axis, or None."""
    entry = _SOFTMAX_LOGITS.get(id(probs))
    if entry is not None and entry[0]() is probs:
        return entry[1]
    return None


def _remember_logits(out, logits):
    key = id(out)
    try:
        ref = weakref.ref(out, lambda _r, key=key: _SOFTMAX_LOGITS.pop(key, None))
    except TypeError:
        return
    _SOFTMAX_LOGITS[key] = (ref, logits)


def linear(x):
    """The identity: returns ``x``."""
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """``max(x, 0)``; with ``negative_slope``, ``max_value`` or ``threshold``, the general form."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return tl.nn.relu(x)
    y = tl.where(tl.greater_equal(x, threshold), x, negative_slope * (x - threshold))
    if max_value is not None:
        y = tl.minimum(y, max_value)
    return y


def relu6(x):
    return tl.minimum(tl.nn.relu(x), 6.0)


def leaky_relu(x, negative_slope=0.2):
    return tl.nn.leaky_relu(x, alpha=negative_slope)


def sigmoid(x):
    return tl.sigmoid(x)


def tanh(x):
    return tl.tanh(x)


def softmax(x, axis=-1):
    """Softmax along ``axis``: ``exp(x) / sum(exp(x))``, computed stably."""
    out = tl.nn.softmax(x, axis=axis)
    if type(out) is tl.Tensor and axis in (-1, len(x.shape) - 1):
        _remember_logits(out, x)
    return out


def log_softmax(x, axis=-1):
    return tl.nn.log_softmax(x, axis=axis)


def elu(x, alpha=1.0):
    y = tl.nn.elu(x)
    return y if alpha == 1.0 else tl.where(tl.greater(x, 0.0), y, alpha * y)


def selu(x):
    return tl.nn.selu(x)


def softplus(x):
    return tl.math.softplus(x)


def softsign(x):
    return x / (tl.abs(x) + 1.0)


def silu(x):
    """``x * sigmoid(x)`` (also called swish)."""
    return x * tl.sigmoid(x)


swish = silu


def gelu(x, approximate=False):
    return tl.nn.gelu(x, approximate=approximate)


def exponential(x):
    return tl.exp(x)


def hard_sigmoid(x):
    """``relu6(x + 3) / 6`` (Keras 3's definition)."""
    return tl.clip_by_value(x / 6.0 + 0.5, 0.0, 1.0)


def hard_silu(x):
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def mish(x):
    return x * tl.tanh(tl.math.softplus(x))


def _nn():
    # keras.ops imports the layers, which import this module: import it on first use.
    from tensorlab.keras.ops import nn
    return nn


def celu(x, alpha=1.0):
    """``max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))``."""
    return _nn().celu(x, alpha=alpha)


def glu(x, axis=-1):
    """Gated linear unit: halves ``a, b`` of ``x`` along ``axis`` give ``a * sigmoid(b)``."""
    return _nn().glu(x, axis=axis)


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    return _nn().hard_shrink(x, threshold=threshold)


def hard_tanh(x):
    """``clip(x, -1, 1)``."""
    return _nn().hard_tanh(x)


def log_sigmoid(x):
    """``log(sigmoid(x))``, computed stably."""
    return _nn().log_sigmoid(x)


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    return _nn().soft_shrink(x, threshold=threshold)


def sparse_plus(x):
    """0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``|x| < 1``, ``x`` for ``x >= 1``."""
    return _nn().sparse_plus(x)


def sparse_sigmoid(x):
    """0 for ``x <= -1``, ``(x + 1) / 2`` for ``|x| < 1``, 1 for ``x >= 1``."""
    return _nn().sparse_sigmoid(x)


def sparsemax(x, axis=-1):
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis`` (sparse softmax)."""
    return _nn().sparsemax(x, axis=axis)


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``."""
    return _nn().squareplus(x, b=b)


def tanh_shrink(x):
    """``x - tanh(x)``."""
    return _nn().tanh_shrink(x)


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    return _nn().threshold(x, threshold, default_value)


_TABLE = {f.__name__: f for f in (linear, relu, relu6, leaky_relu, sigmoid, tanh, softmax, log_softmax, elu,
                                  selu, softplus, softsign, silu, gelu, exponential, hard_sigmoid, hard_silu,
                                  mish, celu, glu, hard_shrink, hard_tanh, log_sigmoid, soft_shrink, sparse_plus,
                                  sparse_sigmoid, sparsemax, squareplus, tanh_shrink, threshold)}
_TABLE.update({"swish": silu, "hard_swish": hard_silu})
_NAMES = {v: k for k, v in _TABLE.items() if k not in ("swish", "hard_swish")}


def get(identifier):
    """An activation function from a name (``"relu"``), ``None`` (linear) or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return _ids.lookup("activation function", identifier, _TABLE)
    if isinstance(identifier, dict):
        obj = _ids.lookup("activation function", identifier.get("class_name"), _TABLE)
        return obj.from_config(identifier.get("config", {})) if hasattr(obj, "from_config") else obj
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation function identifier: {identifier!r}; valid names: "
                     f"{', '.join(sorted(_TABLE))}")


def serialize(activation):
    """The activation's name (for built-ins and registered functions) or its config."""
    if activation in _NAMES:
        return _NAMES[activation]
    if hasattr(activation, "get_config"):
        return _ids.serialize(activation)
    from tensorlab.keras.saving.object_registration import get_registered_name
    return get_registered_name(activation)


def deserialize(config, custom_objects=None):
    if isinstance(config, str) and custom_objects and config in custom_objects:
        return custom_objects[config]
    return get(config)
