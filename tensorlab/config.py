"""``tl.config``: devices this process can use, and execution switches, like ``tf.config``."""
import types

from tensorlab.core import device as _device


class PhysicalDevice:
    """A device this process can see (``tl.config.list_physical_devices``)."""

    def __init__(self, name, device_type):
        self.name = name
        self.device_type = device_type

    def __repr__(self):
        return f"PhysicalDevice(name='{self.name}', device_type='{self.device_type}')"

    def __eq__(self, other):
        return isinstance(other, PhysicalDevice) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


class LogicalDeviceConfiguration:
    """Configuration of one logical device (``memory_limit`` in MB for GPUs)."""

    def __init__(self, memory_limit=None, experimental_priority=None, experimental_device_ordinal=None):
        self.memory_limit = memory_limit


class LogicalDevice:
    def __init__(self, name, device_type):
        self.name = name
        self.device_type = device_type

    def __repr__(self):
        return f"LogicalDevice(name='{self.name}', device_type='{self.device_type}')"


def list_physical_devices(device_type=None):
    """Physical devices of ``device_type`` ("CPU" or "GPU", case-insensitive), or all."""
    out = []
    want = None if device_type is None else str(device_type).upper()
    if want in (None, "CPU"):
        out.append(PhysicalDevice("/physical_device:CPU:0", "CPU"))
    if want in (None, "GPU"):
        out += [PhysicalDevice(f"/physical_device:GPU:{i}", "GPU") for i in range(_device.gpu_count())]
    return out


def list_logical_devices(device_type=None):
    """Logical devices (e.g. the CPU split into several) of ``device_type``, or all."""
    want = None if device_type is None else str(device_type).upper()
    out = []
    if want in (None, "CPU"):
        out += [LogicalDevice(f"/job:localhost/replica:0/task:0/device:CPU:{i}", "CPU")
                for i in range(_device.logical_cpu_count())]
    if want in (None, "GPU"):
        out += [LogicalDevice(f"/job:localhost/replica:0/task:0/device:GPU:{i}", "GPU")
                for i in range(_device.gpu_count())]
    return out


def set_logical_device_configuration(device, logical_devices):
    """Splits a physical device into logical ones (CPU: N replicas for testing strategies).

    For a GPU, one configuration with ``memory_limit`` (MB) caps CuPy's memory pool.
    """
    dtype = getattr(device, "device_type", str(device)).upper()
    if dtype == "CPU":
        _device.set_logical_cpu_count(max(1, len(logical_devices)))
    elif dtype == "GPU":
        limit = logical_devices[0].memory_limit if logical_devices else None
        if limit is not None:
            experimental.set_memory_limit(getattr(device, "name", "GPU:0"), int(limit) * 1024 * 1024)
    else:
        raise ValueError(f"set_logical_device_configuration: unknown device type {dtype!r}")


def get_logical_device_configuration(device):
    dtype = getattr(device, "device_type", str(device)).upper()
    if dtype == "CPU" and _device.logical_cpu_count() > 1:
        return [LogicalDeviceConfiguration() for _ in range(_device.logical_cpu_count())]
    return None


def get_visible_devices(device_type=None):
    return list_physical_devices(device_type)


def _gpu_index(device):
    d = _device.parse(device if isinstance(device, str) else getattr(device, "name", "GPU:0")
                      .replace("physical_device:", ""))
    if d.kind != "cuda":
        raise ValueError(f"{device!r} is not a GPU device")
    return d.index


def _cuda_memory():
    from tensorlab.backend.cuda import memory
    return memory


def _get_memory_info(device):
    """``{"current": bytes, "peak": bytes}`` for a GPU, from CuPy's memory pool."""
    return _cuda_memory().get_memory_info(_gpu_index(device))


def _reset_memory_stats(device):
    _cuda_memory().reset_memory_stats(_gpu_index(device))


def _set_memory_limit(device, limit_bytes):
    _cuda_memory().set_memory_limit(_gpu_index(device), limit_bytes)


def _get_device_details(device):
    """Name, compute capability and live utilization/temperature (pynvml) of a GPU."""
    d = device if isinstance(device, str) else device.name.replace("physical_device:", "")
    dev = _device.parse(d)
    if dev.kind != "cuda":
        return {"device_name": "CPU"}
    return _cuda_memory().device_details(dev.index)


experimental = types.SimpleNamespace(
    get_memory_info=_get_memory_info, reset_memory_stats=_reset_memory_stats,
    set_memory_limit=_set_memory_limit, get_device_details=_get_device_details,
    set_memory_growth=lambda device, enable: None,
    get_memory_growth=lambda device: True,
    enable_tensor_float_32_execution=lambda enabled: _set_tf32(enabled),
)
_flags = {"tf32": False, "run_functions_eagerly": False}


def _set_tf32(enabled):
    _flags["tf32"] = bool(enabled)


def enable_tensor_float_32_execution(enabled):
    """Allows TF32 tensor-core matmuls for float32 on GPUs (off by default: exact float32)."""
    _set_tf32(enabled)


def tensor_float_32_execution_enabled():
    return _flags["tf32"]


def run_functions_eagerly(run_eagerly):
    """Records whether ``tl.function``s should run eagerly (``tf.config.run_functions_eagerly``).

    tensorlab has no graph tracer yet, so ``tl.function``s always run eagerly;
    the flag is kept for when one exists.
    """
    _flags["run_functions_eagerly"] = bool(run_eagerly)


def functions_run_eagerly():
    """True: ``tl.function``s run eagerly whatever ``run_functions_eagerly`` was given (no tracer yet)."""
    return True
