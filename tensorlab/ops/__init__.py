"""All ops, by family. Each module defines primitives (name, shape rule,
gradient rule) and the public TF-named functions built on them; its
``__all__`` is what ``tensorlab`` exports at the top level."""
import importlib

FAMILIES = ["elementwise", "reduction", "linalg", "shape", "indexing", "creation", "random_ops",
            "nn", "conv", "pooling", "losses", "control_flow", "gradient_ops"]

__all__ = []
for _fam in FAMILIES:
    try:
        _mod = importlib.import_module(f"tensorlab.ops.{_fam}")
    except ModuleNotFoundError as _e:  # a family not written yet
        if _e.name != f"tensorlab.ops.{_fam}":
            raise
        continue
    for _name in getattr(_mod, "__all__", ()):
        globals()[_name] = getattr(_mod, _name)
        __all__.append(_name)
