"""Ops whose sizes or checks read their inputs' values (segment reductions, bincount, histograms, confusion
matrices, crop_and_resize, draw_bounding_boxes, NMS, keras.ops.take_along_axis) on Functional-API tensors.

Each runs as one registry composite: on ``keras.Input`` tensors it gives a KerasTensor with the static shape
Keras/TF give (None where the size depends on the values) and a ``keras.Model`` replays it on data. Each case
checks the static shape, that ``model.predict`` equals the eager op and a float64 numpy reference on fresh
random inputs, and, where the op is differentiable, that the model's gradients equal the eager op's.
"""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras._node import KerasTensor
from tests.ops.test_image_geometry import ref_crop_and_resize, ref_draw_bounding_boxes
from tests.ops.test_image_nms import random_boxes, ref_combined, ref_nms, ref_padded, ref_soft_nms
from tests.ops.test_segment import ref_confusion

F32_MIN, F32_MAX = np.finfo(np.float32).min, np.finfo(np.float32).max


def _list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _build(specs, op):
    inputs = [keras.Input(shape, dtype=dtype) for shape, dtype in specs]
    out = op(*inputs)
    for o in _list(out):
        assert isinstance(o, KerasTensor) and o._keras_history is not None, o
    return inputs, out, keras.Model(inputs if len(inputs) > 1 else inputs[0], out)


def check(specs, op, arrays, ref, shapes, predict=True, rtol=1e-6):
    """Builds ``Model(inputs, op(*inputs))`` and checks static shapes, predict vs eager vs reference."""
    inputs, out, model = _build(specs, op)
    assert [tuple(o.shape) for o in _list(out)] == shapes
    if predict:
        got = model.predict(arrays if len(arrays) > 1 else arrays[0], batch_size=len(arrays[0]), verbose=0)
    else:  # a scalar output cannot be batched by predict: call the model
        got = model([tl.constant(a) for a in arrays])
    got = [np.asarray(g.numpy() if hasattr(g, "numpy") else g) for g in _list(got)]
    eager = [e.numpy() for e in _list(op(*[tl.constant(a) for a in arrays]))]
    want = _list(ref(*[a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]))
    assert len(got) == len(eager) == len(want) == len(shapes)
    for g, e, w, s, o in zip(got, eager, want, shapes, _list(out)):
        assert g.dtype == o.dtype.as_numpy_dtype
        assert g.ndim == len(s) and all(d is None or d == n for d, n in zip(s, g.shape)), (g.shape, s)
        np.testing.assert_array_equal(g, e)
        np.testing.assert_allclose(g.astype(np.float64), np.asarray(w, np.float64), rtol=rtol, atol=rtol)
    return model


def check_gradients(model, op, arrays, wrt, rng):
    """The model's gradients w.r.t. the inputs ``wrt`` equal the eager op's; returns them (float64)."""
    xs = [tl.constant(a) for a in arrays]
    out_shapes = [e.shape for e in _list(op(*xs))]
    weights = [tl.constant(rng.uniform(0.5, 1.5, size=s)) for s in out_shapes]

    def grads(fn):
        with tl.GradientTape() as tape:
            for i in wrt:
                tape.watch(xs[i])
            outs = _list(fn(xs))
            loss = tl.add_n([tl.reduce_sum(tl.cast(o, tl.float64) * w)
                             for o, w in zip(outs, weights) if o.dtype.is_floating])
        return [g.numpy() for g in tape.gradient(loss, [xs[i] for i in wrt])]
    got = grads(lambda v: model(v if len(v) > 1 else v[0]))
    want = grads(lambda v: op(*v))
    for g, w in zip(got, want):
        assert np.any(g != 0)
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-7)
    return [g.astype(np.float64) for g in got], [w.numpy() for w in weights]


# ----------------------------------------------------------------- segment reductions
def _seg_ref(kind, x, ids, n):
    out = np.zeros((n,) + x.shape[1:])
    if kind in ("max", "min"):
        out[:] = F32_MIN if kind == "max" else F32_MAX
    combine = {"sum": np.add, "mean": np.add, "max": np.maximum, "min": np.minimum}[kind]
    count = np.zeros(n)
    for row, i in zip(x, ids):
        if 0 <= i < n:  # a negative id drops its row
            out[i] = combine(out[i], row)
            count[i] += 1
    return out / np.maximum(count, 1)[:, None] if kind == "mean" else out


def test_segment_sum_has_an_unknown_number_of_segments(rng):
    xs = rng.standard_normal((9, 5)).astype("float32")
    ids = np.sort(rng.integers(0, 6, 9)).astype("int32")
    specs = [((5,), "float32"), ((), "int32")]
    model = check(specs, tl.math.segment_sum, [xs, ids], lambda x, i: _seg_ref("sum", x, i, i.max() + 1),
                  [(None, 5)])
    (g,), (w,) = check_gradients(model, tl.math.segment_sum, [xs, ids], [0], rng)
    np.testing.assert_allclose(g, w[ids], rtol=1e-6)


@pytest.mark.parametrize("kind", ["sum", "mean", "max", "min"])
def test_unsorted_segment_reductions(rng, kind):
    op = getattr(tl.math, f"unsorted_segment_{kind}")
    xs = rng.standard_normal((11, 5)).astype("float32")
    ids = rng.integers(-1 if kind == "sum" else 0, 4, 11).astype("int32")  # a negative id drops its row
    ids[:2] = [0, 2]

    def fn(x, i):
        return op(x, i, 4)
    model = check([((5,), "float32"), ((), "int32")], fn, [xs, ids], lambda x, i: _seg_ref(kind, x, i, 4), [(4, 5)])
    (g,), (w,) = check_gradients(model, fn, [xs, ids], [0], rng)
    if kind == "sum":
        np.testing.assert_allclose(g, np.where(ids[:, None] >= 0, w[ids], 0.0), rtol=1e-6)


def test_keras_ops_segment_sum_and_max(rng):
    xs = rng.standard_normal((10, 3)).astype("float32")
    ids = rng.integers(0, 5, 10).astype("int32")
    specs = [((3,), "float32"), ((), "int32")]
    model = check(specs, keras.ops.segment_sum, [xs, ids], lambda x, i: _seg_ref("sum", x, i, i.max() + 1),
                  [(None, 3)])
    check_gradients(model, keras.ops.segment_sum, [xs, ids], [0], rng)

    def seg_max(x, i):
        return keras.ops.segment_max(x, i, num_segments=6)
    check(specs, seg_max, [xs, ids], lambda x, i: _seg_ref("max", x, i, 6), [(6, 3)])


def test_segment_errors_come_from_the_replayed_op(rng):
    x, ids = keras.Input((2,)), keras.Input((), dtype="int32")
    model = keras.Model([x, ids], tl.math.unsorted_segment_sum(x, ids, 3))
    with pytest.raises(tl.errors.InvalidArgumentError, match="out of range"):
        model([tl.ones([2, 2]), tl.constant([0, 3])])


# ----------------------------------------------------------------- histogram, bincount, confusion matrix
def test_histogram_fixed_width(rng):
    xs = rng.uniform(-0.3, 1.3, (8, 6)).astype("float32")

    def fn(v):
        return tl.histogram_fixed_width(v, [0.0, 1.0], nbins=5)

    def ref(v):
        ids = np.minimum(np.floor(np.maximum(v.ravel(), 0.0) / 0.2), 4).astype(int)
        return np.bincount(ids, minlength=5)
    check([((6,), "float32")], fn, [xs], ref, [(5,)])


@pytest.mark.parametrize("num_classes", [4, None])
def test_confusion_matrix(rng, num_classes):
    labels = rng.integers(0, 4, 12).astype("int32")
    preds = rng.integers(0, 4, 12).astype("int32")
    w = rng.uniform(0.5, 2.0, 12).astype("float32")

    def fn(lab, pred, wt):
        return tl.math.confusion_matrix(lab, pred, num_classes=num_classes, weights=wt, dtype=tl.float32)

    def ref(lab, pred, wt):
        return ref_confusion(lab, pred, num_classes or max(lab.max(), pred.max()) + 1, wt)
    n = num_classes
    model = check([((), "int32"), ((), "int32"), ((), "float32")], fn, [labels, preds, w], ref, [(n, n)])
    (g,), (coef,) = check_gradients(model, fn, [labels, preds, w], [2], rng)
    np.testing.assert_allclose(g, coef[labels, preds], rtol=1e-6)  # each weight lands in its one cell


def test_confusion_matrix_squeezes_a_unit_dim_and_counts(rng):
    labels = rng.integers(0, 3, (10, 1)).astype("int32")
    preds = rng.integers(0, 3, 10).astype("int32")

    def fn(lab, pred):
        return tl.math.confusion_matrix(lab, pred, num_classes=3)
    check([((1,), "int32"), ((), "int32")], fn, [labels, preds], lambda lab, p: ref_confusion(lab[:, 0], p, 3),
          [(3, 3)])


@pytest.mark.parametrize("minlength,maxlength,weighted,shape", [
    (None, None, False, (None,)), (6, 6, True, (6,)), (2, None, True, (None,)), (None, 0, False, (0,))])
def test_bincount(rng, minlength, maxlength, weighted, shape):
    ids = rng.integers(0, 8, 13).astype("int32")
    w = rng.uniform(0.5, 2.0, 13).astype("float32")

    def fn(a, wt):
        return tl.math.bincount(a, weights=wt if weighted else None, minlength=minlength, maxlength=maxlength)

    def ref(a, wt):
        size = max(a.max() + 1, minlength or 0)
        size = size if maxlength is None else min(size, maxlength)
        keep = a < size
        return np.bincount(a[keep], wt[keep] if weighted else None, minlength=size)[:size]
    check([((), "int32"), ((), "float32")], fn, [ids, w], ref, [shape])


@pytest.mark.parametrize("length,shape", [(None, (None, None)), (4, (None, 4))])
def test_bincount_per_row(rng, length, shape):
    ids = rng.integers(0, 6, (5, 7)).astype("int32")

    def fn(a):
        return tl.math.bincount(a, minlength=length, maxlength=length, axis=-1)

    def ref(a):
        size = length or a.max() + 1
        return np.stack([np.bincount(r[r < size], minlength=size) for r in a])
    check([((7,), "int32")], fn, [ids], ref, [shape])
    check([((7,), "int32")], lambda a: keras.ops.bincount(a), [ids],
          lambda a: np.stack([np.bincount(r, minlength=a.max() + 1) for r in a]), [(None, None)])


# ----------------------------------------------------------------- crop_and_resize, draw_bounding_boxes
@pytest.mark.parametrize("method", ["bilinear", "nearest"])
def test_crop_and_resize(rng, method):
    n = 5  # as many images as boxes: predict needs inputs of one length
    img = rng.uniform(-1, 1, (n, 8, 9, 3)).astype("float32")
    boxes = rng.uniform(-0.2, 1.2, (n, 4)).astype("float32")
    idx = rng.integers(0, n, n).astype("int32")

    def fn(i, b, k):
        return tl.image.crop_and_resize(i, b, k, [3, 4], method=method, extrapolation_value=0.5)
    model = check([((8, 9, 3), "float32"), ((4,), "float32"), ((), "int32")], fn, [img, boxes, idx],
                  lambda i, b, k: ref_crop_and_resize(i, b, k, (3, 4), method, 0.5), [(None, 3, 4, 3)], rtol=1e-5)
    check_gradients(model, fn, [img, boxes, idx], [0, 1] if method == "bilinear" else [0], rng)
    # The number of boxes need not be the number of images.
    got = model([tl.constant(img[:2]), tl.constant(boxes), tl.constant(idx % 2)])
    np.testing.assert_array_equal(got.numpy(), fn(img[:2], boxes, idx % 2).numpy())


def test_draw_bounding_boxes(rng):
    images = rng.uniform(0.2, 0.8, (3, 7, 9, 3)).astype("float32")
    boxes = rng.uniform(-0.3, 1.3, (3, 5, 4)).astype("float32")
    colors = [[1.0, 0.0, 0.0, 1.0], [0.0, 1.0, 0.5, 1.0]]

    def fn(x, b):
        return tl.image.draw_bounding_boxes(x, b, colors)
    model = check([((7, 9, 3), "float32"), ((5, 4), "float32")], fn, [images, boxes],
                  lambda x, b: ref_draw_bounding_boxes(x, b, colors), [(None, 7, 9, 3)])
    (g,), (w,) = check_gradients(model, fn, [images, boxes], [0], rng)
    drawn = fn(images, boxes).numpy() != images  # (up to colours equal to the pixel) the untouched pixels
    np.testing.assert_allclose(g[~drawn], w[~drawn], rtol=1e-6)


# ----------------------------------------------------------------- non-maximum suppression
def test_non_max_suppression(rng):
    boxes, scores = random_boxes(rng, 30)

    def fn(b, s):
        return tl.image.non_max_suppression(b, s, 8, 0.4, 0.1)
    check([((4,), "float32"), ((), "float32")], fn, [boxes, scores],
          lambda b, s: np.array(ref_nms(b, s, 8, 0.4, 0.1)), [(None,)])


@pytest.mark.parametrize("sigma", [0.0, 0.5])
def test_non_max_suppression_with_scores(rng, sigma):
    boxes, scores = random_boxes(rng, 25, ties=False)

    def fn(b, s):
        return tl.image.non_max_suppression_with_scores(b, s, 10, 0.5, 0.05, soft_nms_sigma=sigma)

    def ref(b, s):
        if sigma:
            return [np.array(v) for v in ref_soft_nms(b.astype(np.float32), s.astype(np.float32), 10, sigma, 0.05)]
        kept = ref_nms(b, s, 10, 0.5, 0.05)
        return [np.array(kept), s[kept]]
    check([((4,), "float32"), ((), "float32")], fn, [boxes, scores], ref, [(None,), (None,)], rtol=1e-5)


def test_non_max_suppression_padded(rng):
    boxes = np.stack([random_boxes(rng, 12, ties=False)[0] for _ in range(4)])
    scores = rng.uniform(0, 1, (4, 12)).astype("float32")

    def fn(b, s):
        return tl.image.non_max_suppression_padded(b, s, 5, 0.5, 0.1, pad_to_max_output_size=True)
    check([((12, 4), "float32"), ((12,), "float32")], fn, [boxes, scores],
          lambda b, s: ref_padded(b, s, 5, 0.5, 0.1), [(None, 5), (None,)])

    def single(b, s):  # one image, unpadded: an unknown number of indices and a scalar count
        return tl.image.non_max_suppression_padded(b, s, 5, 0.5)

    def ref_single(b, s):
        sel, nv = ref_padded(b[None], s[None], 5, 0.5)
        return [sel[0, :nv[0]], nv[0]]
    check([((4,), "float32"), ((), "float32")], single, [boxes[0], scores[0]], ref_single, [(None,), ()],
          predict=False)


def test_combined_non_max_suppression(rng):
    boxes = rng.uniform(0, 1, (3, 10, 1, 4)).astype("float32")
    boxes[..., 2:] = boxes[..., :2] + rng.uniform(0.1, 0.5, (3, 10, 1, 2))
    scores = rng.uniform(0, 1, (3, 10, 3)).astype("float32")

    def fn(b, s):
        return tl.image.combined_non_max_suppression(b, s, 2, 4, 0.5, 0.2)
    check([((10, 1, 4), "float32"), ((10, 3), "float32")], fn, [boxes, scores],
          lambda b, s: list(ref_combined(b.astype(np.float32), s.astype(np.float32), 2, 4, 0.5, 0.2, False, True)),
          [(None, 4, 4), (None, 4), (None, 4), (None,)])


# ----------------------------------------------------------------- keras.ops.take_along_axis
@pytest.mark.parametrize("x_shape,idx_shape,axis,out_shape", [
    ((5, 6), (5, 2), 2, (None, 5, 2)),
    ((5, 6), (1, 3), -1, (None, 5, 3)),   # indices broadcast over the middle axis
    ((1, 6), (4, 6), 1, (None, 4, 6)),    # x broadcasts over the middle axis
])
def test_keras_ops_take_along_axis(rng, x_shape, idx_shape, axis, out_shape):
    n = 3
    xs = rng.standard_normal((n,) + x_shape).astype("float32")
    size = x_shape[axis - 1 if axis > 0 else axis]
    idx = rng.integers(-size, size, (n,) + idx_shape).astype("int32")  # negative indices count from the end

    def fn(x, i):
        return keras.ops.take_along_axis(x, i, axis=axis)
    model = check([(x_shape, "float32"), (idx_shape, "int32")], fn, [xs, idx],
                  lambda x, i: np.take_along_axis(x, i, axis=axis), [out_shape])
    (g,), (w,) = check_gradients(model, fn, [xs, idx], [0], rng)
    ax = axis % 3
    full = np.broadcast_shapes(tuple(s if d != ax else 1 for d, s in enumerate(xs.shape)),
                               tuple(s if d != ax else 1 for d, s in enumerate(idx.shape)))
    bi = np.broadcast_to(idx, full[:ax] + (idx.shape[ax],) + full[ax + 1:]) % xs.shape[ax]
    want = np.zeros(np.broadcast_shapes(xs.shape, full[:ax] + (xs.shape[ax],) + full[ax + 1:]))
    grid = np.indices(bi.shape)
    grid[ax] = bi
    np.add.at(want, tuple(grid), w)
    if want.shape != xs.shape:  # x was broadcast: its gradient sums over the broadcast axes
        want = want.sum(axis=tuple(d for d in range(3) if xs.shape[d] == 1), keepdims=True)
    np.testing.assert_allclose(g, want, rtol=1e-6)
