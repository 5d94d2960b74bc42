"""numpy implementations of the nn primitives (ops/nn.py)."""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import nn as N


@impl(N.relu_p, "cpu")
def relu(x):
    return np.maximum(x, np.zeros((), x.dtype))


@impl(N.relu_grad_p, "cpu")
def relu_grad(y, g):
    return g * (y > 0)


@impl(N.softmax_p, "cpu")
def softmax(x, axis):
    # Subtracting the max keeps exp from overflowing; the result is unchanged.
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


@impl(N.log_softmax_p, "cpu")
def log_softmax(x, axis):
    s = x - np.max(x, axis=axis, keepdims=True)
    return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


@impl(N.softmax_grad_p, "cpu")
def softmax_grad(y, g, axis):
    gy = g * y
    return gy - y * np.sum(gy, axis=axis, keepdims=True)


@impl(N.log_softmax_grad_p, "cpu")
def log_softmax_grad(y, g, axis):
    return g - np.exp(y) * np.sum(g, axis=axis, keepdims=True)


@impl(N.bias_add_p, "cpu")
def bias_add(x, b, data_format):
    if data_format == "NCHW":
        b = b.reshape((-1,) + (1,) * (x.ndim - 2))
    return x + b
