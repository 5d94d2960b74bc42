"""Weights in Keras 3's HDF5 layout: object paths, ``.weights.h5`` files, atomic file writes.

Each object holding variables gets a group ``<path>/vars`` with datasets
``0``, ``1``, ... in the object's variable order, at the path Keras 3's
``saving_lib`` gives it: a model's layers under ``layers/<class name in
snake_case>`` (``dense``, ``dense_1`` by position, not by layer name, so two
instances of an architecture agree), other sub-layers under their attribute
name, the optimizer under ``optimizer``. ``.keras`` archives hold the same
layout as ``model.weights.h5``.

h5py reads and writes the HDF5 container (the ``saving`` extra): HDF5's
B-trees, heaps and object headers are far more than a weights file needs to
reimplement, and Keras 3 itself depends on h5py.
"""
import io
import os
import re
import threading
import warnings

import numpy as np

_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("Saving .keras / .weights.h5 files needs h5py: pip install 'tensorlab[saving]'") from e
    return h5py


def _corrupt(path, what, err):
    import tensorlab as tl
    return tl.errors.DataLossError(None, None, f"{what}: {os.fspath(path)!r} is truncated or corrupt "
                                               f"({type(err).__name__}: {err}); nothing was loaded")


# ---------------------------------------------------------------- atomic writes
def atomic_write_bytes(path, data, overwrite=True, what="save"):
    """Writes ``data`` to ``path`` so that readers see the old file or the new one, never a mix.

    The bytes go to a temporary file in the same folder (same filesystem), are
    fsynced, and the file is renamed over ``path``; the folder is fsynced so the
    rename survives a crash.
    """
    path = os.fspath(path)
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{what}: {path!r} exists and overwrite=False")
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".{os.path.basename(path)}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    fsync_dir(folder)


def fsync_dir(folder):
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------- object paths (Keras 3 saving_lib)
def _snake(name):
    s = re.sub(r"\W+", "", name)
    s = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", s)
    s = re.sub("([a-z])([A-Z])", r"\1_\2", s)
    return s.lower()


def _unique(name, used):
    n = used.get(name, 0)
    used[name] = n + 1
    return name if n == 0 else f"{name}_{n}"


def _is_model(obj):
    from tensorlab.keras.models.functional import Functional
    from tensorlab.keras.models.sequential import Sequential
    return isinstance(obj, (Sequential, Functional))


def _is_subclassed_model(obj):
    from tensorlab.keras.models.model import Model
    return isinstance(obj, Model) and not _is_model(obj)


def variable_paths(model, include_optimizer=True):
    """``[(path, [variables])]`` for every object holding variables, in Keras 3's layout."""
    from tensorlab.keras.layers.base import Layer, _UNTRACKED
    out, seen = [], set()

    def own(layer):
        return list(layer._tracked()[1])

    def walk(obj, path):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        groups = _SUBOBJECTS.get(type(obj).__name__)
        if groups:
            # Keras keeps these variables in sub-layers; tensorlab's layer holds them itself.
            mine = own(obj)
            for prefix, sub in groups.items():
                vs = [v for v in mine if not prefix
                      or getattr(v, "_keras_attrs", {}).get("name", "").startswith(prefix + "/")]
                out.append((_join(path, sub), vs))
            return
        out.append((path, own(obj)))
        if _is_model(obj):
            container(obj.layers, _join(path, "layers"))
        attrs = {k: v for k, v in obj.__dict__.items()
                 if k not in _UNTRACKED and k not in ("_layers", "_graph_layers", "_self_setattr_tracking")}
        if _is_subclassed_model(obj):
            attrs["layers"] = obj.layers  # Keras 3 visits a model's `layers` property among its attributes
        for k in sorted(attrs, key=lambda k: "~" + k if k.startswith("_") else k):
            v = attrs[k]
            if isinstance(v, Layer):
                walk(v, _join(path, k))
            elif isinstance(v, (list, tuple)) and any(isinstance(x, Layer) for x in v):
                container(v, _join(path, k))

    def container(items, path):
        used = {}
        for x in items:
            if isinstance(x, Layer):
                walk(x, _join(path, _unique(_snake(type(x).__name__), used)))

    walk(model, "")
    opt = getattr(model, "optimizer", None)
    if include_optimizer and opt is not None and not isinstance(opt, str) and getattr(model, "compiled", False):
        out.append(("optimizer", list(opt.variables)))
    return [(p, vs) for p, vs in out if vs]


# Layers whose variables Keras 3 keeps in named sub-layers: {class: {variable-name prefix: sub-path}}.
# Keras' own sub-objects for layers whose weights tensorlab holds directly: {name prefix of the
# variables ("" for all of them): Keras attribute path}.
_SUBOBJECTS = {"MultiHeadAttention": {"query": "query_dense", "key": "key_dense", "value": "value_dense",
                                      "attention_output": "output_dense"},
               # Keras' ConvLSTM layers are RNNs over a ConvLSTMCell: kernel, recurrent_kernel, bias in `cell`
               "ConvLSTM1D": {"": "cell"}, "ConvLSTM2D": {"": "cell"}, "ConvLSTM3D": {"": "cell"}}


def _join(a, b):
    return f"{a}/{b}" if a else b


# ---------------------------------------------------------------- HDF5 weights
def _write_h5(target, entries, names):
    h5py = _h5py()
    with h5py.File(target, "w") as f:
        root = f.create_group("vars") if "" not in entries else None
        if root is not None:
            root.attrs["name"] = names.get("", "")
        for path, arrays in entries.items():
            g = f.create_group(_join(path, "vars")) if path else (root or f.create_group("vars"))
            if path in names:
                g.attrs["name"] = names[path]
            for i, a in enumerate(arrays):
                g.create_dataset(str(i), data=a)


def _read_h5(source, path_for_errors, what):
    """``{path: [arrays]}`` of every ``.../vars`` group."""
    h5py = _h5py()
    out = {}
    try:
        with h5py.File(source, "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Group) and (name == "vars" or name.endswith("/vars")):
                    keys = sorted(obj.keys(), key=lambda k: int(k) if k.isdigit() else k)
                    out[name[:-len("/vars")] if name != "vars" else ""] = [np.asarray(obj[k][()]) for k in keys]
            f.visititems(visit)
    except (OSError, KeyError, ValueError, RuntimeError) as e:
        raise _corrupt(path_for_errors, what, e) from None
    # Files from Keras 2.13 name the layer containers differently.
    return {p.replace("_layer_checkpoint_dependencies", "layers"): v for p, v in out.items()}


def _collect(model, include_optimizer=True):
    opt = getattr(model, "optimizer", None)
    if include_optimizer and getattr(model, "compiled", False) and model.built and hasattr(opt, "build"):
        # Slots exist from the first step on; creating them now gives Keras a complete optimizer.
        opt.build(model.trainable_variables)
    entries, names = {}, {}
    for path, vs in variable_paths(model, include_optimizer):
        entries[path] = [np.asarray(v.numpy()) for v in vs]
    for path, _ in entries.items():
        names[path] = path.rsplit("/", 1)[-1] if path else model.name
    names[""] = model.name
    return entries, names


def _assign_all(model, stored, filepath, what, skip_mismatch=False, include_optimizer=True):
    """Checks every stored array against the model, then assigns them all (or none)."""
    plan, problems = [], []
    targets = variable_paths(model, include_optimizer=False)
    for path, vs in targets:
        arrays = stored.get(path)
        if arrays is None:
            problems.append(f"no weights for {path!r} (layer with {len(vs)} variables)")
            continue
        if len(arrays) != len(vs):
            problems.append(f"{path!r} has {len(vs)} variables but the file holds {len(arrays)}")
            continue
        for v, a in zip(vs, arrays):
            if tuple(v.shape) != tuple(a.shape):
                problems.append(f"variable {v.name} at {path!r} has shape {tuple(v.shape)}, the file's has "
                                f"shape {tuple(a.shape)}")
            else:
                plan.append((v, a))
    if problems and not skip_mismatch:
        raise ValueError(f"{what}: the weights in {os.fspath(filepath)!r} do not match model \"{model.name}\": "
                         + "; ".join(problems[:6]) + (" ..." if len(problems) > 6 else ""))
    if problems:
        warnings.warn(f"{what}: skipped mismatched weights: " + "; ".join(problems[:6]))
    opt_plan = _optimizer_plan(model, stored, what) if include_optimizer else []
    for v, a in plan + opt_plan:
        v.assign(a.astype(v.dtype.as_numpy_dtype, copy=False))
    opt = getattr(model, "optimizer", None)
    if opt_plan and hasattr(opt, "_step"):
        opt._step = int(opt.iterations.numpy())


def _optimizer_plan(model, stored, what):
    arrays = stored.get("optimizer")
    opt = getattr(model, "optimizer", None)
    if arrays is None or opt is None or isinstance(opt, str) or not getattr(model, "compiled", False):
        return []
    if len(opt.variables) < len(arrays) and hasattr(opt, "build"):
        opt.build(model.trainable_variables)
    vs = list(opt.variables)
    if len(vs) != len(arrays) or any(tuple(v.shape) != tuple(a.shape) for v, a in zip(vs, arrays)):
        warnings.warn(f"{what}: skipping the optimizer state: optimizer '{opt.name}' has {len(vs)} variables, "
                      f"the file holds {len(arrays)} with other shapes")
        return []
    return list(zip(vs, arrays))


# ---------------------------------------------------------------- weights files
def save_weights(model, filepath, overwrite=True):
    """Writes ``model``'s weights to a ``.weights.h5`` file (Keras 3's layout), atomically."""
    filepath = os.fspath(filepath)
    if not model.built:
        raise ValueError(f'save_weights: model "{model.name}" is not built yet; call it on data first')
    entries, names = _collect(model, include_optimizer=False)
    buf = io.BytesIO()
    _write_h5(buf, entries, names)
    atomic_write_bytes(filepath, buf.getvalue(), overwrite=overwrite, what="save_weights")


def load_weights(model, filepath, skip_mismatch=False):
    """Reads a ``.weights.h5`` file (ours or Keras 3's) or the weights of a ``.keras`` file into ``model``."""
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_weights: no such file {filepath!r}")
    if not model.built:
        raise ValueError(f'load_weights: model "{model.name}" is not built yet; call it on data or build() it '
                         "first so that its weights exist")
    with open(filepath, "rb") as f:
        head = f.read(8)
    if head == _HDF5_MAGIC:
        stored = _read_h5(filepath, filepath, "load_weights")
    elif head[:2] == b"PK":
        from tensorlab.keras.saving.file_format import _read_archive
        _, _, stored = _read_archive(filepath, "load_weights")
    else:
        raise _corrupt(filepath, "load_weights", ValueError("neither an HDF5 weights file nor a .keras archive"))
    _assign_all(model, stored, filepath, "load_weights", skip_mismatch, include_optimizer=False)


