"""Indexing ops: Tensor __getitem__ against numpy (basic and advanced keys drawn by
hypothesis), gather/gather_nd/boolean_mask/slice/strided_slice/scatter_nd, gradients
(scatter-add, exact with repeated indices) and second derivatives, errors, GPU vs CPU."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorlab as tl
from tests.ops.harness import Case, S, check_forward, check_grad, check_shape_rule, op_tests

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
IAE = tl.errors.InvalidArgumentError


def C(name, fn, ref, inputs, **kw):
    """A case whose output is squared, so second derivatives go through the op's gradient rule."""
    return Case(name, lambda *a: fn(*a) ** 2, lambda *a: ref(*a) ** 2, inputs, **kw)


def _np_gather(params, indices, axis, batch_dims):
    if batch_dims == 0:
        return np.take(params, indices, axis=axis)
    return np.stack([_np_gather(p, i, axis - 1, batch_dims - 1) for p, i in zip(params, indices)])


def _np_gather_nd(params, indices):
    k = indices.shape[-1]
    return params[tuple(indices[..., j] for j in range(k))]


IDX = np.array([[2, 0], [1, 2], [0, 2]])
MASK = np.array([[True, False, True, True], [False, False, True, False], [True, True, False, True]])
GETITEM = [
    C("int", lambda x: x[1], lambda x: x[1], [S((3, 4))]),
    C("negative_int", lambda x: x[-1, -2], lambda x: x[-1, -2], [S((3, 4))]),
    C("slices_steps", lambda x: x[::2, 1:], lambda x: x[::2, 1:], [S((5, 4))]),
    C("negative_step", lambda x: x[::-2, -1:0:-1], lambda x: x[::-2, -1:0:-1], [S((5, 4))]),
    C("ellipsis_newaxis", lambda x: x[..., None, 1], lambda x: x[..., None, 1], [S((2, 3, 4))]),
    C("newaxis_front", lambda x: x[tl.newaxis, :, 2], lambda x: x[None, :, 2], [S((3, 4))]),
    C("int_array_repeated", lambda x: x[[0, 2, 0, 0]], lambda x: x[[0, 2, 0, 0]], [S((3, 4))]),
    C("int_array_2d", lambda x: x[:, IDX], lambda x: x[:, IDX], [S((2, 3))]),
    C("tensor_index", lambda x: x[tl.constant([3, -1, 1])], lambda x: x[[3, -1, 1]], [S((4, 2))]),
    C("two_arrays", lambda x: x[[0, 1, 1], [2, 2, 0]], lambda x: x[[0, 1, 1], [2, 2, 0]], [S((3, 4))]),
    C("separated_arrays", lambda x: x[[0, 1], :, [1, 1]], lambda x: x[[0, 1], :, [1, 1]], [S((2, 3, 4))]),
    C("int_and_array", lambda x: x[0, :, [1, 2, 1]], lambda x: x[0, :, [1, 2, 1]], [S((2, 3, 4))]),
    C("array_newaxis", lambda x: x[[1, 0], None, 1:], lambda x: x[[1, 0], None, 1:], [S((2, 3))]),
    C("bool_mask_numpy", lambda x: x[MASK], lambda x: x[MASK], [S((3, 4))]),
    C("bool_mask_tensor", lambda x: x[:, tl.constant([True, False, True])], lambda x: x[:, [True, False, True]],
      [S((2, 3, 2))]),
    C("bool_mask_list", lambda x: x[[False, True, True]], lambda x: x[np.array([False, True, True])],
      [S((3, 2))]),
]
OPS = [
    C("gather", lambda x: tl.gather(x, [2, 0, 2]), lambda x: x[[2, 0, 2]], [S((3, 2))]),
    C("gather_axis", lambda x: tl.gather(x, IDX, axis=1), lambda x: np.take(x, IDX, 1), [S((2, 3, 2))]),
    C("gather_batch", lambda x: tl.gather(x, [[1, 1], [0, 2]], axis=1, batch_dims=1),
      lambda x: _np_gather(x, np.array([[1, 1], [0, 2]]), 1, 1), [S((2, 3, 2))]),
    C("gather_batch_axis2", lambda x: tl.gather(x, [[1, 0, 1], [2, 2, 0]], axis=2, batch_dims=1),
      lambda x: _np_gather(x, np.array([[1, 0, 1], [2, 2, 0]]), 2, 1), [S((2, 2, 3))]),
    C("gather_nd", lambda x: tl.gather_nd(x, [[1, 0], [0, 2], [1, 0]]),
      lambda x: _np_gather_nd(x, np.array([[1, 0], [0, 2], [1, 0]])), [S((2, 3, 2))]),
    C("gather_nd_slices", lambda x: tl.gather_nd(x, [[1], [0], [1]]), lambda x: x[[1, 0, 1]], [S((2, 3))]),
    C("gather_nd_batch", lambda x: tl.gather_nd(x, [[[1], [0]], [[2], [2]]], batch_dims=1),
      lambda x: np.stack([x[0][[1, 0]], x[1][[2, 2]]]), [S((2, 3, 2))]),
    C("boolean_mask", lambda x: tl.boolean_mask(x, MASK), lambda x: x[MASK], [S((3, 4, 2))]),
    C("boolean_mask_axis", lambda x: tl.boolean_mask(x, [True, False, True], axis=1),
      lambda x: x[:, [0, 2]], [S((2, 3))]),
    C("slice", lambda x: tl.slice(x, [1, 0], [-1, 2]), lambda x: x[1:, 0:2], [S((3, 4))]),
    C("strided_slice", lambda x: tl.strided_slice(x, [0, 3, 0], [2, 0, 1], [1, -1, 1], end_mask=1,
                                                  shrink_axis_mask=4),
      lambda x: x[0:, 3:0:-1, 0], [S((3, 4, 2))]),
    C("scatter_nd", lambda u: tl.scatter_nd([[1], [3], [1]], u, [5, 2]),
      lambda u: np.stack([np.zeros(2), u[0] + u[2], np.zeros(2), u[1], np.zeros(2)]), [S((3, 2))]),
    C("tensor_scatter_nd_add", lambda x, u: tl.tensor_scatter_nd_add(x, [[0, 1], [0, 1]], u),
      lambda x, u: x + np.array([[0, u[0] + u[1]], [0, 0]]), [S((2, 2)), S((2,))]),
    C("tensor_scatter_nd_sub", lambda x, u: tl.tensor_scatter_nd_sub(x, [[1]], u),
      lambda x, u: x - np.concatenate([np.zeros((1, 3)), u]), [S((2, 3)), S((1, 3))]),
    C("tensor_scatter_nd_update", lambda x, u: tl.tensor_scatter_nd_update(x, [[2], [0]], u),
      lambda x, u: np.stack([u[1], x[1], u[0]]), [S((3, 2)), S((2, 2))]),
]
CASES = GETITEM + OPS


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


# ----------------------------------------------------------------- random keys vs numpy
@st.composite
def basic_keys(draw, shape):
    key, d = [], 0
    ellipsis = draw(st.booleans())
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "skip"]))
        if kind == "skip" and ellipsis:  # the ellipsis stands for the dims left
            key.append(Ellipsis)
            return tuple(key)
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            b = draw(st.none() | st.integers(-n - 2, n + 2))
            e = draw(st.none() | st.integers(-n - 2, n + 2))
            key.append(slice(b, e, draw(st.none() | st.sampled_from([1, 2, 3, -1, -2]))))
        elif kind == "none":
            key.extend([None, slice(None)])
        else:
            break
        d += 1
    if ellipsis:  # every dim is indexed: the ellipsis stands for none, wherever it goes
        key.insert(draw(st.integers(0, len(key))), Ellipsis)
    return tuple(key)


@st.composite
def advanced_keys(draw, shape, rng_seed):
    rng = np.random.default_rng(rng_seed)
    key = []
    bshape = draw(st.lists(st.integers(1, 3), max_size=2))
    for n in shape:
        kind = draw(st.sampled_from(["int", "slice", "array", "array", "mask", "none"]))
        if kind == "int":
            key.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            key.append(slice(draw(st.none() | st.integers(-n, n)), None, draw(st.sampled_from([1, -1, 2]))))
        elif kind == "array":
            sub = bshape[draw(st.integers(0, len(bshape))):]
            key.append(rng.integers(-n, n, size=sub))
        elif kind == "mask":
            key.append(rng.random(n) < 0.6)
        else:
            key.extend([None, slice(None)])
    if not any(isinstance(k, np.ndarray) for k in key):
        key.append(rng.integers(0, 1, size=bshape) if len(key) < len(shape) else None)
        key = [k for k in key if k is not None]
    return tuple(key)


def _grad_of_index(x, key, w):
    t = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(t)
        y = t[key]
        loss = tl.reduce_sum(y * tl.constant(w))
    return y, tape.gradient(loss, t)


def _check_key(x, key, rng):
    want = x[key]
    w = rng.uniform(0.5, 1.5, size=want.shape)
    y, g = _grad_of_index(x, key, w)
    np.testing.assert_array_equal(y.numpy(), want)
    expected = np.zeros_like(x)
    np.add.at(expected, key, w)
    np.testing.assert_allclose(g.numpy(), expected, rtol=1e-12, atol=1e-12)
    sym = tl.SymbolicTensor(x.shape, tl.float64)[key]
    assert tuple(sym.shape) == want.shape


shapes = st.lists(st.integers(1, 4), min_size=1, max_size=3)


@SETTINGS
@given(data=st.data(), shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_basic_keys_match_numpy(data, shape, seed):
    rng = np.random.default_rng(seed)
    key = data.draw(basic_keys(shape))
    _check_key(rng.normal(size=shape), key, rng)


@SETTINGS
@given(data=st.data(), shape=shapes, seed=st.integers(0, 2**32 - 1))
def test_advanced_keys_match_numpy(data, shape, seed):
    rng = np.random.default_rng(seed)
    key = data.draw(advanced_keys(shape, seed))
    x = rng.normal(size=shape)
    try:
        want = x[key]
    except IndexError:  # index arrays that numpy cannot broadcast together
        with pytest.raises(IAE):
            x_t = tl.constant(x)
            x_t[key]
        return
    del want
    _check_key(x, key, rng)


@SETTINGS
@given(shape=st.lists(st.integers(1, 3), min_size=1, max_size=3), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_gather_any_axis_and_batch_dims(shape, data, seed):
    rng = np.random.default_rng(seed)
    r = len(shape)
    bd = data.draw(st.integers(0, r - 1))
    axis = data.draw(st.integers(bd, r - 1))
    ishape = tuple(shape[:bd]) + tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    idx = rng.integers(0, shape[axis], size=ishape)
    case = C("gather", lambda x: tl.gather(x, idx, axis=axis, batch_dims=bd),
             lambda x: _np_gather(x, idx, axis, bd), [S(tuple(shape))])
    check_forward(case, rng, dtypes=("float64",))
    check_grad(case, rng)
    check_shape_rule(case, rng)


# ----------------------------------------------------------------- behaviour
def test_repeated_indices_gradient_is_exact_sum():
    x = tl.constant([1.0, 2.0, 3.0])
    with tl.GradientTape(persistent=True) as tape:
        tape.watch(x)
        a = tl.reduce_sum(x[[0, 0, 2, 0]])
        b = tl.reduce_sum(tl.gather(x, [1, 1, 1]))
    np.testing.assert_array_equal(tape.gradient(a, x).numpy(), [3, 0, 1])
    np.testing.assert_array_equal(tape.gradient(b, x).numpy(), [0, 3, 0])


def test_iteration_variables_and_integer_tensors(rng):
    a = rng.normal(size=(3, 2))
    x = tl.constant(a)
    for row, want in zip(x, a):
        np.testing.assert_array_equal(row.numpy(), want)
    v = tl.Variable(a)
    with tl.GradientTape() as tape:
        y = tl.reduce_sum(v[1:, 0] * 3.0)
    np.testing.assert_array_equal(tape.gradient(y, v).numpy(), [[0, 0], [3, 0], [3, 0]])
    assert x[tl.constant(2)].shape == [2]
    assert x[np.int64(1), tl.constant(0, dtype=tl.int64)].numpy() == a[1, 0]
    assert x[[]].shape == [0, 2]


def test_index_dtypes_and_scatter_accumulates():
    x = tl.reshape(tl.range(12), [3, 4])
    assert x[1:, 1].dtype == tl.int32
    np.testing.assert_array_equal(x[x > 8].numpy(), [9, 10, 11])
    y = tl.scatter_nd(tl.constant([[0], [0], [2]], dtype=tl.int64), tl.constant([1, 2, 3]), [4])
    np.testing.assert_array_equal(y.numpy(), [3, 0, 3, 0])
    z = tl.tensor_scatter_nd_update(tl.zeros([2, 2], dtype=tl.float64), [[1, 1]], [5.0])
    assert z.dtype == tl.float64 and z.numpy()[1, 1] == 5


def test_symbolic_basic_indexing_keeps_unknown_dims():
    x = tl.SymbolicTensor([None, 4, 5])
    assert x[:, 1:3, None, 0].shape == [None, 2, 1]
    assert x[0].shape == [4, 5]
    assert x[..., ::2].shape == [None, 4, 3]
    assert x[:, [0, 1, 1]].shape == [None, 3, 5]
    assert tl.gather(x, [1, 2], axis=1).shape == [None, 2, 5]
    assert tl.slice(x, [0, 1, 0], [-1, 2, 5]).shape == [None, 2, 5]


def test_gather_indices_and_params_on_one_device_and_int64():
    x = tl.constant([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(tl.gather(x, tl.constant([1], dtype=tl.int64), axis=1).numpy(), [[2], [4]])
    np.testing.assert_array_equal(tl.gather(x, 1).numpy(), [3, 4])


# ----------------------------------------------------------------- errors
def test_error_out_of_range_int_index_names_index_dim_and_shape():
    x = tl.ones([2, 3])
    with pytest.raises(IAE, match=r"getitem: index 5 is out of bounds for dimension 1 with size 3.*\[2,3\]"):
        x[0, 5]
    with pytest.raises(IAE, match=r"getitem: index -3 is out of bounds for dimension 0 with size 2"):
        x[-3]
    with pytest.raises(IAE, match=r"getitem: index 3 is out of bounds for dimension 1 with size 3"):
        x[[0, 1], 3]


def test_error_out_of_range_index_array():
    x = tl.ones([2, 3])
    with pytest.raises(IAE, match=r"getitem: index 7 is out of bounds for dimension 1 with size 3.*\[2,3\]"):
        x[:, [0, 7]]
    with pytest.raises(IAE, match=r"getitem: index -4 is out of bounds for dimension 1"):
        x[:, tl.constant([-4])]


def test_error_too_many_indices_and_bad_keys():
    x = tl.ones([2, 3])
    with pytest.raises(IAE, match=r"getitem: too many indices for a tensor of rank 2 \(shape \[2,3\]\)"):
        x[0, 0, 0]
    with pytest.raises(IAE, match="single ellipsis"):
        x[..., ...]
    with pytest.raises(IAE, match="step cannot be zero"):
        x[::0]
    with pytest.raises(TypeError, match="getitem: index tensors must be integers or booleans, got dtype float"):
        x[[0.5]]
    with pytest.raises(IAE, match=r"boolean mask of shape \[3\] does not match dimensions 0..0.*\[2,3\]"):
        x[[True, False, True]]
    with pytest.raises(TypeError, match="scalar bool"):
        x[True]


def test_error_gather_index_out_of_range():
    x = tl.ones([3, 2])
    with pytest.raises(IAE, match=r"gather: index 7 is out of bounds for dimension 0 with size 3.*\[3,2\]"):
        tl.gather(x, [0, 7])
    with pytest.raises(IAE, match=r"gather: index -1 is out of bounds.*\[0, 3\)"):
        tl.gather(x, [-1])
    with pytest.raises(IAE, match=r"gather: index 2 is out of bounds for dimension 1 with size 2"):
        tl.gather(x, [[0, 2]] * 3, axis=1, batch_dims=1)
    with pytest.raises(IAE, match=r"gather: batch_dims \(1\) must be less than or equal to axis \(0\)"):
        tl.gather(x, [[0]] * 3, axis=0, batch_dims=1)
    with pytest.raises(IAE, match=r"gather: axis 2 is out of range"):
        tl.gather(x, [0], axis=2)
    with pytest.raises(TypeError, match="gather: indices must be an integer tensor"):
        tl.gather(x, tl.constant([0.0]))


def test_error_gather_nd_and_scatter():
    x = tl.ones([3, 2])
    with pytest.raises(IAE, match=r"gather_nd: index 3 is out of bounds for dimension 0 with size 3"):
        tl.gather_nd(x, [[3, 0]])
    with pytest.raises(IAE, match=r"gather_nd: the last dimension of indices \(3\) must be at most the rank 2"):
        tl.gather_nd(x, [[0, 0, 0]])
    with pytest.raises(IAE, match=r"scatter_nd: index 5 is out of bounds for dimension 0 with size 4"):
        tl.scatter_nd([[5]], tl.constant([1.0]), [4])
    with pytest.raises(IAE, match=r"scatter_nd: updates must have shape \[2\].*\[4\].*\[3\]"):
        tl.scatter_nd([[1], [2]], tl.constant([1.0, 2.0, 3.0]), [4])
    with pytest.raises(IAE, match=r"tensor_scatter_nd_update: updates must have shape \[1,2\]"):
        tl.tensor_scatter_nd_update(x, [[0]], tl.constant([1.0]))
    with pytest.raises(TypeError, match="tensor_scatter_nd_add"):
        tl.tensor_scatter_nd_add(x, [[0, 0]], tl.constant([1], dtype=tl.int32))


def test_error_boolean_mask_and_slice():
    x = tl.ones([2, 3])
    with pytest.raises(IAE, match=r"boolean_mask: mask of shape \[2\] must match dimensions 1..1.*\[2,3\]"):
        tl.boolean_mask(x, [True, False], axis=1)
    with pytest.raises(TypeError, match="boolean_mask: mask must be a bool tensor"):
        tl.boolean_mask(x, [1, 0])
    with pytest.raises(IAE, match=r"slice: begin\[1\]=2 and size\[1\]=2 do not fit dimension 1 of size 3"):
        tl.slice(x, [0, 2], [1, 2])
    with pytest.raises(IAE, match=r"slice: begin .* must both have one entry per dimension"):
        tl.slice(x, [0], [1])


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int32", "int64"])
def test_gpu_scatter_add_gradients_and_bounds_errors(dtype):
    with tl.device("gpu:0"):
        x = tl.constant(np.arange(6).reshape(3, 2), dtype=dtype)
        y = tl.scatter_nd([[0], [0], [2]], tl.constant([[1, 2], [3, 4], [5, 6]], dtype=dtype), [4, 2])
        np.testing.assert_array_equal(y.numpy(), [[4, 6], [0, 0], [5, 6], [0, 0]])
        np.testing.assert_array_equal(x[x > 2].numpy(), [3, 4, 5])
        with pytest.raises(IAE, match="gather: index 7 is out of bounds"):
            tl.gather(x, [0, 7])
        with pytest.raises(IAE, match="getitem: index 5 is out of bounds"):
            x[:, [5]]
        if dtype.startswith("float"):
            with tl.GradientTape() as tape:
                tape.watch(x)
                loss = tl.reduce_sum(x[[0, 0, 2]]) + tl.reduce_sum(tl.gather(x, [1, 1], axis=1))
            g = tape.gradient(loss, x)
            assert "GPU" in g.device
            np.testing.assert_array_equal(g.numpy(), [[2, 4], [0, 2], [1, 3]])
