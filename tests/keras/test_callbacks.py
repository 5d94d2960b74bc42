"""Callbacks driven by a real fit: order of hooks, early stopping, checkpoints,
learning-rate control, NaN termination, CSV logging, lambdas, Progbar."""
import contextlib
import csv
import io
import math

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import callbacks, layers


def small_model(lr=0.05):
    m = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    m.compile(keras.optimizers.SGD(lr), "mse", metrics=["mae"])
    return m


@pytest.fixture
def data(rng):
    x = rng.standard_normal((64, 3)).astype("float32")
    y = (x @ np.array([1.0, -1.0, 2.0], "float32"))[:, None]
    return x, y


def test_hook_order_and_logs(data):
    x, y = data
    events = []

    class Rec(callbacks.Callback):
        def on_train_begin(self, logs=None): events.append("train_begin")
        def on_epoch_begin(self, epoch, logs=None): events.append(f"epoch_begin{epoch}")
        def on_train_batch_end(self, batch, logs=None): events.append(f"batch{batch}:{sorted(logs)}")
        def on_epoch_end(self, epoch, logs=None): events.append(f"epoch_end{epoch}:{sorted(logs)}")
        def on_train_end(self, logs=None): events.append("train_end")

    small_model().fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[Rec()], validation_split=0.25)
    assert events[0] == "train_begin" and events[-1] == "train_end"
    assert events[1:5] == ["epoch_begin0", "batch0:['loss', 'mae']", "batch1:['loss', 'mae']",
                           "epoch_end0:['loss', 'mae', 'val_loss', 'val_mae']"]


def test_early_stopping_restores_best_weights(data):
    x, y = data
    model = small_model()
    snapshots = []
    seq = iter([1.0, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1])

    class FakeVal(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(seq)
            snapshots.append(self.model.get_weights())

    es = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    hist = model.fit(x, y, epochs=7, verbose=0, callbacks=[FakeVal(), es])
    assert len(hist.history["loss"]) == 4  # best at epoch 1, then two epochs without improvement
    assert es.stopped_epoch == 3 and es.best_epoch == 1
    for a, b in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_mode_auto_for_accuracy():
    assert callbacks.EarlyStopping(monitor="val_accuracy").mode == "max"
    assert callbacks.EarlyStopping(monitor="val_loss").mode == "min"
    with pytest.raises(ValueError, match="mode 'up'"):
        callbacks.EarlyStopping(mode="up")


def test_model_checkpoint_best_only_and_weights_only(tmp_path, data):
    x, y = data
    model = small_model()
    seq = iter([3.0, 2.0, 2.5, 1.0])

    class FakeVal(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(seq)

    pattern = str(tmp_path / "w.{epoch:02d}-{val_loss:.1f}.weights.h5")
    ck = callbacks.ModelCheckpoint(pattern, monitor="val_loss", save_best_only=True, save_weights_only=True)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[FakeVal(), ck])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.01-3.0.weights.h5", "w.02-2.0.weights.h5",
                                                          "w.04-1.0.weights.h5"]
    other = small_model()
    other.load_weights(tmp_path / "w.04-1.0.weights.h5")
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    full = callbacks.ModelCheckpoint(str(tmp_path / "full.keras"))
    model.fit(x, y, epochs=1, verbose=0, callbacks=[full])
    restored = keras.models.load_model(tmp_path / "full.keras")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


def test_learning_rate_scheduler_and_logged_rate(data):
    x, y = data
    model = small_model()
    seen = []
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
    rec = callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: seen.append(float(model.optimizer.learning_rate)))
    hist = model.fit(x, y, epochs=3, verbose=0, callbacks=[sched, rec])
    np.testing.assert_allclose(seen, [0.1, 0.05, 0.025], rtol=1e-6)
    np.testing.assert_allclose(hist.history["learning_rate"], [0.1, 0.05, 0.025], rtol=1e-6)


def test_reduce_lr_on_plateau(data):
    x, y = data
    model = small_model(lr=0.1)
    seq = iter([1.0, 1.0, 1.0, 1.0, 1.0])

    class FakeVal(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(seq)

    cb = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.03)
    hist = model.fit(x, y, epochs=5, verbose=0, callbacks=[FakeVal(), cb])
    # plateau from epoch 1: halved after epochs 2 and 4, floored at min_lr
    np.testing.assert_allclose(hist.history["learning_rate"], [0.1, 0.1, 0.1, 0.05, 0.05], rtol=1e-6)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.03)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_reports_epoch_and_step(data):
    x, y = data
    model = small_model(lr=1e6)  # diverges to inf, then nan
    cb = callbacks.TerminateOnNaN()
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        hist = model.fit(x, y * 1e3, batch_size=8, epochs=5, verbose=0, callbacks=[cb])
    assert cb.message is not None and cb.message in buf.getvalue()
    assert "epoch 1, step" in cb.message and "invalid loss" in cb.message
    assert len(hist.history["loss"]) == 1
    assert not math.isfinite(hist.history["loss"][0])


def test_csv_logger(tmp_path, data):
    x, y = data
    path = tmp_path / "log.csv"
    small_model().fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    rows = list(csv.DictReader(open(path)))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "mae"}
    small_model().fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    assert len(list(csv.DictReader(open(path)))) == 4


def test_lambda_callback_and_unknown_hook(data):
    x, y = data
    ends = []
    small_model().fit(x, y, epochs=2, batch_size=32, verbose=0,
                      callbacks=[callbacks.LambdaCallback(on_batch_end=lambda b, logs: ends.append(b))])
    assert ends == [0, 1, 0, 1]
    with pytest.raises(TypeError, match="unknown hook"):
        callbacks.LambdaCallback(on_everything=print)


def test_history_is_returned_and_attached(data):
    x, y = data
    model = small_model()
    hist = model.fit(x, y, epochs=2, verbose=0)
    assert model.history is hist and hist.epoch == [0, 1]
    assert hist.history["loss"][1] < hist.history["loss"][0]


def test_progbar_rendering():
    buf = io.StringIO()
    bar = keras.utils.Progbar(10, verbose=1, stream=buf)
    bar._dynamic = True
    bar.interval = 0.0
    bar.update(5, {"loss": tl.constant(0.5)})
    bar.update(10, {"loss": 0.25})
    out = buf.getvalue()
    assert " 5/10 [==============>...............] - ETA:" in out
    assert "10/10 [==============================] - " in out and "loss: 0.2500" in out and out.endswith("\n")
    quiet = io.StringIO()
    bar = keras.utils.Progbar(3, verbose=2, stream=quiet)
    for i in range(1, 4):
        bar.update(i, {"acc": 0.5})
    assert quiet.getvalue().count("\n") == 1 and "acc: 0.5000" in quiet.getvalue()
