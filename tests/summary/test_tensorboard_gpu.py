"""The TensorBoard callback on a GPU also logs device memory and utilization (through pynvml)."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras.callbacks_io import TensorBoard


@pytest.mark.gpu
def test_gpu_memory_and_utilization_logged(tmp_path, rng):
    pytest.importorskip("pynvml", reason="nvidia-ml-py (pynvml) is needed for device statistics")
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing import plugin_event_accumulator as pea
    from tensorboard.util import tensor_util
    x = rng.normal(size=(64, 10)).astype("float32")
    y = rng.integers(0, 4, 64)
    with tl.device("gpu:0"):
        model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(4)])
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        assert "GPU" in model.weights[0].device
        model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[TensorBoard(tmp_path)])
    acc = pea.EventAccumulator(str(tmp_path / "train"))
    acc.Reload()
    used = [float(tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors("gpu_memory_used_mb")]
    total = [float(tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors("gpu_memory_total_mb")]
    util = [float(tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors("gpu_utilization_percent")]
    assert len(used) == len(total) == len(util) == 2
    assert all(0 < u <= t for u, t in zip(used, total)) and all(0 <= p <= 100 for p in util)
    assert np.isfinite(used).all()
