"""Initializers (statistics, seeds, shapes), activations vs numpy, regularizers and constraints."""
import math

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import activations, constraints, initializers, regularizers
from tests.keras.real_keras import K, needs_keras

SHAPE = (200, 300)   # fan_in 200, fan_out 300


@pytest.mark.parametrize("name,kind,scale", [
    ("glorot_uniform", "uniform", math.sqrt(6 / 500)),
    ("glorot_normal", "normal", math.sqrt(2 / 500)),
    ("he_uniform", "uniform", math.sqrt(6 / 200)),
    ("he_normal", "normal", math.sqrt(2 / 200)),
    ("lecun_uniform", "uniform", math.sqrt(3 / 200)),
    ("lecun_normal", "normal", math.sqrt(1 / 200)),
])
def test_variance_scaling_family(name, kind, scale):
    w = initializers.get(name)(SHAPE).numpy()
    assert w.shape == SHAPE and w.dtype == np.float32
    assert abs(w.mean()) < 0.05 * scale
    if kind == "uniform":
        assert w.max() <= scale and w.min() >= -scale
        assert w.std() == pytest.approx(scale / math.sqrt(3), rel=0.03)
    else:   # truncated at two standard deviations, rescaled to keep the variance
        assert w.std() == pytest.approx(scale, rel=0.03)
        assert np.abs(w).max() <= 2 * scale / 0.8796 + 1e-6


def test_conv_kernel_fans():
    assert initializers.compute_fans((3, 3, 16, 32)) == (144, 288)
    w = initializers.HeNormal()((3, 3, 16, 32)).numpy()
    assert w.std() == pytest.approx(math.sqrt(2 / 144), rel=0.05)


def test_random_initializers_and_seeds():
    n = initializers.RandomNormal(mean=1.0, stddev=0.5, seed=7)
    a, b = n((100, 100)).numpy(), n((100, 100)).numpy()
    np.testing.assert_array_equal(a, b)   # a seeded initializer repeats itself
    assert a.mean() == pytest.approx(1.0, abs=0.02) and a.std() == pytest.approx(0.5, rel=0.03)
    u = initializers.RandomUniform(-2.0, 3.0)((10000,)).numpy()
    assert u.min() >= -2.0 and u.max() < 3.0 and u.mean() == pytest.approx(0.5, abs=0.06)
    t = initializers.TruncatedNormal(0.0, 1.0)((10000,)).numpy()
    assert np.abs(t).max() <= 2.0
    assert not np.array_equal(initializers.GlorotUniform()((5, 5)).numpy(), initializers.GlorotUniform()((5, 5)).numpy())


def test_constant_zeros_ones_identity_orthogonal():
    np.testing.assert_array_equal(initializers.get("zeros")((2, 3)).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(initializers.Ones()((2,), dtype="float64").numpy(), np.ones(2))
    np.testing.assert_array_equal(initializers.Constant(2.5)((2, 2)).numpy(), np.full((2, 2), 2.5))
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)).numpy(), 3 * np.eye(2, 3))
    q = initializers.Orthogonal(seed=1)((6, 4)).numpy()
    np.testing.assert_allclose(q.T @ q, np.eye(4), atol=1e-5)
    q = initializers.Orthogonal(gain=2.0)((3, 5)).numpy()
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(3), atol=1e-5)


def test_initializer_identifiers_and_configs():
    assert isinstance(initializers.get("normal"), initializers.RandomNormal)
    assert isinstance(initializers.get({"class_name": "HeUniform", "config": {"seed": 3}}), initializers.HeUniform)
    vs = initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=4)
    clone = initializers.deserialize(initializers.serialize(vs))
    assert clone.get_config() == vs.get_config()
    with pytest.raises(ValueError, match=r"Unknown initializer: 'glorot'.*glorot_uniform"):
        initializers.get("glorot")
    with pytest.raises(ValueError, match="unknown mode"):
        initializers.VarianceScaling(mode="fan")


def test_fans_from_input_and_output_axes():
    # Keras 3's input_axes/output_axes: the fans are the products of those axes' sizes (both needed).
    assert initializers.compute_fans((4, 3, 5, 8), [0, 1], [2, 3]) == (12, 40)
    assert initializers.compute_fans((4, 3, 5, 8), [-2], [0]) == (5, 4)
    assert initializers.compute_fans((4, 3, 5, 8), [0], None) == initializers.compute_fans((4, 3, 5, 8))
    he = initializers.HeNormal(seed=2, input_axes=(0,), output_axes=[1, 2])
    assert he.get_config() == {"seed": 2, "input_axes": [0], "output_axes": [1, 2]}
    assert initializers.HeNormal().get_config() == {"seed": None}  # unset axes are not written
    clone = initializers.deserialize(initializers.serialize(he))
    assert type(clone) is initializers.HeNormal and clone.get_config() == he.get_config()
    w = he((64, 50, 3)).numpy()  # fan_in = 64, not 50 * 64
    assert w.std() == pytest.approx(math.sqrt(2 / 64), rel=0.05)
    with pytest.raises(ValueError, match=r"VarianceScaling: input_axes must be None or a list of integer axes"):
        initializers.VarianceScaling(input_axes=["a"], output_axes=[1])


# The stddev of a unit normal truncated to [-2, 2] (Keras 3 divides by it so that the truncated samples keep
# the wanted stddev): sqrt(1 - 2 * 2 * pdf(2) / (cdf(2) - cdf(-2))).
_TRUNC = 0.87962566103423978


def test_truncation_constant():
    pdf2 = math.exp(-2.0) / math.sqrt(2 * math.pi)
    assert math.sqrt(1 - 4 * pdf2 / math.erf(2 / math.sqrt(2))) == pytest.approx(_TRUNC, abs=1e-15)


@pytest.mark.parametrize("given", ["normal", "Normal", "truncated_normal", "TRUNCATED_NORMAL"])
def test_variance_scaling_normal_is_truncated_normal_as_in_keras_3(given):
    vs = initializers.VarianceScaling(scale=2.0, mode="fan_in", distribution=given, seed=3)
    assert vs.distribution == "truncated_normal" and vs.get_config()["distribution"] == "truncated_normal"
    std = math.sqrt(2.0 / 400)
    w = vs((400, 500)).numpy().astype(np.float64)
    bound = 2 * std / _TRUNC   # two stddevs of the normal before truncation
    assert np.abs(w).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.99 * bound   # 200,000 samples reach the bound: truncated there, not earlier
    assert w.std() == pytest.approx(std, rel=0.01) and abs(w.mean()) < 0.01 * std
    # the fraction in [-std, std] is that of the truncated normal, not of the normal (0.683)
    inside = math.erf(_TRUNC / math.sqrt(2)) / math.erf(2 / math.sqrt(2))
    assert np.mean(np.abs(w) <= std) == pytest.approx(inside, abs=0.005)


def test_variance_scaling_untruncated_normal():
    vs = initializers.VarianceScaling(scale=2.0, distribution="untruncated_normal", seed=3)
    w = vs((400, 500)).numpy().astype(np.float64)
    std = math.sqrt(2.0 / 400)
    assert w.std() == pytest.approx(std, rel=0.01)
    assert np.abs(w).max() > 2 * std / _TRUNC * 1.5   # tails beyond the truncation bound
    with pytest.raises(ValueError, match=r"VarianceScaling: unknown distribution 'gaussian'"):
        initializers.VarianceScaling(distribution="gaussian")


@needs_keras
@pytest.mark.parametrize("given", ["normal", "untruncated_normal", "uniform", "Truncated_Normal"])
def test_variance_scaling_configs_match_keras_3(given):
    ours = initializers.VarianceScaling(scale=0.5, mode="fan_avg", distribution=given).get_config()
    theirs = K.initializers.VarianceScaling(scale=0.5, mode="fan_avg", distribution=given).get_config()
    assert {k: ours[k] for k in ("scale", "mode", "distribution")} == \
        {k: theirs[k] for k in ("scale", "mode", "distribution")}


EINSUMS = [  # equation, output_shape, input shape
    ("abc,cde->abde", (None, 8, 16), (None, 5, 64)),    # MultiHeadAttention's query/key/value projections
    ("abcd,cde->abe", (None, 32), (None, 5, 8, 12)),    # its output projection
    ("ab,bc->ac", 48, (None, 96)),
    ("...b,bc->...c", 40, (None, 3, 80)),
    ("abc,bcd->abd", (6, 24), (None, 6, 30)),
    ("abc,cd->abd", (None, 20), (None, 4, 60)),
]


@pytest.mark.parametrize("equation,output_shape,input_shape", EINSUMS)
def test_einsum_dense_kernel_fans_come_from_the_equation(equation, output_shape, input_shape):
    from tensorlab.keras.layers.core import _einsum_fan_axes
    layer = keras.layers.EinsumDense(equation, output_shape)
    layer.build(input_shape)
    k = layer.kernel.numpy().astype(np.float64)
    in_axes, out_axes = _einsum_fan_axes(equation)
    fan_in = int(np.prod([k.shape[a] for a in in_axes]))
    fan_out = int(np.prod([k.shape[a] for a in out_axes]))
    limit = math.sqrt(6.0 / (fan_in + fan_out))   # Glorot uniform with Keras 3's fans
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.95 * limit
    assert k.std() == pytest.approx(limit / math.sqrt(3), rel=0.06)
    # the layer's own initializer (and config) keep no axes: they are the equation's at each build
    assert layer.get_config()["kernel_initializer"] == {"class_name": "GlorotUniform", "config": {"seed": None}}
    he = keras.layers.EinsumDense(equation, output_shape, kernel_initializer=initializers.HeNormal(seed=1))
    he.build(input_shape)
    w = he.kernel.numpy().astype(np.float64)
    assert w.std() == pytest.approx(math.sqrt(2.0 / fan_in), rel=0.06)
    assert np.abs(w).max() <= 2 * math.sqrt(2.0 / fan_in) / _TRUNC * (1 + 1e-6)


def test_einsum_dense_keeps_the_axes_an_initializer_was_given():
    init = initializers.HeUniform(seed=2, input_axes=[0, 1], output_axes=[2])
    layer = keras.layers.EinsumDense("abc,cde->abde", (None, 8, 16), kernel_initializer=init)
    layer.build((None, 5, 64))
    k = layer.kernel.numpy().astype(np.float64)   # fan_in = 64 * 8, as given (the equation says 64)
    assert k.std() == pytest.approx(math.sqrt(6.0 / 512) / math.sqrt(3), rel=0.06)


@needs_keras
@pytest.mark.parametrize("equation,output_shape,input_shape", EINSUMS)
def test_einsum_dense_fan_axes_and_scales_match_keras_3(equation, output_shape, input_shape):
    from keras.src.layers.core.einsum_dense import _analyze_einsum_string
    from tensorlab.keras.layers.core import _einsum_fan_axes
    *_, in_axes, out_axes = _analyze_einsum_string(equation, None, input_shape, output_shape)
    assert _einsum_fan_axes(equation) == (in_axes, out_axes)
    ours = keras.layers.EinsumDense(equation, output_shape)
    ours.build(input_shape)
    theirs = K.layers.EinsumDense(equation, output_shape)
    theirs.build(input_shape)
    kt = np.asarray(K.ops.convert_to_numpy(theirs.kernel), np.float64)
    assert tuple(ours.kernel.shape) == kt.shape
    assert ours.kernel.numpy().std() == pytest.approx(kt.std(), rel=0.1)


def test_multi_head_attention_kernel_fans_are_keras_3s():
    mha = keras.layers.MultiHeadAttention(num_heads=4, key_dim=16, value_dim=8, output_shape=48)
    q = tl.zeros((2, 5, 96))
    mha(q, q)
    for kernel, fan_in, fan_out in [(mha.query_kernel, 96, 64), (mha.key_kernel, 96, 64),
                                    (mha.value_kernel, 96, 32), (mha.output_kernel, 32, 48)]:
        k = kernel.numpy().astype(np.float64)
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        assert np.abs(k).max() <= limit
        assert k.std() == pytest.approx(limit / math.sqrt(3), rel=0.1)


@needs_keras
def test_multi_head_attention_kernel_scales_match_keras_3():
    ours = keras.layers.MultiHeadAttention(num_heads=4, key_dim=16, value_dim=8)
    q = tl.zeros((2, 5, 96))
    ours(q, q)
    theirs = K.layers.MultiHeadAttention(num_heads=4, key_dim=16, value_dim=8)
    theirs(np.zeros((2, 5, 96), "float32"), np.zeros((2, 5, 96), "float32"))
    pairs = [(ours.query_kernel, theirs._query_dense.kernel), (ours.value_kernel, theirs._value_dense.kernel),
             (ours.output_kernel, theirs._output_dense.kernel)]
    for a, b in pairs:
        b = np.asarray(K.ops.convert_to_numpy(b), np.float64)
        assert tuple(a.shape) == b.shape
        assert a.numpy().std() == pytest.approx(b.std(), rel=0.1)


def np_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


ACTS = [
    ("relu", lambda x: np.maximum(x, 0)),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("tanh", np.tanh),
    ("softmax", np_softmax),
    ("elu", lambda x: np.where(x > 0, x, np.expm1(x))),
    ("selu", lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x))),
    ("softplus", lambda x: np.log1p(np.exp(x))),
    ("softsign", lambda x: x / (1 + np.abs(x))),
    ("swish", lambda x: x / (1 + np.exp(-x))),
    ("exponential", np.exp),
    ("linear", lambda x: x),
    ("hard_sigmoid", lambda x: np.clip(x / 6 + 0.5, 0, 1)),
    ("relu6", lambda x: np.clip(x, 0, 6)),
    ("leaky_relu", lambda x: np.where(x > 0, x, 0.2 * x)),
    ("log_softmax", lambda x: np.log(np_softmax(x))),
    ("mish", lambda x: x * np.tanh(np.log1p(np.exp(x)))),
]


@pytest.mark.parametrize("name,ref", ACTS, ids=[a[0] for a in ACTS])
def test_activations_match_numpy(name, ref, rng):
    x = rng.uniform(-8, 8, (4, 5))
    got = activations.get(name)(tl.constant(x)).numpy()
    np.testing.assert_allclose(got, ref(x), rtol=1e-6, atol=1e-9)
    assert activations.serialize(activations.get(name)) in (name, "silu")


def test_activation_identifiers():
    assert activations.get(None) is activations.linear
    f = lambda x: x  # noqa: E731
    assert activations.get(f) is f
    with pytest.raises(ValueError, match=r"Unknown activation function: 'rleu'.*relu"):
        activations.get("rleu")
    np.testing.assert_allclose(activations.relu(tl.constant([-2.0, 1.0, 8.0]), negative_slope=0.5, max_value=6.0).numpy(),
                               [-1.0, 1.0, 6.0])


def test_regularizers(rng):
    w = rng.standard_normal((3, 4))
    t = tl.constant(w)
    assert float(regularizers.L1(0.3)(t)) == pytest.approx(0.3 * np.abs(w).sum())
    assert float(regularizers.L2(0.2)(t)) == pytest.approx(0.2 * (w ** 2).sum())
    assert float(regularizers.L1L2(0.1, 0.2)(t)) == pytest.approx(0.1 * np.abs(w).sum() + 0.2 * (w ** 2).sum())
    assert float(regularizers.get("l2")(t)) == pytest.approx(0.01 * (w ** 2).sum())
    r = regularizers.deserialize(regularizers.serialize(regularizers.L1L2(0.5, 0.25)))
    assert r.get_config() == {"l1": 0.5, "l2": 0.25}
    with pytest.raises(ValueError, match="Unknown regularizer"):
        regularizers.get("l3")


def test_constraints(rng):
    w = rng.standard_normal((4, 3)) * 3
    t = tl.constant(w)
    mn = constraints.MaxNorm(2.0)(t).numpy()
    norms = np.linalg.norm(w, axis=0)
    np.testing.assert_allclose(np.linalg.norm(mn, axis=0), np.minimum(norms, 2.0), rtol=1e-5)
    np.testing.assert_array_equal(constraints.NonNeg()(t).numpy(), np.maximum(w, 0))
    np.testing.assert_allclose(np.linalg.norm(constraints.UnitNorm(axis=1)(t).numpy(), axis=1), 1.0, rtol=1e-6)
    mm = constraints.MinMaxNorm(1.0, 1.5)(t).numpy()
    assert np.all(np.linalg.norm(mm, axis=0) <= 1.5 + 1e-6) and np.all(np.linalg.norm(mm, axis=0) >= 1.0 - 1e-6)
    assert isinstance(constraints.get("non_neg"), constraints.NonNeg)
    with pytest.raises(ValueError, match=r"Unknown constraint: 'positive'.*non_neg"):
        constraints.get("positive")


def test_string_identifiers_in_layers():
    d = keras.layers.Dense(3, activation="relu", kernel_initializer="normal", kernel_regularizer="l2",
                           kernel_constraint="max_norm", input_dim=4)
    keras.Sequential([d])
    assert isinstance(d.kernel_initializer, initializers.RandomNormal)
    assert d.kernel.numpy().std() < 0.2
