"""Surviving preemption: stop ``fit`` cleanly on SIGTERM, checkpoint, resume later.

``docker stop``, Kubernetes and batch schedulers send SIGTERM and kill the
process a grace period later (10 s for ``docker stop``). ``TerminateOnSignal``
turns that signal into a clean stop: the step in flight finishes, the model
and optimizer state plus the position (epoch, step) are written to
``backup_dir``, and ``fit`` returns so the script can exit with status 0.
Started again with the same ``backup_dir`` (a volume that outlives the
container), ``restore`` loads that state and training continues from the step
after the last one done (with numpy's random state of that epoch restored, so
shuffled array data comes in the same order, and tl.random's streams as they
were, so Dropout draws the same masks: on the CPU the result equals an
uninterrupted run bit for bit)::

    preempt = TerminateOnSignal("/checkpoints")
    initial_epoch = preempt.restore(model)       # 0 on a fresh start
    model.fit(x, y, epochs=12, initial_epoch=initial_epoch, callbacks=[preempt])

State is written through ``tl.train.Checkpoint``/``CheckpointManager`` when
they are available, else as a ``.npz`` archive of the model's weights and the
optimizer's slots; ``state.json`` (written atomically, last) names the
checkpoint, so a kill during a save leaves the previous checkpoint in force.
"""
import json
import os
import signal
import threading
import time

import numpy as np

from tensorlab.keras.callbacks import Callback
from tensorlab.keras.callbacks_io import random_state, restore_random_state

STATE_FILE = "state.json"


def _atomic_write(path, data):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_state(backup_dir):
    """The saved position ``{"epoch", "step", "checkpoint", ...}`` in ``backup_dir``, or None."""
    path = os.path.join(os.fspath(backup_dir), STATE_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _loss_scale_state(opt):
    """A LossScaleOptimizer's dynamic scale and step counter, by key (else nothing)."""
    from tensorlab.keras.optimizers import LossScaleOptimizer
    if not isinstance(opt, LossScaleOptimizer):
        return {}
    return {"opt_loss_scale": opt.dynamic_scale, "opt_loss_scale_steps": opt.step_counter}


class _NpzStore:
    """Model weights and optimizer state in one ``.npz`` per save (no dependency but numpy)."""

    kind = "npz"

    def __init__(self, directory):
        self.directory = directory

    def save(self, model, number):
        import io
        arrays = {f"w{i}": v.numpy() for i, v in enumerate(model.weights)}
        opt = getattr(model, "optimizer", None)
        if opt is not None:
            arrays["opt_iterations"] = np.asarray(int(opt.iterations.numpy()))
            arrays["opt_learning_rate"] = np.asarray(float(opt.learning_rate.numpy()))
            slots = getattr(opt, "_slots", {})
            # Slots are keyed by the variable they belong to, so the order in which an
            # optimizer happened to create them does not matter on restore.
            for i, v in enumerate(model.trainable_variables):
                for j, s in enumerate(slots.get(v._uid, ())):
                    arrays[f"slot_{i}_{j}"] = s.numpy()
            for key, v in _loss_scale_state(opt).items():
                arrays[key] = v.numpy()
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        name = f"ckpt-{number}.npz"
        _atomic_write(os.path.join(self.directory, name), buf.getvalue())
        return name

    def restore(self, model, name):
        path = os.path.join(self.directory, name)
        with np.load(path, allow_pickle=False) as z:
            weights = model.weights
            n = len([k for k in z.files if k.startswith("w")])
            if n != len(weights):
                raise ValueError(f"TerminateOnSignal.restore: {path} holds {n} weights but model "
                                 f'"{model.name}" has {len(weights)}; was it written by another model?')
            for i, v in enumerate(weights):
                a = z[f"w{i}"]
                if tuple(a.shape) != tuple(v.shape):
                    raise ValueError(f"TerminateOnSignal.restore: weight {v.name} has shape {tuple(v.shape)} "
                                     f"but {path} holds shape {tuple(a.shape)}")
                v.assign(a.astype(v.dtype.as_numpy_dtype, copy=False))
            opt = getattr(model, "optimizer", None)
            if opt is None or "opt_iterations" not in z.files:
                return
            tv = model.trainable_variables
            opt.build(tv)
            slots = getattr(opt, "_slots", {})
            for i, v in enumerate(tv):
                for j, s in enumerate(slots.get(v._uid, ())):
                    key = f"slot_{i}_{j}"
                    if key in z.files:
                        s.assign(z[key].astype(s.dtype.as_numpy_dtype, copy=False))
            opt.iterations = int(z["opt_iterations"])
            for key, v in _loss_scale_state(opt).items():
                if key in z.files:
                    v.assign(z[key].astype(v.dtype.as_numpy_dtype, copy=False))
            if getattr(opt, "_schedule", None) is None:
                opt.learning_rate = float(z["opt_learning_rate"])

    def cleanup(self, keep):
        for f in os.listdir(self.directory):
            if f.startswith("ckpt-") and f.endswith(".npz") and f not in keep:
                os.remove(os.path.join(self.directory, f))


class _CheckpointStore:
    """Model and optimizer through ``tl.train.Checkpoint`` + ``CheckpointManager``."""

    kind = "tl.train.Checkpoint"

    def __init__(self, directory, train):
        self.directory = directory
        self.train = train
        self._ckpt = None
        self._manager = None

    def _setup(self, model):
        if self._ckpt is None:
            kw = {"model": model}
            if getattr(model, "optimizer", None) is not None:
                kw["optimizer"] = model.optimizer
            self._ckpt = self.train.Checkpoint(**kw)
            self._manager = self.train.CheckpointManager(self._ckpt, os.path.join(self.directory, "ckpt"),
                                                         max_to_keep=2)

    def save(self, model, number):
        self._setup(model)
        path = self._manager.save(checkpoint_number=number)
        return os.path.relpath(os.fspath(path), self.directory)

    def restore(self, model, name):
        self._setup(model)
        opt = getattr(model, "optimizer", None)
        if opt is not None:
            opt.build(model.trainable_variables)
        status = self._ckpt.restore(os.path.join(self.directory, name))
        if hasattr(status, "expect_partial"):
            status.expect_partial()

    def cleanup(self, keep):
        pass  # CheckpointManager(max_to_keep=2) prunes its own files


def _make_store(directory, prefer):
    if prefer in (None, "checkpoint"):
        try:
            import tensorlab.train as train
            if hasattr(train, "Checkpoint") and hasattr(train, "CheckpointManager"):
                return _CheckpointStore(directory, train)
        except ImportError:
            pass
        if prefer == "checkpoint":
            raise ValueError("TerminateOnSignal: tl.train.Checkpoint/CheckpointManager are not available")
    return _NpzStore(directory)


class TerminateOnSignal(Callback):
    """Stops training cleanly on SIGTERM, saving a checkpoint that ``restore`` resumes from.

    On the signal, the current training step finishes, the model weights, the
    optimizer state and the position (epoch, step) are saved to ``backup_dir``
    and ``model.stop_training`` is set, so ``fit`` returns; ``stopped`` then says
    why and the script should exit with status 0. The state is also saved at
    each epoch end (``save_freq="epoch"``) so that a hard kill loses at most
    one epoch.

    Args:
      backup_dir: directory for the checkpoints and ``state.json``; use a
        volume that outlives the container.
      signals: the signals to catch (default ``(signal.SIGTERM,)``; add
        ``signal.SIGINT`` to treat Ctrl-C the same way).
      save_freq: ``"epoch"`` to also save after every epoch, or None.
      delete_checkpoint: remove the saved state when ``fit`` completes all
        its epochs, so the next run starts afresh (as ``BackupAndRestore``).
      store: ``"checkpoint"`` (``tl.train.CheckpointManager``), ``"npz"``, or
        None to use the first available.
      verbose: 1 prints what is caught, saved and restored.

    Example:

    >>> preempt = TerminateOnSignal("/checkpoints")
    >>> initial_epoch = preempt.restore(model)
    >>> model.fit(x, y, epochs=10, initial_epoch=initial_epoch, callbacks=[preempt])
    >>> sys.exit(0)   # also after a SIGTERM: the checkpoint is on disk
    """

    def __init__(self, backup_dir, signals=(signal.SIGTERM,), save_freq="epoch", delete_checkpoint=False,
                 store=None, verbose=1):
        super().__init__()
        if save_freq not in ("epoch", None):
            raise ValueError(f"TerminateOnSignal: save_freq must be 'epoch' or None, got {save_freq!r}")
        if store not in (None, "checkpoint", "npz"):
            raise ValueError(f"TerminateOnSignal: store must be 'checkpoint', 'npz' or None, got {store!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.signals = tuple(signals)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.verbose = verbose
        self._store_pref = store
        self._store = None
        self.received = None      # the signal number caught, or None
        self.stopped = False      # True once fit was stopped by a signal
        self.initial_epoch = 0
        self.initial_step = 0
        self._epoch = 0
        self._epoch_rng = None
        self._skip = 0
        self._wrapper = None
        self._previous = {}
        self._completed = False

    # ------------------------------------------------------------------ state on disk
    def _get_store(self):
        if self._store is None:
            os.makedirs(self.backup_dir, exist_ok=True)
            self._store = _make_store(self.backup_dir, self._store_pref)
        return self._store

    def _say(self, msg):
        if self.verbose:
            print(f"TerminateOnSignal: {msg}", flush=True)

    def save(self, epoch, step, reason="signal"):
        """Saves weights, optimizer state and the position: ``step`` batches of ``epoch`` are done."""
        steps = self.params.get("steps")
        if steps and step >= steps:
            epoch, step = epoch + 1, 0
        store = self._get_store()
        number = int(time.time() * 1000)
        name = store.save(self.model, number)
        # Mid-epoch, the state the epoch's shuffle was drawn from, so the resumed epoch
        # draws the same order and skips exactly the batches already trained.
        # tl.random's streams are saved as they are now (the batches already trained drew from them).
        rng = self._epoch_rng if step > 0 and self._epoch_rng is not None else None
        state = {"epoch": int(epoch), "step": int(step), "checkpoint": name, "store": store.kind,
                 "reason": reason, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                 **random_state(rng)}
        _atomic_write(os.path.join(self.backup_dir, STATE_FILE), json.dumps(state, indent=1).encode())
        store.cleanup(keep={name})
        self._say(f"saved after {epoch} epoch(s) and {step} step(s) to {os.path.join(self.backup_dir, name)} "
                  f"({reason})")
        return state

    def restore(self, model=None):
        """Loads the saved state into ``model`` (built) if ``backup_dir`` holds one.

        Returns:
          The epoch to pass to ``fit(initial_epoch=...)``: 0 when there is
          nothing to resume. The first ``initial_step`` batches of that epoch
          were already trained and are skipped by ``fit``.
        """
        model = model if model is not None else self.model
        state = read_state(self.backup_dir)
        if state is None:
            self.initial_epoch, self.initial_step = 0, 0
            return 0
        if model is not None and self.model is None:
            self.set_model(model)
        store = self._get_store()
        if state.get("store") != store.kind:
            # written by the other store kind (e.g. before tl.train.Checkpoint existed)
            store = self._store = (_NpzStore(self.backup_dir) if state.get("store") == "npz"
                                   else _make_store(self.backup_dir, "checkpoint"))
        store.restore(model, state["checkpoint"])
        restore_random_state(state)
        self.initial_epoch, self.initial_step = int(state["epoch"]), int(state["step"])
        self._skip = self.initial_step
        self._say(f"resuming after {self.initial_epoch} epoch(s) and {self.initial_step} step(s) "
                  f"from {os.path.join(self.backup_dir, state['checkpoint'])}")
        return self.initial_epoch

    # ------------------------------------------------------------------ signals
    def _handler(self, signum, frame):
        # Only note it: the step in flight must finish before anything is saved.
        if self.received is None:
            self._say(f"{signal.Signals(signum).name} received; stopping after the current step")
        self.received = signum

    def _install(self):
        if threading.current_thread() is not threading.main_thread():
            self._say("not on the main thread; signals cannot be caught here")
            return
        for s in self.signals:
            self._previous[s] = signal.signal(s, self._handler)

    def _uninstall(self):
        for s, prev in self._previous.items():
            signal.signal(s, prev if prev is not None else signal.SIG_DFL)
        self._previous = {}

    # ------------------------------------------------------------------ hooks
    def set_model(self, model):
        super().set_model(model)
        if self._skip and getattr(model, "train_step", None) is not None:
            self._wrap_train_step(model)

    def _wrap_train_step(self, model):
        """Makes the first ``initial_step`` steps of the resumed epoch no-ops.

        ``fit`` reads ``model.train_step`` once per call, after the callbacks get the
        model, so an instance attribute placed here is what it runs.
        """
        inner = type(model).train_step.__get__(model)
        cb = self

        def train_step(data):
            if cb._skip > 0:
                cb._skip -= 1
                return {}
            return inner(data)

        model.train_step = self._wrapper = train_step

    def _unwrap(self):
        if self.model is not None and vars(self.model).get("train_step") is self._wrapper is not None:
            del self.model.train_step
        self._wrapper = None

    def on_train_begin(self, logs=None):
        self.received = None
        self.stopped = False
        self._completed = False
        self._install()

    def on_epoch_begin(self, epoch, logs=None):
        if self._skip and epoch != self.initial_epoch:
            self._skip = 0  # fit did not start at the saved epoch: train every step
        self._epoch = epoch
        self._epoch_rng = np.random.get_state()

    def on_train_batch_end(self, batch, logs=None):
        if self.received is None or self.stopped:
            return
        self.stopped = True
        self.model.stop_training = True
        self.save(self._epoch, batch + 1, reason=signal.Signals(self.received).name)

    def on_epoch_end(self, epoch, logs=None):
        self._skip = 0
        if self.save_freq == "epoch" and not self.stopped:
            self.save(epoch + 1, 0, reason="epoch end")
        if not self.stopped and epoch + 1 >= self.params.get("epochs", epoch + 1):
            self._completed = True

    def on_train_end(self, logs=None):
        self._uninstall()
        self._unwrap()
        self._skip = 0
        if self._completed and self.delete_checkpoint:
            self._delete()

    def _delete(self):
        import shutil
        for f in os.listdir(self.backup_dir):
            p = os.path.join(self.backup_dir, f)
            if f == STATE_FILE or f.startswith("ckpt"):
                shutil.rmtree(p) if os.path.isdir(p) else os.remove(p)


__all__ = ["TerminateOnSignal", "read_state"]
