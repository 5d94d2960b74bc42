"""numpy implementations of the random-distribution primitives (ops/random_distributions.py).

``gen`` is the numpy ``Generator`` of backend/cpu/random_ops.py; the samplers call only methods
that CuPy's ``RandomState`` has with the same arguments, so the CUDA backend mirrors them.

``random_gamma_grad`` gives d x / d alpha = -(d P / d alpha) / p for standard gamma samples x,
with P(a, x) the regularized lower incomplete gamma function and p = dP/dx the density. As
Cephes' igam/igamc (and Eigen's ``gamma_sample_der_alpha``), P comes from its power series
where x <= max(1, a) and Q = 1 - P from Legendre's continued fraction elsewhere, each
differentiated in a along its recurrence. The prefactor x^a e^-x / Gamma(.) cancels against the
density, so only the digamma function is needed. Beyond alpha = 5e4 the series would need more
than ``_MAX_TERMS`` terms near the mode; there the Wilson-Hilferty approximation
P(a, x) ~ Phi(3 sqrt(a) ((x / a)^(1/3) - 1 + 1 / (9 a))) is differentiated instead (absolute error
below 1e-7, shrinking as a^-1.5).
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import random_distributions as R

_EPS = 2.220446049250313e-16  # float64 machine epsilon
_BIG, _BIGINV = 4.503599627370496e15, 2.220446049250313e-16  # Cephes' rescaling of the continued fraction
_MAX_TERMS = 2000  # as Eigen's float64 limit; the series near the mode needs about 9 sqrt(alpha) terms
_LARGE_ALPHA = 5e4
_CHECK_EVERY = 8  # convergence is checked every few terms (one reduction, one device sync on a GPU)


def _draw_dtype(nd):
    # The generators draw float32/float64 only; half types are drawn in float32.
    return nd if nd in (np.float32, np.float64) else np.dtype(np.float32)


@impl(R.random_gamma_p, "cpu")
def random_gamma(alpha, shape, gen):
    dd = _draw_dtype(alpha.dtype)
    return gen.standard_gamma(alpha.astype(dd), size=shape, dtype=dd).astype(alpha.dtype, copy=False)


@impl(R.random_poisson_p, "cpu")
def random_poisson(lam, shape, dtype, gen):
    return gen.poisson(lam.astype(np.float64), size=shape).astype(dtype.as_numpy_dtype)


@impl(R.random_binomial_p, "cpu")
def random_binomial(counts, probs, shape, dtype, gen):
    n = counts.astype(np.int64)
    return gen.binomial(n, probs.astype(np.float64), size=shape).astype(dtype.as_numpy_dtype)


def _digamma(a):
    """psi(a) for a > 0: psi(a) = psi(a + 1) - 1/a up to a >= 10, then the asymptotic series."""
    res = np.zeros_like(a)
    for _ in range(10):
        small = a < 10
        res = res - np.where(small, 1 / a, 0.0)
        a = np.where(small, a + 1, a)
    r = 1 / (a * a)
    return res + np.log(a) - 0.5 / a - r * (1 / 12 - r * (1 / 120 - r * (1 / 252 - r * (1 / 240 - r / 132))))


def _series_grad(a, x):
    """d x / d a from P = x^a e^-x / Gamma(a + 1) * S, S = sum_n x^n / ((a + 1) ... (a + n))."""
    c, dc = np.ones_like(a), np.zeros_like(a)  # the term and its derivative in a
    s, ds = np.ones_like(a), np.zeros_like(a)
    r = a
    for i in range(_MAX_TERMS):
        r = r + 1
        term = x / r
        dc = dc * term - c * term / r
        c = c * term
        s = s + c
        ds = ds + dc
        if i % _CHECK_EVERY == _CHECK_EVERY - 1 and \
                not np.any((c > _EPS * s) | (np.abs(dc) > _EPS * np.abs(ds))):
            break
    # p = x^a e^-x / Gamma(a + 1) * a / x
    return -(ds + s * (np.log(x) - _digamma(a + 1))) * x / a


def _continued_fraction_grad(a, x):
    """d x / d a from Q = 1 - P = x^a e^-x / Gamma(a) * F, F Legendre's continued fraction
    (its convergents p_k / q_k and their derivatives in a)."""
    y = 1 - a
    z = x + y + 1
    pkm2, qkm2, pkm1, qkm1 = np.ones_like(a), x, x + 1, z * x
    dpkm2, dqkm2, dpkm1, dqkm1 = np.zeros_like(a), np.zeros_like(a), np.zeros_like(a), -x
    f = pkm1 / qkm1
    df = (dpkm1 - f * dqkm1) / qkm1
    for i in range(_MAX_TERMS):
        c = i + 1.0
        y = y + 1
        z = z + 2
        yc = y * c
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        dpk = dpkm1 * z - pkm1 - dpkm2 * yc + pkm2 * c
        dqk = dqkm1 * z - qkm1 - dqkm2 * yc + qkm2 * c
        ok = qk != 0
        qs = np.where(ok, qk, 1.0)
        df_prev = df
        f = np.where(ok, pk / qs, f)
        df = np.where(ok, (dpk - f * dqk) / qs, df)
        scale = np.where(np.abs(pk) > _BIG, _BIGINV, 1.0)  # keeps p_k, q_k finite; their ratios are unchanged
        pkm2, pkm1, qkm2, qkm1 = pkm1 * scale, pk * scale, qkm1 * scale, qk * scale
        dpkm2, dpkm1, dqkm2, dqkm1 = dpkm1 * scale, dpk * scale, dqkm1 * scale, dqk * scale
        if i % _CHECK_EVERY == _CHECK_EVERY - 1 and not np.any(np.abs(df - df_prev) > _EPS * np.abs(df)):
            break
    # p = x^a e^-x / Gamma(a) / x
    return x * (df + f * (np.log(x) - _digamma(a)))


def _wilson_hilferty_grad(a, x):
    """d x / d a keeping z = 3 sqrt(a) ((x / a)^(1/3) - 1 + 1 / (9 a)) fixed: -(dz/da) / (dz/dx)."""
    r = np.cbrt(x / a)
    dz_da = (0.5 * r - 1.5) / np.sqrt(a) - a ** -1.5 / 6
    dz_dx = np.sqrt(a) * r / x
    return -dz_da / dz_dx


@impl(R.random_gamma_grad_p, "cpu")
def random_gamma_grad(alpha, x):
    a, s = np.broadcast_arrays(alpha.astype(np.float64), x.astype(np.float64))
    out_shape = a.shape
    a, s = a.ravel(), s.ravel()
    out = np.zeros(a.shape, np.float64)  # x = 0 (an underflowed sample) or x = inf: no sensitivity
    inside = (a > 0) & (s > 0) & (s < np.inf)
    large = inside & (a >= _LARGE_ALPHA)
    cf = inside & ~large & (s > 1) & (s > a)
    series = inside & ~large & ~cf
    for where, fn in ((series, _series_grad), (cf, _continued_fraction_grad), (large, _wilson_hilferty_grad)):
        if where.any():
            out[where] = fn(a[where], s[where])
    out[~(a > 0)] = np.nan
    return out.reshape(out_shape).astype(x.dtype)
