"""The Keras 3 metrics of metrics_extra.py and metrics_iou.py (F-scores, R2, correlations,
the IoU family) against float64 numpy implementations of Keras' formulas, accumulated over
several batches with sample weights; hand-computed IoU cases; configs and errors."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import metrics
from tests.keras.test_losses_extra import check_config_round_trips

EPS = 1e-7


def ref_fbeta(batches, average=None, beta=1.0, threshold=None):
    axis = None if average == "micro" else 0
    tp = fp = fn = sup = 0.0
    for t, p, sw in batches:
        pred = (p > threshold) if threshold is not None else (p >= p.max(-1, keepdims=True)) & (np.abs(p) > 1e-9)
        pred = pred.astype("float64")
        w = 1.0 if sw is None else sw[:, None]
        tp = tp + (pred * t * w).sum(axis)
        fp = fp + (pred * (1 - t) * w).sum(axis)
        fn = fn + ((1 - pred) * t * w).sum(axis)
        sup = sup + (t * w).sum(axis)
    prec, rec = tp / (tp + fp + EPS), tp / (tp + fn + EPS)
    b2 = beta ** 2
    f = prec * rec / (b2 * prec + rec + EPS) * (1 + b2)
    if average == "weighted":
        return (f * sup / (sup.sum() + EPS)).sum()
    return f if average is None else np.mean(f)


def batches_of(rng, n_batches=3, weighted=True, classes=4):
    out = []
    for _ in range(n_batches):
        n = int(rng.integers(3, 9))
        t = (rng.uniform(0, 1, (n, classes)) > 0.6).astype("float64")
        p = rng.uniform(0, 1, (n, classes))
        out.append((t, p, rng.uniform(0.1, 2.0, n) if weighted else None))
    return out


def feed(m, batches):
    for t, p, sw in batches:
        m.update_state(t, p, sample_weight=sw)
    return np.asarray(m.result())


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("threshold", [None, 0.5, 0.3])
@pytest.mark.parametrize("weighted", [True, False])
def test_fbeta_and_f1_match_numpy(average, threshold, weighted, rng):
    b = batches_of(rng, weighted=weighted)
    m = metrics.FBetaScore(average=average, beta=2.0, threshold=threshold, dtype="float64")
    np.testing.assert_allclose(feed(m, b), ref_fbeta(b, average, 2.0, threshold), rtol=1e-10)
    f1 = metrics.F1Score(average=average, threshold=threshold, dtype="float64")
    np.testing.assert_allclose(feed(f1, b), ref_fbeta(b, average, 1.0, threshold), rtol=1e-10)
    f1.reset_state()
    np.testing.assert_allclose(feed(f1, b[:1]), ref_fbeta(b[:1], average, 1.0, threshold), rtol=1e-10)


def test_fscore_keras_docstring_values():
    t = np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32)
    p = np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]], np.float32)
    m = metrics.FBetaScore(beta=2.0, threshold=0.5)
    m.update_state(t, p)
    np.testing.assert_allclose(m.result().numpy(), [0.3846154, 0.90909094, 0.8333334], rtol=1e-5)
    m = metrics.F1Score(threshold=0.5)
    m.update_state(t, p)
    np.testing.assert_allclose(m.result().numpy(), [0.5, 0.8, 0.6666667], rtol=1e-5)
    assert m.result().dtype == tl.float32


def test_fscore_argmax_ignores_rows_of_zeros():
    m = metrics.F1Score(average="micro")
    m.update_state(np.array([[0, 1.0], [1.0, 0]]), np.array([[0.0, 0.0], [0.7, 0.2]]))
    # Row 0 predicts nothing (tp 1, fn 1, fp 0): precision 1, recall 1/2.
    assert float(m.result()) == pytest.approx(2 * 0.5 / 1.5, rel=1e-5)


def ref_r2(batches, class_aggregation="uniform_average", num_regressors=0):
    s = sq = res = cnt = 0.0
    n = 0
    for t, p, sw in batches:
        w = np.ones_like(t) if sw is None else np.broadcast_to(sw[:, None], t.shape)
        s, sq = s + (t * w).sum(0), sq + (t * t * w).sum(0)
        res, cnt = res + ((t - p) ** 2 * w).sum(0), cnt + w.sum(0)
        n += t.size
    total = sq - s * (s / cnt)
    raw = 1 - res / total
    if class_aggregation == "uniform_average":
        score = raw.mean()
    elif class_aggregation == "variance_weighted_average":
        score = (total * raw).sum() / total.sum()
    else:
        score = raw
    if num_regressors and num_regressors < n - 1:
        score = 1 - (1 - score) * (n - 1) / (n - num_regressors - 1)
    return score


@pytest.mark.parametrize("class_aggregation", [None, "uniform_average", "variance_weighted_average"])
@pytest.mark.parametrize("num_regressors", [0, 3])
@pytest.mark.parametrize("weighted", [True, False])
def test_r2_matches_numpy(class_aggregation, num_regressors, weighted, rng):
    b = []
    for _ in range(3):
        t = rng.normal(1.0, 2.0, (6, 3))
        b.append((t, t + rng.normal(0, 1.0, (6, 3)), rng.uniform(0.1, 2.0, 6) if weighted else None))
    m = metrics.R2Score(class_aggregation=class_aggregation, num_regressors=num_regressors, dtype="float64")
    np.testing.assert_allclose(feed(m, b), ref_r2(b, class_aggregation, num_regressors), rtol=1e-10)
    assert float(m.num_samples.numpy()) == 54  # elements, as Keras counts them


def test_r2_single_output_and_adjusted_fallback():
    m = metrics.R2Score()
    m.update_state(np.array([[1.0], [4.0], [3.0]]), np.array([[2.0], [4.0], [4.0]]))
    assert float(m.result()) == pytest.approx(0.57142854, rel=1e-6)
    m = metrics.R2Score(num_regressors=5)
    m.update_state(np.array([1.0, 4.0, 3.0]), np.array([[2.0], [4.0], [4.0]]))  # y_true gets a trailing axis
    with pytest.warns(UserWarning, match="More independent predictors than datapoints"):
        assert float(m.result()) == pytest.approx(0.57142854, rel=1e-6)


def ref_pearson(t, p):
    tn, pn = t - t.mean(-1, keepdims=True), p - p.mean(-1, keepdims=True)
    tn, pn = tn / (tn.std(-1, keepdims=True) + EPS), pn / (pn.std(-1, keepdims=True) + EPS)
    return (tn * pn).mean(-1)


def ref_concordance(t, p):
    tm, pm = t.mean(-1, keepdims=True), p.mean(-1, keepdims=True)
    norm = t.var(-1, keepdims=True) + p.var(-1, keepdims=True) + (tm - pm) ** 2
    return (2 * (t - tm) * (p - pm) / (norm + EPS)).mean(-1)


@pytest.mark.parametrize("cls,fn,ref", [
    (metrics.PearsonCorrelation, metrics.pearson_correlation, ref_pearson),
    (metrics.ConcordanceCorrelation, metrics.concordance_correlation, ref_concordance),
], ids=["pearson", "concordance"])
def test_correlations_match_numpy(cls, fn, ref, rng):
    b = [(rng.normal(0, 1, (n, 6)), rng.normal(0, 1, (n, 6)), rng.uniform(0.1, 2, n)) for n in (4, 7)]
    b = [(t, 0.6 * t + p, w) for t, p, w in b]
    np.testing.assert_allclose(fn(b[0][0], tl.constant(b[0][1])).numpy(), ref(b[0][0], b[0][1]), rtol=1e-10)
    m = cls(dtype="float64")
    per = np.concatenate([ref(t, p) for t, p, _ in b])
    w = np.concatenate([w for _, _, w in b])
    np.testing.assert_allclose(feed(m, [(t, tl.constant(p), w) for t, p, w in b]), (per * w).sum() / w.sum(),
                               rtol=1e-10)
    # Along the batch axis instead: one coefficient per column.
    t, p, _ = b[1]
    np.testing.assert_allclose(fn(t, tl.constant(p), axis=0).numpy(), ref(t.T, p.T), rtol=1e-10)


def test_correlation_keras_docstring_values():
    t, p = [[0, 1, 0.5], [1, 1, 0.2]], [[0.1, 0.9, 0.5], [1, 0.9, 0.2]]
    m = metrics.PearsonCorrelation()
    m.update_state(t, p)
    assert float(m.result()) == pytest.approx(0.9966996338993913, rel=1e-5)
    m = metrics.ConcordanceCorrelation()
    m.update_state(t, p)
    assert float(m.result()) == pytest.approx(0.9816320385426076, rel=1e-5)


# ---------------------------------------------------------------------------- IoU

def test_iou_hand_computed_cases():
    # cm = [[1, 1], [1, 1]]: each class's IoU is 1 / (2 + 2 - 1).
    m = metrics.IoU(num_classes=2, target_class_ids=[0])
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    assert float(m.result()) == pytest.approx(1 / 3, rel=1e-6)
    np.testing.assert_allclose(m.total_cm.numpy(), [[1, 1], [1, 1]])
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
    assert float(m.result()) == pytest.approx(0.3 / (0.6 + 0.6 - 0.3), rel=1e-6)
    mean = metrics.MeanIoU(num_classes=2)
    mean.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
    assert float(mean.result()) == pytest.approx((0.3 / 0.9 + 0.1 / 0.7) / 2, rel=1e-6)
    # A class absent from labels and predictions is left out of the mean.
    mean = metrics.MeanIoU(num_classes=3)
    mean.update_state([0, 1, 1], [0, 1, 0])
    assert float(mean.result()) == pytest.approx((1 / 2 + 1 / 2) / 2, rel=1e-6)


def test_binary_iou_thresholds_at_greater_equal():
    m = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    assert float(m.result()) == pytest.approx(1 / 3, rel=1e-6)
    m.reset_state()
    m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7], sample_weight=[0.2, 0.3, 0.4, 0.1])
    assert float(m.result()) == pytest.approx((0.2 / 0.9 + 0.1 / 0.8) / 2, rel=1e-6)
    m = metrics.BinaryIoU(target_class_ids=[1], threshold=0.5)
    m.update_state([1, 0], [0.5, 0.49999])  # 0.5 itself is class 1
    assert float(m.result()) == pytest.approx(1.0, rel=1e-6)


def test_one_hot_ious_hand_computed():
    t = np.array([[0, 0, 1], [1, 0, 0], [0, 1, 0], [1, 0, 0]])
    p = np.array([[0.2, 0.3, 0.5], [0.1, 0.2, 0.7], [0.5, 0.3, 0.1], [0.1, 0.4, 0.5]])
    sw = [0.1, 0.2, 0.3, 0.4]
    # cm = [[0, 0, 0.6], [0.3, 0, 0], [0, 0, 0.1]]
    m = metrics.OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    m.update_state(t, p, sample_weight=sw)
    np.testing.assert_allclose(m.total_cm.numpy(), [[0, 0, 0.6], [0.3, 0, 0], [0, 0, 0.1]], atol=1e-7)
    assert float(m.result()) == pytest.approx((0 + 0.1 / 0.7) / 2, rel=1e-5)
    m = metrics.OneHotMeanIoU(num_classes=3)
    m.update_state(t, p, sample_weight=sw)
    assert float(m.result()) == pytest.approx(0.1 / 0.7 / 3, rel=1e-5)
    m = metrics.OneHotMeanIoU(num_classes=3, sparse_y_pred=True)
    m.update_state(t, np.array([2, 2, 0, 2]), sample_weight=sw)
    assert float(m.result()) == pytest.approx(0.1 / 0.7 / 3, rel=1e-5)


def ref_cm(t, p, n, w=None, ignore=None):
    w = np.ones(t.size) if w is None else np.broadcast_to(w, t.shape).reshape(-1)
    t, p = t.reshape(-1), p.reshape(-1)
    cm = np.zeros((n, n))
    for a, b, c in zip(t, p, w):
        if a != ignore:
            cm[a, b] += c
    return cm


def ref_iou(cm, ids):
    tp = np.diag(cm)
    denom = (cm.sum(0) + cm.sum(1) - tp)[ids]
    return (tp[ids] / (denom + EPS)).sum() / ((denom > 1e-9).sum() + EPS)


def test_iou_random_batches_match_numpy(rng):
    n = 5
    m = metrics.IoU(num_classes=n, target_class_ids=[1, 3, 4], ignore_class=255, dtype="float64")
    mean = metrics.MeanIoU(num_classes=n, dtype="float64")
    cm = np.zeros((n, n))
    cm_mean = np.zeros((n, n))
    for _ in range(3):
        t = rng.integers(0, n, (2, 4, 3))
        p = rng.integers(0, n, (2, 4, 3))
        w = rng.uniform(0.1, 2.0, (2, 4, 3))
        t_ign = np.where(rng.uniform(0, 1, t.shape) < 0.2, 255, t)
        m.update_state(t_ign, p, sample_weight=w)
        cm += ref_cm(t_ign, p, n, w, ignore=255)
        mean.update_state(t, p)
        cm_mean += ref_cm(t, p, n)
    np.testing.assert_allclose(m.total_cm.numpy(), cm, rtol=1e-12)
    assert float(m.result()) == pytest.approx(ref_iou(cm, [1, 3, 4]), rel=1e-10)
    assert float(mean.result()) == pytest.approx(ref_iou(cm_mean, list(range(n))), rel=1e-10)
    m.reset_state()
    assert not m.total_cm.numpy().any()


# ---------------------------------------------------------------------------- configs, names, errors

CONFIG_CASES = [
    metrics.FBetaScore(average="weighted", beta=0.5, threshold=0.4, name="fb"),
    metrics.F1Score(average="micro"),
    metrics.R2Score(class_aggregation=None, num_regressors=2),
    metrics.PearsonCorrelation(axis=0),
    metrics.ConcordanceCorrelation(name="ccc"),
    metrics.IoU(num_classes=4, target_class_ids=[1, 2], ignore_class=0, sparse_y_pred=False),
    metrics.BinaryIoU(target_class_ids=[1], threshold=0.25),
    metrics.MeanIoU(num_classes=3, ignore_class=-1),
    metrics.OneHotIoU(num_classes=3, target_class_ids=[2]),
    metrics.OneHotMeanIoU(num_classes=5, sparse_y_pred=True),
]


@pytest.mark.parametrize("m", CONFIG_CASES, ids=lambda m: type(m).__name__)
def test_config_round_trips(m):
    check_config_round_trips(m, metrics)


def test_keras_names_defaults_and_get():
    assert metrics.F1Score().get_config() == {"name": "f1_score", "dtype": "float32", "average": None,
                                              "threshold": None}
    assert metrics.FBetaScore().name == "fbeta_score" and metrics.FBetaScore().beta == 1.0
    assert metrics.R2Score().get_config()["class_aggregation"] == "uniform_average"
    assert metrics.MeanIoU(2).name == "mean_io_u" and metrics.IoU(2, [0]).name == "io_u"
    assert metrics.BinaryIoU().get_config() == {"target_class_ids": [0, 1], "threshold": 0.5,
                                                "name": "binary_io_u", "dtype": "float32"}
    assert isinstance(metrics.get("f1_score"), metrics.F1Score)
    assert isinstance(metrics.get("R2Score"), metrics.R2Score)
    assert isinstance(metrics.get("pearson_correlation"), metrics.PearsonCorrelation)
    assert isinstance(metrics.get({"class_name": "MeanIoU", "config": {"num_classes": 3}}), metrics.MeanIoU)


def test_metrics_in_fit_and_evaluate(rng):
    x = rng.standard_normal((32, 4)).astype("float32")
    y = np.eye(3)[rng.integers(0, 3, 32)].astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy",
                  metrics=[metrics.F1Score(average="macro"), "r2_score", metrics.OneHotMeanIoU(num_classes=3)])
    hist = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert {"f1_score", "r2_score", "one_hot_mean_io_u"} <= set(hist.history)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    pred = model.predict(x, verbose=0)
    assert logs["f1_score"] == pytest.approx(ref_fbeta([(y, pred, None)], "macro"), rel=1e-4)
    cm = ref_cm(y.argmax(-1), pred.argmax(-1), 3)
    assert logs["one_hot_mean_io_u"] == pytest.approx(ref_iou(cm, [0, 1, 2]), rel=1e-4)


def test_errors_name_the_metric_and_valid_values():
    with pytest.raises(ValueError, match=r"FBetaScore: invalid average='mean'; valid: None, 'micro', 'macro'"):
        metrics.FBetaScore(average="mean")
    with pytest.raises(ValueError, match=r"F1Score: invalid average"):
        metrics.F1Score(average="samples")
    with pytest.raises(ValueError, match=r"FBetaScore: beta must be a number > 0, got 0"):
        metrics.FBetaScore(beta=0)
    with pytest.raises(ValueError, match=r"F1Score: threshold must be None or a number with 0 < threshold <= 1"):
        metrics.F1Score(threshold=1.5)
    with pytest.raises(ValueError, match=r"F1Score expects 2D inputs.*\(2, 3, 1\)"):
        metrics.F1Score().update_state(np.zeros((2, 3, 1)), np.zeros((2, 3, 1)))
    with pytest.raises(ValueError, match=r"R2Score: invalid class_aggregation='mean'; valid: None, 'uniform_av"):
        metrics.R2Score(class_aggregation="mean")
    with pytest.raises(ValueError, match=r"R2Score: num_regressors must be a number >= 0, got -1"):
        metrics.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match=r"IoU: target_class_ids must be .* in \[0, 3\); got \[3\]"):
        metrics.IoU(num_classes=3, target_class_ids=[3])
    with pytest.raises(ValueError, match=r"BinaryIoU: target_class_ids .* \[0, 2\); got \[2\]"):
        metrics.BinaryIoU(target_class_ids=[2])
    with pytest.raises(ValueError, match=r"MeanIoU: num_classes must be an integer >= 1, got 0"):
        metrics.MeanIoU(num_classes=0)
    with pytest.raises(ValueError, match=r"MeanIoU: labels and predictions must be class ids in \[0, 2\).*\[2, 5\]"):
        metrics.MeanIoU(num_classes=2).update_state([0, 2, 5], [0, 1, 1])
