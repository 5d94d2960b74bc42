"""Custom-object registration: ``register_keras_serializable``, ``custom_object_scope``."""
import threading

_GLOBAL = {}
_NAMES = {}


class _Scope(threading.local):
    def __init__(self):
        self.stack = []


_scope = _Scope()


def get_custom_objects():
    """The global dict of custom objects (name -> class/function), plus any active scopes."""
    if not _scope.stack:
        return _GLOBAL
    merged = dict(_GLOBAL)
    for d in _scope.stack:
        merged.update(d)
    return merged


def register_keras_serializable(package="Custom", name=None):
    """Decorator registering a class or function under ``"package>name"`` (and ``name``).

    Example:
      >>> @keras.saving.register_keras_serializable(package="my")
      ... class MyLayer(keras.layers.Layer): ...
    """
    def deco(obj):
        n = name or getattr(obj, "__name__", None)
        if n is None:
            raise ValueError("register_keras_serializable: cannot infer a name; pass name=")
        key = f"{package}>{n}"
        if isinstance(obj, type) and not hasattr(obj, "get_config"):
            raise ValueError(f"register_keras_serializable: class {obj.__name__} must define get_config()")
        _GLOBAL[key] = obj
        _GLOBAL.setdefault(n, obj)
        _NAMES[obj] = key
        return obj
    return deco


def get_registered_name(obj):
    """The name ``obj`` is registered under, or its ``__name__``."""
    if obj in _NAMES:
        return _NAMES[obj]
    # A class may be known to Keras under another exported name (GroupedQueryAttention is
    # keras.layers.GroupQueryAttention); only the class itself, not user subclasses.
    return getattr(obj, "__dict__", {}).get("_keras_class_name") or getattr(obj, "__name__", str(obj))


def get_registered_object(name, custom_objects=None, module_objects=None):
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    objs = get_custom_objects()
    if name in objs:
        return objs[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


class CustomObjectScope:
    """``with custom_object_scope({"MyLayer": MyLayer}):`` makes the objects known to deserialization."""

    def __init__(self, *custom_objects):
        self._objs = {}
        for d in custom_objects:
            self._objs.update(d or {})

    def __enter__(self):
        _scope.stack.append(self._objs)
        return self

    def __exit__(self, *exc):
        _scope.stack.pop()
        return False


custom_object_scope = CustomObjectScope
