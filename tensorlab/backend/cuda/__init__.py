"""The CUDA backend: CuPy arrays, our kernels from ``cuda_kernels/``.

Importing this package needs CuPy; the family modules (and so CuPy's
kernels) load when a tensor first lives on a GPU (``Device.backend`` calls
``load``). ``kernels/`` (our launchers) imports CuPy only when launching. Each ``<family>.py`` attaches CUDA
implementations: our kernels for the hot ops (``kernels/`` holds their
launchers) and, for the rest, CuPy built-ins mirrored from the CPU
implementations (``_mirror.py``), each marked as a fallback in the registry.
"""
from tensorlab.backend import import_all

KIND = "cuda"


def asarray(value, np_dtype=None):
    """A CuPy array on the current GPU from a Python value or host/device array."""
    import cupy as cp
    if type(value).__module__.startswith("torch"):
        value = cp.from_dlpack(value.detach()) if value.is_cuda else value.detach().numpy()
    if isinstance(value, cp.ndarray):
        arr = value.astype(np_dtype, copy=True) if np_dtype is not None else value.copy()
        return arr
    from tensorlab.backend import cpu as _cpu
    host = _cpu.asarray(value, np_dtype)
    return from_numpy(host)


def to_numpy(arr):
    import cupy as cp
    return cp.asnumpy(arr)


def from_numpy(arr):
    """Host -> device copy (through a pinned staging buffer for large arrays)."""
    from tensorlab.backend.cuda import memory
    return memory.host_to_device(arr)


def copy_same_kind(arr, src_index, dst_index):
    """GPU -> GPU copy. The copy runs on the destination's stream, so first wait for
    work still queued on the source device's stream (which may be writing ``arr``)."""
    import cupy as cp
    if src_index == dst_index:
        return arr
    with cp.cuda.Device(src_index):
        src = cp.ascontiguousarray(arr)  # a strided source is gathered on its own device
        cp.cuda.get_current_stream().synchronize()
    with cp.cuda.Device(dst_index):
        out = cp.empty(src.shape, src.dtype)
        out.data.copy_from_device(src.data, src.nbytes)
        return out


def broadcast_copy(arr, shape):
    import cupy as cp
    return cp.ascontiguousarray(cp.broadcast_to(arr, shape))


def from_dlpack(obj):
    import cupy as cp
    return cp.from_dlpack(obj)


def release_cached_memory(index):
    """Frees CuPy's cached (unused) pool blocks on GPU ``index``."""
    import cupy as cp
    with cp.cuda.Device(index):
        cp.get_default_memory_pool().free_all_blocks()
        cp.get_default_pinned_memory_pool().free_all_blocks()


def device_context(index):
    import cupy as cp
    return cp.cuda.Device(index)


def load():
    """Registers every family's CUDA implementations (called by Device.backend)."""
    import_all(__name__, __path__)
