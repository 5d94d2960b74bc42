"""tl.data: scan, group_by_window, bucket_by_sequence_length, counter, random, save / load."""
import os

import numpy as np
import pytest

import tensorlab as tl

D = tl.data.Dataset


def vals(ds):
    return list(ds.as_numpy_iterator())


# ----------------------------------------------------------------- scan
def test_scan_running_sum_against_numpy(rng):
    x = rng.integers(-50, 50, size=23)
    ds = D.from_tensor_slices(x).scan(tl.constant(0, tl.int64), lambda s, v: (s + v, s * 2 + v))
    prev = np.concatenate([[0], np.cumsum(x)[:-1]])
    np.testing.assert_array_equal(vals(ds), prev * 2 + x)
    assert ds.element_spec == tl.TensorSpec([], tl.int64)


def test_scan_structured_state_and_elements(rng):
    x = rng.normal(size=(7, 3)).astype(np.float32)
    y = rng.integers(0, 5, size=7)
    init = {"total": tl.zeros([3]), "count": tl.constant(0, tl.int64)}

    def step(state, element):
        a, b = element  # the element's tuple is not unpacked into more arguments (TF)
        new = {"total": state["total"] + a, "count": state["count"] + b}
        return new, (new["total"], new["count"])

    out = vals(D.from_tensor_slices((x, y)).scan(init, step))
    np.testing.assert_allclose([o[0] for o in out], np.cumsum(x.astype(np.float64), 0), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal([o[1] for o in out], np.cumsum(y))
    # the state starts afresh on each pass
    assert len(vals(tl.data.experimental.scan(init, step)(D.from_tensor_slices((x, y))))) == 7


def test_scan_errors_name_the_problem():
    ds = D.range(3)
    with pytest.raises(TypeError, match="scan: scan_func must return a pair"):
        vals(ds.scan(tl.constant(0, tl.int64), lambda s, v: s + v))
    with pytest.raises(TypeError, match="dtypes must match.*int64 became float32"):
        vals(ds.scan(tl.constant(0, tl.int64), lambda s, v: (tl.cast(s, tl.float32), v)))
    with pytest.raises(TypeError, match="must be callable"):
        ds.scan(0, 3)


# ----------------------------------------------------------------- group_by_window
def _reference_group_by_window(xs, key, size_of, reduce_window):
    groups, out = {}, []
    for v in xs:
        k = key(v)
        groups.setdefault(k, []).append(v)
        if len(groups[k]) == size_of(k):
            out.extend(reduce_window(k, groups.pop(k)))
    for k in sorted(groups):
        out.extend(reduce_window(k, groups[k]))
    return out


def test_group_by_window_against_reference(rng):
    x = rng.integers(0, 100, size=41)
    ds = D.from_tensor_slices(x).group_by_window(lambda v: v % 4, lambda k, w: w.batch(3), window_size=3)
    got = [b.tolist() for b in vals(ds)]
    ref = _reference_group_by_window(x.tolist(), lambda v: v % 4, lambda k: 3, lambda k, w: [w])
    assert got == ref


def test_group_by_window_size_func_and_key_argument(rng):
    x = rng.integers(0, 60, size=30)
    size_of = lambda k: int(k) + 1  # noqa: E731

    def reduce_window(key, window):  # the key arrives as an int64 scalar tensor
        assert key.dtype == tl.int64 and key.shape == []
        return window.batch(100).map(lambda b: (tl.fill([1], key), tl.reduce_sum(b, keepdims=True)))

    ds = D.from_tensor_slices(x).group_by_window(lambda v: v % 3, reduce_window,
                                                 window_size_func=lambda k: k + 1)
    got = [(int(k[0]), int(s[0])) for k, s in vals(ds)]
    ref = _reference_group_by_window(x.tolist(), lambda v: v % 3, size_of, lambda k, w: [(k, sum(w))])
    assert got == ref


def test_group_by_window_tuple_elements_and_experimental_form():
    ds = D.from_tensor_slices((np.arange(6), np.arange(6) * 10))
    g = ds.apply(tl.data.experimental.group_by_window(lambda a, b: a % 2, lambda k, w: w.batch(3), 3))
    out = [(a.tolist(), b.tolist()) for a, b in vals(g)]
    assert out == [([0, 2, 4], [0, 20, 40]), ([1, 3, 5], [10, 30, 50])]


def test_group_by_window_errors():
    ds = D.range(4)
    with pytest.raises(ValueError, match="exactly one of window_size and window_size_func"):
        ds.group_by_window(lambda v: v, lambda k, w: w)
    with pytest.raises(tl.errors.InvalidArgumentError, match="key_func must return a scalar integer"):
        vals(ds.group_by_window(lambda v: tl.cast(v, tl.float32), lambda k, w: w, window_size=2))
    with pytest.raises(TypeError, match="reduce_func must return a tl.data.Dataset"):
        vals(ds.group_by_window(lambda v: v, lambda k, w: k, window_size=1))
    with pytest.raises(tl.errors.InvalidArgumentError, match="window sizes must be >= 1"):
        vals(ds.group_by_window(lambda v: v, lambda k, w: w, window_size_func=lambda k: k - 5))


# ----------------------------------------------------------------- bucket_by_sequence_length
def _seq_ds(lengths, rng):
    seqs = [rng.integers(1, 9, size=n) for n in lengths]
    return seqs, D.from_generator(lambda: iter(seqs), output_signature=tl.TensorSpec([None], tl.int64))


def _reference_buckets(seqs, boundaries, sizes, pad_to=None, drop=False):
    edges = np.asarray(boundaries)

    def reduce_window(b, w):
        if drop and len(w) < sizes[b]:
            return []
        width = pad_to(b) if pad_to else max(len(s) for s in w)
        out = np.zeros((len(w), width), np.int64)
        for i, s in enumerate(w):
            out[i, :len(s)] = s
        return [out]

    return _reference_group_by_window(seqs, lambda s: int(np.searchsorted(edges, len(s), side="right")),
                                      lambda b: sizes[b], reduce_window)


def test_bucket_by_sequence_length_against_reference(rng):
    lengths = rng.integers(1, 12, size=40)
    seqs, ds = _seq_ds(lengths, rng)
    got = vals(ds.bucket_by_sequence_length(lambda s: tl.shape(s)[0], [3, 6, 9], [4, 3, 2, 2]))
    ref = _reference_buckets(seqs, [3, 6, 9], [4, 3, 2, 2])
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g, r)


def test_bucket_pad_to_boundary_no_padding_and_drop_remainder(rng):
    lengths = rng.integers(1, 8, size=30)
    seqs, ds = _seq_ds(lengths, rng)
    got = vals(ds.bucket_by_sequence_length(lambda s: tl.shape(s)[0], [4, 8], [3, 2, 2], pad_to_bucket_boundary=True,
                                            drop_remainder=True, padding_values=tl.constant(0, tl.int64)))
    ref = _reference_buckets(seqs, [4, 8], [3, 2, 2], pad_to=lambda b: [4, 8][b] - 1, drop=True)
    assert [g.shape for g in got] == [r.shape for r in ref]
    for g, r in zip(got, ref):
        np.testing.assert_array_equal(g, r)
    # no_padding: equal-length elements batch as they are
    fixed = D.from_tensor_slices(rng.normal(size=(10, 3)).astype(np.float32))
    batches = vals(fixed.bucket_by_sequence_length(lambda x: 3, [2], [4, 4], no_padding=True))
    assert [b.shape for b in batches] == [(4, 3), (4, 3), (2, 3)]


def test_bucket_errors(rng):
    _, ds = _seq_ds([2, 9], rng)
    with pytest.raises(ValueError, match=r"len\(bucket_batch_sizes\) must equal len\(bucket_boundaries\) \+ 1"):
        ds.bucket_by_sequence_length(lambda s: tl.shape(s)[0], [3, 6], [2, 2])
    with pytest.raises(ValueError, match="strictly increasing"):
        ds.bucket_by_sequence_length(lambda s: tl.shape(s)[0], [6, 3], [2, 2, 2])
    with pytest.raises(tl.errors.InvalidArgumentError, match="length < max\\(bucket_boundaries\\) = 6"):
        vals(ds.bucket_by_sequence_length(lambda s: tl.shape(s)[0], [3, 6], [1, 1, 1], pad_to_bucket_boundary=True))


# ----------------------------------------------------------------- counter / random
def test_counter_and_random():
    assert vals(D.counter(5, -2).take(4)) == [5, 3, 1, -1]
    c = D.counter(0.5, 0.25, dtype=tl.float32)
    assert c.element_spec == tl.TensorSpec([], tl.float32) and vals(c.take(3)) == [0.5, 0.75, 1.0]
    assert int(D.counter().cardinality()) == tl.data.INFINITE_CARDINALITY
    seeded = D.random(seed=7)
    a, b = vals(seeded.take(50)), vals(seeded.take(50))
    assert a == b and len(set(a)) == 50  # a seed repeats the sequence on each pass
    rr = D.random(seed=7, rerandomize_each_iteration=True)
    assert vals(rr.take(5)) != vals(rr.take(5))
    unseeded = D.random()
    assert vals(unseeded.take(5)) != vals(unseeded.take(5))
    big = np.array(vals(D.random(seed=1).take(4000)))
    assert big.dtype == np.int64 and (big < 0).mean() == pytest.approx(0.5, abs=0.05)
    assert vals(tl.data.experimental.Counter(3).take(2)) == [3, 4]
    with pytest.raises(TypeError, match="counter: dtype must be an integer or floating"):
        D.counter(dtype=tl.bool)


# ----------------------------------------------------------------- save / load
def _mixed_ds(rng):
    x = rng.normal(size=(9, 2, 3)).astype(np.float32)
    y = rng.integers(0, 10, size=9)
    names = [f"item-{i}".encode() for i in range(9)]
    return D.from_tensor_slices(({"x": x, "name": names}, y)), x, y, names


@pytest.mark.parametrize("compression", [None, "GZIP"])
def test_save_load_round_trip(tmp_path, rng, compression):
    ds, x, y, names = _mixed_ds(rng)
    path = tmp_path / "saved"
    ds.save(str(path), compression=compression)
    loaded = D.load(str(path))
    assert loaded.element_spec == ds.element_spec
    assert int(loaded.cardinality()) == 9
    out = vals(loaded)
    np.testing.assert_array_equal([o[0]["x"] for o in out], x)
    assert [o[0]["name"] for o in out] == names
    np.testing.assert_array_equal([o[1] for o in out], y)
    assert len(vals(tl.data.experimental.load(str(path), element_spec=ds.element_spec))) == 9


def test_save_variable_shapes_shards_and_reader_func(tmp_path, rng):
    seqs = [rng.normal(size=n).astype(np.float64) for n in (3, 1, 4, 2, 5)]
    ds = D.from_generator(lambda: iter(seqs), output_signature=tl.TensorSpec([None], tl.float64))
    ds.enumerate().save(str(tmp_path / "s"), shard_func=lambda i, v: i % 2)
    assert sorted(os.listdir(tmp_path / "s")) == ["dataset_spec.json", "shard-00000.tldata", "shard-00001.tldata"]
    out = vals(D.load(str(tmp_path / "s")))  # shard 0 (even indices), then shard 1
    assert [int(i) for i, _ in out] == [0, 2, 4, 1, 3]
    for i, v in out:
        np.testing.assert_array_equal(v, seqs[i])
    inter = D.load(str(tmp_path / "s"), reader_func=lambda shards: shards.interleave(lambda d: d, cycle_length=2))
    assert [int(i) for i, _ in vals(inter)] == [0, 1, 2, 3, 4]


def test_save_replaces_whole_or_leaves_the_old_one(tmp_path, rng):
    path = str(tmp_path / "data")
    D.range(5).save(path)
    D.range(3).save(path)  # a complete save replaces the previous one
    assert vals(D.load(path)) == [0, 1, 2]

    def failing(v):
        if int(v) == 4:
            raise RuntimeError("disk full")
        return v

    with pytest.raises(RuntimeError, match="disk full"):
        D.range(10).map(failing).save(path)
    assert vals(D.load(path)) == [0, 1, 2]  # the interrupted save left the old directory untouched
    assert sorted(os.listdir(tmp_path)) == ["data"]


def test_load_errors(tmp_path, rng):
    with pytest.raises(tl.errors.NotFoundError, match="holds no saved dataset"):
        D.load(str(tmp_path / "nothing"))
    path = str(tmp_path / "d")
    D.range(4).save(path)
    with pytest.raises(ValueError, match="does not match the saved one"):
        D.load(path, element_spec=tl.TensorSpec([], tl.float32))
    with pytest.raises(ValueError, match="saved with compression=None, not 'GZIP'"):
        D.load(path, compression="GZIP")
    with pytest.raises(ValueError, match="compression must be one of"):
        D.range(2).save(str(tmp_path / "e"), compression="ZSTD")
    shard = os.path.join(path, "shard-00000.tldata")
    with open(shard, "rb") as f:
        data = f.read()
    with open(shard, "wb") as f:
        f.write(data[:-12])  # truncated
    with pytest.raises(tl.errors.DataLossError, match="truncated"):
        vals(D.load(path))


# ----------------------------------------------------------------- ignore_errors
def _checked_sqrt(x):
    if int(x) % 3 == 0:
        raise ValueError(f"bad element {int(x)}")
    return tl.sqrt(tl.cast(x, tl.float64))


@pytest.mark.parametrize("parallel", [None, 3])
def test_ignore_errors_drops_failing_map_and_filter_calls(parallel, caplog):
    base = D.range(1, 20)
    ds = base.map(_checked_sqrt, num_parallel_calls=parallel).filter(lambda v: 1 / (int(v * v) - 4) < 10)
    kept = [x for x in range(1, 20) if x % 3 and x != 4]
    out = ds.prefetch(2).ignore_errors(log_warning=True)
    np.testing.assert_allclose(vals(out), np.sqrt(kept))
    assert out.dropped == 7  # six multiples of 3 from map, and 4 from the filter's division by zero
    assert "bad element 3" in caplog.text and "ZeroDivisionError" in caplog.text
    np.testing.assert_allclose(vals(out), np.sqrt(kept))  # a second pass drops the same ones
    with pytest.raises(ValueError, match="bad element 3"):  # the original dataset is unchanged
        vals(ds)
    assert vals(tl.data.experimental.ignore_errors()(base.map(_checked_sqrt)).take(2)) == [1.0, np.sqrt(2)]


def test_ignore_errors_lets_other_errors_through():
    ragged = D.from_generator(lambda: iter([np.ones(2), np.ones(3)]), output_signature=tl.TensorSpec([None]))
    with pytest.raises(tl.errors.InvalidArgumentError, match="Cannot batch tensors with different shapes"):
        vals(ragged.batch(2).ignore_errors())
