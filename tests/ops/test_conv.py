"""Convolutions: forward vs a direct loop reference in float64, gradients vs
finite differences, double backward through the three conv primitives,
conv2d_transpose as the adjoint of conv2d, shape rules and error messages."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorlab as tl
from tensorlab.ops import conv as C
from tests.ops.harness import (Case, S, check_forward, check_grad, check_gpu_matches_cpu,
                               check_second, check_shape_rule)


# ----------------------------------------------------------------- direct references
def tf_same_pads(size, k, stride, dilation):
    """TF's SAME rule, written out: out = ceil(size / stride), odd pad cell after."""
    eff = (k - 1) * dilation + 1
    out = (size + stride - 1) // stride
    total = max((out - 1) * stride + eff - size, 0)
    return total // 2, total - total // 2


def ref_pads(x_hw, k_hw, strides, dilations, padding):
    if padding == "VALID":
        return (0, 0, 0, 0)
    if padding == "SAME":
        return tf_same_pads(x_hw[0], k_hw[0], strides[0], dilations[0]) + \
            tf_same_pads(x_hw[1], k_hw[1], strides[1], dilations[1])
    (t, b), (l, r) = padding[-3:-1] if len(padding) == 4 else padding
    return (t, b, l, r)


def ref_conv2d(x, w, strides=(1, 1), padding="VALID", dilations=(1, 1)):
    """Loop over output pixels and kernel taps; grouped when depth > filter in_channels."""
    n, h, wd, c = x.shape
    kh, kw, icg, oc = w.shape
    groups = c // icg
    ocg = oc // groups
    sh, sw = strides
    dh, dw = dilations
    pt, pb, pl, pr = ref_pads((h, wd), (kh, kw), strides, dilations, padding)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh = (h + pt + pb - (kh - 1) * dh - 1) // sh + 1
    ow = (wd + pl + pr - (kw - 1) * dw - 1) // sw + 1
    y = np.zeros((n, oh, ow, oc))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for b in range(kw):
                    patch = xp[:, i * sh + a * dh, j * sw + b * dw, :]
                    for g in range(groups):
                        y[:, i, j, g * ocg:(g + 1) * ocg] += (
                            patch[:, g * icg:(g + 1) * icg] @ w[a, b, :, g * ocg:(g + 1) * ocg])
    return y


def ref_depthwise(x, w, strides, padding, dilations=(1, 1)):
    kh, kw, c, m = w.shape
    out = []
    for ch in range(c):
        out.append(ref_conv2d(x[..., ch:ch + 1], w[:, :, ch:ch + 1, :], strides, padding, dilations))
    return np.concatenate(out, axis=-1)


def ref_conv1d(x, w, stride, padding, dilation=1):
    pad = padding if isinstance(padding, str) else [(0, 0), tuple(padding[0])]
    return ref_conv2d(x[:, None], w[None], (1, stride), pad, (1, dilation))[:, 0]


def _pair(v):
    v = (v, v) if isinstance(v, int) else tuple(v)
    return v[1:3] if len(v) == 4 else v


def _conv_case(name, x, w, strides, padding, dilations=1, **kw):
    s2, d2 = _pair(strides), _pair(dilations)
    return Case(name, lambda a, b: tl.nn.conv2d(a, b, strides, padding, dilations=dilations),
                lambda a, b: ref_conv2d(a, b, s2, padding, d2), [S(x), S(w)], **kw)


CONV = [
    _conv_case("3x3_s1_same", (2, 5, 7, 3), (3, 3, 3, 4), 1, "SAME"),
    _conv_case("3x3_s2_valid", (2, 5, 7, 3), (3, 3, 3, 4), 2, "VALID"),
    _conv_case("2x3_s2_same", (2, 5, 7, 3), (2, 3, 3, 4), [1, 2, 2, 1], "SAME"),
    _conv_case("2x3_s21_valid", (2, 5, 7, 2), (2, 3, 2, 3), (2, 1), "VALID"),
    _conv_case("3x3_dil2_same", (2, 5, 7, 2), (3, 3, 2, 3), 1, "SAME", dilations=2),
    _conv_case("2x3_dil2_s2_valid", (2, 5, 7, 2), (2, 3, 2, 3), 2, "VALID", dilations=[1, 2, 2, 1]),
    _conv_case("groups2_s2_same", (2, 5, 7, 4), (3, 3, 2, 6), 2, "SAME"),
    _conv_case("groups3_valid", (2, 5, 7, 3), (2, 3, 1, 6), 1, "VALID"),
    _conv_case("explicit_pads", (2, 5, 7, 2), (3, 3, 2, 3), 2, [[0, 0], [1, 2], [0, 1], [0, 0]]),
    _conv_case("1x1", (2, 5, 7, 3), (1, 1, 3, 5), 1, "VALID"),
]
OTHERS = [
    Case("depthwise_s1_same", lambda a, b: tl.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], "SAME"),
         lambda a, b: ref_depthwise(a, b, (1, 1), "SAME"), [S((2, 5, 7, 3)), S((3, 3, 3, 2))]),
    Case("depthwise_s2_valid_dil", lambda a, b: tl.nn.depthwise_conv2d(a, b, [1, 2, 2, 1], "VALID",
                                                                       dilations=[1, 2]),
         lambda a, b: ref_depthwise(a, b, (2, 2), "VALID", (1, 2)), [S((2, 5, 7, 2)), S((2, 2, 2, 1))]),
    Case("conv1d_s2_same", lambda a, b: tl.nn.conv1d(a, b, 2, "SAME"),
         lambda a, b: ref_conv1d(a, b, 2, "SAME"), [S((2, 9, 3)), S((3, 3, 4))]),
    Case("conv1d_dil2_valid", lambda a, b: tl.nn.conv1d(a, b, 1, "VALID", dilations=2),
         lambda a, b: ref_conv1d(a, b, 1, "VALID", 2), [S((2, 9, 2)), S((2, 2, 3))]),
    Case("conv1d_explicit_lowercase", lambda a, b: tl.nn.conv1d(a, b, 2, [[1, 2]]),
         lambda a, b: ref_conv1d(a, b, 2, [[1, 2]]), [S((2, 8, 2)), S((3, 2, 3))]),
    Case("conv2d_lowercase_same", lambda a, b: tl.nn.conv2d(a, b, 1, "same"),
         lambda a, b: ref_conv2d(a, b, padding="SAME"), [S((1, 4, 5, 2)), S((2, 2, 2, 2))]),
    Case("separable", lambda a, b, c: tl.nn.separable_conv2d(a, b, c, [1, 1, 1, 1], "SAME"),
         lambda a, b, c: ref_conv2d(ref_depthwise(a, b, (1, 1), "SAME"), c),
         [S((2, 4, 5, 2)), S((3, 3, 2, 2)), S((1, 1, 4, 3))]),
    Case("conv2d_transpose_s2_same",
         lambda y, w: tl.nn.conv2d_transpose(y, w, [2, 5, 7, 3], 2, "SAME"),
         None, [S((2, 3, 4, 4)), S((3, 3, 3, 4))]),
    Case("conv1d_transpose_s2_valid",
         lambda y, w: tl.nn.conv1d_transpose(y, w, [2, 9, 3], 2, "VALID"),
         None, [S((2, 4, 2)), S((3, 3, 2))]),
]
ALL = CONV + OTHERS
FORWARD = [c for c in ALL if c.ref is not None]
# Small shapes for the Hessian checks (finite differences of a gradient per element).
SECOND = [
    _conv_case("second_3x3_s2_same", (1, 4, 5, 2), (3, 3, 2, 2), 2, "SAME"),
    _conv_case("second_groups2_dil2", (1, 5, 4, 2), (2, 2, 1, 2), 1, "VALID", dilations=2),
    Case("second_transpose", lambda y, w: tl.nn.conv2d_transpose(y, w, [1, 4, 5, 2], 2, "SAME"),
         None, [S((1, 2, 3, 2)), S((3, 2, 2, 2))]),
    Case("second_depthwise", lambda a, b: tl.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], "SAME"),
         None, [S((1, 4, 3, 2)), S((2, 2, 2, 1))]),
]


@pytest.mark.parametrize("case", FORWARD, ids=str)
def test_forward(case, rng):
    check_forward(case, rng)


@pytest.mark.parametrize("case", ALL, ids=str)
def test_gradient(case, rng):
    check_grad(case, rng)


@pytest.mark.parametrize("case", SECOND, ids=str)
def test_second_derivative(case, rng):
    check_second(case, rng)


@pytest.mark.parametrize("case", ALL, ids=str)
def test_shape_rule(case, rng):
    check_shape_rule(case, rng)


@pytest.mark.gpu
@pytest.mark.parametrize("case", ALL, ids=str)
def test_gpu_matches_cpu(case, rng):
    check_gpu_matches_cpu(case, rng)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 2), h=st.integers(1, 7), w=st.integers(1, 7), kh=st.integers(1, 3),
       kw=st.integers(1, 3), sh=st.integers(1, 3), sw=st.integers(1, 3), dil=st.integers(1, 2),
       groups=st.sampled_from([1, 2]), padding=st.sampled_from(["SAME", "VALID"]),
       seed=st.integers(0, 2**32 - 1))
def test_random_geometry_matches_reference(n, h, w, kh, kw, sh, sw, dil, groups, padding, seed):
    """Sizes 1..7 with kernels, strides and dilations drawn: forward and gradients vs the reference."""
    eff_h, eff_w = (kh - 1) * dil + 1, (kw - 1) * dil + 1
    if padding == "VALID" and (h < eff_h or w < eff_w):
        with pytest.raises(tl.errors.InvalidArgumentError, match="conv2d.*larger than"):
            tl.nn.conv2d(tl.ones([n, h, w, 2]), tl.ones([kh, kw, 2 // groups, 2]), (sh, sw), padding,
                         dilations=dil)
        return
    case = _conv_case("drawn", (n, h, w, 2), (kh, kw, 2 // groups, 2), (sh, sw), padding, dilations=dil)
    rng = np.random.default_rng(seed)
    check_forward(case, rng, dtypes=("float64",))
    check_grad(case, rng)


# ----------------------------------------------------------------- padding helper vs TF's rule
@pytest.mark.parametrize("size,k,s,d,expect", [
    (5, 3, 2, 1, (3, 1, 1)), (6, 3, 2, 1, (3, 0, 1)), (7, 3, 2, 1, (4, 1, 1)), (4, 2, 2, 1, (2, 0, 0)),
    (5, 2, 1, 1, (5, 0, 1)), (5, 3, 1, 2, (5, 2, 2)), (1, 3, 1, 1, (1, 1, 1)), (5, 1, 3, 1, (2, 0, 0)),
    (10, 4, 3, 1, (4, 1, 2)),
])
def test_compute_padding_same_matches_tf(size, k, s, d, expect):
    assert C.compute_padding("conv2d", size, k, s, d, "SAME") == expect
    assert expect[1:] == tf_same_pads(size, k, s, d)


def test_compute_padding_valid_and_unknown():
    assert C.compute_padding("conv2d", 7, 3, 2, 1, "VALID") == (3, 0, 0)
    assert C.compute_padding("conv2d", 7, 2, 2, 2, "VALID") == (3, 0, 0)
    assert C.compute_padding("conv2d", None, 3, 2, 1, "SAME") == (None, None, None)
    assert C.compute_padding("conv2d", 5, 3, 2, 1, (2, 0)) == (3, 2, 0)


# ----------------------------------------------------------------- transpose = adjoint of conv
@pytest.mark.parametrize("x_shape,w_shape,strides,padding,dil", [
    ((2, 5, 7, 3), (3, 3, 3, 4), 2, "SAME", 1),
    ((2, 6, 7, 3), (2, 3, 3, 4), 2, "VALID", 1),
    ((2, 5, 7, 2), (3, 2, 2, 3), (1, 2), "SAME", 2),
    ((1, 8, 8, 2), (3, 3, 2, 5), 3, "VALID", 1),
])
def test_conv2d_transpose_is_adjoint(rng, x_shape, w_shape, strides, padding, dil):
    x = rng.normal(size=x_shape)
    w = rng.normal(size=w_shape)
    y_shape = tl.nn.conv2d(tl.constant(x), tl.constant(w), strides, padding, dilations=dil).shape
    y = rng.normal(size=tuple(y_shape))
    lhs = np.sum(tl.nn.conv2d(tl.constant(x), tl.constant(w), strides, padding, dilations=dil).numpy() * y)
    xt = tl.nn.conv2d_transpose(tl.constant(y), tl.constant(w), list(x_shape), strides, padding,
                                dilations=dil)
    assert tuple(xt.shape) == x_shape
    np.testing.assert_allclose(lhs, np.sum(x * xt.numpy()), rtol=1e-10)


def test_conv2d_transpose_float32_and_tensor_output_shape(rng):
    y = rng.normal(size=(2, 3, 4, 4)).astype(np.float32)
    w = rng.normal(size=(3, 3, 3, 4)).astype(np.float32)
    out = tl.nn.conv2d_transpose(tl.constant(y), tl.constant(w), tl.constant([2, 6, 8, 3]), [1, 2, 2, 1])
    assert out.dtype == tl.float32 and tuple(out.shape) == (2, 6, 8, 3)
    x = rng.normal(size=(2, 6, 8, 3))
    lhs = np.sum(ref_conv2d(x, w.astype(np.float64), (2, 2), "SAME") * y)
    np.testing.assert_allclose(lhs, np.sum(x * out.numpy()), rtol=1e-4)


# ----------------------------------------------------------------- primitives directly
def test_backprop_primitives_match_the_tape(rng):
    x = tl.constant(rng.normal(size=(2, 5, 7, 4)))
    w = tl.constant(rng.normal(size=(3, 2, 2, 6)))
    p = dict(strides=(2, 1), pads=(1, 1, 0, 1), dilations=(1, 2), groups=2)
    with tl.GradientTape(persistent=True) as tape:
        tape.watch([x, w])
        y = C.conv2d_p(x, w, **p)
        dy = tl.constant(rng.normal(size=tuple(y.shape)))
        obj = tl.reduce_sum(y * dy)
    dx = C.conv2d_backprop_input_p(dy, w, input_shape=(2, 5, 7, 4), **p)
    dw = C.conv2d_backprop_filter_p(x, dy, filter_shape=(3, 2, 2, 6), **p)
    np.testing.assert_allclose(tape.gradient(obj, x).numpy(), dx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tape.gradient(obj, w).numpy(), dw.numpy(), rtol=1e-12)


@pytest.mark.parametrize("which", ["input", "filter"])
def test_backprop_primitive_gradients(rng, which):
    p = dict(strides=(2, 2), pads=(1, 1, 1, 1), dilations=(1, 1), groups=1)
    if which == "input":
        case = Case("bp_input", lambda dy, w: C.conv2d_backprop_input_p(dy, w, input_shape=(1, 4, 5, 2), **p),
                    None, [S((1, 2, 3, 3)), S((3, 3, 2, 3))])
    else:
        case = Case("bp_filter", lambda x, dy: C.conv2d_backprop_filter_p(x, dy, filter_shape=(3, 3, 2, 3), **p),
                    None, [S((1, 4, 5, 2)), S((1, 2, 3, 3))])
    check_grad(case, rng)
    check_second(case, rng)


# ----------------------------------------------------------------- symbolic shapes
def test_symbolic_unknown_batch_and_size():
    x = tl.SymbolicTensor([None, 9, None, 4])
    y = tl.nn.conv2d(x, tl.ones([3, 3, 4, 8]), 2, "SAME")
    assert tuple(y.shape) == (None, 5, None, 8)
    y = tl.nn.conv2d(x, tl.ones([3, 3, 2, 8]), 1, "VALID")
    assert tuple(y.shape) == (None, 7, None, 8)
    y1 = tl.nn.conv1d(tl.SymbolicTensor([None, 9, 4]), tl.ones([3, 4, 2]), 2, "VALID")
    assert tuple(y1.shape) == (None, 4, 2)
    yt = tl.nn.conv2d_transpose(tl.SymbolicTensor([None, 3, 4, 8]), tl.ones([3, 3, 2, 8]),
                                [None, 6, 8, 2], 2, "SAME")
    assert tuple(yt.shape) == (None, 6, 8, 2)
    yd = tl.nn.depthwise_conv2d(tl.SymbolicTensor([None, 5, 5, 3]), tl.ones([3, 3, 3, 2]), [1, 1, 1, 1], "SAME")
    assert tuple(yd.shape) == (None, 5, 5, 6)


def test_convolution_dispatches_on_rank(rng):
    x = rng.normal(size=(2, 6, 5, 3))
    w = rng.normal(size=(2, 2, 3, 2))
    np.testing.assert_allclose(tl.nn.convolution(tl.constant(x), tl.constant(w), padding="SAME").numpy(),
                               ref_conv2d(x, w, padding="SAME"), rtol=1e-10)
    x1, w1 = rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 3, 2))
    np.testing.assert_allclose(tl.nn.convolution(tl.constant(x1), tl.constant(w1)).numpy(),
                               ref_conv1d(x1, w1, 1, "VALID"), rtol=1e-10)


# ----------------------------------------------------------------- errors
def test_error_channel_mismatch_names_both_shapes():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"conv2d.*\[2,5,7,3\].*\[3,3,2,4\]"):
        tl.nn.conv2d(tl.ones([2, 5, 7, 3]), tl.ones([3, 3, 2, 4]), 1, "SAME")


def test_error_channel_mismatch_in_primitive_rule():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"conv2d.*depth 4.*\[1,5,5,4\].*\[3,3,2,4\]"):
        C.conv2d_p(tl.ones([1, 5, 5, 4]), tl.ones([3, 3, 2, 4]), strides=(1, 1), pads=(0, 0, 0, 0),
                   dilations=(1, 1), groups=1)


def test_error_depthwise_channel_mismatch():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"depthwise_conv2d.*\[1,5,5,3\].*\[3,3,4,1\]"):
        tl.nn.depthwise_conv2d(tl.ones([1, 5, 5, 3]), tl.ones([3, 3, 4, 1]), [1, 1, 1, 1], "SAME")


def test_error_bad_padding_string():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"conv2d.*padding.*'FULL'"):
        tl.nn.conv2d(tl.ones([1, 5, 5, 1]), tl.ones([3, 3, 1, 1]), 1, "FULL")


def test_error_kernel_larger_than_valid_input():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"conv2d.*window.*5.*larger.*input \(4"):
        tl.nn.conv2d(tl.ones([1, 4, 9, 1]), tl.ones([5, 3, 1, 1]), 1, "VALID")


def test_error_kernel_larger_than_valid_input_symbolic():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"conv1d.*larger"):
        tl.nn.conv1d(tl.SymbolicTensor([None, 2, 3]), tl.ones([3, 3, 2]), 1, "VALID")


def test_error_nchw_is_not_supported():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"conv2d.*NCHW.*NHWC"):
        tl.nn.conv2d(tl.ones([1, 3, 5, 5]), tl.ones([3, 3, 3, 1]), 1, "SAME", data_format="NCHW")


def test_error_bad_strides_and_rank():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"conv2d.*strides.*\[2, 2, 2, 1\]"):
        tl.nn.conv2d(tl.ones([1, 5, 5, 1]), tl.ones([3, 3, 1, 1]), [2, 2, 2, 1], "SAME")
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"conv2d.*rank-4.*\[5,5,1\]"):
        tl.nn.conv2d(tl.ones([5, 5, 1]), tl.ones([3, 3, 1, 1]), 1, "SAME")


def test_error_transpose_output_shape_mismatch():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"conv2d_backprop_input.*dy shape \[1,3,3,4\]"):
        tl.nn.conv2d_transpose(tl.ones([1, 3, 3, 4]), tl.ones([3, 3, 2, 4]), [1, 9, 9, 2], 2, "SAME")


def test_error_int_input():
    with pytest.raises(TypeError, match="conv2d.*int32"):
        tl.nn.conv2d(tl.ones([1, 5, 5, 1], dtype=tl.int32), tl.ones([3, 3, 1, 1], dtype=tl.int32), 1, "SAME")
