"""rowwise.cu on the host emulator, through the launcher's plans, against float64 numpy."""
import shutil

import numpy as np
import pytest

from tensorlab.backend.cuda.kernels import rowwise as RW
from tensorlab.backend.cuda.kernels._plan import Buf, i64, run_plan

tl_emu = pytest.importorskip("tl_emu")
if shutil.which(tl_emu.CXX) is None:
    pytest.skip(f"{tl_emu.CXX} not found: the host emulator needs a C++20 compiler", allow_module_level=True)
SM = 4


@pytest.fixture(scope="module")
def lib():
    return tl_emu.build("rowwise")


class PoisonXP:
    @staticmethod
    def empty(shape, dtype):
        return np.full(shape, np.nan, dtype)


def run(lib, plan, bufs):
    run_plan(plan, bufs, xp=PoisonXP, launch_fn=lambda k, g, b, s, *a: tl_emu.launch(lib, k, g, b, s, *a))


SHAPES = [(1, 1), (3, 7), (5, 17), (4, 33), (2, 1023), (3, 1025), (2, 4097), (1, 17000)]
TOL = {np.float32: 2e-5, np.float64: 1e-12}


def rnd(shape, dtype, seed=0, scale=3.0):
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def ref_softmax(x):
    x = x.astype(np.float64)
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def ref_lse(x):
    x = x.astype(np.float64)
    m = x.max(-1)
    return m + np.log(np.exp(x - m[:, None]).sum(-1))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family(lib, shape, dtype):
    rows, C = shape
    x = rnd(shape, dtype, seed=rows * C)
    for base, ref in (("softmax", ref_softmax(x)), ("log_softmax", np.log(ref_softmax(x))), ("logsumexp", ref_lse(x))):
        out = np.full(ref.shape, np.nan, dtype)
        run(lib, RW.plan_row_op(base, dtype, rows, C, (Buf("x"), Buf("out"), i64(rows), i64(C)), SM),
            {"x": x, "out": out})
        np.testing.assert_allclose(out, ref, rtol=TOL[dtype], atol=TOL[dtype], err_msg=base)


def test_softmax_special_values(lib):
    x = rnd((4, 40), np.float32)
    x[0, :] = -np.inf
    x[1, 5:] = -np.inf
    x[2, 7] = np.nan
    out = np.full(x.shape, np.nan, np.float32)
    run(lib, RW.plan_row_op("softmax", np.float32, 4, 40, (Buf("x"), Buf("out"), i64(4), i64(40)), SM),
        {"x": x, "out": out})
    assert np.isnan(out[0]).all() and np.isnan(out[2]).all()
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(out[1], ref_softmax(x[1:2])[0], rtol=2e-5, atol=1e-7)
    np.testing.assert_allclose(out[3], ref_softmax(x[3:4])[0], rtol=2e-5, atol=1e-7)


CACHED_SHAPES = [(3, 4), (5, 20), (9, 128), (2, 1024), (3, 1028), (2, 4096), (2, 4100), (1, 16384),
                 (1, 16388), (2, 17000)]


@pytest.mark.parametrize("shape", CACHED_SHAPES)
def test_softmax_cached_candidate(lib, shape):
    """Register-cached softmax / log_softmax: warp and block forms, rows that need every pack slot,
    and rows too long for the registers (the launcher then plans the default kernel)."""
    rows, C = shape
    x = rnd(shape, np.float32, seed=rows + C)
    for base, ref in (("softmax", ref_softmax(x)), ("log_softmax", np.log(ref_softmax(x)))):
        out = np.full(shape, np.nan, np.float32)
        plan = RW.plan_row_op(base, np.float32, rows, C, (Buf("x"), Buf("out"), i64(rows), i64(C)), SM,
                              variant="cached")
        name = plan.launches[0].kernel
        assert ("_cached_" in name) == (C <= 16384), name
        if C <= RW.WARP_ROW_MAX:
            assert name == f"tl_{base}_rows_warp_cached_f32"
        elif C <= 16384:
            assert plan.launches[0].block[0] * RW.CACHED_PACKS * 4 >= C
        run(lib, plan, {"x": x, "out": out})
        np.testing.assert_allclose(out, ref, rtol=2e-5, atol=2e-5, err_msg=f"{base} {name}")


def test_softmax_cached_unaligned_and_special_values(lib):
    """A row length that is not a whole number of packs takes the default path inside the
    kernel; -inf, NaN and +inf rows give what the default kernel gives."""
    x = rnd((4, 38), np.float32)  # 38 % 4 != 0: no 16-byte packs
    out = np.full(x.shape, np.nan, np.float32)
    run(lib, RW.plan_row_op("softmax", np.float32, 4, 38, (Buf("x"), Buf("out"), i64(4), i64(38)), SM,
                            variant="cached"), {"x": x, "out": out})
    np.testing.assert_allclose(out, ref_softmax(x), rtol=2e-5, atol=2e-5)
    for C in (40, 2048):
        x = rnd((4, C), np.float32)
        x[0, :] = -np.inf
        x[1, 5:] = -np.inf
        x[2, 7] = np.nan
        x[3, 3] = np.inf
        outs = []
        for variant in (None, "cached"):
            out = np.full(x.shape, 0.5, np.float32)
            run(lib, RW.plan_row_op("softmax", np.float32, 4, C, (Buf("x"), Buf("out"), i64(4), i64(C)), SM,
                                    variant=variant), {"x": x, "out": out})
            outs.append(out)
        np.testing.assert_allclose(outs[1], outs[0], rtol=2e-5, atol=1e-7)
        assert np.isnan(outs[1][[0, 2, 3]]).all()
        with np.errstate(invalid="ignore"):
            np.testing.assert_allclose(outs[1][1], ref_softmax(x[1:2])[0], rtol=2e-5, atol=1e-7)


def test_cached_variant_only_for_the_ops_that_have_one():
    with pytest.raises(ValueError, match="no variant 'cached' for logsumexp"):
        RW.plan_row_op("logsumexp", np.float32, 2, 8, (), SM, variant="cached")
    with pytest.raises(ValueError, match="no variant 'fast' for softmax; valid: None, 'cached'"):
        RW.plan_row_op("softmax", np.float32, 2, 8, (), SM, variant="fast")


@pytest.mark.parametrize("shape", CACHED_SHAPES + [(4, 38)])
def test_sparse_xent_cached_candidate(lib, shape):
    """Register-cached cross-entropy: same loss, dlogits and NaN rows as the default kernel."""
    rows, C = shape
    x = rnd(shape, np.float32, 3)
    labels = np.random.default_rng(4).integers(0, C, rows).astype(np.int64)
    if rows > 2:
        labels[1] = -1  # out of range -> NaN row
    g = rnd((rows,), np.float32, 5, 1.0)
    loss = np.full(rows, np.nan, np.float32)
    dl = np.full(shape, np.nan, np.float32)
    args = (Buf("x"), Buf("lab"), Buf("g"), Buf("loss"), Buf("dl"), i64(rows), i64(C))
    plan = RW.plan_row_op("sparse_xent_fwd_bwd", np.float32, rows, C, args, SM, variant="cached")
    assert ("_cached_" in plan.launches[0].kernel) == (C <= 16384)
    run(lib, plan, {"x": x, "lab": labels, "g": g, "loss": loss, "dl": dl})
    good = (labels >= 0) & (labels < C)
    ref_loss = ref_lse(x) - x.astype(np.float64)[np.arange(rows), np.clip(labels, 0, C - 1)]
    onehot = np.zeros(shape)
    onehot[np.arange(rows)[good], labels[good]] = 1
    ref_dl = (ref_softmax(x) - onehot) * g.astype(np.float64)[:, None]
    np.testing.assert_allclose(loss[good], ref_loss[good], rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(dl[good], ref_dl[good], rtol=2e-5, atol=2e-6)
    assert np.isnan(loss[~good]).all() and np.isnan(dl[~good]).all()


@pytest.mark.parametrize("shape", CACHED_SHAPES + [(4, 38)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_cached_candidate(lib, shape, affine):
    rows, C = shape
    x = rnd(shape, np.float32, 6) + np.float32(5)  # offset mean: exercises the shifted variance
    gamma = rnd((C,), np.float32, 7, 1.0) if affine else None
    beta = rnd((C,), np.float32, 8, 1.0) if affine else None
    bufs = {"x": x, "gamma": gamma, "beta": beta, "y": np.full(shape, np.nan, np.float32),
            "mean": np.full(rows, np.nan, np.float32), "rstd": np.full(rows, np.nan, np.float32)}
    args = (Buf("x"), Buf("gamma") if affine else None, Buf("beta") if affine else None, Buf("y"), Buf("mean"),
            Buf("rstd"), i64(rows), i64(C), np.float32(1e-5))
    plan = RW.plan_row_op("layer_norm_fwd", np.float32, rows, C, args, SM, variant="cached")
    assert ("_cached_" in plan.launches[0].kernel) == (C <= 16384)
    run(lib, plan, bufs)
    ry, rm, rr = ref_ln(x, gamma, beta, 1e-5)
    np.testing.assert_allclose(bufs["y"], ry, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bufs["mean"], rm, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(bufs["rstd"], rr, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", SHAPES)
def test_softmax_backward(lib, shape):
    rows, C = shape
    x = rnd(shape, np.float32, 1)
    dy = rnd(shape, np.float32, 2, 1.0)
    y = ref_softmax(x).astype(np.float32)
    ly = np.log(ref_softmax(x)).astype(np.float32)
    y64, ly64, dy64 = y.astype(np.float64), ly.astype(np.float64), dy.astype(np.float64)
    cases = (("softmax_bwd", y, y64 * (dy64 - (dy64 * y64).sum(-1, keepdims=True))),
             ("log_softmax_bwd", ly, dy64 - np.exp(ly64) * dy64.sum(-1, keepdims=True)))
    for base, yy, ref in cases:
        dx = np.full(shape, np.nan, np.float32)
        run(lib, RW.plan_row_op(base, np.float32, rows, C, (Buf("y"), Buf("dy"), Buf("dx"), i64(rows), i64(C)), SM),
            {"y": yy, "dy": dy, "dx": dx})
        np.testing.assert_allclose(dx, ref, rtol=1e-4, atol=1e-5 * max(1, np.sqrt(C)), err_msg=base)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("with_grad", [False, True])
def test_sparse_xent(lib, shape, with_grad):
    rows, C = shape
    x = rnd(shape, np.float32, 3)
    labels = np.random.default_rng(4).integers(0, C, rows).astype(np.int64)
    if rows > 2:
        labels[1] = C  # out of range -> NaN row
    g = rnd((rows,), np.float32, 5, 1.0) if with_grad else None
    loss = np.full(rows, np.nan, np.float32)
    dl = np.full(shape, np.nan, np.float32)
    args = (Buf("x"), Buf("lab"), Buf("g") if with_grad else None, Buf("loss"), Buf("dl"), i64(rows), i64(C))
    run(lib, RW.plan_row_op("sparse_xent_fwd_bwd", np.float32, rows, C, args, SM),
        {"x": x, "lab": labels, "g": g, "loss": loss, "dl": dl})
    good = (labels >= 0) & (labels < C)
    p = ref_softmax(x)
    ref_loss = ref_lse(x) - x.astype(np.float64)[np.arange(rows), np.minimum(labels, C - 1)]
    onehot = np.zeros(shape)
    onehot[np.arange(rows)[good], labels[good]] = 1
    ref_dl = (p - onehot) * (g.astype(np.float64)[:, None] if with_grad else 1.0)
    np.testing.assert_allclose(loss[good], ref_loss[good], rtol=2e-5, atol=2e-5)
    np.testing.assert_allclose(dl[good], ref_dl[good], rtol=2e-5, atol=2e-6)
    assert np.isnan(loss[~good]).all() and np.isnan(dl[~good]).all()


def ref_ln(x, gamma, beta, eps):
    x = x.astype(np.float64)
    mu = x.mean(-1, keepdims=True)
    rstd = 1 / np.sqrt(x.var(-1, keepdims=True) + eps)
    y = (x - mu) * rstd
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y, mu[:, 0], rstd[:, 0]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(lib, shape, dtype, affine):
    rows, C = shape
    x = rnd(shape, dtype, 6) + dtype(5)  # offset mean: exercises the shifted variance
    gamma = rnd((C,), dtype, 7, 1.0) if affine else None
    beta = rnd((C,), dtype, 8, 1.0) if affine else None
    eps = 1e-5
    y = np.full(shape, np.nan, dtype)
    mean = np.full(rows, np.nan, dtype)
    rstd = np.full(rows, np.nan, dtype)
    args = (Buf("x"), Buf("gamma") if affine else None, Buf("beta") if affine else None, Buf("y"), Buf("mean"),
            Buf("rstd"), i64(rows), i64(C), dtype(eps))
    run(lib, RW.plan_row_op("layer_norm_fwd", dtype, rows, C, args, SM),
        {"x": x, "gamma": gamma, "beta": beta, "y": y, "mean": mean, "rstd": rstd})
    ry, rm, rr = ref_ln(x, gamma, beta, eps)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(y, ry, rtol=tol, atol=tol)
    np.testing.assert_allclose(mean, rm, rtol=tol, atol=tol)
    np.testing.assert_allclose(rstd, rr, rtol=tol, atol=tol)

    # backward: dx per row, dgamma/dbeta through the two-stage column reduction
    dy = rnd(shape, dtype, 9, 1.0)
    mean, rstd = rm.astype(dtype), rr.astype(dtype)
    bufs = {"dy": dy, "x": x, "gamma": gamma, "mean": mean, "rstd": rstd, "dx": np.full(shape, np.nan, dtype),
            "dgamma": np.full(C, np.nan, dtype), "dbeta": np.full(C, np.nan, dtype)}
    args = (Buf("dy"), Buf("x"), Buf("gamma") if affine else None, Buf("mean"), Buf("rstd"), Buf("dx"),
            i64(rows), i64(C))
    run(lib, RW.plan_row_op("layer_norm_bwd_dx", dtype, rows, C, args, SM), bufs)
    run(lib, RW.plan_layer_norm_params_grad(dtype, rows, C, SM), bufs)
    x64, dy64 = x.astype(np.float64), dy.astype(np.float64)
    xhat = (x64 - rm[:, None]) * rr[:, None]
    gdy = dy64 * (gamma.astype(np.float64) if affine else 1.0)
    ref_dx = rr[:, None] * (gdy - gdy.mean(-1, keepdims=True) - xhat * (gdy * xhat).mean(-1, keepdims=True))
    tol = 2e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(bufs["dx"], ref_dx, rtol=tol, atol=tol)
    np.testing.assert_allclose(bufs["dgamma"], (dy64 * xhat).sum(0), rtol=tol, atol=tol * np.sqrt(rows))
    np.testing.assert_allclose(bufs["dbeta"], dy64.sum(0), rtol=tol, atol=tol * np.sqrt(rows))


BN_SHAPES = [(1, 3), (7, 1), (37, 5), (300, 17), (1000, 33), (64, 70)]


@pytest.mark.parametrize("shape", BN_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm(lib, shape, dtype):
    M, C = shape
    x = rnd(shape, dtype, 10) + dtype(4)
    mean = np.full(C, np.nan, dtype)
    var = np.full(C, np.nan, dtype)
    run(lib, RW.plan_batch_norm_stats(dtype, M, C, SM), {"x": x, "mean": mean, "var": var})
    x64 = x.astype(np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(mean, x64.mean(0), rtol=tol, atol=tol)
    np.testing.assert_allclose(var, x64.var(0), rtol=tol * 10, atol=tol * 10)

    eps = 1e-3
    rstd64 = 1 / np.sqrt(x64.var(0) + eps)
    gamma = rnd((C,), dtype, 11, 1.0)
    dy = rnd(shape, dtype, 12, 1.0)
    bufs = {"dy": dy, "x": x, "mean": x64.mean(0).astype(dtype), "rstd": rstd64.astype(dtype), "gamma": gamma,
            "dx": np.full(shape, np.nan, dtype), "dgamma": np.full(C, np.nan, dtype), "dbeta": np.full(C, np.nan, dtype)}
    run(lib, RW.plan_batch_norm_grad(dtype, M, C, True, SM), bufs)
    dy64 = dy.astype(np.float64)
    xhat = (x64 - x64.mean(0)) * rstd64
    dbeta, dgamma = dy64.sum(0), (dy64 * xhat).sum(0)
    ref_dx = gamma.astype(np.float64) * rstd64 * (dy64 - dbeta / M - xhat * dgamma / M)
    tol = 2e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(bufs["dbeta"], dbeta, rtol=tol, atol=tol * np.sqrt(M))
    np.testing.assert_allclose(bufs["dgamma"], dgamma, rtol=tol, atol=tol * np.sqrt(M))
    np.testing.assert_allclose(bufs["dx"], ref_dx, rtol=tol, atol=tol)


def test_plans_cover_both_row_shapes_and_splits():
    names = {RW.row_launch("softmax", np.float32, r, c, (), SM).kernel for r, c in SHAPES}
    assert names == {"tl_softmax_rows_warp_f32", "tl_softmax_rows_f32"}
    assert any(RW.col_partial_shape(M, C, 4, SM)[3] > 1 for M, C in BN_SHAPES)


@pytest.mark.parametrize("C", [40, 2048])
def test_logsumexp_and_softmax_of_infinite_rows(lib, C):
    """logsumexp keeps +inf (one or several), -inf rows give -inf and NaN wins; softmax and the
    cross-entropy of a row holding +inf are NaN, as on the CPU."""
    x = rnd((5, C), np.float32)
    x[0, [3, 9]] = np.inf          # two +inf, seen by different lanes
    x[1, 3] = np.inf
    x[2, :] = -np.inf
    x[3, [2, 5]] = [np.nan, np.inf]
    lse = np.full(5, 0.5, np.float32)
    run(lib, RW.plan_row_op("logsumexp", np.float32, 5, C, (Buf("x"), Buf("out"), i64(5), i64(C)), SM),
        {"x": x, "out": lse})
    np.testing.assert_array_equal(lse[:3], [np.inf, np.inf, -np.inf])
    assert np.isnan(lse[3]) and np.isfinite(lse[4])
    for variant in (None, "cached"):
        sm = np.full(x.shape, 0.5, np.float32)
        run(lib, RW.plan_row_op("softmax", np.float32, 5, C, (Buf("x"), Buf("out"), i64(5), i64(C)), SM,
                                variant=variant), {"x": x, "out": sm})
        assert np.isnan(sm[[0, 1, 2, 3]]).all() and np.isfinite(sm[4]).all()
