"""Control flow: cond/case/switch_case/while_loop results, structures, gradients through what ran."""
import collections

import numpy as np
import pytest

import tensorlab as tl


def _grad(f, x0):
    x = tl.constant(x0)
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    return y, tape.gradient(y, x)


def test_cond_runs_only_the_chosen_branch():
    ran = []

    def t_fn():
        ran.append("true")
        return tl.constant(1.0)

    def f_fn():
        ran.append("false")
        return tl.constant(2.0)

    assert float(tl.cond(tl.constant(True), t_fn, f_fn)) == 1.0
    assert float(tl.cond(tl.constant(3) > 5, t_fn, f_fn)) == 2.0
    assert float(tl.cond(True, t_fn, f_fn)) == 1.0
    assert ran == ["true", "false", "true"]


@pytest.mark.parametrize("x0", [1.7, -1.3])
def test_cond_gradient_follows_the_branch(x0):
    y, g = _grad(lambda x: tl.cond(x > 0, lambda: x * x * x, lambda: tl.sin(x)), x0)
    if x0 > 0:
        np.testing.assert_allclose(g.numpy(), 3 * x0 ** 2, rtol=1e-6)
    else:
        np.testing.assert_allclose(g.numpy(), np.cos(x0), rtol=1e-6)


def test_cond_returns_nested_structures(rng):
    a = tl.constant(rng.normal(size=(2,)))
    out = tl.cond(tl.constant(False), lambda: {"s": a, "p": (a, a)}, lambda: {"s": -a, "p": (a * 2, a)})
    np.testing.assert_allclose(out["s"].numpy(), -a.numpy())
    np.testing.assert_allclose(out["p"][0].numpy(), 2 * a.numpy())


def test_while_loop_repeated_squaring_gradient(rng):
    """x -> x**2 three times is x**8: gradient 8 x**7, second derivative 56 x**6."""
    x0 = float(rng.uniform(0.5, 1.5))
    x = tl.constant(x0, dtype=tl.float64)
    with tl.GradientTape() as outer:
        outer.watch(x)
        with tl.GradientTape() as inner:
            inner.watch(x)
            _, y = tl.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v ** 2), (tl.constant(0), x))
        g = inner.gradient(y, x)
    h = outer.gradient(g, x)
    np.testing.assert_allclose(y.numpy(), x0 ** 8, rtol=1e-12)
    np.testing.assert_allclose(g.numpy(), 8 * x0 ** 7, rtol=1e-12)
    np.testing.assert_allclose(h.numpy(), 56 * x0 ** 6, rtol=1e-12)


def test_while_loop_data_dependent_stop_and_python_values():
    i, total = tl.while_loop(lambda i, s: s < 100, lambda i, s: (i + 1, s + i), [0, 0])
    assert isinstance(i, tl.Tensor)
    assert int(total) == 105 and int(i) == 15  # 0+1+...+14 = 105


def test_while_loop_single_var_and_maximum_iterations():
    y = tl.while_loop(lambda v: v < 1000.0, lambda v: v * 2.0, tl.constant(1.0))
    assert isinstance(y, tl.Tensor) and float(y) == 1024.0
    y = tl.while_loop(lambda v: True, lambda v: v + 1, [tl.constant(0)], maximum_iterations=7)
    assert isinstance(y, list) and int(y[0]) == 7
    zero = tl.while_loop(lambda v: v > 10, lambda v: v + 1, (tl.constant(3),))
    assert isinstance(zero, tuple) and int(zero[0]) == 3


def test_while_loop_nested_structure_keeps_its_shape(rng):
    Pair = collections.namedtuple("Pair", "a b")
    m = tl.constant(rng.normal(size=(3, 3)) * 0.3)
    v0 = tl.constant(rng.normal(size=(3,)))
    state = {"n": tl.constant(0), "p": Pair(v0, tl.constant(0.0, dtype=tl.float64))}

    out = tl.while_loop(lambda s: s["n"] < 4,
                        lambda s: [{"n": s["n"] + 1,
                                    "p": Pair(tl.reduce_sum(m * s["p"].a, axis=1), s["p"].b + 1.0)}],
                        [state])
    res = out[0]
    assert set(res) == {"n", "p"} and isinstance(res["p"], Pair)
    expect = v0.numpy()
    for _ in range(4):
        expect = m.numpy() @ expect
    np.testing.assert_allclose(res["p"].a.numpy(), expect, rtol=1e-10)
    assert float(res["p"].b) == 4.0


def test_while_loop_gradient_wrt_captured_variable():
    w = tl.Variable(1.5, dtype=tl.float64)
    with tl.GradientTape() as tape:
        _, y = tl.while_loop(lambda i, v: i < 4, lambda i, v: (i + 1, v * w), (0, tl.constant(1.0, tl.float64)))
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), 4 * 1.5 ** 3)


def test_case_picks_first_true_or_default():
    x = tl.constant(5)
    r = tl.case([(x < 0, lambda: tl.constant(-1)), (x > 2, lambda: tl.constant(1)), (x > 1, lambda: tl.constant(2))],
                default=lambda: tl.constant(0))
    assert int(r) == 1
    r = tl.case([(x < 0, lambda: tl.constant(-1))], default=lambda: tl.constant(0))
    assert int(r) == 0
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"case: exclusive=True.*\[0, 1\]"):
        tl.case([(x > 0, lambda: 1), (x > 1, lambda: 2)], exclusive=True)


def test_switch_case_and_its_default():
    fns = [lambda: tl.constant(10), lambda: tl.constant(20), lambda: tl.constant(30)]
    assert int(tl.switch_case(tl.constant(1), fns)) == 20
    assert int(tl.switch_case(7, fns)) == 30  # out of range: the last branch, as in TF
    assert int(tl.switch_case(-1, fns, default=lambda: tl.constant(0))) == 0
    assert int(tl.switch_case(2, {0: fns[0], 2: fns[1]})) == 20


def test_error_while_loop_body_structure_mismatch():
    with pytest.raises(ValueError, match=r"while_loop: body returned 1 values .*loop_vars has 2 values"):
        tl.while_loop(lambda i, v: i < 2, lambda i, v: (i + 1,), (0, 1.0))


def test_error_cond_non_scalar_predicate():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"cond: the predicate must be a scalar.*\[2\]"):
        tl.cond(tl.constant([True, False]), lambda: 1, lambda: 2)


def test_error_cond_symbolic_predicate():
    with pytest.raises(TypeError, match="cond: the predicate is a symbolic"):
        tl.cond(tl.SymbolicTensor((), tl.bool), lambda: 1, lambda: 2)


def test_error_cond_branches_must_be_callable():
    with pytest.raises(TypeError, match="cond: true_fn and false_fn must both be callables"):
        tl.cond(True, 1, 2)
