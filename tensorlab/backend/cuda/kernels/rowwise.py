"""Launcher for cuda_kernels/rowwise.cu: softmax family, sparse cross-entropy, layer/batch norm.

Row ops work over the last axis of a C-contiguous array viewed as (rows, C). `plan_*` functions
are pure Python (shapes in, `Plan` out); the CuPy entry points below run them.

Example:
    >>> y = softmax(logits)
    >>> loss, dlogits = sparse_xent(logits, labels)
    >>> y, mean, rstd = layer_norm(x, gamma, beta, 1e-5)
"""
from __future__ import annotations

from math import prod

import numpy as np

from ._plan import Buf, Launch, Plan, ceil_div, i64, memoize_plan, next_pow2, run_plan, warp_rows_grid

STEM = "rowwise"
DEFAULT_SM = 132
WARP_ROW_MAX = 1024
_SUF = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}

HOT_KERNELS = [f"tl_{k}_{v}_f32" for k in ("softmax", "log_softmax", "logsumexp", "softmax_bwd",
                                           "sparse_xent_fwd_bwd", "layer_norm_fwd", "layer_norm_bwd_dx")
               for v in ("rows_warp", "rows")] + [
    "tl_layer_norm_bwd_params_partial_f32", "tl_col_sum2_final_f32", "tl_batch_norm_stats_partial_f32",
    "tl_batch_norm_stats_final_f32", "tl_batch_norm_bwd_partial_f32", "tl_batch_norm_bwd_dx_f32"] + [
    f"tl_{k}_rows{w}_cached_f32" for k in ("softmax", "log_softmax", "sparse_xent_fwd_bwd", "layer_norm_fwd")
    for w in ("_warp", "")]
EMU_EXEMPT: dict = {}
#: register-cached candidates (float32): the ops that have them, and the 16-byte packs per
#: thread they hold
CACHED_OPS = ("softmax", "log_softmax", "sparse_xent_fwd_bwd", "layer_norm_fwd")
CACHED_PACKS = 8


def suffix(dtype) -> str:
    dtype = np.dtype(dtype)
    if dtype not in _SUF:
        raise TypeError(f"rowwise kernels support float32/float64, got {dtype}")
    return _SUF[dtype]


def cached_threads(C, vec):
    """Threads per row block of a register-cached kernel (None: the row does not fit)."""
    for threads in (128, 256, 512):
        if C <= threads * CACHED_PACKS * vec:
            return threads
    return None


#: 16-byte packs of a row per lane in the warp kernels (TL_ROW_PACKS in rowwise.cu): rows of up
#: to ROW_PACKS * 16 bytes * G share a warp in groups of G lanes (_plan.warp_group with vec * ROW_PACKS)
ROW_PACKS = 4


def row_launch(base, dtype, rows, C, args, sm_count=DEFAULT_SM, variant=None) -> Launch:
    """One launch of `tl_<base>_rows[_warp]_<suf>` over (rows, C): for C <= 1024 a warp (or, for
    short rows, a power-of-two slice of one: see _plan.warp_group) per row, else a block per row
    (128 / 256 / 512 threads by row length); grid-stride over rows.

    `variant="cached"` (the ops in CACHED_OPS, float32) picks the register-cached candidate
    kernels where the row fits (the default kernel otherwise)."""
    suf = suffix(dtype)
    if variant not in (None, "cached") or (variant == "cached" and base not in CACHED_OPS):
        raise ValueError(f"rowwise: no variant {variant!r} for {base}; valid: None"
                         + (", 'cached'" if base in CACHED_OPS else ""))
    if variant == "cached" and suf == "f32":
        vec = 16 // np.dtype(dtype).itemsize
        if C <= WARP_ROW_MAX:
            return Launch(f"tl_{base}_rows_warp_cached_{suf}", (warp_rows_grid(rows, C, vec * ROW_PACKS, sm_count),),
                          (256,), 0, tuple(args))
        threads = cached_threads(C, vec)
        if threads is not None:
            return Launch(f"tl_{base}_rows_cached_{suf}", (max(1, min(rows, sm_count * 32)),), (threads,), 0,
                          tuple(args))
    if C <= WARP_ROW_MAX:
        vec = 16 // np.dtype(dtype).itemsize
        return Launch(f"tl_{base}_rows_warp_{suf}", (warp_rows_grid(rows, C, vec * ROW_PACKS, sm_count),), (256,), 0,
                      tuple(args))
    threads = 128 if C <= 4096 else 256 if C <= 16384 else 512
    return Launch(f"tl_{base}_rows_{suf}", (max(1, min(rows, sm_count * 32)),), (threads,), 0, tuple(args))


def plan_row_op(base, dtype, rows, C, args, sm_count=DEFAULT_SM, variant=None) -> Plan:
    return Plan(STEM, [row_launch(base, dtype, rows, C, args, sm_count, variant)])


def col_partial_shape(M, C, itemsize, sm_count=DEFAULT_SM):
    """Launch shape of a *_partial column kernel over (M, C): (grid, block, smem, chunks, rows_per_chunk)."""
    bx = min(32, next_pow2(C))
    by = 256 // bx
    gx = ceil_div(C, bx)
    chunks = max(1, min(ceil_div(4 * sm_count, gx), ceil_div(M, by * 8)))
    rpc = ceil_div(ceil_div(M, chunks), by) * by
    chunks = max(1, ceil_div(M, rpc))
    return (gx, chunks), (bx, by), 2 * bx * by * itemsize, chunks, rpc


def plan_col_reduce2(partial_kernel, final_kernel, dtype, M, C, in_args, final_args, out_a, out_b,
                     sm_count=DEFAULT_SM) -> Plan:
    """Two-stage column reduction: partial kernel (in_args..., M, C, rpc, pa, pb) then final kernel."""
    dtype = np.dtype(dtype)
    grid, block, smem, chunks, rpc = col_partial_shape(M, C, dtype.itemsize, sm_count)
    plan = Plan(STEM, temps={"pa": ((chunks, C), dtype), "pb": ((chunks, C), dtype)})
    plan.launches.append(Launch(partial_kernel, grid, block, smem,
                                (*in_args, i64(M), i64(C), i64(rpc), Buf("pa"), Buf("pb"))))
    fgrid = (max(1, min(ceil_div(C, 256), sm_count * 8)),)
    plan.launches.append(Launch(final_kernel, fgrid, (256,), 0, final_args(chunks) + (out_a, out_b)))
    return plan


def plan_layer_norm_params_grad(dtype, M, C, sm_count=DEFAULT_SM) -> Plan:
    suf = suffix(dtype)
    return plan_col_reduce2(f"tl_layer_norm_bwd_params_partial_{suf}", f"tl_col_sum2_final_{suf}", dtype, M, C,
                            (Buf("dy"), Buf("x"), Buf("mean"), Buf("rstd")),
                            lambda ch: (Buf("pa"), Buf("pb"), i64(ch), i64(C)), Buf("dgamma"), Buf("dbeta"), sm_count)


def plan_batch_norm_stats(dtype, M, C, sm_count=DEFAULT_SM) -> Plan:
    suf = suffix(dtype)
    return plan_col_reduce2(f"tl_batch_norm_stats_partial_{suf}", f"tl_batch_norm_stats_final_{suf}", dtype, M, C,
                            (Buf("x"),), lambda ch: (Buf("x"), Buf("pa"), Buf("pb"), i64(ch), i64(M), i64(C)),
                            Buf("mean"), Buf("var"), sm_count)


def plan_batch_norm_grad(dtype, M, C, has_gamma=True, sm_count=DEFAULT_SM) -> Plan:
    suf = suffix(dtype)
    plan = plan_col_reduce2(f"tl_batch_norm_bwd_partial_{suf}", f"tl_col_sum2_final_{suf}", dtype, M, C,
                            (Buf("dy"), Buf("x"), Buf("mean"), Buf("rstd")),
                            lambda ch: (Buf("pa"), Buf("pb"), i64(ch), i64(C)), Buf("dbeta"), Buf("dgamma"), sm_count)
    grid = (max(1, min(ceil_div(M * C, 256), sm_count * 32)),)
    plan.launches.append(Launch(f"tl_batch_norm_bwd_dx_{suf}", grid, (256,), 0,
                                (Buf("dy"), Buf("x"), Buf("mean"), Buf("rstd"), Buf("gamma") if has_gamma else None,
                                 Buf("dbeta"), Buf("dgamma"), i64(M), i64(C), Buf("dx"))))
    return plan


#: the column-reduction planners memoized (`_plan.memoize_plan`) for the entry points below: the plans
#: are shared, do not mutate them. `plan_row_op` is not: it is cheap, and hashing its Buf arguments
#: costs as much as planning.
memo_layer_norm_params_grad = memoize_plan(plan_layer_norm_params_grad)
memo_batch_norm_stats = memoize_plan(plan_batch_norm_stats)
memo_batch_norm_grad = memoize_plan(plan_batch_norm_grad)


# ------------------------------------------------------------------------------ CuPy entry points
def _sm():
    from ._module import sm_count

    return sm_count()


def _rows2d(x):
    import cupy

    x = cupy.ascontiguousarray(x)
    C = x.shape[-1] if x.ndim else 1
    return x, prod(x.shape[:-1]) if x.ndim else 1, C


def _run_rows(base, x, out, variant=None):
    x2, rows, C = _rows2d(x)
    if rows * C:
        run_plan(plan_row_op(base, x2.dtype, rows, C, (Buf("x"), Buf("out"), i64(rows), i64(C)), _sm(),
                             variant), {"x": x2, "out": out})
    return out


def softmax(x, variant=None):
    """Softmax over the last axis of a float32/float64 CuPy array (`variant`: see `row_launch`)."""
    import cupy

    return _run_rows("softmax", x, cupy.empty(x.shape, x.dtype), variant)


def log_softmax(x, variant=None):
    """log(softmax(x)) over the last axis, computed as x - logsumexp(x) (`variant`: see `row_launch`)."""
    import cupy

    return _run_rows("log_softmax", x, cupy.empty(x.shape, x.dtype), variant)


def logsumexp(x):
    """log(sum(exp(x))) over the last axis; returns shape x.shape[:-1]."""
    import cupy

    return _run_rows("logsumexp", x, cupy.empty(x.shape[:-1], x.dtype))


def _row_bwd(base, y, dy):
    import cupy

    y2, rows, C = _rows2d(y)
    dy2 = cupy.ascontiguousarray(dy, dtype=y2.dtype)
    dx = cupy.empty(y2.shape, y2.dtype)
    if rows * C:
        run_plan(plan_row_op(base, y2.dtype, rows, C, (Buf("y"), Buf("dy"), Buf("dx"), i64(rows), i64(C)), _sm()),
                 {"y": y2, "dy": dy2, "dx": dx})
    return dx


def softmax_grad(y, dy):
    """Gradient of softmax given its output `y` and upstream `dy`: y * (dy - sum(dy * y))."""
    return _row_bwd("softmax_bwd", y, dy)


def log_softmax_grad(y, dy):
    """Gradient of log_softmax given its output `y`: dy - exp(y) * sum(dy)."""
    return _row_bwd("log_softmax_bwd", y, dy)


def sparse_xent(logits, labels, grad=None, need_grad=True, variant=None):
    """Fused sparse softmax cross-entropy over the last axis.

    Args:
        logits: (..., C) float32/float64 CuPy array.
        labels: (...) integer class ids; an id outside [0, C) gives NaN loss and gradient.
        grad: optional (...) upstream gradient of the loss, folded into dlogits.
        need_grad: False skips writing dlogits (returns None for it).
        variant: see `row_launch`.
    Returns:
        (loss of shape (...), dlogits = (softmax(logits) - onehot(labels)) * grad, or None).
    """
    import cupy

    x2, rows, C = _rows2d(logits)
    lab = cupy.ascontiguousarray(labels, dtype=np.int64).reshape(-1)
    if lab.size != rows:
        raise ValueError(f"labels have {lab.size} entries for {rows} rows of logits")
    g = None if grad is None else cupy.ascontiguousarray(grad, dtype=x2.dtype).reshape(-1)
    loss = cupy.empty(x2.shape[:-1], x2.dtype)
    dlogits = cupy.empty(x2.shape, x2.dtype) if need_grad else None
    if rows * C:
        args = (Buf("x"), Buf("lab"), Buf("g") if g is not None else None, Buf("loss"),
                Buf("dl") if need_grad else None, i64(rows), i64(C))
        run_plan(plan_row_op("sparse_xent_fwd_bwd", x2.dtype, rows, C, args, _sm(), variant),
                 {"x": x2, "lab": lab, "g": g, "loss": loss, "dl": dlogits})
    return loss, dlogits


def layer_norm(x, gamma=None, beta=None, eps=1e-5, variant=None):
    """Layer norm over the last axis. Returns (y, mean, rstd); mean/rstd have shape x.shape[:-1].
    `variant`: see `row_launch`."""
    import cupy

    x2, rows, C = _rows2d(x)
    dt = x2.dtype
    y = cupy.empty(x2.shape, dt)
    mean = cupy.empty(x2.shape[:-1], dt)
    rstd = cupy.empty(x2.shape[:-1], dt)
    bufs = {"x": x2, "y": y, "mean": mean, "rstd": rstd,
            "gamma": None if gamma is None else cupy.ascontiguousarray(gamma, dtype=dt),
            "beta": None if beta is None else cupy.ascontiguousarray(beta, dtype=dt)}
    if rows * C:
        args = (Buf("x"), Buf("gamma") if gamma is not None else None, Buf("beta") if beta is not None else None,
                Buf("y"), Buf("mean"), Buf("rstd"), i64(rows), i64(C), dt.type(eps))
        run_plan(plan_row_op("layer_norm_fwd", dt, rows, C, args, _sm(), variant), bufs)
    return y, mean, rstd


def layer_norm_grad(dy, x, gamma, mean, rstd):
    """Backward of layer_norm. Returns (dx, dgamma, dbeta); gamma may be None (then dgamma is
    still the gradient a gamma of ones would get)."""
    import cupy

    x2, rows, C = _rows2d(x)
    dt = x2.dtype
    bufs = {"x": x2, "dy": cupy.ascontiguousarray(dy, dtype=dt), "mean": cupy.ascontiguousarray(mean, dtype=dt),
            "rstd": cupy.ascontiguousarray(rstd, dtype=dt),
            "gamma": None if gamma is None else cupy.ascontiguousarray(gamma, dtype=dt),
            "dx": cupy.empty(x2.shape, dt), "dgamma": cupy.zeros(C, dt), "dbeta": cupy.zeros(C, dt)}
    if rows * C:
        args = (Buf("dy"), Buf("x"), Buf("gamma") if gamma is not None else None, Buf("mean"), Buf("rstd"),
                Buf("dx"), i64(rows), i64(C))
        run_plan(plan_row_op("layer_norm_bwd_dx", dt, rows, C, args, _sm()), bufs)
        run_plan(memo_layer_norm_params_grad(dt, rows, C, _sm()), bufs)
    return bufs["dx"], bufs["dgamma"], bufs["dbeta"]


def batch_norm_stats(x):
    """Per-channel (last axis, NHWC) mean and biased variance over all other axes."""
    import cupy

    x2, M, C = _rows2d(x)
    mean, var = cupy.empty(C, x2.dtype), cupy.empty(C, x2.dtype)
    if M == 0:
        mean.fill(np.nan)
        var.fill(np.nan)
    elif C:
        run_plan(memo_batch_norm_stats(x2.dtype, M, C, _sm()), {"x": x2, "mean": mean, "var": var})
    return mean, var


def batch_norm_grad(dy, x, mean, rstd, gamma=None):
    """Training-mode batch-norm backward (statistics of this batch), channels last.

    Returns:
        (dx, dgamma, dbeta).
    """
    import cupy

    x2, M, C = _rows2d(x)
    dt = x2.dtype
    bufs = {"x": x2, "dy": cupy.ascontiguousarray(dy, dtype=dt), "mean": cupy.ascontiguousarray(mean, dtype=dt),
            "rstd": cupy.ascontiguousarray(rstd, dtype=dt),
            "gamma": None if gamma is None else cupy.ascontiguousarray(gamma, dtype=dt),
            "dx": cupy.empty(x2.shape, dt), "dgamma": cupy.zeros(C, dt), "dbeta": cupy.zeros(C, dt)}
    if M * C:
        run_plan(memo_batch_norm_grad(dt, M, C, gamma is not None, _sm()), bufs)
    return bufs["dx"].reshape(x.shape), bufs["dgamma"], bufs["dbeta"]
