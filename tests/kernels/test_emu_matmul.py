"""SIMT matmul kernels (cuda_kernels/matmul.cu) on the host emulator, planned by the launcher.

Every case goes through `plan_matmul` (layouts, strides, batch collapse, vector flags), so the
launcher arithmetic is exercised with the kernels; operands are numpy views (transposed, sliced,
unaligned, broadcast) over raw host memory, outputs are poisoned with NaN first and compared with
a float64 reference.
"""

import numpy as np
import pytest

from tl_emu import build, launch
from tensorlab.backend.cuda.kernels import matmul as mm


@pytest.fixture(scope="module")
def lib():
    return build("matmul")


def _strides(x):
    return [s // x.itemsize for s in x.strides]


def run_matmul(lib, a, b, transpose_a=False, transpose_b=False, expect=None, num_sms=4):
    """Plan + emulate; applies the launcher's copy requests and split-K sum like `matmul`."""
    for _ in range(4):
        plan = mm.plan_matmul(a.shape, _strides(a), a.ctypes.data, b.shape, _strides(b),
                              b.ctypes.data, a.itemsize, a.dtype.name, transpose_a, transpose_b,
                              num_sms=num_sms)
        if "copy" not in plan:
            break
        if "broadcast" in plan:
            bs = plan["broadcast"]
            a = np.ascontiguousarray(np.broadcast_to(a, bs + a.shape[-2:]))
            b = np.ascontiguousarray(np.broadcast_to(b, bs + b.shape[-2:]))
            continue
        if "a" in plan["copy"]:
            a = np.ascontiguousarray(a)
        if "b" in plan["copy"]:
            b = np.ascontiguousarray(b)
    if expect is not None:
        assert plan["kernel"] == expect
    splits = plan.get("splits", 1)
    out = np.full(((splits,) if splits > 1 else ()) + plan["out_shape"], np.nan, dtype=a.dtype)
    launch(lib, plan["kernel"], plan["grid"], plan["block"], plan["smem"],
           *mm.run_plan(plan, a, b, out, np.int32, np.int64))
    if splits > 1:
        assert not np.isnan(out).any(), "unwritten split-K partials"
        out = out.sum(axis=0)
    return out, plan


def ref(a, b, ta, tb):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    if ta:
        a = np.swapaxes(a, -1, -2)
    if tb:
        b = np.swapaxes(b, -1, -2)
    return a @ b


def rel_err(out, r):
    assert not np.isnan(out).any(), "unwritten (NaN-poisoned) outputs"
    d = np.linalg.norm((out - r).ravel())
    n = np.linalg.norm(r.ravel())
    return d / n if n else d


def rand(rng, shape, dtype=np.float32):
    return rng.standard_normal(shape).astype(dtype)


def make(rng, rows, cols, trans, dtype=np.float32, pad=0, batch=()):
    """(rows x cols) logical operand, stored transposed when `trans`, rows padded by `pad`."""
    store = (cols, rows) if trans else (rows, cols)
    base = rand(rng, batch + (store[0], store[1] + pad), dtype)
    x = base[..., :store[1]]
    return x


SIZES = [(1, 1, 1), (17, 33, 65), (65, 17, 33), (33, 65, 1), (130, 70, 17), (7, 129, 20)]


@pytest.mark.parametrize("m,n,k", SIZES)
@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
@pytest.mark.parametrize("variant", ["tl_matmul_f32_64x64", "tl_matmul_f32_128x128"])
def test_sgemm_layouts(lib, m, n, k, ta, tb, variant, monkeypatch):
    if m == 1 or n == 1:
        pytest.skip("matvec path is tested separately")
    monkeypatch.setattr(mm, "select_variant", lambda *a, **kw: variant)
    rng = np.random.default_rng(m * 1000 + n * 10 + k)
    a = make(rng, m, k, ta)
    b = make(rng, k, n, tb)
    out, plan = run_matmul(lib, a, b, ta, tb, expect=variant)
    assert rel_err(out, ref(a, b, ta, tb)) < 1e-5


@pytest.mark.parametrize("pad", [1, 3])
def test_sgemm_unaligned_leading_dim(lib, pad, monkeypatch):
    """Odd leading dims and a misaligned base pointer take the scalar load path."""
    rng = np.random.default_rng(pad)
    for variant in ("tl_matmul_f32_64x64", "tl_matmul_f32_128x128"):
        monkeypatch.setattr(mm, "select_variant", lambda *a, **kw: variant)
        a = make(rng, 37, 41, False, pad=pad)[:, 1:]  # base pointer off by 4 bytes
        b = make(rng, 40, 67, True, pad=pad)
        out, plan = run_matmul(lib, a, b, False, True)
        vec_a = plan["args"][10][1]
        assert vec_a == 0
        assert rel_err(out, ref(a, b, False, True)) < 1e-5


def test_sgemm_vector_path_flags(lib):
    rng = np.random.default_rng(5)
    a = rand(rng, (72, 48))
    b = rand(rng, (48, 80))
    out, plan = run_matmul(lib, a, b)
    assert [x[1] for x in plan["args"][10:13]] == [1, 1, 1]
    assert rel_err(out, ref(a, b, False, False)) < 1e-5


def test_sgemm_batch_broadcast(lib):
    """Batch dims broadcast with stride 0 and two collapsed levels, no copies."""
    rng = np.random.default_rng(7)
    a = rand(rng, (2, 1, 19, 23))
    b = rand(rng, (3, 23, 21))
    out, plan = run_matmul(lib, a, b)
    assert plan["args"][13:15] == [("i32", 6), ("i32", 3)]
    assert out.shape == (2, 3, 19, 21)
    assert rel_err(out, ref(a, b, False, False)) < 1e-5
    # a shared matrix against a batch, transposed
    a2 = rand(rng, (23, 19))
    out, plan = run_matmul(lib, a2, b, True, False)
    assert rel_err(out, ref(a2, b, True, False)) < 1e-5


def test_sgemm_three_level_batch_materialises(lib):
    rng = np.random.default_rng(8)
    a = rand(rng, (2, 1, 2, 5, 6))
    b = rand(rng, (1, 3, 1, 6, 7))
    out, _ = run_matmul(lib, a, b)
    assert rel_err(out, ref(a, b, False, False)) < 1e-5


@pytest.mark.parametrize("variant", ["tl_matmul_f32_64x64", "tl_matmul_f32_128x128"])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
def test_sgemm_split_k(lib, variant, ta, tb, monkeypatch):
    """Few output tiles and a long K: split-K partials (uneven last chunk), batch of 2."""
    monkeypatch.setattr(mm, "select_variant", lambda *a, **kw: variant)
    rng = np.random.default_rng(21)
    a = make(rng, 19, 1100, ta, batch=(2,))
    b = make(rng, 1100, 23, tb)
    out, plan = run_matmul(lib, a, b, ta, tb, num_sms=132)
    assert plan["splits"] == 2 and plan["args"][-1] == ("i32", 560)
    assert rel_err(out, ref(a, b, ta, tb)) < 1e-5


def test_sgemm_k_zero(lib):
    a = np.zeros((9, 0), np.float32)
    b = np.zeros((0, 11), np.float32)
    out, _ = run_matmul(lib, a, b)
    assert np.array_equal(out, np.zeros((9, 11)))


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (1, 17, 33), (65, 1, 33), (33, 1, 1), (1, 70, 65)])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True), (True, False)])
def test_matvec(lib, m, n, k, ta, tb):
    rng = np.random.default_rng(m + n + k)
    a = make(rng, m, k, ta, batch=(2,))
    b = make(rng, k, n, tb)  # broadcast over the batch
    out, plan = run_matmul(lib, a, b, ta, tb, expect="tl_matvec_f32")
    assert rel_err(out, ref(a, b, ta, tb)) < 1e-5


@pytest.mark.parametrize("m,n,k", [(1, 1, 1), (17, 33, 65), (65, 70, 17)])
@pytest.mark.parametrize("ta,tb", [(False, False), (True, True)])
def test_dgemm(lib, m, n, k, ta, tb):
    rng = np.random.default_rng(m + 3 * n + k)
    a = make(rng, m, k, ta, np.float64, pad=1, batch=(2,))
    b = make(rng, k, n, tb, np.float64)
    out, plan = run_matmul(lib, a, b, ta, tb, expect="tl_matmul_f64_tiled")
    assert rel_err(out, ref(a, b, ta, tb)) < 1e-12
