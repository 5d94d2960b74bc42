"""tl.train.ExponentialMovingAverage and reading checkpoints (list_variables, load_variable, load_checkpoint)."""
import numpy as np
import pytest

import tensorlab as tl


def test_ema_tracks_numpy_reference(rng):
    a0, b0 = rng.normal(size=(3, 4)), rng.normal(size=5).astype(np.float32)
    a, b = tl.Variable(a0), tl.Variable(b0)
    ema = tl.train.ExponentialMovingAverage(0.9)
    ref = [a0.copy(), b0.astype(np.float64)]
    ema.apply([a, b])
    for _ in range(6):
        da, db = rng.normal(size=(3, 4)), rng.normal(size=5).astype(np.float32)
        a.assign_add(da)
        b.assign_add(db)
        ema.apply([a, b])
        ref = [0.9 * r + 0.1 * v.numpy().astype(np.float64) for r, v in zip(ref, (a, b))]
    np.testing.assert_allclose(ema.average(a).numpy(), ref[0], rtol=1e-12)
    np.testing.assert_allclose(ema.average(b).numpy(), ref[1], rtol=1e-5)
    assert ema.average(b).dtype == tl.float32 and not ema.average(a).trainable
    assert ema.average(tl.Variable(1.0)) is None
    assert ema.average_name(a) == "Variable/ExponentialMovingAverage"


def test_ema_num_updates_caps_the_decay(rng):
    v = tl.Variable(rng.normal(size=4))
    step = tl.Variable(0, dtype=tl.int64)
    ema = tl.train.ExponentialMovingAverage(0.999, num_updates=step)
    ema.apply([v])
    shadow = v.numpy().copy()
    for n in range(1, 5):
        step.assign(n)
        v.assign_add(rng.normal(size=4))
        ema.apply([v])
        d = min(0.999, (1 + n) / (10 + n))
        shadow = d * shadow + (1 - d) * v.numpy()
    np.testing.assert_allclose(ema.average(v).numpy(), shadow, rtol=1e-12)


def test_ema_swap_and_errors(rng):
    v = tl.Variable(rng.normal(size=3))
    ema = tl.train.ExponentialMovingAverage(0.5)
    ema.apply([v])
    old = v.numpy().copy()
    v.assign(old + 2.0)
    ema.apply([v])
    ema.swap()
    np.testing.assert_allclose(v.numpy(), old + 1.0)
    np.testing.assert_allclose(ema.average(v).numpy(), old + 2.0)
    assert ema.variables_to_restore() == {"Variable/ExponentialMovingAverage": v}
    with pytest.raises(ValueError, match="decay must be in \\[0, 1\\]"):
        tl.train.ExponentialMovingAverage(1.5)
    with pytest.raises(TypeError, match="need float variables"):
        ema.apply([tl.Variable(3)])
    with pytest.raises(TypeError, match="expected tl.Variable"):
        ema.apply([tl.constant(1.0)])


def test_list_and_load_variables(tmp_path, rng):
    w = rng.normal(size=(2, 3)).astype(np.float32)
    ckpt = tl.train.Checkpoint(w=tl.Variable(w), step=tl.Variable(7, dtype=tl.int64))
    prefix = ckpt.save(str(tmp_path / "ckpt"))
    names = dict(tl.train.list_variables(str(tmp_path)))  # a directory: its latest checkpoint
    assert names == dict(tl.train.list_variables(prefix))
    key_w = next(k for k, s in names.items() if s == [2, 3])
    np.testing.assert_array_equal(tl.train.load_variable(prefix, key_w), w)
    reader = tl.train.load_checkpoint(prefix)
    assert sorted(names) == sorted([key_w, "step", "save_counter"])  # keys are the object-graph paths
    assert reader.get_tensor("step") == 7 and reader.get_tensor("save_counter") == 1
    assert reader.has_tensor(key_w) and not reader.has_tensor("nope")
    assert reader.get_variable_to_dtype_map()[key_w] == tl.float32
    with pytest.raises(tl.errors.NotFoundError, match="Key 'nope' not found"):
        reader.get_tensor("nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="couldn't find a checkpoint in directory"):
        tl.train.list_variables(str(tmp_path / "empty"))
