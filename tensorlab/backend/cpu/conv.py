"""numpy implementations of the convolution primitives (ops/conv.py).

im2col: a strided view ``[N, OH, OW, KH, KW, C]`` of the padded input, copied
once into a matrix and multiplied with the filter matrix (one ``matmul``,
batched over groups). col2im sums the column gradient back into the padded
input with one strided slice-add per kernel offset (KH*KW adds).
"""
import collections
import weakref

import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import conv as C


def _pad(x, pads, value=0):
    pt, pb, pl, pr = pads
    if not (pt or pb or pl or pr):
        return x
    return np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)), mode="constant", constant_values=value)


def windows(xp, k_hw, out_hw, strides, dilations):
    """A view ``[N, OH, OW, KH, KW, C]`` of the windows of padded ``xp``."""
    n, _, _, c = xp.shape
    sn, sh, sw, sc = xp.strides
    shape = (n, out_hw[0], out_hw[1], k_hw[0], k_hw[1], c)
    st = (sn, sh * strides[0], sw * strides[1], sh * dilations[0], sw * dilations[1], sc)
    # Never written through (CuPy's as_strided has no writeable flag).
    return np.lib.stride_tricks.as_strided(xp, shape=shape, strides=st)


def col2im(cols, padded_hw, strides, dilations, pads, dtype):
    """Sums ``cols`` ``[N, OH, OW, KH, KW, C]`` into the padded input and crops the pads."""
    n, oh, ow, kh, kw, c = cols.shape
    hp, wp = padded_hw
    sh, sw = strides
    dh, dw = dilations
    out = np.zeros((n, hp, wp, c), dtype=dtype)
    for i in range(kh):
        for j in range(kw):
            r, q = i * dh, j * dw
            out[:, r:r + (oh - 1) * sh + 1:sh, q:q + (ow - 1) * sw + 1:sw, :] += cols[:, :, :, i, j, :]
    pt, pb, pl, pr = pads
    return out[:, pt:hp - pb, pl:wp - pr, :]


def _out_hw(h, w, kh, kw, strides, pads, dilations):
    oh = (h + pads[0] + pads[1] - (kh - 1) * dilations[0] - 1) // strides[0] + 1
    ow = (w + pads[2] + pads[3] - (kw - 1) * dilations[1] - 1) // strides[1] + 1
    return oh, ow


def _check_dy(dy, input_shape, kh, kw, strides, pads, dilations):
    # Slicing would silently accept a wrong dy; the shape rule explains the error.
    if tuple(dy.shape[1:3]) != _out_hw(input_shape[1], input_shape[2], kh, kw, strides, pads, dilations):
        raise ValueError("dy does not have the conv2d output shape")


_COLS = collections.OrderedDict()  # id(x) -> (weakref to x, geometry, columns, out_hw)
_COLS_MAX = 4


def _cached_im2col(x, kh, kw, strides, pads, dilations, groups):
    """``_im2col`` remembered for the last few inputs: a training step's filter
    gradient reuses the columns its forward pass built from the same input."""
    key = id(x)
    geom = (kh, kw, tuple(strides), tuple(pads), tuple(dilations), groups)
    hit = _COLS.get(key)
    if hit is not None and hit[0]() is x and hit[1] == geom:
        _COLS.move_to_end(key)
        return hit[2], hit[3]
    cols, out_hw = _im2col(x, kh, kw, strides, pads, dilations, groups)
    try:
        _COLS[key] = (weakref.ref(x), geom, cols, out_hw)
    except TypeError:  # an array type without weak references: just don't cache
        return cols, out_hw
    while len(_COLS) > _COLS_MAX:
        _COLS.popitem(last=False)
    return cols, out_hw


def _im2col(x, kh, kw, strides, pads, dilations, groups):
    """Columns ``[G, M, KH*KW*ICg]`` (M = N*OH*OW) of input ``x``, and (OH, OW)."""
    n, h, w, c = x.shape
    oh, ow = _out_hw(h, w, kh, kw, strides, pads, dilations)
    win = windows(_pad(x, pads), (kh, kw), (oh, ow), strides, dilations)
    m = n * oh * ow
    if groups == 1:
        return win.reshape(1, m, kh * kw * c), (oh, ow)
    icg = c // groups
    cols = win.reshape(n, oh, ow, kh, kw, groups, icg).transpose(5, 0, 1, 2, 3, 4, 6)
    return cols.reshape(groups, m, kh * kw * icg), (oh, ow)


def _filter_matrix(w, groups):
    """HWIO filters as ``[G, KH*KW*ICg, OCg]``."""
    kh, kw, icg, oc = w.shape
    ocg = oc // groups
    return w.reshape(kh * kw * icg, groups, ocg).transpose(1, 0, 2)


def _group_rows(y, groups):
    """``[N, OH, OW, OC]`` as ``[G, M, OCg]``."""
    oc = y.shape[-1]
    return y.reshape(-1, groups, oc // groups).transpose(1, 0, 2)


_HOST_ARRAY = np.ndarray  # bound at import: stays numpy's in the CuPy mirror
_F16 = np.dtype(np.float16)


def _matmul(a, b, dtype):
    """``np.matmul(a, b)`` as ``dtype``. numpy has no BLAS for float16 (about 100x slower
    than float32), so host float16 operands are multiplied in float32 and the result
    rounded once, as tensor cores do; bfloat16 products come back as float32."""
    if a.dtype == _F16 and isinstance(a, _HOST_ARRAY):
        a, b = a.astype(np.float32), b.astype(np.float32)
    return np.matmul(a, b).astype(dtype, copy=False)


@impl(C.conv2d_p, "cpu")
def conv2d(x, w, strides, pads, dilations, groups):
    kh, kw, _, oc = w.shape
    cols, (oh, ow) = _cached_im2col(x, kh, kw, strides, pads, dilations, groups)
    y = _matmul(cols, _filter_matrix(w, groups), x.dtype)   # [G, M, OCg]
    return np.ascontiguousarray(y.transpose(1, 0, 2)).reshape(x.shape[0], oh, ow, oc)


@impl(C.conv2d_backprop_input_p, "cpu")
def conv2d_backprop_input(dy, w, input_shape, strides, pads, dilations, groups):
    kh, kw, icg, oc = w.shape
    n = dy.shape[0]
    _, h, wd, c = input_shape
    _, oh, ow, _ = dy.shape
    _check_dy(dy, input_shape, kh, kw, strides, pads, dilations)
    wt = _filter_matrix(w, groups).transpose(0, 2, 1)
    dcols = _matmul(_group_rows(dy, groups), wt, dy.dtype)
    # [G, M, KH*KW*ICg] -> [N, OH, OW, KH, KW, G*ICg]
    dcols = dcols.reshape(groups, n, oh, ow, kh, kw, icg).transpose(1, 2, 3, 4, 5, 0, 6)
    dcols = dcols.reshape(n, oh, ow, kh, kw, groups * icg)
    hp, wp = h + pads[0] + pads[1], wd + pads[2] + pads[3]
    return np.ascontiguousarray(col2im(dcols, (hp, wp), strides, dilations, pads, dy.dtype))


@impl(C.conv2d_backprop_filter_p, "cpu")
def conv2d_backprop_filter(x, dy, filter_shape, strides, pads, dilations, groups):
    kh, kw, icg, oc = filter_shape
    _check_dy(dy, x.shape, kh, kw, strides, pads, dilations)
    cols, _ = _cached_im2col(x, kh, kw, strides, pads, dilations, groups)
    dw = _matmul(cols.transpose(0, 2, 1), _group_rows(dy, groups), x.dtype)  # [G, K, OCg]
    return np.ascontiguousarray(dw.transpose(1, 0, 2)).reshape(kh, kw, icg, oc)
