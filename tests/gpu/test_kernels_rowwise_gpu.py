"""reduce / rowwise / fused launchers on the GPU vs float64 numpy.

Fresh random inputs per test (seed printed on failure), odd sizes (1, 7, 17, 1023, 4097, 65536
columns), non-contiguous inputs, and outputs poisoned with NaN: before each call the CuPy memory
pool is handed NaN-filled blocks of the output sizes, which `cupy.empty` then reuses.
"""
import math

import numpy as np
import pytest

cupy = pytest.importorskip("cupy")
pytestmark = pytest.mark.gpu


def _has_gpu():
    try:
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


if not _has_gpu():
    pytest.skip("no CUDA device", allow_module_level=True)


def _load(*stems):
    import importlib

    try:
        return tuple(importlib.import_module(f"tensorlab.backend.cuda.kernels.{s}") for s in stems)
    except ImportError:
        import importlib.util
        import sys
        from pathlib import Path

        kdir = Path(__file__).resolve().parents[2] / "tensorlab/backend/cuda/kernels"
        name = "_tl_kernels_standalone"
        if name not in sys.modules:
            spec = importlib.util.spec_from_file_location(name, kdir / "__init__.py",
                                                          submodule_search_locations=[str(kdir)])
            pkg = importlib.util.module_from_spec(spec)
            sys.modules[name] = pkg
            spec.loader.exec_module(pkg)
        return tuple(importlib.import_module(f"{name}.{s}") for s in stems)


R, RW, F = _load("reduce", "rowwise", "fused")


@pytest.fixture
def rng(request):
    seed = np.random.SeedSequence().entropy % (2 ** 32)
    request.node.user_properties.append(("seed", seed))
    print(f"seed={seed}")
    return np.random.default_rng(seed)


def poison(*nbytes_list):
    bufs = [cupy.full(max(1, n // 4 + 1), np.nan, np.float32) for n in nbytes_list]
    cupy.cuda.Device().synchronize()
    del bufs


def to_np(a):
    return cupy.asnumpy(a).astype(np.float64)


def close(got, ref, rtol, atol=None, msg=""):
    got = np.asarray(got, dtype=np.float64)
    ref = np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, (got.shape, ref.shape, msg)
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=rtol if atol is None else atol, err_msg=msg)


COLS = [1, 7, 17, 1023, 4097, 65536]


# ------------------------------------------------------------------------------ reductions
@pytest.mark.parametrize("cols", COLS)
@pytest.mark.parametrize("op", ["sum", "mean", "max", "min"])
def test_reduce_rows(rng, cols, op):
    rows = max(1, 200000 // cols) if cols < 65536 else 3
    x = cupy.asarray(rng.standard_normal((rows, cols)).astype(np.float32))
    poison(rows * 4)
    got = R.reduce(x, op, axes=1)
    x64 = to_np(x)
    ref = getattr(np, op)(x64, axis=1)
    close(to_np(got), ref, 1e-5, 1e-5 * np.sqrt(cols) if op in ("sum", "mean") else 0, op)


@pytest.mark.parametrize("shape,axes", [((1000, 7), (0,)), ((3, 4097, 5), (1,)), ((64, 33, 17), (0, 2)),
                                        ((2, 3, 1000, 9), (0, 2)), ((5000000,), None), ((1, 1), None)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_reduce_axes_and_dtypes(rng, shape, axes, dtype):
    x = cupy.asarray(rng.standard_normal(shape).astype(dtype))
    for op in ("sum", "max"):
        got = R.reduce(x, op, axes=axes, keepdims=True)
        assert got.dtype == dtype
        ref = getattr(np, op)(to_np(x), axis=axes, keepdims=True)
        n = x.size // max(1, ref.size)
        rtol = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-3}[dtype]
        atol = rtol * np.sqrt(n) * 4 if op == "sum" else 0
        if dtype == np.float16 and op == "sum":
            atol = max(atol, float(np.abs(ref).max()) * 1e-3)  # rounding of the f16 result
        close(to_np(got), ref, rtol, atol, f"{op} {shape} {axes}")


def test_reduce_noncontiguous_and_prod(rng):
    base = cupy.asarray(rng.uniform(0.9, 1.1, (300, 64, 10)).astype(np.float32))
    x = base[::3, 5:60:2].transpose(2, 0, 1)  # strided + transposed view
    for op, axes in (("prod", (2,)), ("sum", (0, 2)), ("min", (1,))):
        got = R.reduce(x, op, axes=axes)
        ref = getattr(np, op)(to_np(x), axis=axes)
        close(to_np(got), ref, 1e-5, 1e-4, op)


@pytest.mark.parametrize("shape,axes", [((1000, 8), (0,)), ((3, 4097, 64), (1,)), ((16384, 1024), (0,)),
                                        ((2, 3, 1000, 16), (1, 2)), ((7, 5, 12), (0,))])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_reduce_cols_vec_candidate(rng, shape, axes, dtype):
    # The 16-byte-load column kernel (variant="vec"), also on a base that is not 16-byte aligned
    # (the launcher copies it) and with the output poisoned beforehand.
    flat = cupy.asarray(rng.standard_normal(int(np.prod(shape)) + 1).astype(dtype))
    for x in (flat[:-1].reshape(shape), flat[1:].reshape(shape)):
        for op in ("sum", "max", "mean"):
            poison(int(np.prod(shape)) * 8)
            got = R.reduce(x, op, axes=axes, variant="vec")
            ref = getattr(np, op)(to_np(x), axis=axes)
            n = x.size // max(1, ref.size)
            rtol = {np.float32: 1e-5, np.float64: 1e-12, np.float16: 2e-3}[dtype]
            atol = rtol * np.sqrt(n) * 4 if op != "max" else 0
            if dtype == np.float16 and op != "max":
                atol = max(atol, float(np.abs(ref).max()) * 1e-3)
            close(to_np(got), ref, rtol, atol, f"vec {op} {shape} {axes} {dtype}")


@pytest.mark.parametrize("shape,axis", [((100, 1023), 1), ((7, 65536), 1), ((4097, 33), 0), ((100000, 3), 0),
                                        ((3, 5, 7), None), ((10 ** 6,), 0)])
@pytest.mark.parametrize("op", ["argmax", "argmin"])
def test_argreduce(rng, shape, axis, op):
    xh = rng.integers(-1000, 1000, shape).astype(np.float32)  # ties: first index wins
    got = R.argreduce(cupy.asarray(xh), op, axis=axis)
    np.testing.assert_array_equal(cupy.asnumpy(got), getattr(np, op)(xh, axis=axis))


# ------------------------------------------------------------------------------ softmax family
def ref_softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("cols", COLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family(rng, cols, dtype):
    rows = min(300, max(1, 2000000 // cols))
    x = cupy.asarray((rng.standard_normal((rows, cols)) * 4).astype(dtype))
    x64 = to_np(x)
    p = ref_softmax(x64)
    lse = np.log(np.exp(x64 - x64.max(-1, keepdims=True)).sum(-1)) + x64.max(-1)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    poison(x.nbytes)
    close(to_np(RW.softmax(x)), p, rtol, rtol * 0.1, "softmax")
    poison(x.nbytes)
    close(to_np(RW.log_softmax(x)), x64 - lse[:, None], rtol, rtol * 10, "log_softmax")
    poison(rows * 8)
    close(to_np(RW.logsumexp(x)), lse, rtol, rtol, "logsumexp")
    dy = cupy.asarray(rng.standard_normal((rows, cols)).astype(dtype))
    y = RW.softmax(x)
    y64, dy64 = to_np(y), to_np(dy)
    close(to_np(RW.softmax_grad(y, dy)), y64 * (dy64 - (dy64 * y64).sum(-1, keepdims=True)), rtol * 10, rtol * 10)


@pytest.mark.parametrize("cols", [4, 128, 1024, 1028, 4096, 16384, 16388, 65536])
def test_softmax_cached_candidate(rng, cols):
    """The register-cached softmax / log_softmax candidates (float32), forced by variant=."""
    rows = min(300, max(1, 2000000 // cols))
    x = cupy.asarray((rng.standard_normal((rows, cols)) * 4).astype(np.float32))
    x64 = to_np(x)
    lse = np.log(np.exp(x64 - x64.max(-1, keepdims=True)).sum(-1)) + x64.max(-1)
    poison(x.nbytes)
    close(to_np(RW.softmax(x, variant="cached")), ref_softmax(x64), 1e-5, 1e-6, "softmax")
    poison(x.nbytes)
    close(to_np(RW.log_softmax(x, variant="cached")), x64 - lse[:, None], 1e-5, 1e-4, "log_softmax")


def test_softmax_noncontiguous_3d(rng):
    base = cupy.asarray(rng.standard_normal((6, 40, 2050)).astype(np.float32))
    x = base[:, ::3, 1:2049]
    close(to_np(RW.softmax(x)), ref_softmax(to_np(x)), 1e-5, 1e-6)


@pytest.mark.parametrize("cols", [1, 7, 1023, 4097, 65536])
@pytest.mark.parametrize("variant", [None, "cached"])  # "cached": the register-cached candidate
def test_sparse_xent(rng, cols, variant):
    rows = min(512, max(1, 2000000 // cols))
    x = cupy.asarray((rng.standard_normal((rows, cols)) * 3).astype(np.float32))
    labels_h = rng.integers(0, cols, rows).astype(np.int32)
    g_h = rng.standard_normal(rows).astype(np.float32)
    poison(x.nbytes, rows * 4)
    loss, dl = RW.sparse_xent(x, cupy.asarray(labels_h), grad=cupy.asarray(g_h), variant=variant)
    x64 = to_np(x)
    p = ref_softmax(x64)
    lse = np.log(np.exp(x64 - x64.max(-1, keepdims=True)).sum(-1)) + x64.max(-1)
    close(to_np(loss), lse - x64[np.arange(rows), labels_h], 1e-5, 1e-5)
    onehot = np.zeros_like(p)
    onehot[np.arange(rows), labels_h] = 1
    close(to_np(dl), (p - onehot) * g_h[:, None], 1e-5, 1e-6)


# ------------------------------------------------------------------------------ norms
@pytest.mark.parametrize("cols", [1, 7, 17, 1023, 4097, 65536])
@pytest.mark.parametrize("variant", [None, "cached"])  # "cached": the register-cached candidate
def test_layer_norm(rng, cols, variant):
    rows = min(256, max(2, 1000000 // cols))
    x = cupy.asarray((rng.standard_normal((rows, cols)) * 2 + 3).astype(np.float32))
    gamma = cupy.asarray(rng.standard_normal(cols).astype(np.float32))
    beta = cupy.asarray(rng.standard_normal(cols).astype(np.float32))
    poison(x.nbytes, rows * 4, rows * 4)
    y, mean, rstd = RW.layer_norm(x, gamma, beta, 1e-5, variant=variant)
    x64, g64, b64 = to_np(x), to_np(gamma), to_np(beta)
    mu = x64.mean(-1)
    rs = 1 / np.sqrt(x64.var(-1) + 1e-5)
    xhat = (x64 - mu[:, None]) * rs[:, None]
    close(to_np(y), xhat * g64 + b64, 2e-4, 2e-4)
    close(to_np(mean), mu, 1e-5, 1e-5)
    close(to_np(rstd), rs, 1e-4, 1e-4)
    dy = cupy.asarray(rng.standard_normal((rows, cols)).astype(np.float32))
    dx, dg, db = RW.layer_norm_grad(dy, x, gamma, mean, rstd)
    dy64 = to_np(dy)
    gdy = dy64 * g64
    ref_dx = rs[:, None] * (gdy - gdy.mean(-1, keepdims=True) - xhat * (gdy * xhat).mean(-1, keepdims=True))
    close(to_np(dx), ref_dx, 5e-4, 5e-4)
    close(to_np(dg), (dy64 * xhat).sum(0), 1e-4, 1e-4 * np.sqrt(rows))
    close(to_np(db), dy64.sum(0), 1e-4, 1e-4 * np.sqrt(rows))


@pytest.mark.parametrize("shape", [(8, 7, 7, 64), (2, 33, 17, 3), (1, 1, 1, 5), (64, 56, 56, 17)])
def test_batch_norm(rng, shape):
    x = cupy.asarray((rng.standard_normal(shape) * 2 + 5).astype(np.float32))
    C = shape[-1]
    poison(C * 4, C * 4)
    mean, var = RW.batch_norm_stats(x)
    x64 = to_np(x).reshape(-1, C)
    M = x64.shape[0]
    close(to_np(mean), x64.mean(0), 1e-5, 1e-5)
    close(to_np(var), x64.var(0), 1e-4, 1e-4)
    rstd = 1 / cupy.sqrt(var + 1e-3)
    gamma = cupy.asarray(rng.standard_normal(C).astype(np.float32))
    dy = cupy.asarray(rng.standard_normal(shape).astype(np.float32))
    dx, dg, db = RW.batch_norm_grad(dy, x, mean, rstd, gamma)
    rs = 1 / np.sqrt(x64.var(0) + 1e-3)
    xhat = (x64 - x64.mean(0)) * rs
    dy64 = to_np(dy).reshape(-1, C)
    rdb, rdg = dy64.sum(0), (dy64 * xhat).sum(0)
    close(to_np(db), rdb, 1e-4, 1e-4 * np.sqrt(M))
    close(to_np(dg), rdg, 1e-4, 1e-4 * np.sqrt(M))
    ref_dx = to_np(gamma) * rs * (dy64 - rdb / M - xhat * rdg / M)
    close(to_np(dx).reshape(-1, C), ref_dx, 5e-4, 5e-4)


# ------------------------------------------------------------------------------ fused
def ref_act(z, act):
    if act == "relu":
        return np.maximum(z, 0), (z > 0) * 1.0
    if act in ("gelu", "gelu_tanh"):
        if act == "gelu_tanh":
            k0, k1 = math.sqrt(2 / math.pi), 0.044715
            t = np.tanh(k0 * (z + k1 * z ** 3))
            return 0.5 * z * (1 + t), 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * k0 * (1 + 3 * k1 * z * z)
        erf = np.vectorize(math.erf)
        cdf = 0.5 * (1 + erf(z / math.sqrt(2)))
        return z * cdf, cdf + z * np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    s = 1 / (1 + np.exp(-z))
    if act == "silu":
        return z * s, s * (1 + z * (1 - s))
    if act == "sigmoid":
        return s, s * (1 - s)
    return np.tanh(z), 1 - np.tanh(z) ** 2


@pytest.mark.parametrize("shape", [(1, 1), (33, 7), (17, 1023), (3, 4097), (2, 65536)])
@pytest.mark.parametrize("act", ["relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"])
def test_bias_act(rng, shape, act):
    x = cupy.asarray((rng.standard_normal(shape) * 3).astype(np.float32))
    b = cupy.asarray(rng.standard_normal(shape[-1]).astype(np.float32))
    dy = cupy.asarray(rng.standard_normal(shape).astype(np.float32))
    poison(x.nbytes)
    y = F.bias_act(x, b, act)
    z = to_np(x) + to_np(b)
    ry, rd = ref_act(z, act)
    close(to_np(y), ry, 1e-5, 1e-5, act)
    dx, db = F.bias_act_grad(dy, x, b, act)
    close(to_np(dx), to_np(dy) * rd, 1e-5, 1e-5, act)
    close(to_np(db), (to_np(dy) * rd).sum(0), 1e-5, 1e-5 * np.sqrt(shape[0]), act)


def test_bias_act_noncontiguous(rng):
    base = cupy.asarray(rng.standard_normal((50, 130)).astype(np.float32))
    x = base[:, 1:129]  # misaligned rows
    y = F.bias_act(x, None, "silu")
    close(to_np(y), ref_act(to_np(x), "silu")[0], 1e-5, 1e-6)


@pytest.mark.parametrize("n", [1, 7, 1023, 65537])
def test_optimizers(rng, n):
    p0 = rng.standard_normal(n).astype(np.float32)
    g = rng.standard_normal(n).astype(np.float32)
    m0 = (rng.standard_normal(n) * 0.1).astype(np.float32)
    p, m = cupy.asarray(p0), cupy.asarray(m0)
    F.sgd_momentum_update(p, cupy.asarray(g), m, lr=0.1, momentum=0.9, weight_decay=0.01, nesterov=True)
    p64 = p0 * (1 - 0.1 * 0.01)
    m64 = 0.9 * m0.astype(np.float64) - 0.1 * g
    close(to_np(m), m64, 1e-6, 1e-6)
    close(to_np(p), p64 + 0.9 * m64 - 0.1 * g, 1e-6, 1e-6)

    v0 = (rng.random(n) * 0.1).astype(np.float32)
    vh0 = (rng.random(n) * 0.1).astype(np.float32)
    p, m, v, vh = (cupy.asarray(a) for a in (p0, m0, v0, vh0))
    F.adam_update(p, cupy.asarray(g), m, v, vh, lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-7, step=3,
                  weight_decay=0.05, decoupled=True, amsgrad=True, eps_style="torch")
    pp = p0 * (1 - 1e-2 * 0.05)
    mm = 0.9 * m0 + 0.1 * g.astype(np.float64)
    vv = 0.999 * v0 + 0.001 * g.astype(np.float64) ** 2
    vhh = np.maximum(vh0, vv)
    ref_p = pp - 1e-2 / (1 - 0.9 ** 3) * mm / (np.sqrt(vhh) / math.sqrt(1 - 0.999 ** 3) + 1e-7)
    close(to_np(m), mm, 1e-6, 1e-7)
    close(to_np(v), vv, 1e-6, 1e-8)
    close(to_np(vh), vhh, 1e-6, 1e-8)
    close(to_np(p), ref_p, 1e-5, 1e-6)
