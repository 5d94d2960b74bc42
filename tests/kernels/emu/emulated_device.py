"""An emulated GPU for the CUDA backend: its primitive implementations run end to end on the CPU.

`EmulatedDevice.install(monkeypatch)` makes the code in `tensorlab/backend/cuda/` believe it is on a
GPU, without changing a line of it:

* `import cupy` (done lazily inside every launcher) yields `fake_cupy()`: numpy, except that
  the arrays it makes are `DeviceArray`s, numpy arrays that carry CuPy's `.data.ptr`, and
  `cupy.empty` fills new memory with NaN (floats) or -7 (integers), so an output element a
  kernel leaves unwritten fails the comparison;
* `kernels._module.get_kernel(stem, name)` returns an `EmulatedKernel`: calling it as CuPy's
  `RawKernel` is called, `k(grid, block, args, shared_mem=...)`, runs the kernel from the same
  `cuda_kernels/<stem>.cu` on the host emulator (`tl_emu`);
* `kernels._module.sm_count()` reports a small GPU (4 SMs), so that small inputs already take the
  multi-block and split paths.

Every launch is recorded in `EmulatedDevice.launched` as `(stem, kernel)`, so a test can assert
that a primitive ran our kernel rather than a CuPy fallback. What this does not check: timing,
races between blocks that run concurrently on a GPU, and CuPy itself (the fallbacks were bound to
the real CuPy at import and are not reachable from here).
"""
from __future__ import annotations

import types

import numpy as np

NAN_INT = -7


class _Pointer:
    __slots__ = ("ptr",)

    def __init__(self, ptr):
        self.ptr = ptr


class DeviceArray(np.ndarray):
    """A numpy array that also answers CuPy's `a.data.ptr` (the address of its first element)
    and `set` / `get` (host copies)."""

    @property
    def data(self):
        return _Pointer(self.__array_interface__["data"][0])

    def set(self, arr, stream=None):
        self[...] = arr

    def get(self, stream=None):
        return np.array(self).view(np.ndarray)


class _Stream:
    ptr = 0

    def __init__(self, *args, **kwargs):
        pass

    def synchronize(self):
        pass

    def record(self, event=None):
        return types.SimpleNamespace(synchronize=lambda: None)

    def wait_event(self, event):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _Device:
    """`cupy.cuda.Device(i)`: a context manager for the one emulated GPU."""
    compute_capability = "90"

    def __init__(self, index=0):
        self.id = int(index)
        self.attributes = {"MultiProcessorCount": EmulatedDevice.SM_COUNT}

    def use(self):
        pass

    def synchronize(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _RandomState:
    """`cupy.random.RandomState`'s calls (63-bit seeds, `dtype=` arguments) on numpy's generator."""

    def __init__(self, seed=None):
        self._rs = np.random.RandomState(None if seed is None else int(seed) % 2 ** 32)

    def random_sample(self, size=None, dtype=float):
        return self._rs.random_sample(size).astype(dtype)

    def standard_normal(self, size=None, dtype=float):
        return self._rs.standard_normal(size).astype(dtype)

    def randint(self, low, high=None, size=None, dtype=int):
        return self._rs.randint(low, high, size=size, dtype=dtype)

    def permutation(self, n):
        return self._rs.permutation(n)


class _Pool:
    def free_all_blocks(self):
        pass

    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def set_limit(self, size=None, fraction=None):
        pass

    def get_limit(self):
        return 0


def _dev(a):
    return a.view(DeviceArray) if isinstance(a, np.ndarray) and not isinstance(a, DeviceArray) else a


def _poisoned(shape, dtype=float, order="C"):
    dtype = np.dtype(dtype)
    fill = np.nan if dtype.kind in "fc" else (True if dtype.kind == "b" else NAN_INT)
    return np.full(shape, fill, dtype, order=order).view(DeviceArray)


_WRAPPED = ("zeros", "ones", "full", "array", "asarray", "ascontiguousarray", "broadcast_to",
            "empty_like", "zeros_like", "ones_like", "full_like", "concatenate", "stack", "arange")


def fake_cupy() -> types.ModuleType:
    """A module that stands in for `cupy` (see the module docstring)."""
    mod = types.ModuleType("cupy", "numpy standing in for CuPy on the host emulator")
    for name in dir(np):
        if not name.startswith("__"):
            setattr(mod, name, getattr(np, name))
    for name in _WRAPPED:
        fn = getattr(np, name)
        setattr(mod, name, lambda *a, _fn=fn, **k: _dev(_fn(*a, **k)))
    mod.empty = _poisoned
    mod.ndarray = np.ndarray
    mod.asnumpy = lambda a, stream=None, **k: np.array(a).view(np.ndarray)
    mod.from_dlpack = lambda obj: _dev(np.from_dlpack(obj))
    pool = _Pool()
    mod.get_default_memory_pool = mod.get_default_pinned_memory_pool = lambda: pool
    total = 80 * 2 ** 30
    runtime = types.SimpleNamespace(
        getDevice=lambda: 0, getDeviceCount=lambda: 1, memGetInfo=lambda: (total, total),
        getDeviceProperties=lambda i: {"name": b"emulated GPU", "major": 9, "minor": 0, "totalGlobalMem": total,
                                       "multiProcessorCount": EmulatedDevice.SM_COUNT})
    rand = types.ModuleType("cupy.random")
    rand.__dict__.update({k: v for k, v in vars(np.random).items() if not k.startswith("__")})
    rand.RandomState = _RandomState
    mod.random = rand
    mod.cuda = types.SimpleNamespace(runtime=runtime, Device=_Device, Stream=_Stream,
                                     get_current_stream=lambda: _Stream(),
                                     alloc_pinned_memory=lambda n: bytearray(n))
    return mod


class EmulatedKernel:
    """A kernel of `cuda_kernels/<stem>.cu`, called like a `cupy.RawKernel`, run by the emulator."""

    def __init__(self, device, stem, name):
        self.device, self.stem, self.name = device, stem, name
        self.max_dynamic_shared_size_bytes = 48 * 1024

    def __call__(self, grid, block, args, shared_mem=0):
        import tl_emu

        if shared_mem > self.max_dynamic_shared_size_bytes:
            raise RuntimeError(f"{self.name}: {shared_mem} bytes of dynamic shared memory without "
                               f"raising max_dynamic_shared_size_bytes ({self.max_dynamic_shared_size_bytes})")
        lib = self.device.lib(self.stem)
        sig = tl_emu._signature(lib, self.name)
        if len(args) != len(sig):
            raise TypeError(f"{self.name} takes {len(sig)} arguments, got {len(args)}")
        # CuPy passes a null pointer as a 64-bit zero; the emulator takes None.
        args = [None if kind == 0 and isinstance(a, np.uint64) and int(a) == 0 else a
                for a, (kind, _) in zip(args, sig)]
        self.device.launched.append((self.stem, self.name))
        tl_emu.launch(lib, self.name, grid, block, shared_mem, *args)


class EmulatedDevice:
    SM_COUNT = 4

    def __init__(self):
        self.launched: list = []
        self._libs: dict = {}

    def lib(self, stem):
        import tl_emu

        if stem not in self._libs:
            self._libs[stem] = tl_emu.build(stem)
        return self._libs[stem]

    def kernels(self):
        """Names of the kernels launched so far, in order."""
        return [k for _, k in self.launched]

    def install(self, monkeypatch):
        """The launchers run on the emulator: lazy `import cupy` gives `fake_cupy()`."""
        import sys

        from tensorlab.backend.cuda.kernels import _module

        self.cupy = fake_cupy()
        monkeypatch.setitem(sys.modules, "cupy", self.cupy)
        monkeypatch.setattr(_module, "get_kernel",
                            lambda stem, name, options=(): EmulatedKernel(self, stem, name))
        monkeypatch.setattr(_module, "sm_count", lambda: self.SM_COUNT)
        return self

    def install_device(self, monkeypatch):
        """All of tensorlab sees one GPU, `GPU:0`, whose arrays are `DeviceArray`s and whose
        kernels run here: `install`, plus the CUDA backend's module-level CuPy names, the CuPy
        ufuncs registered as implementations, the tensor wrapper and the device count. The
        backend is loaded with the real CuPy first, so nothing outlives the test."""
        import sys

        import tensorlab.backend.cuda as cuda_backend
        from tensorlab.core import device, registry, tensor

        cuda_backend.load()
        self.install(monkeypatch)
        cupyx = fake_cupyx()
        for name, fake in (("cupyx", cupyx), ("cupyx.scipy", cupyx.scipy), ("cupyx.scipy.special", cupyx.scipy.special)):
            monkeypatch.setitem(sys.modules, name, fake)
        fakes = {"cupy": self.cupy, "cupyx": cupyx}
        for modname, mod in list(sys.modules.items()):
            if modname.startswith("tensorlab.backend.cuda") and mod is not None:
                for g, real in list(vars(mod).items()):   # `import cupy as cp` and the like
                    if isinstance(real, types.ModuleType) and real.__name__ in fakes and real is not fakes[real.__name__]:
                        monkeypatch.setattr(mod, g, fakes[real.__name__])
        for prim in registry.REGISTRY.values():
            impl = prim.impls.get("cuda")
            if _is_cupy_ufunc(impl):
                monkeypatch.setitem(prim.impls, "cuda", _numpy_twin(impl))
            for cell in getattr(impl, "__closure__", None) or ():
                try:
                    value = cell.cell_contents
                except ValueError:
                    continue
                if _is_cupy_ufunc(value):
                    monkeypatch.setattr(cell, "cell_contents", _numpy_twin(value))

        orig_wrap = tensor.wrap

        def wrap(data, dev):
            return orig_wrap(_dev(data) if dev.kind == "cuda" else data, dev)
        monkeypatch.setattr(tensor, "wrap", wrap)
        monkeypatch.setitem(registry._hooks, "wrap", wrap)
        monkeypatch.setattr(device, "_gpu_count", 1)
        return self


def _is_cupy_ufunc(f):
    return type(f).__name__ == "ufunc" and (type(f).__module__ or "").startswith("cupy")


def _numpy_twin(f):
    return getattr(np, f.__name__.removeprefix("cupy_"))


def fake_cupyx() -> types.ModuleType:
    """`cupyx` for the emulated device: `errstate` and `scipy.special.erf`."""
    import contextlib
    import math

    mod = types.ModuleType("cupyx")
    state = {"linalg": "ignore"}

    @contextlib.contextmanager
    def errstate(**kw):
        old = dict(state)
        state.update(kw)
        try:
            yield
        finally:
            state.clear()
            state.update(old)
    mod.errstate, mod.geterr = errstate, lambda: dict(state)
    erf = np.vectorize(math.erf, otypes=[float])
    special = types.ModuleType("cupyx.scipy.special")
    special.erf = lambda x: _dev(erf(x).astype(np.asarray(x).dtype))
    mod.scipy = types.ModuleType("cupyx.scipy")
    mod.scipy.special = special
    return mod
