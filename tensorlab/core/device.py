"""Devices, device strings and the device scope stack.

A ``Device`` names where a tensor's memory lives ("cpu" or "cuda" kind, plus
an index) and knows its backend module (``tensorlab.backend.cpu`` or
``tensorlab.backend.cuda``), which is imported on first use. Every tensor
carries its own device: there is no process-wide backend switch.
"""
import importlib
import os
import re
import threading

from tensorlab.errors import InvalidArgumentError, NotFoundError

_TYPE_OF_KIND = {"cpu": "CPU", "cuda": "GPU", "symbolic": "SYMBOLIC"}


class Device:
    """One device: ``Device("cpu", 0)`` or ``Device("cuda", 0)``."""

    __slots__ = ("kind", "index", "name", "device_type", "_backend", "needs_context")

    def __init__(self, kind, index=0):
        self.kind = kind
        self.index = index
        self.device_type = _TYPE_OF_KIND[kind]
        self.name = f"/job:localhost/replica:0/task:0/device:{self.device_type}:{index}"
        self._backend = None
        # GPU 0 is CuPy's current device by default; others need a context switch.
        self.needs_context = kind == "cuda" and index != 0

    @property
    def backend(self):
        """The backend module that holds this device's array functions."""
        b = self._backend
        if b is None:
            b = importlib.import_module(f"tensorlab.backend.{self.kind}")
            b.load()
            self._backend = b
        return b

    @property
    def short_name(self):
        return f"{self.device_type}:{self.index}"

    def context(self):
        """A context manager that makes this device current for its backend."""
        return self.backend.device_context(self.index)

    def __repr__(self):
        return self.name

    def __str__(self):
        return self.name


_DEVICE_RE = re.compile(
    r"^/?(?:job:[^/]+/)?(?:replica:\d+/)?(?:task:\d+/)?(?:device:)?(cpu|gpu|cuda)(?::(\d+))?$",
    re.IGNORECASE)
_cache = {}
_lock = threading.Lock()
_gpu_count = None
_logical_cpus = 1
SYMBOLIC = Device("symbolic", 0)


def gpu_count():
    """Number of usable CUDA GPUs (0 when CuPy, a driver or a GPU is missing)."""
    global _gpu_count
    if _gpu_count is None:
        if os.environ.get("TENSORLAB_DEVICE", "").lower().startswith("cpu"):
            _gpu_count = 0
        else:
            try:
                from tensorlab.backend.cuda import runtime
                _gpu_count = runtime.device_count()
            except Exception:  # import must never fail because of a GPU stack
                _gpu_count = 0
    return _gpu_count


def set_logical_cpu_count(n):
    """Splits the CPU into ``n`` logical devices (``/CPU:0`` .. ``/CPU:n-1``)."""
    global _logical_cpus
    _logical_cpus = int(n)


def logical_cpu_count():
    return _logical_cpus


def get(kind, index=0):
    """The interned ``Device`` for (kind, index); ops compare devices by identity."""
    key = (kind, index)
    d = _cache.get(key)
    if d is None:
        with _lock:
            d = _cache.setdefault(key, Device(kind, index))
    return d


def parse(spec):
    """Turns a TF device string (``"/GPU:0"``, ``"/device:CPU:0"``, ``"gpu"``) into a Device.

    Raises:
      InvalidArgumentError: for a string that names no device form.
      NotFoundError: for a well-formed name of a device this machine lacks.
    """
    if isinstance(spec, Device):
        return spec
    m = _DEVICE_RE.match(str(spec).strip())
    if not m:
        raise InvalidArgumentError(
            f"device: cannot parse device string {spec!r}; valid forms are 'cpu', 'gpu:0', "
            "'/CPU:0', '/GPU:0', '/device:GPU:0' (case-insensitive)")
    kind = "cpu" if m.group(1).lower() == "cpu" else "cuda"
    index = int(m.group(2) or 0)
    if kind == "cuda" and index >= gpu_count():
        raise NotFoundError(
            f"device: {spec!r} names GPU {index}, but this process sees {gpu_count()} usable GPU(s)"
            + ("" if gpu_count() else " (no CuPy, no driver, no GPU, or TENSORLAB_DEVICE=cpu)")
            + "; use 'cpu' or a listed GPU (tl.config.list_physical_devices('GPU'))")
    if kind == "cpu" and index >= _logical_cpus:
        raise NotFoundError(
            f"device: {spec!r} names CPU {index}, but there are {_logical_cpus} logical CPU device(s); "
            "see tl.config.set_logical_device_configuration")
    return get(kind, index)


_process_default = None   # set_process_default's device
_default_generation = 0   # bumped by set_process_default: threads recompute their cached default


def set_process_default(dev):
    """Makes ``dev`` the device new tensors go to in every thread of this process, or restores
    the usual choice with None. A ``MultiWorkerMirroredStrategy`` worker sets its GPU (its local
    rank's, not always GPU:0), as if only that GPU were visible.

    Returns:
      The previous setting (a Device or None).
    """
    global _process_default, _default_generation
    previous = _process_default
    _process_default = None if dev is None else parse(dev)
    _default_generation += 1
    return previous


def default_device():
    """The device new tensors go to outside ``tl.device`` scopes: the one ``set_process_default``
    set, else the first GPU when CuPy and a GPU are usable, else the CPU.

    ``TENSORLAB_DEVICE`` (e.g. ``cpu`` or ``gpu:0``) overrides the GPU-or-CPU choice.
    """
    if _process_default is not None:
        return _process_default
    env = os.environ.get("TENSORLAB_DEVICE")
    if env:
        return parse(env)
    return get("cuda", 0) if gpu_count() > 0 else get("cpu", 0)


class _Scope(threading.local):
    def __init__(self):
        self.stack = []
        self.default = None
        self.generation = -1   # the _default_generation `default` was computed for


_scope = _Scope()


def current():
    """The device new tensors are placed on in this thread."""
    s = _scope.stack
    if s:
        return s[-1]
    d = _scope.default
    if d is None or _scope.generation != _default_generation:
        d = _scope.default = default_device()
        _scope.generation = _default_generation
    return d


class device:
    """Context manager placing new tensors and ops on a device, like ``tf.device``.

    Args:
      name: a device string such as ``"cpu"``, ``"/GPU:0"`` or ``"/device:CPU:0"``,
        or ``None`` to keep the current device.

    Example:
      >>> with tl.device("cpu"):
      ...     x = tl.ones([2])
      >>> x.device
      '/job:localhost/replica:0/task:0/device:CPU:0'
    """

    def __init__(self, name):
        self._dev = None if name is None else name if isinstance(name, Device) else parse(name)

    def __enter__(self):
        _scope.stack.append(self._dev if self._dev is not None else current())
        return self

    def __exit__(self, *exc):
        _scope.stack.pop()
        return False


def transfer(data, src, dst):
    """Copies backend array ``data`` from device ``src`` to device ``dst``."""
    if src is dst:
        return data
    if src.kind == dst.kind:
        return dst.backend.copy_same_kind(data, src.index, dst.index)
    return dst.backend.from_numpy(src.backend.to_numpy(data))
