"""TF_CONFIG parsing, chief selection, and MultiWorkerMirroredStrategy in a lone process."""
import json
import os

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


def test_only_the_chief_writes_checkpoints_and_logs(monkeypatch, rng, tmp_path):
    """A worker other than the chief trains, but its ModelCheckpoint and TensorBoard write
    nothing, and its BackupAndRestore keeps its own folder inside backup_dir."""
    monkeypatch.delenv("TF_CONFIG", raising=False)
    for k in CR._MPI_ENV:
        monkeypatch.delenv(k, raising=False)
    s = tl.distribute.MultiWorkerMirroredStrategy()
    x = rng.normal(size=(12, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=(12,))
    for chief in (False, True):
        role = type(s.extended)
        monkeypatch.setattr(role, "should_checkpoint", property(lambda self, c=chief: c))
        monkeypatch.setattr(role, "should_save_summary", property(lambda self, c=chief: c))
        monkeypatch.setattr(s.extended, "_worker_index", 0 if chief else 1)
        with s.scope():
            model = tl.keras.Sequential([tl.keras.Input((3,)), tl.keras.layers.Dense(2)])
            model.compile("sgd", "sparse_categorical_crossentropy")
        out = tmp_path / ("chief" if chief else "worker")
        seen = []

        class Peek(tl.keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                seen.append(sorted(os.listdir(out / "backup")))
        model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[
            tl.keras.callbacks.ModelCheckpoint(str(out / "ckpt.weights.h5"), save_weights_only=True, monitor="loss"),
            tl.keras.callbacks.TensorBoard(str(out / "logs"), update_freq=1),
            tl.keras.callbacks.BackupAndRestore(str(out / "backup")), Peek()])
        assert int(model.optimizer.iterations.numpy()) == 6   # every worker trains
        assert (out / "ckpt.weights.h5").exists() == chief
        assert (out / "logs").exists() == chief
        assert seen[-1] == (["checkpoint", "chkpt-1.tlckpt", "chkpt-2.tlckpt", "training_state.json"]
                            if chief else ["worker_1"]), seen
        assert not (out / "backup").exists()   # deleted when training ends
    s.close()
