"""Build `cuda_kernels/<stem>.cu` for the host emulator and launch its kernels from Python.

    from tests.kernels.emu.build import build, launch       # or: import build (sys.path)
    lib = build("reduce")                                    # ctypes.CDLL, cached by source hash
    launch(lib, "tl_reduce_sum_rows_f32", grid, block, smem_bytes, x, out, np.int32(n), 0.5)

* grid / block: an int or a tuple of up to 3 ints; smem: dynamic shared memory in bytes.
* numpy arrays are passed as pointers to their data (the kernel sees raw memory: pass contiguous
  arrays or pass strides explicitly); `None` is a null pointer.
* scalars: Python int / float are converted to the parameter's declared C type; numpy scalars
  (np.int32(...), np.float32(...), ...) must match the declared type's kind and size exactly, the
  same rule CuPy's RawKernel relies on, so a wrong np.int64 for an `int` parameter fails here too.
* every `__global__` function that is not a template is exported; kernels compiled out with
  `#ifndef TL_EMULATION` (inline PTX, tensor cores) are simply not exported.
"""
from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

EMU_DIR = Path(__file__).resolve().parent
REPO = EMU_DIR.parents[2]
KERNELS_DIR = REPO / "cuda_kernels"
HEADER = EMU_DIR / "cuda_emu.h"
CXX = os.environ.get("CXX", "g++")
BASE_FLAGS = ("-O1", "-std=c++20", "-shared", "-fPIC", "-pthread", "-w")
_LIBS: dict = {}


def _cache_dir() -> Path:
    d = Path(os.environ.get("TL_EMU_CACHE", Path(tempfile.gettempdir()) / "tl_emu_cache"))
    d.mkdir(parents=True, exist_ok=True)
    return d


def kernel_names(source_file: Path, extra_flags=()) -> list:
    """Names of the non-template `__global__` functions left after preprocessing with TL_EMULATION."""
    pre = subprocess.run(
        [CXX, "-E", "-P", "-x", "c++", "-std=c++20", "-DTL_EMULATION=1", f"-I{KERNELS_DIR}",
         *extra_flags, str(source_file)],
        check=True, capture_output=True, text=True).stdout
    names = []
    for m in re.finditer(r"\b__global__\b", pre):
        head = pre[max(pre.rfind(";", 0, m.start()), pre.rfind("}", 0, m.start()), pre.rfind("{", 0, m.start())) + 1:m.start()]
        if re.search(r"\btemplate\b", head):
            continue
        i, depth, last_ident = m.end(), 0, None
        while i < len(pre):
            if pre.startswith("__launch_bounds__", i):
                i = pre.index("(", i)
                depth = 1
                i += 1
                while depth:
                    depth += {"(": 1, ")": -1}.get(pre[i], 0)
                    i += 1
                continue
            c = pre[i]
            if c == "(":
                break
            mm = re.match(r"[A-Za-z_]\w*", pre[i:])
            if mm:
                last_ident = mm.group(0)
                i += len(mm.group(0))
                continue
            i += 1
        if last_ident and last_ident not in names:
            names.append(last_ident)
    return names


def build(cu_stem: str, extra_flags=()) -> ctypes.CDLL:
    """Compile `cuda_kernels/<cu_stem>.cu` with the emulator and load it (memoized, cached on disk).

    Args:
        cu_stem: file name without `.cu`, e.g. "reduce" (or a path ending in `.cu`).
        extra_flags: more g++ flags, e.g. ("-DTILE=64",) or ("-fsanitize=undefined",).
    Returns:
        A ctypes.CDLL; `lib.tl_kernels` lists the exported kernel names.
    """
    if shutil.which(CXX) is None:
        raise RuntimeError(f"{CXX} not found")
    src = Path(cu_stem) if cu_stem.endswith(".cu") else KERNELS_DIR / f"{cu_stem}.cu"
    cu_stem = src.stem
    h = hashlib.sha256()
    for p in [src, HEADER, Path(__file__), *sorted(KERNELS_DIR.glob("*.cuh"))]:
        h.update(p.name.encode() + p.read_bytes())
    h.update(repr((BASE_FLAGS, tuple(extra_flags))).encode())
    key = (cu_stem, h.hexdigest()[:20])
    if key in _LIBS:
        return _LIBS[key]
    out = _cache_dir() / f"{cu_stem}-{key[1]}.so"
    names = kernel_names(src, extra_flags)
    if not out.exists():
        lines = [f'#include "{src}"',
                 'extern "C" const char* tl_emu_last_error() { return tl_emu::rt().error.c_str(); }']
        for n in names:
            lines.append(
                f'extern "C" int tl_emu_launch__{n}(const unsigned* g, const unsigned* b, '
                f"unsigned long long s, void** a) {{ return tl_emu::launch_fn(&{n}, g, b, s, a); }}")
            lines.append(
                f'extern "C" int tl_emu_sig__{n}(int* o, int c) {{ return tl_emu::signature(&{n}, o, c); }}')
        fd, wrapper = tempfile.mkstemp(suffix=".cpp", prefix=f"{cu_stem}-", dir=_cache_dir())
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        tmp_out = f"{out}.{os.getpid()}.tmp"
        cmd = [CXX, *BASE_FLAGS, "-include", str(HEADER), "-DTL_EMULATION=1", f"-I{KERNELS_DIR}",
               *extra_flags, wrapper, "-o", tmp_out]
        r = subprocess.run(cmd, capture_output=True, text=True)
        os.unlink(wrapper)
        if r.returncode != 0:
            raise RuntimeError(f"emulator build of {src} failed:\n{' '.join(cmd)}\n{r.stderr[-8000:]}")
        os.replace(tmp_out, out)
    lib = ctypes.CDLL(str(out))
    lib.tl_emu_last_error.restype = ctypes.c_char_p
    lib.tl_kernels = names
    lib.tl_sigs = {}
    _LIBS[key] = lib
    return lib


_INT_CT = {(1, 1): ctypes.c_int8, (1, 2): ctypes.c_int16, (1, 4): ctypes.c_int32, (1, 8): ctypes.c_int64,
           (2, 1): ctypes.c_uint8, (2, 2): ctypes.c_uint16, (2, 4): ctypes.c_uint32, (2, 8): ctypes.c_uint64}
_FLT_CT = {4: ctypes.c_float, 8: ctypes.c_double}
_KIND_NAME = {0: "pointer", 1: "signed int", 2: "unsigned int", 3: "float", 4: "struct"}


def _dims(v):
    t = (v,) if isinstance(v, (int, np.integer)) else tuple(v)
    if not 1 <= len(t) <= 3:
        raise ValueError(f"grid/block needs 1 to 3 dims, got {v!r}")
    return (ctypes.c_uint * 3)(*(list(int(x) for x in t) + [1, 1])[:3])


def _signature(lib, name):
    if name not in lib.tl_sigs:
        try:
            fn = getattr(lib, f"tl_emu_sig__{name}")
        except AttributeError:
            raise KeyError(f"kernel {name!r} is not exported by this emulator build "
                           f"(exported: {', '.join(lib.tl_kernels)})") from None
        buf = (ctypes.c_int * 128)()
        n = fn(buf, 128)
        lib.tl_sigs[name] = [(buf[2 * i], buf[2 * i + 1]) for i in range(n)]
    return lib.tl_sigs[name]


def _convert(i, a, kind, size):
    where = f"argument {i} ({_KIND_NAME[kind]}, {size} bytes)"
    if kind == 0:
        if a is None:
            return ctypes.c_void_p(None)
        if isinstance(a, np.ndarray):
            return ctypes.c_void_p(a.ctypes.data)
        raise TypeError(f"{where}: expected a numpy array or None, got {type(a).__name__}")
    if isinstance(a, np.generic):
        ok = a.dtype.itemsize == size and (
            (kind == 3 and a.dtype.kind == "f") or (kind == 1 and a.dtype.kind == "i")
            or (kind == 2 and a.dtype.kind in "ub"))
        if not ok:
            raise TypeError(f"{where}: numpy scalar of dtype {a.dtype} does not match")
        a = a.item()
    if kind in (1, 2):
        if isinstance(a, float) or not isinstance(a, (int, bool)):
            raise TypeError(f"{where}: expected an int, got {type(a).__name__}")
        lo, hi = (-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1) if kind == 1 else (0, (1 << (8 * size)) - 1)
        if not lo <= int(a) <= hi:
            raise OverflowError(f"{where}: {a} out of range")
        return _INT_CT[(kind, size)](int(a))
    if kind == 3:
        if not isinstance(a, (int, float)):
            raise TypeError(f"{where}: expected a float, got {type(a).__name__}")
        return _FLT_CT[size](float(a))
    raw = bytes(a)
    if len(raw) != size:
        raise TypeError(f"{where}: struct argument needs exactly {size} bytes (bytes or ctypes.Structure)")
    return ctypes.create_string_buffer(raw, size)


def launch(lib, kernel_name: str, grid, block, smem: int, *args) -> None:
    """Run one kernel of an emulator build on the host (blocks one after another).

    Args:
        lib: what `build` returned.
        kernel_name: the kernel's C name, e.g. "tl_reduce_sum_rows_f32".
        grid, block: int or tuple of up to 3 ints (gridDim / blockDim).
        smem: dynamic shared memory bytes (as the 4th <<<>>> parameter / CuPy shared_mem).
        *args: the kernel arguments in order (see module docstring for the conversions).
    Raises:
        RuntimeError on an invalid launch or a barrier deadlock; TypeError on an argument mismatch.
    """
    sig = _signature(lib, kernel_name)
    if len(args) != len(sig):
        raise TypeError(f"{kernel_name} takes {len(sig)} arguments, got {len(args)}")
    store = [_convert(i, a, k, s) for i, (a, (k, s)) in enumerate(zip(args, sig))]
    argv = (ctypes.c_void_p * max(1, len(store)))(*[ctypes.cast(ctypes.pointer(s), ctypes.c_void_p) for s in store])
    rc = getattr(lib, f"tl_emu_launch__{kernel_name}")(_dims(grid), _dims(block), ctypes.c_ulonglong(int(smem)), argv)
    if rc != 0:
        raise RuntimeError(f"{kernel_name}: {lib.tl_emu_last_error().decode()}")
