"""Helpers shared by the ``numpy_*.py`` modules of ``keras.ops`` (on top of ``numpy.py``'s own).

Those modules are imported at the end of ``numpy.py``, which re-exports their names.
"""
import contextlib
import functools

import tensorlab as tl
from tensorlab.keras.ops import numpy as knp


def _first_eager_tensor(values):
    for v in values:
        if isinstance(v, (tl.Tensor, tl.Variable)):
            return v
        if isinstance(v, (list, tuple)):
            found = _first_eager_tensor(v)
            if found is not None:
                return found
    return None


def on_input_device(namespace, names):
    """Wraps each function ``namespace[name]`` so that it runs under ``tl.device`` of its first eager
    tensor argument: the index and constant tensors it makes then sit beside its inputs, whatever
    the default device (symbolic and non-tensor inputs leave the default alone)."""
    def wrap(fn):
        @functools.wraps(fn)
        def on_device(*args, **kwargs):
            t = _first_eager_tensor(args + tuple(kwargs.values()))
            with tl.device(t.device) if t is not None else contextlib.nullcontext():
                return fn(*args, **kwargs)
        return on_device
    for name in names:
        namespace[name] = wrap(namespace[name])


def is_int(x):
    return x.dtype.name in knp._INTS


def float_wide(x):
    """``x`` as floats, int64 as float64 (Keras' rule for cbrt, deg2rad, i0, ...), other ints as floatx."""
    x = knp._t(x)
    if x.dtype.name == "int64":
        return tl.cast(x, "float64")
    return knp._to_float(x)


def promote_float(*xs):
    """``xs`` promoted together, then as floats (Keras' ``result_type(*xs, float)``)."""
    out = knp._promote(*xs)
    return [knp._to_float(x) for x in out]


def promote_int(name, *xs, allow_bool=False):
    """``xs`` promoted together; raises TypeError unless the result is an integer (or bool) dtype."""
    out = knp._promote(*xs)
    d = out[0].dtype.name
    if not (d in knp._INTS or (allow_bool and d == "bool")):
        what = "integer or bool" if allow_bool else "integer"
        raise TypeError(f"ops.{name}: expects {what} tensors, got dtype(s) "
                        f"{', '.join(knp._t(x).dtype.name for x in xs)}")
    return out


def norm_axis(name, axis, ndim):
    return knp._norm_axis(axis, ndim, name)


def reshape(name, x, dims):
    """``tl.reshape`` to ``dims``, ints or None (unknown, as a symbolic batch dimension): one None
    becomes -1; more are an error."""
    dims = list(dims)
    if sum(d is None for d in dims) > 1:
        raise ValueError(f"ops.{name}: needs all but one dimension known, got shape {tuple(x.shape)}")
    return tl.reshape(x, [-1 if d is None else d for d in dims])


def static_dim(name, x, axis):
    """The size of ``x`` along ``axis``, which must be known (not None)."""
    d = x.shape[axis]
    if d is None:
        raise ValueError(f"ops.{name}: needs a known size along axis {axis}, got shape {tuple(x.shape)}")
    return d


def is_eager(x):
    return isinstance(x, (tl.Tensor, tl.Variable))


def as_dtype(v, dtype):
    """``v`` as a tensor of ``dtype``; numbers and lists are converted directly (``tl.cast`` of a Python
    float would go through float32 and lose float64 digits)."""
    if is_eager(v) or isinstance(v, tl.SymbolicTensor):
        return tl.cast(v, dtype)
    return knp._t(v, dtype)


def as_float64(v):
    return as_dtype(v, "float64")


def any_true(cond):
    """``bool(reduce_any(cond))`` for an eager tensor (False for a symbolic one: checked when data exists)."""
    return is_eager(cond) and bool(tl.reduce_any(cond))

