"""Per-op eager time: tensorlab vs numpy vs PyTorch (if installed), side by side.

Small tensors (4 elements) measure dispatch overhead; medium ones (1M
elements) measure the op itself. Each row is the median of several repeats
of a timed loop, all in this one process, so ratios are comparable.

Run: ``make bench`` or ``python bench/eager_dispatch.py [--quick]``.
"""
import argparse
import statistics
import sys
import timeit

import numpy as np

sys.path.insert(0, ".")
import tensorlab as tl  # noqa: E402

try:
    import torch
    torch.set_num_threads(1)
except Exception:  # PyTorch is an optional reference
    torch = None


def median_us(fn, number, repeat):
    fn()
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return statistics.median(times) / number * 1e6


OPS = {
    "add": (lambda a, b: tl.add(a, b), np.add, lambda a, b: torch.add(a, b)),
    "multiply": (lambda a, b: a * b, np.multiply, lambda a, b: a * b),
    "exp": (lambda a, b: tl.exp(a), lambda a, b: np.exp(a), lambda a, b: torch.exp(a)),
    "reduce_sum": (lambda a, b: tl.reduce_sum(a), lambda a, b: np.sum(a), lambda a, b: torch.sum(a)),
}


def run(quick=False):
    rng = np.random.default_rng()
    rows = []
    for size in (4, 1_000_000):
        number = (20000 if size == 4 else 20) // (4 if quick else 1)
        repeat = 5 if quick else 9
        a_np = rng.standard_normal(size).astype(np.float32)
        b_np = rng.standard_normal(size).astype(np.float32)
        with tl.device("cpu"):
            a, b = tl.constant(a_np), tl.constant(b_np)
        ta = torch.from_numpy(a_np.copy()) if torch else None
        tb = torch.from_numpy(b_np.copy()) if torch else None
        for name, (f_tl, f_np, f_torch) in OPS.items():
            t_tl = median_us(lambda: f_tl(a, b), number, repeat)
            t_np = median_us(lambda: f_np(a_np, b_np), number, repeat)
            with tl.GradientTape() as tape:
                tape.watch(a)
                t_tape = median_us(lambda: f_tl(a, b), number, repeat)
            t_torch = median_us(lambda: f_torch(ta, tb), number, repeat) if torch else None
            if torch:
                ga = ta.clone().requires_grad_(True)
                t_torch_g = median_us(lambda: f_torch(ga, tb), number, repeat)
            else:
                t_torch_g = None
            rows.append(dict(op=name, size=size, tl_us=t_tl, tl_taped_us=t_tape, numpy_us=t_np,
                             torch_us=t_torch, torch_grad_us=t_torch_g))
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rows = run(args.quick)
    print(f"tensorlab {tl.__version__}, numpy {np.__version__}, torch {torch.__version__ if torch else 'absent'}")
    hdr = f"{'op':<11}{'size':>9}{'tl us':>9}{'taped us':>10}{'numpy us':>10}{'torch us':>10}" \
          f"{'tl/np':>7}{'tl/torch':>9}{'tape/tl':>8}"
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        tt = r["torch_us"]
        print(f"{r['op']:<11}{r['size']:>9}{r['tl_us']:>9.2f}{r['tl_taped_us']:>10.2f}{r['numpy_us']:>10.2f}"
              f"{(tt if tt else float('nan')):>10.2f}{r['tl_us'] / r['numpy_us']:>7.2f}"
              f"{(r['tl_us'] / tt if tt else float('nan')):>9.2f}{r['tl_taped_us'] / r['tl_us']:>8.2f}")


if __name__ == "__main__":
    main()
