"""pytest setup: markers, GPU detection, fresh random seeds, a device fixture."""
import os

import numpy as np
import pytest


def _gpu_usable():
    try:
        from tensorlab.core import device
        return device.gpu_count() > 0
    except Exception:
        return False


GPU = _gpu_usable()


def pytest_addoption(parser):
    parser.addoption("--emulated-gpu", action="store_true",
                     help="run gpu-marked tests on an emulated GPU:0 (our kernels on the host emulator, numpy "
                          "standing in for CuPy; tests/kernels/emu/emulated_device.py) instead of skipping them")


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a usable CUDA GPU with CuPy (skipped otherwise)")
    config.addinivalue_line("markers", "slow: slow test")
    config.addinivalue_line("markers", "mpi: needs mpiexec and mpi4py")
    config.addinivalue_line("markers", "real_gpu: a gpu test the emulated GPU cannot stand in for (CuPy's memory "
                                       "pool, DLPack, other processes); skipped with --emulated-gpu")


def pytest_collection_modifyitems(config, items):
    if GPU:
        return
    if config.getoption("--emulated-gpu"):
        skip = pytest.mark.skip(reason="needs a real GPU: the emulated one has no CuPy memory pool, DLPack "
                                       "or GPU for other processes")
        for item in items:
            if "real_gpu" in item.keywords:
                item.add_marker(skip)
        return
    skip = pytest.mark.skip(reason="no usable CUDA GPU (CuPy, driver and a GPU are needed)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _emulated_gpu_for_gpu_tests(request):
    """With --emulated-gpu, each gpu-marked test runs with an emulated GPU:0."""
    if GPU or "gpu" not in request.keywords or not request.config.getoption("--emulated-gpu"):
        yield
        return
    from tests.kernels.emu.loader import emulated_device_or_skip

    device = emulated_device_or_skip()
    mp = pytest.MonkeyPatch()
    device.install_device(mp)
    try:
        yield
    finally:
        mp.undo()


@pytest.fixture
def rng(request):
    """A numpy Generator with a fresh seed per test (printed on failure)."""
    seed = int.from_bytes(os.urandom(4), "little")
    request.node.user_properties.append(("seed", seed))
    return np.random.default_rng(seed)


DEVICES = ["cpu"] + (["gpu:0"] if GPU else [])


@pytest.fixture(params=DEVICES)
def device_name(request):
    return request.param
