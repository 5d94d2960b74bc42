"""Tensor creation: constant, zeros/ones/fill, *_like, eye, range, linspace, one_hot.

Creation primitives take no tensor inputs; they run on the current device
(``tl.device`` scope) through ``Primitive.create``.
"""
from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite, not_differentiable, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import constant, convert_to_tensor
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import t


def _shape_arg(name, shape):
    if hasattr(shape, "numpy"):
        shape = shape.numpy().tolist()
    if isinstance(shape, int):
        shape = [shape]
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name}: shape must be a list of integers, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise InvalidArgumentError(f"{name}: shape {list(shape)} has a negative dimension")
    return shape


fill_p = primitive("fill", lambda shape, value, dtype: TensorSpec(shape, dtype))
eye_p = primitive("eye", lambda n, m, dtype: TensorSpec((n, m), dtype))
range_p = primitive("range", lambda start, limit, delta, dtype: TensorSpec((None,), dtype))
linspace_p = primitive("linspace", lambda start, stop, num, dtype: TensorSpec((num,), dtype))


def _one_hot_rule(indices, depth, on_value, off_value, axis, dtype):
    if not indices.dtype.is_integer:
        raise TypeError(f"one_hot: indices must be integers, got dtype {indices.dtype.name}")
    shape = list(indices.shape)
    ax = len(shape) if axis == -1 else axis
    if not 0 <= ax <= len(shape):
        raise InvalidArgumentError(f"one_hot: axis {axis} is out of range for indices of rank {len(shape)}")
    shape.insert(ax, depth)
    return TensorSpec(shape, dtype)


one_hot_p = primitive("one_hot", _one_hot_rule)
not_differentiable(fill_p, eye_p, range_p, linspace_p, one_hot_p)


def fill(dims, value, name=None):
    """A tensor of shape ``dims`` filled with ``value`` (dtype inferred from ``value``)."""
    value = value.numpy().item() if hasattr(value, "numpy") else value
    return fill_p.create(_dev.current(), shape=_shape_arg("fill", dims), value=value,
                         dtype=dt.infer_dtype(value))


def zeros(shape, dtype=dt.float32, name=None):
    """A tensor of zeros with the given shape and dtype."""
    return fill_p.create(_dev.current(), shape=_shape_arg("zeros", shape), value=0, dtype=dt.as_dtype(dtype))


def ones(shape, dtype=dt.float32, name=None):
    """A tensor of ones with the given shape and dtype."""
    return fill_p.create(_dev.current(), shape=_shape_arg("ones", shape), value=1, dtype=dt.as_dtype(dtype))


def _like(x, value, dtype):
    x = t(x)
    return _fill_like(x, value=value, dtype=dt.as_dtype(dtype) if dtype is not None else x.dtype)


@composite("fill_like", lambda x, value, dtype: TensorSpec(x.shape, dtype))
def _fill_like(x, value, dtype):
    # On a Functional-API tensor this runs as a composite: made when a model runs, with the data's
    # shape (its batch size unknown before) and on the data's device.
    return fill_p.create(x._device, shape=tuple(x.shape), value=value, dtype=dtype)


def zeros_like(input, dtype=None, name=None):
    """Zeros with the shape (and by default dtype and device) of ``input``."""
    return _like(input, 0, dtype)


def ones_like(input, dtype=None, name=None):
    """Ones with the shape (and by default dtype and device) of ``input``."""
    return _like(input, 1, dtype)


def eye(num_rows, num_columns=None, batch_shape=None, dtype=dt.float32, name=None):
    """An identity matrix (optionally batched)."""
    m = eye_p.create(_dev.current(), n=int(num_rows),
                     m=int(num_rows if num_columns is None else num_columns), dtype=dt.as_dtype(dtype))
    if batch_shape:
        from tensorlab.ops.shape import broadcast_to
        m = broadcast_to(m, tuple(batch_shape) + tuple(m.shape))
    return m


def range(start, limit=None, delta=1, dtype=None, name="range"):
    """Numbers from ``start`` up to (not including) ``limit`` by ``delta`` (``tf.range``).

    Example:
      >>> tl.range(5).numpy()
      array([0, 1, 2, 3, 4], dtype=int32)
    """
    if limit is None:
        start, limit = 0, start
    vals = [v.numpy().item() if hasattr(v, "numpy") else v for v in (start, limit, delta)]
    if vals[2] == 0:
        raise InvalidArgumentError("range: delta must not be 0")
    d = dt.as_dtype(dtype) if dtype is not None else (
        dt.float32 if any(isinstance(v, float) for v in vals) else dt.int32)
    return range_p.create(_dev.current(), start=vals[0], limit=vals[1], delta=vals[2], dtype=d)


def linspace(start, stop, num, name=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` inclusive."""
    s = float(start)
    return linspace_p.create(_dev.current(), start=s, stop=float(stop), num=int(num),
                             dtype=t(start).dtype if hasattr(start, "dtype") else dt.float32)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot encodes integer ``indices`` along a new axis of size ``depth``.

    Out-of-range indices (including negative ones) give an all-``off_value``
    row, as in TF.
    """
    idx = t(indices)
    if not idx.dtype.is_integer:
        raise TypeError(f"one_hot: indices must be integers, got dtype {idx.dtype.name}")
    d = dt.as_dtype(dtype) if dtype is not None else (
        dt.infer_dtype(on_value) if on_value is not None else dt.float32)
    return one_hot_p(idx, depth=int(depth), on_value=1 if on_value is None else on_value,
                     off_value=0 if off_value is None else off_value,
                     axis=-1 if axis is None else int(axis), dtype=d)


__all__ = ["constant", "convert_to_tensor", "fill", "zeros", "ones", "zeros_like", "ones_like",
           "eye", "range", "linspace", "one_hot"]
LINALG = ["eye"]
