"""Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv1D/2D, SeparableConv1D/2D against naive numpy
convolutions (the 1-D depthwise and separable layers against their 2-D counterparts)."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import check_grads, check_rank_error, check_roundtrip, check_symbolic, rand


def _pads(n, k, s, d, padding):
    keff = (k - 1) * d + 1
    if padding == "valid":
        return (n - keff) // s + 1, 0, 0
    out = -(-n // s)
    total = max((out - 1) * s + keff - n, 0)
    return out, total // 2, total - total // 2


def conv2d_ref(x, w, strides=(1, 1), padding="valid", dilation=(1, 1), groups=1):
    """NHWC x, (kh, kw, cin // groups, cout) w."""
    b, h, wd, c = x.shape
    kh, kw, cig, co = w.shape
    oh, t, bo = _pads(h, kh, strides[0], dilation[0], padding)
    ow, l, r = _pads(wd, kw, strides[1], dilation[1], padding)
    xp = np.pad(x, [(0, 0), (t, bo), (l, r), (0, 0)])
    out = np.zeros((b, oh, ow, co))
    cog = co // groups
    for g in range(groups):
        xs = xp[..., g * cig:(g + 1) * cig]
        for i in range(kh):
            for j in range(kw):
                hi, wj = i * dilation[0], j * dilation[1]
                win = xs[:, hi:hi + strides[0] * (oh - 1) + 1:strides[0], wj:wj + strides[1] * (ow - 1) + 1:strides[1]]
                out[..., g * cog:(g + 1) * cog] += win @ w[i, j, :, g * cog:(g + 1) * cog]
    return out


def conv2d_transpose_ref(x, w, out_hw, strides, padding, dilation=(1, 1)):
    """x NHWC, w (kh, kw, cout, cin): the adjoint of conv2d_ref for an output of size out_hw."""
    b, h, wd, c = x.shape
    kh, kw, co, _ = w.shape
    keh, kew = (kh - 1) * dilation[0] + 1, (kw - 1) * dilation[1] + 1
    full = np.zeros((b, (h - 1) * strides[0] + keh, (wd - 1) * strides[1] + kew, co))
    for i in range(kh):
        for j in range(kw):
            hi, wj = i * dilation[0], j * dilation[1]
            full[:, hi:hi + strides[0] * (h - 1) + 1:strides[0], wj:wj + strides[1] * (wd - 1) + 1:strides[1]] += \
                x @ w[i, j].T
    _, t, _ = _pads(out_hw[0], kh, strides[0], dilation[0], padding)
    _, l, _ = _pads(out_hw[1], kw, strides[1], dilation[1], padding)
    full = np.pad(full, [(0, 0), (0, max(0, t + out_hw[0] - full.shape[1])),
                         (0, max(0, l + out_hw[1] - full.shape[2])), (0, 0)])
    return full[:, t:t + out_hw[0], l:l + out_hw[1]]


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3), dict(kernel_size=(2, 3), strides=2, padding="same"), dict(kernel_size=3, padding="same"),
    dict(kernel_size=3, dilation_rate=2), dict(kernel_size=1, strides=(2, 1)), dict(kernel_size=3, groups=2),
])
def test_conv2d_matches_numpy(kw, rng):
    layer = layers.Conv2D(4, activation="relu", bias_initializer="normal", dtype="float64", **kw)
    x = rand(rng, 2, 7, 6, 4)
    y = layer(x).numpy()
    k = layer.kernel.numpy()
    ref = conv2d_ref(x.numpy(), k, layer.strides, layer.padding, layer.dilation_rate, layer.groups)
    np.testing.assert_allclose(y, np.maximum(ref + layer.bias.numpy(), 0), rtol=1e-10, atol=1e-10)
    assert k.shape == layer.kernel_size + (4 // layer.groups, 4)


def test_conv2d_channels_first(rng):
    layer = layers.Conv2D(3, 2, data_format="channels_first", dtype="float64")
    x = rand(rng, 2, 4, 5, 5)
    y = layer(x).numpy()
    ref = conv2d_ref(x.numpy().transpose(0, 2, 3, 1), layer.kernel.numpy())
    np.testing.assert_allclose(y, ref.transpose(0, 3, 1, 2) + layer.bias.numpy()[:, None, None],
                               rtol=1e-10, atol=1e-10)
    check_symbolic(layer, x)


def test_conv2d_symbolic_roundtrip_grads(rng):
    layer = layers.Conv2D(3, 3, strides=2, padding="same", activation="tanh")
    x = rand(rng, 2, 7, 7, 2, dtype="float32")
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x)


def test_error_conv2d_rank(rng):
    check_rank_error(layers.Conv2D(2, 3), rand(rng, 2, 8, 3, dtype="float32"), "expected ndim=4")


def test_error_conv2d_channels(rng):
    layer = layers.Conv2D(2, 3)
    layer(rand(rng, 1, 5, 5, 3, dtype="float32"))
    with pytest.raises(ValueError, match=r"conv2d.*3.*\(1, 5, 5, 4\)"):
        layer(rand(rng, 1, 5, 5, 4, dtype="float32"))


def test_error_conv_arguments():
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="groups"):
        layers.Conv2D(3, 3, groups=2)


@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=2, strides=2, padding="same"),
                                dict(kernel_size=3, padding="causal", dilation_rate=2)])
def test_conv1d_matches_numpy(kw, rng):
    layer = layers.Conv1D(3, dtype="float64", bias_initializer="normal", **kw)
    x = rand(rng, 2, 9, 4)
    y = layer(x).numpy()
    k = layer.kernel.numpy()
    xn = x.numpy()
    pad = "same" if layer.padding == "same" else "valid"
    if layer.padding == "causal":
        xn = np.pad(xn, [(0, 0), ((k.shape[0] - 1) * layer.dilation_rate[0], 0), (0, 0)])
    ref = conv2d_ref(xn[:, None], k[None], (1,) + layer.strides, pad, (1,) + layer.dilation_rate)[:, 0]
    np.testing.assert_allclose(y, ref + layer.bias.numpy(), rtol=1e-10, atol=1e-10)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def test_conv1d_grads_and_rank_error(rng):
    layer = layers.Conv1D(2, 3)
    check_grads(layer, rand(rng, 2, 6, 3, dtype="float32"))
    check_rank_error(layers.Conv1D(2, 3), rand(rng, 2, 6, dtype="float32"), "expected ndim=3")


@pytest.mark.parametrize("kw", [dict(kernel_size=3, strides=2, padding="same"), dict(kernel_size=3, strides=2),
                                dict(kernel_size=(2, 3)), dict(kernel_size=3, strides=2, output_padding=1),
                                dict(kernel_size=3, strides=2, padding="same", output_padding=0)])
def test_conv2d_transpose_matches_numpy(kw, rng):
    layer = layers.Conv2DTranspose(3, dtype="float64", bias_initializer="normal", **kw)
    x = rand(rng, 2, 4, 5, 2)
    y = layer(x).numpy()
    assert y.shape == layer.compute_output_shape(tuple(x.shape))
    ref = conv2d_transpose_ref(x.numpy(), layer.kernel.numpy(), y.shape[1:3], layer.strides, layer.padding)
    np.testing.assert_allclose(y, ref + layer.bias.numpy(), rtol=1e-10, atol=1e-10)
    assert layer.kernel.shape == layer.kernel_size + (3, 2)


def test_conv2d_transpose_is_adjoint_of_conv2d(rng):
    """<conv(x), y> == <x, conv_transpose(y)> with the same kernel."""
    conv = layers.Conv2D(3, 3, strides=2, padding="same", use_bias=False, dtype="float64")
    x = rand(rng, 1, 8, 8, 2)
    y = conv(x)
    tconv = layers.Conv2DTranspose(2, 3, strides=2, padding="same", use_bias=False, dtype="float64")
    g = rand(rng, *y.shape)
    tconv(g)
    tconv.set_weights([conv.kernel.numpy()])
    xt = tconv(g)
    assert tuple(xt.shape) == tuple(x.shape)
    np.testing.assert_allclose(np.sum(y.numpy() * g.numpy()), np.sum(x.numpy() * xt.numpy()), rtol=1e-10)


def test_conv2d_transpose_symbolic_roundtrip_grads(rng):
    layer = layers.Conv2DTranspose(3, 3, strides=2, padding="same")
    x = rand(rng, 2, 4, 4, 2, dtype="float32")
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x)


def test_error_conv2d_transpose_output_padding():
    with pytest.raises(ValueError, match="output_padding"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)


@pytest.mark.parametrize("kw", [dict(kernel_size=3), dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same")])
def test_depthwise_conv2d_matches_numpy(kw, rng):
    layer = layers.DepthwiseConv2D(dtype="float64", bias_initializer="normal", **kw)
    x = rand(rng, 2, 6, 6, 3)
    y = layer(x).numpy()
    k = layer.kernel.numpy()
    m = layer.depth_multiplier
    assert k.shape == (3, 3, 3, m)
    ref = conv2d_ref(x.numpy(), k.reshape(3, 3, 1, 3 * m), layer.strides, layer.padding, groups=3)
    np.testing.assert_allclose(y, ref + layer.bias.numpy(), rtol=1e-10, atol=1e-10)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x)


def test_separable_conv2d_matches_numpy(rng):
    layer = layers.SeparableConv2D(4, 3, depth_multiplier=2, padding="same", dtype="float64",
                                   bias_initializer="normal")
    x = rand(rng, 2, 5, 5, 3)
    y = layer(x).numpy()
    dk, pk = layer.depthwise_kernel.numpy(), layer.pointwise_kernel.numpy()
    mid = conv2d_ref(x.numpy(), dk.reshape(3, 3, 1, 6), padding="same", groups=3)
    ref = mid @ pk[0, 0] + layer.bias.numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-10)
    assert [w.name.split("/")[-1] for w in layer.weights] == ["depthwise_kernel:0", "pointwise_kernel:0", "bias:0"]
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x)


def test_error_depthwise_rank(rng):
    check_rank_error(layers.DepthwiseConv2D(3), rand(rng, 5, 5, 3, dtype="float32"), "expected ndim=4")


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_depthwise_and_separable_conv1d_are_the_2d_layers_on_a_height_1_image(rng, padding):
    """DepthwiseConv1D / SeparableConv1D against the 2-D layers (checked elsewhere against
    numpy) on [N, 1, W, C], causal as explicit left padding; config, symbolic shape, gradients."""
    x = rng.standard_normal((2, 9, 3)).astype(np.float32)
    xp = np.pad(x, ((0, 0), (4, 0), (0, 0))) if padding == "causal" else x  # (k - 1) * d = 4
    pad2 = "valid" if padding == "causal" else padding
    for make1, make2 in (
            (lambda: layers.DepthwiseConv1D(3, depth_multiplier=2, padding=padding, dilation_rate=2),
             lambda: layers.DepthwiseConv2D((1, 3), depth_multiplier=2, padding=pad2, dilation_rate=(1, 2))),
            (lambda: layers.SeparableConv1D(4, 3, padding=padding, dilation_rate=2, depth_multiplier=2),
             lambda: layers.SeparableConv2D(4, (1, 3), padding=pad2, dilation_rate=(1, 2), depth_multiplier=2))):
        one, two = make1(), make2()
        y1 = one(x)
        two(xp[:, None])
        two.set_weights([w.reshape(w2.shape) for w, w2 in zip(one.get_weights(), two.get_weights())])
        np.testing.assert_allclose(y1.numpy(), two(xp[:, None]).numpy()[:, 0], rtol=1e-5, atol=1e-6)
        assert one.compute_output_shape(x.shape) == tuple(y1.shape)
        check_symbolic(one, tl.constant(x))
        check_roundtrip(one, tl.constant(x))
        check_grads(one, tl.constant(x))
    if padding == "causal":  # output step t sees inputs up to t only
        layer = layers.SeparableConv1D(2, 3, padding="causal")
        y = layer(x).numpy()
        x2 = x.copy()
        x2[:, 5:] += 1.0
        np.testing.assert_allclose(layer(x2).numpy()[:, :5], y[:, :5], rtol=1e-6)
        assert not np.allclose(layer(x2).numpy()[:, 5:], y[:, 5:])


def test_default_data_format_follows_the_global_setting(rng):
    from tensorlab import keras
    keras.config.set_image_data_format("channels_first")
    try:
        conv = keras.layers.Conv2D(4, 3)
        pool = keras.layers.MaxPooling2D()
        assert conv.data_format == "channels_first" and pool.data_format == "channels_first"
        y = pool(conv(rng.normal(size=(2, 3, 8, 8)).astype("float32")))
        assert y.shape == (2, 4, 3, 3)
        assert keras.layers.Conv2D(4, 3, data_format="channels_last").data_format == "channels_last"
    finally:
        keras.config.set_image_data_format("channels_last")
    assert keras.layers.Conv2D(4, 3).data_format == "channels_last"
