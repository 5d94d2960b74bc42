"""An emulated GPU: tensorlab's CUDA code runs unchanged on the CPU, its kernels on the host emulator.

`EmulatedDevice.install(monkeypatch)` lets the CUDA backend's implementations run when called
directly (tests/kernels/test_emu_primitives.py):

* `import cupy` (done lazily inside every launcher) yields `fake_cupy()`: numpy, except that
  the arrays it makes are `DeviceArray`s, numpy arrays that carry CuPy's `.data.ptr`, and
  `cupy.empty` fills new memory with NaN (floats) or -7 (integers), so an output element a
  kernel leaves unwritten fails the comparison;
* `kernels._module.get_kernel(stem, name)` returns an `EmulatedKernel`: calling it as CuPy's
  `RawKernel` is called, `k(grid, block, args, shared_mem=...)`, runs the kernel from the same
  `cuda_kernels/<stem>.cu` on the host emulator (`tl_emu`);
* `kernels._module.sm_count()` reports a small GPU (4 SMs), so that small inputs already take the
  multi-block and split paths.

`EmulatedDevice.install_device(monkeypatch, gpus=1, nccl=False)` goes further: all of tensorlab
sees `gpus` GPUs (the CUDA backend's module-level CuPy names, the CuPy ufuncs registered as
implementations, `cupyx`, the tensor wrapper, the device count and the default device are
swapped, and restored by the monkeypatch), and with `nccl` a `FakeNccl` stands behind
`cupy.cuda.nccl`.

Every launch is recorded in `EmulatedDevice.launched` as `(stem, kernel)`, so a test can assert
that a primitive ran our kernel rather than a CuPy fallback. What this does not check: timing,
races between blocks that run concurrently on a GPU, and CuPy's own behaviour (numpy stands in
for it; tests/core/test_cuda_mirrors.py checks that the mirrored code only uses names CuPy has).
"""
from __future__ import annotations

import types

import numpy as np

NAN_INT = -7


class _Pointer:
    """CuPy's MemoryPointer: the address, and device-to-device copies (peer copies)."""
    __slots__ = ("ptr",)

    def __init__(self, ptr):
        self.ptr = ptr

    def copy_from_device(self, src, size):
        import ctypes
        ctypes.memmove(self.ptr, src.ptr, int(size))


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
    """`cupy.cuda.Device(i)`: a context manager for an emulated GPU."""
    compute_capability = "90"
    count = 1

    def __init__(self, index=0):
        if not 0 <= int(index) < _Device.count:
            raise RuntimeError(f"cudaErrorInvalidDevice: GPU {index} of {_Device.count}")
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

    def standard_gamma(self, shape, size=None, dtype=float):
        return self._rs.standard_gamma(shape, size).astype(dtype)

    def poisson(self, lam=1.0, size=None, dtype="l"):
        return self._rs.poisson(lam, size).astype(dtype)

    def binomial(self, n, p, size=None, dtype=int):
        return self._rs.binomial(n, p, size).astype(dtype)


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
    # unsigned: all ones (also the NaN bits of float16 / bfloat16 held as uint16)
    fill = np.nan if dtype.kind in "fc" else (True if dtype.kind == "b" else
                                              np.iinfo(dtype).max if dtype.kind == "u" else NAN_INT)
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
        getDevice=lambda: 0, getDeviceCount=lambda: _Device.count, memGetInfo=lambda: (total, total),
        getDeviceProperties=lambda i: {"name": b"emulated GPU", "major": 9, "minor": 0, "totalGlobalMem": total,
                                       "multiProcessorCount": EmulatedDevice.SM_COUNT, "pciBusID": int(i)})
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

    def install_device(self, monkeypatch, gpus=1, nccl=False):
        """All of tensorlab sees `gpus` GPUs, `GPU:0`..., whose arrays are `DeviceArray`s and
        whose kernels run here: `install`, plus the CUDA backend's module-level CuPy names, the
        CuPy ufuncs registered as implementations, the tensor wrapper and the device count; with
        `nccl`, `cupy.cuda.nccl` is `FakeNccl` (checked collectives on host memory). The backend
        is loaded with the real CuPy first, so nothing outlives the test."""
        import sys

        import tensorlab.backend.cuda as cuda_backend
        from tensorlab.core import device, registry, tensor

        cuda_backend.load()
        self.install(monkeypatch)
        monkeypatch.setattr(_Device, "count", int(gpus))
        if nccl:
            from tensorlab.distribute import nccl_loader

            fake_nccl = FakeNccl()
            self.cupy.cuda.nccl = fake_nccl
            monkeypatch.setitem(sys.modules, "cupy.cuda", self.cupy.cuda)
            monkeypatch.setitem(sys.modules, "cupy.cuda.nccl", fake_nccl)
            status = nccl_loader.NcclStatus(True, module=fake_nccl, version=fake_nccl.get_version())
            monkeypatch.setattr(nccl_loader, "_status", status)
            self.nccl = fake_nccl
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
        monkeypatch.setattr(device, "_gpu_count", int(gpus))
        # new tensors default to GPU:0, as on a GPU machine (the default is cached per thread)
        monkeypatch.delenv("TENSORLAB_DEVICE", raising=False)
        monkeypatch.setattr(device._scope, "default", None)
        return self


class FakeNccl(types.ModuleType):
    """`cupy.cuda.nccl` for emulated GPUs: all-reduce on host memory, with NCCL's rules checked.

    Within `groupStart`/`groupEnd` the calls are collected and run at `groupEnd`, where every
    rank of a communicator clique must have posted one call with the same count and dtype. A call
    outside a group on a clique of several ranks raises: one thread issuing it for each rank in
    turn would hang on GPUs. `calls` records (ranks, count, dtype) of each collective.

    A communicator made with `NcclCommunicator(nranks, unique_id, rank)` spans processes (one
    rank each, as under MPI): its all-reduce is an MPI `Allreduce` of the host buffers, in rank
    order like NCCL's, so multi-worker code runs its NCCL path across `mpiexec` processes.
    """
    NCCL_INT8, NCCL_UINT8, NCCL_INT32, NCCL_INT64, NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64 = range(7)
    NCCL_SUM = 0
    _DTYPES = {0: np.int8, 1: np.uint8, 2: np.int32, 3: np.int64, 4: np.float16, 5: np.float32, 6: np.float64}

    def __init__(self):
        super().__init__("cupy.cuda.nccl")
        self.depth = 0
        self.pending = []
        self.calls = []
        fake = self

        class NcclCommunicator:
            def __init__(self, nranks, unique_id, rank):
                """One rank of a communicator across processes (collective over MPI's world)."""
                from mpi4py import MPI

                if not isinstance(unique_id, tuple) or unique_id[0] != "fake-nccl-id":
                    raise RuntimeError(f"NCCL: unique_id {unique_id!r} did not come from get_unique_id()")
                self.mpi = MPI.COMM_WORLD.Dup()
                if self.mpi.Get_size() != nranks or self.mpi.Get_rank() != rank:
                    raise RuntimeError(f"NCCL fake: rank {rank} of {nranks} does not match MPI's "
                                       f"{self.mpi.Get_rank()} of {self.mpi.Get_size()}")
                self.clique, self.rank, self.size, self.alive = object(), rank, nranks, True

            @staticmethod
            def initAll(devices):
                comms = []
                clique = object()
                for r in range(len(devices)):
                    c = NcclCommunicator.__new__(NcclCommunicator)
                    c.mpi, c.clique, c.rank, c.size, c.alive = None, clique, r, len(devices), True
                    comms.append(c)
                return comms

            def allReduce(self, send, recv, count, dtype, op, stream):
                if not self.alive:
                    raise RuntimeError("NCCL: allReduce on a destroyed communicator")
                if op != fake.NCCL_SUM:
                    raise RuntimeError(f"NCCL fake: only SUM, got op {op}")
                if self.mpi is not None:  # one rank per process: the others post theirs themselves
                    from mpi4py import MPI

                    src, dst = fake._view(int(send), int(count), int(dtype)), fake._view(int(recv), int(count), int(dtype))
                    self.mpi.Allreduce(src.copy(), dst, op=MPI.SUM)
                    fake.calls.append((self.size, int(count), fake._DTYPES[int(dtype)].__name__))
                    return
                fake.pending.append((self, int(send), int(recv), int(count), int(dtype)))
                if fake.depth == 0:
                    if self.size > 1:
                        raise RuntimeError(f"NCCL: allReduce of a {self.size}-rank communicator outside "
                                           "groupStart/groupEnd, issued from one thread, would hang")
                    fake._run()

            def destroy(self):
                self.alive = False
                if self.mpi is not None:
                    self.mpi.Free()
                    self.mpi = None

        self.NcclCommunicator = NcclCommunicator

    @staticmethod
    def get_version():
        return 22800

    @staticmethod
    def get_unique_id():
        import os
        return ("fake-nccl-id", os.getpid())

    def groupStart(self):
        self.depth += 1

    def groupEnd(self):
        if self.depth == 0:
            raise RuntimeError("NCCL: groupEnd without groupStart")
        self.depth -= 1
        if self.depth == 0:
            self._run()

    def _view(self, ptr, count, dtype):
        import ctypes
        dt = np.dtype(self._DTYPES[dtype])
        buf = (ctypes.c_char * (count * dt.itemsize)).from_address(ptr)
        return np.frombuffer(buf, dt, count)

    def _run(self):
        pending, self.pending = self.pending, []
        cliques = {}
        for call in pending:
            cliques.setdefault(id(call[0].clique), []).append(call)
        for calls in cliques.values():
            size = calls[0][0].size
            ranks = sorted(c[0].rank for c in calls)
            if ranks != list(range(size)):
                raise RuntimeError(f"NCCL: a group holds ranks {ranks} of a {size}-rank communicator: it would hang")
            if len({(c[3], c[4]) for c in calls}) != 1:
                raise RuntimeError(f"NCCL: ranks disagree on count/dtype: {[(c[3], c[4]) for c in calls]}")
            calls.sort(key=lambda c: c[0].rank)
            count, dtype = calls[0][3], calls[0][4]
            total = sum(self._view(c[1], count, dtype).astype(np.float64 if dtype >= 4 else np.int64)
                        for c in calls)
            for c in calls:
                self._view(c[2], count, dtype)[...] = total
            self.calls.append((size, count, self._DTYPES[dtype].__name__))


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
