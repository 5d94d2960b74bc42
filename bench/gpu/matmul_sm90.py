"""The sm_90a wgmma matmul kernels (cuda_kernels/matmul_sm90.cu) vs cuBLAS in float16 and
bfloat16, on compute capability 9.0 only, forced by `variant=` in both operand layouts; the
default float16/bfloat16 rows of bench/gpu/matmul_conv.py run them too where `select_variant`
picks them (large products, K % 8 == 0).

Rows (same format as bench/gpu/matmul_conv.py, which also times the mma.sync kernels on
the same shapes, in the same process):
  * `matmul_<dtype>[wgmma]`: A (M, K) and B (K, N) row-major, as Dense layers hold them: the
    n-major B tile goes through wgmma's transpose bit (kernel `..._akbn`);
  * `matmul_<dtype>[wgmma_bk]`: B stored (N, K) (`transpose_b=True`), both tiles k-major
    (kernel `..._akbk`).

Run: ``python bench/gpu/matmul_sm90.py [--quick]`` (prints one JSON row per line).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from bench.gpu.matmul_conv import (  # noqa: E402
    _row, _sets, _timer, _torch, load_launchers, matmul_operands)


def bench_wgmma(results, time_ms, quick):
    import cupy

    if cupy.cuda.Device().compute_capability != "90":
        results.append({"bench": "matmul_sm90", "skipped": "needs compute capability 9.0"})
        return
    (mm,) = load_launchers("matmul")
    torch = _torch()
    shapes = [(2048, 2048, 2048), (4096, 4096, 4096)] + ([] if quick else [(8192, 8192, 8192)])
    for dtype in ("float16", "bfloat16"):
        d = "f16" if dtype == "float16" else "bf16"
        for m, n, k in shapes:
            nsets = _sets((m * k + k * n) * 2)
            ops = matmul_operands(dtype, m, n, k, nsets, torch)
            if ops is None:
                continue
            ca, cb, reference = ops
            ref = time_ms(reference)
            cbt = [cupy.ascontiguousarray(b.T) for b in cb]  # stored (N, K): k-major B
            variant = f"tl_matmul_{d}_wgmma"
            ours = time_ms(lambda i: mm.matmul(ca[i % nsets], cb[i % nsets], dtype_name=dtype,
                                               variant=variant))
            _row(results, f"matmul_{dtype}[wgmma]", f"{m}x{n}x{k}", ours, ref, 2.0 * m * n * k)
            ours = time_ms(lambda i: mm.matmul(ca[i % nsets], cbt[i % nsets], transpose_b=True,
                                               dtype_name=dtype, variant=variant))
            _row(results, f"matmul_{dtype}[wgmma_bk]", f"{m}x{n}x{k}", ours, ref,
                 2.0 * m * n * k)
            del ca, cb, cbt, reference, ops  # the reference closure holds the operands too
            cupy.get_default_memory_pool().free_all_blocks()


def run(results: list, quick: bool = False):
    """Append benchmark rows to `results`; < 30 s on an H100."""
    time_ms = _timer(repeats=20 if quick else 30, warmup=2 if quick else 3)
    bench_wgmma(results, time_ms, quick)
    return results


if __name__ == "__main__":
    run([], quick="--quick" in sys.argv)
