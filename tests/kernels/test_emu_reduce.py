"""reduce.cu on the host emulator: the launcher's own plans, odd sizes, NaN-poisoned outputs."""
import shutil

import numpy as np
import pytest

from tensorlab.backend.cuda.kernels import reduce as R
from tensorlab.backend.cuda.kernels._plan import run_plan

tl_emu = pytest.importorskip("tl_emu")
if shutil.which(tl_emu.CXX) is None:
    pytest.skip(f"{tl_emu.CXX} not found: the host emulator needs a C++20 compiler", allow_module_level=True)
SM = 4  # a tiny GPU, so that small inputs already take the split (two-pass) paths


@pytest.fixture(scope="module")
def lib():
    return tl_emu.build("reduce")


class PoisonXP:
    @staticmethod
    def empty(shape, dtype):
        dtype = np.dtype(dtype)
        return np.full(shape, np.nan if dtype.kind == "f" else -7, dtype)


def run(lib, plan, bufs):
    return run_plan(plan, bufs, xp=PoisonXP, launch_fn=lambda k, g, b, s, *a: tl_emu.launch(lib, k, g, b, s, *a))


def emu_reduce(lib, x, op, axes):
    plan, info = R.plan_reduce(x.shape, x.dtype, op, axes, SM)
    src = np.ascontiguousarray(x.transpose(info["perm"]) if info["perm"] is not None else x)
    out = np.full(info["out_shape"], np.nan, info["acc_dtype"])
    run(lib, plan, {"x": src, "out": out})
    return out, plan


def ref_reduce(x, op, axes):
    x64 = x.astype(np.float64)
    return {"sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min}[op](x64, axis=axes)


def make(rng, shape, dtype, op):
    if op == "prod":
        return rng.uniform(0.98, 1.02, shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


ROW_CASES = [((3, 1), (1,)), ((5, 17), (1,)), ((4, 33), (1,)), ((3, 1025), (1,)), ((2, 9000), (1,)),
             ((1, 20000), None), ((37, 64), (1,)), ((2, 3, 5), (1, 2))]
COL_CASES = [((33, 7), (0,)), ((2, 700, 40), (1,)), ((5, 4, 3), (0, 1)), ((6000, 3), (0,)),
             ((3, 4, 5, 6), (0, 2)), ((7, 1, 9), (0,))]


@pytest.mark.parametrize("shape,axes", ROW_CASES + COL_CASES)
@pytest.mark.parametrize("op", R.OPS)
def test_reduce_f32(lib, shape, axes, op):
    rng = np.random.default_rng(hash((shape, op)) & 0xffff)
    x = make(rng, shape, np.float32, op)
    out, plan = emu_reduce(lib, x, op, axes)
    ref = ref_reduce(x, op, axes)
    tol = 1e-5 * max(1.0, float(np.abs(x).sum(axis=axes).max())) if op in ("sum", "mean") else 1e-5
    if op == "mean":
        tol /= max(1, x.size // max(1, np.asarray(ref).size))
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=tol)


@pytest.mark.parametrize("shape,axes", [((5, 1025), (1,)), ((2, 9000), (1,)), ((2, 700, 40), (1,)), ((9, 13), (0,))])
@pytest.mark.parametrize("op", ["sum", "max", "prod"])
def test_reduce_f64_and_f16(lib, shape, axes, op):
    rng = np.random.default_rng(1)
    for dt, rtol in ((np.float64, 1e-12), (np.float16, 2e-3)):
        x = make(rng, shape, dt, op)
        out, _ = emu_reduce(lib, x, op, axes)
        ref = ref_reduce(x, op, axes)
        atol = rtol * max(1.0, float(np.abs(x.astype(np.float64)).sum(axis=axes).max())) if op == "sum" else rtol
        np.testing.assert_allclose(out, ref, rtol=rtol, atol=atol)


def test_variants_are_exercised():
    names = set()
    for shape, axes in ROW_CASES + COL_CASES:
        names.update(R.plan_reduce(shape, np.float32, "sum", axes, SM)[0].kernels())
    assert {"tl_reduce_sum_rows_warp_f32", "tl_reduce_sum_rows_f32", "tl_reduce_sum_cols_f32"} <= names
    assert any(len(R.plan_reduce(s, np.float32, "sum", a, SM)[0].launches) == 2 for s, a in ROW_CASES)
    assert any(len(R.plan_reduce(s, np.float32, "sum", a, SM)[0].launches) == 2 for s, a in COL_CASES)


def test_misaligned_rows(lib):
    # odd row length: most rows start off a 16-byte boundary, exercising the scalar head
    x = np.random.default_rng(2).standard_normal((9, 1031)).astype(np.float32)
    out, _ = emu_reduce(lib, x, "sum", (1,))
    np.testing.assert_allclose(out, x.astype(np.float64).sum(1), rtol=1e-5, atol=1e-4)


def test_nan_propagates(lib):
    x = np.random.default_rng(3).standard_normal((4, 2000)).astype(np.float32)
    x[1, 1500] = np.nan
    x[2, 3] = np.nan
    for op in ("max", "min", "sum"):
        out, _ = emu_reduce(lib, x, op, (1,))
        assert np.isnan(out[1]) and np.isnan(out[2]) and not np.isnan(out[0]) and not np.isnan(out[3])


ARG_CASES = [((3, 1), -1), ((5, 17), 1), ((4, 33), 1), ((3, 1025), 1), ((2, 9000), 1), ((20000,), None),
             ((33, 7), 0), ((6000, 3), 0), ((3, 50, 40), 1), ((2, 3, 4), None)]


@pytest.mark.parametrize("shape,axis", ARG_CASES)
@pytest.mark.parametrize("op", R.ARG_OPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_argreduce(lib, shape, axis, op, dtype):
    rng = np.random.default_rng(4)
    x = rng.integers(-50, 50, shape).astype(dtype)  # many ties: first index must win
    plan, info = R.plan_argreduce(x.shape, x.dtype, op, axis, SM)
    src = x.reshape(-1) if axis is None else x
    if info["perm"] is not None:
        src = src.transpose(info["perm"])
    out = np.full(info["out_shape"], -7, np.int64)
    run(lib, plan, {"x": np.ascontiguousarray(src), "out": out})
    ref = (np.argmax if op == "argmax" else np.argmin)(x, axis=axis)
    np.testing.assert_array_equal(out, ref)


def test_argmax_nan_first(lib):
    x = np.random.default_rng(5).standard_normal((3, 5000)).astype(np.float32)
    x[0, 4000] = np.nan
    x[0, 4500] = np.nan
    x[2, 7] = np.nan
    plan, info = R.plan_argreduce(x.shape, x.dtype, "argmax", 1, SM)
    out = np.full(3, -7, np.int64)
    run(lib, plan, {"x": x, "out": out})
    np.testing.assert_array_equal(out, np.argmax(x, axis=1))


# The "vec" candidate: 16-byte loads along inner (inner a multiple of 4 f32 / 8 f16 / 2 f64).
VEC_CASES = [((33, 8), (0,)), ((2, 700, 40), (1,)), ((6000, 4), (0,)), ((3, 300, 64), (0, 1)),
             ((5, 4, 3, 8), (1, 2)), ((1, 2, 16), (1,)), ((4096, 12), (0,)), ((20000, 16), (0,))]


@pytest.mark.parametrize("shape,axes", VEC_CASES)
@pytest.mark.parametrize("op", R.OPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_reduce_cols_vec(lib, shape, axes, op, dtype):
    rng = np.random.default_rng(hash((shape, op, np.dtype(dtype).name)) & 0xffff)
    x = make(rng, shape, dtype, op)
    plan, info = R.plan_reduce(x.shape, x.dtype, op, axes, SM, variant="vec")
    suf = R._SUF[np.dtype(dtype)]
    inner = info["inner"]
    if inner % R._VEC[suf] == 0:
        assert plan.kernels()[0].endswith(f"_cols_vec_{suf}")
    else:  # f16 needs inner % 8: the scalar kernel takes it
        assert plan.kernels()[0].endswith(f"_cols_{suf}")
    out = np.full(info["out_shape"], np.nan, info["acc_dtype"])
    run(lib, plan, {"x": np.ascontiguousarray(x), "out": out})
    ref = ref_reduce(x, op, axes)
    rtol = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-3}[dtype]
    if op == "prod":  # the rounding of n products grows like sqrt(n) eps (20000 float32 factors: ~1e-5)
        n = x.size // max(1, np.asarray(ref).size)
        rtol = max(rtol, 4 * np.finfo(info["acc_dtype"]).eps * np.sqrt(n))
    atol = rtol * max(1.0, float(np.abs(x.astype(np.float64)).sum(axis=axes).max())) if op in ("sum", "mean") else 0
    np.testing.assert_allclose(out, ref, rtol=rtol, atol=atol)


def test_vec_variant_plans():
    # Column shapes take two passes (split over R) with the vector kernel in both; so does the
    # default on an aligned input, while a misaligned one (or variant "scalar") takes the scalar
    # kernel; rows ignore the variant; unknown variants fail.
    plan, _ = R.plan_reduce((4096, 12), np.float32, "sum", (0,), SM, variant="vec")
    assert plan.kernels() == ["tl_reduce_sum_cols_vec_f32", "tl_reduce_sum_cols_vec_f32"]
    assert R.plan_reduce((4096, 12), np.float32, "sum", (0,), SM)[0].kernels() == plan.kernels()
    assert R.plan_reduce((4096, 12), np.float32, "sum", (0,), SM, variant="vec", aligned=False)[0].kernels() == \
        plan.kernels()
    for kw in ({"variant": "scalar"}, {"aligned": False}):
        assert R.plan_reduce((4096, 12), np.float32, "sum", (0,), SM, **kw)[0].kernels() == \
            ["tl_reduce_sum_cols_f32", "tl_reduce_sum_cols_f32"]
    # float16 partials are float32: the second pass uses the f32 vector kernel when inner % 4 == 0
    assert R.plan_reduce((40000, 16), np.float16, "max", (0,), SM, variant="vec")[0].kernels() == \
        ["tl_reduce_max_cols_vec_f16", "tl_reduce_max_cols_vec_f32"]
    assert R.plan_reduce((8, 1000), np.float32, "sum", (1,), SM, variant="vec")[0].kernels() == \
        R.plan_reduce((8, 1000), np.float32, "sum", (1,), SM)[0].kernels()
    with pytest.raises(ValueError, match="no variant 'fast'"):
        R.plan_reduce((8, 8), np.float32, "sum", (0,), SM, variant="fast")
