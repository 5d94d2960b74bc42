"""GEMM-family kernels on the GPU (matmul / conv / pool launchers) vs float64 numpy references.

Fresh random inputs per test (the `rng` fixture prints its seed on failure), odd sizes, views
that are transposed / sliced / misaligned / broadcast, relative Frobenius-norm tolerances:
float32 1e-5, tf32 2e-3, float16 / bfloat16 1e-2, float64 1e-12. Every device allocation is
filled with 0xFF bytes (NaN in every float format) before use, and `rel_err` rejects
non-finite outputs, so an output element a kernel leaves unwritten fails the test.
"""
import numpy as np
import pytest

from tests.gpu.gemm_reference import (
    LAYOUTS, bf16_bits_to_f64, f32_to_bf16_bits, matmul16_error, nan_poisoned_allocations,
    operand, ref_mm, rel_err, skip_without_cuda_device)

cupy = pytest.importorskip("cupy")

pytestmark = pytest.mark.gpu

skip_without_cuda_device(cupy)


def load_launchers(*stems):
    """Launcher modules; if the CUDA backend package fails to import for an unrelated reason,
    the `kernels` folder is loaded as a standalone package (it only needs CuPy)."""
    import importlib

    try:
        return tuple(importlib.import_module(f"tensorlab.backend.cuda.kernels.{s}") for s in stems)
    except Exception:
        pass
    import importlib.util
    import sys as _sys
    from pathlib import Path

    kdir = Path(__file__).resolve().parents[2] / "tensorlab/backend/cuda/kernels"
    name = "_tl_kernels_standalone"
    if name not in _sys.modules:
        spec = importlib.util.spec_from_file_location(name, kdir / "__init__.py",
                                                      submodule_search_locations=[str(kdir)])
        pkg = importlib.util.module_from_spec(spec)
        _sys.modules[name] = pkg
        spec.loader.exec_module(pkg)
    return tuple(importlib.import_module(f"{name}.{s}") for s in stems)


mm, cv, pl = load_launchers("matmul", "conv", "pool")


@pytest.fixture(autouse=True)
def _nan_poisoned_allocations():
    """Allocations through CuPy's pool start as 0xFF bytes (NaN) during each test."""
    with nan_poisoned_allocations(cupy):
        yield


@pytest.fixture
def rng(request):
    """Fresh seed per test, recorded in the report (also lets this file run with --noconftest)."""
    import os

    seed = int.from_bytes(os.urandom(4), "little")
    request.node.user_properties.append(("seed", seed))
    print(f"seed={seed}")
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ matmul float32 / float64

F32_SIZES = [(1, 1, 1), (7, 17, 1), (17, 7, 33), (1, 1023, 17), (1023, 1, 129), (129, 1023, 257),
             (1023, 1025, 64), (4097, 65, 33), (33, 4097, 1023)]


@pytest.mark.parametrize("m,n,k", F32_SIZES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True), (True, False), (False, True)])
def test_matmul_f32(rng, m, n, k, ta, tb):
    a = operand(rng, m, k, ta)
    b = operand(rng, k, n, tb)
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b), ta, tb)
    assert out.shape == (m, n) and out.dtype == cupy.float32
    assert rel_err(out.get(), ref_mm(a, b, ta, tb)) < 1e-5


def test_matmul_f32_big_tile_variant(rng):
    a = rng.standard_normal((2049, 1537)).astype(np.float32)
    b = rng.standard_normal((1537, 2047)).astype(np.float32)
    assert mm.select_variant(2049, 2047, 1537, "float32") == "tl_matmul_f32_128x128k16"
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b))
    assert rel_err(out.get(), ref_mm(a, b, False, False)) < 1e-5
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b), variant="tl_matmul_f32_128x128")  # the 8-deep tile
    assert rel_err(out.get(), ref_mm(a, b, False, False)) < 1e-5


@pytest.mark.parametrize("shape", [(37, 1500, 3000, ()), (5, 3, 5000, (2,)), (64, 1024, 4096, ())])
def test_matmul_f32_split_k(rng, shape):
    m, n, k, batch = shape
    a = operand(rng, m, k, True, batch=batch)
    b = operand(rng, k, n, False)
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b), transpose_a=True)
    assert rel_err(out.get(), ref_mm(a, b, True, False)) < 1e-5


def test_matmul_f32_views(rng):
    base = cupy.asarray(rng.standard_normal((130, 203)).astype(np.float32))
    a = base[1:, 3:100]          # sliced rows (ld 203) and a misaligned base pointer
    b = base[:97, ::2]           # strided in both dims -> copied by the launcher
    out = mm.matmul(a, b)
    assert rel_err(out.get(), ref_mm(a.get(), b.get(), False, False)) < 1e-5
    at = base[:100, :64].T        # transposed view, no copy
    out = mm.matmul(at, base[:100, 5:50])
    assert rel_err(out.get(), ref_mm(at.get(), base[:100, 5:50].get(), False, False)) < 1e-5


def test_matmul_f32_batch_broadcast(rng):
    a = rng.standard_normal((3, 1, 65, 33)).astype(np.float32)
    b = rng.standard_normal((4, 33, 17)).astype(np.float32)
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b))
    assert out.shape == (3, 4, 65, 17)
    assert rel_err(out.get(), ref_mm(a, b, False, False)) < 1e-5
    c = rng.standard_normal((2, 1, 3, 5, 6)).astype(np.float32)
    d = rng.standard_normal((1, 4, 1, 7, 6)).astype(np.float32)
    out = mm.matmul(cupy.asarray(c), cupy.asarray(d), transpose_b=True)
    assert rel_err(out.get(), ref_mm(c, d, False, True)) < 1e-5


def test_matmul_vectors(rng):
    a = rng.standard_normal(37).astype(np.float32)
    b = rng.standard_normal((37, 5)).astype(np.float32)
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b))
    assert out.shape == (5,)
    assert rel_err(out.get(), a.astype(np.float64) @ b) < 1e-5


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (17, 33, 65), (257, 129, 300)])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
def test_matmul_f64(rng, m, n, k, ta, tb):
    a = operand(rng, m, k, ta, np.float64, batch=(2,))
    b = operand(rng, k, n, tb, np.float64)
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b), ta, tb)
    assert out.dtype == cupy.float64
    assert rel_err(out.get(), ref_mm(a, b, ta, tb)) < 1e-12


# ------------------------------------------------------------------ tensor cores

TC_SIZES = [(1, 1, 1), (17, 33, 65), (128, 128, 64), (255, 129, 200), (1023, 257, 512),
            (64, 4097, 40)]


@pytest.mark.parametrize("m,n,k", TC_SIZES)
@pytest.mark.parametrize("ta,tb", LAYOUTS)
def test_matmul_tf32(rng, m, n, k, ta, tb):
    a = operand(rng, m, k, ta)
    b = operand(rng, k, n, tb)
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b), ta, tb, tf32=True)
    assert rel_err(out.get(), ref_mm(a, b, ta, tb)) < 2e-3


@pytest.mark.parametrize("m,n,k", TC_SIZES)
@pytest.mark.parametrize("ta,tb", LAYOUTS)
def test_matmul_f16(rng, m, n, k, ta, tb):
    a = operand(rng, m, k, ta, np.float16)
    b = operand(rng, k, n, tb, np.float16)
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b), ta, tb)
    assert out.dtype == cupy.float16
    assert rel_err(out.get(), ref_mm(a, b, ta, tb)) < 1e-2


@pytest.mark.parametrize("m,n,k", TC_SIZES)
@pytest.mark.parametrize("ta,tb", LAYOUTS)
def test_matmul_bf16(rng, m, n, k, ta, tb):
    a = f32_to_bf16_bits(operand(rng, m, k, ta))
    b = f32_to_bf16_bits(operand(rng, k, n, tb))
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b), ta, tb, dtype_name="bfloat16")
    ref = ref_mm(bf16_bits_to_f64(a), bf16_bits_to_f64(b), ta, tb)
    assert rel_err(bf16_bits_to_f64(out.get()), ref) < 1e-2


@pytest.mark.parametrize("m,n,k", F32_SIZES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
def test_matmul_f32_128x128k16_candidate(rng, m, n, k, ta, tb):
    """The 16-deep SIMT candidate, forced by `variant=` (split-K included)."""
    a = operand(rng, m, k, ta)
    b = operand(rng, k, n, tb)
    out = mm.matmul(cupy.asarray(a), cupy.asarray(b), ta, tb, variant="tl_matmul_f32_128x128k16")
    assert rel_err(out.get(), ref_mm(a, b, ta, tb)) < 1e-5


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("m,n,k", TC_SIZES)
@pytest.mark.parametrize("ta,tb", LAYOUTS)
def test_matmul_tc16_128x256_candidate(rng, dtype, m, n, k, ta, tb):
    """The 128x256 candidates (one kernel per layout), forced by `variant=`."""
    d = "f16" if dtype == "float16" else "bf16"
    variant = f"tl_matmul_{d}_tc_128x256"
    assert matmul16_error(mm, cupy, rng, dtype, m, n, k, ta, tb, variant) < 1e-2


def test_matmul_f16_batch_and_misaligned(rng):
    a = rng.standard_normal((3, 70, 72)).astype(np.float16)
    b = rng.standard_normal((72, 90)).astype(np.float16)
    ga = cupy.asarray(a)[:, :, 1:]  # misaligned base and ld: scalar tile loads
    gb = cupy.asarray(b)[1:]
    out = mm.matmul(ga, gb)
    assert rel_err(out.get(), ref_mm(ga.get(), gb.get(), False, False)) < 1e-2


# ------------------------------------------------------------------ conv


def ref_conv(x, w, strides, pads, dil, groups, dy):
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    dy = dy.astype(np.float64)
    N, H, W, C = x.shape
    KH, KW, ICg, OC = w.shape
    (sh, sw), (dh, dw_) = strides, dil
    pt, pb, plf, pr = pads
    OH, OW = cv.out_hw(H, W, KH, KW, strides, pads, dil)
    xp = np.zeros((N, H + pt + pb, W + plf + pr, C))
    xp[:, pt:pt + H, plf:plf + W] = x
    ocg = OC // groups
    y = np.zeros((N, OH, OW, OC))
    dxp = np.zeros_like(xp)
    dwr = np.zeros_like(w)
    for kh in range(KH):
        for kw in range(KW):
            hs = slice(kh * dh, kh * dh + (OH - 1) * sh + 1, sh)
            ws = slice(kw * dw_, kw * dw_ + (OW - 1) * sw + 1, sw)
            xs = xp[:, hs, ws, :]
            for g in range(groups):
                ci, co = slice(g * ICg, (g + 1) * ICg), slice(g * ocg, (g + 1) * ocg)
                y[..., co] += xs[..., ci] @ w[kh, kw, :, co]
                dxp[:, hs, ws, ci] += dy[..., co] @ w[kh, kw, :, co].T
                dwr[kh, kw, :, co] += xs[..., ci].reshape(-1, ICg).T @ dy[..., co].reshape(-1, ocg)
    return y, dxp[:, pt:pt + H, plf:plf + W], dwr


CONV_CASES = [
    # x shape, (KH, KW, OC), strides, padding, dilations, groups
    ((2, 7, 6, 3), (3, 3, 5), (1, 1), "SAME", (1, 1), 1),
    ((4, 28, 28, 32), (3, 3, 64), (1, 1), "SAME", (1, 1), 1),
    ((2, 17, 17, 16), (3, 3, 32), (2, 2), "SAME", (1, 1), 1),
    ((2, 15, 13, 8), (3, 2, 12), (2, 1), "VALID", (2, 1), 1),
    ((2, 14, 14, 64), (1, 1, 256), (1, 1), "VALID", (1, 1), 1),
    ((2, 9, 9, 12), (3, 3, 18), (1, 1), "SAME", (1, 1), 3),
    ((2, 16, 16, 32), (3, 3, 32), (1, 1), "SAME", (1, 1), 32),   # depthwise
    ((2, 15, 15, 8), (5, 5, 16), (2, 2), "SAME", (1, 1), 8),     # depthwise x2
]


@pytest.mark.parametrize("case", CONV_CASES, ids=[str(i) for i in range(len(CONV_CASES))])
def test_conv2d(rng, case):
    xs, (KH, KW, OC), strides, padding, dil, groups = case
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal((KH, KW, xs[3] // groups, OC)).astype(np.float32)
    (oh, ow), pads = cv.same_valid_pads(xs[1:3], (KH, KW), strides, dil, padding)
    dy = rng.standard_normal((xs[0], oh, ow, OC)).astype(np.float32)
    y_r, dx_r, dw_r = ref_conv(x, w, strides, pads, dil, groups, dy)
    gx, gw, gdy = cupy.asarray(x), cupy.asarray(w), cupy.asarray(dy)
    y = cv.conv2d_forward(gx, gw, strides, pads, dil, groups)
    assert rel_err(y.get(), y_r) < 1e-5
    dx = cv.conv2d_backprop_input(gdy, gw, xs, strides, pads, dil, groups)
    assert rel_err(dx.get(), dx_r) < 1e-5
    dw = cv.conv2d_backprop_filter(gx, gdy, w.shape, strides, pads, dil, groups)
    assert rel_err(dw.get(), dw_r) < 1e-5


@pytest.mark.parametrize("case", [
    ((2, 14, 14, 256), (3, 3, 256), (1, 1), "SAME", (1, 1), 1),   # splits over 9 * 256
    ((2, 9, 7, 512), (3, 3, 144), (2, 1), "SAME", (1, 2), 2),     # groups, stride, dilation
    ((1, 7, 7, 130), (3, 3, 130), (1, 1), "VALID", (1, 1), 1),    # scalar loads (130 % 4 != 0)
], ids=["resnet", "groups", "unaligned"])
def test_conv2d_forward_split_k_candidate(rng, case):
    """The split-K forward candidate, forced by `variant=` (it must split for these shapes)."""
    xs, (KH, KW, OC), strides, padding, dil, groups = case
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal((KH, KW, xs[3] // groups, OC)).astype(np.float32)
    (oh, ow), pads = cv.same_valid_pads(xs[1:3], (KH, KW), strides, dil, padding)
    plan = cv.plan_conv2d_forward(xs, w.shape, strides, pads, dil, groups, True,
                                  cupy.cuda.Device().attributes["MultiProcessorCount"], "splitk")
    assert plan["kernel"] == "tl_conv2d_fwd_splitk_nhwc_f32"
    y_r, _, _ = ref_conv(x, w, strides, pads, dil, groups, np.zeros((xs[0], oh, ow, OC)))
    y = cv.conv2d_forward(cupy.asarray(x), cupy.asarray(w), strides, pads, dil, groups, variant="splitk")
    assert rel_err(y.get(), y_r) < 1e-5


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("case", [
    ((4, 28, 28, 64), (3, 3, 64), (1, 1), "SAME", (1, 1), 1),     # ResNet-style, vector path
    ((2, 15, 13, 16), (3, 2, 136), (2, 1), "VALID", (2, 1), 1),   # partial N tile, dilation
    ((2, 9, 9, 48), (3, 3, 24), (1, 1), "SAME", (1, 1), 3),       # groups of 16 / 8 channels
    ((2, 7, 7, 3), (3, 3, 5), (1, 1), "SAME", (1, 1), 1),         # element-wise gathers
], ids=["resnet", "partial", "groups", "scalar"])
def test_conv2d_forward_tensor_core_candidate(rng, case, dtype):
    """The float16 / bfloat16 tensor-core forward candidate, forced by `variant="tc"`."""
    xs, (KH, KW, OC), strides, padding, dil, groups = case
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal((KH, KW, xs[3] // groups, OC)).astype(np.float32)
    if dtype == "float16":
        x, w = x.astype(np.float16), w.astype(np.float16)
        xv, wv = x.astype(np.float64), w.astype(np.float64)
    else:
        x, w = f32_to_bf16_bits(x), f32_to_bf16_bits(w)
        xv, wv = bf16_bits_to_f64(x), bf16_bits_to_f64(w)
    (oh, ow), pads = cv.same_valid_pads(xs[1:3], (KH, KW), strides, dil, padding)
    y_r, _, _ = ref_conv(xv, wv, strides, pads, dil, groups, np.zeros((xs[0], oh, ow, OC)))
    y = cv.conv2d_forward(cupy.asarray(x), cupy.asarray(w), strides, pads, dil, groups, variant="tc",
                          dtype_name=dtype).get()
    got = y.astype(np.float64) if dtype == "float16" else bf16_bits_to_f64(y)
    assert rel_err(got, y_r) < 1e-2


@pytest.mark.parametrize("case", [
    ((4, 28, 28, 64), (3, 3, 64), "SAME", (1, 1), 1),
    ((2, 15, 13, 16), (3, 2, 136), "VALID", (2, 1), 1),
    ((2, 9, 9, 48), (3, 3, 24), "SAME", (1, 1), 3),
    ((2, 7, 7, 3), (3, 3, 5), "SAME", (1, 1), 1),
], ids=["resnet", "dilated", "groups", "scalar"])
def test_conv2d_input_gradient_tensor_core_candidate(rng, case):
    """A stride-1 float16 input gradient as a forward convolution on the tensor-core candidate."""
    xs, (KH, KW, OC), padding, dil, groups = case
    w = rng.standard_normal((KH, KW, xs[3] // groups, OC)).astype(np.float16)
    (oh, ow), pads = cv.same_valid_pads(xs[1:3], (KH, KW), 1, dil, padding)
    dy = rng.standard_normal((xs[0], oh, ow, OC)).astype(np.float16)
    _, dx_r, _ = ref_conv(np.zeros(xs), w.astype(np.float64), (1, 1), pads, dil, groups, dy.astype(np.float64))
    dx = cv.conv2d_backprop_input(cupy.asarray(dy), cupy.asarray(w), xs, 1, pads, dil, groups, variant="tc")
    assert rel_err(dx.get().astype(np.float64), dx_r) < 1e-2


# ------------------------------------------------------------------ pool


def ref_pool(x, dy, k, s, padding):
    N, H, W, C = x.shape
    (OH, OW), (pt, _, plf, _) = cv.same_valid_pads((H, W), k, s, 1, padding)
    my = np.zeros((N, OH, OW, C))
    ay = np.zeros_like(my)
    mdx = np.zeros(x.shape)
    adx = np.zeros(x.shape)
    for oh in range(OH):
        for ow in range(OW):
            h0, w0 = oh * s[0] - pt, ow * s[1] - plf
            cells = [(h, w) for h in range(max(h0, 0), min(h0 + k[0], H))
                     for w in range(max(w0, 0), min(w0 + k[1], W))]
            vals = np.stack([x[:, h, w, :] for h, w in cells]).astype(np.float64)
            arg = np.argmax(vals, axis=0)
            my[:, oh, ow], ay[:, oh, ow] = vals.max(0), vals.mean(0)
            for i, (h, w) in enumerate(cells):
                mdx[:, h, w] += np.where(arg == i, dy[:, oh, ow], 0.0)
                adx[:, h, w] += dy[:, oh, ow] / len(cells)
    return my, mdx, ay, adx


@pytest.mark.parametrize("shape,k,s,padding", [
    ((2, 17, 15, 7), (3, 3), (2, 2), "SAME"),
    ((2, 16, 16, 64), (2, 2), (2, 2), "VALID"),
    ((1, 9, 10, 3), (2, 3), (3, 2), "SAME"),
])
def test_pool(rng, shape, k, s, padding):
    x = np.round(rng.standard_normal(shape) * 2).astype(np.float32)  # ties included
    oshape = pl.plan_pool2d("max", "fwd", shape, k, s, padding)["out_shape"]
    dy = rng.standard_normal(oshape).astype(np.float32)
    my, mdx, ay, adx = ref_pool(x, dy, k, s, padding)
    gx, gdy = cupy.asarray(x), cupy.asarray(dy)
    y = pl.max_pool2d(gx, k, s, padding)
    np.testing.assert_array_equal(y.get(), my)
    np.testing.assert_allclose(pl.max_pool2d_grad(gx, y, gdy, k, s, padding).get(), mdx,
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(pl.avg_pool2d(gx, k, s, padding).get(), ay, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(pl.avg_pool2d_grad(shape, gdy, k, s, padding).get(), adx,
                               rtol=1e-5, atol=1e-5)
