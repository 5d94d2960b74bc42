"""``serialize_keras_object``/``deserialize_keras_object``: Keras objects <-> JSON-friendly dicts.

A serialized object is ``{"module": ..., "class_name": ..., "config": {...},
"registered_name": ...}``. Classes are found among the custom objects
(``register_keras_serializable``, ``custom_object_scope``, ``custom_objects=``)
and then, as in Keras 3, in the module the config names (``"keras.layers"`` is
``tl.keras.layers``; ``"builtins"`` holds built-in functions saved by name); a config
without a module is looked up in ``deserialize_keras_object``'s ``module`` first, then
in every Keras module.
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


# ----------------------------------------------------------------- where a name is looked up
# Where Keras 3 looks up the function of a ``{"module": "builtins", "class_name": "function"}`` config.
_BUILTIN_FN_MODULES = ("activations", "losses", "metrics", "initializers", "regularizers", "constraints",
                       "optimizers")
_KINDS = {"layers": "layer", "models": "model", "losses": "loss", "metrics": "metric", "optimizers": "optimizer",
          "activations": "activation", "initializers": "initializer", "regularizers": "regularizer",
          "constraints": "constraint", "optimizers.schedules": "learning rate schedule"}


def _import(name):
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and name.startswith(e.name):  # the module itself is missing, not one it imports
            return None
        raise


def _keras_sub(module, short_names=False):
    """``"keras.layers"`` / ``"tensorlab.keras.layers"`` (and ``"layers"`` if ``short_names``)
    -> ``"layers"``; ``"keras"`` -> ``""``; None for a module outside Keras."""
    for prefix in ("tensorlab.keras", "keras"):
        if module == prefix:
            return ""
        if module.startswith(prefix + "."):
            return module[len(prefix) + 1:]
    if short_names and module != "builtins" and _import(f"tensorlab.keras.{module}") is not None:
        return module
    return None


def _keras_modules(subs):
    mods = [_import(f"tensorlab.keras.{s}") for s in subs]
    return [m for m in mods if m is not None]


def _everywhere(hint):
    """All public Keras modules, ``hint`` (a sub-name such as ``"layers"``) first."""
    return _keras_modules(([hint] if hint else []) + [m for m in _MODULES if m != hint])


def _places(module, hint):
    """The modules where a config whose ``"module"`` is ``module`` finds its class.

    ``keras.X`` is ``tensorlab.keras.X`` with its public subpackages (``keras.optimizers``
    holds ``optimizers.schedules``); a Keras-internal path (``keras.src.models.functional``,
    a backend's optimizer module) means the public modules it names, else all of them.
    Nothing is imported for a module outside Keras (its classes must be registered), except
    tensorlab's own modules.
    """
    sub = _keras_sub(module)
    if sub is None:
        own = _import(module) if module.startswith("tensorlab.") else None
        return [own] if own is not None else []
    mod = _import("tensorlab.keras" + (f".{sub}" if sub else ""))
    if mod is not None and not sub.startswith("src."):
        return [mod] + (_keras_modules(m for m in _MODULES if m.startswith(sub + ".")) if sub else [])
    parts = sub.split(".")
    named = [m for m in _MODULES if m.split(".")[0] in parts]
    return _keras_modules(named) if named else _everywhere(hint)


def _custom(name, custom_objects):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return get_custom_objects().get(name)


def _attr(mods, name, functions=False):
    for mod in mods:
        obj = getattr(mod, name, None)
        if obj is not None and (not functions or (callable(obj) and not isinstance(obj, type))):
            return obj
    return None


def _find_class(name, module=None, custom_objects=None):
    """A custom object called ``name``, else that attribute of Keras module ``module`` (``"layers"``
    or ``"keras.layers"``), else of the other Keras modules; None if there is none."""
    obj = _custom(name, custom_objects)
    if obj is not None:
        return obj
    return _attr(_everywhere(_keras_sub(module, True) if module else None), name)


def _not_found(what, name, module, hint, reason):
    kind = _KINDS.get(_keras_sub(module) if module else None) or _KINDS.get(hint)
    what = f"{kind} {what}" if kind else "object class" if what == "class" else what
    where = f" (module {module!r})" if module else ""
    return ValueError(f"Unknown {what} {name!r}{where}: {reason}. Register it with "
                      f"@keras.saving.register_keras_serializable() or pass custom_objects={{'{name}': {name}}}")


def _reason(what, module, mods):
    if not module:
        return "it is not a Keras built-in and not registered"
    if not mods:
        return (f"a {what} from outside Keras is only found when it is registered" if module != "builtins"
                else "Keras keeps only functions in 'builtins'")
    names = ", ".join(m.__name__ for m in mods)
    return (f"{names} has no such {what}" if len(mods) == 1 else f"none of {names} has such a {what}") + \
        ", and it is not registered"


def _function_from(config, module, hint, custom_objects):
    """The function of Keras 3's ``{"class_name": "function", "config": name, "module": ...}``."""
    name = config.get("config")
    if not isinstance(name, str):
        raise TypeError(f"deserialize_keras_object: a 'function' config names the function in 'config'; "
                        f"got {config!r}")
    obj = _custom(name, custom_objects)
    if obj is not None:
        return obj
    if module == "builtins":  # Keras' built-in functions are saved by name only
        mods = _keras_modules(([hint] if hint in _BUILTIN_FN_MODULES else [])
                              + [m for m in _BUILTIN_FN_MODULES if m != hint])
    else:
        mods = _places(module, hint) if module else _everywhere(hint)
    obj = _attr(mods, name, functions=True)
    if obj is None and ">" not in name:  # Keras <= 3.6 saved a registered "package>name" as its name
        customs = {**get_custom_objects(), **(custom_objects or {})}
        obj = next((v for k, v in customs.items() if isinstance(k, str) and k.endswith(">" + name)), None)
    if obj is None:
        raise _not_found("function", name, module, hint, _reason("function", module, mods))
    return obj


def _class_from(config, module, hint, custom_objects):
    """The class of ``config``: a custom object (by registered name, then class name), else the
    class named in ``module`` (the config's own), else, with no module, anywhere in Keras
    (``hint``, the ``module=`` argument, first)."""
    name, reg = config["class_name"], config.get("registered_name")
    for key in ((reg, name) if reg and reg != name else (name,)):
        cls = _custom(key, custom_objects)
        if cls is not None:
            return cls
    mods = _everywhere(hint) if not module else [] if module == "builtins" else _places(module, hint)
    cls = _attr(mods, name)
    if cls is None:
        raise _not_found("class", name, module, hint, _reason("class", module, mods))
    return cls


def deserialize_keras_object(config, custom_objects=None, module=None, safe_mode=True, **kwargs):
    """Rebuilds an object from ``serialize_keras_object``'s output (or a name).

    As in Keras 3, a config's ``"module"`` says where its class is: ``"keras.layers"`` (here
    ``tl.keras.layers``), ``"keras"``, a Keras-internal path (``"keras.src.models.functional"``),
    ``"builtins"`` for a built-in function saved by name, or a user module (the class must then
    be registered). Custom objects come first. A config without a module (or a name) is looked
    up in ``module`` first, then in the other Keras modules.

    Args:
      config: a dict from ``serialize_keras_object`` (Keras 3's or tensorlab's), a class or
        function name, a list of those, or a plain value (returned as is).
      custom_objects: a dict mapping names to classes and functions.
      module: where to look for a config without its own module, as ``"layers"`` or
        ``"keras.layers"``.

    Returns:
      The object.

    Raises:
      ValueError: the class is not found; the message names the class and the module.

    Example:
      >>> cfg = {"module": "keras.metrics", "class_name": "MeanSquaredError", "config": {}}
      >>> type(keras.saving.deserialize_keras_object(cfg)).__module__
      'tensorlab.keras.metrics'
    """
    if config is None or isinstance(config, (bool, int, float)):
        return config
    builtins = module == "builtins"  # Keras' module for built-in functions saved by name
    hint = _keras_sub(module, short_names=True) if module and not builtins else None
    if module and not builtins and hint is None:
        raise ValueError(f"deserialize_keras_object: module={module!r} is not a Keras module; give one such "
                         "as 'layers' or 'keras.layers'")
    if isinstance(config, str):
        if builtins:
            return _function_from({"config": config}, "builtins", None, custom_objects)
        obj = _find_class(config, hint, custom_objects)
        if obj is None:
            mod = _import(f"tensorlab.keras.{hint}") if hint else None
            if mod is not None and hasattr(mod, "get"):
                return mod.get(config)
            raise ValueError(f"Unknown object {config!r}" + (f" in keras.{hint}" if hint else ""))
        return obj() if isinstance(obj, type) and hint in ("optimizers", "losses", "metrics") else obj
    if isinstance(config, list):
        return [deserialize_keras_object(c, custom_objects, module) for c in config]
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"deserialize_keras_object: expected a dict with 'class_name', got {config!r}")
    own = config.get("module") or ("builtins" if builtins else None)
    if config["class_name"] == "function":
        return _function_from(config, own, hint, custom_objects)
    cls = _class_from(config, own, hint, custom_objects)
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
