"""Backends: one folder per device kind (``cpu`` with numpy, ``cuda`` with CuPy).

Each backend package imports all of its modules on first use, and each
module attaches implementations to primitives with ``@impl(prim, kind)``.
"""
import importlib
import pkgutil


def import_all(package_name, package_path):
    """Imports every module of a backend package so its ``@impl`` decorators run."""
    for info in pkgutil.iter_modules(package_path):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package_name}.{info.name}")
