"""Pooling: max and average pooling over 1-D, 2-D and 3-D windows (NWC / NHWC / NDHWC).

TF semantics: padded cells never win a max and are not counted in an
average (SAME-padded average pooling divides by the number of real cells in
each window); the max-pool gradient goes to the first maximal cell of each
window (row-major order within the window).
"""
import collections
import contextlib

from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import FLOATS, check_same_dtype, fmt, require_dtypes, require_float, t, tf
from tensorlab.ops import shape as _shape
from tensorlab.ops.conv import (_expand_h, _known, _squeeze_h, check_data_format, compute_padding, norm_padding,
                                norm_window, window_output_size)

_MAX_DTYPES = FLOATS | frozenset({dt.int8, dt.int16, dt.int32, dt.int64, dt.uint8})


def _check_pads(name, ksize, pads):
    for k, b, a in ((ksize[0], pads[0], pads[1]), (ksize[1], pads[2], pads[3])):
        if b is not None and a is not None and max(b, a) >= k:
            raise InvalidArgumentError(
                f"{name}: pads {pads} must be smaller than the window {ksize} so that every window "
                "holds at least one input cell")


def _pool_out_shape(name, shape, ksize, strides, pads):
    if len(shape) != 4:
        raise InvalidArgumentError(f"{name}: input must have rank 4 (NHWC), got shape {fmt(shape)}")
    _check_pads(name, ksize, pads)
    n, h, w, c = shape
    oh = window_output_size(name, h, ksize[0], strides[0], 1, pads[0], pads[1])
    ow = window_output_size(name, w, ksize[1], strides[1], 1, pads[2], pads[3])
    return (n, oh, ow, c)


def _pool_rule(name, dtypes):
    def rule(x, ksize, strides, pads):
        require_dtypes(name, x, dtypes)
        return TensorSpec(_pool_out_shape(name, x.shape, ksize, strides, pads), x.dtype)
    return rule


def _max_grad_rule(name, out_of):
    """Rule of max_pool2d_grad (g shaped like y, result like x) and of its
    adjoint max_pool2d_grad_grad (g shaped like x, result like y)."""
    def rule(x, y, g, ksize, strides, pads):
        d = check_same_dtype(name, x, y, g)
        pooled = _pool_out_shape(name, x.shape, ksize, strides, pads)
        g_expect = pooled if out_of == "x" else x.shape
        for what, s, e in (("y", y.shape, pooled), ("gradient", g.shape, g_expect)):
            if not _compatible(e, s):
                raise InvalidArgumentError(
                    f"{name}: {what} shape {fmt(s)} must be {fmt(e)} for input {fmt(x.shape)} "
                    f"(ksize {ksize}, strides {strides}, pads {pads})")
        return TensorSpec(x.shape if out_of == "x" else y.shape, d)
    return rule


def _compatible(a, b):
    return len(a) == len(b) and all(p is None or q is None or p == q for p, q in zip(a, b))


def _avg_grad_rule(dy, input_shape, ksize, strides, pads):
    name = "avg_pool2d_grad"
    require_float(name, dy)
    expect = _pool_out_shape(name, tuple(input_shape), ksize, strides, pads)
    if not _compatible(expect, dy.shape):
        raise InvalidArgumentError(
            f"{name}: dy shape {fmt(dy.shape)} does not match the pooled shape {fmt(expect)} of an input "
            f"of shape {fmt(input_shape)}")
    n = input_shape[0] if input_shape[0] is not None else dy.shape[0]
    return TensorSpec((n,) + tuple(input_shape[1:]), dy.dtype)


max_pool2d_p = primitive("max_pool2d", _pool_rule("max_pool2d", _MAX_DTYPES))
max_pool2d_grad_p = primitive("max_pool2d_grad", _max_grad_rule("max_pool2d_grad", "x"))
max_pool2d_grad_grad_p = primitive("max_pool2d_grad_grad", _max_grad_rule("max_pool2d_grad_grad", "y"))
avg_pool2d_p = primitive("avg_pool2d", _pool_rule("avg_pool2d", FLOATS))
avg_pool2d_grad_p = primitive("avg_pool2d_grad", _avg_grad_rule)


@defgrad(max_pool2d_p)
def _max_pool_grad(g, out, x, **p):
    return max_pool2d_grad_p(x, out, g, **p)


# max_pool2d_grad is linear in dy (it routes each dy to its window's argmax) and
# piecewise constant in x and y; its adjoint gathers at those argmax cells.
@defgrad(max_pool2d_grad_p)
def _max_pool_grad_grad(g, out, x, y, dy, **p):
    return None, None, max_pool2d_grad_grad_p(x, y, g, **p)


@defgrad(max_pool2d_grad_grad_p)
def _max_pool_grad_grad_grad(g, out, x, y, gg, **p):
    return None, None, max_pool2d_grad_p(x, y, g, **p)


@defgrad(avg_pool2d_p)
def _avg_pool_grad(g, out, x, **p):
    return avg_pool2d_grad_p(g, input_shape=tuple(x.shape), **p)


@defgrad(avg_pool2d_grad_p)
def _avg_pool_grad_grad(g, out, dy, input_shape, **p):
    return avg_pool2d_p(g, **p)


# ----------------------------------------------------------------- public functions
def _pool2d(name, prim, x, ksize, strides, padding):
    if x.ndim != 4:
        raise InvalidArgumentError(f"{name}: input must have rank 4 (NHWC), got shape {fmt(x.shape)}")
    ksize = norm_window(name, "ksize", ksize, 2)
    strides = norm_window(name, "strides", strides, 2)
    padding = norm_padding(name, padding, 2)
    pads = []
    for i in range(2):
        pad = padding if isinstance(padding, str) else padding[i]
        _, b, a = compute_padding(name, x.shape[1 + i], ksize[i], strides[i], 1, pad)
        pads += [b, a]
    _check_pads(name, ksize, tuple(pads))
    return prim(x, ksize=ksize, strides=strides, pads=tuple(pads))


def _pool1d(name, prim, x, ksize, strides, padding):
    if x.ndim != 3:
        raise InvalidArgumentError(f"{name}: input must have rank 3 (NWC), got shape {fmt(x.shape)}")
    k = (1,) + norm_window(name, "ksize", ksize, 1)
    s = (1,) + norm_window(name, "strides", strides, 1)
    p = norm_padding(name, padding, 1)
    p = p if isinstance(p, str) else ((0, 0),) + p
    return _squeeze_h(_pool2d(name, prim, _expand_h(x), k, s, p))


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """Max pooling over 2-D windows of an NHWC input (``tf.nn.max_pool2d``).

    Args:
      input: ``[batch, height, width, channels]`` (float or integer).
      ksize: window size: an int or a list of 1, 2 or 4 ints.
      strides: an int or a list of 1, 2 or 4 ints.
      padding: ``"SAME"``, ``"VALID"`` or explicit pads
        ``[[0, 0], [top, bottom], [left, right], [0, 0]]``; padded cells
        never win.
      data_format: only ``"NHWC"`` is supported.

    Returns:
      ``[batch, out_height, out_width, channels]``. The gradient flows to the
      first maximal cell of each window.

    Example:
      >>> tl.nn.max_pool2d(tl.ones([1, 5, 5, 3]), ksize=2, strides=2, padding="SAME").shape
      TensorShape([1, 3, 3, 3])
    """
    check_data_format("max_pool2d", data_format, ("NHWC",))
    return _pool2d("max_pool2d", max_pool2d_p, t(input), ksize, strides, padding)


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):
    """Average pooling over 2-D windows of an NHWC input (``tf.nn.avg_pool2d``).

    Args:
      input: float ``[batch, height, width, channels]``.
      ksize, strides: an int or a list of 1, 2 or 4 ints.
      padding: ``"SAME"`` or ``"VALID"``; with SAME each window is averaged
        over its real (non-padding) cells only, as in TF.
      data_format: only ``"NHWC"`` is supported.

    Returns:
      ``[batch, out_height, out_width, channels]``.

    Example:
      >>> tl.nn.avg_pool2d(tl.ones([1, 4, 4, 1]), 2, 2, "VALID").shape
      TensorShape([1, 2, 2, 1])
    """
    check_data_format("avg_pool2d", data_format, ("NHWC",))
    return _pool2d("avg_pool2d", avg_pool2d_p, tf(input, "avg_pool2d"), ksize, strides, padding)


def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):
    """Max pooling over 1-D windows of an NWC input (``tf.nn.max_pool1d``).

    Args:
      input: ``[batch, width, channels]``.
      ksize, strides: an int or a list of 1 or 3 ints.
      padding: ``"SAME"``, ``"VALID"`` or explicit ``[[left, right]]``.

    Returns:
      ``[batch, out_width, channels]``.
    """
    check_data_format("max_pool1d", data_format, ("NWC",))
    return _pool1d("max_pool1d", max_pool2d_p, t(input), ksize, strides, padding)


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):
    """Average pooling over 1-D windows of an NWC input (``tf.nn.avg_pool1d``).

    Args:
      input: float ``[batch, width, channels]``.
      ksize, strides: an int or a list of 1 or 3 ints.
      padding: ``"SAME"`` or ``"VALID"``.

    Returns:
      ``[batch, out_width, channels]``.
    """
    check_data_format("avg_pool1d", data_format, ("NWC",))
    return _pool1d("avg_pool1d", avg_pool2d_p, tf(input, "avg_pool1d"), ksize, strides, padding)


def _pool3d(name, prim, x, ksize, strides, padding):
    """3-D pooling as 2-D pooling of every depth plane (depth folded into the batch), then a
    max / mean over each depth window of the pooled planes. The first maximal cell in
    (depth, height, width) order still takes the max-pool gradient: the 2-D pool picks the
    first in its plane, and ``maximum`` gives ties to its first argument, the earlier plane."""
    from tensorlab.ops import elementwise as _e
    if x.ndim != 5:
        raise InvalidArgumentError(f"{name}: input must have rank 5 (NDHWC), got shape {fmt(x.shape)}")
    _known(name, x, (1, 2, 3), "depth, height and width")
    ksize = norm_window(name, "ksize", ksize, 3)
    strides = norm_window(name, "strides", strides, 3)
    padding = norm_padding(name, padding, 3)
    _, d, h, w, c = x.shape
    od, front, back = compute_padding(name, d, ksize[0], strides[0], 1,
                                      padding if isinstance(padding, str) else padding[0])
    if max(front, back) >= ksize[0]:
        raise InvalidArgumentError(f"{name}: depth pads ({front}, {back}) must be smaller than the window "
                                   f"depth {ksize[0]} so that every window holds at least one input cell")
    planes = _pool2d(name, prim, _shape.reshape(x, [-1, h, w, c]), ksize[1:], strides[1:],
                     padding if isinstance(padding, str) else padding[1:])
    y = _shape.reshape(planes, [-1, d] + list(planes.shape[1:]))
    is_max = prim is max_pool2d_p
    if front or back:  # padded planes never win a max and add nothing to a sum
        low = 0 if not is_max else (float("-inf") if x.dtype.is_floating else int(x.dtype.min))
        y = _shape.pad(y, [[0, 0], [front, back], [0, 0], [0, 0], [0, 0]], constant_values=low)
    out = None
    for k in range(ksize[0]):
        part = y[:, k:k + (od - 1) * strides[0] + 1:strides[0]]
        out = part if out is None else (_e.maximum(out, part) if is_max else out + part)
    if is_max:
        return out
    # each output plane averages over the real planes of its window
    counts = [sum(1 for k in range(ksize[0]) if 0 <= o * strides[0] - front + k < d) for o in range(od)]
    return out * [[[[1.0 / n]]] for n in counts]  # [od, 1, 1, 1], made on out's device in its dtype


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):
    """Max pooling over 3-D windows of an NDHWC input (``tf.nn.max_pool3d``).

    Args:
      input: ``[batch, depth, height, width, channels]`` (float or integer).
      ksize, strides: an int or a list of 1, 3 or 5 ints.
      padding: ``"SAME"``, ``"VALID"`` or explicit pads (one pair per spatial dim, or five
        pairs); padded cells never win.
      data_format: only ``"NDHWC"`` is supported.

    Returns:
      ``[batch, out_depth, out_height, out_width, channels]``. The gradient flows to the first
      maximal cell of each window.

    Example:
      >>> tl.nn.max_pool3d(tl.ones([1, 4, 4, 4, 2]), 2, 2, "VALID").shape
      TensorShape([1, 2, 2, 2, 2])
    """
    check_data_format("max_pool3d", data_format, ("NDHWC",))
    return _pool3d("max_pool3d", max_pool2d_p, t(input), ksize, strides, padding)


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):
    """Average pooling over 3-D windows of an NDHWC input (``tf.nn.avg_pool3d``).

    Args:
      input: float ``[batch, depth, height, width, channels]``.
      ksize, strides: an int or a list of 1, 3 or 5 ints.
      padding: ``"SAME"`` or ``"VALID"``; with SAME each window is averaged over its real
        (non-padding) cells only, as in TF.
      data_format: only ``"NDHWC"`` is supported.

    Returns:
      ``[batch, out_depth, out_height, out_width, channels]``.
    """
    check_data_format("avg_pool3d", data_format, ("NDHWC",))
    return _pool3d("avg_pool3d", avg_pool2d_p, tf(input, "avg_pool3d"), ksize, strides, padding)


def _generic(name, x, ksize, strides, padding, data_format, prim):
    if x.ndim == 3:
        check_data_format(name, data_format, ("NWC",))
        return _pool1d(name, prim, x, ksize, strides, padding)
    if x.ndim == 4:
        check_data_format(name, data_format, ("NHWC",))
        return _pool2d(name, prim, x, ksize, strides, padding)
    if x.ndim == 5:
        check_data_format(name, data_format, ("NDHWC",))
        return _pool3d(name, prim, x, ksize, strides, padding)
    raise InvalidArgumentError(
        f"{name}: only 1-D (rank-3 NWC), 2-D (rank-4 NHWC) and 3-D (rank-5 NDHWC) pooling is supported, got "
        f"shape {fmt(x.shape)}")


def max_pool(input, ksize, strides, padding, data_format=None, name=None):
    """Max pooling for rank-3 (NWC), rank-4 (NHWC) or rank-5 (NDHWC) inputs (``tf.nn.max_pool``)."""
    return _generic("max_pool", t(input), ksize, strides, padding, data_format, max_pool2d_p)


def avg_pool(input, ksize, strides, padding, data_format=None, name=None):
    """Average pooling for rank-3 (NWC), rank-4 (NHWC) or rank-5 (NDHWC) inputs (``tf.nn.avg_pool``)."""
    return _generic("avg_pool", tf(input, "avg_pool"), ksize, strides, padding, data_format, avg_pool2d_p)


MaxPoolWithArgmax = collections.namedtuple("MaxPoolWithArgmax", ["output", "argmax"])


def _window_argmax(op, x, out_hw, ksize, strides, pads, include_batch):
    """The flattened input index of each window's first maximum (row-major within the window)."""
    from tensorlab.ops import creation as cr, elementwise as E
    from tensorlab.ops.gradient_ops import stop_gradient
    from tensorlab.ops.reduction import argmax
    _known(op, x, (0, 1, 2, 3) if include_batch else (1, 2, 3), "batch size, height, width and depth"
           if include_batch else "height, width and depth")
    n, h, w, c = x.shape
    (oh, ow), (kh, kw), (sh, sw), (top, bottom, left, right) = out_hw, ksize, strides, pads
    low = float("-inf") if x.dtype.is_floating else x.dtype.min  # padding never beats a real cell
    xp = _shape.pad(stop_gradient(x), [[0, 0], [top, bottom], [left, right], [0, 0]], constant_values=low)
    windows = [xp[:, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw, :] for i in range(kh) for j in range(kw)]
    k = argmax(_shape.stack(windows, axis=-1), axis=-1)
    with contextlib.nullcontext() if isinstance(x, SymbolicTensor) else _dev.device(x._device):
        rows = _shape.reshape(cr.range(oh, dtype=dt.int64) * sh - top, [1, oh, 1, 1])
        cols = _shape.reshape(cr.range(ow, dtype=dt.int64) * sw - left, [1, 1, ow, 1])
        chans = cr.range(c, dtype=dt.int64)
        batch = _shape.reshape(cr.range(n, dtype=dt.int64) * (h * w * c), [n, 1, 1, 1]) if include_batch else 0
    # A window's first maximum can only be padding when all its real cells are the lowest value:
    # clamping then names a real cell of the window holding that value.
    y = E.clip_by_value(E.add(rows, E.floordiv(k, kw)), 0, h - 1)
    xx = E.clip_by_value(E.add(cols, E.floormod(k, kw)), 0, w - 1)
    return E.add(E.add(E.multiply(E.add(E.multiply(y, w), xx), c), chans), batch)


def max_pool_with_argmax(input, ksize, strides, padding, data_format="NHWC", output_dtype=dt.int64,
                         include_batch_in_index=False, name=None):
    """Max pooling that also returns where each maximum is (``tf.nn.max_pool_with_argmax``).

    The maximum at input position ``[b, y, x, c]`` is given the flattened index
    ``(y * width + x) * channels + c``, plus ``b * height * width * channels`` with
    ``include_batch_in_index``. Ties go to the first maximal cell of the window in
    row-major order, the cell the gradient of ``output`` goes to.

    Args:
      input: ``[batch, height, width, channels]`` (float or integer).
      ksize, strides: an int or a list of 1, 2 or 4 ints.
      padding: ``"SAME"`` or ``"VALID"``.
      data_format: only ``"NHWC"``.
      output_dtype: ``tl.int64`` (default) or ``tl.int32``, the dtype of ``argmax``.
      include_batch_in_index: whether the index counts the batch position too.

    Returns:
      A namedtuple ``(output, argmax)``, both ``[batch, out_height, out_width, channels]``.

    Example:
      >>> x = tl.reshape(tl.range(16.0), [1, 4, 4, 1])
      >>> tl.nn.max_pool_with_argmax(x, 2, 2, "VALID").argmax[0, :, :, 0].numpy()
      array([[ 5,  7],
             [13, 15]])
    """
    op = "max_pool_with_argmax"
    check_data_format(op, data_format, ("NHWC",))
    if not isinstance(padding, str) or padding.upper() not in ("SAME", "VALID"):
        raise InvalidArgumentError(f"{op}: padding must be 'SAME' or 'VALID', got {padding!r}")
    out_dt = dt.as_dtype(output_dtype)
    if out_dt not in (dt.int32, dt.int64):
        raise TypeError(f"{op}: output_dtype must be int32 or int64, got {out_dt.name}")
    x = t(input)
    output = _pool2d(op, max_pool2d_p, x, ksize, strides, padding)
    k, s = norm_window(op, "ksize", ksize, 2), norm_window(op, "strides", strides, 2)
    pads = tuple(p for i in range(2) for p in compute_padding(op, x.shape[1 + i], k[i], s[i], 1, padding)[1:])
    index = _window_argmax(op, x, tuple(output.shape[1:3]), k, s, pads, bool(include_batch_in_index))
    from tensorlab.ops.elementwise import cast
    return MaxPoolWithArgmax(output, index if out_dt == dt.int64 else cast(index, out_dt))


__all__ = []
NN = ["max_pool2d", "avg_pool2d", "max_pool1d", "avg_pool1d", "max_pool3d", "avg_pool3d", "max_pool", "avg_pool",
      "max_pool_with_argmax"]
