"""The op-test harness: forward vs numpy float64, gradients vs finite
differences, second derivatives, shape rules, and CPU-vs-GPU agreement.

Typical use in ``tests/ops/test_<family>.py``::

    CASES = [Case("exp", tl.exp, np.exp, [S()]), ...]

    @pytest.mark.parametrize("case", CASES, ids=str)
    def test_forward(case, rng): check_forward(case, rng)

Inputs are drawn fresh (never zeros) for each run; shapes come from the case
or from hypothesis strategies (see ``shapes_strategy``).
"""
from dataclasses import dataclass, field

import numpy as np

import tensorlab as tl

FLOAT_TOL = {"float64": 1e-10, "float32": 2e-5, "float16": 2e-2}


@dataclass
class S:
    """One input of a case: shape, and how to draw its values."""
    shape: tuple = (3, 4)
    dtype: str = "float64"
    low: float = -2.0
    high: float = 2.0
    kind: str = "float"        # "float", "int" (integers in [low, high)), "bool", "const" (given value)
    value: object = None
    diff: bool = True          # differentiate w.r.t. this input

    def draw(self, rng, shape=None):
        shape = self.shape if shape is None else shape
        if self.kind == "const":
            return np.asarray(self.value)
        if self.kind == "int":
            return rng.integers(int(self.low), int(self.high), size=shape).astype(self.dtype)
        if self.kind == "bool":
            return rng.random(shape) < 0.5
        return rng.uniform(self.low, self.high, size=shape).astype(self.dtype)


@dataclass
class Case:
    """One op under test.

    fn: the tensorlab function, called as ``fn(*tensors, **kwargs)``.
    ref: numpy reference on float64 arrays, same signature.
    inputs: list of ``S``.
    grad: check first derivatives; second: check second derivatives.
    """
    name: str
    fn: object
    ref: object
    inputs: list
    kwargs: dict = field(default_factory=dict)
    grad: bool = True
    second: bool = True
    rtol: float = 1e-10
    grad_rtol: float = 1e-5
    eps: float = 1e-6

    def __str__(self):
        return self.name


def _call(case, arrays, dtype=None):
    ts = [tl.constant(a if dtype is None or a.dtype.kind != "f" else a.astype(dtype)) for a in arrays]
    return case.fn(*ts, **case.kwargs)


def _out_list(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def assert_close(actual, expected, rtol, atol=None, what=""):
    actual = np.asarray(actual, dtype=np.float64) if np.asarray(actual).dtype.kind in "fiub" else np.asarray(actual)
    expected = np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != expected {expected.shape}"
    if expected.dtype.kind == "b":
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    atol = rtol * max(1.0, float(np.max(np.abs(expected))) if expected.size else 1.0) if atol is None else atol
    np.testing.assert_allclose(actual, expected.astype(np.float64), rtol=rtol, atol=atol, err_msg=what)


def draw(case, rng, shapes=None):
    return [s.draw(rng, None if shapes is None else shapes[i]) for i, s in enumerate(case.inputs)]


def check_forward(case, rng, shapes=None, dtypes=("float64", "float32")):
    """Forward result vs the numpy float64 reference, for each float dtype."""
    arrays = draw(case, rng, shapes)
    ref = _out_list(case.ref(*[a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays],
                             **case.kwargs))
    for d in dtypes:
        got = _out_list(_call(case, arrays, d))
        assert len(got) == len(ref), f"{case.name}: {len(got)} outputs, expected {len(ref)}"
        for g, r in zip(got, ref):
            assert isinstance(g, tl.Tensor)
            if any(a.dtype.kind == "f" for a in arrays) and np.asarray(r).dtype.kind == "f":
                assert g.dtype.name == d, f"{case.name}: output dtype {g.dtype.name}, expected {d}"
            tol = max(case.rtol, FLOAT_TOL[d])
            assert_close(g.numpy(), r, tol, what=f"{case.name} forward ({d})")
    return arrays


def _objective(case, weights):
    """A scalar of the op's outputs: sum_i <w_i, y_i> (random weights, not just sum)."""
    def f(*ts):
        ys = _out_list(case.fn(*ts, **case.kwargs))
        total = None
        for y, w in zip(ys, weights):
            if not y.dtype.is_floating:
                continue
            term = tl.reduce_sum(y * tl.constant(w.astype(y.dtype.name)))
            total = term if total is None else total + term
        return total
    return f


def numeric_grad(f, arrays, i, eps):
    """Central finite differences of scalar f w.r.t. arrays[i] (float64)."""
    x = arrays[i]
    g = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        orig = x[idx]
        x[idx] = orig + eps
        fp = f(arrays)
        x[idx] = orig - eps
        fm = f(arrays)
        x[idx] = orig
        g[idx] = (fp - fm) / (2 * eps)
    return g


def check_grad(case, rng, shapes=None):
    """Reverse-mode gradient vs central finite differences, in float64."""
    arrays = draw(case, rng, shapes)
    outs = _out_list(_call(case, arrays))
    weights = [rng.uniform(0.5, 1.5, size=tuple(o.shape)) for o in outs]
    obj = _objective(case, weights)
    ts = [tl.constant(a) for a in arrays]
    with tl.GradientTape(persistent=True) as tape:
        for t_, s in zip(ts, case.inputs):
            if s.diff and s.kind == "float":
                tape.watch(t_)
        val = obj(*ts)
    for i, s in enumerate(case.inputs):
        if not (s.diff and s.kind == "float"):
            continue
        g = tape.gradient(val, ts[i], unconnected_gradients="zero")
        num = numeric_grad(lambda arrs: float(obj(*[tl.constant(a) for a in arrs]).numpy()),
                           [a.copy() for a in arrays], i, case.eps)
        assert_close(g.numpy(), num, case.grad_rtol, atol=case.grad_rtol * max(1.0, np.abs(num).max()),
                     what=f"{case.name} gradient wrt input #{i}")


def check_second(case, rng, shapes=None):
    """Hessian-vector products (nested tapes) vs finite differences of the gradient."""
    arrays = draw(case, rng, shapes)
    outs = _out_list(_call(case, arrays))
    weights = [rng.uniform(0.5, 1.5, size=tuple(o.shape)) for o in outs]
    obj = _objective(case, weights)
    diff = [i for i, s in enumerate(case.inputs) if s.diff and s.kind == "float"]
    vs = [rng.uniform(-1, 1, size=arrays[i].shape) for i in diff]

    def grad_dot_v(arrs):
        ts = [tl.constant(a) for a in arrs]
        with tl.GradientTape() as tape:
            for i in diff:
                tape.watch(ts[i])
            val = obj(*ts)
        gs = tape.gradient(val, [ts[i] for i in diff], unconnected_gradients="zero")
        return sum(tl.reduce_sum(g * tl.constant(v)) for g, v in zip(gs, vs))

    ts = [tl.constant(a) for a in arrays]
    with tl.GradientTape(persistent=True) as outer:
        for i in diff:
            outer.watch(ts[i])
        with tl.GradientTape() as inner:
            for i in diff:
                inner.watch(ts[i])
            val = obj(*ts)
        gs = inner.gradient(val, [ts[i] for i in diff], unconnected_gradients="zero")
        gv = sum(tl.reduce_sum(g * tl.constant(v)) for g, v in zip(gs, vs))
    for k, i in enumerate(diff):
        h = outer.gradient(gv, ts[i], unconnected_gradients="zero")
        num = numeric_grad(lambda arrs: float(grad_dot_v(arrs).numpy()), [a.copy() for a in arrays], i, 1e-5)
        assert_close(h.numpy(), num, 1e-4, atol=1e-4 * max(1.0, np.abs(num).max()),
                     what=f"{case.name} second derivative wrt input #{i}")


def check_shape_rule(case, rng, shapes=None):
    """Running the op on symbolic tensors gives the eager output's shape and dtype."""
    arrays = draw(case, rng, shapes)
    eager = _out_list(_call(case, arrays))
    syms = [tl.SymbolicTensor(a.shape, tl.as_dtype(a.dtype)) for a in arrays]
    sym = _out_list(case.fn(*syms, **case.kwargs))
    for e, s in zip(eager, sym):
        assert tuple(s.shape) == tuple(e.shape), f"{case.name}: shape rule {s.shape} vs eager {e.shape}"
        assert s.dtype == e.dtype, f"{case.name}: shape rule dtype {s.dtype} vs eager {e.dtype}"


def check_gpu_matches_cpu(case, rng, shapes=None):
    """The GPU result and gradients agree with the CPU backend (float32)."""
    arrays = [a.astype(np.float32) if a.dtype.kind == "f" else a for a in draw(case, rng, shapes)]
    results = {}
    for dev in ("cpu", "gpu:0"):
        with tl.device(dev):
            ts = [tl.constant(a) for a in arrays]
            with tl.GradientTape() as tape:
                for t_, s in zip(ts, case.inputs):
                    if s.kind == "float":
                        tape.watch(t_)
                ys = _out_list(case.fn(*ts, **case.kwargs))
                floats = [y for y in ys if y.dtype.is_floating]
                obj = tl.add_n([tl.reduce_sum(y) for y in floats]) if floats and case.grad else None
            grads = tape.gradient(obj, ts) if obj is not None else []
            results[dev] = ([y.numpy() for y in ys], [None if g is None else g.numpy() for g in grads])
    (yc, gc), (yg, gg) = results["cpu"], results["gpu:0"]
    for a, b in zip(yc, yg):
        assert_close(b, a, 1e-4, what=f"{case.name} GPU vs CPU forward")
    for a, b in zip(gc, gg):
        assert (a is None) == (b is None)
        if a is not None:
            assert_close(b, a, 1e-4, what=f"{case.name} GPU vs CPU gradient")


def op_tests(cases):
    """The standard tests of a family's ``cases``, to put in a test module with
    ``globals().update(op_tests(CASES))``: forward (all cases), gradient (cases
    with ``grad``), second derivative (``grad`` and ``second``), shape rule
    (all) and GPU-vs-CPU agreement (all, marked ``gpu``)."""
    import pytest

    diff = [c for c in cases if c.grad]
    second = [c for c in diff if c.second]

    @pytest.mark.parametrize("case", cases, ids=str)
    def test_forward(case, rng):
        check_forward(case, rng)

    @pytest.mark.parametrize("case", diff, ids=str)
    def test_gradient(case, rng):
        check_grad(case, rng)

    @pytest.mark.parametrize("case", second, ids=str)
    def test_second_derivative(case, rng):
        check_second(case, rng)

    @pytest.mark.parametrize("case", cases, ids=str)
    def test_shape_rule(case, rng):
        check_shape_rule(case, rng)

    @pytest.mark.gpu
    @pytest.mark.parametrize("case", cases, ids=str)
    def test_gpu_matches_cpu(case, rng):
        check_gpu_matches_cpu(case, rng)

    return {f.__name__: f for f in (test_forward, test_gradient, test_second_derivative, test_shape_rule,
                                    test_gpu_matches_cpu)}
