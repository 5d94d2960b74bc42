"""NaN-ignoring reductions (``keras.ops.numpy``): ``nansum``, ``nanmean``, ``nanmax``, ``nanargmax``,
``nanmedian``, ``nanquantile``, ... as numpy's, over the non-NaN values only.

    from tensorlab.keras import ops
    ops.nanmean(x, axis=-1)

Integer and bool tensors hold no NaN: they get the plain reduction. A slice that is all NaN gives
NaN (``nanmax``, ``nanmean``, ...), 0 (``nansum``), 1 (``nanprod``) or -1 (``nanargmax``/``nanargmin``,
as Keras; numpy raises).
"""
import math as _math

import tensorlab as tl
from tensorlab.keras.ops import _numpy_helpers as H
from tensorlab.keras.ops import numpy as knp
from tensorlab.keras.ops.numpy_stats import quantile_impl

__all__ = ["nanargmax", "nanargmin", "nancumprod", "nancumsum", "nanmax", "nanmean", "nanmedian", "nanmin",
           "nanpercentile", "nanprod", "nanquantile", "nanstd", "nansum", "nanvar"]


def _filled(x, value):
    """Float ``x`` with its NaNs replaced by ``value``."""
    return tl.where(tl.math.is_nan(x), tl.cast(value, x.dtype), x)


def nansum(x, axis=None, keepdims=False):
    """The sum along ``axis``, treating NaN as 0."""
    x = knp._t(x)
    return knp.sum(_filled(x, 0) if knp._is_float(x) else x, axis=axis, keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False):
    """The product along ``axis``, treating NaN as 1."""
    x = knp._t(x)
    return knp.prod(_filled(x, 1) if knp._is_float(x) else x, axis=axis, keepdims=keepdims)


def _count(x, axis, keepdims):
    return tl.reduce_sum(tl.cast(tl.logical_not(tl.math.is_nan(x)), x.dtype), axis=knp._axes(axis),
                         keepdims=keepdims)


def nanmean(x, axis=None, keepdims=False):
    """The mean of the non-NaN values along ``axis``."""
    x = knp._t(x)
    if not knp._is_float(x):
        return knp.mean(x, axis=axis, keepdims=keepdims)
    return nansum(x, axis=axis, keepdims=keepdims) / _count(x, axis, keepdims)


def nanvar(x, axis=None, keepdims=False):
    """The variance of the non-NaN values along ``axis``."""
    x = knp._to_float(x)
    valid = tl.logical_not(tl.math.is_nan(x))
    d = tl.where(valid, x - nanmean(x, axis=axis, keepdims=True), 0.0)
    return knp.sum(d * d, axis=axis, keepdims=keepdims) / _count(x, axis, keepdims)


def nanstd(x, axis=None, keepdims=False):
    """The standard deviation of the non-NaN values along ``axis``."""
    return tl.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _nan_reduction(reduce, fill, all_nan, bool_as_int=False):
    """``reduce`` of float ``x`` with NaNs replaced by ``fill``, ``all_nan`` for all-NaN slices."""
    def f(x, axis=None, keepdims=False):
        x = knp._t(x)
        if not knp._is_float(x):
            return reduce(tl.cast(x, "int32") if bool_as_int and x.dtype.name == "bool" else x, axis=axis,
                          keepdims=keepdims)
        empty = knp.all(tl.math.is_nan(x), axis=axis, keepdims=keepdims)
        return tl.where(empty, all_nan, reduce(_filled(x, fill), axis=axis, keepdims=keepdims))
    return f


nanmax = _nan_reduction(knp.max, -_math.inf, _math.nan)
nanmax.__name__, nanmax.__doc__ = "nanmax", "The maximum along ``axis``, ignoring NaN."
nanmin = _nan_reduction(knp.min, _math.inf, _math.nan)
nanmin.__name__, nanmin.__doc__ = "nanmin", "The minimum along ``axis``, ignoring NaN."
nanargmax = _nan_reduction(knp.argmax, -_math.inf, -1, bool_as_int=True)
nanargmax.__name__, nanargmax.__doc__ = "nanargmax", "The index (int32) of the maximum, ignoring NaN; -1 if all NaN."
nanargmin = _nan_reduction(knp.argmin, _math.inf, -1, bool_as_int=True)
nanargmin.__name__, nanargmin.__doc__ = "nanargmin", "The index (int32) of the minimum, ignoring NaN; -1 if all NaN."


def _nan_cum(cum, fill):
    def f(x, axis=None, dtype=None):
        x = knp._t(x)
        if knp._is_float(x):
            x = _filled(x, fill)
        # Keras keeps the input's dtype (bool accumulates in int32).
        d = knp._dt(dtype) or x.dtype
        x = tl.cast(x, "int32" if d.name == "bool" else d)
        if axis is None:
            x, axis = tl.reshape(x, [-1]), 0
        return cum(x, axis=axis)
    return f


nancumsum = _nan_cum(tl.cumsum, 0)
nancumsum.__name__, nancumsum.__doc__ = "nancumsum", "The cumulative sum along ``axis``, treating NaN as 0."
nancumprod = _nan_cum(tl.math.cumprod, 1)
nancumprod.__name__, nancumprod.__doc__ = "nancumprod", "The cumulative product along ``axis``, treating NaN as 1."


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (``q`` in [0, 1]) of the non-NaN values of ``x`` along ``axis``."""
    return quantile_impl("nanquantile", x, q, axis, method, keepdims, ignore_nan=True)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th percentiles (``q`` in [0, 100]) of the non-NaN values of ``x`` along ``axis``."""
    return quantile_impl("nanpercentile", x, q, axis, method, keepdims, scale=100.0, ignore_nan=True)


def nanmedian(x, axis=None, keepdims=False):
    """The median of the non-NaN values of ``x`` along ``axis``."""
    return quantile_impl("nanmedian", x, 0.5, axis, "linear", keepdims, ignore_nan=True)


H.on_input_device(globals(), __all__)
