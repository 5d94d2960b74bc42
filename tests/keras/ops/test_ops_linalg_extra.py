"""keras.ops.linalg additions against numpy/scipy float64 (and the real Keras where it imports):
cholesky_inverse, eig, eigh, lstsq, lu_factor, matrix_rank, pinv, svd, jvp; gradients; errors."""
import numpy as np
import pytest
import scipy.linalg

import tensorlab as tl
from tensorlab.keras import ops
from tests.keras.ops.helpers import check
from tests.keras.real_keras import K


def _spd(rng, *batch, n=4):
    a = rng.normal(size=batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def test_cholesky_inverse(rng):
    a = _spd(rng, 2)
    lower = np.linalg.cholesky(a)
    check(ops.linalg.cholesky_inverse(lower), np.linalg.inv(a), rtol=1e-10, atol=1e-12)
    check(ops.linalg.cholesky_inverse(np.swapaxes(lower, -1, -2), upper=True), np.linalg.inv(a), rtol=1e-10,
          atol=1e-12)
    if K is not None:
        f = lower.astype("float32")
        check(ops.linalg.cholesky_inverse(f), K.ops.convert_to_numpy(K.ops.linalg.cholesky_inverse(f)), rtol=1e-4,
              atol=1e-5)


def test_eig_and_eigh(rng):
    sym = _spd(rng, 2)
    w, v = ops.linalg.eigh(sym)
    check(w, np.linalg.eigh(sym)[0])
    np.testing.assert_allclose(sym @ v.numpy(), v.numpy() * w.numpy()[..., None, :], atol=1e-10)
    basis = rng.normal(size=(3, 3)) + 3 * np.eye(3)
    a = basis @ np.diag([3.0, -1.0, 0.5]) @ np.linalg.inv(basis)
    w, v = ops.linalg.eig(a)
    np.testing.assert_allclose(np.sort(w.numpy()), [-1.0, 0.5, 3.0], atol=1e-10)
    np.testing.assert_allclose(a @ v.numpy(), v.numpy() * w.numpy(), atol=1e-10)
    with pytest.raises(tl.errors.InvalidArgumentError, match="eig: the matrix has complex eigenvalues"):
        ops.linalg.eig([[0.0, -2.0], [2.0, 0.0]])
    with pytest.raises(ValueError, match=r"eigh: expected a square matrix .*\(2, 3\)"):
        ops.linalg.eigh(np.zeros((2, 3)))


def test_svd_pinv_rank_lstsq(rng):
    x = rng.normal(size=(5, 3))
    u, s, vh = ops.linalg.svd(x)
    assert tuple(u.shape) == (5, 5) and tuple(vh.shape) == (3, 3)
    check(s, np.linalg.svd(x, compute_uv=False))
    np.testing.assert_allclose((u.numpy()[:, :3] * s.numpy()) @ vh.numpy(), x, atol=1e-12)
    u, s, vh = ops.linalg.svd(x, full_matrices=False)
    assert tuple(u.shape) == (5, 3)
    check(ops.linalg.svd(x, compute_uv=False), np.linalg.svd(x, compute_uv=False))
    low_rank = rng.normal(size=(4, 2)) @ rng.normal(size=(2, 5))
    check(ops.linalg.pinv(low_rank), np.linalg.pinv(low_rank), rtol=1e-8, atol=1e-10)
    check(ops.linalg.pinv(low_rank, rcond=0.5), np.linalg.pinv(low_rank, rcond=0.5), rtol=1e-8, atol=1e-10)
    rank = ops.linalg.matrix_rank(low_rank)
    assert rank.dtype == tl.int32 and int(rank) == 2
    assert int(ops.linalg.matrix_rank(low_rank, tol=1e9)) == 0
    b = rng.normal(size=(4, 2))
    check(ops.linalg.lstsq(low_rank, b), np.linalg.lstsq(low_rank, b, rcond=None)[0], rtol=1e-8, atol=1e-10)
    vec = rng.normal(size=5)
    check(ops.linalg.lstsq(x, vec), np.linalg.lstsq(x, vec, rcond=None)[0], rtol=1e-8, atol=1e-10)
    with pytest.raises(ValueError, match=r"lstsq: a has shape \(5, 3\) but b has shape \(4,\); b needs 5 rows"):
        ops.linalg.lstsq(x, np.zeros(4))
    if K is not None:
        f = low_rank.astype("float32")
        check(ops.linalg.pinv(f), K.ops.convert_to_numpy(K.ops.linalg.pinv(f)), rtol=1e-3, atol=1e-4)
        check(ops.linalg.lstsq(f, b.astype("float32")),
              K.ops.convert_to_numpy(K.ops.linalg.lstsq(f, b.astype("float32"))), rtol=1e-3, atol=1e-4)


def test_lu_factor(rng):
    x = rng.normal(size=(2, 4, 4))
    lu, piv = ops.linalg.lu_factor(x)
    for i in range(2):
        want_lu, want_piv = scipy.linalg.lu_factor(x[i])
        check(lu[i], want_lu)
        np.testing.assert_array_equal(piv.numpy()[i], want_piv)
    if K is not None:
        f = x.astype("float32")
        klu, kpiv = K.ops.linalg.lu_factor(f)
        check(lu.numpy().astype("float32"), K.ops.convert_to_numpy(klu), rtol=1e-4, atol=1e-5)
        np.testing.assert_array_equal(piv.numpy(), K.ops.convert_to_numpy(kpiv))


def test_pinv_gradient(rng):
    x = rng.normal(size=(4, 3))
    w = rng.uniform(0.5, 1.5, size=(3, 4))
    t = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(t)
        y = tl.reduce_sum(ops.linalg.pinv(t) * w)
    g = tape.gradient(y, t).numpy()
    num = np.zeros_like(x)
    for i in np.ndindex(*x.shape):
        d = np.zeros_like(x)
        d[i] = 1e-6
        num[i] = (np.sum(np.linalg.pinv(x + d) * w) - np.sum(np.linalg.pinv(x - d) * w)) / 2e-6
    np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)


def test_jvp(rng):
    x, y = rng.normal(size=3), rng.normal(size=3)
    dx, dy = rng.normal(size=3), rng.normal(size=3)

    def f(a, b):
        return {"p": tl.sin(a) * b, "q": (a * a, tl.reduce_sum(b))}

    out, tangent = ops.linalg.jvp(f, (tl.constant(x), tl.constant(y)), (tl.constant(dx), tl.constant(dy)))
    check(out["p"], np.sin(x) * y)
    check(tangent["p"], np.cos(x) * y * dx + np.sin(x) * dy)
    check(tangent["q"][0], 2 * x * dx)
    check(tangent["q"][1], np.sum(dy))
    out, tangent, aux = ops.linalg.jvp(lambda a: (a ** 3, "aux"), [tl.constant(2.0)], [tl.constant(1.0)],
                                       has_aux=True)
    assert aux == "aux" and float(out) == 8.0 and float(tangent) == 12.0
    _, zero = ops.linalg.jvp(lambda a: tl.ones([2]), (tl.constant(1.0),), (tl.constant(1.0),))
    check(zero, np.zeros(2))
    with pytest.raises(ValueError, match=r"jvp: each tangent must have its primal's shape, got \(2,\)"):
        ops.linalg.jvp(tl.sin, (tl.constant(x),), (tl.constant(dx[:2]),))
    with pytest.raises(TypeError, match="jvp: primals and tangents must be tuples or lists"):
        ops.linalg.jvp(tl.sin, tl.constant(x), tl.constant(dx))
