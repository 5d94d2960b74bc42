"""The Keras 3 losses of losses_extra.py (focal cross-entropies, Dice, Tversky, Circle)
against float64 numpy implementations of Keras' formulas: function and class forms,
reductions, sample weights, gradients vs finite differences, configs and errors."""
import json

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import losses
from tests.ops.harness import numeric_grad

EPS = 1e-7


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def ref_binary_focal(t, p, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                     label_smoothing=0.0):
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        p = sigmoid(p)
    pc = np.clip(p, EPS, 1 - EPS)
    bce = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
    p_t = t * p + (1 - t) * (1 - p)
    out = (1 - p_t) ** gamma * bce
    if apply_class_balancing:
        out = out * (t * alpha + (1 - t) * (1 - alpha))
    return out.mean(-1)


def ref_categorical_focal(t, p, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0):
    if label_smoothing:
        t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    if from_logits:
        p = softmax(p)
    out = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return (np.asarray(alpha) * (1 - out) ** gamma * -t * np.log(out)).sum(-1)


def ref_dice(t, p, axis=None):
    return 1 - 2 * (t * p).sum(axis) / (t.sum(axis) + p.sum(axis) + EPS)


def ref_tversky(t, p, alpha=0.5, beta=0.5, axis=None):
    inter = (t * p).sum(axis)
    return 1 - inter / (inter + alpha * ((1 - p) * t).sum(axis) + beta * (p * (1 - t)).sum(axis) + EPS)


def _masked_lse(x, mask):
    out = np.full(x.shape[0], -np.inf)
    for i in range(x.shape[0]):
        if mask[i].any():
            v = x[i][mask[i]]
            out[i] = v.max() + np.log(np.exp(v - v.max()).sum())
    return out


def ref_circle(labels, emb, ref_labels=None, ref_emb=None, remove_diagonal=True, gamma=80.0, margin=0.4):
    ref_emb = emb if ref_emb is None else ref_emb
    ref_labels = labels if ref_labels is None else ref_labels
    d = np.maximum(1 - emb @ ref_emb.T, 0)
    pos = labels[:, None] == ref_labels[None, :]
    neg = ~pos
    if remove_diagonal:
        pos = pos & ~np.eye(len(labels), len(ref_labels), dtype=bool)
    pos_w = np.maximum((margin + d) * pos, 0)
    neg_w = np.maximum((1 + margin - d) * neg, 0)
    p = _masked_lse(-gamma * pos_w * (margin - d), pos)
    n = _masked_lse(gamma * neg_w * ((1 - margin) - d), neg)
    return np.logaddexp(0.0, p + n)


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def reduce_ref(per, w, reduction):
    v = per if w is None else per * w.reshape(w.shape + (1,) * (per.ndim - w.ndim))
    if reduction == "none":
        return v
    if reduction == "sum":
        return v.sum()
    if reduction == "mean" and w is not None:
        return v.sum() / np.broadcast_to(w.reshape(w.shape + (1,) * (per.ndim - w.ndim)), per.shape).sum()
    return v.sum() / v.size  # Keras divides by the size of the weighted values


BINARY_OPTIONS = [{}, {"apply_class_balancing": True, "alpha": 0.375}, {"gamma": 3.5, "from_logits": True},
                  {"label_smoothing": 0.2, "gamma": 0.0}, {"apply_class_balancing": True, "from_logits": True,
                                                           "label_smoothing": 0.1, "gamma": 1.5}]


@pytest.mark.parametrize("opts", BINARY_OPTIONS, ids=lambda o: ",".join(o) or "defaults")
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", None, "mean"])
def test_binary_focal_matches_numpy(opts, reduction, rng):
    t = rng.integers(0, 2, (6, 5)).astype("float64")
    t[0] = rng.uniform(0, 1, 5)  # soft labels too
    p = rng.normal(0, 2, (6, 5)) if opts.get("from_logits") else rng.uniform(0.02, 0.98, (6, 5))
    w = rng.uniform(0.2, 2.0, 6)
    per = ref_binary_focal(t, p, **opts)
    np.testing.assert_allclose(losses.binary_focal_crossentropy(t, tl.constant(p), **opts).numpy(), per, rtol=1e-10)
    loss = losses.BinaryFocalCrossentropy(**opts, reduction=reduction)
    red = "none" if reduction is None else reduction
    np.testing.assert_allclose(np.asarray(loss(t, tl.constant(p), sample_weight=w)), reduce_ref(per, w, red),
                               rtol=1e-10)
    np.testing.assert_allclose(np.asarray(loss(t, tl.constant(p))), reduce_ref(per, None, red), rtol=1e-10)


def test_binary_focal_keras_docstring_values():
    got = losses.binary_focal_crossentropy(np.array([[0, 1], [0, 0]], "float32"),
                                           tl.constant([[0.6, 0.4], [0.4, 0.6]]), gamma=2)
    np.testing.assert_allclose(got.numpy(), [0.330, 0.206], atol=5e-4)


CATEGORICAL_OPTIONS = [{}, {"alpha": [0.1, 0.2, 0.3, 0.4], "gamma": 1.0}, {"from_logits": True, "gamma": 3.0},
                       {"label_smoothing": 0.15, "alpha": 0.9}]


@pytest.mark.parametrize("opts", CATEGORICAL_OPTIONS, ids=lambda o: ",".join(o) or "defaults")
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_categorical_focal_matches_numpy(opts, reduction, rng):
    t = np.eye(4)[rng.integers(0, 4, 7)]
    p = rng.normal(0, 2, (7, 4)) if opts.get("from_logits") else rng.uniform(0.05, 1.0, (7, 4))
    w = rng.uniform(0.2, 2.0, 7)
    per = ref_categorical_focal(t, p, **opts)
    np.testing.assert_allclose(losses.categorical_focal_crossentropy(t, tl.constant(p), **opts).numpy(), per,
                               rtol=1e-10)
    got = losses.CategoricalFocalCrossentropy(**opts, reduction=reduction)(t, tl.constant(p), sample_weight=w)
    np.testing.assert_allclose(np.asarray(got), reduce_ref(per, w, reduction), rtol=1e-10)


def test_categorical_focal_keras_docstring_values():
    t = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], "float32")
    p = tl.constant([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
    assert float(losses.CategoricalFocalCrossentropy()(t, p)) == pytest.approx(0.23315276, rel=1e-5)
    assert float(losses.CategoricalFocalCrossentropy()(t, p, sample_weight=np.array([0.3, 0.7]))) == \
        pytest.approx(0.1632, abs=1e-4)


@pytest.mark.parametrize("axis", [None, (1, 2, 3), (1, 2)])
@pytest.mark.parametrize("cls,fn,ref,kw", [
    (losses.Dice, losses.dice, ref_dice, {}),
    (losses.Tversky, losses.tversky, ref_tversky, {"alpha": 0.7, "beta": 0.2}),
], ids=["dice", "tversky"])
def test_dice_and_tversky_match_numpy(cls, fn, ref, kw, axis, rng):
    t = (rng.uniform(0, 1, (3, 4, 5, 2)) > 0.5).astype("float64")
    p = rng.uniform(0.01, 0.99, (3, 4, 5, 2))
    w = rng.uniform(0.2, 2.0, 3)
    per = ref(t, p, axis=axis, **kw)
    np.testing.assert_allclose(fn(t, tl.constant(p), axis=axis, **kw).numpy(), per, rtol=1e-10)
    for reduction in ("sum_over_batch_size", "sum", "none"):
        got = cls(**kw, axis=axis, reduction=reduction)(t, tl.constant(p), sample_weight=w)
        np.testing.assert_allclose(np.asarray(got), reduce_ref(np.asarray(per), w, reduction), rtol=1e-10)


def test_dice_keras_docstring_values():
    t = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]], "float32")
    p = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]], "float32")
    np.testing.assert_allclose(losses.dice(t, p, axis=(1, 2, 3)).numpy(), [0.5, 0.75757575], rtol=1e-6)
    assert float(losses.dice(t, p)) == pytest.approx(0.6164384, rel=1e-6)
    np.testing.assert_allclose(losses.Dice(axis=(1, 2, 3), reduction=None)(t, p).numpy(), [0.5, 0.75757575],
                               rtol=1e-6)
    # Tversky with alpha = beta = 0.5 is Dice.
    np.testing.assert_allclose(losses.tversky(t, p, axis=(1, 2, 3)).numpy(), [0.5, 0.75757575], rtol=1e-6)


def test_circle_matches_numpy(rng):
    labels = np.array([0, 1, 0, 2, 1, 0, 2, 3])  # class 3 has no positive pair: its loss is 0
    emb = unit(rng.standard_normal((8, 5)))
    per = ref_circle(labels, emb)
    assert per[-1] == 0 and (per[:-1] > 0).all()
    np.testing.assert_allclose(losses.circle(labels, tl.constant(emb)).numpy(), per, rtol=1e-9)
    kw = {"gamma": 16.0, "margin": 0.25, "remove_diagonal": False}
    np.testing.assert_allclose(losses.circle(labels, tl.constant(emb), **kw).numpy(),
                               ref_circle(labels, emb, **kw), rtol=1e-9)
    ref_labels, ref_emb = np.array([1, 0, 2]), unit(rng.standard_normal((3, 5)))
    np.testing.assert_allclose(
        losses.circle(labels, tl.constant(emb), ref_labels=ref_labels, ref_embeddings=ref_emb).numpy(),
        ref_circle(labels, emb, ref_labels, ref_emb), rtol=1e-9)
    # The class form masks zero losses out of the mean, as Keras does.
    w = rng.uniform(0.5, 2.0, 8)
    assert float(losses.Circle()(labels, tl.constant(emb))) == pytest.approx(per.sum() / (7 + EPS), rel=1e-9)
    assert float(losses.Circle()(labels, tl.constant(emb), sample_weight=w)) == pytest.approx(
        (per * w).sum() / (7 + EPS), rel=1e-9)
    assert float(losses.Circle(reduction="sum")(labels, tl.constant(emb), sample_weight=w)) == pytest.approx(
        (per * w).sum(), rel=1e-9)
    assert float(losses.Circle(reduction="mean")(labels, tl.constant(emb), sample_weight=w)) == pytest.approx(
        (per * w).sum() / w[:-1].sum(), rel=1e-9)
    np.testing.assert_allclose(losses.Circle(reduction="none")(labels, tl.constant(emb)).numpy(), per, rtol=1e-9)


GRAD_CASES = [
    ("binary_focal", lambda: losses.BinaryFocalCrossentropy(apply_class_balancing=True, gamma=2.5),
     lambda r: (r.integers(0, 2, (4, 3)).astype("float64"), r.uniform(0.05, 0.95, (4, 3)))),
    ("binary_focal_logits", lambda: losses.BinaryFocalCrossentropy(from_logits=True, label_smoothing=0.1),
     lambda r: (r.integers(0, 2, (4, 3)).astype("float64"), r.normal(0, 1.5, (4, 3)))),
    ("categorical_focal", lambda: losses.CategoricalFocalCrossentropy(alpha=[0.2, 0.3, 0.5]),
     lambda r: (np.eye(3)[r.integers(0, 3, 4)], r.uniform(0.1, 1.0, (4, 3)))),
    ("categorical_focal_logits", lambda: losses.CategoricalFocalCrossentropy(from_logits=True, gamma=1.5),
     lambda r: (np.eye(3)[r.integers(0, 3, 4)], r.normal(0, 1.5, (4, 3)))),
    ("dice", lambda: losses.Dice(axis=(1, 2)),
     lambda r: ((r.uniform(0, 1, (4, 3, 2)) > 0.5).astype("float64"), r.uniform(0.05, 0.95, (4, 3, 2)))),
    ("tversky", lambda: losses.Tversky(alpha=0.3, beta=0.7),
     lambda r: ((r.uniform(0, 1, (4, 3)) > 0.5).astype("float64"), r.uniform(0.05, 0.95, (4, 3)))),
    ("circle", lambda: losses.Circle(gamma=8.0),
     lambda r: (np.array([0, 1, 0, 1, 2, 2]), unit(r.standard_normal((6, 4))))),
]


@pytest.mark.parametrize("name,make,draw", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradients_match_finite_differences(name, make, draw, rng):
    t, p = draw(rng)
    w = rng.uniform(0.5, 1.5, len(t))
    loss = make()
    v = tl.Variable(p.copy())
    with tl.GradientTape() as tape:
        value = loss(t, v, sample_weight=w)
    g = tape.gradient(value, v).numpy()
    ng = numeric_grad(lambda arrays: float(loss(t, tl.constant(arrays[0]), sample_weight=w)), [p.copy()], 0, 1e-6)
    np.testing.assert_allclose(g, ng, rtol=1e-5, atol=1e-8)


CONFIG_CASES = [
    losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.5, from_logits=True,
                                   label_smoothing=0.1, axis=-1, reduction="sum", name="bf"),
    losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=3.0, label_smoothing=0.2, reduction="none"),
    losses.Dice(axis=(1, 2), reduction="sum"),
    losses.Tversky(alpha=0.3, beta=0.7, axis=[1], name="tv"),
    losses.Circle(gamma=32.0, margin=0.3, remove_diagonal=False),
]


def check_config_round_trips(obj, module):
    """from_config(get_config()), module.deserialize(module.serialize()) and the
    serialize_keras_object form (with Keras' public module name) all rebuild ``obj``."""
    cfg = obj.get_config()
    assert type(obj).from_config(cfg).get_config() == cfg
    again = module.deserialize(module.serialize(obj))
    assert type(again) is type(obj) and again.get_config() == cfg
    ser = keras.saving.serialize_keras_object(obj)
    assert ser["module"] == "keras." + module.__name__.rsplit(".", 1)[1] and ser["class_name"] == type(obj).__name__
    # (through JSON-friendly form, as Keras, an axis tuple comes back as a list)
    assert keras.saving.deserialize_keras_object(ser).get_config() == json.loads(json.dumps(cfg))
    return again


@pytest.mark.parametrize("loss", CONFIG_CASES, ids=lambda c: type(c).__name__)
def test_config_round_trips(loss):
    assert check_config_round_trips(loss, losses).reduction == loss.reduction


def test_defaults_and_names_are_keras():
    cfg = losses.BinaryFocalCrossentropy().get_config()
    assert cfg == {"name": "binary_focal_crossentropy", "reduction": "sum_over_batch_size",
                   "apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0, "from_logits": False,
                   "label_smoothing": 0.0, "axis": -1}
    assert losses.CategoricalFocalCrossentropy().get_config()["alpha"] == 0.25
    assert losses.Dice().name == "dice" and losses.Dice().get_config()["axis"] is None
    assert losses.Tversky().get_config() == {"name": "tversky", "reduction": "sum_over_batch_size", "alpha": 0.5,
                                             "beta": 0.5, "axis": None}
    assert losses.Circle().get_config() == {"name": "circle", "reduction": "sum_over_batch_size", "gamma": 80.0,
                                            "margin": 0.4, "remove_diagonal": True}


def test_get_resolves_names_and_compile_accepts_them(rng):
    for name in ("binary_focal_crossentropy", "categorical_focal_crossentropy", "dice", "tversky", "circle"):
        assert losses.get(name) is getattr(losses, name)
    assert losses.get("Dice") is losses.Dice
    assert isinstance(losses.get({"class_name": "Tversky", "config": {"alpha": 0.2}}), losses.Tversky)
    x = rng.standard_normal((16, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_focal_crossentropy")
    assert isinstance(model.compiled_loss.losses[0], losses.BinaryFocalCrossentropy)
    hist = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert np.isfinite(hist.history["loss"]).all()


def test_errors_name_the_loss_and_valid_values():
    with pytest.raises(TypeError, match=r"BinaryFocalCrossentropy: unexpected keyword argument 'beta'.*gamma"):
        losses.BinaryFocalCrossentropy(beta=1.0)
    with pytest.raises(ValueError, match=r"CategoricalFocalCrossentropy: invalid reduction 'avg'.*sum_over"):
        losses.CategoricalFocalCrossentropy(reduction="avg")
    with pytest.raises(ValueError, match=r"Tversky: invalid reduction 'avg'"):
        losses.Tversky(reduction="avg")
    with pytest.raises(TypeError, match=r"Dice"):
        losses.Dice(alpha=0.5)
    with pytest.raises(ValueError, match=r"binary_focal_crossentropy.*y_true shape \(4, 3\).*y_pred shape \(4, 2\)"):
        losses.binary_focal_crossentropy(np.zeros((4, 3)), tl.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"dice.*\(2, 3\).*\(2, 4\)"):
        losses.Dice()(np.zeros((2, 3)), tl.zeros((2, 4)))
