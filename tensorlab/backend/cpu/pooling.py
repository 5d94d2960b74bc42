"""numpy implementations of the pooling primitives (ops/pooling.py).

Each kernel offset ``(i, j)`` of the window picks one strided slice of the
padded input, holding that offset's cell for every output pixel; pooling
and its gradients are a short loop over the KH*KW offsets, each a whole-array
operation (no ``[.., KH*KW, ..]`` copy of the input).
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import pooling as P


def _pad(x, pads, value):
    pt, pb, pl, pr = pads
    if not (pt or pb or pl or pr):
        return x
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), mode="constant", constant_values=value)


def _out_hw(h, w, ksize, strides, pads):
    return ((h + pads[0] + pads[1] - ksize[0]) // strides[0] + 1,
            (w + pads[2] + pads[3] - ksize[1]) // strides[1] + 1)


def _offsets(ksize, strides, out_hw):
    """``(k, index)`` per window offset, k in row-major order: ``padded[index]`` is ``[N, OH, OW, C]``."""
    (kh, kw), (sh, sw), (oh, ow) = ksize, strides, out_hw
    return [(i * kw + j, (slice(None), slice(i, i + (oh - 1) * sh + 1, sh), slice(j, j + (ow - 1) * sw + 1, sw)))
            for i in range(kh) for j in range(kw)]


def _lowest(dtype):
    return -np.inf if dtype.kind in "fV" else np.iinfo(dtype).min


def _counts(size_hw, ksize, strides, pads, out_hw, dtype):
    """Number of real (non-padding) cells in each window, ``[1, OH, OW, 1]``."""
    per_dim = []
    for i in range(2):
        start = np.arange(out_hw[i]) * strides[i] - pads[2 * i]
        per_dim.append(np.minimum(start + ksize[i], size_hw[i]) - np.maximum(start, 0))
    return (per_dim[0][:, None] * per_dim[1][None, :]).astype(dtype)[None, :, :, None]


def _check_shape(g, shape):
    # Broadcasting would silently accept a wrong gradient; the shape rule explains the error.
    if tuple(g.shape) != tuple(shape):
        raise ValueError(f"gradient shape {g.shape} != {tuple(shape)}")


def _first_max(xp, y, offsets):
    """Offset of the first cell equal to the window's max ``y`` (TF's tie rule)."""
    idx = np.full(y.shape, len(offsets), dtype=np.int32)
    for k, s in reversed(offsets):
        idx = np.where(xp[s] == y, np.int32(k), idx)
    return idx


def _scatter(parts, shape, pads, dtype):
    """Sums ``(index, value)`` parts into a zero padded input and crops the pads."""
    n, h, w, c = shape
    pt, pb, pl, pr = pads
    out = np.zeros((n, h + pt + pb, w + pl + pr, c), dtype=dtype)
    for s, v in parts:
        out[s] += v
    return np.ascontiguousarray(out[:, pt:pt + h, pl:pl + w, :])


def _tiles(x, ksize, out_hw):
    """Non-overlapping windows (stride == ksize, no pads) as a view ``[N, OH, KH, OW, KW, C]``."""
    (kh, kw), (oh, ow) = ksize, out_hw
    return x[:, :oh * kh, :ow * kw, :].reshape(x.shape[0], oh, kh, ow, kw, x.shape[3])


def _disjoint(ksize, strides, pads):
    # The common 2x2/2 pooling: each input cell is in at most one window.
    return tuple(ksize) == tuple(strides) and not any(pads)


@impl(P.max_pool2d_p, "cpu")
def max_pool2d(x, ksize, strides, pads):
    if _disjoint(ksize, strides, pads):
        out_hw = _out_hw(x.shape[1], x.shape[2], ksize, strides, pads)
        v = _tiles(x, ksize, out_hw)
        y = v[:, :, 0, :, 0, :].copy()
        for i in range(ksize[0]):  # elementwise maxima of strided views beat a reduce over axes (2, 4)
            for j in range(ksize[1]):
                if i or j:
                    np.maximum(y, v[:, :, i, :, j, :], out=y)
        return y
    xp = _pad(x, pads, _lowest(x.dtype))
    offs = _offsets(ksize, strides, _out_hw(x.shape[1], x.shape[2], ksize, strides, pads))
    y = xp[offs[0][1]].copy()
    for _, s in offs[1:]:
        np.maximum(y, xp[s], out=y)
    return y


@impl(P.max_pool2d_grad_p, "cpu")
def max_pool2d_grad(x, y, dy, ksize, strides, pads):
    _check_shape(dy, y.shape)
    if _disjoint(ksize, strides, pads):
        (kh, kw), (n, oh, ow, c) = ksize, y.shape
        v = _tiles(x, ksize, (oh, ow))
        taken = np.zeros(y.shape, dtype=bool)
        g = np.zeros((n, oh, kh, ow, kw, c), dtype=dy.dtype)
        for i in range(kh):          # offsets in row-major order: the first maximum wins (TF)
            for j in range(kw):
                first = (v[:, :, i, :, j, :] == y) & ~taken
                np.multiply(dy, first, out=g[:, :, i, :, j, :])
                taken |= first
        g = g.reshape(n, oh * kh, ow * kw, c)
        if g.shape[1:3] == x.shape[1:3]:
            return g
        out = np.zeros(x.shape, dtype=dy.dtype)
        out[:, :oh * kh, :ow * kw, :] = g
        return out
    offs = _offsets(ksize, strides, y.shape[1:3])
    idx = _first_max(_pad(x, pads, _lowest(x.dtype)), y, offs)
    zero = np.zeros((), dtype=dy.dtype)
    return _scatter([(s, np.where(idx == k, dy, zero)) for k, s in offs], x.shape, pads, dy.dtype)


@impl(P.max_pool2d_grad_grad_p, "cpu")
def max_pool2d_grad_grad(x, y, gg, ksize, strides, pads):
    _check_shape(gg, x.shape)
    offs = _offsets(ksize, strides, y.shape[1:3])
    idx = _first_max(_pad(x, pads, _lowest(x.dtype)), y, offs)
    ggp = _pad(gg, pads, 0)
    out = np.zeros(y.shape, dtype=gg.dtype)
    for k, s in offs:
        out = np.where(idx == k, ggp[s], out)
    return out


@impl(P.avg_pool2d_p, "cpu")
def avg_pool2d(x, ksize, strides, pads):
    xp = _pad(x, pads, 0)
    out_hw = _out_hw(x.shape[1], x.shape[2], ksize, strides, pads)
    offs = _offsets(ksize, strides, out_hw)
    total = xp[offs[0][1]].copy()
    for _, s in offs[1:]:
        np.add(total, xp[s], out=total)
    return (total / _counts(x.shape[1:3], ksize, strides, pads, out_hw, x.dtype)).astype(x.dtype, copy=False)


@impl(P.avg_pool2d_grad_p, "cpu")
def avg_pool2d_grad(dy, input_shape, ksize, strides, pads):
    n, h, w, c = input_shape
    out_hw = _out_hw(h, w, ksize, strides, pads)
    _check_shape(dy, (dy.shape[0],) + out_hw + (c,))
    share = (dy / _counts((h, w), ksize, strides, pads, out_hw, dy.dtype)).astype(dy.dtype, copy=False)
    return _scatter([(s, share) for _, s in _offsets(ksize, strides, out_hw)],
                    (dy.shape[0], h, w, c), pads, dy.dtype)
