"""Sequential and Functional construction, shape inference, nesting, sharing,
summary, get_layer, configs/JSON and weight files."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers


def test_sequential_constructors_agree(rng):
    x = rng.standard_normal((3, 5)).astype("float32")
    a = keras.Sequential([layers.Dense(4, input_shape=(5,)), layers.Dense(2)])
    b = keras.Sequential([keras.Input((5,)), layers.Dense(4), layers.Dense(2)])
    c = keras.Sequential()
    c.add(layers.Dense(4, input_dim=5))
    c.add(layers.Dense(2))
    for m in (a, b, c):
        assert m.built and m.output_shape == (None, 2) and m.input_shape == (None, 5)
        assert len(m.layers) == 2
    b.set_weights(a.get_weights())
    np.testing.assert_allclose(a.predict(x, verbose=0), b.predict(x, verbose=0), rtol=1e-6)


def test_sequential_built_lazily_from_data_and_add_pop(rng):
    m = keras.Sequential([layers.Dense(4), layers.Dense(3)])
    assert not m.built
    with pytest.raises(ValueError, match="isn't built"):
        m.count_params()
    out = m(rng.standard_normal((2, 6)).astype("float32"))
    assert tuple(out.shape) == (2, 3) and m.built
    assert m.count_params() == 6 * 4 + 4 + 4 * 3 + 3
    assert m.output_shape == (None, 3)
    m.add(layers.Dense(1))
    assert m.output_shape == (None, 1)
    popped = m.pop()
    assert popped.name == "dense_2" and m.output_shape == (None, 3)


def test_sequential_rejects_non_layers_and_duplicate_layers():
    m = keras.Sequential()
    with pytest.raises(TypeError, match="Layer instances"):
        m.add("dense")
    d = layers.Dense(2)
    m.add(d)
    with pytest.raises(ValueError, match="already in the model"):
        m.add(d)


def test_functional_multi_io_shared_layers_and_shapes_without_data():
    a = keras.Input((6,), name="a")
    b = keras.Input((6,), name="b")
    shared = layers.Dense(3, name="shared")
    sa, sb = shared(a), shared(b)
    assert tuple(sa.shape) == (None, 3)
    diff = layers.subtract([sa, sb])
    out1 = layers.Dense(1, name="o1")(diff)
    out2 = layers.Dense(2, name="o2")(layers.concatenate([sa, sb]))
    m = keras.Model([a, b], [out1, out2])
    assert m.output_shape == [(None, 1), (None, 2)]
    assert m.output_names == ["o1", "o2"]
    assert len(shared.inbound_nodes) == 2
    assert m.count_params() == (6 * 3 + 3) + (3 + 1) + (6 * 2 + 2)


def test_functional_matches_manual_computation(rng):
    inp = keras.Input((4,))
    h = layers.Dense(5, activation="relu")(inp)
    out = layers.Dense(2)(h)
    m = keras.Model(inp, out)
    x = rng.standard_normal((7, 4)).astype("float32")
    w1, b1, w2, b2 = m.get_weights()
    ref = np.maximum(x @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_allclose(m.predict(x, verbose=0), ref, rtol=1e-5, atol=1e-6)


def test_dict_inputs_and_outputs(rng):
    a = keras.Input((2,), name="left")
    b = keras.Input((3,), name="right")
    out = layers.Dense(1)(layers.concatenate([a, b]))
    m = keras.Model({"left": a, "right": b}, {"score": out})
    res = m({"right": rng.standard_normal((4, 3)), "left": rng.standard_normal((4, 2))})
    assert set(res) == {"score"} and tuple(res["score"].shape) == (4, 1)
    with pytest.raises(ValueError, match="missing input 'right'"):
        m({"left": np.zeros((1, 2))})


def test_nested_models(rng):
    encoder = keras.Sequential([layers.Dense(4, input_shape=(8,), activation="relu")], name="encoder")
    inp = keras.Input((8,))
    code = encoder(inp)
    head = keras.Model(inp, layers.Dense(2)(code))
    outer_in = keras.Input((8,))
    outer = keras.Model(outer_in, layers.Dense(1)(head(outer_in)))
    x = rng.standard_normal((3, 8)).astype("float32")
    assert outer.predict(x, verbose=0).shape == (3, 1)
    assert len(outer.trainable_weights) == 6
    encoder.trainable = False
    assert len(outer.trainable_weights) == 4


def test_graph_disconnected_error_names_the_input():
    a = keras.Input((3,), name="used")
    b = keras.Input((3,), name="forgotten")
    out = layers.add([layers.Dense(2)(a), layers.Dense(2)(b)])
    with pytest.raises(ValueError, match="Graph disconnected.*forgotten"):
        keras.Model(a, out)


def test_wrong_input_shape_to_functional_model_is_reported():
    inp = keras.Input((4,))
    m = keras.Model(inp, layers.Dense(2)(inp))
    with pytest.raises(ValueError, match=r"expected shape=\(None, 4\), found shape=\(2, 5\)"):
        m(np.zeros((2, 5), "float32"))


def test_layer_wrong_rank_error_names_layer_and_shapes():
    m = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match=r'"conv2d".*ndim=4.*ndim=3'):
        m(np.zeros((2, 8, 8), "float32"))


def test_summary_lists_shapes_and_param_counts():
    m = keras.Sequential([layers.Dense(256, input_dim=800, activation="relu"), layers.Dense(10, activation="softmax")])
    lines = []
    m.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "sequential"' in text
    assert "dense (Dense)" in text and "(None, 256)" in text and "205056" in text.replace(",", "")
    assert "dense_1 (Dense)" in text and "(None, 10)" in text and "2570" in text
    assert "Total params: 207,626" in text
    assert "Trainable params: 207,626" in text and "Non-trainable params: 0" in text


def test_summary_of_functional_model_shows_connections():
    a = keras.Input((3,), name="a")
    b = keras.Input((3,), name="b")
    m = keras.Model([a, b], layers.add([a, b], name="sum"))
    lines = []
    m.summary(print_fn=lines.append)
    row = next(ln for ln in lines if ln.startswith("sum (Add)"))
    assert "a[0][0]" in row
    assert any("b[0][0]" in ln for ln in lines)


def test_get_layer_by_name_and_index():
    m = keras.Sequential([layers.Dense(2, input_shape=(3,), name="first"), layers.Dense(1, name="second")])
    assert m.get_layer("second") is m.layers[1]
    assert m.get_layer(index=0).name == "first"
    with pytest.raises(ValueError, match=r"No such layer: third.*\['first', 'second'\]"):
        m.get_layer("third")


def test_sequential_config_round_trip(rng):
    m = keras.Sequential([layers.Dense(4, input_shape=(3,), activation="relu", kernel_initializer="he_normal"),
                          layers.Dropout(0.2), layers.Dense(1)], name="seq")
    clone = keras.Sequential.from_config(m.get_config())
    assert clone.name == "seq" and [type(x).__name__ for x in clone.layers] == ["Dense", "Dropout", "Dense"]
    assert clone.layers[0].get_config()["kernel_initializer"]["class_name"] == "HeNormal"
    clone.set_weights(m.get_weights())
    x = rng.standard_normal((2, 3)).astype("float32")
    np.testing.assert_allclose(clone.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)


def test_functional_json_round_trip_with_shared_layer(rng):
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    shared = layers.Dense(3)
    out = layers.concatenate([shared(a), shared(b)])
    m = keras.Model([a, b], layers.Dense(1)(out))
    clone = keras.models.model_from_json(m.to_json())
    assert len(clone.layers) == len(m.layers)
    clone.set_weights(m.get_weights())
    x = [rng.standard_normal((2, 4)).astype("float32") for _ in range(2)]
    np.testing.assert_allclose(clone.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)
    cm = keras.models.clone_model(m)
    assert len(cm.weights) == len(m.weights)


def test_save_and_load_weights_and_model(tmp_path, rng):
    m = keras.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(1)])
    m.compile("adam", "mse", metrics=["mae"])
    x = rng.standard_normal((4, 2)).astype("float32")
    path = tmp_path / "m.weights.h5"
    m.save_weights(path)
    other = keras.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(1)])
    other.load_weights(path)
    np.testing.assert_allclose(other.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)
    wrong = keras.Sequential([layers.Dense(4, input_shape=(2,)), layers.Dense(1)])
    with pytest.raises(ValueError, match=r"shape \(2, 4\).*shape \(2, 3\)"):
        wrong.load_weights(path)
    m.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)
    assert loaded.compiled and loaded.metrics_names[0] == "loss"


def test_subclassed_model_build_and_summary():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.a = layers.Dense(4)
            self.b = layers.Dense(2)

        def call(self, x):
            return self.b(self.a(x))

    n = Net()
    n.build((None, 3))
    assert n.built and n.count_params() == 3 * 4 + 4 + 4 * 2 + 2
    lines = []
    n.summary(print_fn=lines.append)
    assert any("dense (Dense)" in ln for ln in lines)


    class Plain(keras.Model):
        pass

    inp = keras.Input((3,))
    built = Plain(inputs=inp, outputs=layers.Dense(2)(inp))  # becomes Functional, as in Keras
    assert built.predict(np.ones((4, 3), np.float32), verbose=0).shape == (4, 2)


def test_tensorlab_ops_on_functional_tensors_are_replayed(rng):
    import tensorlab as tl
    inp = keras.Input((4,))
    h = layers.Dense(4)(inp)
    out = layers.Dense(1)(tl.nn.relu(h + inp) * 2.0)   # a residual connection written with operators
    m = keras.Model(inp, out)
    assert any(type(layer).__name__ == "OpLayer" for layer in m.layers)
    x = rng.standard_normal((3, 4)).astype("float32")
    w1, b1, w2, b2 = m.get_weights()
    ref = (np.maximum(x @ w1 + b1 + x, 0) * 2.0) @ w2 + b2
    np.testing.assert_allclose(m.predict(x, verbose=0), ref, rtol=1e-5, atol=1e-6)
    m.compile("sgd", "mse")
    assert np.isfinite(m.train_on_batch(x, np.ones((3, 1))))
    with pytest.raises(NotImplementedError, match="Lambda"):
        m.get_config()


def _np_gather_bd1(p, i, axis):
    # tf.gather(p, i, batch_dims=1, axis=axis), one batch entry at a time: the plain definition
    return np.stack([np.take(p[b], i[b], axis=axis - 1) for b in range(p.shape[0])])


def _np_gather_nd_bd1(p, i):
    return np.stack([p[b][tuple(np.moveaxis(i[b], -1, 0))] for b in range(p.shape[0])])


# (name, input shapes and dtypes, the tensorlab op, a float64 numpy reference)
_SYMBOLIC_OPS = [
    ("sort", [((5,), "float32")], lambda x: tl.sort(x), lambda x: np.sort(x, axis=-1)),
    ("sort[descending,axis=1]", [((4, 6), "float32")], lambda x: tl.sort(x, axis=1, direction="DESCENDING"),
     lambda x: -np.sort(-x, axis=1)),
    ("top_k", [((6,), "float32")], lambda x: list(tl.math.top_k(x, k=3)),
     lambda x: [-np.sort(-x, axis=-1)[:, :3], np.argsort(-x, axis=-1, kind="stable")[:, :3]]),
    ("gather[batch_dims=1]", [((4, 6), "float32"), ((3,), "int32")],
     lambda p, i: tl.gather(p, i, batch_dims=1), lambda p, i: _np_gather_bd1(p, i, 1)),
    ("gather[batch_dims=1,axis=2]", [((4, 6), "float32"), ((3, 2), "int32")],
     lambda p, i: tl.gather(p, i, batch_dims=1, axis=2), lambda p, i: _np_gather_bd1(p, i, 2)),
    ("gather_nd[batch_dims=1]", [((4, 6), "float32"), ((3, 2), "int32")],
     lambda p, i: tl.gather_nd(p, i, batch_dims=1), _np_gather_nd_bd1),
]


def _draw_symbolic_inputs(rng, specs, n=3):
    arrays = []
    for shape, dtype in specs:
        if dtype == "int32":  # valid indices into the params' axes (4 or 6 long: stay below 4)
            arrays.append(rng.integers(0, 4, size=(n,) + shape).astype("int32"))
        else:
            arrays.append(rng.standard_normal((n,) + shape).astype(dtype))
    return arrays


@pytest.mark.parametrize("name,specs,op,ref", _SYMBOLIC_OPS, ids=[c[0] for c in _SYMBOLIC_OPS])
def test_sorting_and_batched_gathers_on_functional_tensors(rng, name, specs, op, ref):
    from tensorlab.keras._node import KerasTensor
    inputs = [keras.Input(shape, dtype=dtype) for shape, dtype in specs]
    out = op(*inputs)
    outs = out if isinstance(out, list) else [out]
    assert all(isinstance(o, KerasTensor) and o._keras_history is not None for o in outs)
    model = keras.Model(inputs if len(inputs) > 1 else inputs[0], out)
    arrays = _draw_symbolic_inputs(rng, specs)
    got = model.predict(arrays if len(arrays) > 1 else arrays[0], verbose=0)
    got = got if isinstance(got, list) else [got]
    eager = op(*[tl.constant(a) for a in arrays])
    eager = eager if isinstance(eager, list) else [eager]
    expected = ref(*[a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays])
    expected = expected if isinstance(expected, list) else [expected]
    for g, e, r, o in zip(got, eager, expected, outs):
        assert g.shape == r.shape and tuple(o.shape) == (None,) + r.shape[1:]
        np.testing.assert_array_equal(g, e.numpy())
        np.testing.assert_allclose(g.astype(np.float64), r, rtol=1e-7)


def test_gradient_flows_through_a_sort_in_a_functional_model(rng):
    inp = keras.Input((5,))
    model = keras.Model(inp, tl.sort(inp * 3.0))
    x = tl.constant(rng.standard_normal((2, 5)))
    w = rng.uniform(0.5, 1.5, size=(2, 5))
    with tl.GradientTape() as tape:
        tape.watch(x)
        loss = tl.reduce_sum(tl.cast(model(x), tl.float64) * tl.constant(w))
    g = tape.gradient(loss, x).numpy()
    # d/dx sum(w * sort(3x)) puts 3 * w[k] on the element that lands in place k.
    order = np.argsort(x.numpy() * 3.0, axis=-1, kind="stable")
    ref = np.zeros((2, 5))
    np.put_along_axis(ref, order, 3.0 * w, axis=-1)
    np.testing.assert_allclose(g, ref, rtol=1e-6)


@keras.saving.register_keras_serializable(package="tests")
class SavedNet(keras.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.a = layers.Dense(units, activation="relu")
        self.b = layers.Dense(1)

    def call(self, x):
        return self.b(self.a(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_subclassed_model_save_and_load(tmp_path, rng):
    m = SavedNet(units=5)
    x = rng.standard_normal((4, 2)).astype("float32")
    m.compile("sgd", "mse")
    m.fit(x, np.ones((4, 1)), verbose=0)
    m.save(tmp_path / "net.keras")
    loaded = keras.models.load_model(tmp_path / "net.keras")
    assert isinstance(loaded, SavedNet) and loaded.units == 5
    np.testing.assert_allclose(loaded.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)


def test_functional_layers_follow_keras_order():
    # Keras 3 orders a functional model's layers (and so its weights and optimizer slots) by
    # decreasing depth from the outputs, ties in the order a walk from the outputs meets them;
    # the expected list is what Keras 3.15 gives for this graph.
    L = keras.layers
    frames, seq = keras.Input((4,), name="frames"), keras.Input((3,), name="seq")
    a = L.Dense(2, name="a")(frames)
    b = L.Dense(2, name="b")(L.Dense(2, name="b0")(L.Dense(3, name="b1")(seq)))
    out = L.Dense(1, name="out")(L.Concatenate(name="cat")([a, b]))
    model = keras.Model([frames, seq], out)
    assert [l.name for l in model.layers] == ["seq", "b1", "frames", "b0", "a", "b", "cat", "out"]
    assert [v.name for v in model.trainable_variables][:2] == ["b1/kernel:0", "b1/bias:0"]


def test_model_subclass_built_from_inputs_and_outputs_is_functional(rng):
    # Keras' "customizing fit" pattern: a Model subclass that overrides train_step and is built
    # with super().__init__(inputs, outputs) becomes a Functional model.
    class CustomModel(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.steps_seen = 0

        def train_step(self, data):
            x, y = data
            with tl.GradientTape() as tape:
                loss = keras.losses.mean_squared_error(y, self(x, training=True))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.loss_tracker.update_state(loss)
            self.steps_seen += 1
            return {"loss": self.loss_tracker.result()}

        @property
        def metrics(self):
            return [self.loss_tracker]

    class Deeper(CustomModel):
        pass

    inputs = keras.Input((4,))
    model = Deeper(inputs, keras.layers.Dense(1)(inputs), name="custom")
    assert isinstance(model, keras.Model) and type(model).__mro__[2].__name__ == "Functional"
    assert model.name == "custom" and len(model.layers) == 2
    model.compile(optimizer=keras.optimizers.SGD(0.01))  # the loss is per sample: its gradient sums
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [0.0]], np.float32)
    hist = model.fit(x, y, batch_size=16, epochs=4, verbose=0)
    assert model.steps_seen == 16 and hist.history["loss"][-1] < hist.history["loss"][0] / 2
    plain = CustomModel.__new__(CustomModel)  # the class keeps working for later instances
    assert isinstance(plain, keras.Model)
