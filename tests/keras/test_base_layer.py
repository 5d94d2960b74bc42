"""The Layer base class: build/call, weights and tracking, freezing, training flag,
losses, config round trips, input specs and their errors."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras


class Linear(keras.layers.Layer):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, x):
        return tl.matmul(x, self.w) + self.b


class Block(keras.layers.Layer):
    """Sub-layers in a list and a dict, a raw variable, a non-trainable weight."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.stack = [Linear(4), Linear(4)]
        self.heads = {"a": Linear(2)}
        self.scale = tl.Variable(2.0)
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")

    def call(self, x, training=None):
        for layer in self.stack:
            x = layer(x)
        if training:
            self.count.assign_add(1.0)
        return self.heads["a"](x) * self.scale


def test_build_on_first_call_and_weights(rng):
    layer = Linear(3)
    assert not layer.built
    x = rng.standard_normal((5, 7)).astype("float32")
    y = layer(x)
    assert layer.built and tuple(y.shape) == (5, 3)
    w, b = layer.get_weights()
    np.testing.assert_allclose(y.numpy(), x @ w + b, rtol=1e-5, atol=1e-6)
    assert [v.name for v in layer.weights] == ["linear/w:0", "linear/b:0"]
    assert layer.count_params() == 7 * 3 + 3


def test_auto_names_are_unique_snake_case():
    assert Linear().name == "linear"
    assert Linear().name == "linear_1"
    assert keras.layers.Layer().name == "layer"
    assert Block(name="custom").name == "custom"
    # Keras' rule for acronyms and digits: the default names match Keras' (and its saved files)
    from tensorlab.keras.backend import to_snake_case
    assert [to_snake_case(n) for n in ("ConvLSTM2D", "Conv2DTranspose", "GRUCell", "MultiHeadAttention")] == \
        ["conv_lstm2d", "conv2d_transpose", "gru_cell", "multi_head_attention"]


def test_tracking_of_sublayers_in_lists_dicts_and_raw_variables(rng):
    blk = Block()
    blk(rng.standard_normal((2, 3)).astype("float32"))
    assert len(blk.weights) == 1 + 1 + 2 * 3  # count, scale, three Linear(w, b)
    assert len(blk.trainable_weights) == 7
    assert [v.name for v in blk.non_trainable_weights] == ["block/count:0"]
    assert len(blk._flatten_layers(include_self=False)) == 3


def test_trainable_false_freezes_recursively(rng):
    blk = Block()
    blk(rng.standard_normal((2, 3)).astype("float32"))
    blk.trainable = False
    assert blk.trainable_weights == []
    assert len(blk.non_trainable_weights) == 8
    assert not blk.stack[0].trainable
    blk.stack[0].trainable = True
    blk.trainable = True
    assert len(blk.trainable_weights) == 7


def test_frozen_layer_is_not_updated_by_fit(rng):
    model = keras.Sequential([keras.layers.Dense(4, input_shape=(3,)), keras.layers.Dense(1)])
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(rng.standard_normal((16, 3)), rng.standard_normal((16, 1)), verbose=0)
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert len(model.trainable_weights) == 2


def test_training_flag_propagates_to_nested_calls(rng):
    blk = Block()
    x = rng.standard_normal((2, 3)).astype("float32")
    blk(x)
    blk(x, training=True)
    assert float(blk.count) == 1.0
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class Outer(keras.Model):
        def __init__(self):
            super().__init__()
            self.p = Probe()

        def call(self, x):
            return self.p(x)

    m = Outer()
    m(x, training=True)
    m(x, training=False)
    m(x)
    assert seen == [True, False, None]


def test_unknown_constructor_kwarg_names_layer_and_kwarg():
    with pytest.raises(TypeError, match=r"Linear.*unrecognized keyword.*'unitz'"):
        Linear(unitz=3)


def test_input_spec_errors_name_layer_expected_and_received():
    class NeedsRank2(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.input_spec = keras.InputSpec(ndim=2, axes={-1: 4})

    layer = NeedsRank2()
    with pytest.raises(ValueError, match=r'layer "needs_rank2".*expected ndim=2, found ndim=3.*\(2, 3, 4\)'):
        layer(tl.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 4.*\(2, 5\)"):
        layer(tl.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"expected axis -1"):
        layer(keras.Input((7,)))


def test_add_loss_and_regularizer_losses(rng):
    class Act(keras.layers.Layer):
        def call(self, x):
            self.add_loss(tl.reduce_sum(x))
            return x

    class Net(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.act = Act()
            self.k = self.add_weight(shape=(2,), initializer="ones", regularizer=keras.regularizers.L1(0.5))

        def call(self, x):
            return self.act(x * self.k)

    net = Net()
    net(tl.ones((1, 2)))
    vals = sorted(float(v) for v in net.losses)
    assert vals == [1.0, 2.0]   # L1: 0.5 * (1 + 1); add_loss: sum of the output
    net(tl.ones((1, 2)))
    assert len(net.losses) == 2  # per-call losses are replaced, not accumulated


def test_activity_regularizer(rng):
    layer = keras.layers.Dense(2, activity_regularizer="l2", kernel_initializer="ones")
    x = rng.standard_normal((4, 3)).astype("float32")
    y = layer(x).numpy()
    (loss,) = layer.losses
    assert float(loss) == pytest.approx(0.01 * np.sum(y ** 2) / 4, rel=1e-5)


def test_set_weights_checks_shapes_and_count(rng):
    layer = Linear(3)
    layer(tl.zeros((1, 2)))
    with pytest.raises(ValueError, match=r"expected a list of 2 arrays"):
        layer.set_weights([np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*shape \(3, 3\)"):
        layer.set_weights([np.zeros((3, 3)), np.zeros(3)])
    new = [rng.standard_normal((2, 3)).astype("float32"), rng.standard_normal(3).astype("float32")]
    layer.set_weights(new)
    for a, b in zip(layer.get_weights(), new):
        np.testing.assert_array_equal(a, b)


def test_count_params_before_build_is_an_error():
    with pytest.raises(ValueError, match="isn't built"):
        Linear().count_params()


def test_config_round_trip_of_custom_layer_without_get_config():
    layer = Linear(units=5, name="lin", trainable=False)
    cfg = layer.get_config()
    assert cfg["units"] == 5 and cfg["name"] == "lin" and cfg["trainable"] is False
    clone = Linear.from_config(cfg)
    assert clone.units == 5 and clone.name == "lin" and not clone.trainable


def test_compute_output_shape_runs_call_symbolically():
    layer = Linear(6)
    assert layer.compute_output_shape((None, 4)) == (None, 6)
    assert layer.built


def test_symbolic_call_records_history_and_layer_io():
    inp = keras.Input((4,), name="x")
    layer = Linear(2)
    out = layer(inp)
    assert isinstance(out, keras.KerasTensor)
    assert tuple(out.shape) == (None, 2)
    assert out._keras_history[0] is layer
    assert layer.input is inp and layer.output is out
    assert layer.input_shape == (None, 4) and layer.output_shape == (None, 2)


def test_add_weight_with_constraint_is_applied_by_optimizer():
    layer = keras.layers.Dense(3, kernel_constraint=keras.constraints.NonNeg())
    model = keras.Sequential([keras.Input((2,)), layer])
    model.compile(keras.optimizers.SGD(1.0), "mse")
    model.fit(np.ones((4, 2)), -10 * np.ones((4, 3)), verbose=0)
    assert np.all(layer.kernel.numpy() >= 0)


def test_dtype_policy_and_autocast(rng):
    layer = Linear(2, dtype="float64")
    y = layer(rng.standard_normal((3, 2)).astype("float32"))
    assert y.dtype == tl.float64 and layer.dtype == "float64"
    with pytest.raises(ValueError, match="'floaty' to a dtype policy; valid: .*mixed_float16"):
        Linear(dtype="floaty")
