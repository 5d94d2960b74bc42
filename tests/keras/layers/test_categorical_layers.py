"""Categorical preprocessing layers: CategoryEncoding, Discretization, IntegerLookup, Hashing (numerics vs numpy
references on random data, adapt, invert, configs and JSON round trips, symbolic shapes, errors)."""
import collections
import json

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers
from tests.keras.layers.layer_checks import check_roundtrip, check_symbolic


def ref_one_hot(x, depth):
    return (np.asarray(x)[..., None] == np.arange(depth)).astype(np.float64)


def ref_encode(idx, mode, depth, weights=None):
    """Keras' encodings in float64; ids outside [0, depth) encode to zeros."""
    idx = np.asarray(idx)
    if mode == "int":
        return idx
    if idx.ndim == 0:
        idx = idx[None]
    if mode == "one_hot":
        if idx.ndim > 1 and idx.shape[-1] == 1:
            idx = idx[..., 0]
        return ref_one_hot(idx, depth)
    oh = ref_one_hot(idx, depth)
    if mode == "multi_hot":
        return oh.max(axis=-2)
    if weights is not None:
        oh = oh * np.asarray(weights, np.float64)[..., None]
    return oh.sum(axis=-2)


def json_roundtrip(layer):
    d = json.loads(json.dumps(layers.serialize(layer)))
    clone = layers.deserialize(d)
    c1, c2 = clone.get_config(), layer.get_config()
    c1.pop("name")
    c2.pop("name")
    assert c1 == c2
    return clone


# ----------------------------------------------------------------- CategoryEncoding
@pytest.mark.parametrize("shape", [(7,), (5, 1), (4, 6)])
@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding(rng, shape, mode):
    n = int(rng.integers(3, 9))
    x = tl.constant(rng.integers(0, n, size=shape).astype("int64"))
    layer = layers.CategoryEncoding(num_tokens=n, output_mode=mode)
    y = layer(x)
    assert y.dtype == tl.float32
    np.testing.assert_array_equal(y.numpy(), ref_encode(x.numpy(), mode, n))
    assert tuple(y.shape) == layer.compute_output_shape(shape)
    check_roundtrip(layer, x)
    json_roundtrip(layer)
    if len(shape) == 2:
        check_symbolic(layer, x)


def test_category_encoding_keras_examples_and_inputs(rng):
    one = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")
    np.testing.assert_array_equal(one([3, 2, 0, 1]).numpy(), np.eye(4)[[3, 2, 0, 1]])
    multi = layers.CategoryEncoding(num_tokens=4)
    np.testing.assert_array_equal(multi(np.array([[0, 1], [0, 0], [1, 2], [3, 1]])).numpy(),
                                  [[1, 1, 0, 0], [1, 0, 0, 0], [0, 1, 1, 0], [0, 1, 0, 1]])
    assert multi(tl.constant(2)).numpy().tolist() == [0, 0, 1, 0]  # a scalar is one sample
    x = rng.integers(0, 4, size=(3, 5)).astype("int32")
    np.testing.assert_array_equal(multi(tl.constant(x)).numpy(), ref_encode(x, "multi_hot", 4))
    assert multi(keras.Input((5,), dtype="int32")).shape == (None, 4)
    assert one(keras.Input((5,), dtype="int32")).shape == (None, 5, 4)
    assert one(keras.Input((1,), dtype="int32")).shape == (None, 4)


def test_category_encoding_count_weights_and_gradient(rng):
    n = 6
    x = tl.constant(rng.integers(0, n, size=(4, 7)).astype("int64"))
    w = tl.constant(rng.standard_normal((4, 7)))
    layer = layers.CategoryEncoding(num_tokens=n, output_mode="count", dtype="float64")
    y = layer(x, count_weights=w)
    assert y.dtype == tl.float64
    np.testing.assert_allclose(y.numpy(), ref_encode(x.numpy(), "count", n, w.numpy()), rtol=1e-12, atol=1e-12)
    r = rng.standard_normal((4, n))
    with tl.GradientTape() as tape:
        tape.watch(w)
        loss = tl.reduce_sum(layer(x, count_weights=w) * tl.constant(r))
    g = tape.gradient(loss, w).numpy()
    np.testing.assert_allclose(g, np.take_along_axis(r, x.numpy(), axis=1), rtol=1e-12)  # d y[i, x[i,j]] / d w[i,j]


def test_error_category_encoding(rng):
    with pytest.raises(ValueError, match="num_tokens"):
        layers.CategoryEncoding()
    with pytest.raises(ValueError, match="num_tokens=0"):
        layers.CategoryEncoding(num_tokens=0)
    with pytest.raises(ValueError, match="output_mode.*'tf_idf'"):
        layers.CategoryEncoding(num_tokens=3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="sparse"):
        layers.CategoryEncoding(num_tokens=3, sparse=True)
    layer = layers.CategoryEncoding(num_tokens=4, name="cat_enc")
    bad = rng.integers(0, 4, size=(3, 5))
    bad[1, 2], bad[2, 0] = 7, -2
    with pytest.raises(ValueError, match=r'"cat_enc".*\[0, 4\).*\[-2, 7\]'):
        layer(tl.constant(bad))
    with pytest.raises(ValueError, match="count_weights.*count"):
        layer(tl.constant(bad % 4), count_weights=tl.ones([3, 5]))
    counts = layers.CategoryEncoding(num_tokens=4, output_mode="count")
    with pytest.raises(ValueError, match=r"count_weights.*\(3, 5\).*\(3, 4\)"):
        counts(tl.constant(bad % 4), count_weights=tl.ones([3, 4]))
    with pytest.raises(ValueError, match=r"rank 1 or 2.*\(2, 3, 4\)"):
        counts(tl.constant(rng.integers(0, 4, size=(2, 3, 4))))


# ----------------------------------------------------------------- Discretization
@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_boundaries(rng, mode):
    bounds = np.sort(rng.standard_normal(4)).tolist()
    x = rng.standard_normal((6, 5)).astype("float32")
    x[0, :2] = [bounds[1], bounds[3]]  # values on a boundary go to the upper bin
    layer = layers.Discretization(bin_boundaries=bounds, output_mode=mode)
    y = layer(tl.constant(x))
    idx = np.digitize(x.astype(np.float64), np.asarray(bounds, np.float32).astype(np.float64))
    assert y.dtype == (tl.int64 if mode == "int" else tl.float32)
    np.testing.assert_array_equal(y.numpy(), ref_encode(idx, mode, 5))
    check_symbolic(layer, tl.constant(x))
    assert layer(keras.Input((5,))).dtype == y.dtype
    check_roundtrip(layer, tl.constant(x))
    json_roundtrip(layer)


def ref_quantile_boundaries(values, num_bins):
    v = np.sort(np.asarray(values, np.float32).ravel()).astype(np.float64)
    n = len(v)
    ranks = np.clip(np.arange(1, num_bins) * n / num_bins - 1, 0, n - 1)
    return np.interp(ranks, np.arange(n), v)


def test_discretization_adapt(rng):
    x = np.array([[-1.5, 1.0, 3.4, .5], [0.0, 3.0, 1.3, 0.0]])
    keras_example = layers.Discretization(num_bins=4, epsilon=0.01)
    keras_example.adapt(x)
    np.testing.assert_array_equal(keras_example(x).numpy(), [[0, 2, 3, 2], [1, 3, 3, 1]])

    data = rng.standard_normal((37, 3)) * 2 + 1
    num_bins = int(rng.integers(2, 9))
    layer = layers.Discretization(num_bins=num_bins)
    layer.adapt(data)
    want = ref_quantile_boundaries(data, num_bins)
    np.testing.assert_allclose(layer.bin_boundaries, want, rtol=1e-6, atol=1e-6)
    batched = layers.Discretization(num_bins=num_bins)
    batched.adapt(iter([data[:10], data[10:]]))
    np.testing.assert_allclose(batched.bin_boundaries, want, rtol=1e-6, atol=1e-6)
    x = tl.constant(rng.standard_normal((4, 3)).astype("float32"))
    np.testing.assert_array_equal(layer(x).numpy(), np.digitize(x.numpy(), np.float32(layer.bin_boundaries)))
    clone = json_roundtrip(layer)  # the learned boundaries travel in the config
    assert clone.bin_boundaries == layer.bin_boundaries
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())
    one_bin = layers.Discretization(num_bins=1)
    one_bin.adapt(data)
    assert one_bin.bin_boundaries == [] and np.all(one_bin(x).numpy() == 0)


def test_error_discretization(rng):
    with pytest.raises(ValueError, match="either"):
        layers.Discretization()
    with pytest.raises(ValueError, match="not both"):
        layers.Discretization(bin_boundaries=[0.0], num_bins=3)
    with pytest.raises(ValueError, match="num_bins=-1"):
        layers.Discretization(num_bins=-1)
    with pytest.raises(ValueError, match="sorted.*2.0, 1.0"):
        layers.Discretization(bin_boundaries=[2.0, 1.0])
    with pytest.raises(ValueError, match="output_mode.*'tf_idf'"):
        layers.Discretization(num_bins=3, output_mode="tf_idf")
    with pytest.raises(ValueError, match="sparse"):
        layers.Discretization(num_bins=3, output_mode="count", sparse=True)
    given = layers.Discretization(bin_boundaries=[0.0], name="disc_given")
    with pytest.raises(ValueError, match='"disc_given".*num_bins'):
        given.adapt(rng.standard_normal(5))
    unadapted = layers.Discretization(num_bins=3, name="disc_new")
    with pytest.raises(ValueError, match='"disc_new".*adapt'):
        unadapted(tl.constant(rng.standard_normal((2, 2))))
    with pytest.raises(ValueError, match="no data"):
        unadapted.adapt(iter([]))


# ----------------------------------------------------------------- IntegerLookup
def random_vocab(rng, size):
    return [int(v) for v in rng.choice(np.arange(1, 1000), size=size, replace=False)]


def ref_lookup(x, vocab, num_oov=1, mask=None, int_mode=True):
    oov_start = 1 if (mask is not None and int_mode) else 0
    table = {t: i + oov_start + num_oov for i, t in enumerate(vocab)}

    def one(v):
        if mask is not None and v == mask:
            return 0 if int_mode else -1
        if v in table:
            return table[v]
        return oov_start + (v % num_oov if num_oov > 1 else 0)
    return np.vectorize(one)(np.asarray(x)).astype(np.int64)


@pytest.mark.parametrize("num_oov,mask", [(1, None), (3, None), (1, 0), (2, 0)])
def test_integer_lookup_vocabulary(rng, num_oov, mask):
    vocab = random_vocab(rng, 6)
    pool = np.array(vocab + [1001, 1002, 1003, -5] + ([mask] if mask is not None else []))
    x = tl.constant(rng.choice(pool, size=(5, 4)).astype("int64"))
    layer = layers.IntegerLookup(vocabulary=vocab, num_oov_indices=num_oov, mask_token=mask)
    y = layer(x)
    assert y.dtype == tl.int64
    np.testing.assert_array_equal(y.numpy(), ref_lookup(x.numpy(), vocab, num_oov, mask))
    special = [mask] * (mask is not None) + [-1] * num_oov
    assert layer.get_vocabulary() == special + vocab
    assert layer.get_vocabulary(include_special_tokens=False) == vocab
    assert layer.vocabulary_size() == len(special) + len(vocab)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    json_roundtrip(layer)
    # the vocabulary may be given with its special tokens in front
    again = layers.IntegerLookup(vocabulary=special + vocab, num_oov_indices=num_oov, mask_token=mask)
    assert again.get_vocabulary() == layer.get_vocabulary()
    # invert maps indices back; OOV indices and out-of-range indices give oov_token
    inv = layers.IntegerLookup(vocabulary=layer.get_vocabulary(), num_oov_indices=num_oov, mask_token=mask,
                               invert=True)
    back = inv(y).numpy()
    in_vocab = np.isin(x.numpy(), vocab + ([mask] if mask is not None else []))
    np.testing.assert_array_equal(back[in_vocab], x.numpy()[in_vocab])
    assert np.all(back[~in_vocab] == -1)
    assert inv(tl.constant([layer.vocabulary_size() + 3, -4], dtype=tl.int64)).numpy().tolist() == [-1, -1]


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_integer_lookup_encodings(rng, mode):
    vocab = random_vocab(rng, 5)
    x = tl.constant(rng.choice(np.array(vocab + [0, 2000]), size=(4, 6)).astype("int64"))
    layer = layers.IntegerLookup(vocabulary=vocab, mask_token=0, output_mode=mode)
    y = layer(x)
    idx = ref_lookup(x.numpy(), vocab, 1, 0, int_mode=False)  # the mask encodes to zeros
    np.testing.assert_array_equal(y.numpy(), ref_encode(idx, mode, len(vocab) + 1))
    padded = layers.IntegerLookup(vocabulary=vocab, output_mode=mode, max_tokens=10, pad_to_max_tokens=True)
    assert padded(x).shape[-1] == 10
    assert padded(keras.Input((6,), dtype="int64")).shape == ((None, 6, 10) if mode == "one_hot" else (None, 10))
    check_roundtrip(layer, x)


def test_integer_lookup_tf_idf(rng):
    vocab = random_vocab(rng, 4)
    idf = rng.uniform(0.1, 2.0, size=4)
    x = tl.constant(rng.choice(np.array(vocab + [5000]), size=(3, 7)).astype("int64"))
    layer = layers.IntegerLookup(vocabulary=vocab, idf_weights=idf.tolist(), output_mode="tf_idf")
    counts = ref_encode(ref_lookup(x.numpy(), vocab), "count", 5)
    want = counts * np.concatenate([[idf.mean()], idf])  # the OOV weight is the mean idf
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-6)
    json_roundtrip(layer)


def ref_adapt_vocab(values, mask=None, oov=-1, max_learned=None):
    c = collections.Counter(int(v) for v in np.ravel(values) if v != mask and v != oov)
    vocab = [t for t, _ in sorted(c.items(), key=lambda kv: (-kv[1], -kv[0]))]
    return vocab if max_learned is None else vocab[:max_learned]


def test_integer_lookup_adapt(rng):
    data = rng.integers(-3, 12, size=(40, 5))
    layer = layers.IntegerLookup(mask_token=0)
    layer.adapt(data)
    want = ref_adapt_vocab(data, mask=0)
    assert layer.get_vocabulary() == [0, -1] + want
    x = tl.constant(rng.integers(-5, 15, size=(3, 4)).astype("int64"))
    np.testing.assert_array_equal(layer(x).numpy(), ref_lookup(x.numpy(), want, 1, 0))
    # ties are broken by the larger token first, as in Keras
    tied = layers.IntegerLookup()
    tied.adapt(np.array([3, 7, 5, 7, 3, 5, 9]))
    assert tied.get_vocabulary() == [-1, 7, 5, 3, 9]
    capped = layers.IntegerLookup(max_tokens=4, num_oov_indices=2)
    capped.adapt(iter([data[:13], data[13:]]))  # an iterable of batches counts like the whole array
    assert capped.get_vocabulary() == [-1, -1] + ref_adapt_vocab(data, max_learned=2)
    clone = json_roundtrip(layer)  # the learned vocabulary travels in the config
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())
    assert clone.get_vocabulary() == layer.get_vocabulary()


def test_integer_lookup_adapt_tf_idf(rng):
    docs = rng.integers(1, 8, size=(9, 6))
    layer = layers.IntegerLookup(output_mode="tf_idf")
    layer.adapt(docs)
    vocab = ref_adapt_vocab(docs)
    assert layer.get_vocabulary() == [-1] + vocab
    df = np.array([sum(t in row for row in docs.tolist()) for t in vocab], np.float64)
    idf = np.log(1 + len(docs) / (1 + df))
    x = tl.constant(rng.integers(0, 9, size=(4, 5)).astype("int64"))
    counts = ref_encode(ref_lookup(x.numpy(), vocab), "count", len(vocab) + 1)
    np.testing.assert_allclose(layer(x).numpy(), counts * np.concatenate([[idf.mean()], idf]), rtol=1e-5)
    clone = json_roundtrip(layer)
    np.testing.assert_allclose(clone(x).numpy(), layer(x).numpy(), rtol=1e-6)


def test_error_integer_lookup(rng):
    with pytest.raises(ValueError, match="max_tokens=1"):
        layers.IntegerLookup(max_tokens=1)
    with pytest.raises(ValueError, match="num_oov_indices=-1"):
        layers.IntegerLookup(num_oov_indices=-1)
    with pytest.raises(ValueError, match="vocabulary_dtype='int32'"):
        layers.IntegerLookup(vocabulary_dtype="int32")
    with pytest.raises(ValueError, match="invert"):
        layers.IntegerLookup(invert=True, output_mode="count")
    with pytest.raises(ValueError, match="pad_to_max_tokens"):
        layers.IntegerLookup(pad_to_max_tokens=True)
    with pytest.raises(ValueError, match="idf_weights"):
        layers.IntegerLookup(vocabulary=[1, 2], output_mode="tf_idf")
    with pytest.raises(ValueError, match=r"repeated.*\[4\]"):
        layers.IntegerLookup(vocabulary=[4, 5, 4])
    with pytest.raises(ValueError, match="mask_token=0 at index 1"):
        layers.IntegerLookup(vocabulary=[4, 0, 5], mask_token=0)
    with pytest.raises(ValueError, match="larger than max_tokens=3"):
        layers.IntegerLookup(vocabulary=[4, 5, 6], max_tokens=3)
    with pytest.raises(ValueError, match="empty"):
        layers.IntegerLookup(vocabulary=[])
    strict = layers.IntegerLookup(vocabulary=[4, 5], num_oov_indices=0, name="strict_lookup")
    with pytest.raises(ValueError, match=r'"strict_lookup".*num_oov_indices=0.*\[7, 9\]'):
        strict(tl.constant([[4, 7], [9, 5]]))
    given = layers.IntegerLookup(vocabulary=[4, 5])
    with pytest.raises(ValueError, match="cannot adapt"):
        given.adapt(rng.integers(0, 5, size=10))


# ----------------------------------------------------------------- Hashing
P = 2 ** 31 - 1


def ref_hash(values, num_bins, mask_value=None, salt=None):
    """The documented hash, in Python integers."""
    seed = 0x2545F491
    if salt is not None:
        a, b = (salt, salt) if isinstance(salt, int) else salt
        seed = (seed + (a % P) * 40503 + (b % P) * 65599) % P
    bins = num_bins - 1 if mask_value is not None and num_bins > 1 else num_bins

    def one(v):
        if bins != num_bins and v == mask_value:
            return 0
        h, u = seed, int(v) % 2 ** 64
        for _ in range(4):
            h = (h + u % 65536 + 1) * 1099087573 % P
            u //= 65536
        return pow(h, 5, P) % bins + (bins != num_bins)
    return np.vectorize(one, otypes=[np.int64])(np.asarray(values))


def test_hashing(rng):
    x = rng.integers(-2 ** 62, 2 ** 62, size=(6, 3)).astype("int64")
    x[0, 0], x[1, 1] = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    num_bins = int(rng.integers(2, 40))
    layer = layers.Hashing(num_bins=num_bins)
    y = layer(tl.constant(x))
    assert y.dtype == tl.int64
    np.testing.assert_array_equal(y.numpy(), ref_hash(x, num_bins))
    np.testing.assert_array_equal(layers.Hashing(num_bins)(tl.constant(x)).numpy(), y.numpy())  # across instances
    small = rng.integers(-1000, 1000, size=(8, 2)).astype("int32")
    np.testing.assert_array_equal(layer(tl.constant(small)).numpy(), ref_hash(small, num_bins))
    masked = layers.Hashing(num_bins=num_bins, mask_value=int(small[0, 0]))
    np.testing.assert_array_equal(masked(tl.constant(small)).numpy(), ref_hash(small, num_bins, small[0, 0]))
    assert masked(tl.constant(small)).numpy()[0, 0] == 0
    salted = layers.Hashing(num_bins=1000, salt=[133, 137])
    np.testing.assert_array_equal(salted(tl.constant(x)).numpy(), ref_hash(x, 1000, salt=[133, 137]))
    assert not np.array_equal(salted(tl.constant(x)).numpy(), layers.Hashing(1000)(tl.constant(x)).numpy())
    assert layers.Hashing(7, salt=5).salt == [5, 5]
    # a usable spread: consecutive integers fill the bins evenly
    counts = np.bincount(layers.Hashing(10)(tl.range(0, 5000, dtype=tl.int64)).numpy(), minlength=10)
    assert counts.min() > 400
    check_symbolic(layer, tl.constant(x))
    check_roundtrip(salted, tl.constant(x))
    json_roundtrip(masked)


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_hashing_encodings(rng, mode):
    x = rng.integers(0, 10 ** 6, size=(5, 1) if mode == "one_hot" else (5, 4)).astype("int64")
    layer = layers.Hashing(num_bins=6, output_mode=mode)
    y = layer(tl.constant(x))
    assert y.dtype == tl.float32
    np.testing.assert_array_equal(y.numpy(), ref_encode(ref_hash(x, 6), mode, 6))
    check_symbolic(layer, tl.constant(x))
    check_roundtrip(layer, tl.constant(x))


def test_error_hashing(rng):
    with pytest.raises(ValueError, match="num_bins=0"):
        layers.Hashing(num_bins=0)
    with pytest.raises(ValueError, match="salt="):
        layers.Hashing(num_bins=3, salt=[1, 2, 3])
    with pytest.raises(ValueError, match="dtype='float32'"):
        layers.Hashing(num_bins=3, dtype="float32")
    with pytest.raises(ValueError, match="mask_value"):
        layers.Hashing(num_bins=3, mask_value="")
    with pytest.raises(ValueError, match="output_mode"):
        layers.Hashing(num_bins=3, output_mode="tf_idf")
    layer = layers.Hashing(num_bins=3, name="hasher")
    with pytest.raises(ValueError, match='"hasher".*integer.*float32'):
        layer(tl.constant(rng.standard_normal((2, 2)).astype("float32")))
