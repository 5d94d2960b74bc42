"""Launchers for the handwritten CUDA kernels in `cuda_kernels/*.cu`.

One launcher module per `.cu` file (same stem). Each module:
  * picks a kernel variant and launch shape in pure Python (unit-testable without a GPU);
  * launches through `_module.get_kernel(stem, name)` (CuPy imported lazily);
  * declares `HOT_KERNELS = [...]` (kernels that must not spill registers; checked by
    tests/kernels/test_nvcc_compile.py) and `EMU_EXEMPT = {kernel_name: reason}` (kernels the
    host emulator cannot run, e.g. inline PTX / tensor cores).
"""
from __future__ import annotations

import importlib

from ._module import get_kernel, kernels_dir  # noqa: F401

#: launcher modules, by `.cu` stem
LAUNCHER_MODULES = ("reduce", "rowwise", "fused", "matmul", "conv", "pool")


def launcher_modules():
    """Imports and returns the launcher modules that exist (a missing module is skipped)."""
    mods = []
    for name in LAUNCHER_MODULES:
        full = f"{__name__}.{name}"
        try:
            mods.append(importlib.import_module(full))
        except ModuleNotFoundError as e:
            if e.name != full:
                raise
    return mods


def hot_kernels() -> set:
    """Union of every launcher module's HOT_KERNELS."""
    return {k for m in launcher_modules() for k in getattr(m, "HOT_KERNELS", ())}


def emu_exempt() -> dict:
    """Union of every launcher module's EMU_EXEMPT."""
    out: dict = {}
    for m in launcher_modules():
        out.update(getattr(m, "EMU_EXEMPT", {}))
    return out
