"""Keras training and inference steps: tensorlab vs PyTorch (CPU), side by side.

Measured in one process, medians of repeated timed loops:

- MLP 800-256-10 (Dense relu, Dense softmax; sparse categorical cross-entropy),
  batch 128, one SGD training step;
- CNN Conv2D(32,3)-MaxPool-Conv2D(64,3)-MaxPool-Flatten-Dense(10) on 28x28x1,
  batch 64, one SGD training step;
- ``model.predict`` on one batch of 32 for the MLP, and its overhead over the
  same arithmetic done directly in numpy;
- the share of a ``fit`` step (MLP, with an accuracy metric) spent outside the
  op kernels, and outside primitive calls altogether.

PyTorch is an optional reference (``pip install torch``); without it only the
tensorlab columns are printed. Run: ``python bench/keras_steps.py [--quick]``.
"""
import argparse
import os
import statistics
import sys
import time

# Threads per library, set before numpy loads OpenBLAS (--threads N, default 1: on a
# shared or small machine, single-threaded timings are the stable ones).
_THREADS = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--threads=")), "1")
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, _THREADS)

import numpy as np  # noqa: E402

sys.path.insert(0, ".")
os.environ.setdefault("TENSORLAB_DEVICE", "cpu")
import tensorlab as tl  # noqa: E402
from tensorlab import keras  # noqa: E402
from tensorlab.keras import layers  # noqa: E402

try:
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(int(_THREADS))
except Exception:  # PyTorch is an optional reference
    torch = None


def median_ms(fn, number, repeat):
    return paired_ms([fn], number, repeat)[0]


def paired_ms(fns, number, repeat):
    """Medians (ms per call) of ``fns`` timed in alternation, so that load from other
    processes affects each of them alike."""
    for fn in fns:
        fn()
        fn()
    times = [[] for _ in fns]
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            for _ in range(number):
                fn()
            times[i].append((time.perf_counter() - t) / number)
    return [statistics.median(ts) * 1e3 for ts in times]


# ----------------------------------------------------------------------------- models
def tl_mlp():
    m = keras.Sequential([layers.Dense(256, input_dim=800, activation="relu"),
                          layers.Dense(10, activation="softmax")])
    m.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    return m


def tl_cnn():
    m = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
                          layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
                          layers.Dense(10)])
    m.compile(keras.optimizers.SGD(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


def torch_mlp():
    return torch.nn.Sequential(torch.nn.Linear(800, 256), torch.nn.ReLU(), torch.nn.Linear(256, 10),
                               torch.nn.Softmax(dim=-1))


def torch_cnn():
    return torch.nn.Sequential(torch.nn.Conv2d(1, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(64 * 5 * 5, 10))


def torch_step(model, opt, x, y, probs):
    opt.zero_grad()
    out = model(x)
    # the same loss as Keras: cross-entropy of the softmax output, or of the logits
    loss = F.nll_loss(torch.log(out.clamp(1e-7, 1 - 1e-7)), y) if probs else F.cross_entropy(out, y)
    loss.backward()
    opt.step()


# ----------------------------------------------------------------------------- outside-ops share
class _KernelClock:
    """Wraps every CPU kernel and every primitive call with a timer."""

    def __init__(self):
        from tensorlab.core import registry
        self.registry = registry
        self.kernel_s = 0.0
        self.prim_s = 0.0
        self._saved = {}
        self._depth = 0

    def __enter__(self):
        for name, prim in self.registry.REGISTRY.items():
            fn = prim.impls.get("cpu")
            if fn is None:
                continue
            self._saved[name] = fn

            def timed(*a, _fn=fn, **k):
                t = time.perf_counter()
                try:
                    return _fn(*a, **k)
                finally:
                    self.kernel_s += time.perf_counter() - t
            prim.impls["cpu"] = timed
        cls = self.registry.Primitive
        self._call = cls.__call__
        orig = self._call
        clock = self

        def call(prim, *a, **k):
            if clock._depth:
                return orig(prim, *a, **k)
            clock._depth += 1
            t = time.perf_counter()
            try:
                return orig(prim, *a, **k)
            finally:
                clock.prim_s += time.perf_counter() - t
                clock._depth -= 1
        cls.__call__ = call
        self._create = cls.create
        orig_create = self._create

        def timed_create(prim, *a, **k):
            if clock._depth:
                return orig_create(prim, *a, **k)
            clock._depth += 1
            t = time.perf_counter()
            try:
                return orig_create(prim, *a, **k)
            finally:
                clock.prim_s += time.perf_counter() - t
                clock._depth -= 1
        cls.create = timed_create
        # The backward pass (the tape walking the recorded ops) belongs to the ops too.
        self._grad = tl.GradientTape.gradient
        orig_grad = self._grad

        def gradient(tape, *a, **k):
            clock._depth += 1
            t = time.perf_counter()
            try:
                return orig_grad(tape, *a, **k)
            finally:
                clock.prim_s += time.perf_counter() - t
                clock._depth -= 1
        tl.GradientTape.gradient = gradient
        return self

    def __exit__(self, *exc):
        for name, fn in self._saved.items():
            self.registry.REGISTRY[name].impls["cpu"] = fn
        self.registry.Primitive.__call__ = self._call
        self.registry.Primitive.create = self._create
        tl.GradientTape.gradient = self._grad
        return False


def outside_ops_share(x, y, steps):
    model = tl_mlp()
    model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    n = 128 * steps
    xs = np.resize(x, (n, 800))
    ys = np.resize(y, (n,))
    model.fit(xs[:256], ys[:256], batch_size=128, epochs=1, verbose=0)
    best = None
    for _ in range(3):
        with _KernelClock() as clock:
            t = time.perf_counter()
            model.fit(xs, ys, batch_size=128, epochs=1, verbose=0, shuffle=True)
            total = time.perf_counter() - t
        r = (total / steps * 1e3, 1 - clock.kernel_s / total, 1 - clock.prim_s / total)
        best = r if best is None or r[0] < best[0] else best
    return best


# ----------------------------------------------------------------------------- main
def run(quick=False):
    rng = np.random.default_rng(0)
    rep = 5 if quick else 9
    rows = []
    keras.utils.set_random_seed(0)

    x = rng.standard_normal((128, 800)).astype("float32")
    y = rng.integers(0, 10, 128)
    m = tl_mlp()
    data = (tl.constant(x), tl.constant(y))
    fns = [lambda: m.train_step(data), lambda: m.train_on_batch(x, y)]
    if torch:
        tm = torch_mlp()
        topt = torch.optim.SGD(tm.parameters(), lr=0.01)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)
        fns.append(lambda: torch_step(tm, topt, tx, ty, True))
    t_tl, t_tob, t_pt = (paired_ms(fns, 10 if quick else 30, rep) + [None])[:3]
    rows.append(("MLP 800-256-10 SGD step, batch 128 (train_step)", t_tl, t_pt, 1.5))
    rows.append(("  same through train_on_batch (numpy in, float out)", t_tob, t_pt, None))

    xc = rng.standard_normal((64, 28, 28, 1)).astype("float32")
    yc = rng.integers(0, 10, 64)
    c = tl_cnn()
    cdata = (tl.constant(xc), tl.constant(yc))
    fns = [lambda: c.train_step(cdata)]
    if torch:
        tc = torch_cnn()
        copt = torch.optim.SGD(tc.parameters(), lr=0.01)
        txc, tyc = torch.from_numpy(np.ascontiguousarray(xc.transpose(0, 3, 1, 2))), torch.from_numpy(yc)
        fns.append(lambda: torch_step(tc, copt, txc, tyc, False))
    t_tl, t_pt = (paired_ms(fns, 3 if quick else 8, rep) + [None])[:2]
    rows.append(("CNN 28x28x1 conv-pool-conv-pool-dense SGD step, batch 64", t_tl, t_pt, 2.0))

    xp = x[:32]
    w1, b1, w2, b2 = m.get_weights()

    def np_forward():
        h = np.maximum(xp @ w1 + b1, 0) @ w2 + b2
        e = np.exp(h - h.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    fns = [lambda: m.predict(xp, verbose=0), np_forward]
    if torch:
        txp = torch.from_numpy(xp)

        def pt_pred():
            with torch.no_grad():
                return tm(txp).numpy()
        fns.append(pt_pred)
    t_pred, t_np, t_pt = (paired_ms(fns, 50 if quick else 200, rep) + [None])[:3]
    rows.append(("MLP model.predict, one batch of 32", t_pred, t_pt, None))
    rows.append(("  predict overhead over the same math in numpy", t_pred - t_np, None, None))

    step_ms, out_kernels, out_prims = outside_ops_share(x, y, 10 if quick else 40)

    print(f"tensorlab {tl.__version__}, numpy {np.__version__}"
          + (f", torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else ", no torch")
          + f", {os.cpu_count()} CPUs, BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS')}")
    print(f"{'benchmark':58s} {'tensorlab ms':>12s} {'torch ms':>10s} {'ratio':>7s} {'target':>7s}")
    for name, a, b, target in rows:
        ratio = f"{a / b:.2f}x" if b else "-"
        print(f"{name:58s} {a:12.3f} {(f'{b:.3f}' if b else '-'):>10s} {ratio:>7s} "
              f"{(f'<={target}x' if target else '-'):>7s}")
    print(f"{'MLP fit step (with accuracy metric)':58s} {step_ms:12.3f}")
    print(f"  share of the fit step outside op kernels (numpy work): {out_kernels * 100:.1f}%")
    print(f"  share outside ops altogether (primitive calls and the tape's backward pass), i.e. the "
          f"Keras machinery: {out_prims * 100:.1f}%")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--threads", default="1", help="threads for numpy's BLAS and for PyTorch (use --threads=N)")
    run(p.parse_args().quick)
