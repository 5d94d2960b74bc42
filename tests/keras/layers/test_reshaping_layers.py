"""Flatten, Reshape, Permute, RepeatVector, ZeroPadding2D, UpSampling2D, Cropping2D."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tensorlab import keras
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import check_rank_error, check_roundtrip, check_symbolic, input_grad, rand


@settings(max_examples=15, deadline=None)
@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4))
def test_flatten(shape):
    rng = np.random.default_rng(len(shape))
    x = rand(rng, *shape)
    layer = layers.Flatten(dtype="float64")
    y = layer(x)
    np.testing.assert_array_equal(y.numpy(), x.numpy().reshape(shape[0], -1))
    check_symbolic(layer, x)
    r = rng.standard_normal(tuple(y.shape))
    np.testing.assert_allclose(input_grad(layer, x, r), r.reshape(shape))


def test_flatten_channels_first(rng):
    x = rand(rng, 2, 3, 4, 5)
    y = layers.Flatten(data_format="channels_first", dtype="float64")(x)
    np.testing.assert_array_equal(y.numpy(), x.numpy().transpose(0, 2, 3, 1).reshape(2, -1))
    check_roundtrip(layers.Flatten(data_format="channels_first", dtype="float64"), x)


def test_reshape(rng):
    x = rand(rng, 3, 12)
    for target in [(3, 4), (-1, 2), (2, 2, 3)]:
        layer = layers.Reshape(target, dtype="float64")
        np.testing.assert_array_equal(layer(x).numpy(), x.numpy().reshape((3,) + target))
        check_symbolic(layer, x)
        check_roundtrip(layer, x)


def test_error_reshape_size(rng):
    layer = layers.Reshape((5, 2))
    with pytest.raises(ValueError, match=r"reshape.*\(3, 12\).*\(5, 2\)"):
        layer(rand(rng, 3, 12, dtype="float32"))
    with pytest.raises(ValueError, match="-1"):
        layers.Reshape((-1, -1))


def test_permute(rng):
    x = rand(rng, 2, 3, 4, 5)
    layer = layers.Permute((3, 1, 2), dtype="float64")
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy().transpose(0, 3, 1, 2))
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    r = rng.standard_normal((2, 5, 3, 4))
    np.testing.assert_allclose(input_grad(layer, x, r), r.transpose(0, 2, 3, 1))


def test_error_permute(rng):
    with pytest.raises(ValueError, match="permutation"):
        layers.Permute((0, 1))
    check_rank_error(layers.Permute((2, 1)), rand(rng, 2, 3, 4, 5, dtype="float32"), "expected ndim=3")


def test_repeat_vector(rng):
    x = rand(rng, 2, 4)
    layer = layers.RepeatVector(3, dtype="float64")
    np.testing.assert_array_equal(layer(x).numpy(), np.repeat(x.numpy()[:, None], 3, axis=1))
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_rank_error(layers.RepeatVector(2), rand(rng, 2, 3, 4, dtype="float32"), "expected ndim=2")


@pytest.mark.parametrize("padding", [1, (2, 1), ((1, 0), (0, 2))])
@pytest.mark.parametrize("fmt", ["channels_last", "channels_first"])
def test_zero_padding2d(padding, fmt, rng):
    x = rand(rng, 2, 3, 4, 2)
    layer = layers.ZeroPadding2D(padding, data_format=fmt, dtype="float64")
    p = padding if not isinstance(padding, int) else (padding, padding)
    p = [(v, v) if isinstance(v, int) else v for v in p]
    pads = [(0, 0), p[0], p[1], (0, 0)] if fmt == "channels_last" else [(0, 0), (0, 0), p[0], p[1]]
    np.testing.assert_array_equal(layer(x).numpy(), np.pad(x.numpy(), pads))
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def test_error_zero_padding_rank(rng):
    check_rank_error(layers.ZeroPadding2D(1), rand(rng, 2, 3, 4, dtype="float32"), "expected ndim=4")


@pytest.mark.parametrize("crop", [1, (1, 2), ((1, 0), (0, 2))])
def test_cropping2d(crop, rng):
    x = rand(rng, 2, 5, 6, 3)
    layer = layers.Cropping2D(crop, dtype="float64")
    c = crop if not isinstance(crop, int) else (crop, crop)
    (t, b), (l, r) = [(v, v) if isinstance(v, int) else v for v in c]
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy()[:, t:5 - b, l:6 - r, :])
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    xc = rand(rng, 2, 3, 5, 6)
    yc = layers.Cropping2D(crop, data_format="channels_first", dtype="float64")(xc)
    np.testing.assert_array_equal(yc.numpy(), xc.numpy()[:, :, t:5 - b, l:6 - r])


def test_error_cropping_too_much(rng):
    layer = layers.Cropping2D(((3, 3), (0, 0)))
    with pytest.raises(ValueError, match=r"Cropping2D.*\(1, 5, 5, 1\)"):
        layer(rand(rng, 1, 5, 5, 1, dtype="float32"))


@pytest.mark.parametrize("size", [2, (1, 3)])
def test_upsampling2d_nearest(size, rng):
    x = rand(rng, 2, 3, 4, 2)
    layer = layers.UpSampling2D(size, dtype="float64")
    sh, sw = (size, size) if isinstance(size, int) else size
    ref = np.repeat(np.repeat(x.numpy(), sh, axis=1), sw, axis=2)
    np.testing.assert_array_equal(layer(x).numpy(), ref)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    r = rng.standard_normal(ref.shape)
    g = r.reshape(2, 3, sh, 4, sw, 2).sum(axis=(2, 4))
    np.testing.assert_allclose(input_grad(layer, x, r), g, rtol=1e-12)


def _bilinear_ref(x, sh, sw):
    def weights(n, s):
        src = np.clip((np.arange(n * s) + 0.5) / s - 0.5, 0, n - 1)
        lo = np.floor(src).astype(int)
        hi = np.minimum(lo + 1, n - 1)
        m = np.zeros((n * s, n))
        m[np.arange(n * s), lo] += 1 - (src - lo)
        m[np.arange(n * s), hi] += src - lo
        return m
    mh, mw = weights(x.shape[1], sh), weights(x.shape[2], sw)
    return np.einsum("ph,bhwc,qw->bpqc", mh, x, mw)


def test_upsampling2d_bilinear(rng):
    x = rand(rng, 2, 3, 4, 2)
    layer = layers.UpSampling2D((2, 3), interpolation="bilinear", dtype="float64")
    np.testing.assert_allclose(layer(x).numpy(), _bilinear_ref(x.numpy(), 2, 3), rtol=1e-10, atol=1e-12)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    xc = rand(rng, 2, 2, 3, 4)
    yc = layers.UpSampling2D(2, data_format="channels_first", interpolation="bilinear", dtype="float64")(xc)
    ref = _bilinear_ref(xc.numpy().transpose(0, 2, 3, 1), 2, 2).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(yc.numpy(), ref, rtol=1e-10, atol=1e-12)


def test_error_upsampling_interpolation():
    with pytest.raises(ValueError, match="bilinear"):
        layers.UpSampling2D(2, interpolation="cubic")


def test_reshaping_in_functional_model(rng):
    inp = keras.Input((4, 4, 1))
    y = layers.ZeroPadding2D(1)(inp)
    y = layers.UpSampling2D(2)(y)
    y = layers.Cropping2D(2)(y)
    y = layers.Flatten()(y)
    y = layers.Reshape((-1, 2))(y)
    assert tuple(y.shape) == (None, 32, 2)
