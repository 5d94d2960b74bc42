"""``tl.train.Checkpoint``/``CheckpointManager``: save/restore, partial restores, retention, crash safety."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def model(seed=0):
    tl.random.set_seed(seed)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.BatchNormalization(), keras.layers.Dense(3)])
    m.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


def xy(rng, n=40):
    return rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, n)


def assert_same(a_list, b_list):
    assert len(a_list) == len(b_list)
    for a, b in zip(a_list, b_list):
        np.testing.assert_array_equal(a, b)


def test_save_restore_model_optimizer_and_step(tmp_path, rng):
    x, y = xy(rng)
    m = model()
    m.fit(x, y, epochs=2, batch_size=8, verbose=0)
    step = tl.Variable(tl.constant(7, dtype="int64"))
    ckpt = tl.train.Checkpoint(model=m, optimizer=m.optimizer, step=step)
    path = ckpt.save(tmp_path / "ckpt")
    assert path == str(tmp_path / "ckpt-1") and os.path.exists(path + ".tlckpt")
    assert tl.train.latest_checkpoint(tmp_path) == path

    r = model(seed=5)
    r_step = tl.Variable(tl.constant(0, dtype="int64"))
    status = tl.train.Checkpoint(step=r_step, optimizer=r.optimizer, model=r).restore(path)  # any order
    status.assert_consumed()
    assert int(r_step.numpy()) == 7
    assert_same(m.get_weights(), r.get_weights())
    assert_same([v.numpy() for v in m.optimizer.variables], [v.numpy() for v in r.optimizer.variables])
    m.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    r.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    assert_same(m.get_weights(), r.get_weights())


def test_write_read_and_partial_restores(tmp_path, rng):
    m = model()
    step = tl.Variable(tl.constant(3, dtype="int64"))
    prefix = tl.train.Checkpoint(model=m, step=step).write(tmp_path / "w")
    assert prefix == str(tmp_path / "w") and tl.train.latest_checkpoint(tmp_path) is None
    only_model = model(seed=9)
    status = tl.train.Checkpoint(model=only_model).read(prefix)
    with pytest.raises(AssertionError, match="step"):
        status.assert_consumed()
    status.expect_partial()
    status.assert_existing_objects_matched()
    assert_same(m.get_weights(), only_model.get_weights())
    extra = tl.Variable(tl.constant(1.0))
    status = tl.train.Checkpoint(model=model(seed=2), step=step, extra=extra).read(prefix)
    with pytest.raises(AssertionError, match="extra"):
        status.assert_existing_objects_matched()
    assert tl.train.Checkpoint(model=m).restore(None).assert_consumed() is not None


def test_error_restore_mismatched_shapes_changes_nothing(tmp_path):
    a = tl.Variable(tl.constant([1.0, 2.0]))
    b = tl.Variable(tl.constant(5.0))
    p = tl.train.Checkpoint(a=a, b=b).save(tmp_path / "c")
    a2 = tl.Variable(tl.constant([0.0, 0.0, 0.0]))
    b2 = tl.Variable(tl.constant(0.0))
    with pytest.raises(ValueError, match=r"a: the object has shape \(3,\), the checkpoint \(2,\)"):
        tl.train.Checkpoint(a=a2, b=b2).restore(p)
    assert float(b2.numpy()) == 0.0
    with pytest.raises(tl.errors.NotFoundError, match="missing"):
        tl.train.Checkpoint(a=a).restore(tmp_path / "missing")


def test_attributes_assigned_later_are_tracked(tmp_path):
    ckpt = tl.train.Checkpoint()
    ckpt.step = tl.Variable(tl.constant(4, dtype="int64"))
    ckpt.lr = tl.Variable(tl.constant(0.5))
    p = ckpt.save(tmp_path / "c")
    r = tl.train.Checkpoint(step=tl.Variable(tl.constant(0, dtype="int64")), lr=tl.Variable(tl.constant(0.0)))
    r.restore(p).assert_consumed()
    assert int(r.step.numpy()) == 4 and float(r.lr.numpy()) == 0.5


def test_error_restore_into_unbuilt_model(tmp_path):
    p = tl.train.Checkpoint(model=model()).save(tmp_path / "c")
    unbuilt = keras.Sequential([keras.layers.Dense(8)])
    with pytest.raises(ValueError, match=r"model \"sequential.*\" \(tracked as 'model'\) is not built"):
        tl.train.Checkpoint(model=unbuilt).restore(p)


def test_error_corrupt_checkpoint_names_the_file(tmp_path):
    v = tl.Variable(tl.constant(np.arange(1000, dtype=np.float32)))
    p = tl.train.Checkpoint(v=v).save(tmp_path / "c")
    raw = open(p + ".tlckpt", "rb").read()
    open(p + ".tlckpt", "wb").write(raw[: len(raw) - 100])
    with pytest.raises(tl.errors.DataLossError, match="c-1.tlckpt"):
        tl.train.Checkpoint(v=v).restore(p)
    bad = bytearray(raw)
    bad[len(raw) // 2] ^= 0xFF
    open(p + ".tlckpt", "wb").write(bytes(bad))
    with pytest.raises(tl.errors.DataLossError, match="c-1.tlckpt"):
        tl.train.Checkpoint(v=v).restore(p)


def test_manager_keeps_max_to_keep_and_recovers_state(tmp_path):
    v = tl.Variable(tl.constant(0.0))
    ckpt = tl.train.Checkpoint(v=v)
    mgr = tl.train.CheckpointManager(ckpt, tmp_path, max_to_keep=2)
    assert mgr.latest_checkpoint is None and mgr.restore_or_initialize() is None
    paths = []
    for i in range(4):
        v.assign(tl.constant(float(i)))
        paths.append(mgr.save())
    assert paths == [str(tmp_path / f"ckpt-{i}") for i in range(1, 5)]
    assert mgr.checkpoints == paths[2:]
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith(".tlckpt")) == ["ckpt-3.tlckpt", "ckpt-4.tlckpt"]
    assert tl.train.latest_checkpoint(tmp_path) == paths[-1]
    state = open(tmp_path / "checkpoint").read()
    assert 'model_checkpoint_path: "ckpt-4"' in state and 'all_model_checkpoint_paths: "ckpt-3"' in state

    v2 = tl.Variable(tl.constant(-1.0))
    ckpt2 = tl.train.Checkpoint(v=v2)
    mgr2 = tl.train.CheckpointManager(ckpt2, tmp_path, max_to_keep=2)
    assert mgr2.checkpoints == paths[2:] and mgr2.restore_or_initialize() == paths[-1]
    assert float(v2.numpy()) == 3.0 and int(ckpt2.save_counter.numpy()) == 4
    assert mgr2.save() == str(tmp_path / "ckpt-5")
    assert mgr2.checkpoints == [paths[3], str(tmp_path / "ckpt-5")]
    assert mgr2.save(checkpoint_number=100) == str(tmp_path / "ckpt-100")


def test_manager_keep_every_n_hours_and_interval(tmp_path, monkeypatch):
    now = [1000.0]
    from tensorlab.train import checkpoint as ck
    monkeypatch.setattr(ck, "_now", lambda: now[0])
    v = tl.Variable(tl.constant(0.0))
    mgr = tl.train.CheckpointManager(tl.train.Checkpoint(v=v), tmp_path, max_to_keep=1,
                                     keep_checkpoint_every_n_hours=1.0)
    for _ in range(5):
        mgr.save()
        now[0] += 1800.0  # half an hour
    files = sorted(f for f in os.listdir(tmp_path) if f.endswith(".tlckpt"))
    # ckpt-3 is the first an hour past the manager's start: preserved; ckpt-5 is the newest.
    assert files == ["ckpt-3.tlckpt", "ckpt-5.tlckpt"], files

    step = tl.Variable(tl.constant(0, dtype="int64"))
    mgr = tl.train.CheckpointManager(tl.train.Checkpoint(v=v), tmp_path / "iv", max_to_keep=None,
                                     step_counter=step, checkpoint_interval=10)
    saved = []
    for s in range(0, 35, 5):
        step.assign(tl.constant(s, dtype="int64"))
        saved.append(mgr.save() is not None)
    assert saved == [True, False, True, False, True, False, True]


def test_error_manager_arguments():
    ckpt = tl.train.Checkpoint(v=tl.Variable(tl.constant(0.0)))
    with pytest.raises(ValueError, match="max_to_keep must be positive"):
        tl.train.CheckpointManager(ckpt, "/tmp/x", max_to_keep=0)
    with pytest.raises(ValueError, match="checkpoint_interval needs a step_counter"):
        tl.train.CheckpointManager(ckpt, "/tmp/x", max_to_keep=1, checkpoint_interval=5)
    with pytest.raises(TypeError, match="tl.train.Checkpoint"):
        tl.train.CheckpointManager(object(), "/tmp/x", max_to_keep=1)
    with pytest.raises(ValueError, match="cannot track"):
        tl.train.Checkpoint(thing=object())._values()


def test_resume_from_checkpoint_is_bit_identical_with_dataset_order(tmp_path, rng):
    x, y = xy(rng)

    def ds():
        return tl.data.Dataset.from_tensor_slices((x, y)).shuffle(40, seed=3).batch(8)
    ref = model()
    ref.fit(ds(), epochs=4, verbose=0)

    m = model()
    m.fit(ds(), epochs=2, verbose=0)
    path = tl.train.CheckpointManager(tl.train.Checkpoint(model=m), tmp_path, max_to_keep=1).save()
    resumed = model(seed=11)  # a fresh process would start from other weights
    tl.train.Checkpoint(model=resumed).restore(path).assert_consumed()
    data = ds()
    data._advance_epochs(2)
    resumed.fit(data, epochs=4, initial_epoch=2, verbose=0)
    assert_same(ref.get_weights(), resumed.get_weights())


CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import tensorlab as tl
    from tensorlab.keras.saving import file_format as ff
    keras = tl.keras
    out = sys.argv[1]
    m = keras.Sequential([keras.Input((400,)), keras.layers.Dense(400), keras.layers.Dense(400),
                          keras.layers.Dense(400)])
    v = tl.Variable(tl.constant(0.0))
    mgr = tl.train.CheckpointManager(tl.train.Checkpoint(model=m, v=v), out + "/ckpts", max_to_keep=2)
    k = 0
    while True:
        k += 1
        for w in m.weights:
            w.assign(np.full(tuple(w.shape), float(k), np.float32))
        v.assign(tl.constant(float(k)))
        ff.save_model(m, out + "/model.keras")
        mgr.save()
        print(k, flush=True)
""")


def test_sigkill_mid_write_leaves_previous_files_loadable(tmp_path):
    from tensorlab.keras.saving import file_format as ff
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.getcwd()] + sys.path))
    rs = np.random.default_rng()
    killed_mid_write = 0
    for attempt in range(4):
        out = tmp_path / f"run{attempt}"
        out.mkdir()
        p = subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE, env=env, text=True)
        try:
            done = 0
            while done < 2 + attempt:  # let it save a few times, then kill it at a random moment
                line = p.stdout.readline()
                assert line, "the child process died before saving"
                done = int(line)
            # Kill it at a random moment (the first attempts), or as soon as a temporary
            # file is being written (the last ones, so that at least one kill lands mid-write).
            wait = float(rs.uniform(0.0, 0.5)) if attempt < 2 else 5.0
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and not _temporaries(out):
                pass
        finally:
            os.kill(p.pid, signal.SIGKILL)
            p.wait()
            p.stdout.close()
        keras.backend.clear_session()
        killed_mid_write += bool(_temporaries(out))
        # Each file holds one complete save, at least as new as the last one reported.
        m = ff.load_model(out / "model.keras")
        ks = {float(np.unique(w)[0]) for w in m.get_weights()}
        assert len(ks) == 1 and all(len(np.unique(w)) == 1 for w in m.get_weights())
        assert ks.pop() >= done
        latest = tl.train.latest_checkpoint(out / "ckpts")
        v = tl.Variable(tl.constant(-1.0))
        tl.train.Checkpoint(model=m, v=v).restore(latest).assert_consumed()
        assert float(v.numpy()) >= done
        assert all(len(np.unique(w)) == 1 and np.unique(w)[0] == float(v.numpy()) for w in m.get_weights())
        # A new manager removes what the killed writer left half-written, and nothing else.
        before = set(os.listdir(out / "ckpts"))
        tl.train.CheckpointManager(tl.train.Checkpoint(v=v), out / "ckpts", max_to_keep=2)
        after = set(os.listdir(out / "ckpts"))
        assert not [n for n in after if ".tmp-" in n] and before - after == {n for n in before if ".tmp-" in n}
    assert killed_mid_write >= 1, "no kill landed during a write; the test did not test atomicity"


def _temporaries(out):
    names = os.listdir(out) + (os.listdir(out / "ckpts") if (out / "ckpts").exists() else [])
    return [n for n in names if ".tmp-" in n]
