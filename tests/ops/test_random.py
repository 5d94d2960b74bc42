"""Random ops: distributions, seeds and reproducibility, Generator, errors."""
import numpy as np
import pytest

import tensorlab as tl

N = 100_000


@pytest.fixture(autouse=True)
def _no_global_seed():
    tl.random.set_seed(None)
    yield
    tl.random.set_seed(None)


@pytest.mark.parametrize("dtype", [tl.float32, tl.float64, tl.float16])
def test_normal_moments(dtype):
    x = tl.random.normal([N], mean=1.5, stddev=2.0, dtype=dtype)
    assert x.dtype == dtype and tuple(x.shape) == (N,)
    a = x.numpy().astype(np.float64)
    assert abs(a.mean() - 1.5) < 0.05
    assert abs(a.std() - 2.0) < 0.05
    # Roughly normal: about 68.3% within one standard deviation.
    assert abs(np.mean(np.abs(a - 1.5) < 2.0) - 0.6827) < 0.01


@pytest.mark.parametrize("dtype", [tl.float32, tl.float64, tl.bfloat16])
def test_uniform_float_range_and_moments(dtype):
    x = tl.random.uniform([N], minval=-1.0, maxval=3.0, dtype=dtype).numpy().astype(np.float64)
    assert x.min() >= -1.0 and x.max() <= 3.0
    assert abs(x.mean() - 1.0) < 0.03
    assert abs(x.std() - 4 / np.sqrt(12)) < 0.03


def test_uniform_default_range_is_unit():
    x = tl.random.uniform([N]).numpy()
    assert x.dtype == np.float32 and x.min() >= 0 and x.max() < 1
    assert abs(x.mean() - 0.5) < 0.01


@pytest.mark.parametrize("dtype", [tl.int32, tl.int64])
def test_uniform_integers_cover_range(dtype):
    x = tl.random.uniform([N], minval=-3, maxval=4, dtype=dtype)
    assert x.dtype == dtype
    a = x.numpy()
    assert set(np.unique(a).tolist()) == set(range(-3, 4))
    counts = np.bincount(a + 3) / N
    assert np.all(np.abs(counts - 1 / 7) < 0.01)


def test_truncated_normal_bounds_and_moments():
    x = tl.random.truncated_normal([N], mean=-1.0, stddev=0.5).numpy().astype(np.float64)
    assert x.min() >= -2.0 and x.max() <= 0.0
    assert abs(x.mean() + 1.0) < 0.01
    # std of a standard normal truncated to [-2, 2] is about 0.8796.
    assert abs(x.std() - 0.5 * 0.8796) < 0.01


def test_shuffle_is_a_permutation_of_rows(rng):
    a = rng.normal(size=(50, 3))
    y = tl.random.shuffle(tl.constant(a)).numpy()
    assert y.shape == a.shape
    # Every output row is an input row (rows kept whole), and each input row appears once.
    idx = [int(np.flatnonzero((a == r).all(axis=1))[0]) for r in y]
    assert sorted(idx) == list(range(50))
    assert idx != list(range(50))


def test_shuffle_keeps_dtype_and_integers():
    x = tl.random.shuffle(tl.range(1000))
    assert x.dtype == tl.int32
    assert sorted(x.numpy().tolist()) == list(range(1000))


def test_categorical_frequencies_follow_softmax():
    logits = tl.constant([[0.0, np.log(3.0), -np.inf], [2.0, 2.0, 2.0]])
    s = tl.random.categorical(logits, 30_000, seed=5)
    assert s.dtype == tl.int64 and tuple(s.shape) == (2, 30_000)
    a = s.numpy()
    f0 = np.bincount(a[0], minlength=3) / a.shape[1]
    np.testing.assert_allclose(f0, [0.25, 0.75, 0.0], atol=0.015)
    f1 = np.bincount(a[1], minlength=3) / a.shape[1]
    np.testing.assert_allclose(f1, [1 / 3] * 3, atol=0.015)


# ----------------------------------------------------------------- seeds
def test_unseeded_calls_differ():
    assert not np.array_equal(tl.random.normal([8]).numpy(), tl.random.normal([8]).numpy())


def test_global_seed_replays_the_sequence():
    tl.random.set_seed(1234)
    a = [tl.random.normal([5]).numpy(), tl.random.uniform([3]).numpy(), tl.random.shuffle(tl.range(10)).numpy()]
    tl.random.set_seed(1234)
    b = [tl.random.normal([5]).numpy(), tl.random.uniform([3]).numpy(), tl.random.shuffle(tl.range(10)).numpy()]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], tl.random.normal([5]).numpy())


def test_different_global_seeds_differ():
    tl.random.set_seed(1)
    a = tl.random.normal([16]).numpy()
    tl.random.set_seed(2)
    b = tl.random.normal([16]).numpy()
    assert not np.array_equal(a, b)


def test_op_seed_is_independent_of_other_ops():
    tl.random.set_seed(7)
    a = tl.random.uniform([4], seed=3).numpy()
    tl.random.set_seed(7)
    tl.random.normal([100])  # another op in between does not disturb the seeded op
    b = tl.random.uniform([4], seed=3).numpy()
    np.testing.assert_array_equal(a, b)
    c = tl.random.uniform([4], seed=3).numpy()  # the op's own sequence moves on
    assert not np.array_equal(a, c)
    tl.random.set_seed(7)
    assert not np.array_equal(a, tl.random.uniform([4], seed=4).numpy())


def test_op_seed_without_global_seed_is_deterministic():
    tl.random.set_seed(None)
    a = tl.random.normal([4], seed=9).numpy()
    tl.random.set_seed(None)
    b = tl.random.normal([4], seed=9).numpy()
    np.testing.assert_array_equal(a, b)


def test_same_op_seed_with_other_global_seed_differs():
    tl.random.set_seed(1)
    a = tl.random.normal([6], seed=5).numpy()
    tl.random.set_seed(2)
    b = tl.random.normal([6], seed=5).numpy()
    assert not np.array_equal(a, b)


# ----------------------------------------------------------------- Generator
def test_generator_same_seed_same_numbers():
    g1, g2 = tl.random.Generator.from_seed(42), tl.random.Generator.from_seed(42)
    for method in ("normal", "uniform", "truncated_normal"):
        np.testing.assert_array_equal(getattr(g1, method)([3, 2]).numpy(), getattr(g2, method)([3, 2]).numpy())
    np.testing.assert_array_equal(g1.uniform([5], maxval=100, dtype=tl.int64).numpy(),
                                  g2.uniform([5], maxval=100, dtype=tl.int64).numpy())
    assert not np.array_equal(tl.random.Generator.from_seed(43).normal([6]).numpy(),
                              tl.random.Generator.from_seed(42).normal([6]).numpy())


def test_generator_state_advances_and_resets():
    g = tl.random.Generator.from_seed(5)
    a, b = g.normal([4]).numpy(), g.normal([4]).numpy()
    assert not np.array_equal(a, b)
    g.reset_from_seed(5)
    np.testing.assert_array_equal(g.normal([4]).numpy(), a)


def test_generator_split_and_make_seeds():
    g = tl.random.Generator.from_seed(3)
    kids = g.split(3)
    outs = [k.normal([4]).numpy() for k in kids]
    assert not np.array_equal(outs[0], outs[1]) and not np.array_equal(outs[1], outs[2])
    kids2 = tl.random.Generator.from_seed(3).split(3)
    np.testing.assert_array_equal(kids2[0].normal([4]).numpy(), outs[0])
    s = g.make_seeds(4)
    assert s.dtype == tl.int64 and tuple(s.shape) == (2, 4)


def test_non_deterministic_generators_differ():
    a = tl.random.Generator.from_non_deterministic_state().normal([8]).numpy()
    b = tl.random.Generator.from_non_deterministic_state().normal([8]).numpy()
    assert not np.array_equal(a, b)


def test_global_generator_follows_set_seed_and_can_be_replaced():
    tl.random.set_seed(99)
    a = tl.random.get_global_generator().normal([3]).numpy()
    tl.random.set_seed(99)
    np.testing.assert_array_equal(tl.random.get_global_generator().normal([3]).numpy(), a)
    mine = tl.random.Generator.from_seed(1)
    tl.random.set_global_generator(mine)
    assert tl.random.get_global_generator() is mine
    with pytest.raises(TypeError, match="set_global_generator"):
        tl.random.set_global_generator(42)


def test_random_ops_are_not_differentiable():
    x = tl.constant([1.0, 2.0])
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = tl.reduce_sum(tl.random.shuffle(x))
    assert tape.gradient(y, x) is None


def test_zero_sized_and_tensor_shape():
    assert tuple(tl.random.normal([0, 3]).shape) == (0, 3)
    assert tuple(tl.random.uniform(tl.constant([2, 3])).shape) == (2, 3)


# ----------------------------------------------------------------- errors
def test_error_uniform_int_without_maxval():
    with pytest.raises(ValueError, match="uniform: must specify maxval for integer dtype int32"):
        tl.random.uniform([3], dtype=tl.int32)


def test_error_uniform_int_empty_range():
    with pytest.raises(tl.errors.InvalidArgumentError, match="uniform.*minval=5 and maxval=5"):
        tl.random.uniform([3], minval=5, maxval=5, dtype=tl.int64)


def test_error_normal_integer_dtype():
    with pytest.raises(TypeError, match="normal: dtype must be a floating-point.*int32"):
        tl.random.normal([2], dtype=tl.int32)


def test_error_negative_shape():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"truncated_normal: shape \[2, -1\]"):
        tl.random.truncated_normal([2, -1])


def test_error_categorical_needs_2d_logits():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"categorical: logits must be 2-D.*\[3\]"):
        tl.random.categorical(tl.constant([0.0, 1.0, 2.0]), 4)


# ----------------------------------------------------------------- GPU
@pytest.mark.gpu
def test_gpu_random_on_device_reproducible_and_sane():
    with tl.device("gpu:0"):
        g = tl.random.Generator.from_seed(11)
        a = g.normal([N])
        assert "GPU" in a.device
        np.testing.assert_array_equal(tl.random.Generator.from_seed(11).normal([N]).numpy(), a.numpy())
        x = a.numpy()
        assert abs(x.mean()) < 0.02 and abs(x.std() - 1) < 0.02
        u = tl.random.uniform([N], minval=2, maxval=5, dtype=tl.int32).numpy()
        assert set(np.unique(u).tolist()) == {2, 3, 4}
        tn = tl.random.truncated_normal([1001]).numpy()
        assert np.abs(tn).max() <= 2
        s = tl.random.shuffle(tl.range(100)).numpy()
        assert sorted(s.tolist()) == list(range(100))
        y = tl.nn.dropout(tl.ones([1001]), 0.5).numpy()
        assert set(np.unique(y).tolist()) <= {0.0, 2.0}
        c = tl.random.categorical(tl.constant([[0.0, -np.inf]]), 50).numpy()
        assert np.all(c == 0)
