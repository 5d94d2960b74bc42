"""numpy implementations of the shape primitives (ops/shape.py)."""
import itertools

import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import shape as S


@impl(S.reshape_p, "cpu")
def reshape(x, shape):
    return x.reshape(shape)


@impl(S.transpose_p, "cpu")
def transpose(x, perm):
    return np.transpose(x, perm)


@impl(S.reverse_p, "cpu")
def reverse(x, axes):
    return np.flip(x, axes)


@impl(S.concat_p, "cpu")
def concat(*xs, axis):
    return np.concatenate(xs, axis=axis)


@impl(S.split_p, "cpu")
def split(x, axis, sizes):
    cuts = list(itertools.accumulate(sizes[:-1]))  # host ints: CuPy's split takes no device array
    return tuple(np.split(x, cuts, axis=axis))


@impl(S.stack_p, "cpu")
def stack(*xs, axis):
    return np.stack(xs, axis=axis)


@impl(S.unstack_p, "cpu")
def unstack(x, axis, num):
    return tuple(np.take(x, i, axis=axis) for i in range(num))


@impl(S.tile_p, "cpu")
def tile(x, multiples):
    return np.tile(x, multiples)


@impl(S.broadcast_to_p, "cpu")
def broadcast_to(x, shape):
    return np.broadcast_to(x, shape)  # read-only view: tensors are immutable


@impl(S.pad_p, "cpu")
def pad(x, paddings, mode, constant_values):
    if mode == "CONSTANT":
        return np.pad(x, paddings, mode="constant", constant_values=constant_values)
    return np.pad(x, paddings, mode=mode.lower())


@impl(S.shape_of_p, "cpu")
def shape_of(x, out_type, what):
    v = x.shape if what == "shape" else (x.ndim if what == "rank" else x.size)
    return np.asarray(v, dtype=out_type.as_numpy_dtype)
