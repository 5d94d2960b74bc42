"""keras.random: Keras 3's seeding rules and the distributions' statistics."""
import numpy as np
import pytest

import tensorlab as tl
import tensorlab.keras.random as krandom

KERAS_RANDOM = ["SeedGenerator", "normal", "uniform", "truncated_normal", "randint", "dropout", "shuffle",
                "categorical", "gamma", "beta", "binomial"]


def test_names_match_keras_and_are_callable():
    assert sorted(krandom.__all__) == sorted(KERAS_RANDOM)
    assert all(callable(getattr(krandom, n)) for n in krandom.__all__)


@pytest.mark.parametrize("fn", [lambda s: krandom.normal((3, 4), seed=s), lambda s: krandom.uniform((3, 4), seed=s),
                                lambda s: krandom.truncated_normal((3, 4), seed=s),
                                lambda s: krandom.randint((3, 4), 0, 1000, seed=s)])
def test_int_seed_repeats_and_seed_generator_advances(fn, rng):
    seed = int(rng.integers(0, 2 ** 30))
    a, b = fn(seed).numpy(), fn(seed).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, fn(seed + 1).numpy())
    gen = krandom.SeedGenerator(seed)
    g1, g2 = fn(gen).numpy(), fn(gen).numpy()
    np.testing.assert_array_equal(g1, a)  # a generator's first draw uses the pair (seed, 0), as an int seed does
    assert not np.array_equal(g1, g2)
    gen2 = krandom.SeedGenerator(seed)
    np.testing.assert_array_equal(fn(gen2).numpy(), g1)
    np.testing.assert_array_equal(fn(gen2).numpy(), g2)
    assert not np.array_equal(fn(None).numpy(), fn(None).numpy())


def test_seed_none_follows_global_seed():
    tl.random.set_seed(123)
    a = krandom.normal((5,)).numpy()
    tl.random.set_seed(123)
    np.testing.assert_array_equal(krandom.normal((5,)).numpy(), a)


def test_seed_generator_state_and_config(rng):
    seed = int(rng.integers(0, 2 ** 30))
    gen = krandom.SeedGenerator(seed, name="g")
    np.testing.assert_array_equal(gen.next().numpy(), [seed, 0])
    np.testing.assert_array_equal(gen.next().numpy(), [seed, 1])
    assert gen.get_config() == {"seed": seed, "name": "g"}
    clone = krandom.SeedGenerator.from_config(gen.get_config())
    np.testing.assert_array_equal(clone.next().numpy(), [seed, 0])
    assert krandom.SeedGenerator().get_config()["seed"] is None


def test_distributions(rng):
    seed = int(rng.integers(0, 2 ** 30))
    n = krandom.normal((20000,), mean=3.0, stddev=2.0, dtype="float64", seed=seed).numpy()
    assert n.dtype == np.float64 and abs(n.mean() - 3.0) < 0.06 and abs(n.std() - 2.0) < 0.06
    u = krandom.uniform((20000,), minval=-2.0, maxval=5.0, seed=seed)
    assert u.dtype == tl.float32
    u = u.numpy()
    assert u.min() >= -2.0 and u.max() < 5.0 and abs(u.mean() - 1.5) < 0.08
    t = krandom.truncated_normal((20000,), mean=1.0, stddev=0.5, seed=seed).numpy()
    assert t.min() >= 0.0 and t.max() <= 2.0 and abs(t.mean() - 1.0) < 0.02
    r = krandom.randint((20000,), 3, 9, seed=seed)
    assert r.dtype == tl.int32
    assert set(np.unique(r.numpy())) == set(range(3, 9))
    assert krandom.randint((4,), 0, 5, dtype="int64", seed=seed).dtype == tl.int64


def test_dropout(rng):
    x = rng.uniform(1.0, 2.0, size=(200, 50))
    y = krandom.dropout(x, 0.3, seed=int(rng.integers(0, 2 ** 30))).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.7, rtol=1e-12)
    assert abs(kept.mean() - 0.7) < 0.02
    shared = krandom.dropout(x, 0.5, noise_shape=(None, 1), seed=1).numpy()
    assert np.all((shared != 0).all(1) | (shared == 0).all(1))
    np.testing.assert_array_equal(krandom.dropout(x, 0.0).numpy(), x)
    np.testing.assert_array_equal(krandom.dropout(x, 1.0).numpy(), np.zeros_like(x))


def test_shuffle(rng):
    x = rng.normal(size=(30, 4))
    y = krandom.shuffle(x, seed=int(rng.integers(0, 2 ** 30))).numpy()
    assert not np.array_equal(x, y)
    # whole rows move: the multiset of rows is unchanged
    np.testing.assert_array_equal(np.sort(y[:, 0]), np.sort(x[:, 0]))
    order = np.argsort(x[:, 0])[np.argsort(np.argsort(y[:, 0]))]
    np.testing.assert_array_equal(y, x[order])
    z = krandom.shuffle(x, axis=1, seed=3).numpy()
    np.testing.assert_array_equal(np.sort(z, 1), np.sort(x, 1))
    perm = [int(np.flatnonzero(x[0] == v)[0]) for v in z[0]]  # the same column order in every row
    np.testing.assert_array_equal(z, x[:, perm])


def test_categorical_frequencies(rng):
    probs = rng.dirichlet(np.ones(4), size=2)
    s = krandom.categorical(np.log(probs), 40000, seed=int(rng.integers(0, 2 ** 30)))
    assert s.dtype == tl.int32 and tuple(s.shape) == (2, 40000)
    freq = np.stack([np.bincount(row, minlength=4) / 40000 for row in s.numpy()])
    np.testing.assert_allclose(freq, probs, atol=0.015)
    assert krandom.categorical(np.log(probs), 3, dtype="int64", seed=1).dtype == tl.int64


def test_error_bad_arguments():
    with pytest.raises(ValueError, match="seed"):
        krandom.SeedGenerator("abc")
    with pytest.raises(ValueError, match="seed"):
        krandom.normal((2,), seed=1.5)
    with pytest.raises(ValueError, match="floating"):
        krandom.uniform((2,), dtype="int32", seed=1)
    with pytest.raises(ValueError, match="integer dtype"):
        krandom.randint((2,), 0, 4, dtype="float32", seed=1)
    with pytest.raises(ValueError, match="2-D"):
        krandom.categorical(np.zeros(3), 2, seed=1)
    with pytest.raises(ValueError, match="rate"):
        krandom.dropout(np.ones(3), 1.5)
    with pytest.raises(ValueError, match="axis"):
        krandom.shuffle(np.ones((2, 3)), axis=2)


def test_gamma_beta_binomial_moments_and_seeding():
    from tensorlab.keras import random as kr
    n = 40000
    g = kr.gamma((n,), 3.0, seed=1).numpy().astype("float64")
    b = kr.beta((n,), 2.0, 5.0, seed=2).numpy().astype("float64")
    k = kr.binomial((n,), 10, 0.3, seed=3).numpy().astype("float64")
    for x, mean, var in ((g, 3.0, 3.0), (b, 2 / 7, 2 * 5 / (49 * 8)), (k, 3.0, 2.1)):
        assert abs(x.mean() - mean) < 5 * (var / n) ** 0.5 and abs(x.var() - var) < 0.05 * var
    assert b.min() > 0 and b.max() < 1 and set(k.tolist()) <= set(range(11))
    assert kr.gamma((4,), 2.0, seed=7).numpy().tolist() == kr.gamma((4,), 2.0, seed=7).numpy().tolist()
    gen = kr.SeedGenerator(5)
    assert kr.beta((4,), 1.0, 1.0, seed=gen).numpy().tolist() != kr.beta((4,), 1.0, 1.0, seed=gen).numpy().tolist()
    assert kr.binomial((2,), 5, 0.5, dtype="float64").dtype.name == "float64"
