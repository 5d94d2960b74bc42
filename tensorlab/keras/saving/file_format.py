"""The ``.keras`` model file and ``.weights.h5`` weights file, in Keras 3's layout.

A ``.keras`` file is a zip archive holding:

- ``config.json``: the model's ``serialize_keras_object`` dict (architecture,
  ``compile_config``), in Keras 3's JSON shapes;
- ``metadata.json``: ``keras_version`` (the Keras file format this follows),
  ``date_saved`` and ``saved_by``;
- ``model.weights.h5``: HDF5 with one group per object holding variables,
  at the path Keras 3's ``saving_lib`` gives it (``layers/dense/vars/0``,
  ``layers/lstm/cell/vars/1``, ``optimizer/vars/3``).

The weights layout, ``.weights.h5`` files and atomic writes live in
``h5_weights.py``; this module adds the archive and the config translation,
so files round-trip with real Keras 3.

Loading never unpickles and never runs code from the file: classes are looked
up by name among tensorlab's Keras objects and the registered custom objects.
Every array is read and checked before any variable is assigned, so a corrupt
or mismatched file leaves the model untouched.
"""
import datetime
import io
import json
import os
import zipfile

from tensorlab.keras.saving.h5_weights import (_assign_all, _collect, _corrupt, _read_h5, _write_h5,
                                                 atomic_write_bytes, load_weights, save_weights,
                                                 variable_paths)

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_config", "archive_bytes",
           "atomic_write_bytes", "variable_paths"]

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
# The Keras file-format version whose layout these files follow (read by Keras' loader).
KERAS_FORMAT_VERSION = "3.6.0"


# ---------------------------------------------------------------- config translation
def _to_keras3(obj):
    """tensorlab's configs follow Keras 3's; fill in the fields Keras 3 writes and expects."""
    if isinstance(obj, list):
        return [_to_keras3(x) for x in obj]
    if not isinstance(obj, dict):
        return obj
    out = {k: _to_keras3(v) for k, v in obj.items()}
    if "class_name" in out and isinstance(out.get("config"), dict) and out["class_name"] != "__keras_tensor__":
        mod = out.get("module")
        if mod is None:
            out["module"] = _guess_module(out["class_name"])
        elif mod == "keras.models":
            # where Keras 3 finds these classes on load
            out["module"] = "keras.src.models.functional" if out["class_name"] == "Functional" else "keras"
        if out.get("registered_name") == out["class_name"] and str(out.get("module", "")).startswith("keras"):
            out["registered_name"] = None
        out.setdefault("registered_name", None)
    return out


def _guess_module(class_name):
    from tensorlab.keras import constraints, initializers, layers, regularizers
    for mod, m in (("keras.layers", layers), ("keras.initializers", initializers),
                   ("keras.regularizers", regularizers), ("keras.constraints", constraints)):
        if isinstance(getattr(m, class_name, None), type):
            return mod
    return "keras"


# Keras 3 options without a tensorlab counterpart, ignorable at these values.
_IGNORABLE = {"renorm_momentum": None, "renorm_clipping": None, "shared_object_id": None,
              "quantization_config": None, "lora_rank": None, "lora_alpha": None, "optional": None,
              "ragged": None}


def _from_keras3(obj, custom_objects=None):
    """Adapts a Keras 3 config tree to tensorlab's classes (dtype policies, Keras-only defaults)."""
    if isinstance(obj, list):
        return [_from_keras3(x, custom_objects) for x in obj]
    if not isinstance(obj, dict):
        return obj
    if obj.get("class_name") in ("DTypePolicy", "FloatDTypePolicy") and isinstance(obj.get("config"), dict):
        return obj["config"].get("name", "float32")
    out = {k: _from_keras3(v, custom_objects) for k, v in obj.items() if k != "shared_object_id"}
    if isinstance(out.get("inbound_nodes"), list):
        # Keras 3 records call arguments left at None (mask=None); they are the defaults.
        for node in out["inbound_nodes"]:
            if isinstance(node, dict) and isinstance(node.get("kwargs"), dict):
                node["kwargs"] = {k: v for k, v in node["kwargs"].items() if v is not None}
    cfg = out.get("config")
    if "class_name" in out and isinstance(cfg, dict):
        out["config"] = _drop_unsupported(out["class_name"], out.get("registered_name"), cfg, custom_objects)
    return out


def _drop_unsupported(class_name, registered, cfg, custom_objects):
    from tensorlab.keras.saving.serialization import _find_class
    cls = _find_class(registered or class_name, None, custom_objects) or _find_class(class_name, None,
                                                                                      custom_objects)
    from tensorlab.keras import initializers
    from tensorlab.keras.layers.base import Layer
    from tensorlab.keras.models.model import Model
    if not isinstance(cls, type) or issubclass(cls, Model) or not (
            issubclass(cls, Layer) or issubclass(cls, initializers.Initializer)):
        return cfg  # models rebuild their layers in from_config; Keras 3 adds options to layers only
    accepted = _init_params(cls)
    if accepted is None:
        return cfg
    cell = getattr(cls, "cell_class", None)
    if isinstance(cell, type):  # RNN layers pass the cell's arguments through
        accepted |= _init_params(cell) or set()
    kept = {}
    for k, v in cfg.items():
        if k in accepted:
            kept[k] = v
        elif not v or k in _IGNORABLE:
            continue  # None/False/0/empty: the Keras-only option is off
        else:
            raise ValueError(f"load_model: {class_name} option {k}={v!r} from the Keras file is not supported "
                             "by tensorlab")
    return kept


def _init_params(cls):
    """The keyword arguments ``cls(...)`` accepts, following ``**kwargs`` up the class chain."""
    import inspect

    from tensorlab.keras.layers import base
    accepted = set()
    for klass in cls.__mro__:
        if klass is base.Layer:  # its **kwargs are checked against a fixed list
            return accepted | {"trainable", "name", "dtype", "activity_regularizer"} | set(base._BASE_KWARGS)
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            params = inspect.signature(init).parameters
        except (TypeError, ValueError):
            return None
        accepted |= {n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)}
        accepted |= set(getattr(klass, "_rnn_args", ())) | set(getattr(klass, "_base_args", ()))
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            return accepted
    return None  # **kwargs all the way up: the accepted names are unknown


def _json_default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "as_numpy_dtype"):
        return o.name
    raise TypeError(f"save_model: cannot write {type(o).__name__} {o!r} to config.json")


# ---------------------------------------------------------------- .keras archives
def model_config(model):
    """The model's ``config.json`` dict as written into ``.keras`` files."""
    from tensorlab.keras.saving.serialization import serialize_keras_object
    config = _to_keras3(json.loads(json.dumps(serialize_keras_object(model), default=_json_default)))
    shape = getattr(model, "_build_input_shape", None)
    if shape is not None and "build_config" not in config:
        config["build_config"] = {"input_shape": json.loads(json.dumps(shape, default=_json_default))}
    return config


def archive_bytes(model, include_optimizer=True):
    """The bytes of a ``.keras`` file for ``model``."""
    import tensorlab
    config = model_config(model)
    meta = {"keras_version": KERAS_FORMAT_VERSION, "saved_by": f"tensorlab {tensorlab.__version__}",
            "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    entries, names = _collect(model, include_optimizer)
    h5 = io.BytesIO()
    _write_h5(h5, entries, names)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(METADATA, json.dumps(meta))
        zf.writestr(CONFIG, json.dumps(config))
        zf.writestr(WEIGHTS, h5.getvalue())
    return buf.getvalue()


def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs):
    """Saves ``model`` (architecture, weights, optimizer state, compile settings) to a ``.keras`` file.

    The file is written to a temporary file in the same folder and renamed, so
    a crash mid-save leaves any previous file intact.

    Args:
      model: a built Sequential or Functional model (or a registered subclass with ``get_config``).
      filepath: path ending in ``.keras``.
      overwrite: replace an existing file.
      include_optimizer: also store the optimizer's variables.

    Example:
      >>> model.save("model.keras")
      >>> restored = tl.keras.models.load_model("model.keras")
    """
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(f"save_model: the file name must end in .keras, got {filepath!r} (use "
                         "model.save_weights for .weights.h5 files)")
    atomic_write_bytes(filepath, archive_bytes(model, include_optimizer), overwrite=overwrite, what="save_model")


def _read_archive(filepath, what):
    try:
        with zipfile.ZipFile(filepath) as zf:
            names = set(zf.namelist())
            missing = [n for n in (CONFIG, WEIGHTS) if n not in names]
            if missing:
                raise KeyError(f"the archive lacks {missing}")
            config = json.loads(zf.read(CONFIG))
            meta = json.loads(zf.read(METADATA)) if METADATA in names else {}
            weights = zf.read(WEIGHTS)  # zipfile checks each member's CRC-32 here
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as e:
        raise _corrupt(filepath, what, e) from None
    return config, meta, _read_h5(io.BytesIO(weights), filepath, what)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model from a ``.keras`` file written by ``model.save`` or by Keras 3.

    Args:
      filepath: the ``.keras`` file.
      custom_objects: ``{name: class_or_function}`` for user classes not registered with
        ``register_keras_serializable``.
      compile: restore the compile settings and optimizer state.
      safe_mode: refuse ``Lambda`` layers holding Python bytecode (tensorlab never executes code from a file).

    Returns:
      The model, predicting as the saved one did.

    Raises:
      tl.errors.DataLossError: the file is truncated or corrupt (nothing is loaded).
    """
    from tensorlab.keras.saving.object_registration import CustomObjectScope
    from tensorlab.keras.saving.serialization import deserialize_keras_object
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"load_model: no such file {filepath!r}")
    if not zipfile.is_zipfile(filepath):
        raise _corrupt(filepath, "load_model", ValueError("not a zip archive (.keras file)"))
    config, _meta, stored = _read_archive(filepath, "load_model")
    _check_safe(config, safe_mode)
    with CustomObjectScope(custom_objects or {}):
        config = _from_keras3(config, custom_objects)
        if not compile:
            config.pop("compile_config", None)
        compile_config = config.pop("compile_config", None)
        model = deserialize_keras_object(config, custom_objects=custom_objects, module="models")
        if compile_config:
            _compile_from(model, compile_config)
    _build_from(model, config)
    _assign_all(model, stored, filepath, "load_model", include_optimizer=bool(compile))
    return model


def _compile_from(model, cc):
    cc = dict(cc)
    opt = cc.get("optimizer")
    if isinstance(opt, dict):
        opt = dict(opt)
        opt["module"] = "keras.optimizers"  # Keras names a backend-specific module here
        cfg = dict(opt.get("config", {}))
        for k in ("use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                  "gradient_accumulation_steps"):
            if not cfg.get("use_ema" if k == "ema_momentum" else k):
                cfg.pop(k, None)
        opt["config"] = cfg
        cc["optimizer"] = opt
    model.compile_from_config({k: cc.get(k) for k in ("optimizer", "loss", "metrics", "loss_weights",
                                                        "weighted_metrics")})


def _build_from(model, config):
    if model.built:
        return
    shape = (config.get("build_config") or {}).get("input_shape")
    if shape is None:
        shape = (config.get("config") or {}).get("build_input_shape")
    if shape is not None:
        model.build(shape if not isinstance(shape, list) or not shape or not isinstance(shape[0], list)
                    else [tuple(s) for s in shape])


def _check_safe(config, safe_mode):
    def walk(o):
        if isinstance(o, dict):
            if o.get("class_name") == "Lambda" and isinstance((o.get("config") or {}).get("function"), dict) \
                    and (o["config"]["function"].get("class_name") == "__lambda__"):
                if safe_mode:
                    raise ValueError("load_model: the file holds a Lambda layer with Python bytecode; tensorlab "
                                     "never runs code from a file (register the function and pass "
                                     "custom_objects instead)")
            for v in o.values():
                walk(v)
        elif isinstance(o, list):
            for v in o:
                walk(v)
    walk(config)
