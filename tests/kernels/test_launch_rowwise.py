"""Launch-shape arithmetic of the reduce / rowwise / fused launchers: no GPU, no CuPy needed."""
import itertools
import shutil
import sys

import numpy as np
import pytest

from tensorlab.backend.cuda import kernels as K
from tensorlab.backend.cuda.kernels import fused as F
from tensorlab.backend.cuda.kernels import reduce as R
from tensorlab.backend.cuda.kernels import rowwise as RW
from tensorlab.backend.cuda.kernels._plan import warp_group

MAX_BLOCK = 1024


def check_launch(l):
    assert len(l.grid) <= 3 and len(l.block) <= 3
    assert all(g >= 1 for g in l.grid) and l.grid[1:] == tuple(min(g, 65535) for g in l.grid[1:])
    threads = int(np.prod(l.block))
    assert 1 <= threads <= MAX_BLOCK, l
    if "_rows" in l.kernel:  # warp/block reductions need whole warps
        assert threads % 32 == 0, l
    assert 0 <= l.smem <= 48 * 1024


def test_launchers_import_without_cupy():
    # the launchers only import CuPy inside the functions that launch
    for m in (R, RW, F):
        assert "cupy" not in m.__dict__
    if "cupy" not in sys.modules:
        assert all(m.__name__.endswith(tuple(K.LAUNCHER_MODULES)) for m in K.launcher_modules())


def test_hot_and_exempt_declared():
    for m in (R, RW, F):
        assert isinstance(m.HOT_KERNELS, list) and m.HOT_KERNELS
        assert isinstance(m.EMU_EXEMPT, dict)
    assert "tl_softmax_rows_f32" in K.hot_kernels()


@pytest.mark.parametrize("shape,axes,expect", [
    ((4, 5, 6), (1,), (None, 4, 5, 6)),
    ((4, 5, 6), (2,), (None, 20, 6, 1)),
    ((4, 5, 6), (0, 1), (None, 1, 20, 6)),
    ((4, 5, 6), (0, 2), ((1, 0, 2), 5, 24, 1)),
    ((4, 1, 6), (0, 2), (None, 1, 24, 1)),  # size-1 axis between does not break adjacency
    ((7,), (0,), (None, 1, 7, 1)),
    ((3, 1), (1,), (None, 3, 1, 1)),
])
def test_coalesce(shape, axes, expect):
    assert R.coalesce(shape, axes) == expect


@pytest.mark.parametrize("rows,C", list(itertools.product([1, 7, 300, 100000], [1, 17, 1024, 1025, 4097, 65536, 1 << 22])))
def test_reduce_rows_plan(rows, C):
    if rows * C > 1 << 31:
        pytest.skip("too big to matter")
    plan, info = R.plan_reduce((rows, C), np.float32, "sum", (1,), 132)
    for l in plan.launches:
        check_launch(l)
    first = plan.launches[0]
    if C <= R.WARP_ROW_MAX:
        assert first.kernel == "tl_reduce_sum_rows_warp_f32" and len(plan.launches) == 1
    else:
        assert first.kernel == "tl_reduce_sum_rows_f32"
        chunks, chunk = first.grid[0], int(first.args[4])
        assert chunks * chunk >= C and (chunks - 1) * chunk < C and (chunks == 1 or chunk % 64 == 0)
        assert (len(plan.launches) == 2) == (chunks > 1)
        if chunks > 1:
            assert plan.temps["part0"][0] == (rows, chunks)
            assert float(plan.launches[1].args[-1]) == 1.0 and float(first.args[-1]) == 1.0


def test_mean_scale_only_in_last_stage():
    plan, _ = R.plan_reduce((1, 1 << 22), np.float32, "mean", None, 132)
    assert len(plan.launches) == 2
    assert float(plan.launches[0].args[-1]) == 1.0
    assert float(plan.launches[1].args[-1]) == pytest.approx(1.0 / (1 << 22))


@pytest.mark.parametrize("outer,Rn,inner", [(1, 1000000, 3), (1, 1000, 64), (64, 100, 1000), (7, 5, 2)])
@pytest.mark.parametrize("variant", ["scalar", None])
def test_reduce_cols_plan(outer, Rn, inner, variant):
    plan, info = R.plan_reduce((outer, Rn, inner), np.float32, "max", (1,), 132, variant)
    l = plan.launches[0]
    check_launch(l)
    bx, by = l.block
    vec = 4 if variant is None and inner % 4 == 0 else 1  # the default takes 16-byte loads where it can
    assert l.kernel == ("tl_reduce_max_cols_vec_f32" if vec == 4 else "tl_reduce_max_cols_f32")
    assert bx & (bx - 1) == 0 and by & (by - 1) == 0 and bx * by <= 256
    assert l.grid[0] * bx * vec >= inner and l.smem == bx * by * 4 * vec
    splits, chunk = l.grid[2], int(l.args[5])
    assert splits * chunk >= Rn and (splits - 1) * chunk < Rn
    if splits > 1:
        assert plan.launches[1].grid[2] == 1 and int(plan.launches[1].args[3]) == splits


def test_f16_partials_are_f32():
    plan, info = R.plan_reduce((2, 1 << 20), np.float16, "sum", (1,), 132)
    assert info["acc_dtype"] == np.float32
    assert plan.launches[0].kernel.endswith("_f16") and plan.launches[1].kernel.endswith("_f32")


def test_argreduce_plans():
    plan, info = R.plan_argreduce((3, 1 << 20), np.float32, "argmax", 1, 132)
    assert [l.kernel for l in plan.launches] == ["tl_argmax_rows_f32", "tl_argmax_rows_warp_f32"]
    assert plan.temps["pi"][1] == np.int64
    plan, info = R.plan_argreduce((100000, 3), np.float32, "argmin", 0, 132)
    assert info["perm"] == (1, 0)  # narrow columns: transposed to rows
    plan, info = R.plan_argreduce((100, 64), np.float64, "argmin", 0, 132)
    assert plan.kernels() == ["tl_argmin_cols_f64"]
    with pytest.raises(ValueError):
        R.plan_argreduce((3, 0), np.float32, "argmax", 1)


@pytest.mark.parametrize("rows,C", list(itertools.product([1, 7, 100000], [1, 7, 1023, 1025, 4097, 16385, 65536, 1 << 20])))
def test_row_launch(rows, C):
    l = RW.row_launch("softmax", np.float32, rows, C, (), 132)
    check_launch(l)
    if C <= 1024:
        assert l.kernel == "tl_softmax_rows_warp_f32" and l.block == (256,)
        g = warp_group(C, 4 * RW.ROW_PACKS)  # lanes per row: up to ROW_PACKS float4 packs each
        assert (g == 32 or g * 4 * RW.ROW_PACKS >= C) and (g == 1 or (g // 2) * 4 * RW.ROW_PACKS < C)
        assert l.grid[0] * 8 * (32 // g) >= min(rows, 132 * 32 * 8 * (32 // g))
    else:
        assert l.kernel == "tl_softmax_rows_f32" and l.block[0] in (128, 256, 512)
        assert l.grid[0] == min(rows, 132 * 32)


@pytest.mark.parametrize("M,C", list(itertools.product([1, 37, 4096, 10 ** 6], [1, 3, 32, 33, 1000, 4096])))
def test_col_partial_shape(M, C):
    grid, block, smem, chunks, rpc = RW.col_partial_shape(M, C, 4, 132)
    bx, by = block
    assert bx * by == 256 and bx & (bx - 1) == 0
    assert grid[0] * bx >= C and grid[1] == chunks <= 65535
    assert rpc % by == 0 and chunks * rpc >= M and (chunks - 1) * rpc < M
    assert smem == 2 * 256 * 4


def test_batch_norm_plan_buffers():
    plan = RW.plan_batch_norm_grad(np.float32, 1000, 64, True, 132)
    assert plan.kernels() == ["tl_batch_norm_bwd_partial_f32", "tl_col_sum2_final_f32", "tl_batch_norm_bwd_dx_f32"]
    chunks = plan.temps["pa"][0][0]
    assert int(plan.launches[1].args[2]) == chunks
    with pytest.raises(TypeError):
        RW.suffix(np.float16)


def test_fused_plans():
    l = F.plan_bias_act(np.float32, 10 ** 8, 1024, "gelu_tanh").launches[0]
    assert l.kernel == "tl_bias_act_fwd_f32" and int(l.args[-2]) == 2 and int(l.args[-1]) == 1
    assert l.grid[0] == 132 * 32
    l = F.plan_bias_act(np.float64, 5, 5, "gelu", backward=True, has_bias=False).launches[0]
    assert l.kernel == "tl_bias_act_bwd_f64" and l.args[2] is None and int(l.args[-1]) == 0
    assert F.plan_bias_act(np.float32, 5, 5, "relu").launches[0].grid == (1,)
    with pytest.raises(ValueError):
        F.act_code("softsign")
    l = F.plan_adam(1000, 1e-3, 0.9, 0.999, 1e-7, 1, amsgrad=False).launches[0]
    assert l.args[4] is None and l.grid == (1,)
    s, inv = F.adam_scalars(1e-3, 0.9, 0.999, 1, "torch")
    assert s == pytest.approx(1e-3 / 0.1) and inv == pytest.approx(1 / np.sqrt(0.001))
    s, inv = F.adam_scalars(1e-3, 0.9, 0.999, 1, "keras")
    assert s == pytest.approx(1e-3 * np.sqrt(0.001) / 0.1) and inv == 1.0


def _all_plans():
    plans = []
    for shape, axes in [((5, 17), (1,)), ((2, 1 << 20), (1,)), ((3, 100, 7), (1,)), ((1, 10 ** 6, 3), (1,))]:
        for op in R.OPS:
            for dt in (np.float16, np.float32, np.float64):
                plans.append(("reduce", R.plan_reduce(shape, dt, op, axes)[0]))
    for shape, axis in [((5, 17), 1), ((3, 1 << 20), 1), ((40, 40), 0)]:
        for op in R.ARG_OPS:
            for dt in (np.float32, np.float64):
                plans.append(("reduce", R.plan_argreduce(shape, dt, op, axis)[0]))
    for dt in (np.float32, np.float64):
        for C in (17, 5000):
            for base in ("softmax", "log_softmax", "logsumexp", "softmax_bwd", "log_softmax_bwd",
                         "sparse_xent_fwd_bwd", "layer_norm_fwd", "layer_norm_bwd_dx"):
                plans.append(("rowwise", RW.plan_row_op(base, dt, 3, C, ())))
        plans += [("rowwise", RW.plan_batch_norm_stats(dt, 100, 8)), ("rowwise", RW.plan_batch_norm_grad(dt, 100, 8)),
                  ("rowwise", RW.plan_layer_norm_params_grad(dt, 100, 8))]
        for act in F.ACTIVATIONS:
            plans += [("fused", F.plan_bias_act(dt, 100, 10, act, bw)) for bw in (False, True)]
    plans += [("fused", F.plan_sgd(10, 0.1)), ("fused", F.plan_adam(10, 0.1, 0.9, 0.99, 1e-7, 1))]
    return plans


@pytest.mark.skipif(shutil.which("g++") is None, reason="g++ needed to list the kernels of a .cu")
def test_every_planned_kernel_exists():
    tl_emu = pytest.importorskip("tl_emu")
    names = {stem: set(tl_emu.kernel_names(tl_emu.KERNELS_DIR / f"{stem}.cu")) for stem in ("reduce", "rowwise", "fused")}
    for stem, plan in _all_plans():
        assert plan.stem == stem
        for l in plan.launches:
            assert l.kernel in names[stem], l.kernel
            check_launch(l)
    for m, stem in ((R, "reduce"), (RW, "rowwise"), (F, "fused")):
        assert set(m.HOT_KERNELS) <= names[stem]
