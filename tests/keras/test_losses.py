"""Losses against numpy references: function and class forms, reductions,
sample weights, from_logits, label smoothing, and their errors."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import losses

EPS = 1e-7


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def ref_bce(t, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p)).mean(-1)


def ref_cce(t, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(t * np.log(p)).sum(-1)


def ref_huber(t, p, d=1.0):
    e = np.abs(p - t)
    return np.where(e <= d, 0.5 * e ** 2, d * e - 0.5 * d ** 2).mean(-1)


def ref_cos(t, p):
    tn = t / np.maximum(np.linalg.norm(t, axis=-1, keepdims=True), 1e-6)
    pn = p / np.maximum(np.linalg.norm(p, axis=-1, keepdims=True), 1e-6)
    return -(tn * pn).sum(-1)


REGRESSION = [
    ("mean_squared_error", losses.MeanSquaredError, lambda t, p: ((p - t) ** 2).mean(-1)),
    ("mean_absolute_error", losses.MeanAbsoluteError, lambda t, p: np.abs(p - t).mean(-1)),
    ("mean_absolute_percentage_error", losses.MeanAbsolutePercentageError,
     lambda t, p: 100 * np.abs((t - p) / np.maximum(np.abs(t), EPS)).mean(-1)),
    ("huber", losses.Huber, ref_huber),
    ("log_cosh", losses.LogCosh, lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    ("cosine_similarity", losses.CosineSimilarity, ref_cos),
]


@pytest.mark.parametrize("name,cls,ref", REGRESSION, ids=[r[0] for r in REGRESSION])
@settings(max_examples=8, deadline=None)
@given(shape=st.sampled_from([(5, 3), (1, 4), (2, 3, 1), (4, 1)]))
def test_regression_losses_match_numpy(name, cls, ref, shape):
    rng = np.random.default_rng(sum(shape) + len(name))
    t = rng.uniform(0.5, 2.0, shape)
    p = rng.uniform(-2.0, 2.0, shape)
    per = ref(t, p)
    got = getattr(losses, name)(t, tl.constant(p, dtype="float64")).numpy()
    np.testing.assert_allclose(got, per, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(float(cls()(t, tl.constant(p, dtype="float64"))), per.mean(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(float(cls(reduction="sum")(t, tl.constant(p, dtype="float64"))), per.sum(),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(cls(reduction="none")(t, tl.constant(p, dtype="float64")).numpy(), per, rtol=1e-6,
                               atol=1e-9)


def test_binary_crossentropy_probs_logits_and_smoothing(rng):
    t = rng.integers(0, 2, (6, 3)).astype("float64")
    z = rng.standard_normal((6, 3))
    p = sigmoid(z)
    np.testing.assert_allclose(losses.binary_crossentropy(t, tl.constant(p)).numpy(), ref_bce(t, p), rtol=1e-6)
    np.testing.assert_allclose(losses.binary_crossentropy(t, tl.constant(z), from_logits=True).numpy(),
                               ref_bce(t, p), rtol=1e-6)
    ts = t * 0.8 + 0.1
    got = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.2)(t, tl.constant(z))
    assert float(got) == pytest.approx(ref_bce(ts, p).mean(), rel=1e-6)


def test_categorical_crossentropies(rng):
    labels = rng.integers(0, 5, 8)
    onehot = np.eye(5)[labels]
    z = rng.standard_normal((8, 5))
    p = softmax(z)
    ref = -np.log(p[np.arange(8), labels])
    np.testing.assert_allclose(losses.categorical_crossentropy(onehot, tl.constant(p)).numpy(), ref_cce(onehot, p),
                               rtol=1e-6)
    np.testing.assert_allclose(losses.categorical_crossentropy(onehot, tl.constant(z), from_logits=True).numpy(),
                               ref, rtol=1e-6)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(labels, tl.constant(p)).numpy(), ref,
                               rtol=1e-6)
    np.testing.assert_allclose(
        losses.sparse_categorical_crossentropy(labels[:, None], tl.constant(z), from_logits=True).numpy(), ref,
        rtol=1e-6)
    smooth = onehot * 0.9 + 0.1 / 5
    got = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(onehot, tl.constant(z))
    assert float(got) == pytest.approx(-(smooth * np.log(p)).sum(-1).mean(), rel=1e-6)
    ign = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0, reduction="none")
    got = ign(labels, tl.constant(z)).numpy()
    np.testing.assert_allclose(got, np.where(labels == 0, 0.0, ref), rtol=1e-6)


def test_kl_poisson_hinge(rng):
    t = softmax(rng.standard_normal((4, 3)))
    p = softmax(rng.standard_normal((4, 3)))
    np.testing.assert_allclose(losses.kl_divergence(t, tl.constant(p)).numpy(), (t * np.log(t / p)).sum(-1),
                               rtol=1e-6)
    np.testing.assert_allclose(losses.poisson(t, tl.constant(p)).numpy(), (p - t * np.log(p + EPS)).mean(-1),
                               rtol=1e-6)
    y = rng.integers(0, 2, (4, 3)).astype("float64")
    s = rng.standard_normal((4, 3))
    np.testing.assert_allclose(losses.hinge(y, tl.constant(s)).numpy(),
                               np.maximum(1 - (2 * y - 1) * s, 0).mean(-1), rtol=1e-6)
    np.testing.assert_allclose(losses.Hinge(reduction="none")(2 * y - 1, tl.constant(s)).numpy(),
                               np.maximum(1 - (2 * y - 1) * s, 0).mean(-1), rtol=1e-6)
    np.testing.assert_allclose(float(losses.KLDivergence()(t, tl.constant(p))), (t * np.log(t / p)).sum(-1).mean(),
                               rtol=1e-6)
    np.testing.assert_allclose(float(losses.Poisson()(t, tl.constant(p))), (p - t * np.log(p + EPS)).mean(),
                               rtol=1e-6)


def test_sample_weight_broadcasts_over_samples(rng):
    t = rng.standard_normal((5, 2))
    p = rng.standard_normal((5, 2))
    w = rng.uniform(0, 1, 5)
    per = ((p - t) ** 2).mean(-1)
    assert float(losses.MeanSquaredError()(t, tl.constant(p), sample_weight=w)) == pytest.approx(
        (per * w).sum() / 5, rel=1e-6)
    assert float(losses.MeanSquaredError(reduction="sum")(t, tl.constant(p), sample_weight=w)) == pytest.approx(
        (per * w).sum(), rel=1e-6)


def test_losses_are_differentiable(rng):
    p = tl.Variable(softmax(rng.standard_normal((4, 3))))
    labels = np.array([0, 2, 1, 2])
    with tl.GradientTape() as tape:
        loss = losses.SparseCategoricalCrossentropy()(labels, p)
    g = tape.gradient(loss, p).numpy()
    ref = np.zeros((4, 3))
    ref[np.arange(4), labels] = -1 / (p.numpy()[np.arange(4), labels] * 4)
    np.testing.assert_allclose(g, ref, rtol=1e-6)


def test_error_mismatched_shapes_name_the_loss():
    with pytest.raises(ValueError, match=r"mean_squared_error.*y_true shape \(4, 3\).*y_pred shape \(4, 2\)"):
        losses.MeanSquaredError()(np.zeros((4, 3)), tl.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*y_true shape \(3,\).*\(4, 5\)"):
        losses.sparse_categorical_crossentropy(np.zeros(3, "int32"), tl.zeros((4, 5)))


def test_error_sparse_labels_out_of_range():
    with pytest.raises(ValueError, match=r"sparse_categorical_crossentropy.*\[0, 3\).*\[3, 7\]"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 3, 7]), tl.ones((3, 3)) / 3.0)
    with pytest.raises(ValueError, match=r"label value\(s\) \[-1\]"):
        losses.sparse_categorical_crossentropy(np.array([-1, 0]), tl.ones((2, 3)), from_logits=True)


def test_error_unknown_identifiers_list_valid_choices():
    with pytest.raises(ValueError, match=r"Unknown loss: 'mean_sqared_error'.*mean_squared_error"):
        losses.get("mean_sqared_error")
    with pytest.raises(ValueError, match=r"invalid reduction 'avg'.*sum_over_batch_size"):
        losses.MeanSquaredError(reduction="avg")


def test_get_and_config_round_trip():
    assert losses.get("mse") is losses.mean_squared_error
    assert isinstance(losses.get("SparseCategoricalCrossentropy"), type)
    loss = losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1, name="cc")
    clone = losses.deserialize(losses.serialize(loss))
    assert clone.get_config() == loss.get_config()
    assert clone.get_config()["label_smoothing"] == 0.1


def test_sparse_labels_of_any_integer_dtype(rng):
    z = rng.standard_normal((5, 4))
    labels = rng.integers(0, 4, 5)
    ref = -np.log(softmax(z)[np.arange(5), labels])
    for dt in ("uint8", "int16", "int32", "int64", "float32"):
        got = losses.sparse_categorical_crossentropy(labels.astype(dt), tl.constant(z), from_logits=True)
        np.testing.assert_allclose(got.numpy(), ref, rtol=1e-6)


def test_softmax_output_uses_fused_logits_path(rng):
    z = tl.constant(rng.standard_normal((3, 4)) * 40)   # saturated: clipping the probabilities would lose this
    p = keras.activations.softmax(z)
    labels = np.array([0, 1, 2])
    zn = z.numpy()
    ref = -(zn - zn.max(1, keepdims=True) - np.log(np.exp(zn - zn.max(1, keepdims=True)).sum(1, keepdims=True)))
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(labels, p).numpy(),
                               ref[np.arange(3), labels], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(losses.categorical_crossentropy(np.eye(4)[labels], p).numpy(),
                               ref[np.arange(3), labels], rtol=1e-6, atol=1e-9)
