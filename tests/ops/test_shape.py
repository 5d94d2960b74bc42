"""Shape ops: forward vs numpy, gradients vs finite differences, second derivatives,
shape rules (symbolic tensors), hypothesis-drawn shapes, errors, GPU vs CPU."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tensorlab as tl
from tests.ops.harness import Case, S, assert_close, check_forward, check_grad, op_tests

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
IAE = tl.errors.InvalidArgumentError


def sq(fn, ref):
    """Squares the float outputs of an op so second derivatives pass through its gradient rule."""
    def f(*a, **k):
        y = fn(*a, **k)
        if isinstance(y, (list, tuple)):
            return type(y)(*[v * v if v.dtype.is_floating else v for v in y]) if hasattr(y, "_fields") \
                else [v * v if v.dtype.is_floating else v for v in y]
        return y * y

    def r(*a, **k):
        y = ref(*a, **k)
        if isinstance(y, (list, tuple)):
            return [v * v if np.asarray(v).dtype.kind == "f" else v for v in y]
        return y * y
    return f, r


def C(name, fn, ref, inputs, **kw):
    f, r = sq(fn, ref)
    return Case(name, f, r, inputs, **kw)


def _np_split(x, sizes, axis):
    return np.split(x, np.cumsum(sizes[:-1]), axis=axis)


CASES = [
    C("reshape", lambda x: tl.reshape(x, [4, -1]), lambda x: x.reshape(4, -1), [S((2, 3, 2))]),
    C("transpose_default", tl.transpose, np.transpose, [S((2, 3, 4))]),
    C("transpose_perm", lambda x: tl.transpose(x, [1, 2, 0]), lambda x: np.transpose(x, [1, 2, 0]),
      [S((2, 3, 4))]),
    C("transpose_negative_perm", lambda x: tl.transpose(x, [-1, 0, 1]), lambda x: np.transpose(x, [2, 0, 1]),
      [S((2, 1, 3))]),
    C("expand_dims", lambda x: tl.expand_dims(x, 1), lambda x: np.expand_dims(x, 1), [S((2, 3))]),
    C("expand_dims_last", lambda x: tl.expand_dims(x, -1), lambda x: x[..., None], [S((2, 3))]),
    C("squeeze_all", tl.squeeze, np.squeeze, [S((1, 3, 1, 2))]),
    C("squeeze_axis", lambda x: tl.squeeze(x, [-2]), lambda x: np.squeeze(x, -2), [S((1, 3, 1, 2))]),
    C("concat", lambda a, b, c: tl.concat([a, b, c], axis=1), lambda a, b, c: np.concatenate([a, b, c], 1),
      [S((2, 1, 3)), S((2, 3, 3)), S((2, 2, 3))]),
    C("concat_neg_axis", lambda a, b: tl.concat([a, b], -1), lambda a, b: np.concatenate([a, b], -1),
      [S((2, 2)), S((2, 1))]),
    C("split_sizes", lambda x: tl.split(x, [1, -1, 2], axis=1), lambda x: _np_split(x, [1, 2, 2], 1),
      [S((2, 5, 2))]),
    C("split_num", lambda x: tl.split(x, 3, axis=-1), lambda x: np.split(x, 3, -1), [S((2, 6))]),
    C("stack", lambda a, b: tl.stack([a, b], axis=1), lambda a, b: np.stack([a, b], 1), [S((2, 3)), S((2, 3))]),
    C("unstack", lambda x: tl.unstack(x, axis=1), lambda x: [x[:, i] for i in range(3)], [S((2, 3, 2))]),
    C("tile", lambda x: tl.tile(x, [2, 1, 3]), lambda x: np.tile(x, [2, 1, 3]), [S((2, 1, 2))]),
    C("broadcast_to", lambda x: tl.broadcast_to(x, [2, 3, 4]), lambda x: np.broadcast_to(x, (2, 3, 4)),
      [S((3, 1))]),
    C("pad_constant", lambda x: tl.pad(x, [[1, 2], [0, 3]], constant_values=0.5),
      lambda x: np.pad(x, [[1, 2], [0, 3]], constant_values=0.5), [S((2, 3))]),
    C("pad_reflect", lambda x: tl.pad(x, [[2, 1], [1, 3]], "REFLECT"),
      lambda x: np.pad(x, [[2, 1], [1, 3]], mode="reflect"), [S((3, 4))]),
    C("pad_symmetric", lambda x: tl.pad(x, [[3, 1], [0, 2]], "symmetric"),
      lambda x: np.pad(x, [[3, 1], [0, 2]], mode="symmetric"), [S((3, 2))]),
    C("reverse", lambda x: tl.reverse(x, [0, -1]), lambda x: np.flip(x, (0, 2)), [S((2, 3, 2))]),
]


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


# ----------------------------------------------------------------- hypothesis-drawn shapes
dims = st.lists(st.integers(1, 3), min_size=1, max_size=3)


@SETTINGS
@given(shape=dims, data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_transpose_any_perm(shape, data, seed):
    perm = data.draw(st.permutations(range(len(shape))))
    case = C("transpose", lambda x: tl.transpose(x, perm), lambda x: np.transpose(x, perm), [S(tuple(shape))])
    rng = np.random.default_rng(seed)
    check_forward(case, rng, dtypes=("float64",))
    check_grad(case, rng)


@SETTINGS
@given(shape=dims, data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_concat_and_split_any_axis(shape, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    sizes = data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    shapes = [tuple(shape[:axis % len(shape)]) + (s,) + tuple(shape[axis % len(shape) + 1:]) for s in sizes]
    n = len(sizes)
    cat = C("concat", lambda *xs: tl.concat(list(xs), axis), lambda *xs: np.concatenate(xs, axis),
            [S(s) for s in shapes])
    rng = np.random.default_rng(seed)
    check_forward(cat, rng, dtypes=("float64",))
    check_grad(cat, rng)
    total = tuple(shapes[0][:axis % len(shape)]) + (sum(sizes),) + tuple(shapes[0][axis % len(shape) + 1:])
    spl = C("split", lambda x: tl.split(x, sizes, axis), lambda x: _np_split(x, sizes, axis), [S(total)])
    check_forward(spl, rng, dtypes=("float64",))
    check_grad(spl, rng)
    assert len(tl.split(tl.ones(total), sizes, axis)) == n


@SETTINGS
@given(shape=dims, data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_pad_any_mode(shape, data, seed):
    mode = data.draw(st.sampled_from(["CONSTANT", "REFLECT", "SYMMETRIC"]))
    limit = {"CONSTANT": 3, "REFLECT": None, "SYMMETRIC": None}[mode]
    pads = []
    for d in shape:
        hi = limit if limit is not None else (d - 1 if mode == "REFLECT" else d)
        pads.append([data.draw(st.integers(0, hi)), data.draw(st.integers(0, hi))])
    case = C("pad", lambda x: tl.pad(x, pads, mode), lambda x: np.pad(x, pads, mode=mode.lower()),
             [S(tuple(shape))])
    rng = np.random.default_rng(seed)
    check_forward(case, rng, dtypes=("float64",))
    check_grad(case, rng)


@SETTINGS
@given(shape=dims, data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_expand_squeeze_reverse_any_axis(shape, data, seed):
    r = len(shape)
    ax = data.draw(st.integers(-r - 1, r))
    axes = data.draw(st.lists(st.integers(-r, r - 1), max_size=r, unique_by=lambda a: a % r))
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape)
    assert_close(tl.expand_dims(tl.constant(x), ax).numpy(), np.expand_dims(x, ax), 0)
    assert_close(tl.squeeze(tl.constant(x)).numpy(), np.squeeze(x), 0)
    assert_close(tl.reverse(tl.constant(x), axes).numpy(), np.flip(x, tuple(axes)), 0)


# ----------------------------------------------------------------- behaviour
def test_shape_rank_size():
    x = tl.ones([2, 3, 4])
    s = tl.shape(x)
    assert s.dtype == tl.int32 and s.numpy().tolist() == [2, 3, 4]
    assert tl.shape(x, out_type=tl.int64).dtype == tl.int64
    assert int(tl.rank(x)) == 3 and tl.rank(x).dtype == tl.int32
    assert int(tl.size(x)) == 24 and tl.size(tl.constant(5.0)).numpy() == 1
    assert tl.shape(tl.constant(1.0)).numpy().tolist() == []


def test_symbolic_shape_ops_keep_unknown_dims():
    x = tl.SymbolicTensor([None, 3, 1])
    assert tl.expand_dims(x, 0).shape == [1, None, 3, 1]
    assert tl.squeeze(x, -1).shape == [None, 3]
    assert tl.squeeze(x).shape == [None, 3]
    assert tl.concat([x, x], axis=0).shape == [None, 3, 1]
    assert tl.concat([x, x], axis=1).shape == [None, 6, 1]
    assert [p.shape for p in tl.split(x, [1, 2], axis=1)] == [[None, 1, 1], [None, 2, 1]]
    assert [p.shape for p in tl.split(x, 2, axis=0)] == [[None, 3, 1], [None, 3, 1]]
    assert tl.transpose(x).shape == [1, 3, None]
    assert tl.pad(x, [[1, 1], [2, 0], [0, 0]]).shape == [None, 5, 1]
    assert tl.shape(x).shape == [3] and tl.rank(x).shape == []
    assert tl.ensure_shape(x, [4, 3, None]).shape == [4, 3, 1]
    assert tl.sort(x, axis=1).shape == [None, 3, 1]
    v, i = tl.math.top_k(tl.SymbolicTensor([None, 5]), 2)
    assert v.shape == [None, 2] and i.dtype == tl.int32


def test_split_gradient_with_unused_outputs(rng):
    a = rng.normal(size=(2, 6))
    x = tl.constant(a)
    with tl.GradientTape() as tape:
        tape.watch(x)
        parts = tl.split(x, [1, 3, 2], axis=1)
        loss = tl.reduce_sum(parts[1] * 2.0)
    want = np.zeros_like(a)
    want[:, 1:4] = 2
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), want)


def test_pad_integer_and_single_input_concat_is_identity():
    x = tl.constant([[1, 2], [3, 4]])
    np.testing.assert_array_equal(tl.pad(x, [[0, 1], [1, 0]], constant_values=9).numpy(),
                                  [[9, 1, 2], [9, 3, 4], [9, 9, 9]])
    assert tl.concat([x], 0) is x
    assert tl.transpose(tl.constant([1.0])).shape == [1]


def test_ensure_shape_passes_compatible_shapes():
    x = tl.ones([2, 3])
    assert tl.ensure_shape(x, [2, None]) is x


# ----------------------------------------------------------------- errors
def test_error_transpose_bad_perm_names_perm_and_rank():
    with pytest.raises(IAE, match=r"transpose: perm \[0, 0, 1\].*rank 3"):
        tl.transpose(tl.ones([2, 3, 4]), [0, 0, 1])
    with pytest.raises(IAE, match=r"transpose: perm \[1, 0\].*rank 3"):
        tl.transpose(tl.ones([2, 3, 4]), [1, 0])


def test_error_reshape_impossible_shape():
    with pytest.raises(IAE, match=r"reshape.*\[2,3\].*6 elements.*\[4, -1\]"):
        tl.reshape(tl.ones([2, 3]), [4, -1])
    with pytest.raises(IAE, match=r"reshape.*\[2,3\].*\[5\]"):
        tl.reshape(tl.ones([2, 3]), [5])
    with pytest.raises(IAE, match=r"reshape: only one dimension can be -1"):
        tl.reshape(tl.ones([2, 3]), [-1, -1])


def test_error_concat_shape_mismatch_names_shapes():
    with pytest.raises(IAE, match=r"concat.*dimension 0.*\[2,3\].*\[3,3\]"):
        tl.concat([tl.ones([2, 3]), tl.ones([3, 3])], axis=1)
    with pytest.raises(IAE, match=r"concat.*same rank"):
        tl.concat([tl.ones([2, 3]), tl.ones([2, 3, 1])], axis=1)
    with pytest.raises(TypeError, match=r"concat.*int32.*float32|concat.*float32.*int32"):
        tl.concat([tl.ones([2]), tl.constant([1, 2])], axis=0)


@pytest.mark.parametrize("call", [
    lambda x: tl.expand_dims(x, 4),
    lambda x: tl.squeeze(x, 3),
    lambda x: tl.concat([x, x], 3),
    lambda x: tl.split(x, 2, axis=-4),
    lambda x: tl.reverse(x, [3]),
    lambda x: tl.sort(x, axis=5),
    lambda x: tl.stack([x, x], axis=5),
    lambda x: tl.unstack(x, axis=3),
])
def test_error_axis_out_of_range(call):
    with pytest.raises(IAE, match=r"axis -?\d+ is out of range for a tensor of rank \d"):
        call(tl.ones([1, 2, 3]))


def test_error_squeeze_non_unit_dim():
    with pytest.raises(IAE, match=r"squeeze.*dim\[1\].*\[1,3,1\].*got 3"):
        tl.squeeze(tl.ones([1, 3, 1]), [0, 1])


def test_error_split_sizes():
    with pytest.raises(IAE, match=r"split.*dimension 1 of size 5.*\[2,5\].*3 parts"):
        tl.split(tl.ones([2, 5]), 3, axis=1)
    with pytest.raises(IAE, match=r"split: sizes \[1, 2\] add up to 3.*size 5"):
        tl.split(tl.ones([2, 5]), [1, 2], axis=1)
    with pytest.raises(IAE, match=r"split.*at most one -1"):
        tl.split(tl.ones([2, 5]), [-1, -1], axis=1)
    with pytest.raises(IAE, match=r"split.*exceed dimension 1 of size 5"):
        tl.split(tl.ones([2, 5]), [4, 3, -1], axis=1)


def test_error_pad_arguments():
    with pytest.raises(IAE, match=r"pad: paddings has 1 rows but the input has rank 2"):
        tl.pad(tl.ones([2, 3]), [[1, 1]])
    with pytest.raises(IAE, match=r"pad: mode must be one of"):
        tl.pad(tl.ones([2, 3]), [[1, 1], [0, 0]], mode="WRAP")
    with pytest.raises(IAE, match=r"pad: REFLECT padding of dimension 1 \(size 3.*at most 2.*\[0, 3\]"):
        tl.pad(tl.ones([2, 3]), [[1, 1], [0, 3]], mode="REFLECT")
    with pytest.raises(IAE, match=r"pad: paddings must be non-negative"):
        tl.pad(tl.ones([2, 3]), [[1, -1], [0, 0]])


def test_error_ensure_shape_and_tile():
    with pytest.raises(IAE, match=r"ensure_shape.*\[2,3\].*\[2,4\]"):
        tl.ensure_shape(tl.ones([2, 3]), [2, 4])
    with pytest.raises(IAE, match=r"tile: multiples has 1 entries.*rank 2"):
        tl.tile(tl.ones([2, 3]), [2])
    with pytest.raises(IAE, match=r"broadcast_to.*\[2,3\].*\[4,3\]"):
        tl.broadcast_to(tl.ones([2, 3]), [4, 3])
