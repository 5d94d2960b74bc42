"""``tl.train.ExponentialMovingAverage``: shadow copies of variables that trail their values."""
import tensorlab as tl


class ExponentialMovingAverage:
    """Maintains ``shadow = decay * shadow + (1 - decay) * variable`` for each variable given to
    ``apply`` (TF's ``tf.train.ExponentialMovingAverage``, eager semantics).

    Args:
      decay: the decay, in [0, 1].
      num_updates: optional step count; the decay used is then
        ``min(decay, (1 + num_updates) / (10 + num_updates))`` (faster averaging early on).
      zero_debias: accepted for TF compatibility; like TF in eager mode, shadows of variables start
        at the variables' values, so there is no zero bias to remove.
      name: prefix of the shadow variables' names.

    Example:
      >>> ema = tl.train.ExponentialMovingAverage(0.99)
      >>> ema.apply(model.trainable_variables)        # after each optimizer step
      >>> ema.average(model.trainable_variables[0])   # the shadow variable
    """

    def __init__(self, decay, num_updates=None, zero_debias=False, name="ExponentialMovingAverage"):
        d = float(decay.numpy() if isinstance(decay, (tl.Tensor, tl.Variable)) else decay)
        if not 0.0 <= d <= 1.0:
            raise ValueError(f"ExponentialMovingAverage: decay must be in [0, 1]; received {decay!r}")
        self._decay = d
        self._num_updates = num_updates
        self._zero_debias = bool(zero_debias)
        self._name = name
        self._averages = {}  # variable uid -> (variable, shadow)

    @property
    def name(self):
        return self._name

    def _effective_decay(self):
        if self._num_updates is None:
            return self._decay
        n = self._num_updates
        n = float(n.numpy() if isinstance(n, (tl.Tensor, tl.Variable)) else n)
        return min(self._decay, (1.0 + n) / (10.0 + n))

    def apply(self, var_list=None):
        """Creates shadows for new variables (equal to the variables) and updates all of ``var_list``."""
        if var_list is None:
            raise ValueError("ExponentialMovingAverage.apply: var_list is required in eager mode")
        var_list = list(var_list)
        for v in var_list:
            if not isinstance(v, tl.Variable):
                raise TypeError(f"ExponentialMovingAverage.apply: expected tl.Variable objects; got "
                                f"{type(v).__name__}")
            if not v.dtype.is_floating:
                raise TypeError(f"ExponentialMovingAverage.apply: variable {v.name!r} has dtype {v.dtype.name}; "
                                "moving averages need float variables")
        decay = self._effective_decay()
        for v in var_list:
            entry = self._averages.get(v._uid)
            if entry is None:
                with tl.device(v.device):
                    shadow = tl.Variable(tl.identity(v.read_value()), trainable=False,
                                         name=self.average_name(v))
                self._averages[v._uid] = (v, shadow)
                continue  # TF: a new shadow starts at the value and is then updated toward it (no change)
            shadow = entry[1]
            shadow.assign_sub((shadow - tl.cast(v.read_value(), shadow.dtype)) * (1.0 - decay))

    def average(self, var):
        """The shadow variable of ``var``, or None if ``apply`` never saw it."""
        entry = self._averages.get(getattr(var, "_uid", None))
        return entry[1] if entry is not None else None

    def average_name(self, var):
        """The name of ``var``'s shadow: ``<var name>/<name>``."""
        base = var.name.split(":")[0] if isinstance(var, tl.Variable) else str(var)
        return f"{base}/{self._name}"

    def variables_to_restore(self, moving_avg_variables=None):
        """``{shadow name: variable}``: restoring a checkpoint of shadows into the variables themselves."""
        pairs = self._averages.values() if moving_avg_variables is None else \
            [self._averages[v._uid] for v in moving_avg_variables if v._uid in self._averages]
        return {self.average_name(v): v for v, _ in pairs}

    def swap(self):
        """Exchanges every variable's value with its shadow's (evaluate with averaged weights, then swap back)."""
        for v, shadow in self._averages.values():
            cur = tl.identity(v.read_value())
            v.assign(tl.cast(shadow.read_value(), v.dtype))
            shadow.assign(tl.cast(cur, shadow.dtype))
