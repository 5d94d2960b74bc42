"""Launch planning of the GEMM-family launchers (matmul / conv / pool): no GPU, no CuPy."""
import re
from pathlib import Path

import pytest

from tensorlab.backend.cuda.kernels import conv as cv
from tensorlab.backend.cuda.kernels import pool as pl
from tensorlab.backend.cuda.kernels import matmul as mm

REPO = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ matmul


@pytest.mark.parametrize("m,n,k,dt,tf32,batch,expect", [
    (4096, 4096, 4096, "float32", False, 1, "tl_matmul_f32_128x128k16"),
    (1024, 1024, 1024, "float32", False, 1, "tl_matmul_f32_64x64"),  # 64 big tiles < 132 SMs
    (1024, 1024, 1024, "float32", False, 4, "tl_matmul_f32_128x128k16"),
    (64, 8192, 8192, "float32", False, 1, "tl_matmul_f32_64x64"),
    (17, 1, 33, "float32", False, 1, "tl_matvec_f32"),
    (1, 17, 33, "float32", False, 1, "tl_matvec_f32"),
    (1, 1, 1, "float32", False, 1, "tl_matvec_f32"),
    (256, 256, 256, "float32", True, 1, "tl_matmul_tf32_tc"),
    (7, 9, 11, "float16", False, 1, "tl_matmul_f16_tc"),
    (7, 9, 11, "bfloat16", False, 1, "tl_matmul_bf16_tc"),
    (7, 9, 11, "float64", False, 1, "tl_matmul_f64_tiled"),
])
def test_select_variant(m, n, k, dt, tf32, batch, expect):
    assert mm.select_variant(m, n, k, dt, tf32, batch) == expect


@pytest.mark.parametrize("m,n,k,batch,cc,expect", [
    (2048, 2048, 2048, 1, None, "tc_128x256"),   # large: the 128x256 mma.sync tile
    (2048, 2048, 2048, 1, "90", "wgmma"),        # ... or wgmma where the sm_90a kernels run
    (2048, 2048, 2050, 1, "90", "tc_128x256"),   # wgmma needs K % 8 == 0
    (1024, 1024, 1024, 1, "90", "tc"),           # too few 128x256 tiles to fill the GPU
    (1024, 1024, 1024, 4, "90", "wgmma"),        # a batch fills it
    (64, 8192, 8192, 1, "90", "tc"),             # M below one 128-row tile
    (8192, 128, 64, 8, "90", "tc"),              # N below one 256-column tile
    (16, 16, 64, 100000, "90", "tc"),            # many tiny matrices
])
@pytest.mark.parametrize("dt,suf", [("float16", "f16"), ("bfloat16", "bf16")])
def test_select_variant_16bit(m, n, k, batch, cc, expect, dt, suf):
    assert mm.select_variant(m, n, k, dt, False, batch, 132, cc) == f"tl_matmul_{suf}_{expect}"


def test_select_variant_rejects_ints():
    with pytest.raises(TypeError):
        mm.select_variant(4, 4, 4, "int32")


@pytest.mark.parametrize("variant,m,n,batch,grid,block,smem", [
    ("tl_matmul_f32_128x128", 4097, 1023, 1, (8, 33, 1), (256, 1, 1), 0),
    ("tl_matmul_f32_64x64", 17, 65, 3, (2, 1, 3), (128, 1, 1), 0),
    ("tl_matmul_f16_tc", 129, 128, 100000, (1, 2, 65535), (256, 1, 1), 61440),
    ("tl_matmul_tf32_tc", 1, 1, 1, (1, 1, 1), (256, 1, 1), 61440),
    ("tl_matmul_f64_tiled", 65, 64, 2, (1, 2, 2), (256, 1, 1), 0),
    ("tl_matvec_f32", 33, 1, 5, (2, 1, 5), (256, 1, 1), 0),
])
def test_launch_shape(variant, m, n, batch, grid, block, smem):
    assert mm.launch_shape(variant, m, n, batch) == (grid, block, smem)


def test_choose_splits():
    # 64 x 8192 output, K = 8192: 128 small tiles < 132 SMs -> 3 splits of 2736 (16-aligned)
    assert mm.choose_splits("tl_matmul_f32_64x64", 64, 8192, 8192, 1) == (3, 2736)
    assert mm.choose_splits("tl_matmul_f32_64x64", 64, 64, 8192, 1) == (16, 512)
    assert mm.choose_splits("tl_matmul_f32_64x64", 64, 64, 1000, 1) == (1, 1000)  # short K
    assert mm.choose_splits("tl_matmul_f32_128x128", 4096, 4096, 4096, 1)[0] == 1
    assert mm.choose_splits("tl_matmul_f16_tc", 64, 64, 8192, 1)[0] == 1  # TC: no split-K
    p = _plan((64, 8192), (8192, 8192))
    assert p["splits"] == 3 and p["grid"] == (128, 1, 3)
    assert p["args"][-2:] == [("i32", 3), ("i32", 2736)]


def test_tc_smem_fits_the_kernels():
    # 3 stages x (A + B) x 128 x (32 + 8) halves  ==  3 x 2 x 128 x (16 + 4) floats
    assert mm.TC_SMEM_BYTES == 3 * 2 * 128 * 40 * 2 == 3 * 2 * 128 * 20 * 4


def test_collapse_batch():
    # contiguous (2, 3) batch of 5x6 / 6x7 matrices: one level
    assert mm.collapse_batch([2, 3], [90, 30], [126, 42]) == (6, 6, 0, 30, 0, 42)
    # a broadcast over the outer dim, b over the inner: two levels
    assert mm.collapse_batch([2, 3], [30, 0], [0, 42]) == (6, 3, 30, 0, 0, 42)
    # size-1 dims vanish; no batch at all
    assert mm.collapse_batch([1, 4, 1], [0, 7, 0], [0, 0, 0]) == (4, 4, 0, 7, 0, 0)
    assert mm.collapse_batch([], [], []) == (1, 1, 0, 0, 0, 0)
    # three independent levels cannot be expressed
    assert mm.collapse_batch([2, 3, 2], [60, 0, 30], [0, 5, 0]) is None


def test_matrix_layout():
    assert mm.matrix_layout(5, 7, 7, 1) == (True, 7)      # row-major
    assert mm.matrix_layout(5, 7, 1, 5) == (False, 5)     # column-major (transposed view)
    assert mm.matrix_layout(5, 7, 9, 1) == (True, 9)      # sliced rows
    assert mm.matrix_layout(5, 7, 14, 2) is None          # strided both ways: copy
    assert mm.matrix_layout(5, 7, -7, 1) is None          # negative strides: copy
    assert mm.matrix_layout(1, 7, 123, 3)[0] is False     # a single row with stride 3
    assert mm.matrix_layout(5, 1, 3, 99) == (True, 3)


def _plan(a_shape, b_shape, ta=False, tb=False, dt="float32", a_strides=None, b_strides=None,
          a_ptr=256, b_ptr=256, tf32=False):
    def cstr(s):
        out, acc = [], 1
        for d in reversed(s):
            out.append(acc)
            acc *= d
        return out[::-1]
    return mm.plan_matmul(a_shape, a_strides or cstr(a_shape), a_ptr, b_shape,
                          b_strides or cstr(b_shape), b_ptr, 4, dt, ta, tb, tf32)


def _args(plan):
    names = ["A", "B", "C", "M", "N", "K", "lda", "ldb", "a_kmajor", "b_kmajor", "vec_a",
             "vec_b", "vec_c", "batch", "inner", "sa_o", "sa_i", "sb_o", "sb_i"]
    return {n: (a if isinstance(a, str) else a[1]) for n, a in zip(names, plan["args"])}


def test_plan_transposes_are_layouts_not_copies():
    p = _plan((300, 200), (300, 400), ta=True)
    a = _args(p)
    assert (a["M"], a["N"], a["K"]) == (200, 400, 300)
    assert (a["a_kmajor"], a["lda"], a["b_kmajor"], a["ldb"]) == (0, 200, 0, 400)
    p = _plan((200, 300), (400, 300), tb=True)
    a = _args(p)
    assert (a["a_kmajor"], a["b_kmajor"], a["ldb"]) == (1, 1, 300)
    assert p["out_shape"] == (200, 400)


def test_plan_vector_flags():
    a = _args(_plan((64, 64), (64, 64)))
    assert (a["vec_a"], a["vec_b"], a["vec_c"]) == (1, 1, 1)
    a = _args(_plan((64, 64), (64, 64), a_ptr=260))  # misaligned base pointer
    assert a["vec_a"] == 0 and a["vec_b"] == 1
    a = _args(_plan((65, 63), (63, 66)))  # odd leading dims
    assert (a["vec_a"], a["vec_b"], a["vec_c"]) == (0, 0, 0)
    # 16-bit tensor-core loads need 8-element multiples; pair stores need even N
    a = _args(_plan((64, 36), (36, 64), dt="float16"))
    assert (a["vec_a"], a["vec_b"], a["vec_c"]) == (0, 1, 1)
    a = _args(_plan((64, 40), (40, 63), dt="bfloat16"))
    assert (a["vec_a"], a["vec_b"], a["vec_c"]) == (1, 0, 0)


def test_plan_batch_broadcast_and_copies():
    p = _plan((4, 1, 8, 16), (3, 16, 8))
    a = _args(p)
    assert p["out_shape"] == (4, 3, 8, 8)
    assert (a["batch"], a["inner"], a["sa_o"], a["sa_i"], a["sb_o"], a["sb_i"]) == (
        12, 3, 128, 0, 0, 128)
    # strided in both dims: the launcher is asked to copy that operand only
    assert _plan((8, 16), (16, 8), a_strides=[32, 2]) == {"copy": ("a",)}
    q = _plan((2, 1, 2, 5, 6), (1, 3, 1, 6, 7))
    assert q["broadcast"] == (2, 3, 2)
    with pytest.raises(ValueError):
        _plan((3, 4), (5, 6))


def test_plan_matvec_uses_transposed_problem_for_row_vectors():
    p = _plan((1, 64), (64, 100))
    assert p["kernel"] == "tl_matvec_f32"
    assert p["args"][:3] == ["B", "A", "C"]
    assert p["args"][3] == ("i32", 100)  # rows of B^T
    assert p["args"][7] == ("i32", 0)    # B^T is n-contiguous -> not k-major


# ------------------------------------------------------------------ conv


@pytest.mark.parametrize("n,k,s,d,padding,out,pads", [
    # values from tf.nn.conv2d / tf.nn.max_pool output shapes and TF's GetWindowedOutputSize
    (5, 3, 2, 1, "SAME", 3, (1, 1)),
    (6, 3, 2, 1, "SAME", 3, (0, 1)),
    (7, 4, 1, 1, "SAME", 7, (1, 2)),
    (224, 7, 2, 1, "SAME", 112, (2, 3)),
    (224, 3, 2, 1, "SAME", 112, (0, 1)),
    (112, 3, 2, 1, "SAME", 56, (0, 1)),
    (10, 3, 1, 2, "SAME", 10, (2, 2)),
    (1, 3, 1, 1, "SAME", 1, (1, 1)),
    (10, 1, 3, 1, "SAME", 4, (0, 0)),
    (7, 3, 2, 1, "VALID", 3, (0, 0)),
    (224, 7, 2, 1, "VALID", 109, (0, 0)),
    (10, 3, 1, 2, "VALID", 6, (0, 0)),
    (2, 3, 1, 1, "VALID", 0, (0, 0)),
])
def test_same_valid_pads(n, k, s, d, padding, out, pads):
    (oh, ow), p = cv.same_valid_pads((n, n), (k, k), s, d, padding)
    assert (oh, ow) == (out, out)
    assert p == (pads[0], pads[1], pads[0], pads[1])


def test_same_valid_pads_explicit_and_rectangular():
    assert cv.same_valid_pads((7, 9), (3, 2), (2, 3), (1, 1), [(1, 2), (0, 1)]) == (
        (4, 3), (1, 2, 0, 1))
    assert cv.same_valid_pads((7, 9), (3, 3), [1, 2, 3, 1], 1, "SAME") == ((4, 3), (1, 1, 0, 0))


def test_conv_plans():
    p = cv.plan_conv2d_forward((64, 56, 56, 64), (3, 3, 64, 64), 1, (1, 1, 1, 1), 1, 1)
    assert p["kernel"] == "tl_conv2d_fwd_nhwc_f32_128x64" and p["out_shape"] == (64, 56, 56, 64)
    assert p["grid"] == (1, 64 * 56 * 56 // 128, 1) and p["block"] == (128, 1, 1)
    p = cv.plan_conv2d_forward((64, 14, 14, 256), (3, 3, 256, 256), 1, (1, 1, 1, 1), 1, 1,
                               variant="nosplit")
    assert p["kernel"] == "tl_conv2d_fwd_nhwc_f32" and p["block"] == (256, 1, 1)
    assert p["grid"] == (2, 98, 1)
    # by default, 196 tiles (under one wave of 264 slots, over a quarter) split K ...
    p = cv.plan_conv2d_forward((64, 14, 14, 256), (3, 3, 256, 256), 1, (1, 1, 1, 1), 1, 1)
    assert p["kernel"] == "tl_conv2d_fwd_splitk_nhwc_f32" and p["partial_shape"][1:] == (64 * 14 * 14, 256)
    assert p["grid"] == (2, 98, p["partial_shape"][0]) and p["partial_shape"][0] > 1
    p = cv.plan_conv2d_forward((64, 7, 7, 512), (3, 3, 512, 512), 1, (1, 1, 1, 1), 1, 1)
    assert p["kernel"] == "tl_conv2d_fwd_splitk_nhwc_f32"  # 100 tiles
    # ... 392 tiles (more than a wave) and 8 tiles (under a quarter) do not
    p = cv.plan_conv2d_forward((64, 28, 28, 128), (3, 3, 128, 128), 1, (1, 1, 1, 1), 1, 1)
    assert "partial_shape" not in p and p["kernel"] == "tl_conv2d_fwd_nhwc_f32"
    p = cv.plan_conv2d_forward((4, 14, 14, 256), (3, 3, 256, 256), 1, (1, 1, 1, 1), 1, 1)
    assert "partial_shape" not in p
    with pytest.raises(ValueError, match="nosplit"):
        cv.plan_conv2d_forward((4, 14, 14, 256), (3, 3, 256, 256), 1, (1, 1, 1, 1), 1, 1, variant="split")
    p = cv.plan_conv2d_backprop_input((8, 7, 7, 64), (3, 3, 32, 64), (8, 7, 7, 32), 1,
                                      (1, 1, 1, 1), 1, 1)
    assert p["kernel"] == "tl_conv2d_bwd_input_nhwc_f32_64x64" and p["grid"] == (1, 7, 1)
    p = cv.plan_conv2d_forward((1, 7, 7, 8), (3, 3, 4, 6), 1, (0, 0, 0, 0), 1, 2)
    assert p["kernel"] == "tl_conv2d_fwd_nhwc_f32_64x64" and p["grid"] == (1, 1, 2)
    p = cv.plan_conv2d_forward((2, 9, 9, 32), (3, 3, 1, 64), 2, (1, 1, 1, 1), 1, 32)
    assert p["kernel"] == "tl_depthwise_conv2d_fwd_nhwc_f32" and p["out_shape"] == (2, 5, 5, 64)
    p = cv.plan_conv2d_backprop_input((2, 5, 5, 64), (3, 3, 1, 64), (2, 9, 9, 32), 2,
                                      (1, 1, 1, 1), 1, 32)
    assert p["kernel"] == "tl_depthwise_conv2d_bwd_input_nhwc_f32"
    with pytest.raises(ValueError):
        cv.plan_conv2d_forward((1, 7, 7, 8), (3, 3, 3, 6), 1, (0, 0, 0, 0), 1, 2)


def test_wgrad_plan_split_k():
    p = cv.plan_conv2d_backprop_filter((64, 7, 7, 512), (64, 7, 7, 512), (3, 3, 512, 512), 1,
                                       (1, 1, 1, 1), 1, 1)
    splits, k_chunk = p["args"][-2][1], p["args"][-1][1]
    assert k_chunk % 16 == 0 and (splits - 1) * k_chunk < 64 * 49 <= splits * k_chunk
    assert p["kernel"] == "tl_conv2d_bwd_filter_nhwc_f32" and splits == 2
    assert p["grid"] == (4, 36, splits)
    p = cv.plan_conv2d_backprop_filter((2, 9, 9, 32), (2, 9, 9, 32), (3, 3, 1, 32), 1,
                                       (1, 1, 1, 1), 1, 32)
    assert p["kernel"] == "tl_depthwise_conv2d_bwd_filter_nhwc_f32"
    assert p["partial_shape"][1:] == (9, 32) and p["grid"][:2] == (1, 9)


# ------------------------------------------------------------------ pool


@pytest.mark.parametrize("shape,k,s,padding,out", [
    ((2, 7, 6, 3), 2, 2, "VALID", (2, 3, 3, 3)),
    ((2, 7, 6, 3), 2, 2, "SAME", (2, 4, 3, 3)),
    ((1, 112, 112, 64), 3, 2, "SAME", (1, 56, 56, 64)),
    ((1, 9, 8, 5), (1, 3, 3, 1), (1, 2, 2, 1), "SAME", (1, 5, 4, 5)),
])
def test_pool_plan(shape, k, s, padding, out):
    for kind in ("max", "avg"):
        p = pl.plan_pool2d(kind, "fwd", shape, k, s, padding)
        assert p["out_shape"] == out
        assert p["grid"][0] * 256 >= min(p["total"], 65535 * 256)
    assert pl.plan_pool2d("max", "bwd", shape, k, s, padding)["args"][:3] == ["X", "DY", "DX"]
    assert pl.plan_pool2d("avg", "bwd", shape, k, s, padding)["args"][:2] == ["DY", "DX"]


# ------------------------------------------------------------------ declarations


def _defined_kernels(src):
    """Kernel names in a .cu: direct definitions, TL_*_KERNEL(name, ...) macros and
    name##SUFFIX families stamped out by TL_*_KERNELS(suffix, ...) macros."""
    names = set(re.findall(r"__global__[\s\S]*?\b(tl_\w+)\s*\(", src))
    names |= set(re.findall(r"^TL_\w+_KERNEL\((tl_\w+),", src, re.M))
    for macro, param in re.findall(r"#define (TL_\w+)\((\w+),", src):
        bases = re.findall(rf"\b(tl_\w+)##{param}\b", src)
        for suffix in re.findall(rf"^{macro}\((\w*),", src, re.M):
            names |= {b + suffix for b in bases}
    return names


def test_declared_kernels_exist():
    for mod, stems in ((mm, ("matmul", "matmul_sm90")), (cv, ("conv",)), (pl, ("pool",))):
        defined = set().union(*(_defined_kernels((REPO / "cuda_kernels" / f"{s}.cu").read_text())
                                for s in stems))
        assert set(mod.HOT_KERNELS) <= defined
        assert set(mod.EMU_EXEMPT) <= defined
