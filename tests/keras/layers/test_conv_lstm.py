"""ConvLSTM1D/2D/3D against a float64 numpy LSTM whose products are convolutions; return_state,
go_backwards, channels_first, initial and carried states, dropout, config, gradients (also against
finite differences), bad arguments, small models that train and save, and the GPU (emulated in CI)
against the CPU."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers
from tests.keras.layers.layer_checks import (check_grads, check_input_grad_fd, check_rank_error, check_roundtrip,
                                             check_symbolic, check_weight_grads_fd)
from tests.ops.test_conv import ref_conv1d, ref_conv2d
from tests.ops.test_conv3d import ref_conv3d


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def ref_conv(x, w, strides, padding, dilations=None):
    """The float64 convolution of x's spatial rank (1, 2 or 3), channels last."""
    rank = x.ndim - 2
    dilations = (1,) * rank if dilations is None else tuple(dilations)
    if rank == 1:
        return ref_conv1d(x, w, strides[0], padding, dilations[0])
    return (ref_conv2d if rank == 2 else ref_conv3d)(x, w, tuple(strides), padding, dilations)


def ref_conv_lstm(x, kernel, recurrent, bias, strides, padding, go_backwards=False, h=None, c=None, dilations=None):
    """(outputs per step, h, c) of a ConvLSTM1D/2D/3D in float64 (gates i, f, c, o)."""
    b, steps = x.shape[:2]
    xp = [ref_conv(x[:, t], kernel, strides, padding, dilations) + bias for t in range(steps)]
    f = recurrent.shape[-2]
    if h is None:
        h = np.zeros(xp[0].shape[:-1] + (f,))
        c = np.zeros_like(h)
    outs = []
    for t in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        z = xp[t] + ref_conv(h, recurrent, (1,) * (x.ndim - 3), "SAME")
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


# ---------------------------------------------------------------------------------------- ConvLSTM1D / ConvLSTM3D
ND_CASES = [  # (layer class, input shape, kernel_size, strides, dilation_rate, padding, go_backwards)
    (layers.ConvLSTM1D, (2, 4, 9, 3), 3, 1, 2, "SAME", False),
    (layers.ConvLSTM1D, (3, 3, 8, 2), 2, 2, 1, "VALID", True),
    (layers.ConvLSTM3D, (2, 3, 4, 5, 3, 2), (3, 2, 2), 1, 1, "SAME", True),
    (layers.ConvLSTM3D, (2, 3, 5, 6, 5, 2), 2, (2, 1, 2), 1, "VALID", False),
]


@pytest.mark.parametrize("cls,shape,kernel_size,strides,dilation,padding,go_backwards", ND_CASES,
                         ids=lambda v: v.__name__ if isinstance(v, type) else None)
def test_nd_matches_the_reference(rng, cls, shape, kernel_size, strides, dilation, padding, go_backwards):
    x = rng.standard_normal(shape)
    rank = len(shape) - 3
    layer = cls(4, kernel_size, strides=strides, dilation_rate=dilation, padding=padding.lower(),
                return_sequences=True, return_state=True, go_backwards=go_backwards, dtype="float64",
                bias_initializer="random_normal")
    seq, h, c = layer(x)
    k, r, b = (w.numpy() for w in layer.weights)
    ks = (kernel_size,) * rank if isinstance(kernel_size, int) else kernel_size
    assert k.shape == ks + (shape[-1], 16) and r.shape == ks + (4, 16) and b.shape == (16,)
    st = (strides,) * rank if isinstance(strides, int) else strides
    ref_seq, ref_h, ref_c = ref_conv_lstm(x, k, r, b, st, padding, go_backwards, dilations=(dilation,) * rank)
    for got, want in ((seq, ref_seq), (h, ref_h), (c, ref_c)):
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-12)
    assert layer.compute_output_shape(x.shape) == [tuple(seq.shape), tuple(h.shape), tuple(c.shape)]
    assert tuple(seq.shape)[:2] == shape[:2] and tuple(h.shape)[-1] == 4
    # the last output alone, and a forget bias of one
    last = cls(4, kernel_size, strides=strides, dilation_rate=dilation, padding=padding.lower(),
               go_backwards=go_backwards, dtype="float64")
    last(x)
    assert np.all(last.bias.numpy()[4:8] == 1.0) and np.all(last.bias.numpy()[:4] == 0.0)
    last.set_weights(layer.get_weights())
    np.testing.assert_allclose(last(x).numpy(), ref_h, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls,shape", [(layers.ConvLSTM1D, (2, 3, 6, 2)), (layers.ConvLSTM3D, (2, 3, 3, 4, 4, 2))],
                         ids=["1d", "3d"])
def test_nd_channels_first_initial_state_and_stateful(rng, cls, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    last = cls(3, 3, padding="same", return_sequences=True, return_state=True)
    first = cls(3, 3, padding="same", return_sequences=True, return_state=True, data_format="channels_first")
    out, h, c = last(x)
    xf = np.moveaxis(x, -1, 2)
    first(xf)
    first.set_weights(last.get_weights())
    out_f, h_f, c_f = first(xf)
    assert first.compute_output_shape(xf.shape) == [tuple(out_f.shape), tuple(h_f.shape), tuple(c_f.shape)]
    np.testing.assert_allclose(np.moveaxis(out_f.numpy(), 2, -1), out.numpy(), rtol=1e-5, atol=1e-6)
    for got, want in ((h_f, h), (c_f, c)):
        np.testing.assert_allclose(np.moveaxis(got.numpy(), 1, -1), want.numpy(), rtol=1e-5, atol=1e-6)
    # initial_state continues a sequence, in either data format: two halves give the whole
    part1 = first(xf[:, :2])
    part2 = first(xf[:, 2:], initial_state=part1[1:])
    np.testing.assert_allclose(np.moveaxis(part2[0].numpy()[:, -1], 1, -1), h.numpy(), rtol=1e-5, atol=1e-6)
    # a stateful layer fed one step at a time gives the whole sequence
    stateful = cls(3, 3, padding="same", stateful=True, return_sequences=True, weights=last.get_weights())
    steps = [stateful(x[:, t:t + 1]).numpy()[:, 0] for t in range(shape[1])]
    np.testing.assert_allclose(np.stack(steps, axis=1), out.numpy(), rtol=1e-5, atol=1e-6)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, :1]).numpy()[:, 0], out.numpy()[:, 0], rtol=1e-5, atol=1e-6)


def test_nd_dropout_only_in_training(rng):
    x = rng.standard_normal((3, 4, 3, 4, 4, 2)).astype(np.float32)
    layer = layers.ConvLSTM3D(2, 2, padding="same", dropout=0.5, recurrent_dropout=0.5, seed=1)
    inference = layer(x).numpy()
    np.testing.assert_array_equal(layer(x, training=False).numpy(), inference)
    assert not np.allclose(layer(x, training=True).numpy(), inference)


@pytest.mark.parametrize("cls,shape", [(layers.ConvLSTM1D, (2, 3, 5, 2)), (layers.ConvLSTM3D, (2, 2, 3, 3, 3, 1))],
                         ids=["1d", "3d"])
def test_nd_gradients_match_finite_differences(rng, cls, shape):
    x = tl.constant(rng.standard_normal(shape))
    layer = cls(2, 2, padding="same", return_sequences=True, dtype="float64", bias_initializer="random_normal")
    check_input_grad_fd(layer, x, rng, rtol=1e-6, atol=1e-8)
    check_weight_grads_fd(layer, x, rng, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cls,shape", [(layers.ConvLSTM1D, (2, 3, 8, 2)), (layers.ConvLSTM3D, (2, 3, 4, 6, 6, 2))],
                         ids=["1d", "3d"])
def test_nd_config_symbolic_gradients(rng, cls, shape):
    x = tl.constant(rng.standard_normal(shape).astype(np.float32))
    layer = cls(3, 3, strides=2, padding="same", return_sequences=True, data_format="channels_last")
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x)
    state = cls(3, 3, return_state=True, data_format="channels_first")
    check_symbolic(state, tl.constant(np.moveaxis(x.numpy(), -1, 2)))
    cfg = layer.get_config()
    rank = len(shape) - 3
    assert cfg["kernel_size"] == (3,) * rank and cfg["strides"] == (2,) * rank and cfg["filters"] == 3
    clone = layers.deserialize(layers.serialize(layer))
    assert type(clone) is cls and clone.get_config()["dilation_rate"] == (1,) * rank


def test_nd_errors_name_the_layer_and_the_shapes(rng):
    check_rank_error(layers.ConvLSTM1D(2, 3), tl.zeros((2, 3, 6)), "expected ndim=4")
    check_rank_error(layers.ConvLSTM3D(2, 3), tl.zeros((2, 3, 6, 6, 2)), "expected ndim=6")
    layer = layers.ConvLSTM1D(2, 3)
    with pytest.raises(ValueError, match=r"conv_lstm1d.*\(ConvLSTM1D\).*ndim=4 \(batch, time, steps, channels\)"):
        layer.build((2, 3, 6))
    layer(tl.ones((2, 3, 6, 2)))
    with pytest.raises(ValueError, match=r"\(ConvLSTM1D\) needs known time, steps and 2 channels; received input "
                                         r"shape \(2, 3, 6, 5\)"):
        layer(tl.ones((2, 3, 6, 5)))
    with pytest.raises(ValueError, match=r"ConvLSTM3D\) expects 2 initial states \[h, c\], but received 1"):
        layers.ConvLSTM3D(2, 3, padding="same")(tl.ones((1, 2, 3, 3, 3, 1)), initial_state=[tl.zeros((1, 3, 3, 3, 2))])
    with pytest.raises(ValueError, match=r"ConvLSTM3D: `filters` must be a positive integer; received 0"):
        layers.ConvLSTM3D(0, 3)
    with pytest.raises(ValueError, match=r"ConvLSTM1D: The `kernel_size` argument must be a tuple of 1 ints; "
                                         r"received \(3, 3\)"):
        layers.ConvLSTM1D(2, (3, 3))
    with pytest.raises(ValueError, match=r"ConvLSTM3D: The `padding` argument must be one of"):
        layers.ConvLSTM3D(2, 3, padding="causal")


def test_nd_models_train_save_and_load(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 32).astype(np.int32)  # a pulse moving right (1) or left (0)
    signals = 0.1 * rng.standard_normal((32, 4, 10, 1)).astype(np.float32)
    for i, start in enumerate(rng.integers(3, 5, 32)):
        for t in range(4):
            p = start + (t if labels[i] else -t)
            signals[i, t, p:p + 2, 0] += 1.0
    model = keras.Sequential([keras.Input((4, 10, 1)),
                              layers.ConvLSTM1D(8, 3, padding="same", return_sequences=True),
                              layers.ConvLSTM1D(8, 3, padding="same"),
                              layers.GlobalMaxPooling1D(),
                              layers.Dense(2)])
    model.compile(keras.optimizers.Adam(2e-2), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(signals, labels, epochs=10, batch_size=8, verbose=0)
    assert hist.history["loss"][-1] < 0.5 * hist.history["loss"][0]
    volumes = rng.standard_normal((8, 3, 4, 4, 4, 1)).astype(np.float32)
    vol_model = keras.Sequential([keras.Input((3, 4, 4, 4, 1)), layers.ConvLSTM3D(2, 2, padding="same"),
                                  layers.GlobalAveragePooling3D(), layers.Dense(1)])
    vol_model.compile(keras.optimizers.Adam(1e-2), "mse")
    target = volumes.mean(axis=(1, 2, 3, 4))
    vol_hist = vol_model.fit(volumes, target, epochs=8, batch_size=4, verbose=0)
    assert vol_hist.history["loss"][-1] < vol_hist.history["loss"][0]
    for m, x in ((model, signals), (vol_model, volumes)):
        path = str(tmp_path / f"{m.name}.keras")
        m.save(path)
        back = keras.models.load_model(path)
        np.testing.assert_allclose(back.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
