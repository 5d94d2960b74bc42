"""More ops that need concrete sizes or values, on Functional-API tensors: projective transforms, band and
diagonal masks (band_part, diag, diag_part, set_diag, inv, expm), means over the batch, logsumexp of -inf
rows, zeros_like/ones_like, check_numerics, and map_fn/scan/folds.

Before they were composites, these returned a bare SymbolicTensor (not recorded in the model), recorded an
op that only fits the static shape (a mean over the batch divided by 1, a square diagonal of rectangular
matrices), or dropped a check. Each case checks the static shape and that ``model.predict`` equals the eager
op and a float64 numpy reference on fresh random inputs (and, where differentiable, the model's gradients).
"""
import numpy as np
import pytest

import tensorlab as tl
from tests.keras.test_functional_composites import _build, check, check_gradients
from tests.ops.test_image_transform import ref_transform


# ----------------------------------------------------------------- transform
@pytest.mark.parametrize("interpolation,fill_mode", [("bilinear", "constant"), ("nearest", "reflect")])
def test_transform_with_fixed_transforms(rng, interpolation, fill_mode):
    x = rng.standard_normal((3, 6, 5, 2)).astype("float32")
    m = [0.9, 0.2, -0.7, -0.1, 1.1, 0.4, 0.01, -0.02]

    def op(v):
        return tl.image.transform(v, m, interpolation=interpolation, fill_mode=fill_mode, fill_value=0.5,
                                  output_shape=[4, 7])
    model = check([((6, 5, 2), "float32")], op, [x],
                  lambda a: ref_transform(a, m, interpolation, fill_mode, 0.5, (4, 7)), [(None, 4, 7, 2)], rtol=1e-5)
    if interpolation == "bilinear":
        check_gradients(model, op, [x], [0], rng)


def test_transform_with_per_image_transforms_from_an_input(rng):
    x = rng.standard_normal((4, 5, 6, 3)).astype("float32")
    m = (np.array([1.0, 0.1, -0.5, 0.05, 0.9, 0.8, 0.0, 0.0]) + rng.uniform(-0.2, 0.2, (4, 8))).astype("float32")
    m[:, 6:] = 0.0

    def op(v, t):
        return tl.image.transform(v, t)
    model = check([((5, 6, 3), "float32"), ((8,), "float32")], op, [x, m], ref_transform, [(None, 5, 6, 3)],
                  rtol=1e-5)
    check_gradients(model, op, [x, m], [0, 1], rng)


# ----------------------------------------------------------------- band and diagonal masks
@pytest.mark.parametrize("lower,upper", [(1, 0), (-1, 1), (0, -1)])
def test_band_part(rng, lower, upper):
    x = rng.standard_normal((3, 4, 5)).astype("float32")

    def ref(a):
        i, j = np.arange(4)[:, None], np.arange(5)[None, :]
        keep = ((lower < 0) | (i - j <= lower)) & ((upper < 0) | (j - i <= upper))
        return np.where(keep, a, 0.0)
    model = check([((4, 5), "float32")], lambda v: tl.linalg.band_part(v, lower, upper), [x], ref, [(None, 4, 5)])
    check_gradients(model, lambda v: tl.linalg.band_part(v, lower, upper), [x], [0], rng)


def test_band_part_of_matrices_of_unknown_size(rng):
    x = rng.standard_normal((2, 3, 6)).astype("float32")
    check([((None, None), "float32")], lambda v: tl.linalg.band_part(v, 0, 1), [x],
          lambda a: np.triu(a) - np.triu(a, 2), [(None, None, None)])


def test_diag_and_diag_part(rng):
    d = rng.standard_normal((3, 4)).astype("float32")
    check([((4,), "float32")], tl.linalg.diag, [d], lambda a: a[:, :, None] * np.eye(4), [(None, 4, 4)])
    x = rng.standard_normal((3, 4, 6)).astype("float32")
    check([((4, 6), "float32")], tl.linalg.diag_part, [x], lambda a: np.diagonal(a, axis1=1, axis2=2), [(None, 4)])


@pytest.mark.parametrize("shape", [(None, None), (None, 3)])
def test_diag_part_of_matrices_of_unknown_size(rng, shape):
    # Rectangular data: the static rule cannot tell whether the matrices are square.
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    model = check([(shape, "float32")], tl.linalg.diag_part, [x], lambda a: np.diagonal(a, axis1=1, axis2=2),
                  [(None, None)])
    check_gradients(model, tl.linalg.diag_part, [x], [0], rng)


@pytest.mark.parametrize("shape", [(4, 3), (None, None)])
def test_set_diag(rng, shape):
    x = rng.standard_normal((2, 4, 3)).astype("float32")
    d = rng.standard_normal((2, 3)).astype("float32")

    def ref(a, b):
        out = a.copy()
        out[:, np.arange(3), np.arange(3)] = b
        return out
    dshape = (3,) if shape[0] is not None else (None,)
    model = check([(shape, "float32"), (dshape, "float32")], tl.linalg.set_diag, [x, d], ref,
                  [(None,) + shape])
    check_gradients(model, tl.linalg.set_diag, [x, d], [0, 1], rng)


def test_inv_and_expm(rng):
    # float32: a Functional model reads float64 inputs through float32 (Layer.__call__'s input cast).
    a = (rng.standard_normal((3, 4, 4)) + 4 * np.eye(4)).astype("float32")
    check([((4, 4), "float32")], tl.linalg.inv, [a], np.linalg.inv, [(None, 4, 4)], rtol=1e-5)

    def ref_expm(x):  # scaling and squaring with a long Taylor series, in float64
        out = []
        for m in x:
            s = max(0, int(np.ceil(np.log2(max(np.abs(m).sum(0).max(), 1e-300) / 0.25))))
            y, term = np.eye(len(m)), np.eye(len(m))
            for k in range(1, 30):
                term = term @ (m / 2 ** s) / k
                y = y + term
            for _ in range(s):
                y = y @ y
            out.append(y)
        return np.array(out)
    x = (rng.standard_normal((3, 4, 4)) * 2).astype("float32")   # norms that need squarings
    got = check([((4, 4), "float32")], tl.linalg.expm, [x], ref_expm, [(None, 4, 4)], rtol=2e-3)
    np.testing.assert_allclose(got(tl.constant(x)).numpy(), ref_expm(x.astype(np.float64)), rtol=2e-5,
                               atol=2e-5 * np.abs(ref_expm(x.astype(np.float64))).max())


# ----------------------------------------------------------------- reductions over unknown sizes
@pytest.mark.parametrize("name,ref,axis,shape", [
    ("reduce_mean", np.mean, 0, (3,)), ("reduce_mean", np.mean, None, ()),
    ("reduce_variance", np.var, 0, (3,)), ("reduce_std", np.std, [0, 1], ()),
])
def test_mean_variance_std_over_the_batch(rng, name, ref, axis, shape):
    x = rng.standard_normal((7, 3)).astype("float32")
    op = getattr(tl.math, name)

    def fn(v):
        return op(v, axis=axis)
    model = check([((3,), "float32")], fn, [x], lambda a: ref(a, axis=None if axis is None else tuple(
        [axis] if isinstance(axis, int) else axis)), [shape], predict=False, rtol=1e-5)
    check_gradients(model, fn, [x], [0], rng)


def test_moments_and_integer_means_over_the_batch(rng):
    x = rng.standard_normal((6, 2, 3)).astype("float32")
    check([((2, 3), "float32")], lambda v: tl.nn.moments(v, axes=[0, 1]), [x],
          lambda a: (a.mean(axis=(0, 1)), a.var(axis=(0, 1))), [(3,), (3,)], predict=False, rtol=1e-5)
    i = rng.integers(-50, 50, (5, 4)).astype("int32")
    check([((4,), "int32")], lambda v: tl.reduce_mean(v, axis=0, keepdims=True), [i],
          lambda a: np.trunc(a.sum(0, keepdims=True) / 5), [(1, 4)], predict=False)


def test_reduce_logsumexp_of_rows_of_minus_infinity(rng):
    x = rng.standard_normal((4, 5)).astype("float32")
    x[1] = -np.inf
    x[2, :2] = -np.inf

    def ref(a):
        with np.errstate(divide="ignore"):
            return np.log(np.exp(a).sum(axis=1))
    check([((5,), "float32")], lambda v: tl.reduce_logsumexp(v, axis=1), [x], ref, [(None,)], rtol=1e-6)


# ----------------------------------------------------------------- zeros_like, ones_like, check_numerics
def test_zeros_like_and_ones_like_have_the_batch_size_of_the_data(rng):
    x = rng.standard_normal((5, 3)).astype("float32")
    check([((3,), "float32")], lambda v: tl.zeros_like(v) + v, [x], lambda a: a, [(None, 3)])
    check([((3,), "float32")], lambda v: tl.ones_like(v, dtype=tl.int32), [x],
          lambda a: np.ones(a.shape, np.int32), [(None, 3)])


def test_check_numerics_checks_each_time_the_model_runs(rng):
    x = rng.standard_normal((4, 3)).astype("float32")

    def op(v):
        return tl.debugging.check_numerics(v * 2.0, "doubled")
    model = check([((3,), "float32")], op, [x], lambda a: 2 * a, [(None, 3)])
    x[2, 1] = np.nan
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"doubled : Tensor had NaN values"):
        model.predict(x, batch_size=4, verbose=0)


# ----------------------------------------------------------------- map_fn, scan, folds
def test_map_fn_over_a_structure(rng):
    a = rng.standard_normal((5, 3)).astype("float32")
    b = rng.standard_normal((5,)).astype("float32")

    def op(x, y):
        return tl.map_fn(lambda e: {"s": tl.reduce_sum(e[0]) * e[1], "d": e[0] * 2.0}, (x, y))

    def run(x, y):
        out = op(x, y)
        return [out["d"], out["s"]]
    model = check([((3,), "float32"), ((), "float32")], run, [a, b],
                  lambda x, y: [2 * x, x.sum(1) * y], [(None, 3), (None,)], rtol=1e-5)
    check_gradients(model, run, [a, b], [0, 1], rng)


def test_vectorized_map(rng):
    a = rng.standard_normal((4, 2, 3)).astype("float32")
    check([((2, 3), "float32")], lambda v: tl.vectorized_map(lambda e: tl.linalg.matmul(e, e, transpose_b=True), v),
          [a], lambda x: x @ np.swapaxes(x, 1, 2), [(None, 2, 2)], rtol=1e-5)


@pytest.mark.parametrize("reverse", [False, True])
def test_scan_with_an_initializer(rng, reverse):
    a = rng.standard_normal((6, 2)).astype("float32")

    def op(v):
        return tl.scan(lambda acc, e: acc * 0.5 + e, v, initializer=tl.constant([1.0, -1.0]), reverse=reverse)

    def ref(x):
        out, acc = np.empty_like(x), np.array([1.0, -1.0])
        for i in (range(len(x) - 1, -1, -1) if reverse else range(len(x))):
            acc = acc * 0.5 + x[i]
            out[i] = acc
        return out
    model = check([((2,), "float32")], op, [a], ref, [(None, 2)], rtol=1e-5)
    check_gradients(model, op, [a], [0], rng)


@pytest.mark.parametrize("name", ["foldl", "foldr"])
def test_folds(rng, name):
    a = rng.standard_normal((5, 3)).astype("float32")

    def op(v):
        return getattr(tl, name)(lambda acc, e: acc * 0.9 + e, v)

    def ref(x):
        rows = list(x if name == "foldl" else x[::-1])
        acc = rows[0]
        for r in rows[1:]:
            acc = acc * 0.9 + r
        return acc
    check([((3,), "float32")], op, [a], ref, [(3,)], predict=False, rtol=1e-5)


def test_recorded_ops_are_single_nodes():
    inputs, out, model = _build([((4, 4), "float32")], lambda v: tl.linalg.band_part(v, 0, 0))
    assert len(model.layers) <= 3   # input, the band mask, the where
