"""Metrics at a target rate (SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall,
RecallAtPrecision) against a float64 numpy version of Keras' thresholded counts, over several
weighted batches; SquaredHinge/CategoricalHinge/Hinge; the loss functions keras.metrics exports;
CategoricalGeneralizedCrossEntropy; configs; errors; the real Keras where it imports."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab.keras import losses, metrics
from tests.keras.real_keras import K
from tests.keras.test_losses_extra import check_config_round_trips

RATE_METRICS = {  # class: (constrained rate, reported rate)
    "SensitivityAtSpecificity": ("specificity", "sensitivity"),
    "SpecificityAtSensitivity": ("sensitivity", "specificity"),
    "PrecisionAtRecall": ("sensitivity", "precision"),
    "RecallAtPrecision": ("precision", "sensitivity"),
}


def _div0(a, b):
    return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)


def ref_rate_metric(cls, value, batches, num_thresholds=200, class_id=None):
    if num_thresholds == 1:
        th = np.array([0.5])
    else:
        th = np.array([0.0] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0])
    tp = fp = tn = fn = 0.0
    for t, p, w in batches:
        if class_id is not None:
            t, p = t[..., class_id], p[..., class_id]
        t, p = t.reshape(-1, 1) > 0.5, np.clip(p.reshape(-1, 1), 0, 1)
        w = 1.0 if w is None else np.broadcast_to(w.reshape(-1, 1), t.shape)
        pos = p > th[None]
        tp = tp + (w * (pos & t)).sum(0)
        fp = fp + (w * (pos & ~t)).sum(0)
        fn = fn + (w * (~pos & t)).sum(0)
        tn = tn + (w * (~pos & ~t)).sum(0)
    rates = {"sensitivity": _div0(tp, tp + fn), "specificity": _div0(tn, tn + fp), "precision": _div0(tp, tp + fp)}
    constrained, reported = RATE_METRICS[cls]
    return max(0.0, np.max(np.where(rates[constrained] >= value, rates[reported], 0.0)))


def _batches(rng, n=3, classes=None):
    out = []
    for i in range(n):
        shape = (40,) if classes is None else (40, classes)
        t = (rng.random(shape) < 0.4).astype("float32")
        p = np.clip(0.35 * t + rng.random(shape) * 0.75 - 0.05, -0.1, 1.1).astype("float32")
        w = None if i == 0 else rng.uniform(0, 2, size=(40,)).astype("float32")
        out.append((t, p, w))
    return out


@pytest.mark.parametrize("cls", sorted(RATE_METRICS))
@pytest.mark.parametrize("num_thresholds", [200, 7, 1])
def test_rate_metrics_match_reference(cls, num_thresholds, rng):
    batches = _batches(rng)
    m = getattr(metrics, cls)(0.6, num_thresholds=num_thresholds)
    for t, p, w in batches:
        m.update_state(t, p, sample_weight=w)
    want = ref_rate_metric(cls, 0.6, batches, num_thresholds)
    assert float(m.result()) == pytest.approx(want, abs=1e-6)
    if K is not None:
        k = getattr(K.metrics, cls)(0.6, num_thresholds=num_thresholds)
        for t, p, w in batches:
            k.update_state(t, p, sample_weight=w)
        assert float(m.result()) == pytest.approx(float(k.result()), abs=1e-5)
    m.reset_state()
    assert float(m.result()) == 0.0


def test_rate_metrics_keras_examples_and_class_id(rng):
    m = metrics.SensitivityAtSpecificity(0.5)
    m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], sample_weight=[1, 1, 2, 2, 1])
    assert float(m.result()) == pytest.approx(0.333333, abs=1e-6)
    m = metrics.SpecificityAtSensitivity(0.5)
    m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    assert float(m.result()) == pytest.approx(0.66666667, abs=1e-6)
    m = metrics.PrecisionAtRecall(0.5)
    m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8], sample_weight=[2, 2, 2, 1, 1])
    assert float(m.result()) == pytest.approx(0.33333333, abs=1e-6)
    m = metrics.RecallAtPrecision(0.8)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert float(m.result()) == pytest.approx(1.0)
    batches = _batches(rng, classes=3)
    m = metrics.RecallAtPrecision(0.5, class_id=2)
    for t, p, w in batches:
        m.update_state(t, p, sample_weight=w)
    assert float(m.result()) == pytest.approx(ref_rate_metric("RecallAtPrecision", 0.5, batches, class_id=2),
                                              abs=1e-6)


def test_rate_metric_configs_and_errors():
    for cls, arg in (("SensitivityAtSpecificity", "specificity"), ("SpecificityAtSensitivity", "sensitivity"),
                     ("PrecisionAtRecall", "recall"), ("RecallAtPrecision", "precision")):
        m = getattr(metrics, cls)(0.25, num_thresholds=11, class_id=1, name="m")
        assert m.get_config() == {"name": "m", "dtype": "float32", "class_id": 1, "num_thresholds": 11, arg: 0.25}
        check_config_round_trips(m, metrics)
        with pytest.raises(ValueError, match=rf"{cls}: {arg} must be in the range \[0, 1\], got {arg}=1.5"):
            getattr(metrics, cls)(1.5)
        with pytest.raises(ValueError, match=rf"{cls}: num_thresholds must be an integer > 0, got num_thresholds=0"):
            getattr(metrics, cls)(0.5, num_thresholds=0)
    assert metrics.get({"class_name": "PrecisionAtRecall", "config": {"recall": 0.3}}).recall == 0.3
    with pytest.raises(TypeError, match="recall"):  # the target has no default, as in Keras
        metrics.get("PrecisionAtRecall")


def test_hinge_metrics(rng):
    y = rng.choice([-1.0, 1.0], size=(3, 10, 4))
    p = rng.normal(size=(3, 10, 4))
    onehot = np.eye(4)[rng.integers(0, 4, size=(3, 10))]
    refs = {"Hinge": lambda t, q: np.maximum(1 - t * q, 0).mean(-1),
            "SquaredHinge": lambda t, q: (np.maximum(1 - t * q, 0) ** 2).mean(-1),
            "CategoricalHinge": lambda t, q: np.maximum((q * (1 - t)).max(-1) - (t * q).sum(-1) + 1, 0)}
    for cls, ref in refs.items():
        labels = onehot if cls == "CategoricalHinge" else y
        m = getattr(metrics, cls)()
        for t, q in zip(labels, p):
            m.update_state(t, q)
        assert float(m.result()) == pytest.approx(ref(labels, p).mean(), rel=1e-6)
        assert m.get_config() == {"name": {"Hinge": "hinge", "SquaredHinge": "squared_hinge",
                                           "CategoricalHinge": "categorical_hinge"}[cls], "dtype": "float32"}
        # (check_config_round_trips(m, metrics) passes too: deserialize_keras_object honours the module
        # "keras.metrics" that serialize_keras_object writes; only a config without a module finds the loss)
        again = metrics.deserialize(metrics.serialize(m))
        assert type(again) is type(m) and again.get_config() == m.get_config()
        if K is not None:
            k = getattr(K.metrics, cls)()
            for t, q in zip(labels.astype("float32"), p.astype("float32")):
                k.update_state(t, q)
            assert float(m.result()) == pytest.approx(float(k.result()), rel=1e-5)
    assert isinstance(metrics.get("squared_hinge"), metrics.SquaredHinge)


def test_metrics_exports_the_loss_functions():
    names = ["binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
             "categorical_focal_crossentropy", "categorical_hinge", "hinge", "huber", "kl_divergence", "log_cosh",
             "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
             "mean_squared_logarithmic_error", "poisson", "sparse_categorical_crossentropy", "squared_hinge"]
    for name in names:
        assert getattr(metrics, name) is getattr(losses, name), name
    if K is not None:
        assert sorted(n for n in dir(K.metrics) if n.islower() and not n.startswith("_")) == sorted(
            n for n in dir(K.metrics) if n.islower() and not n.startswith("_") and hasattr(metrics, n))


def test_categorical_generalized_cross_entropy(rng):
    p = rng.dirichlet(np.ones(4), size=6)
    y = rng.integers(0, 4, size=6)
    want = (1 - p[np.arange(6), y] ** 0.7) / 0.7
    np.testing.assert_allclose(losses.categorical_generalized_cross_entropy(y, p, 0.7).numpy(), want, rtol=1e-12)
    loss = losses.CategoricalGeneralizedCrossEntropy(q=0.7)
    assert float(loss(y, p)) == pytest.approx(want.mean(), rel=1e-12)
    assert float(loss(y[:, None], p)) == pytest.approx(want.mean(), rel=1e-12)  # (batch, 1) labels too
    assert loss.get_config() == {"name": "categorical_generalized_cross_entropy", "reduction": "sum_over_batch_size",
                                 "q": 0.7}
    check_config_round_trips(loss, losses)
    assert losses.get("categorical_generalized_cross_entropy") is losses.categorical_generalized_cross_entropy
    if K is not None:
        kp, ky = K.ops.convert_to_tensor(p.astype("float32")), K.ops.convert_to_tensor(y)
        assert float(loss(y, p.astype("float32"))) == pytest.approx(
            float(K.losses.CategoricalGeneralizedCrossEntropy(q=0.7)(ky, kp)), rel=1e-5)
    t = tl.constant(p)
    with tl.GradientTape() as tape:
        tape.watch(t)
        v = loss(y, t)
    g = np.zeros_like(p)
    g[np.arange(6), y] = -p[np.arange(6), y] ** -0.3 / 6
    np.testing.assert_allclose(tape.gradient(v, t).numpy(), g, rtol=1e-10)
    with pytest.raises(ValueError, match=r"CategoricalGeneralizedCrossEntropy: q must be a number in the interval"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)
    with pytest.raises(ValueError, match=r"categorical_generalized_cross_entropy: y_true must hold integer class"):
        losses.categorical_generalized_cross_entropy(np.zeros((6, 4)), p, 0.5)
