"""The Keras ``TensorBoard`` callback, its logs read back with the real TensorBoard."""
import json
import os

import numpy as np
import pytest

from tensorlab import keras
from tensorlab.keras.callbacks_io import TensorBoard

pytest.importorskip("tensorboard", reason="the tensorboard package is needed to read event files back")
from tensorboard.backend.event_processing import plugin_event_accumulator as pea  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402


def load(logdir):
    acc = pea.EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    acc.Reload()
    return acc


def series(acc, tag):
    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def test_epoch_and_batch_scalars_histograms_and_graph(tmp_path, rng):
    x = rng.normal(size=(48, 5)).astype("float32")
    y = rng.integers(0, 3, 48)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6, activation="relu"),
                              keras.layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.SGD(0.1),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    batch_logs = []
    grab = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: batch_logs.append(dict(logs)))
    tb = TensorBoard(log_dir=tmp_path, histogram_freq=1, update_freq=2)
    hist = model.fit(x, y, batch_size=8, epochs=3, validation_split=0.25, verbose=0, callbacks=[tb, grab])

    train = load(tmp_path / "train")
    for name in ("loss", "accuracy"):
        got = series(train, "epoch_" + name)
        assert [s for s, _ in got] == [0, 1, 2]
        np.testing.assert_allclose([float(v) for _, v in got], hist.history[name], rtol=1e-6)
    lr = series(train, "epoch_learning_rate")
    assert [float(v) for _, v in lr] == [pytest.approx(0.1)] * 3
    batches = series(train, "batch_loss")
    steps_per_epoch = 36 // 8 + 1
    assert [s for s, _ in batches] == list(range(2, 3 * steps_per_epoch + 1, 2))
    np.testing.assert_allclose([float(v) for _, v in batches],
                               [float(batch_logs[s - 1]["loss"]) for s, _ in batches], rtol=1e-6)

    val = load(tmp_path / "validation")
    for name in ("loss", "accuracy"):
        got = series(val, "epoch_" + name)
        assert [s for s, _ in got] == [0, 1, 2]
        np.testing.assert_allclose([float(v) for _, v in got], hist.history["val_" + name], rtol=1e-6)
    vs = series(val, "evaluation_loss_vs_iterations")
    assert [s for s, _ in vs] == [steps_per_epoch * (e + 1) for e in range(3)]

    tags = train.Tags()["tensors"]
    for layer in model.layers:
        for w in layer.weights:
            tag = w.name.replace(":", "_") + "/histogram"
            assert tag in tags
            h = series(train, tag)
            assert [s for s, _ in h] == [0, 1, 2]
            assert h[-1][1][:, 2].sum() == int(np.prod(w.shape))
            np.testing.assert_allclose(h[-1][1][-1, 1], w.numpy().max(), rtol=1e-6)
    (_, graph), = series(train, "keras")
    assert json.loads(graph.item()) == json.loads(model.to_json())
    assert train.SummaryMetadata("keras").plugin_data.plugin_name == "graph_keras_model"


def test_epoch_only_and_no_validation(tmp_path, rng):
    x = rng.normal(size=(16, 3)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    hist = model.fit(x, x[:, :1], epochs=2, verbose=0,
                     callbacks=[TensorBoard(tmp_path, write_graph=False, write_steps_per_second=True)])
    acc = load(tmp_path / "train")
    tags = acc.Tags()["tensors"]
    assert "keras" not in tags and not any(t.startswith("batch_") for t in tags)
    assert not any("histogram" in t for t in tags)
    np.testing.assert_allclose([float(v) for _, v in series(acc, "epoch_loss")], hist.history["loss"], rtol=1e-6)
    assert all(float(v) > 0 for _, v in series(acc, "epoch_steps_per_second"))
    assert not os.path.exists(tmp_path / "validation")


def test_error_bad_update_freq():
    with pytest.raises(ValueError, match="update_freq must be 'epoch', 'batch' or a positive int, got 'often'"):
        TensorBoard("logs", update_freq="often")
