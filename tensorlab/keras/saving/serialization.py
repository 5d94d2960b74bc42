"""``serialize_keras_object``/``deserialize_keras_object``: Keras objects <-> JSON-friendly dicts.

A serialized object is ``{"module": ..., "class_name": ..., "config": {...},
"registered_name": ...}``. Classes are found among the custom objects
(``register_keras_serializable``, ``custom_object_scope``, ``custom_objects=``)
and then in the Keras module named by ``module`` (``layers``, ``losses``...).
"""
import importlib

from tensorlab.keras.saving.object_registration import get_custom_objects, get_registered_name

_MODULES = ("layers", "models", "losses", "metrics", "optimizers", "activations", "initializers",
            "regularizers", "constraints", "optimizers.schedules")


def serialize_keras_object(obj):
    """A dict describing ``obj`` (``None``, plain values and names pass through)."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict) and "class_name" not in obj:
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if hasattr(obj, "get_config"):
        cls = type(obj)
        config = obj.get_config()
        out = {"module": _module_of(cls), "class_name": cls.__dict__.get("_keras_class_name") or cls.__name__,
               "config": _plain(config),
               "registered_name": get_registered_name(cls)}
        build_cfg = getattr(obj, "_build_shapes", None)
        if build_cfg and hasattr(obj, "fit"):  # models: layers are rebuilt by their model
            out["build_config"] = build_cfg
        compile_cfg = getattr(obj, "get_compile_config", None)
        if compile_cfg is not None:
            cc = compile_cfg()
            if cc:
                out["compile_config"] = cc
        return out
    if callable(obj):
        from tensorlab.keras import activations
        if obj in activations._NAMES:
            return activations._NAMES[obj]
        return get_registered_name(obj)
    raise TypeError(f"serialize_keras_object: cannot serialize {type(obj).__name__}: {obj!r}")


def _plain(v):
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "get_config") and not isinstance(v, type):
        return serialize_keras_object(v)
    if hasattr(v, "tolist"):
        return v.tolist()
    if hasattr(v, "as_numpy_dtype"):
        return v.name
    if callable(v) and not isinstance(v, type):
        return serialize_keras_object(v)
    return v


def _module_of(cls):
    mod = cls.__module__ or ""
    if mod.startswith("tensorlab.keras."):
        return "keras." + mod[len("tensorlab.keras."):].split(".")[0]
    return mod


def _find_class(name, module, custom_objects):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    customs = get_custom_objects()
    if name in customs:
        return customs[name]
    mods = [module] if module else []
    mods += [m for m in _MODULES if m not in mods]
    for m in mods:
        try:
            mod = importlib.import_module(f"tensorlab.keras.{m}")
        except ModuleNotFoundError:
            continue
        obj = getattr(mod, name, None)
        if obj is not None:
            return obj
    return None


def deserialize_keras_object(config, custom_objects=None, module=None, safe_mode=True, **kwargs):
    """Rebuilds an object from ``serialize_keras_object``'s output (or a name)."""
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        obj = _find_class(config, module, custom_objects)
        if obj is None:
            if module:
                mod = importlib.import_module(f"tensorlab.keras.{module}")
                if hasattr(mod, "get"):
                    return mod.get(config)
            raise ValueError(f"Unknown object {config!r}" + (f" in keras.{module}" if module else ""))
        return obj() if isinstance(obj, type) and module in ("optimizers", "losses", "metrics") else obj
    if isinstance(config, list):
        return [deserialize_keras_object(c, custom_objects, module) for c in config]
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize_keras_object: expected a dict with 'class_name', got {config!r}")
    name = config["class_name"]
    reg = config.get("registered_name")
    cls = None
    if reg and reg != name:
        cls = _find_class(reg, module, custom_objects)
    if cls is None:
        cls = _find_class(name, module, custom_objects)
    if cls is None:
        where = f"keras.{module}" if module else "keras"
        raise ValueError(f"Unknown {module[:-1] if module else 'object'} class {name!r}: it is not in {where} and "
                         "not registered. Register it with @keras.saving.register_keras_serializable() or pass "
                         f"custom_objects={{'{name}': {name}}}")
    inner = config.get("config", {})
    if hasattr(cls, "from_config"):
        try:
            obj = cls.from_config(inner, custom_objects=custom_objects) if _takes_custom(cls) else \
                cls.from_config(inner)
        except TypeError:
            raise
    else:
        obj = cls(**inner)
    build_cfg = config.get("build_config")
    if build_cfg and hasattr(obj, "fit") and not getattr(obj, "built", True) and \
            build_cfg.get("input_shape") is not None:
        obj.build(tuple(build_cfg["input_shape"]))
    if config.get("compile_config") and hasattr(obj, "compile_from_config"):
        obj.compile_from_config(config["compile_config"])
    return obj


def _takes_custom(cls):
    import inspect
    try:
        return "custom_objects" in inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        return False
