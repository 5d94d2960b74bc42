"""map_fn, scan, foldl/foldr, vectorized_map, recompute_grad: values and gradients vs numpy loops, errors."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import Case, S, assert_close, numeric_grad, op_tests


# ----------------------------------------------------------------- numpy references (plain loops)
def _ref_map(x):
    return np.stack([np.sin(r) * np.sum(r ** 2) for r in x])


def _ref_map_nested(a, b):
    return (np.stack([ra * rb + np.tanh(ra) for ra, rb in zip(a, b)]),
            np.stack([np.exp(np.sum(ra)) * rb[0] for ra, rb in zip(a, b)]))


def _step(acc, x):
    return acc * np.cos(x) + x ** 2


def _ref_scan(x, init=None, reverse=False):
    order = list(range(len(x)))[::-1] if reverse else list(range(len(x)))
    out = [None] * len(x)
    acc = init
    for i in order:
        acc = x[i] if acc is None else _step(acc, x[i])
        out[i] = acc
    return np.stack(out)


def _ref_scan_pair(x, a0, b0):
    a, b, outs_a, outs_b = a0, b0, [], []
    for r in x:
        a, b = a + b * r, b * np.sin(r)
        outs_a.append(a)
        outs_b.append(b)
    return np.stack(outs_a), np.stack(outs_b)


def _ref_fold(x, init=None, reverse=False):
    return _ref_scan(x, init, reverse)[0 if reverse else -1]


def _tl_step(acc, x):
    return acc * tl.cos(x) + x ** 2


def _scan_pair(x, a0, b0):
    a, b = tl.scan(lambda ab, r: (ab[0] + ab[1] * r, ab[1] * tl.sin(r)), x, initializer=(a0, b0))
    return a, b


def _map_nested(a, b):
    out = tl.map_fn(lambda p: {"prod": p["a"] * p["b"] + tl.tanh(p["a"]),
                               "scaled": (tl.exp(tl.reduce_sum(p["a"])) * p["b"][0],)},
                    {"a": a, "b": b})
    return out["prod"], out["scaled"][0]


def _vmap_matmul(a, b):
    return tl.vectorized_map(lambda p: tl.matmul(p[0], tl.tanh(p[1])), (a, b))


def _block(x, w):
    return tl.reduce_sum(tl.tanh(tl.matmul(x, w)) ** 2, axis=1)


CASES = [
    Case("map_fn", lambda x: tl.map_fn(lambda r: tl.sin(r) * tl.reduce_sum(r ** 2), x), _ref_map, [S((4, 3))]),
    Case("map_fn_nested_dict", _map_nested, _ref_map_nested, [S((3, 2)), S((3, 2))], grad_rtol=1e-4),
    Case("scan", lambda x: tl.scan(_tl_step, x), _ref_scan, [S((5, 2))]),
    Case("scan_reverse_initializer", lambda x, i: tl.scan(_tl_step, x, initializer=i, reverse=True),
         lambda x, i: _ref_scan(x, i, reverse=True), [S((4, 3)), S((3,))]),
    Case("scan_tuple_accumulator", _scan_pair, _ref_scan_pair, [S((4, 2)), S((2,)), S((2,))]),
    Case("foldl", lambda x: tl.foldl(_tl_step, x), _ref_fold, [S((4, 2))]),
    Case("foldr_initializer", lambda x, i: tl.foldr(_tl_step, x, initializer=i),
         lambda x, i: _ref_fold(x, i, reverse=True), [S((4, 2)), S((2,))]),
    Case("vectorized_map_broadcast", _vmap_matmul,
         lambda a, b: np.stack([ra @ np.tanh(b[0]) for ra in a]), [S((3, 2, 4)), S((1, 4, 2))]),
    Case("recompute_grad", tl.recompute_grad(_block), lambda x, w: np.sum(np.tanh(x @ w) ** 2, axis=1),
         [S((3, 4)), S((4, 2))]),
]

globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


# ----------------------------------------------------------------- map_fn
def test_map_fn_output_signature_changes_dtype(rng):
    x = rng.uniform(-1, 1, size=(6, 2))
    got = tl.map_fn(lambda r: tl.cast(tl.reduce_sum(r) > 0, tl.int32), tl.constant(x), fn_output_signature=tl.int32)
    assert got.dtype == tl.int32
    np.testing.assert_array_equal(got.numpy(), (x.sum(axis=1) > 0).astype(np.int32))
    got = tl.map_fn(lambda r: (r[0], tl.cast(r[1], tl.int32)), tl.constant(x),
                    fn_output_signature=(tl.TensorSpec([], tl.float64), tl.int32))
    np.testing.assert_array_equal(got[0].numpy(), x[:, 0])
    assert got[1].dtype == tl.int32


def test_map_fn_gradient_wrt_captured_variable(rng):
    x = rng.uniform(-1, 1, size=(5, 3))
    v = tl.Variable(rng.uniform(0.5, 1.5, size=(3,)))
    with tl.GradientTape() as tape:
        y = tl.reduce_sum(tl.map_fn(lambda r: tl.reduce_sum(r * v ** 2), tl.constant(x)))
    np.testing.assert_allclose(tape.gradient(y, v).numpy(), 2 * v.numpy() * x.sum(axis=0), rtol=1e-12)


def test_map_fn_python_values_in_results_and_lists_of_elems():
    got = tl.map_fn(lambda p: p[0] + p[1] * 10, [tl.constant([1, 2, 3]), tl.constant([4, 5, 6])])
    np.testing.assert_array_equal(got.numpy(), [41, 52, 63])
    ones = tl.map_fn(lambda r: 1.0, tl.constant([[1.0], [2.0]]), fn_output_signature=tl.float32)
    np.testing.assert_array_equal(ones.numpy(), [1.0, 1.0])


def test_map_fn_empty_elems_gives_zero_length_results():
    assert tuple(tl.map_fn(lambda r: r * 2, tl.zeros([0, 3])).shape) == (0, 3)
    out = tl.map_fn(lambda r: r, tl.zeros([0, 3]), fn_output_signature=tl.TensorSpec([2], tl.int32))
    assert tuple(out.shape) == (0, 2) and out.dtype == tl.int32


def test_map_fn_on_symbolic_input_with_unknown_batch():
    x = tl.SymbolicTensor((None, 4, 2))
    y = tl.map_fn(lambda r: tl.reduce_sum(r, axis=0), x)
    assert tuple(y.shape) == (None, 2)
    s = tl.scan(lambda a, r: a + r, x)
    assert tuple(s.shape) == (None, 4, 2)


def test_error_map_fn_first_dimensions_differ():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"map_fn: all elems must have the same first "
                                                            r"dimension; got shapes \[3,2\], \[4\]"):
        tl.map_fn(lambda p: p[0], (tl.zeros([3, 2]), tl.zeros([4])))


def test_error_map_fn_scalar_elems_and_non_callable():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"map_fn: .*leaf #0 is a scalar"):
        tl.map_fn(lambda r: r, tl.constant(1.0))
    with pytest.raises(TypeError, match=r"map_fn: fn must be callable"):
        tl.map_fn(3, tl.zeros([2]))


def test_error_map_fn_results_of_different_shapes():
    with pytest.raises(tl.errors.InvalidArgumentError,
                       match=r"map_fn: fn's output #0 is \[0\] float32 for element 0 but \[1\] float32 for element 1"):
        tl.map_fn(lambda r: tl.zeros([int(r)]), tl.constant([0, 1, 2]), fn_output_signature=tl.float32)


def test_error_map_fn_signature_mismatch():
    with pytest.raises(TypeError, match=r"map_fn: fn's output #0 has dtype float32 but fn_output_signature says "
                                        r"int32"):
        tl.map_fn(lambda r: r * 2, tl.zeros([3]), fn_output_signature=tl.int32)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"map_fn: fn returned .* but fn_output_signature "
                                                            r"describes"):
        tl.map_fn(lambda r: r * 2, tl.zeros([3]), fn_output_signature=(tl.float32, tl.float32))
    with pytest.raises(ValueError, match=r"map_fn: give fn_output_signature or dtype"):
        tl.map_fn(lambda r: r, tl.zeros([3]), dtype=tl.float32, fn_output_signature=tl.float32)


# ----------------------------------------------------------------- scan and folds
def test_scan_int_cumsum_and_reverse():
    x = tl.constant([1, 2, 3, 4])
    np.testing.assert_array_equal(tl.scan(lambda a, v: a + v, x).numpy(), [1, 3, 6, 10])
    np.testing.assert_array_equal(tl.scan(lambda a, v: a + v, x, reverse=True).numpy(), [10, 9, 7, 4])
    np.testing.assert_array_equal(tl.scan(lambda a, v: a + v, x, initializer=tl.constant(100)).numpy(),
                                  [101, 103, 106, 110])


def test_fold_accumulator_structure_differs_from_elems(rng):
    x = rng.uniform(-1, 1, size=(7, 2))
    total, count = tl.foldl(lambda acc, r: (acc[0] + r, acc[1] + 1), tl.constant(x),
                            initializer=(tl.zeros([2], tl.float64), tl.constant(0)))
    np.testing.assert_allclose(total.numpy(), x.sum(axis=0), rtol=1e-12)
    assert int(count) == 7
    assert tl.foldl(lambda a, v: a * 10 + v, tl.constant([1, 2, 3])).numpy() == 123
    assert tl.foldr(lambda a, v: a * 10 + v, tl.constant([1, 2, 3])).numpy() == 321


def test_scan_and_fold_with_empty_elems_and_initializer():
    out = tl.scan(lambda a, v: a + v, tl.zeros([0, 3]), initializer=tl.ones([3]))
    assert tuple(out.shape) == (0, 3)
    np.testing.assert_array_equal(tl.foldl(lambda a, v: a + v, tl.zeros([0, 3]), initializer=tl.ones([3])).numpy(),
                                  np.ones(3))


def test_scan_gradient_wrt_initializer_vs_finite_differences(rng):
    x = rng.uniform(-1, 1, size=(4, 3))
    i0 = rng.uniform(-1, 1, size=(3,))
    w = rng.uniform(0.5, 1.5, size=(4, 3))

    def obj(arrs):
        return float(tl.reduce_sum(tl.scan(_tl_step, tl.constant(arrs[0]), initializer=tl.constant(arrs[1]))
                                   * w).numpy())
    ts = [tl.constant(x), tl.constant(i0)]
    with tl.GradientTape() as tape:
        tape.watch(ts)
        val = tl.reduce_sum(tl.scan(_tl_step, ts[0], initializer=ts[1]) * w)
    gx, gi = tape.gradient(val, ts)
    assert_close(gx.numpy(), numeric_grad(obj, [x.copy(), i0.copy()], 0, 1e-6), 1e-6, what="d/dx")
    assert_close(gi.numpy(), numeric_grad(obj, [x.copy(), i0.copy()], 1, 1e-6), 1e-6, what="d/dinit")


def test_error_scan_empty_without_initializer():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"scan: elems is empty \(\[0,2\]\) and there is no "
                                                            r"initializer"):
        tl.scan(lambda a, v: a + v, tl.zeros([0, 2]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"foldr: elems is empty"):
        tl.foldr(lambda a, v: a + v, tl.zeros([0]))


def test_error_scan_fn_changes_accumulator_structure():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"scan: fn\(acc, x\) returned .* but the accumulator "
                                                            r"is .*; fn must return the accumulator's structure"):
        tl.scan(lambda a, v: (a, v), tl.zeros([3]))


# ----------------------------------------------------------------- vectorized_map
def test_vectorized_map_matches_map_fn(rng):
    x = tl.constant(rng.uniform(-1, 1, size=(5, 3, 3)))

    def fn(m):
        return tl.matmul(m, m) + tl.eye(3, dtype=tl.float64)
    np.testing.assert_array_equal(tl.vectorized_map(fn, x).numpy(), tl.map_fn(fn, x).numpy())
    # fn's output not depending on the element is still one row per element
    assert tuple(tl.vectorized_map(lambda m: tl.ones([2]), x).shape) == (5, 2)


def test_error_vectorized_map_batch_sizes_not_broadcastable():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"vectorized_map: all elems must have the same first "
                                                            r"dimension \(or 1\); got shapes \[2,3\], \[3,3\]"):
        tl.vectorized_map(lambda p: p[0] + p[1], (tl.zeros([2, 3]), tl.zeros([3, 3])))


# ----------------------------------------------------------------- recompute_grad
def test_recompute_grad_values_grads_and_recomputation(rng):
    w = tl.Variable(rng.uniform(-1, 1, size=(4, 3)))
    x = tl.constant(rng.uniform(-1, 1, size=(2, 4)))
    calls = []

    def f(v, scale=1.0):
        calls.append(1)
        return tl.sin(tl.matmul(v, w)) * scale, tl.reduce_sum(v)

    results = {}
    for name, fn in (("plain", f), ("recompute", tl.recompute_grad(f))):
        calls.clear()
        with tl.GradientTape() as tape:
            tape.watch(x)
            a, b = fn(x, scale=3.0)
            loss = tl.reduce_sum(a ** 2) + b
        results[name] = [loss.numpy()] + [g.numpy() for g in tape.gradient(loss, [x, w])] + [len(calls)]
    plain, again = results["plain"], results["recompute"]
    for p, r in zip(plain[:3], again[:3]):
        np.testing.assert_allclose(r, p, rtol=1e-12)
    assert plain[3] == 1 and again[3] == 2  # the backward pass ran f again
    calls.clear()
    tl.recompute_grad(f)(x)
    assert len(calls) == 1  # no tape: no recomputation


def test_recompute_grad_second_derivative_matches(rng):
    x0 = rng.uniform(-1, 1, size=(3,))

    def f(v):
        return tl.reduce_sum(tl.tanh(v) ** 3)

    def hess_diag(fn):
        x = tl.constant(x0)
        with tl.GradientTape() as outer:
            outer.watch(x)
            with tl.GradientTape() as inner:
                inner.watch(x)
                y = fn(x)
            g = inner.gradient(y, x)
            gsum = tl.reduce_sum(g)
        return g.numpy(), outer.gradient(gsum, x).numpy()
    for a, b in zip(hess_diag(f), hess_diag(tl.recompute_grad(f))):
        np.testing.assert_allclose(b, a, rtol=1e-12)


def test_error_recompute_grad_not_callable():
    with pytest.raises(TypeError, match=r"recompute_grad: f must be callable"):
        tl.recompute_grad(None)


# ----------------------------------------------------------------- devices
@pytest.mark.gpu
def test_gpu_empty_results_stay_on_the_inputs_device():
    with tl.device("gpu:0"):
        x = tl.zeros([0, 3])
        i = tl.ones([3])
    with tl.device("cpu"):
        for y in (tl.map_fn(lambda r: r, x), tl.vectorized_map(lambda r: r, x),
                  tl.scan(lambda a, r: a + r, x, initializer=i)):
            assert "GPU" in y.device and tuple(y.shape) == (0, 3)
