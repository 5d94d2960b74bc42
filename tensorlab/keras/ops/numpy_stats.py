"""NumPy-style statistics (``keras.ops.numpy``): quantiles, median, average, ptp, corrcoef,
histograms, bincount, digitize and the trapezoidal rule.

    from tensorlab.keras import ops
    ops.quantile(x, [0.25, 0.75], axis=-1)
    counts, edges = ops.histogram(x, bins=20)

Quantiles sort along the reduced axes and interpolate as numpy does (``method`` "linear",
"lower", "higher", "midpoint" or "nearest"); they are differentiable in ``x``.
"""
import math as _math

import tensorlab as tl
from tensorlab.keras.ops import _numpy_helpers as H
from tensorlab.keras.ops import numpy as knp

__all__ = ["average", "bincount", "corrcoef", "digitize", "histogram", "median", "percentile", "ptp", "quantile",
           "trapezoid"]

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _q_tensor(name, q, scale):
    """``q / scale`` as float64, checked to lie in [0, 1] (where its values are known)."""
    qt = H.as_float64(q) / scale
    if H.any_true(tl.logical_not(tl.logical_and(tl.greater_equal(qt, 0.0), tl.less_equal(qt, 1.0)))):
        raise ValueError(f"ops.{name}: q must lie in [0, {scale:g}], got {q!r}")
    return qt


def _flatten_axes(name, x, axis):
    """``x`` with the ``axis`` dims moved last and merged into one, the shape of the kept dims, and the
    shape the result takes with ``keepdims``."""
    if not x.shape:
        x = tl.reshape(x, [1])
    r = len(x.shape)
    if axis is None:
        axes = list(range(r))
    else:
        axes = sorted({H.norm_axis(name, a, r) for a in (axis if isinstance(axis, (list, tuple)) else [axis])})
    if any(x.shape[i] == 0 for i in axes):
        raise ValueError(f"ops.{name}: cannot take a quantile over an empty axis (shape {tuple(x.shape)})")
    other = [i for i in range(r) if i not in axes]
    merged = 1
    for i in axes:
        merged = None if merged is None or x.shape[i] is None else merged * x.shape[i]
    kept = [x.shape[i] for i in other]
    y = H.reshape(name, tl.transpose(x, other + axes), kept + [merged])
    return y, kept, [1 if i in axes else x.shape[i] for i in range(r)]


def _lerp(a, b, t):
    # numpy's form: the end nearer to t is the base, so t = 0 and t = 1 give a and b exactly.
    d = b - a
    return tl.where(tl.greater_equal(t, 0.5), b - d * (1.0 - t), a + d * t)


def _from_sorted(s, n, q, method):
    """Quantiles ``q`` ([Q], float64) of the first ``n`` ([...], float64) entries of each sorted row
    of ``s`` ([..., N]), as [..., Q]."""
    pos = (n[..., None] - 1.0) * q          # numpy's virtual index (n - 1) q
    last = tl.maximum(n[..., None] - 1.0, 0.0)

    def at(i):
        i = tl.cast(tl.minimum(tl.maximum(i, 0.0), last), "int32")
        return tl.gather(s, i, axis=len(s.shape) - 1, batch_dims=len(s.shape) - 1)

    if method == "lower":
        return at(tl.floor(pos))
    if method == "higher":
        return at(tl.ceil(pos))
    if method == "nearest":
        return at(tl.round(pos))  # half to even, as numpy's "nearest"
    lo, hi = at(tl.floor(pos)), at(tl.ceil(pos))
    if method == "midpoint":
        return (lo + hi) * 0.5
    return _lerp(lo, hi, tl.cast(pos - tl.floor(pos), s.dtype))


def quantile_impl(name, x, q, axis, method, keepdims, scale=1.0, ignore_nan=False):
    """``quantile`` and its relatives: ``percentile`` (``scale`` 100) and the NaN-ignoring ones."""
    if method not in _METHODS:
        raise ValueError(f"ops.{name}: method must be one of {', '.join(_METHODS)}, got {method!r}")
    x = knp._to_float(x)
    q = _q_tensor(name, q, scale)
    y, kept, keep = _flatten_axes(name, x, axis)
    nan = tl.math.is_nan(y)
    if ignore_nan:
        n = tl.reduce_sum(tl.cast(tl.logical_not(nan), "float64"), axis=-1)
        undefined = tl.equal(n, 0.0)
        # NaNs sort last, behind the n valid values (all-NaN rows become 0s: no inf - inf there).
        y = tl.where(nan, tl.where(undefined[..., None], tl.cast(0.0, y.dtype), tl.cast(_math.inf, y.dtype)), y)
    else:
        n = tl.reduce_sum(tl.cast(tl.logical_or(nan, tl.logical_not(nan)), "float64"), axis=-1)  # the row length
        undefined = tl.reduce_any(nan, axis=-1)  # numpy: a NaN anywhere makes the quantile NaN
    r = _from_sorted(tl.sort(y, axis=-1), n, tl.reshape(q, [-1]), method)
    r = tl.where(undefined[..., None], _math.nan, r)
    return H.reshape(name, knp.moveaxis(r, -1, 0), list(q.shape) + (keep if keepdims else kept))


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (``q`` in [0, 1], a number or a tensor) of ``x`` along ``axis``.

    The result has ``q``'s shape followed by the reduced shape of ``x``.
    """
    return quantile_impl("quantile", x, q, axis, method, keepdims)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles (``q`` in [0, 100]) of ``x`` along ``axis``."""
    return quantile_impl("percentile", x, q, axis, method, keepdims, scale=100.0)


def median(x, axis=None, keepdims=False):
    """The median along ``axis`` (the mean of the two middle values for an even count)."""
    return quantile_impl("median", x, 0.5, axis, "linear", keepdims)


def average(x, axis=None, weights=None):
    """The mean of ``x`` along ``axis``, weighted by ``weights`` (of ``x``'s shape, or 1-D along ``axis``)."""
    if weights is None:
        return knp.mean(x, axis=axis)
    x, w = H.promote_float(x, weights)
    if tuple(w.shape) != tuple(x.shape):
        if not (isinstance(axis, int) and len(w.shape) == 1 and w.shape[0] == x.shape[axis]):
            raise ValueError(f"ops.average: weights of shape {tuple(w.shape)} must have x's shape "
                             f"{tuple(x.shape)}, or be 1-D with the length of x along an integer axis "
                             f"(axis={axis})")
        a = H.norm_axis("average", axis, len(x.shape))
        w = tl.reshape(w, [-1] + [1] * (len(x.shape) - a - 1))
        w = w * tl.ones_like(x)
    return knp.sum(x * w, axis=axis) / knp.sum(w, axis=axis)


def ptp(x, axis=None, keepdims=False):
    """The range ``max - min`` along ``axis``."""
    x = knp._t(x)
    if x.dtype.name == "bool":
        raise TypeError("ops.ptp: bool tensors have no difference; cast x to an integer or float dtype first")
    return knp.max(x, axis=axis, keepdims=keepdims) - knp.min(x, axis=axis, keepdims=keepdims)


def corrcoef(x):
    """Pearson correlation coefficients of the rows of ``x`` (variables) over its columns (observations)."""
    x = H.float_wide(x)
    if len(x.shape) > 2:
        raise ValueError(f"ops.corrcoef: x must be 1-D or 2-D (variables x observations), got shape "
                         f"{tuple(x.shape)}")
    vector = len(x.shape) < 2
    x = tl.reshape(x, [1, -1]) if vector else x
    c = x - tl.reduce_mean(x, axis=1, keepdims=True)
    cov = tl.matmul(c, c, transpose_b=True)
    d = tl.sqrt(tl.linalg.diag_part(cov))
    r = cov / d[:, None] / d[None, :]
    r = tl.clip_by_value(r, -1.0, 1.0)
    return tl.reshape(r, []) if vector else r


def histogram(x, bins=10, range=None):
    """Counts of ``x`` in ``bins`` equal-width bins over ``range`` (default: ``[min(x), max(x)]``).

    Returns ``(counts, bin_edges)``: ``bins`` counts (``x``'s float dtype) and ``bins + 1`` edges. The
    last bin includes its right edge; values outside ``range`` are not counted.
    """
    if not isinstance(bins, int) or isinstance(bins, bool) or bins < 1:
        raise ValueError(f"ops.histogram: bins must be a positive integer, got {bins!r}")
    x = tl.reshape(knp._to_float(x), [-1])
    if range is None:
        lo, hi = tl.reduce_min(x), tl.reduce_max(x)
        # numpy widens an empty range by 0.5 on each side.
        same = tl.equal(lo, hi)
        lo, hi = tl.where(same, lo - 0.5, lo), tl.where(same, hi + 0.5, hi)
    else:
        if len(range) != 2 or not range[0] <= range[1]:
            raise ValueError(f"ops.histogram: range must be (min, max) with min <= max, got {range!r}")
        lo, hi = (H.as_dtype(v, x.dtype) for v in range)
        if range[0] == range[1]:
            lo, hi = lo - 0.5, hi + 0.5
    # As numpy's linspace: lo + i * step, with the last edge exactly hi.
    edges = lo + tl.cast(tl.range(0, bins), x.dtype) * ((hi - lo) / bins)
    edges = tl.concat([edges, tl.reshape(hi, [1])], 0)
    inside = tl.logical_and(tl.greater_equal(x, lo), tl.less_equal(x, hi))
    idx = tl.searchsorted(edges[1:-1], x, side="right")
    counts = tl.math.bincount(tl.where(inside, idx, tl.zeros_like(idx)), weights=tl.cast(inside, x.dtype),
                              minlength=bins, maxlength=bins)
    return counts, edges


def bincount(x, weights=None, minlength=0, sparse=False):
    """Counts each non-negative integer in ``x`` (1-D, or 2-D counted per row), optionally summing
    ``weights`` instead. int32 counts, or the dtype of ``weights``."""
    if sparse:
        raise ValueError("ops.bincount: sparse=True is not supported (tensorlab has no sparse tensors)")
    x = knp._t(x)
    if not H.is_int(x):
        raise TypeError(f"ops.bincount: x must hold integers, got dtype {x.dtype.name}")
    if len(x.shape) not in (1, 2):
        raise ValueError(f"ops.bincount: x must be 1-D or 2-D, got shape {tuple(x.shape)}")
    if H.any_true(tl.less(x, 0)):
        raise ValueError("ops.bincount: x must be non-negative")
    if weights is not None:
        x_, w = knp._promote(x, weights)
        weights = w if knp._is_float(w) or w.dtype.name == "int64" else tl.cast(w, "int32")
    x = tl.cast(x, "int64" if x.dtype.name == "int64" else "int32")
    return tl.math.bincount(x, weights=weights, minlength=minlength, axis=-1 if len(x.shape) == 2 else None)


def digitize(x, bins):
    """The index of the bin of ``bins`` (monotonic, increasing or decreasing) each value of ``x`` falls in,
    as numpy's ``digitize`` with ``right=False`` (int32)."""
    if H.is_eager(bins) or isinstance(bins, tl.SymbolicTensor):
        x, b = knp._promote(x, bins)
    else:  # numbers: compared in float64, exactly (a float32 conversion would move them)
        x, b = tl.cast(knp._t(x), "float64"), H.as_float64(bins)
    if len(b.shape) != 1:
        raise ValueError(f"ops.digitize: bins must be 1-D, got shape {tuple(b.shape)}")
    if x.dtype.name == "bool":
        x, b = tl.cast(x, "int32"), tl.cast(b, "int32")
    flat = tl.reshape(x, [-1])  # searchsorted matches the ranks of its operands
    step = b[1:] - b[:-1] if b.shape[0] and b.shape[0] > 1 else None
    if step is not None and H.any_true(tl.less(step, 0)):
        if H.any_true(tl.greater(step, 0)):
            raise ValueError("ops.digitize: bins must be monotonically increasing or decreasing")
        out = b.shape[0] - tl.searchsorted(tl.reverse(b, [0]), flat, side="right")
    else:
        out = tl.searchsorted(b, flat, side="right")
    return H.reshape("digitize", out, x.shape)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of ``y`` along ``axis`` by the trapezoidal rule, at sample points ``x`` (1-D, or of
    ``y``'s shape) or with spacing ``dx``."""
    y = knp._to_float(y)
    axis = H.norm_axis("trapezoid", axis, len(y.shape))
    y = knp.moveaxis(y, axis, -1)
    if x is None:
        d = H.as_dtype(dx, y.dtype)
    else:
        x = tl.cast(knp._t(x), y.dtype)
        if len(x.shape) == 1:
            d = x[1:] - x[:-1]
        else:
            x = knp.moveaxis(x, axis, -1)
            d = x[..., 1:] - x[..., :-1]
    return tl.reduce_sum(d * (y[..., 1:] + y[..., :-1]) * 0.5, axis=-1)


H.on_input_device(globals(), __all__)
