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
    """A numpy array that also answers CuPy's `a.data.ptr` (the address of its first element)."""

    @property
    def data(self):
        return _Pointer(self.__array_interface__["data"][0])


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
    runtime = types.SimpleNamespace(getDevice=lambda: 0)
    device = types.SimpleNamespace(compute_capability="90",
                                   attributes={"MultiProcessorCount": EmulatedDevice.SM_COUNT})
    mod.cuda = types.SimpleNamespace(runtime=runtime, Device=lambda *a: device)
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
        import sys

        from tensorlab.backend.cuda.kernels import _module

        monkeypatch.setitem(sys.modules, "cupy", fake_cupy())
        monkeypatch.setattr(_module, "get_kernel",
                            lambda stem, name, options=(): EmulatedKernel(self, stem, name))
        monkeypatch.setattr(_module, "sm_count", lambda: self.SM_COUNT)
        return self
