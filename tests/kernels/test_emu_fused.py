"""fused.cu on the host emulator, through the launcher's plans, against float64 numpy."""
import math
import shutil

import numpy as np
import pytest

from tensorlab.backend.cuda.kernels import fused as F
from tensorlab.backend.cuda.kernels._plan import run_plan

tl_emu = pytest.importorskip("tl_emu")
if shutil.which(tl_emu.CXX) is None:
    pytest.skip(f"{tl_emu.CXX} not found: the host emulator needs a C++20 compiler", allow_module_level=True)
SM = 2


@pytest.fixture(scope="module")
def lib():
    return tl_emu.build("fused")


def run(lib, plan, bufs):
    run_plan(plan, bufs, xp=np, launch_fn=lambda k, g, b, s, *a: tl_emu.launch(lib, k, g, b, s, *a))


def _erf(z):
    return np.vectorize(math.erf)(z)


def ref_act(z, act):
    if act == "linear":
        return z, np.ones_like(z)
    if act == "relu":
        return np.maximum(z, 0), (z > 0).astype(float)
    if act == "gelu_tanh":
        k0, k1 = math.sqrt(2 / math.pi), 0.044715
        t = np.tanh(k0 * (z + k1 * z ** 3))
        return 0.5 * z * (1 + t), 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * k0 * (1 + 3 * k1 * z * z)
    if act == "gelu":
        cdf = 0.5 * (1 + _erf(z / math.sqrt(2)))
        return z * cdf, cdf + z * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    s = 1 / (1 + np.exp(-z))
    if act == "silu":
        return z * s, s * (1 + z * (1 - s))
    if act == "sigmoid":
        return s, s * (1 - s)
    if act == "tanh":
        return np.tanh(z), 1 - np.tanh(z) ** 2
    raise ValueError(act)


SHAPES = [(1, 1), (3, 7), (5, 17), (4, 33), (2, 64), (3, 1025)]
ACTS = ["linear", "relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_act(lib, shape, act, dtype):
    rng = np.random.default_rng(len(act) * 100 + shape[1])
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    b = rng.standard_normal(shape[-1]).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    z = x.astype(np.float64) + b
    ry, rd = ref_act(z, act)
    tol = 2e-6 if dtype == np.float32 else 1e-13
    for has_bias in (True, False):
        zz = z if has_bias else x.astype(np.float64)
        ry, rd = ref_act(zz, act)
        y = np.full(shape, np.nan, dtype)
        run(lib, F.plan_bias_act(dtype, x.size, shape[-1], act, False, has_bias, SM), {"x": x, "bias": b, "out": y})
        np.testing.assert_allclose(y, ry, rtol=tol * 4, atol=tol)
        dz = np.full(shape, np.nan, dtype)
        run(lib, F.plan_bias_act(dtype, x.size, shape[-1], act, True, has_bias, SM),
            {"dy": dy, "x": x, "bias": b, "out": dz})
        np.testing.assert_allclose(dz, dy * rd, rtol=tol * 4, atol=tol)


def test_relu_nan_propagates(lib):
    x = np.array([[np.nan, -1.0, 2.0, 0.0]], np.float32)
    y = np.full_like(x, 7.0)
    run(lib, F.plan_bias_act(np.float32, 4, 4, "relu", False, False, SM), {"x": x, "bias": None, "out": y})
    assert np.isnan(y[0, 0]) and list(y[0, 1:]) == [0.0, 2.0, 0.0]


def ref_sgd(p, g, m, lr, momentum, wd, nesterov, decoupled):
    p, g = p.astype(np.float64), g.astype(np.float64)
    if wd:
        if decoupled:
            p = p - lr * wd * p
        else:
            g = g + wd * p
    if m is None:
        return p - lr * g, None
    m = momentum * m.astype(np.float64) - lr * g
    return (p + momentum * m - lr * g if nesterov else p + m), m


@pytest.mark.parametrize("n", [1, 7, 17, 1025])
@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("wd,decoupled", [(0.0, True), (0.01, True), (0.01, False)])
@pytest.mark.parametrize("offset", [0, 1])
def test_sgd(lib, n, nesterov, wd, decoupled, offset):
    rng = np.random.default_rng(n)
    buf = rng.standard_normal((3, n + offset)).astype(np.float32)
    p, g, m = buf[0, offset:], buf[1, offset:].copy(), buf[2, offset:]  # offset 1: misaligned, scalar path
    rp, rm = ref_sgd(p, g, m, 0.1, 0.9, wd, nesterov, decoupled)
    run(lib, F.plan_sgd(n, 0.1, 0.9, wd, nesterov, decoupled, True, SM), {"param": p, "grad": g, "mom": m})
    np.testing.assert_allclose(p, rp, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(m, rm, rtol=1e-6, atol=1e-6)


def test_sgd_no_momentum(lib):
    p = np.random.default_rng(0).standard_normal(33).astype(np.float32)
    g = np.random.default_rng(1).standard_normal(33).astype(np.float32)
    rp, _ = ref_sgd(p, g, None, 0.05, 0.0, 0.0, False, True)
    run(lib, F.plan_sgd(33, 0.05, 0.0, 0.0, False, True, False, SM), {"param": p, "grad": g, "mom": None})
    np.testing.assert_allclose(p, rp, rtol=1e-6, atol=1e-7)


def ref_adam(p, g, m, v, vh, lr, b1, b2, eps, t, wd, decoupled, amsgrad, style):
    p, g, m, v = (a.astype(np.float64) for a in (p, g, m, v))
    if wd:
        if decoupled:
            p = p - lr * wd * p
        else:
            g = g + wd * p
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    vu = v
    if amsgrad:
        vh = np.maximum(vh.astype(np.float64), v)
        vu = vh
    bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
    if style == "keras":
        p = p - lr * math.sqrt(bc2) / bc1 * m / (np.sqrt(vu) + eps)
    else:
        p = p - lr / bc1 * m / (np.sqrt(vu) / math.sqrt(bc2) + eps)
    return p, m, v, vh


@pytest.mark.parametrize("n", [1, 7, 1025])
@pytest.mark.parametrize("wd,decoupled", [(0.0, True), (0.05, True), (0.05, False)])
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("style", ["keras", "torch"])
def test_adam(lib, n, wd, decoupled, amsgrad, style):
    rng = np.random.default_rng(n + 3)
    p = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    m = (rng.standard_normal(n) * 0.1).astype(np.float32)
    v = (rng.random(n) * 0.1).astype(np.float32)
    vh = (rng.random(n) * 0.1).astype(np.float32) if amsgrad else None
    t = 5
    rp, rm, rv, rvh = ref_adam(p, g, m, v, vh, 1e-2, 0.9, 0.999, 1e-7, t, wd, decoupled, amsgrad, style)
    run(lib, F.plan_adam(n, 1e-2, 0.9, 0.999, 1e-7, t, wd, decoupled, amsgrad, style, SM),
        {"param": p, "grad": g, "m": m, "v": v, "vhat": vh})
    np.testing.assert_allclose(p, rp, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m, rm, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(v, rv, rtol=1e-5, atol=1e-8)
    if amsgrad:
        np.testing.assert_allclose(vh, rvh, rtol=1e-5, atol=1e-8)


# ------------------------------------------------------------------ the training_ops primitives' wiring
@pytest.mark.parametrize("slots,kw", [
    (0, dict(lr=0.1, momentum=0.9, nesterov=False, weight_decay=0.0)),    # no slot: momentum must not apply
    (1, dict(lr=0.1, momentum=0.9, nesterov=False, weight_decay=0.02)),
    (1, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.0)),
])
def test_apply_sgd_plan_matches_the_cpu_primitive(lib, rng, slots, kw):
    cuda_ops = pytest.importorskip("tensorlab.backend.cuda.training_ops", reason="needs CuPy importable")
    from tensorlab.backend.cpu import training_ops as cpu_ops
    n = 37
    p, g, m = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    expected = cpu_ops.apply_sgd(p, g, *([m] if slots else []), **kw)
    # out of place: the kernel reads the inputs and writes NaN-poisoned fresh outputs
    bufs = {"param": p.copy(), "grad": g, "mom": m.copy() if slots else None,
            "param_out": np.full(n, np.nan, np.float32), "mom_out": np.full(n, np.nan, np.float32) if slots else None}
    run(lib, cuda_ops.sgd_plan(n, bool(slots), sm_count=SM, **kw), bufs)
    np.testing.assert_allclose(bufs["param_out"], expected[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(bufs["param"], p)
    if slots:
        np.testing.assert_allclose(bufs["mom_out"], expected[1], rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(bufs["mom"], m)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.004])
def test_apply_adam_plan_matches_the_cpu_primitive(lib, rng, amsgrad, weight_decay):
    cuda_ops = pytest.importorskip("tensorlab.backend.cuda.training_ops", reason="needs CuPy importable")
    from tensorlab.backend.cpu import training_ops as cpu_ops
    n = 41
    p, g, m = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    v, vh = (rng.random(n).astype(np.float32) for _ in range(2))
    kw = dict(lr=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, step=5, weight_decay=weight_decay)
    expected = cpu_ops.apply_adam(p, g, m, v, *([vh] if amsgrad else []), **kw)
    ins = {"param": p, "grad": g, "m": m, "v": v, "vhat": vh if amsgrad else None}
    bufs = {k: None if a is None else a.copy() for k, a in ins.items()}
    bufs.update({f"{k}_out": np.full(n, np.nan, np.float32) for k in ("param", "m", "v", "vhat")})
    run(lib, cuda_ops.adam_plan(n, amsgrad, sm_count=SM, **kw), bufs)
    for name, e in zip(("param", "m", "v", "vhat"), expected):
        np.testing.assert_allclose(bufs[f"{name}_out"], e, rtol=2e-6, atol=1e-7, err_msg=name)
        np.testing.assert_array_equal(bufs[name], ins[name], err_msg=f"{name} (an input) changed")


@pytest.mark.parametrize("which", ["sgd", "sgd_momentum", "adam", "amsgrad"])
def test_cuda_training_ops_end_to_end_on_the_emulator(emulated_gpu, rng, which):
    """The CUDA implementations themselves (copies, plan, outputs) on the emulated GPU:
    inputs untouched, outputs equal to the CPU's."""
    cuda_ops = pytest.importorskip("tensorlab.backend.cuda.training_ops", reason="needs CuPy importable")
    from tensorlab.backend.cpu import training_ops as cpu_ops
    from tl_emu_device import DeviceArray
    n = 29
    p, g, m = (rng.standard_normal(n).astype(np.float32) for _ in range(3))
    v, vh = (rng.random(n).astype(np.float32) for _ in range(2))
    if which.startswith("sgd"):
        slots = [m] if which == "sgd_momentum" else []
        kw = dict(lr=0.1, momentum=0.9, nesterov=False, weight_decay=0.01)
        fn, ref = cuda_ops.apply_sgd, cpu_ops.apply_sgd
    else:
        slots = [m, v] + ([vh] if which == "amsgrad" else [])
        kw = dict(lr=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, step=4, weight_decay=0.004)
        fn, ref = cuda_ops.apply_adam, cpu_ops.apply_adam
    before = [a.copy() for a in [p, g] + slots]
    got = fn(*(a.view(DeviceArray) for a in [p, g] + slots), **kw)
    assert emulated_gpu.kernels() == ["tl_sgd_momentum_update_f32" if which.startswith("sgd")
                                      else "tl_adam_update_f32"]
    expected = ref(p, g, *slots, **kw)
    assert len(got) == len(expected) == 1 + len(slots)
    for a, e in zip(got, expected):
        np.testing.assert_allclose(a, e, rtol=2e-6, atol=1e-7)
    for a, b in zip([p, g] + slots, before):
        np.testing.assert_array_equal(a, b)   # the kernels ran on copies
