"""keras.utils, keras.datasets and keras.saving (custom objects, serialization)."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers


def test_to_categorical_and_normalize(rng):
    y = np.array([0, 2, 1, 2])
    np.testing.assert_array_equal(keras.utils.to_categorical(y), np.eye(3)[y])
    out = keras.utils.to_categorical(y[:, None], num_classes=5)
    assert out.shape == (4, 5) and out.dtype == np.float32
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\)"):
        keras.utils.to_categorical(y, num_classes=2)
    x = rng.standard_normal((3, 4))
    np.testing.assert_allclose(np.linalg.norm(keras.utils.normalize(x), axis=-1), 1.0)
    np.testing.assert_allclose(np.linalg.norm(keras.utils.normalize(tl.constant(x)).numpy(), axis=-1), 1.0)


def test_digits_split_is_fixed_and_documented():
    (xtr, ytr), (xte, yte) = keras.datasets.digits.load_data()
    assert xtr.shape == (1437, 8, 8) and xte.shape == (360, 8, 8)
    assert xtr.dtype == np.uint8 and ytr.dtype == np.uint8
    assert xtr.max() == 16 and set(np.unique(ytr)) == set(range(10))
    (xtr2, ytr2), _ = keras.datasets.digits.load_data()
    np.testing.assert_array_equal(xtr, xtr2)
    np.testing.assert_array_equal(ytr, ytr2)
    # disjoint split: no test image equals a training image at the same index set
    raw = np.load(keras.datasets.digits._path())["images"]
    assert len(raw) == len(xtr) + len(xte)


def test_mnist_without_file_explains_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"~/.keras/datasets/mnist.npz.*path="):
        keras.datasets.mnist.load_data()
    with pytest.raises(FileNotFoundError, match="fashion_mnist.npz"):
        keras.datasets.fashion_mnist.load_data()


def test_mnist_reads_a_standard_npz(tmp_path, rng):
    f = tmp_path / "mnist.npz"
    arrays = {"x_train": rng.integers(0, 255, (5, 28, 28), dtype=np.uint8), "y_train": np.arange(5),
              "x_test": rng.integers(0, 255, (2, 28, 28), dtype=np.uint8), "y_test": np.arange(2)}
    np.savez(f, **arrays)
    (xtr, ytr), (xte, yte) = keras.datasets.mnist.load_data(path=str(f))
    np.testing.assert_array_equal(xtr, arrays["x_train"])
    np.testing.assert_array_equal(yte, arrays["y_test"])


@keras.saving.register_keras_serializable(package="tests")
class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class Unregistered(layers.Layer):
    def call(self, x):
        return x + 1.0


def test_registered_custom_layer_round_trips_through_model_save(tmp_path, rng):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2), Scale(3.0)])
    cfg = keras.saving.serialize_keras_object(model)
    assert cfg["layers" if "layers" in cfg else "config"]
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.layers[-1], Scale) and loaded.layers[-1].factor == 3.0
    x = rng.standard_normal((4, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
    assert "tests>Scale" in keras.saving.get_custom_objects()


def test_unregistered_custom_layer_needs_custom_objects(tmp_path):
    model = keras.Sequential([keras.Input((3,)), Unregistered()])
    js = model.to_json()
    with pytest.raises(ValueError, match=r"Unknown layer class 'Unregistered'.*custom_objects"):
        keras.models.model_from_json(js)
    m1 = keras.models.model_from_json(js, custom_objects={"Unregistered": Unregistered})
    with keras.saving.custom_object_scope({"Unregistered": Unregistered}):
        m2 = keras.models.model_from_json(js)
    assert isinstance(m1.layers[0], Unregistered) and isinstance(m2.layers[0], Unregistered)


def test_serialize_deserialize_plain_objects():
    ser = keras.saving.serialize_keras_object(keras.optimizers.Adam(0.5))
    opt = keras.saving.deserialize_keras_object(ser)
    assert isinstance(opt, keras.optimizers.Adam) and float(opt.learning_rate) == 0.5
    dense = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layers.Dense(3, name="d")))
    assert isinstance(dense, layers.Dense) and dense.units == 3


def test_compile_with_unknown_identifiers_lists_choices():
    m = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'adamx'.*Valid optimizers:.*adam"):
        m.compile("adamx", "mse")
    with pytest.raises(ValueError, match=r"Unknown loss: 'mse2'"):
        m.compile("adam", "mse2")
        m.evaluate(np.zeros((1, 2)), np.zeros((1, 1)), verbose=0)
    m.compile("adam", "mse", metrics=["acurracy"])
    with pytest.raises(ValueError, match=r"Unknown metric: 'acurracy'.*accuracy"):
        m.evaluate(np.zeros((1, 2)), np.zeros((1, 1)), verbose=0)


def test_clear_session_resets_names():
    layers.Dense(1)
    keras.backend.clear_session()
    assert layers.Dense(1).name == "dense"
    assert keras.backend.floatx() == "float32" and keras.backend.epsilon() == 1e-7


def test_backend_value_helpers():
    opt = keras.optimizers.SGD(0.1)
    keras.backend.set_value(opt.lr, 0.25)
    assert keras.backend.get_value(opt.learning_rate) == 0.25
    assert keras.backend.int_shape(keras.Input((3, 4))) == (None, 3, 4)
    with pytest.raises(TypeError, match="tl.Variable"):
        keras.backend.set_value(tl.constant(1.0), 2.0)
