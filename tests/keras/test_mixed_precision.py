"""Mixed precision: dtype policies, autocast of weights, float32 normalization, losses and
metrics, and the loss-scale optimizer (keras.mixed_precision)."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers, mixed_precision


@pytest.fixture(autouse=True)
def _reset_policy():
    yield
    mixed_precision.set_global_policy(None)


def _f16(a):
    """``a`` rounded to float16 and back to float64 (what a float16 computation sees)."""
    return np.asarray(a, np.float16).astype(np.float64)


# ---------------------------------------------------------------------------- policies

def test_policies_name_their_dtypes():
    p = mixed_precision.Policy("mixed_float16")
    assert (p.name, p.compute_dtype, p.variable_dtype) == ("mixed_float16", "float16", "float32")
    p = keras.DTypePolicy("mixed_bfloat16")
    assert (p.compute_dtype, p.variable_dtype) == ("bfloat16", "float32")
    p = keras.DTypePolicy("float64")
    assert (p.compute_dtype, p.variable_dtype) == ("float64", "float64")
    assert keras.DTypePolicy("float16") == keras.dtype_policies.get("float16")
    assert keras.dtype_policies.get(tl.float16).name == "float16"
    assert keras.dtype_policies.get(keras.dtype_policies.serialize(p)) == p
    assert keras.dtype_policies.get({"name": "mixed_float16"}).compute_dtype == "float16"
    with pytest.raises(ValueError, match="'float8' to a dtype policy; valid: .*'mixed_float16'"):
        keras.DTypePolicy("float8")
    with pytest.raises(TypeError, match="must be a string"):
        keras.DTypePolicy(16)


def test_global_policy_follows_floatx_until_set():
    assert mixed_precision.global_policy().name == "float32"
    keras.backend.set_floatx("float64")
    try:
        assert mixed_precision.global_policy().name == "float64"
        assert layers.Dense(2).dtype == "float64"
    finally:
        keras.backend.set_floatx("float32")
    mixed_precision.set_global_policy("mixed_float16")
    d = layers.Dense(2)
    assert d.dtype_policy.name == "mixed_float16" and d.dtype == "float32" and d.compute_dtype == "float16"
    assert layers.Dense(2, dtype="float32").compute_dtype == "float32"
    with pytest.raises(ValueError, match="floating dtype, got 'int32'"):
        mixed_precision.set_global_policy("int32")
    mixed_precision.set_global_policy(None)
    assert layers.Dense(2).compute_dtype == "float32"


def test_keras3_config_functions():
    assert keras.config.backend() == "tensorlab"
    keras.config.set_dtype_policy("mixed_bfloat16")
    assert keras.config.dtype_policy() == keras.DTypePolicy("mixed_bfloat16")
    assert layers.Dense(2).compute_dtype == "bfloat16"
    keras.config.set_floatx("float64")
    try:
        assert keras.backend.floatx() == "float64" and keras.config.floatx() == "float64"
        assert keras.config.dtype_policy().name == "mixed_bfloat16"  # a set policy wins over floatx
    finally:
        keras.config.set_floatx("float32")
    with pytest.raises(ValueError, match="set_image_data_format"):
        keras.config.set_image_data_format("nhwc")


# ---------------------------------------------------------------------------- layers

def test_mixed_dense_computes_in_float16_and_differentiates_into_float32_weights(rng):
    d = layers.Dense(5, activation="relu", dtype="mixed_float16")
    x = rng.standard_normal((7, 6)).astype(np.float32)
    up = rng.standard_normal((7, 5)).astype(np.float32)
    with tl.GradientTape() as tape:
        y = d(x)
        loss = tl.reduce_sum(tl.cast(y, "float32") * up)
    assert y.dtype == tl.float16
    assert d.kernel.dtype == tl.float32 and d.bias.dtype == tl.float32
    w, b = d.kernel.numpy(), d.bias.numpy()
    ref = np.maximum(_f16(x) @ _f16(w) + _f16(b), 0)
    np.testing.assert_allclose(y.numpy().astype(np.float64), ref, rtol=2e-3, atol=2e-3)
    gw, gb = tape.gradient(loss, [d.kernel, d.bias])
    assert gw.dtype == tl.float32 and gb.dtype == tl.float32
    # float64 reference of the float16 backward pass (the relu mask from the layer's own output)
    g = _f16(up) * (y.numpy() > 0)
    np.testing.assert_allclose(gw.numpy(), _f16(x).T @ g, rtol=1e-2, atol=1e-2)
    np.testing.assert_allclose(gb.numpy(), g.sum(axis=0), rtol=1e-2, atol=1e-2)


def test_weights_are_autocast_only_inside_a_mixed_layers_call(rng):
    seen = {}

    class Probe(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(3,), initializer="ones")
            self.plain = self.add_weight(shape=(3,), initializer="ones", autocast=False)
            self.count = self.add_weight(shape=(), dtype="int32", initializer="zeros", trainable=False)

        def call(self, x):
            seen[self.name] = (x.dtype, tl.convert_to_tensor(self.w).dtype,
                               tl.convert_to_tensor(self.plain).dtype, tl.convert_to_tensor(self.count).dtype)
            return x

    class Outer(layers.Layer):
        def __init__(self, **kw):
            super().__init__(**kw)
            self.inner32 = Probe(dtype="float32", name="inner32")
            self.inner_mixed = Probe(dtype="mixed_float16", name="inner_mixed")
            self.no_autocast = Probe(dtype="float32", name="no_autocast", autocast=False)

        def call(self, x):
            self.inner_mixed(x)
            self.no_autocast(x)
            return self.inner32(x)

    outer = Outer(dtype="mixed_float16")
    out = outer(rng.standard_normal((2, 3)).astype(np.float32))
    assert out.dtype == tl.float32
    assert seen["inner_mixed"] == (tl.float16, tl.float16, tl.float32, tl.int32)
    # A float32 layer inside an autocasting one reads its weights as float32 (Keras' rule)...
    assert seen["inner32"] == (tl.float32, tl.float32, tl.float32, tl.int32)
    # ...and autocast=False turns autocasting off; the layer's float16 input stays as it is.
    assert seen["no_autocast"][1] == tl.float32 and seen["no_autocast"][0] == tl.float16
    # Outside a call, a weight reads as itself.
    assert tl.convert_to_tensor(outer.inner_mixed.w).dtype == tl.float32


def test_functional_model_keeps_float32_inputs_and_float32_head(rng):
    mixed_precision.set_global_policy("mixed_float16")
    inp = keras.Input((6,))
    h = layers.Dense(8, activation="relu")(inp)
    h = h * 2.0
    out = layers.Activation("softmax", dtype="float32")(layers.Dense(3)(h))
    model = keras.Model(inp, out)
    assert model.outputs[0].dtype == tl.float32
    assert model.layers[1].output.dtype == tl.float16
    x = rng.standard_normal((4, 6))
    y = model(x)
    assert y.dtype == tl.float32
    np.testing.assert_allclose(y.numpy().sum(axis=1), 1.0, rtol=1e-5)
    seq = keras.Sequential([keras.Input((6,)), layers.Dense(3)])
    assert seq(x).dtype == tl.float16 and seq.layers[0].kernel.dtype == tl.float32


_LAYERS = {
    "Dense": (lambda **kw: layers.Dense(4, activation="gelu", **kw), (3, 5)),
    "EinsumDense": (lambda **kw: layers.EinsumDense("ab,bc->ac", output_shape=4, bias_axes="c", **kw), (3, 5)),
    "Conv1D": (lambda **kw: layers.Conv1D(4, 3, activation="relu", **kw), (2, 8, 3)),
    "Conv2D": (lambda **kw: layers.Conv2D(4, 3, padding="same", activation="silu", **kw), (2, 6, 6, 3)),
    "Conv2DTranspose": (lambda **kw: layers.Conv2DTranspose(4, 3, strides=2, **kw), (2, 4, 4, 3)),
    "DepthwiseConv2D": (lambda **kw: layers.DepthwiseConv2D(3, **kw), (2, 6, 6, 3)),
    "SeparableConv2D": (lambda **kw: layers.SeparableConv2D(4, 3, **kw), (2, 6, 6, 3)),
    "MaxPooling2D": (lambda **kw: layers.MaxPooling2D(**kw), (2, 6, 6, 3)),
    "SimpleRNN": (lambda **kw: layers.SimpleRNN(4, **kw), (2, 5, 3)),
    "LSTM": (lambda **kw: layers.LSTM(4, return_sequences=True, **kw), (2, 5, 3)),
    "GRU": (lambda **kw: layers.GRU(4, **kw), (2, 5, 3)),
    "MultiHeadAttention": (lambda **kw: layers.MultiHeadAttention(2, 4, **kw), (2, 5, 8)),
    "PReLU": (lambda **kw: layers.PReLU(**kw), (4, 6)),
    "LayerNormalization(rms)": (lambda **kw: layers.LayerNormalization(rms_scaling=True, **kw), (4, 6)),
}


@pytest.mark.parametrize("name", list(_LAYERS))
def test_layers_run_in_float16_with_float32_weights_and_gradients(rng, name):
    make, shape = _LAYERS[name]
    x = rng.standard_normal(shape).astype(np.float16)
    mixed, full = make(dtype="mixed_float16"), make(dtype="float32")
    call = (lambda layer, v: layer(v, v)) if name == "MultiHeadAttention" else (lambda layer, v: layer(v))
    call(full, x.astype(np.float32))
    with tl.GradientTape() as tape:
        y = call(mixed, x.astype(np.float32))  # float32 data: the layer casts it (and the value) itself
        loss = tl.reduce_sum(tl.cast(y, "float32"))
    assert y.dtype == tl.float16
    assert all(w.dtype == tl.float32 for w in mixed.weights)
    assert mixed.weights or name == "MaxPooling2D"
    for w, v in zip(full.weights, mixed.weights):
        w.assign(v.numpy())
    ref = call(full, x.astype(np.float32)).numpy()
    scale = max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(y.numpy().astype(np.float32), ref, rtol=2e-2, atol=2e-2 * scale)
    grads = tape.gradient(loss, mixed.trainable_weights)
    assert all(g.dtype == tl.float32 and np.all(np.isfinite(g.numpy())) for g in grads)


@pytest.mark.parametrize("make", [
    lambda: layers.BatchNormalization(momentum=0.5),
    lambda: layers.LayerNormalization(),
    lambda: layers.GroupNormalization(groups=2),
    lambda: layers.BatchNormalization(axis=1, momentum=0.5),
], ids=["batch_norm", "layer_norm", "group_norm", "batch_norm_axis1"])
def test_normalization_computes_in_float32_under_a_mixed_policy(rng, make):
    x = (rng.standard_normal((16, 4, 6)) * 3 + 40).astype(np.float32)  # large mean: float16 statistics would drift
    mixed, full = make(), make()
    mixed._dtype_policy = keras.DTypePolicy("mixed_float16")
    x16 = x.astype(np.float16)
    y16 = mixed(x16, training=True)
    y32 = full(x16.astype(np.float32), training=True)
    assert y16.dtype == tl.float16
    assert all(w.dtype == tl.float32 for w in mixed.weights)
    np.testing.assert_allclose(y16.numpy().astype(np.float32), y32.numpy(), rtol=1e-2, atol=1e-2)
    for a, b in zip(mixed.weights, full.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6)


def test_embedding_gathers_exact_rows_and_casts_them(rng):
    emb = layers.Embedding(5000, 3, dtype="mixed_float16")
    ids = np.array([[2049.0, 4999.0, 3.0]], np.float32)  # float ids above 2048 are not float16 values
    out = emb(ids)
    assert out.dtype == tl.float16
    table = emb.embeddings.numpy()
    np.testing.assert_array_equal(out.numpy(), table[[2049, 4999, 3]][None].astype(np.float16))


# ---------------------------------------------------------------------------- losses and metrics

def test_losses_and_metrics_of_float16_predictions_compute_in_float32(rng):
    logits = tl.constant(rng.standard_normal((8, 5)).astype(np.float16))
    labels = rng.integers(0, 5, 8)
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    assert loss.dtype == tl.float32
    lg = logits.numpy().astype(np.float64)
    ref = np.mean(np.log(np.exp(lg).sum(1)) - lg[np.arange(8), labels])
    np.testing.assert_allclose(float(loss), ref, rtol=1e-5)
    assert keras.losses.MeanSquaredError(dtype="float64")(lg, logits).dtype == tl.float64
    m = keras.metrics.MeanSquaredError()
    m.update_state(tl.constant(np.full((2, 2), 300.0, np.float16)), tl.constant(np.zeros((2, 2), np.float16)))
    assert float(m.result()) == 90000.0  # beyond float16's 65504


# ---------------------------------------------------------------------------- loss scaling

def _var(rng, n=4):
    return tl.Variable(rng.standard_normal(n).astype(np.float32))


def test_loss_scale_optimizer_unscales_and_grows_the_scale(rng):
    v = _var(rng)
    ref = tl.Variable(v.numpy())
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1), initial_scale=8.0, dynamic_growth_steps=2)
    plain = keras.optimizers.SGD(0.1)
    assert float(opt.scale_loss(tl.constant(1.5))) == 12.0
    for step in range(3):
        g = rng.standard_normal(4).astype(np.float32)
        scale = float(opt.dynamic_scale.numpy())
        opt.apply_gradients([(tl.constant(g * scale), v)])
        plain.apply_gradients([(tl.constant(g), ref)])
        np.testing.assert_allclose(v.numpy(), ref.numpy(), rtol=1e-6)
    # two finite steps doubled the scale once; the third counts toward the next doubling
    assert float(opt.dynamic_scale.numpy()) == 16.0 and int(opt.step_counter.numpy()) == 1
    assert int(opt.iterations.numpy()) == 3 and opt.iterations is opt.inner_optimizer.iterations
    assert opt.learning_rate is opt.inner_optimizer.learning_rate


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_loss_scale_optimizer_skips_non_finite_steps(rng, bad):
    v, w = _var(rng), _var(rng, 3)
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.1), initial_scale=4.0)
    opt.apply_gradients([(tl.constant(rng.standard_normal(4).astype(np.float32)), v)])
    before = [x.numpy().copy() for x in opt.variables[2:] + [v, w]]
    g = rng.standard_normal(3).astype(np.float32)
    g[1] = bad
    opt.apply_gradients([(tl.constant(rng.standard_normal(4).astype(np.float32)), v), (tl.constant(g), w)])
    after = [x.numpy() for x in opt.variables[2:] + [v, w]]
    for a, b in zip(before, after):  # no variable, slot or iteration count moved
        np.testing.assert_array_equal(a, b)
    assert float(opt.dynamic_scale.numpy()) == 2.0 and int(opt.step_counter.numpy()) == 0
    for _ in range(3):  # the scale halves down to 1, not below
        opt.apply_gradients([(tl.constant(g), w)])
    assert float(opt.dynamic_scale.numpy()) == 1.0


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_loss_scale_optimizer_finds_every_kind_of_overflow(rng, dtype):
    """inf in one gradient and -inf in another (their sum is NaN), large finite float16
    gradients (finite, though their sum overflows float16), and float16 variables."""
    a = tl.Variable(rng.standard_normal(3).astype(dtype))
    b = tl.Variable(rng.standard_normal(2).astype(dtype))
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(1e-6), initial_scale=8.0)
    ga, gb = np.array([1.0, np.inf, 2.0], dtype), np.array([-np.inf, 1.0], dtype)
    opt.apply_gradients([(tl.constant(ga), a), (tl.constant(gb), b)])
    assert int(opt.iterations.numpy()) == 0 and float(opt.dynamic_scale.numpy()) == 4.0
    big = np.full(3, 60000.0, dtype)  # sums to 180000: past float16's 65504, yet every value is finite
    opt.apply_gradients([(tl.constant(big), a), (tl.constant(np.ones(2, dtype)), b)])
    assert int(opt.iterations.numpy()) == 1 and float(opt.dynamic_scale.numpy()) == 4.0


def test_loss_scale_optimizer_tf2_protocol(rng):
    v = _var(rng)
    ref = tl.Variable(v.numpy())
    opt = keras.mixed_precision.LossScaleOptimizer(keras.optimizers.SGD(0.5), initial_scale=64.0)
    plain = keras.optimizers.SGD(0.5)
    x = rng.standard_normal(4).astype(np.float32)
    with tl.GradientTape() as tape:
        loss = tl.reduce_sum(tl.square(v - x))
        scaled = opt.get_scaled_loss(loss)
    np.testing.assert_allclose(float(scaled), 64.0 * float(loss), rtol=1e-6)
    grads = opt.get_unscaled_gradients(tape.gradient(scaled, [v]))
    opt.apply_gradients(zip(grads, [v]))  # already unscaled: not divided again
    with tl.GradientTape() as tape:
        loss = tl.reduce_sum(tl.square(ref - x))
    plain.apply_gradients(zip(tape.gradient(loss, [ref]), [ref]))
    np.testing.assert_allclose(v.numpy(), ref.numpy(), rtol=1e-6)
    # the same optimizer used the Keras 3 way afterwards (fit does) unscales again
    with tl.GradientTape() as tape:
        scaled = opt.scale_loss(tl.reduce_sum(tl.square(v - x)))
    opt.apply_gradients(zip(tape.gradient(scaled, [v]), [v]))
    with tl.GradientTape() as tape:
        loss = tl.reduce_sum(tl.square(ref - x))
    plain.apply_gradients(zip(tape.gradient(loss, [ref]), [ref]))
    np.testing.assert_allclose(v.numpy(), ref.numpy(), rtol=1e-6)


def test_minimize_scales_on_the_callers_tape(rng):
    x = rng.standard_normal(4).astype(np.float32)
    results = []
    for opt in (keras.optimizers.SGD(0.5), keras.optimizers.SGD(0.5, loss_scale_factor=1024.0),
                keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.5))):
        v = tl.Variable(x * 0 + 1.0)
        with tl.GradientTape() as tape:
            loss = tl.reduce_sum(tl.square(v - x))
        opt.minimize(loss, [v], tape=tape)
        opt.minimize(lambda: tl.reduce_sum(tl.square(v - x)), [v])
        results.append(v.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)
    np.testing.assert_allclose(results[2], results[0], rtol=1e-6)


def test_loss_scale_optimizer_config_and_errors():
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(0.01, beta_1=0.8), initial_scale=128.0,
                                              dynamic_growth_steps=10)
    assert opt.beta_1 == 0.8  # hyperparameters are the inner optimizer's
    back = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert isinstance(back, keras.optimizers.LossScaleOptimizer)
    assert isinstance(back.inner_optimizer, keras.optimizers.Adam) and back.inner_optimizer.beta_1 == 0.8
    assert (back.initial_scale, back.dynamic_growth_steps) == (128.0, 10)
    with pytest.raises(ValueError, match="dynamic=False is not supported.*loss_scale_factor"):
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), dynamic=False)
    with pytest.raises(TypeError, match="must be a keras optimizer instance, got str"):
        keras.optimizers.LossScaleOptimizer("adam")
    with pytest.raises(TypeError, match="already a LossScaleOptimizer"):
        keras.optimizers.LossScaleOptimizer(opt)
    with pytest.raises(ValueError, match="initial_scale must be a finite number >= 1"):
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), initial_scale=0.5)
    with pytest.raises(ValueError, match="loss_scale_factor must be a positive number"):
        keras.optimizers.SGD(loss_scale_factor=0)


# ---------------------------------------------------------------------------- training

def _digits(n=None):
    (x, y), (xt, yt) = keras.datasets.digits.load_data()
    prep = lambda a: (a.reshape(len(a), 64) / 16.0).astype(np.float32)  # noqa: E731
    return prep(x)[:n], y[:n], prep(xt), yt


def _mlp():
    return keras.Sequential([keras.Input((64,)), layers.Dense(64, activation="relu"),
                             layers.BatchNormalization(), layers.Dense(10),
                             layers.Activation("softmax", dtype="float32")])


def test_fit_under_mixed_float16_wraps_the_optimizer_and_learns_digits():
    mixed_precision.set_global_policy("mixed_float16")
    x, y, xt, yt = _digits()
    model = _mlp()
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    hist = model.fit(x, y, epochs=6, batch_size=64, verbose=0)
    assert all(np.isfinite(hist.history["loss"]))
    assert all(w.dtype == tl.float32 for w in model.weights)
    _, acc = model.evaluate(xt, yt, verbose=0)
    assert acc > 0.85  # (both float32 and mixed_float16 reach 0.93-0.98 here; 0.1 is chance)
    # a float16 step never overflowed here, so the scale only grew or stayed
    assert float(model.optimizer.dynamic_scale.numpy()) >= 2.0 ** 15


def test_fit_skips_overflowing_steps_and_lowers_the_scale():
    mixed_precision.set_global_policy("mixed_float16")
    x, y, _, _ = _digits(256)
    model = _mlp()
    start = [w.numpy().copy() for w in model.trainable_weights]
    opt = keras.mixed_precision.LossScaleOptimizer(keras.optimizers.SGD(0.05), initial_scale=2.0 ** 40)
    model.compile(opt, "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)  # 8 steps, each at half the scale before
    # float16 gradients of a loss scaled by 2**40 overflow: every step was skipped
    assert float(opt.dynamic_scale.numpy()) == 2.0 ** 32
    assert int(opt.iterations.numpy()) == 0
    for a, w in zip(start, model.trainable_weights):
        np.testing.assert_array_equal(a, w.numpy())
    model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert int(opt.iterations.numpy()) > 0  # the scale came down far enough to train
    assert float(opt.dynamic_scale.numpy()) < 2.0 ** 32


def test_mixed_bfloat16_trains_without_loss_scaling():
    mixed_precision.set_global_policy("mixed_bfloat16")
    if not hasattr(tl, "bfloat16"):
        pytest.skip("bfloat16 needs the ml_dtypes package")
    x, y, _, _ = _digits(256)
    model = _mlp()
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    assert not isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.layers[0](x[:2]).dtype == tl.bfloat16
    hist = model.fit(x, y, epochs=3, batch_size=64, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


def test_mixed_model_saves_and_loads_with_its_policies_and_loss_scale(tmp_path):
    mixed_precision.set_global_policy("mixed_float16")
    x, y, _, _ = _digits(128)
    model = _mlp()
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    model.optimizer.dynamic_scale.assign(1024.0)
    model.optimizer.step_counter.assign(tl.constant(7, dtype="int64"))
    path = str(tmp_path / "m.keras")
    model.save(path)
    mixed_precision.set_global_policy(None)  # the file, not the global policy, gives the layers' policies
    back = keras.models.load_model(path)
    assert [l.dtype_policy.name for l in back.layers] == ["mixed_float16"] * 3 + ["float32"]
    assert isinstance(back.optimizer, keras.optimizers.LossScaleOptimizer)
    assert float(back.optimizer.dynamic_scale.numpy()) == 1024.0
    assert int(back.optimizer.step_counter.numpy()) == 7
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    ckpt = tl.train.Checkpoint(model=model)
    saved = ckpt.save(str(tmp_path / "ckpt"))
    model.optimizer.dynamic_scale.assign(2.0)
    ckpt.restore(saved)
    assert float(model.optimizer.dynamic_scale.numpy()) == 1024.0


def test_loss_scale_optimizer_reads_a_keras3_config():
    """Keras 3 writes the base optimizer's (unused) arguments into the wrapper's config too."""
    cfg = {"name": "loss_scale_optimizer", "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
           "clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
           "loss_scale_factor": None, "gradient_accumulation_steps": None,
           "inner_optimizer": {"module": "keras.optimizers", "class_name": "SGD",
                               "config": {"name": "SGD", "learning_rate": 0.25, "momentum": 0.5}},
           "initial_scale": 256.0, "dynamic_growth_steps": 100}
    opt = keras.optimizers.deserialize({"class_name": "LossScaleOptimizer", "config": cfg})
    assert isinstance(opt.inner_optimizer, keras.optimizers.SGD) and opt.inner_optimizer.momentum == 0.5
    assert float(opt.dynamic_scale.numpy()) == 256.0 and opt.dynamic_growth_steps == 100
    with pytest.raises(ValueError, match="clipnorm=1.0 on the wrapper is not supported"):
        keras.optimizers.LossScaleOptimizer.from_config(dict(cfg, clipnorm=1.0))
