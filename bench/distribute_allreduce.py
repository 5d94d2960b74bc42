"""GPU benchmarks of tl.distribute's NCCL paths (report figures; no assertions).

1. All-reduce bandwidth of 1 MB .. 256 MB float32 buffers across every GPU of
   the machine with ``NcclAllReduce``, reported as nccl-tests does:
   ``algbw = bytes / time`` and ``busbw = algbw * 2 (n - 1) / n`` (0 with one
   GPU, where NCCL only copies; algbw is then the copy rate).
2. Overlap: the share of the gradient all-reduce time hidden behind the
   backward pass in a ResNet-style CNN training step (buckets reduced as soon
   as their gradients are ready), for the default bucket size (25 MB: the whole
   18.7 MB gradient in one bucket, which cannot start before backward ends) and
   for a smaller one chosen from the gradient size so that there are at least
   4 buckets. Per bucket size three times are taken, per step:
   ``t_step`` (the bucketed NCCL step), ``t_compute`` (the same step with the
   collective replaced by a no-op; packing and unpacking the buckets stay) and
   ``t_allreduce`` (the step's collectives alone, back to back, on buffers
   packed beforehand). The configurations are timed in interleaved rounds (the
   order rotated each round) so that drift hits all alike; each time is the
   median over the rounds, reported with its min and max. From the medians:
   ``hidden_share = (t_compute + t_allreduce - t_step) / t_allreduce``. It is
   None, with the reason in ``hidden_share_note``, when ``t_allreduce`` is not
   above the noise (the larger min-max spread of ``t_step`` and ``t_compute``
   over the rounds), or when the step is faster than compute alone by more
   than the noise; it is clamped into [0, 1] only when it falls outside by no
   more than the noise (``hidden_share_raw`` keeps the unclamped value). The
   bucket holding the first layers' gradients is reduced when backward ends,
   so at most ``buckets - 1`` reductions have backward work left to hide behind.
3. With several GPUs, weak-scaling efficiency of that CNN: throughput on N
   GPUs / (N x throughput on 1 GPU) at a fixed per-replica batch.

    PYTHONPATH=. python3 bench/distribute_allreduce.py     # JSON to $OUT/distribute_allreduce.json if set
"""
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorlab as tl  # noqa: E402

MB = 1 << 20
IMAGE_SHAPE = (32, 32, 3)   # the ResNet-style CNN's inputs
PER_REPLICA_BATCH = 64
OVERLAP_ROUNDS = 7          # interleaved rounds; the overlap times are medians over them
OVERLAP_STEPS = 8           # steps (or all-reduces) timed per configuration and round
MIN_SMALL_BUCKETS = 4       # the smaller bucket size splits the gradient into at least this many


def _sync(devs):
    import cupy
    for d in devs:
        with cupy.cuda.Device(d):
            cupy.cuda.get_current_stream().synchronize()


def allreduce_bandwidth(sizes_mb=(1, 2, 4, 8, 16, 32, 64, 128, 256), iters=20):
    from tensorlab.distribute import nccl_loader
    n_gpu = len(tl.config.list_physical_devices("GPU"))
    nccl_status = nccl_loader.load()
    if not nccl_status.available:
        return {"gpus": n_gpu, "rows": [],
                "note": f"CuPy finds no NCCL library (pip install nvidia-nccl-cu13): {nccl_status.reason}"}
    devs = list(range(n_gpu))
    ops = tl.distribute.NcclAllReduce()
    ops._setup(tuple(devs))
    rows = []
    for mb in sizes_mb:
        n = mb * MB // 4
        bufs = []
        for d in devs:
            with tl.device(f"/GPU:{d}"):
                bufs.append(tl.random.normal([n]))
        for _ in range(3):
            ops.all_reduce_buffers(bufs)
        _sync(devs)
        t0 = time.perf_counter()
        for _ in range(iters):
            ops.all_reduce_buffers(bufs)
        _sync(devs)
        t = (time.perf_counter() - t0) / iters
        algbw = mb * MB / t / 1e9
        rows.append({"size_mb": mb, "time_us": t * 1e6, "algbw_GBps": algbw,
                     "busbw_GBps": algbw * 2 * (n_gpu - 1) / n_gpu})
        del bufs
    ops.close()
    return {"gpus": n_gpu, "rows": rows}


def resnet_cnn():
    L = tl.keras.layers
    inp = tl.keras.Input(IMAGE_SHAPE)
    x = L.Conv2D(64, 3, padding="same", use_bias=False)(inp)
    x = L.BatchNormalization()(x)
    x = L.Activation("relu")(x)
    for filters, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        y = L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
        y = L.BatchNormalization()(y)
        y = L.Activation("relu")(y)
        y = L.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        y = L.BatchNormalization()(y)
        if stride != 1 or x.shape[-1] != filters:
            x = L.Conv2D(filters, 1, strides=stride, use_bias=False)(x)
        x = L.Activation("relu")(L.Add()([x, y]))
    x = L.GlobalAveragePooling2D()(x)
    return tl.keras.Model(inp, L.Dense(10)(x))


def _prepare(strategy, per_replica_batch, reducer=None, warmup=3):
    """Builds and compiles the CNN under ``strategy``, makes a batch and runs ``warmup`` steps:
    ``(model, x, y, device indices)``."""
    with strategy.scope():
        m = resnet_cnn()
        m.compile(optimizer=tl.keras.optimizers.SGD(0.01, momentum=0.9),
                  loss=tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    if reducer is not None:
        strategy.extended._cross_device_ops = reducer
    gb = per_replica_batch * strategy.num_replicas_in_sync
    rng = np.random.default_rng(0)
    x = rng.normal(size=(gb,) + IMAGE_SHAPE).astype(np.float32)
    y = rng.integers(0, 10, size=(gb,)).astype(np.int32)
    devs = [d.index for d in strategy.extended._devices]
    for _ in range(warmup):
        m.train_on_batch(x, y)
    return m, x, y, devs


def _time_steps(m, x, y, devs, steps):
    """Seconds per training step, over ``steps`` steps (the queued work awaited at both ends)."""
    _sync(devs)
    t0 = time.perf_counter()
    for _ in range(steps):
        m.train_on_batch(x, y)
    _sync(devs)
    return (time.perf_counter() - t0) / steps


def _train_time(strategy, per_replica_batch, steps=10, reducer=None):
    m, x, y, devs = _prepare(strategy, per_replica_batch, reducer)
    return _time_steps(m, x, y, devs, steps), m


class _NoReduce(tl.distribute.CrossDeviceOps):
    """Stands in for the all-reduce to time the step's computation alone."""

    def batch_all_reduce(self, reduce_op, columns):
        return [list(col) for col in columns]


def _bucketed_strategy(bucket_bytes):
    s = tl.distribute.MirroredStrategy()
    s.extended._force_collectives = True  # run the bucketed NCCL path even on one GPU (before the variables exist)
    # MirroredStrategy has no public bucket-size option (only MultiWorkerMirroredStrategy takes one,
    # CommunicationOptions(bytes_per_pack=...), which it stores here): the Keras train step's
    # GradientBucketer reads this internal attribute (tensorlab/distribute/keras_step.py).
    s.extended._bucket_bytes = int(bucket_bytes)
    return s


def _gradient_specs(model):
    """``(num_elements, dtype)`` of each trainable variable's gradient, in the order the backward
    pass produces them: the order the step's GradientBucketer buckets them in."""
    tv = model._trainable_vars() if hasattr(model, "_trainable_vars") else model.trainable_variables
    return [(int(np.prod(tuple(v.shape))), v.dtype) for v in list(tv)[::-1]]


def small_bucket_bytes(specs, min_buckets=MIN_SMALL_BUCKETS, unit=None):
    """The bucket size for the overlap's second configuration: ``gradient bytes / min_buckets``,
    rounded down to whole ``unit``s (MB) where that is at least one, and halved until
    ``bucketing.plan`` makes at least ``min_buckets`` buckets of ``specs`` (a tensor larger than
    the bucket gets a bucket of its own, so the gradient size alone does not fix the count).
    None when even one bucket per tensor makes fewer."""
    from tensorlab.distribute import bucketing
    unit = MB if unit is None else unit
    if len(specs) < min_buckets:
        return None

    def whole(b):
        return b - b % unit if b >= unit else max(int(b), 1)

    b = whole(sum(n * dt.size for n, dt in specs) // min_buckets)
    while len(bucketing.plan(specs, b)) < min_buckets and b > 1:
        b = whole(b // 2)
    return b if len(bucketing.plan(specs, b)) >= min_buckets else None


def time_stats_ms(seconds):
    """Median, min and max of per-round times (seconds), in ms."""
    a = sorted(float(t) for t in seconds)
    return {"median": float(np.median(a)) * 1e3, "min": a[0] * 1e3, "max": a[-1] * 1e3}


def hidden_share(t_step, t_compute, t_ar, noise):
    """``(share, raw, note)``: the share of the all-reduce time ``t_ar`` hidden behind the
    computation, ``(t_compute + t_ar - t_step) / t_ar`` from median times in ms, given ``noise``
    (ms), the spread of the step and compute-only times.

    ``share`` is None (``note`` says why) where the figure would be noise: ``t_ar`` not above
    ``noise``, or the step faster than compute alone by more than ``noise``. ``raw`` is the
    unclamped ratio; ``share`` is clamped into [0, 1] only where ``raw`` falls outside it by
    no more than the noise (the note says so). A step slower than compute plus all-reduce by
    more than the noise hides nothing: 0.0, with the excess in the note."""
    if not t_ar > 0:
        return None, None, "no all-reduce time measured"
    raw = (t_compute + t_ar - t_step) / t_ar
    if t_ar <= noise:
        return None, raw, (f"all-reduce alone ({t_ar:.3g} ms) is not above the noise ({noise:.3g} ms, the "
                           "larger min-max spread of step and compute-only): not measurable here")
    if raw > 1.0:
        faster = t_compute - t_step
        if faster > noise:
            return None, raw, (f"step faster than compute alone by {faster:.3g} ms, more than the noise "
                               f"({noise:.3g} ms): the compute-only stand-in is not comparable")
        return 1.0, raw, f"clamped from {raw:.3f}: step faster than compute alone by {faster:.3g} ms, within the noise"
    if raw < 0.0:
        slower = t_step - t_compute - t_ar
        if slower > noise:
            return 0.0, raw, (f"nothing hidden: step slower than compute + all-reduce alone by {slower:.3g} ms, "
                              f"more than the noise ({noise:.3g} ms)")
        return 0.0, raw, f"clamped from {raw:.3f}: step slower than compute + all-reduce alone, within the noise"
    return raw, raw, None


class _StepCollectives:
    """The collectives one training step issues, alone: one buffer per bucket (packed beforehand,
    as the bucket plan of ``bucket_bytes`` packs the gradients) per replica, each reduced as the
    step reduces it (``_batch_all_reduce_bucket``, NCCL). The packing and unpacking stay out: the
    compute-only step does them too."""

    def __init__(self, strategy, model, bucket_bytes):
        from tensorlab.distribute import bucketing
        self._ext = strategy.extended
        self._devs = [d.index for d in self._ext._devices]
        specs = _gradient_specs(model)
        self.buffers = []
        for b in bucketing.plan(specs, bucket_bytes):
            n, dt = sum(specs[j][0] for j in b), specs[b[0]][1]
            col = []
            for d in self._ext._devices:
                with tl.device(d.name):
                    col.append(tl.ones([n], dtype=dt))
            self.buffers.append(col)

    def run(self):
        for col in self.buffers:
            self._ext._batch_all_reduce_bucket(col)
        self._ext._wait_collectives()  # as the step does once its buckets are queued

    def time(self, iters):
        _sync(self._devs)
        t0 = time.perf_counter()
        for _ in range(iters):
            self.run()
        _sync(self._devs)
        return (time.perf_counter() - t0) / iters


def overlap(per_replica_batch=64, rounds=None, steps=None):
    """The overlap figures: ``(overlap, overlap_by_bucket)``; ``overlap`` is the default bucket
    size's row with the keys of earlier reports, ``overlap_by_bucket`` one row per bucket size."""
    from tensorlab.distribute import bucketing
    rounds = OVERLAP_ROUNDS if rounds is None else rounds
    steps = OVERLAP_STEPS if steps is None else steps
    n_gpu = len(tl.config.list_physical_devices("GPU"))
    configs = []   # per bucket size: the NCCL step, the compute-only step, the collectives alone

    def add(bucket_bytes):
        s = _bucketed_strategy(bucket_bytes)
        step = _prepare(s, per_replica_batch)
        compute = _prepare(_bucketed_strategy(bucket_bytes), per_replica_batch, reducer=_NoReduce())
        configs.append({"bucket_bytes": bucket_bytes, "strategy": s, "step": step, "compute": compute,
                        "collectives": _StepCollectives(s, step[0], bucket_bytes)})

    add(bucketing.DEFAULT_BUCKET_BYTES)
    specs = _gradient_specs(configs[0]["step"][0])
    grad_mb = sum(n * dt.size for n, dt in specs) / MB
    small = small_bucket_bytes(specs)
    if small is not None and small < bucketing.DEFAULT_BUCKET_BYTES:
        add(small)
    units = []   # (configuration, what, one untimed run after switching to it, the timed runs)
    for i, c in enumerate(configs):
        m, x, y, _ = c["step"]
        mc, xc, yc, _ = c["compute"]
        units += [(i, "step", lambda m=m, x=x, y=y: m.train_on_batch(x, y),
                   lambda c=c: _time_steps(*c["step"], steps)),
                  (i, "compute_only", lambda m=mc, x=xc, y=yc: m.train_on_batch(x, y),
                   lambda c=c: _time_steps(*c["compute"], steps)),
                  (i, "allreduce_alone", c["collectives"].run, lambda c=c: c["collectives"].time(steps))]
    times = {(i, kind): [] for i, kind, _, _ in units}
    for r in range(rounds):
        k = r % len(units)  # rotate the order, so that no configuration always follows another
        for i, kind, warm, timed in units[k:] + units[:k]:
            warm()
            times[(i, kind)].append(timed())
    rows = []
    for i, c in enumerate(configs):
        st = {kind: time_stats_ms(times[(i, kind)]) for kind in ("step", "compute_only", "allreduce_alone")}
        noise = max(st["step"]["max"] - st["step"]["min"], st["compute_only"]["max"] - st["compute_only"]["min"])
        share, raw, note = hidden_share(st["step"]["median"], st["compute_only"]["median"],
                                        st["allreduce_alone"]["median"], noise)
        n_buckets, early = c["strategy"].extended._last_step_buckets
        rows.append({"bucket_MB": c["bucket_bytes"] / MB, "buckets": n_buckets,
                     "buckets_reduced_during_backward": early,
                     "step_ms": st["step"]["median"], "compute_only_ms": st["compute_only"]["median"],
                     "allreduce_alone_ms": st["allreduce_alone"]["median"],
                     "spread_ms": {k: [v["min"], v["max"]] for k, v in st.items()},
                     "noise_ms": noise, "hidden_share": share, "hidden_share_raw": raw,
                     "hidden_share_note": note})
    head = {"gpus": n_gpu}
    head.update(rows[0])
    head.update({"gradient_MB": grad_mb, "default_bucket_MB": bucketing.DEFAULT_BUCKET_BYTES / MB,
                 "rounds": rounds, "steps_per_round": steps})
    return head, rows


def scaling(per_replica_batch=64):
    n_gpu = len(tl.config.list_physical_devices("GPU"))
    if n_gpu < 2:
        return {"gpus": n_gpu, "note": "one GPU: no scaling figure"}
    t1, _ = _train_time(tl.distribute.MirroredStrategy(["/GPU:0"]), per_replica_batch)
    tn, _ = _train_time(tl.distribute.MirroredStrategy(), per_replica_batch)
    thr1, thrn = per_replica_batch / t1, per_replica_batch * n_gpu / tn
    return {"gpus": n_gpu, "samples_per_s_1": thr1, "samples_per_s_n": thrn, "efficiency": thrn / (n_gpu * thr1)}


def _fmt_ms(row, key, spread_key):
    lo, hi = row["spread_ms"][spread_key]
    return f"{row[key]:.3f} [{lo:.3f}..{hi:.3f}]"


def main():
    if not tl.config.list_physical_devices("GPU"):
        print("distribute_allreduce: no GPU; nothing to measure")
        return
    res = {"allreduce": allreduce_bandwidth()}
    res["overlap"], res["overlap_by_bucket"] = overlap(PER_REPLICA_BATCH)
    res["scaling"] = scaling(PER_REPLICA_BATCH)
    print(f"NCCL all-reduce over {res['allreduce']['gpus']} GPU(s): {res['allreduce'].get('note', '')}")
    print(f"{'size':>8} {'time us':>10} {'algbw GB/s':>11} {'busbw GB/s':>11}")
    for r in res["allreduce"]["rows"]:
        print(f"{r['size_mb']:>6}MB {r['time_us']:>10.1f} {r['algbw_GBps']:>11.2f} {r['busbw_GBps']:>11.2f}")
    o = res["overlap"]
    print(f"ResNet-style CNN, {o['gradient_MB']:.1f} MB gradient, batch {PER_REPLICA_BATCH} per replica: ms per "
          f"step, median [min..max] of {o['rounds']} interleaved rounds of {o['steps_per_round']} steps")
    print(f"{'bucket MB':>9} {'buckets':>7} {'in bwd':>6} {'step ms':>22} {'compute only ms':>22} "
          f"{'all-reduce alone ms':>22} {'noise ms':>8}  hidden")
    for r in res["overlap_by_bucket"]:
        hs = "n/a" if r["hidden_share"] is None else f"{100 * r['hidden_share']:.0f} %"
        print(f"{r['bucket_MB']:>9.2f} {r['buckets']:>7} {r['buckets_reduced_during_backward']:>6} "
              f"{_fmt_ms(r, 'step_ms', 'step'):>22} {_fmt_ms(r, 'compute_only_ms', 'compute_only'):>22} "
              f"{_fmt_ms(r, 'allreduce_alone_ms', 'allreduce_alone'):>22} {r['noise_ms']:>8.3f}  {hs}"
              + (f" ({r['hidden_share_note']})" if r["hidden_share_note"] else ""))
    print("scaling:", res["scaling"])
    out = os.environ.get("OUT")
    if out:
        with open(os.path.join(out, "distribute_allreduce.json"), "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
