"""Cross-entropy losses (``tl.nn``): softmax, sparse softmax, sigmoid, Poisson.

``sparse_softmax_cross_entropy_with_logits`` is a fused primitive, TF's
``SparseSoftmaxCrossEntropyWithLogits``: one pass computes the loss and, when
a tape records it, the backprop ``softmax(logits) - one_hot(labels)`` (one
row kernel on the GPU), which the rule scales by the incoming gradient. The
others are stable composites.
"""
import math as _math

from tensorlab.core import dtypes as dt
from tensorlab.core import registry as _registry
from tensorlab.core.registry import defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import Tensor, spec_of
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import fmt, norm_axis, pair, require_dtypes, require_float, t, tf
from tensorlab.ops.creation import one_hot
from tensorlab.ops.elementwise import (abs, add, exp, greater, log, log1p, multiply, negative, subtract,
                                       where, zeros_like_)
from tensorlab.ops.nn import log_softmax, relu, softmax_grad_p, softmax_p
from tensorlab.ops.reduction import reduce_sum
from tensorlab.ops.shape import reshape

_LABEL_DTYPES = frozenset({dt.int32, dt.int64})


def _sparse_xent_rule(logits, labels, need_backprop=True):
    name = "sparse_softmax_cross_entropy_with_logits"
    require_float(name, logits)
    require_dtypes(name, labels, _LABEL_DTYPES)
    ls, ys = tuple(logits.shape), tuple(labels.shape)
    if len(ls) < 1 or len(ys) != len(ls) - 1 or any(
            a is not None and b is not None and a != b for a, b in zip(ys, ls[:-1])):
        raise InvalidArgumentError(
            f"{name}: labels shape {fmt(ys)} must equal logits shape {fmt(ls)} without its last "
            f"(class) dimension, i.e. {fmt(ls[:-1]) if ls else '[...]'}")
    if ls[-1] == 0:
        raise InvalidArgumentError(f"{name}: logits shape {fmt(ls)} has no classes (last dimension is 0)")
    return TensorSpec(ys, logits.dtype), TensorSpec(ls, logits.dtype)


# (logits, labels; need_backprop) -> (loss, backprop). Without a recording tape the backprop
# is not computed: the implementations return a broadcast zero of its shape (no memory).
sparse_softmax_xent_p = primitive("sparse_softmax_cross_entropy_with_logits", _sparse_xent_rule,
                                  multiple_results=True, saved_outputs=(1,))


@defgrad(sparse_softmax_xent_p)
def _sparse_xent_grad(g, out, logits, labels, need_backprop):
    g_loss, g_backprop = g
    d = multiply(reshape(g_loss, tuple(g_loss.shape) + (1,)), out[1])
    if g_backprop is not None:  # second order: backprop = softmax(logits) - one_hot(labels)
        last = logits.ndim - 1
        d = add(d, softmax_grad_p(softmax_p(logits, axis=last), g_backprop, axis=last))
    return d, None


def sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Softmax cross-entropy between integer class ``labels`` and ``logits``.

    Args:
      labels: int32/int64 tensor of shape ``logits.shape[:-1]``, values in
        ``[0, num_classes)``.
      logits: float tensor ``[..., num_classes]`` of unnormalized log-probabilities.

    Returns:
      Per-example losses, shape ``labels.shape``, dtype of ``logits``.

    Raises:
      InvalidArgumentError: for a label outside ``[0, num_classes)`` or
        mismatched shapes.

    Example:
      >>> tl.nn.sparse_softmax_cross_entropy_with_logits(
      ...     labels=tl.constant([0]), logits=tl.constant([[0.0, 0.0]])).numpy()
      array([0.6931472], dtype=float32)
    """
    if labels is None or logits is None:
        raise ValueError("sparse_softmax_cross_entropy_with_logits: give both labels= and logits=")
    lg = tf(logits, "sparse_softmax_cross_entropy_with_logits")
    lb = t(labels)
    if type(lg) is Tensor and type(lb) is Tensor:
        _sparse_xent_rule(spec_of(lg), spec_of(lb))  # numpy would broadcast mismatched labels silently
    return sparse_softmax_xent_p(lg, lb, need_backprop=bool(_registry.STATE.tapes))[0]


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Softmax cross-entropy between a probability distribution ``labels`` and ``logits``.

    Gradients flow to both ``labels`` and ``logits`` (as in TF 2).

    Args:
      labels: float tensor, each slice along ``axis`` a distribution.
      logits: float tensor of unnormalized log-probabilities, same shape.
      axis: the class dimension (default -1).

    Returns:
      Losses with ``axis`` removed.

    Example:
      >>> tl.nn.softmax_cross_entropy_with_logits(
      ...     labels=[[0.0, 1.0]], logits=tl.constant([[0.0, 0.0]])).numpy()
      array([0.6931472], dtype=float32)
    """
    lg = tf(logits, "softmax_cross_entropy_with_logits")
    lb, lg = pair(labels, lg, "softmax_cross_entropy_with_logits")
    ax = norm_axis("softmax_cross_entropy_with_logits", axis, lg.ndim)
    if tuple(lb.shape) != tuple(lg.shape) and None not in tuple(lb.shape) + tuple(lg.shape):
        raise InvalidArgumentError(
            f"softmax_cross_entropy_with_logits: labels shape {fmt(lb.shape)} and logits shape "
            f"{fmt(lg.shape)} must be equal")
    return negative(reduce_sum(multiply(lb, log_softmax(lg, axis=ax)), axis=ax))


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Elementwise logistic loss ``-z log(sigmoid(x)) - (1 - z) log(1 - sigmoid(x))``.

    Computed as ``max(x, 0) - x * z + log(1 + exp(-|x|))``, which cannot
    overflow for large ``|x|``.

    Args:
      labels: float tensor ``z`` of the same shape as ``logits``.
      logits: float tensor ``x``.

    Returns:
      Elementwise losses, shape of ``logits``.
    """
    if labels is None or logits is None:
        raise ValueError("sigmoid_cross_entropy_with_logits: give both labels= and logits=")
    x = tf(logits, "sigmoid_cross_entropy_with_logits")
    z, x = pair(labels, x, "sigmoid_cross_entropy_with_logits")
    if tuple(z.shape) != tuple(x.shape) and None not in tuple(z.shape) + tuple(x.shape):
        raise InvalidArgumentError(
            f"sigmoid_cross_entropy_with_logits: logits shape {fmt(x.shape)} and labels shape "
            f"{fmt(z.shape)} must be equal")
    return add(subtract(relu(x), multiply(x, z)), log1p(exp(negative(abs(x)))))


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    """Sigmoid cross-entropy with the positive term weighted by ``pos_weight``.

    ``(1 - z) x + (1 + (q - 1) z) (log(1 + exp(-|x|)) + max(-x, 0))``, stable
    for large ``|x|``.
    """
    x = tf(logits, "weighted_cross_entropy_with_logits")
    z, x = pair(labels, x, "weighted_cross_entropy_with_logits")
    q, _ = pair(pos_weight, x, "weighted_cross_entropy_with_logits")
    log_weight = add(multiply(z, subtract(q, 1)), 1)
    return add(multiply(subtract(1, z), x),
               multiply(log_weight, add(log1p(exp(negative(abs(x)))), relu(negative(x)))))


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """Poisson negative log-likelihood given ``log_input = log(rate)``.

    ``exp(log_input) - log_input * targets``, plus with ``compute_full_loss``
    the Stirling term ``targets log(targets) - targets + 0.5 log(2 pi targets)``
    where ``targets > 1``.
    """
    c = tf(log_input, "log_poisson_loss")
    z, c = pair(targets, c, "log_poisson_loss")
    loss = subtract(exp(c), multiply(c, z))
    if compute_full_loss:
        # The Stirling term is only used (and only finite) where targets > 1.
        big = greater(z, 1)
        safe = where(big, z, add(zeros_like_(z), 2))
        stirling = add(subtract(multiply(safe, log(safe)), safe),
                       multiply(log(multiply(safe, 2 * _math.pi)), 0.5))
        loss = add(loss, where(big, stirling, zeros_like_(z)))
    return loss


__all__ = []
NN = ["sparse_softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits",
      "sigmoid_cross_entropy_with_logits", "weighted_cross_entropy_with_logits", "log_poisson_loss"]
