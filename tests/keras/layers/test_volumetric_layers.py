"""The 3-D layers: Conv3D, Max/AveragePooling3D, Global*Pooling3D, ZeroPadding3D, Cropping3D,
UpSampling3D, SpatialDropout3D — values against numpy, channels_first, config round trips,
symbolic shapes, gradients, rank errors, and a small volumetric CNN that trains and saves."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers
from tests.keras.layers.layer_checks import check_grads, check_rank_error, check_roundtrip, check_symbolic, rand
from tests.ops.test_conv3d import ref_conv3d, ref_conv3d_transpose, ref_pool3d


def test_conv3d_matches_the_reference_with_bias_and_activation(rng):
    x = rand(rng, 2, 4, 5, 6, 3)
    layer = layers.Conv3D(4, (3, 2, 3), strides=(1, 2, 1), padding="same", activation="relu")
    y = layer(x)
    w, b = layer.kernel.numpy(), layer.bias.numpy()
    ref = np.maximum(ref_conv3d(x.numpy(), w, (1, 2, 1), "SAME") + b, 0)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape((2, 4, 5, 6, 3)) == tuple(y.shape) == (2, 4, 3, 6, 4)
    assert layer.kernel.shape == (3, 2, 3, 3, 4)


def test_conv3d_channels_first_and_groups(rng):
    x = rand(rng, 2, 4, 3, 5, 6)
    last = layers.Conv3D(6, 2, groups=2, dilation_rate=(1, 1, 2))
    first = layers.Conv3D(6, 2, groups=2, dilation_rate=(1, 1, 2), data_format="channels_first")
    y_last = last(x)
    first(tl.transpose(x, [0, 4, 1, 2, 3]))
    first.set_weights(last.get_weights())
    y_first = first(tl.transpose(x, [0, 4, 1, 2, 3]))
    np.testing.assert_allclose(tl.transpose(y_first, [0, 2, 3, 4, 1]).numpy(), y_last.numpy(), rtol=1e-5, atol=1e-6)
    check_grads(last, x)
    check_rank_error(layers.Conv3D(2, 2), rand(rng, 2, 4, 4, 3), "expected ndim=5")


@pytest.mark.parametrize("padding,output_padding", [("same", None), ("valid", (1, 0, 1)), ("same", (0, 1, 1))])
def test_conv3d_transpose(rng, padding, output_padding):
    x = rand(rng, 2, 3, 4, 2, 5, dtype="float32")
    layer = layers.Conv3DTranspose(4, (3, 2, 3), strides=(2, 2, 3), padding=padding, output_padding=output_padding)
    y = layer(x)
    assert layer.kernel.shape == (3, 2, 3, 4, 5)
    assert layer.compute_output_shape(tuple(x.shape)) == tuple(y.shape)
    ref = ref_conv3d_transpose(x.numpy().astype(np.float64), layer.kernel.numpy().astype(np.float64), tuple(y.shape),
                               (2, 2, 3), padding.upper()) + layer.bias.numpy()
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-5)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x)


@pytest.mark.parametrize("cls,mode", [(layers.MaxPooling3D, "max"), (layers.AveragePooling3D, "avg")])
@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling3d(rng, cls, mode, padding):
    x = rand(rng, 2, 5, 4, 7, 3)
    layer = cls(pool_size=(2, 3, 2), strides=(2, 1, 2), padding=padding)
    y = layer(x)
    np.testing.assert_allclose(y.numpy(), ref_pool3d(x.numpy(), (2, 3, 2), (2, 1, 2), padding.upper(), mode),
                               rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape(tuple(x.shape)) == tuple(y.shape)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    cf = cls(pool_size=(2, 3, 2), strides=(2, 1, 2), padding=padding, data_format="channels_first")
    np.testing.assert_allclose(tl.transpose(cf(tl.transpose(x, [0, 4, 1, 2, 3])), [0, 2, 3, 4, 1]).numpy(),
                               y.numpy(), rtol=1e-5, atol=1e-6)


def test_global_pooling3d(rng):
    x = rand(rng, 2, 3, 4, 5, 6)
    np.testing.assert_allclose(layers.GlobalAveragePooling3D()(x).numpy(), x.numpy().mean(axis=(1, 2, 3)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layers.GlobalMaxPooling3D(data_format="channels_first")(x).numpy(),
                               x.numpy().max(axis=(2, 3, 4)), rtol=1e-5, atol=1e-6)
    assert layers.GlobalAveragePooling3D(keepdims=True)(x).shape == (2, 1, 1, 1, 6)


def test_zero_padding_cropping_upsampling3d(rng):
    x = rand(rng, 2, 3, 4, 5, 2, dtype="float32")  # the layers' own dtype: exact copies expected
    xn = x.numpy()
    pad = layers.ZeroPadding3D(((1, 0), (0, 2), (1, 1)))
    np.testing.assert_array_equal(pad(x).numpy(), np.pad(xn, ((0, 0), (1, 0), (0, 2), (1, 1), (0, 0))))
    crop = layers.Cropping3D(((1, 0), (1, 2), (0, 1)))
    np.testing.assert_array_equal(crop(x).numpy(), xn[:, 1:, 1:2, :4])
    up = layers.UpSampling3D((2, 1, 3))
    np.testing.assert_array_equal(up(x).numpy(), xn.repeat(2, 1).repeat(1, 2).repeat(3, 3))
    upf = layers.UpSampling3D(2, data_format="channels_first")
    xf = np.moveaxis(xn, -1, 1)
    np.testing.assert_array_equal(upf(tl.constant(xf)).numpy(), xf.repeat(2, 2).repeat(2, 3).repeat(2, 4))
    for layer in (pad, crop, up):
        assert layer.compute_output_shape(tuple(x.shape)) == tuple(layer(x).shape)
        check_symbolic(layer, x)
        check_roundtrip(layer, x)
    with pytest.raises(ValueError, match="Cropping3D.*removes the whole depth"):
        layers.Cropping3D(((2, 1), (0, 0), (0, 0)))(x)
    with pytest.raises(ValueError, match="`padding` must be an int, 3 ints or 3"):
        layers.ZeroPadding3D((1, 2))


def test_spatial_dropout3d_drops_whole_channels(rng):
    x = tl.ones((4, 3, 3, 3, 8))
    y = layers.SpatialDropout3D(0.5, seed=3)(x, training=True).numpy()
    per_channel = y.reshape(4, -1, 8)
    assert np.all(per_channel.min(axis=1) == per_channel.max(axis=1))   # all or nothing per (example, channel)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    np.testing.assert_array_equal(layers.SpatialDropout3D(0.5)(x, training=False).numpy(), x.numpy())


def test_a_volumetric_cnn_trains_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(0)  # initial weights and dropout masks independent of earlier tests
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 6, 8, 8, 1)).astype(np.float32)
    y = (x[:, :3].mean(axis=(1, 2, 3, 4)) > x[:, 3:].mean(axis=(1, 2, 3, 4))).astype(np.int32)
    model = keras.Sequential([
        keras.Input((6, 8, 8, 1)),
        layers.Conv3D(8, 3, padding="same", activation="relu"),
        layers.MaxPooling3D(2),
        layers.ZeroPadding3D(1),
        layers.Conv3D(8, 2, activation="relu"),
        layers.Conv3DTranspose(8, 2, strides=2, padding="same"),
        layers.Cropping3D(1),
        layers.SpatialDropout3D(0.1),
        layers.GlobalAveragePooling3D(),
        layers.Dense(2),
    ])
    model.compile(keras.optimizers.Adam(1e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    path = str(tmp_path / "vol.keras")
    model.save(path)
    back = keras.models.load_model(path)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
