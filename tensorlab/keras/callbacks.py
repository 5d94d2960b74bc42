"""Callbacks (``keras.callbacks``): hooks called by ``fit``/``evaluate``/``predict``."""
import csv
import math
import os
import sys

from tensorlab.keras.utils.progbar import Progbar


def _float(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return v


def _strategy_extended(model):
    """``strategy.extended`` of the tl.distribute strategy ``model`` was compiled under, or None."""
    s = model.__dict__.get("_distribute_strategy") if model is not None else None
    return None if s is None else s.extended


def writes_checkpoints(model):
    """False on the workers of a multi-worker strategy other than the chief: only the chief
    writes checkpoints (all workers still train and take part in the collectives)."""
    ext = _strategy_extended(model)
    return ext is None or ext.should_checkpoint


def writes_summaries(model):
    """False on the workers of a multi-worker strategy other than the chief (TensorBoard logs)."""
    ext = _strategy_extended(model)
    return ext is None or ext.should_save_summary


class Callback:
    """Base class: override the ``on_*`` methods you need.

    ``self.model`` is the model being trained and ``self.params`` holds
    ``epochs``, ``steps`` and ``verbose``.
    """

    def __init__(self):
        self.model = None
        self.params = {}
        self.validation_data = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # tf.keras aliases
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass


_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
          "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end",
          "on_predict_begin", "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")


class CallbackList:
    """Dispatches each hook only to the callbacks that override it (cheap per step)."""

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None, **params):
        self.callbacks = list(callbacks or [])
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        if add_history:
            hist = next((c for c in self.callbacks if isinstance(c, History)), None)
            if hist is None:
                hist = History()
                self.callbacks.append(hist)
            self.history = hist
        self.model = model
        self.params = params
        for c in self.callbacks:
            if model is not None:
                c.set_model(model)
            c.set_params(params)
        self._targets = {}
        for hook in _HOOKS:
            self._targets[hook] = [getattr(c, hook) for c in self.callbacks if _overrides(c, hook)]
        for alias, hook in (("on_batch_begin", "on_train_batch_begin"), ("on_batch_end", "on_train_batch_end")):
            self._targets[hook] += [getattr(c, alias) for c in self.callbacks if _overrides(c, alias)]

    def set_model(self, model):
        self.model = model
        for c in self.callbacks:
            c.set_model(model)

    def append(self, cb):
        self.callbacks.append(cb)

    def __iter__(self):
        return iter(self.callbacks)

    def _call(self, hook, *args):
        for fn in self._targets[hook]:
            fn(*args)

    def wants(self, hook):
        """Whether calling ``hook`` can do anything (the loops skip the call otherwise)."""
        return bool(self._targets[hook]) or getattr(type(self), hook) is not getattr(CallbackList, hook)

    def on_train_begin(self, logs=None): self._call("on_train_begin", logs)
    def on_train_end(self, logs=None): self._call("on_train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, logs)
    def on_train_batch_begin(self, batch, logs=None): self._call("on_train_batch_begin", batch, logs)
    def on_train_batch_end(self, batch, logs=None): self._call("on_train_batch_end", batch, logs)
    def on_test_begin(self, logs=None): self._call("on_test_begin", logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs)
    def on_test_batch_begin(self, batch, logs=None): self._call("on_test_batch_begin", batch, logs)
    def on_test_batch_end(self, batch, logs=None): self._call("on_test_batch_end", batch, logs)
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs)
    def on_predict_batch_begin(self, batch, logs=None): self._call("on_predict_batch_begin", batch, logs)
    def on_predict_batch_end(self, batch, logs=None): self._call("on_predict_batch_end", batch, logs)


def _overrides(cb, hook):
    if isinstance(cb, LambdaCallback):
        return hook in cb._fns
    fn = getattr(type(cb), hook, None)
    return fn is not None and fn is not getattr(Callback, hook, None)


class History(Callback):
    """Records each epoch's logs: ``history.history["loss"]`` is a list, one value per epoch."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(_float(v))
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints the progress bar (``verbose=1``) or one line per epoch (``verbose=2``)."""

    def __init__(self, count_mode="steps", stateful_metrics=None):
        super().__init__()
        self._bar = None
        self.verbose = 1
        self.epochs = 1
        self._seen = 0
        self._mode = "train"

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)

    def _new_bar(self, target):
        self._bar = Progbar(target, verbose=self.verbose)
        self._seen = 0

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1 or self.verbose and self.params.get("show_epoch"):
            print(f"Epoch {epoch + 1}/{self.epochs}", file=sys.stdout, flush=True)
        self._new_bar(self.params.get("steps"))
        self._mode = "train"

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        if self._bar is not None and self.verbose:
            self._bar.update(batch + 1, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self._bar is not None and self.verbose:
            self._bar.update(self._seen, logs, finalize=True)
        self._bar = None

    def on_test_begin(self, logs=None):
        if self._bar is None and self.verbose and self._standalone():
            self._new_bar(self.params.get("steps"))
            self._mode = "test"

    def on_test_batch_end(self, batch, logs=None):
        if self._mode == "test" and self._bar is not None:
            self._seen = batch + 1
            self._bar.update(batch + 1, logs, finalize=False)

    def on_test_end(self, logs=None):
        if self._mode == "test" and self._bar is not None:
            self._bar.update(self._seen, logs, finalize=True)
            self._bar = None

    def on_predict_begin(self, logs=None):
        if self.verbose:
            self._new_bar(self.params.get("steps"))
            self._mode = "predict"

    def on_predict_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._seen = batch + 1
            self._bar.update(batch + 1, None, finalize=False)

    def on_predict_end(self, logs=None):
        if self._bar is not None:
            self._bar.update(self._seen, None, finalize=True)
            self._bar = None

    def _standalone(self):
        return self.params.get("mode") in ("evaluate", "predict")


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has stopped improving.

    Args:
      monitor: the quantity to watch (``"val_loss"``).
      min_delta: smallest change that counts as an improvement.
      patience: epochs without improvement before stopping.
      mode: ``"auto"``, ``"min"`` or ``"max"``.
      baseline: stop if the monitored value does not beat this.
      restore_best_weights: restore the weights of the best epoch when stopping.
      start_from_epoch: epochs to wait before starting to monitor.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode {mode!r} is unknown; valid: 'auto', 'min', 'max'")
        self.monitor, self.patience, self.verbose = monitor, patience, verbose
        self.baseline, self.restore_best_weights = baseline, restore_best_weights
        self.start_from_epoch = start_from_epoch
        if mode == "auto":
            mode = "max" if ("acc" in monitor or monitor.endswith("auc") or "precision" in monitor
                             or "recall" in monitor) else "min"
        self.mode = mode
        self.min_delta = abs(min_delta) * (1 if mode == "max" else -1)
        self.stopped_epoch = 0
        self.best_epoch = 0

    def _better(self, a, b):
        return a - self.min_delta > b if self.mode == "max" else a - self.min_delta < b

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = -math.inf if self.mode == "max" else math.inf
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            print(f"EarlyStopping: monitor {self.monitor!r} is not in the logs; available: "
                  f"{', '.join(sorted(logs or {}))}", file=sys.stderr)
            return
        if epoch < self.start_from_epoch:
            return
        value = float(value)
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(value, self.best):
            self.best = value
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                if self.verbose:
                    print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
                self.model.set_weights(self.best_weights)

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) after epochs, optionally only when ``monitor`` improves.

    Args:
      filepath: may contain ``{epoch:02d}`` and log names, e.g. ``"w.{epoch:02d}-{val_loss:.2f}.weights.npz"``.
      monitor: the quantity for ``save_best_only``.
      save_best_only: save only when ``monitor`` improves.
      save_weights_only: save ``model.save_weights`` instead of ``model.save``.
      mode: ``"auto"``, ``"min"`` or ``"max"``.
      save_freq: ``"epoch"`` or a number of batches.

    Under a multi-worker strategy only the chief writes (``strategy.extended.should_checkpoint``).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor, self.verbose = monitor, verbose
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.save_freq = save_freq
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"ModelCheckpoint: mode {mode!r} is unknown; valid: 'auto', 'min', 'max'")
        if mode == "auto":
            mode = "max" if ("acc" in monitor or "auc" in monitor) else "min"
        self.mode = mode
        self.best = initial_value_threshold if initial_value_threshold is not None else (
            -math.inf if mode == "max" else math.inf)
        self._batches = 0
        self._epoch = 0

    def _save(self, epoch, logs):
        logs = {k: _float(v) for k, v in (logs or {}).items()}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                print(f"ModelCheckpoint: can save best model only with {self.monitor} available; skipping",
                      file=sys.stderr)
                return
            improved = value > self.best if self.mode == "max" else value < self.best
            if not improved:
                if self.verbose:
                    print(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {value:.5f}, "
                      f"saving model to {path}")
            self.best = value
        if not writes_checkpoints(self.model):
            return  # a worker other than the chief: the chief's file is the checkpoint
        d = os.path.dirname(path)
        if d:
            os.makedirs(d, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, logs)

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, int):
            self._batches += 1
            if self._batches % self.save_freq == 0:
                self._save(self._epoch, logs)


class LearningRateScheduler(Callback):
    """Sets the learning rate at each epoch from ``schedule(epoch, lr) -> new_lr``."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        lr = float(opt.learning_rate.numpy())
        try:
            new = self.schedule(epoch, lr)
        except TypeError:
            new = self.schedule(epoch)
        new = float(new)
        if not math.isfinite(new):
            raise ValueError(f"LearningRateScheduler: the schedule returned {new} for epoch {epoch}")
        opt.learning_rate = new
        if self.verbose:
            print(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate.numpy())


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by ``factor`` when ``monitor`` stops improving for ``patience`` epochs."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.min_delta, self.cooldown, self.min_lr = min_delta, cooldown, min_lr
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode
        self._reset()

    def _reset(self):
        self.best = -math.inf if self.mode == "max" else math.inf
        self.wait = 0
        self.cooldown_counter = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        opt = self.model.optimizer
        logs["learning_rate"] = float(opt.learning_rate.numpy())
        value = logs.get(self.monitor)
        if value is None:
            return
        value = float(value)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        better = value > self.best + self.min_delta if self.mode == "max" else value < self.best - self.min_delta
        if better:
            self.best = value
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(opt.learning_rate.numpy())
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    opt.learning_rate = new
                    if self.verbose:
                        print(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class TerminateOnNaN(Callback):
    """Stops training as soon as the loss is NaN or infinite, reporting the epoch and step."""

    def __init__(self):
        super().__init__()
        self._epoch = 0
        self.message = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None:
            return
        loss = float(loss)
        if math.isnan(loss) or math.isinf(loss):
            self.message = (f"TerminateOnNaN: epoch {self._epoch + 1}, step {batch + 1}: invalid loss {loss}, "
                            "terminating training")
            print(self.message, flush=True)
            self.model.stop_training = True


class CSVLogger(Callback):
    """Streams each epoch's logs to a CSV file (``epoch`` first, then sorted keys)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self._file = None
        self._writer = None
        self._keys = None

    def on_train_begin(self, logs=None):
        exists = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._keys = None
        self._append_header = not exists

    def on_epoch_end(self, epoch, logs=None):
        logs = {k: _float(v) for k, v in (logs or {}).items()}
        if self._keys is None:
            self._keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self._keys, delimiter=self.sep)
            if self._append_header:
                self._writer.writeheader()
        row = {"epoch": epoch}
        row.update({k: logs.get(k, "NA") for k in self._keys})
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    """A callback from plain functions, e.g. ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None, on_train_end=None,
                 on_train_batch_begin=None, on_train_batch_end=None, on_batch_begin=None, on_batch_end=None,
                 **kwargs):
        super().__init__()
        fns = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end, on_train_begin=on_train_begin,
                   on_train_end=on_train_end, on_train_batch_begin=on_train_batch_begin or on_batch_begin,
                   on_train_batch_end=on_train_batch_end or on_batch_end)
        for k, v in kwargs.items():
            if k not in _HOOKS:
                raise TypeError(f"LambdaCallback: unknown hook {k!r}; valid: {', '.join(_HOOKS)}")
            fns[k] = v
        self._fns = {k: v for k, v in fns.items() if v is not None}
        for k, v in self._fns.items():
            setattr(self, k, v)


class RemoteMonitor(Callback):
    """Not available: this build has no network access for callbacks."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError("RemoteMonitor is not available in tensorlab")

# File-writing callbacks live beside the file formats they use.
from tensorlab.keras.callbacks_io import BackupAndRestore, TensorBoard  # noqa: E402,F401
from tensorlab.keras.callbacks_preempt import TerminateOnSignal  # noqa: E402,F401
from tensorlab.keras.callbacks_ema import SwapEMAWeights  # noqa: E402,F401
