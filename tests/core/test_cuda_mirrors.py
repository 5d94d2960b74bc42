"""The CPU implementations the CUDA backend mirrors onto CuPy (backend/cuda/_mirror.py) can run
there: checked without a GPU, from their source.

A mirror rebinds ``np`` to CuPy in a copy of the CPU module's functions. Two things escape it:
a ``np.<name>`` CuPy does not have, and a helper imported from another module (a host-only
function that a CuPy array would reach on the GPU). Both are found here.
"""
import ast
import importlib
import inspect
import re
import types
from pathlib import Path

import numpy as np
import pytest

cupy = pytest.importorskip("cupy", reason="CuPy is not installed; the mirrors are checked where it is")

BACKEND = Path(__file__).resolve().parents[2] / "tensorlab" / "backend"

#: (module, name) -> why it is fine
ALLOWED = {
    ("*", "np.errstate"): "the mirror's np turns errstate into a no-op context",
    ("elementwise", "np.frompyfunc"): "builds the host erf fallback; erf has its own CUDA implementation",
    ("elementwise", "_erf"): "scipy's erf on the host; erf has its own CUDA implementation",
    ("elementwise", "_erf_py"): "math.erf on the host; erf has its own CUDA implementation",
}


def mirrored_modules():
    names = set()
    for p in (BACKEND / "cuda").glob("*.py"):
        names.update(re.findall(r"from tensorlab\.backend\.cpu import (\w+) as _cpu", p.read_text()))
    return sorted(names)


def _np_chains(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):  # np.a.b also yields np.a: a prefix CuPy has as well
            chain, n = [], node
            while isinstance(n, ast.Attribute):
                chain.append(n.attr)
                n = n.value
            if isinstance(n, ast.Name) and n.id == "np":
                yield chain[::-1]


def _allowed(module, name):
    return ("*", name) in ALLOWED or (module, name) in ALLOWED


@pytest.mark.parametrize("module", mirrored_modules())
def test_numpy_names_exist_in_cupy(module):
    mod = importlib.import_module(f"tensorlab.backend.cpu.{module}")
    missing = set()
    for chain in _np_chains(ast.parse(inspect.getsource(mod))):
        obj = cupy
        for i, attr in enumerate(chain):
            if not hasattr(obj, attr):
                name = "np." + ".".join(chain[:i + 1])
                if not _allowed(module, name):
                    missing.add(name)
                break
            obj = getattr(obj, attr)
    assert not missing, f"backend/cpu/{module}.py uses {sorted(missing)}, which CuPy lacks: its CUDA mirror would fail"


def _foreign(value, module_name):
    """A callable from outside numpy and this module that a mirror would not rebind."""
    if isinstance(value, (type, types.ModuleType)) or not callable(value):
        return False
    if isinstance(value, np.ufunc):
        return getattr(np, value.__name__, None) is not value
    owner = getattr(value, "__module__", None) or ""
    return not (owner == module_name or owner.startswith(("numpy", "tensorlab.core", "tensorlab.ops",
                                                          "tensorlab.errors", "builtins")))


@pytest.mark.parametrize("module", mirrored_modules())
def test_no_host_only_helpers_from_other_modules(module):
    mod = importlib.import_module(f"tensorlab.backend.cpu.{module}")
    found = set()
    for fn in vars(mod).values():
        if isinstance(fn, types.FunctionType) and fn.__module__ == mod.__name__:
            for name in fn.__code__.co_names:
                if name in vars(mod) and _foreign(vars(mod)[name], mod.__name__) and not _allowed(module, name):
                    found.add(name)
    assert not found, (f"backend/cpu/{module}.py calls {sorted(found)} from other modules: a CUDA mirror keeps "
                       "them as they are and would hand them CuPy arrays")
