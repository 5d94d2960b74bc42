"""Reductions: forward vs numpy float64, gradients vs finite differences (ties
and zeros included), second derivatives, shape rules, hypothesis-drawn
shapes and axes, integer/bool dtypes, error messages, GPU vs CPU."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorlab as tl
from tests.ops.harness import Case, S, assert_close, check_forward, check_grad, check_shape_rule, op_tests


def _ax(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _np_red(f):
    return lambda x, axis=None, keepdims=False: f(x, axis=_ax(axis), keepdims=keepdims)


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=_ax(axis), keepdims=True)
    r = np.log(np.sum(np.exp(x - m), axis=_ax(axis), keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=_ax(axis) if axis is not None else None)


def _cumsum(x, axis=0, exclusive=False, reverse=False):
    if reverse:
        x = np.flip(x, axis)
    y = np.cumsum(x, axis=axis)
    if exclusive:
        y = y - x
    return np.flip(y, axis) if reverse else y


NP_REF = {
    "reduce_sum": (tl.reduce_sum, _np_red(np.sum)),
    "reduce_mean": (tl.reduce_mean, _np_red(np.mean)),
    "reduce_max": (tl.reduce_max, _np_red(np.max)),
    "reduce_min": (tl.reduce_min, _np_red(np.min)),
    "reduce_prod": (tl.reduce_prod, _np_red(np.prod)),
    "reduce_logsumexp": (tl.reduce_logsumexp, _logsumexp),
    "reduce_variance": (tl.math.reduce_variance, _np_red(np.var)),
    "reduce_std": (tl.math.reduce_std, _np_red(np.std)),
    "reduce_euclidean_norm": (tl.math.reduce_euclidean_norm,
                              lambda x, axis=None, keepdims=False: np.sqrt(np.sum(x * x, _ax(axis), keepdims=keepdims))),
}


def _case(name, shape=(3, 4), low=-2.0, high=2.0, second=True, **kw):
    fn, ref = NP_REF[name]
    tag = ",".join(f"{k}={v}" for k, v in kw.items())
    return Case(f"{name}[{tag}]", fn, ref, [S(shape, low=low, high=high)], kwargs=kw, second=second)


CASES = [
    _case("reduce_sum"), _case("reduce_sum", axis=1), _case("reduce_sum", axis=[0, -1], keepdims=True),
    _case("reduce_mean"), _case("reduce_mean", axis=-1, keepdims=True), _case("reduce_mean", shape=(2, 3, 2), axis=[0, 2]),
    _case("reduce_max", axis=1), _case("reduce_max", shape=(2, 3, 2), axis=[0, 2], keepdims=True),
    _case("reduce_min"), _case("reduce_min", axis=0),
    _case("reduce_prod", low=0.5, high=1.5), _case("reduce_prod", axis=1),
    _case("reduce_prod", shape=(2, 3, 2), axis=[1, 2], keepdims=True),
    _case("reduce_logsumexp"), _case("reduce_logsumexp", axis=1), _case("reduce_logsumexp", axis=0, keepdims=True),
    _case("reduce_logsumexp", shape=(2, 3, 4), axis=-1, keepdims=True), _case("reduce_logsumexp", shape=(5,)),
    _case("reduce_variance"), _case("reduce_variance", axis=1, keepdims=True),
    _case("reduce_std", axis=0), _case("reduce_euclidean_norm", axis=1),
    Case("cumsum[axis=1]", tl.cumsum, _cumsum, [S((3, 4))], kwargs={"axis": 1}),
    Case("cumsum[exclusive]", tl.cumsum, _cumsum, [S((4, 3))], kwargs={"exclusive": True}),
    Case("cumsum[reverse,axis=-1]", tl.cumsum, _cumsum, [S((3, 4))], kwargs={"axis": -1, "reverse": True}),
    Case("cumsum[exclusive,reverse]", tl.math.cumsum, _cumsum, [S((2, 5))],
         kwargs={"axis": 1, "exclusive": True, "reverse": True}),
]


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


@st.composite
def shape_and_axis(draw):
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=3)))
    nd = len(shape)
    kind = draw(st.sampled_from(["none", "int", "list"])) if nd else "none"
    if kind == "none":
        axis = None
    elif kind == "int":
        axis = draw(st.integers(-nd, nd - 1))
    else:
        axis = draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd))
        axis = [a - nd if draw(st.booleans()) else a for a in axis]
    return shape, axis


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sa=shape_and_axis(), keepdims=st.booleans(), seed=st.integers(0, 2**32 - 1),
       name=st.sampled_from(["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
                             "reduce_logsumexp", "reduce_variance"]))
def test_drawn_shapes_and_axes(sa, keepdims, seed, name):
    """Any shape (size-1 dims, scalars), axis form and keepdims: values and gradients."""
    shape, axis = sa
    rng = np.random.default_rng(seed)
    case = _case(name, shape=shape, low=0.5 if name == "reduce_prod" else -2.0, axis=axis, keepdims=keepdims)
    check_forward(case, rng, dtypes=("float64",))
    check_grad(case, rng)
    check_shape_rule(case, rng)


# ----------------------------------------------------------------- exact gradient semantics
def _grad(f, x):
    x = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return tape.gradient(y, x).numpy()


def test_max_ties_share_gradient_equally(rng):
    v = rng.uniform(1, 2)
    x = np.array([[v, 0.1, v, v], [0.3, -v, 0.2, -v]])
    np.testing.assert_allclose(_grad(lambda t: tl.reduce_max(t, axis=1), x),
                               [[1 / 3, 0, 1 / 3, 1 / 3], [1, 0, 0, 0]])
    np.testing.assert_allclose(_grad(lambda t: tl.reduce_min(t, axis=1), x),
                               [[0, 1, 0, 0], [0, 0.5, 0, 0.5]])
    np.testing.assert_allclose(_grad(tl.reduce_max, np.full((2, 2), v)), np.full((2, 2), 0.25))


def test_prod_gradient_with_zeros(rng):
    a, b, c = rng.uniform(0.5, 2.0, size=3)
    x = np.array([[a, 0.0, b, c], [a, 0.0, 0.0, b], [a, b, c, a]])
    g = _grad(lambda t: tl.reduce_prod(t, axis=1), x)
    np.testing.assert_allclose(g[0], [0, a * b * c, 0, 0])   # one zero: only it gets the rest's product
    np.testing.assert_allclose(g[1], [0, 0, 0, 0])           # two zeros: nothing flows
    np.testing.assert_allclose(g[2], [b * c * a, a * c * a, a * b * a, a * b * c])
    assert np.all(np.isfinite(g))


def test_logsumexp_is_stable_and_handles_infinities():
    x = tl.constant([[1000.0, 1000.0], [-1000.0, -1000.0]], dtype=tl.float64)
    np.testing.assert_allclose(tl.reduce_logsumexp(x, axis=1).numpy(),
                               [1000 + np.log(2), -1000 + np.log(2)])
    np.testing.assert_allclose(_grad(lambda t: tl.reduce_logsumexp(t, axis=1), x.numpy()), np.full((2, 2), 0.5))
    inf = float("inf")
    rows = [[-inf, -inf, -inf], [inf, 0.0, 1.0], [-inf, 1.0, -inf], [inf, 2.0, inf], [float("nan"), inf, 0.0]]
    for axis, x in ((1, tl.constant(rows)), (0, tl.transpose(tl.constant(rows)))):  # the row primitive, the composite
        y = tl.reduce_logsumexp(x, axis=axis).numpy()
        assert y[0] == -inf and y[1] == inf and y[3] == inf and np.isnan(y[4])
        np.testing.assert_allclose(y[2], 1.0)


def test_variance_gradient_matches_closed_form(rng):
    x = rng.normal(size=(5,))
    np.testing.assert_allclose(_grad(tl.math.reduce_variance, x), 2 * (x - x.mean()) / 5, rtol=1e-12, atol=1e-15)


# ----------------------------------------------------------------- dtypes and special values
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "int8"])
def test_integer_reductions_keep_dtype(dtype, rng):
    x = rng.integers(1, 5, size=(3, 4)).astype(dtype)
    t_ = tl.constant(x)
    for fn, ref in [(tl.reduce_sum, np.sum), (tl.reduce_max, np.max), (tl.reduce_min, np.min),
                    (tl.reduce_prod, np.prod)]:
        y = fn(t_, axis=1)
        assert y.dtype.name == dtype, fn.__name__
        np.testing.assert_array_equal(y.numpy(), ref(x, axis=1).astype(dtype))


def test_integer_mean_truncates_toward_zero_like_tf():
    x = tl.constant([[-1, -2], [1, 2], [7, 0]])
    y = tl.reduce_mean(x, axis=1)
    assert y.dtype == tl.int32
    np.testing.assert_array_equal(y.numpy(), [-1, 1, 3])
    assert int(tl.reduce_mean(tl.constant([3, 4, 4]))) == 3


def test_half_precision_mean_accumulates_in_float32(rng):
    x = rng.uniform(0, 1, size=(4000,)).astype(np.float16)
    y = tl.reduce_mean(tl.constant(x))
    assert y.dtype == tl.float16
    np.testing.assert_allclose(float(y), x.astype(np.float64).mean(), rtol=2e-3)


def test_all_any(rng):
    b = rng.random((3, 4)) < 0.5
    b[0] = True
    b[1] = False
    x = tl.constant(b)
    for axis in (None, 0, 1, [0, 1], -1):
        np.testing.assert_array_equal(tl.reduce_all(x, axis=axis).numpy(), np.all(b, axis=_ax(axis)))
        np.testing.assert_array_equal(tl.reduce_any(x, axis=axis, keepdims=True).numpy(),
                                      np.any(b, axis=_ax(axis), keepdims=True))
    assert tl.reduce_any(x).dtype == tl.bool


@pytest.mark.parametrize("output_type", [tl.int64, tl.int32])
def test_argmax_argmin(output_type, rng):
    x = rng.normal(size=(3, 5, 2))
    for axis in (0, 1, -1):
        i = tl.argmax(tl.constant(x), axis=axis, output_type=output_type)
        j = tl.math.argmin(tl.constant(x), axis=axis, output_type=output_type)
        assert i.dtype == output_type and j.dtype == output_type
        np.testing.assert_array_equal(i.numpy(), np.argmax(x, axis=axis))
        np.testing.assert_array_equal(j.numpy(), np.argmin(x, axis=axis))
    np.testing.assert_array_equal(tl.argmax(tl.constant(x)).numpy(), np.argmax(x, axis=0))  # default axis 0
    np.testing.assert_array_equal(tl.argmax(tl.constant([[3, 7, 7], [2, 2, 1]]), axis=1).numpy(), [1, 0])


def test_argmax_has_no_gradient():
    x = tl.constant([1.0, 3.0, 2.0])
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = tl.cast(tl.argmax(x), tl.float32) * tl.reduce_sum(x)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), [1.0, 1.0, 1.0])


def test_integer_cumsum(rng):
    x = rng.integers(-5, 5, size=(4, 3)).astype(np.int32)
    y = tl.cumsum(tl.constant(x), axis=0, exclusive=True, reverse=True)
    assert y.dtype == tl.int32
    np.testing.assert_array_equal(y.numpy(), _cumsum(x, 0, True, True))


def test_empty_reductions_give_identities():
    z = tl.zeros([0, 3])
    np.testing.assert_array_equal(tl.reduce_sum(z, axis=0).numpy(), [0, 0, 0])
    np.testing.assert_array_equal(tl.reduce_prod(z, axis=0).numpy(), [1, 1, 1])
    np.testing.assert_array_equal(tl.reduce_max(z, axis=0).numpy(), [-np.inf] * 3)
    np.testing.assert_array_equal(tl.reduce_min(z, axis=0).numpy(), [np.inf] * 3)
    assert tl.reduce_max(tl.zeros([0], dtype=tl.int32)).numpy() == np.iinfo(np.int32).min
    assert np.isnan(tl.reduce_mean(z).numpy())


def test_count_nonzero_and_scalar_input(rng):
    x = rng.normal(size=(3, 4))
    x[0, 1] = x[2, 2] = 0
    c = tl.math.count_nonzero(tl.constant(x), axis=1)
    assert c.dtype == tl.int64
    np.testing.assert_array_equal(c.numpy(), [3, 4, 3])
    s = tl.constant(2.5)
    assert float(tl.reduce_sum(s)) == 2.5 and float(tl.reduce_max(s, axis=0)) == 2.5


def test_symbolic_unknown_dims():
    x = tl.SymbolicTensor((None, 3, 4))
    assert tuple(tl.reduce_mean(x, axis=[1, 2]).shape) == (None,)
    assert tuple(tl.reduce_logsumexp(x, axis=-1).shape) == (None, 3)
    assert tuple(tl.math.reduce_std(x, axis=0, keepdims=True).shape) == (1, 3, 4)
    assert tuple(tl.argmax(x, axis=2).shape) == (None, 3)
    assert tuple(tl.cumsum(x, axis=0).shape) == (None, 3, 4)


def test_variable_input_and_gradient():
    v = tl.Variable([[1.0, 2.0], [3.0, 4.0]])
    with tl.GradientTape() as tape:
        y = tl.reduce_mean(v)
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), np.full((2, 2), 0.25))


# ----------------------------------------------------------------- errors
def test_error_axis_out_of_range_names_op_axis_and_rank():
    for fn, name in [(tl.reduce_sum, "reduce_sum"), (tl.reduce_max, "reduce_max"),
                     (tl.reduce_mean, "reduce_mean"), (tl.reduce_logsumexp, "reduce_logsumexp")]:
        with pytest.raises(tl.errors.InvalidArgumentError, match=rf"{name}.*axis 2.*rank 2"):
            fn(tl.ones([2, 3]), axis=2)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"argmax.*axis -3.*rank 2"):
        tl.argmax(tl.ones([2, 3]), axis=-3)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"cumsum.*axis 5"):
        tl.cumsum(tl.ones([2, 3]), axis=5)


def test_error_repeated_axis():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"reduce_sum.*\[1, -1\].*repeats"):
        tl.reduce_sum(tl.ones([2, 3]), axis=[1, -1])


def test_error_wrong_dtypes():
    with pytest.raises(TypeError, match=r"reduce_sum.*bool"):
        tl.reduce_sum(tl.constant([True, False]))
    with pytest.raises(TypeError, match=r"reduce_all.*float32"):
        tl.reduce_all(tl.ones([2]))
    with pytest.raises(TypeError, match=r"reduce_logsumexp.*int32"):
        tl.reduce_logsumexp(tl.constant([1, 2]))
    with pytest.raises(TypeError, match=r"reduce_variance.*int32"):
        tl.math.reduce_variance(tl.constant([1, 2]))
    with pytest.raises(TypeError, match=r"argmax.*output_type.*float32"):
        tl.argmax(tl.ones([2]), output_type=tl.float32)


def test_error_rank0_for_positional_ops():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"argmin.*scalar"):
        tl.argmin(tl.constant(1.0))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"cumsum.*scalar"):
        tl.cumsum(tl.constant(1.0))


def test_shape_rule_rejects_bad_axis_symbolically():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"reduce_prod.*axis 3.*rank 3"):
        tl.reduce_prod(tl.SymbolicTensor((None, 2, 2)), axis=3)


def test_forward_matches_reference_on_larger_inputs(rng):
    x = rng.normal(size=(37, 65))
    for name in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_logsumexp", "reduce_std"):
        fn, ref = NP_REF[name]
        for axis in (0, 1, None):
            assert_close(fn(tl.constant(x), axis=axis).numpy(), ref(x, axis=axis), 1e-12, what=name)


@pytest.mark.parametrize("dtype", [tl.float16, tl.bfloat16])
def test_half_precision_keeps_dtype(dtype, rng):
    t_ = tl.constant(rng.uniform(0.5, 1.5, size=(3, 40)), dtype=dtype)
    x = t_.numpy().astype(np.float64)   # the reference sees the same (rounded) inputs
    for fn, ref in [(tl.reduce_sum, np.sum), (tl.reduce_max, np.max), (tl.reduce_prod, np.prod),
                    (tl.reduce_logsumexp, lambda v, axis: np.log(np.exp(v).sum(axis))),
                    (tl.cumsum, lambda v, axis: np.cumsum(v, axis))]:
        y = fn(t_, axis=1)
        assert y.dtype == dtype, fn.__name__
        np.testing.assert_allclose(y.numpy().astype(np.float64), ref(x, axis=1), rtol=3e-2, err_msg=fn.__name__)
