"""The CUDA backend's wiring, checked without a GPU (CuPy imports without one):
every primitive has a CUDA implementation whose signature matches its CPU
implementation, and the kernel-selection rules pick our kernels where they apply."""
import inspect

import numpy as np
import pytest

cupy = pytest.importorskip("cupy", reason="CuPy is not installed; the CUDA wiring is checked where it is")

import tensorlab.backend.cpu as cpu_backend  # noqa: E402
import tensorlab.backend.cuda as cuda_backend  # noqa: E402
from tensorlab.core.registry import REGISTRY  # noqa: E402

cpu_backend.load()
cuda_backend.load()
PRIMS = sorted(REGISTRY.values(), key=lambda p: p.name)


def _params(fn):
    try:
        return [p.name for p in inspect.signature(fn).parameters.values()]
    except (TypeError, ValueError):  # a CuPy ufunc: positional arrays only
        return None


@pytest.mark.parametrize("prim", PRIMS, ids=lambda p: p.name)
def test_cuda_impl_signature_matches_cpu(prim):
    assert "cuda" in prim.impls, f"{prim.name} has no CUDA implementation"
    cpu, gpu = _params(prim.impls["cpu"]), _params(prim.impls["cuda"])
    if cpu is None or gpu is None:
        return
    # Params are passed by keyword: the names after the array arguments must agree.
    assert gpu == cpu, f"{prim.name}: CUDA impl takes {gpu}, CPU impl takes {cpu}"


def test_hot_primitives_run_our_kernels():
    """The hot ops are registered as kernels, not CuPy fallbacks."""
    hot = ["matmul", "conv2d", "conv2d_backprop_input", "conv2d_backprop_filter", "max_pool2d",
           "max_pool2d_grad", "avg_pool2d", "avg_pool2d_grad", "reduce_sum", "reduce_max", "reduce_min",
           "argmax", "argmin", "softmax", "log_softmax", "softmax_grad", "log_softmax_grad", "relu",
           "bias_add", "sparse_softmax_cross_entropy_with_logits", "apply_sgd", "apply_adam", "layer_norm",
           "layer_norm_grad", "batch_norm", "batch_norm_grad", "logsumexp", "bias_act", "bias_act_grad"]
    for name in hot:
        assert "cuda" not in REGISTRY[name].fallbacks, f"{name} is still a CuPy fallback"


def test_pool_padding_mode_matches_tf_pads():
    from tensorlab.backend.cuda.pooling import padding_mode
    assert padding_mode((5, 7), (3, 3), (2, 2), (1, 1, 1, 1)) == "SAME"
    assert padding_mode((4, 4), (2, 2), (2, 2), (0, 0, 0, 0)) == "VALID"
    assert padding_mode((6, 6), (3, 3), (2, 2), (0, 1, 0, 1)) == "SAME"
    assert padding_mode((6, 6), (3, 3), (2, 2), (1, 0, 1, 0)) is None  # explicit pads: fallback


def test_kernel_selection_rules():
    from tensorlab.backend.cuda.linalg import use_matmul_kernel
    from tensorlab.backend.cuda.nn import use_row_kernel
    from tensorlab.backend.cuda.reduction import use_reduce_kernel
    f32 = np.zeros((2, 3), np.float32)
    i32 = np.zeros((2, 3), np.int32)
    assert use_matmul_kernel(f32, f32.T) and not use_matmul_kernel(i32, i32.T)
    assert use_row_kernel(f32, 1) and not use_row_kernel(f32, 0) and not use_row_kernel(i32, 1)
    assert use_reduce_kernel(f32, (0,)) and not use_reduce_kernel(f32, ()) and not use_reduce_kernel(i32, (1,))


def test_factorizations_raise_instead_of_returning_nan():
    """CuPy's cholesky/solve return NaN for a failed factorization unless linalg errors are
    switched to "raise"; the CUDA implementations of these three run under that setting."""
    import cupyx

    from tensorlab.backend.cuda import linalg_solvers as cuda_solvers

    for name in ("cholesky", "solve", "triangular_solve"):
        impl = REGISTRY[name].impls["cuda"]
        assert getattr(impl, "raises_linalg_errors", False), name
        assert impl.__wrapped__.__globals__["np"] is not np  # the CuPy mirror inside
    seen = []
    wrapped = cuda_solvers._raise_on_failed_factorization(lambda x: seen.append(cupyx.geterr()["linalg"]) or x)
    assert wrapped(3) == 3 and seen == ["raise"]
    assert cupyx.geterr()["linalg"] == "ignore"  # restored afterwards
