"""Fused normalization (ops/normalization.py): layer norm and training-mode batch norm against
numpy float64, gradients and second derivatives against finite differences, the saved
statistics' lifetime on a tape, and errors."""
import gc

import numpy as np
import pytest

import tensorlab as tl
from tensorlab.ops import normalization as N
from tests.ops.harness import Case, S, op_tests

EPS = 1e-3


def ref_layer_norm(x, gamma, beta, epsilon=EPS):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon) * gamma + beta


def ref_batch_norm(x, gamma, beta, epsilon=EPS):
    axes = tuple(range(x.ndim - 1))
    mean = x.mean(axes)
    var = ((x - mean) ** 2).mean(axes)
    return (x - mean) / np.sqrt(var + epsilon) * gamma + beta, mean, var


def P(c):
    return S(shape=(c,), low=0.5, high=1.5)


CASES = [
    Case("layer_norm", lambda x, g, b: N.layer_norm(x, g, b, EPS), ref_layer_norm, [S((4, 7)), P(7), P(7)]),
    Case("layer_norm_3d", lambda x, g, b: N.layer_norm(x, g, b, EPS), ref_layer_norm,
         [S((2, 3, 5)), P(5), P(5)]),
    Case("layer_norm_one_feature", lambda x, g, b: N.layer_norm(x, g, b, 0.5), lambda x, g, b:
         ref_layer_norm(x, g, b, 0.5), [S((3, 1)), P(1), P(1)]),
    Case("batch_norm", lambda x, g, b: N.batch_norm(x, g, b, EPS)[0], lambda *a: ref_batch_norm(*a)[0],
         [S((6, 4)), P(4), P(4)]),
    Case("batch_norm_statistics", lambda x, g, b: N.batch_norm(x, g, b, EPS), ref_batch_norm,
         [S((5, 2, 3)), P(3), P(3)], grad=False),
    Case("batch_norm_nhwc", lambda x, g, b: N.batch_norm(x, g, b, EPS)[0], lambda *a: ref_batch_norm(*a)[0],
         [S((2, 3, 3, 4)), P(4), P(4)]),
]
globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


def test_defaults_are_unit_scale_and_zero_shift(rng):
    x = rng.normal(size=(5, 6))
    np.testing.assert_allclose(N.layer_norm(tl.constant(x)).numpy(),
                               ref_layer_norm(x, np.ones(6), np.zeros(6)), rtol=1e-12, atol=1e-12)
    y, mean, var = N.batch_norm(tl.constant(x))
    ry, rm, rv = ref_batch_norm(x, np.ones(6), np.zeros(6))
    for a, b in ((y, ry), (mean, rm), (var, rv)):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_is_normalized_in_float32(rng, dtype):
    x = rng.normal(3.0, 2.0, size=(4, 64))
    y = N.layer_norm(tl.cast(tl.constant(x), dtype))
    assert y.dtype.name == dtype
    ref = ref_layer_norm(tl.cast(tl.constant(x), dtype).numpy().astype(np.float64), 1.0, 0.0)
    np.testing.assert_allclose(y.numpy().astype(np.float64), ref, atol=0.05)


def test_batch_statistics_carry_no_gradient(rng):
    x = tl.constant(rng.normal(size=(6, 3)))
    with tl.GradientTape() as tape:
        tape.watch(x)
        _, mean, var = N.batch_norm(x)
        total = tl.reduce_sum(mean) + tl.reduce_sum(var)
    assert tape.gradient(total, x) is None


def test_saved_statistics_live_with_the_output_only(rng):
    """The tape keeps the statistics the backward needs while y lives, and drops them with y."""
    x = tl.constant(rng.normal(size=(4, 5)))
    with tl.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = N.layer_norm(x)
        gc.collect()
        nodes = len(tape._nodes)
        loss = tl.reduce_sum(y * y * x)
    g = tape.gradient(loss, x)
    assert g is not None and np.isfinite(g.numpy()).all()
    del y, loss, g
    gc.collect()
    assert len(tape._nodes) < nodes, "the layer_norm node outlived its output"


def test_errors_name_the_op_and_shapes():
    x = tl.ones((2, 3))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"layer_norm: gamma must be a vector of the 3"):
        N.layer_norm(x, tl.ones((4,)))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"batch_norm: beta .* dtype float32.*float64"):
        N.batch_norm(x, None, tl.zeros((3,), dtype="float64"))
    with pytest.raises(TypeError, match="layer_norm: expected a floating-point tensor"):
        N.layer_norm(tl.ones((2, 3), dtype="int32"))
    with pytest.raises(tl.errors.InvalidArgumentError, match="batch_norm: x must have at least one axis"):
        N.batch_norm(tl.constant(1.0))
