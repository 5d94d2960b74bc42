"""TF functions that ported scripts use: NaN/Inf tests, norm clipping, roll/repeat/meshgrid,
segment reductions, embedding_lookup, print, check_numerics, control_dependencies,
py_function and numpy_function. Forward vs numpy float64, gradients, shape rules, errors."""
import io
import sys

import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import Case, S, check_forward, check_grad, check_second, op_tests

IAE = tl.errors.InvalidArgumentError


def sq(fn, ref):
    """Squares an op's float outputs so second derivatives go through its gradient rule (linear ops)."""
    def f(*a, **k):
        y = fn(*a, **k)
        if isinstance(y, (list, tuple)):
            return [v * v if v.dtype.is_floating else v for v in y]
        return y * y

    def r(*a, **k):
        y = ref(*a, **k)
        if isinstance(y, (list, tuple)):
            return [v * v for v in y]
        return y * y
    return f, r


def C(name, fn, ref, inputs, **kw):
    f, r = sq(fn, ref)
    return Case(name, f, r, inputs, **kw)


# ----------------------------------------------------------------- numpy references
def _clip_by_norm_ref(x, c, axes=None):
    norm = np.sqrt((x * x).sum(axis=None if axes is None else tuple(axes), keepdims=True))
    return x * c / np.maximum(norm, c)


def _global_ref(a, b, c):
    norm = np.sqrt((a * a).sum() + (b * b).sum())
    scale = c / max(norm, c)
    return [a * scale, b * scale, norm]


def _seg_sum_ref(data, ids, n):
    ids = np.asarray(ids)
    out = np.zeros((n,) + data.shape[ids.ndim:], dtype=np.float64)
    flat_ids = ids.reshape(-1)
    rows = data.reshape((-1,) + data.shape[ids.ndim:])
    for i, s in enumerate(flat_ids):
        if s >= 0:
            out[s] += rows[i]
    return out


def _seg_count_ref(ids, n):
    ids = np.asarray(ids).reshape(-1)
    return np.array([(ids == s).sum() for s in range(n)], dtype=np.float64)


def _seg_mean_ref(data, ids, n):
    total = _seg_sum_ref(data, ids, n)
    count = np.maximum(_seg_count_ref(ids, n), 1).reshape((n,) + (1,) * (total.ndim - 1))
    return total / count


def _seg_extremum_ref(data, ids, n, pick):
    out = []
    for s in range(n):
        out.append(pick(data[np.asarray(ids) == s], axis=0))
    return np.stack(out)


def _all_segments(ids, n):
    """Every segment 0..n-1 occurs (then the drawn ids), so no segment is empty."""
    return tl.concat([tl.range(n, dtype=ids.dtype), ids], 0)


def _embed_ref(params, ids, max_norm=None):
    out = params[np.asarray(ids)]
    if max_norm is not None:
        axes = tuple(range(np.asarray(ids).ndim, out.ndim))
        norm = np.sqrt((out * out).sum(axis=axes, keepdims=True))
        out = out * max_norm / np.maximum(norm, max_norm)
    return out


def _meshgrid_ref(*xs, indexing="xy"):
    return list(np.meshgrid(*xs, indexing=indexing))


def _py_fn(x, y):
    def body(a, b):
        return [tl.sin(a) * b, tl.reduce_sum(a * a)]
    return tl.py_function(body, [x, y], Tout=[x.dtype, x.dtype])


IDS = S(shape=(6,), kind="int", dtype="int32", low=-1, high=4, diff=False)
CASES = [
    Case("clip_by_norm_clips", lambda x: tl.clip_by_norm(x, 1.5), lambda x: _clip_by_norm_ref(x, 1.5),
         [S(shape=(3, 4))]),
    Case("clip_by_norm_unchanged", lambda x: tl.clip_by_norm(x, 100.0), lambda x: _clip_by_norm_ref(x, 100.0),
         [S(shape=(3, 4))]),
    Case("clip_by_norm_tensor_clip_norm", tl.clip_by_norm, _clip_by_norm_ref,
         [S(shape=(2, 5)), S(shape=(), low=0.5, high=1.5)]),
    Case("clip_by_norm_axes", lambda x: tl.clip_by_norm(x, 1.2, axes=[1, 2]),
         lambda x: _clip_by_norm_ref(x, 1.2, axes=[1, 2]), [S(shape=(4, 2, 3), low=-1, high=1)]),
    Case("clip_by_global_norm", lambda a, b, c: (lambda r: r[0] + [r[1]])(tl.clip_by_global_norm([a, b], c)),
         _global_ref, [S(shape=(3, 2)), S(shape=(4,)), S(shape=(), low=0.5, high=2.0)]),
    C("roll", lambda x: tl.roll(x, 2, 1), lambda x: np.roll(x, 2, 1), [S(shape=(3, 5))]),
    C("roll_lists_negative_repeated_axis", lambda x: tl.roll(x, [-1, 4, 3], [0, 2, -1]),
      lambda x: np.roll(x, [-1, 4, 3], [0, 2, -1]), [S(shape=(3, 2, 4))]),
    C("roll_shift_past_size", lambda x: tl.roll(x, 13, 0), lambda x: np.roll(x, 13, 0), [S(shape=(5,))]),
    C("repeat_flatten", lambda x: tl.repeat(x, 3), lambda x: np.repeat(x, 3), [S(shape=(2, 3))]),
    C("repeat_axis1", lambda x: tl.repeat(x, 2, axis=1), lambda x: np.repeat(x, 2, axis=1), [S(shape=(2, 3, 2))]),
    C("repeat_list", lambda x: tl.repeat(x, [2, 0, 3], axis=-2), lambda x: np.repeat(x, [2, 0, 3], axis=-2),
      [S(shape=(3, 2))]),
    C("meshgrid_xy", lambda a, b, c: tl.meshgrid(a, b, c), _meshgrid_ref,
      [S(shape=(3,)), S(shape=(4,)), S(shape=(2,))]),
    C("meshgrid_ij", lambda a, b: tl.meshgrid(a, b, indexing="ij"), lambda a, b: _meshgrid_ref(a, b, indexing="ij"),
      [S(shape=(3,)), S(shape=(2,))]),
    C("unsorted_segment_sum", lambda d, i: tl.math.unsorted_segment_sum(d, i, 4),
      lambda d, i: _seg_sum_ref(d, i, 4), [S(shape=(6, 3)), IDS]),
    C("unsorted_segment_sum_2d_ids", lambda d, i: tl.math.unsorted_segment_sum(d, i, 3),
      lambda d, i: _seg_sum_ref(d, i, 3),
      [S(shape=(2, 3, 2)), S(shape=(2, 3), kind="int", dtype="int64", low=-1, high=3, diff=False)]),
    Case("unsorted_segment_mean", lambda d, i: tl.math.unsorted_segment_mean(d, i, 5),
         lambda d, i: _seg_mean_ref(d, i, 5), [S(shape=(6, 2)), IDS]),
    Case("unsorted_segment_max", lambda d, i: tl.math.unsorted_segment_max(d, _all_segments(i, 4), 4),
         lambda d, i: _seg_extremum_ref(d, np.concatenate([np.arange(4), i]), 4, np.max),
         [S(shape=(10, 2)), IDS]),
    Case("unsorted_segment_min", lambda d, i: tl.math.unsorted_segment_min(d, _all_segments(i, 4), 4),
         lambda d, i: _seg_extremum_ref(d, np.concatenate([np.arange(4), i]), 4, np.min),
         [S(shape=(10,)), IDS]),
    C("embedding_lookup", lambda p, i: tl.nn.embedding_lookup(p, i), lambda p, i: p[i],
      [S(shape=(5, 3)), S(shape=(2, 4), kind="int", dtype="int32", low=0, high=5, diff=False)]),
    C("embedding_lookup_sharded", lambda a, b, i: tl.nn.embedding_lookup([a, b], i),
      lambda a, b, i: np.concatenate([a, b])[i],
      [S(shape=(3, 2)), S(shape=(2, 2)), S(shape=(7,), kind="int", dtype="int64", low=0, high=5, diff=False)]),
    Case("embedding_lookup_max_norm", lambda p, i: tl.nn.embedding_lookup(p, i, max_norm=1.0),
         lambda p, i: _embed_ref(p, i, 1.0),
         [S(shape=(6, 2, 2), low=-1, high=1), S(shape=(3, 2), kind="int", dtype="int32", low=0, high=6, diff=False)]),
    Case("py_function", _py_fn, lambda x, y: [np.sin(x) * y, (x * x).sum()], [S(shape=(3, 2)), S(shape=(3, 2))]),
]

globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


# ----------------------------------------------------------------- is_nan / is_inf / is_finite
def _with_specials(rng, shape, dtype):
    x = rng.uniform(-3, 3, size=shape)
    flat = x.reshape(-1)
    pos = rng.permutation(flat.size)[:3]
    flat[pos] = [np.nan, np.inf, -np.inf]
    return x.astype(dtype)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_is_nan_is_inf_is_finite(rng, dtype):
    x = _with_specials(rng, (4, 5), dtype)
    t = tl.constant(x)
    for fn, ref in ((tl.math.is_nan, np.isnan), (tl.math.is_inf, np.isinf), (tl.math.is_finite, np.isfinite)):
        got = fn(t)
        assert got.dtype == tl.bool
        np.testing.assert_array_equal(got.numpy(), ref(x), err_msg=fn.__name__)


def test_is_nan_family_follows_tf_namespaces():
    for name in ("is_nan", "is_inf", "is_finite"):
        assert callable(getattr(tl.math, name))
        assert not hasattr(tl, name)  # TF 2 has tf.math.is_nan only


def test_error_is_nan_needs_floats():
    with pytest.raises(TypeError, match="is_nan: expected a floating-point tensor.*int32"):
        tl.math.is_nan(tl.constant([1, 2]))
    with pytest.raises(TypeError, match="is_finite: expected a floating-point tensor.*bool"):
        tl.math.is_finite(tl.constant([True]))


# ----------------------------------------------------------------- clipping
def test_clip_by_norm_zero_slice_has_finite_gradient(rng):
    x = np.concatenate([np.zeros((1, 3)), rng.uniform(1, 2, size=(2, 3))])
    t = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(t)
        y = tl.clip_by_norm(t, 0.5, axes=[1])
    g = tape.gradient(y, t).numpy()
    np.testing.assert_allclose(y.numpy(), _clip_by_norm_ref(x, 0.5, axes=[1]), rtol=1e-12)
    assert np.all(np.isfinite(g)) and np.all(y.numpy()[0] == 0)


def test_clip_by_global_norm_none_entries_and_use_norm(rng):
    a, b = rng.uniform(-2, 2, size=(3,)), rng.uniform(-2, 2, size=(2, 2))
    clipped, norm = tl.clip_by_global_norm((tl.constant(a), None, tl.constant(b)), 1.0)
    want = _global_ref(a, b, 1.0)
    assert isinstance(clipped, list) and len(clipped) == 3 and clipped[1] is None
    np.testing.assert_allclose(clipped[0].numpy(), want[0], rtol=1e-12)
    np.testing.assert_allclose(clipped[2].numpy(), want[1], rtol=1e-12)
    np.testing.assert_allclose(norm.numpy(), want[2], rtol=1e-12)
    use = float(rng.uniform(5, 6))
    clipped, norm = tl.clip_by_global_norm([tl.constant(a)], 2.0, use_norm=tl.constant(use, tl.float64))
    np.testing.assert_allclose(clipped[0].numpy(), a * 2.0 / use, rtol=1e-12)
    assert float(norm) == use


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_clip_by_global_norm_inf_norm_gives_nan(rng):
    a = rng.uniform(-1, 1, size=(3,)).astype(np.float32)
    a[1] = np.inf
    clipped, norm = tl.clip_by_global_norm([tl.constant(a)], 1.0)
    assert np.isinf(float(norm)) and np.all(np.isnan(clipped[0].numpy()))


def test_clip_float32_dtypes(rng):
    x = tl.constant(rng.uniform(-3, 3, size=(4,)).astype(np.float32))
    assert tl.clip_by_norm(x, 1.0).dtype == tl.float32
    clipped, norm = tl.clip_by_global_norm([x], 1.0)
    assert clipped[0].dtype == tl.float32 and norm.dtype == tl.float32
    np.testing.assert_allclose(np.linalg.norm(clipped[0].numpy()), 1.0, rtol=1e-5)


def test_error_clip_by_norm_bad_arguments():
    x = tl.ones([2, 3])
    with pytest.raises(IAE, match=r"clip_by_norm: clip_norm must be a scalar, got shape \[2\]"):
        tl.clip_by_norm(x, [1.0, 2.0])
    with pytest.raises(TypeError, match="clip_by_norm: expected a floating-point tensor.*int32"):
        tl.clip_by_norm(tl.constant([1, 2]), 1.0)
    with pytest.raises(TypeError, match="clip_by_norm: input #1 has dtype float64 but input #0 has dtype float32"):
        tl.clip_by_norm(x, tl.constant(1.0, tl.float64))
    with pytest.raises(TypeError, match="clip_by_global_norm: t_list must be a list or tuple of tensors, got Tensor"):
        tl.clip_by_global_norm(x, 1.0)
    with pytest.raises(ValueError, match="clip_by_global_norm: t_list has no tensors"):
        tl.clip_by_global_norm([None], 1.0)


# ----------------------------------------------------------------- roll / repeat / meshgrid
def test_roll_and_repeat_ints(rng):
    x = rng.integers(-9, 9, size=(3, 4)).astype(np.int32)
    np.testing.assert_array_equal(tl.roll(x, [1, -2], [0, 1]).numpy(), np.roll(x, [1, -2], [0, 1]))
    np.testing.assert_array_equal(tl.roll(x, tl.constant(3), tl.constant(1)).numpy(), np.roll(x, 3, 1))
    np.testing.assert_array_equal(tl.repeat(x, tl.constant([1, 3, 2]), axis=0).numpy(),
                                  np.repeat(x, [1, 3, 2], axis=0))
    np.testing.assert_array_equal(tl.repeat(x, 0, axis=1).numpy(), np.repeat(x, 0, axis=1))


def test_repeat_and_roll_symbolic_batch_dim():
    x = tl.SymbolicTensor([None, 3], tl.float32)
    assert tuple(tl.repeat(x, 2, axis=1).shape) == (None, 6)
    assert tuple(tl.repeat(x, 2, axis=0).shape) == (None, 3)
    assert tuple(tl.roll(x, 1, 1).shape) == (None, 3)


def test_meshgrid_flattens_and_handles_no_args(rng):
    a, b = rng.uniform(size=(2, 2)), rng.uniform(size=(3,))
    got = tl.meshgrid(tl.constant(a), tl.constant(b))
    for g, r in zip(got, np.meshgrid(a.reshape(-1), b)):
        np.testing.assert_array_equal(g.numpy(), r)
    assert tl.meshgrid() == []


def test_error_roll_repeat_meshgrid():
    x = tl.ones([2, 3])
    with pytest.raises(IAE, match=r"roll: shift \[1, 2\] and axis \[0\] must have the same length"):
        tl.roll(x, [1, 2], [0])
    with pytest.raises(IAE, match="roll: axis 2 is out of range for a tensor of rank 2"):
        tl.roll(x, 1, 2)
    with pytest.raises(IAE, match="roll: input must be 1-D or higher"):
        tl.roll(tl.constant(1.0), 1, 0)
    with pytest.raises(IAE, match=r"repeat: repeats has 2 entries but dimension 1 of the input \(shape \[2,3\]\) "
                                  "has size 3"):
        tl.repeat(x, [1, 2], axis=1)
    with pytest.raises(IAE, match=r"repeat: repeats must be non-negative, got \[-1\]"):
        tl.repeat(x, -1, axis=0)
    with pytest.raises(IAE, match="repeat: cannot repeat a scalar along axis 0"):
        tl.repeat(tl.constant(1.0), 2, axis=0)
    with pytest.raises(ValueError, match="meshgrid: indexing must be 'xy' or 'ij', got 'xz'"):
        tl.meshgrid(x, x, indexing="xz")
    with pytest.raises(TypeError, match="meshgrid: input #1 has dtype int32 but input #0 has dtype float32"):
        tl.meshgrid(tl.ones([2]), tl.constant([1, 2]))


# ----------------------------------------------------------------- segment reductions
def _sorted_ids(steps):
    return tl.cumsum(steps)  # non-negative steps: non-decreasing ids


SORTED_STEPS = S(shape=(6,), kind="int", dtype="int32", low=0, high=2, diff=False)
SEGMENT_SUM = C("segment_sum", lambda d, s: tl.math.segment_sum(d, _sorted_ids(s)),
                lambda d, s: _seg_sum_ref(d, np.cumsum(s), int(np.cumsum(s)[-1]) + 1),
                [S(shape=(6, 2)), SORTED_STEPS])


def test_segment_sum_forward_and_gradients(rng):
    check_forward(SEGMENT_SUM, rng)
    check_grad(SEGMENT_SUM, rng)
    check_second(SEGMENT_SUM, rng)


def test_segment_sum_ints_skipped_ids_and_symbolic(rng):
    d = rng.integers(-5, 5, size=(4, 3)).astype(np.int64)
    got = tl.math.segment_sum(d, [1, 1, 3, 3])
    np.testing.assert_array_equal(got.numpy(), _seg_sum_ref(d, [1, 1, 3, 3], 4).astype(np.int64))
    assert got.dtype == tl.int64
    sym = tl.math.segment_sum(tl.SymbolicTensor([None, 3]), tl.SymbolicTensor([None], tl.int32))
    assert tuple(sym.shape) == (None, 3)
    assert tuple(tl.math.segment_sum(tl.ones([0, 2]), tl.constant([], tl.int32)).shape) == (0, 2)


def test_unsorted_segment_ops_empty_segments(rng):
    d = rng.uniform(-1, 1, size=(3, 2))
    ids = [2, 2, -1]
    np.testing.assert_allclose(tl.math.unsorted_segment_mean(d, ids, 4).numpy(), _seg_mean_ref(d, ids, 4))
    for dtype in (np.float32, np.float64, np.int32):
        x = (d * 10).astype(dtype)
        mx = tl.math.unsorted_segment_max(x, ids, 4).numpy()
        mn = tl.math.unsorted_segment_min(x, ids, 4).numpy()
        info = np.finfo(dtype) if dtype != np.int32 else np.iinfo(dtype)
        assert np.all(mx[[0, 1, 3]] == info.min) and np.all(mn[[0, 1, 3]] == info.max)
        np.testing.assert_array_equal(mx[2], x[:2].max(0))
        np.testing.assert_array_equal(mn[2], x[:2].min(0))


def test_unsorted_segment_max_ties_share_gradient(rng):
    v = rng.uniform(1, 2)
    x = tl.constant([v, v, v - 1.0], tl.float64)
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = tl.math.unsorted_segment_max(x, [0, 0, 0], 1)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [0.5, 0.5, 0.0])


def test_error_segment_ops():
    d = tl.ones([4, 2])
    with pytest.raises(IAE, match=r"unsorted_segment_sum: segment_ids holds 5, which is out of range \[0, 3\)"):
        tl.math.unsorted_segment_sum(d, [0, 5, 1, 2], 3)
    with pytest.raises(IAE, match=r"unsorted_segment_max: segment_ids holds 3, which is out of range \[0, 3\)"):
        tl.math.unsorted_segment_max(d, [0, 3, 1, 2], 3)
    with pytest.raises(IAE, match=r"unsorted_segment_mean: segment_ids.shape \[3\] must be a prefix of "
                                  r"data.shape \[4,2\]"):
        tl.math.unsorted_segment_mean(d, [0, 1, 2], 3)
    with pytest.raises(TypeError, match="unsorted_segment_sum: indices must be an integer tensor.*float32"):
        tl.math.unsorted_segment_sum(d, tl.constant([0., 1., 1., 0.]), 2)
    with pytest.raises(IAE, match=r"unsorted_segment_sum: num_segments must be a scalar, got shape \[2\]"):
        tl.math.unsorted_segment_sum(d, [0, 1, 1, 0], tl.constant([2, 2]))
    with pytest.raises(IAE, match="unsorted_segment_sum: num_segments must be non-negative, got -1"):
        tl.math.unsorted_segment_sum(d, [0, 1, 1, 0], -1)
    with pytest.raises(IAE, match="segment_sum: segment ids are not increasing"):
        tl.math.segment_sum(d, [0, 2, 1, 3])
    with pytest.raises(IAE, match="segment_sum: segment ids must be >= 0, got -1"):
        tl.math.segment_sum(d, [-1, 0, 0, 1])
    with pytest.raises(IAE, match=r"segment_sum: segment_ids must be 1-D, got shape \[2,2\]"):
        tl.math.segment_sum(d, [[0, 0], [1, 1]])
    with pytest.raises(TypeError, match="unsorted_segment_mean: dtype int32 is not supported"):
        tl.math.unsorted_segment_mean(tl.constant([1, 2]), [0, 1], 2)


# ----------------------------------------------------------------- embedding_lookup
def test_embedding_lookup_repeated_ids_sum_gradients(rng):
    p = tl.constant(rng.uniform(-1, 1, size=(4, 3)))
    ids = rng.integers(0, 4, size=(9,))
    with tl.GradientTape() as tape:
        tape.watch(p)
        y = tl.nn.embedding_lookup(p, ids)
    np.testing.assert_array_equal(y.numpy(), p.numpy()[ids])
    counts = np.bincount(ids, minlength=4).astype(np.float64)
    np.testing.assert_allclose(tape.gradient(y, p).numpy(), np.repeat(counts[:, None], 3, axis=1))


def test_error_embedding_lookup():
    p = tl.ones([4, 2])
    with pytest.raises(IAE, match=r"embedding_lookup: index 4 is out of bounds for dimension 0 with size 4"):
        tl.nn.embedding_lookup(p, [0, 4])
    with pytest.raises(TypeError, match="embedding_lookup: indices must be an integer tensor"):
        tl.nn.embedding_lookup(p, tl.constant([0.0]))
    with pytest.raises(ValueError, match="embedding_lookup: params is an empty list"):
        tl.nn.embedding_lookup([], [0])
    with pytest.raises(IAE, match="embedding_lookup: params must have rank >= 1"):
        tl.nn.embedding_lookup(tl.constant(1.0), [0])


# ----------------------------------------------------------------- print
def _row(vals):
    return "[" + " ".join(str(v) for v in vals) + "]"


def test_print_to_stderr_by_default(rng, capsys):
    x = rng.integers(-50, 50, size=(2, 3)).astype(np.int32)
    tl.print("x:", tl.constant(x), 7)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"x: [{_row(x[0])}\n {_row(x[1])}] 7\n"


def test_print_output_stream_sep_end_and_structures(rng):
    v = rng.integers(0, 100, size=(3,)).astype(np.int64)
    buf = io.StringIO()
    tl.print({"b": tl.constant(v), "a": ["s", 2]}, (tl.constant(True),), output_stream=buf, sep=" | ", end="!")
    assert buf.getvalue() == f"{{'a': ['s', 2], 'b': {_row(v)}}} | (True,)!"


def test_print_to_stdout_and_file(rng, capsys, tmp_path):
    v = rng.integers(0, 9, size=(2,)).astype(np.int32)
    tl.print(tl.constant(v), output_stream=sys.stdout)
    assert capsys.readouterr().out == _row(v) + "\n"
    path = tmp_path / "log.txt"
    tl.print("a", output_stream=f"file://{path}")
    tl.print(tl.constant(v), output_stream=f"file://{path}")
    assert path.read_text() == "a\n" + _row(v) + "\n"


def test_print_summarize_elides_long_dims(rng):
    x = rng.integers(0, 9, size=(8, 10)).astype(np.int32)
    buf = io.StringIO()
    tl.print(tl.constant(x), output_stream=buf, summarize=2)
    rows = [f"[{' '.join(map(str, r[:2]))} ... {' '.join(map(str, r[-2:]))}]" for r in x]
    assert buf.getvalue() == "[" + "\n ".join(rows[:2] + ["..."] + rows[-2:]) + "]\n"
    buf = io.StringIO()
    tl.print(tl.constant(x[0]), output_stream=buf, summarize=-1)
    assert buf.getvalue() == _row(x[0]) + "\n"
    buf = io.StringIO()
    tl.print(tl.constant(x[0, :6]), output_stream=buf)  # 6 = 2 * summarize entries: nothing elided
    assert buf.getvalue() == _row(x[0, :6]) + "\n"


def test_print_rank3_and_float_formatting():
    buf = io.StringIO()
    tl.print(tl.reshape(tl.range(8), [2, 2, 2]), output_stream=buf)
    assert buf.getvalue() == "[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]\n"
    buf = io.StringIO()
    tl.print(tl.constant([1 / 3, 0.1, 2.0, 1e-7, np.nan, -np.inf], tl.float32), tl.constant(1 / 3, tl.float64),
             output_stream=buf)
    assert buf.getvalue() == "[0.333333343 0.1 2 1e-07 nan -inf] 0.33333333333333331\n"


def test_error_print_bad_output_stream():
    with pytest.raises(ValueError, match="print: output_stream 'stdout' is not supported"):
        tl.print("x", output_stream="stdout")
    with pytest.raises(ValueError, match="print: output_stream must be a file-like object.*int"):
        tl.print("x", output_stream=3)


# ----------------------------------------------------------------- check_numerics, control_dependencies
@pytest.mark.parametrize("special,found", [(np.nan, "NaN"), (np.inf, "Inf"), (-np.inf, "Inf")])
def test_check_numerics_raises(rng, special, found):
    x = rng.uniform(-1, 1, size=(3, 4)).astype(np.float32)
    x[rng.integers(3), rng.integers(4)] = special
    with pytest.raises(IAE, match=rf"layer 3 weights : Tensor had {found} values"):
        tl.debugging.check_numerics(tl.constant(x), "layer 3 weights")


def test_check_numerics_both_and_passthrough(rng):
    x = rng.uniform(-1, 1, size=(5,))
    with pytest.raises(IAE, match="m : Tensor had Inf and NaN values"):
        tl.debugging.check_numerics(tl.constant(np.concatenate([x, [np.nan, np.inf]])), "m")
    t = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(t)
        y = tl.debugging.check_numerics(t, "ok") * 3.0
    np.testing.assert_array_equal(y.numpy(), x * 3.0)
    np.testing.assert_array_equal(tape.gradient(y, t).numpy(), np.full(5, 3.0))
    with pytest.raises(TypeError, match="check_numerics: expected a floating-point tensor.*int32"):
        tl.debugging.check_numerics(tl.constant([1, 2]), "ints")


def test_control_dependencies_calls_callables_and_is_a_context():
    calls = []
    x = tl.constant([1.0])
    with tl.control_dependencies([x, lambda: calls.append("ran")]) as ctx:
        y = x * 2
    assert calls == ["ran"] and ctx is None and float(y[0]) == 2.0
    with tl.control_dependencies(None):
        pass


# ----------------------------------------------------------------- py_function / numpy_function
def test_py_function_single_output_and_decorator(rng):
    x = rng.uniform(-1, 1, size=(4,)).astype(np.float32)
    got = tl.py_function(lambda a: tl.exp(a), [tl.constant(x)], Tout=tl.float32)
    assert isinstance(got, tl.Tensor)
    np.testing.assert_allclose(got.numpy(), np.exp(x), rtol=1e-6)
    got = tl.py_function(lambda a: a, [x], [tl.float32])
    assert isinstance(got, list) and len(got) == 1
    np.testing.assert_array_equal(got[0].numpy(), x)
    got = tl.numpy_function(lambda a: a * 2, [x], (tl.TensorSpec([4], tl.float32), np.float32)[:1])
    np.testing.assert_array_equal(got[0].numpy(), x * 2)
    assert tl.numpy_function(lambda a: a, [x], np.float32).dtype == tl.float32
    var = tl.Variable(x)
    with tl.GradientTape() as tape:
        y = tl.reduce_sum(tl.py_function(lambda a: a * a, [var], tl.float32))
    np.testing.assert_allclose(tape.gradient(y, var).numpy(), 2 * x, rtol=1e-6)

    @tl.py_function(Tout=tl.float32)
    def cube(a):
        return a * a * a
    np.testing.assert_allclose(cube(tl.constant(x)).numpy(), x ** 3, rtol=1e-6)
    ran = []
    assert tl.py_function(lambda: ran.append(1), [], None) is None and ran == [1]


def test_numpy_function_gets_arrays_and_is_not_differentiable(rng):
    x = rng.uniform(-1, 1, size=(3, 2))
    seen = []

    def f(a, b):
        seen.append((type(a), type(b)))
        a += 1.0  # writing to its input must not change the tensor
        return a * b, np.int32(b.size)
    t = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(t)
        y, n = tl.numpy_function(f, [t, t], [tl.float64, tl.int32])
    assert seen == [(np.ndarray, np.ndarray)]
    np.testing.assert_allclose(y.numpy(), (x + 1) * x)
    assert int(n) == 6 and n.dtype == tl.int32
    np.testing.assert_array_equal(t.numpy(), x)
    assert tape.gradient(y, t) is None


def test_error_py_function_and_numpy_function_outputs():
    x = tl.constant([1.0, 2.0])
    with pytest.raises(IAE, match="numpy_function: output #0 of <lambda> has dtype float64, but Tout says float32"):
        tl.numpy_function(lambda a: a.astype(np.float64), [x], tl.float32)
    with pytest.raises(IAE, match="py_function: output #1 of pair has dtype int32, but Tout says float32"):
        def pair(a):
            return a, tl.cast(a, tl.int32)
        tl.py_function(pair, [x], [tl.float32, tl.float32])
    with pytest.raises(IAE, match=r"py_function: <lambda> returned 2 values but Tout lists 1 \(\['float32'\]\)"):
        tl.py_function(lambda a: (a, a), [x], [tl.float32])
    with pytest.raises(IAE, match="py_function: <lambda> returned None for output #0, which Tout says is float32"):
        tl.py_function(lambda a: None, [x], tl.float32)
    with pytest.raises(TypeError, match="numpy_function: func must be callable, got int"):
        tl.numpy_function(3, [x], tl.float32)
