"""Argument normalization and checks shared by the concrete layers."""
import tensorlab as tl
from tensorlab.keras import activations, constraints, initializers, regularizers
from tensorlab.ops import fused as _fused


def is_symbolic(x):
    return isinstance(x, tl.SymbolicTensor)


# activation function -> its name in ops.fused.ACTIVATIONS
_FUSED_ACTIVATIONS = {activations.relu: "relu", activations.gelu: "gelu", activations.silu: "silu",
                      activations.sigmoid: "sigmoid", activations.tanh: "tanh"}


def add_bias_and_activate(y, bias, activation):
    """``activation(y + bias)`` for Dense, EinsumDense and the convolutions (bias over the last axis).

    With a bias and an activation the fused kernels implement (relu, gelu, silu/swish,
    sigmoid, tanh), one fused op; otherwise the add and the activation on their own.
    """
    name = _FUSED_ACTIVATIONS.get(activation)
    if bias is not None and name is not None and not isinstance(y, tl.SymbolicTensor):
        dtype = y.dtype
        if bias.dtype is dtype and dtype.is_floating and y.ndim >= 1:  # dtypes are singletons
            return _fused.bias_act(y, bias, name)
    if bias is not None:
        y = y + bias
    if activation is not None and activation is not activations.linear:
        y = activation(y)
    return y


def shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def check_ndim(layer, x, ndim=None, min_ndim=None, max_ndim=None, index=0):
    """Raises ValueError naming the layer, the expected rank and the received shape."""
    check_shape_ndim(layer, tuple(x.shape), ndim, min_ndim, max_ndim, index)


def check_shape_ndim(layer, shape, ndim=None, min_ndim=None, max_ndim=None, index=0):
    shape = tuple(shape)
    r = len(shape)
    bad = None
    if ndim is not None and r != ndim:
        bad = f"expected ndim={ndim}"
    elif min_ndim is not None and r < min_ndim:
        bad = f"expected min_ndim={min_ndim}"
    elif max_ndim is not None and r > max_ndim:
        bad = f"expected max_ndim={max_ndim}"
    if bad:
        raise ValueError(f'Input {index} of layer "{layer.name}" ({type(layer).__name__}) is incompatible '
                         f"with the layer: {bad}, found ndim={r}. Full shape received: {shape_str(shape)}")


def check_last_dim(layer, x, expected, what="last dimension"):
    d = x.shape[-1]
    if d is not None and expected is not None and d != expected:
        raise ValueError(f'Input 0 of layer "{layer.name}" ({type(layer).__name__}) is incompatible with the '
                         f"layer: expected {what} = {expected}, found {d}. "
                         f"Full shape received: {shape_str(tuple(x.shape))}")


def normalize_tuple(value, n, name, allow_zero=False):
    """An int or sequence of ints as an n-tuple (Keras' conv_utils.normalize_tuple)."""
    if isinstance(value, int):
        out = (value,) * n
    else:
        try:
            out = tuple(int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"The `{name}` argument must be an int or a tuple of {n} ints; received {value!r}") \
                from None
        if len(out) != n:
            raise ValueError(f"The `{name}` argument must be a tuple of {n} ints; received {value!r}")
    low = 0 if allow_zero else 1
    if any(v < low for v in out):
        raise ValueError(f"The `{name}` argument must have all values >= {low}; received {value!r}")
    return out


def normalize_padding(value, allow_causal=False):
    p = str(value).lower()
    valid = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if p not in valid:
        raise ValueError(f"The `padding` argument must be one of {valid}; received {value!r}")
    return p


def normalize_data_format(value):
    """``value``, or for None the global ``keras.config.image_data_format()`` (as Keras' layers)."""
    if value is None:
        from tensorlab.keras import backend
        return backend.image_data_format()
    v = str(value).lower()
    if v not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of 'channels_last', 'channels_first'; "
                         f"received {value!r}")
    return v


def conv_output_length(length, kernel, padding, stride, dilation=1):
    if length is None:
        return None
    k = (kernel - 1) * dilation + 1
    if padding == "same" or padding == "causal":
        return (length + stride - 1) // stride
    return max((length - k) // stride + 1, 0)


def deconv_output_length(length, kernel, padding, stride, output_padding=None, dilation=1):
    if length is None:
        return None
    k = (kernel - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(k - stride, 0)
        return length * stride
    pad = k // 2 if padding == "same" else 0
    return (length - 1) * stride + k - 2 * pad + output_padding


def to_channels_last(x, rank):
    """NC... -> N...C for a channels_first input of spatial rank ``rank``."""
    return tl.transpose(x, [0] + list(range(2, rank + 2)) + [1])


def to_channels_first(x, rank):
    return tl.transpose(x, [0, rank + 1] + list(range(1, rank + 1)))


def symbolic_like(shape, dtype):
    return tl.SymbolicTensor(tuple(shape), dtype)


def normalized_axes(layer, axis, input_shape):
    """``axis`` (an int or a list) as sorted non-negative axes of ``input_shape``, each of known size."""
    nd = len(input_shape)
    axes = [axis] if isinstance(axis, int) else list(axis)
    out = []
    for a in axes:
        if not -nd <= a < nd:
            raise ValueError(f'Layer "{layer.name}" ({type(layer).__name__}): axis {a} is out of range for '
                             f"inputs of rank {nd} (input shape {shape_str(tuple(input_shape))})")
        out.append(a % nd)
    out = sorted(set(out))
    for a in out:
        if input_shape[a] is None:
            raise ValueError(f'Layer "{layer.name}" ({type(layer).__name__}): axis {a} of the input must have a '
                             f"known size; received input shape {shape_str(tuple(input_shape))}")
    return out


def set_kernel_bias_args(layer, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         kernel_constraint, bias_constraint):
    """Resolves the kernel/bias initializer, regularizer and constraint arguments of a Dense-like
    layer (identifiers, configs or objects) onto `layer`."""
    layer.kernel_initializer = initializers.get(kernel_initializer)
    layer.bias_initializer = initializers.get(bias_initializer)
    layer.kernel_regularizer = regularizers.get(kernel_regularizer)
    layer.bias_regularizer = regularizers.get(bias_regularizer)
    layer.kernel_constraint = constraints.get(kernel_constraint)
    layer.bias_constraint = constraints.get(bias_constraint)


def kernel_bias_config(layer):
    """The `get_config` entries of the arguments `set_kernel_bias_args` set."""
    return {
        "kernel_initializer": initializers.serialize(layer.kernel_initializer),
        "bias_initializer": initializers.serialize(layer.bias_initializer),
        "kernel_regularizer": regularizers.serialize(layer.kernel_regularizer),
        "bias_regularizer": regularizers.serialize(layer.bias_regularizer),
        "kernel_constraint": constraints.serialize(layer.kernel_constraint),
        "bias_constraint": constraints.serialize(layer.bias_constraint),
    }
