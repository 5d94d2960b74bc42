"""The CUDA implementations of the hot primitives, end to end on the host emulator.

Each case calls a primitive's registered CUDA implementation (`tensorlab/backend/cuda/*.py`:
dtype and layout checks, copies, launcher, kernel choice, launch shapes, outputs) with the
emulated GPU of `emulated_gpu` and compares the result with the primitive's CPU implementation
on the same fresh random inputs. New device memory starts as NaN, so an element no kernel wrote
fails; every case also checks that the inputs are unchanged and that our kernels, not a CuPy
fallback, did the work. The GPU run (`make gpu-check`) remains the verification; this catches
wiring bugs (argument order, strides, shapes, dtype mapping) before a GPU sees them.
"""
import numpy as np
import pytest

pytest.importorskip("cupy", reason="the CUDA backend needs CuPy importable (a GPU is not needed)")

import tensorlab as tl  # noqa: E402
import tensorlab.backend.cpu as cpu_backend  # noqa: E402
import tensorlab.backend.cuda as cuda_backend  # noqa: E402
from tensorlab.core.registry import REGISTRY  # noqa: E402
from tensorlab.ops.conv import compute_padding  # noqa: E402

cpu_backend.load()
cuda_backend.load()

#: relative error (2-norm of the difference / 2-norm of the CPU result) allowed per dtype
TOL = {np.float64: 1e-12, np.float32: 2e-5, np.float16: 2e-3}


def on_device(a):
    """`a` as a device array: the same memory and strides (a non-contiguous view stays one)."""
    import tl_emu_device

    return a.view(tl_emu_device.DeviceArray) if isinstance(a, np.ndarray) else a


def compare(gpu, name, *args, tol=None, exact=False, **params):
    """Runs primitive `name` on the emulated GPU and on the CPU; returns the GPU result."""
    prim = REGISTRY[name]
    dev_args = [on_device(a) for a in args]
    kept = [np.array(a, copy=True) if isinstance(a, np.ndarray) else None for a in dev_args]
    expected = prim.impls["cpu"](*args, **params)  # first, while the inputs are surely intact
    gpu.launched.clear()
    got = prim.impls["cuda"](*dev_args, **params)
    assert gpu.launched, f"{name}: no kernel of ours was launched (a CuPy fallback ran)"
    assert all(k.startswith("tl_") for k in gpu.kernels())
    for a, k in zip(dev_args, kept):
        if k is not None:
            np.testing.assert_array_equal(np.asarray(a), k, err_msg=f"{name} changed an input")
    multi = isinstance(expected, tuple)
    for g, e in zip(got if multi else (got,), expected if multi else (expected,)):
        g, e = np.asarray(g), np.asarray(e)
        assert g.shape == e.shape and g.dtype == e.dtype, (name, g.shape, g.dtype, e.shape, e.dtype)
        assert not np.isnan(g).any() or np.isnan(e).any(), f"{name}: unwritten (NaN-poisoned) elements"
        if exact or e.dtype.kind not in "f":
            np.testing.assert_array_equal(g, e, err_msg=name)
            continue
        t = tol if tol is not None else TOL[e.dtype.type]
        e64, g64 = e.astype(np.float64), g.astype(np.float64)
        err = np.linalg.norm((g64 - e64).ravel()) / max(np.linalg.norm(e64.ravel()), 1e-30)
        assert err <= t, f"{name}: relative error {err:.2e} > {t:.0e} (kernels {gpu.kernels()})"
    return got


@pytest.fixture
def rng():
    return np.random.default_rng()


def randn(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


# ---------------------------------------------------------------------------------------- matmul
MATMUL_CASES = [  # (a shape, b shape, transpose_a, transpose_b)
    ((7, 17), (17, 5), False, False),
    ((33, 70), (9, 70), False, True),
    ((70, 33), (70, 9), True, False),
    ((19, 13), (21, 19), True, True),
    ((3, 5, 17), (17, 4), False, False),
    ((2, 1, 5, 8), (3, 8, 6), False, False),
    ((1, 37), (37, 50), False, False),
    ((50, 37), (37, 1), False, False),
    ((3, 2000), (2000, 5), False, False),
    ((130, 9), (9, 140), False, False),
]


@pytest.mark.parametrize("a_shape,b_shape,ta,tb", MATMUL_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_matmul(emulated_gpu, rng, a_shape, b_shape, ta, tb, dtype):
    a, b = randn(rng, a_shape, dtype), randn(rng, b_shape, dtype)
    compare(emulated_gpu, "matmul", a, b, transpose_a=ta, transpose_b=tb)


def test_matmul_non_contiguous_operands(emulated_gpu, rng):
    a = randn(rng, (14, 40))[::2, 3:20]          # (7, 17), row stride 80 elements
    b = randn(rng, (17, 12))[:, 1::2]            # (17, 6), column stride 2
    compare(emulated_gpu, "matmul", a, b, transpose_a=False, transpose_b=False)


def test_matmul_tf32_runs_the_tf32_kernel(emulated_gpu, rng):
    a, b = randn(rng, (45, 70)), randn(rng, (70, 23))
    tl.config.experimental.enable_tensor_float_32_execution(True)
    try:
        compare(emulated_gpu, "matmul", a, b, transpose_a=False, transpose_b=False, tol=2e-3)
    finally:
        tl.config.experimental.enable_tensor_float_32_execution(False)
    assert any("tf32" in k for k in emulated_gpu.kernels()), emulated_gpu.kernels()


# ------------------------------------------------------------------------------------ convolution
def conv_params(x_shape, w_shape, strides, dilations, padding):
    pads = []
    for i in range(2):
        _, before, after = compute_padding("conv2d", x_shape[1 + i], w_shape[i], strides[i], dilations[i], padding)
        pads += [before, after]
    oh = compute_padding("conv2d", x_shape[1], w_shape[0], strides[0], dilations[0], padding)[0]
    ow = compute_padding("conv2d", x_shape[2], w_shape[1], strides[1], dilations[1], padding)[0]
    return tuple(pads), (x_shape[0], oh, ow, w_shape[3])


CONV_CASES = [  # (x shape, filter shape, strides, dilations, padding, groups)
    ((2, 9, 11, 3), (3, 3, 3, 8), (1, 1), (1, 1), "SAME", 1),
    ((2, 10, 9, 5), (3, 3, 5, 7), (2, 2), (1, 1), "VALID", 1),
    ((1, 12, 12, 4), (3, 3, 4, 6), (1, 1), (2, 2), "SAME", 1),
    ((2, 7, 8, 6), (3, 3, 1, 6), (1, 1), (1, 1), "SAME", 6),       # depthwise
    ((2, 8, 7, 8), (3, 2, 4, 6), (2, 1), (1, 1), "SAME", 2),       # grouped
    ((3, 6, 5, 16), (1, 1, 16, 20), (1, 1), (1, 1), "VALID", 1),   # 1x1
    ((1, 5, 6, 37), (5, 5, 37, 3), (1, 2), (1, 1), "SAME", 1),
]


@pytest.mark.parametrize("x_shape,w_shape,strides,dilations,padding,groups", CONV_CASES)
def test_conv2d_forward_and_gradients(emulated_gpu, rng, x_shape, w_shape, strides, dilations, padding, groups):
    x, w = randn(rng, x_shape), randn(rng, w_shape)
    pads, y_shape = conv_params(x_shape, w_shape, strides, dilations, padding)
    dy = randn(rng, y_shape)
    geo = dict(strides=strides, pads=pads, dilations=dilations, groups=groups)
    compare(emulated_gpu, "conv2d", x, w, **geo)
    compare(emulated_gpu, "conv2d_backprop_input", dy, w, input_shape=x_shape, **geo)
    compare(emulated_gpu, "conv2d_backprop_filter", x, dy, filter_shape=w_shape, **geo)


def test_conv2d_non_contiguous_input(emulated_gpu, rng):
    x = randn(rng, (2, 9, 11, 6))[..., ::2]
    w = randn(rng, (3, 3, 3, 4))
    pads, _ = conv_params(x.shape, w.shape, (1, 1), (1, 1), "SAME")
    compare(emulated_gpu, "conv2d", x, w, strides=(1, 1), pads=pads, dilations=(1, 1), groups=1)


@pytest.mark.parametrize("strides", [(1, 1), (2, 1)])
def test_conv2d_float16_primitives_run_the_tensor_core_kernel(emulated_gpu, rng, monkeypatch, strides):
    """float16 `conv2d` and stride-1 `conv2d_backprop_input` run our tensor-core kernel (checked
    against the CPU); a strided input gradient and the filter gradient go to the CuPy path
    (recorded here: it needs real CuPy)."""
    from tensorlab.backend.cuda import conv as cuda_conv
    fallen = []
    for name in ("conv2d", "conv2d_backprop_input", "conv2d_backprop_filter"):
        monkeypatch.setitem(cuda_conv._fallback, name, lambda *a, _n=name, **k: fallen.append(_n))
    x_shape, w_shape = (2, 9, 10, 16), (3, 3, 8, 24)
    x, w = randn(rng, x_shape).astype(np.float16), randn(rng, w_shape).astype(np.float16)
    pads, y_shape = conv_params(x_shape, w_shape, strides, (1, 1), "SAME")
    dy = randn(rng, y_shape).astype(np.float16)
    geo = dict(strides=strides, pads=pads, dilations=(1, 1), groups=2)
    calls = {"conv2d": ((x, w), {}), "conv2d_backprop_input": ((dy, w), {"input_shape": x_shape}),
             "conv2d_backprop_filter": ((x, dy), {"filter_shape": w_shape})}
    for name, (args, kw) in calls.items():
        emulated_gpu.launched.clear()
        fallen.clear()
        got = REGISTRY[name].impls["cuda"](*(on_device(a) for a in args), **kw, **geo)
        if name == "conv2d" or (name == "conv2d_backprop_input" and strides == (1, 1)):
            assert emulated_gpu.kernels() == ["tl_conv2d_fwd_nhwc_f16_tc"] and not fallen, name
            expected = REGISTRY[name].impls["cpu"](*args, **kw, **geo).astype(np.float64)
            got = np.asarray(got)
            assert got.dtype == np.float16 and got.shape == expected.shape
            assert np.linalg.norm(got.astype(np.float64) - expected) / np.linalg.norm(expected) < 2e-3, name
        else:
            assert fallen == [name] and not emulated_gpu.kernels(), name


def test_conv2d_float16_tensor_core_candidate(emulated_gpu, rng):
    """The launcher of the float16 tensor-core forward (`variant="tc"`, which the float16
    primitives run): contiguity, alignment, kernel and shared memory, against the CPU primitive."""
    from tensorlab.backend.cuda.kernels import conv as kconv
    x = randn(rng, (2, 9, 11, 16)).astype(np.float16)[:, :, 1:]   # an offset view: copied first
    w = randn(rng, (3, 3, 16, 24)).astype(np.float16)
    pads, _ = conv_params(x.shape, w.shape, (1, 1), (1, 1), "SAME")
    expected = REGISTRY["conv2d"].impls["cpu"](x, w, strides=(1, 1), pads=pads, dilations=(1, 1), groups=1)
    emulated_gpu.launched.clear()
    got = np.asarray(kconv.conv2d_forward(on_device(x), on_device(w), (1, 1), pads, (1, 1), 1, variant="tc"))
    assert emulated_gpu.kernels() == ["tl_conv2d_fwd_nhwc_f16_tc"]
    assert got.dtype == np.float16 and got.shape == expected.shape
    e64 = expected.astype(np.float64)
    assert np.linalg.norm(got.astype(np.float64) - e64) / np.linalg.norm(e64) < 2e-3
    with pytest.raises(TypeError, match="variant 'tc': float16 or bfloat16"):
        kconv.conv2d_forward(on_device(x.astype(np.float32)), on_device(w.astype(np.float32)), (1, 1), pads,
                             (1, 1), 1, variant="tc")


def test_conv2d_input_gradient_tensor_core_candidate(emulated_gpu, rng):
    """`conv2d_backprop_input(variant="tc")`: a stride-1 input gradient as a forward convolution
    on the tensor-core candidate, against the CPU primitive; other strides refuse the variant."""
    from tensorlab.backend.cuda.kernels import conv as kconv
    w = randn(rng, (3, 3, 8, 24)).astype(np.float16)
    x_shape = (2, 9, 10, 16)
    geo = dict(strides=(1, 1), dilations=(1, 1), groups=2)
    pads, y_shape = conv_params(x_shape, w.shape, (1, 1), (1, 1), "SAME")
    dy = randn(rng, y_shape).astype(np.float16)
    expected = REGISTRY["conv2d_backprop_input"].impls["cpu"](dy, w, input_shape=x_shape, pads=pads, **geo)
    emulated_gpu.launched.clear()
    got = np.asarray(kconv.conv2d_backprop_input(on_device(dy), on_device(w), x_shape, (1, 1), pads, (1, 1), 2,
                                                 variant="tc"))
    assert emulated_gpu.kernels() == ["tl_conv2d_fwd_nhwc_f16_tc"]
    e64 = expected.astype(np.float64)
    assert got.shape == x_shape and np.linalg.norm(got.astype(np.float64) - e64) / np.linalg.norm(e64) < 2e-3
    with pytest.raises(ValueError, match="variant 'tc': needs stride 1"):
        kconv.conv2d_backprop_input(on_device(dy), on_device(w), x_shape, (2, 2), pads, (1, 1), 2, variant="tc")


def test_gpu_check_float16_conv_rows_run(emulated_gpu_device, rng):
    """gpu-check's float16 conv rows (bench/gpu/matmul_conv.py) on the emulated GPU, without
    PyTorch: our kernel's rows and the CuPy path's are timed, so their ratio prints. (The timings
    mean nothing here.)"""
    from bench.gpu import matmul_conv
    from tensorlab.backend.cuda.kernels import conv as kconv
    x, w = on_device(randn(rng, (1, 6, 6, 8))), on_device(randn(rng, (3, 3, 8, 8)))
    dy = on_device(randn(rng, (1, 6, 6, 8)))
    rows = []
    matmul_conv._bench_conv_f16(rows, lambda fn: (fn(0), 1.0)[1], kconv, None, x, w, dy, (1, 1, 1, 1),
                                "1x6x6x8 3x3->8", 1.0)
    assert [r["bench"] for r in rows] == ["conv2d_fwd_f16", "conv2d_bwd_input_f16", "conv2d_fwd_f16[cupy]",
                                          "conv2d_bwd_input_f16[cupy]"]
    assert "tl_conv2d_fwd_nhwc_f16_tc" in emulated_gpu_device.kernels()


# ---------------------------------------------------------------------------------------- pooling
POOL_CASES = [((2, 7, 9, 5), (2, 2), (2, 2), "VALID"), ((2, 7, 9, 5), (3, 3), (2, 2), "SAME"),
              ((1, 6, 6, 3), (3, 3), (1, 1), "SAME"), ((3, 5, 8, 2), (2, 3), (1, 2), "VALID")]


@pytest.mark.parametrize("x_shape,ksize,strides,padding", POOL_CASES)
def test_pooling_forward_and_gradients(emulated_gpu, rng, x_shape, ksize, strides, padding):
    x = randn(rng, x_shape)
    pads, y_shape = conv_params(x_shape, ksize + (1, 1), strides, (1, 1), padding)
    y_shape = y_shape[:3] + (x_shape[3],)
    dy = randn(rng, y_shape)
    geo = dict(ksize=ksize, strides=strides, pads=pads)
    y = compare(emulated_gpu, "max_pool2d", x, exact=True, **geo)
    compare(emulated_gpu, "max_pool2d_grad", x, np.asarray(y), dy, **geo)
    compare(emulated_gpu, "avg_pool2d", x, **geo)
    compare(emulated_gpu, "avg_pool2d_grad", dy, input_shape=x_shape, **geo)


# ------------------------------------------------------------------------------------- reductions
REDUCE_CASES = [((5, 17), (1,)), ((33, 7), (0,)), ((3, 4, 5), (0, 2)), ((3, 4, 5), (0, 1, 2)),
                ((2, 3000), (1,)), ((4, 1), (1,))]


@pytest.mark.parametrize("shape,axes", REDUCE_CASES)
@pytest.mark.parametrize("name", ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.float16])
def test_reductions(emulated_gpu, rng, shape, axes, name, dtype):
    x = (rng.uniform(0.99, 1.01, shape) if name == "reduce_prod" else rng.standard_normal(shape)).astype(dtype)
    for keepdims in (False, True):
        compare(emulated_gpu, name, x, axes=axes, keepdims=keepdims)


def test_reduction_of_a_non_contiguous_view(emulated_gpu, rng):
    x = randn(rng, (6, 20, 5))[::2, 3:17]
    compare(emulated_gpu, "reduce_sum", x, axes=(1,), keepdims=False)


@pytest.mark.parametrize("shape,axis", [((5, 17), 1), ((33, 7), 0), ((3, 4, 5), 1), ((2, 3000), 1)])
@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argreductions(emulated_gpu, rng, shape, axis, name):
    x = randn(rng, shape)
    compare(emulated_gpu, name, x, axis=axis, output_type=tl.int64)
    compare(emulated_gpu, name, x, axis=axis, output_type=tl.int32)


# ------------------------------------------------------------------- row-wise nn ops and the loss
ROW_SHAPES = [(3, 1), (5, 17), (2, 3, 300), (2, 5000), (40, 64)]


@pytest.mark.parametrize("shape", ROW_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_family(emulated_gpu, rng, shape, dtype):
    x, g = randn(rng, shape, dtype) * 3, randn(rng, shape, dtype)
    axis = len(shape) - 1
    y = compare(emulated_gpu, "softmax", x, axis=axis)
    ly = compare(emulated_gpu, "log_softmax", x, axis=axis)
    compare(emulated_gpu, "softmax_grad", np.asarray(y), g, axis=axis)
    compare(emulated_gpu, "log_softmax_grad", np.asarray(ly), g, axis=axis)


@pytest.mark.parametrize("shape", ROW_SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp(emulated_gpu, rng, shape, dtype):
    x = randn(rng, shape, dtype) * 3
    compare(emulated_gpu, "logsumexp", x)
    special = np.repeat(x.reshape(-1, shape[-1])[:1], 3, axis=0)   # rows of -inf, +inf (twice), NaN
    special[0] = -np.inf
    special[1, [0, -1]] = np.inf
    special[2, 0] = np.nan
    compare(emulated_gpu, "logsumexp", special, exact=True)


@pytest.mark.parametrize("shape", [(5, 17), (2, 5000), (7, 1)])
@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
def test_sparse_softmax_cross_entropy(emulated_gpu, rng, shape, label_dtype):
    logits = randn(rng, shape) * 2
    labels = rng.integers(0, shape[-1], shape[:-1]).astype(label_dtype)
    _, backprop = compare(emulated_gpu, "sparse_softmax_cross_entropy_with_logits", logits, labels,
                          need_backprop=True)
    assert np.asarray(backprop).strides != (0,) * backprop.ndim
    loss, _ = compare(emulated_gpu, "sparse_softmax_cross_entropy_with_logits", logits, labels,
                      need_backprop=False)


@pytest.mark.parametrize("shape", [(7,), (3, 33), (2, 5, 4, 9)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_and_bias_add(emulated_gpu, rng, shape, dtype):
    x, b = randn(rng, shape, dtype), randn(rng, shape[-1:], dtype)
    compare(emulated_gpu, "relu", x, exact=True)
    compare(emulated_gpu, "bias_add", x, b, data_format="NHWC")


@pytest.mark.parametrize("shape", [(3, 1), (5, 17), (2, 3, 300), (2, 5000), (40, 64)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layer_norm_and_its_gradient(emulated_gpu, rng, shape, dtype):
    x = (randn(rng, shape, dtype) * 2 + 3).astype(dtype)
    gamma, beta, dy = randn(rng, shape[-1:], dtype), randn(rng, shape[-1:], dtype), randn(rng, shape, dtype)
    _, mean, rstd = compare(emulated_gpu, "layer_norm", x, gamma, beta, epsilon=1e-3)
    compare(emulated_gpu, "layer_norm_grad", dy, x, gamma, np.asarray(mean), np.asarray(rstd), epsilon=1e-3)


@pytest.mark.parametrize("shape", [(7, 3), (2, 5, 5, 8), (300, 5), (3, 4, 33)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_and_its_gradient(emulated_gpu, rng, shape, dtype):
    x = (randn(rng, shape, dtype) * 2 - 1).astype(dtype)
    gamma, beta, dy = randn(rng, shape[-1:], dtype), randn(rng, shape[-1:], dtype), randn(rng, shape, dtype)
    _, mean, var = compare(emulated_gpu, "batch_norm", x, gamma, beta, epsilon=1e-3)
    compare(emulated_gpu, "batch_norm_grad", dy, x, gamma, np.asarray(mean), np.asarray(var), epsilon=1e-3)


def test_norms_of_non_contiguous_views(emulated_gpu, rng):
    x = randn(rng, (6, 40))[::2, 3:20]
    gamma, beta = randn(rng, (17,)), randn(rng, (17,))
    compare(emulated_gpu, "layer_norm", x, gamma, beta, epsilon=1e-3)
    compare(emulated_gpu, "batch_norm", x, gamma, beta, epsilon=1e-3)


@pytest.mark.parametrize("act", ["relu", "gelu", "gelu_tanh", "silu", "sigmoid", "tanh"])
@pytest.mark.parametrize("shape,dtype", [((7, 33), np.float32), ((2, 3, 5), np.float64), ((9,), np.float32),
                                         ((4, 16), np.float16)])
def test_bias_act_and_its_gradient(emulated_gpu, rng, act, shape, dtype):
    x, b, dy = randn(rng, shape, dtype), randn(rng, shape[-1:], dtype), randn(rng, shape, dtype)
    y = compare(emulated_gpu, "bias_act", x, b, activation=act)
    compare(emulated_gpu, "bias_act_grad", dy, x, b, np.asarray(y), activation=act)


def test_every_hot_primitive_is_covered():
    """The hot primitives' list (tests/core/test_cuda_wiring.py) and this file agree."""
    import inspect
    import sys

    src = inspect.getsource(sys.modules[__name__])
    hot = [n for n in REGISTRY if "cuda" in REGISTRY[n].impls and "cuda" not in REGISTRY[n].fallbacks]
    missing = [n for n in hot if f'"{n}"' not in src and n not in ("apply_sgd", "apply_adam")]
    assert not missing, f"primitives backed by our kernels with no emulated end-to-end case: {missing}"
