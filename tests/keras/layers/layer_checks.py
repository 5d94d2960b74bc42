"""Checks shared by the layer tests: config round trip, symbolic shapes,
gradient flow, gradients against finite differences, and rank errors."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras


def as_np(y):
    if isinstance(y, (list, tuple)):
        return [as_np(v) for v in y]
    return y.numpy()


def shapes(y):
    if isinstance(y, (list, tuple)):
        return [shapes(v) for v in y]
    return tuple(y.shape)


def call(layer, x, **kw):
    return layer(x, **kw)


def check_roundtrip(layer, x, **call_kw):
    """Same config after from_config, and the same output with the weights copied over."""
    y = layer(x, **call_kw)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    cfg2 = clone.get_config()
    config = dict(config)
    config.pop("name")
    cfg2.pop("name")
    assert cfg2 == config
    y2 = clone(x, **call_kw)  # builds
    clone.set_weights(layer.get_weights())
    y2 = clone(x, **call_kw)
    for a, b in zip(np.atleast_1d(as_np(y)) if not isinstance(y, (list, tuple)) else as_np(y),
                    np.atleast_1d(as_np(y2)) if not isinstance(y2, (list, tuple)) else as_np(y2)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    return clone


def check_symbolic(layer, x, **call_kw):
    """Calling on keras.Input infers the eager output shape (batch unknown)."""
    y = layer(x, **call_kw)
    inp = keras.Input(shape=tuple(x.shape[1:]), dtype=x.dtype.name)
    ys = layer(inp, **call_kw)

    def nobatch(s):
        return [nobatch(v) for v in s] if isinstance(s, list) else (None,) + tuple(s[1:])
    assert shapes(ys) == nobatch(shapes(y))
    return ys


def check_grads(layer, x, training=None, wrt_input=True):
    """A scalar loss of the output has a finite, non-zero gradient for each trainable weight."""
    rng = np.random.default_rng(0)
    x = tl.constant(x) if not isinstance(x, (tl.Tensor, list)) else x
    with tl.GradientTape() as tape:
        if wrt_input and isinstance(x, tl.Tensor) and x.dtype.is_floating:
            tape.watch(x)
        kw = {} if training is None else {"training": training}
        y = layer(x, **kw)
        ys = y if isinstance(y, (list, tuple)) else [y]
        loss = tl.add_n([tl.reduce_sum(v * tl.constant(rng.standard_normal(tuple(v.shape)), dtype=v.dtype))
                         for v in ys])
    weights = list(layer.trainable_weights)
    assert weights, "layer has no trainable weights"
    grads = tape.gradient(loss, weights)
    for w, g in zip(weights, grads):
        assert g is not None, f"no gradient for {w.name}"
        g = g.numpy()
        assert g.shape == tuple(w.shape)
        assert np.all(np.isfinite(g)) and np.any(g != 0), f"zero/non-finite gradient for {w.name}"


def check_rank_error(layer, x, expected):
    """Wrong input rank: a ValueError naming the layer, the expectation and the received shape."""
    with pytest.raises(ValueError) as ei:
        layer(x)
    msg = str(ei.value)
    assert layer.name in msg, msg
    assert expected in msg, msg
    shape_txt = "(" + ", ".join(str(d) for d in x.shape) + ("," if len(x.shape) == 1 else "") + ")"
    assert shape_txt in msg, msg


def rand(rng, *shape, dtype="float64"):
    return tl.constant(rng.standard_normal(shape).astype(dtype))


def input_grad(layer, x, r, **kw):
    """d sum(layer(x) * r) / dx as numpy."""
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, **kw)
        loss = tl.reduce_sum(y * tl.constant(r, dtype=y.dtype))
    return tape.gradient(loss, x).numpy()


def fd_input_grad(layer, x, r, eps=1e-6, **kw):
    """Central finite differences of ``sum(layer(x) * r)`` with respect to ``x`` (float64)."""
    xn = x.numpy().astype(np.float64)
    g = np.zeros_like(xn)
    for i in np.ndindex(xn.shape):
        hi, lo = xn.copy(), xn.copy()
        hi[i] += eps
        lo[i] -= eps
        g[i] = (np.sum(layer(tl.constant(hi), **kw).numpy() * r) - np.sum(layer(tl.constant(lo), **kw).numpy() * r)) \
            / (2 * eps)
    return g


def check_input_grad_fd(layer, x, rng, rtol=1e-6, atol=1e-8, **kw):
    y = layer(x, **kw)
    r = rng.standard_normal(tuple(y.shape))
    np.testing.assert_allclose(input_grad(layer, x, r, **kw), fd_input_grad(layer, x, r, **kw), rtol=rtol, atol=atol)


def check_weight_grads_fd(layer, x, rng, eps=1e-6, rtol=1e-6, atol=1e-8, **kw):
    """The gradient of ``sum(layer(x) * r)`` for each trainable weight against central finite
    differences (a float64 layer with few weights)."""
    y = layer(x, **kw)
    r = rng.standard_normal(tuple(y.shape))
    with tl.GradientTape() as tape:
        loss = tl.reduce_sum(layer(x, **kw) * tl.constant(r, dtype=y.dtype))
    grads = tape.gradient(loss, layer.trainable_weights)
    for w, g in zip(layer.trainable_weights, grads):
        base = w.numpy().copy()
        num = np.zeros_like(base)
        for i in np.ndindex(base.shape):
            sums = []
            for step in (eps, -eps):
                moved = base.copy()
                moved[i] += step
                w.assign(moved)
                sums.append(np.sum(layer(x, **kw).numpy() * r))
            num[i] = (sums[0] - sums[1]) / (2 * eps)
        w.assign(base)
        np.testing.assert_allclose(g.numpy(), num, rtol=rtol, atol=atol, err_msg=w.name)
