"""``tl.train.Checkpoint`` and ``CheckpointManager``: TF's training-checkpoint API.

A checkpoint ``<prefix>`` is one file ``<prefix>.tlckpt``: an uncompressed zip
holding ``checkpoint.json`` (for each saved value its key, dtype and shape) and
one ``.npy`` array per value (read back with ``allow_pickle=False``). Values
are keyed by their place in the object graph, as TF does: ``model/layers/dense/
vars/0``, ``model/optimizer/vars/3``, ``step``. A directory also holds a text
file ``checkpoint`` (TF's ``CheckpointState`` in text form) naming the latest
checkpoint and those kept, which ``latest_checkpoint`` reads.

Each file is written to a temporary name, fsynced and renamed, and the state
file only names a checkpoint after its file is complete, so a process killed
mid-save leaves the previous checkpoint loadable.
"""
import io
import json
import os
import re
import time
import zipfile

import numpy as np

import tensorlab as tl
from tensorlab.keras.saving.file_format import atomic_write_bytes

SUFFIX = ".tlckpt"
_now = time.time  # the clock of checkpoint timestamps (tests move it)
_STATE = "checkpoint"


def _data_file(prefix):
    prefix = os.fspath(prefix)
    return prefix if prefix.endswith(SUFFIX) else prefix + SUFFIX


# ---------------------------------------------------------------- the object graph
def _is_model(obj):
    from tensorlab.keras.layers.base import Layer
    return isinstance(obj, Layer)


def _is_optimizer(obj):
    from tensorlab.keras.optimizers.base import Optimizer
    return isinstance(obj, Optimizer)


def _flatten(name, obj, out, seen):
    """Adds ``{key: variable}`` for everything ``obj`` tracks, keyed under ``name``."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, tl.Variable):
        out[name] = obj
    elif isinstance(obj, Checkpoint):
        for k in sorted(obj._children):
            _flatten(f"{name}/{k}" if name else k, obj._children[k], out, seen)
    elif _is_model(obj):
        from tensorlab.keras.saving.file_format import variable_paths
        for path, vs in variable_paths(obj, include_optimizer=False):
            for i, v in enumerate(vs):
                out[f"{name}/{path}/vars/{i}" if path else f"{name}/vars/{i}"] = v
        opt = getattr(obj, "optimizer", None)
        if opt is not None and _is_optimizer(opt):
            _flatten(f"{name}/optimizer", opt, out, seen)
    elif _is_optimizer(obj):
        for i, v in enumerate(obj.variables):
            out[f"{name}/vars/{i}"] = v
    elif isinstance(obj, tl.Module):
        for key, child in obj._checkpoint_children():
            _flatten(f"{name}/{key}", child, out, seen)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _flatten(f"{name}/{i}", v, out, seen)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(f"{name}/{k}", v, out, seen)
    elif hasattr(obj, "_checkpoint_state"):
        out[name] = _StateValue(obj)
    else:
        raise ValueError(f"Checkpoint: cannot track {name}={type(obj).__name__}; give variables, Keras models, "
                         "optimizers, layers, tl.Module objects, checkpoints, or lists/dicts of them")


class _StateValue:
    """A non-variable object with ``_checkpoint_state()``/``_restore_checkpoint_state(array)``."""

    def __init__(self, obj):
        self.obj = obj

    def numpy(self):
        return np.asarray(self.obj._checkpoint_state())

    @property
    def shape(self):
        return self.numpy().shape

    def assign(self, value):
        self.obj._restore_checkpoint_state(value)


def _prepare_optimizers(root, stored_keys):
    """Creates optimizer slots the checkpoint holds values for (TF restores them on creation)."""
    for name, obj in root._children.items():
        if _is_model(obj):
            opt = getattr(obj, "optimizer", None)
            prefix = f"{name}/optimizer/vars/"
        elif _is_optimizer(obj):
            opt, prefix = obj, f"{name}/vars/"
        else:
            continue
        if _is_model(obj) and not obj.built and any(k.startswith(name + "/") for k in stored_keys):
            raise ValueError(f'restore: model "{obj.name}" (tracked as {name!r}) is not built, so it has no '
                             "variables to restore into; build it first (give it an Input, call it on data, or "
                             "call build())")
        if opt is None or not _is_optimizer(opt):
            continue
        n = sum(1 for k in stored_keys if k.startswith(prefix))
        if n > len(opt.variables):
            model = obj if _is_model(obj) else next((m for m in root._children.values() if _is_model(m)
                                                      and getattr(m, "optimizer", None) is opt), None)
            if model is not None and model.built:
                opt.build(model.trainable_variables)


# ---------------------------------------------------------------- reading and writing one file
def _encode(values):
    buf = io.BytesIO()
    index = {}
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for i, (key, v) in enumerate(values.items()):
            a = np.asarray(v.numpy())
            member = f"v{i}.npy"
            b = io.BytesIO()
            np.save(b, a, allow_pickle=False)
            zf.writestr(member, b.getvalue())
            index[key] = {"file": member, "dtype": str(a.dtype), "shape": list(a.shape)}
        zf.writestr("checkpoint.json", json.dumps({"format": "tensorlab-checkpoint", "version": 1,
                                                   "values": index}))
    return buf.getvalue()


def read_values(path, what="restore"):
    """``{key: numpy array}`` of a checkpoint file; raises ``DataLossError`` naming a corrupt file."""
    path = _data_file(path)
    if not os.path.exists(path):
        raise tl.errors.NotFoundError(None, None, f"{what}: no checkpoint at {path!r}")
    try:
        with zipfile.ZipFile(path) as zf:
            index = json.loads(zf.read("checkpoint.json"))["values"]
            out = {}
            for key, meta in index.items():
                a = np.load(io.BytesIO(zf.read(meta["file"])), allow_pickle=False)
                if list(a.shape) != list(meta["shape"]):
                    raise ValueError(f"value {key!r} has shape {a.shape}, the index says {meta['shape']}")
                out[key] = a
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
        raise tl.errors.DataLossError(None, None, f"{what}: checkpoint file {path!r} is truncated or corrupt "
                                                  f"({type(e).__name__}: {e}); nothing was restored") from None
    return out


class CheckpointLoadStatus:
    """What ``restore`` matched; ``assert_consumed``/``expect_partial`` as in TF."""

    def __init__(self, path, unused_in_file, missing_in_file):
        self.path = path
        self.unused_in_file = sorted(unused_in_file)
        self.missing_in_file = sorted(missing_in_file)

    def assert_consumed(self):
        """Raises ``AssertionError`` unless every value was used and every tracked variable restored."""
        if self.unused_in_file or self.missing_in_file:
            raise AssertionError(
                f"Checkpoint {self.path!r} was not fully consumed: values in the file with no object: "
                f"{self.unused_in_file[:8]}; objects with no value in the file: {self.missing_in_file[:8]}")
        return self

    def assert_existing_objects_matched(self):
        if self.missing_in_file:
            raise AssertionError(f"Checkpoint {self.path!r}: objects with no value in the file: "
                                 f"{self.missing_in_file[:8]}")
        return self

    def assert_nontrivial_match(self):
        return self

    def expect_partial(self):
        """Silences the check for unused values (restoring part of a checkpoint on purpose)."""
        return self

    def run_restore_ops(self, session=None):
        return None

    def initialize_or_restore(self, session=None):
        return None


class Checkpoint:
    """Groups objects to save and restore together.

    Args:
      root: optional object stored under the key ``root``.
      **kwargs: the objects to track, by name: ``tl.Variable``, Keras models (their weights and
        optimizer state), optimizers, lists/dicts of them, other checkpoints.

    Example:
      >>> ckpt = tl.train.Checkpoint(model=model, optimizer=model.optimizer, step=tl.Variable(0))
      >>> path = ckpt.save("/tmp/ckpts/ckpt")        # "/tmp/ckpts/ckpt-1"
      >>> ckpt.restore(tl.train.latest_checkpoint("/tmp/ckpts")).assert_consumed()
    """

    def __init__(self, root=None, **kwargs):
        children = {}
        if root is not None:
            children["root"] = root
        for k, v in kwargs.items():
            if v is None:
                raise ValueError(f"Checkpoint: {k}=None cannot be tracked")
            children[k] = v
        self._children = children
        self.save_counter = tl.Variable(tl.constant(0, dtype="int64"), trainable=False, name="save_counter")

    def __setattr__(self, name, value):
        if name.startswith("_") or name == "save_counter":
            object.__setattr__(self, name, value)
        elif value is None:
            raise ValueError(f"Checkpoint: {name}=None cannot be tracked")
        else:
            self._children[name] = value  # `ckpt.foo = v` tracks v as TF does

    def __getattr__(self, name):
        children = self.__dict__.get("_children", {})
        if name in children:
            return children[name]
        raise AttributeError(name)

    def _values(self):
        out = {}
        seen = set()
        for k in sorted(self._children):  # keys must not depend on the order of the keyword arguments
            _flatten(k, self._children[k], out, seen)
        out["save_counter"] = self.save_counter
        return out

    def write(self, file_prefix, options=None):
        """Writes the checkpoint to ``file_prefix`` (no counter, no state file); returns the prefix."""
        file_prefix = os.fspath(file_prefix)
        atomic_write_bytes(_data_file(file_prefix), _encode(self._values()), what="Checkpoint.write")
        return file_prefix

    def save(self, file_prefix, options=None):
        """Writes ``<file_prefix>-<n>`` (n = 1, 2, ...) and records it in the directory's state file."""
        self.save_counter.assign_add(tl.constant(1, dtype="int64"))
        path = f"{os.fspath(file_prefix)}-{int(self.save_counter.numpy())}"
        self.write(path)
        directory = os.path.dirname(os.path.abspath(path))
        state = _read_state(directory) or {"all": [], "times": []}
        state["all"] = [p for p in state["all"] if p != path] + [path]
        state["times"] = (state["times"] + [_now()])[-len(state["all"]):]
        _write_state(directory, path, state["all"], state["times"], state.get("preserved", 0.0))
        return path

    def read(self, save_path, options=None):
        """Restores from ``save_path`` (written by ``write``); returns a load status."""
        return self.restore(save_path)

    def restore(self, save_path, options=None):
        """Restores all tracked values from ``save_path`` (``None`` does nothing, as in TF).

        Values are read and checked (shapes, dtypes) before any variable is assigned.

        Returns:
          A status with ``assert_consumed()`` and ``expect_partial()``.
        """
        if save_path is None:
            return CheckpointLoadStatus(None, [], [])
        stored = read_values(save_path)
        _prepare_optimizers(self, stored)
        values = self._values()
        plan, problems = [], []
        for key, v in values.items():
            if key in stored:
                a = stored[key]
                if tuple(v.shape) != tuple(a.shape):
                    problems.append(f"{key}: the object has shape {tuple(v.shape)}, the checkpoint {a.shape}")
                else:
                    plan.append((v, a))
        if problems:
            raise ValueError(f"restore: checkpoint {os.fspath(save_path)!r} does not match the objects: "
                             + "; ".join(problems[:6]))
        for v, a in plan:
            if isinstance(v, _StateValue):
                v.assign(a)
            else:
                v.assign(a.astype(v.dtype.as_numpy_dtype, copy=False))
        for obj in self._children.values():
            opt = obj if _is_optimizer(obj) else getattr(obj, "optimizer", None)
            if opt is not None and _is_optimizer(opt):
                opt._step = int(opt.iterations.numpy())
        return CheckpointLoadStatus(os.fspath(save_path), set(stored) - set(values), set(values) - set(stored))


# ---------------------------------------------------------------- the state file
def _quote(s):
    return json.dumps(s)


def _write_state(directory, latest, all_paths, times, preserved):
    def rel(p):
        return os.path.relpath(p, directory) if os.path.isabs(p) else os.path.basename(p)
    lines = [f"model_checkpoint_path: {_quote(rel(latest))}"]
    lines += [f"all_model_checkpoint_paths: {_quote(rel(p))}" for p in all_paths]
    lines += [f"all_model_checkpoint_timestamps: {t!r}" for t in times]
    lines.append(f"last_preserved_timestamp: {float(preserved)!r}")
    atomic_write_bytes(os.path.join(directory, _STATE), ("\n".join(lines) + "\n").encode(),
                       what="CheckpointManager")


def _read_state(directory):
    path = os.path.join(os.fspath(directory), _STATE)
    if not os.path.exists(path):
        return None
    latest, all_paths, times, preserved = None, [], [], 0.0
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s*(\w+)\s*:\s*(.+?)\s*$", line)
            if not m:
                continue
            key, val = m.groups()
            if key == "model_checkpoint_path":
                latest = json.loads(val)
            elif key == "all_model_checkpoint_paths":
                all_paths.append(json.loads(val))
            elif key == "all_model_checkpoint_timestamps":
                times.append(float(val))
            elif key == "last_preserved_timestamp":
                preserved = float(val)

    def absolute(p):
        return p if os.path.isabs(p) else os.path.join(os.fspath(directory), p)
    return {"latest": absolute(latest) if latest else None, "all": [absolute(p) for p in all_paths],
            "times": times, "preserved": preserved}


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The path of the newest checkpoint in ``checkpoint_dir`` whose file exists, or ``None``."""
    state = _read_state(checkpoint_dir)
    if not state:
        return None
    candidates = ([state["latest"]] if state["latest"] else []) + list(reversed(state["all"]))
    for p in candidates:
        if os.path.exists(_data_file(p)):
            return p
    return None


def _remove_stale_temporaries(directory, checkpoint_name):
    """Deletes half-written files left by processes killed mid-save (their writer is gone)."""
    if not os.path.isdir(directory):
        return
    pattern = re.compile(rf"^\.(?:{re.escape(checkpoint_name)}-\d+{re.escape(SUFFIX)}|{_STATE})\.tmp-(\d+)-\d+$")
    for name in os.listdir(directory):
        m = pattern.match(name)
        if m and not _alive(int(m.group(1))):
            try:
                os.remove(os.path.join(directory, name))
            except OSError:
                pass


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class CheckpointManager:
    """Keeps the newest ``max_to_keep`` checkpoints of a ``Checkpoint`` in ``directory``.

    Args:
      checkpoint: the ``tl.train.Checkpoint`` to save.
      directory: where checkpoints and the ``checkpoint`` state file go.
      max_to_keep: how many recent checkpoints to keep (``None`` keeps all).
      keep_checkpoint_every_n_hours: additionally keep one checkpoint per this many hours.
      checkpoint_name: file prefix (``ckpt``).
      step_counter, checkpoint_interval: with both, ``save()`` only writes when ``step_counter`` has
        advanced ``checkpoint_interval`` steps since the last save.

    Example:
      >>> manager = tl.train.CheckpointManager(ckpt, "/tmp/ckpts", max_to_keep=3)
      >>> ckpt.restore(manager.latest_checkpoint)
      >>> manager.save()
    """

    def __init__(self, checkpoint, directory, max_to_keep, keep_checkpoint_every_n_hours=None,
                 checkpoint_name="ckpt", step_counter=None, checkpoint_interval=None, init_fn=None):
        if not isinstance(checkpoint, Checkpoint):
            raise TypeError(f"CheckpointManager: expected a tl.train.Checkpoint, got {type(checkpoint).__name__}")
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(f"CheckpointManager: max_to_keep must be positive or None, got {max_to_keep}")
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError("CheckpointManager: checkpoint_interval needs a step_counter")
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_hours = keep_checkpoint_every_n_hours
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter = step_counter
        self._interval = checkpoint_interval
        self._init_fn = init_fn
        self._last_step = None
        state = _read_state(self._directory)
        if state:
            kept = [(p, t) for p, t in zip(state["all"], state["times"] or [_now()] * len(state["all"]))
                    if os.path.exists(_data_file(p))]
            self._maybe = kept
            self._preserved = state["preserved"] or _now()
        else:
            self._maybe = []
            self._preserved = _now()
        self._latest = latest_checkpoint(self._directory)
        _remove_stale_temporaries(self._directory, checkpoint_name)

    @property
    def directory(self):
        return self._directory

    @property
    def checkpoint(self):
        return self._checkpoint

    @property
    def latest_checkpoint(self):
        """The newest checkpoint's path, or ``None``."""
        return self._latest

    @property
    def checkpoints(self):
        """The paths of the kept checkpoints, oldest first."""
        return [p for p, _ in self._maybe]

    @property
    def checkpoint_interval(self):
        return self._interval

    def restore_or_initialize(self):
        """Restores the latest checkpoint, or calls ``init_fn``; returns the path restored or ``None``."""
        if self._latest is not None:
            self._checkpoint.restore(self._latest)
            return self._latest
        if self._init_fn is not None:
            self._init_fn()
        return None

    def save(self, checkpoint_number=None, check_interval=True, options=None):
        """Writes a checkpoint and deletes those beyond ``max_to_keep``; returns its path (or ``None``).

        Args:
          checkpoint_number: number for the file name (default: the checkpoint's save counter + 1).
          check_interval: honour ``checkpoint_interval``.
        """
        if self._interval is not None and check_interval:
            step = int(tl.convert_to_tensor(self._step_counter).numpy())
            if self._last_step is not None and step < self._last_step + self._interval:
                return None
            self._last_step = step
        ckpt = self._checkpoint
        if checkpoint_number is None:
            ckpt.save_counter.assign_add(tl.constant(1, dtype="int64"))
            number = int(ckpt.save_counter.numpy())
        else:
            number = int(tl.convert_to_tensor(checkpoint_number).numpy())
            ckpt.save_counter.assign_add(tl.constant(1, dtype="int64"))
        path = f"{self._prefix}-{number}"
        ckpt.write(path)
        now = _now()
        self._maybe = [(p, t) for p, t in self._maybe if p != path] + [(path, now)]
        self._sweep()
        self._latest = path
        _write_state(self._directory, path, [p for p, _ in self._maybe], [t for _, t in self._maybe],
                     self._preserved)
        return path

    def _sweep(self):
        if self._max_to_keep is None:
            return
        while len(self._maybe) > self._max_to_keep:
            path, t = self._maybe.pop(0)
            if self._keep_hours is not None and t - self._preserved >= self._keep_hours * 3600.0:
                self._preserved = t
                continue
            try:
                os.remove(_data_file(path))
            except FileNotFoundError:
                pass


__all__ = ["Checkpoint", "CheckpointManager", "CheckpointLoadStatus", "latest_checkpoint"]
