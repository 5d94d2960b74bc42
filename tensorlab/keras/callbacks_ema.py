"""``SwapEMAWeights``: evaluate (and optionally checkpoint) with the optimizer's EMA weights."""
from tensorlab.keras.callbacks import Callback


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the optimizer's moving averages around evaluation.

    Use it with an optimizer built with ``use_ema=True``. Before each evaluation
    (``evaluate``, the validation of ``fit``, ``predict``) the trainable variables take
    their averages' values and the averages keep the training values; afterwards they
    are swapped back. The swap is in place (no copies kept); other callbacks must not
    change the weights or averages in between.

    Args:
      swap_on_epoch: also swap at the end of each epoch (back at the start of the next),
        so that callbacks placed after this one, such as ``ModelCheckpoint``, see the EMA
        weights. After the last epoch the model keeps them.

    Example:
      >>> model.compile(optimizer=keras.optimizers.SGD(use_ema=True), loss="mse")
      >>> model.fit(x, y, validation_data=(xv, yv),
      ...           callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True),
      ...                      keras.callbacks.ModelCheckpoint("best.keras")])
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _optimizer(self):
        opt = self.model.optimizer
        opt = getattr(opt, "inner_optimizer", opt)  # a LossScaleOptimizer's averages are its inner optimizer's
        if not getattr(opt, "use_ema", False):
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the optimizer. Received: "
                             f"use_ema={getattr(opt, 'use_ema', None)} ({type(opt).__name__})")
        return opt

    def _pairs(self):
        return list(self._optimizer()._averages.values())

    def _swap_variables(self):
        for var, avg in self._pairs():
            value = var._read_untracked()  # values are immutable: assigning replaces them
            var.assign(avg._read_untracked())
            avg.assign(value)

    def _finalize_ema_values(self):
        # The averages take the (swapped-in) EMA values again, so that fit's closing
        # finalize_variable_values leaves the EMA weights in the model.
        for var, avg in self._pairs():
            avg.assign(var._read_untracked())

    def _swap_in(self):
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def _swap_out(self):
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._swap_out()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_in()
            if epoch == self.params.get("epochs", 0) - 1:
                self._finalize_ema_values()

    def on_test_begin(self, logs=None):
        self._swap_in()

    def on_test_end(self, logs=None):
        self._swap_out()

    def on_predict_begin(self, logs=None):
        self._swap_in()

    def on_predict_end(self, logs=None):
        # (Keras 3 tests `not self._ema_weights_in_model` here, which leaves the EMA
        # weights in the model after predict; swapping back is what it intends.)
        self._swap_out()
