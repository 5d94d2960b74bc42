"""General-matrix decompositions (ops/linalg_general.py): lu, lu_factor and eig; forward vs
scipy/numpy float64, gradients vs finite differences (second order too), dropped outputs,
shape rules, error messages, GPU vs CPU."""
import numpy as np
import pytest
import scipy.linalg

import tensorlab as tl
from tests.ops.harness import Case, S, op_tests


# Inputs whose pivots are unambiguous: a small multiple of x added to a row-permuted diagonal
# with entries 2 apart, so partial pivoting picks the same rows for all nearby x.
def _pivoted_base(n):
    base = np.zeros((n, n))
    perm = np.roll(np.arange(n), 1)
    base[perm, np.arange(n)] = 2.0 * np.arange(n, 0, -1) + 2.0
    return base


def _lu_np(x):
    a = 0.05 * x + _pivoted_base(x.shape[-1])
    return np.vectorize(lambda m: scipy.linalg.lu_factor(m)[0], signature="(n,n)->(n,n)")(a)


def _lu_tl(x):
    return tl.linalg.lu_factor(0.05 * x + tl.constant(_pivoted_base(x.shape[-1]), dtype=x.dtype))[0]


# Distinct real eigenvalues 2 apart under a fixed, well-conditioned change of basis.
_BASIS = np.array([[1.0, 0.3, -0.2, 0.1], [0.2, 1.0, 0.4, -0.3], [-0.1, 0.2, 1.0, 0.3], [0.3, -0.2, 0.1, 1.0]])


def _eig_base(n):
    v = _BASIS[:n, :n]
    return v @ np.diag(2.0 * np.arange(1, n + 1)) @ np.linalg.inv(v)


def _eig_np(x):
    w, v = np.linalg.eig(0.05 * x + _eig_base(x.shape[-1]))
    order = np.argsort(w.real, axis=-1)
    w = np.take_along_axis(w.real, order, -1)
    v = np.take_along_axis(v.real, order[..., None, :], -1)
    return w, v * np.sign(np.sum(v, axis=-2, keepdims=True))


def _eig_tl(x):
    # LAPACK's order is not stable under perturbation: sort, and sign each vector by its sum.
    w, v = tl.linalg.eig(0.05 * x + tl.constant(_eig_base(x.shape[-1]), dtype=x.dtype))
    order = tl.argsort(w, axis=-1)
    w = tl.gather(w, order, batch_dims=len(w.shape) - 1)
    v = tl.gather(v, order, axis=len(v.shape) - 1, batch_dims=len(v.shape) - 2)
    return w, v * tl.sign(tl.reduce_sum(v, axis=-2, keepdims=True))


CASES = [
    Case("lu_factor", _lu_tl, _lu_np, [S((4, 4))]),
    Case("lu_factor[batched]", _lu_tl, _lu_np, [S((2, 3, 3))]),
    Case("lu[reconstruct]", lambda x: _lu_reconstruct(tl.linalg.lu(x)), lambda x: x, [S((3, 3))], second=False),
    Case("eig", _eig_tl, _eig_np, [S((4, 4))]),
    Case("eig[batched]", _eig_tl, _eig_np, [S((2, 3, 3))]),
]


def _lu_reconstruct(out):
    lu, p = out
    n = lu.shape[-1]
    lower = tl.linalg.set_diag(tl.linalg.band_part(lu, -1, 0), tl.ones([n], dtype=lu.dtype))
    lu_product = tl.matmul(lower, tl.linalg.band_part(lu, 0, -1))
    return tl.gather(lu_product, tl.argsort(p), axis=0)  # rows back in the input's order


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3), (2, 4, 2)])
def test_lu_factor_matches_scipy_with_pivots(shape, rng):
    x = rng.normal(size=shape)
    lu, piv = tl.linalg.lu_factor(tl.constant(x))
    assert piv.dtype == tl.int32 and tuple(piv.shape) == shape[:-2] + (min(shape[-2:]),)
    for i in np.ndindex(*shape[:-2]):
        want_lu, want_piv = scipy.linalg.lu_factor(x[i])
        np.testing.assert_allclose(lu.numpy()[i], want_lu, rtol=1e-12, atol=1e-12)
        np.testing.assert_array_equal(piv.numpy()[i], want_piv)


def test_lu_permutation_reconstructs_and_singular_columns_stay_zero(rng):
    x = rng.normal(size=(5, 5))
    lu, p = tl.linalg.lu(tl.constant(x))
    lower = np.tril(lu.numpy(), -1) + np.eye(5)
    np.testing.assert_allclose(lower @ np.triu(lu.numpy()), x[p.numpy()], atol=1e-12)
    singular = np.array([[0.0, 1.0], [0.0, 2.0]])  # a zero pivot: getrf goes on without dividing
    got, piv = tl.linalg.lu_factor(tl.constant(singular))
    with pytest.warns(scipy.linalg.LinAlgWarning):
        want, want_piv = scipy.linalg.lu_factor(singular)
    np.testing.assert_allclose(got.numpy(), want)
    np.testing.assert_array_equal(piv.numpy(), want_piv)


def test_eig_matches_numpy_and_diagonalizes(rng):
    v = rng.normal(size=(2, 4, 4)) + 3 * np.eye(4)
    a = v @ np.diag([1.0, -2.0, 3.5, 0.5]) @ np.linalg.inv(v)
    w, vec = tl.linalg.eig(tl.constant(a))
    np.testing.assert_allclose(np.sort(w.numpy(), -1), np.sort(np.linalg.eigvals(a).real, -1), atol=1e-10)
    np.testing.assert_allclose(a @ vec.numpy(), vec.numpy() * w.numpy()[..., None, :], atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(vec.numpy(), axis=-2), 1.0)


def test_eig_rejects_complex_eigenvalues():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"eig: .*complex eigenvalues.*use eigh"):
        tl.linalg.eig(tl.constant([[0.0, 1.0], [-1.0, 0.0]]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"batch index \(1,\)"):
        tl.linalg.eig(tl.constant([[[1.0, 0.0], [0.0, 2.0]], [[0.0, 1.0], [-1.0, 0.0]]]))


def test_errors_name_the_op_and_shapes():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"lu: input must be square .*\[2,3\]"):
        tl.linalg.lu(tl.zeros([2, 3]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"eig: input must be square"):
        tl.linalg.eig(tl.zeros([2, 3]))
    with pytest.raises(TypeError, match=r"lu_factor: input must be float32 or float64, got dtype int32"):
        tl.linalg.lu_factor(tl.constant([[1, 2], [3, 4]]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"lu_factor: input must have rank >= 2"):
        tl.linalg.lu_factor(tl.zeros([3]))


def test_lu_gradient_of_rectangular_input_is_refused():
    x = tl.constant(np.arange(6.0).reshape(2, 3) + np.eye(2, 3))
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = tl.reduce_sum(tl.linalg.lu_factor(x)[0])
    with pytest.raises(NotImplementedError, match=r"lu: the gradient is only implemented for square"):
        tape.gradient(y, x)


def test_gradient_through_eigenvalues_only(rng):
    # The tape hands None for the dropped eigenvectors: the rule recomputes them.
    a = _eig_base(3) + 0.05 * rng.normal(size=(3, 3))
    x = tl.constant(a)
    with tl.GradientTape() as tape:
        tape.watch(x)
        s = tl.reduce_sum(tl.linalg.eig(x)[0] ** 2)
    g = tape.gradient(s, x).numpy()
    w, v = np.linalg.eig(a)
    want = np.linalg.inv(v).T @ np.diag(2 * w.real) @ v.T  # d sum(w^2) / dA = V^-T diag(2w) V^T
    np.testing.assert_allclose(g, want.real, rtol=1e-8, atol=1e-10)
