"""Memory-bound kernels on one GPU: reductions, softmax, log_softmax, sparse cross-entropy
(fused loss + dlogits), layer norm (forward), bias+GELU; large rows (4k-64k columns) and many
small rows.

Each row: {"bench", "shape", "ours_ms", "ref_ms", "ratio" (ref / ours, > 1 means we are faster),
"gbps" (ours: bytes that must move / time), "frac_of_copy" (gbps over a device-to-device copy
of the same bytes measured in the same run), "call_ms" (ours: one lone call between two events,
host launch work included)}. ref is CuPy or PyTorch where a natural counterpart exists (None
otherwise). Times are CUDA-event medians of back-to-back batches after warm-up
(bench/gpu/timing.py); every tensor is 256 MiB or more (over four times the L2), so that a kernel
runs far longer than its launch and no input sits in L2.

Run: ``python bench/gpu/rowwise.py [--quick]`` (prints one JSON row per line).
"""
from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from bench.gpu.timing import call_ms, time_ms  # noqa: E402

L2_BYTES = 60 * 2 ** 20


def _load():
    import importlib

    try:
        return tuple(importlib.import_module(f"tensorlab.backend.cuda.kernels.{s}") for s in ("reduce", "rowwise", "fused"))
    except ImportError:
        import importlib.util
        from pathlib import Path

        kdir = Path(__file__).resolve().parents[2] / "tensorlab/backend/cuda/kernels"
        name = "_tl_kernels_standalone"
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, kdir / "__init__.py",
                                                          submodule_search_locations=[str(kdir)])
            pkg = importlib.util.module_from_spec(spec)
            sys.modules[name] = pkg
            spec.loader.exec_module(pkg)
        return tuple(importlib.import_module(f"{name}.{s}") for s in ("reduce", "rowwise", "fused"))


def run(results: list, quick: bool = False):
    import cupy
    import numpy as np

    try:
        import torch

        if not torch.cuda.is_available():
            torch = None
    except Exception:  # torch is optional
        torch = None
    R, RW, F = _load()
    reps = 20 if quick else 30

    def tt(a):
        return torch.from_dlpack(a) if torch is not None else None

    copy_cache = {}

    def copy_gbps(nbytes):
        # a copy of nbytes/2 reads and writes nbytes in total
        n = max(1, nbytes // 8)
        if n not in copy_cache:
            nb = max(1, min(16, -(-2 * L2_BYTES // (8 * n))))
            src = [cupy.ones(n, np.float32) for _ in range(nb)]
            dst = [cupy.empty(n, np.float32) for _ in range(nb)]
            ms = time_ms(lambda i: dst[i % nb].__setitem__(Ellipsis, src[i % nb]), reps)
            copy_cache[n] = 8 * n / ms / 1e6
        return copy_cache[n]

    def bench(name, shape, make, ours, ref, nbytes_fn):
        one = make()
        nbytes = nbytes_fn(one)
        nbuf = max(1, min(16, -(-2 * L2_BYTES // nbytes)))
        sets = [one] + [make() for _ in range(nbuf - 1)]
        ours_ms = time_ms(lambda i: ours(sets[i % nbuf]), reps)
        ref_ms = time_ms(lambda i: ref(sets[i % nbuf]), reps) if ref is not None else None
        gbps = nbytes / ours_ms / 1e6
        row = {"bench": name, "shape": list(shape), "ours_ms": round(ours_ms, 4),
               "ref_ms": None if ref_ms is None else round(ref_ms, 4),
               "ratio": None if ref_ms is None else round(ref_ms / ours_ms, 3),
               "gbps": round(gbps, 1), "frac_of_copy": round(gbps / copy_gbps(nbytes), 3),
               "call_ms": round(call_ms(lambda i: ours(sets[i % nbuf]), 10), 4)}
        results.append(row)
        del sets
        cupy.get_default_memory_pool().free_all_blocks()
        return row

    rs = np.random.default_rng(0)

    def randn(shape, dt=np.float32):
        return cupy.random.standard_normal(shape, dtype=np.float32).astype(dt, copy=False)

    # 256 MiB of float32 each
    row_shapes = [(16384, 4096), (4096, 16384), (1024, 65536), (524288, 128), (2097152, 32)]
    if quick:
        row_shapes = [(16384, 4096), (1024, 65536), (524288, 128)]

    for shape in row_shapes:
        rows, cols = shape
        n = rows * cols
        bench("reduce_sum_rows", shape, lambda: randn(shape), lambda x: R.reduce(x, "sum", axes=1),
              lambda x: x.sum(axis=1), lambda x: x.nbytes + rows * 4)
        bench("reduce_max_rows", shape, lambda: randn(shape), lambda x: R.reduce(x, "max", axes=1),
              (lambda x: torch.amax(tt(x), dim=1)) if torch else (lambda x: x.max(axis=1)), lambda x: x.nbytes + rows * 4)
        bench("softmax", shape, lambda: randn(shape), RW.softmax,
              (lambda x: torch.softmax(tt(x), dim=1)) if torch else None, lambda x: 2 * x.nbytes)
        bench("log_softmax", shape, lambda: randn(shape), RW.log_softmax,
              (lambda x: torch.log_softmax(tt(x), dim=1)) if torch else None, lambda x: 2 * x.nbytes)
        if RW.cached_threads(cols, 4) is not None:  # the register-cached candidates, same run
            bench("softmax[cached]", shape, lambda: randn(shape), lambda x: RW.softmax(x, variant="cached"),
                  (lambda x: torch.softmax(tt(x), dim=1)) if torch else None, lambda x: 2 * x.nbytes)
            bench("log_softmax[cached]", shape, lambda: randn(shape), lambda x: RW.log_softmax(x, variant="cached"),
                  (lambda x: torch.log_softmax(tt(x), dim=1)) if torch else None, lambda x: 2 * x.nbytes)

        def mk_xent():
            return randn(shape), cupy.random.randint(0, cols, rows)

        def ref_xent(a):
            x, lab = tt(a[0]), tt(a[1]).view(-1, 1)
            loss = torch.logsumexp(x, 1) - x.gather(1, lab).squeeze(1)
            d = torch.softmax(x, 1).scatter_add_(1, lab, -torch.ones_like(lab, dtype=x.dtype))
            return loss, d

        bench("sparse_xent_fwd_bwd", shape, mk_xent, lambda a: RW.sparse_xent(a[0], a[1]),
              ref_xent if torch else None, lambda a: 2 * a[0].nbytes + rows * 12)
        if RW.cached_threads(cols, 4) is not None:
            bench("sparse_xent_fwd_bwd[cached]", shape, mk_xent,
                  lambda a: RW.sparse_xent(a[0], a[1], variant="cached"),
                  ref_xent if torch else None, lambda a: 2 * a[0].nbytes + rows * 12)

        def mk_ln():
            return randn(shape), randn((cols,)), randn((cols,))

        bench("layer_norm_fwd", shape, mk_ln, lambda a: RW.layer_norm(a[0], a[1], a[2], 1e-5),
              (lambda a: torch.nn.functional.layer_norm(tt(a[0]), (cols,), tt(a[1]), tt(a[2]), 1e-5)) if torch else None,
              lambda a: 2 * a[0].nbytes + rows * 8)
        if RW.cached_threads(cols, 4) is not None:
            bench("layer_norm_fwd[cached]", shape, mk_ln,
                  lambda a: RW.layer_norm(a[0], a[1], a[2], 1e-5, variant="cached"),
                  (lambda a: torch.nn.functional.layer_norm(tt(a[0]), (cols,), tt(a[1]), tt(a[2]), 1e-5))
                  if torch else None, lambda a: 2 * a[0].nbytes + rows * 8)

    # whole-tensor and column reductions, bias+gelu
    n = 1 << 26
    bench("reduce_sum_all", (n,), lambda: randn((n,)), lambda x: R.reduce(x, "sum"), lambda x: x.sum(),
          lambda x: x.nbytes)
    shape = (1 << 16, 1024)
    bench("reduce_sum_cols", shape, lambda: randn(shape), lambda x: R.reduce(x, "sum", axes=0),
          lambda x: x.sum(axis=0), lambda x: x.nbytes)
    bench("reduce_sum_cols[scalar]", shape, lambda: randn(shape), lambda x: R.reduce(x, "sum", axes=0, variant="scalar"),
          lambda x: x.sum(axis=0), lambda x: x.nbytes)
    bench("argmax_rows", (8192, 8192), lambda: randn((8192, 8192)), lambda x: R.argreduce(x, "argmax", axis=1),
          lambda x: x.argmax(axis=1), lambda x: x.nbytes)
    shape = (16384, 4096)
    bench("bias_gelu_tanh", shape, lambda: (randn(shape), randn((shape[1],))),
          lambda a: F.bias_act(a[0], a[1], "gelu_tanh"),
          (lambda a: torch.nn.functional.gelu(tt(a[0]) + tt(a[1]), approximate="tanh")) if torch else None,
          lambda a: 2 * a[0].nbytes)
    return results


if __name__ == "__main__":
    out: list = []
    run(out, quick="--quick" in sys.argv)
    for r in out:
        print(json.dumps(r))
