"""keras.ops array creation/rearrangement and products/selection/sets (numpy_arrays.py,
numpy_products.py) against numpy: values over shapes and axes, result dtypes against the real
Keras 3, gradients against finite differences, errors, symbolic inputs, GPU vs CPU; and the whole
keras.ops.numpy namespace against Keras 3's."""
import warnings

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import ops
from tests.keras.ops.helpers import check
from tests.keras.ops.numpy_checks import check_dtypes_match_keras, check_gpu_matches_cpu, check_gradient, real_keras

# The names of the numpy_*.py modules (the rest of keras.ops.numpy is in test_ops_numpy.py).
EXTRA_NAMES = [
    "allclose", "angle", "arccosh", "arcsinh", "arctan2", "arctanh", "argpartition", "array_split", "average",
    "bartlett", "bincount", "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or",
    "bitwise_right_shift", "bitwise_xor", "blackman", "cbrt", "conj", "conjugate", "copy", "corrcoef", "correlate",
    "cross", "deg2rad", "diagflat", "diagonal", "digitize", "dsplit", "dstack", "empty", "empty_like", "exp2", "fabs",
    "fliplr", "flipud", "fmax", "fmin", "fmod", "gcd", "geomspace", "hamming", "hanning", "heaviside", "histogram",
    "hsplit", "hypot", "i0", "imag", "inner", "isin", "isneginf", "isposinf", "isreal", "kaiser", "kron", "lcm",
    "ldexp", "left_shift", "logaddexp2", "logspace", "median", "nan_to_num", "nanargmax", "nanargmin", "nancumprod",
    "nancumsum", "nanmax", "nanmean", "nanmedian", "nanmin", "nanpercentile", "nanprod", "nanquantile", "nanstd",
    "nansum", "nanvar", "nextafter", "percentile", "ptp", "quantile", "rad2deg", "real", "right_shift", "rot90",
    "select", "signbit", "sinc", "slogdet", "trapezoid", "unique", "unravel_index", "vander", "vdot", "vectorize",
    "view", "vsplit",
]


def test_names_are_exported():
    for name in EXTRA_NAMES:
        assert name in ops.numpy.__all__ and getattr(ops, name) is getattr(ops.numpy, name), name
    assert len(set(ops.numpy.__all__)) == len(ops.numpy.__all__)


def test_namespace_matches_keras():
    k = real_keras()
    theirs = {n for n in dir(k.ops.numpy) if not n.startswith("_")}
    assert theirs == set(ops.numpy.__all__), (sorted(theirs - set(ops.numpy.__all__)),
                                              sorted(set(ops.numpy.__all__) - theirs))


def _check_all(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        check(g, w)


def test_splits_and_stacks(rng):
    x = rng.uniform(-3, 3, size=(6, 4, 5))
    _check_all(ops.array_split(x, 4), np.array_split(x, 4))
    _check_all(ops.array_split(x, 3, axis=2), np.array_split(x, 3, axis=2))
    _check_all(ops.array_split(x, [1, 3, 9], axis=-1), np.array_split(x, [1, 3, 9], axis=-1))
    _check_all(ops.hsplit(x, 2), np.hsplit(x, 2))
    _check_all(ops.hsplit(x[:, 0, 0], [2, 5]), np.hsplit(x[:, 0, 0], [2, 5]))
    _check_all(ops.vsplit(x, 3), np.vsplit(x, 3))
    _check_all(ops.dsplit(x, [2]), np.dsplit(x, [2]))
    for parts in ([x[:, 0, 0], x[:, 1, 0]], [x[:, :, 0], x[:, :, 1]], [x, x[:, :, :2]], [x[0, 0, 0], x[1, 1, 1]]):
        check(ops.dstack(parts), np.dstack(parts))
    assert ops.dstack([np.ones(2, "int32"), np.ones(2, "float32")]).dtype == tl.float32


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)])
def test_flips_rotations_diagonals(shape, rng):
    x = rng.uniform(-3, 3, size=shape)
    check(ops.fliplr(x), np.fliplr(x))
    check(ops.flipud(x), np.flipud(x))
    r = len(shape)
    for k in range(-1, 6):
        for axes in [(0, 1), (1, 0), (-1, -2), (0, r - 1)]:
            check(ops.rot90(x, k, axes), np.rot90(x, k, axes))
    for off in (-5, -1, 0, 2, 7):
        for a1, a2 in [(0, 1), (1, 0), (-1, 0)]:
            check(ops.diagonal(x, off, a1, a2), np.diagonal(x, off, a1, a2))
        check(ops.diagflat(x[:2, :2], off), np.diagflat(x[:2, :2], off))


def test_unravel_empty_spaces(rng):
    idx = rng.integers(0, 60, size=(2, 3)).astype("int32")
    got = ops.unravel_index(idx, (3, 4, 5))
    want = np.unravel_index(idx, (3, 4, 5))
    _check_all(got, want)
    assert all(g.dtype == tl.int32 for g in got)
    assert ops.empty((2, 3)).shape == (2, 3) and ops.empty((2,)).dtype == tl.float32
    assert ops.empty_like(idx).dtype == tl.int32 and ops.empty_like(idx, "float16").shape == (2, 3)
    check(ops.logspace(0.5, 2.5, 7, dtype="float64"), np.logspace(0.5, 2.5, 7))
    check(ops.logspace(0.0, 3.0, 4, base=2.2, endpoint=False, dtype="float64"),
          np.logspace(0, 3, 4, base=2.2, endpoint=False))
    check(ops.logspace(np.array([0.0, 1.0]), np.array([2.0, 4.0]), 5, axis=1),
          np.logspace([0.0, 1.0], [2.0, 4.0], 5, axis=1), rtol=1e-5)
    assert ops.logspace(0, 2, 3).dtype == tl.float32 and ops.logspace(tl.constant(np.float64(0)), 2, 3).dtype == \
        tl.float64
    check(ops.geomspace(1.0, 1000.0, 4, dtype="float64"), np.geomspace(1.0, 1000.0, 4))
    check(ops.geomspace(-2.0, -50.0, 5, endpoint=False, dtype="float64"), np.geomspace(-2.0, -50.0, 5, endpoint=False))
    check(ops.geomspace(3.0, 0.01, 6), np.geomspace(3.0, 0.01, 6), rtol=1e-5)


def test_products(rng):
    a, b = rng.uniform(-2, 2, size=(4, 3)), rng.uniform(-2, 2, size=(4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # numpy 2 deprecates 2-D vectors in cross
        for p, q, kw in [(a, b, {}), (a.T, b.T, {"axis": 0}), (a[:, :2], b, {}), (a, b[:, :2], {}),
                         (a[:, :2], b[:, :2], {}), (a.T, b, {"axisa": 0, "axisb": 1, "axisc": 0}),
                         (a[:1], b, {})]:
            check(ops.cross(p, q, **kw), np.cross(p, q, **kw))
    x, v = rng.uniform(-1, 1, size=(2, 3, 5)), rng.uniform(-1, 1, size=(4, 5))
    check(ops.inner(a, b), np.inner(a, b))
    check(ops.inner(x, v), np.inner(x, v))
    check(ops.inner(2.5, a), np.inner(2.5, a))
    for p, q in [(a, b), (a[0], x[0]), (x, a[:2]), (a[0, 0], a)]:
        check(ops.kron(p, q), np.kron(p, q))
    check(ops.vdot(a, b), np.vdot(a, b))
    check(ops.vdot(a, b.T.reshape(4, 3)), np.vdot(a, b.T.reshape(4, 3)))
    for n, inc in [(None, False), (6, True), (0, False), (1, True)]:
        check(ops.vander(a[:, 0], n, increasing=inc), np.vander(a[:, 0], n, increasing=inc))
    iv = np.array([2, -3, 4], "int32")
    got = ops.vander(iv, 5)
    assert got.dtype == tl.int32
    check(got, np.vander(iv, 5))
    sq = rng.uniform(-1, 1, size=(3, 4, 4))
    sign, logdet = ops.slogdet(sq)
    want_sign, want_logdet = np.linalg.slogdet(sq)
    check(sign, want_sign)
    check(logdet, want_logdet)
    i8 = rng.integers(-5, 5, size=(3, 3)).astype("int8")
    assert ops.inner(i8, i8).dtype == tl.int8 and ops.kron(i8, i8).dtype == tl.int8
    check(ops.inner(i8, i8), np.inner(i8, i8))


@pytest.mark.parametrize("m,n", [(7, 3), (3, 7), (5, 5), (4, 1), (1, 4), (6, 2)])
@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_correlate(m, n, mode, rng):
    p, q = rng.uniform(-1, 1, size=m), rng.uniform(-1, 1, size=n)
    check(ops.correlate(p, q, mode), np.correlate(p, q, mode))
    got = ops.correlate(p.astype("int32"), q.astype("int32"), mode)
    assert got.dtype == tl.float32


def test_selection_and_sets(rng):
    a, b = rng.uniform(-2, 2, size=(4, 3)), rng.uniform(-2, 2, size=(4, 3))
    check(ops.select([a > 0, b > 1], [a, b], default=-7.0), np.select([a > 0, b > 1], [a, b], default=-7.0))
    check(ops.select([a > 0], [a]), np.select([a > 0], [a]))
    e, t = rng.integers(0, 10, size=(3, 4)), rng.integers(0, 10, size=(5,))
    for kw in ({}, {"invert": True}, {"assume_unique": True}):
        check(ops.isin(e, t, **kw), np.isin(e, t, **kw))
    check(ops.isin(e, np.array([], "int64")), np.isin(e, np.array([], "int64")))
    f = np.array([1.0, np.nan, 2.0])
    check(ops.isin(f, np.array([np.nan, 2.0])), np.isin(f, np.array([np.nan, 2.0])))
    check(ops.isin(np.array([True, False]), np.array([1, 3])), np.isin([True, False], [1, 3]))
    x = rng.uniform(size=(4, 7))
    for axis, kth in [(1, 0), (1, 3), (0, [1, 2]), (-1, -1), (None, 20)]:
        idx = ops.argpartition(x, kth, axis=axis)
        assert idx.dtype == tl.int32
        flat = x.reshape(-1) if axis is None else x
        ax = 0 if axis is None else axis
        part = np.take_along_axis(flat, idx.numpy(), ax)
        for k in (kth if isinstance(kth, list) else [kth]):
            kk = k % flat.shape[ax]
            pivot = np.take(part, [kk], ax)
            np.testing.assert_array_equal(pivot, np.take(np.sort(flat, ax), [kk], ax))
            assert np.all(np.take(part, range(kk), ax) <= pivot) and np.all(np.take(part, range(kk, flat.shape[ax]), ax)
                                                                             >= pivot)


def test_unique(rng):
    u = rng.integers(0, 5, size=(3, 4)).astype("int32")
    check(ops.unique(u), np.unique(u))
    got = ops.unique(u, return_index=True, return_inverse=True, return_counts=True)
    _check_all(got, np.unique(u, return_index=True, return_inverse=True, return_counts=True))
    assert [g.dtype for g in got] == [tl.int32] * 4
    rows = np.array([[1, 2], [0, 5], [1, 2], [0, 1], [0, 5]], "int32")
    for axis in (0, 1):
        _check_all(ops.unique(rows, return_index=True, return_inverse=True, return_counts=True, axis=axis),
                   np.unique(rows, return_index=True, return_inverse=True, return_counts=True, axis=axis))
    values, counts = ops.unique(np.array([3, 1, 2, 1]), size=5, fill_value=-1, return_counts=True)
    check(values, [1, 2, 3, -1, -1])
    check(counts, [2, 1, 1, 0, 0])
    values, index = ops.unique(np.array([3.5, 1.0, 2.0, 1.0, 4.0]), size=2, return_index=True)
    check(values, [1.0, 2.0])
    check(index, [1, 2])
    check(ops.unique(np.array([2.0, np.nan, 2.0, np.nan])), np.unique(np.array([2.0, np.nan, 2.0, np.nan]),
                                                                   equal_nan=False))


def test_vectorize(rng):
    x, w = rng.uniform(size=(3, 4, 5)), rng.uniform(size=5)
    dot = ops.vectorize(lambda p, q: ops.sum(p * q), signature="(n),(n)->()")
    check(dot(x, w), np.einsum("ijk,k->ij", x, w))
    check(ops.vectorize(lambda p: p * 2 + 1)(x), x * 2 + 1)
    both = ops.vectorize(lambda p, q: (p + q, p - q))
    _check_all(both(x[0], w), (x[0] + w, x[0] - w))
    scaled = ops.vectorize(lambda p, s, power=1: (p * s) ** power, excluded={1})
    check(scaled(x[0], 3.0, power=2), (x[0] * 3.0) ** 2)
    outer = ops.vectorize(lambda p, q: ops.outer(p, q), signature="(m),(n)->(m,n)")
    check(outer(x[:, 0, :2], x[:, 1]), np.einsum("im,in->imn", x[:, 0, :2], x[:, 1]))


DTYPE_CASES = [
    ("cross", lambda x, _: (x, x)), ("inner", lambda x, _: (x, x)), ("kron", lambda x, _: (x, x)),
    ("isin", lambda x, _: (x, x)), ("fliplr", lambda x, _: (x,)), ("flipud", lambda x, _: (x,)),
    ("diagflat", lambda x, _: (x,)), ("diagonal", lambda x, _: (x,)), ("dstack", lambda x, _: ([x, x],)),
    ("vander", lambda x, _: (x[0],)), ("correlate", lambda x, _: (x[0], x[1])), ("argpartition", lambda x, _: (x, 1)),
    ("select", lambda x, ops: ([ops.greater(ops.ones((3, 3)), 0.5)], [x])),
]


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch.cross's own deprecation note
@pytest.mark.parametrize("name,args", DTYPE_CASES, ids=[c[0] for c in DTYPE_CASES])
def test_result_dtypes_match_keras(name, args, rng):
    check_dtypes_match_keras(name, rng.uniform(1.2, 3.0, size=(3, 3)), args)


GRADS = [
    ("cross", lambda x: ops.sum(ops.cross(x[:, :3], x[:, 1:]) ** 2)),
    ("inner_vdot", lambda x: ops.sum(ops.inner(x, x * x)) + ops.vdot(x, ops.sin(x))),
    ("kron", lambda x: ops.sum(ops.kron(x[:2], x[1:]) ** 2)),
    ("vander", lambda x: ops.sum(ops.vander(x[0], 4) * ops.vander(x[1], 4, increasing=True))),
    ("correlate", lambda x: ops.sum(ops.correlate(x[0], x[1, :3], "full") ** 2)),
    ("rot90_diagonal", lambda x: ops.sum(ops.rot90(x) * 2) + ops.sum(ops.diagonal(x, 1) ** 2)),
    ("slogdet", lambda x: ops.slogdet(x[:, :3] + 2 * ops.eye(3, dtype="float64"))[1]),
    ("select_splits", lambda x: ops.sum(ops.select([x > 0.2, x < -0.5], [x * x, ops.exp(x)], default=1.0)) +
     ops.sum(ops.array_split(x, 3, axis=1)[1] ** 3) + ops.sum(ops.dstack([x, x]) ** 2)),
    ("logspace", lambda x: ops.sum(ops.logspace(x[0, 0], x[1, 1], 5, base=2.0, dtype="float64"))),
]


@pytest.mark.parametrize("f", [g[1] for g in GRADS], ids=[g[0] for g in GRADS])
def test_gradients(f, rng):
    check_gradient(f, rng.uniform(-1.0, 1.0, size=(3, 4)))


def test_errors():
    x = np.ones((3, 4))
    cases = [
        (ValueError, r"ops\.array_split: the number of sections must be positive, got 0",
         lambda: ops.array_split(x, 0)),
        (ValueError, r"ops\.hsplit: axis 1 of size 4 does not divide into 3 equal sections", lambda: ops.hsplit(x, 3)),
        (ValueError, r"ops\.dsplit: x must have at least 3 dimensions, got shape \(3, 4\)", lambda: ops.dsplit(x, 2)),
        (ValueError, r"ops\.fliplr: x must be at least 2-D", lambda: ops.fliplr(np.ones(3))),
        (ValueError, r"ops\.rot90: axes must be two different dimensions", lambda: ops.rot90(x, axes=(1, 1))),
        (ValueError, r"ops\.rot90: the array must have at least 2 dimensions", lambda: ops.rot90(np.ones(3))),
        (ValueError, r"ops\.diagonal: axis1 and axis2 must differ", lambda: ops.diagonal(x, 0, 1, -1)),
        (ValueError, r"ops\.unravel_index: indices must lie in \[0, 12\)", lambda: ops.unravel_index([12], (3, 4))),
        (TypeError, r"ops\.unravel_index: indices must be integers", lambda: ops.unravel_index([1.0], (3, 4))),
        (ValueError, r"ops\.geomspace: a geometric sequence cannot include zero", lambda: ops.geomspace(0.0, 1.0)),
        (ValueError, r"ops\.geomspace: start and stop must have the same sign", lambda: ops.geomspace(-1.0, 1.0)),
        (ValueError, r"ops\.cross: the vectors must have 2 or 3 components, got 4", lambda: ops.cross(x, x)),
        (TypeError, r"ops\.cross: bool tensors", lambda: ops.cross(x > 0, x > 0)),
        (ValueError, r"ops\.inner: the last dimensions of x1 \(3, 4\) and x2 \(4, 3\)", lambda: ops.inner(x, x.T)),
        (ValueError, r"ops\.vdot: x1 and x2 must have the same size", lambda: ops.vdot(x, x[0])),
        (ValueError, r"ops\.vander: x must be 1-D, got shape \(3, 4\)", lambda: ops.vander(x)),
        (ValueError, r"ops\.correlate: mode must be 'valid', 'same' or 'full'", lambda: ops.correlate(x[0], x[0], "x")),
        (ValueError, r"ops\.correlate: x1 and x2 must be 1-D", lambda: ops.correlate(x, x[0])),
        (ValueError, r"ops\.slogdet: expected a square matrix", lambda: ops.slogdet(x)),
        (ValueError, r"ops\.select: condlist \(2 entries\) and choicelist \(1\)", lambda: ops.select([x > 0] * 2, [x])),
        (TypeError, r"ops\.select: condlist\[0\] must be a bool tensor, got dtype float64",
         lambda: ops.select([x], [x])),
        (ValueError, r"ops\.argpartition: kth=4 is out of bounds for an axis of size 4",
         lambda: ops.argpartition(x, 4)),
        (ValueError, r"ops\.vectorize: signature must look like", lambda: ops.vectorize(len, signature="(n)>()")),
        (ValueError, r"ops\.vectorize: core dimension 'n' is 4 in one argument and 3",
         lambda: ops.vectorize(lambda p, q: p, signature="(n),(n)->(n)")(x, x.T)),
        (TypeError, r"ops\.vectorize: pyfunc must be callable", lambda: ops.vectorize(3)),
    ]
    for exc, pattern, call in cases:
        with pytest.raises(exc, match=pattern):
            call()


def test_symbolic_inputs():
    x = keras.Input((3, 4))
    assert tuple(ops.diagonal(x, axis1=1, axis2=2).shape) == (None, 3)
    assert tuple(ops.rot90(x, axes=(1, 2)).shape) == (None, 4, 3)
    assert tuple(ops.kron(x, ops.ones((1, 2, 2))).shape) == (None, 6, 8)
    assert tuple(ops.isin(x, [1.0, 2.0]).shape) == (None, 3, 4)
    assert tuple(ops.cross(x[..., :3], x[..., 1:]).shape) == (None, 3, 3)
    model = keras.Model(x, ops.fliplr(x) + ops.select([x > 0], [x], default=-1.0))
    v = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(model(v).numpy(), v[:, ::-1] + np.where(v > 0, v, -1.0), rtol=1e-6)


GPU_CASES = [
    ("rearrange", lambda x, y: (ops.rot90(x), ops.diagonal(x, 1), ops.dstack([x, y]), ops.fliplr(y),
                                *ops.array_split(x, 2, axis=1))),
    ("products", lambda x, y: (ops.cross(x[:, :3], y[:, 2:]), ops.inner(x, y), ops.kron(x[:2, :2], y[:2, :2]),
                               ops.vdot(x, y), ops.vander(x[0], 3), ops.correlate(x[0], y[1], "same"))),
    ("selection", lambda x, y: (ops.select([x > 0], [y], 0.5), ops.isin(ops.round(x), ops.round(y)),
                                ops.argpartition(x, 2),
                                ops.slogdet(x[:, :3] * 0.1 + ops.diagflat(ops.ones_like(x[0, :3])))[1])),
    ("unique_unravel", lambda x, y: (*ops.unique(ops.round(x * 2), return_inverse=True, return_counts=True),
                                     *ops.unravel_index(ops.cast(ops.abs(y) * 4, "int32"), (3, 4)))),
    ("spaces", lambda x, y: ops.logspace(x[0, 0], x[1, 1], 4) + ops.geomspace(ops.abs(x[0, 0]) + 1, 9.0, 4)),
]


@pytest.mark.gpu
@pytest.mark.parametrize("f", [g[1] for g in GPU_CASES], ids=[g[0] for g in GPU_CASES])
def test_gpu_matches_cpu(f, rng):
    x, y = rng.uniform(-2, 2, size=(3, 5)).astype("float32"), rng.uniform(-2, 2, size=(3, 5)).astype("float32")
    check_gpu_matches_cpu(f, [x, y], rtol=1e-4)
