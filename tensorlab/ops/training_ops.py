"""Fused optimizer updates, TF's training ops (``ApplyKerasMomentum``, ``ApplyAdam``).

Each primitive takes a variable's value, its gradient and its optimizer
slots and returns their new values in one op: on the GPU one pass of our
kernel (``cuda_kernels/fused.cu``) instead of a chain of elementwise ops, on
the CPU one numpy expression per output. The update rules are Keras 3's
(see ``keras/optimizers/algorithms.py``, whose SGD and Adam call these for
float32 variables). They are not differentiable: an update is not part of a
model's graph.
"""
import math as _math

from tensorlab.core.registry import not_differentiable, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import Tensor, spec_of
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import require_float, require_like, t

__all__ = []  # internal: reached through the Keras optimizers (and ops.training_ops)


def _update_rule(name, n_slots):
    def rule(param, grad, *slots, **params):
        require_float(name, param)
        if len(slots) not in n_slots:
            raise InvalidArgumentError(f"{name}: expected {' or '.join(map(str, n_slots))} slot tensor(s) after "
                                       f"the parameter and the gradient, got {len(slots)}")
        for what, s in (("gradient", grad),) + tuple((f"slot {i}", x) for i, x in enumerate(slots)):
            require_like(name, f"the {what}", s, param, "the parameter")
        return tuple(TensorSpec(param.shape, param.dtype) for _ in range(1 + len(slots)))
    return rule


apply_sgd_p = primitive("apply_sgd", _update_rule("apply_sgd", (0, 1)), multiple_results=True,
                        doc="(param, grad[, momentum]) -> new (param[, momentum])")
apply_adam_p = primitive("apply_adam", _update_rule("apply_adam", (2, 3)), multiple_results=True,
                         doc="(param, grad, m, v[, v_hat]) -> new (param, m, v[, v_hat])")
def _moving_average_rule(average, value, **params):
    require_float("apply_moving_average", average)
    require_like("apply_moving_average", "the new value", value, average, "the average")
    return (TensorSpec(average.shape, average.dtype),)


apply_moving_average_p = primitive("apply_moving_average", _moving_average_rule, multiple_results=True,
                                   doc="(average, value) -> (average * momentum + value * (1 - momentum),)")
not_differentiable(apply_sgd_p, apply_adam_p, apply_moving_average_p)


def _checked(prim, args):
    """The arguments as tensors, checked by the rule (numpy would broadcast or upcast silently)."""
    args = tuple(t(a) for a in args)
    if all(type(a) is Tensor for a in args):
        p = args[0]._data
        if p.dtype.kind != "f" or any(a._data.shape != p.shape or a._data.dtype != p.dtype for a in args[1:]):
            prim.shape_rule(*(spec_of(a) for a in args))  # raises the error that names the mismatch
    return args


def _check_hparams(name, lr=None, **kw):
    for k, v in (() if lr is None else (("learning_rate", lr),)) + tuple(kw.items()):
        if not _math.isfinite(v):
            raise InvalidArgumentError(f"{name}: {k} must be a finite number, got {v}")


def apply_sgd(param, grad, momentum_slot=None, *, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    """SGD step (Keras rule): ``m = momentum*m - lr*g``; ``p += m`` (Nesterov:
    ``p += momentum*m - lr*g``); without a slot ``p -= lr*g``. ``weight_decay``
    first shrinks ``p`` by ``lr*weight_decay*p`` (decoupled, as Keras' ``weight_decay``).

    Returns:
      ``(new_param,)`` or ``(new_param, new_momentum)``.
    """
    _check_hparams("apply_sgd", lr, momentum=momentum, weight_decay=weight_decay)
    args = _checked(apply_sgd_p, (param, grad) if momentum_slot is None else (param, grad, momentum_slot))
    return apply_sgd_p(*args, lr=float(lr), momentum=float(momentum), nesterov=bool(nesterov),
                       weight_decay=float(weight_decay))


def apply_adam(param, grad, m, v, v_hat=None, *, lr, beta_1, beta_2, epsilon, step, weight_decay=0.0):
    """Adam step ``step`` (1-based, Keras rule): ``m += (g - m)(1 - beta_1)``,
    ``v += (g^2 - v)(1 - beta_2)`` (AMSGrad with ``v_hat``: ``v_hat = max(v_hat, v)``
    is used), ``p -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)``.
    ``weight_decay`` first shrinks ``p`` by ``lr*weight_decay*p`` (AdamW).

    Returns:
      ``(new_param, new_m, new_v)`` (and ``new_v_hat``).
    """
    _check_hparams("apply_adam", lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, weight_decay=weight_decay)
    if int(step) < 1:
        raise InvalidArgumentError(f"apply_adam: step must be >= 1 (the first update is step 1), got {step}")
    args = _checked(apply_adam_p, (param, grad, m, v) if v_hat is None else (param, grad, m, v, v_hat))
    return apply_adam_p(*args, lr=float(lr), beta_1=float(beta_1), beta_2=float(beta_2), epsilon=float(epsilon),
                        step=int(step), weight_decay=float(weight_decay))


def apply_moving_average(average, value, *, momentum):
    """Keras' moving-average update in one op: ``average * momentum + value * (1 - momentum)``
    (BatchNormalization's moving mean and variance). ``value`` must match ``average``.

    Returns:
      ``(new_average,)``.
    """
    _check_hparams("apply_moving_average", momentum=momentum)
    args = _checked(apply_moving_average_p, (average, value))
    return apply_moving_average_p(*args, momentum=float(momentum))
