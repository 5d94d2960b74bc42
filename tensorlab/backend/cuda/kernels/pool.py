"""Launchers for `cuda_kernels/pool.cu`: 2-D max / average pooling, float32 NHWC, TF semantics.

`ksize` and `strides` are ints, pairs or NHWC 4-tuples `(1, kh, kw, 1)`; `padding` is "SAME" or
"VALID" (SAME pads are split TF-style by `conv.same_valid_pads`). Padding cells never win a max
and are excluded from averages. `plan_pool2d` is pure Python and shared with the emulator tests.
"""
from __future__ import annotations

STEM = "pool"

HOT_KERNELS = [
    "tl_max_pool2d_fwd_nhwc_f32",
    "tl_max_pool2d_bwd_nhwc_f32",
    "tl_avg_pool2d_fwd_nhwc_f32",
    "tl_avg_pool2d_bwd_nhwc_f32",
]
EMU_EXEMPT: dict = {}

MAX_GRID = 65535

_KERNELS = {
    ("max", "fwd"): "tl_max_pool2d_fwd_nhwc_f32",
    ("max", "bwd"): "tl_max_pool2d_bwd_nhwc_f32",
    ("avg", "fwd"): "tl_avg_pool2d_fwd_nhwc_f32",
    ("avg", "bwd"): "tl_avg_pool2d_bwd_nhwc_f32",
}


def _pair(v):
    if isinstance(v, int):
        return (v, v)
    v = tuple(int(x) for x in v)
    return (v[1], v[2]) if len(v) == 4 else v


def _same_valid_pads(in_hw, k_hw, strides, padding):
    from importlib import import_module

    try:
        conv = import_module(__name__.rsplit(".", 1)[0] + ".conv")
    except ImportError:  # loaded standalone by path (tests without CuPy)
        import importlib.util
        import pathlib

        path = pathlib.Path(__file__).with_name("conv.py")
        spec = importlib.util.spec_from_file_location("_tl_pool_conv", path)
        conv = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(conv)
    return conv.same_valid_pads(in_hw, k_hw, strides, 1, padding)


def plan_pool2d(kind, direction, x_shape, ksize, strides, padding):
    """Kernel, grid, block, args and shapes of a pooling launch.

    Args:
        kind: "max" or "avg"; direction: "fwd" or "bwd".
        x_shape: (N, H, W, C) of the pooled input.
    Returns:
        dict with `kernel`, `grid`, `block`, `args` (pointer names then ("i32", v) scalars:
        fwd (X, Y), max bwd (X, DY, DX), avg bwd (DY, DX)), `out_shape` (N, OH, OW, C).
    """
    N, H, W, C = x_shape
    KH, KW = _pair(ksize)
    sh, sw = _pair(strides)
    (OH, OW), (pt, _, pl, _) = _same_valid_pads((H, W), (KH, KW), (sh, sw), padding)
    total = N * (OH * OW if direction == "fwd" else H * W) * C
    grid = (max(1, min(-(-total // 256), MAX_GRID)), 1, 1)
    ptrs = {"fwd": ["X", "Y"], "bwd": ["X", "DY", "DX"] if kind == "max" else ["DY", "DX"]}
    scal = [("i32", int(v)) for v in (N, H, W, C, OH, OW, KH, KW, sh, sw, pt, pl)]
    return dict(kernel=_KERNELS[(kind, direction)], grid=grid, block=(256, 1, 1),
                args=ptrs[direction] + scal, out_shape=(N, OH, OW, C), total=total)


def bind_args(plan, arrays, i32):
    return tuple(arrays[a] if isinstance(a, str) else i32(a[1]) for a in plan["args"])


def _run(kind, direction, x_shape, ksize, strides, padding, arrays, out_name):
    import cupy
    import numpy

    from ._module import get_kernel

    plan = plan_pool2d(kind, direction, x_shape, ksize, strides, padding)
    shape = plan["out_shape"] if direction == "fwd" else tuple(x_shape)
    out = cupy.empty(shape, cupy.float32)
    arrays = {k: cupy.ascontiguousarray(v) for k, v in arrays.items()}
    for k, v in arrays.items():
        if v.dtype != cupy.float32:
            raise TypeError(f"{kind}_pool2d: only float32 is implemented, got {v.dtype}")
    arrays[out_name] = out
    if plan["total"] == 0:
        out.fill(0)
        return out
    get_kernel(STEM, plan["kernel"])(plan["grid"], plan["block"],
                                     bind_args(plan, arrays, numpy.int32))
    return out


def max_pool2d(x, ksize, strides, padding):
    """Max pooling of a cupy float32 NHWC tensor.

    Args:
        x: (N, H, W, C).
        ksize, strides: int, (h, w) or (1, h, w, 1).
        padding: "SAME" or "VALID".
    Returns:
        (N, OH, OW, C) cupy float32.

    Example:
        >>> y = max_pool2d(x, 2, 2, "VALID")
    """
    return _run("max", "fwd", x.shape, ksize, strides, padding, {"X": x}, "Y")


def max_pool2d_grad(x, y, dy, ksize, strides, padding):
    """Gradient of `max_pool2d` w.r.t. x (to the first maximum of each window).

    `y` (the forward output) is accepted for API symmetry; the kernel recomputes the argmax
    from `x`, which keeps it deterministic and exact.
    """
    del y
    return _run("max", "bwd", x.shape, ksize, strides, padding, {"X": x, "DY": dy}, "DX")


def avg_pool2d(x, ksize, strides, padding):
    """Average pooling (SAME windows average over their valid cells only)."""
    return _run("avg", "fwd", x.shape, ksize, strides, padding, {"X": x}, "Y")


def avg_pool2d_grad(x_shape, dy, ksize, strides, padding):
    """Gradient of `avg_pool2d` w.r.t. its input of shape `x_shape` (N, H, W, C) (or the input)."""
    x_shape = tuple(getattr(x_shape, "shape", x_shape))
    return _run("avg", "bwd", tuple(x_shape), ksize, strides, padding, {"DY": dy}, "DX")
