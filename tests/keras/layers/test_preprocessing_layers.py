"""Preprocessing layers: Rescaling, Normalization (adapt, given statistics, invert), Resizing, CenterCrop
and the random image augmentation layers (numerics vs numpy, seeds, training vs inference, configs, errors)."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab.keras import layers

from tensorlab import keras
from tests.keras.layers.layer_checks import check_rank_error, check_roundtrip, check_symbolic, input_grad, rand


def test_rescaling(rng):
    x = rand(rng, 2, 3, dtype="float32")
    layer = layers.Rescaling(1 / 255, offset=-0.5)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() / 255 - 0.5, rtol=1e-6, atol=1e-6)
    ints = tl.constant(rng.integers(0, 256, size=(2, 4)).astype("int32"))
    y = layer(ints)
    assert y.dtype == tl.float32
    np.testing.assert_allclose(y.numpy(), ints.numpy() / 255 - 0.5, rtol=1e-6, atol=1e-6)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)


def test_normalization_adapt_array(rng):
    data = rng.standard_normal((50, 3)) * np.array([1.0, 3.0, 0.5]) + np.array([2.0, -1.0, 0.0])
    layer = layers.Normalization()
    layer.adapt(data)
    np.testing.assert_allclose(layer.mean.numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(layer.variance.numpy(), data.var(0), rtol=1e-5)
    x = rand(rng, 4, 3, dtype="float32")
    np.testing.assert_allclose(layer(x).numpy(), (x.numpy() - data.mean(0)) / data.std(0), rtol=1e-4, atol=1e-5)
    check_symbolic(layer, x)
    check_roundtrip(layer, x)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3


def test_normalization_adapt_batches_equals_full_data(rng):
    data = rng.standard_normal((40, 2, 3)) * 2 + 1
    full = layers.Normalization(axis=-1)
    full.adapt(data)
    batched = layers.Normalization(axis=-1)
    batched.adapt(iter([data[:7], data[7:25], data[25:]]))
    np.testing.assert_allclose(batched.mean.numpy(), full.mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(batched.variance.numpy(), full.variance.numpy(), rtol=1e-5)
    np.testing.assert_allclose(full.mean.numpy(), data.mean((0, 1)), rtol=1e-5)


def test_normalization_axes_and_invert(rng):
    data = rng.standard_normal((30, 4, 2)) + 3
    layer = layers.Normalization(axis=None)
    layer.adapt(tl.constant(data.astype("float32")))
    np.testing.assert_allclose(layer.mean.numpy(), data.mean(), rtol=1e-5)
    layer2 = layers.Normalization(axis=(1, 2))
    layer2.adapt(data)
    assert layer2.mean.shape == (4, 2)
    np.testing.assert_allclose(layer2.variance.numpy(), data.var(0), rtol=1e-4)
    inv = layers.Normalization(mean=2.0, variance=9.0, invert=True)
    x = rand(rng, 3, 2, dtype="float32")
    np.testing.assert_allclose(inv(x).numpy(), x.numpy() * 3 + 2, rtol=1e-6, atol=1e-6)
    fwd = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 1.0])
    np.testing.assert_allclose(fwd(x).numpy(), (x.numpy() - [1, 2]) / [2, 1], rtol=1e-6, atol=1e-6)
    check_roundtrip(fwd, x)


def test_error_normalization(rng):
    with pytest.raises(ValueError, match="mean.*variance"):
        layers.Normalization(mean=1.0)
    layer = layers.Normalization()
    layer.adapt(rng.standard_normal((10, 3)))
    with pytest.raises(ValueError, match=r"normalization.*ndim=2.*\(2, 3, 1\)"):
        layer(rand(rng, 2, 3, 1, dtype="float32"))


# ----------------------------------------------------------------- image preprocessing
from tensorlab.keras.layers.image_augmentation import (RandomBrightness, RandomContrast, RandomCrop,  # noqa: E402
                                                       RandomFlip, RandomRotation, RandomTranslation, RandomZoom)
from tensorlab.keras.layers.preprocessing import CenterCrop, Resizing  # noqa: E402
from tests.ops.test_image import ref_resize_bilinear, ref_resize_nearest  # noqa: E402
from tests.ops.test_image_transform import ref_transform  # noqa: E402


def images(rng, *shape, high=255.0):
    return tl.constant(rng.uniform(0, high, size=shape))


def ref_aspect_crop(x, th, tw):
    h, w = x.shape[-3], x.shape[-2]
    ch = max(min(h, int(w * th / tw)), 1)
    cw = max(min(w, int(h * tw / th)), 1)
    top, left = (h - ch) // 2, (w - cw) // 2
    return x[..., top:top + ch, left:left + cw, :]


def draws(seed, *specs):
    """The draws a layer built with ``seed`` makes: one uniform per (shape, low, high), in order."""
    g = tl.random.Generator.from_seed(seed)
    return [g.uniform(shape, low, high).numpy().astype(np.float64) for shape, low, high in specs]


def linear_grad_check(layer, x, rng, ref, **kw):
    """For a layer linear in its input: <d sum(y * r) / dx, v> == sum(r * ref(v)) for random v (ref: float64
    numpy of the same linear map)."""
    r = rng.standard_normal(layer.compute_output_shape(tuple(x.shape)))  # no call: a random layer would draw
    v = rng.standard_normal(tuple(x.shape))
    g = input_grad(layer, x, r, **kw)
    np.testing.assert_allclose(np.sum(g * v), np.sum(r * ref(v)), rtol=1e-4, atol=1e-4)


def test_resizing(rng):
    x = images(rng, 2, 7, 9, 3)
    layer = Resizing(4, 13)
    y = layer(x)
    assert y.dtype == tl.float32 and y.shape == (2, 4, 13, 3)
    np.testing.assert_allclose(y.numpy(), ref_resize_bilinear(x.numpy(), [4, 13]), rtol=1e-5, atol=1e-3)
    near = Resizing(5, 4, interpolation="nearest")
    np.testing.assert_allclose(near(x).numpy(), ref_resize_nearest(x.numpy(), [5, 4]), rtol=1e-6)
    crop = Resizing(4, 3, crop_to_aspect_ratio=True)
    np.testing.assert_allclose(crop(x).numpy(), ref_resize_bilinear(ref_aspect_crop(x.numpy(), 4, 3), [4, 3]),
                               rtol=1e-5, atol=1e-3)
    pad = Resizing(6, 3, pad_to_aspect_ratio=True, fill_value=-1.0)
    # 7x9 padded to aspect 6:3 = 18x9 (5.5 -> 5 rows on each side: 17x9), then resized.
    padded = np.pad(x.numpy(), [(0, 0), (5, 5), (0, 0), (0, 0)], constant_values=-1.0)
    np.testing.assert_allclose(pad(x).numpy(), ref_resize_bilinear(padded, [6, 3]), rtol=1e-5, atol=1e-3)
    unbatched = layer(x[0])
    np.testing.assert_allclose(unbatched.numpy(), y.numpy()[0], rtol=1e-6, atol=1e-4)
    check_symbolic(layer, x)
    assert keras.Input((None, None, 3)).shape == (None, None, None, 3)
    assert layer(keras.Input((None, None, 3))).shape == (None, 4, 13, 3)
    check_roundtrip(pad, x)
    linear_grad_check(Resizing(4, 13, dtype="float64"), x, rng, lambda v: ref_resize_bilinear(v, [4, 13]))


def test_resizing_integer_images_and_channels_first(rng):
    x = tl.constant(rng.integers(0, 256, size=(2, 5, 6, 1)).astype("uint8"))
    y = Resizing(3, 8)(x)
    assert y.dtype == tl.uint8
    want = np.clip(np.round(ref_resize_bilinear(x.numpy().astype(np.float64), [3, 8])), 0, 255)
    assert np.abs(y.numpy().astype(int) - want).max() <= 1  # float32 rounding at .5 ties
    xf = images(rng, 2, 3, 5, 6)
    cf = Resizing(4, 3, data_format="channels_first")
    want = ref_resize_bilinear(xf.numpy().transpose(0, 2, 3, 1), [4, 3]).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(cf(xf).numpy(), want, rtol=1e-5, atol=1e-3)
    assert cf(keras.Input((3, 5, 6))).shape == (None, 3, 4, 3)


def test_center_crop(rng):
    x = images(rng, 2, 7, 9, 3)
    layer = CenterCrop(4, 6)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy()[:, 1:5, 1:7], rtol=1e-6)
    np.testing.assert_allclose(layer(x[1]).numpy(), x.numpy()[1, 1:5, 1:7], rtol=1e-6)
    # Taller than the image: the aspect-ratio window, resized.
    up = CenterCrop(10, 5)
    np.testing.assert_allclose(up(x).numpy(), ref_resize_bilinear(ref_aspect_crop(x.numpy(), 10, 5), [10, 5]),
                               rtol=1e-5, atol=1e-3)
    check_symbolic(layer, x)
    check_roundtrip(up, x)
    linear_grad_check(CenterCrop(4, 6, dtype="float64"), x, rng, lambda v: v[:, 1:5, 1:7])


def test_error_resizing_and_center_crop(rng):
    with pytest.raises(ValueError, match="Resizing.*`height`.*0"):
        Resizing(0, 4)
    with pytest.raises(ValueError, match="Resizing.*interpolation.*'bicubic'"):
        Resizing(4, 4, interpolation="bicubic")
    with pytest.raises(ValueError, match="Resizing.*only one of"):
        Resizing(4, 4, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="CenterCrop.*`width`.*'3'"):
        CenterCrop(4, "3")
    with pytest.raises(ValueError, match="channels_first"):
        CenterCrop(4, 3, data_format="NHWC")
    check_rank_error(Resizing(4, 4), images(rng, 4, 4), "expected min_ndim=3")
    check_rank_error(CenterCrop(4, 4), images(rng, 1, 2, 4, 4, 1), "expected max_ndim=4")


def test_random_flip(rng):
    x = images(rng, 6, 4, 5, 2)
    for mode, axes in (("horizontal", (2,)), ("vertical", (1,)), ("horizontal_and_vertical", (1, 2))):
        layer = RandomFlip(mode, seed=11)
        y = layer(x, training=True).numpy()
        (u,) = draws(11, ([6, 1, 1, 1], 0.0, 1.0))
        flip = (u <= 0.5).reshape(6)
        want = np.where(flip[:, None, None, None], np.flip(x.numpy(), axes), x.numpy())
        np.testing.assert_allclose(y, want, rtol=1e-6)
    # Unbatched: one draw.
    (u,) = draws(3, ([1, 1, 1], 0.0, 1.0))
    want = x.numpy()[0, :, ::-1] if u.item() <= 0.5 else x.numpy()[0]
    np.testing.assert_allclose(RandomFlip("horizontal", seed=3)(x[0], training=True).numpy(), want, rtol=1e-6)
    layer = RandomFlip(seed=5)
    np.testing.assert_allclose(layer(x, training=False).numpy(), x.numpy(), rtol=1e-6)
    check_symbolic(layer, x)
    check_roundtrip(layer, x, training=False)
    assert layer.get_config()["mode"] == "horizontal_and_vertical" and layer.get_config()["seed"] == 5


def test_random_layers_seed_semantics(rng):
    x = images(rng, 8, 5, 6, 3)
    # A direct call augments (training defaults to True, as in Keras 3); the same seed replays the draws.
    a, b = RandomRotation(0.3, seed=7), RandomRotation(0.3, seed=7)
    ya = a(x).numpy()
    np.testing.assert_array_equal(ya, b(x).numpy())
    assert not np.allclose(ya, x.numpy())
    assert not np.allclose(a(x).numpy(), ya)  # the layer's stream moves on
    # Without a seed: the global stream, reproducible after tl.random.set_seed.
    tl.random.set_seed(123)
    c1 = RandomBrightness(0.5)(x).numpy()
    tl.random.set_seed(123)
    np.testing.assert_array_equal(RandomBrightness(0.5)(x).numpy(), c1)
    tl.random.set_seed(None)
    # predict() runs in inference mode: the identity.
    model = keras.Sequential([keras.Input((5, 6, 3)), RandomFlip(seed=1), RandomContrast(0.5, seed=2)])
    np.testing.assert_allclose(model.predict(x, verbose=0), x.numpy(), rtol=1e-6)


def test_random_crop(rng):
    x = images(rng, 3, 7, 9, 2)
    layer = RandomCrop(4, 5, seed=21)
    y = layer(x, training=True).numpy()
    top, left = draws(21, ([], 0.0, 4.0), ([], 0.0, 5.0))
    t, lf = int(top), int(left)
    np.testing.assert_allclose(y, x.numpy()[:, t:t + 4, lf:lf + 5], rtol=1e-6)
    # Inference: the central aspect-ratio window resized to the target.
    want = ref_resize_bilinear(ref_aspect_crop(x.numpy(), 4, 5), [4, 5])
    np.testing.assert_allclose(layer(x, training=False).numpy(), want, rtol=1e-5, atol=1e-3)
    # Not larger than the target: the same center path in training.
    same = RandomCrop(7, 5, seed=1)
    np.testing.assert_allclose(same(x, training=True).numpy(), x.numpy()[:, :, 2:7], rtol=1e-6)
    assert layer(x[0], training=True).shape == (4, 5, 2)
    check_symbolic(layer, x)
    assert isinstance(RandomCrop(2, 2).get_config()["seed"], int)  # a chosen seed is saved
    check_roundtrip(layer, x, training=False)


def test_random_contrast(rng):
    x = images(rng, 4, 5, 6, 3)
    layer = RandomContrast((0.4, 0.7), value_range=(0, 255), seed=4)
    y = layer(x, training=True).numpy()
    (c,) = draws(4, ([4, 1, 1, 1], 0.6, 1.7))
    xn = x.numpy()
    mean = xn.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y, np.clip((xn - mean) * c + mean, 0, 255), rtol=1e-4, atol=1e-3)
    assert RandomContrast(0.2).factor == (0, 0.2)  # Keras 3: one number f means (0, f)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy().astype("float32"))
    check_symbolic(layer, x)
    check_roundtrip(layer, x, training=False)
    wide = RandomContrast((0.4, 0.7), value_range=(-1e9, 1e9), seed=4, dtype="float64")
    (c,) = draws(4, ([4, 1, 1, 1], 0.6, 1.7))
    linear_grad_check(wide, x, rng, lambda v: (v - v.mean(axis=(1, 2), keepdims=True)) * c
                      + v.mean(axis=(1, 2), keepdims=True), training=True)


def test_random_brightness(rng):
    x = images(rng, 4, 5, 6, 3, high=1.0)
    layer = RandomBrightness((-0.3, 0.2), value_range=(1, 0), seed=8)
    assert layer.value_range == [0, 1]
    y = layer(x, training=True).numpy()
    (d,) = draws(8, ([4, 1, 1, 1], -0.3, 0.2))
    np.testing.assert_allclose(y, np.clip(x.numpy() + d, 0, 1), rtol=1e-5, atol=1e-6)
    one = RandomBrightness(0.5, seed=8)
    assert one.factor == (-0.5, 0.5)
    (d,) = draws(8, ([1, 1, 1], -0.5, 0.5))
    x255 = x[0] * 255.0
    np.testing.assert_allclose(one(x255, training=True).numpy(), np.clip(x255.numpy() + d * 255, 0, 255),
                               rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy().astype("float32"))
    check_symbolic(layer, x)
    check_roundtrip(layer, x, training=False)


def _translation_m(dx, dy):
    return [[1, 0, -a, 0, 1, -b, 0, 0] for a, b in zip(dx, dy)]


@pytest.mark.parametrize("fill_mode", ["reflect", "wrap", "constant", "nearest"])
def test_random_translation(rng, fill_mode):
    x = images(rng, 3, 6, 7, 2)
    layer = RandomTranslation((-0.2, 0.3), 0.4, fill_mode=fill_mode, fill_value=9.0, seed=31, dtype="float64")
    dy, dx = draws(31, ([3], -0.2, 0.3), ([3], -0.4, 0.4))
    m = _translation_m(dx * 7, dy * 6)
    want = ref_transform(x.numpy(), m, "bilinear", fill_mode, 9.0)
    np.testing.assert_allclose(layer(x, training=True).numpy(), want, rtol=1e-5, atol=1e-4)
    near = RandomTranslation(0.3, 0.3, interpolation="nearest", fill_mode=fill_mode, seed=2, dtype="float64")
    dy, dx = draws(2, ([3], -0.3, 0.3), ([3], -0.3, 0.3))
    want = ref_transform(x.numpy(), _translation_m(dx * 7, dy * 6), "nearest", fill_mode, 0.0)
    np.testing.assert_allclose(near(x, training=True).numpy(), want, rtol=1e-6)


def test_random_rotation(rng):
    x = images(rng, 2, 6, 8, 3)
    layer = RandomRotation((-0.1, 0.25), fill_mode="constant", fill_value=-5.0, seed=9)
    (deg,) = draws(9, ([2], -36.0, 90.0))
    th = np.deg2rad(deg)
    cx, cy = 3.5, 2.5
    m = [[np.cos(a), -np.sin(a), cx - cx * np.cos(a) + cy * np.sin(a),
          np.sin(a), np.cos(a), cy - cx * np.sin(a) - cy * np.cos(a), 0, 0] for a in th]
    want = ref_transform(x.numpy(), m, "bilinear", "constant", -5.0)
    np.testing.assert_allclose(layer(x, training=True).numpy(), want, rtol=1e-4, atol=2e-3)
    # A quarter turn of a square image with nearest sampling moves pixels exactly.
    sq = images(rng, 5, 5, 1)
    quarter = RandomRotation((0.25, 0.25), interpolation="nearest")(sq, training=True).numpy()
    np.testing.assert_allclose(quarter, np.rot90(sq.numpy(), k=1, axes=(0, 1)), rtol=1e-6)
    np.testing.assert_allclose(layer(x, training=False).numpy(), x.numpy(), rtol=1e-6)
    check_symbolic(layer, x)
    check_roundtrip(layer, x, training=False)
    assert layer.get_config()["factor"] == (-0.1, 0.25)
    r64 = RandomRotation((-0.1, 0.25), fill_mode="constant", seed=9, dtype="float64")
    linear_grad_check(r64, x, rng, lambda v: ref_transform(v, m, "bilinear", "constant", 0.0), training=True)


def test_random_zoom(rng):
    x = images(rng, 3, 6, 8, 2)
    layer = RandomZoom((-0.3, 0.2), fill_mode="reflect", seed=13, dtype="float64")
    (zy,) = draws(13, ([3], 0.7, 1.2))
    m = [[z, 0, 3.5 * (1 - z), 0, z, 2.5 * (1 - z), 0, 0] for z in zy]
    np.testing.assert_allclose(layer(x, training=True).numpy(), ref_transform(x.numpy(), m, "bilinear", "reflect"),
                               rtol=1e-5, atol=1e-4)
    two = RandomZoom(0.2, (0.1, 0.4), fill_mode="wrap", seed=14, dtype="float64")
    zy, zx = draws(14, ([3], 0.8, 1.2), ([3], 1.1, 1.4))
    m = [[a, 0, 3.5 * (1 - a), 0, b, 2.5 * (1 - b), 0, 0] for a, b in zip(zx, zy)]
    np.testing.assert_allclose(two(x, training=True).numpy(), ref_transform(x.numpy(), m, "bilinear", "wrap"),
                               rtol=1e-5, atol=1e-4)
    assert two(x[0], training=True).shape == (6, 8, 2)
    check_symbolic(two, x)
    check_roundtrip(two, x, training=False)
    assert two.get_config()["width_factor"] == (0.1, 0.4)


def test_error_random_image_layers(rng):
    with pytest.raises(ValueError, match="RandomFlip.*mode.*'diagonal'"):
        RandomFlip("diagonal")
    with pytest.raises(ValueError, match="RandomFlip.*seed.*1.5"):
        RandomFlip(seed=1.5)
    with pytest.raises(ValueError, match="RandomCrop.*`height`.*-1"):
        RandomCrop(-1, 3)
    with pytest.raises(ValueError, match=r"RandomContrast.*factor.*\[0, 1\].*1.5"):
        RandomContrast(1.5)
    with pytest.raises(ValueError, match="RandomContrast.*value_range.*5"):
        RandomContrast(0.1, value_range=5)
    with pytest.raises(ValueError, match=r"RandomBrightness.*factor.*\[-1, 1\].*\(0.1, 0.2, 0.3\)"):
        RandomBrightness((0.1, 0.2, 0.3))
    with pytest.raises(ValueError, match=r"RandomZoom.*height_factor.*\(-1, 1\].*-1"):
        RandomZoom(-1.0)
    with pytest.raises(ValueError, match="RandomTranslation.*width_factor.*'a'"):
        RandomTranslation(0.1, "a")
    with pytest.raises(NotImplementedError, match="RandomRotation.*fill_mode.*'mirror'"):
        RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(NotImplementedError, match="RandomZoom.*interpolation.*'bicubic'"):
        RandomZoom(0.1, interpolation="bicubic")
    check_rank_error(RandomFlip(), images(rng, 4, 4), "expected min_ndim=3")
    check_rank_error(RandomRotation(0.1), images(rng, 1, 2, 4, 4, 1), "expected max_ndim=4")
