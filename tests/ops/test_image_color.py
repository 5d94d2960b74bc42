"""tl.image colour ops against float64 numpy transcriptions of TF's kernels: HSV/YUV/YIQ, contrast, gamma,
hue, saturation, their random and stateless variants, Sobel edges and image gradients."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import Case, S, op_tests

RGB_TO_YIQ = np.array([[0.299, 0.59590059, 0.2115], [0.587, -0.27455667, -0.52273617],
                       [0.114, -0.32134392, 0.31119955]])
YIQ_TO_RGB = np.array([[1, 1, 1], [0.95598634, -0.27201283, -1.10674021], [0.6208248, -0.64720424, 1.70423049]])
RGB_TO_YUV = np.array([[0.299, -0.14714119, 0.61497538], [0.587, -0.28886916, -0.51496512],
                       [0.114, 0.43601035, -0.10001026]])
YUV_TO_RGB = np.array([[1, 1, 1], [0, -0.394642334, 2.03206185], [1.13988303, -0.58062185, 0]])


# ----------------------------------------------------------------- references (TF's kernels, float64)
def ref_rgb_to_hsv(x):
    """TF's RGBToHSV functor."""
    r, g, b = x[..., 0], x[..., 1], x[..., 2]
    v = x.max(-1)
    span = v - x.min(-1)
    s = np.where(v > 0, span / np.where(v > 0, v, 1), 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = 1 / (6 * span)
        h = np.where(r == v, norm * (g - b), np.where(g == v, norm * (b - r) + 2 / 6, norm * (r - g) + 4 / 6))
    h = np.where(span > 0, h, 0)
    h = np.where(h < 0, h + 1, h)
    return np.stack([h, s, v], -1)


def ref_hsv_to_rgb(x):
    """TF's HSVToRGB functor."""
    h, s, v = x[..., 0:1], x[..., 1:2], x[..., 2:3]
    dh = h * 6
    ramps = np.concatenate([np.clip(np.abs(dh - 3) - 1, 0, 1), np.clip(2 - np.abs(dh - 2), 0, 1),
                            np.clip(2 - np.abs(dh - 4), 0, 1)], -1)
    return (1 - s + s * ramps) * v


def ref_adjust_hue(x, delta):
    """TF's AdjustHue CPU kernel (rgb_to_hv_range / hv_range_to_rgb), one pixel at a time."""
    out = np.empty_like(x, dtype=np.float64)
    for idx in np.ndindex(x.shape[:-1]):
        r, g, b = x[idx]
        if r < g:
            vmax, vmid, vmin, cat = (g, r, b, 1) if b < r else (b, g, r, 3) if b > g else (g, b, r, 2)
        else:
            vmax, vmid, vmin, cat = (r, g, b, 0) if b < g else (b, r, g, 4) if b > r else (r, b, g, 5)
        h = 0.0 if vmax == vmin else cat + ((vmid - vmin) / (vmax - vmin) if cat % 2 == 0
                                            else 1 - (vmid - vmin) / (vmax - vmin))
        h += delta * 6
        while h < 0:
            h += 6
        while h >= 6:
            h -= 6
        cat = int(h)
        ratio = h - cat if cat % 2 == 0 else 1 - (h - cat)
        vmid = vmin + ratio * (vmax - vmin)
        out[idx] = [(vmax, vmid, vmin), (vmid, vmax, vmin), (vmin, vmax, vmid), (vmin, vmid, vmax),
                    (vmid, vmin, vmax), (vmax, vmin, vmid)][cat]
    return out


def ref_adjust_saturation(x, scale):
    """TF's AdjustSaturation CPU kernel (its own rgb_to_hsv / hsv_to_rgb), one pixel at a time."""
    out = np.empty_like(x, dtype=np.float64)
    for idx in np.ndindex(x.shape[:-1]):
        r, g, b = x[idx]
        vv = max(r, g, b)
        span = vv - min(r, g, b)
        s = span / vv if vv > 0 else 0.0
        norm = 1 / (6 * span) if span > 0 else 0.0
        hh = norm * (g - b) if r == vv else norm * (b - r) + 2 / 6 if g == vv else norm * (r - g) + 4 / 6
        hh = 0.0 if span <= 0 else hh
        hh = hh + 1 if hh < 0 else hh
        s = min(1.0, max(0.0, s * scale))
        c = s * vv
        m = vv - c
        dh = hh * 6
        fmodu = dh
        while fmodu <= 0:
            fmodu += 2
        while fmodu >= 2:
            fmodu -= 2
        xx = c * (1 - abs(fmodu - 1))
        rgb = {0: (c, xx, 0), 1: (xx, c, 0), 2: (0, c, xx), 3: (0, xx, c), 4: (xx, 0, c), 5: (c, 0, xx)}
        out[idx] = np.array(rgb.get(int(dh), (0, 0, 0))) + m
    return out


def ref_contrast(x, c):
    mean = x.mean(axis=(-3, -2), keepdims=True)
    return (x - mean) * c + mean


def ref_sobel(x):
    """Reflect-pad by one pixel, then correlate each channel with TF's two Sobel kernels."""
    ky = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]], np.float64)
    kernels = [ky, ky.T]
    p = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)], mode="reflect")
    n, h, w, d = x.shape
    out = np.zeros((n, h, w, d, 2))
    for k, ker in enumerate(kernels):
        for a in range(3):
            for b in range(3):
                out[..., k] += ker[a, b] * p[:, a:a + h, b:b + w, :]
    return out


def ref_image_gradients(x):
    dy, dx = np.zeros_like(x), np.zeros_like(x)
    dy[:, :-1] = x[:, 1:] - x[:, :-1]
    dx[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
    return dy, dx


IMG = S((2, 3, 4, 3), low=0.02, high=0.98)  # RGB in [0, 1], never zeros
HSV = S((2, 3, 4, 3), low=0.02, high=0.98)

CASES = [
    Case("rgb_to_hsv", tl.image.rgb_to_hsv, ref_rgb_to_hsv, [IMG], second=False),
    Case("hsv_to_rgb", tl.image.hsv_to_rgb, ref_hsv_to_rgb, [HSV], second=False),
    Case("rgb_to_yiq", tl.image.rgb_to_yiq, lambda x: x @ RGB_TO_YIQ, [S((5, 3))]),
    Case("yiq_to_rgb", tl.image.yiq_to_rgb, lambda x: x @ YIQ_TO_RGB, [S((2, 2, 3, 3))]),
    Case("rgb_to_yuv", tl.image.rgb_to_yuv, lambda x: x @ RGB_TO_YUV, [S((3, 4, 3))]),
    Case("yuv_to_rgb", tl.image.yuv_to_rgb, lambda x: x @ YUV_TO_RGB, [S((3, 4, 3))]),
    Case("adjust_contrast", lambda x: tl.image.adjust_contrast(x, 1.7), lambda x: ref_contrast(x, 1.7),
         [S((2, 3, 4, 2))]),
    Case("adjust_contrast_rank5_tensor_factor", lambda x, c: tl.image.adjust_contrast(x, c), ref_contrast,
         [S((2, 2, 3, 4, 3)), S((), low=0.2, high=2.0)]),
    Case("adjust_gamma", lambda x: tl.image.adjust_gamma(x, 0.6, 1.3), lambda x: 1.3 * x ** 0.6,
         [S((3, 4, 3), low=0.1, high=1.0)]),
    Case("adjust_gamma_tensor_args", lambda x, g, k: tl.image.adjust_gamma(x, g, k), lambda x, g, k: k * x ** g,
         [S((2, 3, 1), low=0.1, high=1.0), S((), low=0.5, high=2.0), S((), low=0.5, high=2.0)]),
    Case("adjust_hue", lambda x: tl.image.adjust_hue(x, 0.37), lambda x: ref_adjust_hue(x, 0.37), [IMG],
         second=False),
    Case("adjust_hue_negative_delta", lambda x: tl.image.adjust_hue(x, -0.81), lambda x: ref_adjust_hue(x, -0.81),
         [S((3, 5, 3), low=0.02, high=0.98)], second=False),
    Case("adjust_saturation_down", lambda x: tl.image.adjust_saturation(x, 0.4),
         lambda x: ref_adjust_saturation(x, 0.4), [IMG], second=False),
    Case("adjust_saturation_up", lambda x: tl.image.adjust_saturation(x, 1.6),
         lambda x: ref_adjust_saturation(x, 1.6), [S((2, 3, 4, 3), low=0.3, high=0.9)], second=False),
    Case("sobel_edges", tl.image.sobel_edges, ref_sobel, [S((2, 4, 5, 3))]),
    Case("image_gradients", tl.image.image_gradients, ref_image_gradients, [S((2, 3, 4, 2))]),
]


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU vs CPU


# ----------------------------------------------------------------- round trips and TF's documented values
def test_round_trips(rng):
    x = rng.uniform(0.01, 1.0, size=(2, 5, 6, 3))
    np.testing.assert_allclose(tl.image.hsv_to_rgb(tl.image.rgb_to_hsv(x)).numpy(), x, rtol=1e-12, atol=1e-12)
    # TF's matrices are inverses to their printed digits (YIQ's 0.2115 has only four).
    np.testing.assert_allclose(tl.image.yuv_to_rgb(tl.image.rgb_to_yuv(x)).numpy(), x, atol=1e-6)
    np.testing.assert_allclose(tl.image.yiq_to_rgb(tl.image.rgb_to_yiq(x)).numpy(), x, atol=2e-4)
    np.testing.assert_allclose(tl.image.yiq_to_rgb(tl.image.rgb_to_yiq(x)).numpy(), x @ RGB_TO_YIQ @ YIQ_TO_RGB)
    hsv = np.stack([rng.uniform(0, 0.999, (4, 4)), rng.uniform(0.05, 1, (4, 4)), rng.uniform(0.05, 1, (4, 4))], -1)
    np.testing.assert_allclose(tl.image.rgb_to_hsv(tl.image.hsv_to_rgb(hsv)).numpy(), hsv, atol=1e-12)
    # Hue wraps around: a full turn is the identity, and +d then -d comes back.
    np.testing.assert_allclose(tl.image.adjust_hue(x, 1.0).numpy(), x, atol=1e-12)
    back = tl.image.adjust_hue(tl.image.adjust_hue(x, 0.3), -0.3).numpy()
    np.testing.assert_allclose(back, x, atol=1e-12)


def test_grey_and_black_pixels():
    x = np.array([[[0.0, 0.0, 0.0], [0.4, 0.4, 0.4], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]])
    np.testing.assert_allclose(tl.image.rgb_to_hsv(x).numpy(), ref_rgb_to_hsv(x))
    np.testing.assert_allclose(tl.image.rgb_to_hsv(x).numpy()[0, :2], [[0, 0, 0], [0, 0, 0.4]])
    np.testing.assert_allclose(tl.image.adjust_hue(x, 0.4).numpy(), ref_adjust_hue(x, 0.4), atol=1e-15)
    for f in (0.0, 0.5, 3.0, -1.0):
        np.testing.assert_allclose(tl.image.adjust_saturation(x, f).numpy(), ref_adjust_saturation(x, f))
    # Gradients stay finite at grey and black pixels (the unused branches divide safely).
    xt = tl.constant(x)
    for fn in (tl.image.rgb_to_hsv, lambda a: tl.image.adjust_hue(a, 0.2), lambda a: tl.image.adjust_saturation(a, 2)):
        with tl.GradientTape() as tape:
            tape.watch(xt)
            y = tl.reduce_sum(fn(xt))
        assert np.all(np.isfinite(tape.gradient(y, xt).numpy()))


def test_tf_documented_values():
    x = tl.constant([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]])
    np.testing.assert_allclose(tl.image.adjust_hue(x, 0.2).numpy(),
                               [[[2.4, 1, 3], [5.4, 4, 6]], [[8.4, 7, 9], [11.4, 10, 12]]], rtol=1e-6)
    np.testing.assert_allclose(tl.image.adjust_saturation(x, 0.5).numpy(),
                               [[[2, 2.5, 3], [5, 5.5, 6]], [[8, 8.5, 9], [11, 11.5, 12]]], rtol=1e-6)
    np.testing.assert_allclose(tl.image.adjust_contrast(x, 2).numpy(),
                               [[[-3.5, -2.5, -1.5], [2.5, 3.5, 4.5]], [[8.5, 9.5, 10.5], [14.5, 15.5, 16.5]]])
    np.testing.assert_allclose(tl.image.adjust_gamma(x, 0.2).numpy()[0, 0], [1, 1.1486983, 1.2457309], rtol=1e-6)
    # TF's random_saturation(x, 5, 10) example: factors >= max / (max - min) = 6 saturate every pixel fully.
    np.testing.assert_allclose(tl.image.random_saturation(x, 6, 10).numpy(),
                               [[[0, 1.5, 3], [0, 3, 6]], [[0, 4.5, 9], [0, 6, 12]]], atol=1e-5)
    ints = tl.constant(np.arange(1, 19, dtype=np.int32).reshape(3, 2, 3))
    got = tl.image.adjust_hue(ints, 0.2)
    assert got.dtype == tl.int32
    np.testing.assert_array_equal(got.numpy(), [[[2, 1, 3], [5, 4, 6]], [[8, 7, 9], [11, 10, 12]],
                                                [[14, 13, 15], [17, 16, 18]]])


# ----------------------------------------------------------------- dtypes
def _through_float(x, fn, saturate):
    """TF's integer path: to float [0, 1], ``fn``, back with ``(max + 0.5)`` scaling and truncation."""
    y = fn(x / 255.0) * 255.5
    return (np.clip(y, 0, 255) if saturate else y).astype(np.uint8)


@pytest.mark.parametrize("name,fn,ref,saturate", [
    ("adjust_hue", lambda x: tl.image.adjust_hue(x, 0.3), lambda x: ref_adjust_hue(x, 0.3), False),
    ("adjust_saturation", lambda x: tl.image.adjust_saturation(x, 0.6), lambda x: ref_adjust_saturation(x, 0.6),
     False),
    ("adjust_contrast", lambda x: tl.image.adjust_contrast(x, 1.8), lambda x: ref_contrast(x, 1.8), True),
    ("adjust_gamma", lambda x: tl.image.adjust_gamma(x, 0.5, 1.2), lambda x: 1.2 * x ** 0.5, True),
])
def test_integer_images_go_through_float(rng, name, fn, ref, saturate):
    x = rng.integers(1, 256, size=(2, 4, 5, 3)).astype(np.uint8)
    got = fn(tl.constant(x))
    assert got.dtype == tl.uint8, name
    want = _through_float(x.astype(np.float64), ref, saturate)
    assert np.abs(got.numpy().astype(int) - want.astype(int)).max() <= 1, name


def test_float16_is_computed_in_float32_and_returned_as_float16(rng):
    x = rng.uniform(0.05, 0.95, size=(3, 4, 3))
    for fn, ref in ((lambda a: tl.image.adjust_hue(a, 0.25), lambda a: ref_adjust_hue(a, 0.25)),
                    (lambda a: tl.image.adjust_saturation(a, 0.3), lambda a: ref_adjust_saturation(a, 0.3)),
                    (lambda a: tl.image.adjust_contrast(a, 0.3), lambda a: ref_contrast(a, 0.3)),
                    (tl.image.rgb_to_hsv, ref_rgb_to_hsv)):
        got = fn(tl.constant(x.astype(np.float16)))
        assert got.dtype == tl.float16
        np.testing.assert_allclose(got.numpy().astype(np.float64), ref(x.astype(np.float16).astype(np.float64)),
                                   atol=2e-3)


# ----------------------------------------------------------------- random and stateless variants
@pytest.mark.parametrize("name,args,adjust", [
    ("random_contrast", (0.3, 1.8), tl.image.adjust_contrast),
    ("random_hue", (0.4,), tl.image.adjust_hue),
    ("random_saturation", (0.2, 2.5), tl.image.adjust_saturation),
])
def test_random_ops_draw_one_factor_from_the_range(rng, name, args, adjust):
    x = tl.constant(rng.uniform(0.05, 0.95, size=(2, 4, 5, 3)))
    lo, hi = (-args[0], args[0]) if len(args) == 1 else args
    # The op's seed selects its stream: the same draw as tl.random.uniform with that seed.
    tl.random.set_seed(17)
    factor = tl.random.uniform([], lo, hi, seed=5)
    tl.random.set_seed(17)
    got = getattr(tl.image, name)(x, *args, seed=5)
    tl.random.set_seed(None)
    assert lo <= float(factor) < hi
    np.testing.assert_allclose(got.numpy(), adjust(x, factor).numpy(), rtol=1e-12, atol=1e-12)
    draws = {tuple(getattr(tl.image, name)(x, *args).numpy().ravel()[:6].round(10)) for _ in range(4)}
    assert len(draws) > 1  # unseeded: fresh draws


@pytest.mark.parametrize("name,args,adjust", [
    ("stateless_random_brightness", (0.3,), tl.image.adjust_brightness),
    ("stateless_random_contrast", (0.3, 1.8), tl.image.adjust_contrast),
    ("stateless_random_hue", (0.4,), tl.image.adjust_hue),
    ("stateless_random_saturation", (0.2, 2.5), tl.image.adjust_saturation),
])
def test_stateless_random_ops_depend_on_the_seed_alone(rng, name, args, adjust):
    x = tl.constant(rng.uniform(0.05, 0.95, size=(4, 5, 3)).astype(np.float32))
    op = getattr(tl.image, name)
    lo, hi = (-args[0], args[0]) if len(args) == 1 else args
    a = op(x, *args, seed=(3, 4)).numpy()
    tl.random.uniform([7])  # other random ops in between change nothing
    np.testing.assert_array_equal(op(x, *args, seed=tl.constant([3, 4])).numpy(), a)
    factor = tl.random.stateless_uniform([], seed=(3, 4), minval=lo, maxval=hi)
    np.testing.assert_allclose(a, adjust(x, factor).numpy(), rtol=1e-6, atol=1e-6)
    assert not np.array_equal(op(x, *args, seed=(3, 5)).numpy(), a)


# ----------------------------------------------------------------- errors
def test_errors_name_the_op_and_the_shape():
    E = tl.errors.InvalidArgumentError
    for op in ("rgb_to_hsv", "rgb_to_yiq", "rgb_to_yuv"):
        with pytest.raises(E, match=rf"{op}: expected images whose last dimension is 3 \(R, G, B\), got shape "
                                    r"\[4,4,4\]"):
            getattr(tl.image, op)(tl.zeros([4, 4, 4]))
    with pytest.raises(E, match=r"hsv_to_rgb: .*last dimension is 3 \(H, S, V\), got shape \[2,2\]"):
        tl.image.hsv_to_rgb(tl.zeros([2, 2]))
    with pytest.raises(E, match=r"yuv_to_rgb: .*\(Y, U, V\), got shape \[\]"):
        tl.image.yuv_to_rgb(tl.constant(1.0))
    with pytest.raises(E, match=r"adjust_hue: expected images of rank 3 or more whose last dimension is 3 .*"
                                r"got shape \[4,3\]"):
        tl.image.adjust_hue(tl.zeros([4, 3]), 0.1)
    with pytest.raises(E, match=r"random_saturation: .*got shape \[2,2,2\]"):
        tl.image.random_saturation(tl.zeros([2, 2, 2]), 0.5, 1.0)
    with pytest.raises(E, match=r"adjust_contrast: expected images of rank 3 or more .*got shape \[5,3\]"):
        tl.image.adjust_contrast(tl.zeros([5, 3]), 2.0)
    with pytest.raises(E, match=r"adjust_contrast: contrast_factor must be a scalar, got shape \[2\]"):
        tl.image.adjust_contrast(tl.zeros([2, 2, 3]), tl.constant([1.0, 2.0]))
    with pytest.raises(E, match=r"sobel_edges: expected a 4-D tensor \[batch_size, height, width, depth\], got "
                                r"shape \[4,4,3\]"):
        tl.image.sobel_edges(tl.zeros([4, 4, 3]))
    with pytest.raises(E, match=r"sobel_edges: height and width must be at least 2 .*\[1,1,4,1\]"):
        tl.image.sobel_edges(tl.zeros([1, 1, 4, 1]))
    with pytest.raises(E, match=r"image_gradients: expected a 4-D tensor .*got shape \[4,4\]"):
        tl.image.image_gradients(tl.zeros([4, 4]))


def test_errors_dtypes_and_factors():
    ints = tl.constant(np.ones((2, 2, 3), np.uint8))
    for op in ("rgb_to_hsv", "hsv_to_rgb", "rgb_to_yuv", "yiq_to_rgb"):
        with pytest.raises(TypeError, match=rf"{op}: images must be float16, bfloat16, float32 or float64, got "
                                            r"uint8; .*convert_image_dtype"):
            getattr(tl.image, op)(ints)
    with pytest.raises(TypeError, match=r"sobel_edges: images must be float.*got int32"):
        tl.image.sobel_edges(tl.zeros([1, 3, 3, 1], dtype=tl.int32))
    with pytest.raises(ValueError, match=r"adjust_gamma: gamma should be a non-negative real number, got -0.5"):
        tl.image.adjust_gamma(tl.ones([2, 2, 1]), -0.5)
    with pytest.raises(ValueError, match=r"adjust_gamma: gamma should be a non-negative real number, got -2.0"):
        tl.image.adjust_gamma(tl.ones([2, 2, 1]), tl.constant(-2.0))
    with pytest.raises(TypeError, match=r"adjust_hue: delta must be a number or a scalar tensor, got 'a'"):
        tl.image.adjust_hue(tl.ones([2, 2, 3]), "a")
    x = tl.ones([2, 2, 3])
    for op in ("random_contrast", "random_saturation", "stateless_random_contrast", "stateless_random_saturation"):
        extra = {"seed": (1, 2)} if op.startswith("stateless") else {}
        with pytest.raises(ValueError, match=rf"{op}: upper must be > lower, got lower=0.5 and upper=0.5"):
            getattr(tl.image, op)(x, 0.5, 0.5, **extra)
        with pytest.raises(ValueError, match=rf"{op}: lower must be non-negative, got lower=-0.1"):
            getattr(tl.image, op)(x, -0.1, 0.5, **extra)
    for op in ("random_hue", "stateless_random_hue"):
        extra = {"seed": (1, 2)} if op.startswith("stateless") else {}
        with pytest.raises(ValueError, match=rf"{op}: max_delta must be <= 0.5, got max_delta=0.6"):
            getattr(tl.image, op)(x, 0.6, **extra)
        with pytest.raises(ValueError, match=rf"{op}: max_delta must be non-negative, got max_delta=-0.1"):
            getattr(tl.image, op)(x, -0.1, **extra)
    with pytest.raises(ValueError, match=r"stateless_random_brightness: max_delta must be non-negative"):
        tl.image.stateless_random_brightness(x, -1.0, seed=(1, 2))
    with pytest.raises(tl.errors.InvalidArgumentError,
                       match=r"stateless_random_hue: seed must have shape \[2\], got \[3\]"):
        tl.image.stateless_random_hue(x, 0.1, seed=(1, 2, 3))


# ----------------------------------------------------------------- devices
@pytest.mark.gpu
def test_gpu_constants_and_draws_follow_the_images_device(rng):
    x = rng.uniform(0.05, 0.95, size=(2, 5, 6, 3)).astype(np.float32)

    def run(v):
        return [tl.image.rgb_to_yiq(v), tl.image.yuv_to_rgb(v), tl.image.sobel_edges(v), tl.image.adjust_hue(v, 0.3),
                tl.image.adjust_saturation(v, 1.4), tl.image.rgb_to_hsv(v), tl.image.image_gradients(v)[1]]
    with tl.device("cpu"):
        ref = [r.numpy() for r in run(tl.constant(x))]
    with tl.device("gpu:0"):
        xg = tl.constant(x)
    with tl.device("cpu"):  # the op's own constants must go to the images' device, not the current one
        got = run(xg)
        drawn = [tl.image.random_contrast(xg, 0.5, 1.5), tl.image.random_hue(xg, 0.2),
                 tl.image.stateless_random_saturation(xg, 0.5, 1.5, seed=(1, 2)),
                 tl.image.stateless_random_brightness(xg, 0.2, seed=(1, 2))]
    for g, r in zip(got, ref):
        assert "GPU" in g.device
        np.testing.assert_allclose(g.numpy(), r, rtol=1e-5, atol=1e-6)
    for d in drawn:
        assert "GPU" in d.device and d.shape == (2, 5, 6, 3)
