"""3-D convolution and pooling (tf.nn.conv3d, max_pool3d, avg_pool3d): forward vs direct float64
loops, gradients vs finite differences, second derivatives, GPU vs CPU, tie-breaking and errors."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import Case, S, op_tests


def _same(size, k, s, d=1):
    eff = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + eff - size, 0)
    return total // 2, total - total // 2


def _pads(shape, k, s, d, padding):
    if padding == "VALID":
        return [(0, 0)] * 3
    if padding == "SAME":
        return [_same(shape[i], k[i], s[i], d[i]) for i in range(3)]
    return [tuple(p) for p in (padding[1:4] if len(padding) == 5 else padding)]


def _triple(v):
    v = (v,) * 3 if isinstance(v, int) else tuple(v)
    return v[1:4] if len(v) == 5 else v


def ref_conv3d(x, w, strides, padding, dilations=1):
    """Sum over kernel taps of strided input slices times the tap's [in, out] matrix (grouped
    when the input depth is a multiple of the filter's in_channels)."""
    s, d = _triple(strides), _triple(dilations)
    kd, kh, kw, icg, oc = w.shape
    groups, ocg = x.shape[-1] // icg, oc // (x.shape[-1] // icg)
    p = _pads(x.shape[1:4], (kd, kh, kw), s, d, padding)
    xp = np.pad(x, [(0, 0)] + p + [(0, 0)])
    out = [(xp.shape[1 + i] - ((w.shape[i] - 1) * d[i] + 1)) // s[i] + 1 for i in range(3)]
    y = np.zeros((x.shape[0], *out, oc))
    for a in range(kd):
        for b in range(kh):
            for c in range(kw):
                sl = xp[:, a * d[0]::s[0], b * d[1]::s[1], c * d[2]::s[2]][:, :out[0], :out[1], :out[2]]
                for g in range(groups):
                    y[..., g * ocg:(g + 1) * ocg] += sl[..., g * icg:(g + 1) * icg] @ w[a, b, c, :, g * ocg:(g + 1) * ocg]
    return y


def ref_conv3d_transpose(y, w, out_shape, strides, padding, dilations=1):
    """The adjoint of ref_conv3d: every output cell's value times each tap's [in, out]
    matrix, added back onto the input cells that tap read (filters [kd, kh, kw, out, in])."""
    s, d = _triple(strides), _triple(dilations)
    kd, kh, kw = w.shape[:3]
    p = _pads(out_shape[1:4], (kd, kh, kw), s, d, padding)
    xp = np.zeros((out_shape[0],) + tuple(out_shape[1 + i] + sum(p[i]) for i in range(3)) + (out_shape[4],))
    od, oh, ow = y.shape[1:4]
    for a in range(kd):
        for b in range(kh):
            for c in range(kw):
                xp[:, a * d[0]:a * d[0] + (od - 1) * s[0] + 1:s[0], b * d[1]:b * d[1] + (oh - 1) * s[1] + 1:s[1],
                   c * d[2]:c * d[2] + (ow - 1) * s[2] + 1:s[2]] += y @ w[a, b, c].T
    return xp[:, p[0][0]:p[0][0] + out_shape[1], p[1][0]:p[1][0] + out_shape[2], p[2][0]:p[2][0] + out_shape[3]]


def ref_pool3d(x, ksize, strides, padding, mode):
    k, s = _triple(ksize), _triple(strides)
    p = _pads(x.shape[1:4], k, s, (1, 1, 1), padding)
    xp = np.pad(x, [(0, 0)] + p + [(0, 0)], constant_values=np.nan)  # padding: not a cell
    out = [(xp.shape[1 + i] - k[i]) // s[i] + 1 for i in range(3)]
    y = np.zeros((x.shape[0], *out, x.shape[-1]))
    for i in range(out[0]):
        for j in range(out[1]):
            for m in range(out[2]):
                win = xp[:, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1], m * s[2]:m * s[2] + k[2]]
                y[:, i, j, m] = np.nanmax(win, axis=(1, 2, 3)) if mode == "max" else np.nanmean(win, axis=(1, 2, 3))
    return y


def _conv(name, x, w, strides, padding, dilations=1, second=False):
    return Case(name, lambda a, b: tl.nn.conv3d(a, b, strides, padding, dilations=dilations),
                lambda a, b: ref_conv3d(a, b, strides, padding, dilations), [S(x), S(w)], second=second)


def _transpose(name, y, w, out_shape, strides, padding, dilations=1, second=False):
    return Case(name, lambda a, b: tl.nn.conv3d_transpose(a, b, out_shape, strides, padding, dilations=dilations),
                lambda a, b: ref_conv3d_transpose(a, b, out_shape, strides, padding, dilations), [S(y), S(w)],
                second=second)


def _pool(mode, x, ksize, strides, padding, second=False):
    fn = tl.nn.max_pool3d if mode == "max" else tl.nn.avg_pool3d
    return Case(f"{mode}_pool3d_k{ksize}_s{strides}_{padding}", lambda a: fn(a, ksize, strides, padding),
                lambda a: ref_pool3d(a, ksize, strides, padding, mode), [S(x)], second=second)


CASES = [
    _conv("conv3d_3x3x3_s1_same", (2, 4, 5, 4, 2), (3, 3, 3, 2, 3), 1, "SAME"),
    _conv("conv3d_s2_valid", (1, 5, 6, 5, 2), (2, 3, 2, 2, 3), [1, 2, 2, 1, 1], "VALID"),
    _conv("conv3d_dilated_same", (1, 5, 5, 4, 2), (2, 2, 2, 2, 2), 1, "SAME", dilations=(2, 1, 2)),
    _conv("conv3d_groups2_s2_same", (1, 5, 4, 4, 4), (3, 2, 2, 2, 4), 2, "SAME"),
    _conv("conv3d_explicit_pads", (1, 4, 4, 3, 2), (2, 3, 2, 2, 2), (1, 2, 1),
          [[0, 0], [1, 0], [2, 1], [0, 1], [0, 0]]),
    _transpose("conv3d_transpose_s2_same", (2, 3, 3, 4, 3), (3, 2, 3, 2, 3), (2, 5, 6, 7, 2), (2, 2, 2), "SAME"),
    _transpose("conv3d_transpose_dilated_valid", (1, 4, 2, 3, 2), (2, 3, 2, 3, 2), (1, 6, 5, 4, 3), (1, 2, 1),
               "VALID", dilations=(2, 1, 1)),
    _transpose("conv3d_transpose_s3_explicit", (1, 2, 3, 5, 2), (2, 2, 2, 3, 2), (1, 5, 5, 4, 3), (3, 2, 1),
               [[1, 0], [0, 1], [1, 1]]),
    _pool("max", (2, 5, 6, 4, 2), (2, 3, 2), (2, 2, 1), "SAME"),
    _pool("max", (1, 4, 5, 5, 2), 2, 2, "VALID"),
    _pool("avg", (2, 5, 6, 4, 2), (3, 2, 2), (2, 1, 2), "SAME"),
    _pool("avg", (1, 4, 5, 5, 2), (2, 2, 3), 1, "VALID"),
    # small ones for the second derivatives too
    _conv("second_conv3d", (1, 3, 3, 3, 1), (2, 2, 2, 1, 2), 1, "SAME", second=True),
    _pool("avg", (1, 3, 4, 3, 1), 2, 1, "SAME", second=True),
    _transpose("second_conv3d_transpose", (1, 2, 2, 2, 1), (2, 2, 2, 1, 1), (1, 3, 3, 3, 1), 1, "VALID", second=True),
]
globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU vs CPU


def test_max_pool3d_gradient_goes_to_the_first_maximum():
    """Ties in a window: the first maximal cell in (depth, height, width) order takes it all, as in TF."""
    x = np.zeros((1, 2, 2, 2, 1), np.float32)
    x[0, 1, 0, 0, 0] = x[0, 0, 1, 1, 0] = x[0, 1, 1, 0, 0] = 5.0  # the first in row-major order: (0, 1, 1)
    xt = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(xt)
        y = tl.nn.max_pool3d(xt, 2, 2, "VALID")
    g = tape.gradient(y, xt).numpy()
    expected = np.zeros_like(x)
    expected[0, 0, 1, 1, 0] = 1.0
    np.testing.assert_array_equal(g, expected)
    assert float(y.numpy().ravel()[0]) == 5.0


def test_integer_max_pool3d_with_padding():
    x = np.arange(-40, 14, dtype=np.int32).reshape(1, 3, 3, 3, 2)
    y = tl.nn.max_pool3d(tl.constant(x), 2, 2, "SAME")
    assert y.dtype == tl.int32
    np.testing.assert_array_equal(y.numpy(), ref_pool3d(x.astype(np.float64), 2, 2, "SAME", "max"))


def test_errors_name_the_op_and_the_shapes():
    x = tl.zeros((1, 4, 4, 4, 2))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"conv3d: expected a rank-5 NDHWC input.*\[2,3,3,2\]"):
        tl.nn.conv3d(x, tl.zeros((2, 3, 3, 2)), 1, "SAME")
    with pytest.raises(tl.errors.InvalidArgumentError, match="conv3d: input depth 2 .* filter"):
        tl.nn.conv3d(x, tl.zeros((1, 1, 1, 3, 4)), 1, "SAME")
    with pytest.raises(TypeError, match="conv3d: input #1 has dtype float64 but input #0 has dtype float32"):
        tl.nn.conv3d(x, tl.zeros((1, 1, 1, 2, 4), dtype="float64"), 1, "SAME")
    with pytest.raises(tl.errors.InvalidArgumentError, match="conv3d: out_channels 3 .* not a multiple of groups 2"):
        tl.nn.conv3d(x, tl.zeros((1, 1, 1, 1, 3)), 1, "SAME")
    with pytest.raises(tl.errors.InvalidArgumentError, match="conv3d: data_format 'NCDHW' is not supported"):
        tl.nn.conv3d(x, tl.zeros((1, 1, 1, 2, 4)), 1, "SAME", data_format="NCDHW")
    with pytest.raises(tl.errors.InvalidArgumentError, match="max_pool3d: input must have rank 5"):
        tl.nn.max_pool3d(tl.zeros((1, 4, 4, 2)), 2, 2, "SAME")
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"conv3d_transpose: conv3d of output_shape "
                                                             r"\[1, 5, 4, 4, 2\].*not the input's \[4, 4, 4\]"):
        tl.nn.conv3d_transpose(x, tl.zeros((2, 2, 2, 2, 2)), [1, 5, 4, 4, 2], 1, "SAME")
    assert tl.nn.convolution(x, tl.zeros((2, 2, 2, 2, 3)), padding="SAME").shape == (1, 4, 4, 4, 3)
    assert tl.nn.max_pool(x, 2, 2, "VALID").shape == (1, 2, 2, 2, 2)
