"""The array adapter behind fit/evaluate: batch contents and order, and its prefetch thread."""
import threading
import time

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras.models import data_adapter as da


def _prefetch_threads():
    return [t for t in threading.enumerate() if t.name == "tensorlab-batch-prefetch"]


@pytest.fixture
def arrays(rng):
    # 70 rows of 300 float64 values: 8 batches of 9 (the last one 7), and big enough
    # (9 * 300 * 4 bytes per x batch) to be gathered by the prefetch thread.
    x = rng.standard_normal((70, 300))
    y = rng.integers(0, 5, 70)
    sw = rng.random(70)
    return x, y, sw


@pytest.mark.parametrize("shuffle", [False, True, "batch"])
@pytest.mark.parametrize("prefetch", [False, True])
def test_batches_hold_the_rows_of_one_permutation(arrays, shuffle, prefetch, monkeypatch):
    monkeypatch.setattr(da, "_PREFETCH_MIN_BYTES", 0 if prefetch else 1 << 60)
    x, y, sw = arrays
    np.random.seed(3)
    adapter = da.ArrayAdapter(x, y, sw, batch_size=9, shuffle=shuffle)
    batches = list(adapter)
    assert [len(b[0].numpy()) for b in batches] == [9] * 7 + [7]
    xs = np.concatenate([b[0].numpy() for b in batches])
    ys = np.concatenate([b[1].numpy() for b in batches])
    sws = np.concatenate([b[2].numpy() for b in batches])
    assert batches[0][0].dtype == tl.float32 and batches[0][1].dtype == tl.int64
    # every row once, x/y/sample_weight rows kept together
    order = np.array([np.flatnonzero((x.astype(np.float32) == r).all(1))[0] for r in xs])
    assert sorted(order) == list(range(70))
    np.testing.assert_array_equal(ys, y[order])
    np.testing.assert_allclose(sws, sw[order].astype(np.float32))
    if shuffle is False:
        assert list(order) == list(range(70))
    else:
        assert list(order) != list(range(70))
    if shuffle == "batch":  # whole batches move (the partial one stays last), rows shuffle inside each
        chunks = [sorted(order[b * 9:(b + 1) * 9]) for b in range(8)]
        assert all(c == list(range(c[0], c[0] + len(c))) and c[0] % 9 == 0 for c in chunks)
        assert chunks[-1] == list(range(63, 70))


def test_prefetch_gives_the_same_batches_as_gathering_inline(arrays, monkeypatch):
    x, y, _ = arrays
    out = {}
    for prefetch in (False, True):
        monkeypatch.setattr(da, "_PREFETCH_MIN_BYTES", 0 if prefetch else 1 << 60)
        np.random.seed(11)
        out[prefetch] = [(bx.numpy(), by.numpy()) for bx, by in da.ArrayAdapter(x, y, batch_size=9, shuffle=True)]
    for (a, b), (c, d) in zip(out[False], out[True]):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, d)


def test_batches_do_not_alias_the_users_arrays(arrays, monkeypatch):
    monkeypatch.setattr(da, "_PREFETCH_MIN_BYTES", 0)
    x, y, _ = arrays
    x = x.astype(np.float32)  # no dtype conversion, so an unshuffled slice could share memory
    first = next(iter(da.ArrayAdapter(x, y, batch_size=9, shuffle=False)))[0]
    before = first.numpy().copy()
    x[:9] = 123.0
    np.testing.assert_array_equal(first.numpy(), before)


def test_stopping_early_ends_the_prefetch_thread(arrays, monkeypatch):
    monkeypatch.setattr(da, "_PREFETCH_MIN_BYTES", 0)
    x, y, _ = arrays
    it = iter(da.ArrayAdapter(x, y, batch_size=9, shuffle=True))
    next(it)
    assert _prefetch_threads()
    it.close()
    assert not _prefetch_threads()


def test_fit_stopped_by_a_callback_leaves_no_thread_behind(arrays, monkeypatch):
    monkeypatch.setattr(da, "_PREFETCH_MIN_BYTES", 0)
    x, y, _ = arrays
    model = keras.Sequential([keras.Input((300,)), keras.layers.Dense(5)])
    model.compile("sgd", "sparse_categorical_crossentropy")

    class StopAfterTwo(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True
    model.fit(x, y, batch_size=9, epochs=3, verbose=0, callbacks=[StopAfterTwo()])
    assert model.optimizer.iterations.numpy() == 2
    assert not _prefetch_threads()


def test_an_error_while_gathering_reaches_the_training_loop(arrays, monkeypatch):
    monkeypatch.setattr(da, "_PREFETCH_MIN_BYTES", 0)
    x, y, _ = arrays
    adapter = da.ArrayAdapter(x, y, batch_size=9)
    real = adapter._host_batches

    def failing(order):
        gen = real(order)
        yield next(gen)
        raise MemoryError("gathering batch 2 failed")
    monkeypatch.setattr(adapter, "_host_batches", failing)
    it = iter(adapter)
    next(it)
    with pytest.raises(MemoryError, match="batch 2"):
        next(it)
    assert not _prefetch_threads()


def test_small_batches_are_gathered_inline(rng):
    x = rng.standard_normal((20, 3)).astype(np.float32)
    adapter = da.ArrayAdapter(x, None, batch_size=4)
    assert adapter._bytes_per_batch() < da._PREFETCH_MIN_BYTES
    it = iter(adapter)
    next(it)
    assert not _prefetch_threads()
    it.close()


def test_closing_after_the_thread_gathered_everything_does_not_hang(arrays, monkeypatch):
    monkeypatch.setattr(da, "_PREFETCH_MIN_BYTES", 0)
    x, y, _ = arrays
    it = iter(da.ArrayAdapter(x[:27], y[:27], batch_size=9))   # 3 batches: the queue holds 2
    next(it)
    time.sleep(0.3)   # the thread has gathered the other 2 and waits to queue its end marker
    closer = threading.Thread(target=it.close, daemon=True)
    closer.start()
    closer.join(timeout=5)
    assert not closer.is_alive(), "closing the batch iterator hung"
    assert not _prefetch_threads()
