"""The sm_90a (Hopper) kernels on a compute capability 9.0 GPU: the wgmma matmul candidate
(cuda_kernels/matmul_sm90.cu), forced by `variant=`, vs float64 numpy references.

`make gpu-check` runs this file in a pytest process of its own, after the other GPU tests: a
kernel that has never run on a GPU can leave a sticky CUDA error that would fail every later test
of the process. Same conventions as test_kernels_gemm_gpu.py: fresh random inputs, odd sizes,
all four operand layouts, NaN-poisoned allocations, relative Frobenius-norm tolerance 1e-2.
"""
import numpy as np
import pytest

from tests.gpu.gemm_reference import (
    LAYOUTS, matmul16_error, nan_poisoned_allocations, operand, ref_mm, rel_err,
    skip_without_cuda_device)

cupy = pytest.importorskip("cupy")

pytestmark = pytest.mark.gpu

skip_without_cuda_device(cupy)
if cupy.cuda.Device().compute_capability != "90":
    pytest.skip("the wgmma kernels run on compute capability 9.0 only", allow_module_level=True)

from tensorlab.backend.cuda.kernels import matmul as mm  # noqa: E402


@pytest.fixture(autouse=True)
def _nan_poisoned_allocations():
    with nan_poisoned_allocations(cupy):
        yield


SIZES = [(1, 1, 8), (64, 256, 64), (255, 129, 200), (1023, 257, 512), (64, 4097, 40),
         (2048, 768, 1024)]


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("m,n,k", SIZES)
@pytest.mark.parametrize("ta,tb", LAYOUTS)
def test_matmul_wgmma_candidate(rng, dtype, m, n, k, ta, tb):
    """All four operand layouts in place (m-/n-major tiles use the transpose bit)."""
    d = "f16" if dtype == "float16" else "bf16"
    assert matmul16_error(mm, cupy, rng, dtype, m, n, k, ta, tb, f"tl_matmul_{d}_wgmma") < 1e-2


def test_matmul_wgmma_batched_broadcast_misaligned(rng):
    a = operand(rng, 130, 73, False, np.float16, batch=(3,))
    b = operand(rng, 72, 300, True, np.float16)
    ga = cupy.asarray(a)[..., 1:]  # misaligned base and ld 73: copied k-major first
    out = mm.matmul(ga, cupy.asarray(b), False, True, variant="tl_matmul_f16_wgmma")
    assert out.shape == (3, 130, 300)
    assert rel_err(out.get(), ref_mm(a[..., 1:], b, False, True)) < 1e-2
