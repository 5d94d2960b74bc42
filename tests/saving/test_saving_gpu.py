"""Saving from and restoring onto a GPU: files do not depend on the device the weights live on."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras.saving import file_format as ff


def build():
    m = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(3, 3, activation="relu"),
                          keras.layers.BatchNormalization(), keras.layers.Flatten(), keras.layers.Dense(4)])
    m.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return m


@pytest.mark.gpu
def test_gpu_model_file_loads_on_cpu_and_checkpoint_restores_on_gpu(tmp_path, rng):
    pytest.importorskip("h5py")
    x = rng.random((8, 6, 6, 2)).astype("float32")
    y = rng.integers(0, 4, 8)
    with tl.device("gpu:0"):
        g = build()
        g.fit(x, y, epochs=1, batch_size=4, verbose=0)
        assert "GPU" in g.weights[0].device
        ff.save_model(g, tmp_path / "g.keras")
        path = tl.train.Checkpoint(model=g).save(tmp_path / "ckpt")
        expected = g.predict(x, verbose=0)
    with tl.device("cpu"):
        c = ff.load_model(tmp_path / "g.keras")
        assert "CPU" in c.weights[0].device
        np.testing.assert_allclose(c.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-5)
    with tl.device("gpu:0"):
        g2 = build()
        tl.train.Checkpoint(model=g2).restore(path).assert_consumed()
        assert "GPU" in g2.weights[0].device
        for a, b in zip(g.get_weights(), g2.get_weights()):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(g.optimizer.variables, g2.optimizer.variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
