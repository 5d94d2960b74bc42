"""keras.ops core (cast, shape, control flow, slice/scatter) and math (logsumexp, top_k, segments, ...)."""
import math

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import ops
from tests.keras.ops.helpers import check

KERAS_CORE_NAMES = [
    "cast", "cond", "convert_to_numpy", "convert_to_tensor", "custom_gradient", "dtype", "fori_loop",
    "is_tensor", "scatter", "scatter_update", "shape", "slice", "slice_update", "stop_gradient", "unstack",
    "while_loop",
]
KERAS_MATH_NAMES = ["erf", "extract_sequences", "in_top_k", "logsumexp", "rsqrt", "segment_max", "segment_sum",
                    "top_k"]


def test_names_match_keras_and_are_callable():
    assert sorted(ops.core.__all__) == sorted(KERAS_CORE_NAMES)
    assert sorted(ops.math.__all__) == sorted(KERAS_MATH_NAMES)
    for name in KERAS_CORE_NAMES + KERAS_MATH_NAMES:
        assert callable(getattr(ops, name)), name
    for sub in ["numpy", "core", "math", "nn", "linalg", "image"]:
        assert getattr(ops, sub).__name__ == f"tensorlab.keras.ops.{sub}"
    assert set(ops.nn.__all__) <= set(ops.__all__) and set(ops.linalg.__all__) <= set(ops.__all__)


def test_cast_dtype_convert(rng):
    x = rng.normal(size=(3, 4))
    t = ops.convert_to_tensor(x)
    assert ops.is_tensor(t) and not ops.is_tensor(x) and ops.dtype(t) == "float64"
    assert ops.dtype(ops.convert_to_tensor([1, 2])) == "int32"
    assert ops.dtype(ops.convert_to_tensor(t, dtype="float32")) == "float32"
    assert ops.dtype(ops.cast(t, "float16")) == "float16" and ops.dtype(ops.cast(t, np.int32)) == "int32"
    check(ops.cast(t, "int32"), x.astype("int32"))
    out = ops.convert_to_numpy(t)
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, x)
    assert ops.shape(t) == (3, 4) and isinstance(ops.shape(t), tuple)
    inp = keras.Input((5, 2))
    assert ops.shape(inp) == (None, 5, 2) and ops.is_tensor(inp)
    assert ops.dtype(ops.cast(inp, "int32")) == "int32"


def test_stop_gradient_and_custom_gradient(rng):
    x = tl.constant(rng.normal(size=(4,)))
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(x * ops.stop_gradient(x))
    check(tape.gradient(y, x), x.numpy())

    @ops.custom_gradient
    def log1pexp(v):
        e = ops.exp(v)

        def grad(*args, upstream=None):
            if upstream is None:
                (upstream,) = args
            return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))
        return ops.log(1 + e), grad

    with tl.GradientTape() as tape:
        tape.watch(x)
        y = ops.sum(log1pexp(x))
    check(y, np.sum(np.log1p(np.exp(x.numpy()))))
    check(tape.gradient(y, x), 1 / (1 + np.exp(-x.numpy())))


def test_unstack(rng):
    x = rng.normal(size=(3, 2, 4))
    for axis in (0, 1, -1):
        parts = ops.unstack(x, axis=axis)
        assert len(parts) == x.shape[axis]
        for got, want in zip(parts, np.moveaxis(x, axis, 0)):
            check(got, want)


def test_cond_while_fori(rng):
    x = tl.constant(rng.normal(size=(3,)))
    check(ops.cond(tl.constant(True), lambda: x * 2.0, lambda: x - 1.0), x.numpy() * 2)
    check(ops.cond(tl.constant(False), lambda: x * 2.0, lambda: x - 1.0), x.numpy() - 1)
    i, s = ops.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + x), (0, ops.zeros_like(x)))
    assert int(i) == 5
    check(s, 5 * x.numpy(), rtol=1e-12)
    single = ops.while_loop(lambda v: ops.sum(v) < 100.0, lambda v: v * 2.0, tl.constant([1.0, 2.0]))
    check(single, [64.0, 128.0])
    capped = ops.while_loop(lambda v: v < 1000, lambda v: v + 1, tl.constant(0), maximum_iterations=7)
    assert int(capped) == 7
    out = ops.fori_loop(2, 6, lambda i, v: v + ops.cast(i, "float64") * x, ops.zeros_like(x))
    check(out, (2 + 3 + 4 + 5) * x.numpy(), rtol=1e-12)


def test_while_loop_gradient(rng):
    x = tl.constant(rng.uniform(0.5, 1.5, size=(3,)))
    with tl.GradientTape() as tape:
        tape.watch(x)
        _, y = ops.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * x), (0, ops.ones_like(x)))
        y = ops.sum(y)
    check(tape.gradient(y, x), 3 * x.numpy() ** 2, rtol=1e-10)


def test_slice_and_slice_update(rng):
    x = rng.normal(size=(4, 5, 3))
    check(ops.slice(x, (1, 2, 0), (2, 3, 3)), x[1:3, 2:5, 0:3])
    u = rng.normal(size=(2, 2, 1))
    want = x.copy()
    want[2:4, 1:3, 1:2] = u
    check(ops.slice_update(x, (2, 1, 1), u), want)
    xt, ut = tl.constant(x), tl.constant(u)
    with tl.GradientTape() as tape:
        tape.watch([xt, ut])
        y = ops.sum(ops.slice_update(xt, (2, 1, 1), ut) * 3.0)
    gx, gu = tape.gradient(y, [xt, ut])
    mask = np.full(x.shape, 3.0)
    mask[2:4, 1:3, 1:2] = 0.0
    check(gx, mask)
    check(gu, np.full(u.shape, 3.0))


def test_scatter_and_scatter_update(rng):
    idx = np.array([[0, 1], [2, 0], [0, 1]])
    vals = rng.normal(size=(3,))
    want = np.zeros((3, 2))
    np.add.at(want, (idx[:, 0], idx[:, 1]), vals)
    check(ops.scatter(idx, vals, (3, 2)), want)
    x = rng.normal(size=(3, 2))
    upd = np.array([[0, 0], [2, 1]])
    v2 = rng.normal(size=(2,))
    want = x.copy()
    want[upd[:, 0], upd[:, 1]] = v2
    check(ops.scatter_update(x, upd, v2), want)
    want = x.copy()
    np.add.at(want, (idx[:, 0], idx[:, 1]), vals)
    check(ops.scatter_update(x, idx, vals, reduction="add"), want)


@pytest.mark.parametrize("axis", [None, 0, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp(axis, keepdims, rng):
    x = rng.normal(size=(3, 4)) * 5
    m = np.max(x, axis=axis, keepdims=True)
    want = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    if not keepdims:
        want = np.squeeze(want, axis=axis) if axis is not None else want.reshape(())
    check(ops.logsumexp(x, axis=axis, keepdims=keepdims), want)


def test_top_k_in_top_k(rng):
    x = rng.normal(size=(4, 7))
    vals, idx = ops.top_k(x, 3)
    want_idx = np.argsort(-x, axis=-1)[:, :3]
    assert idx.dtype == tl.int32
    check(idx, want_idx)
    check(vals, np.take_along_axis(x, want_idx, axis=-1))
    targets = rng.integers(0, 7, size=(4,))
    rank = (x > x[np.arange(4), targets][:, None]).sum(axis=1)
    check(ops.in_top_k(targets, x.astype("float32"), 2), rank < 2)


def test_segments(rng):
    data = rng.normal(size=(6, 3))
    ids = np.array([0, 0, 2, 2, 2, 3])
    want_sum = np.stack([data[ids == s].sum(axis=0) if (ids == s).any() else np.zeros(3) for s in range(4)])
    check(ops.segment_sum(data, ids), want_sum)
    check(ops.segment_sum(data, ids, num_segments=5), np.concatenate([want_sum, np.zeros((1, 3))]))
    got = ops.segment_max(data, ids).numpy()
    for s in (0, 2, 3):
        np.testing.assert_allclose(got[s], data[ids == s].max(axis=0))
    dt = tl.constant(data)
    with tl.GradientTape() as tape:
        tape.watch(dt)
        y = ops.sum(ops.segment_sum(dt, ids) * np.arange(4.0)[:, None])
    check(tape.gradient(y, dt), np.repeat(ids[:, None].astype(float), 3, axis=1))


def test_rsqrt_erf_extract_sequences(rng):
    x = rng.uniform(0.1, 3.0, size=(3, 4))
    check(ops.rsqrt(x), 1 / np.sqrt(x), rtol=1e-6)
    y = rng.normal(size=(5,))
    check(ops.erf(y), np.array([math.erf(v) for v in y]), rtol=1e-6)
    assert ops.erf(tl.constant([1, 2])).dtype == tl.float32
    s = rng.normal(size=(2, 10))
    got = ops.extract_sequences(s, 4, 3)
    want = np.stack([s[:, i:i + 4] for i in range(0, 7, 3)], axis=1)
    check(got, want)


def test_error_bad_arguments(rng):
    x = rng.normal(size=(3, 4))
    with pytest.raises(ValueError, match="ops.slice: start_indices"):
        ops.slice(x, (0,), (1, 1))
    with pytest.raises(ValueError, match="ops.slice_update"):
        ops.slice_update(x, (0, 0), np.ones((2,)))
    with pytest.raises(ValueError, match="ops.scatter_update: reduction"):
        ops.scatter_update(x, [[0, 0]], [1.0], reduction="median")
    with pytest.raises(ValueError, match="ops.top_k: k"):
        ops.top_k(x, 0)
    with pytest.raises(ValueError, match="ops.segment_sum: segment_ids"):
        ops.segment_sum(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="ops.extract_sequences"):
        ops.extract_sequences(x, 5, 1)
    with pytest.raises(ValueError, match="ops.unstack: num"):
        ops.unstack(x, num=2)
    with pytest.raises(ValueError, match="ops.convert_to_tensor.*sparse"):
        ops.convert_to_tensor(x, sparse=True)
    with pytest.raises(ValueError, match="ops.while_loop: maximum_iterations"):
        ops.while_loop(lambda v: v < 3, lambda v: v + 1, 0, maximum_iterations=-1)
