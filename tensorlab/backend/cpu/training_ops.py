"""numpy implementations of the fused optimizer updates (ops/training_ops.py).

The arithmetic is the Keras optimizers' unfused update, in the same order
(so CPU results do not depend on whether an optimizer fuses), computed in
place on fresh temporaries: the inputs are never written, and each output
costs one allocation.
"""
import math

import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import training_ops as T


def _decayed(param, lr, weight_decay):
    return param - param * np.asarray(lr * weight_decay, param.dtype) if weight_decay else param


@impl(T.apply_sgd_p, "cpu")
def apply_sgd(param, grad, *slots, lr, momentum, nesterov, weight_decay):
    dtype = param.dtype
    p = _decayed(param, lr, weight_decay)
    step = np.asarray(grad * np.asarray(lr, dtype))  # an array even for 0-d inputs (written below)
    if not slots:
        return (np.subtract(p, step, out=step),)
    mom = np.asarray(momentum, dtype)
    m = slots[0] * mom
    m -= step
    if nesterov:
        out = m * mom
        out += p
        out -= step
        return out, m
    return p + m, m


@impl(T.apply_adam_p, "cpu")
def apply_adam(param, grad, m, v, *v_hat, lr, beta_1, beta_2, epsilon, step, weight_decay):
    dtype = param.dtype
    p = _decayed(param, lr, weight_decay)
    new_m = grad - m
    new_m *= np.asarray(1 - beta_1, dtype)
    new_m += m
    new_v = np.square(grad)
    new_v -= v
    new_v *= np.asarray(1 - beta_2, dtype)
    new_v += v
    used = np.maximum(v_hat[0], new_v) if v_hat else new_v
    alpha = math.sqrt(1 - beta_2 ** step) / (1 - beta_1 ** step)
    denom = np.sqrt(used)
    denom += np.asarray(epsilon, dtype)
    upd = np.asarray(new_m * np.asarray(lr * alpha, dtype))
    upd /= denom
    new_p = np.subtract(p, upd, out=upd)
    return (new_p, new_m, new_v, used) if v_hat else (new_p, new_m, new_v)


@impl(T.apply_moving_average_p, "cpu")
def apply_moving_average(average, value, *, momentum):
    # the Keras expression, in the average's dtype (numpy keeps float32 with Python-float factors)
    return (average * momentum + value * (1.0 - momentum),)
