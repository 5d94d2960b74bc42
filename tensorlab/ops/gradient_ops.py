"""Ops about gradients and placement: stop_gradient, identity (device copies)."""
from tensorlab.core import device as _dev
from tensorlab.core.autodiff import record_custom
from tensorlab.core.registry import defgrad, not_differentiable, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import _copy_to
from tensorlab.ops._rules import t

stop_gradient_p = primitive("stop_gradient", lambda x: TensorSpec(x.shape, x.dtype))
identity_p = primitive("identity", lambda x: TensorSpec(x.shape, x.dtype))
not_differentiable(stop_gradient_p)


@defgrad(identity_p)
def _identity_grad(g, out, x):
    return g


def stop_gradient(input, name=None):
    """Returns ``input`` unchanged, but no gradient flows through it."""
    return stop_gradient_p(t(input))


def identity(input, name=None):
    """Returns a tensor with the same value; under ``tl.device(d)`` it is copied to ``d``.

    Gradients flow back through the copy to the source device.
    """
    x = t(input)
    cur = _dev.current()
    if x._device is cur or x._device.kind == "symbolic" or not _dev._scope.stack:
        return identity_p(x)
    y = _copy_to(x, cur)
    src = x._device

    def rule(g, out, x_):
        with _dev.device(src):
            return identity(g)
    record_custom(rule, "identity(copy)", (x,), y)
    return y


__all__ = ["stop_gradient", "identity"]
