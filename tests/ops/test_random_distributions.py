"""tl.random's gamma, Poisson and binomial samplers, their stateless versions, stateless_categorical,
tl.random.experimental (stateless_split / fold_in / shuffle) and the Generator's binomial,
uniform_full_int and state methods: distributions against exact CDFs (numpy, no scipy), seeds and
reproducibility, shapes, dtypes, gamma's implicit-reparameterization gradients, errors, GPU.

Tolerances come from the sample size: moments within 5 standard errors; CDF distances within the
Dvoretzky-Kiefer-Wolfowitz bound sqrt(log(2 / p) / (2 n)) for p = 1e-6 (the seeds are fixed).
"""
import math

import numpy as np
import pytest

import tensorlab as tl
from tensorlab.ops.random_distributions import random_gamma_grad_p

IAE = tl.errors.InvalidArgumentError
N = 20_000


def _dkw(n, p=1e-6):
    return math.sqrt(math.log(2 / p) / (2 * n))


@pytest.fixture(autouse=True)
def _no_global_seed():
    tl.random.set_seed(None)
    yield
    tl.random.set_seed(None)


# ----------------------------------------------------------------- exact references (numpy + math)
def _gamma_p_q(a, x):
    """(P, Q) = regularized lower / upper incomplete gamma at scalar a, array x > 0: the power series
    for x < a + 1, the continued fraction (modified Lentz) otherwise (each accurate where it is used)."""
    x = np.asarray(x, np.float64)
    p = np.empty_like(x)
    lo = x < a + 1
    xs = x[lo]
    term = np.full_like(xs, 1 / a)
    total = term.copy()
    for n in range(1, 3000):
        term = term * xs / (a + n)
        total += term
    p[lo] = total * np.exp(a * np.log(xs) - xs - math.lgamma(a))
    xc = x[~lo]
    b = xc + 1 - a
    tiny = 1e-300
    c, d = np.full_like(xc, 1 / tiny), 1 / b
    h = d.copy()
    for i in range(1, 3000):
        an = -i * (i - a)
        b = b + 2
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1 / d
        h = h * d * c
    q = np.exp(a * np.log(xc) - xc - math.lgamma(a)) * h
    p[~lo] = 1 - q
    qq = 1 - p
    qq[~lo] = q
    return p, qq


def _gamma_pdf(a, x):
    return np.exp((a - 1) * np.log(x) - x - math.lgamma(a))


def _dx_dalpha(a, x, rel=1e-5):
    """d x / d alpha of a standard gamma sample by its definition: -(dP/d alpha) / pdf, dP/d alpha by
    central differences of the exact CDF (of Q = 1 - P where P is near 1, to keep the digits)."""
    x = np.asarray(x, np.float64)
    h = rel * a
    (p1, q1), (p0, q0) = _gamma_p_q(a + h, x), _gamma_p_q(a - h, x)
    dp = np.where(p1 < 0.5, p1 - p0, q0 - q1) / (2 * h)
    return -dp / _gamma_pdf(a, x)


def _discrete_cdf(pmf):
    return np.cumsum(pmf)


def _poisson_pmf(lam, kmax):
    k = np.arange(kmax + 1)
    return np.exp(k * math.log(lam) - lam - np.array([math.lgamma(i + 1) for i in k]))


def _binomial_pmf(n, p, kmax=None):
    return np.array([math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(n + 1)])


def _check_discrete(samples, pmf, name):
    """Mean/variance within 5 standard errors and the CDF within the DKW bound of the exact pmf's."""
    n = samples.size
    k = np.arange(len(pmf))
    mean = (k * pmf).sum()
    var = ((k - mean) ** 2 * pmf).sum()
    mu4 = ((k - mean) ** 4 * pmf).sum()
    s = samples.astype(np.float64)
    assert abs(s.mean() - mean) < 5 * math.sqrt(var / n), name
    assert abs(s.var() - var) < 5 * math.sqrt((mu4 - var ** 2) / n), name
    emp = np.cumsum(np.bincount(samples.astype(np.int64), minlength=len(pmf))[:len(pmf)]) / n
    assert np.max(np.abs(emp - _discrete_cdf(pmf))) < _dkw(n), name


def test_reference_incomplete_gamma_is_right():
    # The reference itself: P(1, x) = 1 - exp(-x), P(2, x) = 1 - (1 + x) exp(-x), and P + Q = 1.
    x = np.array([0.01, 0.5, 1.5, 2.9, 3.1, 10.0, 40.0])
    p, q = _gamma_p_q(1.0, x)
    np.testing.assert_allclose(p, -np.expm1(-x), rtol=1e-12)
    np.testing.assert_allclose(q, np.exp(-x), rtol=1e-12)
    p, q = _gamma_p_q(2.0, x)
    np.testing.assert_allclose(q, (1 + x) * np.exp(-x), rtol=1e-12)
    # d x / d alpha at alpha = 1 in closed form: dP/da = (1 - e^-x)(log x + euler_gamma) - Ein(x),
    # Ein(x) = sum_k (-1)^(k+1) x^k / (k k!), and the density is e^-x.
    xs = x[:4]
    ein = sum((-1) ** (k + 1) * xs ** k / (k * math.factorial(k)) for k in range(1, 60))
    dp = -np.expm1(-xs) * (np.log(xs) + np.euler_gamma) - ein
    np.testing.assert_allclose(_dx_dalpha(1.0, xs), -dp / np.exp(-xs), rtol=1e-7)


# ----------------------------------------------------------------- gamma: distribution
@pytest.mark.parametrize("dtype", [tl.float32, tl.float64, tl.float16])
def test_gamma_moments_and_cdf(dtype):
    alphas, beta = [0.3, 1.0, 4.5], 2.5
    x = tl.random.gamma([N], alphas, beta=beta, dtype=dtype, seed=11)
    assert x.dtype == dtype and tuple(x.shape) == (N, 3)
    s = x.numpy().astype(np.float64)
    tol = _dkw(N) + (2e-3 if dtype == tl.float16 else 0)  # float16 rounds the samples
    for j, a in enumerate(alphas):
        col = s[:, j]
        mean, var = a / beta, a / beta ** 2
        assert abs(col.mean() - mean) < 5 * math.sqrt(var / N)
        assert abs(col.var() - var) < 5 * var * math.sqrt((2 + 6 / a) / N)
        # The empirical CDF at the sample quantiles (ties and floored draws included) against the exact one.
        xs = np.sort(col)
        q = np.unique(np.quantile(xs, np.linspace(0.001, 0.999, 400)))
        emp = np.searchsorted(xs, q, side="right") / N
        assert np.max(np.abs(emp - _gamma_p_q(a, q * beta)[0])) < tol


def test_gamma_shapes_and_broadcasting():
    assert tuple(tl.random.gamma([10], [0.5, 1.5]).shape) == (10, 2)
    assert tuple(tl.random.gamma([7, 5], [0.5, 1.5]).shape) == (7, 5, 2)
    assert tuple(tl.random.gamma([30], [[1.0], [3.0], [5.0]], beta=[[3.0, 4.0]]).shape) == (30, 3, 2)
    assert tuple(tl.random.gamma(tl.constant([2, 3]), 2.0).shape) == (2, 3)
    assert tuple(tl.random.gamma([0, 3], 1.0).shape) == (0, 3)
    # Each column follows its own (alpha, beta): means alpha / beta.
    x = tl.random.gamma([N], [[1.0], [6.0]], beta=[[1.0, 4.0]], dtype=tl.float64, seed=2).numpy()
    np.testing.assert_allclose(x.mean(axis=0), [[1.0, 0.25], [6.0, 1.5]], rtol=0.05)


def test_gamma_tiny_alpha_is_floored_at_smallest_normal():
    x = tl.random.gamma([N], 0.01, seed=4).numpy()
    assert x.min() >= np.finfo(np.float32).tiny and np.all(np.isfinite(np.log(x)))
    assert np.mean(x == np.finfo(np.float32).tiny) > 0.1  # most draws underflow float32 at alpha = 0.01


def test_stateless_gamma_shape_is_the_output_shape():
    x = tl.random.stateless_gamma([N, 2], seed=[1, 2], alpha=[0.5, 3.0], beta=2.0, dtype=tl.float64)
    assert tuple(x.shape) == (N, 2) and x.dtype == tl.float64
    np.testing.assert_allclose(x.numpy().mean(axis=0), [0.25, 1.5], rtol=0.05)
    assert tuple(tl.random.stateless_gamma([4, 3, 2], [5, 6], alpha=[[1.0], [2.0], [3.0]]).shape) == (4, 3, 2)
    with pytest.raises(IAE, match=r"stateless_gamma: alpha of shape \[3\] does not broadcast to the rightmost "
                                  r"dimensions of the output shape \[4,2\]"):
        tl.random.stateless_gamma([4, 2], [1, 2], alpha=[1.0, 2.0, 3.0])
    with pytest.raises(IAE, match=r"stateless_gamma: broadcast\(alpha, beta\) of shape \[3,2\]"):
        tl.random.stateless_gamma([4, 2], [1, 2], alpha=[[1.0], [2.0], [3.0]], beta=[1.0, 2.0])


# ----------------------------------------------------------------- gamma: gradients
def test_random_gamma_grad_matches_the_cdf_definition():
    a = np.array([0.01, 0.1, 0.5, 0.5, 1.0, 1.0, 2.0, 3.0, 3.0, 10.0, 10.0, 50.0, 300.0, 300.0])
    x = np.array([1e-3, 0.05, 0.3, 7.0, 1.0, 20.0, 2.0, 0.01, 3.5, 5.0, 30.0, 49.0, 280.0, 330.0])
    got = random_gamma_grad_p(tl.constant(a), tl.constant(x)).numpy()
    ref = np.array([_dx_dalpha(ai, [xi])[0] for ai, xi in zip(a, x)])
    np.testing.assert_allclose(got, ref, rtol=2e-6)
    got32 = random_gamma_grad_p(tl.constant(a, tl.float32), tl.constant(x, tl.float32))
    assert got32.dtype == tl.float32
    np.testing.assert_allclose(got32.numpy(), ref, rtol=1e-4)


def test_random_gamma_grad_for_large_alpha():
    # From alpha = 5e4 on, a Wilson-Hilferty formula takes over from the series and continued fraction:
    # it agrees with them at the switch, and the gradients stay unbiased (d E[x] / d alpha = 1) beyond.
    z = np.array([-4.0, -1.0, 0.0, 1.0, 4.0])
    lo, hi = 5e4 * (1 - 1e-12), 5e4
    below = random_gamma_grad_p(tl.constant(np.full(5, lo)), tl.constant(lo + z * math.sqrt(lo))).numpy()
    above = random_gamma_grad_p(tl.constant(np.full(5, hi)), tl.constant(hi + z * math.sqrt(hi))).numpy()
    np.testing.assert_allclose(below, above, atol=1e-7)
    alpha = tl.constant(np.full(N, 1e6))
    with tl.GradientTape() as tape:
        tape.watch(alpha)
        x = tl.random.gamma([1], alpha, dtype=tl.float64, seed=2)
    g = tape.gradient(x, alpha).numpy()
    assert abs(g.mean() - 1) < 5 * g.std() / math.sqrt(N)


def test_gamma_sample_gradients_follow_the_implicit_definition():
    alpha = tl.Variable([0.2, 0.7, 1.0, 2.5, 9.0, 40.0], dtype=tl.float64)
    beta = tl.Variable([1.0, 0.5, 3.0, 2.0, 1.5, 4.0], dtype=tl.float64)
    with tl.GradientTape() as tape:
        x = tl.random.gamma([1], alpha, beta, dtype=tl.float64, seed=8)
        y = tl.reduce_sum(x)
    ga, gb = tape.gradient(y, [alpha, beta])
    xs, a, b = x.numpy()[0], alpha.numpy(), beta.numpy()
    # x = X / beta with X a standard gamma sample: dx/dalpha = (dX/dalpha) / beta, dx/dbeta = -x / beta.
    ref = np.array([_dx_dalpha(ai, [xi * bi])[0] / bi for ai, xi, bi in zip(a, xs, b)])
    np.testing.assert_allclose(ga.numpy(), ref, rtol=1e-6)
    np.testing.assert_allclose(gb.numpy(), -xs / b, rtol=1e-12)


def test_gamma_gradients_are_unbiased():
    # d/dalpha E[x] = 1 / beta and d/dbeta E[x] = -alpha / beta**2: the mean pathwise gradient of
    # N independent samples (one alpha entry each, so the tape gives per-sample gradients) matches.
    alpha, beta = tl.fill([N], 0.4), tl.fill([N], 2.0)
    with tl.GradientTape() as tape:
        tape.watch([alpha, beta])
        x = tl.random.gamma([1], alpha, beta, seed=21)
    ga, gb = (g.numpy().astype(np.float64) for g in tape.gradient(x, [alpha, beta]))
    assert abs(ga.mean() - 1 / 2.0) < 5 * ga.std() / math.sqrt(N)
    assert abs(gb.mean() + 0.4 / 2.0 ** 2) < 5 * gb.std() / math.sqrt(N)


def test_stateless_gamma_gradient_sums_over_the_sample_dimensions():
    alpha = tl.Variable([1.5, 4.0])
    with tl.GradientTape() as tape:
        x = tl.random.stateless_gamma([N, 2], seed=[3, 4], alpha=alpha)
    g = tape.gradient(x, alpha)
    assert tuple(g.shape) == (2,)
    np.testing.assert_allclose(g.numpy() / N, [1.0, 1.0], atol=0.05)  # d E[x] / d alpha = 1
    a1 = tl.Variable([2.0])
    with tl.GradientTape() as tape:
        x = tl.random.stateless_gamma([N, 3], seed=[3, 5], alpha=a1)  # broadcast over 3 columns
    assert tuple(tape.gradient(x, a1).shape) == (1,)


def test_poisson_binomial_and_gamma_grad_are_not_differentiable():
    lam = tl.constant([2.0])
    with tl.GradientTape(persistent=True) as tape:
        tape.watch(lam)
        y = tl.reduce_sum(tl.random.poisson([3], lam))
        z = tl.reduce_sum(tl.random.stateless_binomial([3], [1, 2], counts=5.0, probs=lam / 4))
    assert tape.gradient(y, lam) is None and tape.gradient(z, lam) is None
    from tensorlab.core.registry import NOT_DIFFERENTIABLE
    assert random_gamma_grad_p.grad is NOT_DIFFERENTIABLE  # as TF: first derivatives only


# ----------------------------------------------------------------- poisson
@pytest.mark.parametrize("dtype", [tl.float32, tl.int32, tl.int64, tl.float16])
def test_poisson_distribution(dtype):
    lams = [0.5, 4.0, 30.0]
    x = tl.random.poisson([N], lams, dtype=dtype, seed=5)
    assert x.dtype == dtype and tuple(x.shape) == (N, 3)
    s = x.numpy()
    for j, lam in enumerate(lams):
        _check_discrete(s[:, j], _poisson_pmf(lam, int(lam + 20 * math.sqrt(lam) + 20)), f"lam={lam}")


def test_poisson_integer_rates_and_zero():
    x = tl.random.poisson([5, 2], tl.constant([0, 3]), seed=1)
    assert tuple(x.shape) == (5, 2, 2) and x.dtype == tl.float32
    assert np.all(x.numpy()[..., 0] == 0)


def test_stateless_poisson():
    x = tl.random.stateless_poisson([N, 2], seed=[5, 6], lam=[1.0, 7.0])
    assert x.dtype == tl.int32 and tuple(x.shape) == (N, 2)
    for j, lam in enumerate([1.0, 7.0]):
        _check_discrete(x.numpy()[:, j], _poisson_pmf(lam, 60), f"lam={lam}")
    np.testing.assert_array_equal(x.numpy(), tl.random.stateless_poisson([N, 2], [5, 6], [1.0, 7.0]).numpy())
    with pytest.raises(IAE, match=r"stateless_poisson: lam of shape \[2\] does not broadcast .* \[4,3\]"):
        tl.random.stateless_poisson([4, 3], [5, 6], lam=[1.0, 2.0])


# ----------------------------------------------------------------- binomial
@pytest.mark.parametrize("dtype", [tl.int32, tl.int64, tl.float32])
def test_stateless_binomial_distribution(dtype):
    x = tl.random.stateless_binomial([N, 2], seed=[7, 8], counts=[5.0, 40.0], probs=[0.2, 0.7], output_dtype=dtype)
    assert x.dtype == dtype and tuple(x.shape) == (N, 2)
    s = x.numpy()
    _check_discrete(s[:, 0], _binomial_pmf(5, 0.2), "n=5")
    _check_discrete(s[:, 1], _binomial_pmf(40, 0.7), "n=40")


def test_binomial_broadcasting_integer_counts_and_edges():
    x = tl.random.stateless_binomial([3, 4], [1, 1], counts=[[0.0], [7.0], [7.0]], probs=[[0.5], [0.0], [1.0]])
    np.testing.assert_array_equal(x.numpy(), [[0] * 4, [0] * 4, [7] * 4])
    g = tl.random.Generator.from_seed(3)
    y = g.binomial([50], counts=tl.constant([12], tl.int64), probs=tl.constant([1], tl.int64))
    assert y.dtype == tl.int32 and np.all(y.numpy() == 12)
    z = tl.random.Generator.from_seed(3).binomial([N], counts=12, probs=0.25, dtype=tl.int64)
    assert z.dtype == tl.int64
    _check_discrete(z.numpy(), _binomial_pmf(12, 0.25), "generator")
    with pytest.raises(IAE, match=r"binomial: broadcast\(counts, probs\) of shape \[3\] does not broadcast"):
        g.binomial([4, 2], counts=[1.0, 2.0, 3.0], probs=0.5)


# ----------------------------------------------------------------- seeds and reproducibility
_STATEFUL = {
    "gamma": lambda seed=None: tl.random.gamma([6], [0.5, 2.0], seed=seed),
    "poisson": lambda seed=None: tl.random.poisson([6], [0.5, 20.0], seed=seed),
}
_STATELESS = {
    "stateless_gamma": lambda s: tl.random.stateless_gamma([6, 2], s, alpha=[0.5, 2.0]),
    "stateless_poisson": lambda s: tl.random.stateless_poisson([6, 2], s, lam=[0.5, 20.0]),
    "stateless_binomial": lambda s: tl.random.stateless_binomial([6, 2], s, counts=[9.0, 100.0], probs=0.5),
    "stateless_categorical": lambda s: tl.random.stateless_categorical(tl.zeros([2, 50]), 8, s),
    "stateless_shuffle": lambda s: tl.random.experimental.stateless_shuffle(tl.range(20), s),
    "stateless_uniform_full_int": lambda s: tl.random.stateless_uniform([6], s, minval=None, maxval=None,
                                                                        dtype=tl.int64),
}


@pytest.mark.parametrize("name", sorted(_STATEFUL))
def test_global_and_op_seeds_replay(name):
    fn = _STATEFUL[name]
    tl.random.set_seed(1234)
    a, b = fn().numpy(), fn(seed=3).numpy()
    tl.random.set_seed(1234)
    np.testing.assert_array_equal(fn().numpy(), a)
    tl.random.set_seed(1234)
    tl.random.normal([100])  # another op in between does not move the op-seeded stream
    np.testing.assert_array_equal(fn(seed=3).numpy(), b)
    assert not np.array_equal(fn(seed=3).numpy(), b)  # the op's own stream moves on
    tl.random.set_seed(99)
    assert not np.array_equal(fn(seed=3).numpy(), b)


@pytest.mark.parametrize("name", sorted(_STATELESS))
def test_stateless_same_seed_same_draws(name):
    fn = _STATELESS[name]
    a = fn([11, 12]).numpy()
    tl.random.set_seed(5)
    tl.random.uniform([10])
    np.testing.assert_array_equal(fn(tl.constant([11, 12], tl.int64)).numpy(), a)
    np.testing.assert_array_equal(fn([11, 12]).numpy(), a)
    assert not np.array_equal(fn([11, 13]).numpy(), a)


def test_stateless_categorical_frequencies_and_dtype():
    logits = tl.math.log(tl.constant([[0.25, 0.75, 0.0], [1 / 3, 1 / 3, 1 / 3]]))
    s = tl.random.stateless_categorical(logits, N, seed=[1, 9], dtype=tl.int32)
    assert s.dtype == tl.int32 and tuple(s.shape) == (2, N)
    se = 5 * math.sqrt(0.25 * 0.75 / N)
    np.testing.assert_allclose(np.bincount(s.numpy()[0], minlength=3) / N, [0.25, 0.75, 0.0], atol=se)
    np.testing.assert_allclose(np.bincount(s.numpy()[1], minlength=3) / N, [1 / 3] * 3, atol=se)


# ----------------------------------------------------------------- full-range integers, experimental
@pytest.mark.parametrize("dtype", [tl.int32, tl.int64])
def test_full_range_integers(dtype):
    info = np.iinfo(dtype.as_numpy_dtype)
    x = tl.random.Generator.from_seed(2).uniform_full_int([N], dtype).numpy()
    assert x.dtype == info.dtype
    # Uniform over the range: about half negative, each quarter of the range about a quarter of the draws.
    quarters = np.histogram(x.astype(np.float64), bins=4, range=(float(info.min), float(info.max)))[0] / N
    np.testing.assert_allclose(quarters, 0.25, atol=5 * math.sqrt(0.25 * 0.75 / N))
    y = tl.random.stateless_uniform([N], [1, 2], minval=None, maxval=None, dtype=dtype).numpy()
    assert y.dtype == info.dtype and np.abs(y.astype(np.float64)).max() > 0.99 * float(info.max)
    z = tl.random.Generator.from_seed(2).uniform([5], minval=None, maxval=None, dtype=dtype).numpy()
    np.testing.assert_array_equal(z, x[:5])


def test_make_seeds_are_full_int64():
    s = tl.random.Generator.from_seed(7).make_seeds(500)
    assert s.dtype == tl.int64 and tuple(s.shape) == (2, 500)
    assert np.abs(s.numpy()).max() > 2 ** 40


def test_stateless_split_and_fold_in():
    seeds = tl.random.experimental.stateless_split([1, 2], num=3)
    assert seeds.dtype == tl.int32 and tuple(seeds.shape) == (3, 2)
    np.testing.assert_array_equal(tl.random.experimental.stateless_split([1, 2], 3).numpy(), seeds.numpy())
    assert len({tuple(r) for r in seeds.numpy().tolist()}) == 3
    s64 = tl.random.experimental.stateless_split(tl.constant([1, 2], tl.int64))
    assert s64.dtype == tl.int64 and tuple(s64.shape) == (2, 2)
    draws = [tl.random.stateless_normal([4], seed=r).numpy() for r in seeds]
    assert not np.array_equal(draws[0], draws[1])
    f7 = tl.random.experimental.stateless_fold_in([1, 2], 7)
    assert f7.dtype == tl.int32 and tuple(f7.shape) == (2,) and f7.numpy()[1] == 7
    np.testing.assert_array_equal(tl.random.experimental.stateless_fold_in([1, 2], 7).numpy(), f7.numpy())
    f8 = tl.random.experimental.stateless_fold_in([1, 2], tl.constant(8, tl.int64))
    assert f8.dtype == tl.int64
    assert not np.array_equal(tl.random.stateless_uniform([3], f7).numpy(), tl.random.stateless_uniform([3], f8).numpy())
    assert not np.array_equal(tl.random.experimental.stateless_fold_in([1, 3], 7).numpy(), f7.numpy())


def test_stateless_shuffle_is_a_permutation():
    x = tl.random.experimental.stateless_shuffle(tl.range(100), seed=[4, 2]).numpy()
    assert sorted(x.tolist()) == list(range(100)) and x.tolist() != list(range(100))
    assert tl.random.experimental.Generator is tl.random.Generator


def test_generator_state_methods():
    G = tl.random.Generator
    a = G.from_state([1, 2, 3]).normal([4]).numpy()
    np.testing.assert_array_equal(G.from_state(tl.constant([1, 2, 3], tl.int64)).normal([4]).numpy(), a)
    np.testing.assert_array_equal(G.from_key_counter(3, [1, 2]).normal([4]).numpy(), a)
    g = G.from_seed(9)
    g.reset([1, 2, 3])
    np.testing.assert_array_equal(g.normal([4]).numpy(), a)
    g.reset_from_key_counter(3, tl.constant([1, 2]))
    np.testing.assert_array_equal(g.normal([4]).numpy(), a)
    assert not np.array_equal(G.from_state([1, 2, 4]).normal([4]).numpy(), a)


# ----------------------------------------------------------------- dtypes and errors
def test_error_dtypes():
    with pytest.raises(TypeError, match=r"gamma: dtype must be a floating-point type.*got int32"):
        tl.random.gamma([2], 1.0, dtype=tl.int32)
    with pytest.raises(TypeError, match=r"gamma: alpha has dtype float64 but the op's dtype is float32"):
        tl.random.gamma([2], tl.constant([1.0], tl.float64))
    with pytest.raises(TypeError, match=r"stateless_gamma: beta has dtype float32 but the op's dtype is float64"):
        tl.random.stateless_gamma([2], [1, 2], alpha=1.0, beta=tl.constant(1.0), dtype=tl.float64)
    with pytest.raises(TypeError, match=r"poisson: dtype bool is not supported; valid dtypes: float16, float32, "
                                        r"float64, int32, int64"):
        tl.random.poisson([2], 1.0, dtype=tl.bool)
    with pytest.raises(TypeError, match=r"stateless_poisson: lam must be a float or int32/int64 tensor, got dtype "
                                        r"bool"):
        tl.random.stateless_poisson([2], [1, 2], lam=tl.constant([True]))
    with pytest.raises(TypeError, match=r"stateless_binomial: counts \(dtype int32\) and probs \(dtype float32\) "
                                        r"must have one dtype"):
        tl.random.stateless_binomial([2], [1, 2], counts=tl.constant([3]), probs=tl.constant([0.5]))
    with pytest.raises(TypeError, match=r"uniform_full_int: dtype must be int32 or int64, got float32"):
        tl.random.Generator.from_seed(1).uniform_full_int([2], tl.float32)
    with pytest.raises(TypeError, match=r"stateless_fold_in: data must be an int32 or int64 tensor, got dtype "
                                        r"float32"):
        tl.random.experimental.stateless_fold_in([1, 2], 1.5)


def test_error_values():
    with pytest.raises(IAE, match=r"gamma: alpha must be > 0; got 2 invalid value\(s\), e.g. \[-1.0, 0.0\] "
                                  r"\(shape \[3\], dtype float32\)"):
        tl.random.gamma([2], [-1.0, 0.0, 1.0])
    with pytest.raises(IAE, match=r"stateless_gamma: beta must be > 0; got 1 invalid value\(s\), e.g. \[nan\]"):
        tl.random.stateless_gamma([2], [1, 2], alpha=1.0, beta=float("nan"))
    with pytest.raises(IAE, match=r"poisson: lam must be finite and >= 0; .*\[-0.5\]"):
        tl.random.poisson([2], [1.0, -0.5])
    with pytest.raises(IAE, match=r"stateless_poisson: lam must be finite and >= 0; .*\[inf\]"):
        tl.random.stateless_poisson([2], [1, 2], lam=float("inf"))
    with pytest.raises(IAE, match=r"stateless_binomial: counts must be whole numbers in \[0, 2\*\*31\); .*"
                                  r"\[2.5, -1.0\]"):
        tl.random.stateless_binomial([3], [1, 2], counts=[2.5, -1.0, 3.0], probs=0.5)
    with pytest.raises(IAE, match=r"binomial: counts must be whole numbers in \[0, 2\*\*31\); .*\[2147483648.0\]"):
        tl.random.Generator.from_seed(1).binomial([2], counts=[2.0 ** 31], probs=0.5)
    with pytest.raises(IAE, match=r"binomial: probs must be in \[0, 1\]; .*\[1.5\]"):
        tl.random.Generator.from_seed(1).binomial([2], counts=3.0, probs=[0.5, 1.5])
    with pytest.raises(IAE, match=r"gamma: shape \[2, -1\] has a negative dimension"):
        tl.random.gamma([2, -1], 1.0)
    with pytest.raises(IAE, match=r"stateless_gamma: seed must have shape \[2\], got \[3\]"):
        tl.random.stateless_gamma([2], [1, 2, 3], alpha=1.0)
    with pytest.raises(IAE, match=r"gamma: Incompatible shapes: \[2\] vs. \[3\]"):
        tl.random.gamma([2], [1.0, 2.0], beta=[1.0, 2.0, 3.0])
    with pytest.raises(IAE, match=r"categorical: logits must be 2-D"):
        tl.random.stateless_categorical(tl.zeros([3]), 2, seed=[1, 2])
    with pytest.raises(IAE, match=r"stateless_fold_in: data must be a scalar, got shape \[2\]"):
        tl.random.experimental.stateless_fold_in([1, 2], [1, 2])


def test_error_full_range_needs_both_bounds_none():
    with pytest.raises(ValueError, match=r"stateless_uniform: for integer dtype int64, give both minval and maxval, "
                                         r"or neither \(the dtype's full range\); got minval=None and maxval=5"):
        tl.random.stateless_uniform([2], [1, 2], minval=None, maxval=5, dtype=tl.int64)
    with pytest.raises(ValueError, match=r"uniform: for integer dtype int32, give both minval and maxval, or neither"):
        tl.random.Generator.from_seed(1).uniform([2], minval=None, maxval=5, dtype=tl.int32)
    with pytest.raises(ValueError, match="uniform: must specify maxval for integer dtype int32"):
        tl.random.uniform([3], dtype=tl.int32)  # tf.random.uniform has no full range


# ----------------------------------------------------------------- GPU
@pytest.mark.gpu
def test_gpu_distributions_on_device_reproducible_and_sane():
    with tl.device("gpu:0"):
        alpha = tl.constant([0.5, 3.0])
        with tl.GradientTape() as tape:
            tape.watch(alpha)
            x = tl.random.gamma([N], alpha, beta=2.0, seed=3)
        assert "GPU" in x.device
        g = tape.gradient(x, alpha)
        assert "GPU" in g.device
        np.testing.assert_allclose(g.numpy() / N, [0.5, 0.5], atol=0.03)  # d E[x] / d alpha = 1 / beta
        s = x.numpy().astype(np.float64)
        np.testing.assert_allclose(s.mean(axis=0), [0.25, 1.5], rtol=0.05)
        a = tl.random.stateless_gamma([N, 2], [1, 2], alpha=alpha).numpy()
        np.testing.assert_array_equal(tl.random.stateless_gamma([N, 2], [1, 2], alpha=alpha).numpy(), a)
        p = tl.random.poisson([N], [0.5, 30.0], dtype=tl.int32, seed=1)
        assert "GPU" in p.device and p.dtype == tl.int32
        np.testing.assert_allclose(p.numpy().mean(axis=0), [0.5, 30.0], rtol=0.05)
        b = tl.random.stateless_binomial([N, 2], [3, 4], counts=[5.0, 40.0], probs=[0.2, 0.7])
        assert "GPU" in b.device
        np.testing.assert_allclose(b.numpy().mean(axis=0), [1.0, 28.0], rtol=0.05)
        f = tl.random.Generator.from_seed(5).uniform_full_int([N]).numpy()
        assert f.dtype == np.int64 and f.min() < -2 ** 62 and f.max() > 2 ** 62
        f32 = tl.random.stateless_uniform([N], [1, 2], minval=None, maxval=None, dtype=tl.int32).numpy()
        assert f32.min() < -2 ** 30 and f32.max() > 2 ** 30
        sp = tl.random.experimental.stateless_split([1, 2], 3)
        assert "GPU" in sp.device and tuple(sp.shape) == (3, 2)
        c = tl.random.stateless_categorical(tl.constant([[0.0, -np.inf]]), 20, seed=[1, 2]).numpy()
        assert np.all(c == 0)
        # The mirrored gamma-gradient kernel agrees with the CPU one.
        av, xv = np.array([0.3, 2.0, 40.0]), np.array([0.1, 5.0, 39.0])
        gpu = random_gamma_grad_p(tl.constant(av), tl.constant(xv)).numpy()
    with tl.device("cpu"):
        cpu = random_gamma_grad_p(tl.constant(av), tl.constant(xv)).numpy()
    np.testing.assert_allclose(gpu, cpu, rtol=1e-12)
