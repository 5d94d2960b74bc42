"""keras.layers.Adaptive{Average,Max}Pooling{1,2,3}D against a numpy reference and the real Keras."""
import itertools
import math

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers
from tests.keras.real_keras import K, needs_keras

CLASSES = {(r, m): getattr(layers, f"Adaptive{'Max' if m else 'Average'}Pooling{r}D") for r in (1, 2, 3)
           for m in (False, True)}


def _reference(x, out, reduce_max):
    """Channels-last numpy float64: window j of n cells covers [floor(j n / o), ceil((j + 1) n / o))."""
    spatial = x.shape[1:-1]
    res = np.empty((x.shape[0],) + tuple(out) + (x.shape[-1],))
    for idx in itertools.product(*[range(o) for o in out]):
        sl = tuple(slice(j * n // o, math.ceil((j + 1) * n / o)) for j, n, o in zip(idx, spatial, out))
        win = x[(slice(None),) + sl + (slice(None),)].astype(np.float64)
        axes = tuple(range(1, 1 + len(out)))
        res[(slice(None),) + idx + (slice(None),)] = win.max(axis=axes) if reduce_max else win.mean(axis=axes)
    return res


@pytest.mark.parametrize("rank,reduce_max", list(CLASSES))
def test_matches_reference_both_layouts(rng, rank, reduce_max):
    spatial = {1: (11,), 2: (9, 7), 3: (5, 6, 7)}[rank]
    out = {1: (4,), 2: (3, 5), 3: (2, 4, 3)}[rank]
    x = rng.normal(size=(2,) + spatial + (3,)).astype(np.float32)
    ref = _reference(x, out, reduce_max)
    cls = CLASSES[(rank, reduce_max)]
    layer = cls(out)
    y = layer(tl.constant(x))
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape(x.shape) == y.shape
    xf = np.moveaxis(x, -1, 1)
    yf = cls(out, data_format="channels_first")(tl.constant(xf))
    np.testing.assert_allclose(yf.numpy(), np.moveaxis(ref, -1, 1), rtol=1e-5, atol=1e-6)
    clone = cls.from_config(layer.get_config())
    assert clone.output_size == tuple(out) and clone.data_format == "channels_last"


def test_in_a_model_gradients_and_saving(tmp_path, rng):
    inp = keras.Input((None, None, 3))  # any input size: the pooled size is fixed
    h = layers.Conv2D(4, 3, padding="same")(inp)
    out = layers.Dense(2)(layers.Flatten()(layers.AdaptiveAveragePooling2D(2)(h)))
    model = keras.Model(inp, out)
    for size in (8, 13):
        assert model(tl.constant(rng.normal(size=(1, size, size, 3)).astype(np.float32))).shape == (1, 2)
    x = tl.constant(rng.normal(size=(2, 6, 6, 3)).astype(np.float32))
    with tl.GradientTape() as tape:
        loss = tl.reduce_sum(model(x) ** 2)
    assert all(g is not None for g in tape.gradient(loss, model.trainable_variables))
    model.save(str(tmp_path / "m.keras"))
    back = keras.models.load_model(str(tmp_path / "m.keras"))
    np.testing.assert_allclose(back(x).numpy(), model(x).numpy(), rtol=1e-5, atol=1e-6)


@needs_keras
def test_matches_real_keras(rng):
    x = rng.normal(size=(2, 10, 7, 3)).astype(np.float32)
    for name in ("AdaptiveAveragePooling2D", "AdaptiveMaxPooling2D"):
        ref = np.asarray(K.ops.convert_to_numpy(getattr(K.layers, name)((4, 3))(x)))
        np.testing.assert_allclose(getattr(layers, name)((4, 3))(tl.constant(x)).numpy(), ref, rtol=1e-5, atol=1e-6)


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"AdaptiveMaxPooling1D: .*output_size.*>= 1"):
        layers.AdaptiveMaxPooling1D(0)
    with pytest.raises(ValueError, match="AdaptiveAveragePooling2D"):
        layers.AdaptiveAveragePooling2D(2)(tl.ones([2, 5, 3]))
