"""tl.image.transform: projective transforms (TF's 8-parameter convention) with bilinear/nearest
sampling and the constant/nearest/reflect/wrap fill modes, against a per-pixel numpy reference."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import Case, S, check_forward, check_grad, check_shape_rule, draw

MODES = ["constant", "nearest", "reflect", "wrap"]
# Rotation + shear + translation + a little perspective per image; the test perturbs them randomly.
BASE = np.array([[0.9, 0.3, -1.2, -0.25, 1.1, 0.7, 0.01, -0.02],
                 [1.2, -0.1, 2.3, 0.15, 0.8, -1.6, 0.0, 0.0]])


def _map_index(i, n, mode):
    """(index in range, inside?) for integer pixel index i."""
    if mode == "reflect":
        m = i % (2 * n)
        return (2 * n - 1 - m if m >= n else m), True
    if mode == "wrap":
        return i % n, True
    return min(max(i, 0), n - 1), (0 <= i <= n - 1 or mode == "nearest")


def ref_transform(x, m, interpolation="bilinear", fill_mode="constant", fill_value=0.0, output_shape=None):
    """Per output pixel: project (x, y), then read the neighbours with the fill mode (float64)."""
    x = np.asarray(x, np.float64)
    squeeze = x.ndim == 3
    if squeeze:
        x = x[None]
    m = np.broadcast_to(np.atleast_2d(m), (x.shape[0], 8)).astype(np.float64)
    n, h, w, c = x.shape
    oh, ow = (h, w) if output_shape is None else output_shape
    out = np.empty((n, oh, ow, c))

    def read(b, iy, ix):
        yi, yin = _map_index(iy, h, fill_mode)
        xi, xin = _map_index(ix, w, fill_mode)
        return x[b, yi, xi] if (yin and xin) else np.full(c, fill_value)

    for b in range(n):
        a0, a1, a2, b0, b1, b2, c0, c1 = m[b]
        for oy in range(oh):
            for ox in range(ow):
                k = c0 * ox + c1 * oy + 1
                if k == 0:
                    out[b, oy, ox] = fill_value
                    continue
                sx, sy = (a0 * ox + a1 * oy + a2) / k, (b0 * ox + b1 * oy + b2) / k
                if interpolation == "nearest":
                    out[b, oy, ox] = read(b, int(np.floor(sy + 0.5)), int(np.floor(sx + 0.5)))
                    continue
                y0, x0 = int(np.floor(sy)), int(np.floor(sx))
                wy, wx = sy - y0, sx - x0
                out[b, oy, ox] = ((1 - wy) * ((1 - wx) * read(b, y0, x0) + wx * read(b, y0, x0 + 1))
                                  + wy * ((1 - wx) * read(b, y0 + 1, x0) + wx * read(b, y0 + 1, x0 + 1)))
    return out[0] if squeeze else out


def _fn(interp, mode, fill=0.5, output_shape=None):
    def fn(x, p):
        return tl.image.transform(x, tl.constant(BASE, dtype=p.dtype) + 0.05 * p, interpolation=interp,
                                  fill_mode=mode, fill_value=fill, output_shape=output_shape)

    def ref(x, p):
        return ref_transform(x, BASE + 0.05 * p, interp, mode, fill, output_shape)
    return fn, ref


CASES = []
for _mode in MODES:
    for _interp in ("bilinear", "nearest"):
        _f, _r = _fn(_interp, _mode)
        CASES.append(Case(f"{_interp}_{_mode}", _f, _r, [S((2, 5, 7, 3)), S((2, 8))], rtol=1e-9,
                          grad_rtol=1e-4, second=False))
_f, _r = _fn("bilinear", "reflect", output_shape=(4, 9))
CASES.append(Case("bilinear_reflect_output_shape", _f, _r, [S((2, 6, 5, 2)), S((2, 8))], rtol=1e-9,
                  grad_rtol=1e-4, second=False))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward(case, rng):
    check_forward(case, rng, dtypes=("float64",))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward_float32(case, rng):
    # In float32 the sample coordinates carry float32 rounding, which the projective
    # division amplifies: up to about 1e-3 off the float64 reference (worst of 300 draws: 9e-4).
    arrays = [a.astype(np.float32) for a in draw(case, rng)]
    got = case.fn(*[tl.constant(a) for a in arrays], **case.kwargs)
    assert got.dtype == tl.float32
    want = case.ref(*[a.astype(np.float64) for a in arrays], **case.kwargs)
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=4e-3)
    assert np.median(np.abs(got.numpy() - want)) < 1e-5   # a few sample points, not all of them


@pytest.mark.parametrize("case", [c for c in CASES if c.name.startswith("bilinear")], ids=str)
def test_grad(case, rng):
    # Bilinear sampling differentiates w.r.t. the pixels and the transform parameters.
    check_grad(case, rng)


@pytest.mark.parametrize("case", CASES[:2], ids=str)
def test_shape_rule(case, rng):
    check_shape_rule(case, rng)


@pytest.mark.parametrize("mode, scipy_mode", [("constant", "grid-constant"), ("nearest", "nearest"),
                                              ("reflect", "reflect"), ("wrap", "grid-wrap")])
def test_affine_matches_scipy_map_coordinates(rng, mode, scipy_mode):
    """An independent reference for affine transforms: scipy's order-1 map_coordinates."""
    ndimage = pytest.importorskip("scipy.ndimage")
    img = rng.standard_normal((6, 8))
    m = np.array([0.8, 0.4, -2.0, -0.3, 1.3, 1.0, 0.0, 0.0]) + rng.uniform(-0.1, 0.1, 8) * [1, 1, 1, 1, 1, 1, 0, 0]
    oy, ox = np.mgrid[0:6, 0:8].astype(np.float64)
    coords = [m[3] * ox + m[4] * oy + m[5], m[0] * ox + m[1] * oy + m[2]]
    want = ndimage.map_coordinates(img, coords, order=1, mode=scipy_mode, cval=-1.5)
    got = tl.image.transform(tl.constant(img[:, :, None]), m, fill_mode=mode, fill_value=-1.5)
    np.testing.assert_allclose(got.numpy()[:, :, 0], want, rtol=1e-9, atol=1e-9)


def test_identity_translation_and_unbatched(rng):
    x = rng.standard_normal((2, 4, 5, 3))
    same = tl.image.transform(tl.constant(x), [1, 0, 0, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(same.numpy(), x)
    # Output (x, y) reads input (x + 2, y - 1): the image moves left by 2 and down by 1.
    shifted = tl.image.transform(tl.constant(x[0]), tl.constant([1., 0, 2, 0, 1, -1, 0, 0]), fill_value=7.0)
    want = np.full_like(x[0], 7.0)
    want[1:, :3] = x[0, :3, 2:]
    np.testing.assert_allclose(shifted.numpy(), want)
    assert shifted.shape == (4, 5, 3)


def test_integer_images_and_degenerate_projection(rng):
    img = tl.constant(rng.integers(0, 255, size=(1, 3, 4, 1)).astype("uint8"))
    y = tl.image.transform(img, [1, 0, 0.5, 0, 1, 0, 0, 0])
    assert y.dtype == tl.float32
    np.testing.assert_allclose(y.numpy(), ref_transform(img.numpy(), [1, 0, 0.5, 0, 1, 0, 0, 0]), rtol=1e-6)
    # k = 1 - x is 0 at column 1: that pixel is fill_value in every mode.
    z = tl.image.transform(tl.constant(rng.standard_normal((3, 4, 1))), [1, 0, 0, 0, 1, 0, -1, 0],
                           fill_mode="nearest", fill_value=9.0)
    np.testing.assert_array_equal(z.numpy()[:, 1, 0], [9.0, 9.0, 9.0])
    assert np.all(np.isfinite(z.numpy()))


def test_symbolic_output_shape():
    y = tl.image.transform(tl.SymbolicTensor((None, 6, 5, 3), tl.float32), tl.SymbolicTensor((None, 8), tl.float32),
                           output_shape=[2, 9])
    assert tuple(y.shape) == (None, 2, 9, 3)


def test_error_transform(rng):
    x = tl.constant(rng.standard_normal((2, 4, 4, 1)))
    with pytest.raises(tl.errors.InvalidArgumentError, match="fill_mode.*'mirror'"):
        tl.image.transform(x, [1, 0, 0, 0, 1, 0, 0, 0], fill_mode="mirror")
    with pytest.raises(tl.errors.InvalidArgumentError, match="interpolation.*'bicubic'"):
        tl.image.transform(x, [1, 0, 0, 0, 1, 0, 0, 0], interpolation="bicubic")
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"transforms must have shape \[8\].*got shape \[3,8\]"):
        tl.image.transform(x, tl.zeros([3, 8]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"transforms must have shape.*got shape \[6\]"):
        tl.image.transform(x, [1, 0, 0, 0, 1, 0])
    with pytest.raises(tl.errors.InvalidArgumentError, match="rank 3 or 4"):
        tl.image.transform(tl.constant(rng.standard_normal((4, 4))), [1, 0, 0, 0, 1, 0, 0, 0])


@pytest.mark.parametrize("mode", MODES)
def test_far_points_of_a_strong_perspective(rng, mode):
    # k = 1 - 0.24 x gets close to 0 near the right edge: source points land many periods away.
    x = rng.standard_normal((1, 4, 6, 2))
    m = [1.0, 0.2, 0.3, 0.1, 1.0, -0.4, -0.24, 0.0]
    got = tl.image.transform(tl.constant(x), m, fill_mode=mode, fill_value=0.5).numpy()
    np.testing.assert_allclose(got, ref_transform(x, m, "bilinear", mode, 0.5), rtol=1e-9, atol=1e-9)
