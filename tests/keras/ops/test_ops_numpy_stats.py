"""keras.ops statistics, NaN-ignoring reductions and windows (numpy_stats.py, numpy_nan.py,
numpy_windows.py) against numpy: values over axes/keepdims/methods in float64 and float32, result
dtypes against the real Keras 3, gradients against finite differences, errors, symbolic inputs,
GPU vs CPU."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import ops
from tests.keras.ops.helpers import check
from tests.keras.ops.numpy_checks import check_dtypes_match_keras, check_gpu_matches_cpu, check_gradient

AXES = [None, 0, -1, (0, 2)]
METHODS = ["linear", "lower", "higher", "midpoint", "nearest"]


def with_nans(rng, shape=(3, 4, 5)):
    x = rng.uniform(-3, 3, size=shape)
    x[rng.random(shape) < 0.25] = np.nan
    x[0, 0, :] = np.nan  # a slice that is all NaN along the last axis
    return x


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_quantile_percentile_median(axis, keepdims, rng):
    x = rng.uniform(-3, 3, size=(3, 4, 5))
    for method in METHODS:
        q = [0.0, 0.1, 0.5, 0.93, 1.0]
        check(ops.quantile(x, q, axis=axis, method=method, keepdims=keepdims),
              np.quantile(x, q, axis=axis, method=method, keepdims=keepdims))
    check(ops.quantile(x, 0.3, axis=axis, keepdims=keepdims), np.quantile(x, 0.3, axis=axis, keepdims=keepdims))
    check(ops.percentile(x, np.array([[12.5], [80.0]]), axis=axis, keepdims=keepdims),
          np.percentile(x, np.array([[12.5], [80.0]]), axis=axis, keepdims=keepdims))
    check(ops.median(x, axis=axis, keepdims=keepdims), np.median(x, axis=axis, keepdims=keepdims))
    got = ops.median(tl.constant(x.astype("float32")), axis=axis, keepdims=keepdims)
    assert got.dtype == tl.float32
    check(got, np.median(x.astype("float32"), axis=axis, keepdims=keepdims), rtol=1e-5, atol=1e-6)


NAN_REDUCTIONS = ["nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmax", "nanmin", "nanmedian"]


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns about the all-NaN slice
@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_nan_reductions(axis, keepdims, rng):
    x = with_nans(rng)
    for name in NAN_REDUCTIONS:
        check(getattr(ops, name)(x, axis=axis, keepdims=keepdims), getattr(np, name)(x, axis=axis, keepdims=keepdims))
    for method in METHODS:
        check(ops.nanquantile(x, [0.2, 0.7], axis=axis, method=method, keepdims=keepdims),
              np.nanquantile(x, [0.2, 0.7], axis=axis, method=method, keepdims=keepdims))
    check(ops.nanpercentile(x, 63.0, axis=axis, keepdims=keepdims),
          np.nanpercentile(x, 63.0, axis=axis, keepdims=keepdims))
    check(ops.quantile(x, 0.4, axis=axis, keepdims=keepdims), np.quantile(x, 0.4, axis=axis, keepdims=keepdims))
    got = ops.nanmean(tl.constant(x.astype("float32")), axis=axis, keepdims=keepdims)
    assert got.dtype == tl.float32
    check(got, np.nanmean(x.astype("float32"), axis=axis, keepdims=keepdims), rtol=1e-5, atol=1e-6)


def _np_nanarg(f, x, axis, keepdims):
    """numpy's nanargmax/nanargmin, with Keras' -1 for an all-NaN slice (where numpy raises)."""
    safe = np.where(np.all(np.isnan(x), axis=axis, keepdims=True), 0.0, x)
    return np.where(np.all(np.isnan(x), axis=axis, keepdims=keepdims), -1, f(safe, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("axis", [None, 0, 1, 2])
@pytest.mark.parametrize("keepdims", [False, True])
def test_nanargmax_nanargmin_nancum(axis, keepdims, rng):
    x = rng.uniform(-3, 3, size=(3, 4, 5))
    x[rng.random(x.shape) < 0.2] = np.nan
    x[1, 2, 3] = 5.0
    x[:, 0, 0] = x[:, 0, 1] = 0.0  # ties: the first one wins
    for name in ("nanargmax", "nanargmin"):
        got = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
        assert got.dtype == tl.int32
        check(got, _np_nanarg(getattr(np, name), x, axis, keepdims))
    if not keepdims:
        check(ops.nancumsum(x, axis=axis), np.nancumsum(x, axis=axis))
        check(ops.nancumprod(x, axis=axis), np.nancumprod(x, axis=axis))


def test_nan_ops_all_nan_and_integers():
    x = np.full((2, 3), np.nan)
    x[1, 1] = 2.0
    check(ops.nanargmax(x, axis=1), [-1, 1])
    check(ops.nanargmin(x, axis=1), [-1, 1])
    check(ops.nanmax(x, axis=1), [np.nan, 2.0])
    check(ops.nanquantile(x, 0.5, axis=1), [np.nan, 2.0])
    i = tl.constant(np.array([[1, 5], [3, 2]], "int8"))
    assert ops.nansum(i).dtype == tl.int32 and int(ops.nansum(i)) == 11
    assert ops.nancumsum(i).dtype == tl.int8 and ops.nancumsum(tl.constant([True, True])).dtype == tl.int32
    assert ops.nanmean(i).dtype == tl.float32 and ops.nanargmax(i, axis=1).numpy().tolist() == [1, 0]
    assert ops.nanmax(tl.constant([True, False])).dtype == tl.bool


def test_average_ptp_corrcoef_trapezoid(rng):
    x, w = rng.uniform(-3, 3, size=(3, 4, 5)), rng.uniform(0.1, 2, size=(3, 4, 5))
    check(ops.average(x), np.average(x))
    check(ops.average(x, axis=1), np.average(x, axis=1))
    check(ops.average(x, axis=(0, 2), weights=w), np.average(x, axis=(0, 2), weights=w))
    check(ops.average(x, axis=1, weights=w[0, :, 0]), np.average(x, axis=1, weights=w[0, :, 0]))
    check(ops.average(x, weights=w), np.average(x, weights=w))
    for axis in (None, 0, (1, 2)):
        check(ops.ptp(x, axis=axis), np.ptp(x, axis=axis))
    check(ops.ptp(x, axis=1, keepdims=True), np.ptp(x, axis=1, keepdims=True))
    i = rng.integers(-9, 9, size=(4, 6)).astype("int32")
    check(ops.ptp(i, axis=0), np.ptp(i, axis=0))
    m = rng.uniform(-1, 1, size=(4, 7))
    check(ops.corrcoef(m), np.corrcoef(m))
    check(ops.corrcoef(m[0]), np.corrcoef(m[0]))
    check(ops.corrcoef(i), np.corrcoef(i), rtol=1e-5, atol=1e-6)  # floatx for int32
    check(ops.trapezoid(x), np.trapezoid(x))
    check(ops.trapezoid(x, dx=0.3, axis=1), np.trapezoid(x, dx=0.3, axis=1))
    xs = np.sort(rng.uniform(0, 5, size=4))
    check(ops.trapezoid(x, x=xs, axis=1), np.trapezoid(x, x=xs, axis=1))
    check(ops.trapezoid(x, x=w, axis=0), np.trapezoid(x, x=w, axis=0))


@pytest.mark.parametrize("bins,rng_", [(10, None), (7, (-1.0, 1.5)), (3, (0.0, 0.0)), (1, None)])
def test_histogram(bins, rng_, rng):
    v = rng.normal(size=300)
    v[:3] = [-1.0, 1.5, 0.0]  # values on the edges
    counts, edges = ops.histogram(v, bins=bins, range=rng_)
    want_counts, want_edges = np.histogram(v, bins=bins, range=rng_)
    check(counts, want_counts)
    check(edges, want_edges)
    assert counts.dtype == tl.float64
    c32, e32 = ops.histogram(tl.constant(v.astype("float32")), bins=bins, range=rng_)
    assert c32.dtype == e32.dtype == tl.float32 and float(ops.sum(c32)) == float(want_counts.sum())
    check(ops.histogram(np.ones(5))[0], np.histogram(np.ones(5))[0])


def test_bincount_digitize(rng):
    i = rng.integers(0, 6, size=20)
    w = rng.normal(size=20)
    check(ops.bincount(i), np.bincount(i))
    check(ops.bincount(i, weights=w, minlength=9), np.bincount(i, weights=w, minlength=9))
    assert ops.bincount(i.astype("int32")).dtype == tl.int32
    assert ops.bincount(i.astype("int32"), weights=w.astype("float32")).dtype == tl.float32
    rows = rng.integers(0, 6, size=(3, 8))
    check(ops.bincount(rows, minlength=7), np.stack([np.bincount(r, minlength=7) for r in rows]))
    x = rng.normal(size=(5, 6))
    bins = np.sort(rng.uniform(-2, 2, size=6))
    x[0, 0] = bins[2]  # on an edge
    for b in (bins, list(bins), bins[::-1]):
        got = ops.digitize(x, b)
        assert got.dtype == tl.int32
        check(got, np.digitize(x, b))
    check(ops.digitize(np.array([1, 5, 9], "int32"), [2.5, 5.0]), np.digitize([1, 5, 9], [2.5, 5.0]))


@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning", "kaiser"])
@pytest.mark.parametrize("m", [0, 1, 2, 5, 16])
def test_windows(name, m):
    args = (3.3,) if name == "kaiser" else ()
    got = getattr(ops, name)(m, *args)
    assert got.dtype == tl.float32 and got.shape == (m,)
    check(got, getattr(np, name)(m, *args), rtol=1e-6, atol=1e-7)
    check(getattr(ops, name)(tl.constant(m), *args), getattr(np, name)(m, *args), rtol=1e-6, atol=1e-7)


DTYPE_CASES = ["median", "ptp", "nanmax", "nanmin", "nansum", "nanprod", "nanmean", "nanstd", "nanvar", "nanmedian",
               "nancumsum", "nancumprod", "nanargmax", "nanargmin", "corrcoef", "average", "trapezoid"]


@pytest.mark.parametrize("name", DTYPE_CASES)
def test_result_dtypes_match_keras(name, rng):
    check_dtypes_match_keras(name, rng.uniform(1.2, 3.0, size=(3, 4)))


@pytest.mark.parametrize("name,q", [("quantile", 0.5), ("percentile", 50.0), ("nanquantile", 0.5),
                                    ("nanpercentile", 50.0)])
def test_quantile_dtypes_match_keras(name, q, rng):
    check_dtypes_match_keras(name, rng.uniform(1.2, 3.0, size=(3, 4)), lambda x, _: (x, q))


def test_64_bit_dtypes():
    i64, f64 = tl.constant(np.array([[2, 3], [1, 7]], "int64")), tl.constant(np.array([[2.0, 3.0], [1.0, 4.0]]))
    for name in ("median", "nanmean", "nanvar", "nanmedian", "corrcoef", "average", "trapezoid", "nanmax"):
        assert getattr(ops, name)(f64).dtype == tl.float64, name
    assert ops.corrcoef(i64).dtype == tl.float64 and ops.median(i64).dtype == tl.float32
    assert ops.nansum(i64).dtype == tl.int64 and ops.ptp(i64).dtype == tl.int64


GRADS = [
    ("quantile", lambda x: ops.sum(ops.quantile(x, [0.1, 0.6], axis=1) ** 2)),
    ("median_nearest", lambda x: ops.sum(ops.median(x, axis=0)) * ops.percentile(x, 30.0, method="nearest")),
    ("nanmean_nanvar", lambda x: ops.sum(ops.nanmean(x, axis=1)) + ops.sum(ops.nanvar(x, axis=0)) + ops.nanstd(x)),
    ("nanmax_nanprod", lambda x: ops.sum(ops.nanmax(x, axis=1)) + ops.nanprod(x[0])),
    ("nanquantile", lambda x: ops.sum(ops.nanquantile(x, 0.35, axis=-1))),
    ("average_ptp", lambda x: ops.sum(ops.average(x, axis=1, weights=ops.exp(x))) + ops.ptp(x)),
    ("corrcoef", lambda x: ops.sum(ops.corrcoef(x) * ops.reshape(ops.arange(1.0, 10.0, dtype="float64"), (3, 3)))),
    ("trapezoid_cumsum", lambda x: ops.sum(ops.trapezoid(x, x=ops.nancumsum(ops.exp(x[0])), axis=1))),
]


@pytest.mark.parametrize("f", [g[1] for g in GRADS], ids=[g[0] for g in GRADS])
def test_gradients(f, rng):
    check_gradient(f, rng.uniform(-1.5, 1.5, size=(3, 4)))


def test_errors():
    x = np.arange(12.0).reshape(3, 4)
    with pytest.raises(ValueError, match=r"ops\.quantile: q must lie in \[0, 1\], got 1\.5"):
        ops.quantile(x, 1.5)
    with pytest.raises(ValueError, match=r"ops\.nanpercentile: q must lie in \[0, 100\]"):
        ops.nanpercentile(x, [10.0, -1.0])
    with pytest.raises(ValueError, match=r"ops\.median: axis 2 is out of range for a tensor of rank 2"):
        ops.median(x, axis=2)
    with pytest.raises(ValueError, match=r"ops\.quantile: method must be one of linear, lower"):
        ops.quantile(x, 0.5, method="weibull")
    with pytest.raises(ValueError, match=r"ops\.average: weights of shape \(3,\) must have x's shape \(3, 4\)"):
        ops.average(x, axis=1, weights=np.ones(3))
    with pytest.raises(TypeError, match=r"ops\.ptp: bool tensors"):
        ops.ptp(x > 2)
    with pytest.raises(ValueError, match=r"ops\.corrcoef: x must be 1-D or 2-D"):
        ops.corrcoef(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match=r"ops\.histogram: bins must be a positive integer, got 0"):
        ops.histogram(x, bins=0)
    with pytest.raises(ValueError, match=r"ops\.histogram: range must be \(min, max\) with min <= max"):
        ops.histogram(x, range=(2.0, 1.0))
    with pytest.raises(ValueError, match=r"ops\.bincount: sparse=True is not supported"):
        ops.bincount(np.array([1, 2]), sparse=True)
    with pytest.raises(TypeError, match=r"ops\.bincount: x must hold integers, got dtype float32"):
        ops.bincount(np.array([1.0], "float32"))
    with pytest.raises(ValueError, match=r"ops\.bincount: x must be non-negative"):
        ops.bincount(np.array([1, -2]))
    with pytest.raises(ValueError, match=r"ops\.digitize: bins must be monotonically increasing or decreasing"):
        ops.digitize(x, [0.0, 2.0, 1.0])
    with pytest.raises(TypeError, match=r"ops\.kaiser: the window length must be an integer, got 'a'"):
        ops.kaiser("a", 2.0)


def test_symbolic_inputs():
    x = keras.Input((3, 4))
    assert tuple(ops.quantile(x, [0.1, 0.9], axis=-1).shape) == (2, None, 3)
    assert tuple(ops.median(x, axis=1, keepdims=True).shape) == (None, 1, 4)
    for y in (ops.nanmean(x, axis=-1), ops.nanvar(x, axis=-1), ops.nanmax(x, axis=-1), ops.ptp(x, axis=-1),
              ops.trapezoid(x), ops.nanmedian(x, axis=-1)):
        assert tuple(y.shape) == (None, 3) and y.dtype == tl.float32
    assert ops.nanargmax(x, axis=-1).dtype == tl.int32 and ops.digitize(x, [0.0, 1.0]).dtype == tl.int32
    model = keras.Model(x, ops.nanmean(x, axis=-1) + ops.nanvar(x, axis=-1) + ops.ptp(x, axis=-1))
    v = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(model(v).numpy(), v.mean(-1) + v.var(-1) + np.ptp(v, -1), rtol=1e-5)


GPU_CASES = [
    ("quantile", lambda x: ops.quantile(x, [0.2, 0.5], axis=1)),
    ("nan_reductions", lambda x: (ops.nanmean(x, axis=0), ops.nanvar(x), ops.nanmedian(x, axis=1),
                                  ops.nanargmax(x, axis=1), ops.nancumsum(x, axis=0))),
    ("stats", lambda x: (ops.average(x, axis=0, weights=x * x), ops.corrcoef(x), ops.trapezoid(x), ops.ptp(x))),
    ("histogram_digitize", lambda x: (*ops.histogram(x, bins=4), ops.digitize(x, [0.0, 0.5]),
                                      ops.bincount(ops.cast(ops.abs(ops.nan_to_num(x)) * 3, "int32")))),
]


@pytest.mark.gpu
@pytest.mark.parametrize("f", [g[1] for g in GPU_CASES], ids=[g[0] for g in GPU_CASES])
def test_gpu_matches_cpu(f, rng):
    x = rng.uniform(-2, 2, size=(4, 6)).astype("float32")
    x[1, 2] = np.nan
    check_gpu_matches_cpu(f, [x], grad=False)
    check_gpu_matches_cpu(lambda v: ops.quantile(v, 0.3, axis=0) + ops.nanmean(v, axis=0), [x[2:]])


@pytest.mark.gpu
def test_windows_on_gpu():
    want = [getattr(ops, n)(9, *a).numpy() for n, a in (("kaiser", (2.5,)), ("hanning", ()), ("bartlett", ()))]
    with tl.device("gpu:0"):
        got = [ops.kaiser(9, 2.5), ops.hanning(9), ops.bartlett(9)]
    for g, w in zip(got, want):
        assert "GPU:0" in g.device
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-6)
