"""Fused bias + activation: ``act(x + b)``, ``b`` over the last axis, as one primitive.

``tl.keras``' Dense and convolution layers call ``bias_act`` when they have a bias and one of
``ACTIVATIONS``: on the GPU the forward pass is one pass of ``tl_bias_act_fwd`` and the
backward pass one of ``tl_bias_act_bwd`` (``cuda_kernels/fused.cu``) plus the bias' column sum,
instead of an add, the activation's elementwise chain and its backward chain. On the CPU each
is one numpy expression. The backward primitive's own gradient (second order) is taken through
the activation's composite definition, so nested tapes work as with the unfused layers.
"""
from tensorlab.core.registry import defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import Tensor, spec_of
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import fmt, require_float, require_like, t

__all__ = []  # internal: reached through tl.keras' layers (and ops.fused)

#: activation names the fused kernels implement ("gelu" is the exact erf form)
ACTIVATIONS = ("relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh")


def _check(name, x, b, activation, *others):
    require_float(name, x)
    if activation not in ACTIVATIONS:
        raise InvalidArgumentError(f"{name}: activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    c = x.shape[-1] if len(x.shape) else None
    if len(x.shape) < 1 or b.dtype != x.dtype or len(b.shape) != 1 or (
            None not in (c, b.shape[0]) and b.shape[0] != c):
        raise InvalidArgumentError(
            f"{name}: the bias must be a vector of the last axis of x (x: shape {fmt(x.shape)}, dtype "
            f"{x.dtype.name}); got shape {fmt(b.shape)}, dtype {b.dtype.name}")
    for what, o in others:
        require_like(name, what, o, x, "x")
    return TensorSpec(tuple(x.shape), x.dtype)


bias_act_p = primitive("bias_act", lambda x, b, activation: _check("bias_act", x, b, activation),
                       doc="(x, b; activation) -> activation(x + b), b over the last axis")
# y, the forward output, lets a backend differentiate relu, sigmoid and tanh from it instead of
# recomputing x + b (the CPU does; the GPU kernel recomputes x + b on the fly).
bias_act_grad_p = primitive("bias_act_grad", lambda dy, x, b, y, activation: _check(
    "bias_act_grad", x, b, activation, ("dy", dy), ("y", y)),
    doc="(dy, x, b, y; activation) -> d act(x + b) / d(x + b) * dy, y = act(x + b)")


def activation_fn(activation):
    """The composite definition of ``activation`` in tensorlab ops (the reference and the
    second-order path)."""
    from tensorlab.ops import nn
    from tensorlab.ops.elementwise import sigmoid, tanh

    return {"relu": nn.relu, "gelu": nn.gelu, "gelu_tanh": lambda z: nn.gelu(z, approximate=True),
            "silu": nn.silu, "sigmoid": sigmoid, "tanh": tanh}[activation]


@defgrad(bias_act_p)
def _bias_act_grad(g, out, x, b, activation):
    dz = bias_act_grad_p(g, x, b, out, activation=activation)
    return dz, dz   # the engine sums dz over the leading axes for b


@defgrad(bias_act_grad_p)
def _bias_act_grad_grad(gg, out, dy, x, b, y, activation):
    from tensorlab.core.autodiff import GradientTape
    from tensorlab.ops.elementwise import add

    act = activation_fn(activation)
    with GradientTape() as outer:
        outer.watch([dy, x, b])
        with GradientTape() as inner:
            z = add(x, b)
            inner.watch(z)
            act_z = act(z)
        dz = inner.gradient(act_z, z, output_gradients=dy)
    # y only stands for act(x + b), recomputed above: it gets no gradient of its own
    return tuple(outer.gradient(dz, [dy, x, b], output_gradients=gg)) + (None,)


def bias_act(x, b, activation):
    """``activation(x + b)`` with ``b`` a vector over the last axis of ``x``.

    Args:
      x: a float tensor of rank >= 1.
      b: the bias, shape ``(x.shape[-1],)``, x's dtype.
      activation: one of ``ACTIVATIONS``.
    """
    x, b = t(x), t(b)
    if type(x) is Tensor and (activation not in ACTIVATIONS or not x.dtype.is_floating or b.dtype != x.dtype
                              or tuple(b.shape) != tuple(x.shape[-1:])):
        bias_act_p.shape_rule(spec_of(x), spec_of(b), activation=activation)  # eager calls skip the rule
    return bias_act_p(x, b, activation=activation)
