"""Fixtures for tl.distribute tests: the CPU split into logical devices."""
import pytest

from tensorlab.core import device as _device


@pytest.fixture
def cpus():
    """A function splitting the CPU into ``n`` logical devices (restored afterwards)."""
    old = _device.logical_cpu_count()

    def split(n):
        import tensorlab as tl
        cpu = tl.config.list_physical_devices("CPU")[0]
        tl.config.set_logical_device_configuration(cpu, [tl.config.LogicalDeviceConfiguration()] * n)
        return [f"/CPU:{i}" for i in range(n)]
    yield split
    _device.set_logical_cpu_count(old)
