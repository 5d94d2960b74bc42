"""Reductions along axes: sum, mean, max/min, prod, logsumexp, all/any,
argmax/argmin, cumsum/cumprod, variance/std and euclidean norm.

Primitives: reduce_sum, reduce_max, reduce_min, reduce_prod, reduce_all,
reduce_any, argmax, argmin, cumsum, cumprod. Everything else (mean, logsumexp,
variance, std, euclidean norm, count_nonzero) is a composite of these.
Segment reductions, bincount and histogram_fixed_width live in ``segment.py``.
Reduction primitives take ``axes`` (a sorted tuple of non-negative axes) and
``keepdims``; the public functions normalize TF's ``axis`` argument.
"""
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite, defgrad, not_differentiable, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import Tensor
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import FLOATS, fmt, norm_axes, norm_axis, require_dtypes, t

_INTS = frozenset({dt.int8, dt.int16, dt.int32, dt.int64, dt.uint8})
NUMERIC = FLOATS | _INTS
_BOOL = frozenset({dt.bool_})
_HALF = frozenset(d for d in (dt.float16, dt.bfloat16) if d in FLOATS)


def _reduce_shape(x, axes, keepdims):
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    return tuple(d for i, d in enumerate(x.shape) if i not in axes)


def reduce_rule(name, out_dtype=None, allowed=NUMERIC):
    def rule(x, axes, keepdims):
        require_dtypes(name, x, allowed)
        for a in axes:
            if not 0 <= a < len(x.shape):
                raise InvalidArgumentError(f"{name}: axis {a} is out of range for a tensor of rank "
                                           f"{len(x.shape)} (shape {fmt(x.shape)})")
        return TensorSpec(_reduce_shape(x, axes, keepdims), out_dtype or x.dtype)
    return rule


reduce_sum_p = primitive("reduce_sum", reduce_rule("reduce_sum"))
reduce_max_p = primitive("reduce_max", reduce_rule("reduce_max"))
reduce_min_p = primitive("reduce_min", reduce_rule("reduce_min"))
reduce_prod_p = primitive("reduce_prod", reduce_rule("reduce_prod"))
reduce_all_p = primitive("reduce_all", reduce_rule("reduce_all", allowed=_BOOL))
reduce_any_p = primitive("reduce_any", reduce_rule("reduce_any", allowed=_BOOL))
not_differentiable(reduce_all_p, reduce_any_p)


def _expand_reduced(g, x, axes, keepdims):
    """Reshapes a reduced tensor so it broadcasts against ``x``."""
    from tensorlab.ops.shape import reshape
    if not keepdims:
        g = reshape(g, _reduce_shape(x, axes, True))
    return g


_MODS = []


def _ops():
    # Imported late (sibling families import this module), then cached: hot path.
    if not _MODS:
        from tensorlab.ops import creation, elementwise, gradient_ops, shape
        _MODS.extend((elementwise, shape, creation, gradient_ops))
    return _MODS


@defgrad(reduce_sum_p)
def _sum_grad(g, out, x, axes, keepdims):
    from tensorlab.ops.shape import broadcast_to
    return broadcast_to(_expand_reduced(g, x, axes, keepdims), x.shape)


def _extremum_grad(g, out, x, axes, keepdims):
    # Ties share the gradient equally, as in TF.
    if x.dtype not in FLOATS:
        return None
    E = _ops()[0]
    mask = E.cast(E.equal(x, _expand_reduced(out, x, axes, keepdims)), x.dtype)
    count = reduce_sum_p(mask, axes=axes, keepdims=True)
    return E.multiply(E.divide(mask, count), _expand_reduced(g, x, axes, keepdims))


defgrad(reduce_max_p)(_extremum_grad)
defgrad(reduce_min_p)(_extremum_grad)


@defgrad(reduce_prod_p)
def _prod_grad(g, out, x, axes, keepdims):
    # d prod / d x_i = product of the other elements, computed without dividing
    # by zero: with no zero in the slice it is prod / x_i; with exactly one zero
    # only that element gets the product of the rest; with two or more, nothing.
    if x.dtype not in FLOATS:
        return None
    E, _, C, _ = _ops()
    is_zero = E.equal(x, 0)
    safe = E.where(is_zero, C.ones_like(x), x)
    nonzero_prod = reduce_prod_p(safe, axes=axes, keepdims=True)
    zeros = reduce_sum_p(E.cast(is_zero, x.dtype), axes=axes, keepdims=True)
    none = C.zeros_like(nonzero_prod)
    at_zero = E.where(E.equal(zeros, 1), nonzero_prod, none)
    elsewhere = E.where(E.equal(zeros, 0), E.divide(nonzero_prod, safe), none)
    return E.multiply(E.where(is_zero, at_zero, elsewhere), _expand_reduced(g, x, axes, keepdims))


def _axes(name, x, axis):
    # A scalar reduced over axis 0/-1 is itself (TF accepts no axis on scalars;
    # being lenient here keeps rank-generic code simple).
    if x.ndim == 0:
        if axis is None:
            return ()
        norm_axes(name, axis, 0)
        return ()
    return norm_axes(name, axis, x.ndim)


_NP_SETS = {}


def _np_set(allowed):
    """numpy dtypes of a DType set, for a cheap eager check (cached per set)."""
    key = id(allowed)
    got = _NP_SETS.get(key)
    if got is None:
        got = _NP_SETS[key] = frozenset(d._np for d in allowed if d._np is not None)
    return got


def _reduce(prim, name, input_tensor, axis, keepdims, allowed=NUMERIC):
    x = t(input_tensor)
    if type(x) is not Tensor or x._data.dtype not in _np_set(allowed):
        require_dtypes(name, x, allowed)
    return prim(x, axes=_axes(name, x, axis), keepdims=bool(keepdims))


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """Sum of elements across ``axis`` (int, list, negative, or None for all).

    Integer inputs keep their dtype; bool inputs must be cast first (as in TF).

    Args:
      input_tensor: a numeric tensor.
      axis: the axes to reduce; None reduces all of them.
      keepdims: keep reduced axes with length 1.

    Returns:
      The reduced tensor, same dtype as the input.

    Example:
      >>> tl.reduce_sum(tl.ones([2, 3]), axis=1).numpy()
      array([3., 3.], dtype=float32)
    """
    return _reduce(reduce_sum_p, "reduce_sum", input_tensor, axis, keepdims)


def reduce_max(input_tensor, axis=None, keepdims=False, name=None):
    """Maximum of elements across ``axis``; tied maxima share the gradient equally.

    Example:
      >>> tl.reduce_max(tl.constant([[1., 5.], [3., 2.]]), axis=0).numpy()
      array([3., 5.], dtype=float32)
    """
    return _reduce(reduce_max_p, "reduce_max", input_tensor, axis, keepdims)


def reduce_min(input_tensor, axis=None, keepdims=False, name=None):
    """Minimum of elements across ``axis``; tied minima share the gradient equally."""
    return _reduce(reduce_min_p, "reduce_min", input_tensor, axis, keepdims)


def reduce_prod(input_tensor, axis=None, keepdims=False, name=None):
    """Product of elements across ``axis``; its gradient is exact with zeros present."""
    return _reduce(reduce_prod_p, "reduce_prod", input_tensor, axis, keepdims)


def reduce_all(input_tensor, axis=None, keepdims=False, name=None):
    """Logical AND of a bool tensor's elements across ``axis``."""
    return _reduce(reduce_all_p, "reduce_all", input_tensor, axis, keepdims, _BOOL)


def reduce_any(input_tensor, axis=None, keepdims=False, name=None):
    """Logical OR of a bool tensor's elements across ``axis``."""
    return _reduce(reduce_any_p, "reduce_any", input_tensor, axis, keepdims, _BOOL)


def _count(x, axes):
    """The number of elements reduced over ``axes`` (None while one of their sizes is unknown)."""
    n = 1
    for a in axes:
        if x.shape[a] is None:
            return None
        n *= x.shape[a]
    return n


def reduce_mean(input_tensor, axis=None, keepdims=False, name=None):
    """Mean of elements across ``axis``.

    Integer inputs give an integer mean truncated toward zero, as in TF;
    float16/bfloat16 inputs are accumulated in float32.

    Args:
      input_tensor: a numeric tensor.
      axis: the axes to reduce; None reduces all of them.
      keepdims: keep reduced axes with length 1.

    Returns:
      The reduced tensor, same dtype as the input.

    Example:
      >>> tl.reduce_mean(tl.constant([[1., 2.], [3., 4.]]), axis=0).numpy()
      array([2., 3.], dtype=float32)
    """
    E = _ops()[0]
    x = t(input_tensor)
    require_dtypes("reduce_mean", x, NUMERIC)
    axes = _axes("reduce_mean", x, axis)
    n = _count(x, axes)
    if n is None:  # symbolic, over an unknown size (e.g. the batch): the count is known when a model runs
        return _reduce_mean_unknown(x, axes=axes, keepdims=bool(keepdims))
    if x.dtype in _INTS:
        s = reduce_sum_p(x, axes=axes, keepdims=bool(keepdims))
        if n == 0:
            raise InvalidArgumentError(f"reduce_mean: integer mean over an empty axis (shape {fmt(x.shape)}, "
                                       f"axis {list(axes)})")
        return E.multiply(E.sign(s), E.floordiv(E.abs(s), n))
    if x.dtype in _HALF:
        s = reduce_sum_p(E.cast(x, dt.float32), axes=axes, keepdims=bool(keepdims))
        return E.cast(E.divide(s, float(n)), x.dtype)
    return E.divide(reduce_sum_p(x, axes=axes, keepdims=bool(keepdims)), float(n))


@composite("reduce_mean", lambda x, axes, keepdims: reduce_sum_p.abstract_eval(x, axes=axes, keepdims=keepdims))
def _reduce_mean_unknown(x, axes, keepdims):
    return reduce_mean(x, axis=list(axes), keepdims=keepdims)


def _logsumexp_rule(x):
    require_dtypes("reduce_logsumexp", x, FLOATS)
    if len(x.shape) < 1:
        raise InvalidArgumentError("reduce_logsumexp: the row primitive needs an axis to reduce")
    return TensorSpec(tuple(x.shape[:-1]), x.dtype)


# logsumexp over the last axis: one pass of our row kernel on the GPU (tl_logsumexp_rows).
logsumexp_p = primitive("logsumexp", _logsumexp_rule, doc="log(sum(exp(x))) over the last axis")


@defgrad(logsumexp_p)
def _logsumexp_grad(g, out, x):
    from tensorlab.ops.nn import softmax_p

    E, S, _, _ = _ops()
    return E.multiply(S.expand_dims(g, -1), softmax_p(x, axis=len(x.shape) - 1))


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    """Computes ``log(sum(exp(x)))`` across ``axis``, stably (shifted by the maximum).

    Example:
      >>> tl.reduce_logsumexp(tl.constant([1000., 1000.])).numpy()   # 1000 + log(2)
      1000.6931
    """
    E, S, _, G = _ops()
    x = t(input_tensor)
    require_dtypes("reduce_logsumexp", x, FLOATS)
    axes = _axes("reduce_logsumexp", x, axis)
    if axes == (len(x.shape) - 1,) and x.shape[-1] != 0:
        out = logsumexp_p(x)
        return S.expand_dims(out, -1) if keepdims else out
    raw = reduce_max_p(x, axes=axes, keepdims=True)
    # An all -inf (or inf) slice must not produce inf - inf = nan: shift by 0 there.
    raw = E.where(E.less(E.abs(raw), float("inf")), raw, 0.0)
    m = G.stop_gradient(raw)
    s = E.log(reduce_sum_p(E.exp(E.subtract(x, m)), axes=axes, keepdims=bool(keepdims)))
    if not keepdims:
        m = reduce_sum_p(m, axes=axes, keepdims=False)  # drops the size-1 axes
    return E.add(s, m)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """Population variance (mean squared deviation) of elements across ``axis``.

    Example:
      >>> tl.math.reduce_variance(tl.constant([1., 2., 3., 4.])).numpy()
      1.25
    """
    E = _ops()[0]
    x = t(input_tensor)
    require_dtypes("reduce_variance", x, FLOATS)
    m = reduce_mean(x, axis, keepdims=True)
    return reduce_mean(E.square(E.subtract(x, m)), axis, keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """Population standard deviation of elements across ``axis``."""
    x = t(input_tensor)
    require_dtypes("reduce_std", x, FLOATS)
    return _ops()[0].sqrt(reduce_variance(x, axis, keepdims))


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    """``sqrt(sum(x ** 2))`` across ``axis``; integer inputs give a truncated integer, as in TF."""
    E = _ops()[0]
    x = t(input_tensor)
    require_dtypes("reduce_euclidean_norm", x, NUMERIC)
    if x.dtype in _INTS:
        return E.cast(reduce_euclidean_norm(E.cast(x, dt.float64), axis, keepdims), x.dtype)
    axes = _axes("reduce_euclidean_norm", x, axis)
    return E.sqrt(reduce_sum_p(E.square(x), axes=axes, keepdims=bool(keepdims)))


def count_nonzero(input, axis=None, keepdims=None, dtype=dt.int64, name=None):
    """Number of non-zero (or True) elements across ``axis``, as ``dtype`` (default int64)."""
    E = _ops()[0]
    x = t(input)
    nz = E.cast(E.not_equal(x, False if x.dtype.is_bool else 0), dt.int64)
    return E.cast(reduce_sum(nz, axis, bool(keepdims)), dtype)


# ----------------------------------------------------------------- argmax / argmin
def _arg_rule(name):
    def rule(x, axis, output_type):
        require_dtypes(name, x, NUMERIC)
        if not 0 <= axis < len(x.shape):
            raise InvalidArgumentError(f"{name}: axis {axis} is out of range for a tensor of rank "
                                       f"{len(x.shape)} (shape {fmt(x.shape)})")
        return TensorSpec(tuple(d for i, d in enumerate(x.shape) if i != axis), output_type)
    return rule


argmax_p = primitive("argmax", _arg_rule("argmax"))
argmin_p = primitive("argmin", _arg_rule("argmin"))
not_differentiable(argmax_p, argmin_p)


def _arg(prim, name, input, axis, output_type):
    x = t(input)
    require_dtypes(name, x, NUMERIC)
    if x.ndim == 0:
        raise InvalidArgumentError(f"{name}: needs a tensor of rank >= 1, got a scalar")
    out = dt.as_dtype(output_type)
    if out not in (dt.int32, dt.int64):
        raise TypeError(f"{name}: output_type must be int32 or int64, got {out.name}")
    return prim(x, axis=norm_axis(name, 0 if axis is None else axis, x.ndim), output_type=out)


def argmax(input, axis=None, output_type=dt.int64, name=None):
    """Index of the largest value along ``axis`` (default 0, as in TF); the first one on ties.

    Args:
      input: a numeric tensor of rank >= 1.
      axis: the axis to reduce (default 0).
      output_type: int64 (default) or int32.

    Returns:
      An integer tensor with ``axis`` removed.

    Example:
      >>> tl.argmax(tl.constant([[1., 9.], [5., 2.]]), axis=1).numpy()
      array([1, 0])
    """
    return _arg(argmax_p, "argmax", input, axis, output_type)


def argmin(input, axis=None, output_type=dt.int64, name=None):
    """Index of the smallest value along ``axis`` (default 0); the first one on ties."""
    return _arg(argmin_p, "argmin", input, axis, output_type)


# ----------------------------------------------------------------- cumsum / cumprod (scans)
def _scan_rule(name):
    def rule(x, axis, exclusive, reverse):
        require_dtypes(name, x, NUMERIC)
        if not 0 <= axis < len(x.shape):
            raise InvalidArgumentError(f"{name}: axis {axis} is out of range for a tensor of rank "
                                       f"{len(x.shape)} (shape {fmt(x.shape)})")
        return TensorSpec(x.shape, x.dtype)
    return rule


def _scan(prim, name, x, axis, exclusive, reverse):
    x = t(x)
    require_dtypes(name, x, NUMERIC)
    if x.ndim == 0:
        raise InvalidArgumentError(f"{name}: needs a tensor of rank >= 1, got a scalar")
    return prim(x, axis=norm_axis(name, axis, x.ndim), exclusive=bool(exclusive), reverse=bool(reverse))


cumsum_p = primitive("cumsum", _scan_rule("cumsum"))


@defgrad(cumsum_p)
def _cumsum_grad(g, out, x, axis, exclusive, reverse):
    # Each input feeds every later (earlier, if reversed) output: sum g the other way.
    return cumsum_p(g, axis=axis, exclusive=exclusive, reverse=not reverse)


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative sum along ``axis``.

    Args:
      x: a numeric tensor of rank >= 1.
      axis: the axis to accumulate along (default 0).
      exclusive: element i sums the elements before i (the first output is 0).
      reverse: accumulate from the end.

    Returns:
      A tensor of the same shape and dtype.

    Example:
      >>> tl.cumsum(tl.constant([1, 2, 3]), exclusive=True).numpy()
      array([0, 1, 3], dtype=int32)
    """
    return _scan(cumsum_p, "cumsum", x, axis, exclusive, reverse)


cumprod_p = primitive("cumprod", _scan_rule("cumprod"))


@defgrad(cumprod_p)
def _cumprod_grad(g, out, x, axis, exclusive, reverse):
    # d out_k / d x_i is the product of out_k's other factors. With z the first
    # zero along the scan: before z, TF's back(g * out) / x_i is exact (x_i != 0);
    # at z, back(g * cumprod(x with x_z := 1)) needs no division (PyTorch's rule);
    # past z, every term holds x_z, so the gradient is x_z * G, G being the same
    # rule on x with x_z := 1 (stopping at the second zero). Its value (0) and its
    # derivative in x_z (G) are then both exact, so second derivatives at zeros are
    # right too. Vectorised, no host sync, and 1 / x only where x != 0.
    if x.dtype not in FLOATS:
        return None
    E, _, C, _ = _ops()
    one, zero = C.ones_like(x), C.zeros_like(x)

    def back(v):  # sums v over the outputs that each input feeds
        return cumsum_p(v, axis=axis, exclusive=exclusive, reverse=not reverse)

    def split(v):  # (before v's first zero along the scan, at it, v with it set to 1)
        is_zero = E.equal(v, 0)
        seen = cumsum_p(E.cast(is_zero, dt.int32), axis=axis, exclusive=False, reverse=reverse)
        first = E.logical_and(is_zero, E.equal(seen, 1))
        return E.equal(seen, 0), first, E.where(first, one, v)

    def back_skipping(skip):  # back(g * cumprod(skip))
        return back(E.multiply(g, cumprod_p(skip, axis=axis, exclusive=exclusive, reverse=reverse)))

    before, first, skip = split(x)
    before2, first2, skip2 = split(skip)
    at_first = back_skipping(skip)
    G = E.where(before2, E.divide(at_first, E.where(before2, skip, one)),
                E.where(first2, back_skipping(skip2), zero))
    x_first = reduce_sum_p(E.where(first, x, zero), axes=(axis,), keepdims=True)
    return E.where(before, E.divide(back(E.multiply(g, out)), E.where(before, x, one)),
                   E.where(first, at_first, E.multiply(x_first, G)))


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    """Cumulative product along ``axis``.

    The gradient is exact where ``x`` holds zeros (TF's
    ``reverse_cumsum(grad * output) / x`` gives nan/inf there); it is computed
    without dividing by zero, as PyTorch does, and stays twice differentiable.

    Args:
      x: a numeric tensor of rank >= 1.
      axis: the axis to accumulate along (default 0).
      exclusive: element i multiplies the elements before i (the first output is 1).
      reverse: accumulate from the end.

    Returns:
      A tensor of the same shape and dtype.

    Example:
      >>> tl.math.cumprod(tl.constant([2., 3., 4.]), exclusive=True).numpy()
      array([1., 2., 6.], dtype=float32)
    """
    return _scan(cumprod_p, "cumprod", x, axis, exclusive, reverse)


__all__ = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_logsumexp",
           "reduce_all", "reduce_any", "argmax", "argmin", "cumsum"]
MATH = __all__ + ["reduce_variance", "reduce_std", "reduce_euclidean_norm", "count_nonzero", "cumprod"]
