"""``LossScaleOptimizer``: dynamic loss scaling for float16 training.

Gradients of a float16 computation underflow to zero when they are small. The
loss is multiplied by a large factor (the loss scale) before the backward pass
and the gradients divided by it before the update, so that the float16
gradients in between stay representable. The scale is dynamic, as in Keras:
a step whose gradients hold an inf or NaN is skipped (no variable changes, the
inner optimizer's ``iterations`` does not advance) and halves the scale;
``dynamic_growth_steps`` finite steps in a row double it. The scale never
drops below 1 (TF's rule; Keras 3 has no floor).

Two ways to use it:

- Keras 3 (what ``fit`` does): ``scaled = opt.scale_loss(loss)`` inside the tape,
  then ``opt.apply_gradients`` with the gradients of ``scaled``: it unscales them.
- TF 2: ``opt.get_scaled_loss(loss)`` inside the tape, ``opt.get_unscaled_gradients``
  on the gradients, then ``opt.apply_gradients`` with those, as they are.

The scaling call made last decides which one ``apply_gradients`` follows: after
``scale_loss`` it unscales, after ``get_scaled_loss`` / ``get_unscaled_gradients`` not.

``compile`` wraps the optimizer in one when the model's policy is ``mixed_float16``.
"""
import tensorlab as tl
from tensorlab.keras.optimizers.base import Optimizer, _HostMirror


class LossScaleOptimizer(Optimizer):
    """An optimizer that scales the loss and unscales the gradients (dynamic loss scaling).

    Args:
      inner_optimizer: the optimizer that applies the (unscaled) gradients.
      initial_scale: the first loss scale (default 2**15).
      dynamic_growth_steps: finite steps in a row after which the scale doubles (default 2000).
      dynamic: must be True (a fixed scale is the inner optimizer's ``loss_scale_factor``).

    Example:
      >>> opt = tl.keras.mixed_precision.LossScaleOptimizer(tl.keras.optimizers.Adam())
      >>> with tl.GradientTape() as tape:
      ...     loss = loss_fn(y, model(x))
      ...     scaled = opt.scale_loss(loss)
      >>> opt.apply_gradients(zip(tape.gradient(scaled, model.trainable_variables),
      ...                         model.trainable_variables))
    """

    _default_name = "loss_scale_optimizer"

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000, dynamic=True,
                 name=None, **kwargs):
        from tensorlab.keras import optimizers as _optimizers
        if not dynamic:
            raise ValueError("LossScaleOptimizer: dynamic=False is not supported; for a fixed loss scale set "
                             "`loss_scale_factor` on the inner optimizer instead, e.g. "
                             "keras.optimizers.SGD(loss_scale_factor=1024.0)")
        if kwargs:
            raise TypeError(f"LossScaleOptimizer: unexpected keyword argument(s) {sorted(kwargs)}; valid: "
                            "inner_optimizer, initial_scale, dynamic_growth_steps, dynamic, name")
        if isinstance(inner_optimizer, dict):
            inner_optimizer = _optimizers.deserialize(inner_optimizer)
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(f"LossScaleOptimizer: `inner_optimizer` must be a keras optimizer instance, got "
                            f"{type(inner_optimizer).__name__}: {inner_optimizer!r}")
        if isinstance(inner_optimizer, LossScaleOptimizer):
            raise TypeError("LossScaleOptimizer: the inner optimizer is already a LossScaleOptimizer")
        initial_scale = float(initial_scale)
        if not initial_scale >= 1.0 or initial_scale == float("inf"):
            raise ValueError(f"LossScaleOptimizer: initial_scale must be a finite number >= 1, got {initial_scale}")
        dynamic_growth_steps = int(dynamic_growth_steps)
        if dynamic_growth_steps < 1:
            raise ValueError(f"LossScaleOptimizer: dynamic_growth_steps must be >= 1, got {dynamic_growth_steps}")
        # Not Optimizer.__init__: the learning rate, iterations and slots are the inner optimizer's.
        self.name = name or self._default_name
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.loss_scale_factor = None
        self._caller_unscales = False  # the TF 2 protocol is in use (see the module docstring)
        self._scale = _HostMirror(tl.Variable(tl.constant(initial_scale, dtype="float32"), trainable=False,
                                              name="dynamic_scale"), float)
        self._counter = _HostMirror(tl.Variable(tl.constant(0, dtype="int64"), trainable=False,
                                                name="step_counter"), int)

    # ------------------------------------------------------------------ delegated state
    @property
    def dynamic_scale(self):
        """The current loss scale (a float32 variable)."""
        return self._scale.variable

    loss_scale = dynamic_scale  # TF 2's name

    @property
    def step_counter(self):
        """Finite steps since the scale last changed (an int64 variable)."""
        return self._counter.variable

    dynamic_counter = step_counter  # TF 2's name

    @property
    def dynamic(self):
        return True

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value):
        self.inner_optimizer.iterations = value

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self.inner_optimizer.learning_rate = value

    lr = learning_rate

    @property
    def _slots(self):
        return self.inner_optimizer._slots

    @property
    def _schedule(self):
        return self.inner_optimizer._schedule

    @property
    def variables(self):
        return type(self.inner_optimizer.variables)(
            [self._counter.variable, self._scale.variable] + list(self.inner_optimizer.variables))

    def build(self, var_list):
        self.inner_optimizer.build(var_list)

    def build_slots(self, var):
        return self.inner_optimizer.build_slots(var)

    @property
    def _model_variables_moving_average(self):
        return self.inner_optimizer._model_variables_moving_average

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    # ------------------------------------------------------------------ scaling
    def scale_loss(self, loss):
        """``loss`` times the current scale (Keras 3); call it inside the tape."""
        self._caller_unscales = False
        return loss * self._scale.get()

    def get_scaled_loss(self, loss):
        """TF 2's ``scale_loss``: after it, ``apply_gradients`` expects unscaled gradients
        (from ``get_unscaled_gradients``)."""
        self._caller_unscales = True
        if callable(loss):
            return lambda: loss() * self._scale.get()
        return loss * self._scale.get()

    def get_unscaled_gradients(self, grads):
        """The gradients divided by the current scale (None entries stay None)."""
        self._caller_unscales = True
        inv = 1.0 / self._scale.get()
        return [None if g is None else g * inv for g in grads]

    # ------------------------------------------------------------------ updates
    def _apply_gradients_here(self, grads_and_vars):
        """Checks the (reduced) gradients, then updates through the inner optimizer or skips.

        Under a ``tl.distribute`` strategy this runs once, on the all-reduced gradients,
        so every replica and worker takes the same decision.
        """
        pairs = [(g, v) for g, v in grads_and_vars if g is not None]
        if not pairs:
            return self.iterations
        grads = [g.read_value() if isinstance(g, tl.Variable) else g for g, _ in pairs]
        if not _all_finite(grads):
            self._counter.set(0)
            self._scale.set(max(self._scale.get() / 2.0, 1.0))
            return self.iterations
        if not self._caller_unscales:
            inv = 1.0 / self._scale.get()
            grads = [g * inv for g in grads]
        self.inner_optimizer._apply_gradients_here(zip(grads, [v for _, v in pairs]))
        count = self._counter.get() + 1
        if count >= self.dynamic_growth_steps:
            self._counter.set(0)
            new = self._scale.get() * 2.0
            if new < 3.4e38:  # stays a finite float32
                self._scale.set(new)
        else:
            self._counter.set(count)
        return self.iterations

    def _scales_loss(self):
        return True

    # ------------------------------------------------------------------ config
    def get_config(self):
        from tensorlab.keras import optimizers as _optimizers
        return {"name": self.name, "inner_optimizer": _optimizers.serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from tensorlab.keras import optimizers as _optimizers
        config = dict(config)
        # Keras 3 also writes the base optimizer's arguments, unused by the wrapper.
        for key in _BASE_CONFIG_KEYS:
            value = config.pop(key, None)
            if value not in (None, False, 0.99):  # 0.99: Keras' default ema_momentum
                raise ValueError(f"LossScaleOptimizer.from_config: {key}={value!r} on the wrapper is not "
                                 "supported; set it on the inner optimizer")
        config["inner_optimizer"] = _optimizers.deserialize(config["inner_optimizer"], custom_objects)
        return cls(**config)

    def __getattr__(self, name):
        # Hyperparameters (beta_1, weight_decay, clipnorm...) are the inner optimizer's.
        if name.startswith("__") or name == "inner_optimizer":
            raise AttributeError(name)
        return getattr(self.inner_optimizer, name)

    def __repr__(self):
        return f"<LossScaleOptimizer inner={self.inner_optimizer!r} scale={self._scale.get():g}>"


_BASE_CONFIG_KEYS = ("learning_rate", "weight_decay", "clipnorm", "clipvalue", "global_clipnorm", "use_ema",
                     "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor", "gradient_accumulation_steps")


def _all_finite(grads):
    """Whether every gradient is free of inf and NaN, with one host read for all of them.

    A float32/float64 gradient costs one sum (one kernel on a GPU instead of two): the sum
    is finite exactly when every element is, unless finite values add up past float32's
    range, which only absurdly large gradients do; such a step counts as an overflow and is
    skipped, as loss scaling treats large gradients anyway. float16/bfloat16 gradients
    (float16 variables), whose sums overflow early, are checked element by element.
    """
    sums, flags = [], []
    for g in grads:
        if not g.dtype.is_floating:
            continue
        if g.dtype.size >= 4:
            s = tl.reduce_sum(g)
            sums.append(s if s.dtype == tl.float32 else tl.cast(s, tl.float32))
        else:
            flags.append(tl.reduce_all(tl.math.is_finite(g)))
    if sums:
        flags.append(tl.math.is_finite(tl.add_n(sums) if len(sums) > 1 else sums[0]))
    if not flags:
        return True
    return bool((tl.reduce_all(tl.stack(flags)) if len(flags) > 1 else flags[0]).numpy())
