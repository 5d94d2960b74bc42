"""Fused bias + activation (ops/fused.py): each activation against numpy float64, gradients
for x and the bias and second derivatives against finite differences, NaN, errors."""
import math

import numpy as np
import pytest

import tensorlab as tl
from tensorlab.ops import fused as F
from tests.ops.harness import Case, S, op_tests
from tests.ops.test_nn import Away

_erf = np.vectorize(math.erf)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


REF = {
    "relu": lambda z: np.maximum(z, 0),
    "gelu": lambda z: 0.5 * z * (1 + _erf(z / math.sqrt(2))),
    "gelu_tanh": lambda z: 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3))),
    "silu": lambda z: z * _sigmoid(z),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
}


def _case(act, shape=(4, 7)):
    # relu's x + b stays at least 0.2 from the kink, where finite differences would straddle it
    inputs = ([Away(shape, low=0.3), S(shape[-1:], low=-0.1, high=0.1)] if act == "relu" else
              [S(shape), S(shape[-1:])])
    return Case(f"bias_act[{act},{len(shape)}d]", lambda x, b, act=act: F.bias_act(x, b, act),
                lambda x, b, act=act: REF[act](x + b), inputs)


CASES = [_case(a) for a in F.ACTIVATIONS] + [_case("gelu", (2, 3, 5)), _case("silu", (6,))]
globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


@pytest.mark.parametrize("act", F.ACTIVATIONS)
def test_the_composite_activation_agrees(act, rng):
    x, b = tl.constant(rng.normal(size=(5, 8))), tl.constant(rng.normal(size=8))
    np.testing.assert_allclose(F.bias_act(x, b, act).numpy(), F.activation_fn(act)(x + b).numpy(),
                               rtol=1e-12, atol=1e-14)


def test_nan_propagates_through_relu_and_its_gradient():
    x = tl.constant([[np.nan, 1.0, -1.0]])
    b = tl.zeros((3,))
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = F.bias_act(x, b, "relu")
    g = tape.gradient(y, x).numpy()
    assert np.isnan(y.numpy()[0, 0]) and np.isnan(g[0, 0])
    np.testing.assert_array_equal(g[0, 1:], [1.0, 0.0])


def test_float16_is_computed_in_float32(rng):
    x = rng.normal(size=(3, 16)).astype(np.float16)
    b = rng.normal(size=16).astype(np.float16)
    y = F.bias_act(tl.constant(x), tl.constant(b), "gelu")
    assert y.dtype.name == "float16"
    np.testing.assert_allclose(y.numpy(), REF["gelu"](x.astype(np.float64) + b), atol=5e-3, rtol=5e-3)


def test_errors_name_the_op():
    x = tl.ones((2, 3))
    with pytest.raises(tl.errors.InvalidArgumentError, match="bias_act: activation must be one of relu"):
        F.bias_act(x, tl.zeros((3,)), "softmax")
    with pytest.raises(tl.errors.InvalidArgumentError,
                       match=r"bias_act: the bias must be a vector.*\[2,3\].*got shape \[2\]"):
        F.bias_act(x, tl.zeros((2,)), "relu")
