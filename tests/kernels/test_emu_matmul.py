"""Matmul kernels (cuda_kernels/matmul.cu) on the host emulator, planned by the launcher: the SIMT
float32/float64 kernels and the tensor-core (f16/bf16/tf32) ones, whose cp.async / ldmatrix /
mma.sync run on the emulator's model of each instruction (cuda_kernels/mma.cuh).

Every case goes through `plan_matmul` (layouts, strides, batch collapse, vector flags), so the
launcher arithmetic is exercised with the kernels; operands are numpy views (transposed, sliced,
unaligned, broadcast) over raw host memory, outputs are poisoned with NaN first and compared with
a float64 reference.
"""

import numpy as np
import pytest

from tl_emu import build, launch
from tensorlab.backend.cuda.kernels import matmul as mm


@pytest.fixture(scope="module")
def lib():
    return build("matmul")


def _strides(x):
    return [s // x.itemsize for s in x.strides]


def run_matmul(lib, a, b, transpose_a=False, transpose_b=False, expect=None, num_sms=4,
               dtype_name=None, tf32=False, variant=None):
    """Plan + emulate; applies the launcher's copy requests and split-K sum like `matmul`."""
    for _ in range(4):
        plan = mm.plan_matmul(a.shape, _strides(a), a.ctypes.data, b.shape, _strides(b),
                              b.ctypes.data, a.itemsize, dtype_name or a.dtype.name, transpose_a,
                              transpose_b, tf32=tf32, num_sms=num_sms, variant=variant)
        if "kmajor" in plan:  # the wgmma variants: materialise k-major operands
            if "a" in plan["kmajor"]:
                a, transpose_a = mm.kmajor_operand(np, a, "a", transpose_a)
            if "b" in plan["kmajor"]:
                b, transpose_b = mm.kmajor_operand(np, b, "b", transpose_b)
            continue
        if "copy" not in plan:
            break
        if "broadcast" in plan:
            bs = plan["broadcast"]
            a = np.ascontiguousarray(np.broadcast_to(a, bs + a.shape[-2:]))
            b = np.ascontiguousarray(np.broadcast_to(b, bs + b.shape[-2:]))
            continue
        if "a" in plan["copy"]:
            a = np.ascontiguousarray(a)
        if "b" in plan["copy"]:
            b = np.ascontiguousarray(b)
    if expect is not None:
        assert plan.get("variant", plan["kernel"]) == expect
    splits = plan.get("splits", 1)
    poison = 0xFFFF if a.dtype == np.uint16 else np.nan  # 16-bit float bits: all ones is NaN
    out = np.full(((splits,) if splits > 1 else ()) + plan["out_shape"], poison, dtype=a.dtype)
    if plan.get("stem") == mm.SM90_STEM:
        lib = build(mm.SM90_STEM)
    launch(lib, plan["kernel"], plan["grid"], plan["block"], plan["smem"],
           *mm.run_plan(plan, a, b, out, np.int32, np.int64))
    if splits > 1:
        assert not np.isnan(out).any(), "unwritten split-K partials"
        out = out.sum(axis=0)
    return out, plan


def ref(a, b, ta, tb):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if ta:
        a = np.swapaxes(a, -1, -2)
    if tb:
        b = np.swapaxes(b, -1, -2)
    return a @ b


def rel_err(out, r):
    assert not np.isnan(out).any(), "unwritten (NaN-poisoned) outputs"
    d = np.linalg.norm((out - r).ravel())
    n = np.linalg.norm(r.ravel())
    return d / n if n else d


def rand(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def make(rng, rows, cols, trans, dtype=np.float32, pad=0, batch=()):
    """(rows x cols) logical operand, stored transposed when `trans`, rows padded by `pad`."""
    store = (cols, rows) if trans else (rows, cols)
    base = rand(rng, batch + (store[0], store[1] + pad), dtype)
    x = base[..., :store[1]]
    return x


SIZES = [(1, 1, 1), (17, 33, 65), (65, 17, 33), (33, 65, 1), (130, 70, 17), (7, 129, 20)]


@pytest.mark.parametrize("m,n,k", SIZES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("variant", ["tl_matmul_f32_64x64", "tl_matmul_f32_128x128", "tl_matmul_f32_128x128k16"])
def test_sgemm_layouts(lib, m, n, k, ta, tb, variant, monkeypatch):
    if m == 1 or n == 1:
        pytest.skip("matvec path is tested separately")
    monkeypatch.setattr(mm, "select_variant", lambda *a, **kw: variant)
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    a = make(rng, m, k, ta)
    b = make(rng, k, n, tb)
    out, plan = run_matmul(lib, a, b, ta, tb, expect=variant)
    assert rel_err(out, ref(a, b, ta, tb)) < 1e-5


@pytest.mark.parametrize("pad", [1, 3])
def test_sgemm_unaligned_leading_dim(lib, pad, monkeypatch):
    """Odd leading dims and a misaligned base pointer take the scalar load path."""
    rng = np.random.default_rng(pad)
    for variant in ("tl_matmul_f32_64x64", "tl_matmul_f32_128x128", "tl_matmul_f32_128x128k16"):
        monkeypatch.setattr(mm, "select_variant", lambda *a, **kw: variant)
        a = make(rng, 37, 41, False, pad=pad)[:, 1:]  # base pointer off by 4 bytes
        b = make(rng, 40, 67, True, pad=pad)
        out, plan = run_matmul(lib, a, b, False, True)
        vec_a = plan["args"][10][1]
        assert vec_a == 0
        assert rel_err(out, ref(a, b, False, True)) < 1e-5


def test_sgemm_vector_path_flags(lib):
    rng = np.random.default_rng(5)
    a = rand(rng, (72, 48))
    b = rand(rng, (48, 80))
    out, plan = run_matmul(lib, a, b)
    assert [x[1] for x in plan["args"][10:13]] == [1, 1, 1]
    assert rel_err(out, ref(a, b, False, False)) < 1e-5


def test_sgemm_batch_broadcast(lib):
    """Batch dims broadcast with stride 0 and two collapsed levels, no copies."""
    rng = np.random.default_rng(7)
    a = rand(rng, (2, 1, 19, 23))
    b = rand(rng, (3, 23, 21))
    out, plan = run_matmul(lib, a, b)
    assert plan["args"][13:15] == [("i32", 6), ("i32", 3)]
    assert out.shape == (2, 3, 19, 21)
    assert rel_err(out, ref(a, b, False, False)) < 1e-5
    # a shared matrix against a batch, transposed
    a2 = rand(rng, (23, 19))
    out, plan = run_matmul(lib, a2, b, True, False)
    assert rel_err(out, ref(a2, b, True, False)) < 1e-5


def test_sgemm_three_level_batch_materialises(lib):
    rng = np.random.default_rng(8)
    a = rand(rng, (2, 1, 2, 5, 6))
    b = rand(rng, (1, 3, 1, 6, 7))
    out, _ = run_matmul(lib, a, b)
    assert rel_err(out, ref(a, b, False, False)) < 1e-5


@pytest.mark.parametrize("variant", ["tl_matmul_f32_64x64", "tl_matmul_f32_128x128", "tl_matmul_f32_128x128k16"])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
def test_sgemm_split_k(lib, variant, ta, tb, monkeypatch):
    """Few output tiles and a long K: split-K partials (uneven last chunk), batch of 2."""
    monkeypatch.setattr(mm, "select_variant", lambda *a, **kw: variant)
    rng = np.random.default_rng(21)
    a = make(rng, 19, 1100, ta, batch=(2,))
    b = make(rng, 1100, 23, tb)
    out, plan = run_matmul(lib, a, b, ta, tb, num_sms=132)
    assert plan["splits"] == 2 and plan["args"][-1] == ("i32", 560)
    assert rel_err(out, ref(a, b, ta, tb)) < 1e-5


def test_sgemm_k_zero(lib):
    a = np.zeros((9, 0), np.float32)
    b = np.zeros((0, 11), np.float32)
    out, _ = run_matmul(lib, a, b)
    assert np.array_equal(out, np.zeros((9, 11)))


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (1, 17, 33), (65, 1, 33), (33, 1, 1), (1, 70, 65)])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True), (True, False)])
def test_matvec(lib, m, n, k, ta, tb):
    rng = np.random.default_rng(m + n + k)
    a = make(rng, m, k, ta, batch=(2,))
    b = make(rng, k, n, tb)  # broadcast over the batch
    out, plan = run_matmul(lib, a, b, ta, tb, expect="tl_matvec_f32")
    assert rel_err(out, ref(a, b, ta, tb)) < 1e-5


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (17, 33, 65), (65, 70, 17)])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
def test_dgemm(lib, m, n, k, ta, tb):
    rng = np.random.default_rng(m + 3 * n + k)
    a = make(rng, m, k, ta, np.float64, pad=1, batch=(2,))
    b = make(rng, k, n, tb, np.float64)
    out, plan = run_matmul(lib, a, b, ta, tb, expect="tl_matmul_f64_tiled")
    assert rel_err(out, ref(a, b, ta, tb)) < 1e-12


# ---------------------------------------------------------------- tensor-core kernels

def to_bf16_bits(x):
    """float32 -> bfloat16 bits (uint16), round to nearest even."""
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def from_bits(bits, dtype_name):
    if dtype_name == "float16":
        return bits.view(np.float16).astype(np.float64)
    return (bits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def to_tf32(x):
    """cvt.rna.tf32.f32 in numpy: 10 mantissa bits, ties away from zero."""
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x1000) & ~np.uint64(0x1FFF)).astype(np.uint32).view(np.float32)


def make16(rng, rows, cols, trans, dtype_name, pad=0, batch=()):
    """A 16-bit operand as raw bits (uint16) and its float64 value."""
    x = make(rng, rows, cols, trans, pad=pad, batch=batch)
    bits = (x.astype(np.float16).view(np.uint16) if dtype_name == "float16"
            else to_bf16_bits(x))
    base = np.empty(x.shape[:-1] + (x.shape[-1] + pad,), np.uint16)
    base[..., :x.shape[-1]] = bits
    view = base[..., :x.shape[-1]]
    return view, from_bits(np.ascontiguousarray(view), dtype_name)


TC16_SIZES = [(1, 1, 1), (17, 129, 33), (130, 70, 40), (7, 9, 300), (129, 257, 16)]


def tc16_variant(dtype_name, wide):
    d = "f16" if dtype_name == "float16" else "bf16"
    return f"tl_matmul_{d}_tc_128x256" if wide else f"tl_matmul_{d}_tc"


@pytest.mark.parametrize("wide", [False, True], ids=["128x128", "128x256"])
@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
@pytest.mark.parametrize("m,n,k", TC16_SIZES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_tc16_layouts(lib, dtype_name, m, n, k, ta, tb, wide):
    """f16/bf16 mma.sync kernels (the default and the 128x256 candidate): all four operand
    layouts, partial tiles, long K (the cp.async ring wraps), outputs rounded once from fp32."""
    rng = np.random.default_rng(m * 7 + n * 3 + k + ta + 2 * tb)
    a, av = make16(rng, m, k, ta, dtype_name)
    b, bv = make16(rng, k, n, tb, dtype_name)
    variant = tc16_variant(dtype_name, wide)
    out, plan = run_matmul(lib, a, b, ta, tb, dtype_name=dtype_name, variant=variant if wide else None,
                           expect=variant)
    if wide:
        a_km, b_km = plan["args"][8][1], plan["args"][9][1]  # 1x1 operands fit either layout
        if m > 1 and k > 1:
            assert a_km == (not ta)
        if n > 1 and k > 1:
            assert b_km == tb
        lay = f"_a{'k' if a_km else 'm'}b{'k' if b_km else 'n'}"
        assert plan["kernel"] == variant + lay and plan["smem"] == mm.TC_WIDE_SMEM_BYTES
        assert plan["grid"][:2] == (-(-n // 256), -(-m // 128))
    else:
        assert plan["kernel"] == variant and plan["smem"] == mm.TC_SMEM_BYTES
    got = from_bits(out, dtype_name)
    tol = 2e-3 if dtype_name == "float16" else 1e-2
    assert rel_err(got, ref(av, bv, ta, tb)) < tol


@pytest.mark.parametrize("wide", [False, True], ids=["128x128", "128x256"])
@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_tc16_unaligned_and_batched(lib, dtype_name, wide):
    """Odd leading dims (element-wise tile loads, scalar epilogue) and broadcast batch strides."""
    rng = np.random.default_rng(11)
    a, av = make16(rng, 37, 41, False, dtype_name, pad=1, batch=(2,))
    b, bv = make16(rng, 41, 67, True, dtype_name, pad=3)
    out, plan = run_matmul(lib, a, b, False, True, dtype_name=dtype_name,
                           variant=tc16_variant(dtype_name, wide) if wide else None)
    assert [x[1] for x in plan["args"][10:13]] == [0, 0, 0]
    assert out.shape == (2, 37, 67)
    tol = 2e-3 if dtype_name == "float16" else 1e-2
    assert rel_err(from_bits(out, dtype_name), ref(av, bv, False, True)) < tol


@pytest.mark.parametrize("m,n,k", [(17, 129, 33), (130, 70, 40), (5, 6, 100)])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_tf32_layouts(lib, m, n, k, ta, tb):
    """TF32 kernel: operands rounded to TF32 (cvt.rna), fp32 accumulation."""
    rng = np.random.default_rng(m + 5 * n + k + 3 * ta + tb)
    a = make(rng, m, k, ta, pad=1 if ta else 0)
    b = make(rng, k, n, tb)
    out, plan = run_matmul(lib, a, b, ta, tb, tf32=True, expect="tl_matmul_tf32_tc")
    assert rel_err(out, ref(to_tf32(a), to_tf32(b), ta, tb)) < 1e-5
    # a float32 reference is further away than the accumulation error: rounding took place
    assert rel_err(out, ref(a, b, ta, tb)) > 1e-5


WGMMA_SIZES = [(1, 1, 8), (64, 256, 64), (130, 300, 136), (200, 513, 264), (7, 9, 40),
               (136, 264, 72)]


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
@pytest.mark.parametrize("m,n,k", WGMMA_SIZES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_wgmma_layouts(lib, dtype_name, m, n, k, ta, tb):
    """The sm_90a wgmma candidate (cuda_kernels/matmul_sm90.cu) on the emulator's model of
    wgmma.m64n256k16 with swizzled shared-memory descriptors: partial tiles, K rings longer than
    the 4 stages, all four operand layouts (an m- or n-major tile sets the transpose bit)."""
    rng = np.random.default_rng(m * 7 + n * 3 + k + ta + 2 * tb)
    a, av = make16(rng, m, k, ta, dtype_name)
    b, bv = make16(rng, k, n, tb, dtype_name)
    variant = "tl_matmul_f16_wgmma" if dtype_name == "float16" else "tl_matmul_bf16_wgmma"
    out, plan = run_matmul(lib, a, b, ta, tb, dtype_name=dtype_name, variant=variant,
                           expect=variant)
    # an m-/n-major operand runs in place when its rows (m or n elements) are 16-byte multiples,
    # else the launcher copied it k-major; 1-row operands fit either layout
    a_km, b_km = plan["args"][8][1], plan["args"][9][1]
    if m > 1 and k > 1:
        assert a_km == (not ta or m % 8 != 0)
    if n > 1 and k > 1:
        assert b_km == (tb or n % 8 != 0)
    lay = f"_a{'k' if a_km else 'm'}b{'k' if b_km else 'n'}"
    assert plan["kernel"] == variant + lay and plan["stem"] == "matmul_sm90"
    assert plan["smem"] == mm.WGMMA_SMEM_BYTES and plan["block"] == (256, 1, 1)
    assert plan["grid"][:2] == (-(-n // 256), -(-m // 128))
    assert [x[1] for x in plan["args"][10:12]] == [1, 1]  # 16-byte rows, no copy needed
    tol = 2e-3 if dtype_name == "float16" else 1e-2
    assert rel_err(from_bits(out, dtype_name), ref(av, bv, ta, tb)) < tol


def test_wgmma_relayout_requests():
    """The planner runs every layout in place and asks for a k-major copy exactly where an
    operand has no 16-byte rows; K that is not a multiple of 8 is refused."""
    v = "tl_matmul_f16_wgmma"

    def plan(a_shape, a_strides, b_shape, b_strides, ta=False, tb=False, a_ptr=0):
        return mm.plan_matmul(a_shape, a_strides, a_ptr, b_shape, b_strides, 0, 2, "float16",
                              ta, tb, variant=v)

    assert plan((64, 32), [32, 1], (32, 48), [48, 1])["kernel"] == v + "_akbn"
    assert plan((64, 32), [32, 1], (48, 32), [32, 1], tb=True)["kernel"] == v + "_akbk"
    assert plan((32, 64), [64, 1], (48, 32), [32, 1], ta=True, tb=True)["kernel"] == v + "_ambk"
    assert plan((32, 64), [64, 1], (32, 48), [48, 1], ta=True)["kernel"] == v + "_ambn"
    assert plan((64, 32), [32, 1], (48, 32), [32, 1], tb=True, a_ptr=2) == {"kmajor": ("a",)}
    assert plan((64, 32), [40, 1], (48, 32), [36, 1], tb=True) == {"kmajor": ("b",)}
    assert plan((32, 64), [68, 1], (32, 48), [50, 1], ta=True) == {"kmajor": ("a", "b")}
    with pytest.raises(ValueError, match="multiple of 8"):
        plan((64, 30), [30, 1], (48, 30), [30, 1], tb=True)


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
def test_wgmma_batched_and_broadcast(lib, dtype_name):
    """Batch strides (and a broadcast operand) walk gridDim.z; misaligned views are copied."""
    rng = np.random.default_rng(5)
    a, av = make16(rng, 70, 72, False, dtype_name, pad=1, batch=(3,))
    b, bv = make16(rng, 72, 90, True, dtype_name)
    variant = "tl_matmul_f16_wgmma" if dtype_name == "float16" else "tl_matmul_bf16_wgmma"
    out, plan = run_matmul(lib, a[..., 1:][..., :64], b[..., :64], False, True,
                           dtype_name=dtype_name, variant=variant)
    assert out.shape == (3, 70, 90) and plan["grid"][2] == 3
    tol = 2e-3 if dtype_name == "float16" else 1e-2
    r = ref(av[..., 1:][..., :64], bv[..., :64], False, True)
    assert rel_err(from_bits(out, dtype_name), r) < tol


def test_forced_variant_must_fit_the_dtype():
    a = np.ones((4, 4), np.float32)
    with pytest.raises(ValueError, match="does not apply to float32"):
        mm.plan_matmul(a.shape, [4, 1], 0, a.shape, [4, 1], 0, 4, "float32",
                       variant="tl_matmul_f16_tc_128x256")
