"""Fixtures for the Keras engine tests: the digits data, fresh layer names."""
import numpy as np
import pytest

from tensorlab import keras


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


@pytest.fixture(scope="session")
def digits():
    """Digits scaled to [0, 1]: ((x_train, y_train), (x_test, y_test)), images (n, 8, 8)."""
    (xtr, ytr), (xte, yte) = keras.datasets.digits.load_data()
    return (xtr.astype("float32") / 16.0, ytr.astype("int64")), (xte.astype("float32") / 16.0, yte.astype("int64"))


@pytest.fixture(scope="session")
def digits_flat(digits):
    (xtr, ytr), (xte, yte) = digits
    return (xtr.reshape(len(xtr), -1), ytr), (xte.reshape(len(xte), -1), yte)


def numpy_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
