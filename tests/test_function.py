"""tl.function (eager, as TF under run_functions_eagerly(True)) and tl.config's eager switches."""
import gc
import inspect
import weakref

import numpy as np
import pytest

import tensorlab as tl


def test_decorator_forms_run_the_python_function_each_call(rng):
    calls = []

    def f(x, y=2.0):
        calls.append(1)  # a Python side effect runs on every call: nothing is traced
        return x * y

    x = rng.uniform(-1, 1, size=(3,)).astype(np.float32)
    plain = tl.function(f)
    bare = tl.function()(f)

    @tl.function
    def deco(x):
        return f(x)

    @tl.function(jit_compile=True, reduce_retracing=True, autograph=False, experimental_relax_shapes=True)
    def deco_args(x):
        return f(x, 3.0)

    for fn in (plain, bare, deco):
        np.testing.assert_allclose(fn(tl.constant(x)).numpy(), x * 2.0, rtol=1e-6)
    np.testing.assert_allclose(deco_args(tl.constant(x)).numpy(), x * 3.0, rtol=1e-6)
    plain(tl.constant(x))
    assert len(calls) == 5
    assert plain.python_function is f and bare.python_function is f
    assert deco.__name__ == "deco" and deco.experimental_get_tracing_count() == 0


def test_gradients_flow_through_a_function(rng):
    x = tl.constant(rng.uniform(-1, 1, size=(4,)))

    @tl.function
    def loss(v):
        return tl.reduce_sum(tl.sin(v) * v)

    with tl.GradientTape() as tape:
        tape.watch(x)
        y = loss(x)
    xv = x.numpy()
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), np.cos(xv) * xv + np.sin(xv), rtol=1e-12)


class Scaler:
    def __init__(self, k):
        self.k = k

    @tl.function
    def scale(self, x):
        return x * self.k

    @tl.function(input_signature=[tl.TensorSpec([None, 2], tl.float32)])
    def checked(self, x):
        return x + self.k


def test_methods_bind_per_instance(rng):
    a, b = Scaler(2.0), Scaler(-3.0)
    x = rng.uniform(-1, 1, size=(2,)).astype(np.float32)
    np.testing.assert_allclose(a.scale(tl.constant(x)).numpy(), x * 2.0, rtol=1e-6)
    np.testing.assert_allclose(b.scale(tl.constant(x)).numpy(), x * -3.0, rtol=1e-6)
    assert a.scale is a.scale and a.scale is not b.scale
    assert a.scale.python_function.__self__ is a
    assert list(inspect.signature(a.scale).parameters) == ["x"]  # as for a bound method
    assert Scaler.scale.python_function is Scaler.__dict__["scale"].python_function
    np.testing.assert_allclose(Scaler.scale(b, tl.constant(x)).numpy(), x * -3.0, rtol=1e-6)
    y = rng.uniform(size=(3, 2)).astype(np.float32)
    np.testing.assert_allclose(a.checked(y).numpy(), y + 2.0, rtol=1e-6)  # signature skips self


def test_bound_methods_do_not_keep_instances_alive():
    s = Scaler(1.0)
    s.scale(tl.constant(1.0))
    ref = weakref.ref(s)
    del s
    gc.collect()
    assert ref() is None


def test_input_signature_converts_python_values_and_accepts_matching_tensors(rng):
    @tl.function(input_signature=[tl.TensorSpec([None], tl.float32), tl.TensorSpec([], tl.int64)])
    def f(x, n=3):
        return x, n

    v = rng.integers(-5, 5, size=(4,))
    x, n = f(v.tolist())
    assert x.dtype == tl.float32 and n.dtype == tl.int64 and int(n) == 3
    np.testing.assert_array_equal(x.numpy(), v.astype(np.float32))
    x, n = f(n=7, x=tl.constant(v.astype(np.float32)))
    assert int(n) == 7 and tuple(x.shape) == (4,)
    var = tl.Variable(np.ones(2, np.float32))
    assert f(var, 1)[0] is var  # variables pass through (gradients reach them)
    assert f.input_signature == (tl.TensorSpec([None], tl.float32), tl.TensorSpec([], tl.int64))


def test_input_signature_nested_structures():
    @tl.function(input_signature=[{"a": tl.TensorSpec([2], tl.float32), "b": [tl.TensorSpec([], tl.int32)]}])
    def f(d):
        return d

    out = f({"a": [1.0, 2.0], "b": [5]})
    assert out["a"].dtype == tl.float32 and out["b"][0].dtype == tl.int32
    with pytest.raises(ValueError, match=r"f: argument 'd' = \{'a': \[1.0, 2.0\]\} does not match "
                                         r"input_signature\[0\] .*expected a dict with the same structure"):
        f({"a": [1.0, 2.0]})
    with pytest.raises(ValueError, match=r"f: argument 'd' has shape \(3,\), whose shape does not match "
                                         r"input_signature\[0\]\['a'\] TensorSpec\(shape=\(2,\)"):
        f({"a": [1.0, 2.0, 3.0], "b": [5]})


def test_error_input_signature_dtype_mismatch():
    @tl.function(input_signature=[tl.TensorSpec([None], tl.float32)])
    def double(x):
        return x * 2

    spec = r"input_signature\[0\] TensorSpec\(shape=\(None,\), dtype=tl.float32, name=None\)"
    with pytest.raises(TypeError, match=r"double: argument 'x' has dtype int32, which does not match " + spec):
        double(tl.constant([1, 2]))
    with pytest.raises(TypeError, match=r"double: argument 'x' has dtype float64, which does not match " + spec):
        double(tl.constant([1.0], tl.float64))
    with pytest.raises(TypeError, match="double: argument 'x' has dtype bool"):
        double([True, False])


def test_error_input_signature_rank_and_shape_mismatch():
    @tl.function(input_signature=[tl.TensorSpec([None, 3], tl.float32)])
    def f(x):
        return x

    with pytest.raises(ValueError, match=r"f: argument 'x' has shape \(3,\), whose rank does not match "
                                         r"input_signature\[0\] TensorSpec\(shape=\(None, 3\)"):
        f([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"f: argument 'x' has shape \(2, 2\), whose shape does not match "
                                         r"input_signature\[0\] TensorSpec\(shape=\(None, 3\)"):
        f(tl.ones([2, 2]))
    assert tuple(f(tl.ones([5, 3])).shape) == (5, 3)


def test_error_input_signature_arguments():
    @tl.function(input_signature=[tl.TensorSpec([], tl.float32)])
    def f(x, scale=2.0):
        return x * scale

    with pytest.raises(TypeError, match="f: its input_signature has 1 entries, so it takes at most 1 arguments, "
                                        "but 2 positional arguments were given"):
        f(1.0, 3.0)
    with pytest.raises(TypeError, match=r"f: argument\(s\) \['scale'\] are not in the input_signature"):
        f(1.0, scale=3.0)
    with pytest.raises(TypeError, match=r"f: missing argument 'x' required by input_signature\[0\]"):
        f()
    with pytest.raises(TypeError, match="f: got multiple values for argument 'x'"):
        f(1.0, x=2.0)
    with pytest.raises(TypeError, match="input_signature of .*g must be a list or tuple of tl.TensorSpec, got "
                                        "TensorSpec"):
        @tl.function(input_signature=tl.TensorSpec([], tl.float32))
        def g(x):
            return x
    with pytest.raises(TypeError, match=r"must hold only tl.TensorSpec .*got 2$"):
        tl.function(lambda x: x, input_signature=[[2]])
    with pytest.raises(TypeError, match=r"has 2 entries but the function takes only 1 positional arguments \(x\)"):
        tl.function(lambda x: x, input_signature=[tl.TensorSpec([]), tl.TensorSpec([])])
    with pytest.raises(TypeError, match="function: expected a callable to wrap, got int"):
        tl.function(3)


def test_varargs_signature():
    @tl.function(input_signature=[tl.TensorSpec([], tl.int32), tl.TensorSpec([], tl.int32)])
    def add(*xs):
        return xs[0] + xs[1]

    assert int(add(2, 3)) == 5
    with pytest.raises(TypeError, match=r"add: argument 'xs\[1\]' has dtype float32"):
        add(2, tl.constant(1.0))


def test_config_run_functions_eagerly():
    assert tl.config.functions_run_eagerly() is True
    try:
        tl.config.run_functions_eagerly(False)
        assert tl.config._flags["run_functions_eagerly"] is False
        assert tl.config.functions_run_eagerly() is True  # no tracer: functions always run eagerly
        tl.config.run_functions_eagerly(True)
        assert tl.config._flags["run_functions_eagerly"] is True
    finally:
        tl.config.run_functions_eagerly(False)
