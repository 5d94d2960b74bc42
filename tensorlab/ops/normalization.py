"""Fused normalization: layer norm over the last axis, batch norm over all axes but the last.

``LayerNormalization`` and ``BatchNormalization`` (channels last, training) call these instead
of a chain of reductions and elementwise ops. On the GPU the statistics and the backward pass
are single passes of our row kernels (``cuda_kernels/rowwise.cu``: ``tl_layer_norm_*``,
``tl_batch_norm_*``); on the CPU each is one numpy expression. Each forward primitive has a
fused backward primitive (``*_grad``), whose own gradient (second order) is taken through the
same formulas written with tensorlab ops, so nested tapes work as for the composite ops.

The statistics the forward primitives return are not differentiated through: ``layer_norm``
hands out ``y`` only and ``batch_norm`` returns its statistics behind ``stop_gradient`` (they
feed the moving averages); second-order terms reach ``x`` through the backward primitive's
rule, which recomputes the statistics from ``x``.
"""
from tensorlab.core.registry import defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import Tensor, spec_of
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import fmt, require_float, require_like, t
from tensorlab.ops.creation import ones, zeros
from tensorlab.ops.elementwise import add, multiply, rsqrt, subtract
from tensorlab.ops.gradient_ops import stop_gradient
from tensorlab.ops.reduction import reduce_mean, reduce_sum

__all__ = []  # internal: reached through tl.keras' normalization layers (and ops.normalization)


def _check(name, x, *params):
    require_float(name, x)
    if len(x.shape) < 1:
        raise InvalidArgumentError(f"{name}: x must have at least one axis (the features), got a scalar")
    c = x.shape[-1]
    for what, p in params:
        if p.dtype != x.dtype or len(p.shape) != 1 or (c is not None and p.shape[0] is not None
                                                        and p.shape[0] != c):
            raise InvalidArgumentError(
                f"{name}: {what} must be a vector of the {c} features of x (shape {fmt(x.shape)}, dtype "
                f"{x.dtype.name}); got shape {fmt(p.shape)}, dtype {p.dtype.name}")
    return c


def _ln_rule(x, gamma, beta, epsilon):
    _check("layer_norm", x, ("gamma", gamma), ("beta", beta))
    rows = TensorSpec(tuple(x.shape[:-1]), x.dtype)
    return TensorSpec(tuple(x.shape), x.dtype), rows, rows


def _ln_grad_rule(dy, x, gamma, mean, rstd, epsilon):
    c = _check("layer_norm_grad", x, ("gamma", gamma))
    require_like("layer_norm_grad", "dy", dy, x, "x")
    return TensorSpec(tuple(x.shape), x.dtype), TensorSpec((c,), x.dtype), TensorSpec((c,), x.dtype)


def _bn_rule(x, gamma, beta, epsilon):
    c = _check("batch_norm", x, ("gamma", gamma), ("beta", beta))
    return TensorSpec(tuple(x.shape), x.dtype), TensorSpec((c,), x.dtype), TensorSpec((c,), x.dtype)


def _bn_grad_rule(dy, x, gamma, mean, var, epsilon):
    c = _check("batch_norm_grad", x, ("gamma", gamma), ("mean", mean), ("var", var))
    require_like("batch_norm_grad", "dy", dy, x, "x")
    return TensorSpec(tuple(x.shape), x.dtype), TensorSpec((c,), x.dtype), TensorSpec((c,), x.dtype)


layer_norm_p = primitive("layer_norm", _ln_rule, multiple_results=True, saved_outputs=(1, 2),
                         doc="(x, gamma, beta; epsilon) -> (y, mean, rstd) over the last axis")
layer_norm_grad_p = primitive("layer_norm_grad", _ln_grad_rule, multiple_results=True,
                              doc="(dy, x, gamma, mean, rstd; epsilon) -> (dx, dgamma, dbeta)")
batch_norm_p = primitive("batch_norm", _bn_rule, multiple_results=True, saved_outputs=(1, 2),
                         doc="(x, gamma, beta; epsilon) -> (y, mean, var) over all axes but the last")
batch_norm_grad_p = primitive("batch_norm_grad", _bn_grad_rule, multiple_results=True,
                              doc="(dy, x, gamma, mean, var; epsilon) -> (dx, dgamma, dbeta)")


# ------------------------------------------------------------------ the formulas in tensorlab ops
def _stats(x, axes, epsilon):
    mean = reduce_mean(x, axis=axes, keepdims=True)
    d = subtract(x, mean)
    return d, rsqrt(add(reduce_mean(multiply(d, d), axis=axes, keepdims=True), epsilon))


def _norm_backward(dy, x, gamma, axes, param_axes, epsilon):
    """(dx, dgamma, dbeta) of ``y = gamma * (x - mean) * rstd + beta``, statistics over ``axes``,
    written with tensorlab ops (differentiable again)."""
    d, rstd = _stats(x, axes, epsilon)
    xhat = multiply(d, rstd)
    g = multiply(dy, gamma)
    dx = multiply(rstd, subtract(subtract(g, reduce_mean(g, axis=axes, keepdims=True)),
                                 multiply(xhat, reduce_mean(multiply(g, xhat), axis=axes, keepdims=True))))
    return dx, reduce_sum(multiply(dy, xhat), axis=param_axes), reduce_sum(dy, axis=param_axes)


def _second_order(dy, x, gamma, g, axes_of, epsilon):
    from tensorlab.core.autodiff import GradientTape

    axes, param_axes = axes_of(len(x.shape))
    with GradientTape() as tape:
        tape.watch([dy, x, gamma])
        outs = _norm_backward(dy, x, gamma, axes, param_axes, epsilon)
    return tuple(tape.gradient(list(outs), [dy, x, gamma], output_gradients=list(g))) + (None, None)


def _ln_axes(nd):
    return [nd - 1], list(range(nd - 1))


def _bn_axes(nd):
    return list(range(nd - 1)), list(range(nd - 1))


def _define_rules(forward, backward, axes_of):
    """The forward primitive's gradient is its fused backward primitive (fed the saved
    statistics); the backward primitive's own gradient is taken through the formulas."""
    @defgrad(forward)
    def _grad(g, out, x, gamma, beta, epsilon):
        return backward(g[0], x, gamma, out[1], out[2], epsilon=epsilon)

    @defgrad(backward)
    def _grad_of_grad(g, out, dy, x, gamma, stat1, stat2, epsilon):
        return _second_order(dy, x, gamma, g, axes_of, epsilon)


_define_rules(layer_norm_p, layer_norm_grad_p, _ln_axes)
_define_rules(batch_norm_p, batch_norm_grad_p, _bn_axes)


# ------------------------------------------------------------------------------------ the ops
def _params(prim, x, gamma, beta, epsilon):
    """gamma and beta as tensors (ones / zeros for None); eager calls do not run shape rules, so
    a mismatch is checked here and reported by the rule (numpy would broadcast it silently)."""
    if len(x.shape) == 0 or not x.dtype.is_floating:
        _check(prim.name, spec_of(x))  # raises: the features need an axis and a float dtype
    c = x.shape[-1]
    if c is None and (gamma is None or beta is None):
        raise InvalidArgumentError(f"{prim.name}: x's last axis (the features) has no known size "
                                   f"(shape {fmt(x.shape)}); give gamma and beta")
    gamma = ones((c,), dtype=x.dtype) if gamma is None else t(gamma)
    beta = zeros((c,), dtype=x.dtype) if beta is None else t(beta)
    if type(x) is Tensor and (not x.dtype.is_floating or any(
            p.dtype != x.dtype or tuple(p.shape) != (c,) for p in (gamma, beta))):
        prim.shape_rule(spec_of(x), spec_of(gamma), spec_of(beta), epsilon=epsilon)
    return gamma, beta


def layer_norm(x, gamma=None, beta=None, epsilon=1e-3):
    """``gamma * (x - mean) / sqrt(var + epsilon) + beta``, statistics over the last axis.

    Args:
      x: a float tensor of rank >= 1.
      gamma, beta: vectors of ``x.shape[-1]`` features (None: ones / zeros).
      epsilon: added to the variance.
    """
    x = t(x)
    gamma, beta = _params(layer_norm_p, x, gamma, beta, float(epsilon))
    return layer_norm_p(x, gamma, beta, epsilon=float(epsilon))[0]


def batch_norm(x, gamma=None, beta=None, epsilon=1e-3):
    """Training-mode batch norm over all axes but the last (channels last).

    Returns:
      ``(y, mean, variance)``: the normalized ``x`` and the batch statistics (biased variance,
      as Keras' moving averages take it), the latter not differentiated through.
    """
    x = t(x)
    gamma, beta = _params(batch_norm_p, x, gamma, beta, float(epsilon))
    y, mean, var = batch_norm_p(x, gamma, beta, epsilon=float(epsilon))
    return y, stop_gradient(mean), stop_gradient(var)
