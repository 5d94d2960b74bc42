"""tl.data.Dataset: sources, transformations, cardinality, element_spec, iteration."""
import collections
import os
import pathlib
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import tensorlab as tl

D = tl.data.Dataset


def vals(ds):
    return list(ds.as_numpy_iterator())


def card(ds):
    return int(ds.cardinality().numpy())


# ----------------------------------------------------------------- sources
def test_from_tensor_slices_nested(rng):
    x = rng.normal(size=(5, 3)).astype(np.float32)
    y = rng.integers(0, 9, size=5)
    ds = D.from_tensor_slices(({"a": x, "b": tl.constant(y)}, y))
    assert card(ds) == 5 and len(ds) == 5
    spec = ds.element_spec
    assert spec[0]["a"] == tl.TensorSpec([3], tl.float32) and spec[0]["b"].dtype == tl.int64
    out = list(ds)
    assert isinstance(out[0][0]["a"], tl.Tensor) and "CPU" in out[0][0]["a"].device
    np.testing.assert_array_equal(np.stack([o[0]["a"].numpy() for o in out]), x)
    np.testing.assert_array_equal([int(o[1]) for o in out], y)


def test_dataset_keeps_values_after_source_array_changes():
    a = np.arange(4.0)
    ds = D.from_tensor_slices(a)
    a[:] = -1
    assert vals(ds) == [0.0, 1.0, 2.0, 3.0]


def test_parallel_interleave_same_order_as_sequential():
    def f(n):
        return D.range(n * 10, n * 10 + 4)
    seq = vals(D.range(5).interleave(f, cycle_length=3, block_length=2))
    par = vals(D.range(5).interleave(f, cycle_length=3, block_length=2, num_parallel_calls=3))
    assert seq == par and sorted(seq) == sorted(n * 10 + i for n in range(5) for i in range(4))


def test_from_tensor_slices_python_lists_and_strings():
    assert vals(D.from_tensor_slices([1, 2, 3])) == [1, 2, 3]
    assert D.from_tensor_slices([1, 2, 3]).element_spec.dtype == tl.int32
    assert vals(D.from_tensor_slices(["ab", "c"])) == [b"ab", b"c"]
    assert D.from_tensor_slices(["ab"]).element_spec.dtype.name == "string"


def test_from_tensors_and_range():
    ds = D.from_tensors(([1, 2], 3.0))
    assert card(ds) == 1
    (a, b), = vals(ds)
    np.testing.assert_array_equal(a, [1, 2]) and float(b) == 3.0
    assert vals(D.range(2, 9, 3)) == [2, 5, 8]
    assert D.range(3).element_spec == tl.TensorSpec([], tl.int64)
    assert vals(D.range(5, 0, -2)) == [5, 3, 1]


def test_from_generator_signature_and_reiteration():
    def gen(n):
        for i in range(int(n)):
            yield i, np.ones(i, np.float32)
    ds = D.from_generator(gen, args=(4,), output_signature=(tl.TensorSpec([], tl.int32),
                                                            tl.TensorSpec([None], tl.float32)))
    assert card(ds) == tl.data.UNKNOWN_CARDINALITY
    for _ in range(2):  # each pass calls the generator anew
        out = vals(ds)
        assert [int(a) for a, _ in out] == [0, 1, 2, 3]
        assert [b.shape for _, b in out] == [(0,), (1,), (2,), (3,)]
    assert ds.element_spec[1].shape == [None]


def test_error_from_generator_shape_mismatch():
    ds = D.from_generator(lambda: iter([np.zeros(3)]), output_signature=tl.TensorSpec([2], tl.float64))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"from_generator.*shape \[3\].*shape \[2\]"):
        vals(ds)


def test_error_from_tensor_slices_sizes():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"from_tensor_slices.*\[3, 4\]"):
        D.from_tensor_slices((np.zeros(3), np.zeros(4)))


# ----------------------------------------------------------------- transformations
def test_map_filter_and_tuple_unpacking(rng):
    x = rng.normal(size=(8, 2))
    ds = D.from_tensor_slices((x, np.arange(8))).map(lambda a, i: (a * 2.0, i + 1)).filter(lambda a, i: i % 2 == 0)
    out = vals(ds)
    assert [int(i) for _, i in out] == [2, 4, 6, 8]
    np.testing.assert_allclose(np.stack([a for a, _ in out]), x[1::2] * 2)
    assert card(ds) == tl.data.UNKNOWN_CARDINALITY
    assert ds.element_spec == (tl.TensorSpec([2], tl.float64), tl.TensorSpec([], tl.int64))


def test_map_spec_traced_symbolically_without_data():
    calls = []

    def f(x):
        calls.append(type(x).__name__)
        return tl.reshape(x, [2, -1])
    ds = D.from_tensor_slices(np.zeros((3, 6), np.float32)).map(f)
    assert ds.element_spec == tl.TensorSpec([2, 3], tl.float32)
    assert calls == ["SymbolicTensor"]


def test_map_spec_falls_back_to_first_element():
    ds = D.range(3).map(lambda x: np.arange(int(x.numpy()) + 2))  # needs data: traced on the first element
    assert ds.element_spec.shape == [2]


@pytest.mark.parametrize("deterministic", [True, False])
def test_parallel_map_order_and_results(deterministic):
    def slow(x):
        time.sleep(0.002 * (int(x) % 3))
        return x * x
    ds = D.range(40).map(slow, num_parallel_calls=4, deterministic=deterministic)
    out = [int(v) for v in vals(ds)]
    if deterministic:
        assert out == [i * i for i in range(40)]
    else:
        assert sorted(out) == [i * i for i in range(40)]


def test_parallel_map_uses_threads():
    seen = set()
    barrier = threading.Barrier(3, timeout=5)

    def f(x):
        seen.add(threading.get_ident())
        if int(x) < 3:
            barrier.wait()  # only passes if three calls run at once
        return x
    assert [int(v) for v in vals(D.range(6).map(f, num_parallel_calls=3))] == list(range(6))
    assert len(seen) >= 3


def test_error_in_map_function_propagates():
    def bad(x):
        if int(x) == 2:
            raise ValueError("boom at 2")
        return x
    for n in (None, 2):
        with pytest.raises(ValueError, match="boom at 2"):
            vals(D.range(5).map(bad, num_parallel_calls=n))


@settings(max_examples=25, deadline=None)
@given(n=hs.integers(0, 23), size=hs.integers(1, 7), drop=hs.booleans())
def test_batch_cardinality_and_contents(n, size, drop):
    ds = D.range(n).batch(size, drop_remainder=drop)
    out = vals(ds)
    expect = [list(range(i, min(n, i + size))) for i in range(0, n, size)]
    if drop:
        expect = [e for e in expect if len(e) == size]
    assert [o.tolist() for o in out] == expect
    assert card(ds) == len(expect)
    assert ds.element_spec.shape == [size if drop else None]


def test_error_batch_different_shapes():
    ds = D.from_generator(lambda: iter([np.zeros(2), np.zeros(3)]), output_signature=tl.TensorSpec([None], tl.float64))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"component 0.*shape \[2\].*element 1.*shape \[3\]"):
        vals(ds.batch(2))


def test_padded_batch_and_unbatch():
    ds = D.range(1, 5).map(lambda n: tl.fill(tl.reshape(tl.cast(n, tl.int32), [1]), n))
    out = vals(ds.padded_batch(2, padding_values=tl.constant(-1, tl.int64)))
    np.testing.assert_array_equal(out[0], [[1, -1], [2, 2]])
    np.testing.assert_array_equal(out[1], [[3, 3, 3, -1], [4, 4, 4, 4]])
    fixed = vals(ds.padded_batch(4, padded_shapes=[5]))
    assert fixed[0].shape == (4, 5)
    back = vals(D.range(7).batch(3).unbatch())
    assert back == list(range(7))
    assert card(D.range(6).batch(2).rebatch(3)) == tl.data.UNKNOWN_CARDINALITY
    assert [b.tolist() for b in vals(D.range(6).batch(2).rebatch(3))] == [[0, 1, 2], [3, 4, 5]]
    assert [b.tolist() for b in vals(D.range(7).batch(4).rebatch([2, 3]))] == [[0, 1], [2, 3, 4], [5, 6]]


def test_shuffle_permutes_with_seed_and_reshuffles():
    ds = D.range(100).shuffle(100, seed=3)
    a, b = vals(ds), vals(ds)
    assert sorted(a) == list(range(100)) and a != list(range(100))
    assert a != b  # reshuffled on the second pass
    assert vals(D.range(100).shuffle(100, seed=3)) == a  # same seed, same sequence of orders
    fixed = D.range(50).shuffle(50, seed=1, reshuffle_each_iteration=False)
    assert vals(fixed) == vals(fixed)


def test_shuffle_buffer_semantics():
    # A buffer of 1 keeps the order; a small buffer can only move elements a bounded distance ahead.
    assert vals(D.range(20).shuffle(1)) == list(range(20))
    out = vals(D.range(200).shuffle(10, seed=0))
    assert sorted(out) == list(range(200))
    for pos, v in enumerate(out):
        assert v <= pos + 9  # element v enters the buffer only after v - 9 outputs


def test_shuffle_respects_global_seed():
    tl.random.set_seed(11)
    a = vals(D.range(30).shuffle(30))
    tl.random.set_seed(11)
    b = vals(D.range(30).shuffle(30))
    tl.random.set_seed(None)
    assert a == b


def test_advance_epochs_reproduces_later_pass_order():
    ds = D.range(20).shuffle(20, seed=5)
    passes = [vals(ds) for _ in range(3)]
    fresh = D.range(20).shuffle(20, seed=5)
    fresh._advance_epochs(2)
    assert vals(fresh) == passes[2]


def test_repeat_take_skip_shard_enumerate_cardinality():
    assert vals(D.range(3).repeat(2)) == [0, 1, 2, 0, 1, 2]
    inf = D.range(3).repeat()
    assert card(inf) == tl.data.INFINITE_CARDINALITY
    with pytest.raises(TypeError, match="infinite"):
        len(inf)
    assert vals(inf.take(7)) == [0, 1, 2, 0, 1, 2, 0] and card(inf.take(7)) == 7
    assert vals(D.range(10).skip(7)) == [7, 8, 9] and card(D.range(10).skip(12)) == 0
    assert vals(D.range(10).take(-1)) == list(range(10))
    assert vals(D.range(10).shard(3, 1)) == [1, 4, 7] and card(D.range(10).shard(3, 1)) == 3
    assert [(int(i), int(v)) for i, v in vals(D.range(5, 8).enumerate(start=2))] == [(2, 5), (3, 6), (4, 7)]
    with pytest.raises(TypeError, match="unknown"):
        len(D.range(4).filter(lambda x: x > 1))


def test_error_shard_index_out_of_range():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"shard: index 3.*num_shards=3"):
        D.range(4).shard(3, 3)


def test_zip_concatenate_interleave_window():
    z = D.zip((D.range(3), D.range(10, 20)))
    assert [(int(a), int(b)) for a, b in vals(z)] == [(0, 10), (1, 11), (2, 12)] and card(z) == 3
    zd = D.zip({"a": D.range(2), "b": D.range(5).repeat()})
    assert card(zd) == 2 and vals(zd)[1] == {"a": 1, "b": 1}
    c = D.range(2).concatenate(D.range(5, 7))
    assert vals(c) == [0, 1, 5, 6] and card(c) == 4
    il = D.range(1, 4).interleave(lambda n: D.from_tensors(n).repeat(n), cycle_length=2, block_length=1)
    assert vals(il) == [1, 2, 2, 3, 3, 3]  # TF's documented order for this cycle
    w = D.range(7).window(3, shift=2, drop_remainder=True)
    assert card(w) == 3
    assert [b.tolist() for b in vals(w.flat_map(lambda x: x.batch(3)))] == [[0, 1, 2], [2, 3, 4], [4, 5, 6]]
    w2 = D.range(5).window(2, stride=2)
    assert [b.tolist() for b in vals(w2.flat_map(lambda x: x.batch(5)))] == [[0, 2], [2, 4], [4]]


def test_error_concatenate_incompatible():
    with pytest.raises(TypeError, match="concatenate"):
        D.range(3).concatenate(D.from_tensor_slices(np.zeros((2, 2), np.float32)))


def test_apply_reduce_unique_take_while_single_element():
    ds = D.range(6).apply(lambda d: d.map(lambda x: x * 10))
    assert vals(ds) == [0, 10, 20, 30, 40, 50]
    assert int(D.range(5).reduce(tl.constant(0, tl.int64), lambda s, x: s + x)) == 10
    assert vals(D.from_tensor_slices([1, 2, 1, 3, 2]).unique()) == [1, 2, 3]
    assert vals(D.range(10).take_while(lambda x: x < 4)) == [0, 1, 2, 3]
    assert int(D.range(4, 5).get_single_element()) == 4


def test_iterator_protocol_and_out_of_range():
    it = iter(D.range(2))
    assert int(next(it)) == 0 and int(it.get_next()) == 1
    with pytest.raises(tl.errors.OutOfRangeError):
        it.get_next()
    assert it.element_spec == tl.TensorSpec([], tl.int64)


def test_prefetch_background_and_errors():
    produced = []

    def gen():
        for i in range(6):
            produced.append(i)
            yield i
    ds = D.from_generator(gen, output_signature=tl.TensorSpec([], tl.int32)).prefetch(3)
    it = iter(ds)
    assert int(next(it)) == 0
    deadline = time.time() + 5
    while len(produced) < 4 and time.time() < deadline:
        time.sleep(0.01)
    assert len(produced) >= 4  # produced ahead of consumption, on another thread
    assert [int(v) for v in it] == [1, 2, 3, 4, 5]
    assert vals(D.range(10).prefetch(tl.data.AUTOTUNE)) == list(range(10))

    def bad():
        yield 1
        raise RuntimeError("reader failed")
    with pytest.raises(RuntimeError, match="reader failed"):
        vals(D.from_generator(bad, output_signature=tl.TensorSpec([], tl.int32)).prefetch(2))


def test_prefetch_stops_thread_when_abandoned():
    before = threading.active_count()
    for _ in range(5):
        it = iter(D.range(10 ** 9).prefetch(2))
        next(it)
        it.close()
    deadline = time.time() + 5
    while threading.active_count() > before and time.time() < deadline:
        time.sleep(0.02)
    assert threading.active_count() <= before


def test_cache_in_memory_replays():
    calls = collections.Counter()

    def f(x):
        calls[int(x)] += 1
        return x
    ds = D.range(4).map(f).cache()
    assert vals(ds) == vals(ds) == [0, 1, 2, 3]
    assert all(c == 1 for c in calls.values())
    partial = D.range(4).map(f).cache()
    list(partial.take(2).as_numpy_iterator())  # an incomplete pass does not fill the cache
    assert vals(partial) == [0, 1, 2, 3]


def test_cache_file_survives_and_is_atomic(tmp_path):
    path = str(tmp_path / "c")
    calls = []

    def f(x):
        if isinstance(x, tl.Tensor):  # not the symbolic trace that computes element_spec
            calls.append(1)
        return x, tl.cast(x, tl.float32) / 2
    ds = D.range(5).map(f).cache(path)
    it = iter(ds)
    next(it)
    it.close()  # interrupted pass: no cache file left behind
    assert not list(tmp_path.iterdir())
    first = vals(ds)
    n = len(calls)
    again = D.range(5).map(f).cache(path)
    assert [(int(a), float(b)) for a, b in vals(again)] == [(int(a), float(b)) for a, b in first]
    assert len(calls) == n  # read from the file, the function did not run
    strings = D.from_tensor_slices(["x", "yz"]).cache(str(tmp_path / "s"))
    assert vals(strings) == vals(strings) == [b"x", b"yz"]


def test_cache_file_reused_by_a_later_process(tmp_path):
    code = (
        "import sys, tensorlab as tl\n"
        "calls = []\n"
        "def f(x):\n"
        "    if isinstance(x, tl.Tensor): calls.append(1)\n"
        "    return x * 3\n"
        "ds = tl.data.Dataset.range(6).map(f).cache(sys.argv[1])\n"
        "print([int(v) for v in ds], len(calls))\n")
    run = [sys.executable, "-c", code, str(tmp_path / "shared")]
    env = {**os.environ, "PYTHONPATH": str(pathlib.Path(__file__).parents[2])}
    first = subprocess.run(run, capture_output=True, text=True, env=env, timeout=60)
    second = subprocess.run(run, capture_output=True, text=True, env=env, timeout=60)
    assert first.stdout.strip() == "[0, 3, 6, 9, 12, 15] 6", first.stderr
    assert second.stdout.strip() == "[0, 3, 6, 9, 12, 15] 0", second.stderr


def test_options_and_with_options():
    o = tl.data.Options()
    o.deterministic = False
    ds = D.range(3).with_options(o)
    assert ds.options().deterministic is False
    assert ds.map(lambda x: x).options().deterministic is False


def test_sample_and_choose_from_datasets():
    a, b = D.from_tensors(0).repeat(50), D.from_tensors(1).repeat(50)
    out = vals(D.sample_from_datasets([a, b], weights=[0.5, 0.5], seed=2))
    assert sorted(out) == [0] * 50 + [1] * 50 and out != sorted(out)
    ch = D.choose_from_datasets([D.range(3), D.range(10, 13)], D.from_tensor_slices(np.array([0, 1, 1, 0], np.int64)))
    assert vals(ch) == [0, 10, 11, 1]
