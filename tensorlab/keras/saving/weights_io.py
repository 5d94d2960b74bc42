"""Weight files and whole-model files.

``save_weights`` writes a numpy ``.npz`` archive (whatever the file name,
e.g. ``model.weights.h5``) holding each weight under its index plus the
weights' names and shapes. ``save_model`` writes a zip archive holding
``config.json`` (architecture and compile settings) and ``model.weights.npz``.
"""
import io
import json
import os
import zipfile

import numpy as np


def _check_overwrite(path, overwrite):
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists and overwrite=False")
    d = os.path.dirname(os.fspath(path))
    if d:
        os.makedirs(d, exist_ok=True)


def _weights_bytes(model):
    buf = io.BytesIO()
    weights = model.weights
    arrays = {f"w{i}": v.numpy() for i, v in enumerate(weights)}
    arrays["__names__"] = np.array([v.name for v in weights])
    np.savez(buf, **arrays)
    return buf.getvalue()


def save_weights(model, filepath, overwrite=True):
    filepath = os.fspath(filepath)
    _check_overwrite(filepath, overwrite)
    data = _weights_bytes(model)
    with open(filepath, "wb") as f:
        f.write(data)


def _load_from(model, source, skip_mismatch=False, what="load_weights"):
    with np.load(source, allow_pickle=False) as z:
        n = len([k for k in z.files if k.startswith("w")])
        arrays = [z[f"w{i}"] for i in range(n)]
        names = list(z["__names__"]) if "__names__" in z.files else [f"w{i}" for i in range(n)]
    weights = model.weights
    if len(weights) != len(arrays):
        raise ValueError(f'{what}: model "{model.name}" has {len(weights)} weights but the file holds '
                         f"{len(arrays)} ({names[:5]}{'...' if len(names) > 5 else ''}); the architectures differ")
    for v, a, nm in zip(weights, arrays, names):
        if tuple(v.shape) != tuple(a.shape):
            if skip_mismatch:
                continue
            raise ValueError(f"{what}: weight {v.name} of model \"{model.name}\" has shape {tuple(v.shape)}, "
                             f"but the file's weight {nm} has shape {tuple(a.shape)}")
        v.assign(a.astype(v.dtype.as_numpy_dtype, copy=False))


def load_weights(model, filepath, skip_mismatch=False):
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_weights: no such file {filepath!r}")
    if zipfile.is_zipfile(filepath) and _is_model_archive(filepath):
        with zipfile.ZipFile(filepath) as zf:
            _load_from(model, io.BytesIO(zf.read("model.weights.npz")), skip_mismatch)
        return
    if not model.built:
        raise ValueError(f'load_weights: model "{model.name}" is not built yet; call it on data or build() it '
                         "first so that its weights exist")
    _load_from(model, filepath, skip_mismatch)


def _is_model_archive(path):
    with zipfile.ZipFile(path) as zf:
        return "config.json" in zf.namelist()


def save_model(model, filepath, overwrite=True, **kwargs):
    """Saves architecture, compile settings and weights in one zip file."""
    from tensorlab.keras.saving.serialization import serialize_keras_object
    filepath = os.fspath(filepath)
    _check_overwrite(filepath, overwrite)
    config = serialize_keras_object(model)
    with zipfile.ZipFile(filepath, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("config.json", json.dumps(config, default=_default))
        zf.writestr("model.weights.npz", _weights_bytes(model))
        zf.writestr("metadata.json", json.dumps({"format": "tensorlab-keras", "version": 1}))


def _default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    return getattr(o, "name", str(o))


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with ``model.save``."""
    from tensorlab.keras.saving.serialization import deserialize_keras_object
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_model: no such file {filepath!r}")
    if not zipfile.is_zipfile(filepath) or not _is_model_archive(filepath):
        raise ValueError(f"load_model: {filepath!r} is not a model file written by model.save (weights files "
                         "from save_weights are read with model.load_weights)")
    with zipfile.ZipFile(filepath) as zf:
        config = json.loads(zf.read("config.json"))
        weights = zf.read("model.weights.npz")
    if not compile:
        config.pop("compile_config", None)
    model = deserialize_keras_object(config, custom_objects=custom_objects, module="models")
    _load_from(model, io.BytesIO(weights), what="load_model")
    return model
