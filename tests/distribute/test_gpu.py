"""tl.distribute on GPUs: NCCL all-reduce, bucketing, equivalence with the CPU (any number of GPUs, even one)."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import tensorlab as tl

pytestmark = pytest.mark.gpu
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _gpus():
    return [f"/GPU:{i}" for i in range(len(tl.config.list_physical_devices("GPU")))]


def _need_nccl():
    from tensorlab.distribute import nccl_loader
    status = nccl_loader.load()
    if not status.available:
        pytest.skip(f"CuPy finds no NCCL library (libnccl.so.2, e.g. pip install nvidia-nccl-cu13): {status.reason}")


@pytest.mark.parametrize("sizes", [[1], [17, 1023], [3, 5, 7, 1 << 20]])
def test_nccl_all_reduce_sums_every_replica(rng, sizes):
    _need_nccl()
    devs = _gpus()
    ops = tl.distribute.NcclAllReduce(bucket_bytes=1 << 16)
    cols, expect = [], []
    for n in sizes:
        host = [rng.normal(size=(n,)).astype(np.float32) for _ in devs]
        col = []
        for d, h in zip(devs, host):
            with tl.device(d):
                col.append(tl.constant(h))
        cols.append(col)
        expect.append(sum(host))
    out = ops.batch_all_reduce(tl.distribute.ReduceOp.SUM, cols)
    for k, col in enumerate(out):
        for d, t in zip(devs, col):
            assert t.device.endswith(d[1:].replace("/", ""))
            np.testing.assert_allclose(t.numpy(), expect[k], rtol=1e-5, atol=1e-6)
    ops.close()


def test_several_nccl_strategies_one_after_another(rng):
    _need_nccl()
    for _ in range(3):
        s = tl.distribute.MirroredStrategy()
        assert isinstance(s.extended._cross_device_ops, tl.distribute.NcclAllReduce)
        vals = s.experimental_distribute_values_from_function(lambda ctx: tl.ones([4]) * (ctx.replica_id_in_sync_group + 1))
        out = s.run(lambda v: tl.distribute.get_replica_context().all_reduce("SUM", v), args=(vals,))
        n = s.num_replicas_in_sync
        for v in s.experimental_local_results(out):
            np.testing.assert_allclose(v.numpy(), np.full(4, n * (n + 1) / 2))
        s.close()
        assert s.extended._cross_device_ops._comms is None


def _models():
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import test_keras_equivalence as m
    return m


@pytest.mark.parametrize("kind", ["mlp", "cnn_sync_bn"])
def test_fit_on_gpus_matches_the_cpu(rng, kind):
    m = _models()
    s = tl.distribute.MirroredStrategy()
    s.extended._bucket_bytes = 256  # several buckets, reduced during the backward pass
    s.extended._force_collectives = True  # even with one GPU: NCCL with one rank, buckets, overlap
    with tl.device("cpu"):
        ref = m.make(kind)
        m.compile_(ref)
    with s.scope():
        model = m.make(kind)
        for w, r in zip(model.weights, ref.weights):
            w.assign(r.numpy())
        m.compile_(model)
    x, y = m.data(kind, rng, 3 * m.GLOBAL_BATCH)
    check = m.ReplicasIdentical(s)
    model.fit(x, y, batch_size=m.GLOBAL_BATCH, shuffle=False, verbose=0, callbacks=[check])
    with tl.device("cpu"):
        ref.fit(x, y, batch_size=m.GLOBAL_BATCH, shuffle=False, verbose=0)
    for r, w in zip(ref.weights, model.weights):
        np.testing.assert_allclose(w.numpy(), r.numpy(), rtol=2e-4, atol=2e-5, err_msg=w.name)
    n_buckets, early = s.extended._last_step_buckets
    assert n_buckets > 1 and early >= 1


@pytest.mark.real_gpu
def test_two_ranks_on_one_gpu_are_refused(tmp_path):
    if len(_gpus()) != 1:
        pytest.skip("needs exactly one GPU")
    exe = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    exe = exe if os.path.exists(exe) else shutil.which("mpiexec")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        exe = None
    if exe is None:
        pytest.skip("needs mpiexec and mpi4py")
    env = dict(os.environ, PYTHONPATH=ROOT)
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # Open MPI refuses root without these (containers)
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    probe = subprocess.run([exe, "-n", "2", sys.executable, "-c",
                            "from mpi4py import MPI; print('WORLD', MPI.COMM_WORLD.Get_size())"],
                           env=env, capture_output=True, text=True, timeout=120)
    sizes = [ln.split()[1] for ln in probe.stdout.splitlines() if ln.startswith("WORLD ")]
    if sizes != ["2", "2"]:
        pytest.skip(f"{exe} does not start a 2-process world for this mpi4py (is it the MPI mpi4py was "
                    f"built against?): {(probe.stdout + probe.stderr)[-400:]}")
    code = "import tensorlab as tl; tl.distribute.MultiWorkerMirroredStrategy()"
    r = subprocess.run([exe, "-n", "2", sys.executable, "-c", code], env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode != 0
    assert "would share GPU" in r.stdout + r.stderr and "NCCL needs one GPU per process" in r.stdout + r.stderr


def test_nccl_worker_communicator_of_one_rank(rng):
    _need_nccl()
    pytest.importorskip("mpi4py")
    from tensorlab.distribute.cluster_resolver import mpi_world
    from tensorlab.distribute.multi_worker import MpiCollectives, NcclWorkerAllReduce
    world = mpi_world()
    if world.Get_size() != 1:
        pytest.skip("runs in a lone process")
    coll = NcclWorkerAllReduce(MpiCollectives(world, 30), 0)
    x = rng.normal(size=(1000,)).astype(np.float32)
    with tl.device("/GPU:0"):
        out = coll.allreduce(tl.constant(x))
    np.testing.assert_array_equal(out.numpy(), x)
    coll.close()
