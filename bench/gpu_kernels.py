"""GPU kernel benchmarks: our kernels vs cuBLAS / cuDNN (PyTorch) / a device copy.

Every figure is a median over repeats timed with CUDA events after warm-up
(back-to-back batches: bench/gpu/timing.py), and every ratio compares two
things measured in this same process
(ratio = reference time / our time, so > 1 means we are faster).

Run on a GPU machine: ``PYTHONPATH=. python3 bench/gpu_kernels.py [--quick] [--json FILE]``.
"""
import argparse
import json
import os
import statistics
import sys
import time
import traceback

sys.path.insert(0, ".")


def launch_overhead(results, quick=False):
    """Host-side cost of one tiny op: tensorlab vs bare CuPy vs PyTorch."""
    import cupy as cp
    import numpy as np
    import tensorlab as tl
    n = 2000 if quick else 10000
    rng = np.random.default_rng()
    a_np = rng.standard_normal(4).astype(np.float32)
    with tl.device("gpu:0"):
        a, b = tl.constant(a_np), tl.constant(a_np[::-1].copy())
    ca, cb = cp.asarray(a_np), cp.asarray(a_np[::-1].copy())

    def per_call(fn):
        fn()
        cp.cuda.Device().synchronize()
        samples = []
        for _ in range(5):
            t0 = time.perf_counter()
            for _ in range(n):
                fn()
            cp.cuda.Device().synchronize()
            samples.append((time.perf_counter() - t0) / n * 1e6)
        return statistics.median(samples)

    t_tl = per_call(lambda: tl.add(a, b))
    t_cp = per_call(lambda: cp.add(ca, cb))
    row = {"bench": "launch_overhead_add4", "shape": "4", "ours_us": t_tl, "cupy_us": t_cp,
           "ratio_vs_cupy": t_cp / t_tl}
    try:
        import torch
        ta = torch.from_numpy(a_np).cuda()
        tb = torch.from_numpy(a_np[::-1].copy()).cuda()
        t_pt = per_call(lambda: torch.add(ta, tb))
        row.update(torch_us=t_pt, ratio_vs_torch=t_pt / t_tl)
    except Exception as e:  # PyTorch is an optional reference
        row["torch_error"] = repr(e)
    results.append(row)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    results = []
    import importlib

    def save():  # after every stage: a run stopped by gpu-check's time limit keeps what it measured
        if args.json:
            with open(args.json + ".part", "w") as f:
                json.dump(results, f, indent=1, default=str)
            os.replace(args.json + ".part", args.json)

    # matmul_sm90 last: its forced-layout rows are the least needed if time runs short
    for name in ("bench.gpu.matmul_conv", "bench.gpu.rowwise", "launch_overhead",
                 "bench.gpu.keras_training", "bench.gpu.matmul_sm90"):
        t0 = time.time()
        try:
            if name == "launch_overhead":
                launch_overhead(results, quick=args.quick)
            else:
                importlib.import_module(name).run(results, quick=args.quick)
        except Exception:
            results.append({"bench": name, "error": traceback.format_exc(limit=4)})
        print(f"[{name}] {time.time() - t0:.1f}s", flush=True)
        save()
    print_table(results)


def candidate_speedups(results):
    """Each candidate row ("<bench>[<tag>]") against its default row ("<bench>", same shape):
    a list of (candidate bench, shape, default time / candidate time), > 1 when the candidate is
    faster. Rows with errors or no matching default are left out."""
    times = {}
    for r in results:
        if "error" not in r and r.get("ours_ms"):
            times[(r["bench"], str(r.get("shape")))] = r["ours_ms"]
    out = []
    for (bench, shape), ms in times.items():
        if bench.endswith("]") and "[" in bench:
            base = times.get((bench[:bench.index("[")], shape))
            if base:
                out.append((bench, shape, round(base / ms, 3)))
    return out


def print_table(results):
    print(f"{'bench':<34}{'shape':<26}{'ours':>10}{'ref':>10}{'ratio':>8}{'rate':>12}")
    for r in results:
        if "error" in r:
            print(f"{r['bench']:<34}ERROR {r['error'].strip().splitlines()[-1][:80]}")
            continue
        if "skipped" in r:
            print(f"{r['bench']:<34}SKIPPED {r['skipped'][:80]}")
            continue
        ours = r.get("ours_ms", r.get("ours_us"))
        ref = r.get("ref_ms", r.get("cupy_us"))
        ratio = r.get("ratio", r.get("ratio_vs_cupy"))
        rate = r.get("tflops")
        rate_s = f"{rate:.1f}TF/s" if rate else (f"{r['frac_of_copy']:.2f}xcopy" if r.get("frac_of_copy") else "")
        print(f"{str(r['bench'])[:33]:<34}{str(r.get('shape', ''))[:25]:<26}"
              f"{(ours if ours is not None else float('nan')):>10.4g}{(ref if ref is not None else float('nan')):>10.4g}"
              f"{(ratio if ratio is not None else float('nan')):>8.3f}{rate_s:>12}")
    speedups = candidate_speedups(results)
    if speedups:
        print("candidates vs the default kernel (default time / candidate time; > 1: the candidate is faster)")
        for bench, shape, x in speedups:
            print(f"  {bench[:44]:<46}{shape[:25]:<26}{x:>8.3f}")


if __name__ == "__main__":
    main()
