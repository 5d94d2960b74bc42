"""``.keras`` model files and ``.weights.h5`` weights files: round trips, custom objects, corrupt files."""
import json
import os
import zipfile

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras.saving import file_format as ff

pytest.importorskip("h5py", reason="h5py (the `saving` extra) is needed for .keras and .weights.h5 files")


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def cnn():
    m = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, activation="relu"),
                          keras.layers.BatchNormalization(), keras.layers.MaxPooling2D(),
                          keras.layers.Flatten(), keras.layers.Dropout(0.25),
                          keras.layers.Dense(5, activation="softmax")])
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return m


def functional():
    inp = keras.Input((6,), name="features")
    h = keras.layers.Dense(4, activation="relu")(inp)
    h2 = keras.layers.Dense(3)(h)
    out = keras.layers.Dense(2)(keras.layers.Concatenate()([h, h2]))
    m = keras.Model(inp, out)
    m.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="mse")
    return m


def data(rng, n=24):
    return rng.random((n, 8, 8, 3)).astype("float32"), rng.integers(0, 5, n)


def test_keras_file_round_trip_predicts_and_resumes_identically(tmp_path, rng):
    x, y = data(rng)
    m = cnn()
    m.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    path = tmp_path / "model.keras"
    ff.save_model(m, path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == sorted(["metadata.json", "config.json", "model.weights.h5"])
        meta = json.loads(zf.read("metadata.json"))
        assert meta["keras_version"].startswith("3.") and meta["saved_by"].startswith("tensorlab")
        config = json.loads(zf.read("config.json"))
    assert config["class_name"] == "Sequential" and config["compile_config"]["loss"] == \
        "sparse_categorical_crossentropy"
    r = ff.load_model(path)
    np.testing.assert_array_equal(r.predict(x, verbose=0), m.predict(x, verbose=0))
    assert [v.name for v in r.weights] == [v.name for v in m.weights]
    ov, rv = m.optimizer.variables, r.optimizer.variables
    assert len(ov) == len(rv) == 2 + 2 * len(m.trainable_variables)
    for a, b in zip(ov, rv):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # Same optimizer state: one more epoch gives the same weights on both.
    tl.random.set_seed(1)  # the same dropout masks for both
    m.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    tl.random.set_seed(1)
    r.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(m.get_weights(), r.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_functional_round_trip_and_compile_false(tmp_path, rng):
    m = functional()
    x = rng.random((5, 6)).astype("float32")
    m.fit(x, rng.random((5, 2)).astype("float32"), epochs=2, verbose=0)
    ff.save_model(m, tmp_path / "f.keras")
    r = ff.load_model(tmp_path / "f.keras", compile=False)
    assert not getattr(r, "compiled", False)
    np.testing.assert_array_equal(r.predict(x, verbose=0), m.predict(x, verbose=0))
    r2 = ff.load_model(tmp_path / "f.keras")
    assert r2.compiled and type(r2.optimizer).__name__ == "SGD"
    assert int(r2.optimizer.iterations.numpy()) == int(m.optimizer.iterations.numpy()) == 2


def test_weights_h5_round_trip_and_layout(tmp_path, rng):
    import h5py
    m = cnn()
    path = tmp_path / "m.weights.h5"
    ff.save_weights(m, path)
    with h5py.File(path) as f:
        assert f["layers/conv2d/vars/0"].shape == (3, 3, 3, 4)
        assert f["layers/batch_normalization/vars/3"].shape == (4,)
        assert f["layers/dense/vars/0"].shape == (36, 5)
        assert "optimizer" not in f
    keras.backend.clear_session()
    r = cnn()
    ff.load_weights(r, path)
    for a, b in zip(m.get_weights(), r.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_load_weights_from_a_keras_file(tmp_path):
    m = functional()
    ff.save_model(m, tmp_path / "f.keras")
    r = functional()
    ff.load_weights(r, tmp_path / "f.keras")
    for a, b in zip(m.get_weights(), r.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_error_load_weights_mismatch_names_shapes_and_skip_mismatch(tmp_path):
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    ff.save_weights(m, tmp_path / "a.weights.h5")
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(7)])
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"a\.weights\.h5.*shape \(4, 7\).*shape \(4, 2\)"):
        ff.load_weights(other, tmp_path / "a.weights.h5")
    for a, b in zip(before, other.get_weights()):  # nothing was assigned
        np.testing.assert_array_equal(a, b)
    with pytest.warns(UserWarning, match="skipped mismatched"):
        ff.load_weights(other, tmp_path / "a.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(other.layers[0].kernel.numpy(), m.layers[0].kernel.numpy())
    np.testing.assert_array_equal(other.layers[1].kernel.numpy(), before[2])


@keras.saving.register_keras_serializable(package="SavingTest")
class Scale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")

    def call(self, x):
        return x * self.w * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Shift(keras.layers.Layer):
    def __init__(self, by=1.0, **kwargs):
        super().__init__(**kwargs)
        self.by = by

    def call(self, x):
        return x + self.by

    def get_config(self):
        return {**super().get_config(), "by": self.by}


def test_custom_objects_registered_and_passed(tmp_path, rng):
    m = keras.Sequential([keras.Input((3,)), Scale(3.0), Shift(0.5), keras.layers.Dense(2)])
    m.layers[0].w.assign(rng.random(3).astype("float32"))
    ff.save_model(m, tmp_path / "c.keras")
    with pytest.raises(ValueError, match="Shift"):
        ff.load_model(tmp_path / "c.keras")
    r = ff.load_model(tmp_path / "c.keras", custom_objects={"Shift": Shift})
    assert isinstance(r.layers[0], Scale) and r.layers[0].factor == 3.0 and r.layers[1].by == 0.5
    x = rng.random((4, 3)).astype("float32")
    np.testing.assert_array_equal(r.predict(x, verbose=0), m.predict(x, verbose=0))


def test_error_safe_mode_refuses_bytecode(tmp_path):
    m = functional()
    ff.save_model(m, tmp_path / "f.keras")
    with zipfile.ZipFile(tmp_path / "f.keras") as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    cfg = json.loads(parts["config.json"])
    cfg["config"]["layers"].append({"class_name": "Lambda", "config": {"function": {
        "class_name": "__lambda__", "config": {"code": "4wEAAAAAAAAA"}}}})
    parts["config.json"] = json.dumps(cfg).encode()
    with zipfile.ZipFile(tmp_path / "evil.keras", "w") as zf:
        for n, b in parts.items():
            zf.writestr(n, b)
    with pytest.raises(ValueError, match="Lambda layer with Python bytecode"):
        ff.load_model(tmp_path / "evil.keras")


def test_error_truncated_and_corrupt_files_name_the_file(tmp_path):
    m = functional()
    good = tmp_path / "good.keras"
    ff.save_model(m, good)
    raw = good.read_bytes()
    trunc = tmp_path / "trunc.keras"
    trunc.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(tl.errors.DataLossError, match="trunc.keras"):
        ff.load_model(trunc)
    # Flip bytes inside the stored weights: the zip member's CRC-32 no longer matches.
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("model.weights.h5")
        off = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
    bad = bytearray(raw)
    bad[off] ^= 0xFF
    bad[off + 1] ^= 0xFF
    (tmp_path / "bad.keras").write_bytes(bytes(bad))
    with pytest.raises(tl.errors.DataLossError, match="bad.keras"):
        ff.load_model(tmp_path / "bad.keras")
    ff.save_weights(m, tmp_path / "w.weights.h5")
    w = (tmp_path / "w.weights.h5").read_bytes()
    (tmp_path / "w2.weights.h5").write_bytes(w[: len(w) // 3])
    before = m.get_weights()
    with pytest.raises(tl.errors.DataLossError, match="w2.weights.h5"):
        ff.load_weights(m, tmp_path / "w2.weights.h5")
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_error_bad_names_and_missing_files(tmp_path):
    m = functional()
    with pytest.raises(ValueError, match=r"must end in \.keras"):
        ff.save_model(m, tmp_path / "model.h5")
    with pytest.raises(FileNotFoundError, match="nope.keras"):
        ff.load_model(tmp_path / "nope.keras")
    (tmp_path / "text.keras").write_text("hello")
    with pytest.raises(tl.errors.DataLossError, match="text.keras"):
        ff.load_model(tmp_path / "text.keras")
    ff.save_model(m, tmp_path / "m.keras")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        ff.save_model(m, tmp_path / "m.keras", overwrite=False)


def test_atomic_write_leaves_no_temporary_files(tmp_path):
    m = functional()
    for _ in range(3):
        ff.save_model(m, tmp_path / "m.keras")
        ff.save_weights(m, tmp_path / "m.weights.h5")
    assert sorted(os.listdir(tmp_path)) == ["m.keras", "m.weights.h5"]
