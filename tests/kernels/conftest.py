"""Kernel tests: makes the host emulator importable as `tl_emu` (from tl_emu import build, launch)
and provides `emulated_gpu`, under which the CUDA backend runs on it (`tl_emu_device`)."""
import sys
from pathlib import Path

import pytest

_REPO = Path(__file__).resolve().parents[2]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

from tests.kernels.emu.loader import emulated_device_or_skip, load  # noqa: E402

load()


@pytest.fixture
def emulated_gpu(monkeypatch):
    """The CUDA backend's implementations run on the host emulator (see emu/emulated_device.py)."""
    return emulated_device_or_skip().install(monkeypatch)


@pytest.fixture
def emulated_gpu_device(monkeypatch):
    """All of tensorlab sees one GPU, GPU:0, which is the host emulator (emu/emulated_device.py)."""
    return emulated_device_or_skip().install_device(monkeypatch)


@pytest.fixture
def emulated_gpus_with_nccl(monkeypatch):
    """Two emulated GPUs and a checked stand-in for NCCL (emu/emulated_device.py: FakeNccl)."""
    return emulated_device_or_skip().install_device(monkeypatch, gpus=2, nccl=True)
