"""BatchNormalization (training vs inference, moving statistics), LayerNormalization, RMSNormalization,
SpectralNormalization."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import (check_grads, check_input_grad_fd, check_roundtrip, check_symbolic,
                                             check_weight_grads_fd, rand)


def _bn_ref(x, mean, var, gamma, beta, eps):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def test_batchnorm_training_uses_batch_stats_and_updates_moving(rng):
    layer = layers.BatchNormalization(gamma_initializer="normal", beta_initializer="normal", dtype="float64")
    x = rand(rng, 8, 3) * 2.0 + 1.0
    xn = x.numpy()
    y = layer(x, training=True).numpy()
    g, b = layer.gamma.numpy(), layer.beta.numpy()
    mean, var = xn.mean(0), xn.var(0)
    np.testing.assert_allclose(y, _bn_ref(xn, mean, var, g, b, 1e-3), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.99 * 0 + 0.01 * mean, rtol=1e-10)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.99 * 1 + 0.01 * var, rtol=1e-10)
    # a second step keeps averaging
    x2 = rand(rng, 8, 3)
    layer(x2, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.99 * 0.01 * mean + 0.01 * x2.numpy().mean(0),
                               rtol=1e-10)


def test_batchnorm_inference_uses_moving_stats(rng):
    layer = layers.BatchNormalization(momentum=0.5, dtype="float64")
    x = rand(rng, 6, 4) + 3.0
    layer(x, training=True)
    mm, mv = layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy()
    for kw in ({}, {"training": False}):
        y = layer(x, **kw).numpy()
        np.testing.assert_allclose(y, _bn_ref(x.numpy(), mm, mv, 1.0, 0.0, 1e-3), rtol=1e-10)
        np.testing.assert_array_equal(layer.moving_mean.numpy(), mm)  # inference does not update
    layer.trainable = False  # frozen BN runs in inference mode even when training
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y, _bn_ref(x.numpy(), mm, mv, 1.0, 0.0, 1e-3), rtol=1e-10)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mm)


def test_batchnorm_channels_first_axis(rng):
    layer = layers.BatchNormalization(axis=1, center=False, dtype="float64")
    x = rand(rng, 4, 3, 2, 5)
    y = layer(x, training=True).numpy()
    xn = x.numpy()
    mean, var = xn.mean((0, 2, 3), keepdims=True), xn.var((0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (xn - mean) / np.sqrt(var + 1e-3), rtol=1e-10, atol=1e-10)
    assert layer.moving_mean.shape == (3,) and layer.beta is None
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.99 + 0.01 * var.reshape(3), rtol=1e-10)


def test_batchnorm_weights_config_grads(rng):
    layer = layers.BatchNormalization(synchronized=True)
    x = rand(rng, 5, 4, dtype="float32")
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    check_grads(layer, x, training=True)
    assert [w.name.split("/")[-1] for w in layer.weights] == ["gamma:0", "beta:0", "moving_mean:0",
                                                              "moving_variance:0"]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2
    cfg = layer.get_config()
    assert cfg["momentum"] == 0.99 and cfg["epsilon"] == 1e-3 and cfg["synchronized"] is True


def test_batchnorm_accepts_keras_renorm_defaults_only():
    # Keras 3 writes renorm, renorm_clipping and renorm_momentum into every config.
    bn = layers.BatchNormalization(renorm=False, renorm_clipping=None, renorm_momentum=0.99)
    assert layers.BatchNormalization.from_config({**bn.get_config(), "renorm": False}).momentum == 0.99
    for kwargs, arg in (({"renorm": True}, "renorm"), ({"renorm_momentum": 0.9}, "renorm_momentum"),
                        ({"renorm_clipping": {"rmax": 2.0}}, "renorm_clipping")):
        with pytest.raises(ValueError, match=rf"BatchNormalization: {arg}=.* is not supported: tensorlab does "
                                             r"not implement batch renormalization"):
            layers.BatchNormalization(**kwargs)


def test_error_batchnorm_shape(rng):
    layer = layers.BatchNormalization()
    layer(rand(rng, 4, 3, dtype="float32"))
    with pytest.raises(ValueError, match=r"batch_normalization.*expected axis 1.*3.*\(4, 5\)"):
        layer(rand(rng, 4, 5, dtype="float32"))
    with pytest.raises(ValueError, match=r"batch_normalization.*ndim=2.*\(4, 2, 3\)"):
        layer(rand(rng, 4, 2, 3, dtype="float32"))
    with pytest.raises(ValueError, match="axis 3 is out of range"):
        layers.BatchNormalization(axis=3)(rand(rng, 4, 3, dtype="float32"))


@pytest.mark.parametrize("axis", [-1, (1, 2), 1])
def test_layernorm_matches_numpy(axis, rng):
    layer = layers.LayerNormalization(axis=axis, gamma_initializer="normal", beta_initializer="normal",
                                      dtype="float64")
    x = rand(rng, 2, 3, 4) * 3 + 1
    y = layer(x).numpy()
    axes = (axis,) if isinstance(axis, int) else axis
    axes = tuple(a % 3 for a in axes)
    xn = x.numpy()
    mean, var = xn.mean(axes, keepdims=True), xn.var(axes, keepdims=True)
    shape = [xn.shape[i] if i in axes else 1 for i in range(3)]
    ref = (xn - mean) / np.sqrt(var + 1e-3) * layer.gamma.numpy().reshape(shape) + layer.beta.numpy().reshape(shape)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer(x, training=True).numpy(), y)  # same in training
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def test_layernorm_rms_scaling_and_grads(rng):
    layer = layers.LayerNormalization(rms_scaling=True, dtype="float64")
    x = rand(rng, 3, 5)
    xn = x.numpy()
    np.testing.assert_allclose(layer(x).numpy(), xn / np.sqrt((xn ** 2).mean(-1, keepdims=True) + 1e-3),
                               rtol=1e-10)
    assert layer.beta is None
    check_roundtrip(layer, x)
    check_grads(layers.LayerNormalization(), rand(rng, 3, 5, dtype="float32"))


def test_error_layernorm_shape(rng):
    layer = layers.LayerNormalization()
    layer(rand(rng, 2, 4, dtype="float32"))
    with pytest.raises(ValueError, match=r"layer_normalization.*4.*\(2, 6\)"):
        layer(rand(rng, 2, 6, dtype="float32"))


@pytest.mark.parametrize("layer_cls,prim", [(layers.BatchNormalization, "batch_norm"),
                                            (layers.LayerNormalization, "layer_norm")])
def test_features_on_the_last_axis_take_the_fused_op(rng, monkeypatch, layer_cls, prim):
    import tensorlab.backend.cpu as cpu_backend
    from tensorlab.core.registry import REGISTRY

    cpu_backend.load()  # the CPU implementations register on first use
    calls = []
    orig = REGISTRY[prim].impls["cpu"]
    monkeypatch.setitem(REGISTRY[prim].impls, "cpu", lambda *a, **k: calls.append(1) or orig(*a, **k))
    x = rand(rng, 4, 3, 5, dtype="float32")
    fused = layer_cls(gamma_initializer="normal", beta_initializer="normal")
    y = fused(x, training=True)
    assert calls, f"{layer_cls.__name__} over the last axis did not call {prim}"
    calls.clear()
    composite = layer_cls(axis=1)
    composite(x, training=True)
    assert not calls
    # the fused path equals the composite formulas with the same weights
    ref = layer_cls(axis=-1, gamma_initializer="normal", beta_initializer="normal")
    ref.build(x.shape)
    for w, v in zip(ref.weights, fused.weights):
        w.assign(v.numpy())
    monkeypatch.setattr(type(ref), "_last_axis_only", lambda self: False)
    if layer_cls is layers.BatchNormalization:   # the fused layer already took one moving-average step
        ref.moving_mean.assign(np.zeros(5, np.float32))
        ref.moving_variance.assign(np.ones(5, np.float32))
    np.testing.assert_allclose(ref(x, training=True).numpy(), y.numpy(), rtol=1e-5, atol=1e-5)
    for a, b in zip(ref.weights, fused.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_fused_norms_in_float16_normalize_in_float32(rng):
    x32 = rand(rng, 6, 4, 8, dtype="float32") * 3 + 2
    for layer_cls in (layers.BatchNormalization, layers.LayerNormalization):
        half, full = layer_cls(dtype="float16"), layer_cls()
        y16 = half(x32, training=True)
        assert y16.dtype.name == "float16"
        np.testing.assert_allclose(y16.numpy().astype(np.float32), full(x32, training=True).numpy(), atol=0.02)
    check_grads(layers.BatchNormalization(gamma_initializer="normal"), rand(rng, 2, 3, 4, 5, dtype="float32"),
                training=True)


def test_spectral_normalization_drives_the_largest_singular_value_to_one(rng):
    """Training calls normalize the wrapped kernel by its power-method spectral norm (written
    back into the layer, as Keras does); inference leaves it; Conv kernels are viewed as
    [-1, filters]; config round trip; clear errors."""
    x = tl.constant(rng.standard_normal((4, 6)).astype(np.float32))
    sn = layers.SpectralNormalization(layers.Dense(8), power_iterations=2)
    sn(x)  # inference: builds, changes nothing
    k0 = sn.layer.kernel.numpy().copy()
    np.testing.assert_array_equal(sn(x, training=False).numpy(), sn.layer(x).numpy())
    np.testing.assert_array_equal(sn.layer.kernel.numpy(), k0)
    for _ in range(20):
        y = sn(x, training=True)
    top = np.linalg.svd(sn.layer.kernel.numpy().astype(np.float64), compute_uv=False)[0]
    assert abs(top - 1.0) < 1e-4
    # the kernel is k0 scaled down by k0's spectral norm
    np.testing.assert_allclose(sn.layer.kernel.numpy(), k0 / np.linalg.svd(k0, compute_uv=False)[0], rtol=1e-3,
                               atol=1e-5)
    np.testing.assert_allclose(y.numpy(), sn.layer(x).numpy(), rtol=1e-6)
    conv = layers.SpectralNormalization(layers.Conv2D(4, 3), power_iterations=10)
    for _ in range(10):
        conv(tl.constant(rng.standard_normal((1, 5, 5, 2)).astype(np.float32)), training=True)
    assert abs(np.linalg.svd(conv.layer.kernel.numpy().reshape(-1, 4), compute_uv=False)[0] - 1.0) < 1e-2
    clone = layers.deserialize(layers.serialize(sn))
    assert isinstance(clone.layer, layers.Dense) and clone.power_iterations == 2
    with pytest.raises(ValueError, match=r"SpectralNormalization.*Flatten.*neither a `kernel` nor"):
        layers.SpectralNormalization(layers.Flatten())(tl.ones((2, 3)))
    with pytest.raises(ValueError, match="`power_iterations` must be a positive integer"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)


def test_spectral_normalization_trains_inside_a_model(rng):
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int32)
    model = tl.keras.Sequential([tl.keras.Input((5,)), layers.SpectralNormalization(layers.Dense(16)),
                                 layers.ReLU(), layers.Dense(2)])
    model.compile(tl.keras.optimizers.Adam(1e-2),
                  tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    model.layers[0](tl.constant(x), training=True)  # normalizes the kernel the last update moved
    assert abs(np.linalg.svd(model.layers[0].layer.kernel.numpy(), compute_uv=False)[0] - 1.0) < 2e-2


def rms_ref(x, axes, scale, eps):
    shape = [x.shape[i] if i in axes else 1 for i in range(x.ndim)]
    return x / np.sqrt((x ** 2).mean(axes, keepdims=True) + eps) * scale.reshape(shape)


@pytest.mark.parametrize("axis", [-1, [1, 2], 1])
def test_rmsnorm_matches_numpy(axis, rng):
    layer = layers.RMSNormalization(axis=axis, epsilon=1e-4, dtype="float64")
    x = rand(rng, 2, 3, 4) * 3 + 0.5
    layer(x)
    assert [w.name.split("/")[-1] for w in layer.weights] == ["scale:0"]
    axes = tuple(a % 3 for a in ((axis,) if isinstance(axis, int) else axis))
    assert layer.scale.shape == tuple(x.shape[a] for a in axes)
    np.testing.assert_array_equal(layer.scale.numpy(), 1.0)  # initialized to ones
    layer.set_weights([rng.standard_normal(tuple(layer.scale.shape))])
    y = layer(x).numpy()
    np.testing.assert_allclose(y, rms_ref(x.numpy(), axes, layer.scale.numpy(), 1e-4), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer(x, training=True).numpy(), y)  # same in training
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    assert layer.get_config()["axis"] == axis and layer.get_config()["epsilon"] == 1e-4


def test_rmsnorm_gradients_match_finite_differences(rng):
    layer = layers.RMSNormalization(dtype="float64")
    x = rand(rng, 3, 5)
    layer(x)
    layer.set_weights([rng.standard_normal(5)])
    check_input_grad_fd(layer, x, rng)
    check_weight_grads_fd(layer, x, rng)
    check_grads(layers.RMSNormalization(axis=[1, 2]), rand(rng, 2, 3, 4, dtype="float32"))


@pytest.mark.parametrize("dtype", ["float16", "mixed_float16", "mixed_bfloat16"])
def test_rmsnorm_normalizes_half_inputs_in_float32(dtype, rng):
    x32 = rand(rng, 4, 6, 16, dtype="float32") * 100 + 300  # squares beyond float16's largest, 65504
    half, full = layers.RMSNormalization(dtype=dtype), layers.RMSNormalization()
    y = half(x32)
    assert y.dtype.name == dtype.replace("mixed_", "")
    assert half.scale.dtype.name == ("float16" if dtype == "float16" else "float32")
    np.testing.assert_allclose(y.numpy().astype(np.float32), full(x32).numpy(), rtol=2e-2, atol=2e-2)
    assert np.all(np.isfinite(y.numpy().astype(np.float32)))


def test_rmsnorm_model_trains_saves_and_loads(tmp_path):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 6)) * rng.uniform(0.5, 5, (64, 1))).astype(np.float32)
    y = (x[:, 0] > x[:, 1]).astype(np.int32)
    model = tl.keras.Sequential([tl.keras.Input((6,)), layers.Dense(8), layers.RMSNormalization(),
                                 layers.ReLU(), layers.Dense(2)])
    model.compile(tl.keras.optimizers.Adam(1e-2), tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < 0.7 * hist.history["loss"][0]
    assert not np.allclose(model.layers[1].scale.numpy(), 1.0)  # the scale learned
    path = str(tmp_path / "rms.keras")
    model.save(path)
    back = tl.keras.models.load_model(path)
    assert isinstance(back.layers[1], layers.RMSNormalization)
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)


def test_error_rmsnorm(rng):
    layer = layers.RMSNormalization()
    layer(rand(rng, 2, 4, dtype="float32"))
    for shape, expected in (((2, 6), r"expected axis 1 of input shape to have value 4.*\(2, 6\)"),
                            ((2, 3, 4), r"expected ndim=2, found ndim=3.*\(2, 3, 4\)")):
        with pytest.raises(ValueError, match=r'layer "rms_normalization.*\(RMSNormalization\).*' + expected):
            layer(rand(rng, *shape, dtype="float32"))
    with pytest.raises(ValueError, match=r"RMSNormalization\): axis 3 is out of range for inputs of rank 3 "
                                         r"\(input shape \(2, 3, 4\)\)"):
        layers.RMSNormalization(axis=3)(rand(rng, 2, 3, 4, dtype="float32"))
    with pytest.raises(TypeError, match=r"RMSNormalization: `axis` must be an int or a non-empty list of ints; "
                                        r"received axis='last'"):
        layers.RMSNormalization(axis="last")
    with pytest.raises(ValueError, match=r"RMSNormalization: `epsilon` must be a non-negative float; received "
                                         r"epsilon=-1"):
        layers.RMSNormalization(epsilon=-1)
