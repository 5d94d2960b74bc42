"""CuPy fallbacks made from the CPU implementations.

CuPy mirrors numpy's API, so a CPU implementation written against ``np``
computes the same thing on a GPU when ``np`` means CuPy. ``mirror(module)``
re-creates every function of a ``backend/cpu`` module with ``np`` bound to
CuPy (helpers in the module and numpy callables captured in closures too)
and registers each primitive implementation as its CUDA implementation,
marked in the registry as a CuPy fallback. Implementations registered
explicitly for "cuda" (our kernels) are never replaced.
"""
import contextlib
import types

import cupy as cp
import numpy as _np

from tensorlab.core.registry import REGISTRY

REASON = "CuPy built-ins (CPU implementation mirrored onto CuPy)"


class _CupyAsNumpy(types.ModuleType):
    """``np`` for mirrored code: CuPy's functions under numpy's names."""

    def __getattr__(self, name):
        if name == "errstate":
            return lambda **kw: contextlib.nullcontext()
        return getattr(cp, name)


NP = _CupyAsNumpy("numpy_on_cupy")


def _map_value(v):
    mod = getattr(v, "__module__", None) or ""
    if mod.startswith("numpy") and callable(v) and hasattr(cp, getattr(v, "__name__", "")):
        return getattr(cp, v.__name__)
    if v is _np:
        return NP
    return v


def _rebind_module(module):
    g = dict(module.__dict__)
    g["np"] = NP
    funcs = {}
    for name, v in list(g.items()):
        if isinstance(v, types.FunctionType) and v.__module__ == module.__name__:
            funcs[name] = v
    for name, v in funcs.items():
        g[name] = _copy_fn(v, g)
    return g


def _copy_fn(fn, g):
    closure = None
    if fn.__closure__:
        closure = tuple(types.CellType(_map_value(c.cell_contents)) for c in fn.__closure__)
    new = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, closure)
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__doc__ = fn.__doc__
    return new


def cupy_versions(cpu_module):
    """The CuPy versions of every function in ``cpu_module``, by name.

    Kernel-backed implementations use these for the cases their kernels do
    not cover (other dtypes, layouts or axes).
    """
    g = _rebind_module(cpu_module)
    return {name: v for name, v in g.items()
            if isinstance(v, types.FunctionType) and v.__module__ == cpu_module.__name__}


def mirror(cpu_module, skip=()):
    """Registers CuPy versions of ``cpu_module``'s implementations as CUDA fallbacks.

    Args:
      cpu_module: a ``tensorlab.backend.cpu.<family>`` module.
      skip: primitive names not to mirror (they need a hand-written CUDA impl).
    """
    g = _rebind_module(cpu_module)
    for prim in REGISTRY.values():
        fn = prim.impls.get("cpu")
        if fn is None or "cuda" in prim.impls or prim.name in skip:
            continue
        if isinstance(fn, types.FunctionType):
            if fn.__module__ != cpu_module.__name__:
                continue
            new = _copy_fn(fn, g)
        elif getattr(fn, "__module__", "") == "numpy" or type(fn).__name__ == "ufunc":
            # A bare numpy ufunc registered by a CPU module of this family.
            if _owner(prim) != cpu_module.__name__.rsplit(".", 1)[-1]:
                continue
            new = getattr(cp, fn.__name__)
        else:
            continue
        prim.impls["cuda"] = new
        prim.fallbacks["cuda"] = REASON


def _owner(prim):
    """The ops family module that defined ``prim`` (by looking up its variable)."""
    import sys
    for name, mod in list(sys.modules.items()):
        if name.startswith("tensorlab.ops.") and any(v is prim for v in vars(mod).values()):
            return name.rsplit(".", 1)[-1]
    return None
