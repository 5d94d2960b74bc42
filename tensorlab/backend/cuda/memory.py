"""GPU memory and device facts: pool statistics, limits, pinned copies, pynvml details."""
import threading

import cupy as cp
import numpy as np

_peak = {}
_lock = threading.Lock()
_PINNED_MIN_BYTES = 1 << 20  # below this a pageable copy is as fast


def _pool():
    return cp.get_default_memory_pool()


def get_memory_info(index):
    """``{"current": bytes in use, "peak": highest since reset}`` for GPU ``index``."""
    with cp.cuda.Device(index):
        used = _pool().used_bytes()
    with _lock:
        peak = max(_peak.get(index, 0), used)
        _peak[index] = peak
    return {"current": int(used), "peak": int(peak)}


def note_allocation(index):
    with cp.cuda.Device(index):
        used = _pool().used_bytes()
    with _lock:
        if used > _peak.get(index, 0):
            _peak[index] = used


def reset_memory_stats(index):
    with cp.cuda.Device(index):
        used = _pool().used_bytes()
    with _lock:
        _peak[index] = used


def set_memory_limit(index, limit_bytes):
    """Caps CuPy's memory pool on GPU ``index`` (allocations beyond raise OOM)."""
    with cp.cuda.Device(index):
        _pool().set_limit(size=int(limit_bytes))


def free_bytes(index):
    with cp.cuda.Device(index):
        free, total = cp.cuda.runtime.memGetInfo()
        pool = _pool()
        limit = pool.get_limit()
        pool_free = pool.free_bytes()
        if limit:
            free = min(free + pool_free, max(0, limit - pool.used_bytes()))
        else:
            free = free + pool_free
    return int(free), int(total)


def describe_oom(index, err):
    """A message for ResourceExhaustedError: what was asked for and what is free."""
    try:
        free, total = free_bytes(index)
        return f"{err}; free on GPU:{index}: {free / 2**20:.1f} MiB of {total / 2**20:.1f} MiB"
    except Exception:
        return str(err)


def host_to_device(arr):
    """Copies a numpy array to the current GPU; large copies go through pinned memory."""
    shape = np.shape(arr)
    arr = np.ascontiguousarray(arr).reshape(shape)  # ascontiguousarray makes 0-d arrays 1-d
    if arr.size == 1 and arr.dtype.kind in "biufc":
        # A scalar (x * 0.5, a learning rate, ...) is filled in by a kernel: a copy from pageable
        # memory would wait for everything queued on the GPU, so the host could not run ahead.
        return cp.full(arr.shape, arr.reshape(-1)[0], dtype=arr.dtype)
    if arr.nbytes < _PINNED_MIN_BYTES:
        return cp.asarray(arr)
    mem = cp.cuda.alloc_pinned_memory(arr.nbytes)
    staged = np.frombuffer(mem, arr.dtype, arr.size).reshape(arr.shape)
    staged[...] = arr
    out = cp.empty(arr.shape, arr.dtype)
    out.set(staged)
    return out


def device_details(index):
    """Name, compute capability, memory, utilization and temperature of GPU ``index``."""
    props = cp.cuda.runtime.getDeviceProperties(index)
    name = props["name"].decode() if isinstance(props["name"], bytes) else props["name"]
    out = {"device_name": name, "compute_capability": (props["major"], props["minor"]),
           "total_memory": int(props["totalGlobalMem"]), "multiprocessors": props["multiProcessorCount"]}
    try:
        import pynvml
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(index)
        out["utilization_gpu_percent"] = pynvml.nvmlDeviceGetUtilizationRates(h).gpu
        out["temperature_c"] = pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU)
        out["driver_version"] = pynvml.nvmlSystemGetDriverVersion()
        if isinstance(out["driver_version"], bytes):
            out["driver_version"] = out["driver_version"].decode()
    except Exception as e:  # pynvml is optional (the cuda extras install it)
        out["nvml"] = f"unavailable: {type(e).__name__}"
    return out
