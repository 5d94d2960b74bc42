"""Convolution kernels (cuda_kernels/conv.cu) on the host emulator, planned by the launcher.

Forward, input gradient and filter gradient (split-K partials summed like the launcher does),
generic implicit-GEMM and depthwise paths, strides, explicit / SAME pads, dilation, groups,
vector and scalar load paths, against a float64 numpy reference; outputs NaN-poisoned first.
"""

import numpy as np
import pytest

from tl_emu import build, launch
from tensorlab.backend.cuda.kernels import conv as cv


@pytest.fixture(scope="module")
def lib():
    return build("conv")


def ref_conv(x, w, strides, pads, dil, groups, dy=None):
    """float64 (y, dx, dw) by explicit slicing; dx / dw only when dy is given."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    N, H, W, C = x.shape
    KH, KW, ICg, OC = w.shape
    sh, sw = strides
    dh, dw_ = dil
    pt, pb, pl, pr = pads
    OH, OW = cv.out_hw(H, W, KH, KW, strides, pads, dil)
    xp = np.zeros((N, H + pt + pb, W + pl + pr, C))
    xp[:, pt:pt + H, pl:pl + W] = x
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
                ci = slice(g * ICg, (g + 1) * ICg)
                co = slice(g * ocg, (g + 1) * ocg)
                y[..., co] += xs[..., ci] @ w[kh, kw, :, co]
                if dy is not None:
                    d = dy[..., co].astype(np.float64)
                    dxp[:, hs, ws, ci] += d @ w[kh, kw, :, co].T
                    dwr[kh, kw, :, co] += xs[..., ci].reshape(-1, ICg).T @ d.reshape(-1, ocg)
    dx = dxp[:, pt:pt + H, pl:pl + W]
    return y, dx, dwr


def rel_err(out, r):
    assert not np.isnan(out).any(), "unwritten (NaN-poisoned) outputs"
    n = np.linalg.norm(r.ravel())
    d = np.linalg.norm((out - r).ravel())
    return d / n if n else d


def run(lib, plan, arrays, out_name, out_shape):
    arrays = dict(arrays)
    arrays[out_name] = np.full(out_shape, np.nan, np.float32)
    launch(lib, plan["kernel"], plan["grid"], plan["block"], 0,
           *cv.bind_args(plan, arrays, np.int32, np.int64))
    return arrays[out_name]


CASES = [
    # N, H, W, C, OC, KH, KW, strides, pads, dil, groups
    (2, 7, 6, 3, 5, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),
    (2, 9, 8, 8, 12, 3, 2, (2, 1), (1, 1, 0, 1), (1, 1), 1),
    (1, 9, 9, 8, 8, 3, 3, (2, 2), (0, 0, 0, 0), (2, 2), 1),
    (2, 5, 7, 8, 16, 3, 3, (1, 1), (2, 0, 1, 1), (1, 2), 2),
    (1, 6, 5, 6, 9, 2, 2, (1, 2), (1, 0, 0, 1), (1, 1), 3),
    (1, 12, 13, 8, 132, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),  # 128x128 variant (num_sms=1)
    (1, 11, 13, 132, 8, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 1),
    (1, 4, 4, 1, 1, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 1),
    (2, 7, 7, 4, 4, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 4),  # depthwise
    (2, 7, 7, 3, 6, 3, 3, (2, 2), (1, 1, 1, 1), (1, 1), 3),  # depthwise, multiplier 2
    (1, 8, 9, 5, 5, 3, 3, (2, 1), (2, 1, 1, 2), (2, 1), 5),  # depthwise, dilated
]


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
@pytest.mark.parametrize("vec", [True, False])
def test_conv2d(lib, case, vec):
    N, H, W, C, OC, KH, KW, strides, pads, dil, groups = case
    rng = np.random.default_rng(hash(case) % 2**32)
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    w = rng.standard_normal((KH, KW, C // groups, OC)).astype(np.float32)
    num_sms = 1 if OC == 132 or C == 132 else 132
    pf = cv.plan_conv2d_forward(x.shape, w.shape, strides, pads, dil, groups, vec, num_sms)
    dy = rng.standard_normal(pf["out_shape"]).astype(np.float32)
    y_r, dx_r, dw_r = ref_conv(x, w, strides, pads, dil, groups, dy)

    y = run(lib, pf, {"X": x, "W": w}, "Y", pf["out_shape"])
    assert rel_err(y, y_r) < 1e-5

    pi = cv.plan_conv2d_backprop_input(dy.shape, w.shape, x.shape, strides, pads, dil, groups,
                                       vec, num_sms)
    dx = run(lib, pi, {"DY": dy, "W": w}, "DX", x.shape)
    assert rel_err(dx, dx_r) < 1e-5

    pw = cv.plan_conv2d_backprop_filter(x.shape, dy.shape, w.shape, strides, pads, dil, groups,
                                        vec, num_sms=8)
    part = run(lib, pw, {"X": x, "DY": dy}, "P", pw["partial_shape"])
    dw = part.sum(axis=0).reshape(w.shape)
    assert rel_err(dw, dw_r) < 1e-5
    if cv.is_depthwise(C, groups, OC):
        assert pf["kernel"].startswith("tl_depthwise")


def test_same_padding_matches_reference(lib):
    """SAME pads from same_valid_pads (odd cell bottom/right) through the forward kernel."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 6, 7, 4)).astype(np.float32)
    w = rng.standard_normal((3, 2, 4, 5)).astype(np.float32)
    (oh, ow), pads = cv.same_valid_pads((6, 7), (3, 2), (2, 2), (1, 1), "SAME")
    assert (oh, ow) == (3, 4) and pads == (0, 1, 0, 1)
    pf = cv.plan_conv2d_forward(x.shape, w.shape, (2, 2), pads, (1, 1), 1)
    y = run(lib, pf, {"X": x, "W": w}, "Y", pf["out_shape"])
    y_r, _, _ = ref_conv(x, w, (2, 2), pads, (1, 1), 1)
    assert rel_err(y, y_r) < 1e-5


def test_wgrad_split_k_is_tile_aligned():
    p = cv.plan_conv2d_backprop_filter((8, 30, 30, 16), (8, 30, 30, 32), (3, 3, 16, 32), 1,
                                       (1, 1, 1, 1), 1, 1)
    splits, k_chunk = p["args"][-2][1], p["args"][-1][1]
    assert k_chunk % 16 == 0 and splits * k_chunk >= 8 * 30 * 30 > (splits - 1) * k_chunk
    assert p["grid"][2] == splits and p["partial_shape"] == (splits, 3 * 3 * 16, 32)


@pytest.mark.parametrize("tile", list(cv.TILES))
def test_every_tile_shape(lib, tile, monkeypatch):
    """Each tile shape of the three implicit-GEMM kernels, forced through the planner."""
    monkeypatch.setattr(cv, "select_tile", lambda *a, **k: tile)
    N, H, W, C, OC, KH, KW = 2, 9, 7, 12, 20, 3, 3
    strides, pads, dil, groups = (2, 1), (1, 1, 1, 0), (1, 1), 2
    rng = np.random.default_rng(11)
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    w = rng.standard_normal((KH, KW, C // groups, OC)).astype(np.float32)
    pf = cv.plan_conv2d_forward(x.shape, w.shape, strides, pads, dil, groups)
    assert pf["kernel"].endswith(tile) and pf["block"][0] == cv.TILES[tile][2]
    dy = rng.standard_normal(pf["out_shape"]).astype(np.float32)
    y_r, dx_r, _ = ref_conv(x, w, strides, pads, dil, groups, dy)
    assert rel_err(run(lib, pf, {"X": x, "W": w}, "Y", pf["out_shape"]), y_r) < 1e-5
    pi = cv.plan_conv2d_backprop_input(dy.shape, w.shape, x.shape, strides, pads, dil, groups)
    assert rel_err(run(lib, pi, {"DY": dy, "W": w}, "DX", x.shape), dx_r) < 1e-5


def test_forward_splits_fill_the_waves():
    # 64x14x14x256 3x3 -> 256: 196 blocks of 128x128 fill 74% of 264 slots (2 per SM on 132
    # SMs); 4 splits: 784 blocks in 3 waves of 264, 99%
    assert cv.forward_splits(64 * 14 * 14, 256, 9 * 256, 1) == (4, 576)
    # 64x7x7x512 3x3 -> 512: 100 blocks; 5 splits fill 500 of 2 x 264 slots
    assert cv.forward_splits(64 * 7 * 7, 512, 9 * 512, 1) == (5, 928)
    # with one block per SM: 2 splits fill 392 of 3 x 132 slots
    assert cv.forward_splits(64 * 14 * 14, 256, 9 * 256, 1, blocks_per_sm=1) == (2, 1152)
    # whole waves already (2 x 264 blocks): no split; short K: no split
    assert cv.forward_splits(128 * 264, 256, 4096, 1) == (1, 4096)
    assert cv.forward_splits(128, 128, 300, 1) == (1, 304)


@pytest.mark.parametrize("vec", [True, False])
@pytest.mark.parametrize("case", [
    # N, H, W, C, OC, KH, KW, strides, pads, dil, groups
    (1, 5, 5, 64, 72, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),
    (1, 6, 5, 128, 144, 3, 3, (2, 1), (1, 0, 1, 1), (1, 2), 2),
], ids=["plain", "strided,dilated,groups"])
def test_forward_split_k_candidate(lib, case, vec):
    """The split-K forward candidate: partials over K chunks summed like the launcher does."""
    N, H, W, C, OC, KH, KW, strides, pads, dil, groups = case
    rng = np.random.default_rng(sum(case[:5]))
    x = rng.standard_normal((N, H, W, C)).astype(np.float32)
    w = rng.standard_normal((KH, KW, C // groups, OC)).astype(np.float32)
    pf = cv.plan_conv2d_forward(x.shape, w.shape, strides, pads, dil, groups, vec, num_sms=4,
                                variant="splitk")
    assert pf["kernel"] == "tl_conv2d_fwd_splitk_nhwc_f32"
    splits, k_chunk = pf["args"][-2][1], pf["args"][-1][1]
    assert splits == 2 and k_chunk % 16 == 0 and pf["grid"][2] == groups * splits
    part = run(lib, pf, {"X": x, "W": w}, "P", pf["partial_shape"])
    y = part.sum(axis=0).reshape(pf["out_shape"])
    y_r, _, _ = ref_conv(x, w, strides, pads, dil, groups)
    assert rel_err(y, y_r) < 1e-5


def test_forward_split_k_candidate_falls_back_where_it_does_not_apply():
    # 64 output channels (128x64 tiles), or no split needed: the default plan
    p = cv.plan_conv2d_forward((1, 5, 5, 64), (3, 3, 64, 64), 1, (1, 1, 1, 1), 1, 1, variant="splitk")
    assert p["kernel"].startswith("tl_conv2d_fwd_nhwc_f32") and "partial_shape" not in p
    with pytest.raises(ValueError, match="no variant 'wide'"):
        cv.plan_conv2d_forward((1, 5, 5, 64), (3, 3, 64, 64), 1, (1, 1, 1, 1), 1, 1, variant="wide")


# ---------------------------------------------------------------- float16 / bfloat16 tensor cores

TC_CASES = [
    # N, H, W, C, OC, KH, KW, strides, pads, dil, groups
    (2, 9, 9, 16, 24, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),     # 162 rows: two M tiles, K = 144 wraps the ring
    (1, 12, 12, 8, 136, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),   # partial second N tile
    (2, 9, 8, 16, 16, 3, 2, (2, 1), (2, 0, 1, 1), (1, 2), 2),     # stride, uneven pads, dilation, groups
    (1, 7, 6, 3, 5, 3, 3, (1, 1), (1, 1, 1, 1), (1, 1), 1),       # 3 channels: element-wise gathers
    (1, 5, 5, 12, 6, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), 3),      # 1x1, 4 channels per group
]


def _bits(x, dtype_name):
    from tests.kernels.test_emu_matmul import from_bits, to_bf16_bits
    bits = x.astype(np.float16).view(np.uint16) if dtype_name == "float16" else to_bf16_bits(x)
    return bits, from_bits(bits, dtype_name)


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
@pytest.mark.parametrize("vec", [True, False])
@pytest.mark.parametrize("case", TC_CASES, ids=[str(i) for i in range(len(TC_CASES))])
def test_forward_tensor_core_candidate(lib, case, vec, dtype_name):
    """The f16/bf16 mma.sync forward (variant "tc"): padding taps zero-filled by cp.async,
    partial tiles, groups, and the element-wise path; rounded once from fp32 sums."""
    from tests.kernels.test_emu_matmul import from_bits
    N, H, W, C, OC, KH, KW, strides, pads, dil, groups = case
    rng = np.random.default_rng(hash(case) % 2**32 + vec)
    x, xv = _bits(rng.standard_normal((N, H, W, C)), dtype_name)
    w, wv = _bits(rng.standard_normal((KH, KW, C // groups, OC)), dtype_name)
    plan = cv.plan_conv2d_forward(x.shape, w.shape, strides, pads, dil, groups, vec, variant="tc",
                                  dtype=dtype_name)
    assert plan["kernel"] == ("tl_conv2d_fwd_nhwc_f16_tc" if dtype_name == "float16" else
                              "tl_conv2d_fwd_nhwc_bf16_tc")
    assert plan["smem"] == cv.TC_SMEM_BYTES and plan["block"] == (256, 1, 1)
    assert plan["args"][-1][1] == int(vec and (C // groups) % 8 == 0 and (OC // groups) % 8 == 0)
    y = np.full(plan["out_shape"], 0xFFFF, np.uint16)  # all ones: NaN in both formats
    launch(lib, plan["kernel"], plan["grid"], plan["block"], plan["smem"],
           *cv.bind_args(plan, {"X": x, "W": w, "Y": y}, np.int32, np.int64))
    y_r, _, _ = ref_conv(xv, wv, strides, pads, dil, groups)
    assert rel_err(from_bits(y, dtype_name), y_r) < (2e-3 if dtype_name == "float16" else 1e-2)


def test_tensor_core_candidate_is_for_16_bit_types_only():
    with pytest.raises(ValueError, match="variant 'tc' does not apply to float32"):
        cv.plan_conv2d_forward((1, 4, 4, 8), (3, 3, 8, 8), 1, (1, 1, 1, 1), 1, 1, variant="tc")
    with pytest.raises(ValueError, match="variant None does not apply to float16"):
        cv.plan_conv2d_forward((1, 4, 4, 8), (3, 3, 8, 8), 1, (1, 1, 1, 1), 1, 1, dtype="float16")


@pytest.mark.parametrize("case", [c for c in TC_CASES if c[7] == (1, 1)] + [
    (1, 6, 7, 8, 16, 3, 3, (1, 1), (2, 1, 1, 2), (1, 1), 1),    # uneven pads
    (1, 8, 8, 16, 8, 2, 3, (1, 1), (0, 1, 2, 0), (1, 1), 2),    # even filter, groups
], ids=lambda c: "x".join(map(str, c[:5])))
def test_input_gradient_as_forward_on_tensor_cores(lib, case):
    """A stride-1 input gradient is the forward convolution of dy with the flipped, channel-
    swapped filter (the tensor-core candidate's `conv2d_backprop_input(variant="tc")`)."""
    from tests.kernels.test_emu_matmul import from_bits
    N, H, W, C, OC, KH, KW, strides, pads, dil, groups = case
    rng = np.random.default_rng(hash(case) % 2**32)
    w, wv = _bits(rng.standard_normal((KH, KW, C // groups, OC)), "float16")
    OH, OW = cv.out_hw(H, W, KH, KW, strides, pads, dil)
    dy, dyv = _bits(rng.standard_normal((N, OH, OW, OC)), "float16")
    fwd_pads = cv.backprop_input_as_forward(w.shape, strides, pads, dil)
    wt = np.ascontiguousarray(cv._swap_filter(w, groups))
    plan = cv.plan_conv2d_forward(dy.shape, wt.shape, 1, fwd_pads, dil, groups, True, variant="tc",
                                  dtype="float16")
    assert plan["out_shape"] == (N, H, W, C)
    dx = np.full(plan["out_shape"], 0xFFFF, np.uint16)
    launch(lib, plan["kernel"], plan["grid"], plan["block"], plan["smem"],
           *cv.bind_args(plan, {"X": dy, "W": wt, "Y": dx}, np.int32, np.int64))
    _, dx_r, _ = ref_conv(np.zeros((N, H, W, C)), wv, strides, pads, dil, groups, dyv)
    assert rel_err(from_bits(dx, "float16"), dx_r) < 2e-3


def test_input_gradient_as_forward_applies_to_stride_one_only():
    assert cv.backprop_input_as_forward((3, 3, 4, 4), (2, 2), (1, 1, 1, 1), (1, 1)) is None
    assert cv.backprop_input_as_forward((3, 3, 4, 4), (1, 1), (3, 0, 0, 0), (1, 1)) is None  # pad > 2
    assert cv.backprop_input_as_forward((3, 3, 4, 4), (1, 1), (1, 1, 0, 2), (2, 1)) == (3, 3, 2, 0)
