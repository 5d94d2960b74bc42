"""Optimizers against numpy re-implementations of Keras' update rules, clipping,
learning-rate schedules and config round trips."""
import math

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import optimizers
from tensorlab.keras.optimizers import schedules


def run(opt, w0, grads):
    v = tl.Variable(w0.copy())
    for g in grads:
        opt.apply_gradients([(tl.constant(g), v)])
    return v.numpy()


def ref_sgd(w, gs, lr, momentum=0.0, nesterov=False):
    m = np.zeros_like(w)
    for g in gs:
        if momentum:
            m = momentum * m - lr * g
            w = w + (momentum * m - lr * g if nesterov else m)
        else:
            w = w - lr * g
    return w


def ref_adam(w, gs, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False, wd=None):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    vh = np.zeros_like(w)
    for t, g in enumerate(gs, 1):
        if wd:
            w = w - w * lr * wd
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        if amsgrad:
            vh = np.maximum(vh, v)
        alpha = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        w = w - m * alpha / (np.sqrt(vh if amsgrad else v) + eps)
    return w


def ref_rmsprop(w, gs, lr=1e-3, rho=0.9, momentum=0.0, eps=1e-7, centered=False):
    v = np.zeros_like(w)
    mg = np.zeros_like(w)
    mom = np.zeros_like(w)
    for g in gs:
        v = rho * v + (1 - rho) * g * g
        denom = v
        if centered:
            mg = rho * mg + (1 - rho) * g
            denom = v - mg ** 2
        inc = lr * g / np.sqrt(denom + eps)
        if momentum:
            mom = momentum * mom + inc
            inc = mom
        w = w - inc
    return w


def ref_adagrad(w, gs, lr=1e-3, init=0.1, eps=1e-7):
    acc = np.full_like(w, init)
    for g in gs:
        acc = acc + g * g
        w = w - lr * g / np.sqrt(acc + eps)
    return w


def ref_adadelta(w, gs, lr=1e-3, rho=0.95, eps=1e-7):
    ag = np.zeros_like(w)
    ad = np.zeros_like(w)
    for g in gs:
        ag = rho * ag + (1 - rho) * g * g
        d = np.sqrt(ad + eps) / np.sqrt(ag + eps) * g
        ad = rho * ad + (1 - rho) * d * d
        w = w - lr * d
    return w


def ref_adamax(w, gs, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
    m = np.zeros_like(w)
    u = np.zeros_like(w)
    for t, g in enumerate(gs, 1):
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g))
        w = w - lr / (1 - b1 ** t) * m / (u + eps)
    return w


def ref_nadam(w, gs, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    up = 1.0
    for t, g in enumerate(gs, 1):
        ut = b1 * (1 - 0.5 * 0.96 ** (0.004 * t))
        ut1 = b1 * (1 - 0.5 * 0.96 ** (0.004 * (t + 1)))
        up = up * ut
        up1 = up * ut1
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        mh = ut1 * m / (1 - up1) + (1 - ut) * g / (1 - up)
        vh = v / (1 - b2 ** t)
        w = w - lr * mh / (np.sqrt(vh) + eps)
    return w


CASES = [
    ("sgd", lambda: optimizers.SGD(0.125), lambda w, g: ref_sgd(w, g, 0.125)),
    ("sgd_momentum", lambda: optimizers.SGD(0.125, momentum=0.9), lambda w, g: ref_sgd(w, g, 0.125, 0.9)),
    ("sgd_nesterov", lambda: optimizers.SGD(0.125, momentum=0.9, nesterov=True),
     lambda w, g: ref_sgd(w, g, 0.125, 0.9, True)),
    ("adam", lambda: optimizers.Adam(0.0078125), lambda w, g: ref_adam(w, g, 0.0078125)),
    ("adam_amsgrad", lambda: optimizers.Adam(0.0078125, amsgrad=True), lambda w, g: ref_adam(w, g, 0.0078125, amsgrad=True)),
    ("adamw", lambda: optimizers.AdamW(0.0078125, weight_decay=0.125), lambda w, g: ref_adam(w, g, 0.0078125, wd=0.125)),
    ("rmsprop", lambda: optimizers.RMSprop(0.0078125), lambda w, g: ref_rmsprop(w, g, 0.0078125)),
    ("rmsprop_centered_momentum", lambda: optimizers.RMSprop(0.0078125, momentum=0.5, centered=True),
     lambda w, g: ref_rmsprop(w, g, 0.0078125, momentum=0.5, centered=True)),
    ("adagrad", lambda: optimizers.Adagrad(0.125), lambda w, g: ref_adagrad(w, g, 0.125)),
    ("adadelta", lambda: optimizers.Adadelta(1.0), lambda w, g: ref_adadelta(w, g, 1.0)),
    ("adamax", lambda: optimizers.Adamax(0.0078125), lambda w, g: ref_adamax(w, g, 0.0078125)),
    ("nadam", lambda: optimizers.Nadam(0.0078125), lambda w, g: ref_nadam(w, g, 0.0078125)),
]


@pytest.mark.parametrize("name,make,ref", CASES, ids=[c[0] for c in CASES])
def test_update_rules_match_numpy(name, make, ref, rng):
    w0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(4)]
    opt = make()
    # learning rates exact in float32 (Keras keeps the rate in a float32 variable)
    np.testing.assert_allclose(run(opt, w0, grads), ref(w0, grads), rtol=1e-9, atol=1e-12)
    assert int(opt.iterations) == 4


def test_string_identifiers_and_unknown_name():
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'adamm'.*adam"):
        optimizers.get("adamm")


def test_clipping(rng):
    w0 = np.zeros(3)
    g = np.array([3.0, 4.0, 0.0])
    np.testing.assert_allclose(run(optimizers.SGD(1.0, clipnorm=1.0), w0, [g]), -g / 5.0)
    np.testing.assert_allclose(run(optimizers.SGD(1.0, clipvalue=0.5), w0, [g]), [-0.5, -0.5, 0.0])
    a, b = tl.Variable(np.zeros(1)), tl.Variable(np.zeros(1))
    opt = optimizers.SGD(1.0, global_clipnorm=1.0)
    opt.apply_gradients([(tl.constant([3.0]), a), (tl.constant([4.0]), b)])
    np.testing.assert_allclose([a.numpy()[0], b.numpy()[0]], [-0.6, -0.8])


def test_none_gradients_are_skipped_and_minimize(rng):
    v = tl.Variable(np.array([1.0, 2.0]))
    u = tl.Variable(np.array([5.0]))
    opt = optimizers.SGD(0.5)
    opt.apply_gradients([(None, u), (tl.constant([1.0, 1.0]), v)])
    np.testing.assert_allclose(u.numpy(), [5.0])
    np.testing.assert_allclose(v.numpy(), [0.5, 1.5])
    opt.minimize(lambda: tl.reduce_sum(v * v), [v])
    np.testing.assert_allclose(v.numpy(), [0.0, 0.0])


def test_learning_rate_is_settable_and_schedules_drive_it():
    opt = optimizers.SGD(0.1)
    opt.learning_rate = 0.5
    assert float(opt.learning_rate) == 0.5
    opt.learning_rate.assign(0.25)
    v = tl.Variable(np.array([1.0]))
    opt.apply_gradients([(tl.constant([1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.75])
    sched = schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    opt = optimizers.SGD(sched)
    v = tl.Variable(np.array([0.0]))
    for _ in range(3):
        opt.apply_gradients([(tl.constant([1.0]), v)])
    np.testing.assert_allclose(v.numpy(), [-(1.0 + 0.5 + 0.25)])


def test_schedule_values():
    assert schedules.ExponentialDecay(0.1, 10, 0.5)(5) == pytest.approx(0.1 * 0.5 ** 0.5)
    assert schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)(15) == pytest.approx(0.05)
    pw = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [pw(s) for s in (0, 10, 11, 20, 21)] == [1.0, 1.0, 0.5, 0.5, 0.1]
    assert schedules.InverseTimeDecay(1.0, 1, 0.5)(2) == pytest.approx(0.5)
    assert schedules.PolynomialDecay(1.0, 10, 0.0, power=2)(5) == pytest.approx(0.25)
    assert schedules.PolynomialDecay(1.0, 10, 0.1)(50) == pytest.approx(0.1)
    cd = schedules.CosineDecay(1.0, 100, alpha=0.1)
    assert cd(0) == pytest.approx(1.0) and cd(100) == pytest.approx(0.1) and cd(50) == pytest.approx(0.55)
    wu = schedules.CosineDecay(0.0, 100, warmup_target=1.0, warmup_steps=10)
    assert wu(5) == pytest.approx(0.5) and wu(10) == pytest.approx(1.0) and wu(110) == pytest.approx(0.0)
    cfg = schedules.serialize(cd)
    assert schedules.deserialize(cfg)(50) == pytest.approx(0.55)


def test_config_round_trip_and_variables():
    opt = optimizers.Adam(learning_rate=schedules.InverseTimeDecay(0.1, 5, 1.0), beta_1=0.8, clipnorm=2.0)
    clone = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(clone, optimizers.Adam) and clone.beta_1 == 0.8 and clone.clipnorm == 2.0
    v = tl.Variable(np.ones(2))
    opt.apply_gradients([(tl.constant([1.0, 1.0]), v)])
    assert len(opt.variables) == 4 and len(opt.variables()) == 4  # iterations, lr, m, v


def test_constraint_applied_after_update():
    v = tl.Variable(np.array([1.0, -1.0]), constraint=keras.constraints.NonNeg())
    optimizers.SGD(1.0).apply_gradients([(tl.constant([2.0, 0.0]), v)])
    np.testing.assert_allclose(v.numpy(), [0.0, 0.0])
