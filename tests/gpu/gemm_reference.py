"""Shared pieces of the GEMM-family GPU tests (test_kernels_gemm_gpu.py, test_kernels_sm90_gpu.py):
numpy float64 references, operand makers, bfloat16 bit conversions, NaN-poisoned CuPy allocations
and the no-device skip. Imports without CuPy or a GPU."""
import contextlib

import numpy as np
import pytest

LAYOUTS = [(False, False), (True, False), (False, True), (True, True)]


def skip_without_cuda_device(cupy):
    """Skips the calling test module when CuPy sees no usable CUDA device."""
    try:
        n = cupy.cuda.runtime.getDeviceCount()
    except Exception:
        n = 0
    if n <= 0:
        pytest.skip("no CUDA device", allow_module_level=True)


def rel_err(out, ref):
    out = np.asarray(out, np.float64)
    assert np.isfinite(out).all(), "non-finite outputs"
    n = np.linalg.norm(ref.ravel())
    d = np.linalg.norm((out - ref).ravel())
    return d / n if n else d


def f32_to_bf16_bits(x):
    """Round-to-nearest-even float32 -> bfloat16 bit patterns (uint16)."""
    u = np.ascontiguousarray(x, np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def bf16_bits_to_f64(b):
    return (np.asarray(b, np.uint16).astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def ref_mm(a, b, ta, tb):
    if ta:
        a = np.swapaxes(a, -1, -2)
    if tb:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a.astype(np.float64), b.astype(np.float64))


def operand(rng, rows, cols, trans, dtype=np.float32, batch=()):
    shape = batch + ((cols, rows) if trans else (rows, cols))
    return rng.standard_normal(shape).astype(dtype)


def matmul16_error(mm, cupy, rng, dtype, m, n, k, ta, tb, variant):
    """Relative error of the launcher's float16 / bfloat16 `variant` on fresh random operands
    (stored transposed where ta / tb) against the float64 product of the rounded inputs."""
    if dtype == "float16":
        a = operand(rng, m, k, ta, np.float16)
        b = operand(rng, k, n, tb, np.float16)
        av, bv = a, b
    else:
        a = f32_to_bf16_bits(operand(rng, m, k, ta))
        b = f32_to_bf16_bits(operand(rng, k, n, tb))
        av, bv = bf16_bits_to_f64(a), bf16_bits_to_f64(b)
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b), ta, tb, dtype_name=dtype, variant=variant)
    got = out.get() if dtype == "float16" else bf16_bits_to_f64(out.get())
    return rel_err(got, ref_mm(av, bv, ta, tb))


@contextlib.contextmanager
def nan_poisoned_allocations(cupy):
    """Allocations through CuPy's pool start as 0xFF bytes (NaN in every float format) inside
    the block, so an output element a kernel leaves unwritten fails `rel_err`."""
    pool = cupy.get_default_memory_pool()

    def alloc(size):
        mem = pool.malloc(size)
        if size:
            mem.memset_async(0xFF, size)
        return mem

    cupy.cuda.set_allocator(alloc)
    try:
        yield
    finally:
        cupy.cuda.set_allocator(pool.malloc)
