"""tl.math.confusion_matrix vs numpy, with weights, squeezable dims, gradients and errors.

(The segment reductions, bincount and histogram_fixed_width are tested in test_ops_extra.py.)
"""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import assert_close, numeric_grad


def ref_confusion(labels, predictions, n, weights=None):
    out = np.zeros((n, n))
    w = np.ones(len(labels)) if weights is None else weights
    for lab, pred, wi in zip(labels, predictions, w):
        out[int(lab), int(pred)] += wi
    return out


def test_confusion_matrix_counts_and_inferred_size(rng):
    labels = rng.integers(0, 5, size=40)
    preds = rng.integers(0, 7, size=40)
    got = tl.math.confusion_matrix(tl.constant(labels), tl.constant(preds))
    n = max(labels.max(), preds.max()) + 1
    assert got.dtype == tl.int32 and tuple(got.shape) == (n, n)
    np.testing.assert_array_equal(got.numpy(), ref_confusion(labels, preds, n))


def test_confusion_matrix_tf_example():
    np.testing.assert_array_equal(tl.math.confusion_matrix([1, 2, 4], [2, 2, 4]).numpy(),
                                  [[0, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0],
                                   [0, 0, 0, 0, 1]])


@pytest.mark.parametrize("dtype", [tl.float64, tl.float32, tl.int64])
def test_confusion_matrix_weights_num_classes_and_dtype(rng, dtype):
    labels = rng.integers(0, 4, size=30).astype(np.int64)
    preds = rng.integers(0, 4, size=30).astype(np.int32)
    w = rng.integers(1, 9, size=30) * 0.25 if dtype != tl.int64 else rng.integers(1, 9, size=30)
    got = tl.math.confusion_matrix(tl.constant(labels), tl.constant(preds), num_classes=6, weights=tl.constant(w),
                                   dtype=dtype)
    assert got.dtype == dtype and tuple(got.shape) == (6, 6)
    np.testing.assert_allclose(got.numpy(), ref_confusion(labels, preds, 6, w), rtol=1e-6)


def test_confusion_matrix_squeezes_a_trailing_unit_dim_and_truncates_floats():
    got = tl.math.confusion_matrix(tl.constant([[0], [1], [1]]), tl.constant([1.7, 1.2, 0.9]), num_classes=2)
    np.testing.assert_array_equal(got.numpy(), [[0, 1], [1, 1]])
    got = tl.math.confusion_matrix(tl.constant([True, False, True]), tl.constant([[True], [True], [True]]))
    np.testing.assert_array_equal(got.numpy(), [[0, 1], [0, 2]])


def test_confusion_matrix_gradient_wrt_weights(rng):
    labels = rng.integers(0, 3, size=12)
    preds = rng.integers(0, 3, size=12)
    w0 = rng.uniform(0.5, 1.5, size=12)
    coef = rng.uniform(-1, 1, size=(3, 3))

    def obj(arrs):
        m = tl.math.confusion_matrix(labels, preds, num_classes=3, weights=tl.constant(arrs[0]), dtype=tl.float64)
        return float(tl.reduce_sum(m * coef).numpy())
    w = tl.constant(w0)
    with tl.GradientTape() as tape:
        tape.watch(w)
        val = tl.reduce_sum(tl.math.confusion_matrix(labels, preds, 3, weights=w, dtype=tl.float64) * coef)
    g = tape.gradient(val, w).numpy()
    assert_close(g, numeric_grad(obj, [w0.copy()], 0, 1e-6), 1e-7)
    np.testing.assert_allclose(g, coef[labels, preds], rtol=1e-12)  # each weight lands in its one cell


def test_confusion_matrix_empty_and_symbolic():
    assert tuple(tl.math.confusion_matrix(tl.constant([], tl.int32), tl.constant([], tl.int32)).shape) == (0, 0)
    sym = tl.math.confusion_matrix(tl.SymbolicTensor((None,), tl.int32), tl.SymbolicTensor((None,), tl.int32), 4)
    assert tuple(sym.shape) == (4, 4) and sym.dtype == tl.int32


def test_errors_confusion_matrix():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"confusion_matrix: labels holds the negative value -1"):
        tl.math.confusion_matrix([0, -1], [0, 1])
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"confusion_matrix: predictions holds 3, which is out of "
                                                            r"range \[0, 3\) for num_classes=3"):
        tl.math.confusion_matrix([0, 1], [0, 3], num_classes=3)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"confusion_matrix: labels and predictions must be 1-D "
                                                            r"and of one length, got shapes \[3\] and \[2\]"):
        tl.math.confusion_matrix([0, 1, 1], [0, 1])
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"confusion_matrix: weights \[2\] must have the shape of "
                                                            r"predictions \[3\]"):
        tl.math.confusion_matrix([0, 1, 1], [0, 1, 0], weights=[1.0, 2.0])


@pytest.mark.gpu
def test_gpu_confusion_matrix_matches_cpu(rng):
    labels = rng.integers(0, 5, size=50).astype(np.int32)
    preds = rng.integers(0, 5, size=50).astype(np.int32)
    w = rng.uniform(0, 1, size=50).astype(np.float32)
    out = {}
    for dev, other in (("cpu", "gpu:0"), ("gpu:0", "cpu")):
        with tl.device(dev):
            args = tl.constant(labels), tl.constant(preds), tl.constant(w)
        with tl.device(other):  # computed where the labels are, whatever the current device
            m = tl.math.confusion_matrix(args[0], args[1], weights=args[2], dtype=tl.float32)
        assert ("GPU" in m.device) == (dev == "gpu:0")
        out[dev] = m.numpy()
    np.testing.assert_allclose(out["gpu:0"], out["cpu"], rtol=1e-6)
