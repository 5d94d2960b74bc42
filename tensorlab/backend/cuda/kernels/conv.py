"""Launchers for `cuda_kernels/conv.cu`: conv2d forward / input grad / filter grad, float32 NHWC,
and a float16 / bfloat16 tensor-core forward (`variant="tc"`, which float16 convolutions run).

Layouts follow TensorFlow: activations NHWC, filters HWIO `[KH, KW, C // groups, OC]`.
Padding is explicit `(pad_top, pad_bottom, pad_left, pad_right)`; `same_valid_pads` turns
"SAME"/"VALID" into those numbers exactly as TensorFlow does. The `plan_*` functions are pure
Python (variant, grid, block, arguments) and are shared with the CPU emulator tests.
"""
from __future__ import annotations

try:
    from ._plan import memoize_plan
except ImportError:  # loaded by path outside its package (pool.py's fallback)
    import functools

    memoize_plan = functools.lru_cache(maxsize=1024)

STEM = "conv"

#: implicit-GEMM tile shapes: kernel-name suffix -> (BM, BN, threads)
TILES = {"": (128, 128, 256), "_128x64": (128, 64, 128), "_64x64": (64, 64, 128)}

HOT_KERNELS = [f"tl_conv2d_{k}_nhwc_f32{t}" for k in ("fwd", "bwd_input", "bwd_filter")
               for t in TILES] + ["tl_conv2d_fwd_splitk_nhwc_f32", "tl_conv2d_fwd_nhwc_f16_tc",
                                  "tl_conv2d_fwd_nhwc_bf16_tc"]
#: dynamic shared memory of the tensor-core kernel (tc16.cuh's 128x128, 3-stage tiles)
TC_SMEM_BYTES = 61440
_TC_KERNELS = {"float16": "tl_conv2d_fwd_nhwc_f16_tc", "bfloat16": "tl_conv2d_fwd_nhwc_bf16_tc"}
EMU_EXEMPT: dict = {}

MAX_GRID = 65535
_WGRAD_BK = 16  # split-K chunks are multiples of every tile depth (8 and 16)


def _cdiv(a, b):
    return -(-a // b)


def _pair(v):
    if isinstance(v, int):
        return (v, v)
    v = tuple(int(x) for x in v)
    if len(v) == 4:  # NHWC-style (1, sh, sw, 1)
        return (v[1], v[2])
    return v


def same_valid_pads(in_hw, k_hw, strides, dilations, padding):
    """Output size and explicit pads for TF padding modes.

    Args:
        in_hw: (H, W) of the input.
        k_hw: (KH, KW) of the window / filter.
        strides, dilations: ints or pairs.
        padding: "SAME", "VALID", or explicit ((top, bottom), (left, right)).
    Returns:
        ((OH, OW), (pad_top, pad_bottom, pad_left, pad_right)); SAME puts the odd pad cell at
        the bottom / right, like TensorFlow.

    Example:
        >>> same_valid_pads((5, 5), (3, 3), 2, 1, "SAME")
        ((3, 3), (1, 1, 1, 1))
    """
    strides, dilations = _pair(strides), _pair(dilations)
    out, pads = [], []
    if isinstance(padding, str):
        mode = padding.upper()
        if mode not in ("SAME", "VALID"):
            raise ValueError(f"padding must be SAME, VALID or explicit, got {padding!r}")
    else:
        mode = "EXPLICIT"
        explicit = [tuple(p) for p in padding]
        if len(explicit) == 4:  # NHWC-style [[0,0],[t,b],[l,r],[0,0]]
            explicit = explicit[1:3]
    for i in range(2):
        n, k, s, d = in_hw[i], k_hw[i], strides[i], dilations[i]
        eff = (k - 1) * d + 1
        if mode == "VALID":
            o = max(0, (n - eff) // s + 1) if n >= eff else 0
            p = (0, 0)
        elif mode == "SAME":
            o = _cdiv(n, s)
            total = max((o - 1) * s + eff - n, 0)
            p = (total // 2, total - total // 2)
        else:
            p = explicit[i]
            span = n + p[0] + p[1]
            o = (span - eff) // s + 1 if span >= eff else 0
        out.append(o)
        pads.extend(p)
    return (out[0], out[1]), tuple(pads)


def _geom_args(N, H, W, C, OH, OW, OC, KH, KW, strides, pads, dilations, groups):
    sh, sw = _pair(strides)
    dh, dw = _pair(dilations)
    pt, _, pl, _ = pads
    vals = (N, H, W, C, OH, OW, OC, KH, KW, sh, sw, pt, pl, dh, dw, groups)
    return [("i32", int(v)) for v in vals]


def out_hw(H, W, KH, KW, strides, pads, dilations):
    sh, sw = _pair(strides)
    dh, dw = _pair(dilations)
    pt, pb, pl, pr = pads
    oh = (H + pt + pb - (KH - 1) * dh - 1) // sh + 1
    ow = (W + pl + pr - (KW - 1) * dw - 1) // sw + 1
    return max(oh, 0), max(ow, 0)


def is_depthwise(C, groups, OC):
    return groups > 1 and groups == C and OC % C == 0


def select_tile(m, ncols, groups, num_sms=132):
    """Tile suffix for an implicit GEMM with m output rows and ncols (per group) columns.

    64-wide outputs (e.g. OC = 64) take 128x64 tiles so that no half tile is wasted; the big
    tiles are used only when they alone give every SM a block, otherwise 64x64.
    """
    if ncols <= 64:
        return "_128x64" if _cdiv(m, 128) * groups >= num_sms else "_64x64"
    if _cdiv(m, 128) * _cdiv(ncols, 128) * groups >= num_sms:
        return ""
    return "_64x64"


def _gemm_variant(base, m, ncols, groups, num_sms):
    tile = select_tile(m, ncols, groups, num_sms)
    bm, bn, threads = TILES[tile]
    return base + tile, (_cdiv(ncols, bn), _cdiv(m, bm), groups), (threads, 1, 1)


def _elementwise_grid(total):
    return (max(1, min(_cdiv(total, 256), MAX_GRID)), 1, 1), (256, 1, 1)


#: (low, high) fraction of one wave (two 128x128 blocks per SM) between which the default
#: float32 forward convolution splits K: on the H200 (2026-11-27, h200-2026-11-27-2.json) split-K
#: ran 1.08x / 1.11x the unsplit kernel on 64x14x14x256 and 64x7x7x512 3x3 (196 and 100 tiles
#: for 264 slots) and 0.89x on 64x28x28x128 (392 tiles: the partials cost more than the idle
#: slots). Below a quarter of a wave the problem is small and the extra launch of the sum dominates.
SPLITK_WAVES = (0.25, 1.0)


def forward_splits(m, ncols, k, groups, num_sms=132, blocks_per_sm=2, max_splits=8, min_chunk=256):
    """(splits, k_chunk) of the split-K forward kernel on 128x128 tiles.

    With `blocks_per_sm` blocks resident per SM (the kernel's launch bounds give two on
    sm_90), a problem of `b` blocks runs in ceil(b / slots) waves, the last one partly idle.
    The split count that fills the waves best (b * s / (waves * slots)) wins; ties go to fewer
    splits, and each split keeps at least `min_chunk` of K.
    """
    blocks = _cdiv(m, 128) * _cdiv(ncols, 128) * groups
    slots = num_sms * blocks_per_sm
    best, best_eff = 1, 0.0
    for s in range(1, max_splits + 1):
        if s > 1 and k < s * min_chunk:
            break
        eff = blocks * s / (_cdiv(blocks * s, slots) * slots)
        if eff > best_eff + 0.02:
            best, best_eff = s, eff
    k_chunk = _cdiv(_cdiv(max(k, 1), best), _WGRAD_BK) * _WGRAD_BK
    return _cdiv(max(k, 1), k_chunk), k_chunk


def plan_conv2d_forward(x_shape, w_shape, strides, pads, dilations, groups, vec=True,
                        num_sms=132, variant=None, dtype="float32"):
    """Kernel, grid, block, args (pointers "X", "W", "Y") and output shape of a forward conv.

    float32: `variant="splitk"` plans the split-K kernel where it applies (more than 64 output
    channels per group, and a split helps): then the pointer "P" is a partial buffer of
    `partial_shape` (splits, N*OH*OW, OC) that the caller sums over axis 0 into Y. The default
    (None) takes split-K for grids of 128x128 tiles that fill a quarter of a wave up to one wave
    (`SPLITK_WAVES`); "nosplit" never splits.
    `variant="tc"` (dtype "float16" or "bfloat16", the only variant there) plans the tensor-core
    kernel, with `smem` bytes of dynamic shared memory; `vec` also needs 8 channels per group in
    and out.
    """
    if variant not in (None, "splitk", "nosplit", "tc"):
        raise ValueError(f"conv2d: no variant {variant!r}; valid: None, 'splitk', 'nosplit', 'tc'")
    if (variant == "tc") != (dtype in _TC_KERNELS):
        raise ValueError(f"conv2d: variant {variant!r} does not apply to {dtype}; float16 and bfloat16 "
                         "take variant='tc', float32 None, 'splitk' or 'nosplit'")
    N, H, W, C = x_shape
    KH, KW, ICg, OC = w_shape
    _check_groups(C, ICg, OC, groups)
    OH, OW = out_hw(H, W, KH, KW, strides, pads, dilations)
    geom = _geom_args(N, H, W, C, OH, OW, OC, KH, KW, strides, pads, dilations, groups)
    M, ocg, K = N * OH * OW, OC // groups, KH * KW * ICg
    if variant == "tc":
        vec = bool(vec) and ICg % 8 == 0 and ocg % 8 == 0
        return dict(kernel=_TC_KERNELS[dtype], grid=(_cdiv(ocg, 128), _cdiv(M, 128), groups),
                    block=(256, 1, 1), smem=TC_SMEM_BYTES, args=["X", "W", "Y", *geom, ("i32", int(vec))],
                    out_shape=(N, OH, OW, OC))
    if is_depthwise(C, groups, OC):
        grid, block = _elementwise_grid(N * OH * OW * OC)
        return dict(kernel="tl_depthwise_conv2d_fwd_nhwc_f32", grid=grid, block=block,
                    args=["X", "W", "Y", *geom], out_shape=(N, OH, OW, OC))
    lo, hi = SPLITK_WAVES
    tiles = _cdiv(M, 128) * _cdiv(ocg, 128) * groups
    if variant is None and lo * num_sms * 2 <= tiles < hi * num_sms * 2:
        variant = "splitk"
    if variant == "splitk" and ocg > 64:
        splits, k_chunk = forward_splits(M, ocg, K, groups, num_sms)
        if splits > 1:
            return dict(kernel="tl_conv2d_fwd_splitk_nhwc_f32",
                        grid=(_cdiv(ocg, 128), _cdiv(M, 128), groups * splits), block=(256, 1, 1),
                        args=["X", "W", "P", *geom, ("i32", int(vec)), ("i32", splits),
                              ("i32", k_chunk)],
                        partial_shape=(splits, M, OC), out_shape=(N, OH, OW, OC))
    name, grid, block = _gemm_variant("tl_conv2d_fwd_nhwc_f32", M, ocg, groups, num_sms)
    return dict(kernel=name, grid=grid, block=block, args=["X", "W", "Y", *geom,
                                                            ("i32", int(vec))],
                out_shape=(N, OH, OW, OC))


def plan_conv2d_backprop_input(dy_shape, w_shape, input_shape, strides, pads, dilations, groups,
                               vec=True, num_sms=132):
    """Plan of the input gradient (pointers "DY", "W", "DX")."""
    N, H, W, C = input_shape
    KH, KW, ICg, OC = w_shape
    _check_groups(C, ICg, OC, groups)
    OH, OW = out_hw(H, W, KH, KW, strides, pads, dilations)
    if tuple(dy_shape) != (N, OH, OW, OC):
        raise ValueError(f"conv2d_backprop_input: dy shape {dy_shape} != {(N, OH, OW, OC)}")
    geom = _geom_args(N, H, W, C, OH, OW, OC, KH, KW, strides, pads, dilations, groups)
    if is_depthwise(C, groups, OC):
        grid, block = _elementwise_grid(N * H * W * C)
        return dict(kernel="tl_depthwise_conv2d_bwd_input_nhwc_f32", grid=grid, block=block,
                    args=["DY", "W", "DX", *geom], out_shape=(N, H, W, C))
    name, grid, block = _gemm_variant("tl_conv2d_bwd_input_nhwc_f32", N * H * W, C // groups,
                                      groups, num_sms)
    return dict(kernel=name, grid=grid, block=block,
                args=["DY", "W", "DX", *geom, ("i32", int(vec))], out_shape=(N, H, W, C))


def plan_conv2d_backprop_filter(x_shape, dy_shape, filter_shape, strides, pads, dilations,
                                groups, vec=True, num_sms=132):
    """Plan of the filter gradient (pointers "X", "DY", "P").

    "P" is a partial buffer of `partial_shape` = (splits, KH*KW*ICg, OC) for the split-K GEMM
    ((splits, KH*KW, OC) for depthwise); the caller sums it over axis 0.
    """
    N, H, W, C = x_shape
    KH, KW, ICg, OC = filter_shape
    _check_groups(C, ICg, OC, groups)
    OH, OW = out_hw(H, W, KH, KW, strides, pads, dilations)
    if tuple(dy_shape) != (N, OH, OW, OC):
        raise ValueError(f"conv2d_backprop_filter: dy shape {dy_shape} != {(N, OH, OW, OC)}")
    geom = _geom_args(N, H, W, C, OH, OW, OC, KH, KW, strides, pads, dilations, groups)
    P = N * OH * OW
    if is_depthwise(C, groups, OC):
        base = _cdiv(OC, 32) * KH * KW
        splits = max(1, min(_cdiv(4 * num_sms, base), _cdiv(P, 64), MAX_GRID))
        return dict(kernel="tl_depthwise_conv2d_bwd_filter_nhwc_f32",
                    grid=(_cdiv(OC, 32), KH * KW, splits), block=(256, 1, 1),
                    args=["X", "DY", "P", *geom], partial_shape=(splits, KH * KW, OC),
                    out_shape=tuple(filter_shape))
    M = KH * KW * ICg
    ocg = OC // groups
    # split-K fills the GPU: M x OCg is small, K = N*OH*OW is large
    tile = "_64x64" if M <= 64 and ocg <= 64 else ("_128x64" if ocg <= 64 else "")
    bm, bn, threads = TILES[tile]
    tiles = _cdiv(M, bm) * _cdiv(ocg, bn) * groups
    splits = max(1, min(_cdiv(2 * num_sms, tiles), _cdiv(P, 256), MAX_GRID // groups))
    k_chunk = _cdiv(_cdiv(max(P, 1), splits), _WGRAD_BK) * _WGRAD_BK
    splits = max(1, _cdiv(P, k_chunk))
    return dict(kernel="tl_conv2d_bwd_filter_nhwc_f32" + tile,
                grid=(_cdiv(ocg, bn), _cdiv(M, bm), groups * splits), block=(threads, 1, 1),
                args=["X", "DY", "P", *geom, ("i32", int(vec)), ("i32", splits),
                      ("i32", k_chunk)],
                partial_shape=(splits, M, OC), out_shape=tuple(filter_shape))


def _check_groups(C, ICg, OC, groups):
    if groups < 1 or C != ICg * groups or OC % groups:
        raise ValueError(f"conv2d: channels {C} / filter in-channels {ICg} / out {OC} do not "
                         f"match groups={groups}")


def bind_args(plan, arrays, i32, i64):
    """Argument tuple of `plan`, pointers looked up by name in `arrays`."""
    conv = {"i32": i32, "i64": i64}
    return tuple(arrays[a] if isinstance(a, str) else conv[a[0]](a[1]) for a in plan["args"])


@memoize_plan
def _memo_conv(planner, _select_tile, *args):
    # `_select_tile` only keys the cache: a patched `select_tile` (tests) gets its own plans
    return planner(*args)


def _key(v):
    """strides / pads / dilations as a cache-key part: lists (nested too) become tuples."""
    try:
        hash(v)
        return v
    except TypeError:
        return tuple(_key(x) for x in v)


def memo_conv2d_forward(x_shape, w_shape, strides, pads, dilations, *args):
    """`plan_conv2d_forward`, memoized (`_plan.memoize_plan`): the plan is shared, do not mutate it."""
    return _memo_conv(plan_conv2d_forward, select_tile, tuple(x_shape), tuple(w_shape), _key(strides),
                      _key(pads), _key(dilations), *args)


def memo_conv2d_backprop_input(dy_shape, w_shape, input_shape, strides, pads, dilations, *args):
    """`plan_conv2d_backprop_input`, memoized: the plan is shared, do not mutate it."""
    return _memo_conv(plan_conv2d_backprop_input, select_tile, tuple(dy_shape), tuple(w_shape),
                      tuple(input_shape), _key(strides), _key(pads), _key(dilations), *args)


def memo_conv2d_backprop_filter(x_shape, dy_shape, filter_shape, strides, pads, dilations, *args):
    """`plan_conv2d_backprop_filter`, memoized: the plan is shared, do not mutate it."""
    return _memo_conv(plan_conv2d_backprop_filter, select_tile, tuple(x_shape), tuple(dy_shape),
                      tuple(filter_shape), _key(strides), _key(pads), _key(dilations), *args)


# ---------------------------------------------------------------- CuPy launchers


def _launch(plan, arrays):
    import numpy

    from ._module import get_kernel

    k = get_kernel(STEM, plan["kernel"])
    smem = plan.get("smem", 0)
    if smem > 48 * 1024:
        k.max_dynamic_shared_size_bytes = smem
    k(plan["grid"], plan["block"], bind_args(plan, arrays, numpy.int32, numpy.int64), shared_mem=smem)


def _aligned(*arrays):
    return all(a.data.ptr % 16 == 0 for a in arrays)


def _f32(x, what):
    import cupy

    if x.dtype != cupy.float32:
        raise TypeError(f"{what}: only float32 is implemented, got {x.dtype}")
    return cupy.ascontiguousarray(x)


def conv2d_forward(x, w, strides, pads, dilations, groups=1, variant=None, dtype_name=None):
    """NHWC conv2d on the GPU.

    Args:
        x: cupy float32 (N, H, W, C); float16 (or uint16 bfloat16 bits) with variant "tc".
        w: cupy (KH, KW, C // groups, OC) of x's dtype.
        strides, dilations: int or (h, w).
        pads: (pad_top, pad_bottom, pad_left, pad_right), see `same_valid_pads`.
        groups: channel groups (C for depthwise).
        variant: None chooses (see `plan_conv2d_forward`); "splitk" / "nosplit" force the float32
            split-K kernel where it applies / the unsplit one; "tc" the float16/bfloat16 tensor-core kernel.
        dtype_name: "bfloat16" when x and w hold bfloat16 bits as uint16.
    Returns:
        cupy (N, OH, OW, OC) of x's dtype.

    Example:
        >>> (oh, ow), pads = same_valid_pads((32, 32), (3, 3), 1, 1, "SAME")
        >>> y = conv2d_forward(x, w, 1, pads, 1)
    """
    import cupy

    from ._module import sm_count

    if variant == "tc":
        return _conv2d_forward_tc(x, w, strides, pads, dilations, groups, dtype_name or x.dtype.name)
    x, w = _f32(x, "conv2d"), _f32(w, "conv2d")
    plan = memo_conv2d_forward(x.shape, w.shape, strides, pads, dilations, groups, True,
                               sm_count(), variant)
    # split-K writes partials that are summed into a new array instead of into y
    y = cupy.empty(plan.get("partial_shape", plan["out_shape"]), cupy.float32)
    if y.size == 0 or x.size == 0 or w.size == 0:
        return cupy.zeros(plan["out_shape"], cupy.float32)
    if not _aligned(x, w, y):
        plan = memo_conv2d_forward(x.shape, w.shape, strides, pads, dilations, groups, False,
                                   sm_count(), variant)
    if "partial_shape" in plan:
        _launch(plan, {"X": x, "W": w, "P": y})
        return y.sum(axis=0).reshape(plan["out_shape"])
    _launch(plan, {"X": x, "W": w, "Y": y})
    return y


def _conv2d_forward_tc(x, w, strides, pads, dilations, groups, dtype):
    import cupy

    from ._module import sm_count

    if dtype not in _TC_KERNELS or x.dtype != w.dtype or x.dtype.itemsize != 2:
        raise TypeError(f"conv2d variant 'tc': float16 or bfloat16 (uint16 bits) inputs of one dtype, got "
                        f"{x.dtype} and {w.dtype} ({dtype})")
    x, w = cupy.ascontiguousarray(x), cupy.ascontiguousarray(w)
    plan = memo_conv2d_forward(x.shape, w.shape, strides, pads, dilations, groups, True, sm_count(),
                               "tc", dtype)
    y = cupy.empty(plan["out_shape"], x.dtype)
    if y.size == 0:
        return y
    if x.size == 0 or w.size == 0:
        y.fill(0)
        return y
    if not _aligned(x, w, y):
        plan = memo_conv2d_forward(x.shape, w.shape, strides, pads, dilations, groups, False,
                                   sm_count(), "tc", dtype)
    _launch(plan, {"X": x, "W": w, "Y": y})
    return y


def backprop_input_as_forward(w_shape, strides, pads, dilations):
    """(filter layout, pads) that turn a stride-1 input gradient into a forward convolution.

    dx[n, ih, iw, ic] sums dy[n, ih + pt - kh*dh, iw + pl - kw*dw, oc] * w[kh, kw, ic, oc]: a
    forward convolution of dy with the filter flipped in (kh, kw) and its in/out channels swapped
    per group, padded by (KH-1)*dh - pt etc. Returns None where that does not apply (a stride
    above 1, or pads wider than the dilated filter).
    """
    sh, sw = _pair(strides)
    dh, dw = _pair(dilations)
    KH, KW = w_shape[0], w_shape[1]
    pt, pb, pl, pr = pads
    fwd_pads = ((KH - 1) * dh - pt, (KH - 1) * dh - pb, (KW - 1) * dw - pl, (KW - 1) * dw - pr)
    if (sh, sw) != (1, 1) or min(fwd_pads) < 0:
        return None
    return fwd_pads


def _swap_filter(w, groups):
    """HWIO [KH, KW, ICg, OC] -> flipped, per-group transposed [KH, KW, OCg, C] (see above)."""
    KH, KW, icg, oc = w.shape
    ocg = oc // groups
    wf = w[::-1, ::-1].reshape(KH, KW, icg, groups, ocg).transpose(0, 1, 4, 3, 2)
    return wf.reshape(KH, KW, ocg, groups * icg)


def conv2d_backprop_input(dy, w, input_shape, strides, pads, dilations, groups=1, variant=None,
                          dtype_name=None):
    """Gradient of `conv2d_forward` with respect to x: cupy of `input_shape`, dy's dtype.

    `variant="tc"` (float16, or bfloat16 bits as uint16 with `dtype_name`) runs a stride-1
    input gradient as a forward convolution on the tensor-core kernel
    (`backprop_input_as_forward`); other cases raise ValueError with that variant.
    """
    import cupy

    from ._module import sm_count

    if variant == "tc":
        fwd_pads = backprop_input_as_forward(w.shape, strides, pads, dilations)
        if fwd_pads is None:
            raise ValueError(f"conv2d_backprop_input variant 'tc': needs stride 1 and pads no wider than "
                             f"the dilated filter; got strides {strides}, pads {pads}, filter {w.shape}, "
                             f"dilations {dilations}")
        dx = _conv2d_forward_tc(dy, cupy.ascontiguousarray(_swap_filter(w, groups)), 1, fwd_pads, dilations,
                                groups, dtype_name or dy.dtype.name)
        if tuple(dx.shape) != tuple(input_shape):
            raise ValueError(f"conv2d_backprop_input: dy of shape {dy.shape} does not come from an input "
                             f"of shape {tuple(input_shape)} with this filter and pads")
        return dx
    dy, w = _f32(dy, "conv2d_backprop_input"), _f32(w, "conv2d_backprop_input")
    dx = cupy.empty(tuple(input_shape), cupy.float32)
    if dx.size == 0:
        return dx
    if dy.size == 0 or w.size == 0:
        dx.fill(0)
        return dx
    plan = memo_conv2d_backprop_input(dy.shape, w.shape, input_shape, strides, pads, dilations,
                                      groups, _aligned(dy, w, dx), sm_count())
    _launch(plan, {"DY": dy, "W": w, "DX": dx})
    return dx


def conv2d_backprop_filter(x, dy, filter_shape, strides, pads, dilations, groups=1):
    """Gradient of `conv2d_forward` with respect to w: cupy float32 of `filter_shape`."""
    import cupy

    from ._module import sm_count

    x, dy = _f32(x, "conv2d_backprop_filter"), _f32(dy, "conv2d_backprop_filter")
    filter_shape = tuple(filter_shape)
    if x.size == 0 or dy.size == 0:
        return cupy.zeros(filter_shape, cupy.float32)
    plan = memo_conv2d_backprop_filter(x.shape, dy.shape, filter_shape, strides, pads, dilations,
                                       groups, _aligned(x, dy), sm_count())
    part = cupy.empty(plan["partial_shape"], cupy.float32)
    _launch(plan, {"X": x, "DY": dy, "P": part})
    dw = part[0] if part.shape[0] == 1 else part.sum(axis=0)
    return dw.reshape(filter_shape)
