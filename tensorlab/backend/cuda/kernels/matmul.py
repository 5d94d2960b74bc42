"""Launchers for `cuda_kernels/matmul.cu`: batched matmul for float16/bfloat16/float32/float64.

The planning half (`select_variant`, `launch_shape`, `plan_matmul`) is pure Python on shapes,
element strides and pointer values, so it is unit-tested without a GPU and reused by the CPU
emulator tests; `matmul` adds the CuPy side (copies only where a kernel needs them, the launch).

Operands are described to the kernels by layout rather than transpose flags: A(m, k) is either
"k-major" (`A[m*lda + k]`) or "m-major" (`A[k*lda + m]`), and likewise for B, so transposed or
sliced views run without a copy. Batch dimensions are collapsed to at most two (outer, inner)
levels with a stride each per operand (0 = broadcast).
"""
from __future__ import annotations

import math

from ._plan import memoize_plan

STEM = "matmul"
#: the Hopper kernels (wgmma) live in their own file, compiled for sm_90a only
SM90_STEM = "matmul_sm90"

HOT_KERNELS = [
    "tl_matmul_f32_128x128",
    "tl_matmul_f32_128x128k16",
    "tl_matmul_f32_64x64",
    "tl_matmul_f16_tc",
    "tl_matmul_bf16_tc",
    "tl_matmul_tf32_tc",
] + [f"tl_matmul_{d}_tc_128x256_{lay}" for d in ("f16", "bf16")
     for lay in ("akbk", "akbn", "ambk", "ambn")] + [
    f"tl_matmul_{d}_wgmma_{lay}" for d in ("f16", "bf16") for lay in ("akbk", "akbn", "ambk", "ambn")]
# The tensor-core kernels run on the emulator too: cuda_kernels/mma.cuh maps cp.async, ldmatrix
# and mma.sync onto its model of each instruction (tests/kernels/test_emu_matmul.py).
EMU_EXEMPT: dict = {}

#: dynamic shared memory of the tensor-core kernels: 3 stages x (A + B) tiles
TC_SMEM_BYTES = 61440
#: the 128x256 mma.sync kernels: 3 stages x (A + B) tiles
TC_WIDE_SMEM_BYTES = 92160
#: the wgmma kernels: 4 stages x (128 + 256) rows x 128 bytes, + 1024 to align the ring
WGMMA_SMEM_BYTES = 197632
MAX_GRID_Z = 65535
INT32_MAX = 2**31 - 1

_TILE = {  # variant -> (BM, BN, threads)
    "tl_matmul_f32_128x128": (128, 128, 256),
    "tl_matmul_f32_64x64": (64, 64, 128),
    "tl_matmul_f32_128x128k16": (128, 128, 256),
    "tl_matmul_f64_tiled": (64, 64, 256),
    "tl_matmul_f16_tc": (128, 128, 256),
    "tl_matmul_bf16_tc": (128, 128, 256),
    "tl_matmul_tf32_tc": (128, 128, 256),
    "tl_matvec_f32": (32, 1, 256),
    "tl_matmul_f16_tc_128x256": (128, 256, 256),
    "tl_matmul_bf16_tc_128x256": (128, 256, 256),
    "tl_matmul_f16_wgmma": (128, 256, 256),
    "tl_matmul_bf16_wgmma": (128, 256, 256),
}
#: sm_90a-only variants (cuda_kernels/matmul_sm90.cu): every operand with 16-byte rows, K % 8 == 0
WGMMA = ("tl_matmul_f16_wgmma", "tl_matmul_bf16_wgmma")
#: variants with one kernel per operand layout, named variant + _a{k,m}b{k,n}
_PER_LAYOUT = ("tl_matmul_f16_tc_128x256", "tl_matmul_bf16_tc_128x256") + WGMMA
_TC16 = ("tl_matmul_f16_tc", "tl_matmul_bf16_tc") + _PER_LAYOUT
#: the wide 16-bit tiles, the Hopper kernels and the 16-deep SIMT tile (GPU-tested; `select_variant`
#: picks them for large products since the H200 runs of 2026-11-27); `variant=` forces any of them
CANDIDATES = {
    "float16": ("tl_matmul_f16_tc_128x256", "tl_matmul_f16_wgmma"),
    "bfloat16": ("tl_matmul_bf16_tc_128x256", "tl_matmul_bf16_wgmma"),
    "float32": ("tl_matmul_f32_128x128k16",),
}
#: the variants an explicit `variant=` may name, per dtype
VARIANTS = {
    "float16": ("tl_matmul_f16_tc",) + CANDIDATES["float16"],
    "bfloat16": ("tl_matmul_bf16_tc",) + CANDIDATES["bfloat16"],
    "float32": ("tl_matmul_f32_128x128", "tl_matmul_f32_64x64", "tl_matmul_tf32_tc")
    + CANDIDATES["float32"],
    "float64": ("tl_matmul_f64_tiled",),
}


def _cdiv(a, b):
    return -(-a // b)


#: outputs (m * n * batch) from which the wide 16-bit kernels win: on the H200 (2026-11-27,
#: bench/results/h200-2026-11-27-2.json) wgmma ran 1.35-1.84x and the 128x256 mma.sync tile
#: 1.06-1.10x the 128x128 tile at 2048^3 and 4096^3, and the 128x256 tile 0.85x at 1024^3
#: (too few blocks for 132 SMs).
WIDE_16BIT_MIN_OUTPUTS = 2048 * 2048


def select_variant(m, n, k, dtype_name, tf32=False, batch=1, num_sms=132, cc=None):
    """Kernel name for an (m x k) @ (k x n) product.

    Args:
        m, n, k: problem size (per batch entry).
        dtype_name: "float16", "bfloat16", "float32" or "float64".
        tf32: allow TF32 tensor cores for float32.
        batch: number of batch entries (helps decide whether big tiles fill the GPU).
        num_sms: streaming multiprocessors of the device.
        cc: compute capability as CuPy spells it ("90" for an H100/H200) when the sm_90a
            (wgmma) kernels are usable on the device, else None.
    Returns:
        The `extern "C"` kernel name.

    Example:
        >>> select_variant(4096, 4096, 4096, "float32")
        'tl_matmul_f32_128x128k16'
    """
    if dtype_name in ("float16", "bfloat16"):
        suf = "f16" if dtype_name == "float16" else "bf16"
        # the wide kernels' 128x256 block tile wastes most of itself on small matrices
        if m >= 128 and n >= 256 and m * n * batch >= WIDE_16BIT_MIN_OUTPUTS:
            if cc == "90" and k % 8 == 0:
                return f"tl_matmul_{suf}_wgmma"
            return f"tl_matmul_{suf}_tc_128x256"
        return f"tl_matmul_{suf}_tc"
    if dtype_name == "float64":
        return "tl_matmul_f64_tiled"
    if dtype_name != "float32":
        raise TypeError(f"matmul: unsupported dtype {dtype_name}")
    if tf32:
        return "tl_matmul_tf32_tc"
    if m == 1 or n == 1:
        return "tl_matvec_f32"
    # big tiles only when they alone give every SM a block; otherwise 4x more small blocks.
    # The big tile is the 16-deep one: on the H200 it ran 1.02-1.13x the 8-deep 128x128 tile
    # at 2048^3..8192^3 and 8192x1024x64 (h200-2026-11-27-2.json).
    if _cdiv(m, 128) * _cdiv(n, 128) * batch >= num_sms:
        return "tl_matmul_f32_128x128k16"
    return "tl_matmul_f32_64x64"


_SPLIT_K = ("tl_matmul_f32_128x128", "tl_matmul_f32_64x64", "tl_matmul_f32_128x128k16")
_SPLIT_ALIGN = 16  # split-K chunks are multiples of every SIMT tile depth


def choose_splits(variant, m, n, k, batch, num_sms=132):
    """(splits, k_chunk) for split-K: used when the output tiles alone leave SMs idle.

    Only the SIMT float32 kernels split K; each split covers at least 512 of K.
    """
    if variant not in _SPLIT_K or k < 1024:
        return 1, max(k, 1)
    bm, bn, _ = _TILE[variant]
    blocks = _cdiv(m, bm) * _cdiv(n, bn) * batch
    if blocks >= num_sms:
        return 1, max(k, 1)
    splits = max(1, min(_cdiv(2 * num_sms, blocks), k // 512, 16))
    k_chunk = _cdiv(_cdiv(k, splits), _SPLIT_ALIGN) * _SPLIT_ALIGN
    return _cdiv(k, k_chunk), k_chunk


def launch_shape(variant, m, n, batch, splits=1):
    """(grid, block, dynamic_smem_bytes) of `variant` for an m x n output and `batch` entries.

    For `tl_matvec_f32`, `m` is the length of the output vector (rows of the matrix operand).
    With split-K, gridDim.z walks batch x splits.
    """
    bm, bn, threads = _TILE[variant]
    z = max(1, min(batch * splits, MAX_GRID_Z))
    grid = (max(1, _cdiv(n, bn)), max(1, _cdiv(m, bm)), z)
    if variant == "tl_matvec_f32":
        grid = (max(1, _cdiv(m, bm)), 1, z)
    if variant in WGMMA:
        smem = WGMMA_SMEM_BYTES
    elif variant in _PER_LAYOUT:
        smem = TC_WIDE_SMEM_BYTES
    elif variant in _TC16 or variant == "tl_matmul_tf32_tc":
        smem = TC_SMEM_BYTES
    else:
        smem = 0
    return grid, (threads, 1, 1), smem


def collapse_batch(batch_shape, strides_a, strides_b):
    """Fold batch dims into (count, inner, sa_outer, sa_inner, sb_outer, sb_inner) or None.

    `strides_*` are element strides of the batch dims (0 where broadcast). Adjacent dims merge
    when both operands step through them as one; more than two levels left -> None.
    """
    dims = [(s, a, b) for s, a, b in zip(batch_shape, strides_a, strides_b) if s != 1]
    merged = []
    for s, a, b in dims:
        if merged:
            ps, pa, pb = merged[-1]
            if pa == a * s and pb == b * s:
                merged[-1] = (ps * s, a, b)
                continue
        merged.append((s, a, b))
    count = math.prod(batch_shape) if batch_shape else 1
    if not merged:
        return count, 1, 0, 0, 0, 0
    if len(merged) == 1:
        s, a, b = merged[0]
        return count, s, 0, a, 0, b
    if len(merged) == 2:
        (so, ao, bo), (si, ai, bi) = merged
        return count, si, ao, ai, bo, bi
    return None


def matrix_layout(rows, cols, s_row, s_col):
    """(kmajor, ld) for a rows x cols operand with element strides, or None (needs a copy).

    kmajor means `cols` is the contiguous dimension (element (r, c) at r*ld + c).
    """
    if s_row < 0 or s_col < 0:
        return None
    if s_col == 1 or cols <= 1:
        ld = s_row if rows > 1 else max(cols, 1)
        return (True, ld) if ld <= INT32_MAX else None
    if s_row == 1 or rows <= 1:
        ld = s_col
        return (False, ld) if ld <= INT32_MAX else None
    return None


def plan_matmul(a_shape, a_strides, a_ptr, b_shape, b_strides, b_ptr, itemsize, dtype_name,
                transpose_a=False, transpose_b=False, tf32=False, num_sms=132, variant=None,
                cc=None):
    """Kernel, launch shape and arguments for matmul on raw operand descriptions.

    Args:
        a_shape, b_shape: shapes (..., M, K) and (..., K, N) before the transposes, ndim >= 2.
        a_strides, b_strides: element strides (not bytes) of the same dims.
        a_ptr, b_ptr: addresses of the first elements (alignment decides vector loads).
        itemsize, dtype_name: element size in bytes and dtype name.
        variant: force one of `VARIANTS[dtype_name]` instead of the shape-based choice
            (benchmarks and tests of each kernel); a matrix-vector product still plans
            the chosen variant.
        cc: compute capability where the sm_90a kernels are usable ("90"), else None: lets
            `select_variant` choose wgmma (see `wgmma_cc`).
    Returns:
        dict with `kernel`, `grid`, `block`, `smem`, `out_shape` and `args` (a list whose
        entries are "A", "B", "C" for the pointers and ("i32" | "i64", value) for scalars), or
        dict(copy=("a" | "b", ...)) naming the operands that must be made C-contiguous first,
        or, for the wgmma variants, dict(kmajor=("a" | "b", ...)) naming the operands without
        16-byte rows to materialise k-major (see `kmajor_operand`).
    """
    a_shape, b_shape = list(a_shape), list(b_shape)
    a_strides, b_strides = list(a_strides), list(b_strides)
    if transpose_a:
        a_shape[-2:], a_strides[-2:] = a_shape[-2:][::-1], a_strides[-2:][::-1]
    if transpose_b:
        b_shape[-2:], b_strides[-2:] = b_shape[-2:][::-1], b_strides[-2:][::-1]
    m, k = a_shape[-2:]
    k2, n = b_shape[-2:]
    if k != k2:
        raise ValueError(f"matmul: inner dimensions differ ({m}x{k} @ {k2}x{n})")
    batch_shape = _broadcast_shapes(a_shape[:-2], b_shape[:-2])
    sa = _batch_strides(a_shape[:-2], a_strides[:-2], batch_shape)
    sb = _batch_strides(b_shape[:-2], b_strides[:-2], batch_shape)
    out_shape = tuple(batch_shape) + (m, n)
    copy = []
    collapsed = collapse_batch(batch_shape, sa, sb)
    if collapsed is None:
        # more than two independent batch levels: materialise the broadcast, which collapses
        return {"copy": ("a", "b"), "broadcast": tuple(batch_shape)}
    batch = math.prod(batch_shape) if batch_shape else 1
    if variant is None:
        variant = select_variant(m, n, k, dtype_name, tf32, batch, num_sms, cc)
    elif variant not in VARIANTS.get(dtype_name, ()):
        raise ValueError(f"matmul: variant {variant!r} does not apply to {dtype_name}; "
                         f"valid: {', '.join(VARIANTS.get(dtype_name, ())) or 'none'}")
    sam, sak = a_strides[-2:]
    sbk, sbn = b_strides[-2:]

    if variant == "tl_matmul_f64_tiled":
        if copy:
            return {"copy": tuple(copy)}
        count, inner, sao, sai, sbo, sbi = collapsed
        grid, block, smem = launch_shape(variant, m, n, batch)
        args = ["A", "B", "C", ("i32", m), ("i32", n), ("i32", k), ("i64", sam), ("i64", sak),
                ("i64", sbk), ("i64", sbn), ("i32", batch), ("i32", inner), ("i64", sao),
                ("i64", sai), ("i64", sbo), ("i64", sbi)]
        return dict(kernel=variant, grid=grid, block=block, smem=smem, args=args,
                    out_shape=out_shape)

    if variant == "tl_matvec_f32":
        # N == 1: y = A x; M == 1: y^T = B^T a^T.  The "matrix" is rows x K.
        if n == 1:
            rows, mat, s_r, s_k, x_inc, mat_is = m, "A", sam, sak, sbk, "a"
        else:
            rows, mat, s_r, s_k, x_inc, mat_is = n, "B", sbn, sbk, sak, "b"
        lay = matrix_layout(rows, k, s_r, s_k)
        if lay is None:
            copy.append(mat_is)
        if x_inc < 0 or x_inc > INT32_MAX:
            copy.append("b" if mat_is == "a" else "a")
        if copy:
            return {"copy": tuple(sorted(set(copy)))}
        count, inner, sao, sai, sbo, sbi = collapsed
        kmajor, ld = lay
        if mat == "A":
            ptrs, s_mo, s_mi, s_xo, s_xi = ("A", "B"), sao, sai, sbo, sbi
        else:
            ptrs, s_mo, s_mi, s_xo, s_xi = ("B", "A"), sbo, sbi, sao, sai
        grid, block, smem = launch_shape(variant, rows, 1, batch)
        args = [ptrs[0], ptrs[1], "C", ("i32", rows), ("i32", k), ("i32", ld), ("i32", x_inc),
                ("i32", int(kmajor)), ("i32", batch), ("i32", inner), ("i64", s_mo),
                ("i64", s_mi), ("i64", s_xo), ("i64", s_xi)]
        return dict(kernel=variant, grid=grid, block=block, smem=smem, args=args,
                    out_shape=out_shape)

    lay_a = matrix_layout(m, k, sam, sak)
    lay_b = matrix_layout(n, k, sbn, sbk)  # B as an n x k operand: kmajor = k contiguous
    if lay_a is None:
        copy.append("a")
    if lay_b is None:
        copy.append("b")
    if copy:
        return {"copy": tuple(sorted(set(copy)))}
    count, inner, sao, sai, sbo, sbi = collapsed
    (a_km, lda), (b_km, ldb) = lay_a, lay_b
    vec_elems = 8 if variant in _TC16 else 4  # elements per 16-byte vector load

    def aligned(ptr, ld, so, si):
        return (ptr % 16 == 0 and ld % vec_elems == 0 and so % vec_elems == 0
                and si % vec_elems == 0)

    vec_a = aligned(a_ptr, lda, sao, sai)
    vec_b = aligned(b_ptr, ldb, sbo, sbi)
    if variant in WGMMA:
        # cp.async of whole 16-byte rows into the swizzled tiles the descriptors describe
        if k % 8:
            raise ValueError(f"matmul: variant {variant!r} needs K to be a multiple of 8 "
                             f"(got {m}x{k} @ {k}x{n}); the other float16/bfloat16 variants "
                             "take any K")
        relayout = tuple(op for op, vec in (("a", vec_a), ("b", vec_b)) if not vec)
        if relayout:
            return {"kmajor": relayout}
    if variant in _SPLIT_K:  # the SIMT float32 kernels store float4
        vec_c = n % 4 == 0
    else:  # tensor-core epilogues store element pairs
        vec_c = n % 2 == 0
    splits, k_chunk = choose_splits(variant, m, n, k, batch, num_sms)
    grid, block, smem = launch_shape(variant, m, n, batch, splits)
    args = ["A", "B", "C", ("i32", m), ("i32", n), ("i32", k), ("i32", lda), ("i32", ldb),
            ("i32", int(a_km)), ("i32", int(b_km)), ("i32", int(vec_a)), ("i32", int(vec_b)),
            ("i32", int(vec_c)), ("i32", batch), ("i32", inner), ("i64", sao), ("i64", sai),
            ("i64", sbo), ("i64", sbi)]
    if variant in _SPLIT_K:
        args += [("i32", splits), ("i32", k_chunk)]
    kernel = variant
    stem = SM90_STEM if variant in WGMMA else STEM
    if variant in _PER_LAYOUT:
        kernel = f"{variant}_a{'k' if a_km else 'm'}b{'k' if b_km else 'n'}"
    # splits > 1: "C" is a [splits, *out_shape] workspace to be summed over axis 0
    return dict(kernel=kernel, variant=variant, grid=grid, block=block, smem=smem, args=args,
                out_shape=out_shape, splits=splits, stem=stem)


def _broadcast_shapes(s1, s2):
    n = max(len(s1), len(s2))
    s1 = [1] * (n - len(s1)) + list(s1)
    s2 = [1] * (n - len(s2)) + list(s2)
    out = []
    for x, y in zip(s1, s2):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"matmul: batch dims {s1} and {s2} do not broadcast")
        out.append(y if x == 1 else x)
    return out


def _batch_strides(shape, strides, batch_shape):
    """Element strides of an operand's batch dims against `batch_shape` (0 where broadcast)."""
    pad = len(batch_shape) - len(shape)
    out = [0] * pad
    for s, st in zip(shape, strides):
        out.append(0 if s == 1 else st)
    return out


def _elem_strides(x):
    it = x.dtype.itemsize
    if any(s % it for s in x.strides):
        return None
    return [s // it for s in x.strides]


def _dtype_name(x, dtype_name):
    if dtype_name is not None:
        return dtype_name
    name = x.dtype.name
    return "bfloat16" if name in ("bfloat16", "bf16") else name


def kmajor_operand(xp, x, which, transpose):
    """(array, transpose flag) holding operand `which` ("a" or "b") k-major and C-contiguous.

    A k-major A is stored (..., M, K); a k-major B is stored (..., N, K) and used transposed.
    `xp` is the array module (cupy on the GPU, numpy for the emulator tests).
    """
    want_transpose = which == "b"  # the stored matrix is B^T
    if transpose != want_transpose:
        x = xp.swapaxes(x, -1, -2)
    return xp.ascontiguousarray(x), want_transpose


@memoize_plan
def _memo_matmul(_select_variant, *args):
    # `_select_variant` only keys the cache: a patched `select_variant` (tests) gets its own plans
    return plan_matmul(*args)


def memo_matmul(a_shape, a_strides, a_ptr, b_shape, b_strides, b_ptr, *args):
    """`plan_matmul`, memoized (`_plan.memoize_plan`): the returned plan is shared, do not mutate it.

    The plan uses the pointers only for their 16-byte alignment, so only `ptr % 16` enters the
    cache key: arrays at different addresses with the same alignment share an entry.
    """
    return _memo_matmul(select_variant, tuple(a_shape), tuple(a_strides), a_ptr % 16, tuple(b_shape),
                        tuple(b_strides), b_ptr % 16, *args)


def run_plan(plan, a, b, out, xp_int32, xp_int64):
    """Argument tuple for `plan` with arrays a, b, out (shared by the CuPy and emulator paths)."""
    ptrs = {"A": a, "B": b, "C": out}
    conv = {"i32": xp_int32, "i64": xp_int64}
    return tuple(ptrs[x] if isinstance(x, str) else conv[x[0]](x[1]) for x in plan["args"])


def matmul(a, b, transpose_a=False, transpose_b=False, tf32=False, dtype_name=None,
           variant=None):
    """Batched matrix product on the GPU: `a @ b` with optional transposes.

    Args:
        a: cupy array (..., M, K) (or (..., K, M) with `transpose_a`).
        b: cupy array (..., K, N) (or (..., N, K) with `transpose_b`); batch dims broadcast.
        transpose_a, transpose_b: use the transpose of the last two dims (no copy).
        tf32: float32 inputs may use TF32 tensor cores (about 1e-3 relative error).
        dtype_name: override of the element type name, e.g. "bfloat16" for uint16 storage.
        variant: force a kernel variant (one of `VARIANTS[dtype]`), for benchmarks and tests.
    Returns:
        A new C-contiguous cupy array (..., M, N) of the input dtype.

    Example:
        >>> c = matmul(cupy.ones((8, 3, 5), "float32"), cupy.ones((5, 2), "float32"))
        >>> c.shape
        (8, 3, 2)
    """
    import cupy
    import numpy

    if a.dtype != b.dtype:
        raise TypeError(f"matmul: dtypes differ ({a.dtype} vs {b.dtype})")
    squeeze = []
    if a.ndim == 1:
        a = a[None, :] if not transpose_a else a[:, None]
        squeeze.append(-2)
    if b.ndim == 1:
        b = b[:, None] if not transpose_b else b[None, :]
        squeeze.append(-1)
    name = _dtype_name(a, dtype_name)
    from ._module import get_kernel, sm_count

    for _ in range(4):
        sa, sb = _elem_strides(a), _elem_strides(b)
        if sa is None:
            a = cupy.ascontiguousarray(a)
            continue
        if sb is None:
            b = cupy.ascontiguousarray(b)
            continue
        plan = memo_matmul(a.shape, sa, a.data.ptr, b.shape, sb, b.data.ptr, a.dtype.itemsize,
                           name, transpose_a, transpose_b, tf32, sm_count(), variant,
                           wgmma_cc() if name in ("float16", "bfloat16") else None)
        if "kmajor" in plan:
            if "a" in plan["kmajor"]:
                a, transpose_a = kmajor_operand(cupy, a, "a", transpose_a)
            if "b" in plan["kmajor"]:
                b, transpose_b = kmajor_operand(cupy, b, "b", transpose_b)
            continue
        if "copy" not in plan:
            break
        if "broadcast" in plan:
            bs = plan["broadcast"]
            a = cupy.ascontiguousarray(cupy.broadcast_to(a, bs + a.shape[-2:]))
            b = cupy.ascontiguousarray(cupy.broadcast_to(b, bs + b.shape[-2:]))
            continue
        if "a" in plan["copy"]:
            a = cupy.ascontiguousarray(a)
        if "b" in plan["copy"]:
            b = cupy.ascontiguousarray(b)
    else:
        raise RuntimeError("matmul: could not plan a launch")  # pragma: no cover
    splits = plan.get("splits", 1)
    out = cupy.empty(((splits,) if splits > 1 else ()) + plan["out_shape"], dtype=a.dtype)
    if out.size:
        if plan.get("stem") == SM90_STEM:
            _require_sm90(plan["kernel"])
        kern = get_kernel(plan.get("stem", STEM), plan["kernel"])
        if plan["smem"] > 48 * 1024:
            kern.max_dynamic_shared_size_bytes = plan["smem"]
        kern(plan["grid"], plan["block"], run_plan(plan, a, b, out, numpy.int32, numpy.int64),
             shared_mem=plan["smem"])
    if splits > 1:
        out = out.sum(axis=0)
    if -1 in squeeze:
        out = out[..., 0]
    if -2 in squeeze:
        out = out[..., 0] if -1 in squeeze else out[..., 0, :]
    return out


_WGMMA_CC: dict = {}


def wgmma_cc():
    """"90" when the current device runs the sm_90a (wgmma) kernels, else None (memoized per
    device). The first call on a compute capability 9.0 device builds (or loads from the disk
    cache) `matmul_sm90.cu`; where that fails (no NVRTC for sm_90a, say), the default plans
    keep to the mma.sync kernels and a warning says why."""
    import cupy

    dev = cupy.cuda.runtime.getDevice()
    if dev not in _WGMMA_CC:
        cc = cupy.cuda.Device(dev).compute_capability
        ok = None
        if cc == "90":
            from ._module import get_kernel

            try:
                get_kernel(SM90_STEM, "tl_matmul_f16_wgmma_akbk")
                ok = "90"
            except Exception as e:  # noqa: BLE001 - any build failure falls back to mma.sync
                import warnings

                warnings.warn(f"matmul: the sm_90a (wgmma) kernels could not be built on GPU {dev} "
                              f"({type(e).__name__}: {e}); float16/bfloat16 products use the mma.sync "
                              "kernels", RuntimeWarning, stacklevel=3)
        _WGMMA_CC[dev] = ok
    return _WGMMA_CC[dev]


def _require_sm90(kernel):
    """The wgmma kernels run on compute capability 9.0 only (sm_90a code has no PTX fallback)."""
    import cupy

    cc = cupy.cuda.Device().compute_capability
    if cc != "90":
        raise RuntimeError(f"matmul: {kernel} needs a compute capability 9.0 GPU (H100/H200); "
                           f"this device is {cc[:-1]}.{cc[-1]}: use the default variant")
