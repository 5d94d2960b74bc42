"""Checks shared by the tests of the numpy_*.py modules of keras.ops: result dtypes against the real
Keras 3, gradients against finite differences, and the emulated (or real) GPU against the CPU."""
import importlib.util
import os

import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import numeric_grad

# The dtypes Keras 3 on PyTorch reports as tensorlab (like Keras on TensorFlow) does: without 64-bit
# types, which Keras demotes to 32 bits on its non-TensorFlow backends.
DTYPES_32 = ["bool", "int8", "uint8", "int16", "int32", "float16", "bfloat16", "float32"]


def real_keras():
    """The real Keras 3 (``keras``) on a CPU backend, or a skip."""
    if "KERAS_BACKEND" not in os.environ:
        for backend, module in (("torch", "torch"), ("jax", "jax")):
            if importlib.util.find_spec(module) is not None:
                os.environ["KERAS_BACKEND"] = backend
                break
    try:
        import keras
    except Exception as e:  # pragma: no cover - depends on the environment
        pytest.skip(f"Keras 3 with a backend is not importable: {e}")
    if not keras.__version__.startswith("3.") or keras.backend.backend() == "tensorflow":
        pytest.skip(f"needs Keras 3 on a backend other than TensorFlow, found {keras.__version__} on "
                    f"{keras.backend.backend()}")
    return keras


def _inputs_of(dtype, keras, values):
    """The same values as a real-Keras tensor and a tensorlab tensor of ``dtype`` (bool: ``values > 2``)."""
    if dtype == "bool":
        return keras.ops.convert_to_tensor(values > 2), tl.constant(values > 2)
    f = values.astype("float32")
    return keras.ops.cast(keras.ops.convert_to_tensor(f), dtype), tl.cast(tl.constant(f), dtype)


def _dtype_name(fn, *args, standardize=None):
    try:
        out = fn(*args)
    except Exception:
        return "error"
    return standardize(out.dtype) if standardize else out.dtype.name


def check_dtypes_match_keras(name, values, args=lambda x, ops: (x,)):
    """For each dtype of ``DTYPES_32`` that the real Keras accepts, ``ops.<name>(*args(x, ops))`` gives
    the dtype Keras gives (``args`` builds the arguments from an input ``x`` and the ops module)."""
    from tensorlab.keras import ops
    keras = real_keras()
    for d in DTYPES_32:
        kx, tx = _inputs_of(d, keras, values)
        want = _dtype_name(getattr(keras.ops, name), *args(kx, keras.ops),
                           standardize=keras.backend.standardize_dtype)
        if want == "error":  # Keras refuses these inputs; tensorlab may refuse or accept them
            continue
        got = _dtype_name(getattr(ops, name), *args(tx, ops))
        assert got == want, f"ops.{name} of {d}: tensorlab gives {got}, Keras {want}"


def check_gradient(f, x, rtol=1e-5, atol=1e-7):
    """The tape gradient of scalar ``f(tensor)`` at float64 ``x`` matches central finite differences."""
    xt = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(xt)
        y = f(xt)
    got = tape.gradient(y, xt)
    assert got is not None, "no gradient reached the input"
    want = numeric_grad(lambda arrs: float(f(tl.constant(arrs[0])).numpy()), [x.copy()], 0, 1e-6)
    np.testing.assert_allclose(got.numpy(), want, rtol=rtol, atol=atol)


def _as_list(y):
    return list(y) if isinstance(y, (tuple, list)) else [y]


def check_gpu_matches_cpu(f, arrays, rtol=1e-5, grad=True):
    """``f`` of float32 tensors made on the GPU agrees with the CPU (values and, with ``grad``, the
    gradient of the sum of its float outputs). The call runs under the CPU's device scope: the
    ops must follow their inputs to the GPU."""
    results = {}
    for dev in ("cpu", "gpu:0"):
        with tl.device(dev):
            ts = [tl.constant(a) for a in arrays]
        with tl.device("cpu"), tl.GradientTape() as tape:
            for t in ts:
                if t.dtype.is_floating:
                    tape.watch(t)
            ys = _as_list(f(*ts))
            floats = [tl.reduce_sum(tl.cast(y, tl.float32)) for y in ys if y.dtype.is_floating]
        assert all(f"{dev.split(':')[0].upper()}:0" in y.device for y in ys), [y.device for y in ys]
        grads = tape.gradient(tl.add_n(floats), [t for t in ts if t.dtype.is_floating]) if grad and floats else []
        results[dev] = [y.numpy() for y in ys], [None if g is None else g.numpy() for g in grads]
    (yc, gc), (yg, gg) = results["cpu"], results["gpu:0"]
    for a, b in zip(yc, yg):
        np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=rtol, atol=rtol)
    for a, b in zip(gc, gg):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(b, a, rtol=rtol, atol=rtol)
