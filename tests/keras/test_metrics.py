"""Stateful metrics against numpy: accumulation over batches, weights, reset."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab.keras import metrics


def batches(rng, n_batches, fn):
    return [fn(rng) for _ in range(n_batches)]


def test_mean_and_sum_accumulate_with_weights(rng):
    vals = [rng.standard_normal(5) for _ in range(3)]
    ws = [rng.uniform(0, 1, 5) for _ in range(3)]
    m, s = metrics.Mean(), metrics.Sum()
    for v, w in zip(vals, ws):
        m.update_state(v, sample_weight=w)
        s.update_state(v)
    allv, allw = np.concatenate(vals), np.concatenate(ws)
    assert float(m.result()) == pytest.approx((allv * allw).sum() / allw.sum(), rel=1e-5)
    assert float(s.result()) == pytest.approx(allv.sum(), rel=1e-5)
    m.reset_state()
    assert float(m.result()) == 0.0
    assert float(m(tl.constant([1.0, 3.0]))) == 2.0


@pytest.mark.parametrize("cls,ref", [
    (metrics.SparseCategoricalAccuracy, lambda y, p: np.mean(p.argmax(-1) == y)),
    (metrics.CategoricalAccuracy, lambda y, p: np.mean(p.argmax(-1) == y)),
    (metrics.SparseTopKCategoricalAccuracy, lambda y, p: np.mean(
        [yy in np.argsort(-pp)[:5] for yy, pp in zip(y, p)])),
    (metrics.TopKCategoricalAccuracy, lambda y, p: np.mean([yy in np.argsort(-pp)[:5] for yy, pp in zip(y, p)])),
])
def test_categorical_accuracies_over_batches(cls, ref, rng):
    ys = [rng.integers(0, 8, 6) for _ in range(3)]
    ps = [rng.random((6, 8)) for _ in range(3)]
    m = cls()
    onehot = cls in (metrics.CategoricalAccuracy, metrics.TopKCategoricalAccuracy)
    for y, p in zip(ys, ps):
        m.update_state(np.eye(8)[y] if onehot else y[:, None], p.astype("float32"))
    assert float(m.result()) == pytest.approx(ref(np.concatenate(ys), np.concatenate(ps)), rel=1e-6)


def test_accuracy_and_binary_accuracy(rng):
    y = rng.integers(0, 2, (10, 1)).astype("float32")
    p = rng.random((10, 1)).astype("float32")
    m = metrics.BinaryAccuracy(threshold=0.3)
    m.update_state(y, p)
    assert float(m.result()) == pytest.approx(np.mean((p > 0.3) == y))
    a = metrics.Accuracy()
    a.update_state([1, 2, 3, 4], [1, 2, 0, 4])
    assert float(a.result()) == 0.75


def test_regression_metrics(rng):
    t = [rng.standard_normal((4, 2)) for _ in range(2)]
    p = [rng.standard_normal((4, 2)) for _ in range(2)]
    mse, mae, rmse = metrics.MeanSquaredError(), metrics.MeanAbsoluteError(), metrics.RootMeanSquaredError()
    for a, b in zip(t, p):
        for m in (mse, mae, rmse):
            m.update_state(a, b.astype("float32"))
    T, P = np.concatenate(t), np.concatenate(p)
    assert float(mse.result()) == pytest.approx(np.mean((T - P) ** 2), rel=1e-5)
    assert float(mae.result()) == pytest.approx(np.mean(np.abs(T - P)), rel=1e-5)
    assert float(rmse.result()) == pytest.approx(np.sqrt(np.mean((T - P) ** 2)), rel=1e-5)


def test_precision_recall_thresholds_and_class_id(rng):
    y = rng.integers(0, 2, 40).astype("float32")
    p = rng.random(40).astype("float32")
    pr, rc = metrics.Precision(), metrics.Recall()
    for sl in (slice(0, 20), slice(20, 40)):
        pr.update_state(y[sl], p[sl])
        rc.update_state(y[sl], p[sl])
    tp = np.sum((p > 0.5) & (y == 1))
    assert float(pr.result()) == pytest.approx(tp / np.sum(p > 0.5))
    assert float(rc.result()) == pytest.approx(tp / np.sum(y == 1))
    multi = metrics.Precision(thresholds=[0.2, 0.8])
    multi.update_state(y, p)
    ref = [np.sum((p > t) & (y == 1)) / max(np.sum(p > t), 1) for t in (0.2, 0.8)]
    np.testing.assert_allclose(multi.result().numpy(), ref, rtol=1e-6)
    yc = np.eye(3)[rng.integers(0, 3, 12)]
    pc = rng.random((12, 3)).astype("float32")
    r1 = metrics.Recall(class_id=1)
    r1.update_state(yc, pc)
    tp1 = np.sum((pc[:, 1] > 0.5) & (yc[:, 1] == 1))
    assert float(r1.result()) == pytest.approx(tp1 / max(yc[:, 1].sum(), 1))


def _auc_ref(y, p, n=200, curve="ROC"):
    th = np.array([-1e-7] + [(i + 1) / (n - 1) for i in range(n - 2)] + [1 + 1e-7])
    pos = p[:, None] > th[None]
    tp = (pos & (y[:, None] == 1)).sum(0).astype(float)
    fp = (pos & (y[:, None] == 0)).sum(0).astype(float)
    fn = (~pos & (y[:, None] == 1)).sum(0).astype(float)
    tn = (~pos & (y[:, None] == 0)).sum(0).astype(float)
    if curve == "ROC":
        tpr = tp / np.maximum(tp + fn, 1e-30)
        fpr = fp / np.maximum(fp + tn, 1e-30)
        return np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2)
    # Davis & Goadrich interpolation between thresholds, as Keras computes PR-AUC
    def div(a, b):
        return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)
    dtp = tp[:-1] - tp[1:]
    pp = tp + fp
    dp = pp[:-1] - pp[1:]
    slope = div(dtp, np.maximum(dp, 0))
    intercept = tp[1:] - slope * pp[1:]
    ratio = np.where((pp[:-1] > 0) & (pp[1:] > 0), div(pp[:-1], np.maximum(pp[1:], 0)), 1.0)
    return np.sum(div(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0)))


def test_auc_roc_matches_reference_and_rank_statistic(rng):
    y = rng.integers(0, 2, 300)
    p = np.clip(y * 0.3 + rng.random(300) * 0.7, 0, 1).astype("float32")
    m = metrics.AUC()
    m.update_state(y[:150], p[:150])
    m.update_state(y[150:], p[150:])
    got = float(m.result())
    assert got == pytest.approx(_auc_ref(y, p), abs=1e-5)
    # close to the exact rank statistic (Mann-Whitney U)
    pos, neg = p[y == 1], p[y == 0]
    exact = np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :])
    assert got == pytest.approx(exact, abs=0.01)


def test_auc_pr_matches_interpolated_reference(rng):
    y = rng.integers(0, 2, 200)
    p = np.clip(y * 0.4 + rng.random(200) * 0.6, 0, 1).astype("float32")
    m = metrics.AUC(curve="PR")
    m.update_state(y, p)
    got = float(m.result())
    assert got == pytest.approx(_auc_ref(y, p, curve="PR"), abs=1e-5)
    # and close to average precision computed from the ranking
    order = np.argsort(-p)
    hits = y[order] == 1
    ap = np.sum(np.cumsum(hits)[hits] / (np.nonzero(hits)[0] + 1)) / hits.sum()
    assert got == pytest.approx(ap, abs=0.05)
    with pytest.raises(ValueError, match="invalid curve"):
        metrics.AUC(curve="XY")


def test_get_unknown_metric_lists_choices_and_config():
    with pytest.raises(ValueError, match=r"Unknown metric: 'acuracy'.*accuracy"):
        metrics.get("acuracy")
    m = metrics.deserialize(metrics.serialize(metrics.Precision(thresholds=0.7, name="p7")))
    assert m.name == "p7" and m.thresholds == [0.7]
