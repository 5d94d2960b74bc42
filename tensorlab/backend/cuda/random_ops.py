"""CuPy implementations of the random primitives (ops/random_ops.py).

numpy's ``Generator`` cannot run on a GPU, so these are written for CuPy's
``RandomState`` (cuRAND), one per GPU, made by ``make_generator``.
"""
import cupy as cp
import numpy as _np

from tensorlab.core.registry import impl
from tensorlab.ops import random_ops as R

_REASON = "cuRAND through cupy.random.RandomState"


@R.generator_factory("cuda")
def make_generator(seed):
    return cp.random.RandomState(seed % (2 ** 63))


def _draw_dtype(nd):
    return nd if nd in (_np.float32, _np.float64) else _np.dtype(_np.float32)


@impl(R.random_normal_p, "cuda", fallback=_REASON)
def random_normal(shape, mean, stddev, dtype, gen):
    nd = _np.dtype(dtype.as_numpy_dtype)
    dd = _draw_dtype(nd)
    z = gen.standard_normal(shape, dtype=dd)
    return (z * dd.type(stddev) + dd.type(mean)).astype(nd, copy=False)


@impl(R.random_uniform_p, "cuda", fallback=_REASON)
def random_uniform(shape, minval, maxval, dtype, gen):
    nd = _np.dtype(dtype.as_numpy_dtype)
    if nd.kind in "iu":
        return gen.randint(minval, maxval, size=shape, dtype=nd)
    dd = _draw_dtype(nd)
    u = gen.random_sample(shape, dtype=dd)
    return (u * dd.type(maxval - minval) + dd.type(minval)).astype(nd, copy=False)


@impl(R.truncated_normal_p, "cuda", fallback=_REASON)
def truncated_normal(shape, mean, stddev, dtype, gen):
    nd = _np.dtype(dtype.as_numpy_dtype)
    dd = _draw_dtype(nd)
    z = gen.standard_normal(shape, dtype=dd)
    bad = cp.abs(z) > 2
    n = int(bad.sum())
    while n:
        z[bad] = gen.standard_normal((n,), dtype=dd)
        bad = cp.abs(z) > 2
        n = int(bad.sum())
    return (z * dd.type(stddev) + dd.type(mean)).astype(nd, copy=False)


@impl(R.random_shuffle_p, "cuda", fallback=_REASON)
def random_shuffle(x, gen):
    if x.ndim == 0:
        return x.copy()
    return x[gen.permutation(x.shape[0])]


@impl(R.categorical_p, "cuda", fallback=_REASON)
def categorical(logits, num_samples, dtype, gen):
    b, k = logits.shape
    u = gen.random_sample((b, num_samples, k), dtype=_np.float64)
    u = cp.maximum(u, _np.finfo(_np.float64).tiny)
    scores = logits.astype(cp.float64)[:, None, :] - cp.log(-cp.log(u))
    return cp.argmax(scores, axis=-1).astype(dtype.as_numpy_dtype)


@impl(R.random_uniform_full_int_p, "cuda", fallback=_REASON)
def random_uniform_full_int(shape, dtype, gen):
    nd = _np.dtype(dtype.as_numpy_dtype)
    # Drawn in 32-bit halves: a range of at most 2**32 values takes CuPy's plain 32-bit integer path.
    lo = gen.randint(0, 2 ** 32, size=shape, dtype=_np.uint64)
    if nd.itemsize == 4:
        return lo.astype(_np.uint32).view(nd)
    hi = gen.randint(0, 2 ** 32, size=shape, dtype=_np.uint64)
    return ((hi << _np.uint64(32)) | lo).view(nd)
