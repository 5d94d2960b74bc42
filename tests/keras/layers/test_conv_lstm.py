"""ConvLSTM2D against a float64 numpy LSTM whose products are convolutions; return_state,
go_backwards, channels_first, initial and carried states, dropout, config, gradients, a small
next-frame model that trains, and the GPU (emulated in CI) against the CPU."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers
from tests.keras.layers.layer_checks import check_grads, check_rank_error, check_roundtrip, check_symbolic
from tests.ops.test_conv import ref_conv2d


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def ref_conv_lstm(x, kernel, recurrent, bias, strides, padding, go_backwards=False, h=None, c=None):
    """(outputs per step, h, c) of a ConvLSTM2D in float64 (gates i, f, c, o)."""
    b, steps = x.shape[:2]
    xp = [ref_conv2d(x[:, t], kernel, strides, padding) + bias for t in range(steps)]
    f = recurrent.shape[2]
    if h is None:
        h = np.zeros(xp[0].shape[:3] + (f,))
        c = np.zeros_like(h)
    outs = []
    for t in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        z = xp[t] + ref_conv2d(h, recurrent, (1, 1), "SAME")
        zi, zf, zc, zo = np.split(z, 4, axis=-1)
        c = _sigmoid(zf) * c + _sigmoid(zi) * np.tanh(zc)
        h = _sigmoid(zo) * np.tanh(c)
        outs.append(h)
    return np.stack(outs, axis=1), h, c


@pytest.mark.parametrize("padding,strides,go_backwards", [("SAME", (1, 1), False), ("VALID", (2, 1), True)])
def test_matches_the_reference(rng, padding, strides, go_backwards):
    x = rng.standard_normal((2, 4, 7, 6, 3))
    layer = layers.ConvLSTM2D(5, (3, 2), strides=strides, padding=padding.lower(), return_sequences=True,
                              return_state=True, go_backwards=go_backwards, dtype="float64",
                              bias_initializer="random_normal")
    seq, h, c = layer(x)
    k, r, b = (w.numpy() for w in layer.weights)
    assert k.shape == (3, 2, 3, 20) and r.shape == (3, 2, 5, 20) and b.shape == (20,)
    ref_seq, ref_h, ref_c = ref_conv_lstm(x, k, r, b, strides, padding, go_backwards)
    np.testing.assert_allclose(seq.numpy(), ref_seq, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), ref_h, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c.numpy(), ref_c, rtol=1e-10, atol=1e-12)
    assert layer.compute_output_shape(x.shape) == [tuple(seq.shape), tuple(h.shape), tuple(c.shape)]
    # the last output alone, and a forget bias of one
    last = layers.ConvLSTM2D(5, (3, 2), strides=strides, padding=padding.lower(), go_backwards=go_backwards,
                             dtype="float64")
    last(x)
    assert np.all(last.bias.numpy()[5:10] == 1.0) and np.all(last.bias.numpy()[:5] == 0.0)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x).numpy(), ref_h, rtol=1e-10, atol=1e-12)


def test_channels_first_initial_state_and_stateful(rng):
    x = rng.standard_normal((2, 3, 5, 5, 2)).astype(np.float32)
    last = layers.ConvLSTM2D(4, 3, padding="same", return_state=True)
    first = layers.ConvLSTM2D(4, 3, padding="same", return_state=True, data_format="channels_first")
    out, h, c = last(x)
    xf = np.moveaxis(x, -1, 2)
    first(xf)
    first.set_weights(last.get_weights())
    out_f, h_f, c_f = first(xf)
    np.testing.assert_allclose(np.moveaxis(out_f.numpy(), 1, -1), out.numpy(), rtol=1e-5, atol=1e-6)
    # initial_state continues a sequence: two halves give the whole
    part1 = last(x[:, :2])
    part2 = last(x[:, 2:], initial_state=part1[1:])
    np.testing.assert_allclose(part2[0].numpy(), out.numpy(), rtol=1e-5, atol=1e-6)
    stateful = layers.ConvLSTM2D(4, 3, padding="same", stateful=True)
    stateful(x[:, :2])
    stateful.set_weights(last.get_weights())
    stateful.reset_states()
    stateful(x[:, :2])
    np.testing.assert_allclose(stateful(x[:, 2:]).numpy(), out.numpy(), rtol=1e-5, atol=1e-6)


def test_dropout_only_in_training(rng):
    x = rng.standard_normal((3, 4, 5, 5, 2)).astype(np.float32)
    layer = layers.ConvLSTM2D(4, 3, padding="same", dropout=0.5, recurrent_dropout=0.5, seed=1)
    plain = layers.ConvLSTM2D(4, 3, padding="same")
    plain(x)
    layer(x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(layer(x, training=False).numpy(), plain(x).numpy(), rtol=1e-6)
    assert not np.allclose(layer(x, training=True).numpy(), plain(x).numpy())


def test_config_symbolic_gradients_and_errors(rng):
    x = tl.constant(rng.standard_normal((2, 3, 6, 6, 2)).astype(np.float32))
    layer = layers.ConvLSTM2D(3, 3, strides=2, padding="same", return_sequences=True)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x)
    check_rank_error(layers.ConvLSTM2D(2, 3), tl.zeros((2, 3, 6, 2)), "expected ndim=5")


def test_a_next_frame_model_trains():
    rng = np.random.default_rng(0)
    frames = np.zeros((16, 5, 8, 8, 1), np.float32)
    for i in range(16):  # a square moving one pixel per frame
        r, c = rng.integers(0, 4, 2)
        for t in range(5):
            frames[i, t, r:r + 3, c + t // 2:c + t // 2 + 3, 0] = 1.0
    model = keras.Sequential([keras.Input((4, 8, 8, 1)),
                              layers.ConvLSTM2D(8, 3, padding="same", return_sequences=True),
                              layers.BatchNormalization(),
                              layers.ConvLSTM2D(8, 3, padding="same"),
                              layers.Conv2D(1, 3, padding="same", activation="sigmoid")])
    model.compile(keras.optimizers.Adam(1e-2), "binary_crossentropy")
    hist = model.fit(frames[:, :4], frames[:, 4], epochs=6, batch_size=4, verbose=0)
    assert hist.history["loss"][-1] < 0.7 * hist.history["loss"][0]


@pytest.mark.gpu
def test_gpu_matches_cpu(rng):
    if not any(d.device_type == "GPU" for d in tl.config.list_logical_devices()):
        pytest.skip("no GPU")
    x = rng.standard_normal((2, 3, 6, 5, 2)).astype(np.float32)
    results = []
    weights = None
    for device in ("cpu", "gpu:0"):
        with tl.device(device):
            layer = layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True)
            xt = tl.constant(x)
            layer(xt)
            if weights is None:
                weights = layer.get_weights()
            layer.set_weights(weights)
            with tl.GradientTape() as tape:
                y = layer(xt)
                loss = tl.reduce_sum(y * y)
            results.append((y.numpy(), [g.numpy() for g in tape.gradient(loss, layer.trainable_weights)]))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-4, atol=1e-5)
    for a, b in zip(results[1][1], results[0][1]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
