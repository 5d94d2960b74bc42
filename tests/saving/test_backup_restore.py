"""``BackupAndRestore``: an interrupted ``fit`` resumes to the same weights, bit for bit, on the CPU."""
import json
import os

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras.callbacks_io import BackupAndRestore

class Crash(keras.callbacks.Callback):
    """Simulates a killed job: raises in the middle of epoch ``epoch``."""

    def __init__(self, epoch, batch=1):
        super().__init__()
        self.epoch, self.batch, self._e = epoch, batch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self._e = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._e == self.epoch and batch == self.batch:
            raise KeyboardInterrupt("simulated crash")


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def model(seed, dropout=False):
    tl.random.set_seed(seed)
    m = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.BatchNormalization()]
                         + ([keras.layers.Dropout(0.5)] if dropout else []) + [keras.layers.Dense(3)])
    m.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


def data(rng):
    return rng.normal(size=(40, 4)).astype("float32"), rng.integers(0, 3, 40)


def test_backup_written_each_epoch_restored_and_deleted(tmp_path, rng):
    x, y = data(rng)
    backup = tmp_path / "backup"
    m = model(0)
    with pytest.raises(KeyboardInterrupt):
        m.fit(x, y, batch_size=8, epochs=4, verbose=0, callbacks=[BackupAndRestore(backup), Crash(2)])
    state = json.loads((backup / "training_state.json").read_text())
    assert state["epoch"] == 2 and os.path.exists(backup / (state["checkpoint"] + ".tlckpt"))

    # The weights at the end of epoch 2 are in the backup, not those of the crashed epoch.
    expected = model(0)
    tl.train.Checkpoint(model=expected).restore(str(backup / state["checkpoint"])).assert_consumed()
    fresh = model(7)
    cb = BackupAndRestore(backup)
    cb.set_model(fresh)
    cb.on_train_begin()
    assert cb.restored_epoch == 2 and fresh._initial_epoch == 2
    for a, b in zip(expected.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(fresh.optimizer.iterations.numpy()) == 2 * 5
    cb.on_train_end()
    assert not os.path.exists(backup)


def test_resume_with_dataset_is_bit_identical(tmp_path, rng):
    x, y = data(rng)

    def ds():
        return tl.data.Dataset.from_tensor_slices((x, y)).shuffle(40, seed=5).batch(8)
    ref = model(0)
    ref.fit(ds(), epochs=4, verbose=0)
    backup = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        model(0).fit(ds(), epochs=4, verbose=0, callbacks=[BackupAndRestore(backup), Crash(2)])
    resumed = model(3)  # a new process: other initial weights, a new pipeline
    hist = resumed.fit(ds(), epochs=4, verbose=0, callbacks=[BackupAndRestore(backup)])
    assert hist.epoch == [2, 3]
    for a, b in zip(ref.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not os.path.exists(backup)


@pytest.mark.parametrize("dropout", [False, True])   # tl.random's streams are backed up too
def test_resume_with_shuffled_arrays_is_bit_identical(tmp_path, rng, dropout):
    x, y = data(rng)
    np.random.seed(11)
    ref = model(0, dropout)
    ref.fit(x, y, batch_size=8, epochs=4, verbose=0)
    backup = tmp_path / "b"
    np.random.seed(11)
    with pytest.raises(KeyboardInterrupt):
        model(0, dropout).fit(x, y, batch_size=8, epochs=4, verbose=0,
                              callbacks=[BackupAndRestore(backup), Crash(3, 0)])
    np.random.seed(99)
    resumed = model(4, dropout)   # another process: another seed and other initial weights
    resumed.fit(x, y, batch_size=8, epochs=4, verbose=0, callbacks=[BackupAndRestore(backup)])
    for a, b in zip(ref.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_error_arguments_and_unbuilt_model(tmp_path):
    with pytest.raises(ValueError, match="backup_dir is required"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive int, got 'sometimes'"):
        BackupAndRestore(tmp_path, save_freq="sometimes")
    m = model(0)
    cb = BackupAndRestore(tmp_path / "b")
    cb.set_model(m)
    cb.on_epoch_end(0)
    unbuilt = keras.Sequential([keras.layers.Dense(2)])
    cb2 = BackupAndRestore(tmp_path / "b")
    cb2.set_model(unbuilt)
    with pytest.raises(ValueError, match="must be built before fit"):
        cb2.on_train_begin()


def test_random_state_round_trips_through_json(rng):
    tl.random.set_seed(3)
    tl.random.uniform([4])
    tl.random.normal([2], seed=7)
    tl.random.get_global_generator().normal([3])
    state = json.loads(json.dumps(tl.random.get_global_state()))
    expected = [tl.random.uniform([4]).numpy(), tl.random.normal([2], seed=7).numpy(),
                tl.random.get_global_generator().normal([3]).numpy()]
    tl.random.set_seed(123)
    tl.random.uniform([9])
    tl.random.set_global_state(state)
    got = [tl.random.uniform([4]).numpy(), tl.random.normal([2], seed=7).numpy(),
           tl.random.get_global_generator().normal([3]).numpy()]
    for a, b in zip(expected, got):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="set_global_state: not a state from get_global_state"):
        tl.random.set_global_state({"global_seed": 1})
