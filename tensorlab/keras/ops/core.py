"""Core ops (``keras.ops.core``): dtypes and conversion, control flow, slicing and scatter.

    from tensorlab.keras import ops
    ops.cast(x, "float16")
    ops.slice_update(x, (0, 2), updates)
    i, total = ops.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s + i), (0, 0))
"""
import tensorlab as tl

from tensorlab.keras.ops.numpy import _dt, _t

__all__ = [
    "cast", "cond", "convert_to_numpy", "convert_to_tensor", "custom_gradient", "dtype", "fori_loop",
    "is_tensor", "scatter", "scatter_update", "shape", "slice", "slice_update", "stop_gradient", "unstack",
    "while_loop",
]


def cast(x, dtype):
    """Casts ``x`` to ``dtype`` (a name such as ``"float16"``, a numpy dtype or a ``tl.DType``)."""
    return tl.cast(_t(x), _dt(dtype))


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """Converts arrays, lists and numbers to a tensor; tensors pass through (cast when ``dtype`` differs)."""
    if sparse or ragged:
        raise ValueError("ops.convert_to_tensor: tensorlab has no sparse or ragged tensors; "
                         f"got sparse={sparse}, ragged={ragged}")
    if dtype is not None and is_tensor(x):
        return cast(x, dtype)
    return _t(x, dtype)


def convert_to_numpy(x):
    """A numpy array holding the value of ``x`` (copied to the host if needed)."""
    if isinstance(x, tl.SymbolicTensor) or not hasattr(_t(x), "numpy"):
        raise ValueError("ops.convert_to_numpy: a symbolic tensor has no value")
    return _t(x).numpy()


def is_tensor(x):
    """True for tensorlab tensors, variables and symbolic ``keras.Input`` tensors."""
    from tensorlab.keras._node import KerasTensor
    return tl.is_tensor(x) or isinstance(x, KerasTensor)


def dtype(x):
    """The dtype of ``x`` as a standardized string, e.g. ``"float32"``."""
    return _t(x).dtype.name


def shape(x):
    """The static shape of ``x`` as a tuple of ints (``None`` for unknown dimensions)."""
    return tuple(_t(x).shape)


def stop_gradient(variable):
    """Returns ``variable``'s value with no gradient flowing back through it."""
    return tl.stop_gradient(_t(variable))


def unstack(x, num=None, axis=0):
    """Splits ``x`` along ``axis`` into a list of tensors of one rank less."""
    x = _t(x)
    n = x.shape[axis]
    if num is not None and n is not None and num != n:
        raise ValueError(f"ops.unstack: num={num} does not match dimension {axis} of size {n}")
    return list(tl.unstack(x, axis=axis))


def custom_gradient(f):
    """Decorator: ``f(*args)`` returns ``(output, grad_fn)``; ``grad_fn(upstream)`` returns input gradients.

    Example:
      >>> @ops.custom_gradient
      ... def log1pexp(x):
      ...     e = ops.exp(x)
      ...     def grad(*args, upstream=None):
      ...         if upstream is None:
      ...             (upstream,) = args
      ...         return ops.multiply(upstream, 1.0 - 1.0 / ops.add(1, e))
      ...     return ops.log(1 + e), grad
    """
    return tl.custom_gradient(f)


# ---------------------------------------------------------------- control flow

def cond(pred, true_fn, false_fn):
    """Returns ``true_fn()`` if ``pred`` is true, else ``false_fn()``."""
    return tl.cond(pred, true_fn, false_fn)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Repeats ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``.

    ``loop_vars`` is a tuple/list (unpacked into ``cond`` and ``body``, a tuple is
    returned) or a single value (passed and returned as is).

    Example:
      >>> i, s = ops.while_loop(lambda i, s: i < 10, lambda i, s: (i + 1, s + i), (0, 0))
    """
    if maximum_iterations is not None and maximum_iterations < 0:
        raise ValueError(f"ops.while_loop: maximum_iterations must be >= 0, got {maximum_iterations}")
    is_tuple = isinstance(loop_vars, (tuple, list))
    loop_vars = tuple(loop_vars) if is_tuple else (loop_vars,)

    def _body(*args):
        out = body(*args)
        return tuple(out) if is_tuple else (out,)

    out = tl.while_loop(cond, _body, loop_vars, maximum_iterations=maximum_iterations)
    return tuple(out) if is_tuple else out[0]


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; returns the final ``val``."""
    def _cond(i, _):
        return tl.less(i, upper)

    def _body(i, val):
        return i + 1, body_fun(i, val)

    return tl.while_loop(_cond, _body, (tl.convert_to_tensor(lower), init_val))[1]


# ---------------------------------------------------------------- slicing and scatter

def slice(inputs, start_indices, shape):
    """The block of ``inputs`` of size ``shape`` starting at ``start_indices``."""
    inputs = _t(inputs)
    if len(start_indices) != len(inputs.shape) or len(shape) != len(inputs.shape):
        raise ValueError(f"ops.slice: start_indices ({len(start_indices)}) and shape ({len(shape)}) need one "
                         f"entry per dimension of inputs (rank {len(inputs.shape)})")
    return tl.slice(inputs, list(start_indices), list(shape))


def _block_indices(start_indices, block_shape):
    grids = [tl.range(0, n) + tl.cast(s, tl.int32) for s, n in zip(start_indices, block_shape)]
    return tl.stack(tl.meshgrid(*grids, indexing="ij"), axis=-1)


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block at ``start_indices`` replaced by ``updates``.

    Example:
      >>> ops.slice_update(ops.zeros((4, 4)), (1, 1), ops.ones((2, 2)))
    """
    inputs, updates = _t(inputs), _t(updates)
    if len(start_indices) != len(inputs.shape) or len(updates.shape) != len(inputs.shape):
        raise ValueError(f"ops.slice_update: start_indices ({len(start_indices)}) and updates (rank "
                         f"{len(updates.shape)}) must match the rank of inputs ({len(inputs.shape)})")
    idx = _block_indices(start_indices, list(updates.shape))
    return tl.tensor_scatter_nd_update(inputs, idx, tl.cast(updates, inputs.dtype))


def scatter(indices, values, shape):
    """A zero tensor of ``shape`` with ``values`` added at ``indices`` (duplicates sum)."""
    return tl.scatter_nd(_t(indices), _t(values), list(shape))


def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with ``updates`` written at ``indices``; ``reduction="add"`` accumulates instead."""
    if reduction is not None:
        reduction = reduction.lower()
        if reduction not in ("add",):
            raise ValueError(f"ops.scatter_update: reduction must be None or 'add' in tensorlab, "
                             f"got {reduction!r}")
    inputs = _t(inputs)
    updates = tl.cast(_t(updates), inputs.dtype)
    fn = tl.tensor_scatter_nd_add if reduction == "add" else tl.tensor_scatter_nd_update
    return fn(inputs, _t(indices), updates)
