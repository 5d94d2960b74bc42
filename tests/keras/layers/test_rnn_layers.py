"""SimpleRNN, LSTM, GRU against numpy step loops; Bidirectional; TimeDistributed."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import check_grads, check_rank_error, check_roundtrip, check_symbolic, rand


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def simple_ref(x, W, U, b, h0=None, backwards=False):
    h = np.zeros((x.shape[0], U.shape[0])) if h0 is None else h0
    outs = []
    steps = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    for t in steps:
        h = np.tanh(x[:, t] @ W + h @ U + b)
        outs.append(h)
    return np.stack(outs, 1), [h]


def lstm_ref(x, W, U, b, states=None, backwards=False):
    u = U.shape[0]
    h, c = (np.zeros((x.shape[0], u)), np.zeros((x.shape[0], u))) if states is None else states
    outs = []
    steps = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    for t in steps:
        z = x[:, t] @ W + h @ U + b
        i, f, g, o = sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]), sigmoid(z[:, 3 * u:])
        c = f * c + i * g
        h = o * np.tanh(c)
        outs.append(h)
    return np.stack(outs, 1), [h, c]


def gru_ref(x, W, U, b, reset_after=True, h0=None):
    u = U.shape[0]
    h = np.zeros((x.shape[0], u)) if h0 is None else h0
    outs = []
    for t in range(x.shape[1]):
        if reset_after:
            xp = x[:, t] @ W + b[0]
            rec = h @ U + b[1]
            z = sigmoid(xp[:, :u] + rec[:, :u])
            r = sigmoid(xp[:, u:2 * u] + rec[:, u:2 * u])
            hh = np.tanh(xp[:, 2 * u:] + r * rec[:, 2 * u:])
        else:
            xp = x[:, t] @ W + b
            z = sigmoid(xp[:, :u] + h @ U[:, :u])
            r = sigmoid(xp[:, u:2 * u] + h @ U[:, u:2 * u])
            hh = np.tanh(xp[:, 2 * u:] + (r * h) @ U[:, 2 * u:])
        h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, 1), [h]


def _weights(layer):
    return [w.numpy() for w in layer.weights]


@pytest.mark.parametrize("backwards", [False, True])
def test_simple_rnn_matches_numpy(backwards, rng):
    layer = layers.SimpleRNN(4, return_sequences=True, go_backwards=backwards, bias_initializer="normal",
                             dtype="float64")
    x = rand(rng, 3, 5, 2)
    y = layer(x).numpy()
    ref, _ = simple_ref(x.numpy(), *_weights(layer), backwards=backwards)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)


def test_lstm_matches_numpy(rng):
    layer = layers.LSTM(3, return_sequences=True, return_state=True, dtype="float64")
    x = rand(rng, 2, 4, 5)
    y, h, c = layer(x)
    W, U, b = _weights(layer)
    assert W.shape == (5, 12) and U.shape == (3, 12) and b.shape == (12,)
    np.testing.assert_array_equal(b, np.r_[np.zeros(3), np.ones(3), np.zeros(6)])  # unit_forget_bias
    ref, (rh, rc) = lstm_ref(x.numpy(), W, U, b)
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.numpy(), rh, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(c.numpy(), rc, rtol=1e-10, atol=1e-12)


def test_lstm_initial_state_and_last_output(rng):
    layer = layers.LSTM(3, bias_initializer="normal", unit_forget_bias=False, dtype="float64")
    x = rand(rng, 2, 4, 5)
    h0, c0 = rand(rng, 2, 3), rand(rng, 2, 3)
    y = layer(x, initial_state=[h0, c0]).numpy()
    ref, (rh, _) = lstm_ref(x.numpy(), *_weights(layer), states=(h0.numpy(), c0.numpy()))
    np.testing.assert_allclose(y, rh, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r"lstm.*2 initial state.*1"):
        layer(x, initial_state=[h0])


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_matches_numpy(reset_after, rng):
    layer = layers.GRU(4, reset_after=reset_after, return_sequences=True, bias_initializer="normal",
                       dtype="float64")
    x = rand(rng, 3, 5, 2)
    y = layer(x).numpy()
    W, U, b = _weights(layer)
    assert b.shape == ((2, 12) if reset_after else (12,))
    ref, _ = gru_ref(x.numpy(), W, U, b, reset_after)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cls", [layers.SimpleRNN, layers.LSTM, layers.GRU])
def test_rnn_symbolic_roundtrip_grads(cls, rng):
    x = rand(rng, 2, 3, 4, dtype="float32")
    layer = cls(3, return_sequences=True)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x)
    st = cls(3, return_state=True)
    check_symbolic(st, x)
    assert st.units == 3
    cfg = layer.get_config()
    assert cfg["units"] == 3 and cfg["return_sequences"] is True and "cell" not in cfg


def test_rnn_masking_keeps_state(rng):
    ids = np.array([[3, 1, 4, 0, 0], [2, 7, 1, 8, 2]])
    emb = layers.Embedding(10, 3, mask_zero=True, dtype="float64")
    rnn = layers.SimpleRNN(4, return_sequences=True, dtype="float64")
    e = emb(tl.constant(ids))
    y = rnn(e)  # the mask travels on the embedding's output
    W, U, b = _weights(rnn)
    ref0, (h0,) = simple_ref(e.numpy()[:1, :3], W, U, b)
    seq = y.numpy()
    np.testing.assert_allclose(seq[0, :3], ref0[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(seq[0, 3:], 0.0)  # zero outputs at masked steps with return_sequences
    last = layers.SimpleRNN(4, dtype="float64")
    last(e)
    last.set_weights(rnn.get_weights())
    np.testing.assert_allclose(last(e, mask=tl.constant(ids != 0)).numpy()[0], h0[0], rtol=1e-10)


def test_rnn_dropout_only_in_training(rng):
    layer = layers.LSTM(4, dropout=0.5, recurrent_dropout=0.5)
    x = rand(rng, 3, 5, 2, dtype="float32")
    a, b = layer(x).numpy(), layer(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(layer(x, training=True).numpy(), a)


def test_error_rnn_rank(rng):
    check_rank_error(layers.LSTM(3), rand(rng, 2, 4, dtype="float32"), "expected ndim=3")
    layer = layers.GRU(3)
    layer(rand(rng, 2, 4, 5, dtype="float32"))
    with pytest.raises(ValueError, match=r"gru.*5.*\(2, 4, 6\)"):
        layer(rand(rng, 2, 4, 6, dtype="float32"))


def test_stateful_rnn_carries_state(rng):
    layer = layers.SimpleRNN(3, stateful=True, dtype="float64")
    x = rand(rng, 2, 6, 2)
    first, second = tl.constant(x.numpy()[:, :3]), tl.constant(x.numpy()[:, 3:])
    layer(first)
    full = layers.SimpleRNN(3, dtype="float64")
    full(x)
    full.set_weights(layer.get_weights())
    layer.reset_states()
    layer(first)
    y = layer(second).numpy()
    np.testing.assert_allclose(y, full(x).numpy(), rtol=1e-10)
    layer.reset_states()
    assert not np.allclose(layer(second).numpy(), y)


@pytest.mark.parametrize("mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_matches_numpy(mode, rng):
    layer = layers.Bidirectional(layers.SimpleRNN(3, return_sequences=True, bias_initializer="normal",
                                                  dtype="float64"), merge_mode=mode, dtype="float64")
    x = rand(rng, 2, 4, 2)
    y = layer(x)
    fw = simple_ref(x.numpy(), *_weights(layer.forward_layer))[0]
    bw = simple_ref(x.numpy(), *_weights(layer.backward_layer), backwards=True)[0][:, ::-1]
    want = {"concat": np.concatenate([fw, bw], -1), "sum": fw + bw, "mul": fw * bw, "ave": (fw + bw) / 2,
            None: [fw, bw]}[mode]
    if mode is None:
        for a, b in zip(y, want):
            np.testing.assert_allclose(a.numpy(), b, rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-12)
    check_symbolic(layer, x)


def test_bidirectional_states_roundtrip_grads(rng):
    layer = layers.Bidirectional(layers.LSTM(3, return_state=True))
    x = rand(rng, 2, 4, 2, dtype="float32")
    out = layer(x)
    assert len(out) == 5 and tuple(out[0].shape) == (2, 6)
    check_symbolic(layer, x)
    bi = layers.Bidirectional(layers.GRU(3))
    check_roundtrip(bi, x)
    check_grads(bi, x)
    assert len(bi.trainable_weights) == 6
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.GRU(3), merge_mode="max")
    with pytest.raises(ValueError, match="recurrent"):
        layers.Bidirectional(layers.Dense(3))


def test_time_distributed(rng):
    dense = layers.Dense(4, bias_initializer="normal", dtype="float64")
    layer = layers.TimeDistributed(dense, dtype="float64")
    x = rand(rng, 2, 5, 3)
    y = layer(x).numpy()
    np.testing.assert_allclose(y, x.numpy() @ dense.kernel.numpy() + dense.bias.numpy(), rtol=1e-10)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x)
    conv = layers.TimeDistributed(layers.Conv2D(2, 3))
    assert tuple(conv(rand(rng, 2, 3, 5, 5, 1, dtype="float32")).shape) == (2, 3, 3, 3, 2)
    assert tuple(conv(keras.Input((3, 5, 5, 1))).shape) == (None, 3, 3, 3, 2)
    check_rank_error(layers.TimeDistributed(layers.Dense(2)), rand(rng, 2, 3, dtype="float32"), "min_ndim=3")


def test_masking_layer_feeds_rnn(rng):
    x = rng.standard_normal((2, 5, 3))
    x[0, 3:] = 0.0  # padding at the end of the first sequence
    masked = layers.Masking(0.0, dtype="float64")(tl.constant(x))
    np.testing.assert_array_equal(masked._keras_mask.numpy(), np.any(x != 0, axis=-1))
    rnn = layers.SimpleRNN(4, dtype="float64")
    y = rnn(masked).numpy()
    _, (h,) = simple_ref(x[:1, :3], *_weights(rnn))
    np.testing.assert_allclose(y[0], h[0], rtol=1e-10)


@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU])
def test_fused_steps_match_the_composite_steps(rng, cls):
    """The default LSTM and GRU run ops.rnn's fused cells per step; the same activations given
    as other callables take the composite path: outputs, states and weight gradients agree."""
    x = rand(rng, 3, 6, 4)
    kw = dict(return_sequences=True, return_state=True, dtype="float64", bias_initializer="normal")
    fused = cls(5, **kw)
    composite = cls(5, activation=lambda v: tl.tanh(v), recurrent_activation=lambda v: tl.sigmoid(v), **kw)
    fused(x)
    composite(x)
    composite.set_weights(fused.get_weights())
    r = rng.standard_normal((3, 6, 5))
    results = []
    for layer in (fused, composite):
        with tl.GradientTape() as tape:
            seq, *states = layer(x)
            loss = tl.reduce_sum(seq * r) + tl.add_n([tl.reduce_sum(s * s) for s in states])
        results.append([seq.numpy()] + [s.numpy() for s in states] +
                       [g.numpy() for g in tape.gradient(loss, layer.weights)])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_stacked_cells_are_stacked_layers(rng):
    """RNN([LSTMCell, GRUCell]) gives what an LSTM layer (all steps) followed by a GRU layer
    gives with the same weights; states in cell order; config round trip; gradients."""
    x = rand(rng, 3, 5, 4)
    stacked = layers.RNN([layers.LSTMCell(6, dtype="float64"), layers.GRUCell(3, dtype="float64")],
                         return_sequences=True, return_state=True,
                         dtype="float64")
    seq, h1, c1, h2 = stacked(x)
    lstm = layers.LSTM(6, return_sequences=True, return_state=True, dtype="float64")
    gru = layers.GRU(3, return_sequences=True, return_state=True, dtype="float64")
    mid, rh1, rc1 = lstm(x)
    ref, rh2 = gru(mid)
    w = stacked.get_weights()
    lstm.set_weights(w[:3])
    gru.set_weights(w[3:])
    mid, rh1, rc1 = lstm(x)
    ref, rh2 = gru(mid)
    for a, b in ((seq, ref), (h1, rh1), (c1, rc1), (h2, rh2)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)
    assert isinstance(stacked.cell, layers.StackedRNNCells) and stacked.cell.state_size == [6, 6, 3]
    clone = layers.deserialize(layers.serialize(stacked))
    clone(x)
    clone.set_weights(w)
    np.testing.assert_allclose(clone(x)[0].numpy(), seq.numpy(), rtol=1e-10)
    check_grads(stacked, x)
    with pytest.raises(ValueError, match="StackedRNNCells: every cell needs a `state_size`"):
        layers.RNN([layers.LSTMCell(2), layers.Dense(2)])


def test_wrapper_base_class_for_user_wrappers(rng):
    """A user's keras.layers.Wrapper subclass: the wrapped layer is built, tracked, configured and
    rebuilt from its config; TimeDistributed is one."""
    class Twice(layers.Wrapper):
        def call(self, x):
            return 2.0 * self.layer(x)

    x = rand(rng, 2, 3)
    w = Twice(layers.Dense(4))
    y = w(x)
    assert w.layer.built and len(w.trainable_weights) == 2
    np.testing.assert_allclose(y.numpy(), 2.0 * w.layer(x).numpy(), rtol=1e-6)
    clone = Twice.from_config(w.get_config())
    assert isinstance(clone.layer, layers.Dense) and clone.layer.units == 4
    assert isinstance(layers.TimeDistributed(layers.Dense(2)), layers.Wrapper)
    with pytest.raises(ValueError, match="Twice: `layer` must be a Layer instance"):
        Twice("dense")


def test_bidirectional_is_a_wrapper_with_keras_config(rng, tmp_path):
    """Bidirectional is a keras.layers.Wrapper whose `layer` is the forward layer; its config is
    Keras' ("layer", "merge_mode", and "backward_layer" only when one was given); the weights keep
    their order and their .keras paths (forward_layer/cell, backward_layer/cell)."""
    from tensorlab.keras.saving.h5_weights import variable_paths

    fw = layers.LSTM(3, return_sequences=True, dtype="float64")
    bi = layers.Bidirectional(fw, merge_mode="sum", dtype="float64")
    assert isinstance(bi, layers.Wrapper) and bi.layer is fw and bi.forward_layer is fw
    assert bi.backward_layer.go_backwards and bi.backward_layer.name == "backward_" + fw.name
    x = rand(rng, 2, 4, 5)
    y = bi(x)
    assert bi.weights == fw.weights + bi.backward_layer.weights and len(bi.weights) == 6
    cfg = bi.get_config()
    assert set(cfg) == {"name", "trainable", "dtype", "layer", "merge_mode"}
    assert cfg["layer"]["class_name"] == "LSTM" and cfg["merge_mode"] == "sum"
    clone = check_roundtrip(bi, x)
    assert clone.layer.return_sequences and not clone.layer.go_backwards and clone.backward_layer.go_backwards
    # weights copied in order reproduce the reference: forward then (reversed) backward
    fw_ref = lstm_ref(x.numpy(), *_weights(bi.forward_layer))[0]
    bw_ref = lstm_ref(x.numpy(), *_weights(bi.backward_layer), backwards=True)[0][:, ::-1]
    np.testing.assert_allclose(y.numpy(), fw_ref + bw_ref, rtol=1e-10, atol=1e-12)
    # an explicit backward layer is kept in the config and rebuilt from it
    given = layers.Bidirectional(layers.LSTM(3, return_state=True),
                                 backward_layer=layers.GRU(2, return_state=True, go_backwards=True))
    out = given(rand(rng, 2, 4, 5, dtype="float32"))
    assert [tuple(o.shape) for o in out] == [(2, 5), (2, 3), (2, 3), (2, 2)]
    cfg = given.get_config()
    assert cfg["backward_layer"]["class_name"] == "GRU" and cfg["backward_layer"]["config"]["units"] == 2
    rebuilt = layers.deserialize(layers.serialize(given))
    assert isinstance(rebuilt.backward_layer, layers.GRU) and rebuilt.backward_layer.units == 2
    # a model with it saves and loads; the weights sit where Keras 3 puts them
    model = keras.Sequential([keras.Input((4, 5)), layers.Bidirectional(layers.GRU(3)), layers.Dense(2)])
    paths = [p for p, _ in variable_paths(model)]
    assert paths[:2] == ["layers/bidirectional/backward_layer/cell", "layers/bidirectional/forward_layer/cell"]
    data = rng.standard_normal((3, 4, 5)).astype("float32")
    model.save(str(tmp_path / "bi.keras"))
    back = keras.models.load_model(str(tmp_path / "bi.keras"))
    assert isinstance(back.layers[0], layers.Wrapper)
    np.testing.assert_allclose(back.predict(data, verbose=0), model.predict(data, verbose=0), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="Bidirectional: forward and backward layers must agree"):
        layers.Bidirectional(layers.LSTM(3, return_sequences=True), backward_layer=layers.LSTM(3, go_backwards=True))
