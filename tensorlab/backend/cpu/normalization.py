"""numpy implementations of the fused normalization primitives (ops/normalization.py).

Each works on a 2-D view (rows x features) with in-place updates of its own temporaries, so a
call makes a few passes over the data and few allocations. float16/bfloat16 inputs are
normalized in float32 and the results cast back; the statistics (mean, rstd / var) are returned
in the input's dtype, as the GPU kernels return them.
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import normalization as N


def _acc(x):
    return x.astype(np.float32) if x.dtype.itemsize < 4 else x


def _rows(x):
    x = _acc(x)
    return x.reshape(-1, x.shape[-1]) if x.ndim else x.reshape(1, 1)


def _out(a, like):
    return a.reshape(like.shape).astype(like.dtype, copy=False)


# Sums along one axis of a 2-D array as BLAS matrix-vector products: several times faster
# than np.sum over the outer axis of a tall array.
def _colsum(a):
    return np.ones(a.shape[0], a.dtype) @ a


def _rowsum(a):
    return a @ np.ones(a.shape[1], a.dtype)


@impl(N.layer_norm_p, "cpu")
def layer_norm(x, gamma, beta, epsilon):
    x2 = _rows(x)
    c = x2.shape[1]
    mean = _rowsum(x2) / c
    d = x2 - mean[:, None]
    var = np.einsum("ij,ij->i", d, d) / c
    rstd = 1.0 / np.sqrt(var + np.asarray(epsilon, x2.dtype))
    d *= rstd[:, None]
    d *= _acc(gamma)
    d += _acc(beta)
    lead = x.shape[:-1]
    return _out(d, x), mean.reshape(lead).astype(x.dtype), rstd.reshape(lead).astype(x.dtype)


@impl(N.layer_norm_grad_p, "cpu")
def layer_norm_grad(dy, x, gamma, mean, rstd, epsilon):
    x2, dy2 = _rows(x), _rows(dy)
    c = x2.shape[1]
    r = _acc(rstd).reshape(-1, 1)
    xhat = x2 - _acc(mean).reshape(-1, 1)
    xhat *= r
    dgamma = np.einsum("ij,ij->j", dy2, xhat)
    dbeta = _colsum(dy2)
    g = dy2 * _acc(gamma)
    # dx = rstd * (g - mean(g) - xhat * mean(g * xhat)), means over the features
    mg = _rowsum(g)[:, None] / c
    mgx = np.einsum("ij,ij->i", g, xhat)[:, None] / c
    g -= mg
    xhat *= mgx
    g -= xhat
    g *= r
    return _out(g, x), dgamma.astype(x.dtype), dbeta.astype(x.dtype)


@impl(N.batch_norm_p, "cpu")
def batch_norm(x, gamma, beta, epsilon):
    x2 = _rows(x)
    m = x2.shape[0]
    mean = _colsum(x2) / m
    d = x2 - mean
    var = np.einsum("ij,ij->j", d, d) / m
    scale = _acc(gamma) / np.sqrt(var + np.asarray(epsilon, x2.dtype))
    d *= scale
    d += _acc(beta)
    return _out(d, x), mean.astype(x.dtype), var.astype(x.dtype)


@impl(N.batch_norm_grad_p, "cpu")
def batch_norm_grad(dy, x, gamma, mean, var, epsilon):
    x2, dy2 = _rows(x), _rows(dy)
    m = x2.shape[0]
    rstd = 1.0 / np.sqrt(_acc(var) + np.asarray(epsilon, x2.dtype))
    xhat = x2 - _acc(mean)
    xhat *= rstd
    dbeta = _colsum(dy2)
    dgamma = np.einsum("ij,ij->j", dy2, xhat)
    # dx = gamma * rstd * (dy - dbeta / m - xhat * dgamma / m)
    a = _acc(gamma) * rstd
    dx = dy2 * a
    xhat *= a * dgamma / m
    dx -= xhat
    dx -= a * dbeta / m
    return _out(dx, x), dgamma.astype(x.dtype), dbeta.astype(x.dtype)
