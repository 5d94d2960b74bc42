"""Builds TF-style sub-namespaces (tl.math, tl.nn, tl.linalg, ...) from the op families.

Each ``tensorlab/ops/<family>.py`` lists the names it contributes to a
namespace in a module-level list (``MATH``, ``NN``, ``LINALG``, ``RANDOM``,
``IMAGE``, ``SIGNAL``, ``DEBUGGING``); adding an op therefore never touches this file.
"""
import types

from tensorlab import ops as _ops


def build(attr, module_name, doc):
    ns = types.ModuleType(module_name, doc)
    for fam in _ops.FAMILIES:
        import importlib
        try:
            mod = importlib.import_module(f"tensorlab.ops.{fam}")
        except ModuleNotFoundError:
            continue
        for name in getattr(mod, attr, ()):
            setattr(ns, name, getattr(mod, name))
    return ns
