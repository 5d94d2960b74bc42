"""CUDA-event timing shared by the GPU benchmarks.

`time_ms(fn)` is the device time of one call `fn(i)` (i picks a rotating input set): the median
over `repeats` of the time between two CUDA events around a batch of back-to-back calls, divided
by the batch size. The batch is as long as needed for its first call's host work to overlap the
previous call's kernels, as in a training loop where the host runs ahead of the GPU: at least
`min_batch_ms` of device time (from a warm-up estimate), 1 to `max_inner` calls. A lone call timed
between two events would also count the host time the GPU spends idle before its first kernel,
which for a kernel of tens of microseconds is most of the measurement (the per-call latency is a
separate figure: `call_ms`).
"""
from __future__ import annotations

import math
import statistics


def time_ms(fn, repeats=20, warmup=3, min_batch_ms=0.5, max_inner=20):
    """Median device time in ms of one `fn(i)` call, timed in batches (see the module docstring)."""
    import cupy

    for i in range(warmup):
        fn(i)
    cupy.cuda.Device().synchronize()
    one = call_ms(fn, repeats=3)
    inner = max(1, min(max_inner, math.ceil(min_batch_ms / max(one, 1e-3))))
    start, end = cupy.cuda.Event(), cupy.cuda.Event()
    ts = []
    k = 0
    for _ in range(repeats):
        start.record()
        for _ in range(inner):
            fn(k)
            k += 1
        end.record()
        end.synchronize()
        ts.append(cupy.cuda.get_elapsed_time(start, end) / inner)
    return statistics.median(ts)


def call_ms(fn, repeats=20):
    """Median time in ms of one lone `fn(i)` call between two CUDA events (host launch included)."""
    import cupy

    start, end = cupy.cuda.Event(), cupy.cuda.Event()
    ts = []
    for i in range(repeats):
        start.record()
        fn(i)
        end.record()
        end.synchronize()
        ts.append(cupy.cuda.get_elapsed_time(start, end))
    return statistics.median(ts)
