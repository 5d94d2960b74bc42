"""Self-test of the host emulator (cuda_emu.h + build.py) on tests/kernels/emu/selftest.cu."""
import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

_HERE = Path(__file__).resolve().parent
if "tl_emu" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("tl_emu", _HERE / "build.py")
    sys.modules["tl_emu"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["tl_emu"])
tl_emu = sys.modules["tl_emu"]
if shutil.which(tl_emu.CXX) is None:
    pytest.skip(f"{tl_emu.CXX} not found", allow_module_level=True)


@pytest.fixture(scope="module")
def lib():
    return tl_emu.build(str(_HERE / "selftest.cu"))


def test_exports(lib):
    assert "st_block_sum" in lib.tl_kernels and "st_template_not_exported" not in lib.tl_kernels
    with pytest.raises(KeyError):
        tl_emu.launch(lib, "nope", 1, 32, 0)


def test_block_sum(lib):
    x = np.random.default_rng(0).random((5, 1000)).astype(np.float32)
    out = np.full(5, np.nan, np.float32)
    tl_emu.launch(lib, "st_block_sum", 5, 256, 0, x, out, np.int32(1000))
    np.testing.assert_allclose(out, x.sum(1, dtype=np.float64), rtol=1e-5)


def test_shuffles(lib):
    x = np.arange(32, dtype=np.int32)
    out = np.zeros(32, np.int32)
    lane = np.arange(32)
    expect = {
        0: np.where(lane + 3 < 32, lane + 3, lane),
        1: np.where(lane % 16 >= 3, lane - 3, lane),
        2: (lane // 8) * 8 + 5,
        3: lane ^ 1,
        4: np.full(32, np.int32(np.uint32(0xAAAAAAAA).view(np.int32))),
    }
    for mode, ref in expect.items():
        tl_emu.launch(lib, "st_shuffle", 1, 32, 0, x, out, mode)
        np.testing.assert_array_equal(out, ref, err_msg=f"mode {mode}")


def test_shuffle_from_missing_lane_is_poison(lib):
    x = np.arange(32, dtype=np.int32)
    out = np.zeros(32, np.int32)
    tl_emu.launch(lib, "st_shuffle", 1, 20, 0, x, out, 0)  # partial warp: lanes 20..31 do not exist
    assert list(out[:17]) == list(range(3, 20)) and list(out[17:20]) == [-1, -1, -1]


def test_dynamic_smem_and_scalar_conversion(lib):
    out = np.zeros(3 * 64, np.float32)
    tl_emu.launch(lib, "st_dynamic_smem", 3, 64, 64 * 4, out, 2.0)
    np.testing.assert_array_equal(out.reshape(3, 64), np.tile(np.arange(63, -1, -1) * 2.0, (3, 1)))


def test_deadlock_is_reported(lib):
    with pytest.raises(RuntimeError, match="deadlock"):
        tl_emu.launch(lib, "st_divergent_barrier", 1, 64, 0, np.zeros(1, np.float32))


def test_early_exit(lib):
    out = np.full(64, -5, np.int32)
    tl_emu.launch(lib, "st_early_exit", 1, 64, 0, out, 40)
    np.testing.assert_array_equal(out[:40], np.arange(39, -1, -1) + 40)
    assert (out[40:] == -5).all()


def test_atomics(lib):
    x = np.random.default_rng(1).standard_normal(96).astype(np.float32)
    s, c, m = np.zeros(1, np.float32), np.zeros(1, np.int32), np.full(1, -np.inf, np.float32)
    tl_emu.launch(lib, "st_atomics", 2, 96, 0, s, c, m, x)
    assert c[0] == 192 and m[0] == x.max()
    np.testing.assert_allclose(s[0], 2 * x.sum(dtype=np.float64), rtol=1e-5)


def test_3d_grid_and_block(lib):
    out = np.full(2 * 3 * 2 * 4 * 2 * 4, -1, np.int32)
    tl_emu.launch(lib, "st_dims", (2, 3, 2), (4, 2, 4), 0, out)
    b, t = np.divmod(np.arange(out.size), 32)
    np.testing.assert_array_equal(out, 1000 * b + t)


def test_half_bits(lib):
    h = np.array([1.5, -2.0, 1000.0, 1e-3], np.float16)
    f = np.zeros(4, np.float32)
    back = np.zeros(4, np.uint16)
    tl_emu.launch(lib, "st_half", 1, 32, 0, h.view(np.uint16), f, back, 4)
    np.testing.assert_array_equal(f, h.astype(np.float32))
    np.testing.assert_array_equal(back.view(np.float16), (h.astype(np.float32) * 2).astype(np.float16))


def test_argument_checks(lib):
    x = np.zeros((1, 4), np.float32)
    out = np.zeros(1, np.float32)
    with pytest.raises(TypeError, match="int64"):
        tl_emu.launch(lib, "st_block_sum", 1, 32, 0, x, out, np.int64(4))
    with pytest.raises(TypeError, match="takes 3"):
        tl_emu.launch(lib, "st_block_sum", 1, 32, 0, x, out)
    with pytest.raises(TypeError):
        tl_emu.launch(lib, "st_block_sum", 1, 32, 0, x, 3, 4)
    with pytest.raises(RuntimeError, match="block"):
        tl_emu.launch(lib, "st_block_sum", 1, 2048, 0, x, out, 4)


# ---- tensor-core / async-copy models: checked against the PTX ISA's fragment layouts with
# fragments read per lane from global memory (independent of any matmul kernel).

def _tf32(x):
    """cvt.rna.tf32.f32 in numpy: 10 mantissa bits, ties away from zero."""
    u = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    return ((u + 0x1000) & ~np.uint64(0x1FFF)).astype(np.uint32).view(np.float32)


@pytest.mark.parametrize("kind", ["float16", "bfloat16", "tf32"])
def test_mma_sync_fragment_layout(lib, kind):
    rng = np.random.default_rng(3)
    c = rng.standard_normal((16, 8)).astype(np.float32)
    d = np.full((16, 8), np.nan, np.float32)
    dummy16 = np.zeros(1, np.uint16)
    dummy32 = np.zeros(1, np.float32)
    if kind == "tf32":
        a = rng.standard_normal((16, 8)).astype(np.float32)
        b = rng.standard_normal((8, 8)).astype(np.float32)
        tl_emu.launch(lib, "st_mma", 1, 32, 0, dummy16, dummy16, a, b, c, d, np.int32(2))
        ref = _tf32(a).astype(np.float64) @ _tf32(b) + c
        np.testing.assert_allclose(d, ref, rtol=1e-5, atol=1e-5)
        # the operands really are rounded to tf32 (a float32 product differs)
        assert np.abs(d - (a.astype(np.float64) @ b + c)).max() > 1e-5
        return
    a = rng.standard_normal((16, 16)).astype(np.float32)
    b = rng.standard_normal((16, 8)).astype(np.float32)
    if kind == "float16":
        abits, bbits = a.astype(np.float16).view(np.uint16), b.astype(np.float16).view(np.uint16)
        av, bv = a.astype(np.float16).astype(np.float64), b.astype(np.float16).astype(np.float64)
        code = 0
    else:
        abits = (a.view(np.uint32) >> 16).astype(np.uint16)  # truncated bf16 bits
        bbits = (b.view(np.uint32) >> 16).astype(np.uint16)
        av = (abits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        bv = (bbits.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        code = 1
    tl_emu.launch(lib, "st_mma", 1, 32, 0, abits, bbits, dummy32, dummy32, c, d, np.int32(code))
    np.testing.assert_allclose(d, av @ bv + c, rtol=1e-5, atol=1e-5)


def test_mma_sync_needs_the_whole_warp(lib):
    z16 = np.zeros(256, np.uint16)
    z32 = np.zeros(256, np.float32)
    with pytest.raises(RuntimeError, match="all 32 lanes"):
        tl_emu.launch(lib, "st_mma", 1, 16, 0, z16, z16, z32, z32, z32, z32.copy(), np.int32(0))


@pytest.mark.parametrize("trans", [0, 1])
def test_ldmatrix_x4(lib, trans):
    pitch = 24  # 48-byte rows: row starts stay 16-byte aligned
    m = np.random.default_rng(4).integers(0, 2**16, size=(4, 8, pitch), dtype=np.uint16)
    out = np.zeros((32, 4), np.uint32)
    tl_emu.launch(lib, "st_ldmatrix", 1, 32, 0, m, out, np.int32(trans), np.int32(pitch), np.int32(0))
    for lane in range(32):
        for i in range(4):
            mat = m[i, :, :8].astype(np.uint32)
            if trans:
                want = mat[2 * (lane % 4), lane // 4] | (mat[2 * (lane % 4) + 1, lane // 4] << 16)
            else:
                want = mat[lane // 4, 2 * (lane % 4)] | (mat[lane // 4, 2 * (lane % 4) + 1] << 16)
            assert out[lane, i] == want, (lane, i)


def test_ldmatrix_misaligned_rows_fault(lib):
    m = np.ones((4, 8, 24), np.uint16)
    out = np.zeros((32, 4), np.uint32)
    with pytest.raises(RuntimeError, match="16-byte aligned"):
        tl_emu.launch(lib, "st_ldmatrix", 1, 32, 0, m, out, np.int32(0), np.int32(24), np.int32(1))


def test_cp_async_zero_fill_and_wait(lib):
    src = np.random.default_rng(5).standard_normal(64).astype(np.float32)
    out = np.full(64, np.nan, np.float32)
    tl_emu.launch(lib, "st_cp_async", 1, 16, 256, src, out, np.int32(37), np.int32(1))
    np.testing.assert_array_equal(out[:37], src[:37])
    np.testing.assert_array_equal(out[37:], 0.0)  # bytes past src-size are zero-filled
    # Without cp.async.wait_group the copies have not landed: shared memory still holds poison.
    out[:] = 0
    tl_emu.launch(lib, "st_cp_async", 1, 16, 256, src, out, np.int32(64), np.int32(0))
    assert np.isnan(out).all()
