"""The CUDA backend's mechanics on a real GPU: registration, memory info,
out-of-memory recovery, device details, DLPack and host<->device copies."""
import numpy as np
import pytest

import tensorlab as tl

pytestmark = pytest.mark.gpu


def test_every_primitive_has_a_cuda_implementation():
    import tensorlab.backend.cuda  # noqa: F401
    from tensorlab.core.registry import REGISTRY
    missing = [p.name for p in REGISTRY.values() if "cuda" not in p.impls]
    assert not missing


@pytest.mark.real_gpu
def test_memory_info_tracks_allocations(rng):
    tl.config.experimental.reset_memory_stats("GPU:0")
    before = tl.config.experimental.get_memory_info("GPU:0")
    with tl.device("gpu:0"):
        x = tl.constant(rng.standard_normal((1024, 1024)).astype(np.float32))
        y = x * 2.0
    after = tl.config.experimental.get_memory_info("GPU:0")
    assert after["current"] >= before["current"] + 2 * 4 * 1024 * 1024
    assert after["peak"] >= after["current"]
    del x, y


@pytest.mark.real_gpu
def test_out_of_memory_is_resource_exhausted_and_recoverable():
    import cupy as cp
    free, total = cp.cuda.runtime.memGetInfo()
    with tl.device("gpu:0"):
        x = tl.ones([4])
        n = int(total * 4)  # far more than the card has
        with pytest.raises(tl.errors.ResourceExhaustedError, match="free on GPU:0"):
            tl.broadcast_to(x[:1], [n // 4]) * 2.0
        y = x + 1.0  # the process stays usable
    np.testing.assert_array_equal(y.numpy(), [2, 2, 2, 2])


@pytest.mark.real_gpu
def test_memory_limit_caps_the_pool():
    import cupy as cp
    pool = cp.get_default_memory_pool()
    old = pool.get_limit()
    try:
        tl.config.experimental.set_memory_limit("GPU:0", 64 * 2**20)
        with tl.device("gpu:0"):
            with pytest.raises(tl.errors.ResourceExhaustedError):
                tl.ones([64, 1024, 1024]) * 1.0
    finally:
        pool.set_limit(size=old)


def test_device_details():
    d = tl.config.experimental.get_device_details(tl.config.list_physical_devices("GPU")[0])
    assert d["compute_capability"][0] >= 7 and d["device_name"]


@pytest.mark.real_gpu
def test_dlpack_zero_copy_with_cupy_and_torch(rng):
    import cupy as cp
    v = cp.asarray(rng.standard_normal(8).astype(np.float32))
    t = tl.from_dlpack(v)
    assert t.device.endswith("GPU:0")
    assert t._data.data.ptr == v.data.ptr
    back = cp.from_dlpack(t)
    assert back.data.ptr == v.data.ptr
    torch = pytest.importorskip("torch")
    tt = torch.from_dlpack(t)
    assert tt.data_ptr() == v.data.ptr
    t2 = tl.from_dlpack(tt)
    assert t2._data.data.ptr == v.data.ptr


def test_large_host_to_device_copy_roundtrip(rng):
    v = rng.standard_normal((1024, 513)).astype(np.float32)  # > 1 MiB: pinned staging
    with tl.device("gpu:0"):
        x = tl.constant(v)
    np.testing.assert_array_equal(x.numpy(), v)
    np.testing.assert_array_equal(x.cpu().gpu().numpy(), v)


@pytest.mark.parametrize("value", [np.float16(-2.5), np.float32(np.pi), np.float64(1e300), np.int8(-128),
                                   np.int64(-2**62 - 3), np.uint64(2**64 - 1), np.bool_(True),
                                   np.complex64(1.5 - 2j)], ids=lambda v: v.dtype.name)
@pytest.mark.parametrize("shape", [(), (1,), (1, 1)])
def test_scalars_reach_the_gpu_bit_exact(value, shape):
    """One-element host arrays are filled in on the device (no blocking copy); the value and
    dtype must come through unchanged, and tensors from Python scalars too."""
    from tensorlab.backend.cuda import memory
    host = np.full(shape, value)
    got = memory.host_to_device(host)
    assert got.shape == shape and got.dtype == host.dtype
    np.testing.assert_array_equal(got.get(), host)
    with tl.device("gpu:0"):
        x = tl.constant([1.5, -2.0]) * 0.1
        n = tl.constant(7) + 2**30
    np.testing.assert_array_equal(x.numpy(), np.float32([1.5, -2.0]) * np.float32(0.1))
    assert n.numpy() == 7 + 2**30 and n.dtype == tl.int32


def test_training_step_on_gpu(rng):
    w = tl.Variable(rng.standard_normal((5, 3)).astype(np.float32))
    x = tl.constant(rng.standard_normal((7, 5)).astype(np.float32))
    with tl.GradientTape() as tape:
        loss = tl.reduce_sum(tl.matmul(x, w) ** 2)
    g = tape.gradient(loss, w)
    ref = 2 * x.numpy().T @ (x.numpy() @ w.numpy())
    np.testing.assert_allclose(g.numpy(), ref, rtol=1e-4, atol=1e-4)
    assert g.device.endswith("GPU:0")
