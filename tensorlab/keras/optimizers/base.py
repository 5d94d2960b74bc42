"""The optimizer base class: gradient clipping, learning-rate schedules, slots.

Subclasses implement ``build_slots(var)`` (the per-variable state, created on
first sight) and ``update(var, grad, slots, lr, step)`` with tensorlab ops.
SGD, Adam and AdamW also define ``_fused_update``: one fused op per variable
(``ops/training_ops.py``; on a GPU one kernel pass), used in place of ``update``.
"""
import contextlib
import math

import numpy as np

import tensorlab as tl
from tensorlab.keras import backend as _backend
from tensorlab.keras.optimizers import schedules as _schedules


class _VariableList(list):
    """A list that can also be called, so both ``opt.variables`` and ``opt.variables()`` work."""

    def __call__(self):
        return self


class _HostMirror:
    """A scalar variable and its value on the host, so that reading it costs no device sync.

    The device is read again only when the variable's data changed behind the mirror's
    back (an ``assign`` from elsewhere, a checkpoint restore). The cache is keyed on the
    variable's primary data, so replicas of a ``tl.distribute`` strategy share it.
    """

    __slots__ = ("variable", "_cast", "_cache")

    def __init__(self, variable, cast=float):
        self.variable = variable
        self._cast = cast
        self._cache = (None, None)

    def get(self):
        v = self.variable
        c = self._cache
        if c[0] is not v._data:
            data = v._data
            c = self._cache = (data, self._cast(v._device.backend.to_numpy(data)))
        return c[1]

    def set(self, value):
        """Assigns ``value`` (rounded to the variable's dtype, as the variable holds it)."""
        v = self.variable
        value = self._cast(np.asarray(value, dtype=v.dtype.as_numpy_dtype))
        v.assign(tl.constant(value, dtype=v.dtype))
        self._cache = (v._data, value)


class Optimizer:
    """Base class of optimizers.

    Args:
      learning_rate: a float, or a ``keras.optimizers.schedules.LearningRateSchedule``.
      weight_decay: decoupled weight decay (``var -= lr * weight_decay * var``).
      clipnorm: clip each gradient to this L2 norm.
      clipvalue: clip each gradient elementwise to ``[-clipvalue, clipvalue]``.
      global_clipnorm: clip all gradients together to this global L2 norm.
      use_ema: keep an exponential moving average of the variables (``SwapEMAWeights``
        swaps it in for evaluation; ``fit`` ends with it in the variables).
      ema_momentum: ``average = ema_momentum * average + (1 - ema_momentum) * value``
        after each step (the first step copies the values).
      ema_overwrite_frequency: every this many steps, the variables take their averages'
        values; None: only ``finalize_variable_values`` (called at the end of ``fit``) does.
      loss_scale_factor: a fixed loss scale: ``scale_loss`` multiplies the loss by it and
        ``apply_gradients`` divides the gradients by it (for a dynamic scale, wrap the
        optimizer in ``keras.mixed_precision.LossScaleOptimizer``).
      name: the optimizer's name.
    """

    _default_name = "optimizer"

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                 loss_scale_factor=None, gradient_accumulation_steps=None, name=None, **kwargs):
        kwargs.pop("decay", None)
        if "lr" in kwargs:
            learning_rate = kwargs.pop("lr")
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected keyword argument(s) {sorted(kwargs)}")
        if loss_scale_factor is not None and not float(loss_scale_factor) > 0:
            raise ValueError(f"{type(self).__name__}: loss_scale_factor must be a positive number, got "
                             f"{loss_scale_factor!r}")
        if sum(x is not None for x in (clipnorm, global_clipnorm)) > 1:
            raise ValueError(f"{type(self).__name__}: give at most one of clipnorm and global_clipnorm")
        if use_ema:
            if not 0 <= ema_momentum <= 1:
                raise ValueError(f"{type(self).__name__}: ema_momentum must be in the range [0, 1], got "
                                 f"{ema_momentum!r}")
            if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int)
                                            or ema_overwrite_frequency < 1):
                raise ValueError(f"{type(self).__name__}: ema_overwrite_frequency must be an integer >= 1 or "
                                 f"None, got {ema_overwrite_frequency!r}")
        self.name = name or self._default_name
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = bool(use_ema)
        self.ema_momentum = float(ema_momentum)
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self._averages = {}  # var uid -> (var, its moving average), with use_ema
        self.loss_scale_factor = None if loss_scale_factor is None else float(loss_scale_factor)
        self._iterations = tl.Variable(tl.constant(0, dtype="int64"), trainable=False, name="iteration")
        self._step = 0
        self._slots = {}
        self._slot_vars = []
        self._lr_casts = {}
        self._set_lr(learning_rate)

    # ------------------------------------------------------------------ learning rate
    def _set_lr(self, value):
        if isinstance(value, dict):
            value = _schedules.deserialize(value)
        if isinstance(value, _schedules.LearningRateSchedule):
            self._schedule = value
            value = float(value(self._step))
        elif callable(value) and not isinstance(value, (tl.Variable, tl.Tensor)):
            self._schedule = value
            value = float(value(self._step))
        else:
            self._schedule = None
        if getattr(self, "_lr", None) is None:
            self._lr = tl.Variable(tl.constant(float(value), dtype="float32"), trainable=False,
                                   name="learning_rate")
            # The fused updates take the rate as a host number: mirror it on the host.
            self._lr_host = _HostMirror(self._lr)
        self._lr_host.set(float(value))

    def _lr_float(self):
        """The learning rate as a Python float; reads the device only after the variable
        was assigned directly (``optimizer.learning_rate.assign(...)``)."""
        return self._lr_host.get()

    @property
    def learning_rate(self):
        """The current learning rate, as a variable (assign to it, or set the property)."""
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        self._set_lr(value)

    lr = learning_rate

    @property
    def iterations(self):
        """The number of update steps applied so far (an int64 variable)."""
        return self._iterations

    @iterations.setter
    def iterations(self, value):
        self._step = int(value)
        self._iterations.assign(tl.constant(self._step, dtype="int64"))

    def _lr_tensor(self, var):
        """The learning rate as a scalar tensor of ``var``'s dtype on ``var``'s device (no host sync)."""
        lr = self._lr._read_untracked()
        if lr.dtype == var.dtype and lr._device is var._device:
            return lr
        key = (var.dtype, var._device)
        c = self._lr_casts.get(key)
        if c is None or c[0] is not lr:
            with tl.device(var.device):
                c = (lr, tl.constant(tl.cast(lr, var.dtype) if lr.dtype != var.dtype else lr))
            self._lr_casts[key] = c
        return c[1]

    # ------------------------------------------------------------------ slots
    def add_variable_from_reference(self, reference_variable, name=None, initializer="zeros"):
        """A slot variable shaped like ``reference_variable``, on its device."""
        with tl.device(reference_variable.device):
            return self._slot_like(reference_variable, name, initializer)

    def _slot_like(self, reference_variable, name, initializer):
        if initializer == "zeros":
            value = tl.zeros(tuple(reference_variable.shape), dtype=reference_variable.dtype)
        elif isinstance(initializer, (int, float)):
            value = tl.zeros(tuple(reference_variable.shape), dtype=reference_variable.dtype) + float(initializer)
        else:
            from tensorlab.keras import initializers
            value = initializers.get(initializer)(tuple(reference_variable.shape), dtype=reference_variable.dtype)
        v = tl.Variable(value, trainable=False, name=f"{self.name}/{name or 'slot'}")
        self._slot_vars.append(v)
        return v

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """A state variable of ``shape`` (on the current device), tracked in ``variables``."""
        from tensorlab.keras import initializers
        value = initializers.get(initializer)(tuple(shape), dtype=dtype or _backend.floatx())
        v = tl.Variable(value, trainable=False, name=f"{self.name}/{name or 'var'}")
        self._slot_vars.append(v)
        return v

    def build_slots(self, var):
        """The per-variable state (a tuple of variables); none by default."""
        return ()

    def build(self, var_list):
        """Creates the state of the variables not seen before (``apply_gradients`` calls it)."""
        new = [v for v in var_list if v._uid not in self._slots]
        if self.use_ema:
            # As Keras: every average before the other slots (the order checkpoints store).
            for v in new:
                if v._uid not in self._averages:
                    self._averages[v._uid] = (v, self.add_variable_from_reference(v, "average"))
        for v in new:
            self._slots[v._uid] = self.build_slots(v)

    @property
    def variables(self):
        return _VariableList([self._iterations, self._lr] + self._slot_vars)

    # ------------------------------------------------------------------ updates
    def _clip(self, grads):
        if self.clipvalue is not None:
            c = float(self.clipvalue)
            grads = [None if g is None else tl.clip_by_value(g, -c, c) for g in grads]
        if self.clipnorm is not None:
            c = float(self.clipnorm)
            out = []
            for g in grads:
                if g is None:
                    out.append(None)
                    continue
                n = tl.sqrt(tl.reduce_sum(tl.square(g)))
                out.append(g * (c / tl.maximum(n, c)))
            grads = out
        if self.global_clipnorm is not None:
            c = float(self.global_clipnorm)
            # The norm in float32 (float16/bfloat16 gradients overflow their own dtype), or float64
            # when a gradient is float64 (rounding it through float32 would lose its precision).
            acc = "float64" if any(g is not None and g.dtype.name == "float64" for g in grads) else "float32"
            sq = [tl.reduce_sum(tl.square(tl.cast(g, acc) if g.dtype.name != acc else g))
                  for g in grads if g is not None]
            if sq:
                norm = tl.sqrt(tl.add_n(sq) if len(sq) > 1 else sq[0])
                scale = c / tl.maximum(norm, c)
                grads = [None if g is None else g * (tl.cast(scale, g.dtype) if g.dtype.name != acc else scale)
                         for g in grads]
        return grads

    def apply_gradients(self, grads_and_vars, name=None, skip_gradients_aggregation=False, **kwargs):
        """Applies gradients to variables and increments ``iterations``.

        In a replica of a ``tl.distribute`` strategy (``strategy.run``, or a model's
        own ``train_step`` under ``fit``), the gradients are first summed over the
        replicas (unless ``skip_gradients_aggregation=True``) and the update runs
        once, as in TF.

        Args:
          grads_and_vars: pairs ``(gradient, variable)``; pairs whose gradient is
            None are skipped.

        Returns:
          The ``iterations`` variable.
        """
        ctx = _backend.replica_context()
        if ctx is not None:
            from tensorlab.distribute import optimizer_in_replicas
            return optimizer_in_replicas.apply_gradients(self, ctx, grads_and_vars, skip_gradients_aggregation,
                                                         kwargs.pop("experimental_aggregate_gradients", True))
        return self._apply_gradients_here(grads_and_vars)

    def _apply_gradients_here(self, grads_and_vars):
        """The update itself, on the variables as they are (no cross-replica reduction)."""
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            return self._iterations
        clip = self.clipvalue is not None or self.clipnorm is not None or self.global_clipnorm is not None
        if self.loss_scale_factor is not None or clip:
            grads = [g for g, _ in pairs]
            if self.loss_scale_factor is not None:
                inv = 1.0 / self.loss_scale_factor
                grads = [g * inv for g in grads]
            if clip:
                grads = self._clip(grads)
            pairs = [(g, v) for g, (_, v) in zip(grads, pairs)]
        self._step += 1
        step = self._step
        if self._schedule is not None:
            self._lr_host.set(float(self._schedule(step - 1)))
        slots = self._slots
        fused = self._fused_update
        variable_cls = tl.Variable
        for g, var in pairs:
            s = slots.get(var._uid)
            if s is None:
                # All new variables at once, in build()'s order (the one a restore rebuilds).
                self.build([v for _, v in pairs])
                s = slots[var._uid]
            if isinstance(g, variable_cls):
                g = g.read_value()
            if g.dtype is not var.dtype and g.dtype != var.dtype:  # "is": the common case, quickly
                g = tl.cast(g, var.dtype)
            if fused is not None and fused(var, g, s):
                pass
            else:
                lr = self._lr_tensor(var)
                if self.weight_decay and self._decoupled_decay:
                    var.assign_sub(var._read_untracked() * (lr * float(self.weight_decay)))
                self.update(var, g, s, lr, step)
            if var.constraint is not None:
                var.assign(var.constraint(var._read_untracked()))
        if self.use_ema:
            self._update_moving_averages(step)
        self._iterations.assign_add(1)
        return self._iterations

    def _update_moving_averages(self, step):
        # As Keras: the first step copies the values (momentum 0), later steps average;
        # every ``ema_overwrite_frequency`` steps the variables take their averages.
        m = self.ema_momentum if step > 1 else 0.0
        for var, avg in self._averages.values():
            avg.assign(avg._read_untracked() * m + var._read_untracked() * (1.0 - m))
        if self.ema_overwrite_frequency and step % self.ema_overwrite_frequency == 0:
            for var, avg in self._averages.values():
                var.assign(avg._read_untracked())

    @property
    def _model_variables_moving_average(self):
        """The moving averages (``use_ema``), in the order their variables were first seen."""
        return [avg for _, avg in self._averages.values()]

    def finalize_variable_values(self, var_list):
        """With ``use_ema``, assigns each variable of ``var_list`` its moving average (``fit``
        calls this at the end); otherwise does nothing."""
        if not self.use_ema:
            return
        for var in var_list:
            pair = self._averages.get(var._uid)
            if pair is not None:
                var.assign(pair[1]._read_untracked())

    _decoupled_decay = True
    # ``_fused_update(var, grad, slots) -> bool``: an optimizer whose update is one fused
    # op (ops/training_ops.py) applies it here and returns True; None: ``update`` runs.
    _fused_update = None

    def _decoupled_weight_decay(self):
        return float(self.weight_decay) if self.weight_decay and self._decoupled_decay else 0.0

    def update(self, var, grad, slots, lr, step):
        raise NotImplementedError

    def scale_loss(self, loss):
        """The loss to differentiate: ``loss`` times ``loss_scale_factor`` when one is set
        (``apply_gradients`` divides the gradients by it again). Call it inside the tape;
        a ``LossScaleOptimizer`` scales by its dynamic scale."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def _scales_loss(self):
        return self.loss_scale_factor is not None

    def minimize(self, loss, var_list, tape=None):
        """Computes gradients of ``loss`` (a tensor with ``tape``, or a zero-argument
        callable) with respect to ``var_list`` and applies them."""
        if callable(var_list):
            var_list = var_list()
        if tape is None:
            if not callable(loss):
                raise ValueError(f"{type(self).__name__}.minimize: give `tape` when `loss` is a tensor, or "
                                 "pass `loss` as a zero-argument callable")
            with tl.GradientTape() as tape:
                value = self.scale_loss(loss())
        elif self._scales_loss():
            # Record the scaling on the caller's tape (re-entered if it was closed).
            with contextlib.nullcontext() if tape._active else tape:
                value = self.scale_loss(loss)
        else:
            value = loss
        grads = tape.gradient(value, list(var_list))
        self.apply_gradients(zip(grads, var_list))
        return self._iterations

    # ------------------------------------------------------------------ config
    def _hparams(self):
        return {}

    def get_config(self):
        lr = self._schedule if self._schedule is not None else float(self._lr.numpy())
        if isinstance(lr, _schedules.LearningRateSchedule):
            lr = _schedules.serialize(lr)
        cfg = {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
               "clipnorm": self.clipnorm, "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm,
               "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
               "ema_overwrite_frequency": self.ema_overwrite_frequency, "loss_scale_factor": self.loss_scale_factor}
        cfg.update(self._hparams())
        return cfg

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = _schedules.deserialize(config["learning_rate"])
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name} learning_rate={float(self._lr.numpy()):g}>"


def _pow(b, t):
    return math.pow(b, t)
