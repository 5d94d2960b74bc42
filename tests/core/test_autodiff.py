"""GradientTape semantics: watching, persistence, unconnected gradients,
nested structures, higher order, jacobians, custom gradients."""
import numpy as np
import pytest

import tensorlab as tl


def test_second_derivative_with_nested_tapes():
    x = tl.constant(3.0)
    with tl.GradientTape() as outer:
        outer.watch(x)
        with tl.GradientTape() as inner:
            inner.watch(x)
            y = x ** 3
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert float(dy) == pytest.approx(27.0) and float(d2y) == pytest.approx(18.0)


def test_hessian_vector_product(rng):
    a = rng.normal(size=(3, 3))
    A = tl.constant(a + a.T)
    xv, vv = rng.normal(size=3), rng.normal(size=3)
    x, v = tl.constant(xv), tl.constant(vv)
    with tl.GradientTape() as outer:
        outer.watch(x)
        with tl.GradientTape() as inner:
            inner.watch(x)
            f = 0.5 * tl.reduce_sum(x * tl.reduce_sum(A * x, axis=1))
        g = inner.gradient(f, x)
        gv = tl.reduce_sum(g * v)
    hv = outer.gradient(gv, x)
    np.testing.assert_allclose(hv.numpy(), (a + a.T) @ vv, rtol=1e-10)


def test_variables_are_watched_automatically_and_constants_are_not():
    v = tl.Variable(2.0)
    c = tl.constant(5.0)
    with tl.GradientTape() as tape:
        y = v * v * c
    gv, gc = tape.gradient(y, [v, c])
    assert float(gv) == 20.0 and gc is None


def test_watch_accessed_variables_false():
    v = tl.Variable(2.0)
    with tl.GradientTape(watch_accessed_variables=False) as tape:
        y = v * v
    assert tape.gradient(y, v) is None
    with tl.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(v)
        y = v * v
    assert float(tape.gradient(y, v)) == 4.0
    assert tape.watched_variables()[0] is v


def test_non_trainable_variable_not_watched():
    v = tl.Variable(2.0, trainable=False)
    with tl.GradientTape() as tape:
        y = v * 3.0
    assert tape.gradient(y, v) is None


def test_error_non_persistent_tape_used_twice():
    x = tl.constant(1.0)
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="non-persistent GradientTape can only be used to compute one set"):
        tape.gradient(y, x)


def test_persistent_tape_many_gradients():
    x = tl.constant(2.0)
    with tl.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
        z = y * y
    assert float(tape.gradient(y, x)) == 4.0
    assert float(tape.gradient(z, x)) == 32.0


def test_unconnected_gradients_none_and_zero():
    x, y = tl.constant([1.0, 2.0]), tl.constant(3.0)
    with tl.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        z = x * 2.0
    assert tape.gradient(z, y) is None
    assert tape.gradient(z, y, unconnected_gradients="zero").numpy() == 0.0
    assert tape.gradient(z, y, unconnected_gradients=tl.UnconnectedGradients.ZERO).numpy() == 0.0


def test_nested_sources_and_output_gradients():
    a, b = tl.constant([1.0, 2.0]), tl.constant(3.0)
    with tl.GradientTape() as tape:
        tape.watch([a, b])
        y = a * b
    g = tape.gradient(y, {"a": a, "pair": (b, [a])}, output_gradients=tl.constant([1.0, 10.0]))
    np.testing.assert_allclose(g["a"].numpy(), [3.0, 30.0])
    assert float(g["pair"][0]) == 21.0
    np.testing.assert_allclose(g["pair"][1][0].numpy(), [3.0, 30.0])


def test_stop_recording_and_reset():
    x = tl.constant(2.0)
    with tl.GradientTape(persistent=True) as tape:
        tape.watch(x)
        with tape.stop_recording():
            y = x * x
        z = x * 3.0
    assert tape.gradient(y, x) is None
    assert float(tape.gradient(z, x)) == 3.0
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = x * x
        tape.reset()
        tape.watch(x)
        z = x * 5.0
    assert float(tape.gradient(z, x)) == 5.0


def test_stop_gradient():
    x = tl.constant(2.0)
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = x * tl.stop_gradient(x)
    assert float(tape.gradient(y, x)) == 2.0


def test_integer_ops_have_no_gradient():
    x = tl.constant([1.5, 2.5])
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = tl.cast(tl.cast(x, tl.int32), tl.float32) * x
    g = tape.gradient(y, x)
    np.testing.assert_allclose(g.numpy(), [1.0, 2.0])


def test_jacobian_and_batch_jacobian(rng):
    w = rng.normal(size=(3, 2))
    x = tl.constant(rng.normal(size=(4, 3)))
    W = tl.constant(w)
    with tl.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tl.tanh(tl.reduce_sum(x[:, :, None] * W[None], axis=1))  # (4, 2)
    jac = tape.jacobian(y, x)
    assert tuple(jac.shape) == (4, 2, 4, 3)
    bj = tape.batch_jacobian(y, x)
    assert tuple(bj.shape) == (4, 2, 3)
    xv = x.numpy()
    for b in range(4):
        d = 1 - np.tanh(xv[b] @ w) ** 2
        np.testing.assert_allclose(bj.numpy()[b], d[:, None] * w.T, rtol=1e-10)
        np.testing.assert_allclose(jac.numpy()[b, :, b, :], d[:, None] * w.T, rtol=1e-10)
    assert np.all(jac.numpy()[0, :, 1, :] == 0)


def test_custom_gradient():
    @tl.custom_gradient
    def clipped_identity(x):
        def grad(dy):
            return tl.clip_by_value(dy, -1.0, 1.0)
        return tl.identity(x), grad

    x = tl.constant([1.0, 2.0])
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = clipped_identity(x) * 5.0
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [1.0, 1.0])


def test_custom_gradient_with_variables():
    v = tl.Variable(3.0)

    @tl.custom_gradient
    def scaled(x):
        def grad(dy, variables=None):
            return dy * v, [dy * x * 100.0]
        return x * v, grad

    x = tl.constant(2.0)
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = scaled(x)
    gx, gv = tape.gradient(y, [x, v])
    assert float(gx) == 3.0 and float(gv) == 200.0


def test_gradient_accumulates_over_reuse_and_broadcasting(rng):
    a = rng.normal(size=(3, 1))
    b = rng.normal(size=(4,))
    x, y = tl.constant(a), tl.constant(b)
    with tl.GradientTape() as tape:
        tape.watch([x, y])
        z = tl.reduce_sum(x * y + x)
    gx, gy = tape.gradient(z, [x, y])
    np.testing.assert_allclose(gx.numpy(), np.full((3, 1), b.sum() + 4))
    np.testing.assert_allclose(gy.numpy(), np.full((4,), a.sum()))
