"""Resolving Keras string/dict identifiers (``"relu"``, ``{"class_name": ...}``) to objects."""


def lookup(kind, identifier, table, custom=None):
    """``table[identifier]`` or a ValueError naming ``kind`` and the valid choices."""
    from tensorlab.keras.saving.object_registration import get_custom_objects
    key = identifier
    if key in table:
        return table[key]
    customs = get_custom_objects()
    if custom and key in custom:
        return custom[key]
    if key in customs:
        return customs[key]
    low = key.lower() if isinstance(key, str) else key
    if low in table:
        return table[low]
    valid = sorted(k for k in table if isinstance(k, str))
    raise ValueError(f"Unknown {kind}: {identifier!r}. Valid {kind}s: {', '.join(valid)}"
                     + (" (or a custom object registered with keras.saving.register_keras_serializable)"))


def from_dict(kind, identifier, table):
    """Builds an object from ``{"class_name": ..., "config": {...}}``."""
    cls = lookup(kind, identifier.get("class_name"), table)
    cfg = identifier.get("config") or {}
    if hasattr(cls, "from_config"):
        return cls.from_config(cfg)
    return cls(**cfg) if isinstance(cls, type) else cls


def serialize(obj):
    if obj is None:
        return None
    if hasattr(obj, "get_config"):
        from tensorlab.keras.saving.object_registration import get_registered_name
        return {"class_name": get_registered_name(type(obj)), "config": obj.get_config()}
    return getattr(obj, "__name__", str(obj))
