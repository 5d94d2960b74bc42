"""Keras on a GPU: the same model and weights give the same results as on the CPU."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers


def build():
    return keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
                             layers.Flatten(), layers.Dense(10, activation="softmax")])


@pytest.mark.gpu
def test_training_step_on_gpu_matches_cpu(digits):
    (xtr, ytr), _ = digits
    x, y = xtr[:64, ..., None], ytr[:64]
    with tl.device("cpu"):
        cpu = build()
        cpu.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    with tl.device("gpu:0"):
        gpu = build()
        gpu.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
        gpu.set_weights(cpu.get_weights())
        assert "GPU" in gpu.weights[0].device
    with tl.device("cpu"):
        lc = cpu.train_on_batch(x, y)
    with tl.device("gpu:0"):
        lg = gpu.train_on_batch(x, y)
    np.testing.assert_allclose(lg, lc, rtol=1e-4)
    for a, b in zip(gpu.get_weights(), cpu.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


@pytest.mark.gpu
def test_digits_example_on_gpu():
    from tensorlab.examples import digits
    with tl.device("gpu:0"):
        assert digits.main(["--verbose", "0"]) == 0
