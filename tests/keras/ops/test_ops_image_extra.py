"""keras.ops.image additions (image_extra.py, image_warp.py) against float64 numpy/scipy versions
of Keras' formulas, and the real Keras where it imports; gradients; error messages."""
import itertools

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal

import tensorlab as tl
from tensorlab.keras import ops
from tests.keras.ops.helpers import check
from tests.keras.ops.test_ops_nn_extra import check_grad
from tests.keras.real_keras import K

I = ops.image


def _keras(fn, *args, **kwargs):
    conv = [K.ops.convert_to_tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    return K.ops.convert_to_numpy(fn(*conv, **kwargs))


# ----------------------------------------------------------------------------- colour
def _hsv_np(rgb):
    r, g, b = np.moveaxis(rgb, -1, 0)
    v = np.maximum(np.maximum(r, g), b)
    span = v - np.minimum(np.minimum(r, g), b)
    s = np.where(v > 0, span / np.where(v > 0, v, 1), 0)
    norm = 1 / (6 * np.where(span > 0, span, 1))
    h = np.where(v == g, norm * (b - r) + 2 / 6, norm * (r - g) + 4 / 6)
    h = np.where(v == r, norm * (g - b), h)
    h = np.where(span > 0, h, 0) + (h < 0)
    return np.stack([h, s, v], -1)


def _rgb_np(hsv):
    h, s, v = np.moveaxis(hsv, -1, 0)
    dh = np.mod(h, 1.0) * 6
    ramps = [np.clip(np.abs(dh - 3) - 1, 0, 1), np.clip(2 - np.abs(dh - 2), 0, 1), np.clip(2 - np.abs(dh - 4), 0, 1)]
    return np.stack([v * (1 - s + s * d) for d in ramps], -1)


def test_colour_spaces(rng):
    x = rng.random((2, 5, 6, 3))
    check(I.rgb_to_grayscale(x), (x @ [0.2989, 0.5870, 0.1140])[..., None], rtol=1e-12)
    first = np.moveaxis(x, -1, 1)
    check(I.rgb_to_grayscale(first, data_format="channels_first"), np.moveaxis((x @ [0.2989, 0.587, 0.114])[..., None],
                                                                               -1, 1), rtol=1e-12)
    ints = (x[0] * 255).astype("uint8")
    got = I.rgb_to_grayscale(ints)
    assert got.dtype == tl.uint8
    check(got, (ints.astype("float32") @ np.float32([0.2989, 0.587, 0.114])).astype("uint8")[..., None])
    check(I.rgb_to_grayscale(x[..., :1]), x[..., :1])
    check(I.rgb_to_hsv(x), _hsv_np(x), rtol=1e-12, atol=1e-12)
    hsv = rng.random((5, 6, 3)) * [1.7, 1, 1]
    check(I.hsv_to_rgb(hsv), _rgb_np(hsv), rtol=1e-12, atol=1e-12)
    check(I.hsv_to_rgb(I.rgb_to_hsv(x)), x, rtol=1e-12, atol=1e-12)
    if K is not None:
        f = x.astype("float32")
        check(I.rgb_to_hsv(f), _keras(K.ops.image.rgb_to_hsv, f), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="rgb_to_hsv: images must have a float dtype; received images.dtype=uint8"):
        I.rgb_to_hsv(ints)
    with pytest.raises(ValueError, match=r"rgb_to_grayscale: expected 1 or 3 channels, got 4"):
        I.rgb_to_grayscale(np.zeros((4, 4, 4)))


# ----------------------------------------------------------------------------- patches
def _patches_np(x, k, s, r, same):
    """(n, *spatial, c) -> (n, *out, prod(k) * c) in (offsets..., channel) order, zero padding for same."""
    spatial = x.shape[1:-1]
    if same:
        pads = []
        for d, kk, ss, rr in zip(spatial, k, s, r):
            out = -(-d // ss)
            total = max((out - 1) * ss + (kk - 1) * rr + 1 - d, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out = [(x.shape[1 + i] - (k[i] - 1) * r[i] - 1) // s[i] + 1 for i in range(len(k))]
    result = np.zeros((x.shape[0], *out, int(np.prod(k)) * x.shape[-1]))
    for o in np.ndindex(*out):
        block = x[(slice(None),) + tuple(slice(oi * si, oi * si + (ki - 1) * ri + 1, ri)
                                          for oi, si, ki, ri in zip(o, s, k, r))]
        result[(slice(None),) + o] = block.reshape(x.shape[0], -1)
    return result


def test_extract_patches_2d_and_3d(rng):
    x = rng.normal(size=(2, 9, 8, 3))
    check(I.extract_patches(x, 3), _patches_np(x, (3, 3), (3, 3), (1, 1), False))
    check(I.extract_patches(x, (2, 3), strides=(2, 1), dilation_rate=(1, 2), padding="same"),
          _patches_np(x, (2, 3), (2, 1), (1, 2), True))
    check(I.extract_patches(x[0], (2, 2)), _patches_np(x[:1], (2, 2), (2, 2), (1, 1), False)[0])
    first = np.moveaxis(x, -1, 1)
    check(I.extract_patches(first, 2, data_format="channels_first"),
          np.moveaxis(_patches_np(x, (2, 2), (2, 2), (1, 1), False), -1, 1))
    v = rng.normal(size=(2, 5, 6, 7, 2))
    check(I.extract_patches_3d(v, 2), _patches_np(v, (2, 2, 2), (2, 2, 2), (1, 1, 1), False))
    check(I.extract_patches(v, (2, 3, 2), strides=(1, 2, 3), padding="same"),
          _patches_np(v, (2, 3, 2), (1, 2, 3), (1, 1, 1), True))
    check(I.extract_patches_3d(v[0], 3, strides=1, dilation_rate=2), _patches_np(v[:1], (3,) * 3, (1,) * 3, (2,) * 3,
                                                                                  False)[0])
    check_grad(lambda t: I.extract_patches(t, 2, strides=1), rng.normal(size=(1, 3, 3, 1)), rng)
    if K is not None:
        f = x.astype("float32")
        check(I.extract_patches(f, (2, 3), strides=(2, 1), padding="same"),
              _keras(K.ops.image.extract_patches, f, (2, 3), strides=(2, 1), padding="same"), rtol=1e-6)
    with pytest.raises(ValueError, match=r"extract_patches: size must have length 2 or 3; received size=\(1,\)"):
        I.extract_patches(x, (1,))
    with pytest.raises(ValueError, match=r"extract_patches_3d: images must be 4-D \(depth, height, width"):
        I.extract_patches_3d(x[0], 2)


# ----------------------------------------------------------------------------- filters, SSIM
_SOBEL_Y = np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])


def _sobel_np(x):
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="reflect")
    out = np.zeros(x.shape + (2,))
    for k, kernel in enumerate((_SOBEL_Y, _SOBEL_Y.T)):
        for i, j in itertools.product(range(3), range(3)):
            out[..., k] += kernel[i, j] * padded[:, i:i + x.shape[1], j:j + x.shape[2]]
    return out


def _gauss(size, sigma):
    g = np.exp(-0.5 * ((np.arange(size) - (size - 1) / 2) / sigma) ** 2)
    return g / g.sum()


def _blur_np(x, ks, sigma):
    kernel = np.outer(_gauss(ks[1], sigma[1]), _gauss(ks[0], sigma[0]))
    ph, pw = (ks[1] - 1) // 2, (ks[0] - 1) // 2
    out = np.zeros_like(x)
    for b, c in itertools.product(range(x.shape[0]), range(x.shape[-1])):
        padded = np.pad(x[b, :, :, c], ((ph, ks[1] - 1 - ph), (pw, ks[0] - 1 - pw)))
        out[b, :, :, c] = scipy.signal.correlate2d(padded, kernel, mode="valid")
    return out


def _ssim_np(a, b, max_val=1.0, size=11, sigma=1.5, k1=0.01, k2=0.03):
    kernel = np.outer(_gauss(size, sigma), _gauss(size, sigma))

    def filt(z):
        return np.stack([[scipy.signal.correlate2d(z[n, :, :, c], kernel, mode="valid") for c in range(z.shape[-1])]
                         for n in range(z.shape[0])])
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    mu1, mu2 = filt(a), filt(b)
    s11, s22, s12 = filt(a * a) - mu1 ** 2, filt(b * b) - mu2 ** 2, filt(a * b) - mu1 * mu2
    m = (2 * mu1 * mu2 + c1) * (2 * s12 + c2) / ((mu1 ** 2 + mu2 ** 2 + c1) * (s11 + s22 + c2))
    return m.mean(axis=(1, 2, 3))


def test_sobel_blur_ssim(rng):
    x = rng.random((2, 7, 8, 2))
    check(I.sobel_edges(x), _sobel_np(x))
    check(I.sobel_edges(np.moveaxis(x, -1, 1), data_format="channels_first"), np.moveaxis(_sobel_np(x), 3, 1))
    check(I.gaussian_blur(x, (5, 5), (1.5, 1.5)), _blur_np(x, (5, 5), (1.5, 1.5)), rtol=1e-12)
    check(I.gaussian_blur(x[0], (3, 5), (0.8, 2.0)), _blur_np(x[:1], (3, 5), (0.8, 2.0))[0], rtol=1e-12)
    check_grad(lambda t: I.gaussian_blur(t, (3, 3), (1.0, 1.0)), rng.random((1, 4, 4, 1)), rng)
    y = np.clip(x + 0.1 * rng.normal(size=x.shape), 0, 1)
    big_a, big_b = rng.random((2, 13, 14, 3)), rng.random((2, 13, 14, 3))
    check(I.ssim(big_a, big_b), _ssim_np(big_a, big_b), rtol=1e-10)
    check(I.ssim(x[0], y[0], filter_size=3, max_val=2.0), _ssim_np(x[:1], y[:1], 2.0, size=3)[0], rtol=1e-10)
    if K is not None:
        f = x.astype("float32")
        interior = (slice(None), slice(1, -1), slice(1, -1))  # Keras' backends pad the borders differently
        check(I.sobel_edges(f).numpy()[interior], _keras(K.ops.image.sobel_edges, f, data_format="channels_last")[
            interior], rtol=1e-5, atol=1e-5)
        check(I.gaussian_blur(f, (5, 5), (1.5, 1.5)),
              _keras(K.ops.image.gaussian_blur, f, (5, 5), (1.5, 1.5), data_format="channels_last"), rtol=1e-5,
              atol=1e-6)
        fa, fb = big_a.astype("float32"), big_b.astype("float32")
        check(I.ssim(fa, fb), _keras(K.ops.image.ssim, fa, fb), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match=r"gaussian_blur: sigma must be a positive number or a pair"):
        I.gaussian_blur(x, (3, 3), (0.0, 1.0))
    with pytest.raises(ValueError, match=r"ssim: image1 and image2 must have the same shape"):
        I.ssim(x, y[:1])


# ----------------------------------------------------------------------------- crop / pad
def test_crop_and_pad(rng):
    x = rng.normal(size=(2, 9, 10, 3))
    check(I.pad_images(x, 1, 2, target_height=12, target_width=15), np.pad(x, ((0, 0), (1, 2), (2, 3), (0, 0))))
    check(I.pad_images(x[0], bottom_padding=2, right_padding=1, top_padding=0, left_padding=3),
          np.pad(x[0], ((0, 2), (3, 1), (0, 0))))
    check(I.crop_images(x, 1, 2, bottom_cropping=3, target_width=5), x[:, 1:6, 2:7])
    check(I.crop_images(np.moveaxis(x, -1, 1), top_cropping=2, left_cropping=1, target_height=4, target_width=4,
                        data_format="channels_first"), np.moveaxis(x[:, 2:6, 1:5], -1, 1))
    with pytest.raises(ValueError, match=r"pad_images: give exactly two of top_padding, bottom_padding, target_height"):
        I.pad_images(x, 1, 1, bottom_padding=1, target_height=12, target_width=12)
    with pytest.raises(ValueError, match=r"crop_images: the inferred top_cropping is -1"):
        I.crop_images(x, bottom_cropping=0, target_height=10, left_cropping=0, right_cropping=0)
    with pytest.raises(ValueError, match=r"pad_images: left_padding must be >= 0; received left_padding=-1"):
        I.pad_images(x, 0, -1, 0, 0)


# ----------------------------------------------------------------------------- resampling
def _map_np(x, coords, order, mode, cval):
    """scipy.ndimage.map_coordinates with Keras' padding (scipy mishandles edges except for reflect)."""
    pads = [(max(-int(np.floor(c.min())) + 1, 0), max(int(np.ceil(c.max())) + 1 - n, 0))
            for c, n in zip(coords, x.shape)]
    shifted = [c + p[0] for p, c in zip(pads, coords)]
    np_mode = {"nearest": "edge", "mirror": "reflect", "reflect": "symmetric"}.get(mode, mode)
    padded = np.pad(x, pads, mode=np_mode, **({"constant_values": cval} if mode == "constant" else {}))
    return scipy.ndimage.map_coordinates(padded, shifted, order=order, mode=mode, cval=cval)


@pytest.mark.parametrize("mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
@pytest.mark.parametrize("order", [0, 1])
def test_map_coordinates(mode, order, rng):
    x = rng.normal(size=(5, 6))
    coords = rng.uniform(-3, 8, size=(2, 4, 3))
    check(I.map_coordinates(x, coords, order, mode, fill_value=0.5), _map_np(x, coords, order, mode, 0.5),
          rtol=1e-12, atol=1e-12)
    if K is not None and mode != "constant":
        f, c = x.astype("float32"), coords.astype("float32")
        check(I.map_coordinates(f, c, order, mode), _keras(K.ops.image.map_coordinates, f, c, order, mode),
              rtol=1e-5, atol=1e-5)


def test_map_coordinates_gradients_and_errors(rng):
    coords = tl.constant(rng.uniform(0.2, 2.8, size=(2, 5)))
    check_grad(lambda t: I.map_coordinates(t, coords, 1), rng.normal(size=(4, 4)), rng)
    x = tl.constant(rng.normal(size=(4, 4)))
    check_grad(lambda c: I.map_coordinates(x, c, 1, "reflect"), rng.uniform(0.2, 2.8, size=(2, 5)), rng)
    with pytest.raises(ValueError, match=r"map_coordinates: order must be 0 or 1; received order=3"):
        I.map_coordinates(np.zeros((3, 3)), np.zeros((2, 4)), 3)
    with pytest.raises(ValueError, match=r"map_coordinates: coordinates must hold one array per axis of inputs \(2"):
        I.map_coordinates(np.zeros((3, 3)), np.zeros((3, 4)), 1)
    with pytest.raises(ValueError, match=r"map_coordinates: fill_mode must be one of"):
        I.map_coordinates(np.zeros((3, 3)), np.zeros((2, 4)), 1, "edge")


def _homography_np(start, end):
    rows, target = [], []
    for (sx, sy), (ex, ey) in zip(start, end):
        rows += [[ex, ey, 1, 0, 0, 0, -sx * ex, -sx * ey], [0, 0, 0, ex, ey, 1, -sy * ex, -sy * ey]]
        target += [sx, sy]
    return np.linalg.solve(np.array(rows), np.array(target))


def test_perspective_transform(rng):
    x = rng.random((2, 8, 9, 2))
    start = np.array([[0, 0], [8, 0], [0, 7], [8, 7]], float)
    end = start + rng.uniform(-1.5, 1.5, size=(4, 2))
    a = _homography_np(start, end)
    yy, xx = np.mgrid[0:8, 0:9].astype(float)
    den = a[6] * xx + a[7] * yy + 1
    xin, yin = (a[0] * xx + a[1] * yy + a[2]) / den, (a[3] * xx + a[4] * yy + a[5]) / den
    want = np.stack([np.stack([_map_np(x[b, :, :, c], np.stack([yin, xin]), 1, "constant", 0.0) for c in range(2)], -1)
                     for b in range(2)])
    check(I.perspective_transform(x, start, end), want, rtol=1e-10, atol=1e-10)
    check_grad(lambda t: I.perspective_transform(t, start, end), rng.random((1, 4, 4, 1)), rng)
    if K is not None:
        f = x.astype("float32")
        check(I.perspective_transform(f, start.astype("float32"), end.astype("float32")),
              _keras(K.ops.image.perspective_transform, f, start.astype("float32"), end.astype("float32")),
              rtol=1e-4, atol=1e-4)
    with pytest.raises(ValueError, match=r"perspective_transform: start_points must have shape \(4, 2\)"):
        I.perspective_transform(x, np.zeros((3, 2)), np.zeros((3, 2)))


def test_elastic_transform(rng):
    x = rng.random((2, 10, 12, 3)).astype("float32")
    check(I.elastic_transform(x, alpha=0.0, sigma=2.0, seed=1), x, rtol=1e-6, atol=1e-6)
    a, b = I.elastic_transform(x, seed=3), I.elastic_transform(x, seed=3)
    check(a, b.numpy())
    assert a.dtype == tl.float32 and tuple(a.shape) == x.shape
    assert not np.allclose(a.numpy(), I.elastic_transform(x, seed=4).numpy())
    assert not np.allclose(a.numpy(), x)
    first = I.elastic_transform(np.moveaxis(x, -1, 1), seed=3, data_format="channels_first")
    check(first, np.moveaxis(a.numpy(), -1, 1))
    with pytest.raises(ValueError, match=r"elastic_transform: fill_mode must be one of"):
        I.elastic_transform(x, fill_mode="edge")


def _weights_np(n_in, n_out, scale, shift, kernel, antialias):
    inv = 1 / scale
    kscale = max(inv, 1.0) if antialias else 1.0
    sample = (np.arange(n_out) + 0.5) * inv - shift * inv - 0.5
    w = kernel(np.abs(sample[None] - np.arange(n_in)[:, None]) / kscale)
    total = w.sum(0, keepdims=True)
    w = np.where(np.abs(total) > 1000 * np.finfo(np.float32).eps, w / np.where(total != 0, total, 1), 0)
    return np.where(((sample >= -0.5) & (sample <= n_in - 0.5))[None], w, 0)


def _lanczos(r):
    def k(x):
        y = r * np.sin(np.pi * x) * np.sin(np.pi * x / r) / np.where(x > 1e-3, np.pi ** 2 * x ** 2, 1)
        return np.where(x > r, 0, np.where(x > 1e-3, y, 1))
    return k


_KERNELS = {"linear": lambda x: np.maximum(0, 1 - np.abs(x)),
            "cubic": lambda x: np.where(x >= 2, 0, np.where(x >= 1, ((-0.5 * x + 2.5) * x - 4) * x + 2,
                                                             ((1.5 * x - 2.5) * x) * x + 1)),
            "lanczos3": _lanczos(3.0), "lanczos5": _lanczos(5.0)}


@pytest.mark.parametrize("method", ["linear", "cubic", "lanczos3", "lanczos5"])
@pytest.mark.parametrize("antialias", [True, False])
def test_scale_and_translate(method, antialias, rng):
    x = rng.random((2, 7, 9, 3))
    scale, shift = (0.6, 1.4), (0.3, -0.5)
    want = x
    for axis, n_out, s, t in ((1, 5, scale[0], shift[0]), (2, 12, scale[1], shift[1])):
        w = _weights_np(x.shape[axis], n_out, s, t, _KERNELS[method], antialias)
        want = np.moveaxis(np.tensordot(want, w, axes=(axis, 0)), -1, axis)
    got = I.scale_and_translate(x, (2, 5, 12, 3), scale, shift, (1, 2), method, antialias)
    check(got, want, rtol=1e-10, atol=1e-12)
    if K is not None:
        f = x.astype("float32")
        check(got.numpy().astype("float32"), _keras(K.ops.image.scale_and_translate, f, (2, 5, 12, 3),
                                                     np.float32(scale), np.float32(shift), (1, 2), method, antialias),
              rtol=1e-4, atol=1e-5)


def test_scale_and_translate_integers_gradient_errors(rng):
    ints = (rng.random((6, 6)) * 200).astype("uint8")
    got = I.scale_and_translate(ints, (3, 3), (0.5, 0.5), (0.0, 0.0), (0, 1), "bilinear")
    assert got.dtype == tl.uint8 and got.numpy().max() <= ints.max()
    check_grad(lambda t: I.scale_and_translate(t, (3, 5), (0.7, 1.3), (0.1, 0.2), (0, 1), "cubic"),
               rng.random((4, 4)), rng)
    with pytest.raises(ValueError, match=r"scale_and_translate: method must be one of .*received method='area'"):
        I.scale_and_translate(ints, (3, 3), (0.5, 0.5), (0.0, 0.0), (0, 1), "area")
    with pytest.raises(ValueError, match=r"scale_and_translate: scale and translation need one value per spatial"):
        I.scale_and_translate(ints, (3, 3), (0.5,), (0.0,), (0, 1), "linear")


def test_image_ops_on_functional_inputs(rng):
    from tensorlab import keras
    x = keras.Input((8, 8, 3))
    start, end = [[0, 0], [7, 0], [0, 7], [7, 7]], [[1, 0], [7, 1], [0, 6], [6, 7]]
    y = I.perspective_transform(I.gaussian_blur(x), start, end)
    model = keras.Model(x, [y, I.extract_patches(I.rgb_to_grayscale(x), 2)])
    data = rng.random((2, 8, 8, 3)).astype("float32")
    got, patches = model(data)
    check(got, I.perspective_transform(I.gaussian_blur(data), start, end).numpy(), rtol=1e-6, atol=1e-6)
    assert tuple(patches.shape) == (2, 4, 4, 4)
