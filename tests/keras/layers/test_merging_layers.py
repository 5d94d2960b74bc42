"""Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot and the functional forms."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers

from tests.keras.layers.layer_checks import check_roundtrip, rand

ELEMENTWISE = [
    (layers.Add, layers.add, lambda xs: sum(xs)),
    (layers.Multiply, layers.multiply, lambda xs: np.prod(xs, axis=0)),
    (layers.Average, layers.average, lambda xs: np.mean(xs, axis=0)),
    (layers.Maximum, layers.maximum, lambda xs: np.max(xs, axis=0)),
    (layers.Minimum, layers.minimum, lambda xs: np.min(xs, axis=0)),
]


@pytest.mark.parametrize("cls,fn,ref", ELEMENTWISE, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("n", [2, 3])
def test_elementwise_merge(cls, fn, ref, n, rng):
    xs = [rand(rng, 2, 3, 4) for _ in range(n)]
    want = ref([x.numpy() for x in xs])
    np.testing.assert_allclose(cls(dtype="float64")(xs).numpy(), want, rtol=1e-12)
    np.testing.assert_allclose(fn(xs, dtype="float64").numpy(), want, rtol=1e-12)
    check_roundtrip(cls(dtype="float64"), xs)
    ins = [keras.Input((3, 4)) for _ in range(n)]
    assert tuple(cls()(ins).shape) == (None, 3, 4)


def test_subtract(rng):
    a, b = rand(rng, 2, 3), rand(rng, 2, 3)
    np.testing.assert_allclose(layers.Subtract(dtype="float64")([a, b]).numpy(), a.numpy() - b.numpy())
    np.testing.assert_allclose(layers.subtract([a, b], dtype="float64").numpy(), a.numpy() - b.numpy())
    with pytest.raises(ValueError, match=r"Subtract.*exactly 2"):
        layers.Subtract()([a, b, a])


def test_merge_gradients(rng):
    a, b = rand(rng, 2, 3), rand(rng, 2, 3)
    with tl.GradientTape() as tape:
        tape.watch([a, b])
        y = layers.Multiply(dtype="float64")([a, b])
        loss = tl.reduce_sum(y)
    ga, gb = tape.gradient(loss, [a, b])
    np.testing.assert_allclose(ga.numpy(), b.numpy())
    np.testing.assert_allclose(gb.numpy(), a.numpy())


def test_merge_broadcasts_size_one(rng):
    a, b = rand(rng, 2, 1, 4), rand(rng, 2, 3, 4)
    np.testing.assert_allclose(layers.Add(dtype="float64")([a, b]).numpy(), a.numpy() + b.numpy())


def test_error_merge_shapes(rng):
    layer = layers.Add()
    with pytest.raises(ValueError, match=r"add.*\(2, 3\).*\(2, 4\)"):
        layer([rand(rng, 2, 3, dtype="float32"), rand(rng, 2, 4, dtype="float32")])
    with pytest.raises(ValueError, match="list"):
        layers.Add()(rand(rng, 2, 3, dtype="float32"))


@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_concatenate(axis, rng):
    a, b = rand(rng, 2, 3, 4), rand(rng, 2, 3, 4)
    want = np.concatenate([a.numpy(), b.numpy()], axis=axis)
    np.testing.assert_array_equal(layers.Concatenate(axis=axis, dtype="float64")([a, b]).numpy(), want)
    np.testing.assert_array_equal(layers.concatenate([a, b], axis=axis, dtype="float64").numpy(), want)
    check_roundtrip(layers.Concatenate(axis=axis, dtype="float64"), [a, b])


def test_concatenate_symbolic_different_sizes():
    y = layers.Concatenate()([keras.Input((3, 4)), keras.Input((3, 5))])
    assert tuple(y.shape) == (None, 3, 9)


def test_error_concatenate_shapes(rng):
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3, 4\).*\(2, 5, 4\)"):
        layers.Concatenate()([rand(rng, 2, 3, 4, dtype="float32"), rand(rng, 2, 5, 4, dtype="float32")])


def test_dot_rank2(rng):
    a, b = rand(rng, 4, 3), rand(rng, 4, 3)
    y = layers.Dot(axes=1, dtype="float64")([a, b]).numpy()
    np.testing.assert_allclose(y, np.sum(a.numpy() * b.numpy(), axis=1, keepdims=True))
    yn = layers.Dot(axes=1, normalize=True, dtype="float64")([a, b]).numpy()
    an = a.numpy() / np.linalg.norm(a.numpy(), axis=1, keepdims=True)
    bn = b.numpy() / np.linalg.norm(b.numpy(), axis=1, keepdims=True)
    np.testing.assert_allclose(yn, np.sum(an * bn, axis=1, keepdims=True), rtol=1e-10)


@pytest.mark.parametrize("axes,sa,sb,eq", [
    (2, (2, 4, 3), (2, 5, 3), "bnd,bmd->bnm"), ((1, 1), (2, 4, 3), (2, 4, 5), "bdn,bdm->bnm"),
    ((2, 1), (2, 4, 3), (2, 3, 5), "bnd,bdm->bnm"), ((1, 2), (2, 3), (2, 4, 3), "bd,bmd->bm"),
])
def test_dot_rank3(axes, sa, sb, eq, rng):
    a, b = rand(rng, *sa), rand(rng, *sb)
    layer = layers.Dot(axes=axes, dtype="float64")
    y = layer([a, b])
    np.testing.assert_allclose(y.numpy(), np.einsum(eq, a.numpy(), b.numpy()), rtol=1e-10)
    assert tuple(layer.compute_output_shape([sa, sb])) == tuple(y.shape)
    check_roundtrip(layer, [a, b])
    ys = layers.Dot(axes=axes)([keras.Input(sa[1:]), keras.Input(sb[1:])])
    assert tuple(ys.shape) == (None,) + tuple(y.shape[1:])


def test_error_dot_dims(rng):
    with pytest.raises(ValueError, match=r"dot.*3 != 4"):
        layers.Dot(axes=1)([rand(rng, 2, 3, dtype="float32"), rand(rng, 2, 4, dtype="float32")])
