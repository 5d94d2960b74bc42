"""The optimizers: SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion,
Adafactor, Ftrl, Lamb.

Each ``update`` follows Keras 3's update rule, written with tensorlab ops on
the variable's device. Bias corrections depend only on the step count, so
they are computed on the host as Python floats.
"""
import math

import tensorlab as tl
from tensorlab.keras.optimizers.base import Optimizer
from tensorlab.ops import training_ops


class SGD(Optimizer):
    """Gradient descent, with optional momentum and Nesterov momentum.

    ``velocity = momentum * velocity - lr * g``; ``w += velocity`` (or, with
    Nesterov, ``w += momentum * velocity - lr * g``). Without momentum, ``w -= lr * g``.

    Args:
      learning_rate: default 0.01.
      momentum: in [0, 1).
      nesterov: use Nesterov momentum.
    """

    _default_name = "SGD"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def build_slots(self, var):
        return (self.add_variable_from_reference(var, "momentum"),) if self.momentum else ()

    def _fused_update(self, var, g, slots):
        # One fused op (ops/training_ops.py): on a GPU one kernel pass, decay included.
        outs = training_ops.apply_sgd(var._read_untracked(), g, *slots, lr=self._lr_float(), momentum=self.momentum,
                                      nesterov=self.nesterov, weight_decay=self._decoupled_weight_decay())
        var.assign(outs[0])
        if slots:  # the momentum (plain SGD has none)
            slots[0].assign(outs[1])
        return True

    def update(self, var, g, slots, lr, step):
        # The unfused rule, kept as the reference the fused op is tested against.
        if not self.momentum:
            var.assign(var._read_untracked() - g * lr)
            return
        (m,) = slots
        step_ = g * lr
        new_m = m._read_untracked() * self.momentum - step_
        m.assign(new_m)
        if self.nesterov:
            var.assign(var._read_untracked() + new_m * self.momentum - step_)
        else:
            var.assign(var._read_untracked() + new_m)

    def _hparams(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam: adaptive moment estimation (Kingma & Ba), optionally AMSGrad.

    Args:
      learning_rate: default 0.001.
      beta_1, beta_2: decay rates of the first and second moment estimates.
      epsilon: added to the denominator (default 1e-7).
      amsgrad: use the running maximum of the second moment.
    """

    _default_name = "adam"
    _decoupled_decay = True

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, name="adam",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon, self.amsgrad = float(beta_1), float(beta_2), float(epsilon), amsgrad

    def build_slots(self, var):
        s = (self.add_variable_from_reference(var, "momentum"), self.add_variable_from_reference(var, "velocity"))
        if self.amsgrad:
            s += (self.add_variable_from_reference(var, "velocity_hat"),)
        return s

    def _fused_update(self, var, g, slots):
        # One fused op (ops/training_ops.py): on a GPU one kernel pass, AdamW's decay included.
        outs = training_ops.apply_adam(var._read_untracked(), g, *slots, lr=self._lr_float(), beta_1=self.beta_1,
                                       beta_2=self.beta_2, epsilon=self.epsilon, step=self._step,
                                       weight_decay=self._decoupled_weight_decay())
        var.assign(outs[0])
        for slot, new in zip(slots, outs[1:]):
            slot.assign(new)
        return True

    def update(self, var, g, slots, lr, step):
        # The unfused rule, kept as the reference the fused op is tested against.
        b1, b2 = self.beta_1, self.beta_2
        m, v = slots[0], slots[1]
        new_m = m._read_untracked() + (g - m._read_untracked()) * (1 - b1)
        new_v = v._read_untracked() + (tl.square(g) - v._read_untracked()) * (1 - b2)
        m.assign(new_m)
        v.assign(new_v)
        if self.amsgrad:
            vh = slots[2]
            new_v = tl.maximum(vh._read_untracked(), new_v)
            vh.assign(new_v)
        alpha = math.sqrt(1 - b2 ** step) / (1 - b1 ** step)
        var.assign(var._read_untracked() - (new_m * (lr * alpha)) / (tl.sqrt(new_v) + self.epsilon))

    def _hparams(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay (``weight_decay`` defaults to 0.004)."""

    _default_name = "adamw"

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a number, got None")
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, name=name, weight_decay=weight_decay, **kwargs)


class RMSprop(Optimizer):
    """RMSprop: divides the gradient by a running root-mean-square of recent gradients.

    Args:
      learning_rate: default 0.001.
      rho: decay of the running average of squared gradients.
      momentum: optional momentum on the scaled update.
      epsilon: added inside the square root (default 1e-7).
      centered: normalize by the (estimated) variance instead of the second moment.
    """

    _default_name = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False, name="rmsprop",
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.momentum, self.epsilon, self.centered = float(rho), float(momentum), float(epsilon), centered

    def build_slots(self, var):
        s = [self.add_variable_from_reference(var, "velocity")]
        s.append(self.add_variable_from_reference(var, "momentum") if self.momentum else None)
        s.append(self.add_variable_from_reference(var, "average_gradient") if self.centered else None)
        return tuple(s)

    def update(self, var, g, slots, lr, step):
        v, m, ag = slots
        rho = self.rho
        new_v = v._read_untracked() * rho + tl.square(g) * (1 - rho)
        v.assign(new_v)
        denom = new_v
        if self.centered:
            new_ag = ag._read_untracked() * rho + g * (1 - rho)
            ag.assign(new_ag)
            denom = new_v - tl.square(new_ag)
        inc = (g * lr) / tl.sqrt(denom + self.epsilon)
        if self.momentum:
            new_m = m._read_untracked() * self.momentum + inc
            m.assign(new_m)
            inc = new_m
        var.assign(var._read_untracked() - inc)

    def _hparams(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad: per-parameter rates scaled by the accumulated squared gradients."""

    _default_name = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, name="adagrad", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def build_slots(self, var):
        return (self.add_variable_from_reference(var, "accumulator", self.initial_accumulator_value),)

    def update(self, var, g, slots, lr, step):
        (acc,) = slots
        new = acc._read_untracked() + tl.square(g)
        acc.assign(new)
        var.assign(var._read_untracked() - (g * lr) / tl.sqrt(new + self.epsilon))

    def _hparams(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta: steps scaled by running averages of squared updates and gradients."""

    _default_name = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name="adadelta", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho, self.epsilon = float(rho), float(epsilon)

    def build_slots(self, var):
        return (self.add_variable_from_reference(var, "accumulated_grad"),
                self.add_variable_from_reference(var, "accumulated_delta_var"))

    def update(self, var, g, slots, lr, step):
        ag, ad = slots
        rho, eps = self.rho, self.epsilon
        new_ag = ag._read_untracked() * rho + tl.square(g) * (1 - rho)
        ag.assign(new_ag)
        delta = tl.sqrt(ad._read_untracked() + eps) / tl.sqrt(new_ag + eps) * g
        ad.assign(ad._read_untracked() * rho + tl.square(delta) * (1 - rho))
        var.assign(var._read_untracked() - delta * lr)

    def _hparams(self):
        return {"rho": self.rho, "epsilon": self.epsilon}


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm in place of the second moment."""

    _default_name = "adamax"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name="adamax", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def build_slots(self, var):
        return (self.add_variable_from_reference(var, "m"), self.add_variable_from_reference(var, "u"))

    def update(self, var, g, slots, lr, step):
        m, u = slots
        new_m = m._read_untracked() + (g - m._read_untracked()) * (1 - self.beta_1)
        new_u = tl.maximum(u._read_untracked() * self.beta_2, tl.abs(g))
        m.assign(new_m)
        u.assign(new_u)
        scale = 1.0 / (1 - self.beta_1 ** step)
        var.assign(var._read_untracked() - (new_m * (lr * scale)) / (new_u + self.epsilon))

    def _hparams(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nadam: Adam with Nesterov momentum (Dozat), with Keras' momentum schedule."""

    _default_name = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name="nadam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self._u_product = 1.0
        self._u_step = 0

    def build_slots(self, var):
        return (self.add_variable_from_reference(var, "momentum"), self.add_variable_from_reference(var, "velocity"))

    def _u(self, step):
        # u_product is shared by all variables of one step: advance it once per step.
        if self._u_step != step:
            self._u_product *= self.beta_1 * (1.0 - 0.5 * 0.96 ** (0.004 * step))
            self._u_step = step
        return self._u_product

    def update(self, var, g, slots, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        m, v = slots
        u_t = b1 * (1.0 - 0.5 * 0.96 ** (0.004 * step))
        u_t1 = b1 * (1.0 - 0.5 * 0.96 ** (0.004 * (step + 1)))
        u_prod = self._u(step)
        u_prod1 = u_prod * u_t1
        new_m = m._read_untracked() + (g - m._read_untracked()) * (1 - b1)
        new_v = v._read_untracked() + (tl.square(g) - v._read_untracked()) * (1 - b2)
        m.assign(new_m)
        v.assign(new_v)
        m_hat = new_m * (u_t1 / (1 - u_prod1)) + g * ((1 - u_t) / (1 - u_prod))
        v_hat = new_v * (1.0 / (1 - b2 ** step))
        var.assign(var._read_untracked() - (m_hat * lr) / (tl.sqrt(v_hat) + self.epsilon))

    def _hparams(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class Lion(Optimizer):
    """Lion (Chen et al., 2023): steps of fixed size ``lr`` in the sign of a momentum blend.

    ``w -= lr * sign(beta_1 * m + (1 - beta_1) * g)``; then
    ``m = beta_2 * m + (1 - beta_2) * g``. Use a rate 3-10x smaller than AdamW's.

    Args:
      learning_rate: default 0.001.
      beta_1: weight of the momentum in the update's sign, in (0, 1].
      beta_2: decay of the momentum.
    """

    _default_name = "lion"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name="lion", **kwargs):
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(f"Lion: beta_1 must be in (0, 1] (0 degenerates to SignSGD), got {beta_1}")
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)

    def build_slots(self, var):
        return (self.add_variable_from_reference(var, "momentum"),)

    def update(self, var, g, slots, lr, step):
        (m,) = slots
        b1, b2 = self.beta_1, self.beta_2
        old = m._read_untracked()
        var.assign(var._read_untracked() - tl.sign(old * b1 + g * (1.0 - b1)) * lr)
        m.assign(old * b2 + g * (1.0 - b2))

    def _hparams(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}


def _rms(x):
    return tl.sqrt(tl.reduce_mean(tl.square(x)))


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018): Adam-like steps from factored second moments.

    For variables of rank >= 2 the second moment is kept as row and column means over
    the last two axes (``r``, ``c``), so the state is far smaller than the variable.
    Steps are relative to the variable's RMS and clipped to an update RMS of
    ``clip_threshold``.

    Args:
      learning_rate: default 0.001; the step uses ``min(learning_rate, 1 / sqrt(step))``.
      beta_2_decay: the second-moment decay is ``1 - step ** beta_2_decay``.
      epsilon_1: added to the squared gradients.
      epsilon_2: lower bound of the variable RMS that scales the step.
      clip_threshold: bound of the update's RMS (independent of ``clipnorm``).
      relative_step: kept for Keras compatibility (Keras 3 bounds the rate by
        ``1 / sqrt(step)`` in either case).
    """

    _default_name = "adafactor"

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
                 relative_step=True, name="adafactor", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_2_decay, self.epsilon_1 = float(beta_2_decay), float(epsilon_1)
        self.epsilon_2, self.clip_threshold = float(epsilon_2), float(clip_threshold)
        self.relative_step = bool(relative_step)

    def build_slots(self, var):
        shape = tuple(var.shape)
        with tl.device(var.device):
            if len(shape) < 2:
                # Keras keeps scalar placeholders for r and c: the same variables, in the same order.
                r = self.add_variable((), dtype=var.dtype, name="r")
                c = self.add_variable((), dtype=var.dtype, name="c")
            else:
                r = self.add_variable(shape[:-1], dtype=var.dtype, name="r")
                c = self.add_variable(shape[:-2] + shape[-1:], dtype=var.dtype, name="c")
        return r, c, self.add_variable_from_reference(var, "velocity")

    def update(self, var, g, slots, lr, step):
        r, c, v = slots
        w = var._read_untracked()
        rho = tl.minimum(lr, 1.0 / math.sqrt(step))
        alpha = tl.maximum(_rms(w), self.epsilon_2) * rho
        g2 = tl.square(g) + self.epsilon_1
        b = 1.0 - math.pow(step, self.beta_2_decay)
        if len(var.shape) >= 2:
            new_r = r._read_untracked() * b + tl.reduce_mean(g2, axis=-1) * (1.0 - b)
            new_c = c._read_untracked() * b + tl.reduce_mean(g2, axis=-2) * (1.0 - b)
            r.assign(new_r)
            c.assign(new_c)
            new_v = tl.expand_dims(new_r / tl.reduce_mean(new_r, axis=-1, keepdims=True), -1) * \
                tl.expand_dims(new_c, -2)
        else:
            new_v = v._read_untracked() * b + g2 * (1.0 - b)
        v.assign(new_v)
        u = g / tl.sqrt(new_v)
        u = u / tl.maximum(_rms(u) / self.clip_threshold, 1.0)
        var.assign(w - u * alpha)

    def _hparams(self):
        return {"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}


class Ftrl(Optimizer):
    """FTRL-Proximal (McMahan et al., 2013), with L1, L2 and L2-shrinkage regularization.

    ``n += g**2``; ``z += g - (n**-p - n_prev**-p) / lr * w``;
    ``w = (clip(z, -l1, l1) - z) / (n**-p / lr + 2 * (l2 + beta / (2 * lr)))``, with
    ``p = learning_rate_power`` and ``g`` plus ``2 * l2_shrinkage * w`` in the ``z`` update.

    Args:
      learning_rate: default 0.001.
      learning_rate_power: <= 0; how the per-coordinate rate falls (0: fixed rate).
      initial_accumulator_value: the starting ``n`` (>= 0).
      l1_regularization_strength, l2_regularization_strength: >= 0.
      l2_shrinkage_regularization_strength: >= 0; an L2 penalty on the magnitude.
      beta: the ``beta`` of the paper (default 0).
    """

    _default_name = "ftrl"

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, name="ftrl", **kwargs):
        for arg, value, ok in (("initial_accumulator_value", initial_accumulator_value, ">= 0"),
                               ("learning_rate_power", learning_rate_power, "<= 0"),
                               ("l1_regularization_strength", l1_regularization_strength, ">= 0"),
                               ("l2_regularization_strength", l2_regularization_strength, ">= 0"),
                               ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength,
                                ">= 0")):
            if (value < 0) if ok == ">= 0" else (value > 0):
                raise ValueError(f"Ftrl: {arg} must be {ok}, got {value}")
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)

    def build_slots(self, var):
        return (self.add_variable_from_reference(var, "accumulator", self.initial_accumulator_value),
                self.add_variable_from_reference(var, "linear"))

    def update(self, var, g, slots, lr, step):
        accum, linear = slots
        p = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        w, n = var._read_untracked(), accum._read_untracked()
        new_n = n + tl.square(g)
        new_n_p = tl.pow(new_n, p)
        g_used = g + w * (2.0 * self.l2_shrinkage_regularization_strength)
        new_z = linear._read_untracked() + g_used - (new_n_p - tl.pow(n, p)) / lr * w
        linear.assign(new_z)
        quadratic = new_n_p / lr + 2.0 * (self.l2_regularization_strength + self.beta / (2.0 * lr))
        var.assign((tl.clip_by_value(new_z, -l1, l1) - new_z) / quadratic)
        accum.assign(new_n)

    def _hparams(self):
        return {"learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}


class Lamb(Optimizer):
    """LAMB (You et al., 2019): Adam's step rescaled per variable by ``||w|| / ||step||``.

    Args:
      learning_rate: default 0.001.
      beta_1, beta_2: decay rates of the first and second moment estimates.
      epsilon: added to the bias-corrected RMS (default 1e-7).
    """

    _default_name = "lamb"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def build_slots(self, var):
        return (self.add_variable_from_reference(var, "momentum"), self.add_variable_from_reference(var, "velocity"))

    def update(self, var, g, slots, lr, step):
        b1, b2 = self.beta_1, self.beta_2
        m, v = slots
        new_m = m._read_untracked() + (g - m._read_untracked()) * (1 - b1)
        new_v = v._read_untracked() + (tl.square(g) - v._read_untracked()) * (1 - b2)
        m.assign(new_m)
        v.assign(new_v)
        step_ = (new_m * (1.0 / (1.0 - b1 ** step))) / (tl.sqrt(new_v * (1.0 / (1.0 - b2 ** step))) + self.epsilon)
        w = var._read_untracked()
        w_norm = tl.sqrt(tl.reduce_sum(tl.square(w)))
        s_norm = tl.sqrt(tl.reduce_sum(tl.square(step_)))
        # The trust ratio, 1 where either norm is 0 (a zero-initialized variable moves as Adam).
        ok = tl.logical_and(tl.greater(w_norm, 0.0), tl.greater(s_norm, 0.0))
        ratio = tl.where(ok, w_norm / tl.where(ok, s_norm, tl.ones_like(s_norm)), tl.ones_like(w_norm))
        var.assign(w - step_ * (ratio * lr))

    def _hparams(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
