"""The memoized launch planners (`kernels/_plan.memoize_plan`, the `memo_*` twins of the `plan_*`
functions that the CUDA launchers call), checked on the CPU.

(a) a memoized plan is exactly the plan the uncached planner computes (values and their types)
    over a spread of shapes, dtypes, flags, variants and pointer alignments;
(b) pointers key the matmul cache only by their 16-byte alignment: arrays at different addresses
    with one alignment share an entry, another alignment gets its own (correct) plan;
(c) no launcher mutates a shared plan: every plan a launcher obtains is snapshotted (deep copy)
    and compared after the op has run on the host emulator (numpy standing in for CuPy).
"""
import copy
import dataclasses
import inspect
import itertools
import sys
from pathlib import Path

import numpy as np
import pytest

from tensorlab.backend.cuda.kernels import _plan
from tensorlab.backend.cuda.kernels import conv as cv
from tensorlab.backend.cuda.kernels import matmul as mm
from tensorlab.backend.cuda.kernels import reduce as R
from tensorlab.backend.cuda.kernels import rowwise as RW

#: (module, memoized planner, uncached planner) of every planner the launchers call memoized
MEMOS = [
    (mm, "memo_matmul", "plan_matmul"),
    (R, "memo_reduce", "plan_reduce"),
    (R, "memo_argreduce", "plan_argreduce"),
    (cv, "memo_conv2d_forward", "plan_conv2d_forward"),
    (cv, "memo_conv2d_backprop_input", "plan_conv2d_backprop_input"),
    (cv, "memo_conv2d_backprop_filter", "plan_conv2d_backprop_filter"),
    (RW, "memo_layer_norm_params_grad", "plan_layer_norm_params_grad"),
    (RW, "memo_batch_norm_stats", "plan_batch_norm_stats"),
    (RW, "memo_batch_norm_grad", "plan_batch_norm_grad"),
]
BASE = 1 << 40  # a 16-byte aligned fake address


def canon(x):
    """`x` as nested tuples that carry each value's type as well as its value, so that a plan
    equal only up to scalar types (np.int64(1) vs 1, float32 vs float64) does not pass."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__,) + tuple((f.name, canon(getattr(x, f.name))) for f in dataclasses.fields(x))
    if isinstance(x, dict):
        return ("dict",) + tuple(sorted((repr(k), canon(v)) for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__,) + tuple(canon(v) for v in x)
    return (type(x).__name__, repr(x))


def outcome(fn, *args):
    try:
        return ("ok", canon(fn(*args)))
    except (ValueError, TypeError) as e:
        return ("raises", type(e).__name__, str(e))


def check_same(memo, fresh, *args):
    """The memoized planner gives the uncached planner's plan, computing and then from the cache."""
    want = outcome(fresh, *args)
    assert outcome(memo, *args) == want, args
    assert outcome(memo, *args) == want, args  # the second call is served by the cache
    if want[0] == "ok":
        assert memo(*args) is memo(*args)


# ---------------------------------------------------------------------------------------- (a)
HAS_CC = "cc" in inspect.signature(mm.plan_matmul).parameters


def _stored(rows, cols, trans, batch=(), pad=0):
    """(shape, element strides) of a C-contiguous operand stored (rows x cols), transposed if
    `trans`, with `pad` extra elements per stored row."""
    shape = tuple(batch) + ((cols, rows) if trans else (rows, cols))
    ld = shape[-1] + pad
    strides = [ld, 1]
    size = shape[-2] * ld
    for d in reversed(batch):
        strides.insert(0, size)
        size *= d
    return shape, strides


MATMUL_PROBLEMS = [  # (m, n, k, a batch, b batch)
    (7, 5, 17, (), ()), (64, 64, 64, (), ()), (1, 50, 37, (), ()), (50, 1, 37, (), ()),
    (5, 4, 17, (3,), ()), (5, 6, 8, (2, 1), (3,)), (4, 6, 8, (2, 3, 4), (2, 1, 4)),
    (1024, 1024, 1024, (), ()), (64, 8192, 8192, (), ()), (4096, 4096, 4096, (), ()),
    (2048, 2048, 24, (), ()), (2048, 2048, 20, (), ()), (128, 256, 64, (130,), (130,)),
]


@pytest.mark.parametrize("dtype_name,itemsize", [("float32", 4), ("float16", 2), ("bfloat16", 2), ("float64", 8)])
def test_matmul_memo_equals_fresh_plan(dtype_name, itemsize):
    variants = [None] + list(mm.VARIANTS[dtype_name])
    for (m, n, k, ba, bb), ta, tb in itertools.product(MATMUL_PROBLEMS, (False, True), (False, True)):
        for pad, off_a, off_b in ((0, 0, 0), (1, 0, 0), (0, itemsize, 0), (0, 0, 8), (3, 16, 4)):
            a_shape, a_strides = _stored(m, k, ta, ba, pad)
            b_shape, b_strides = _stored(k, n, tb, bb)
            for variant, tf32, num_sms in itertools.product(variants, (False, True), (4, 132)):
                args = [a_shape, a_strides, BASE + off_a, b_shape, b_strides, BASE + 4096 + off_b,
                        itemsize, dtype_name, ta, tb, tf32, num_sms, variant]
                for cc in ((None, "90") if HAS_CC else (None,)):
                    check_same(mm.memo_matmul, mm.plan_matmul, *(args + ([cc] if HAS_CC else [])))


def test_matmul_memo_non_contiguous_and_list_arguments():
    # a column-strided operand asks for a copy; shapes and strides given as lists key like tuples
    for a_strides in ([80, 1], [80, 2], [1, 7], [0, 1]):
        args = [[7, 17], a_strides, BASE, [17, 6], [12, 2], BASE, 4, "float32", False, False, False, 132, None]
        check_same(mm.memo_matmul, mm.plan_matmul, *args)
    with pytest.raises(ValueError):  # an error is raised every time (not cached)
        mm.memo_matmul((3, 4), [4, 1], BASE, (5, 6), [6, 1], BASE, 4, "float32", False, False, False, 132, None)


REDUCE_SHAPES = [(7,), (16384, 1024), (4096, 12), (3, 5, 7), (40000, 16), (8, 1000), (1, 1 << 22),
                 (0, 5), (5, 0), (4, 1, 6), (2, 3, 4, 5)]


def test_reduce_memo_equals_fresh_plan():
    for shape, dtype, op, variant, sm in itertools.product(REDUCE_SHAPES, (np.float16, np.float32, np.float64),
                                                           R.OPS, R.VARIANTS, (4, 132)):
        nd = len(shape)
        axes_list = {None, (0,), (nd - 1,), tuple(range(nd))} | ({(0, nd - 1), (1,)} if nd > 1 else set())
        for axes in axes_list:
            check_same(R.memo_reduce, R.plan_reduce, shape, np.dtype(dtype), op, axes, sm, variant)
    check_same(R.memo_reduce, R.plan_reduce, (4, 5), np.dtype(np.int32), "sum", (0,), 132, None)
    check_same(R.memo_reduce, R.plan_reduce, (4, 5), np.dtype(np.float32), "median", (0,), 132, None)


def test_argreduce_memo_equals_fresh_plan():
    shapes = [(7,), (64, 100000), (3, 5000, 7), (4096, 12), (5, 1024), (300, 2000), (2, 0, 3)]
    for shape, dtype, op, sm in itertools.product(shapes, (np.float32, np.float64), R.ARG_OPS, (4, 132)):
        for axis in [None] + list(range(-1, len(shape))):
            check_same(R.memo_argreduce, R.plan_argreduce, shape, np.dtype(dtype), op, axis, sm)


CONV_GEOMETRIES = [  # (x shape, filter shape, groups)
    ((2, 9, 11, 3), (3, 3, 3, 8), 1), ((2, 10, 9, 5), (3, 3, 5, 7), 1), ((2, 7, 8, 6), (3, 3, 1, 6), 6),
    ((2, 8, 7, 8), (3, 2, 4, 6), 2), ((3, 6, 5, 16), (1, 1, 16, 20), 1), ((64, 14, 14, 256), (3, 3, 256, 256), 1),
    ((32, 56, 56, 64), (3, 3, 64, 64), 1), ((8, 30, 30, 16), (3, 3, 16, 32), 1), ((4, 8, 8, 64), (3, 3, 8, 128), 8),
]


def test_conv_memo_equals_fresh_plan():
    stride_forms = [1, (2, 2), [1, 2], (1, 2, 2, 1)]
    for (x_shape, w_shape, groups), strides, dil in itertools.product(CONV_GEOMETRIES, stride_forms, (1, (2, 1))):
        KH, KW = w_shape[:2]
        (oh, ow), pads = cv.same_valid_pads(x_shape[1:3], (KH, KW), strides, dil, "SAME")
        dy_shape = (x_shape[0], *cv.out_hw(x_shape[1], x_shape[2], KH, KW, strides, pads, dil), w_shape[3])
        for pads_form, vec, sm in itertools.product((pads, list(pads)), (True, False), (4, 132)):
            for variant in (None, "splitk", "nosplit", "bogus"):
                check_same(cv.memo_conv2d_forward, cv.plan_conv2d_forward, x_shape, w_shape, strides, pads_form, dil,
                           groups, vec, sm, variant)
            for dtype in ("float16", "bfloat16"):
                check_same(cv.memo_conv2d_forward, cv.plan_conv2d_forward, x_shape, w_shape, strides, pads_form, dil,
                           groups, vec, sm, "tc", dtype)
            check_same(cv.memo_conv2d_backprop_input, cv.plan_conv2d_backprop_input, dy_shape, w_shape, x_shape,
                       strides, pads_form, dil, groups, vec, sm)
            check_same(cv.memo_conv2d_backprop_filter, cv.plan_conv2d_backprop_filter, x_shape, dy_shape, w_shape,
                       strides, pads_form, dil, groups, vec, sm)


def test_rowwise_memo_equals_fresh_plan():
    for dtype, M, C, sm in itertools.product((np.float32, np.float64), (1, 100, 65536), (1, 33, 1024), (4, 132)):
        dt = np.dtype(dtype)
        check_same(RW.memo_layer_norm_params_grad, RW.plan_layer_norm_params_grad, dt, M, C, sm)
        check_same(RW.memo_batch_norm_stats, RW.plan_batch_norm_stats, dt, M, C, sm)
        for has_gamma in (True, False):
            check_same(RW.memo_batch_norm_grad, RW.plan_batch_norm_grad, dt, M, C, has_gamma, sm)


def test_every_memo_is_registered_for_clear_plan_caches():
    for mod, memo, _ in MEMOS:
        assert callable(getattr(mod, memo))
    mm.memo_matmul((4, 4), [4, 1], BASE, (4, 4), [4, 1], BASE, 4, "float32", False, False, False, 132, None)
    R.memo_reduce((4, 4), np.dtype(np.float32), "sum", (0,), 132, None)
    _plan.clear_plan_caches()
    assert mm._memo_matmul.cache_info().currsize == 0 and R.memo_reduce.cache_info().currsize == 0
    for cached in (mm._memo_matmul, cv._memo_conv, R.memo_reduce, R.memo_argreduce, RW.memo_layer_norm_params_grad,
                   RW.memo_batch_norm_stats, RW.memo_batch_norm_grad):
        assert cached in _plan._PLAN_CACHES
        assert cached.cache_info().maxsize == _plan.PLAN_CACHE_SIZE


def test_patched_selection_gets_its_own_plans(monkeypatch):
    """Tests force kernels by patching `select_variant` / `select_tile`: a plan cached before
    (or during) the patch must not be served in its place."""
    args = ((4096, 4096), [4096, 1], BASE, (4096, 4096), [4096, 1], BASE, 4, "float32", False, False, False, 132,
            None)
    default = mm.memo_matmul(*args)
    assert default["kernel"] != "tl_matmul_f32_64x64"
    monkeypatch.setattr(mm, "select_variant", lambda *a, **k: "tl_matmul_f32_64x64")
    forced = mm.memo_matmul(*args)
    assert forced["kernel"] == "tl_matmul_f32_64x64" and canon(forced) == canon(mm.plan_matmul(*args))
    conv_args = ((2, 9, 7, 12), (3, 3, 6, 20), (2, 1), (1, 1, 1, 0), (1, 1), 2, True, 132)
    conv_default = cv.memo_conv2d_forward(*conv_args)
    monkeypatch.setattr(cv, "select_tile", lambda *a, **k: "_128x64")
    conv_forced = cv.memo_conv2d_forward(*conv_args)
    assert conv_forced["kernel"].endswith("_128x64") and canon(conv_forced) == canon(cv.plan_conv2d_forward(*conv_args))
    monkeypatch.undo()
    assert mm.memo_matmul(*args) is default and cv.memo_conv2d_forward(*conv_args) is conv_default


# ---------------------------------------------------------------------------------------- (b)
def _ptr(a):
    return a.__array_interface__["data"][0]


def _aligned_f32(shape, offset_bytes=0):
    """A float32 array of `shape` whose first element sits `offset_bytes` past a 16-byte boundary."""
    n = int(np.prod(shape))
    buf = np.zeros(n + 8, np.float32)
    skip = (-_ptr(buf) % 16 + offset_bytes) // 4
    a = buf[skip:skip + n].reshape(shape)
    assert _ptr(a) % 16 == offset_bytes
    return a


def _matmul_args(a, b):
    return (a.shape, [s // a.itemsize for s in a.strides], _ptr(a), b.shape, [s // b.itemsize for s in b.strides],
            _ptr(b), a.itemsize, "float32", False, False, False, 132, None)


def test_matmul_cache_keys_pointers_by_alignment_only():
    mm._memo_matmul.cache_clear()
    b = _aligned_f32((64, 32))
    a1, a2 = _aligned_f32((48, 64)), _aligned_f32((48, 64))
    assert _ptr(a1) != _ptr(a2)
    p1 = mm.memo_matmul(*_matmul_args(a1, b))
    p2 = mm.memo_matmul(*_matmul_args(a2, b))
    assert p2 is p1
    info = mm._memo_matmul.cache_info()
    assert (info.currsize, info.misses, info.hits) == (1, 1, 1)
    # a 4-byte offset: no 16-byte vector loads of A, a plan (and an entry) of its own
    a3 = _aligned_f32((48, 64), 4)
    p3 = mm.memo_matmul(*_matmul_args(a3, b))
    assert p3 is not p1 and mm._memo_matmul.cache_info().currsize == 2
    assert canon(p3) == canon(mm.plan_matmul(*_matmul_args(a3, b)))
    assert p1["args"][10] == ("i32", 1) and p3["args"][10] == ("i32", 0)  # args[10]: A's vector flag


def test_matmul_cache_grows_per_alignment_not_per_address():
    mm._memo_matmul.cache_clear()
    plans = {}
    for ptr in range(BASE, BASE + 64 * 1024, 4):  # 16384 addresses, 4 alignments of float32
        args = ((48, 64), [64, 1], ptr, (64, 32), [32, 1], BASE, 4, "float32", False, False, False, 132, None)
        plans.setdefault(ptr % 16, mm.memo_matmul(*args))
        assert mm.memo_matmul(*args) is plans[ptr % 16]
    assert mm._memo_matmul.cache_info().currsize == 4
    for r, plan in plans.items():  # each is the plan of any address with that alignment
        for ptr in (BASE + r, BASE + 4096 + r, 12345 * 16 + r):
            args = ((48, 64), [64, 1], ptr, (64, 32), [32, 1], BASE, 4, "float32", False, False, False, 132, None)
            assert canon(plan) == canon(mm.plan_matmul(*args))
    assert plans[0]["args"][10] == ("i32", 1) and all(plans[r]["args"][10] == ("i32", 0) for r in (4, 8, 12))


# ---------------------------------------------------------------------------------------- (c)
@pytest.fixture
def emulated_gpu(monkeypatch):
    """The launchers run on the host emulator (tests/kernels/emu/emulated_device.py)."""
    repo = Path(__file__).resolve().parents[2]
    if str(repo) not in sys.path:
        monkeypatch.syspath_prepend(str(repo))
    from tests.kernels.emu.loader import emulated_device_or_skip

    return emulated_device_or_skip().install(monkeypatch)


@pytest.fixture
def recorded(monkeypatch):
    """Every plan a launcher gets from a memoized planner, with a deep copy taken on the way."""
    seen = []
    for mod, name, _ in MEMOS:
        memo = getattr(mod, name)

        def record(*args, _memo=memo, _name=name):
            plan = _memo(*args)
            seen.append((_name, args, plan, copy.deepcopy(plan)))
            return plan

        monkeypatch.setattr(mod, name, record)
    return seen


def _dev(a):
    import tl_emu_device

    return np.ascontiguousarray(a).view(tl_emu_device.DeviceArray)


def _ops(rng):
    """(name, thunk) pairs: each launcher on small inputs, on the emulated device."""
    f32 = lambda *s: _dev(rng.standard_normal(s).astype(np.float32))  # noqa: E731
    a, b, bt = f32(9, 17), f32(17, 6), f32(6, 17)
    a16, b16 = _dev(rng.standard_normal((9, 24)).astype(np.float16)), _dev(rng.standard_normal((24, 6)).astype(np.float16))
    x = f32(33, 20)
    xc, wc, dyc = f32(2, 7, 6, 4), f32(3, 3, 4, 8), f32(2, 7, 6, 8)
    pads = (1, 1, 1, 1)
    g = f32(20)
    mean, rstd = _dev(np.zeros(33, np.float32)), _dev(np.ones(33, np.float32))
    return [
        ("matmul", lambda: mm.matmul(a, b)),
        ("matmul_tb", lambda: mm.matmul(a, bt, transpose_b=True)),
        ("matmul_f16", lambda: mm.matmul(a16, b16)),
        ("reduce_sum0", lambda: R.reduce(x, "sum", axes=(0,))),
        ("reduce_mean1", lambda: R.reduce(x, "mean", axes=(1,), keepdims=True)),
        ("reduce_max_all", lambda: R.reduce(x, "max")),
        ("argmax1", lambda: R.argreduce(x, "argmax", axis=1)),
        ("argmin_all", lambda: R.argreduce(x, "argmin")),
        ("conv2d", lambda: cv.conv2d_forward(xc, wc, 1, pads, 1)),
        ("conv2d_bwd_input", lambda: cv.conv2d_backprop_input(dyc, wc, xc.shape, 1, pads, 1)),
        ("conv2d_bwd_filter", lambda: cv.conv2d_backprop_filter(xc, dyc, wc.shape, 1, pads, 1)),
        ("layer_norm_grad", lambda: RW.layer_norm_grad(x, x, g, mean, rstd)),
        ("batch_norm_stats", lambda: RW.batch_norm_stats(x)),
        ("batch_norm_grad", lambda: RW.batch_norm_grad(x, x, g, g, g)),
    ]


def _host(out):
    return tuple(np.array(o) for o in out) if isinstance(out, tuple) else (np.array(out),)


def test_launchers_do_not_mutate_cached_plans(emulated_gpu, recorded, rng):
    ops = _ops(rng)
    first = {name: _host(run()) for name, run in ops}
    assert {name for name, *_ in recorded} == {memo for _, memo, _ in MEMOS}  # every planner was used
    n_first = len(recorded)
    for name, run in ops:  # again: now every plan comes from the cache, and gives the same results
        for f, s in zip(first[name], _host(run())):
            np.testing.assert_array_equal(f, s, err_msg=name)
    assert len(recorded) == 2 * n_first
    for (name, args, plan, _), (_, args2, plan2, _) in zip(recorded[:n_first], recorded[n_first:]):
        assert args2 == args and plan2 is plan, f"{name}{args} was planned again"
    for name, args, plan, snapshot in recorded:
        assert canon(plan) == canon(snapshot), f"a caller of {name}{args} changed the shared plan"


def test_launcher_results_with_cached_plans_are_right(emulated_gpu, rng):
    x = rng.standard_normal((33, 20)).astype(np.float32)
    a, b = rng.standard_normal((9, 17)).astype(np.float32), rng.standard_normal((17, 6)).astype(np.float32)
    for _ in range(2):  # the second round runs on cached plans
        np.testing.assert_allclose(np.array(mm.matmul(_dev(a), _dev(b))), a @ b, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(np.array(R.reduce(_dev(x), "sum", axes=(0,))), x.sum(0), rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(np.array(R.argreduce(_dev(x), "argmax", axis=1)), x.argmax(1))
        mean, var = RW.batch_norm_stats(_dev(x))
        np.testing.assert_allclose(np.array(mean), x.mean(0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.array(var), x.var(0), rtol=1e-4, atol=1e-6)


def test_launchers_share_one_entry_across_allocations(emulated_gpu, rng):
    """Two operands at different addresses (both 16-byte aligned) plan once."""
    mm._memo_matmul.cache_clear()
    b = _dev(rng.standard_normal((17, 6)).astype(np.float32))
    operands, outs = [], []
    for _ in range(3):
        a = _aligned_f32((9, 17))
        a[...] = rng.standard_normal((9, 17))
        a = _dev(a)
        operands.append(a)  # kept alive: three distinct addresses
        outs.append(np.array(mm.matmul(a, b)))
    assert len({a.data.ptr for a in operands}) == 3 and all(a.data.ptr % 16 == 0 for a in operands)
    info = mm._memo_matmul.cache_info()
    assert info.misses == 1 and info.hits == 2
    for a, out in zip(operands, outs):
        np.testing.assert_allclose(out, np.array(a) @ np.array(b), rtol=1e-5, atol=1e-5)
