"""tl.distribute's GPU paths on two emulated GPUs with a checked stand-in for NCCL.

The GPU tests of tests/distribute/test_gpu.py (NcclAllReduce, several strategies in a row,
MirroredStrategy training against the CPU) run here as they would on a two-GPU machine: device
placement, peer copies, NCCL communicators and grouped calls, buckets reduced during the
backward pass, and the kernels, all on the host. `FakeNccl` fails on what would hang on GPUs
(a multi-rank call outside a group, a group missing a rank, ranks that disagree on sizes).
"""
import re

import numpy as np
import pytest

import tensorlab as tl
from tests.distribute import test_gpu as on_gpu


@pytest.mark.parametrize("sizes", [[1], [17, 1023], [3, 5, 7, 1 << 16]])
def test_nccl_all_reduce_sums_every_replica(emulated_gpus_with_nccl, rng, sizes):
    assert len(on_gpu._gpus()) == 2
    on_gpu.test_nccl_all_reduce_sums_every_replica(rng, sizes)
    calls = emulated_gpus_with_nccl.nccl.calls
    assert calls and all(ranks == 2 for ranks, _, _ in calls)


def test_several_nccl_strategies_one_after_another(emulated_gpus_with_nccl, rng):
    on_gpu.test_several_nccl_strategies_one_after_another(rng)


@pytest.mark.parametrize("kind", ["mlp", "cnn_sync_bn"])
def test_fit_on_two_gpus_matches_the_cpu(emulated_gpus_with_nccl, rng, kind):
    on_gpu.test_fit_on_gpus_matches_the_cpu(rng, kind)
    calls = emulated_gpus_with_nccl.nccl.calls
    assert len(calls) > 1, "the gradients were not reduced by NCCL in buckets"


def test_gradient_buckets_stay_pending_until_the_step_uses_them(emulated_gpus_with_nccl, rng, monkeypatch):
    """The compute streams wait for the buckets' NCCL calls once per step, after the last bucket
    was queued (GradientBucketer.result), not after each bucket: backward runs alongside them."""
    from tensorlab.distribute import cross_device_ops as cdo
    waits, real_wait = [], cdo.PendingCollectives.wait

    def wait(self):
        if len(self):
            waits.append(len(self))
        real_wait(self)

    monkeypatch.setattr(cdo.PendingCollectives, "wait", wait)
    strategy = tl.distribute.MirroredStrategy(["/GPU:0", "/GPU:1"])
    strategy.extended._bucket_bytes = 64  # a bucket per variable
    keras = tl.keras
    with strategy.scope():
        model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(5), keras.layers.Dense(3)])
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x, y = rng.standard_normal((16, 6)).astype(np.float32), rng.standard_normal((16, 3)).astype(np.float32)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    n_buckets, early = strategy.extended._last_step_buckets
    assert n_buckets == 4 and early >= 3
    assert waits == [2 * n_buckets] * 2  # two steps; each bucket pending on both GPUs until the step's end
    assert len(strategy.extended._cross_device_ops._pending) == 0


def test_the_fake_fails_where_nccl_would_hang(emulated_gpus_with_nccl):
    nccl = emulated_gpus_with_nccl.nccl
    a, b = np.ones(4, np.float32), np.ones(4, np.float32)
    comms = nccl.NcclCommunicator.initAll([0, 1])
    with pytest.raises(RuntimeError, match="outside groupStart/groupEnd"):
        comms[0].allReduce(a.ctypes.data, b.ctypes.data, 4, nccl.NCCL_FLOAT32, nccl.NCCL_SUM, 0)
    nccl.pending.clear()
    nccl.groupStart()
    comms[0].allReduce(a.ctypes.data, b.ctypes.data, 4, nccl.NCCL_FLOAT32, nccl.NCCL_SUM, 0)
    with pytest.raises(RuntimeError, match=r"ranks \[0\] of a 2-rank communicator"):
        nccl.groupEnd()
    nccl.groupStart()
    comms[0].allReduce(a.ctypes.data, b.ctypes.data, 4, nccl.NCCL_FLOAT32, nccl.NCCL_SUM, 0)
    comms[1].allReduce(a.ctypes.data, b.ctypes.data, 3, nccl.NCCL_FLOAT32, nccl.NCCL_SUM, 0)
    with pytest.raises(RuntimeError, match="disagree on count"):
        nccl.groupEnd()
    with tl.device("gpu:1"):
        assert tl.ones([2]).device.endswith("GPU:1")


@pytest.mark.mpi
@pytest.mark.parametrize("model,loop", [("cnn", "fit"), ("mlp", "custom"), ("mlp", "fit-dataset"),
                                        ("cnn", "train-step")])
def test_two_workers_on_two_emulated_gpus_match_one_process(tmp_path, model, loop):
    """MultiWorkerMirroredStrategy's NCCL path across `mpiexec -n 2` processes, each on its own
    emulated GPU (rank 1 on GPU:1), trains to the weights of one process on the CPU."""
    import os
    import sys

    from tests.distribute import test_mpi

    mpiexec = test_mpi._mpiexec()
    wrapper = os.path.join(test_mpi.ROOT, "tests", "kernels", "emu", "run_on_emulated_gpus.py")
    args = ["--out", str(tmp_path), "--model", model, "--loop", loop]
    r = test_mpi._run([mpiexec, "-n", "2", sys.executable, wrapper, "--gpus", "2", test_mpi.SCRIPT] + args, 300)
    assert r.returncode == 0, r.stdout + r.stderr
    # (the ranks' lines may interleave)
    collectives = [int(n) for n in re.findall(r"emulated GPUs: (\d+) NCCL collectives", r.stdout)]
    assert len(collectives) == 2 and min(collectives) > 0, r.stdout
    w0, w1 = np.load(tmp_path / "weights_0.npz"), np.load(tmp_path / "weights_1.npz")
    os.rename(tmp_path / "weights_0.npz", tmp_path / "workers_0.npz")
    r = test_mpi._run([sys.executable, test_mpi.SCRIPT] + args + ["--no-strategy"], 120)
    assert r.returncode == 0, r.stdout + r.stderr
    ref = np.load(tmp_path / "weights_0.npz")
    for k in ref.files:
        assert np.array_equal(w0[k], w1[k]), f"{k} differs between the workers"
        np.testing.assert_allclose(w0[k], ref[k], rtol=1e-5, atol=1e-6, err_msg=k)


def test_the_gpu_check_distribute_benchmark_runs(emulated_gpus_with_nccl, monkeypatch, tmp_path):
    """bench/distribute_allreduce.py (gpu-check's distribute stage) end to end on two emulated
    GPUs, with a small model in place of its ResNet: the JSON has every figure, busbw follows
    nccl-tests' definition. (The timings mean nothing here.)"""
    import json

    from bench import distribute_allreduce as bench

    def small_cnn():
        L = tl.keras.layers
        inp = tl.keras.Input(bench.IMAGE_SHAPE)
        x = L.BatchNormalization()(L.Conv2D(4, 3, padding="same", use_bias=False)(inp))
        x = L.GlobalAveragePooling2D()(L.Activation("relu")(x))
        return tl.keras.Model(inp, L.Dense(10)(x))

    monkeypatch.setattr(bench, "resnet_cnn", small_cnn)
    monkeypatch.setattr(bench, "MB", 1 << 12)           # "1 MB" buffers of 4 KiB
    monkeypatch.setenv("OUT", str(tmp_path))
    monkeypatch.setattr(bench, "PER_REPLICA_BATCH", 2)
    monkeypatch.setattr(bench, "OVERLAP_ROUNDS", 3)
    monkeypatch.setattr(bench, "OVERLAP_STEPS", 1)
    monkeypatch.setattr(bench, "IMAGE_SHAPE", (6, 6, 3))
    bench.main()
    res = json.load(open(tmp_path / "distribute_allreduce.json"))
    rows = res["allreduce"]["rows"]
    assert res["allreduce"]["gpus"] == 2 and [r["size_mb"] for r in rows] == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    for r in rows:
        assert r["busbw_GBps"] == pytest.approx(r["algbw_GBps"] * 2 * (2 - 1) / 2)
    o = res["overlap"]
    assert o["buckets"] >= 1 and o["gradient_MB"] > 0
    rows = res["overlap_by_bucket"]
    assert len(rows) == 2 and rows[0]["bucket_MB"] == o["default_bucket_MB"] and rows[1]["buckets"] >= 4
    for r in rows:
        assert (0.0 <= r["hidden_share"] <= 1.0) if r["hidden_share"] is not None else r["hidden_share_note"]
        assert r["buckets_reduced_during_backward"] <= r["buckets"]
        for key, kind in (("step_ms", "step"), ("compute_only_ms", "compute_only"),
                          ("allreduce_alone_ms", "allreduce_alone")):
            lo, hi = r["spread_ms"][kind]
            assert 0 < lo <= r[key] <= hi
    assert {k: o[k] for k in rows[0]} == rows[0]
    assert res["scaling"]["gpus"] == 2 and res["scaling"]["efficiency"] > 0

