"""Launcher for cuda_kernels/reduce.cu: sum / mean / prod / max / min and argmax / argmin.

`plan_reduce` / `plan_argreduce` are pure Python (shapes in, `Plan` out); `reduce` / `argreduce`
run them on CuPy arrays.

Example:
    >>> y = reduce(x, "mean", axes=(0, 2), keepdims=True)
    >>> i = argreduce(x, "argmax", axis=-1)
"""
from __future__ import annotations

from math import prod

import numpy as np

from ._plan import Buf, Launch, Plan, ceil_div, i64, memoize_plan, next_pow2, run_plan, warp_rows_grid

STEM = "reduce"
OPS = ("sum", "mean", "prod", "max", "min")
ARG_OPS = ("argmax", "argmin")
_SUF = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64", np.dtype(np.float16): "f16"}
_ACC = {"f32": np.float32, "f64": np.float64, "f16": np.float32}
DEFAULT_SM = 132

HOT_KERNELS = [f"tl_reduce_{op}_{v}_{s}" for op in ("sum", "max") for v in ("rows_warp", "rows", "cols")
               for s in ("f32",)] + ["tl_argmax_rows_f32", "tl_argmax_rows_warp_f32", "tl_reduce_sum_cols_vec_f32"]
EMU_EXEMPT: dict = {}

WARP_ROW_MAX = 1024      # rows up to this length get one warp each
ROWS_PER_WARP_BLOCK = 8  # 256-thread blocks


def coalesce(shape, axes):
    """Views a reduction of C-contiguous `shape` over `axes` as (outer, R, inner).

    Returns:
        (perm, outer, R, inner): `perm` is None when the reduced axes (ignoring size-1 dims) are
        adjacent; otherwise the input must first be transposed by `perm` (kept axes, then reduced
        axes), after which inner == 1.
    """
    nd = len(shape)
    axes = sorted({a % nd for a in axes}) if nd else []
    big = [i for i in range(nd) if shape[i] != 1]
    red = [i for i in big if i in axes]
    kept = [i for i in big if i not in axes]
    R = prod(shape[i] for i in axes)
    if not red:
        return None, prod(shape) // max(R, 1) if R else 0, R, 1
    pos = [big.index(i) for i in red]
    if pos == list(range(pos[0], pos[0] + len(pos))):
        outer = prod(shape[i] for i in kept if i < red[0])
        inner = prod(shape[i] for i in kept if i > red[-1])
        return None, outer, R, inner
    perm = tuple([i for i in range(nd) if i not in axes] + axes)
    return perm, prod(shape[i] for i in kept), R, 1


_VEC = {"f32": 4, "f64": 2, "f16": 8}


#: 16-byte packs of a row per lane in the *_rows_warp_* kernels (TL_REDUCE_ROW_PACKS in reduce.cu)
ROW_PACKS = 4


def _rows_stage(plan, kernel_base, suf, rows, R, x, out, scale, acc, sm, tmp_prefix="part"):
    """Appends the launches reducing contiguous rows: (rows, R) -> out[rows]."""
    if R <= WARP_ROW_MAX:
        grid = warp_rows_grid(rows, R, _VEC[suf] * ROW_PACKS, sm, ROWS_PER_WARP_BLOCK)
        plan.launches.append(Launch(f"{kernel_base}_rows_warp_{suf}", (grid,), (32 * ROWS_PER_WARP_BLOCK,), 0,
                                    (x, out, i64(rows), i64(R), acc(scale))))
        return
    threads = 128 if R <= 4096 else 256 if R <= 16384 else 512
    chunks = 1
    if rows < 2 * sm:
        chunks = max(1, min(ceil_div(4 * sm, rows), R // (threads * 16)))
    chunk = ceil_div(ceil_div(R, chunks), 64) * 64
    chunks = ceil_div(R, chunk)
    gy = min(rows, 65535)
    if chunks == 1:
        plan.launches.append(Launch(f"{kernel_base}_rows_{suf}", (1, gy), (threads,), 0,
                                    (x, out, i64(rows), i64(R), i64(R), acc(scale))))
        return
    name = f"{tmp_prefix}{len(plan.temps)}"
    plan.temps[name] = ((rows, chunks), np.dtype(acc))
    plan.launches.append(Launch(f"{kernel_base}_rows_{suf}", (chunks, gy), (threads,), 0,
                                (x, Buf(name), i64(rows), i64(R), i64(chunk), acc(1.0))))
    acc_suf = "f64" if acc is np.float64 else "f32"
    _rows_stage(plan, kernel_base, acc_suf, rows, chunks, Buf(name), out, scale, acc, sm)


def _cols_stage(plan, kernel_base, suf, outer, R, inner, x, out, scale, acc, sm, allow_split=True, vec=False):
    """Appends the launches reducing (outer, R, inner) over R. `vec`: the 16-byte-load kernel
    (`*_cols_vec_*`, needs inner % V == 0 and a 16-byte-aligned base), which also aims at twice
    the resident blocks of the scalar kernel (more bytes in flight)."""
    V = _VEC[suf] if vec else 1
    if vec and inner % V:
        raise ValueError(f"reduce: the 'vec' column kernel needs inner % {V} == 0 for {suf}; got inner={inner}")
    lanes = inner // V
    bx = min(32, next_pow2(lanes))
    by = max(1, min(256 // bx, next_pow2(R)))
    gx, gy = ceil_div(lanes, bx), min(outer, 65535)
    target = 8 * sm if vec else 4 * sm
    splits = 1
    if allow_split and gx * gy < target // 2 and R >= by * 64:
        splits = max(1, min(ceil_div(target, gx * gy), R // (by * 32), 65535))
    chunk = ceil_div(R, splits)
    splits = ceil_div(R, chunk)
    smem = V * bx * by * np.dtype(acc).itemsize
    kernel = f"{kernel_base}_cols_vec_{suf}" if vec else f"{kernel_base}_cols_{suf}"
    if splits == 1:
        plan.launches.append(Launch(kernel, (gx, gy, 1), (bx, by), smem,
                                    (x, out, i64(outer), i64(R), i64(inner), i64(R), acc(scale))))
        return
    name = f"part{len(plan.temps)}"
    plan.temps[name] = ((outer, splits, inner), np.dtype(acc))
    plan.launches.append(Launch(kernel, (gx, gy, splits), (bx, by), smem,
                                (x, Buf(name), i64(outer), i64(R), i64(inner), i64(chunk), acc(1.0))))
    acc_suf = "f64" if acc is np.float64 else "f32"
    # The partials (accumulator dtype, inner columns) are aligned whenever the input was.
    _cols_stage(plan, kernel_base, acc_suf, outer, splits, inner, Buf(name), out, scale, acc, sm, False,
                vec and inner % _VEC[acc_suf] == 0)


VARIANTS = (None, "vec", "scalar")


def plan_reduce(shape, dtype, op, axes=None, sm_count=DEFAULT_SM, variant=None, aligned=True):
    """Plans `op` over `axes` of a C-contiguous array of `shape` / `dtype`.

    Column reductions (inner > 1) whose inner extent is a multiple of the 16-byte vector width
    run the `*_cols_vec_*` kernel when the input is 16-byte `aligned` (on the H200, 2026-11-27:
    0.87-0.92 of a copy against 0.75-0.79 for the scalar kernel at 65536x1024 float32); `variant="vec"`
    asks for it whatever `aligned` says (the caller then copies to an aligned buffer), and
    `variant="scalar"` for the scalar kernel. Other reductions ignore the variant.

    Returns:
        (plan, info): plan reads Buf("x") (transposed by info["perm"] first if that is not None)
        and writes Buf("out") of shape info["out_shape"] (no keepdims) and dtype info["acc_dtype"].
    """
    dtype = np.dtype(dtype)
    if op not in OPS:
        raise ValueError(f"unknown reduction {op!r}; expected one of {OPS}")
    if variant not in VARIANTS:
        raise ValueError(f"reduce: no variant {variant!r}; valid: {VARIANTS}")
    if dtype not in _SUF:
        raise TypeError(f"reduce supports float16/32/64, got {dtype}")
    nd = len(shape)
    axes = tuple(range(nd)) if axes is None else tuple(sorted({a % nd for a in ((axes,) if isinstance(axes, int) else axes)}))
    perm, outer, R, inner = coalesce(shape, axes)
    suf = _SUF[dtype]
    acc = _ACC[suf]
    out_shape = tuple(s for i, s in enumerate(shape) if i not in axes)
    info = {"perm": perm, "outer": outer, "R": R, "inner": inner, "out_shape": out_shape,
            "acc_dtype": np.dtype(acc)}
    plan = Plan(STEM)
    if outer * inner == 0 or R == 0:
        return plan, info
    base = "tl_reduce_" + ("sum" if op == "mean" else op)
    scale = 1.0 / R if op == "mean" else 1.0
    if inner == 1:
        _rows_stage(plan, base, suf, outer, R, Buf("x"), Buf("out"), scale, acc, sm_count)
    else:
        vec = inner % _VEC[suf] == 0 and (variant == "vec" or (variant is None and aligned))
        _cols_stage(plan, base, suf, outer, R, inner, Buf("x"), Buf("out"), scale, acc, sm_count, vec=vec)
    return plan, info


def plan_argreduce(shape, dtype, op, axis=None, sm_count=DEFAULT_SM):
    """Plans argmax/argmin along `axis` (None: over the flattened array).

    Returns:
        (plan, info): reads Buf("x") (after transposing by info["perm"] if set; float16 is cast
        to float32 by the caller), writes int64 Buf("out") of shape info["out_shape"].
    """
    dtype = np.dtype(dtype)
    if op not in ARG_OPS:
        raise ValueError(f"unknown arg reduction {op!r}")
    suf = "f64" if dtype == np.float64 else "f32"
    if axis is None:
        shape, axis = (prod(shape),), 0
    nd = len(shape)
    axis %= nd
    outer, R, inner = prod(shape[:axis]), shape[axis], prod(shape[axis + 1:])
    out_shape = tuple(s for i, s in enumerate(shape) if i != axis)
    perm = None
    if inner > 1 and inner < 32 and R > 4096:
        perm = tuple([i for i in range(nd) if i != axis] + [axis])
        outer, inner = outer * inner, 1
    info = {"perm": perm, "outer": outer, "R": R, "inner": inner, "out_shape": out_shape}
    plan = Plan(STEM)
    if R == 0:
        raise ValueError(f"{op} of an empty axis")
    if outer * inner == 0:
        return plan, info
    vt = np.float64 if suf == "f64" else np.float32
    if inner > 1:
        total = outer * inner
        plan.launches.append(Launch(f"tl_{op}_cols_{suf}", (min(ceil_div(total, 256), sm_count * 32),), (256,), 0,
                                    (Buf("x"), Buf("out"), i64(outer), i64(R), i64(inner))))
        return plan, info
    rows = outer
    if R <= WARP_ROW_MAX:
        plan.launches.append(Launch(f"tl_{op}_rows_warp_{suf}", (warp_rows_grid(rows, R, 1, sm_count),), (256,), 0,
                                    (Buf("x"), None, None, Buf("out"), i64(rows), i64(R))))
        return plan, info
    threads = 128 if R <= 4096 else 256 if R <= 16384 else 512
    chunks = max(1, min(ceil_div(4 * sm_count, rows), R // (threads * 16))) if rows < 2 * sm_count else 1
    chunk = ceil_div(ceil_div(R, chunks), 64) * 64
    chunks = ceil_div(R, chunk)
    gy = min(rows, 65535)
    if chunks == 1:
        plan.launches.append(Launch(f"tl_{op}_rows_{suf}", (1, gy), (threads,), 0,
                                    (Buf("x"), None, None, Buf("out"), i64(rows), i64(R), i64(R))))
        return plan, info
    plan.temps["pv"] = ((rows, chunks), np.dtype(vt))
    plan.temps["pi"] = ((rows, chunks), np.dtype(np.int64))
    plan.launches.append(Launch(f"tl_{op}_rows_{suf}", (chunks, gy), (threads,), 0,
                                (Buf("x"), None, Buf("pv"), Buf("pi"), i64(rows), i64(R), i64(chunk))))
    plan.launches.append(Launch(f"tl_{op}_rows_warp_{suf}", (warp_rows_grid(rows, chunks, 1, sm_count),), (256,), 0,
                                (Buf("pv"), Buf("pi"), None, Buf("out"), i64(rows), i64(chunks))))
    return plan, info


#: `plan_reduce` / `plan_argreduce` memoized (`_plan.memoize_plan`): (plan, info) are shared, do not mutate them
memo_reduce = memoize_plan(plan_reduce)
memo_argreduce = memoize_plan(plan_argreduce)


# ------------------------------------------------------------------------------ CuPy entry points
def _sm():
    from ._module import sm_count

    return sm_count()


def reduce(x, op, axes=None, keepdims=False, variant=None):
    """Reduces a CuPy array with `op` in ("sum", "mean", "prod", "max", "min").

    Args:
        x: cupy.ndarray of float16/32/64 (any strides).
        op: the reduction.
        axes: int, tuple of ints, or None (all axes).
        keepdims: keep reduced axes as size 1.
        variant: None (the kernel by shape and alignment), "vec" for the 16-byte-load column
            kernel (a misaligned input is copied first) or "scalar" (see `plan_reduce`).
    Returns:
        cupy.ndarray of x.dtype (float16 accumulates in float32).
    """
    import cupy

    nd = x.ndim
    axes_t = tuple(range(nd)) if axes is None else tuple(sorted({a % nd for a in ((axes,) if isinstance(axes, int) else axes)}))
    perm = coalesce(x.shape, axes_t)[0]
    src = cupy.ascontiguousarray(x.transpose(perm) if perm is not None else x)
    if variant == "vec" and src.data.ptr % 16:
        src = src.copy()  # the vector loads need a 16-byte-aligned base (a fresh allocation is)
    aligned = src.data.ptr % 16 == 0
    plan, info = memo_reduce(x.shape, x.dtype, op, axes_t, _sm(), variant, aligned)
    out_shape = info["out_shape"]
    if info["R"] == 0 and op in ("max", "min"):
        raise ValueError(f"zero-size reduction for {op}")
    if info["R"] == 0 or prod(out_shape) == 0:
        fill = {"sum": 0.0, "prod": 1.0, "mean": np.nan}.get(op, 0.0)
        out = cupy.full(out_shape, fill, dtype=x.dtype)
    else:
        out = cupy.empty(out_shape, dtype=info["acc_dtype"])
        run_plan(plan, {"x": src, "out": out})
        if out.dtype != x.dtype:
            out = out.astype(x.dtype)
    if keepdims:
        out = out.reshape(tuple(1 if i in axes_t else s for i, s in enumerate(x.shape)))
    return out


def argreduce(x, op, axis=None):
    """Index of the max ("argmax") or min ("argmin") along `axis` (None: flattened), int64.

    Ties and NaN follow numpy: the first occurrence wins and NaN counts as the extreme.
    """
    import cupy

    if x.dtype == np.float16:
        x = x.astype(np.float32)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"argreduce supports float16/32/64, got {x.dtype}")
    shape = x.shape if axis is None else x.shape
    plan, info = memo_argreduce(shape, x.dtype, op, axis, _sm())
    out = cupy.empty(info["out_shape"], dtype=np.int64)
    if out.size == 0:
        return out
    src = x.reshape(-1) if axis is None else x
    if info["perm"] is not None:
        src = src.transpose(info["perm"])
    run_plan(plan, {"x": cupy.ascontiguousarray(src), "out": out})
    return out
