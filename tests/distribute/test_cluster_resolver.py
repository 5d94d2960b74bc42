"""TF_CONFIG parsing, chief selection, and MultiWorkerMirroredStrategy in a lone process."""
import json

import numpy as np
import pytest

import tensorlab as tl

CR = tl.distribute.cluster_resolver


def _tf_config(monkeypatch, cfg):
    monkeypatch.setenv("TF_CONFIG", json.dumps(cfg) if not isinstance(cfg, str) else cfg)
    for k in CR._MPI_ENV:
        monkeypatch.delenv(k, raising=False)


def test_tf_config_with_a_chief(monkeypatch):
    _tf_config(monkeypatch, {"cluster": {"chief": ["h0:1"], "worker": ["h1:1", "h2:1"]},
                             "task": {"type": "worker", "index": 1}})
    r = CR.TFConfigClusterResolver()
    assert (r.task_type, r.task_id, r.num_workers, r.global_index, r.is_chief) == ("worker", 1, 3, 2, False)
    assert r.cluster_spec().as_dict() == {"chief": ["h0:1"], "worker": ["h1:1", "h2:1"]}


def test_tf_config_worker_zero_is_chief_without_a_chief_job(monkeypatch):
    _tf_config(monkeypatch, {"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}})
    r = CR.TFConfigClusterResolver()
    assert r.is_chief and r.num_workers == 2 and r.global_index == 0


def test_error_tf_config_bad_index_and_json(monkeypatch):
    _tf_config(monkeypatch, {"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 2}})
    with pytest.raises(ValueError, match=r"TF_CONFIG: task index 2 is out of range for job 'worker', which has 2"):
        CR.TFConfigClusterResolver()
    _tf_config(monkeypatch, "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not valid JSON"):
        CR.TFConfigClusterResolver()


def test_error_tf_config_needs_mpi_processes(monkeypatch):
    pytest.importorskip("mpi4py")
    _tf_config(monkeypatch, {"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}})
    with pytest.raises(ValueError, match=r"the cluster has 2 worker\(s\).*but MPI started 1 process\(es\).*"
                                         r"mpirun -H host1,host2 -np 2"):
        tl.distribute.MultiWorkerMirroredStrategy()


def test_lone_worker_trains_like_no_strategy(monkeypatch, rng):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    for k in CR._MPI_ENV:
        monkeypatch.delenv(k, raising=False)
    s = tl.distribute.MultiWorkerMirroredStrategy()
    assert s.num_replicas_in_sync == 1 and s.extended.should_checkpoint
    x = rng.normal(size=(6, 3)).astype(np.float32)
    with s.scope():
        v = tl.Variable(tl.zeros([3]))
    for xb in s.experimental_distribute_dataset(tl.data.Dataset.from_tensor_slices(x).batch(4)):
        v.assign_add(s.reduce("SUM", s.run(lambda b: tl.reduce_sum(b, axis=0), args=(xb,)), axis=None))
    np.testing.assert_allclose(v.numpy(), x.sum(0), rtol=1e-5)
    s.close()
