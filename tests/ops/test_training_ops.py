"""Fused optimizer updates (ops/training_ops.py): forward vs the Keras rules in numpy
float64, the Keras optimizers' fused and unfused paths agreeing, errors."""
import math

import numpy as np
import pytest

import tensorlab as tl
from tensorlab.ops import training_ops as T
from tests.ops.harness import Case, S, op_tests

V = S(shape=(5, 17), low=0.0, high=1.0, diff=False)   # second-moment slots are >= 0
X = S(shape=(5, 17), diff=False)


def ref_sgd(p, g, *m, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    p = p - lr * weight_decay * p
    if not m:
        return (p - lr * g,)
    new_m = momentum * m[0] - lr * g
    return (p + momentum * new_m - lr * g if nesterov else p + new_m), new_m


def ref_adam(p, g, m, v, *vh, lr, beta_1, beta_2, epsilon, step, weight_decay=0.0):
    p = p - lr * weight_decay * p
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    used = np.maximum(vh[0], v) if vh else v
    p = p - lr * math.sqrt(1 - beta_2 ** step) / (1 - beta_1 ** step) * m / (np.sqrt(used) + epsilon)
    return (p, m, v, used) if vh else (p, m, v)


def ref_moving_average(a, v, *, momentum):
    return (a * momentum + v * (1 - momentum),)


ADAM = dict(lr=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, step=3)
CASES = [
    Case("sgd", T.apply_sgd, ref_sgd, [X, X], dict(lr=0.1), grad=False),
    Case("sgd_decay", T.apply_sgd, ref_sgd, [X, X], dict(lr=0.1, weight_decay=0.05), grad=False),
    Case("sgd_momentum", T.apply_sgd, ref_sgd, [X, X, X], dict(lr=0.1, momentum=0.9), grad=False),
    Case("sgd_nesterov", T.apply_sgd, ref_sgd, [X, X, X], dict(lr=0.05, momentum=0.8, nesterov=True,
                                                               weight_decay=0.01), grad=False),
    Case("adam", T.apply_adam, ref_adam, [X, X, X, V], ADAM, grad=False),
    Case("adamw", T.apply_adam, ref_adam, [X, X, X, V], dict(ADAM, weight_decay=0.004, step=1), grad=False),
    Case("amsgrad", T.apply_adam, ref_adam, [X, X, X, V, V], dict(ADAM, step=7), grad=False),
    Case("sgd_scalar", T.apply_sgd, ref_sgd, [S(shape=()), S(shape=())], dict(lr=0.3), grad=False),
    Case("adam_scalar", T.apply_adam, ref_adam, [S(shape=()), S(shape=()), S(shape=()), S(shape=(), low=0, high=1)],
         ADAM, grad=False),
    Case("moving_average", T.apply_moving_average, ref_moving_average, [X, X], dict(momentum=0.99), grad=False),
    Case("moving_average_scalar", T.apply_moving_average, ref_moving_average, [S(shape=()), S(shape=())],
         dict(momentum=0.9), grad=False),
]
globals().update(op_tests(CASES))  # forward (float64 and float32), shape rule, GPU vs CPU


def test_updates_are_not_recorded_on_tapes(rng):
    p, g = tl.constant(rng.normal(size=(3,))), tl.constant(rng.normal(size=(3,)))
    with tl.GradientTape() as tape:
        tape.watch(p)
        (out,) = T.apply_sgd(p, g, lr=0.1)
    assert tape.gradient(out, p) is None


def test_moving_average_errors():
    a = tl.zeros((3,))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"apply_moving_average: the new value must match the "
                                                            r"average"):
        T.apply_moving_average(a, tl.zeros((4,)), momentum=0.9)
    with pytest.raises(tl.errors.InvalidArgumentError, match="apply_moving_average: momentum must be a finite"):
        T.apply_moving_average(a, a, momentum=float("inf"))


def test_error_shapes_dtypes_slots_and_step():
    p = tl.zeros((3, 4))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"apply_sgd: the gradient must match the parameter "
                                                             r"\(shape \[3,4\], dtype float32\); got shape \[4,3\]"):
        T.apply_sgd(p, tl.zeros((4, 3)), lr=0.1)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"apply_adam: the slot 1 must match.*dtype float64"):
        T.apply_adam(p, p, p, tl.zeros((3, 4), dtype=tl.float64), **ADAM)
    sym = tl.SymbolicTensor((3, 4), tl.float32)
    with pytest.raises(tl.errors.InvalidArgumentError, match="apply_adam: expected 2 or 3 slot tensor"):
        T.apply_adam_p(sym, sym, sym, lr=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-7, step=1, weight_decay=0.0)
    with pytest.raises(tl.errors.InvalidArgumentError, match="apply_adam: step must be >= 1"):
        T.apply_adam(p, p, p, p, **dict(ADAM, step=0))
    with pytest.raises(tl.errors.InvalidArgumentError, match="apply_sgd: learning_rate must be a finite"):
        T.apply_sgd(p, p, lr=float("nan"))
    with pytest.raises(TypeError, match="apply_sgd: expected a floating-point tensor"):
        T.apply_sgd(tl.zeros((2,), dtype=tl.int32), tl.zeros((2,), dtype=tl.int32), lr=1.0)


# ------------------------------------------------------------------ the Keras optimizers' fused path
OPTIMIZERS = [
    lambda: tl.keras.optimizers.SGD(0.1),
    lambda: tl.keras.optimizers.SGD(0.1, momentum=0.9, weight_decay=0.01),
    lambda: tl.keras.optimizers.SGD(0.05, momentum=0.8, nesterov=True),
    lambda: tl.keras.optimizers.Adam(0.01),
    lambda: tl.keras.optimizers.Adam(tl.keras.optimizers.schedules.ExponentialDecay(0.01, 1, 0.5), amsgrad=True),
    lambda: tl.keras.optimizers.AdamW(0.01, weight_decay=0.1),
]


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["sgd", "sgd_momentum_decay", "nesterov", "adam",
                                                   "amsgrad_schedule", "adamw"])
def test_fused_update_matches_the_unfused_rule(make, rng):
    init = [rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=(3,)).astype(np.float32)]
    grads = [[rng.normal(size=a.shape).astype(np.float32) for a in init] for _ in range(4)]
    results = []
    for fused in (True, False):
        opt = make()
        if not fused:
            opt._fused_update = None  # the per-op update rule
        vs = [tl.Variable(a) for a in init]
        for step, gs in enumerate(grads):
            if step == 2:
                opt.learning_rate.assign(opt.learning_rate.numpy() * 0.5)  # a direct assign is seen too
            opt.apply_gradients(zip([tl.constant(g) for g in gs], vs))
        results.append(([v.numpy() for v in vs], [s.numpy() for s in opt.variables]))
    (wf, sf), (wu, su) = results
    for a, b in zip(wf + sf, wu + su):
        np.testing.assert_allclose(a, b, rtol=2e-6, atol=1e-7)
    assert any(not np.allclose(w, i) for w, i in zip(wf, init))   # the steps did move the weights


def test_learning_rate_set_after_the_first_step_takes_effect(rng):
    opt = tl.keras.optimizers.SGD(0.1)
    v = tl.Variable(np.ones(3, np.float32))
    opt.apply_gradients([(tl.ones(3), v)])
    opt.learning_rate = 0.5
    opt.apply_gradients([(tl.ones(3), v)])
    opt.learning_rate.assign(0.25)
    opt.apply_gradients([(tl.ones(3), v)])
    np.testing.assert_allclose(v.numpy(), 1 - 0.1 - 0.5 - 0.25, rtol=1e-6)


def test_a_tensor_read_before_the_update_keeps_its_value(rng):
    v = tl.Variable(rng.normal(size=(5,)).astype(np.float32))
    before = v.read_value()
    kept = before.numpy().copy()
    opt = tl.keras.optimizers.Adam(0.1)
    opt.apply_gradients([(tl.ones(5), v)])
    np.testing.assert_array_equal(before.numpy(), kept)
    assert not np.allclose(v.numpy(), kept)


def test_a_scheduled_rate_is_known_on_the_host_without_reading_the_variable(monkeypatch):
    opt = tl.keras.optimizers.Adam(tl.keras.optimizers.schedules.ExponentialDecay(0.01, 1, 0.5))
    v = tl.Variable(np.ones(3, np.float32))
    reads = []
    real = tl.Tensor.numpy
    monkeypatch.setattr(tl.Tensor, "numpy", lambda self: reads.append(self) or real(self))
    for _ in range(3):
        opt.apply_gradients([(tl.ones(3), v)])
    assert not reads   # on a GPU each read of the rate would be a device sync
    assert opt._lr_float() == np.float32(0.01 * 0.5 ** 2)
