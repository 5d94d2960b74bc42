"""Max/Average pooling 1D/2D and global pooling against numpy."""
import numpy as np
import pytest

from tensorlab.keras import layers

from tests.keras.layers.layer_checks import check_rank_error, check_roundtrip, check_symbolic, input_grad, rand


def pool2d_ref(x, pool, strides, padding, mode):
    b, h, w, c = x.shape
    out = []
    pads = []
    for n, k, s in zip((h, w), pool, strides):
        if padding == "valid":
            o = (n - k) // s + 1
            pads.append((o, 0))
        else:
            o = -(-n // s)
            total = max((o - 1) * s + k - n, 0)
            pads.append((o, total // 2))
    (oh, t), (ow, l) = pads
    res = np.zeros((b, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * strides[0] - t, j * strides[1] - l
            win = x[:, max(h0, 0):min(h0 + pool[0], h), max(w0, 0):min(w0 + pool[1], w)]
            res[:, i, j] = win.max(axis=(1, 2)) if mode == "max" else win.mean(axis=(1, 2))
    return res


@pytest.mark.parametrize("cls,mode", [(layers.MaxPooling2D, "max"), (layers.AveragePooling2D, "avg")])
@pytest.mark.parametrize("kw", [dict(), dict(pool_size=3, strides=2), dict(pool_size=(2, 3), padding="same"),
                                dict(pool_size=3, strides=1, padding="same")])
def test_pool2d_matches_numpy(cls, mode, kw, rng):
    layer = cls(dtype="float64", **kw)
    x = rand(rng, 2, 7, 6, 3)
    ref = pool2d_ref(x.numpy(), layer.pool_size, layer.strides, layer.padding, mode)
    np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-12)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


@pytest.mark.parametrize("cls,mode", [(layers.MaxPooling1D, "max"), (layers.AveragePooling1D, "avg")])
def test_pool1d_matches_numpy(cls, mode, rng):
    layer = cls(pool_size=3, strides=2, padding="same", dtype="float64")
    x = rand(rng, 2, 9, 3)
    ref = pool2d_ref(x.numpy()[:, None], (1, 3), (1, 2), "same", mode)[:, 0]
    np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-12)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def test_pool_channels_first(rng):
    x = rand(rng, 2, 3, 6, 6)
    y = layers.MaxPooling2D(2, data_format="channels_first", dtype="float64")(x)
    ref = pool2d_ref(x.numpy().transpose(0, 2, 3, 1), (2, 2), (2, 2), "valid", "max").transpose(0, 3, 1, 2)
    np.testing.assert_allclose(y.numpy(), ref)


def test_max_pool_gradient_routes_to_max(rng):
    x = rand(rng, 1, 4, 4, 1)
    r = rng.standard_normal((1, 2, 2, 1))
    g = input_grad(layers.MaxPooling2D(2, dtype="float64"), x, r)
    xn = x.numpy()[0, :, :, 0]
    ref = np.zeros((4, 4))
    for i in range(2):
        for j in range(2):
            win = xn[2 * i:2 * i + 2, 2 * j:2 * j + 2]
            a, b = np.unravel_index(np.argmax(win), (2, 2))
            ref[2 * i + a, 2 * j + b] = r[0, i, j, 0]
    np.testing.assert_allclose(g[0, :, :, 0], ref)


def test_aliases():
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool2D is layers.AveragePooling2D
    assert layers.MaxPool1D is layers.MaxPooling1D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D


@pytest.mark.parametrize("cls,fn,axes,shape", [
    (layers.GlobalAveragePooling1D, np.mean, (1,), (2, 5, 3)), (layers.GlobalMaxPooling1D, np.max, (1,), (2, 5, 3)),
    (layers.GlobalAveragePooling2D, np.mean, (1, 2), (2, 4, 5, 3)),
    (layers.GlobalMaxPooling2D, np.max, (1, 2), (2, 4, 5, 3)),
])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling(cls, fn, axes, shape, keepdims, rng):
    x = rand(rng, *shape)
    layer = cls(keepdims=keepdims, dtype="float64")
    np.testing.assert_allclose(layer(x).numpy(), fn(x.numpy(), axis=axes, keepdims=keepdims), rtol=1e-12)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    xc = rand(rng, *shape)
    yc = cls(data_format="channels_first", dtype="float64")(xc)
    np.testing.assert_allclose(yc.numpy(), fn(xc.numpy(), axis=tuple(a + 1 for a in axes)), rtol=1e-12)


def test_error_pooling_rank(rng):
    check_rank_error(layers.MaxPooling2D(), rand(rng, 2, 4, 3, dtype="float32"), "expected ndim=4")
    check_rank_error(layers.GlobalAveragePooling1D(), rand(rng, 2, 4, 4, 3, dtype="float32"), "expected ndim=3")
    with pytest.raises(ValueError, match="pool_size"):
        layers.MaxPooling2D(pool_size=0)
