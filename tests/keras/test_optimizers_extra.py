"""Lion, Adafactor, Ftrl and Lamb against float64 numpy implementations of Keras 3's
update rules (with weight decay, clipping, loss_scale_factor); the optimizers' EMA
(use_ema); training, checkpoint and config round trips; argument errors."""
import math

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import optimizers
from tests.keras.test_losses_extra import check_config_round_trips


def run(opt, w0, grads):
    v = tl.Variable(w0.copy())
    for g in grads:
        opt.apply_gradients([(tl.constant(g), v)])
    return v.numpy()


def decayed(w, lr, wd):
    return w - w * lr * wd if wd else w


def ref_lion(w, gs, lr=1e-3, b1=0.9, b2=0.99, wd=None):
    m = np.zeros_like(w)
    for g in gs:
        w = decayed(w, lr, wd)
        w = w - lr * np.sign(b1 * m + (1 - b1) * g)
        m = b2 * m + (1 - b2) * g
    return w


def _rms(x):
    return np.sqrt(np.mean(x * x))


def ref_adafactor(w, gs, lr=1e-3, decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0, wd=None):
    r = np.zeros(w.shape[:-1]) if w.ndim >= 2 else 0.0
    c = np.zeros(w.shape[:-2] + w.shape[-1:]) if w.ndim >= 2 else 0.0
    v = np.zeros_like(w)
    for t, g in enumerate(gs, 1):
        w = decayed(w, lr, wd)
        alpha = max(eps2, _rms(w)) * min(lr, 1 / math.sqrt(t))
        g2 = g * g + eps1
        b = 1 - t ** decay
        if w.ndim >= 2:
            r = b * r + (1 - b) * g2.mean(-1)
            c = b * c + (1 - b) * g2.mean(-2)
            v = (r / r.mean(-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v = b * v + (1 - b) * g2
        u = g / np.sqrt(v)
        w = w - alpha * u / max(1.0, _rms(u) / clip)
    return w


def ref_ftrl(w, gs, lr=1e-3, power=-0.5, init=0.1, l1=0.0, l2=0.0, shrink=0.0, beta=0.0, wd=None):
    n = np.full_like(w, init)
    z = np.zeros_like(w)
    for g in gs:
        w = decayed(w, lr, wd)
        new_n = n + g * g
        z = z + g + 2 * shrink * w - (new_n ** -power - n ** -power) / lr * w
        quad = new_n ** -power / lr + 2 * (l2 + beta / (2 * lr))
        w = (np.clip(z, -l1, l1) - z) / quad
        n = new_n
    return w


def ref_lamb(w, gs, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7, wd=None):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(gs, 1):
        w = decayed(w, lr, wd)
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        u = (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        wn, un = np.linalg.norm(w), np.linalg.norm(u)
        w = w - (wn / un if wn > 0 and un > 0 else 1.0) * lr * u
    return w


# learning rates exact in float32 (Keras keeps the rate in a float32 variable)
CASES = [
    ("lion", lambda: optimizers.Lion(0.0078125), lambda w, g: ref_lion(w, g, 0.0078125)),
    ("lion_betas_decay", lambda: optimizers.Lion(0.0078125, beta_1=0.5, beta_2=0.75, weight_decay=0.25),
     lambda w, g: ref_lion(w, g, 0.0078125, 0.5, 0.75, wd=0.25)),
    ("adafactor", lambda: optimizers.Adafactor(), lambda w, g: ref_adafactor(w, g, float(np.float32(1e-3)))),
    ("adafactor_options", lambda: optimizers.Adafactor(0.5, beta_2_decay=-0.5, epsilon_1=1e-20, epsilon_2=0.25,
                                                       clip_threshold=0.5, weight_decay=0.125),
     lambda w, g: ref_adafactor(w, g, 0.5, -0.5, 1e-20, 0.25, 0.5, wd=0.125)),
    ("ftrl", lambda: optimizers.Ftrl(0.125), lambda w, g: ref_ftrl(w, g, 0.125)),
    ("ftrl_regularized", lambda: optimizers.Ftrl(0.125, learning_rate_power=-0.25, initial_accumulator_value=0.5,
                                                 l1_regularization_strength=0.0625, l2_regularization_strength=0.5,
                                                 l2_shrinkage_regularization_strength=0.25, beta=0.5),
     lambda w, g: ref_ftrl(w, g, 0.125, -0.25, 0.5, 0.0625, 0.5, 0.25, 0.5)),
    ("ftrl_fixed_rate", lambda: optimizers.Ftrl(0.125, learning_rate_power=0.0),
     lambda w, g: ref_ftrl(w, g, 0.125, 0.0)),
    ("lamb", lambda: optimizers.Lamb(0.0078125), lambda w, g: ref_lamb(w, g, 0.0078125)),
    ("lamb_options", lambda: optimizers.Lamb(0.0078125, beta_1=0.8, beta_2=0.9, epsilon=1e-3, weight_decay=0.5),
     lambda w, g: ref_lamb(w, g, 0.0078125, 0.8, 0.9, 1e-3, wd=0.5)),
]


@pytest.mark.parametrize("shape", [(3, 4), (5,), (2, 3, 4)])
@pytest.mark.parametrize("name,make,ref", CASES, ids=[c[0] for c in CASES])
def test_update_rules_match_numpy(name, make, ref, shape, rng):
    w0 = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(5)]
    opt = make()
    np.testing.assert_allclose(run(opt, w0, grads), ref(w0, grads), rtol=1e-9, atol=1e-12)
    assert int(opt.iterations) == 5


def test_lamb_zero_variable_moves_as_adam(rng):
    g = rng.standard_normal((2, 3))
    np.testing.assert_allclose(run(optimizers.Lamb(0.0078125), np.zeros((2, 3)), [g]),
                               ref_lamb(np.zeros((2, 3)), [g], 0.0078125), rtol=1e-12)


@pytest.mark.parametrize("name,make,ref", CASES[::2], ids=[c[0] for c in CASES[::2]])
def test_clipping_and_loss_scale_factor_apply_first(name, make, ref, rng):
    w0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) * 3 for _ in range(3)]
    clipped = [g * min(1.0, 1.5 / np.linalg.norm(g)) for g in grads]
    opt = make()
    opt.clipnorm = 1.5
    np.testing.assert_allclose(run(opt, w0, grads), ref(w0, clipped), rtol=1e-9, atol=1e-12)
    opt = make()
    opt.global_clipnorm = 1.5  # float64 gradients: the global norm in float64 too
    np.testing.assert_allclose(run(opt, w0, grads), ref(w0, clipped), rtol=1e-9, atol=1e-12)
    opt = make()
    opt.loss_scale_factor = 64.0
    np.testing.assert_allclose(run(opt, w0, [g * 64.0 for g in grads]), ref(w0, grads), rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------- EMA

@pytest.mark.parametrize("make", [lambda **k: optimizers.Lion(0.0078125, **k), lambda **k: optimizers.SGD(0.125, **k),
                                  lambda **k: optimizers.Adam(0.0078125, **k)], ids=["lion", "sgd", "adam"])
def test_ema_matches_numpy(make, rng):
    w0 = rng.standard_normal((2, 3))
    grads = [rng.standard_normal((2, 3)) for _ in range(5)]
    plain = [run(make(), w0, grads[:k]) for k in range(1, 6)]  # the variable after each step
    avg = plain[0]
    for w in plain[1:]:
        avg = 0.75 * avg + 0.25 * w
    opt = make(use_ema=True, ema_momentum=0.75)
    v = tl.Variable(w0.copy())
    for g in grads:
        opt.apply_gradients([(tl.constant(g), v)])
    np.testing.assert_allclose(v.numpy(), plain[-1], rtol=1e-12)  # the update itself is unchanged
    (average,) = opt._model_variables_moving_average
    np.testing.assert_allclose(average.numpy(), avg, rtol=1e-12)
    opt.finalize_variable_values([v])
    np.testing.assert_allclose(v.numpy(), avg, rtol=1e-12)


def test_ema_overwrite_frequency_schedule(rng):
    w0 = rng.standard_normal(4)
    grads = [rng.standard_normal(4) for _ in range(4)]
    opt = optimizers.SGD(0.125, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    v = tl.Variable(w0.copy())
    w, avg = w0.copy(), None
    for step, g in enumerate(grads, 1):
        opt.apply_gradients([(tl.constant(g), v)])
        w = w - 0.125 * g
        avg = w.copy() if avg is None else 0.5 * avg + 0.5 * w
        if step % 2 == 0:
            w = avg.copy()
        np.testing.assert_allclose(v.numpy(), w, rtol=1e-12)
        np.testing.assert_allclose(opt._model_variables_moving_average[0].numpy(), avg, rtol=1e-12)


def test_ema_averages_are_built_first_and_counted_in_variables():
    a, b = tl.Variable(np.ones((2, 2))), tl.Variable(np.ones(3))
    opt = optimizers.Adam(use_ema=True)
    opt.build([a, b])
    names = [v.name for v in opt.variables]
    # iterations, learning rate, the averages of a and b, then each variable's slots (Keras' order)
    assert ["average" in n for n in names] == [False, False, True, True, False, False, False, False]
    assert len(optimizers.Adam().variables) == 2


def train_data(rng, n=64):
    x = rng.standard_normal((n, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.25]]) + 0.1).astype("float32")
    return x, y


def small_model(opt, seed=0):
    tl.random.set_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])
    model.compile(optimizer=opt, loss="mse")
    return model


TRAIN = [("lion_ema", lambda: optimizers.Lion(0.01, use_ema=True, ema_momentum=0.9)),
         ("adafactor", lambda: optimizers.Adafactor(0.1)), ("ftrl", lambda: optimizers.Ftrl(0.5)),
         ("lamb_ema", lambda: optimizers.Lamb(0.02, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=3))]


@pytest.mark.parametrize("name,make", TRAIN, ids=[t[0] for t in TRAIN])
def test_trains_and_state_survives_checkpoint(name, make, rng, tmp_path):
    x, y = train_data(rng)
    m = small_model(make())
    hist = m.fit(x, y, epochs=8, batch_size=16, verbose=0, shuffle=False)
    assert hist.history["loss"][-1] < 0.7 * hist.history["loss"][0]
    path = tl.train.Checkpoint(model=m, optimizer=m.optimizer).save(tmp_path / "ckpt")
    r = small_model(make(), seed=3)
    tl.train.Checkpoint(model=r, optimizer=r.optimizer).restore(path).assert_consumed()
    assert len(r.optimizer.variables) == len(m.optimizer.variables)
    for a, b in zip(m.optimizer.variables, r.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    m.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    r.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(m.get_weights(), r.get_weights()):
        np.testing.assert_array_equal(a, b)
    # The .keras file keeps the optimizer's config and state too.
    m.save(tmp_path / "m.keras")
    back = keras.models.load_model(tmp_path / "m.keras")
    assert type(back.optimizer) is type(m.optimizer) and back.optimizer.get_config() == m.optimizer.get_config()
    for a, b in zip(m.optimizer.variables, back.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", ["lion", "adafactor", "ftrl", "lamb"])
def test_string_identifiers(name, rng):
    cls = {"lion": optimizers.Lion, "adafactor": optimizers.Adafactor, "ftrl": optimizers.Ftrl,
           "lamb": optimizers.Lamb}[name]
    assert isinstance(optimizers.get(name), cls) and isinstance(optimizers.get(cls.__name__), cls)
    x, y = train_data(rng, 16)
    model = small_model(name)
    assert isinstance(model.optimizer, cls) and model.optimizer.name == name
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert int(model.optimizer.iterations) == 2


CONFIGS = [
    optimizers.Lion(learning_rate=0.003, beta_1=0.8, beta_2=0.95, weight_decay=0.1, clipnorm=1.0, use_ema=True,
                    ema_momentum=0.9, ema_overwrite_frequency=5),
    optimizers.Adafactor(0.01, beta_2_decay=-0.5, epsilon_1=1e-20, epsilon_2=1e-2, clip_threshold=2.0,
                         relative_step=False, global_clipnorm=3.0),
    optimizers.Ftrl(0.05, learning_rate_power=-0.25, initial_accumulator_value=0.2, l1_regularization_strength=0.1,
                    l2_regularization_strength=0.2, l2_shrinkage_regularization_strength=0.3, beta=0.4,
                    loss_scale_factor=8.0),
    optimizers.Lamb(learning_rate=optimizers.schedules.ExponentialDecay(0.1, 10, 0.5), beta_1=0.8, epsilon=1e-6,
                    name="my_lamb"),
]


@pytest.mark.parametrize("opt", CONFIGS, ids=lambda o: type(o).__name__)
def test_config_round_trips(opt):
    check_config_round_trips(opt, optimizers)


def test_keras_defaults():
    assert optimizers.Lion().get_config() == {
        "name": "lion", "learning_rate": pytest.approx(0.001), "weight_decay": None, "clipnorm": None,
        "clipvalue": None, "global_clipnorm": None, "use_ema": False, "ema_momentum": 0.99,
        "ema_overwrite_frequency": None, "loss_scale_factor": None, "beta_1": 0.9, "beta_2": 0.99}
    a = optimizers.Adafactor()
    assert (a.name, a.beta_2_decay, a.epsilon_1, a.epsilon_2, a.clip_threshold, a.relative_step) == \
        ("adafactor", -0.8, 1e-30, 1e-3, 1.0, True)
    f = optimizers.Ftrl()
    assert (f.name, f.learning_rate_power, f.initial_accumulator_value, f.l1_regularization_strength,
            f.l2_regularization_strength, f.l2_shrinkage_regularization_strength, f.beta) == \
        ("ftrl", -0.5, 0.1, 0.0, 0.0, 0.0, 0.0)
    lamb = optimizers.Lamb()
    assert (lamb.name, lamb.beta_1, lamb.beta_2, lamb.epsilon) == ("lamb", 0.9, 0.999, 1e-7)


def test_errors_name_the_class_and_valid_values():
    with pytest.raises(ValueError, match=r"Lion: beta_1 must be in \(0, 1\].*got 0"):
        optimizers.Lion(beta_1=0)
    with pytest.raises(ValueError, match=r"Lion: beta_1 must be in \(0, 1\].*got 1.5"):
        optimizers.Lion(beta_1=1.5)
    for arg, value, ok in (("initial_accumulator_value", -0.1, ">= 0"), ("learning_rate_power", 0.5, "<= 0"),
                           ("l1_regularization_strength", -1.0, ">= 0"), ("l2_regularization_strength", -1.0, ">= 0"),
                           ("l2_shrinkage_regularization_strength", -1.0, ">= 0")):
        with pytest.raises(ValueError, match=rf"Ftrl: {arg} must be {ok}, got {value}"):
            optimizers.Ftrl(**{arg: value})
    with pytest.raises(TypeError, match=r"Lamb: unexpected keyword argument\(s\) \['amsgrad'\]"):
        optimizers.Lamb(amsgrad=True)
    with pytest.raises(ValueError, match=r"Adafactor: ema_momentum must be in the range \[0, 1\], got 1.5"):
        optimizers.Adafactor(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match=r"Lion: ema_overwrite_frequency must be an integer >= 1 or None, got 0.5"):
        optimizers.Lion(use_ema=True, ema_overwrite_frequency=0.5)
    with pytest.raises(ValueError, match=r"Unknown optimizer: 'lino'.*lion"):
        optimizers.get("lino")
