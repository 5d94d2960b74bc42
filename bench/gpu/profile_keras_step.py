"""Where the host time of a Keras training step on the GPU goes: the CNN of
bench/gpu/keras_training.py (float32, or mixed_float16 with --mixed), one cProfile of `steps`
`train_on_batch` calls after warm-up, plus the step's wall time with the device synchronized
after each step and with the host running ahead (synchronized once at the end).

When the two wall times agree, the step is host-bound: the GPU waits for Python, and the
profile shows where. Prints the top functions by own time; with --out FILE also writes the
pstats dump.

Run: ``PYTHONPATH=. python3 bench/gpu/profile_keras_step.py [--mixed] [--steps N] [--out FILE]``.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mixed", action="store_true")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--out", default=None)
    ap.add_argument("--top", type=int, default=30)
    args = ap.parse_args()
    import cupy
    import numpy as np
    import tensorlab as tl
    from tensorlab import keras
    from bench.gpu import keras_training as kt

    keras.mixed_precision.set_global_policy("mixed_float16" if args.mixed else "float32")
    rng = np.random.default_rng()
    with tl.device("gpu:0"):
        model = kt._tl_model(keras)
        model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        x = tl.constant(rng.standard_normal((args.batch, kt.IMAGE_SIZE, kt.IMAGE_SIZE, 3)).astype(np.float32))
        y = tl.constant(rng.integers(0, 10, args.batch).astype(np.int32))
        for _ in range(5):
            model.train_on_batch(x, y)
        sync = cupy.cuda.Device().synchronize
        sync()
        per_step = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            model.train_on_batch(x, y)
            sync()
            per_step.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        for _ in range(args.steps):
            model.train_on_batch(x, y)
        sync()
        ahead = (time.perf_counter() - t0) * 1e3 / args.steps
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(args.steps):
            model.train_on_batch(x, y)
        sync()
        prof.disable()
    print(f"keras_cnn_step {'mixed_float16' if args.mixed else 'float32'} batch {args.batch}: "
          f"{statistics.median(per_step):.2f} ms per step synchronized, {ahead:.2f} ms running ahead")
    s = io.StringIO()
    st = pstats.Stats(prof, stream=s)
    st.sort_stats("tottime").print_stats(args.top)
    st.sort_stats("cumulative").print_stats(args.top)
    print(s.getvalue())
    if args.out:
        st.dump_stats(args.out)


if __name__ == "__main__":
    sys.path.insert(0, ".")
    main()
