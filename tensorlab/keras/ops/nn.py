"""Neural-network ops (``keras.ops.nn``): activations, softmax, one-hot, cross-entropies,
convolution, pooling and normalization, with Keras 3's names, arguments and defaults.

Every function is a thin composition of tensorlab ops, so it runs on the input's device,
is differentiable, and accepts symbolic ``keras.Input`` tensors where the underlying op does.

    from tensorlab.keras import ops
    ops.softmax(ops.relu(x) @ w)
"""
import tensorlab as tl
from tensorlab.keras import backend as _backend

__all__ = [
    "relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "log_sigmoid", "leaky_relu",
    "hard_sigmoid", "hard_silu", "hard_swish", "elu", "selu", "gelu", "celu", "glu", "tanh_shrink",
    "hard_tanh", "soft_shrink", "hard_shrink", "squareplus", "sparse_plus", "threshold", "softmax",
    "log_softmax", "one_hot", "multi_hot", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "conv", "conv_transpose", "depthwise_conv", "separable_conv",
    "max_pool", "average_pool", "moments", "batch_normalization", "normalize",
]


def _t(x):
    """``x`` as a tensor: tensors (also symbolic ones) pass through, arrays and numbers convert."""
    return x if tl.is_tensor(x) or hasattr(x, "_keras_history") else tl.convert_to_tensor(x)


def _f(x):
    """``x`` as a floating tensor (integers and bools become ``floatx()``), as Keras' activations do."""
    x = _t(x)
    return x if x.dtype.is_floating else tl.cast(x, _backend.floatx())


# ----------------------------------------------------------------------------- activations
def relu(x):
    """Rectified linear unit: ``max(x, 0)``.

    Example:
      >>> ops.relu([-1.0, 0.0, 2.0])   # [0., 0., 2.]
    """
    return tl.nn.relu(_f(x))


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return tl.nn.relu6(_f(x))


def sigmoid(x):
    """``1 / (1 + exp(-x))``."""
    return tl.sigmoid(_f(x))


def softplus(x):
    """``log(exp(x) + 1)``, computed stably."""
    return tl.math.softplus(_f(x))


def softsign(x):
    """``x / (abs(x) + 1)``."""
    x = _f(x)
    return x / (tl.abs(x) + 1.0)


def silu(x):
    """Sigmoid linear unit (swish): ``x * sigmoid(x)``."""
    x = _f(x)
    return x * tl.sigmoid(x)


swish = silu


def log_sigmoid(x):
    """``log(sigmoid(x))``, computed stably: ``-softplus(-x)``."""
    return tl.nn.log_sigmoid(_f(x))


def leaky_relu(x, negative_slope=0.2):
    """``x`` where ``x >= 0``, else ``negative_slope * x``."""
    return tl.nn.leaky_relu(_f(x), alpha=negative_slope)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid: ``clip(x / 6 + 0.5, 0, 1)``."""
    return tl.clip_by_value(_f(x) / 6.0 + 0.5, 0.0, 1.0)


def hard_silu(x):
    """``x * hard_sigmoid(x)`` (hard swish)."""
    x = _f(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    x = _f(x)
    y = tl.nn.elu(x)
    return y if alpha == 1.0 else tl.where(tl.greater(x, 0.0), y, alpha * y)


def selu(x):
    """Scaled ELU with the self-normalizing constants (``scale * elu(x, alpha)``)."""
    return tl.nn.selu(_f(x))


def gelu(x, approximate=True):
    """Gaussian error linear unit; ``approximate=True`` (Keras 3's default) uses the tanh form."""
    return tl.nn.gelu(_f(x), approximate=approximate)


def celu(x, alpha=1.0):
    """``max(x, 0) + min(0, alpha * (exp(x / alpha) - 1))``."""
    x = _f(x)
    return tl.nn.relu(x) + tl.minimum(0.0, alpha * tl.math.expm1(x / alpha))


def glu(x, axis=-1):
    """Gated linear unit: splits ``x`` in halves ``a, b`` along ``axis`` and returns ``a * sigmoid(b)``."""
    x = _f(x)
    n = x.shape[axis]
    if n is not None and n % 2:
        raise ValueError(f"glu: the size of axis {axis} must be even, got shape {tuple(x.shape)}")
    a, b = tl.split(x, 2, axis=axis)
    return a * tl.sigmoid(b)


def tanh_shrink(x):
    """``x - tanh(x)``."""
    x = _f(x)
    return x - tl.tanh(x)


def hard_tanh(x):
    """``clip(x, -1, 1)``."""
    return tl.clip_by_value(_f(x), -1.0, 1.0)


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    x = _f(x)
    return tl.where(tl.greater(x, threshold), x - threshold,
                    tl.where(tl.less(x, -threshold), x + threshold, tl.zeros_like(x)))


def hard_shrink(x, threshold=0.5):
    """``x`` where ``abs(x) > threshold``, else 0."""
    x = _f(x)
    return tl.where(tl.greater(tl.abs(x), threshold), x, tl.zeros_like(x))


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``, a smooth ReLU."""
    x = _f(x)
    return (x + tl.sqrt(tl.square(x) + b)) / 2.0


def sparse_plus(x):
    """0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``."""
    x = _f(x)
    return tl.where(tl.less_equal(x, -1.0), tl.zeros_like(x),
                    tl.where(tl.less(x, 1.0), tl.square(x + 1.0) / 4.0, x))


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    x = _t(x)
    return tl.where(tl.greater(x, threshold), x, tl.cast(tl.fill(tl.shape(x), default_value), x.dtype))


def _axis_arg(x, axis):
    """Keras' softmax ``axis``: an int or a tuple of ints; a tuple is flattened into one axis."""
    return axis if isinstance(axis, int) else tuple(a % len(x.shape) for a in axis)


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x), axis)``, computed stably; ``axis`` may be an int or a tuple.

    Example:
      >>> ops.softmax([[1.0, 2.0, 3.0]])   # rows sum to 1
    """
    x = _f(x)
    axis = _axis_arg(x, axis)
    if isinstance(axis, int):
        return tl.nn.softmax(x, axis=axis)
    return tl.exp(x - tl.reduce_logsumexp(x, axis=list(axis), keepdims=True))


def log_softmax(x, axis=-1):
    """``x - logsumexp(x, axis)``; ``axis`` may be an int or a tuple."""
    x = _f(x)
    axis = _axis_arg(x, axis)
    if isinstance(axis, int):
        return tl.nn.log_softmax(x, axis=axis)
    return x - tl.reduce_logsumexp(x, axis=list(axis), keepdims=True)


# ----------------------------------------------------------------------------- encodings
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot vectors of length ``num_classes`` for integer labels ``x``, inserted at ``axis``.

    Negative labels and labels ``>= num_classes`` give all-zero vectors.

    Example:
      >>> ops.one_hot([0, 2], 3)   # [[1., 0., 0.], [0., 0., 1.]]
    """
    if sparse:
        raise ValueError("one_hot: sparse=True is not supported by tensorlab; use sparse=False")
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive integer, got {num_classes!r}")
    x = _t(x)
    if not x.dtype.is_integer:
        x = tl.cast(x, tl.int64)
    return tl.one_hot(x, num_classes, axis=axis, dtype=dtype or _backend.floatx())


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot vectors: 1 at every label of each sample (rank-2 ``inputs``) or of the one sample.

    Example:
      >>> ops.multi_hot([[1, 3], [0, 1]], num_classes=4)   # [[0, 1, 0, 1], [1, 1, 0, 0]]
    """
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise ValueError(f"multi_hot: unexpected keyword arguments {sorted(kwargs)}")
    if num_classes is None:
        raise ValueError("multi_hot: num_classes is required")
    x = _t(inputs)
    reduction_axis = 1 if len(x.shape) > 1 else 0
    return tl.reduce_max(one_hot(tl.cast(x, tl.int32), num_classes, axis=axis, dtype=dtype, sparse=sparse),
                         axis=reduction_axis)


# ----------------------------------------------------------------------------- losses
def _same_shape(name, target, output):
    if tuple(target.shape) != tuple(output.shape):
        raise ValueError(f"{name}: target and output must have the same shape, got target.shape="
                         f"{tuple(target.shape)} and output.shape={tuple(output.shape)}")


def binary_crossentropy(target, output, from_logits=False):
    """Element-wise binary cross-entropy ``-(t log p + (1 - t) log(1 - p))`` (no reduction).

    With ``from_logits=False``, ``output`` holds probabilities and is clipped to
    ``[epsilon, 1 - epsilon]``; with ``from_logits=True`` the stable logits form is used.
    """
    output = _f(output)
    target = tl.cast(_t(target), output.dtype)
    _same_shape("binary_crossentropy", target, output)
    if from_logits:
        return tl.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    eps = _backend.epsilon()
    output = tl.clip_by_value(output, eps, 1.0 - eps)
    return -(target * tl.math.log(output) + (1.0 - target) * tl.math.log(1.0 - output))


def _log_probs(output, from_logits, axis):
    if from_logits:
        return tl.nn.log_softmax(output, axis=axis)
    eps = _backend.epsilon()
    output = output / tl.reduce_sum(output, axis=axis, keepdims=True)
    return tl.math.log(tl.clip_by_value(output, eps, 1.0 - eps))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``-sum(target * log(p), axis)`` between one-hot (or soft) targets and predictions.

    Without ``from_logits``, ``output`` is rescaled to sum to 1 along ``axis`` and clipped
    to ``[epsilon, 1 - epsilon]``.
    """
    output = _f(output)
    target = tl.cast(_t(target), output.dtype)
    _same_shape("categorical_crossentropy", target, output)
    if len(target.shape) < 1:
        raise ValueError("categorical_crossentropy: target and output must be at least rank 1, got scalars")
    return -tl.reduce_sum(target * _log_probs(output, from_logits, axis), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical cross-entropy with integer class ``target`` (shape ``output.shape[:-1]``,
    or that with a trailing 1)."""
    output = _f(output)
    target = _t(target)
    if len(output.shape) < 1:
        raise ValueError("sparse_categorical_crossentropy: output must be at least rank 1, got a scalar")
    if len(target.shape) == len(output.shape) and target.shape[-1] == 1:
        target = tl.squeeze(target, axis=-1)
    if tuple(target.shape) != tuple(output.shape[:-1]):
        raise ValueError("sparse_categorical_crossentropy: target and output must have the same shape up to "
                         f"output's last dimension, got target.shape={tuple(target.shape)} and "
                         f"output.shape={tuple(output.shape)}")
    labels = one_hot(tl.cast(target, tl.int32), output.shape[axis], axis=axis, dtype=output.dtype)
    return -tl.reduce_sum(labels * _log_probs(output, from_logits, axis), axis=axis)


# ----------------------------------------------------------------------------- convolution / pooling
def _layout(name, inputs, data_format):
    """(inputs as channels_last, number of spatial dims, whether to move channels back)."""
    x = _t(inputs)
    data_format = data_format or _backend.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    rank = len(x.shape) - 2
    if rank not in (1, 2):
        raise ValueError(f"{name}: tensorlab supports 1-D (rank-3) and 2-D (rank-4) inputs, got shape "
                         f"{tuple(x.shape)}")
    first = data_format == "channels_first"
    if first:
        x = tl.transpose(x, [0] + list(range(2, rank + 2)) + [1])
    return x, rank, first


def _restore(y, rank, first):
    return tl.transpose(y, [0, rank + 1] + list(range(1, rank + 1))) if first else y


def _tuple(name, what, value, rank):
    v = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(v) != rank or not all(isinstance(i, int) and i > 0 for i in v):
        raise ValueError(f"{name}: {what} must be a positive int or a tuple of {rank} positive ints, got {value!r}")
    return v


def _padding(name, padding):
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{name}: padding must be 'valid' or 'same', got {padding!r}")
    return padding.upper()


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1-D or 2-D convolution; ``kernel`` has shape ``spatial + (in_channels, out_channels)``.

    Example:
      >>> ops.conv(x, w, strides=2, padding="same")   # x: (N, H, W, C), w: (3, 3, C, F)
    """
    x, rank, first = _layout("conv", inputs, data_format)
    s = _tuple("conv", "strides", strides, rank)
    d = _tuple("conv", "dilation_rate", dilation_rate, rank)
    pad = _padding("conv", padding)
    y = (tl.nn.conv1d(x, kernel, s[0], pad, dilations=d[0]) if rank == 1
         else tl.nn.conv2d(x, kernel, s, pad, dilations=d))
    return _restore(y, rank, first)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Depthwise convolution; ``kernel`` has shape ``spatial + (in_channels, channel_multiplier)``."""
    x, rank, first = _layout("depthwise_conv", inputs, data_format)
    s = _tuple("depthwise_conv", "strides", strides, rank)
    d = _tuple("depthwise_conv", "dilation_rate", dilation_rate, rank)
    pad = _padding("depthwise_conv", padding)
    kernel = _t(kernel)
    if rank == 1:  # as 2-D with a height of 1
        y = tl.nn.depthwise_conv2d(tl.expand_dims(x, 1), tl.expand_dims(kernel, 0), (1, 1, s[0], 1), pad,
                                   dilations=(1, d[0]))
        y = tl.squeeze(y, axis=1)
    else:
        y = tl.nn.depthwise_conv2d(x, kernel, (1,) + s + (1,), pad, dilations=d)
    return _restore(y, rank, first)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """A depthwise convolution followed by a 1x1 (pointwise) convolution."""
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(y, pointwise_kernel, 1, "valid", data_format, 1)


def _transpose_size(n, k, stride, padding, output_padding, dilation):
    if n is None:
        return None
    k = (k - 1) * dilation + 1
    if padding == "VALID":
        output_padding = max(k, stride) - k if output_padding is None else output_padding
        return (n - 1) * stride + k + output_padding
    if output_padding is None:
        return n * stride
    return (n - 1) * stride + k - 2 * (k // 2) + output_padding


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None, data_format=None,
                   dilation_rate=1):
    """Transposed 1-D or 2-D convolution; ``kernel`` has shape ``spatial + (out_channels, in_channels)``."""
    x, rank, first = _layout("conv_transpose", inputs, data_format)
    s = _tuple("conv_transpose", "strides", strides, rank)
    d = _tuple("conv_transpose", "dilation_rate", dilation_rate, rank)
    pad = _padding("conv_transpose", padding)
    op = (None,) * rank if output_padding is None else tuple(_tuple_nonneg(output_padding, rank))
    kernel = _t(kernel)
    spatial = [_transpose_size(x.shape[1 + i], kernel.shape[i], s[i], pad, op[i], d[i]) for i in range(rank)]
    out_shape = [x.shape[0]] + spatial + [kernel.shape[-2]]
    if rank == 1:
        y = tl.nn.conv1d_transpose(x, kernel, out_shape, s[0], pad, dilations=d[0])
    else:
        y = tl.nn.conv2d_transpose(x, kernel, out_shape, s, pad, dilations=d)
    return _restore(y, rank, first)


def _tuple_nonneg(value, rank):
    v = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(v) != rank or not all(isinstance(i, int) and i >= 0 for i in v):
        raise ValueError(f"conv_transpose: output_padding must be a non-negative int or a tuple of {rank} of "
                         f"them, got {value!r}")
    return v


def _pool(name, fn, inputs, pool_size, strides, padding, data_format):
    x, rank, first = _layout(name, inputs, data_format)
    k = _tuple(name, "pool_size", pool_size, rank)
    s = k if strides is None else _tuple(name, "strides", strides, rank)
    y = fn(x, (1,) + k + (1,), (1,) + s + (1,), _padding(name, padding))
    return _restore(y, rank, first)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Max pooling over 1-D or 2-D windows; ``strides`` defaults to ``pool_size``."""
    return _pool("max_pool", tl.nn.max_pool, inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Average pooling over 1-D or 2-D windows; with ``"same"`` padding, padded cells are not counted."""
    return _pool("average_pool", tl.nn.avg_pool, _f(inputs), pool_size, strides, padding, data_format)


# ----------------------------------------------------------------------------- normalization
def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance of ``x`` over ``axes``.

    Example:
      >>> mean, variance = ops.moments(x, axes=[0])
    """
    if synchronized:
        raise NotImplementedError("moments: synchronized=True is not supported by tensorlab")
    x = _f(x)
    axes = [axes] if isinstance(axes, int) else list(axes)
    mean = tl.reduce_mean(x, axis=axes, keepdims=True)
    # the centred form: more accurate than E[x**2] - E[x]**2, and never negative
    variance = tl.reduce_mean(tl.square(x - mean), axis=axes, keepdims=True)
    if not keepdims:
        mean, variance = tl.squeeze(mean, axis=axes), tl.squeeze(variance, axis=axes)
    return mean, variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the vectors broadcast along ``axis``."""
    x = _f(x)
    ndim = len(x.shape)
    if not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise ValueError(f"batch_normalization: axis must be an int in [{-ndim}, {ndim}), got {axis!r}")
    shape = [1] * ndim
    shape[axis] = -1

    def vec(v):
        return None if v is None else tl.reshape(tl.cast(_t(v), x.dtype), shape)

    inv = tl.math.rsqrt(vec(variance) + epsilon)
    if scale is not None:
        inv = inv * vec(scale)
    y = (x - vec(mean)) * inv
    return y if offset is None else y + vec(offset)


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x / max(norm(x, order, axis), epsilon)``; ``epsilon`` defaults to ``backend.epsilon()``."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"normalize: order must be a positive int, got {order!r}")
    x = _f(x)
    epsilon = _backend.epsilon() if epsilon is None else epsilon
    if order == 2:
        norm = tl.sqrt(tl.reduce_sum(tl.square(x), axis=axis, keepdims=True))
    elif order == 1:
        norm = tl.reduce_sum(tl.abs(x), axis=axis, keepdims=True)
    else:
        norm = tl.pow(tl.reduce_sum(tl.pow(tl.abs(x), float(order)), axis=axis, keepdims=True), 1.0 / order)
    return x / tl.maximum(norm, epsilon)


# CTC (nn_ctc.py); attention, normalization, sparse activations, pixel shuffles, im2col and
# adaptive pooling (nn_extra.py).
from tensorlab.keras.ops import nn_ctc as _nn_ctc, nn_extra as _nn_extra  # noqa: E402

for _mod in (_nn_ctc, _nn_extra):
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
    __all__ += _mod.__all__
del _mod, _name
