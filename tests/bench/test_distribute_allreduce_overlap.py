"""bench/distribute_allreduce.py's overlap arithmetic (pure Python, run without a GPU): the
smaller bucket size, the median/spread of the rounds and when the hidden share is a figure."""
import pytest

import tensorlab as tl
from bench import distribute_allreduce as bench
from tensorlab.distribute import bucketing

MB = 1 << 20


def test_small_bucket_bytes_splits_the_resnet_gradient_into_several_buckets():
    # The benchmark's CNN (built on the CPU): 18.7 MB of gradients, one bucket at the default
    # 25 MB; 18.7 / 4 rounds down to 4 MB, where its 9 MB and 4.5 MB kernels get buckets of their own.
    specs = bench._gradient_specs(bench.resnet_cnn())
    assert sum(n * dt.size for n, dt in specs) / MB == pytest.approx(18.7, abs=0.05)
    assert len(bucketing.plan(specs, bucketing.DEFAULT_BUCKET_BYTES)) == 1
    b = bench.small_bucket_bytes(specs, 4, unit=MB)
    assert b == 4 * MB and len(bucketing.plan(specs, b)) == 6


def test_small_bucket_bytes_halves_past_large_tensors_and_gives_up_when_it_must():
    # 2 big tensors and 2 tiny ones: total / 4 still puts the tiny ones together (3 buckets).
    specs = [(1000, tl.float32), (1000, tl.float32), (1, tl.float32), (1, tl.float32)]
    b = bench.small_bucket_bytes(specs, 4, unit=MB)
    assert len(bucketing.plan(specs, b)) >= 4
    assert bench.small_bucket_bytes(specs[:3], 4, unit=MB) is None   # three tensors: never four buckets


def test_time_stats_are_median_min_max_in_ms():
    assert bench.time_stats_ms([0.003, 0.001, 0.002, 0.010]) == pytest.approx(
        {"median": 2.5, "min": 1.0, "max": 10.0})


def test_hidden_share_from_medians():
    share, raw, note = bench.hidden_share(t_step=10.5, t_compute=10.0, t_ar=2.0, noise=0.3)
    assert share == raw == pytest.approx(0.75) and note is None


def test_hidden_share_is_none_below_the_noise():
    # The H200 run's numbers: all-reduce alone 1.21 ms, step 1.7 ms faster than compute alone.
    share, raw, note = bench.hidden_share(t_step=26.73, t_compute=28.43, t_ar=1.21, noise=2.0)
    assert share is None and raw == pytest.approx((28.43 + 1.21 - 26.73) / 1.21) and "noise" in note
    assert bench.hidden_share(10.0, 10.0, 0.0, 0.1)[0] is None


def test_hidden_share_out_of_range():
    # Step faster than compute alone, within the noise: clamped to 1, the raw value kept.
    share, raw, note = bench.hidden_share(t_step=9.9, t_compute=10.0, t_ar=2.0, noise=0.3)
    assert share == 1.0 and raw == pytest.approx(1.05) and "clamped" in note
    # ... by more than the noise: no figure.
    share, raw, note = bench.hidden_share(t_step=9.0, t_compute=10.0, t_ar=2.0, noise=0.3)
    assert share is None and "not comparable" in note
    # Step slower than compute + all-reduce: nothing hidden.
    assert bench.hidden_share(t_step=12.1, t_compute=10.0, t_ar=2.0, noise=0.3)[0] == 0.0
    share, raw, note = bench.hidden_share(t_step=13.0, t_compute=10.0, t_ar=2.0, noise=0.3)
    assert share == 0.0 and raw == pytest.approx(-0.5) and "nothing hidden" in note
