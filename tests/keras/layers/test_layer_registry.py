"""The layers namespace: every layer of the Keras API is exported; serialize/deserialize/get."""
import numpy as np
import pytest

from tensorlab import keras
from tensorlab.keras import layers

ISSUE_LAYERS = """Input InputLayer Layer InputSpec Dense Activation Dropout Flatten Reshape Permute RepeatVector Lambda
Embedding Conv1D Conv2D Conv2DTranspose DepthwiseConv2D SeparableConv2D MaxPooling1D MaxPooling2D AveragePooling1D
AveragePooling2D GlobalAveragePooling1D GlobalAveragePooling2D GlobalMaxPooling1D GlobalMaxPooling2D ZeroPadding2D
UpSampling2D Cropping2D BatchNormalization LayerNormalization Add Subtract Multiply Average Maximum Minimum
Concatenate Dot ReLU LeakyReLU PReLU ELU Softmax SimpleRNN LSTM GRU Bidirectional TimeDistributed
MultiHeadAttention Rescaling Normalization GaussianNoise SpatialDropout2D MaxPool2D AvgPool2D""".split()


def test_all_layers_exported():
    missing = [n for n in ISSUE_LAYERS if not hasattr(layers, n)]
    assert not missing
    for n in ("add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"):
        assert callable(getattr(layers, n))
    from tensorlab.keras.layers import Dense  # noqa: F401  (the import style scripts use)


@pytest.mark.parametrize("layer", [
    layers.Dense(3, activation="relu"), layers.Conv2D(2, 3, padding="same"), layers.LSTM(3, return_sequences=True),
    layers.Bidirectional(layers.GRU(2)), layers.TimeDistributed(layers.Dense(2)), layers.BatchNormalization(),
    layers.Dropout(0.3), layers.MultiHeadAttention(2, 4), layers.Conv3D(2, 3, strides=(1, 2, 2)),
    layers.Cropping3D(((1, 0), (0, 1), (1, 1))),
], ids=lambda l: type(l).__name__)
def test_serialize_deserialize(layer):
    d = layers.serialize(layer)
    assert d["class_name"] == type(layer).__name__
    clone = layers.deserialize(d)
    assert type(clone) is type(layer)
    c1, c2 = clone.get_config(), layer.get_config()
    c1.pop("name")
    c2.pop("name")
    assert c1 == c2


def test_get_by_name_and_unknown():
    assert isinstance(layers.get("Flatten"), layers.Flatten)
    with pytest.raises(ValueError, match=r"Unknown layer.*Dense"):
        layers.deserialize({"class_name": "NoSuchLayer", "config": {}})


def test_functional_cnn_shapes():
    inp = keras.Input((28, 28, 1))
    x = layers.Rescaling(1 / 16)(inp)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.MaxPooling2D()(x)
    x = layers.SeparableConv2D(8, 3, padding="same")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.5)(x)
    out = layers.Dense(10, activation="softmax")(x)
    assert tuple(out.shape) == (None, 10)


@pytest.mark.parametrize("layer", [
    layers.Reshape((3, -1)), layers.Conv2D(2, (3, 3)), layers.ZeroPadding2D(((1, 2), (0, 1))),
    layers.Permute((2, 1)), layers.Dropout(0.2, noise_shape=(None, 1, 3)), layers.BatchNormalization(axis=[1, 2]),
    layers.Bidirectional(layers.LSTM(2)), layers.MultiHeadAttention(2, 3), layers.UpSampling2D((2, 3)),
    layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0]), layers.Conv2DTranspose(2, 3, output_padding=0),
], ids=lambda l: type(l).__name__)
def test_config_survives_json(layer):
    import json
    c = json.loads(json.dumps(layer.get_config()))
    c2 = json.loads(json.dumps(type(layer).from_config(c).get_config()))
    c.pop("name")
    c2.pop("name")
    assert c == c2


def test_symbolic_unknown_dimensions():
    seq = keras.Input((None, 3))
    assert tuple(layers.LSTM(4)(seq).shape) == (None, 4)
    assert tuple(layers.GRU(4, return_sequences=True)(seq).shape) == (None, None, 4)
    assert [tuple(t.shape) for t in layers.LSTM(4, return_state=True)(seq)] == [(None, 4)] * 3
    assert tuple(layers.Bidirectional(layers.LSTM(4, return_sequences=True))(seq).shape) == (None, None, 8)
    assert tuple(layers.Conv1D(4, 3, padding="same")(seq).shape) == (None, None, 4)
    assert tuple(layers.MultiHeadAttention(2, 4)(seq, seq).shape) == (None, None, 3)
    assert tuple(layers.TimeDistributed(layers.Dense(2))(seq).shape) == (None, None, 2)
    ids = keras.Input((None,), dtype="int32")
    assert tuple(layers.LSTM(3)(layers.Embedding(10, 4, mask_zero=True)(ids)).shape) == (None, 3)
    img = keras.Input((None, None, 3))
    assert tuple(layers.Conv2D(4, 3)(img).shape) == (None, None, None, 4)
    assert tuple(layers.GlobalAveragePooling2D()(img).shape) == (None, 3)
    assert tuple(layers.Dense(2)(keras.Input((None, None, 3))).shape) == (None, None, None, 2)


def test_wrapped_layers_survive_keras_serialization():
    import json
    for layer in (layers.Bidirectional(layers.LSTM(3, return_sequences=True)),
                  layers.TimeDistributed(layers.Dense(2)), layers.RNN(layers.LSTMCell(3))):
        blob = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))
        clone = keras.saving.deserialize_keras_object(blob)
        c1, c2 = clone.get_config(), layer.get_config()
        c1.pop("name")
        c2.pop("name")
        assert json.loads(json.dumps(c1)) == json.loads(json.dumps(c2))


def test_model_of_many_layers_saves_and_loads(tmp_path, rng):
    inp = keras.Input((5, 3))
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(inp)
    x = layers.LayerNormalization()(x)
    x = layers.MultiHeadAttention(2, 4)(x, x)
    x = layers.TimeDistributed(layers.Dense(3))(x)
    x = layers.Conv1D(4, 2, padding="causal")(x)
    x = layers.BatchNormalization()(x)
    x = layers.GlobalAveragePooling1D()(x)
    out = layers.Dense(2)(layers.Dropout(0.3)(x))
    model = keras.Model(inp, out)
    data = rng.standard_normal((2, 5, 3)).astype("float32")
    want = model.predict(data, verbose=0)
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0), want, rtol=1e-6, atol=1e-6)
