"""CPU benchmarks of tl.distribute (report figures; no assertions).

1. Strategy overhead: a training step (``train_on_batch``) of a model compiled
   under ``MirroredStrategy(["/CPU:0"])`` (one replica) vs the same model with
   no strategy. Goal: under 5 %.
2. Scaling: ``MultiWorkerMirroredStrategy`` with 2 MPI processes (one core
   each) vs 1 process, at the same global batch, for a compute-bound CNN:
   the throughput ratio (goal: near 2x). BLAS threads are pinned to 1 per
   process so both runs use one core per process. A control run starts two
   independent single processes at half the batch each, at the same time and
   with no strategy: their summed throughput is what this machine gives two
   busy processes (shared or hyper-threaded cores give less than 2x), so
   ``two MPI processes / two independent processes`` is the strategy's own
   scaling efficiency, apart from the machine.

    PYTHONPATH=. .venv/bin/python bench/distribute_scaling.py [--json out.json]
"""
import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _tl():
    import tensorlab as tl
    return tl


def mlp(tl):
    L = tl.keras.layers
    return tl.keras.Sequential([tl.keras.Input((256,)), L.Dense(512, activation="relu"),
                                L.Dense(512, activation="relu"), L.Dense(10)])


def cnn(tl):
    L = tl.keras.layers
    return tl.keras.Sequential([tl.keras.Input((16, 16, 8)), L.Conv2D(32, 3, padding="same", activation="relu"),
                                L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                                L.Conv2D(64, 3, padding="same", activation="relu"), L.GlobalAveragePooling2D(),
                                L.Dense(10)])


def _compile(tl, m):
    m.compile(optimizer=tl.keras.optimizers.SGD(0.01, momentum=0.9),
              loss=tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True))


def _time_steps(m, x, y, steps, repeats=5):
    m.train_on_batch(x, y)  # warm-up (and lazy slots)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            m.train_on_batch(x, y)
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def overhead(steps=60):
    tl = _tl()
    rng = np.random.default_rng(0)
    out = {}
    for name, build, shape, batch in (("mlp", mlp, (256,), 128), ("cnn", cnn, (16, 16, 8), 32)):
        x = rng.normal(size=(batch,) + shape).astype(np.float32)
        y = rng.integers(0, 10, size=(batch,)).astype(np.int32)
        plain = build(tl)
        _compile(tl, plain)
        s = tl.distribute.MirroredStrategy(["/CPU:0"])
        with s.scope():
            dist = build(tl)
            _compile(tl, dist)
        # Alternate single steps so drift in machine load hits both; medians resist outliers.
        plain.train_on_batch(x, y)
        dist.train_on_batch(x, y)
        t_plain, t_dist = [], []
        for _ in range(steps):
            for m, ts in ((plain, t_plain), (dist, t_dist)):
                t0 = time.perf_counter()
                m.train_on_batch(x, y)
                ts.append(time.perf_counter() - t0)
        a, b = float(np.median(t_plain)), float(np.median(t_dist))
        out[name] = {"step_ms_no_strategy": a * 1e3, "step_ms_one_replica": b * 1e3,
                     "overhead_pct": (b / a - 1) * 100}
    return out


def worker(args):
    """One process of the scaling run (under mpiexec, or alone with --single)."""
    tl = _tl()
    rng = np.random.default_rng(0)
    gb = args.global_batch
    x = rng.normal(size=(gb,) + (16, 16, 8)).astype(np.float32)
    y = rng.integers(0, 10, size=(gb,)).astype(np.int32)
    if args.single:
        m = cnn(tl)
        _compile(tl, m)
        rank = 0
    else:
        s = tl.distribute.MultiWorkerMirroredStrategy()
        rank = s.extended._worker_index
        with s.scope():
            m = cnn(tl)
            _compile(tl, m)
    t = _time_steps(m, x, y, args.steps, repeats=3)
    if rank == 0:
        print(json.dumps({"step_s": t, "samples_per_s": gb / t}), flush=True)


def scaling(global_batch=64, steps=8, rounds=5):
    """Throughput of 2 MPI processes vs 1, alternating the two runs ``rounds`` times
    (shared machines drift): the ratio of the median throughputs, and each round's."""
    env = dict(os.environ, PYTHONPATH=ROOT, TENSORLAB_DEVICE="cpu", **ONE_THREAD)
    me = os.path.abspath(__file__)
    base = [me, "--worker", "--global-batch", str(global_batch), "--steps", str(steps)]
    mpiexec = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    half = [me, "--worker", "--single", "--global-batch", str(global_batch // 2), "--steps", str(steps)]

    def rate(proc):
        return json.loads(proc.stdout.strip().splitlines()[-1])["samples_per_s"]

    ones, twos, pairs = [], [], []
    for _ in range(rounds):
        one = subprocess.run([sys.executable] + base + ["--single"], env=env, capture_output=True, text=True,
                             check=True)
        two = subprocess.run([mpiexec, "-n", "2", sys.executable] + base, env=env, capture_output=True, text=True)
        if two.returncode != 0:
            raise RuntimeError(two.stdout + two.stderr)
        # The control: two independent processes at once, no strategy, half the batch each.
        both = [subprocess.Popen([sys.executable] + half, env=env, stdout=subprocess.PIPE, text=True)
                for _ in range(2)]
        outs = [p.communicate()[0] for p in both]
        if any(p.returncode for p in both):
            raise RuntimeError("control run failed")
        ones.append(rate(one))
        twos.append(rate(two))
        pairs.append(sum(json.loads(o.strip().splitlines()[-1])["samples_per_s"] for o in outs))
    r1, r2, rc = float(np.median(ones)), float(np.median(twos)), float(np.median(pairs))
    return {"global_batch": global_batch, "one_process_samples_per_s": r1, "two_processes_samples_per_s": r2,
            "throughput_ratio": r2 / r1, "ratio_per_round": [b / a for a, b in zip(ones, twos)],
            "two_independent_processes_samples_per_s": rc, "machine_ratio": rc / r1,
            "strategy_efficiency": r2 / rc,
            "strategy_efficiency_per_round": [b / c for b, c in zip(twos, pairs)], "cores": os.cpu_count()}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--worker", action="store_true")
    p.add_argument("--single", action="store_true")
    p.add_argument("--global-batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--json")
    a = p.parse_args()
    if a.worker:
        return worker(a)
    res = {"overhead": overhead(), "scaling": scaling(a.global_batch, a.steps)}
    print("strategy overhead (1 replica vs none), per training step:")
    for k, v in res["overhead"].items():
        print(f"  {k}: {v['step_ms_no_strategy']:.2f} ms -> {v['step_ms_one_replica']:.2f} ms "
              f"({v['overhead_pct']:+.1f} %)")
    sc = res["scaling"]
    print(f"CNN, global batch {sc['global_batch']}, one BLAS thread per process: 1 process "
          f"{sc['one_process_samples_per_s']:.0f} samples/s, 2 MPI processes "
          f"{sc['two_processes_samples_per_s']:.0f} samples/s (medians) -> {sc['throughput_ratio']:.2f}x "
          f"(rounds: {', '.join(f'{r:.2f}' for r in sc['ratio_per_round'])})")
    print(f"  control: 2 independent processes at half the batch, no strategy: "
          f"{sc['two_independent_processes_samples_per_s']:.0f} samples/s ({sc['machine_ratio']:.2f}x one process: "
          f"what this machine gives two busy processes) -> strategy efficiency "
          f"{sc['strategy_efficiency']:.2f} (rounds: "
          f"{', '.join(f'{r:.2f}' for r in sc['strategy_efficiency_per_round'])})")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
