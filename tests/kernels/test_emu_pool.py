"""Pooling kernels (cuda_kernels/pool.cu) on the host emulator, planned by the launcher.

TF semantics: SAME windows ignore padding (max) and average over valid cells only (avg); the max
gradient goes to the first maximum of a window in row-major scan order. Float64 numpy reference,
NaN-poisoned outputs, overlapping windows (stride < ksize), strides > ksize, ties.
"""

import numpy as np
import pytest

from tl_emu import build, launch
from tensorlab.backend.cuda.kernels import pool as pl


@pytest.fixture(scope="module")
def lib():
    return build("pool")


def ref_pool(x, dy, k, s, padding):
    """float64 (max_y, max_dx, avg_y, avg_dx)."""
    N, H, W, C = x.shape
    (OH, OW), (pt, _, plft, _) = pl._same_valid_pads((H, W), k, s, padding)
    my = np.zeros((N, OH, OW, C))
    ay = np.zeros_like(my)
    mdx = np.zeros(x.shape)
    adx = np.zeros(x.shape)
    for oh in range(OH):
        for ow in range(OW):
            h0, w0 = oh * s[0] - pt, ow * s[1] - plft
            hs = range(max(h0, 0), min(h0 + k[0], H))
            ws = range(max(w0, 0), min(w0 + k[1], W))
            cells = [(h, w) for h in hs for w in ws]  # row-major scan order
            vals = np.stack([x[:, h, w, :] for h, w in cells]).astype(np.float64)  # (cells, N, C)
            arg = np.argmax(vals, axis=0)  # first maximum
            my[:, oh, ow, :] = vals.max(axis=0)
            ay[:, oh, ow, :] = vals.mean(axis=0)
            for i, (h, w) in enumerate(cells):
                mdx[:, h, w, :] += np.where(arg == i, dy[:, oh, ow, :], 0.0)
                adx[:, h, w, :] += dy[:, oh, ow, :] / len(cells)
    return my, mdx, ay, adx


def run(lib, plan, arrays, out_name, shape):
    arrays = dict(arrays)
    arrays[out_name] = np.full(shape, np.nan, np.float32)
    launch(lib, plan["kernel"], plan["grid"], plan["block"], 0,
           *pl.bind_args(plan, arrays, np.int32))
    return arrays[out_name]


CASES = [
    ((2, 7, 6, 3), (2, 2), (2, 2), "VALID"),
    ((2, 7, 6, 3), (2, 2), (2, 2), "SAME"),
    ((1, 9, 8, 5), (3, 3), (2, 2), "SAME"),  # overlapping windows
    ((1, 9, 8, 5), (3, 3), (1, 1), "SAME"),
    ((1, 10, 11, 2), (2, 3), (3, 4), "SAME"),  # stride > ksize: uncovered cells
    ((2, 5, 5, 4), (5, 5), (1, 1), "VALID"),  # global pool
    ((1, 1, 1, 1), (3, 3), (2, 2), "SAME"),
]


@pytest.mark.parametrize("case", CASES, ids=[str(i) for i in range(len(CASES))])
@pytest.mark.parametrize("ties", [False, True])
def test_pool(lib, case, ties):
    shape, k, s, padding = case
    rng = np.random.default_rng(sum(shape) + k[0] + s[1])
    x = rng.standard_normal(shape).astype(np.float32)
    if ties:
        x = np.round(x).astype(np.float32)  # many equal maxima
    pf = pl.plan_pool2d("max", "fwd", shape, k, s, padding)
    dy = rng.standard_normal(pf["out_shape"]).astype(np.float32)
    my, mdx, ay, adx = ref_pool(x, dy, k, s, padding)

    y = run(lib, pf, {"X": x}, "Y", pf["out_shape"])
    np.testing.assert_allclose(y, my, rtol=0, atol=0)
    pb = pl.plan_pool2d("max", "bwd", shape, k, s, padding)
    dx = run(lib, pb, {"X": x, "DY": dy}, "DX", shape)
    np.testing.assert_allclose(dx, mdx, rtol=1e-6, atol=1e-6)

    pa = pl.plan_pool2d("avg", "fwd", shape, k, s, padding)
    y = run(lib, pa, {"X": x}, "Y", pa["out_shape"])
    np.testing.assert_allclose(y, ay, rtol=1e-5, atol=1e-6)
    pab = pl.plan_pool2d("avg", "bwd", shape, k, s, padding)
    dx = run(lib, pab, {"DY": dy}, "DX", shape)
    np.testing.assert_allclose(dx, adx, rtol=1e-5, atol=1e-6)


def test_grid_stride_loop(lib):
    """Fewer blocks than elements: the kernels' grid-stride loops cover the rest."""
    shape, k, s = (1, 6, 6, 40), (2, 2), (2, 2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    pf = dict(pl.plan_pool2d("max", "fwd", shape, k, s, "VALID"), grid=(1, 1, 1))
    y = run(lib, pf, {"X": x}, "Y", pf["out_shape"])
    my, _, _, _ = ref_pool(x, np.zeros(pf["out_shape"]), k, s, "VALID")
    np.testing.assert_array_equal(y, my)
