"""numpy implementations of the random primitives (ops/random_ops.py).

``gen`` is a ``numpy.random.Generator`` over PCG64, made by ``make_generator``.
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import random_ops as R


@R.generator_factory("cpu")
def make_generator(seed):
    return np.random.Generator(np.random.PCG64(seed))


def _get_state(gen):
    return gen.bit_generator.state  # a dict of ints and strings


def _set_state(gen, state):
    gen.bit_generator.state = state


R.generator_state_io("cpu", _get_state, _set_state)


def _draw_dtype(nd):
    # The generator draws float32/float64 only; half types are drawn in float32.
    return nd if nd in (np.float32, np.float64) else np.dtype(np.float32)


@impl(R.random_normal_p, "cpu")
def random_normal(shape, mean, stddev, dtype, gen):
    nd = np.dtype(dtype.as_numpy_dtype)
    dd = _draw_dtype(nd)
    z = gen.standard_normal(shape, dtype=dd)
    return (z * dd.type(stddev) + dd.type(mean)).astype(nd, copy=False)


@impl(R.random_uniform_p, "cpu")
def random_uniform(shape, minval, maxval, dtype, gen):
    nd = np.dtype(dtype.as_numpy_dtype)
    if nd.kind in "iu":
        return gen.integers(minval, maxval, size=shape, dtype=nd)
    dd = _draw_dtype(nd)
    u = gen.random(shape, dtype=dd)
    return (u * dd.type(maxval - minval) + dd.type(minval)).astype(nd, copy=False)


@impl(R.truncated_normal_p, "cpu")
def truncated_normal(shape, mean, stddev, dtype, gen):
    nd = np.dtype(dtype.as_numpy_dtype)
    dd = _draw_dtype(nd)
    z = gen.standard_normal(shape, dtype=dd)
    bad = np.abs(z) > 2
    n = int(bad.sum())
    while n:  # each round redraws only the rejected values (about 4.6% of the previous round)
        z[bad] = gen.standard_normal(n, dtype=dd)
        bad = np.abs(z) > 2
        n = int(bad.sum())
    return (z * dd.type(stddev) + dd.type(mean)).astype(nd, copy=False)


@impl(R.random_shuffle_p, "cpu")
def random_shuffle(x, gen):
    if x.ndim == 0:
        return x.copy()
    return x[gen.permutation(x.shape[0])]


@impl(R.categorical_p, "cpu")
def categorical(logits, num_samples, dtype, gen):
    b, k = logits.shape
    # Gumbel-max: argmax(logits + Gumbel noise) is a sample from softmax(logits).
    u = gen.random((b, num_samples, k))
    u = np.maximum(u, np.finfo(np.float64).tiny)
    scores = logits.astype(np.float64)[:, None, :] - np.log(-np.log(u))
    return np.argmax(scores, axis=-1).astype(dtype.as_numpy_dtype)


@impl(R.random_uniform_full_int_p, "cpu")
def random_uniform_full_int(shape, dtype, gen):
    info = np.iinfo(dtype.as_numpy_dtype)
    return gen.integers(info.min, info.max, size=shape, dtype=info.dtype, endpoint=True)
