"""GPU benchmarks of tl.distribute's NCCL paths (report figures; no assertions).

1. All-reduce bandwidth of 1 MB .. 256 MB float32 buffers across every GPU of
   the machine with ``NcclAllReduce``, reported as nccl-tests does:
   ``algbw = bytes / time`` and ``busbw = algbw * 2 (n - 1) / n`` (0 with one
   GPU, where NCCL only copies; algbw is then the copy rate).
2. Overlap: the share of the gradient all-reduce time hidden behind the
   backward pass in a ResNet-style CNN training step (buckets reduced as soon
   as their gradients are ready): ``(t_compute + t_allreduce - t_step) / t_allreduce``.
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


def _train_time(strategy, per_replica_batch, steps=10, reducer=None):
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
    for _ in range(3):
        m.train_on_batch(x, y)
    _sync(devs)
    t0 = time.perf_counter()
    for _ in range(steps):
        m.train_on_batch(x, y)
    _sync(devs)
    return (time.perf_counter() - t0) / steps, m


class _NoReduce(tl.distribute.CrossDeviceOps):
    """Stands in for the all-reduce to time the step's computation alone."""

    def batch_all_reduce(self, reduce_op, columns):
        return [list(col) for col in columns]


def overlap(per_replica_batch=64):
    n_gpu = len(tl.config.list_physical_devices("GPU"))
    s = tl.distribute.MirroredStrategy()
    s.extended._force_collectives = True  # run the bucketed NCCL path even on one GPU
    t_step, m = _train_time(s, per_replica_batch)
    s2 = tl.distribute.MirroredStrategy()
    s2.extended._force_collectives = True
    t_compute, _ = _train_time(s2, per_replica_batch, reducer=_NoReduce())
    # The gradient all-reduce alone: the same buckets, back to back.
    from tensorlab.distribute import bucketing
    grads = []
    for v in m.trainable_variables:
        col = []
        for d in s.extended._devices:
            with tl.device(d.name):
                col.append(tl.ones(tuple(v.shape)))
        grads.append(col)
    ops = s.extended._cross_device_ops
    devs = [d.index for d in s.extended._devices]
    ops.batch_all_reduce(tl.distribute.ReduceOp.SUM, grads)
    _sync(devs)
    t0 = time.perf_counter()
    for _ in range(10):
        ops.batch_all_reduce(tl.distribute.ReduceOp.SUM, grads)
    _sync(devs)
    t_ar = (time.perf_counter() - t0) / 10
    hidden = min(1.0, max(0.0, (t_compute + t_ar - t_step) / t_ar)) if t_ar > 0 else 0.0
    n_buckets, early = s.extended._last_step_buckets
    grad_mb = sum(int(np.prod(v.shape)) * 4 for v in m.trainable_variables) / MB
    return {"gpus": n_gpu, "step_ms": t_step * 1e3, "compute_only_ms": t_compute * 1e3,
            "allreduce_alone_ms": t_ar * 1e3, "hidden_share": hidden, "buckets": n_buckets,
            "buckets_reduced_during_backward": early, "gradient_MB": grad_mb, "default_bucket_MB":
            bucketing.DEFAULT_BUCKET_BYTES / MB}


def scaling(per_replica_batch=64):
    n_gpu = len(tl.config.list_physical_devices("GPU"))
    if n_gpu < 2:
        return {"gpus": n_gpu, "note": "one GPU: no scaling figure"}
    t1, _ = _train_time(tl.distribute.MirroredStrategy(["/GPU:0"]), per_replica_batch)
    tn, _ = _train_time(tl.distribute.MirroredStrategy(), per_replica_batch)
    thr1, thrn = per_replica_batch / t1, per_replica_batch * n_gpu / tn
    return {"gpus": n_gpu, "samples_per_s_1": thr1, "samples_per_s_n": thrn, "efficiency": thrn / (n_gpu * thr1)}


def main():
    if not tl.config.list_physical_devices("GPU"):
        print("distribute_allreduce: no GPU; nothing to measure")
        return
    res = {"allreduce": allreduce_bandwidth(), "overlap": overlap(), "scaling": scaling()}
    print(f"NCCL all-reduce over {res['allreduce']['gpus']} GPU(s): {res['allreduce'].get('note', '')}")
    print(f"{'size':>8} {'time us':>10} {'algbw GB/s':>11} {'busbw GB/s':>11}")
    for r in res["allreduce"]["rows"]:
        print(f"{r['size_mb']:>6}MB {r['time_us']:>10.1f} {r['algbw_GBps']:>11.2f} {r['busbw_GBps']:>11.2f}")
    o = res["overlap"]
    print(f"ResNet-style CNN step {o['step_ms']:.2f} ms, compute only {o['compute_only_ms']:.2f} ms, gradient "
          f"all-reduce alone {o['allreduce_alone_ms']:.2f} ms ({o['gradient_MB']:.1f} MB in {o['buckets']} "
          f"bucket(s), {o['buckets_reduced_during_backward']} during backward): {100 * o['hidden_share']:.0f} % "
          "hidden")
    print("scaling:", res["scaling"])
    out = os.environ.get("OUT")
    if out:
        with open(os.path.join(out, "distribute_allreduce.json"), "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
