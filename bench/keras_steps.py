"""Keras training and inference steps: tensorlab vs PyTorch (CPU), side by side.

Measured in one process, medians of repeated timed loops:

- MLP 800-256-10 (Dense relu, Dense softmax; sparse categorical cross-entropy),
  batch 128, one SGD training step;
- CNN Conv2D(32,3)-MaxPool-Conv2D(64,3)-MaxPool-Flatten-Dense(10) on 28x28x1,
  batch 64, one SGD training step;
- LSTM(128)-Dense(10) over 50 steps of 32 features, batch 64, one SGD training step;
- ``model.predict`` on one batch of 32 for the MLP, and its overhead over the
  same arithmetic done directly in numpy;
- the share of a ``fit`` step (MLP, with an accuracy metric) spent outside the
  op kernels, and outside the ops altogether, i.e. in the Keras machinery
  (see ``_OpClock`` for what counts as an op).

``--small``: the fit-step measurements (and ``evaluate``/``predict`` per batch) on a
64-128-10 MLP at batch 32 (the bundled digits' size), where the per-step Python
overhead, not the arithmetic, dominates.

PyTorch is an optional reference (``pip install torch``); without it only the
tensorlab columns are printed. Run: ``python bench/keras_steps.py [--quick] [--small]``.
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
def tl_mlp(in_dim=800, hidden=256):
    m = keras.Sequential([layers.Dense(hidden, input_dim=in_dim, activation="relu"),
                          layers.Dense(10, activation="softmax")])
    m.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy")
    return m


def tl_cnn():
    m = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
                          layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
                          layers.Dense(10)])
    m.compile(keras.optimizers.SGD(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


def tl_lstm():
    m = keras.Sequential([keras.Input((50, 32)), layers.LSTM(128), layers.Dense(10)])
    m.compile(keras.optimizers.SGD(0.01), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


class _TorchLSTM(torch.nn.Module if torch else object):
    def __init__(self):
        super().__init__()
        self.lstm, self.head = torch.nn.LSTM(32, 128, batch_first=True), torch.nn.Linear(128, 10)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


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
class _OpClock:
    """Times a ``fit`` run's op work, to find the share spent in the Keras machinery.

    Two counters, each over the outermost call only (an op calling ops is timed once):

    - ``kernel_s``: inside the CPU kernels (the numpy work of each primitive);
    - ``op_s``: inside any tensorlab op: the public functions Keras calls
      (``tl.matmul``, ``tl.nn.relu``, Tensor operators, ``Variable.assign_sub``, ...),
      primitive calls, and the tape (recording scope and backward pass).

    ``1 - op_s / total`` is the Keras machinery: layer ``__call__``, losses'
    and metrics' bookkeeping, the optimizer loop, batching, callbacks, logs.
    The clock's own cost per outermost op call (``outer_calls``) lands outside
    the timed spans; ``outer_call_overhead()`` measures it so it can be taken out.
    """

    def __init__(self):
        from tensorlab.core import registry
        self.registry = registry
        self.kernel_s = 0.0
        self.op_s = 0.0
        self.outer_calls = 0
        self._depth = 0
        self._undo = []

    def _timed(self, fn):
        clock = self

        def timed(*a, **k):
            if clock._depth:
                return fn(*a, **k)
            clock._depth += 1
            clock.outer_calls += 1
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                clock.op_s += time.perf_counter() - t
                clock._depth -= 1
        return timed

    @staticmethod
    def outer_call_overhead(n=20000):
        """Seconds the wrapper adds outside its timed span per outermost call (best of 5).

        Measured in a tight loop, where the interpreter is warm in cache, so it is
        a lower bound of the cost inside a training step: subtracting it keeps the
        machinery share an over-estimate rather than an under-estimate.
        """
        def noop():
            return None
        best = None
        for _ in range(5):
            clock = _OpClock()
            wrapped = clock._timed(noop)
            t = time.perf_counter()
            for _ in range(n):
                wrapped()
            per_call = (time.perf_counter() - t) / n
            outside = per_call - clock.op_s / n
            best = outside if best is None else min(best, outside)
        return max(best, 0.0)

    def _patch(self, owner, name, new):
        self._undo.append((owner, name, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)))
        setattr(owner, name, new)

    def __enter__(self):
        import types
        from tensorlab import ops as tl_ops
        for prim in self.registry.REGISTRY.values():
            fn = prim.impls.get("cpu")
            if fn is None:
                continue

            def kernel(*a, _fn=fn, **k):
                t = time.perf_counter()
                try:
                    return _fn(*a, **k)
                finally:
                    self.kernel_s += time.perf_counter() - t
            self._patch_item(prim.impls, "cpu", kernel)
        # The public op functions, wherever Keras reaches them: tl.X, tl.nn.X and the
        # other sub-namespaces, and ops.api (what Tensor operators call).
        op_fns = {id(f) for f in tl_ops.EXPORTS.values()}
        spaces = [tl, tl_ops.api] + [v for v in vars(tl).values() if isinstance(v, types.ModuleType)
                                     and v.__name__.startswith("tensorlab.") and "keras" not in v.__name__]
        # and the op family modules themselves (Keras calls e.g. ops.training_ops.apply_adam)
        spaces += [sys.modules[f"tensorlab.ops.{fam}"] for fam in tl_ops.FAMILIES
                   if f"tensorlab.ops.{fam}" in sys.modules]
        wrapped = {}
        for space in spaces:
            for name, f in list(vars(space).items()):
                if isinstance(f, type) or name.startswith("_"):
                    continue
                if callable(f) and (id(f) in op_fns or getattr(f, "__module__", "").startswith("tensorlab.ops.")):
                    if id(f) not in wrapped:
                        wrapped[id(f)] = self._timed(f)
                    self._patch(space, name, wrapped[id(f)])
        cls = self.registry.Primitive
        for name in ("__call__", "create"):
            self._patch(cls, name, self._timed(cls.__dict__[name]))
        for name in ("assign", "assign_add", "assign_sub", "read_value", "value"):
            self._patch(tl.Variable, name, self._timed(tl.Variable.__dict__[name]))
        for name in ("gradient", "__enter__", "__exit__"):
            self._patch(tl.GradientTape, name, self._timed(tl.GradientTape.__dict__[name]))
        return self

    def _patch_item(self, d, key, new):
        self._undo.append((d, key, d[key]))
        d[key] = new

    def __exit__(self, *exc):
        for owner, name, old in reversed(self._undo):
            if isinstance(owner, dict):
                owner[name] = old
            else:
                setattr(owner, name, old)
        return False


def _fit_setup(x, y, steps, batch=128, hidden=256):
    """A compiled MLP (warmed up by one short fit) and ``steps`` batches of ``batch`` rows."""
    model = tl_mlp(x.shape[1], hidden)
    model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    xs = np.resize(x, (batch * steps, x.shape[1]))
    ys = np.resize(y, (batch * steps,))
    model.fit(xs[:2 * batch], ys[:2 * batch], batch_size=batch, epochs=1, verbose=0)
    return model, xs, ys


def outside_ops_share(x, y, steps, batch=128, hidden=256):
    """(ms per fit step, share outside the CPU kernels, share outside the ops, the same
    with the clock's own overhead left in), from the fastest of 5 timed ``fit`` runs."""
    model, xs, ys = _fit_setup(x, y, steps, batch, hidden)
    per_call = _OpClock.outer_call_overhead()
    best = None
    for _ in range(5):
        with _OpClock() as clock:
            t = time.perf_counter()
            model.fit(xs, ys, batch_size=batch, epochs=1, verbose=0, shuffle=True)
            total = time.perf_counter() - t
        clock_cost = clock.outer_calls * per_call
        net = total - clock_cost
        r = (net / steps * 1e3, 1 - clock.kernel_s / net, (net - clock.op_s) / net, 1 - clock.op_s / total)
        best = r if best is None or r[0] < best[0] else best
    return best


def fit_vs_hand_loop(x, y, steps, rounds=7, batch=128, hidden=256):
    """(fit ms per step, hand-written loop ms per step), medians over alternating runs.

    The hand-written loop is what a user would write without Keras: the same ops
    (shuffled batches gathered inline, forward, cross-entropy, tape, SGD updates,
    running loss and accuracy) on the same variables, with none of the machinery.
    """
    model, xs, ys = _fit_setup(x, y, steps, batch, hidden)
    w = model.trainable_weights
    lr = tl.constant(0.01)
    loss_sum, hits = tl.Variable(0.0), tl.Variable(0.0)

    def hand_epoch():
        order = np.random.permutation(len(xs))
        for i in range(steps):
            idx = order[i * batch:(i + 1) * batch]
            xb, yb = tl.constant(xs[idx]), tl.constant(ys[idx])
            with tl.GradientTape() as tape:
                logits = tl.matmul(tl.nn.relu(tl.matmul(xb, w[0]) + w[1]), w[2]) + w[3]
                probs = tl.nn.softmax(logits)
                loss = tl.reduce_sum(tl.nn.sparse_softmax_cross_entropy_with_logits(labels=yb, logits=logits)) \
                    / float(batch)
            for v, g in zip(w, tape.gradient(loss, w)):
                v.assign(v - g * lr)
            loss_sum.assign_add(loss)
            hits.assign_add(tl.reduce_sum(tl.cast(tl.equal(yb, tl.argmax(probs, axis=-1)), "float32")))
            (loss_sum * (1.0 / (i + 1)), hits * (1.0 / (batch * (i + 1))))
    fit_ms, hand_ms = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        model.fit(xs, ys, batch_size=batch, epochs=1, verbose=0, shuffle=True)
        fit_ms.append((time.perf_counter() - t) / steps * 1e3)
        t = time.perf_counter()
        hand_epoch()
        hand_ms.append((time.perf_counter() - t) / steps * 1e3)
    return statistics.median(fit_ms), statistics.median(hand_ms)


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

    xs = rng.standard_normal((64, 50, 32)).astype("float32")
    ys = rng.integers(0, 10, 64)
    r = tl_lstm()
    rdata = (tl.constant(xs), tl.constant(ys))
    fns = [lambda: r.train_step(rdata)]
    if torch:
        tr = _TorchLSTM()
        ropt = torch.optim.SGD(tr.parameters(), lr=0.01)
        txs, tys = torch.from_numpy(xs), torch.from_numpy(ys)
        fns.append(lambda: torch_step(tr, ropt, txs, tys, False))
    t_tl, t_pt = (paired_ms(fns, 2 if quick else 5, rep) + [None])[:2]
    rows.append(("LSTM(128) over 50 steps of 32 features, SGD step, batch 64", t_tl, t_pt, None))

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

    step_ms, out_kernels, out_ops, out_ops_raw = outside_ops_share(x, y, 10 if quick else 40)
    fit_ms, hand_ms = fit_vs_hand_loop(x, y, 10 if quick else 40, 3 if quick else 7)

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
    print(f"  share outside the ops altogether (tl op calls, primitives, tape), i.e. the Keras "
          f"machinery: {out_ops * 100:.1f}%  (target <=10%; {out_ops_raw * 100:.1f}% before taking out "
          "the timing wrappers' own cost)")
    print(f"  fit step {fit_ms:.3f} ms vs the same ops in a hand-written eager loop {hand_ms:.3f} ms: "
          f"{(fit_ms / hand_ms - 1) * 100:+.1f}% (medians)")


def run_small(quick=False):
    """The fit-step measurements on a 64-128-10 MLP at batch 32, where the Python overhead per
    step (layers, loss, metrics, optimizer, batching) is a large part of the step."""
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    batch, steps = 32, 20 if quick else 44
    x = rng.random((batch * 4, 64)).astype("float32")
    y = rng.integers(0, 10, batch * 4)
    step_ms, out_kernels, out_ops, out_ops_raw = outside_ops_share(x, y, steps, batch, 128)
    fit_ms, hand_ms = fit_vs_hand_loop(x, y, steps, 5 if quick else 15, batch, 128)
    model, xs, ys = _fit_setup(x, y, steps, batch, 128)
    eval_ms, pred_ms = paired_ms([lambda: model.evaluate(xs, ys, batch_size=batch, verbose=0),
                                  lambda: model.predict(xs, batch_size=batch, verbose=0)], 2 if quick else 5,
                                 5 if quick else 9)
    print(f"tensorlab {tl.__version__}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"BLAS threads {os.environ.get('OPENBLAS_NUM_THREADS')}")
    print(f"MLP 64-128-10, batch 32, {steps} steps per epoch (per-step overhead dominates)")
    print(f"  fit step (with accuracy metric) {step_ms:.3f} ms; outside the op kernels {out_kernels * 100:.1f}%, "
          f"outside the ops (Keras machinery) {out_ops * 100:.1f}% ({out_ops_raw * 100:.1f}% with the timing "
          "wrappers' cost)")
    print(f"  fit step {fit_ms:.3f} ms vs the same ops in a hand-written eager loop {hand_ms:.3f} ms: "
          f"ratio {fit_ms / hand_ms:.3f} (medians)")
    print(f"  evaluate, per batch {eval_ms / steps:.3f} ms; predict, per batch {pred_ms / steps:.3f} ms (medians)")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true")
    p.add_argument("--small", action="store_true", help="only the fit/evaluate/predict overhead of a small MLP")
    p.add_argument("--threads", default="1", help="threads for numpy's BLAS and for PyTorch (use --threads=N)")
    args = p.parse_args()
    if args.small:
        run_small(args.quick)
    else:
        run(args.quick)
