"""Callbacks that write files: ``TensorBoard`` logs and ``BackupAndRestore`` training backups."""
import json
import os
import shutil
import warnings

import numpy as np

import tensorlab as tl
from tensorlab.keras.callbacks import Callback, writes_checkpoints, writes_summaries


def _summary():
    import tensorlab.summary as summary
    return summary


def _float(v):
    try:
        return float(v.numpy() if hasattr(v, "numpy") else v)
    except (TypeError, ValueError):
        return None


def random_state(numpy_state=None):
    """numpy's global random state (or ``numpy_state``, a ``np.random.get_state()``) and
    tl.random's streams, as JSON data for a training-state file."""
    rng = np.random.get_state() if numpy_state is None else numpy_state
    return {"numpy_random_state": [rng[0], rng[1].tolist(), int(rng[2]), int(rng[3]), float(rng[4])],
            "tl_random_state": tl.random.get_global_state()}


def restore_random_state(state):
    """Puts back what ``random_state`` saved (either part may be absent in older files)."""
    rng = state.get("numpy_random_state")
    if rng is not None:
        np.random.set_state((rng[0], np.asarray(rng[1], dtype=np.uint32), rng[2], rng[3], rng[4]))
    if state.get("tl_random_state") is not None:
        tl.random.set_global_state(state["tl_random_state"])


class TensorBoard(Callback):
    """Writes TensorBoard logs: loss and metrics per epoch (and per batch), weight histograms, the graph.

    Training values go to ``<log_dir>/train``, validation values (``val_*`` logs, without the
    prefix) to ``<log_dir>/validation``, as ``epoch_<name>`` at step ``epoch`` and, with an integer
    ``update_freq``, as ``batch_<name>`` every ``update_freq`` batches at the global batch index.
    On a GPU with ``pynvml`` installed the device's memory use and utilization are logged per epoch.
    Under a multi-worker strategy only the chief writes.

    Args:
      log_dir: the folder for the event files.
      histogram_freq: write histograms of every weight every this many epochs (0: never).
      write_graph: write the model's architecture for TensorBoard's graph dashboard.
      write_images: also write each 2D+ weight as an image.
      write_steps_per_second: log the training speed.
      update_freq: ``"epoch"``, ``"batch"`` or an integer number of batches.

    Example:
      >>> tb = tl.keras.callbacks.TensorBoard(log_dir="logs", histogram_freq=1)
      >>> model.fit(x, y, epochs=5, validation_split=0.1, callbacks=[tb])
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0, embeddings_freq=0,
                 embeddings_metadata=None):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = int(histogram_freq)
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and not (isinstance(update_freq, int) and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive int, got "
                             f"{update_freq!r}")
        self.update_freq = update_freq
        self._writers = {}
        self._global_batch = 0
        self._epoch_start = None
        self._epoch_batches = 0
        self._active = True

    def _writer(self, which):
        w = self._writers.get(which)
        if w is None:
            w = self._writers[which] = _summary().create_file_writer(os.path.join(self.log_dir, which))
        return w

    def set_model(self, model):
        super().set_model(model)
        # Under a multi-worker strategy only the chief writes logs.
        self._active = writes_summaries(model)

    def on_train_begin(self, logs=None):
        self._global_batch = 0
        if not self._active:
            return
        s = _summary()
        if self.write_graph:
            with self._writer("train").as_default():
                s.keras_model("keras", self.model, step=0)

    def on_epoch_begin(self, epoch, logs=None):
        import time
        self._epoch_start = time.perf_counter()
        self._epoch_batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self._global_batch += 1
        self._epoch_batches += 1
        if not self._active or self.update_freq == "epoch" or self._global_batch % self.update_freq:
            return
        s = _summary()
        with self._writer("train").as_default(step=self._global_batch):
            for k, v in (logs or {}).items():
                f = _float(v)
                if f is not None:
                    s.scalar("batch_" + k, f)

    def on_epoch_end(self, epoch, logs=None):
        import time
        if not self._active:
            return
        s = _summary()
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        opt = getattr(self.model, "optimizer", None)
        with self._writer("train").as_default(step=epoch):
            for k, v in train.items():
                f = _float(v)
                if f is not None:
                    s.scalar("epoch_" + k, f)
            if opt is not None and "learning_rate" not in train and hasattr(opt, "learning_rate"):
                s.scalar("epoch_learning_rate", _float(opt.learning_rate))
            if self.write_steps_per_second and self._epoch_start is not None:
                dt = time.perf_counter() - self._epoch_start
                if dt > 0:
                    s.scalar("epoch_steps_per_second", self._epoch_batches / dt)
            if self.histogram_freq and epoch % self.histogram_freq == 0:
                self._log_weights(s, epoch)
            self._log_gpu(s)
        if val:
            iterations = int(opt.iterations.numpy()) if opt is not None and hasattr(opt, "iterations") else epoch
            with self._writer("validation").as_default(step=epoch):
                for k, v in val.items():
                    f = _float(v)
                    if f is not None:
                        s.scalar("epoch_" + k, f)
                        s.scalar(f"evaluation_{k}_vs_iterations", f, step=iterations)
        for w in self._writers.values():
            w.flush()

    def _log_weights(self, s, epoch):
        for layer in self.model.layers:
            for w in layer.weights:
                name = w.name.replace(":", "_")
                value = w.numpy()
                s.histogram(name + "/histogram", value, step=epoch)
                if self.write_images and value.ndim >= 2:
                    img = value.reshape(value.shape[0], -1)
                    lo, hi = float(img.min()), float(img.max())
                    img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
                    s.image(name + "/image", img[None, :, :, None], step=epoch)

    def _log_gpu(self, s):
        """Device memory and utilization, when the model lives on a CUDA GPU and pynvml is installed."""
        weights = self.model.weights
        if not weights or "GPU" not in str(getattr(weights[0], "device", "")).upper():
            return
        try:
            import pynvml
            pynvml.nvmlInit()
            index = int(str(weights[0].device).rsplit(":", 1)[-1]) if ":" in str(weights[0].device) else 0
            h = pynvml.nvmlDeviceGetHandleByIndex(index)
            mem = pynvml.nvmlDeviceGetMemoryInfo(h)
            util = pynvml.nvmlDeviceGetUtilizationRates(h)
        except Exception:  # no pynvml or no NVML driver: nothing to log
            return
        s.scalar("gpu_memory_used_mb", mem.used / 2**20)
        s.scalar("gpu_memory_total_mb", mem.total / 2**20)
        s.scalar("gpu_utilization_percent", float(util.gpu))

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}


_STATE = "training_state.json"


class BackupAndRestore(Callback):
    """Backs up the training state every epoch so that an interrupted ``fit`` resumes where it stopped.

    At the end of each epoch the model's weights, the optimizer's state, the epoch and
    numpy's global random state (which orders shuffled array data) are written to
    ``backup_dir``. When ``fit`` starts again with the same callback arguments, it restores
    them and continues from the next epoch; on a tl.data ``Dataset``, whose shuffles are
    seeded, the data order continues as well, and so do tl.random's streams (Dropout's masks).
    On the CPU the result equals, bit for bit, a run that was never interrupted.
    When training ends normally the backup is deleted (``delete_checkpoint=True``). Under a
    multi-worker strategy the chief backs up into ``backup_dir`` and worker ``i`` into
    ``backup_dir/worker_<i>``.

    Args:
      backup_dir: the folder for the backup (must not be shared with other runs).
      save_freq: ``"epoch"``, or save every this many batches as well (a resume starts the
        epoch in which that save happened over again).
      delete_checkpoint: delete the backup when training finishes.

    Example:
      >>> cb = tl.keras.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
      >>> model.fit(ds, epochs=10, callbacks=[cb])   # killed in epoch 4? run it again: resumes at epoch 4
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True, save_before_preemption=False):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir is required")
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive int, got {save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.save_before_preemption = save_before_preemption
        self._ckpt = None
        self._manager = None
        self._batches = 0
        self._epoch = 0
        self.restored_epoch = None
        self._dir = self.backup_dir  # this worker's folder (see set_model)

    def set_model(self, model):
        super().set_model(model)
        # Under a multi-worker strategy the chief backs up into backup_dir and every other
        # worker its own (identical) state into a subfolder, so that each finds a backup to
        # resume from whether or not the folder is shared between machines.
        self._dir = self.backup_dir
        if not writes_checkpoints(model):
            self._dir = os.path.join(self.backup_dir, f"worker_{model._distribute_strategy.extended._worker_index}")

    def _setup(self):
        if self._manager is None:
            from tensorlab import train
            self._ckpt = train.Checkpoint(model=self.model)
            # Two kept: the state file names the newer only once it is complete.
            self._manager = train.CheckpointManager(self._ckpt, self._dir, max_to_keep=2,
                                                    checkpoint_name="chkpt")

    def on_train_begin(self, logs=None):
        state_path = os.path.join(self._dir, _STATE)
        self.restored_epoch = None
        if not os.path.exists(state_path):
            return
        with open(state_path) as f:
            state = json.load(f)
        if not self.model.built:
            raise ValueError(f'BackupAndRestore: model "{self.model.name}" must be built before fit() to '
                             f"restore the backup in {self.backup_dir!r}; give it an Input or call build()")
        self._setup()
        self._ckpt.restore(os.path.join(self._dir, state["checkpoint"])).expect_partial()
        restore_random_state(state)  # shuffles, Dropout and other random layers continue too
        self.restored_epoch = int(state["epoch"])
        self.model._initial_epoch = self.restored_epoch
        self._epoch = self.restored_epoch

    def _backup(self, next_epoch):
        self._setup()
        path = self._manager.save(check_interval=False)
        state = {"epoch": int(next_epoch), "checkpoint": os.path.relpath(path, self._dir), **random_state()}
        from tensorlab.keras.saving.file_format import atomic_write_bytes
        atomic_write_bytes(os.path.join(self._dir, _STATE), json.dumps(state).encode(),
                           what="BackupAndRestore")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._batches = 0

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, int):
            self._batches += 1
            if self._batches % self.save_freq == 0:
                self._backup(self._epoch)

    def on_epoch_end(self, epoch, logs=None):
        self._backup(epoch + 1)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.isdir(self._dir):
            self._remove_backup()
        self._manager = None
        self._ckpt = None

    def _remove_backup(self):
        for name in os.listdir(self._dir):
            p = os.path.join(self._dir, name)
            if name == _STATE or name == "checkpoint" or name.startswith("chkpt-") or name.startswith("."):
                if os.path.isdir(p):
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    os.remove(p)
        try:
            os.rmdir(self._dir)
        except OSError:
            # Other workers' folders (a shared backup_dir) go away with those workers.
            if not all(n.startswith("worker_") for n in os.listdir(self._dir)):
                warnings.warn(f"BackupAndRestore: left {self._dir!r} in place: it holds other files")
        if self._dir != self.backup_dir:
            try:
                os.rmdir(self.backup_dir)  # a worker's own parent folder, once empty
            except OSError:
                pass


__all__ = ["TensorBoard", "BackupAndRestore"]
