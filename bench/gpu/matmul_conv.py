"""GEMM-family kernels vs vendor libraries on one GPU: matmul (cuBLAS via CuPy / PyTorch) and
NHWC conv2d forward / input-grad / filter-grad (cuDNN via PyTorch, channels_last), plus the
float16 forward and input gradient (our tensor-core kernel, and tensorlab's CuPy path as
`...[cupy]`, vs cuDNN in float16).

TF32 is off everywhere (our float32 kernels are full fp32; cuBLAS / cuDNN are asked for fp32
too). Times are CUDA-event medians after warm-up of back-to-back batches (bench/gpu/timing.py);
inputs rotate through several buffers when one set would sit in L2. Each row: {"bench",
"shape", "ours_ms", "ref_ms", "ratio" (ref / ours, > 1 means we are faster), "tflops" (ours)};
a default row also names the `kernel` the launcher chose, and rows `<bench>[<variant>]` time the
other kernels that could have been chosen for the same shape, so that gpu-check's table shows
where a default choice loses.

Run: ``python bench/gpu/matmul_conv.py [--quick]`` (prints one JSON row per line).
"""
from __future__ import annotations

import json
import math
import os
import sys

L2_BYTES = 60 * 2**20


def load_launchers(*stems):
    """Launcher modules; if the CUDA backend package fails to import for an unrelated reason,
    the `kernels` folder is loaded as a standalone package (it only needs CuPy)."""
    import importlib

    try:
        return tuple(importlib.import_module(f"tensorlab.backend.cuda.kernels.{s}") for s in stems)
    except Exception:
        pass
    import importlib.util
    import sys as _sys
    from pathlib import Path

    kdir = Path(__file__).resolve().parents[2] / "tensorlab/backend/cuda/kernels"
    name = "_tl_kernels_standalone"
    if name not in _sys.modules:
        spec = importlib.util.spec_from_file_location(name, kdir / "__init__.py",
                                                      submodule_search_locations=[str(kdir)])
        pkg = importlib.util.module_from_spec(spec)
        _sys.modules[name] = pkg
        spec.loader.exec_module(pkg)
    return tuple(importlib.import_module(f"{name}.{s}") for s in stems)


def _timer(repeats, warmup):
    from bench.gpu.timing import time_ms as _time_ms

    def time_ms(fn):
        return _time_ms(fn, repeats=repeats, warmup=warmup)

    return time_ms


def _sets(nbytes):
    """How many input buffer sets to rotate so that one pass does not fit in L2."""
    return max(1, min(8, math.ceil(2 * L2_BYTES / max(nbytes, 1))))


def _row(results, bench, shape, ours, ref, flop):
    results.append({"bench": bench, "shape": shape, "ours_ms": round(ours, 4),
                    "ref_ms": round(ref, 4) if ref is not None else None,
                    "ratio": round(ref / ours, 3) if ref else None,
                    "tflops": round(flop / (ours * 1e-3) / 1e12, 2)})
    print(json.dumps(results[-1]), flush=True)


def _torch():
    try:
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
        return torch
    except Exception:  # PyTorch is an optional reference
        return None


def matmul_operands(dtype, m, n, k, nsets, torch):
    """`nsets` random (m, k) and (k, n) operand pairs on the GPU as CuPy arrays (bfloat16 as
    uint16 bits) and the vendor reference `fn(i)` on pair i % nsets: cuBLAS through CuPy, or
    through PyTorch for bfloat16 (None when PyTorch is missing)."""
    import cupy

    if dtype == "bfloat16":
        if torch is None:
            return None
        ta = [torch.randn(m, k, device="cuda", dtype=torch.bfloat16) for _ in range(nsets)]
        tb = [torch.randn(k, n, device="cuda", dtype=torch.bfloat16) for _ in range(nsets)]
        ca = [cupy.from_dlpack(t.view(torch.int16)).view(cupy.uint16) for t in ta]
        cb = [cupy.from_dlpack(t.view(torch.int16)).view(cupy.uint16) for t in tb]
        return ca, cb, lambda i: torch.matmul(ta[i % nsets], tb[i % nsets])
    ca = [cupy.random.standard_normal((m, k), dtype=cupy.float32).astype(dtype)
          for _ in range(nsets)]
    cb = [cupy.random.standard_normal((k, n), dtype=cupy.float32).astype(dtype)
          for _ in range(nsets)]
    return ca, cb, lambda i: cupy.matmul(ca[i % nsets], cb[i % nsets])


#: the kernels `select_variant` picks between for large products (wgmma: bench/gpu/matmul_sm90.py)
ALTERNATIVES = {
    "float32": ("tl_matmul_f32_128x128", "tl_matmul_f32_128x128k16"),
    "float16": ("tl_matmul_f16_tc", "tl_matmul_f16_tc_128x256"),
    "bfloat16": ("tl_matmul_bf16_tc", "tl_matmul_bf16_tc_128x256"),
}


def bench_matmul(results, time_ms, quick):
    import cupy

    (mm,) = load_launchers("matmul")

    torch = _torch()
    if os.environ.get("CUPY_TF32", "0") != "0":
        print("warning: CUPY_TF32 is set; the cuBLAS float32 reference may use TF32",
              file=sys.stderr)
    shapes = [(1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096), (8192, 8192, 8192),
              (8192, 1024, 64), (64, 8192, 8192)]
    for dtype in ("float32", "float16", "bfloat16"):
        for m, n, k in shapes:
            if dtype != "float32" and (m, n, k) in ((8192, 1024, 64), (64, 8192, 8192)):
                continue
            if quick and m * n * k > 4096**3 and dtype != "float32":
                continue
            itemsize = 4 if dtype == "float32" else 2
            nsets = _sets((m * k + k * n) * itemsize)
            ops = matmul_operands(dtype, m, n, k, nsets, torch)
            if ops is None:
                continue
            ca, cb, reference = ops
            ours = time_ms(lambda i: mm.matmul(ca[i % nsets], cb[i % nsets], dtype_name=dtype))
            ref = time_ms(reference)
            default = mm.select_variant(m, n, k, dtype, False, 1,
                                        cupy.cuda.Device().attributes["MultiProcessorCount"],
                                        mm.wgmma_cc() if dtype != "float32" else None)
            _row(results, f"matmul_{dtype}", f"{m}x{n}x{k}", ours, ref, 2.0 * m * n * k)
            results[-1]["kernel"] = default
            # the other kernels for this shape, against the same reference in the same run
            for variant in ALTERNATIVES[dtype]:
                if variant == default:
                    continue
                cand = time_ms(lambda i: mm.matmul(ca[i % nsets], cb[i % nsets], dtype_name=dtype,
                                                   variant=variant))
                _row(results, f"matmul_{dtype}[{variant.rsplit('_', 1)[-1]}]", f"{m}x{n}x{k}",
                     cand, ref, 2.0 * m * n * k)
            del ca, cb, reference, ops  # the reference closure holds the operands too
            cupy.get_default_memory_pool().free_all_blocks()


CONV_SHAPES = [  # (N, H, W, C, KH, KW, OC)
    (64, 56, 56, 64, 3, 3, 64),
    (64, 28, 28, 128, 3, 3, 128),
    (64, 14, 14, 256, 3, 3, 256),
    (64, 7, 7, 512, 3, 3, 512),
    (64, 56, 56, 64, 1, 1, 256),
]


def bench_conv(results, time_ms, quick):
    import cupy

    (cv,) = load_launchers("conv")

    torch = _torch()
    for N, H, W, C, KH, KW, OC in CONV_SHAPES:
        (oh, ow), pads = cv.same_valid_pads((H, W), (KH, KW), 1, 1, "SAME")
        x = cupy.random.standard_normal((N, H, W, C), dtype=cupy.float32)
        w = cupy.random.standard_normal((KH, KW, C, OC), dtype=cupy.float32) * 0.05
        dy = cupy.random.standard_normal((N, oh, ow, OC), dtype=cupy.float32)
        shape = f"{N}x{H}x{W}x{C} {KH}x{KW}->{OC}"
        flop = 2.0 * N * oh * ow * OC * KH * KW * C
        refs = {}
        if torch is not None:
            tx = torch.from_dlpack(x).permute(0, 3, 1, 2)  # NHWC memory = channels_last
            tw = torch.from_dlpack(w).permute(3, 2, 0, 1).contiguous(
                memory_format=torch.channels_last)
            tdy = torch.from_dlpack(dy).permute(0, 3, 1, 2)
            pad = pads[0]  # SAME with odd kernels and stride 1 is symmetric
            F = torch.nn.functional
            refs["fwd"] = lambda i: F.conv2d(tx, tw, None, 1, pad)
            refs["bwd_input"] = lambda i: torch.nn.grad.conv2d_input(tx.shape, tw, tdy, 1, pad)
            refs["bwd_filter"] = lambda i: torch.nn.grad.conv2d_weight(tx, tw.shape, tdy, 1, pad)
        ours = {
            "fwd": lambda i: cv.conv2d_forward(x, w, 1, pads, 1, 1),
            "bwd_input": lambda i: cv.conv2d_backprop_input(dy, w, x.shape, 1, pads, 1, 1),
            "bwd_filter": lambda i: cv.conv2d_backprop_filter(x, dy, w.shape, 1, pads, 1, 1),
        }
        sms = cupy.cuda.Device().attributes["MultiProcessorCount"]
        split_by_default = "partial_shape" in cv.plan_conv2d_forward(x.shape, w.shape, 1, pads, 1, 1, True, sms)
        if split_by_default:  # the other choice, timed next to the default
            ours["fwd[nosplit]"] = lambda i: cv.conv2d_forward(x, w, 1, pads, 1, 1, variant="nosplit")
        elif "partial_shape" in cv.plan_conv2d_forward(x.shape, w.shape, 1, pads, 1, 1, True, sms, "splitk"):
            ours["fwd[splitk]"] = lambda i: cv.conv2d_forward(x, w, 1, pads, 1, 1, variant="splitk")
        for kind, fn in ours.items():
            t_ours = time_ms(fn)
            ref_kind = kind.split("[")[0]
            t_ref = time_ms(refs[ref_kind]) if ref_kind in refs else None
            _row(results, f"conv2d_{ref_kind}_f32" + kind[len(ref_kind):], shape, t_ours, t_ref, flop)
        _bench_conv_f16(results, time_ms, cv, torch, x, w, dy, pads, shape, flop)
        del x, w, dy
        cupy.get_default_memory_pool().free_all_blocks()


def _bench_conv_f16(results, time_ms, cv, torch, x, w, dy, pads, shape, flop):
    """float16 forward and input gradient (mixed precision's convolutions): our tensor-core kernel,
    which tensorlab's CUDA implementation runs for them, as `conv2d_{fwd,bwd_input}_f16`, and the
    CuPy path it replaced (im2col / col2im + cuBLAS) as `...[cupy]`, each against cuDNN in
    float16 (channels_last). All shapes here have stride 1."""
    x16, w16, dy16 = x.astype("float16"), w.astype("float16"), dy.astype("float16")
    geo = dict(strides=(1, 1), pads=pads, dilations=(1, 1), groups=1)
    ours = {"fwd": lambda i: cv.conv2d_forward(x16, w16, 1, pads, 1, 1, variant="tc"),
            "bwd_input": lambda i: cv.conv2d_backprop_input(dy16, w16, x16.shape, 1, pads, 1, 1,
                                                           variant="tc")}
    try:
        from tensorlab.backend.cuda.conv import _fallback
        ours.update({"fwd[cupy]": lambda i: _fallback["conv2d"](x16, w16, **geo),
                     "bwd_input[cupy]": lambda i: _fallback["conv2d_backprop_input"](
                         dy16, w16, input_shape=x16.shape, **geo)})
    except Exception as e:  # the launcher alone still times our kernel
        print(f"[conv2d f16] tensorlab's CuPy path unavailable: {e!r}", flush=True)
    refs = {}
    if torch is not None:
        tx = torch.from_dlpack(x16).permute(0, 3, 1, 2)
        tw = torch.from_dlpack(w16).permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)
        tdy = torch.from_dlpack(dy16).permute(0, 3, 1, 2)
        refs["fwd"] = time_ms(lambda i: torch.nn.functional.conv2d(tx, tw, None, 1, pads[0]))
        refs["bwd_input"] = time_ms(lambda i: torch.nn.grad.conv2d_input(tx.shape, tw, tdy, 1, pads[0]))
    for kind, fn in ours.items():
        base = kind.split("[")[0]
        _row(results, f"conv2d_{base}_f16" + kind[len(base):], shape, time_ms(fn), refs.get(base), flop)


def run(results: list, quick: bool = False):
    """Append benchmark rows to `results` (see module docstring); < 120 s on an H100."""
    time_ms = _timer(repeats=20 if quick else 30, warmup=2 if quick else 3)
    bench_matmul(results, time_ms, quick)
    bench_conv(results, time_ms, quick)
    return results


if __name__ == "__main__":
    sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
    run([], quick="--quick" in sys.argv)
