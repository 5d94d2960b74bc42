"""Kernel tests: makes the host emulator importable as `tl_emu` (from tl_emu import build, launch)
and provides `emulated_gpu`, under which the CUDA backend runs on it (`tl_emu_device`)."""
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parents[1]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))


def _load(name, path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)
    return sys.modules[name]


_load("tl_emu", _HERE / "emu" / "build.py")
_load("tl_emu_device", _HERE / "emu" / "emulated_device.py")


def _emulated_device():
    """A new EmulatedDevice, or a skip where the emulator or CuPy (for the backend's imports) is missing."""
    if shutil.which(sys.modules["tl_emu"].CXX) is None:
        pytest.skip("the host emulator needs a C++20 compiler")
    pytest.importorskip("cupy", reason="the CUDA backend needs CuPy importable (a GPU is not needed)")
    return sys.modules["tl_emu_device"].EmulatedDevice()


@pytest.fixture
def emulated_gpu(monkeypatch):
    """The CUDA backend's implementations run on the host emulator (see emu/emulated_device.py)."""
    return _emulated_device().install(monkeypatch)


@pytest.fixture
def emulated_gpu_device(monkeypatch):
    """All of tensorlab sees one GPU, GPU:0, which is the host emulator (emu/emulated_device.py)."""
    return _emulated_device().install_device(monkeypatch)


@pytest.fixture
def emulated_gpus_with_nccl(monkeypatch):
    """Two emulated GPUs and a checked stand-in for NCCL (emu/emulated_device.py: FakeNccl)."""
    return _emulated_device().install_device(monkeypatch, gpus=2, nccl=True)
