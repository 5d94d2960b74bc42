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


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a usable CUDA GPU with CuPy (skipped otherwise)")
    config.addinivalue_line("markers", "slow: slow test")
    config.addinivalue_line("markers", "mpi: needs mpiexec and mpi4py")


def pytest_collection_modifyitems(config, items):
    if GPU:
        return
    skip = pytest.mark.skip(reason="no usable CUDA GPU (CuPy, driver and a GPU are needed)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


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
