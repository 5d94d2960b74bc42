"""tl.image: flips, crops, resize (TF2 half-pixel centers), brightness, standardization."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

import tensorlab as tl
from tests.ops.harness import (Case, S, check_forward, check_gpu_matches_cpu, check_grad, check_second,
                               check_shape_rule)


def _ref_axis_bilinear(x, axis, out):
    n = x.shape[axis]
    src = (np.arange(out, dtype=np.float32) + np.float32(0.5)) * np.float32(n / out) - np.float32(0.5)
    f = np.floor(src)
    lo = np.maximum(f, 0).astype(int)
    hi = np.minimum(np.ceil(src), n - 1).astype(int)
    w = (src - f).astype(np.float64)
    shape = [1] * x.ndim
    shape[axis] = out
    a, b = np.take(x, lo, axis=axis), np.take(x, hi, axis=axis)
    return a + (b - a) * w.reshape(shape)


def ref_resize_bilinear(x, size):
    """TF2 tf.image.resize(method="bilinear") (half_pixel_centers=True) in float64."""
    h, w = x.ndim - 3, x.ndim - 2
    return _ref_axis_bilinear(_ref_axis_bilinear(x, h, size[0]), w, size[1])


def ref_resize_nearest(x, size):
    h, w = x.ndim - 3, x.ndim - 2
    for ax, out in ((h, size[0]), (w, size[1])):
        n = x.shape[ax]
        idx = np.minimum(np.floor((np.arange(out, dtype=np.float32) + np.float32(0.5)) * np.float32(n / out)),
                         n - 1).astype(int)
        x = np.take(x, idx, axis=ax)
    return x


def ref_standardize(x):
    axes = (-3, -2, -1)
    n = np.prod(x.shape[-3:])
    return (x - x.mean(axis=axes, keepdims=True)) / np.maximum(x.std(axis=axes, keepdims=True), 1 / np.sqrt(n))


def ref_extract_patches(x, ks, ss, rs, padding):
    """TF's extract_patches by loops: patch (i, j) starts at (i, j) * stride - pad_before, samples every rate."""
    n, h, w, c = x.shape
    eff = [(k - 1) * r + 1 for k, r in zip(ks, rs)]
    if padding == "VALID":
        out, pads = [(d - e) // s + 1 for d, e, s in zip((h, w), eff, ss)], [0, 0]
    else:
        out = [-(-d // s) for d, s in zip((h, w), ss)]
        pads = [max((o - 1) * s + e - d, 0) // 2 for o, s, e, d in zip(out, ss, eff, (h, w))]
    res = np.zeros((n, out[0], out[1], ks[0] * ks[1] * c), x.dtype)
    for i in range(out[0]):
        for j in range(out[1]):
            for a in range(ks[0]):
                for b in range(ks[1]):
                    r, q = i * ss[0] + a * rs[0] - pads[0], j * ss[1] + b * rs[1] - pads[1]
                    if 0 <= r < h and 0 <= q < w:
                        k = (a * ks[1] + b) * c
                        res[:, i, j, k:k + c] = x[:, r, q, :]
    return res


def _patches(ks, ss, rs, padding):
    return lambda x: tl.image.extract_patches(x, [1, *ks, 1], [1, *ss, 1], [1, *rs, 1], padding)


GRAY = np.array([0.2989, 0.5870, 0.1140])


CASES = [
    Case("flip_left_right", tl.image.flip_left_right, lambda x: x[..., ::-1, :], [S((2, 3, 4, 2))]),
    Case("flip_up_down", tl.image.flip_up_down, lambda x: x[..., ::-1, :, :], [S((3, 4, 2))]),
    Case("resize_up", lambda x: tl.image.resize(x, [5, 7]), lambda x: ref_resize_bilinear(x, [5, 7]),
         [S((1, 3, 4, 2))], rtol=1e-6),
    Case("resize_down", lambda x: tl.image.resize(x, [2, 3]), lambda x: ref_resize_bilinear(x, [2, 3]),
         [S((5, 7, 1))], rtol=1e-6),
    Case("resize_nearest", lambda x: tl.image.resize(x, [5, 2], method="nearest"),
         lambda x: ref_resize_nearest(x, [5, 2]), [S((2, 3, 4, 1))]),
    Case("per_image_standardization", tl.image.per_image_standardization, ref_standardize, [S((2, 3, 3, 2))],
         rtol=1e-9, grad_rtol=1e-4),
    Case("rgb_to_grayscale", tl.image.rgb_to_grayscale, lambda x: (x @ GRAY)[..., None], [S((2, 3, 4, 3))]),
    Case("grayscale_to_rgb", tl.image.grayscale_to_rgb, lambda x: np.repeat(x, 3, axis=-1), [S((3, 4, 1))]),
    Case("extract_patches_valid", _patches((2, 3), (1, 2), (1, 1), "VALID"),
         lambda x: ref_extract_patches(x, (2, 3), (1, 2), (1, 1), "VALID"), [S((2, 4, 5, 2))]),
    Case("extract_patches_same_rates", _patches((3, 2), (2, 1), (2, 3), "SAME"),
         lambda x: ref_extract_patches(x, (3, 2), (2, 1), (2, 3), "SAME"), [S((1, 5, 6, 2))]),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_forward(case, rng):
    check_forward(case, rng)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_grad(case, rng):
    check_grad(case, rng)


@pytest.mark.parametrize("case", [c for c in CASES if c.name in ("resize_up", "per_image_standardization")], ids=str)
def test_second(case, rng):
    check_second(case, rng)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_shape_rule(case, rng):
    check_shape_rule(case, rng)


@pytest.mark.gpu
@pytest.mark.parametrize("case", CASES, ids=str)
def test_gpu_matches_cpu(case, rng):
    check_gpu_matches_cpu(case, rng)


@settings(max_examples=20, deadline=None)
@given(h=hs.integers(1, 6), w=hs.integers(1, 6), oh=hs.integers(1, 9), ow=hs.integers(1, 9),
       nearest=hs.booleans())
def test_resize_matches_reference_on_drawn_sizes(h, w, oh, ow, nearest):
    x = np.random.default_rng(h * 100 + w).uniform(-1, 1, size=(2, h, w, 3)).astype(np.float32)
    got = tl.image.resize(x, [oh, ow], method="nearest" if nearest else "bilinear").numpy()
    ref = ref_resize_nearest(x, [oh, ow]) if nearest else ref_resize_bilinear(x.astype(np.float64), [oh, ow])
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_resize_known_values_and_dtypes():
    # 2x2 -> 4x4 bilinear with half-pixel centers (values TF gives for this input).
    x = np.float32([[0, 1], [2, 3]]).reshape(2, 2, 1)
    got = tl.image.resize(x, [4, 4]).numpy()[..., 0]
    row0 = [0, 0.25, 0.75, 1.0]
    np.testing.assert_allclose(got[0], row0)
    np.testing.assert_allclose(got[:, 0], [0, 0.5, 1.5, 2.0])
    u8 = tl.constant(np.uint8([[1, 2], [3, 4]]).reshape(2, 2, 1))
    assert tl.image.resize(u8, [3, 3]).dtype == tl.float32
    assert tl.image.resize(u8, [3, 3], method="nearest").dtype == tl.uint8
    assert tl.image.resize(tl.zeros([10, 20, 3]), [8, 8], preserve_aspect_ratio=True).shape == [4, 8, 3]


def test_error_resize_bad_args():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"resize: expected an image of rank 3 or 4.*\[4,4\]"):
        tl.image.resize(tl.zeros([4, 4]), [2, 2])
    with pytest.raises(tl.errors.UnimplementedError, match="bicubic"):
        tl.image.resize(tl.zeros([4, 4, 1]), [2, 2], method="bicubic")
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"size must be \[new_height, new_width\]"):
        tl.image.resize(tl.zeros([4, 4, 1]), [2, 0])


# ----------------------------------------------------------------- colour channels, patches
def test_rgb_to_grayscale_integer_images_round_trip_through_float(rng):
    x = rng.integers(0, 256, size=(2, 5, 5, 3)).astype(np.uint8)
    got = tl.image.rgb_to_grayscale(tl.constant(x))
    assert got.dtype == tl.uint8 and tuple(got.shape) == (2, 5, 5, 1)
    ref = ((x / 255.0) @ GRAY * 255.5).astype(np.uint8)[..., None]  # TF's convert_image_dtype both ways
    assert np.abs(got.numpy().astype(int) - ref).max() <= 1
    np.testing.assert_array_equal(tl.image.grayscale_to_rgb(got).numpy(), np.repeat(got.numpy(), 3, axis=-1))


@pytest.mark.parametrize("padding", ["VALID", "SAME"])
@pytest.mark.parametrize("ks,ss,rs", [((1, 1), (1, 1), (1, 1)), ((2, 2), (2, 2), (1, 1)), ((3, 2), (1, 3), (2, 1)),
                                      ((2, 3), (3, 2), (3, 2)), ((1, 4), (2, 1), (1, 2))])
def test_extract_patches_matches_loops(rng, padding, ks, ss, rs):
    x = rng.integers(-50, 50, size=(2, 7, 8, 3)).astype(np.int32)
    got = _patches(ks, ss, rs, padding)(tl.constant(x))
    assert got.dtype == tl.int32
    np.testing.assert_array_equal(got.numpy(), ref_extract_patches(x, ks, ss, rs, padding))


def test_extract_patches_tf_documented_values():
    n = 10
    images = tl.constant([[[[x * n + y + 1] for y in range(n)] for x in range(n)]])
    got = tl.image.extract_patches(images, [1, 3, 3, 1], [1, 5, 5, 1], [1, 1, 1, 1], "VALID").numpy()
    np.testing.assert_array_equal(got, [[[[1, 2, 3, 11, 12, 13, 21, 22, 23], [6, 7, 8, 16, 17, 18, 26, 27, 28]],
                                         [[51, 52, 53, 61, 62, 63, 71, 72, 73], [56, 57, 58, 66, 67, 68, 76, 77, 78]]]])
    got = tl.image.extract_patches(images, [1, 3, 3, 1], [1, 5, 5, 1], [1, 2, 2, 1], "VALID").numpy()
    np.testing.assert_array_equal(got, [[[[1, 3, 5, 21, 23, 25, 41, 43, 45], [6, 8, 10, 26, 28, 30, 46, 48, 50]],
                                         [[51, 53, 55, 71, 73, 75, 91, 93, 95],
                                          [56, 58, 60, 76, 78, 80, 96, 98, 100]]]])


def test_error_colour_and_patch_arguments():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"rgb_to_grayscale: the last dimension must be 3 "
                                                            r"\(R, G, B\), got shape \[4,4,4\]"):
        tl.image.rgb_to_grayscale(tl.zeros([4, 4, 4]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"grayscale_to_rgb: .*last dimension is 1, got shape "
                                                            r"\[4,4,3\]"):
        tl.image.grayscale_to_rgb(tl.zeros([4, 4, 3]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"extract_patches: expected an image of rank 4"):
        tl.image.extract_patches(tl.zeros([4, 4, 1]), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"extract_patches: sizes \[2, 2, 2, 1\] must be 1 in "
                                                            r"the batch and channel dims"):
        tl.image.extract_patches(tl.zeros([1, 4, 4, 1]), [2, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID")
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"extract_patches: the window \(size 3, dilation 2, so 5 "
                                                            r"wide\) is larger than the padded input"):
        tl.image.extract_patches(tl.zeros([1, 4, 4, 1]), [1, 3, 3, 1], [1, 1, 1, 1], [1, 2, 2, 1], "VALID")
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"extract_patches: padding must be 'SAME' or 'VALID'"):
        tl.image.extract_patches(tl.zeros([1, 4, 4, 1]), [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], [[0, 0], [1, 1]])


@pytest.mark.gpu
def test_gpu_constants_follow_the_images_device(rng):
    x = rng.uniform(0, 1, size=(1, 5, 6, 3)).astype(np.float32)
    shear = [1.0, 0.2, 0.0, 0.1, 1.0, 0.0, 0.0, 0.0]

    def ops(img):
        return [tl.image.rgb_to_grayscale(img), _patches((2, 2), (1, 2), (2, 1), "SAME")(img),
                tl.image.resize(img, [7, 4]), tl.image.resize(img, [3, 9], method="nearest"),
                tl.image.transform(img, shear)]

    with tl.device("cpu"):
        ref = [r.numpy() for r in ops(x)]
    with tl.device("gpu:0"):
        xg = tl.constant(x)
    with tl.device("cpu"):  # the op's own constants must go to the images' device, not the current one
        got = ops(xg)
    for g, r in zip(got, ref):
        assert "GPU" in g.device
        np.testing.assert_allclose(g.numpy(), r, rtol=1e-6)


def test_random_flip_left_right_per_image(rng):
    x = rng.normal(size=(64, 2, 3, 1)).astype(np.float32)
    y = tl.image.random_flip_left_right(x, seed=1).numpy()
    flipped = [np.array_equal(y[i], x[i, :, ::-1]) for i in range(64)]
    kept = [np.array_equal(y[i], x[i]) for i in range(64)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 10 < sum(flipped) < 54  # each image flips independently with probability 1/2
    single = [np.array_equal(tl.image.random_flip_left_right(x[0]).numpy(), x[0]) for _ in range(40)]
    assert 0 < sum(single) < 40


def test_random_crop(rng):
    x = rng.normal(size=(6, 7, 3))
    seen = set()
    for _ in range(30):
        c = tl.image.random_crop(x, [4, 5, 3]).numpy()
        found = [(i, j) for i in range(3) for j in range(3) if np.array_equal(x[i:i + 4, j:j + 5], c)]
        assert len(found) == 1
        seen.add(found[0])
    assert len(seen) > 3
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"random_crop: Need value.shape >= size.*\[6,7,3\]"):
        tl.image.random_crop(x, [7, 5, 3])


def test_random_brightness_and_adjust(rng):
    x = rng.uniform(0, 1, size=(2, 4, 4, 3)).astype(np.float32)
    y = tl.image.random_brightness(x, 0.3).numpy()
    d = y - x
    assert np.allclose(d, d.flat[0], atol=1e-6) and abs(d.flat[0]) <= 0.3
    u = tl.image.adjust_brightness(tl.constant(np.uint8([[[250], [10]]])), 0.1).numpy().ravel()
    assert u.tolist() == [255, 35]  # through float [0, 1], saturated back to uint8
    with pytest.raises(ValueError, match="max_delta"):
        tl.image.random_brightness(x, -1.0)


def test_per_image_standardization_properties(rng):
    x = rng.integers(0, 255, size=(3, 5, 5, 3)).astype(np.uint8)
    y = tl.image.per_image_standardization(x)
    assert y.dtype == tl.float32
    yn = y.numpy()
    np.testing.assert_allclose(yn.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(yn.std(axis=(1, 2, 3)), 1, atol=1e-4)
    const = tl.image.per_image_standardization(tl.fill([2, 2, 1], 3.0)).numpy()
    assert np.all(const == 0)  # stddev floor 1/sqrt(N) avoids dividing by zero


def test_image_ops_in_dataset_map(rng):
    imgs = rng.integers(0, 255, size=(8, 10, 10, 3)).astype(np.uint8)
    ds = tl.data.Dataset.from_tensor_slices(imgs).map(
        lambda im: tl.image.per_image_standardization(tl.image.random_crop(
            tl.image.random_flip_left_right(tl.image.resize(im, [12, 12])), [8, 8, 3])),
        num_parallel_calls=2).batch(4)
    assert ds.element_spec.shape == [None, 8, 8, 3]
    out = [b.numpy() for b in ds]
    assert [o.shape for o in out] == [(4, 8, 8, 3), (4, 8, 8, 3)]
