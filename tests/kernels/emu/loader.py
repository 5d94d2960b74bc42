"""Registers the host emulator's modules under the names they use for each other.

`build.py` is imported as `tl_emu` and `emulated_device.py` as `tl_emu_device` (the latter
imports the former by that name). The kernel tests' conftest, the root conftest's
`--emulated-gpu` and `run_on_emulated_gpus.py` all load them through here.
"""
import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def load():
    """Imports (once) and returns the `tl_emu` and `tl_emu_device` modules."""
    for name, path in (("tl_emu", HERE / "build.py"), ("tl_emu_device", HERE / "emulated_device.py")):
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, path)
            sys.modules[name] = module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
    return sys.modules["tl_emu"], sys.modules["tl_emu_device"]


def emulated_device_or_skip():
    """A new EmulatedDevice, or a pytest skip where the emulator's C++ compiler or CuPy (which the
    CUDA backend's modules import, though no GPU is needed) is missing."""
    import shutil

    import pytest

    tl_emu, device = load()
    if shutil.which(tl_emu.CXX) is None:
        pytest.skip(f"the host emulator needs a C++20 compiler ({tl_emu.CXX} not found)")
    pytest.importorskip("cupy", reason="the CUDA backend needs CuPy importable (a GPU is not needed)")
    return device.EmulatedDevice()
