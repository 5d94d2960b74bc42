"""keras.ops NumPy-style functions against numpy float64 references, dtype promotion, gradients, shapes, errors."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import ops
from tests.keras.ops.helpers import check

# The Keras 3 keras.ops.numpy names tensorlab implements.
KERAS_NUMPY_NAMES = [
    "abs", "absolute", "add", "all", "amax", "amin", "any", "append", "arange", "arccos", "arcsin", "arctan",
    "argmax", "argmin", "argsort", "array", "broadcast_to", "ceil", "clip", "concatenate", "cos", "cosh",
    "count_nonzero", "cumprod", "cumsum", "diag", "diff", "divide", "divide_no_nan", "dot", "einsum", "equal",
    "exp", "expand_dims", "expm1", "eye", "flip", "floor", "floor_divide", "full", "full_like", "get_item",
    "greater", "greater_equal", "hstack", "identity", "isclose", "isfinite", "isinf", "isnan", "less",
    "less_equal", "linspace", "log", "log10", "log1p", "log2", "logaddexp", "logical_and", "logical_not",
    "logical_or", "logical_xor", "matmul", "max", "maximum", "mean", "meshgrid", "min", "minimum", "mod",
    "moveaxis", "multiply", "ndim", "negative", "nonzero", "not_equal", "ones", "ones_like", "outer", "pad",
    "power", "prod", "ravel", "reciprocal", "repeat", "reshape", "roll", "round", "searchsorted", "sign", "sin",
    "sinh", "size", "sort", "split", "sqrt", "square", "squeeze", "stack", "std", "subtract", "sum", "swapaxes",
    "take", "take_along_axis", "tan", "tanh", "tensordot", "tile", "trace", "transpose", "tri", "tril", "triu",
    "true_divide", "trunc", "var", "vstack", "where", "zeros", "zeros_like",
]


def r(rng, *shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


def test_names_match_keras_and_are_callable():
    # The rest of ops.numpy (numpy_*.py modules) is checked in test_ops_numpy_arrays.py.
    assert set(KERAS_NUMPY_NAMES) <= set(ops.numpy.__all__)
    for name in KERAS_NUMPY_NAMES:
        assert callable(getattr(ops, name)), name
        assert getattr(ops, name) is getattr(ops.numpy, name)


UNARY = [
    ("abs", np.abs, None), ("negative", np.negative, None), ("square", np.square, None),
    ("sign", np.sign, None), ("sqrt", np.sqrt, "pos"), ("exp", np.exp, None), ("expm1", np.expm1, None),
    ("log", np.log, "pos"), ("log1p", np.log1p, "pos"), ("log2", np.log2, "pos"), ("log10", np.log10, "pos"),
    ("sin", np.sin, None), ("cos", np.cos, None), ("tan", np.tan, "unit"), ("arcsin", np.arcsin, "unit"),
    ("arccos", np.arccos, "unit"), ("arctan", np.arctan, None), ("sinh", np.sinh, None),
    ("cosh", np.cosh, None), ("tanh", np.tanh, None), ("reciprocal", np.reciprocal, "pos"),
    ("floor", np.floor, None), ("ceil", np.ceil, None), ("trunc", np.trunc, None), ("round", np.round, None),
]


@pytest.mark.parametrize("name,ref,domain", UNARY, ids=[u[0] for u in UNARY])
def test_unary(name, ref, domain, rng):
    x = r(rng, 3, 5, low=0.1 if domain == "pos" else (-0.9 if domain == "unit" else -3), high=0.9 if domain == "unit"
          else 3)
    check(getattr(ops, name)(tl.constant(x)), ref(x))


BINARY = [
    ("add", np.add), ("subtract", np.subtract), ("multiply", np.multiply), ("divide", np.divide),
    ("true_divide", np.true_divide), ("maximum", np.maximum), ("minimum", np.minimum), ("mod", np.mod),
    ("floor_divide", np.floor_divide), ("equal", np.equal), ("not_equal", np.not_equal),
    ("greater", np.greater), ("greater_equal", np.greater_equal), ("less", np.less),
    ("less_equal", np.less_equal), ("logaddexp", np.logaddexp),
]


@pytest.mark.parametrize("name,ref", BINARY, ids=[b[0] for b in BINARY])
def test_binary_broadcasting(name, ref, rng):
    a, b = r(rng, 4, 1, 3), r(rng, 5, 1) + 0.1
    a[0, 0, 0] = b[0, 0]  # an exact tie for the comparisons
    check(getattr(ops, name)(tl.constant(a), tl.constant(b)), ref(a, b))


def test_power(rng):
    a, b = r(rng, 3, 4, low=0.1), r(rng, 3, 4)
    check(ops.power(a, b), np.power(a, b))


def test_logical_ops(rng):
    a, b = rng.uniform(size=(3, 4)) > 0.5, rng.uniform(size=(3, 4)) > 0.5
    check(ops.logical_and(a, b), a & b)
    check(ops.logical_or(a, b), a | b)
    check(ops.logical_xor(a, b), a ^ b)
    check(ops.logical_not(a), ~a)


def test_dtype_promotion(rng):
    i = tl.constant(rng.integers(-5, 5, size=(3,)).astype("int32"))
    f = tl.constant(r(rng, 3).astype("float32"))
    assert ops.add(i, f).dtype == tl.float32
    assert ops.add(i, 2).dtype == tl.int32
    assert ops.add(i, 2.5).dtype == tl.float32
    assert ops.multiply(f, 3).dtype == tl.float32
    assert ops.add(f, tl.constant(r(rng, 3))).dtype == tl.float64
    assert ops.add(tl.constant(np.array([1], "int8")), tl.constant(np.array([1], "uint8"))).dtype == tl.int16
    assert ops.add(tl.constant([True, False]), i[:2]).dtype == tl.int32
    assert ops.divide(i, i + 10).dtype == tl.float32
    assert ops.mean(i).dtype == tl.float32
    assert ops.sqrt(tl.abs(i)).dtype == tl.float32
    assert ops.sum(tl.constant([True, True, False])).numpy() == 2
    np.testing.assert_allclose(ops.add(i, 2.5).numpy(), i.numpy() + 2.5)


REDUCTIONS = [("sum", np.sum), ("mean", np.mean), ("max", np.max), ("min", np.min), ("prod", np.prod),
              ("std", np.std), ("var", np.var), ("amax", np.amax), ("amin", np.amin)]


@pytest.mark.parametrize("name,ref", REDUCTIONS, ids=[x[0] for x in REDUCTIONS])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions(name, ref, axis, keepdims, rng):
    x = r(rng, 3, 4, 5)
    check(getattr(ops, name)(x, axis=axis, keepdims=keepdims), ref(x, axis=axis, keepdims=keepdims))


def test_max_initial_all_any_count(rng):
    x = r(rng, 3, 4)
    check(ops.max(x, axis=1, initial=0.5), np.max(x, axis=1, initial=0.5))
    check(ops.min(x, axis=0, initial=-0.5), np.min(x, axis=0, initial=-0.5))
    b = x > 0
    for axis in (None, 0, 1):
        check(ops.all(b, axis=axis), np.all(b, axis=axis))
        check(ops.any(b, axis=axis, keepdims=True), np.any(b, axis=axis, keepdims=True))
        check(ops.count_nonzero(b, axis=axis), np.count_nonzero(b, axis=axis))


@pytest.mark.parametrize("name,ref", [("argmax", np.argmax), ("argmin", np.argmin)])
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_argmin(name, ref, axis, keepdims, rng):
    x = r(rng, 3, 4, 2)
    out = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
    assert out.dtype == tl.int32
    check(out, ref(x, axis=axis, keepdims=keepdims))


@pytest.mark.parametrize("axis", [None, 0, 1])
def test_cumsum_cumprod(axis, rng):
    x = r(rng, 3, 4)
    check(ops.cumsum(x, axis=axis), np.cumsum(x, axis=axis))
    check(ops.cumprod(x, axis=axis), np.cumprod(x, axis=axis))
    assert ops.cumsum(tl.constant([True, False, True])).dtype == tl.int32


@pytest.mark.parametrize("axis", [-1, 0, None])
def test_sort_argsort(axis, rng):
    x = r(rng, 4, 6)
    check(ops.sort(x, axis=axis), np.sort(x, axis=axis))
    out = ops.argsort(x, axis=axis)
    assert out.dtype == tl.int32
    check(out, np.argsort(x, axis=axis, kind="stable"))


def test_shape_manipulation(rng):
    x = r(rng, 2, 3, 4)
    check(ops.reshape(x, (4, -1)), x.reshape(4, -1))
    check(ops.reshape(x, 24), x.reshape(24))
    check(ops.ravel(x), x.ravel())
    check(ops.transpose(x), x.T)
    check(ops.transpose(x, (1, 0, 2)), x.transpose(1, 0, 2))
    check(ops.swapaxes(x, 0, -1), np.swapaxes(x, 0, -1))
    check(ops.moveaxis(x, 0, -1), np.moveaxis(x, 0, -1))
    check(ops.moveaxis(x, [0, 1], [-1, 0]), np.moveaxis(x, [0, 1], [-1, 0]))
    check(ops.expand_dims(x, 1), np.expand_dims(x, 1))
    check(ops.expand_dims(x, (0, -1)), np.expand_dims(x, (0, -1)))
    y = x[:, :1, None]
    check(ops.squeeze(y), np.squeeze(y))
    check(ops.squeeze(y, axis=1), np.squeeze(y, axis=1))
    check(ops.broadcast_to(x[:, :1], (5, 2, 3, 4)), np.broadcast_to(x[:, :1], (5, 2, 3, 4)))
    check(ops.flip(x), np.flip(x))
    check(ops.flip(x, axis=1), np.flip(x, axis=1))
    check(ops.roll(x, 5), np.roll(x, 5))
    check(ops.roll(x, -1, axis=2), np.roll(x, -1, axis=2))
    check(ops.tile(x, 2), np.tile(x, 2))
    check(ops.tile(x, (2, 1, 1, 3)), np.tile(x, (2, 1, 1, 3)))
    check(ops.repeat(x, 2), np.repeat(x, 2))
    check(ops.repeat(x, [1, 0, 2], axis=1), np.repeat(x, [1, 0, 2], axis=1))
    assert ops.ndim(x) == 3 and int(ops.size(x)) == 24


def test_join_and_split(rng):
    a, b = r(rng, 2, 3), r(rng, 4, 3)
    check(ops.concatenate([a, b]), np.concatenate([a, b]))
    check(ops.concatenate([a, b.T], axis=None), np.concatenate([a, b.T], axis=None))
    check(ops.stack([a, a * 2], axis=1), np.stack([a, a * 2], axis=1))
    check(ops.hstack([a, a]), np.hstack([a, a]))
    check(ops.vstack([a, b]), np.vstack([a, b]))
    check(ops.vstack([a[0], a[1]]), np.vstack([a[0], a[1]]))
    check(ops.append(a, b), np.append(a, b))
    check(ops.append(a, b, axis=0), np.append(a, b, axis=0))
    x = r(rng, 6, 4)
    for got, want in zip(ops.split(x, 3), np.split(x, 3)):
        check(got, want)
    for got, want in zip(ops.split(x, [1, 4], axis=0), np.split(x, [1, 4], axis=0)):
        check(got, want)
    assert ops.concatenate([tl.constant([1]), tl.constant([1.5])]).dtype == tl.float32


@pytest.mark.parametrize("mode", ["constant", "reflect", "symmetric"])
def test_pad(mode, rng):
    x = r(rng, 3, 4)
    check(ops.pad(x, ((1, 2), (2, 0)), mode=mode), np.pad(x, ((1, 2), (2, 0)), mode=mode))
    check(ops.pad(x, 1, mode=mode), np.pad(x, 1, mode=mode))
    if mode == "constant":
        check(ops.pad(x, ((0, 1), (1, 1)), constant_values=7.0), np.pad(x, ((0, 1), (1, 1)), constant_values=7.0))


def test_creation():
    check(ops.zeros((2, 3)), np.zeros((2, 3)))
    assert ops.zeros((2, 3)).dtype == tl.float32 and ops.ones(3, dtype="int32").dtype == tl.int32
    check(ops.full((2, 2), 3), np.full((2, 2), 3))
    assert ops.full((2,), 3).dtype == tl.int32 and ops.full((2,), 3.0).dtype == tl.float32
    x = tl.constant(np.arange(6.0).reshape(2, 3))
    check(ops.zeros_like(x), np.zeros((2, 3)))
    check(ops.ones_like(x, dtype="int32"), np.ones((2, 3)))
    check(ops.full_like(x, 4.5), np.full((2, 3), 4.5))
    check(ops.arange(5), np.arange(5))
    assert ops.arange(5).dtype == tl.int32 and ops.arange(0.0, 1.0, 0.25).dtype == tl.float32
    check(ops.arange(2, 11, 3), np.arange(2, 11, 3))
    check(ops.arange(1.0, 2.0, 0.25), np.arange(1.0, 2.0, 0.25))
    check(ops.linspace(1.0, 3.0, 7), np.linspace(1.0, 3.0, 7), rtol=1e-6)
    check(ops.linspace(0.0, 1.0, 4, endpoint=False), np.linspace(0.0, 1.0, 4, endpoint=False), rtol=1e-6)
    check(ops.linspace([0.0, 1.0], [2.0, 5.0], 3, axis=1), np.linspace([0.0, 1.0], [2.0, 5.0], 3, axis=1),
          rtol=1e-6)
    for k in (-1, 0, 2):
        check(ops.eye(3, 4, k=k), np.eye(3, 4, k=k))
        check(ops.tri(4, 3, k=k), np.tri(4, 3, k=k))
    check(ops.identity(3), np.identity(3))


def test_triangles_and_diagonals(rng):
    x = r(rng, 4, 5)
    for k in (-2, 0, 1):
        check(ops.tril(x, k), np.tril(x, k))
        check(ops.triu(x, k), np.triu(x, k))
        check(ops.diag(x, k), np.diag(x, k))
        check(ops.diag(x[0], k), np.diag(x[0], k))
        check(ops.trace(x, offset=k), np.trace(x, offset=k))
    y = r(rng, 3, 4, 4)
    check(ops.trace(y, axis1=1, axis2=2), np.trace(y, axis1=1, axis2=2))
    check(ops.diff(x, axis=0), np.diff(x, axis=0))
    check(ops.diff(x, n=2), np.diff(x, n=2))


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((2, 3, 4), (4, 2)), ((4,), (4, 3)), ((3, 4), (4,)),
                                   ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2))])
def test_matmul(sa, sb, rng):
    a, b = r(rng, *sa), r(rng, *sb)
    check(ops.matmul(a, b), np.matmul(a, b))


@pytest.mark.parametrize("sa,sb", [((3, 4), (4, 5)), ((2, 3, 4), (5, 4, 2)), ((3, 4), (4,)), ((4,), (4,)),
                                   ((), (2, 3))])
def test_dot(sa, sb, rng):
    a, b = r(rng, *sa), r(rng, *sb)
    check(ops.dot(a, b), np.dot(a, b))


def test_tensordot_einsum_outer(rng):
    a, b = r(rng, 2, 3, 4), r(rng, 3, 4, 5)
    check(ops.tensordot(a, b), np.tensordot(a, b))
    check(ops.tensordot(a, b, axes=([1], [0])), np.tensordot(a, b, axes=([1], [0])))
    check(ops.einsum("ijk,jkl->il", a, b), np.einsum("ijk,jkl->il", a, b))
    check(ops.outer(a[0, 0], b[0, 0]), np.outer(a[0, 0], b[0, 0]))


def test_where_clip_isclose(rng):
    x, y = r(rng, 3, 4), r(rng, 1, 4)
    c = x > 0
    check(ops.where(c, x, y), np.where(c, x, y))
    check(ops.where(c, x, 0.0), np.where(c, x, 0.0))
    for got, want in zip(ops.where(c), np.nonzero(c)):
        check(got, want)
    for got, want in zip(ops.nonzero(c), np.nonzero(c)):
        check(got, want)
    check(ops.clip(x, -0.5, 0.7), np.clip(x, -0.5, 0.7))
    assert ops.clip(tl.constant([True, False]), 0, 1).dtype == tl.int32
    z = x + rng.choice([0.0, 1e-9, 1e-2], size=x.shape)
    check(ops.isclose(x, z), np.isclose(x, z))
    check(ops.divide_no_nan(x, c * y), np.where(c * y == 0, 0.0, x / np.where(c * y == 0, 1, c * y)))
    v = np.array([1.0, np.nan, np.inf, -np.inf])
    check(ops.isnan(v), np.isnan(v))
    check(ops.isinf(v), np.isinf(v))
    check(ops.isfinite(v), np.isfinite(v))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_take(axis, rng):
    x = r(rng, 4, 5)
    n = x.size if axis is None else x.shape[axis]
    idx = rng.integers(-n, n, size=(2, 3))
    check(ops.take(x, idx, axis=axis), np.take(x, idx, axis=axis))


@pytest.mark.parametrize("axis", [None, 0, 1, 2])
def test_take_along_axis(axis, rng):
    x = r(rng, 3, 4, 5)
    if axis is None:
        idx = rng.integers(0, x.size, size=(7,))
    else:
        shape = list(x.shape)
        shape[axis] = 2
        shape[0] = 1 if axis != 0 else 2  # broadcasts along axis 0
        idx = rng.integers(-x.shape[axis], x.shape[axis], size=shape)
    check(ops.take_along_axis(x, idx, axis=axis), np.take_along_axis(x, idx, axis=axis))


def test_searchsorted_meshgrid_get_item(rng):
    a = np.sort(r(rng, 10))
    v = r(rng, 6)
    v[0] = a[3]
    for side in ("left", "right"):
        check(ops.searchsorted(a, v, side=side), np.searchsorted(a, v, side=side))
    xs, ys = r(rng, 3), r(rng, 4)
    for indexing in ("xy", "ij"):
        for got, want in zip(ops.meshgrid(xs, ys, indexing=indexing), np.meshgrid(xs, ys, indexing=indexing)):
            check(got, want)
    x = r(rng, 3, 4)
    check(ops.get_item(x, (slice(1, None), 2)), x[1:, 2])


def _numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


GRADS = [
    ("mean_axis", lambda x: ops.sum(ops.square(ops.mean(x, axis=1, keepdims=True) - x))),
    ("matmul", lambda x: ops.sum(ops.matmul(x, ops.transpose(x)))),
    ("take_along_axis", lambda x: ops.sum(ops.take_along_axis(x, ops.argsort(x, axis=1), axis=1) *
                                          ops.arange(4.0, dtype="float64"))),
    ("where_clip", lambda x: ops.sum(ops.where(x > 0, ops.clip(x, -0.5, 0.5), ops.exp(x)))),
    ("logaddexp_std", lambda x: ops.sum(ops.logaddexp(x, 2.0 * x)) + ops.std(x)),
    ("take_cumsum", lambda x: ops.sum(ops.take(ops.cumsum(x, axis=0), [0, 2, 2], axis=0) ** 2)),
    ("pad_tile", lambda x: ops.sum(ops.tile(ops.pad(x, 1, mode="reflect"), (1, 2)) ** 3)),
]


@pytest.mark.parametrize("f", [g[1] for g in GRADS], ids=[g[0] for g in GRADS])
def test_gradients(f, rng):
    x = r(rng, 3, 4)
    xt = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(xt)
        y = f(xt)
    got = tape.gradient(y, xt).numpy()
    np.testing.assert_allclose(got, _numeric_grad(lambda v: f(tl.constant(v)).numpy(), x), rtol=1e-5, atol=1e-7)


def test_symbolic_shapes():
    x = keras.Input((3, 4))
    assert tuple(ops.mean(x, axis=-1).shape) == (None, 3)
    assert tuple(ops.sum(x, axis=(1, 2), keepdims=True).shape) == (None, 1, 1)
    assert tuple(ops.transpose(x, (0, 2, 1)).shape) == (None, 4, 3)
    assert tuple(ops.expand_dims(x, -1).shape) == (None, 3, 4, 1)
    assert tuple(ops.matmul(x, ops.ones((4, 5))).shape) == (None, 3, 5)
    assert tuple(ops.concatenate([x, x], axis=-1).shape) == (None, 3, 8)
    assert tuple(ops.where(x > 0, x, 0.0).shape) == (None, 3, 4)
    assert tuple(ops.clip(x, 0.0, 1.0).shape) == (None, 3, 4)
    assert tuple(ops.argmax(x, axis=-1).shape) == (None, 3)
    model = keras.Model(x, ops.square(x) + 1.0)
    v = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(model(v).numpy(), v ** 2 + 1.0, rtol=1e-6)


def test_error_bad_arguments(rng):
    x = r(rng, 3, 4)
    with pytest.raises(ValueError, match="ops.pad: mode"):
        ops.pad(x, 1, mode="wrap")
    with pytest.raises(ValueError, match="ops.split.*equal sections"):
        ops.split(x, 2, axis=0)
    with pytest.raises(ValueError, match="ops.squeeze.*size 4"):
        ops.squeeze(x, axis=1)
    with pytest.raises(ValueError, match="ops.swapaxes: axis 5"):
        ops.swapaxes(x, 0, 5)
    with pytest.raises(TypeError, match="ops.take: indices must be integers"):
        ops.take(x, [0.5])
    with pytest.raises(ValueError, match="ops.where: give both"):
        ops.where(x > 0, x)
    with pytest.raises(ValueError, match="ops.arange: step"):
        ops.arange(0, 5, 0)
    with pytest.raises(ValueError, match="ops.matmul"):
        ops.matmul(2.0, x)
    with pytest.raises(ValueError, match="ops.take_along_axis"):
        ops.take_along_axis(x, np.zeros((2,), "int32"), axis=0)


@pytest.mark.gpu
def test_python_numbers_meet_gpu_tensors_on_their_device(rng):
    x = rng.normal(size=(3, 4)).astype("float32")
    with tl.device("gpu:0"):
        xg = tl.constant(x)
    with tl.device("cpu"):  # the number must become a tensor on the GPU, beside xg
        outs = [ops.where(xg > 0, xg, 0.5), ops.add(xg, 2), ops.maximum(1.0, xg), ops.subtract(3, xg)]
    refs = [np.where(x > 0, x, 0.5), x + 2, np.maximum(1.0, x), 3 - x]
    for o, r in zip(outs, refs):
        assert "GPU" in o.device
        np.testing.assert_allclose(o.numpy(), r, rtol=1e-6)
