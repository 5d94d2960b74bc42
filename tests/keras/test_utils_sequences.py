"""keras.utils.pad_sequences and timeseries_dataset_from_array against Keras' documented semantics."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras


def _pad_reference(seqs, maxlen, padding, truncating, value):
    out = []
    for s in seqs:
        s = list(s)
        s = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        pad = [value] * (maxlen - len(s))
        out.append(pad + s if padding == "pre" else s + pad)
    return np.array(out)


@pytest.mark.parametrize("padding", ["pre", "post"])
@pytest.mark.parametrize("truncating", ["pre", "post"])
def test_pad_sequences_against_reference(rng, padding, truncating):
    seqs = [list(rng.integers(1, 100, size=n)) for n in rng.integers(0, 9, size=12)]
    for maxlen in (None, 5):
        got = keras.utils.pad_sequences(seqs, maxlen=maxlen, padding=padding, truncating=truncating, value=-1)
        m = maxlen if maxlen is not None else max(len(s) for s in seqs)
        np.testing.assert_array_equal(got, _pad_reference(seqs, m, padding, truncating, -1))
        assert got.dtype == np.int32


def test_pad_sequences_item_shapes_dtypes_and_errors(rng):
    seqs = [rng.normal(size=(n, 3)) for n in (2, 4, 1)]
    got = keras.preprocessing.sequence.pad_sequences(seqs, dtype="float32", padding="post")
    assert got.shape == (3, 4, 3) and got.dtype == np.float32
    np.testing.assert_allclose(got[0, :2], seqs[0].astype(np.float32))
    assert not got[0, 2:].any()
    text = keras.utils.pad_sequences([["a", "b"], ["c"]], dtype=object, value="<pad>")
    assert text.tolist() == [["a", "b"], ["<pad>", "c"]]
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        keras.utils.pad_sequences([[1]], padding="middle")
    with pytest.raises(ValueError, match="cannot hold the string padding value"):
        keras.utils.pad_sequences([[1]], value="x")
    with pytest.raises(ValueError, match="item 1 is int"):
        keras.utils.pad_sequences([[1], 5])
    with pytest.raises(ValueError, match=r"item 1 has items of shape \(2,\)"):
        keras.utils.pad_sequences([np.ones((2, 3)), np.ones((2, 2))])


def _windows_reference(data, targets, length, stride, rate, start, end):
    data = data[start:end]
    n = len(data) - (length - 1) * rate
    if targets is not None:
        n = min(n, len(targets))
    starts = list(range(0, max(n, 0), stride))
    ws = [data[[p + k * rate for k in range(length)]] for p in starts]
    ts = [targets[start:end][p] for p in starts] if targets is not None else None
    return ws, ts


@pytest.mark.parametrize("length,stride,rate,start,end", [(3, 1, 1, None, None), (4, 2, 3, 2, 40), (1, 5, 1, 0, None)])
def test_timeseries_windows_against_reference(rng, length, stride, rate, start, end):
    data = rng.normal(size=(45, 2)).astype(np.float32)
    targets = rng.integers(0, 10, size=45)
    ds = keras.utils.timeseries_dataset_from_array(data, targets, length, sequence_stride=stride,
                                                   sampling_rate=rate, batch_size=4, start_index=start,
                                                   end_index=end)
    got_w, got_t = [], []
    for w, t in ds:
        assert w.shape[0] <= 4
        got_w.extend(w.numpy())
        got_t.extend(t.numpy())
    ref_w, ref_t = _windows_reference(data, targets, length, stride, rate, start or 0, end or len(data))
    np.testing.assert_array_equal(np.array(got_w), np.array(ref_w))
    np.testing.assert_array_equal(got_t, ref_t)


def test_timeseries_shuffle_unbatched_and_no_targets(rng):
    data = np.arange(30)
    a = [w.numpy().tolist() for w, _ in keras.utils.timeseries_dataset_from_array(
        data, data, 5, batch_size=None, shuffle=True, seed=3)]
    b = [w.numpy().tolist() for w, _ in keras.utils.timeseries_dataset_from_array(
        data, data, 5, batch_size=None, shuffle=True, seed=3)]
    assert a == b and sorted(a) == [list(range(p, p + 5)) for p in range(26)] and a != sorted(a)
    shuffled = [w.numpy() for w in keras.utils.timeseries_dataset_from_array(data, None, 5, batch_size=8,
                                                                              shuffle=True, seed=1)]
    flat = sorted(tuple(r) for b in shuffled for r in b)
    assert flat == [tuple(range(p, p + 5)) for p in range(26)]


def test_timeseries_errors():
    data = np.arange(10)
    with pytest.raises(ValueError, match="sequence_length must be a positive integer"):
        keras.utils.timeseries_dataset_from_array(data, None, 0)
    with pytest.raises(ValueError, match="end_index must be lower than the length of the data"):
        keras.utils.timeseries_dataset_from_array(data, None, 2, end_index=10)
    with pytest.raises(ValueError, match=r"start_index must be in \[0, 10\)"):
        keras.utils.timeseries_dataset_from_array(data, None, 2, start_index=12)


def test_utils_exports_the_data_helpers():
    assert keras.utils.image_dataset_from_directory is keras.preprocessing.image_dataset_from_directory
    assert keras.preprocessing.timeseries_dataset_from_array is keras.utils.timeseries_dataset_from_array
    assert isinstance(keras.utils.timeseries_dataset_from_array(np.arange(5.0), None, 2), tl.data.Dataset)


def test_split_dataset_arrays_and_fractions(rng):
    x = rng.normal(size=(10, 3)).astype(np.float32)
    y = np.arange(10)
    left, right = keras.utils.split_dataset((x, y), left_size=0.8)
    lx, ly = zip(*[(a.numpy(), b.numpy()) for a, b in left])
    rx, ry = zip(*[(a.numpy(), b.numpy()) for a, b in right])
    np.testing.assert_array_equal(np.array(lx), x[:8])
    assert list(ly) == list(range(8)) and list(ry) == [8, 9]
    a, b = keras.utils.split_dataset(x, right_size=3, shuffle=True, seed=4)
    got = np.concatenate([np.array([v.numpy() for v in a]), np.array([v.numpy() for v in b])])
    assert len(list(b)) == 3 and not np.array_equal(got, x)
    np.testing.assert_array_equal(np.sort(got, axis=0), np.sort(x, axis=0))
    a2, _ = keras.utils.split_dataset(x, right_size=3, shuffle=True, seed=4)
    np.testing.assert_array_equal(np.array([v.numpy() for v in a2]), np.array([v.numpy() for v in a]))


def test_split_dataset_keeps_batching_and_structure(rng):
    ds = tl.data.Dataset.from_tensor_slices({"a": rng.normal(size=(11, 2)), "b": np.arange(11)}).batch(4)
    left, right = keras.utils.split_dataset(ds, left_size=7)
    assert [int(e["b"].shape[0]) for e in left] == [4, 3] and [e["b"].numpy().tolist() for e in right] == [[7, 8, 9, 10]]


def test_split_dataset_errors(rng):
    x = np.zeros((5, 2)) + 1.0
    with pytest.raises(ValueError, match="at least one of left_size and right_size"):
        keras.utils.split_dataset(x)
    with pytest.raises(ValueError, match=r"must be in \(0, 1\)"):
        keras.utils.split_dataset(x, left_size=1.5)
    with pytest.raises(ValueError, match=r"must be in \[1, 4\]"):
        keras.utils.split_dataset(x, left_size=5)
    with pytest.raises(ValueError, match="exceeds the 5 samples"):
        keras.utils.split_dataset(x, left_size=3, right_size=3)
    with pytest.raises(ValueError, match="leave the right split empty"):
        keras.utils.split_dataset(x, left_size=0.95)
    with pytest.raises(TypeError, match="must be an int, a float or None"):
        keras.utils.split_dataset(x, left_size="half")
    with pytest.raises(TypeError, match="dataset must be"):
        keras.utils.split_dataset("abc", left_size=1)
