"""compile/fit/evaluate/predict on the digits: the seed MLP, a two-input Functional
model, a subclassed model with a custom train_step, and the data formats fit accepts."""
import io
import contextlib

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers


def seed_mlp(input_dim=64):
    return keras.Sequential([layers.Dense(256, input_dim=input_dim, activation="relu"),
                             layers.Dense(10, activation="softmax")])


def test_seed_example_mlp_trains_on_digits(digits_flat):
    (xtr, ytr), (xte, yte) = digits_flat
    keras.utils.set_random_seed(1)
    model = seed_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(xtr, ytr, batch_size=32, epochs=6, verbose=0)
    assert set(hist.history) == {"loss", "accuracy"}
    assert len(hist.history["loss"]) == 6
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    loss, acc = model.evaluate(xte, yte, verbose=0)
    assert acc > 0.93, acc
    probs = model.predict(xte, verbose=0)
    assert probs.shape == (360, 10)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    assert np.mean(probs.argmax(1) == yte) == pytest.approx(acc, abs=1e-6)


def test_functional_two_input_model_trains_on_digits(digits):
    (xtr, ytr), (xte, yte) = digits
    keras.utils.set_random_seed(2)
    # Two views of each image: its top half and its bottom half.
    top_in = keras.Input(shape=(4, 8), name="top")
    bottom_in = keras.Input(shape=(4, 8), name="bottom")
    shared = layers.Dense(32, activation="relu", name="row_encoder")
    a = layers.Flatten()(shared(top_in))
    b = layers.Flatten()(shared(bottom_in))
    h = layers.Dense(64, activation="relu")(layers.concatenate([a, b]))
    out = layers.Dense(10, activation="softmax", name="digit")(h)
    model = keras.Model(inputs=[top_in, bottom_in], outputs=out)
    assert [layer.name for layer in model.layers[:2]] == ["top", "bottom"]
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit({"top": xtr[:, :4], "bottom": xtr[:, 4:]}, ytr, batch_size=32, epochs=6, verbose=0)
    _, acc = model.evaluate([xte[:, :4], xte[:, 4:]], yte, verbose=0)
    assert acc > 0.93, acc


class CustomStepModel(keras.Model):
    """Keras 3 style: compute_loss in the step, metrics updated by hand."""

    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(64, activation="relu")
        self.out = layers.Dense(10)
        self.steps_seen = 0

    def call(self, x, training=False):
        return self.out(self.hidden(x))

    def train_step(self, data):
        x, y = data
        with tl.GradientTape() as tape:
            logits = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=logits)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.steps_seen += 1
        for m in self.metrics:
            if m.name == "loss":
                m.update_state(loss)
            else:
                m.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}


def test_subclassed_model_with_custom_train_step_trains_on_digits(digits_flat):
    (xtr, ytr), (xte, yte) = digits_flat
    keras.utils.set_random_seed(3)
    model = CustomStepModel()
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    hist = model.fit(xtr, ytr, batch_size=64, epochs=6, verbose=0)
    assert model.steps_seen == 6 * int(np.ceil(len(xtr) / 64))
    assert set(hist.history) == {"loss", "accuracy"}
    assert len(model.trainable_weights) == 4
    _, acc = model.evaluate(xte, yte, verbose=0)
    assert acc > 0.93, acc


class TFStyleStep(keras.Model):
    """tf.keras style: compiled_loss / compiled_metrics inside train_step."""

    def __init__(self):
        super().__init__()
        self.d = layers.Dense(10)

    def call(self, x):
        return self.d(x)

    def train_step(self, data):
        x, y = data
        with tl.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_tf_style_custom_train_step(digits_flat):
    (xtr, ytr), _ = digits_flat
    model = TFStyleStep()
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    hist = model.fit(xtr[:256], ytr[:256], epochs=2, verbose=0)
    assert set(hist.history) == {"loss", "accuracy"}
    assert hist.history["loss"][1] < hist.history["loss"][0]


def test_fit_x_y_length_mismatch_names_both_sizes():
    model = seed_mlp(4)
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"x sizes: 10.*y sizes: 9"):
        model.fit(np.random.rand(10, 4), np.zeros(9, "int64"), verbose=0)


def test_fit_before_compile_is_an_error():
    with pytest.raises(RuntimeError, match="compile"):
        seed_mlp(4).fit(np.random.rand(4, 4), np.zeros(4), verbose=0)


def test_validation_split_and_validation_data(rng):
    x = rng.standard_normal((100, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5], "float32"))[:, None]
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(keras.optimizers.SGD(0.1), "mse", metrics=["mae"])
    h = model.fit(x, y, epochs=3, validation_split=0.2, verbose=0, shuffle=False)
    assert set(h.history) == {"loss", "mae", "val_loss", "val_mae"}
    # the held-out part is the last 20%: val_loss equals evaluate on it
    assert h.history["val_loss"][-1] == pytest.approx(model.evaluate(x[80:], y[80:], verbose=0)[0], rel=1e-5)
    h2 = model.fit(x, y, epochs=1, validation_data=(x[:10], y[:10]), verbose=0)
    assert "val_loss" in h2.history


def test_fit_on_generator_pydataset_and_iterable(rng):
    x = rng.standard_normal((64, 3)).astype("float32")
    y = rng.integers(0, 2, 64)

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epochs_ended = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]

        def on_epoch_end(self):
            self.epochs_ended += 1

    def gen():
        while True:
            for i in range(4):
                yield x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]

    model = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    seq = Batches()
    h = model.fit(seq, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2 and seq.epochs_ended == 2
    h = model.fit(gen(), steps_per_epoch=3, epochs=2, verbose=0)
    assert len(h.history["loss"]) == 2
    # any re-iterable of (x, y) batches (what a tl.data.Dataset is)
    batches = [(x[:32], y[:32]), (x[32:], y[32:])]
    assert np.isfinite(model.evaluate(batches, verbose=0))
    assert model.predict(iter([b[0] for b in batches]), verbose=0).shape == (64, 2)


def test_sample_weight_and_class_weight_change_the_loss(rng):
    x = rng.standard_normal((8, 3)).astype("float32")
    y = np.array([0, 1] * 4)
    model = keras.Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    logits = model.predict(x, verbose=0)
    per = -np.log(np.exp(logits[np.arange(8), y]) / np.exp(logits).sum(1))
    sw = rng.uniform(0.5, 2.0, 8).astype("float32")
    assert model.evaluate(x, y, sample_weight=sw, verbose=0) == pytest.approx(np.mean(per * sw), rel=1e-5)
    before = model.get_weights()
    l_cw = model.train_on_batch(x, y, class_weight={0: 0.0, 1: 3.0})
    assert l_cw == pytest.approx(np.mean(per * np.where(y == 1, 3.0, 0.0)), rel=1e-5)
    model.set_weights(before)


def test_train_test_predict_on_batch_and_return_dict(rng):
    x = rng.standard_normal((16, 5)).astype("float32")
    y = rng.integers(0, 3, 16)
    model = keras.Sequential([layers.Dense(3, activation="softmax", input_shape=(5,))])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    out = model.train_on_batch(x, y)
    assert isinstance(out, list) and len(out) == 2
    d = model.test_on_batch(x, y, return_dict=True)
    assert set(d) == {"loss", "accuracy"}
    p = model.predict_on_batch(x)
    assert p.shape == (16, 3)
    acc = np.mean(p.argmax(1) == y)
    assert d["accuracy"] == pytest.approx(acc)
    assert model.metrics_names == ["loss", "accuracy"]


def test_set_random_seed_makes_training_bit_for_bit_reproducible(digits_flat):
    (xtr, ytr), _ = digits_flat

    def run():
        keras.backend.clear_session()
        keras.utils.set_random_seed(123)
        model = keras.Sequential([layers.Dense(32, input_dim=64, activation="relu"), layers.Dropout(0.3),
                                  layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy")
        h = model.fit(xtr[:300], ytr[:300], batch_size=32, epochs=2, verbose=0)
        return h.history["loss"], model.get_weights()

    l1, w1 = run()
    l2, w2 = run()
    assert l1 == l2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_progress_bar_prints_one_line_per_epoch_when_not_a_terminal(rng):
    x = rng.standard_normal((40, 3)).astype("float32")
    y = rng.standard_normal((40, 1)).astype("float32")
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse", metrics=["mae"])
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.fit(x, y, batch_size=10, epochs=2, verbose=1)
    lines = [ln for ln in buf.getvalue().splitlines() if ln.strip()]
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("4/4 [==============================]")
    assert "loss:" in lines[1] and "mae:" in lines[1] and "step" in lines[1]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        model.fit(x, y, batch_size=10, epochs=1, verbose=2)
    out = buf.getvalue().strip().splitlines()
    assert len(out) == 1 and out[0].startswith("4/4 - ") and "loss:" in out[0]


def test_multi_output_losses_weights_and_metric_names(rng):
    inp = keras.Input((4,))
    h = layers.Dense(8, activation="relu")(inp)
    reg = layers.Dense(1, name="reg")(h)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    model = keras.Model(inp, [reg, cls])
    model.compile("adam", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.5, 2.0],
                  metrics=[["mae"], ["accuracy"]])
    x = rng.standard_normal((32, 4)).astype("float32")
    yr = rng.standard_normal((32, 1)).astype("float32")
    yc = rng.integers(0, 3, 32)
    logs = model.evaluate(x, [yr, yc], return_dict=True, verbose=0)
    assert set(logs) == {"loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy"}
    assert logs["loss"] == pytest.approx(0.5 * logs["reg_loss"] + 2.0 * logs["cls_loss"], rel=1e-5)
    pr, pc = model.predict(x, verbose=0)
    assert logs["reg_mae"] == pytest.approx(np.mean(np.abs(pr - yr)), rel=1e-5)
    assert logs["cls_accuracy"] == pytest.approx(np.mean(pc.argmax(1) == yc))


def test_regularization_and_add_loss_enter_the_training_loss(rng):
    x = rng.standard_normal((10, 3)).astype("float32")
    y = rng.standard_normal((10, 2)).astype("float32")
    model = keras.Sequential([layers.Dense(2, input_shape=(3,), kernel_regularizer=keras.regularizers.L2(0.1))])
    model.compile("sgd", "mse")
    pred = model.predict(x, verbose=0)
    k = model.layers[0].kernel.numpy()
    expect = np.mean((pred - y) ** 2) + 0.1 * np.sum(k ** 2)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expect, rel=1e-5)


def test_loss_none_with_add_loss_only(rng):
    class Penalized(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            out = self.d(x)
            self.add_loss(tl.reduce_mean(tl.square(out)))
            return out

    model = Penalized()
    model.compile("sgd")
    x = rng.standard_normal((8, 3)).astype("float32")
    h = model.fit(x, epochs=3, batch_size=8, verbose=0)
    assert h.history["loss"][2] < h.history["loss"][0]


def test_fit_accepts_tensors_and_initial_epoch(rng):
    x = tl.constant(rng.standard_normal((32, 3)).astype("float32"))
    y = tl.constant(rng.standard_normal((32, 1)).astype("float32"))
    model = keras.Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse")
    epochs = []
    cb = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs: epochs.append(e))
    h = model.fit(x, y, epochs=4, initial_epoch=2, verbose=0, callbacks=[cb])
    assert epochs == [2, 3] and h.epoch == [2, 3]
    assert model.predict(x, verbose=0).shape == (32, 1)


def test_predict_fast_path_matches_batched_path(rng):
    model = seed_mlp(6)
    x = rng.standard_normal((70, 6)).astype("float32")
    full = model.predict(x, batch_size=32, verbose=0)       # three batches
    one = model.predict(x[:20], verbose=0)                   # one batch, fast path
    np.testing.assert_allclose(full[:20], one, rtol=1e-6)
    assert full.shape == (70, 10)


def test_fit_evaluate_predict_on_tl_data_dataset(rng):
    data = pytest.importorskip("tensorlab.data")
    x = rng.standard_normal((100, 4)).astype("float32")
    y = rng.integers(0, 3, 100)
    ds = data.Dataset.from_tensor_slices((x, y)).shuffle(100).batch(32)
    model = keras.Sequential([layers.Dense(3, input_shape=(4,))])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    h = model.fit(ds, epochs=2, validation_data=ds, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    loss, acc = model.evaluate(ds, verbose=0)
    assert loss == pytest.approx(h.history["val_loss"][-1], rel=1e-5)
    assert model.predict(data.Dataset.from_tensor_slices(x).batch(40), verbose=0).shape == (100, 3)


def test_metrics_with_several_values_are_kept_as_arrays_in_the_logs(rng):
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy", metrics=[keras.metrics.Recall(thresholds=[0.2, 0.8])])
    hist = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    recall = hist.history["recall"]
    assert len(recall) == 2 and all(np.shape(r) == (2,) for r in recall)
    assert all(r[0] >= r[1] for r in recall)   # a lower threshold recalls at least as many positives
    p = model.predict(x, verbose=0)[:, 0]
    pos = y[:, 0] == 1
    expected = [(p[pos] > t).mean() for t in (0.2, 0.8)]
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0, return_dict=True)["recall"], expected, rtol=1e-6)


class _Recording:
    """A re-iterable source of (x, y) batches that records which batches were read."""

    def __init__(self, x, y, batch):
        self.x, self.y, self.batch, self.read = x, y, batch, []

    def __iter__(self):
        for i in range(len(self.x) // self.batch):
            self.read.append(i)
            sl = slice(i * self.batch, (i + 1) * self.batch)
            yield self.x[sl], self.y[sl]


def test_steps_per_epoch_continues_across_epochs_and_warns_when_data_runs_out(rng):
    x = rng.standard_normal((24, 3)).astype("float32")
    y = rng.integers(0, 2, 24)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    src = _Recording(x, y, 4)                     # 6 batches
    model.fit(src, steps_per_epoch=2, epochs=3, verbose=0)
    assert src.read == [0, 1, 2, 3, 4, 5]         # each epoch went on where the last one stopped
    src.read.clear()
    with pytest.warns(UserWarning, match="ran out of data; interrupting the epoch"):
        h = model.fit(src, steps_per_epoch=4, epochs=3, verbose=0)
    # epoch 1: batches 0-3; epoch 2: 4, 5, then the input ran out; epoch 3: from the start again
    assert src.read == [0, 1, 2, 3, 4, 5, 0, 1, 2, 3] and len(h.history["loss"]) == 3
    assert int(model.optimizer.iterations.numpy()) == 6 + 10


def test_steps_per_epoch_on_arrays_and_a_used_up_generator(rng):
    x = np.arange(48, dtype="float32").reshape(16, 3)
    y = np.zeros(16, dtype="int64")
    seen = []

    class Spy(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x, training=False):
            return self.d(x)

        def train_step(self, data):
            seen.append(int(data[0].numpy()[0, 0]) // 3)   # the first row of the batch
            return super().train_step(data)
    model = Spy()
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=4, steps_per_epoch=1, epochs=4, shuffle=False, verbose=0)
    assert seen == [0, 4, 8, 12]                  # not batch 0 four times
    seen.clear()

    def gen():
        for i in range(3):
            yield x[4 * i:4 * i + 4], y[4 * i:4 * i + 4]
    with pytest.warns(UserWarning, match="ran out of data"):
        h = model.fit(gen(), steps_per_epoch=2, epochs=5, verbose=0)
    assert seen == [0, 4, 8] and len(h.history["loss"]) == 2   # a used-up generator ends training
