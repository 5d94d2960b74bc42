"""Loads `cuda_kernels/<stem>.cu` as a `cupy.RawModule`, once per device, and hands out kernels.

Where the sources are found (first hit wins):
  1. `$TENSORLAB_CUDA_KERNELS` if set;
  2. `<repo>/cuda_kernels` for a source checkout (this file is
     `<repo>/tensorlab/backend/cuda/kernels/_module.py`);
  3. `tensorlab/_cuda_kernels` inside an installed package: packaging copies `cuda_kernels/*.cu*`
     there, e.g. with setuptools `[tool.setuptools.package-data] tensorlab = ["_cuda_kernels/*"]`
     plus a build step (or symlink) that places the files in `tensorlab/_cuda_kernels/`.

Local `#include "x.cuh"` lines are expanded here before compiling, so that CuPy's on-disk binary
cache (keyed by the code string and options) sees header edits; compiled binaries are cached by
CuPy on disk, modules are memoized here per (device id, stem, options).

Files in `ARCH_SPECIFIC` use instructions of one architecture only (wgmma needs sm_90a, which
CuPy's RawModule cannot ask NVRTC for: it adds its own `-arch`). They are compiled here through
CuPy's NVRTC binding for that target, the cubin cached on disk next to CuPy's, and loaded with
`cupy.RawModule(path=...)`.

CuPy is imported lazily: this module imports on machines without CuPy.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_LOCK = threading.Lock()
_MODULES: dict = {}
_KERNELS: dict = {}
_SOURCES: dict = {}
BASE_OPTIONS = ("-std=c++17",)
#: `.cu` stems that must be compiled for one architecture (and run only there): stem -> target
ARCH_SPECIFIC = {"matmul_sm90": "sm_90a"}


def kernels_dir() -> Path:
    """The folder holding the `.cu` / `.cuh` kernel sources."""
    env = os.environ.get("TENSORLAB_CUDA_KERNELS")
    candidates = ([Path(env)] if env else []) + [_HERE.parents[3] / "cuda_kernels",
                                                  _HERE.parents[2] / "_cuda_kernels"]
    for c in candidates:
        if c.is_dir() and any(c.glob("*.cu")):
            return c
    raise FileNotFoundError(
        "CUDA kernel sources not found; looked in " + ", ".join(str(c) for c in candidates))


_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"[^\n]*$', re.M)


def load_source(stem: str) -> str:
    """Source of `<stem>.cu` with its local `#include "..."` files expanded (each file once)."""
    if stem in _SOURCES:
        return _SOURCES[stem]
    root = kernels_dir()
    seen: set = set()

    def expand(path: Path) -> str:
        text = path.read_text()
        text = re.sub(r"^[ \t]*#[ \t]*pragma[ \t]+once[^\n]*$", "", text, flags=re.M)

        def repl(m):
            inc = (path.parent / m.group(1)).resolve()
            if not inc.exists():
                return m.group(0)  # leave it to the compiler's -I path
            if inc in seen:
                return ""
            seen.add(inc)
            return f'// begin {m.group(1)}\n{expand(inc)}\n// end {m.group(1)}'

        return _INCLUDE.sub(repl, text)

    src = expand(root / f"{stem}.cu")
    _SOURCES[stem] = src
    return src


def get_module(stem: str, options=()):
    """The `cupy.RawModule` of `cuda_kernels/<stem>.cu` for the current device (memoized)."""
    import cupy

    options = tuple(options)
    dev = cupy.cuda.runtime.getDevice()
    key = (dev, stem, options)
    mod = _MODULES.get(key)
    if mod is None:
        with _LOCK:
            mod = _MODULES.get(key)
            if mod is None:
                if stem in ARCH_SPECIFIC:
                    path = cubin_path(stem, ARCH_SPECIFIC[stem], options)
                    mod = cupy.RawModule(path=str(path))
                else:
                    mod = cupy.RawModule(code=load_source(stem),
                                         options=(*BASE_OPTIONS, "-I" + str(kernels_dir()),
                                                  *options))
                _MODULES[key] = mod
    return mod


def nvrtc_options(arch: str, options=()) -> tuple:
    """NVRTC options for an architecture-specific file: ours, then the real target (cubin)."""
    return (*BASE_OPTIONS, *options, f"--gpu-architecture={arch}")


def compile_cubin(stem: str, arch: str, options=()) -> bytes:
    """Machine code of `<stem>.cu` for `arch` (e.g. "sm_90a") from CuPy's NVRTC binding.

    Raises RuntimeError with NVRTC's log when the source does not compile.
    """
    from cupy_backends.cuda.libs import nvrtc

    opts = nvrtc_options(arch, options)
    prog = nvrtc.createProgram(load_source(stem), f"{stem}.cu", (), ())
    try:
        try:
            nvrtc.compileProgram(prog, list(opts))
        except nvrtc.NVRTCError as e:
            raise RuntimeError(f"NVRTC could not compile {stem}.cu with {' '.join(opts)}:\n"
                               f"{nvrtc.getProgramLog(prog)}") from e
        return nvrtc.getCUBIN(prog)
    finally:
        nvrtc.destroyProgram(prog)


def cubin_path(stem: str, arch: str, options=()) -> Path:
    """On-disk cubin of `<stem>.cu` for `arch`, compiled on first use.

    Cached under `$CUPY_CACHE_DIR` (default `~/.cupy/kernel_cache`)`/tensorlab`, keyed by the
    expanded source, the options and the NVRTC version; written to a temporary file and renamed,
    so a concurrent or interrupted compile never leaves a partial cubin behind.
    """
    from cupy_backends.cuda.libs import nvrtc

    opts = nvrtc_options(arch, options)
    key = hashlib.sha256("\0".join((load_source(stem), *opts, repr(nvrtc.getVersion())))
                         .encode()).hexdigest()[:32]
    root = Path(os.environ.get("CUPY_CACHE_DIR", Path.home() / ".cupy" / "kernel_cache"))
    folder = root / "tensorlab"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.{arch}.{key}.cubin"
    if not path.exists():
        data = compile_cubin(stem, arch, options)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    return path


def get_kernel(cu_file_stem: str, kernel_name: str, options=()):
    """A `cupy.RawKernel` from `cuda_kernels/<cu_file_stem>.cu`, compiled once per device.

    Args:
        cu_file_stem: the file name without `.cu`, e.g. "reduce".
        kernel_name: the `extern "C"` kernel name, e.g. "tl_reduce_sum_rows_f32".
        options: extra NVRTC options, e.g. ("-DTILE=64",); part of the cache key.
    Returns:
        A `cupy.RawKernel`; call it as `k(grid, block, args, shared_mem=bytes)`.

    Example:
        >>> k = get_kernel("reduce", "tl_reduce_sum_rows_f32")
        >>> k((rows,), (256,), (x, out, np.int64(rows), np.int64(cols), ...))
    """
    import cupy

    options = tuple(options)
    key = (cupy.cuda.runtime.getDevice(), cu_file_stem, options, kernel_name)
    k = _KERNELS.get(key)
    if k is None:
        k = get_module(cu_file_stem, options).get_function(kernel_name)
        _KERNELS[key] = k
    return k


def clear_caches() -> None:
    """Forget loaded modules and sources (e.g. after editing a `.cu` in an interactive session)."""
    with _LOCK:
        _MODULES.clear()
        _KERNELS.clear()
        _SOURCES.clear()


_SM_COUNT: dict = {}


def sm_count() -> int:
    """Streaming multiprocessors of the current device (memoized)."""
    import cupy

    dev = cupy.cuda.runtime.getDevice()
    if dev not in _SM_COUNT:
        _SM_COUNT[dev] = int(cupy.cuda.Device(dev).attributes["MultiProcessorCount"])
    return _SM_COUNT[dev]
