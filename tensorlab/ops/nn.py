"""Neural-network ops (``tl.nn``): activations, softmax, bias_add, dropout, normalization.

``relu``, ``softmax``, ``log_softmax`` and ``bias_add`` are primitives because
they are hot and get fused GPU kernels; the other activations are composites
of elementwise ops and need no rule of their own.
"""
import sys
import math as _math

from tensorlab.core import device as _dev
from tensorlab.core.registry import composite, defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable, constant, spec_of
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import (broadcast_shapes, check_same_dtype, fmt, norm_axes,
                                  norm_axis, require_dtypes, require_float, t, tf)
from tensorlab.ops.elementwise import (_NUMERIC, abs, add, cast, divide, erf, exp, expm1, greater,
                                       greater_equal,
                                       maximum, minimum, multiply, negative, rsqrt, sigmoid,
                                       softplus, subtract, tanh, where)
from tensorlab.ops.reduction import reduce_sum
from tensorlab.ops.shape import reshape, transpose

# ----------------------------------------------------------------- relu (primitive)


def _relu_rule(x):
    require_dtypes("relu", x, _NUMERIC)
    return TensorSpec(x.shape, x.dtype)


relu_p = primitive("relu", _relu_rule)
# The backward pass as one primitive (g where y > 0): one pass over memory
# instead of the three of where(greater(x, 0), g, 0).
relu_grad_p = primitive("relu_grad", lambda y, g: TensorSpec(g.shape, g.dtype))


@defgrad(relu_p)
def _relu_grad(g, out, x):
    return relu_grad_p(out, g)


@defgrad(relu_grad_p)
def _relu_grad_grad(gg, out, y, g):
    # Piecewise linear in g with a mask that is constant almost everywhere in y.
    return None, relu_grad_p(y, gg)


def relu(features, name=None):
    """Rectified linear unit: ``max(features, 0)``.

    Args:
      features: a numeric tensor.

    Returns:
      A tensor of the same shape and dtype.

    Example:
      >>> tl.nn.relu(tl.constant([-1.0, 2.0])).numpy()
      array([0., 2.], dtype=float32)
    """
    return relu_p(t(features))


def relu6(features, name=None):
    """Rectified linear 6: ``min(max(features, 0), 6)``."""
    return minimum(relu(features), 6)


def leaky_relu(features, alpha=0.2, name=None):
    """Leaky ReLU: ``features`` where positive, else ``alpha * features``.

    Args:
      features: a float tensor.
      alpha: slope for negative inputs (0.2 by default, as in ``tf.nn``).
    """
    x = tf(features, "leaky_relu")
    return where(greater(x, 0), x, multiply(x, float(alpha)))


def _neg_expm1(x):
    # expm1 of the clipped input: the unused branch of `where` must stay finite,
    # or its zero gradient times an overflowed derivative would give NaN.
    return expm1(minimum(x, 0))


def elu(features, name=None):
    """Exponential linear unit: ``x`` if ``x > 0`` else ``exp(x) - 1``."""
    x = tf(features, "elu")
    return where(greater(x, 0), x, _neg_expm1(x))


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(features, name=None):
    """Scaled ELU: ``scale * (x if x > 0 else alpha * (exp(x) - 1))``."""
    x = tf(features, "selu")
    return multiply(where(greater(x, 0), x, multiply(_neg_expm1(x), _SELU_ALPHA)), _SELU_SCALE)


_SQRT_HALF = _math.sqrt(0.5)
_SQRT_2_OVER_PI = _math.sqrt(2.0 / _math.pi)


def gelu(features, approximate=False, name=None):
    """Gaussian error linear unit: ``x * P(X <= x)`` for a standard normal ``X``.

    Args:
      features: a float tensor.
      approximate: use the tanh approximation
        ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`` instead of erf.
    """
    x = tf(features, "gelu")
    if approximate:
        inner = multiply(add(x, multiply(multiply(multiply(x, x), x), 0.044715)), _SQRT_2_OVER_PI)
        return multiply(multiply(x, 0.5), add(tanh(inner), 1))
    return multiply(multiply(x, 0.5), add(erf(multiply(x, _SQRT_HALF)), 1))


def silu(features, beta=1.0, name=None):
    """Sigmoid linear unit (swish): ``features * sigmoid(beta * features)``."""
    x = tf(features, "silu")
    return multiply(x, sigmoid(x if beta == 1.0 else multiply(x, float(beta))))


swish = silu


def softsign(features, name=None):
    """Softsign: ``features / (abs(features) + 1)``."""
    x = tf(features, "softsign")
    return divide(x, add(abs(x), 1))


def log_sigmoid(x, name=None):
    """``log(sigmoid(x))``, computed stably as ``-softplus(-x)``."""
    return negative(softplus(negative(tf(x, "log_sigmoid"))))


# ----------------------------------------------------------------- softmax (primitives)
def _softmax_rule(name):
    def rule(x, axis):
        require_float(name, x)
        if not 0 <= axis < max(len(x.shape), 1):
            norm_axis(name, axis, len(x.shape))
        return TensorSpec(x.shape, x.dtype)
    return rule


softmax_p = primitive("softmax", _softmax_rule("softmax"))
log_softmax_p = primitive("log_softmax", _softmax_rule("log_softmax"))


# The backward passes are primitives too, so a GPU runs each as one fused kernel.
def _softmax_grad_rule(name):
    def rule(y, g, axis):
        check_same_dtype(name, y, g)
        return TensorSpec(broadcast_shapes(name, y.shape, g.shape), y.dtype)
    return rule


softmax_grad_p = primitive("softmax_grad", _softmax_grad_rule("softmax_grad"))
log_softmax_grad_p = primitive("log_softmax_grad", _softmax_grad_rule("log_softmax_grad"))


@defgrad(softmax_p)
def _softmax_grad(g, y, x, axis):
    return softmax_grad_p(y, g, axis=axis)


@defgrad(log_softmax_p)
def _log_softmax_grad(g, y, x, axis):
    return log_softmax_grad_p(y, g, axis=axis)


@defgrad(softmax_grad_p)
def _softmax_grad_grad(h, out, y, g, axis):
    # out = y * (g - s), s = sum(g * y): linear in g (same map applied to h),
    # and d/dy gives h * (g - s) - g * sum(h * y).
    s = reduce_sum(multiply(g, y), axis=axis, keepdims=True)
    hy = reduce_sum(multiply(h, y), axis=axis, keepdims=True)
    return subtract(multiply(h, subtract(g, s)), multiply(g, hy)), softmax_grad_p(y, h, axis=axis)


@defgrad(log_softmax_grad_p)
def _log_softmax_grad_grad(h, out, y, g, axis):
    # out = g - exp(y) * sum(g)
    e = exp(y)
    gy = negative(multiply(multiply(h, e), reduce_sum(g, axis=axis, keepdims=True)))
    gg = subtract(h, reduce_sum(multiply(h, e), axis=axis, keepdims=True))
    return gy, gg


def softmax(logits, axis=None, name=None):
    """Softmax along ``axis``: ``exp(x) / reduce_sum(exp(x), axis)``, computed stably.

    Args:
      logits: a non-empty float tensor.
      axis: the dimension softmax runs over (default -1, the last).

    Returns:
      A tensor of the same shape whose slices along ``axis`` sum to 1.

    Example:
      >>> tl.nn.softmax(tl.constant([1.0, 1.0])).numpy()
      array([0.5, 0.5], dtype=float32)
    """
    x = tf(logits, "softmax")
    return softmax_p(x, axis=norm_axis("softmax", -1 if axis is None else axis, x.ndim))


def log_softmax(logits, axis=None, name=None):
    """``logits - log(reduce_sum(exp(logits), axis))``, computed stably.

    Args:
      logits: a non-empty float tensor.
      axis: the dimension to normalize over (default -1, the last).
    """
    x = tf(logits, "log_softmax")
    return log_softmax_p(x, axis=norm_axis("log_softmax", -1 if axis is None else axis, x.ndim))


# ----------------------------------------------------------------- bias_add (primitive)
_CHANNELS_LAST = {None, "NHWC", "NWC", "NDHWC", "N...C"}
_CHANNELS_FIRST = {"NCHW", "NCW", "NCDHW", "NC..."}


def _bias_add_rule(x, b, data_format):
    check_same_dtype("bias_add", x, b)
    if len(x.shape) < 2:
        raise InvalidArgumentError(f"bias_add: value must have rank >= 2, got shape {fmt(x.shape)}")
    if len(b.shape) != 1:
        raise InvalidArgumentError(f"bias_add: bias must be 1-D, got shape {fmt(b.shape)}")
    ax = 1 if data_format == "NCHW" else len(x.shape) - 1
    c, n = x.shape[ax], b.shape[0]
    if c is not None and n is not None and c != n:
        raise InvalidArgumentError(
            f"bias_add: bias has {n} elements but value (shape {fmt(x.shape)}, data_format "
            f"{data_format}) has {c} channels in dimension {ax}; they must match")
    return TensorSpec(x.shape, x.dtype)


bias_add_p = primitive("bias_add", _bias_add_rule)


@defgrad(bias_add_p)
def _bias_add_grad(g, out, x, b, data_format):
    ax = 1 if data_format == "NCHW" else g.ndim - 1
    return g, reduce_sum(g, axis=[i for i in range(g.ndim) if i != ax])


def bias_add(value, bias, data_format=None, name=None):
    """Adds a 1-D ``bias`` along the channel dimension of ``value``.

    Args:
      value: a tensor of rank >= 2.
      bias: a 1-D tensor, one entry per channel.
      data_format: ``None``/``"NHWC"``/``"N...C"`` (channels last, the default)
        or ``"NCHW"``/``"NC..."`` (channels in dimension 1).

    Returns:
      ``value + bias`` broadcast along the channel dimension.

    Example:
      >>> tl.nn.bias_add(tl.zeros([2, 3]), tl.constant([1., 2., 3.])).numpy()[0]
      array([1., 2., 3.], dtype=float32)
    """
    x = t(value)
    b = t(bias) if isinstance(bias, (Tensor, Variable, SymbolicTensor)) else constant(bias, dtype=x.dtype)
    if data_format in _CHANNELS_LAST:
        fmt_ = "NHWC"
    elif data_format in _CHANNELS_FIRST:
        fmt_ = "NCHW"
    else:
        raise InvalidArgumentError(
            f"bias_add: unknown data_format {data_format!r}; valid: 'NHWC', 'NCHW', 'N...C', 'NC...' "
            "(or NWC/NCW/NDHWC/NCDHW)")
    if type(x) is Tensor and type(b) is Tensor:
        _bias_add_rule(spec_of(x), spec_of(b), fmt_)  # numpy would broadcast some mismatches silently
    return bias_add_p(x, b, data_format=fmt_)


# ----------------------------------------------------------------- dropout
def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Inverted dropout: zeroes elements with probability ``rate``, scales the rest by ``1/(1-rate)``.

    Keras' ``training`` switch lives in the ``Dropout`` layer; this op always drops.

    Args:
      x: a float tensor.
      rate: probability of dropping each element, in ``[0, 1)``.
      noise_shape: shape of the keep/drop mask, broadcast against ``x`` (e.g.
        ``[batch, 1, 1, channels]`` drops whole feature maps); ``None`` entries
        take ``x``'s size.
      seed: op-level seed (see ``tl.random.set_seed``).

    Returns:
      A tensor like ``x``.

    Raises:
      ValueError: if ``rate`` is not in ``[0, 1)``.

    Example:
      >>> y = tl.nn.dropout(tl.ones([1000]), rate=0.5)   # entries are 0 or 2
    """
    x = tf(x, "dropout")
    if isinstance(rate, (Tensor, Variable)):
        rate = float(rate)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
        raise InvalidArgumentError(f"dropout: rate must be a scalar tensor or a float in the range [0, 1), "
                                   f"got {rate!r}")
    if rate == 0:
        return x
    from tensorlab.ops.random_ops import op_seed
    if noise_shape is not None:
        noise_shape = tuple(noise_shape.numpy().tolist() if hasattr(noise_shape, "numpy") else noise_shape)
    return _dropout(x, rate=float(rate), noise_shape=noise_shape, seed=op_seed(seed))


@composite("dropout", lambda x, rate, noise_shape, seed: TensorSpec(x.shape, x.dtype))
def _dropout(x, rate, noise_shape, seed):
    # The mask is drawn each time the op runs and its shape needs x's: on Functional-API tensors this runs as
    # a composite, so that a model drops a fresh set of elements on every call.
    shape = tuple(x.shape)
    if noise_shape is not None:
        ns = list(noise_shape)
        if len(ns) == len(shape):
            ns = [d if n is None else n for n, d in zip(ns, shape)]
        ns = tuple(int(n) for n in ns)
        if tuple(broadcast_shapes("dropout", ns, shape)) != shape:
            raise InvalidArgumentError(f"dropout: noise_shape {list(ns)} does not broadcast to the shape of x "
                                       f"{fmt(shape)}")
        shape = ns
    from tensorlab.ops.random_ops import uniform
    with _dev.device(x._device.name):
        u = uniform(shape, dtype=x.dtype, seed=seed)
    # u >= rate keeps each element with probability 1 - rate.
    keep = cast(greater_equal(u, rate), x.dtype)
    return multiply(x, multiply(keep, 1.0 / (1.0 - rate)))


# ----------------------------------------------------------------- normalization helpers
def _mean(x, axes, keepdims):
    n = 1
    for a in axes:
        d = x.shape[a]
        if d is None:
            from tensorlab.ops.reduction import reduce_mean
            return reduce_mean(x, axis=list(axes), keepdims=keepdims)
        n *= d
    return divide(reduce_sum(x, axis=list(axes), keepdims=keepdims), float(max(n, 1)))


def moments(x, axes, shift=None, keepdims=False, name=None):
    """Mean and variance of ``x`` over ``axes``.

    Args:
      x: a float tensor.
      axes: the dimensions to reduce (int or list).
      shift: unused (kept for TF compatibility).
      keepdims: keep the reduced dimensions with size 1.

    Returns:
      ``(mean, variance)``.

    Example:
      >>> m, v = tl.nn.moments(tl.constant([1.0, 3.0]), axes=[0])   # 2.0, 1.0
    """
    x = tf(x, "moments")
    ax = norm_axes("moments", axes, x.ndim)
    mean = _mean(x, ax, True)
    d = subtract(x, mean)
    var = _mean(multiply(d, d), ax, keepdims)
    if not keepdims:
        kept = [s for i, s in enumerate(mean.shape) if i not in ax]
        mean = reshape(mean, kept) if None not in kept else _mean(x, ax, False)
    return mean, var


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """Normalizes ``x`` with given statistics: ``scale * (x - mean) / sqrt(variance + eps) + offset``.

    Args:
      x: a float tensor.
      mean, variance: tensors broadcastable to ``x``.
      offset: ``beta``, or ``None``.
      scale: ``gamma``, or ``None``.
      variance_epsilon: small float added to the variance.
    """
    x = tf(x, "batch_normalization")
    inv = rsqrt(add(t(variance), float(variance_epsilon)))
    if scale is not None:
        inv = multiply(inv, scale)
    shift = negative(multiply(mean, inv))
    if offset is not None:
        shift = add(shift, offset)
    return add(multiply(x, inv), shift)


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    """Divides ``x`` by its L2 norm along ``axis``: ``x / sqrt(max(sum(x**2), epsilon))``."""
    x = tf(x, "l2_normalize")
    axis = dim if axis is None and dim is not None else axis
    sq = reduce_sum(multiply(x, x), axis=norm_axes("l2_normalize", axis, x.ndim), keepdims=True)
    return multiply(x, rsqrt(maximum(sq, float(epsilon))))


def local_response_normalization(input, depth_radius=5, bias=1.0, alpha=1.0, beta=0.5, name=None):
    """Local response normalization across channels (``tf.nn.local_response_normalization``, ``tf.nn.lrn``).

    ``output = input / (bias + alpha * sqr_sum) ** beta``, where ``sqr_sum`` sums
    ``input ** 2`` over the ``2 * depth_radius + 1`` channels centred on each channel
    (the window is cut at the first and last channel), as in TF.

    Args:
      input: float ``[batch, height, width, channels]``.
      depth_radius: the half-width of the channel window (an int >= 0).
      bias, alpha, beta: the constants above.

    Returns:
      A tensor of the input's shape and dtype.

    Example:
      >>> tl.nn.lrn(tl.ones([1, 1, 1, 3]), depth_radius=1, beta=1.0).numpy()
      array([[[[0.33333334, 0.25      , 0.33333334]]]], dtype=float32)
    """
    from tensorlab.ops.elementwise import pow as _pow
    from tensorlab.ops.pooling import avg_pool2d_p
    from tensorlab.ops.shape import _reshape_to, pad
    op = "local_response_normalization"
    x = tf(input, op)
    if x.ndim != 4 or x.shape[-1] is None:
        raise InvalidArgumentError(f"{op}: input must have rank 4 (NHWC) with a known number of channels, got "
                                   f"shape {fmt(x.shape)}")
    if isinstance(depth_radius, bool) or not isinstance(depth_radius, int) or depth_radius < 0:
        raise InvalidArgumentError(f"{op}: depth_radius must be an integer >= 0, got {depth_radius!r}")
    r, c = depth_radius, x.shape[-1]
    # The window sums are an average pool (times the window size) over the zero-padded channels.
    rows = reshape(pad(multiply(x, x), [[0, 0], [0, 0], [0, 0], [r, r]]), [-1, 1, c + 2 * r, 1])
    sums = avg_pool2d_p(rows, ksize=(1, 2 * r + 1), strides=(1, 1), pads=(0, 0, 0, 0))
    sums = _reshape_to(multiply(sums, float(2 * r + 1)), x.shape)
    return multiply(x, _pow(add(multiply(sums, float(alpha)), float(bias)), -float(beta)))


lrn = local_response_normalization


# ----------------------------------------------------------------- loss scaling
def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None, name=None):
    """Sums per-example losses and divides by the global batch size.

    Args:
      per_example_loss: a tensor of rank >= 1, one loss per example.
      sample_weight: optional weights broadcast against ``per_example_loss``.
      global_batch_size: the batch size over all replicas (default: the first
        dimension of ``per_example_loss``).

    Returns:
      A scalar loss.
    """
    loss = tf(per_example_loss, "compute_average_loss")
    if loss.ndim == 0:
        raise InvalidArgumentError("compute_average_loss: per_example_loss must have rank >= 1 (one loss "
                                   "per example), got a scalar")
    if sample_weight is not None:
        sw = t(sample_weight)
        if sw.dtype != loss.dtype:
            sw = cast(sw, loss.dtype)
        loss = multiply(loss, sw)
    if global_batch_size is None:
        rows = loss.shape[0]
        global_batch_size = None if rows is None else rows * _replicas_in_sync()
    elif isinstance(global_batch_size, (Tensor, Variable)):
        global_batch_size = float(global_batch_size)
    if global_batch_size is None:
        raise ValueError("compute_average_loss: the batch size is unknown; pass global_batch_size")
    return divide(reduce_sum(loss), float(global_batch_size))


def scale_regularization_loss(regularization_loss, name=None):
    """Scales a regularization loss (or list of them) by ``1 / num_replicas_in_sync``."""
    if isinstance(regularization_loss, (list, tuple)):
        from tensorlab.ops.elementwise import add_n
        regularization_loss = add_n(regularization_loss)
    n = _replicas_in_sync()
    loss = t(regularization_loss)
    return loss if n == 1 else divide(loss, float(n))


def _replicas_in_sync():
    """Replicas of the active tl.distribute strategy (1 without one). Looked up in
    sys.modules: ops never import the distribute layer, and no strategy can
    exist before it is imported."""
    dist = sys.modules.get("tensorlab.distribute")
    if dist is None or not dist.has_strategy():
        return 1
    return int(dist.get_strategy().num_replicas_in_sync)


# ----------------------------------------------------------------- space_to_depth / depth_to_space
def _block_args(name, input, block_size, data_format):
    """The input (rank 4, known H, W, C), the block size, and whether it is NCHW."""
    x = t(input)
    if data_format not in ("NHWC", "NCHW"):
        raise InvalidArgumentError(f"{name}: data_format must be 'NHWC' or 'NCHW', got {data_format!r}")
    if x.ndim != 4:
        raise InvalidArgumentError(f"{name}: input must be 4-D ({data_format}), got shape {fmt(x.shape)}")
    try:
        b = int(block_size)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: block_size must be an integer, got {block_size!r}") from None
    if b < 2:
        raise InvalidArgumentError(f"{name}: block_size must be at least 2, got {b}")
    if None in tuple(x.shape[1:]):
        raise InvalidArgumentError(f"{name}: height, width and channels must be known, got shape {fmt(x.shape)}")
    return x, b, data_format == "NCHW"


def space_to_depth(input, block_size, data_format="NHWC", name=None):
    """Moves ``block_size x block_size`` blocks of pixels into the channels (``tf.nn.space_to_depth``).

    Output channel ``(dy * block_size + dx) * C + c`` of pixel ``(i, j)`` is
    input channel ``c`` of pixel ``(i * block_size + dy, j * block_size + dx)``.

    Args:
      input: ``[batch, height, width, C]`` (or ``[batch, C, height, width]`` for
        NCHW), height and width divisible by ``block_size``.
      block_size: an int >= 2.
      data_format: ``"NHWC"`` or ``"NCHW"``.

    Returns:
      ``[batch, height / bs, width / bs, C * bs * bs]`` (NCHW: channels second).

    Example:
      >>> tl.nn.space_to_depth(tl.reshape(tl.range(4), [1, 2, 2, 1]), 2).numpy()
      array([[[[0, 1, 2, 3]]]], dtype=int32)
    """
    x, b, nchw = _block_args("space_to_depth", input, block_size, data_format)
    c, h, w = x.shape[1:] if nchw else (x.shape[3], x.shape[1], x.shape[2])
    if h % b or w % b:
        raise InvalidArgumentError(f"space_to_depth: height {h} and width {w} must be divisible by block_size {b} "
                                   f"(input shape {fmt(x.shape)}, {data_format})")
    if nchw:
        y = transpose(reshape(x, [-1, c, h // b, b, w // b, b]), [0, 3, 5, 1, 2, 4])
        return reshape(y, [-1, b * b * c, h // b, w // b])
    y = transpose(reshape(x, [-1, h // b, b, w // b, b, c]), [0, 1, 3, 2, 4, 5])
    return reshape(y, [-1, h // b, w // b, b * b * c])


def depth_to_space(input, block_size, data_format="NHWC", name=None):
    """Moves channels into ``block_size x block_size`` blocks of pixels; the inverse of ``space_to_depth``.

    Output pixel ``(i * block_size + dy, j * block_size + dx)``, channel ``c``
    is input channel ``(dy * block_size + dx) * C_out + c`` of pixel ``(i, j)``.

    Args:
      input: ``[batch, height, width, C]`` (NCHW: ``[batch, C, height, width]``)
        with ``C`` divisible by ``block_size ** 2``.
      block_size: an int >= 2.
      data_format: ``"NHWC"`` or ``"NCHW"``.

    Returns:
      ``[batch, height * bs, width * bs, C / (bs * bs)]`` (NCHW: channels second).

    Example:
      >>> tl.nn.depth_to_space(tl.reshape(tl.range(4), [1, 1, 1, 4]), 2)[0, :, :, 0].numpy()
      array([[0, 1],
             [2, 3]], dtype=int32)
    """
    x, b, nchw = _block_args("depth_to_space", input, block_size, data_format)
    c, h, w = x.shape[1:] if nchw else (x.shape[3], x.shape[1], x.shape[2])
    if c % (b * b):
        raise InvalidArgumentError(f"depth_to_space: channels {c} must be divisible by block_size ** 2 = {b * b} "
                                   f"(input shape {fmt(x.shape)}, {data_format})")
    oc = c // (b * b)
    if nchw:
        y = transpose(reshape(x, [-1, b, b, oc, h, w]), [0, 3, 4, 1, 5, 2])
        return reshape(y, [-1, oc, h * b, w * b])
    y = transpose(reshape(x, [-1, h, w, b, b, oc]), [0, 1, 3, 2, 4, 5])
    return reshape(y, [-1, h * b, w * b, oc])


__all__ = []
NN = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "softsign", "log_sigmoid",
      "softmax", "log_softmax", "bias_add", "dropout", "moments", "batch_normalization", "l2_normalize",
      "compute_average_loss", "scale_regularization_loss", "space_to_depth", "depth_to_space",
      "local_response_normalization", "lrn"]
MATH = ["softsign", "log_sigmoid", "softmax", "log_softmax", "l2_normalize"]
