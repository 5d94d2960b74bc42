"""MirroredStrategy on logical CPU devices: run/reduce/gather semantics, contexts, mirrored variables."""
import threading

import numpy as np
import pytest

import tensorlab as tl

RO = tl.distribute.ReduceOp


def _host(per_replica, strategy):
    return [np.asarray(v.numpy()) for v in strategy.experimental_local_results(per_replica)]


def test_default_devices_are_the_logical_cpus(cpus):
    cpus(3)
    s = tl.distribute.MirroredStrategy()
    assert s.num_replicas_in_sync == 3
    assert [d.split("/")[-1] for d in s.extended.worker_devices] == ["device:CPU:0", "device:CPU:1",
                                                                     "device:CPU:2"]


@pytest.mark.parametrize("n,batch", [(2, 8), (2, 5), (3, 7), (2, 1), (3, 2)])
def test_distribute_dataset_splits_global_batches(cpus, rng, n, batch):
    devs = cpus(n)
    s = tl.distribute.MirroredStrategy(devs)
    total = 2 * batch + max(1, batch // 2)   # ends with an uneven, smaller batch
    x = rng.normal(size=(total, 3)).astype(np.float32)
    seen = []
    for xb in s.experimental_distribute_dataset(tl.data.Dataset.from_tensor_slices(x).batch(batch)):
        parts = _host(xb, s)
        b = sum(len(p) for p in parts)
        base, extra = divmod(b, n)
        assert [len(p) for p in parts] == [base + (i < extra) for i in range(n)]
        for i, v in enumerate(s.experimental_local_results(xb)):
            assert v.device.endswith(f"CPU:{i}")
        seen.append(np.concatenate(parts))
    np.testing.assert_array_equal(np.concatenate(seen), x)


def test_run_reduce_against_hand_computed_values(cpus, rng):
    s = tl.distribute.MirroredStrategy(cpus(2))
    x = rng.normal(size=(5, 4)).astype(np.float32)   # split 3 / 2
    (xb,) = list(s.experimental_distribute_dataset(tl.data.Dataset.from_tensor_slices(x).batch(5)))

    def fn(v):
        ctx = tl.distribute.get_replica_context()
        return tl.reduce_sum(v), v * 2.0, ctx.replica_id_in_sync_group

    sums, doubled, ids = s.run(fn, args=(xb,))
    # Sums of random normals can cancel to near 0, where a relative tolerance alone means
    # nothing: also allow the float32 rounding bound of summing these terms in another order.
    atol = x.size * np.finfo(np.float32).eps * np.abs(2 * x).sum()
    np.testing.assert_allclose(_host(sums, s), [x[:3].sum(), x[3:].sum()], rtol=1e-6, atol=atol)
    assert [int(i) for i in _host(ids, s)] == [0, 1]
    np.testing.assert_allclose(float(s.reduce(RO.SUM, sums, axis=None)), x.sum(), rtol=1e-5, atol=atol)
    np.testing.assert_allclose(float(s.reduce("MEAN", sums, axis=None)), (x[:3].sum() + x[3:].sum()) / 2,
                               rtol=1e-5, atol=atol)
    # With an axis, MEAN is over all rows of all replicas (3 + 2), not the mean of the two means.
    np.testing.assert_allclose(s.reduce(RO.MEAN, doubled, axis=0).numpy(), (2 * x).mean(0), rtol=1e-5, atol=atol)
    np.testing.assert_allclose(s.reduce(RO.SUM, doubled, axis=0).numpy(), (2 * x).sum(0), rtol=1e-5, atol=atol)
    np.testing.assert_allclose(s.gather(doubled, axis=0).numpy(), 2 * x, rtol=1e-6)


def test_reduce_of_a_value_that_is_not_per_replica(cpus):
    s = tl.distribute.MirroredStrategy(cpus(2))
    assert float(s.reduce(RO.MEAN, tl.constant(3.0), axis=None)) == 3.0
    with pytest.raises(ValueError, match="not per-replica.*SUM.*2 replicas"):
        s.reduce(RO.SUM, tl.constant(3.0), axis=None)
    with pytest.raises(ValueError, match="unknown reduce op 'MAX'"):
        s.reduce("MAX", tl.constant(3.0), axis=None)


def test_replica_all_reduce_and_its_gradient(cpus, rng):
    s = tl.distribute.MirroredStrategy(cpus(2))
    a = rng.normal(size=(3,)).astype(np.float32)
    b = rng.normal(size=(3,)).astype(np.float32)
    vals = s.experimental_distribute_values_from_function(lambda ctx: tl.constant([a, b][ctx.replica_id_in_sync_group]))
    w = rng.normal(size=(3,)).astype(np.float32)

    def fn(v):
        ctx = tl.distribute.get_replica_context()
        with tl.GradientTape() as tape:
            tape.watch(v)
            m = ctx.all_reduce("MEAN", v * v)
            loss = tl.reduce_sum(m * tl.constant(w))
        return m, tape.gradient(loss, v)

    m, g = s.run(fn, args=(vals,))
    for r in _host(m, s):
        np.testing.assert_allclose(r, (a * a + b * b) / 2, rtol=1e-6)
    # d/dv_r sum_j w_j * mean_r(v_r^2) summed over both replicas' losses = 2 * w * v_r * (2 / 2)
    ga, gb = _host(g, s)
    np.testing.assert_allclose(ga, 2 * w * a, rtol=1e-5)
    np.testing.assert_allclose(gb, 2 * w * b, rtol=1e-5)


def test_merge_call_runs_once_in_cross_replica_context(cpus):
    s = tl.distribute.MirroredStrategy(cpus(3))
    calls = []

    def merge(strategy, value):
        calls.append(threading.current_thread().name)
        assert tl.distribute.in_cross_replica_context()
        return strategy.reduce("SUM", value, axis=None)

    def fn():
        ctx = tl.distribute.get_replica_context()
        return ctx.merge_call(merge, args=(tl.cast(ctx.replica_id_in_sync_group, tl.float32) + 1.0,))

    out = s.run(fn)
    assert len(calls) == 1
    assert out is not None and float(out) == 6.0  # the same object for every replica: not per-replica


def test_mirrored_variables_and_replica_reads(cpus, rng):
    s = tl.distribute.MirroredStrategy(cpus(2))
    init = rng.normal(size=(2, 3)).astype(np.float32)
    with s.scope():
        v = tl.Variable(init)
        assert tl.distribute.get_strategy() is s and tl.distribute.in_cross_replica_context()
    assert isinstance(v, tl.distribute.MirroredVariable) and isinstance(v, tl.Variable)
    assert tl.distribute.get_strategy() is not s and not tl.distribute.has_strategy()
    devices = s.run(lambda: v.read_value().device)
    assert [d[-5:] for d in s.experimental_local_results(devices)] == ["CPU:0", "CPU:1"]
    v.assign(v * 2.0)  # cross-replica: every copy changes
    for c in v.values:
        np.testing.assert_array_equal(c.numpy(), init * 2)
    plain = tl.Variable(1.0)
    assert type(plain) is tl.Variable


@pytest.mark.parametrize("agg,expect", [(None, "mean"), ("SUM", "sum"), ("ONLY_FIRST_REPLICA", "first")])
def test_assign_in_replica_context_aggregates(cpus, agg, expect):
    s = tl.distribute.MirroredStrategy(cpus(2))
    agg_ = None if agg is None else tl.distribute.VariableAggregation[agg]
    with s.scope():
        v = tl.Variable([10.0, 20.0], aggregation=agg_)

    def fn():
        r = tl.cast(tl.distribute.get_replica_context().replica_id_in_sync_group, tl.float32)
        v.assign_add(tl.constant([1.0, 2.0]) * (r + 1.0))
    s.run(fn)
    delta = {"mean": np.array([1.5, 3.0]), "sum": np.array([3.0, 6.0]), "first": np.array([1.0, 2.0])}[expect]
    for c in v.values:
        np.testing.assert_allclose(c.numpy(), np.array([10.0, 20.0]) + delta)


def test_variables_created_in_replicas_are_one_mirrored_variable(cpus):
    s = tl.distribute.MirroredStrategy(cpus(2))
    made = []

    def fn():
        made.append(tl.Variable(tl.ones([2])))
    s.run(fn)
    assert len(made) == 2 and made[0] is made[1]
    assert isinstance(made[0], tl.distribute.MirroredVariable)


def test_a_failing_replica_fails_run_without_hanging(cpus):
    s = tl.distribute.MirroredStrategy(cpus(2))

    def fn():
        ctx = tl.distribute.get_replica_context()
        if int(ctx.replica_id_in_sync_group) == 1:
            raise KeyError("replica one broke")
        return ctx.all_reduce("SUM", tl.constant(1.0))
    with pytest.raises(KeyError, match="replica one broke"):
        s.run(fn)


def test_several_strategies_one_after_another(cpus, rng):
    x = rng.normal(size=(6, 2)).astype(np.float32)
    for n in (2, 3, 1, 2):
        s = tl.distribute.MirroredStrategy(cpus(n))
        with s.scope():
            v = tl.Variable(tl.zeros([2]))
        for xb in s.experimental_distribute_dataset(tl.data.Dataset.from_tensor_slices(x).batch(6)):
            total = s.reduce("SUM", s.run(lambda b: tl.reduce_sum(b, axis=0), args=(xb,)), axis=None)
            v.assign(total)
        np.testing.assert_allclose(v.numpy(), x.sum(0), rtol=1e-5)
        s.close()


def test_error_mixing_two_strategies(cpus):
    a = tl.distribute.MirroredStrategy(cpus(2))
    b = tl.distribute.MirroredStrategy(["/CPU:0"])
    with a.scope():
        with pytest.raises(ValueError, match="Mixing different tl.distribute strategies.*MirroredStrategy"):
            with b.scope():
                pass


def test_error_duplicate_devices(cpus):
    cpus(2)
    with pytest.raises(ValueError, match=r"MirroredStrategy: devices \['/CPU:0', '/cpu:0'\] name a device more"):
        tl.distribute.MirroredStrategy(["/CPU:0", "/cpu:0"])


def test_distribute_datasets_from_function(cpus, rng):
    s = tl.distribute.MirroredStrategy(cpus(2))
    x = rng.normal(size=(12, 2)).astype(np.float32)
    contexts = []

    def dataset_fn(ctx):
        contexts.append(ctx)
        return tl.data.Dataset.from_tensor_slices(x).batch(ctx.get_per_replica_batch_size(6))

    steps = list(s.distribute_datasets_from_function(dataset_fn))
    assert len(contexts) == 1 and contexts[0].num_replicas_in_sync == 2 and contexts[0].num_input_pipelines == 1
    assert len(steps) == 2
    got = np.concatenate([np.concatenate(_host(st, s)) for st in steps])
    np.testing.assert_array_equal(got, x)
    with pytest.raises(ValueError, match="global batch size 5 is not divisible by num_replicas_in_sync=2"):
        contexts[0].get_per_replica_batch_size(5)


def test_data_sharding_across_workers(cpus, rng, tmp_path):
    # One process pretending to be worker 1 of 2 (the sharding logic, without MPI).
    s = tl.distribute.MirroredStrategy(["/CPU:0"])
    s.extended._num_workers, s.extended._worker_index = 2, 1
    x = rng.normal(size=(10, 2)).astype(np.float32)
    ds = tl.data.Dataset.from_tensor_slices(x).batch(4)
    got = [b.values[0].numpy() for b in s.experimental_distribute_dataset(ds)]
    np.testing.assert_array_equal(np.concatenate(got), np.concatenate([x[2:4], x[6:8], x[9:10]]))
    opts = tl.data.Options()
    opts.experimental_distribute.auto_shard_policy = tl.distribute.AutoShardPolicy.FILE
    with pytest.raises(ValueError, match="AutoShardPolicy.FILE needs a dataset read from files"):
        s.experimental_distribute_dataset(ds.with_options(opts))
    files = []
    for i in range(4):
        p = tmp_path / f"f{i}.txt"
        p.write_text(f"{i}a\n{i}b\n")
        files.append(str(p))
    fds = tl.data.TextLineDataset(files).batch(4)
    lines = [x for b in s.experimental_distribute_dataset(fds.with_options(opts)) for x in np.asarray(b.values[0])]
    assert sorted(lines) == [b"1a", b"1b", b"3a", b"3b"]
