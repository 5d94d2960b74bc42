"""nn ops: activations, softmax/log_softmax, bias_add, normalization, dropout, loss scaling."""
import math
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import tensorlab as tl
from tensorlab.ops import nn as N
from tests.ops.harness import Case, S, check_forward, check_grad, op_tests

_erf = np.vectorize(math.erf)


@dataclass
class Away(S):
    """Values in [-high, -low] U [low, high]: away from an activation's kink at 0."""
    low: float = 0.1
    high: float = 2.0

    def draw(self, rng, shape=None):
        shape = self.shape if shape is None else shape
        mag = rng.uniform(self.low, self.high, size=shape)
        return (mag * rng.choice([-1.0, 1.0], size=shape)).astype(self.dtype)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _selu(x):
    a, s = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return s * np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def _moments(x):
    return x.mean(axis=(0, 2)), x.var(axis=(0, 2))


def _ref_space_to_depth(x, b):
    """TF's NHWC ordering, pixel by pixel: out[n, i, j, (dy * b + dx) * c + k] = x[n, i * b + dy, j * b + dx, k]."""
    n, h, w, c = x.shape
    out = np.empty((n, h // b, w // b, b * b * c), x.dtype)
    for i in range(h // b):
        for j in range(w // b):
            for dy in range(b):
                for dx in range(b):
                    out[:, i, j, (dy * b + dx) * c:(dy * b + dx + 1) * c] = x[:, i * b + dy, j * b + dx, :]
    return out


def _ref_depth_to_space(x, b):
    n, h, w, c = x.shape
    oc = c // (b * b)
    out = np.empty((n, h * b, w * b, oc), x.dtype)
    for i in range(h * b):
        for j in range(w * b):
            k = ((i % b) * b + j % b) * oc
            out[:, i, j, :] = x[:, i // b, j // b, k:k + oc]
    return out


def _nchw(ref):
    return lambda x, b: ref(x.transpose(0, 2, 3, 1), b).transpose(0, 3, 1, 2)


CASES = [
    Case("relu", tl.nn.relu, lambda x: np.maximum(x, 0), [Away()]),
    Case("relu6", tl.nn.relu6, lambda x: np.clip(x, 0, 6), [Away(high=8.0)]),
    Case("leaky_relu", tl.nn.leaky_relu, lambda x: np.where(x > 0, x, 0.2 * x), [Away()]),
    Case("leaky_relu_alpha", lambda x: tl.nn.leaky_relu(x, alpha=0.05), lambda x: np.where(x > 0, x, 0.05 * x),
         [Away()]),
    Case("elu", tl.nn.elu, lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))), [Away()]),
    Case("selu", tl.nn.selu, _selu, [Away()]),
    Case("gelu", tl.nn.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), [S(low=-3, high=3)]),
    Case("gelu_approx", lambda x: tl.nn.gelu(x, approximate=True), _gelu_tanh, [S(low=-3, high=3)]),
    Case("silu", tl.nn.silu, lambda x: x * _sigmoid(x), [S(low=-4, high=4)]),
    Case("swish_beta", lambda x: tl.nn.swish(x, beta=1.5), lambda x: x * _sigmoid(1.5 * x), [S()]),
    Case("softsign", tl.nn.softsign, lambda x: x / (1 + np.abs(x)), [Away()]),
    Case("log_sigmoid", tl.math.log_sigmoid, lambda x: -np.logaddexp(0, -x), [S(low=-5, high=5)]),
    Case("softmax", tl.nn.softmax, _softmax, [S(shape=(3, 5))]),
    Case("softmax_axis0", lambda x: tl.nn.softmax(x, axis=0), lambda x: _softmax(x, 0), [S(shape=(4, 2, 3))]),
    Case("log_softmax", tl.nn.log_softmax, _log_softmax, [S(shape=(3, 5))]),
    Case("log_softmax_axis1", lambda x: tl.math.log_softmax(x, axis=1), lambda x: _log_softmax(x, 1),
         [S(shape=(2, 4, 3))]),
    # The backward primitives, as functions of their own (their rules give softmax's higher derivatives).
    Case("softmax_grad_p", lambda y, g: N.softmax_grad_p(y, g, axis=1),
         lambda y, g: g * y - y * (g * y).sum(1, keepdims=True), [S(shape=(2, 4), low=0.05, high=1), S(shape=(2, 4))]),
    Case("log_softmax_grad_p", lambda y, g: N.log_softmax_grad_p(y, g, axis=0),
         lambda y, g: g - np.exp(y) * g.sum(0, keepdims=True), [S(shape=(3, 2), low=-3, high=0), S(shape=(3, 2))]),
    Case("bias_add_nhwc", tl.nn.bias_add, lambda x, b: x + b, [S(shape=(2, 3, 4)), S(shape=(4,))]),
    Case("bias_add_nchw", lambda x, b: tl.nn.bias_add(x, b, data_format="NCHW"),
         lambda x, b: x + b[None, :, None, None], [S(shape=(2, 3, 2, 2)), S(shape=(3,))]),
    Case("batch_normalization",
         lambda x, m, v, o, s: tl.nn.batch_normalization(x, m, v, o, s, 1e-3),
         lambda x, m, v, o, s: s * (x - m) / np.sqrt(v + 1e-3) + o,
         [S(shape=(4, 3)), S(shape=(3,)), S(shape=(3,), low=0.5, high=2), S(shape=(3,)), S(shape=(3,))]),
    Case("batch_normalization_no_affine",
         lambda x, m, v: tl.nn.batch_normalization(x, m, v, None, None, 1e-3),
         lambda x, m, v: (x - m) / np.sqrt(v + 1e-3),
         [S(shape=(2, 3)), S(shape=(3,)), S(shape=(3,), low=0.5, high=2)]),
    Case("moments", lambda x: tl.nn.moments(x, axes=[0, 2]), _moments, [S(shape=(3, 2, 4))]),
    Case("moments_keepdims", lambda x: tl.nn.moments(x, axes=[1], keepdims=True),
         lambda x: (x.mean(1, keepdims=True), x.var(1, keepdims=True)), [S(shape=(3, 4))]),
    Case("l2_normalize", lambda x: tl.nn.l2_normalize(x, axis=-1),
         lambda x: x / np.sqrt(np.maximum((x ** 2).sum(-1, keepdims=True), 1e-12)), [S(shape=(3, 4))]),
    Case("compute_average_loss", lambda x, w: tl.nn.compute_average_loss(x, sample_weight=w, global_batch_size=8),
         lambda x, w: (x * w).sum() / 8, [S(shape=(4,)), S(shape=(4,))]),
    Case("space_to_depth", lambda x: tl.nn.space_to_depth(x, 2), lambda x: _ref_space_to_depth(x, 2),
         [S(shape=(2, 4, 6, 3))]),
    Case("space_to_depth_nchw_b3", lambda x: tl.nn.space_to_depth(x, 3, data_format="NCHW"),
         lambda x: _nchw(_ref_space_to_depth)(x, 3), [S(shape=(1, 2, 3, 6))]),
    Case("depth_to_space", lambda x: tl.nn.depth_to_space(x, 2), lambda x: _ref_depth_to_space(x, 2),
         [S(shape=(2, 2, 3, 12))]),
    Case("depth_to_space_nchw", lambda x: tl.nn.depth_to_space(x, 2, data_format="NCHW"),
         lambda x: _nchw(_ref_depth_to_space)(x, 2), [S(shape=(2, 8, 3, 2))]),
]


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), data=st.data(),
       seed=st.integers(0, 2 ** 32 - 1))
def test_softmax_any_axis_and_shape(shape, data, seed):
    """Forward and gradient of softmax/log_softmax for drawn shapes (size-1 dims included) and axes."""
    rng = np.random.default_rng(seed)
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    for fn, ref in ((tl.nn.softmax, _softmax), (tl.nn.log_softmax, _log_softmax)):
        case = Case(fn.__name__, lambda x: fn(x, axis=axis), lambda x: ref(x, axis), [S(shape=shape)])
        check_forward(case, rng, dtypes=("float64",))
        check_grad(case, rng)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=3), seed=st.integers(0, 2 ** 32 - 1))
def test_bias_add_shapes(shape, seed):
    rng = np.random.default_rng(seed)
    last = Case("bias_add", tl.nn.bias_add, lambda x, b: x + b, [S(shape=shape), S(shape=(shape[-1],))])
    first = Case("bias_add_nc", lambda x, b: tl.nn.bias_add(x, b, data_format="NC..."),
                 lambda x, b: x + b.reshape((-1,) + (1,) * (len(shape) - 2)),
                 [S(shape=shape), S(shape=(shape[1],))])
    for c in (last, first):
        check_forward(c, rng, dtypes=("float64",))
        check_grad(c, rng)


def test_softmax_large_logits_stay_finite():
    x = tl.constant([[1e4, 0.0, -1e4], [5e3, 5e3, 5e3]])
    y = tl.nn.softmax(x).numpy()
    ly = tl.nn.log_softmax(x).numpy()
    np.testing.assert_allclose(y, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-6)
    np.testing.assert_allclose(ly[0], [0, -1e4, -2e4], rtol=1e-6)
    assert np.all(np.isfinite(ly))


def test_softmax_symbolic_with_unknown_batch():
    x = tl.SymbolicTensor((None, 5))
    assert tuple(tl.nn.softmax(x).shape) == (None, 5)
    assert tuple(tl.nn.bias_add(x, tl.SymbolicTensor((5,))).shape) == (None, 5)
    assert tuple(tl.nn.relu(x).shape) == (None, 5)
    m, v = tl.nn.moments(x, axes=[0])
    assert tuple(m.shape) == (5,) and tuple(v.shape) == (5,)
    assert tuple(tl.nn.dropout(x, 0.3).shape) == (None, 5)
    assert tuple(tl.nn.gelu(tl.nn.l2_normalize(x, axis=1)).shape) == (None, 5)


def test_relu_on_integers():
    np.testing.assert_array_equal(tl.nn.relu(tl.constant([-3, 0, 4])).numpy(), [0, 0, 4])


# ----------------------------------------------------------------- dropout
def test_dropout_scales_kept_values_and_drops_at_rate(rng):
    x = rng.uniform(0.5, 1.5, size=(100_000,)).astype(np.float32)
    rate = 0.3
    y = tl.nn.dropout(tl.constant(x), rate=rate).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / (1 - rate), rtol=1e-6)
    assert abs(kept.mean() - (1 - rate)) < 0.01
    # Inverted dropout keeps the expectation.
    assert abs(y.mean() - x.mean()) < 0.02


def test_dropout_noise_shape_drops_whole_rows(rng):
    x = tl.constant(rng.uniform(0.5, 1.5, size=(400, 6)))
    y = tl.nn.dropout(x, rate=0.5, noise_shape=[400, 1]).numpy()
    zero_rows = (y == 0).all(axis=1)
    nonzero_rows = (y != 0).all(axis=1)
    assert np.all(zero_rows | nonzero_rows)
    assert 100 < zero_rows.sum() < 300
    y2 = tl.nn.dropout(x, rate=0.5, noise_shape=[None, 1]).numpy()
    assert np.all(((y2 == 0).all(axis=1)) | ((y2 != 0).all(axis=1)))


def test_dropout_gradient_is_mask_over_keep_prob(rng):
    x = tl.constant(rng.uniform(0.5, 1.5, size=(50,)))
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = tl.nn.dropout(x, rate=0.4)
    g = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(g, np.where(y.numpy() != 0, 1 / 0.6, 0.0))


def test_dropout_seeded_is_reproducible():
    x = tl.ones([64])
    tl.random.set_seed(11)
    a = tl.nn.dropout(x, 0.5, seed=3).numpy()
    tl.random.set_seed(11)
    b = tl.nn.dropout(x, 0.5, seed=3).numpy()
    np.testing.assert_array_equal(a, b)
    tl.random.set_seed(None)


def test_dropout_rate_zero_is_identity(rng):
    x = tl.constant(rng.normal(size=(3, 2)))
    np.testing.assert_array_equal(tl.nn.dropout(x, 0.0).numpy(), x.numpy())


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5])
def test_error_dropout_rate_out_of_range(rate):
    with pytest.raises(ValueError, match=rf"dropout.*\[0, 1\).*{rate}"):
        tl.nn.dropout(tl.ones([3]), rate=rate)


def test_error_dropout_noise_shape_not_broadcastable():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"dropout.*\[2, 5\].*\[4,3\]|dropout.*4,3"):
        tl.nn.dropout(tl.ones([4, 3]), 0.5, noise_shape=[2, 5])


# ----------------------------------------------------------------- misc behaviour and errors
def test_moments_matches_numpy_for_unknown_axes_order(rng):
    a = rng.normal(size=(2, 3, 4))
    m, v = tl.nn.moments(tl.constant(a), axes=[2, 0])
    np.testing.assert_allclose(m.numpy(), a.mean(axis=(0, 2)))
    np.testing.assert_allclose(v.numpy(), a.var(axis=(0, 2)))


def test_compute_average_loss_defaults_to_batch_size(rng):
    a = rng.uniform(size=(5,))
    np.testing.assert_allclose(tl.nn.compute_average_loss(tl.constant(a)).numpy(), a.mean())
    np.testing.assert_allclose(tl.nn.scale_regularization_loss([tl.constant(1.5), tl.constant(2.0)]).numpy(), 3.5)


def test_l2_normalize_tiny_vector_uses_epsilon():
    y = tl.nn.l2_normalize(tl.constant([0.0, 0.0]), axis=0).numpy()
    np.testing.assert_array_equal(y, [0.0, 0.0])


def test_error_softmax_on_integers_names_op_and_dtype():
    with pytest.raises(TypeError, match="softmax.*int32"):
        tl.nn.softmax(tl.constant([1, 2]))


def test_error_softmax_axis_out_of_range():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"softmax: axis 2 .*rank 2"):
        tl.nn.softmax(tl.ones([2, 3]), axis=2)


def test_error_bias_add_channel_mismatch_names_sizes():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"bias_add: bias has 4 elements.*\[2,3\].*3 channels"):
        tl.nn.bias_add(tl.ones([2, 3]), tl.ones([4]))


def test_error_bias_add_bad_data_format_and_rank():
    with pytest.raises(tl.errors.InvalidArgumentError, match="bias_add.*data_format 'HWNC'"):
        tl.nn.bias_add(tl.ones([2, 3]), tl.ones([3]), data_format="HWNC")
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"bias_add.*rank >= 2.*\[3\]"):
        tl.nn.bias_add(tl.ones([3]), tl.ones([3]))


def test_error_compute_average_loss_scalar():
    with pytest.raises(tl.errors.InvalidArgumentError, match="compute_average_loss.*rank >= 1"):
        tl.nn.compute_average_loss(tl.constant(1.0))


# ----------------------------------------------------------------- space_to_depth / depth_to_space
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_depth_to_space_inverts_space_to_depth(rng, data_format):
    x = rng.integers(-100, 100, size=(3, 6, 9, 2)).astype(np.int32)
    if data_format == "NCHW":
        x = x.transpose(0, 3, 1, 2)
    y = tl.nn.space_to_depth(tl.constant(x), 3, data_format=data_format)
    assert y.dtype == tl.int32
    np.testing.assert_array_equal(tl.nn.depth_to_space(y, 3, data_format=data_format).numpy(), x)


def test_space_to_depth_tf_example_and_unknown_batch():
    x = tl.reshape(tl.range(1, 17), [1, 4, 4, 1])
    np.testing.assert_array_equal(tl.nn.space_to_depth(x, 2)[0, :, :, :].numpy(),
                                  [[[1, 2, 5, 6], [3, 4, 7, 8]], [[9, 10, 13, 14], [11, 12, 15, 16]]])
    assert tuple(tl.nn.depth_to_space(tl.SymbolicTensor((None, 2, 2, 8)), 2).shape) == (None, 4, 4, 2)


def test_error_space_to_depth_and_depth_to_space_arguments():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"space_to_depth: height 5 and width 4 must be divisible "
                                                            r"by block_size 2 \(input shape \[1,5,4,1\], NHWC\)"):
        tl.nn.space_to_depth(tl.zeros([1, 5, 4, 1]), 2)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"depth_to_space: channels 6 must be divisible by "
                                                            r"block_size \*\* 2 = 4"):
        tl.nn.depth_to_space(tl.zeros([1, 2, 2, 6]), 2)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"depth_to_space: block_size must be at least 2, got 1"):
        tl.nn.depth_to_space(tl.zeros([1, 2, 2, 4]), 1)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"space_to_depth: input must be 4-D \(NHWC\), got "
                                                            r"shape \[4,4,1\]"):
        tl.nn.space_to_depth(tl.zeros([4, 4, 1]), 2)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"space_to_depth: data_format must be 'NHWC' or 'NCHW', "
                                                            r"got 'NCHW_VECT_C'"):
        tl.nn.space_to_depth(tl.zeros([1, 4, 4, 1]), 2, data_format="NCHW_VECT_C")
