"""Geometric augmentation layers (RandomShear, RandomPerspective, RandomElasticTransform, RandomErasing,
RandomGaussianBlur) and the composites Pipeline and RandAugment against numpy transcriptions of Keras 3's
formulas with the layer's seeded draws replayed; identity at inference, configs, training and errors."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers
from tests.keras.layers.layer_checks import check_rank_error, check_roundtrip, check_symbolic
from tests.ops.test_image_transform import ref_transform


def images(rng, *shape, high=255.0):
    return tl.constant(rng.uniform(0.5, high, size=shape))


def replay(seed):
    """A generator that makes the same draws as a layer built with ``seed`` (call its methods in the layer's order)."""
    g = tl.random.Generator.from_seed(seed)

    def uniform(shape, lo=0.0, hi=1.0):
        return g.uniform(shape, lo, hi).numpy().astype(np.float64)

    def normal(shape):
        return g.normal(shape).numpy().astype(np.float64)
    return uniform, normal, g


def chance(uniform, n, factor):
    p = uniform([n], *factor)
    return (uniform([n]) < p)[:, None, None, None]


def check_basics(layer, x, roundtrip_training=False):
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
    check_symbolic(layer, x)
    check_roundtrip(layer, x, training=roundtrip_training)


def ref_blur(x, kernel_size, sigma):
    """Keras' gaussian_blur: normalized 1-D Gaussians, their outer product, zero padding, per channel."""
    def k1(size, s):
        r = np.arange(size) - (size - 1) / 2.0
        k = np.exp(-0.5 * (r / s) ** 2)
        return k / k.sum()
    kernel = np.outer(k1(kernel_size[1], sigma[1]), k1(kernel_size[0], sigma[0])).reshape(kernel_size[:2])
    kh, kw = kernel.shape
    p = np.pad(x, [(0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)])
    h, w = x.shape[1:3]
    return sum(kernel[a, b] * p[:, a:a + h, b:b + w] for a in range(kh) for b in range(kw))


def fold(i, n, mode):
    """scipy's boundary conventions for an integer index: (index, inside)."""
    if mode == "constant":
        return min(max(i, 0), n - 1), 0 <= i < n
    if mode == "nearest":
        return min(max(i, 0), n - 1), True
    if mode == "wrap":
        return i % n, True
    period = 2 * n if mode == "reflect" else max(2 * n - 2, 1)
    m = i % period
    return (m if m < n else period - 1 - m if mode == "reflect" else period - m), True


def ref_map_coordinates(x, ys, xs, order, mode, fill):
    n, h, w, c = x.shape
    out = np.empty_like(x)
    for b, i, j in np.ndindex(n, h, w):
        sy, sx = ys[b, i, j], xs[b, i, j]
        if order == 0:
            taps = [(int(np.round(sy)), int(np.round(sx)), 1.0)]
        else:
            y0, x0 = int(np.floor(sy)), int(np.floor(sx))
            wy, wx = sy - y0, sx - x0
            taps = [(y0, x0, (1 - wy) * (1 - wx)), (y0, x0 + 1, (1 - wy) * wx), (y0 + 1, x0, wy * (1 - wx)),
                    (y0 + 1, x0 + 1, wy * wx)]
        acc = np.zeros(c)
        for ty, tx, wt in taps:
            (yy, yin), (xx, xin) = fold(ty, h, mode), fold(tx, w, mode)
            acc += wt * (x[b, yy, xx] if yin and xin else fill)
        out[b, i, j] = acc
    return out


# ----------------------------------------------------------------- one layer at a time
@pytest.mark.parametrize("fill_mode,interpolation", [("reflect", "bilinear"), ("constant", "nearest"),
                                                     ("wrap", "bilinear")])
def test_random_shear(rng, fill_mode, interpolation):
    x = images(rng, 5, 6, 7, 2)
    layer = layers.RandomShear(x_factor=0.3, y_factor=(0.1, 0.4), interpolation=interpolation, fill_mode=fill_mode,
                               fill_value=3.0, seed=4, dtype="float64")
    uniform, _, _ = replay(4)
    sign = np.where(uniform([5]) > 0.5, -1.0, 1.0)
    sy, sx = uniform([5], 0.1, 0.4) * sign, uniform([5], -0.3, 0.3) * sign
    m = np.stack([np.ones(5), sx, np.zeros(5), sy, np.ones(5), np.zeros(5), np.zeros(5), np.zeros(5)], 1)
    np.testing.assert_allclose(layer(x).numpy(), ref_transform(x.numpy(), m, interpolation, fill_mode, 3.0),
                               rtol=1e-10, atol=1e-10)
    sheared = layers.RandomShear(x_factor=(0.5, 0.5), data_format="channels_first", dtype="float64")
    out = sheared(tl.transpose(x[0], [2, 0, 1])).numpy()
    assert not np.allclose(out, np.transpose(x.numpy()[0], [2, 0, 1]))
    assert layer.get_config()["x_factor"] == 0.3 and layer.get_config()["fill_mode"] == fill_mode
    check_basics(layer, x)


def test_random_perspective(rng):
    x = images(rng, 6, 5, 7, 3)
    layer = layers.RandomPerspective(factor=(0.5, 0.5), scale=0.6, fill_value=9.0, seed=2, dtype="float64")
    uniform, _, _ = replay(2)
    apply = chance(uniform, 6, (0.5, 0.5))
    shift = uniform([6, 4, 2], -0.3, 0.3)
    start = np.array([[0, 0], [6, 0], [0, 4], [6, 4]], float)
    want = np.empty_like(x.numpy())
    for b in range(6):
        end = start + start * shift[b]
        a = []
        for (sx, sy), (ex, ey) in zip(start, end):
            a += [[ex, ey, 1, 0, 0, 0, -sx * ex, -sx * ey], [0, 0, 0, ex, ey, 1, -sy * ex, -sy * ey]]
        m = np.linalg.solve(np.array(a), start.ravel())  # maps the moved corners back to the corners
        for (sx, sy), (ex, ey) in zip(start, end):
            k = m[6] * ex + m[7] * ey + 1
            np.testing.assert_allclose([(m[0] * ex + m[1] * ey + m[2]) / k, (m[3] * ex + m[4] * ey + m[5]) / k],
                                       [sx, sy], atol=1e-9)
        want[b] = ref_transform(x.numpy()[b:b + 1], m, "bilinear", "constant", 9.0)[0] if apply[b, 0, 0, 0] \
            else x.numpy()[b]
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-8, atol=1e-8)
    assert 0 < apply.sum() < 6  # with this seed, both kinds of image
    still = layers.RandomPerspective(scale=0.0, dtype="float64")
    np.testing.assert_allclose(still(x).numpy(), x.numpy(), rtol=1e-9)
    check_basics(layer, x)


@pytest.mark.parametrize("fill_mode,interpolation", [("reflect", "bilinear"), ("mirror", "bilinear"),
                                                     ("constant", "bilinear"), ("wrap", "nearest"),
                                                     ("nearest", "bilinear")])
def test_random_elastic_transform(rng, fill_mode, interpolation):
    x = images(rng, 3, 9, 11, 2)
    layer = layers.RandomElasticTransform(factor=(0.7, 0.7), scale=(0.4, 0.9), interpolation=interpolation,
                                          fill_mode=fill_mode, fill_value=-5.0, seed=8, dtype="float64")
    uniform, normal, _ = replay(8)
    apply = chance(uniform, 3, (0.7, 0.7))
    d = float(uniform([], 0.4, 0.9))
    alpha, sigma = 11 * (0.1 * d), 9 * (0.05 * d)
    k = int(6 * sigma) | 1
    dx, dy = (ref_blur(normal([3, 9, 11, 1]) * sigma, (k, k), (sigma, sigma))[..., 0] * alpha for _ in range(2))
    rows, cols = np.meshgrid(np.arange(9), np.arange(11), indexing="ij")
    moved = ref_map_coordinates(x.numpy(), rows + dy, cols + dx, 0 if interpolation == "nearest" else 1, fill_mode,
                                -5.0)
    want = np.clip(np.where(apply, moved, x.numpy()), 0, 255)
    assert 0 < apply.sum() < 3
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(layers.RandomElasticTransform(scale=0.0, dtype="float64")(x).numpy(), x.numpy())
    check_basics(layer, x)


def test_elastic_boundary_modes_match_scipy(rng):
    import scipy.ndimage as ndi
    from tensorlab.keras.layers.geometric_augmentation import _map_coordinates
    img = rng.uniform(0, 1, size=(1, 5, 6, 1))
    ys, xs = rng.uniform(-7, 12, size=(2, 1, 5, 6))
    for mode, scipy_mode in (("reflect", "reflect"), ("mirror", "mirror"), ("nearest", "nearest"),
                             ("wrap", "grid-wrap"), ("constant", "grid-constant")):
        got = _map_coordinates(tl.constant(img), tl.constant(ys), tl.constant(xs), 1, mode, 0.25).numpy()
        want = ndi.map_coordinates(img[0, :, :, 0], [ys[0], xs[0]], order=1, mode=scipy_mode, cval=0.25)
        np.testing.assert_allclose(got[0, :, :, 0], want, atol=1e-12, err_msg=mode)


@pytest.mark.parametrize("fill_value", [None, 17.0, (10, 20, 300)])
def test_random_erasing(rng, fill_value):
    x = images(rng, 8, 10, 12, 3)
    layer = layers.RandomErasing(factor=(0.6, 0.6), scale=(0.1, 0.5), fill_value=fill_value, seed=5,
                                 dtype="float64")
    uniform, normal, _ = replay(5)
    mix = np.sqrt(uniform([8, 2], 0.1, 0.5))
    cw, ch = mix[:, 0] * 12, mix[:, 1] * 10
    x0 = uniform([8]) * (12 - cw)
    y0 = uniform([8]) * (10 - ch)
    apply = chance(uniform, 8, (0.6, 0.6))
    fill = normal([8, 10, 12, 3]) * 255 if fill_value is None else np.broadcast_to(np.asarray(fill_value, float),
                                                                                  (8, 10, 12, 3))
    rows, cols = np.arange(10)[None, :, None, None], np.arange(12)[None, None, :, None]
    r = (slice(None), None, None, None)
    mask = (cols >= x0[r]) & (cols < (x0 + cw)[r]) & (rows >= y0[r]) & (rows < (y0 + ch)[r]) & apply
    want = np.where(mask, np.clip(fill, 0, 255), x.numpy())
    assert 0 < apply.sum() < 8
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-12)
    assert layers.RandomErasing().scale == (0.02, 0.33) and layers.RandomErasing(scale=0.2).scale == (0, 0.2)
    check_basics(layer, x)


@pytest.mark.parametrize("kernel_size", [3, 5, (3, 3)])
def test_random_gaussian_blur(rng, kernel_size):
    x = images(rng, 6, 7, 8, 2)
    layer = layers.RandomGaussianBlur(factor=(0.5, 0.5), kernel_size=kernel_size, sigma=(0.3, 0.9), seed=9,
                                      value_range=(0, 200), dtype="float64")
    uniform, _, _ = replay(9)
    apply = chance(uniform, 6, (0.5, 0.5))
    sigma = uniform([2], 0.3, 0.9) + 1e-6
    k = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    want = np.clip(np.where(apply, ref_blur(x.numpy(), k, sigma), x.numpy()), 0, 200)
    assert 0 < apply.sum() < 6
    np.testing.assert_allclose(layer(x).numpy(), want, rtol=1e-10)
    one = layers.RandomGaussianBlur(kernel_size=3, sigma=(0.5, 0.5), factor=(1.0, 1.0), dtype="float64")
    np.testing.assert_allclose(one(x[0]).numpy(), np.clip(ref_blur(x.numpy()[:1], (3, 3), [0.5 + 1e-6] * 2)[0],
                                                          0, 255), rtol=1e-6)
    assert layer.get_config()["kernel_size"] == k
    check_basics(layer, x)


# ----------------------------------------------------------------- composites
def test_pipeline_applies_its_layers_in_order(rng):
    x = images(rng, 4, 6, 7, 3)

    def parts():
        return [layers.RandomShear(0.2, seed=1, dtype="float64"), layers.RandomErasing(seed=2, dtype="float64"),
                layers.AutoContrast(dtype="float64")]
    pipe = layers.Pipeline(parts(), name="augment")
    want = x
    for layer in parts():
        want = layer(want, training=True)
    np.testing.assert_allclose(pipe(x).numpy(), want.numpy(), rtol=1e-12)
    infer = x
    for layer in parts():
        infer = layer(infer, training=False)
    np.testing.assert_allclose(pipe(x, training=False).numpy(), infer.numpy(), rtol=1e-12)
    assert [type(v).__name__ for v in pipe.layers] == ["RandomShear", "RandomErasing", "AutoContrast"]
    clone = check_roundtrip(pipe, x, training=False)
    assert [v.get_config()["seed"] for v in clone.layers[:2]] == [1, 2]
    check_symbolic(pipe, x)


def test_rand_augment_applies_the_drawn_operations(rng):
    x = images(rng, 3, 8, 8, 3)
    layer = layers.RandAugment(value_range=(0, 255), num_ops=4, factor=0.4, seed=6, dtype="float64")
    _, _, g = replay(6)
    picks = g.uniform([4], 0, 11, dtype=tl.int32).numpy().tolist()
    f = (0, 0.4)
    kw = {"seed": 6, "dtype": "float64"}
    ops = [layers.RandomShear(f, f, **kw), layers.RandomTranslation(f, f, **kw), layers.RandomRotation(f, **kw),
           layers.RandomBrightness(f, **kw), layers.RandomColorDegeneration(f, **kw), layers.RandomContrast(f, **kw),
           layers.RandomSharpness(f, **kw), layers.RandomPosterization(3, **kw), layers.Solarization(f, f, **kw),
           layers.AutoContrast(dtype="float64"), layers.Equalization(dtype="float64")]
    want = x
    for i in picks:
        want = ops[i](want, training=True)
    np.testing.assert_allclose(layer(x).numpy(), want.numpy(), rtol=1e-10, atol=1e-10)
    assert layers.RandAugment().factor == (0, 0.5)
    np.testing.assert_array_equal(layers.RandAugment(num_ops=0, dtype="float64")(x).numpy(), x.numpy())
    seen = set()
    for s in range(30):  # every operation can be drawn
        seen.update(tl.random.Generator.from_seed(s).uniform([2], 0, 11, dtype=tl.int32).numpy().tolist())
    assert seen == set(range(11))
    check_basics(layer, x)
    cf = layers.RandAugment(num_ops=2, seed=3, data_format="channels_first", value_range=(0, 1))
    assert cf(tl.transpose(x[:, :, :, :] / 255.0, [0, 3, 1, 2])).shape == (3, 3, 8, 8)


# ----------------------------------------------------------------- in models
def _all_layers(seed):
    return [layers.RandomShear(0.2, 0.2, seed=seed), layers.RandomPerspective(0.5, 0.3, seed=seed),
            layers.RandomElasticTransform(0.5, 0.5, value_range=(0, 1), seed=seed),
            layers.RandomErasing(0.5, value_range=(0, 1), seed=seed),
            layers.RandomGaussianBlur(0.5, 3, (0.2, 0.8), value_range=(0, 1), seed=seed),
            layers.RandAugment(value_range=(0, 1), num_ops=2, seed=seed),
            layers.Pipeline([layers.RandomShear(0.1, seed=seed), layers.RandomErasing(0.3, value_range=(0, 1))])]


def check_model_trains(augmenters, x, rng):
    """A functional model with ``augmenters`` in front trains a step (its weights move); at inference the
    augmenters are the identity; each one serializes and comes back."""
    inputs = keras.Input(tuple(x.shape[1:]))
    h = inputs
    for layer in augmenters:
        h = layer(h)
    model = keras.Model(inputs, layers.Dense(1)(layers.GlobalAveragePooling2D()(layers.Conv2D(2, 3)(h))))
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    loss = model.train_on_batch(x, rng.standard_normal((len(x), 1)).astype(np.float32))
    assert np.all(np.isfinite(loss))
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    np.testing.assert_allclose(keras.Model(inputs, h).predict(x, verbose=0), x, rtol=1e-6)
    for layer in augmenters:
        again = layers.deserialize(layers.serialize(layer))
        assert type(again) is type(layer) and again.get_config() == layer.get_config()


def test_layers_in_a_model_that_trains(rng):
    check_model_trains(_all_layers(1), rng.uniform(0, 1, size=(8, 12, 12, 3)).astype(np.float32), rng)


# ----------------------------------------------------------------- errors
def test_errors_name_the_layer_and_the_valid_values(rng):
    with pytest.raises(ValueError, match=r"RandomShear: the `x_factor` argument .* range \[0, 1\]; received "
                                         r"x_factor=1.5"):
        layers.RandomShear(x_factor=1.5)
    with pytest.raises(ValueError, match=r"RandomShear: the `y_factor` .*received y_factor=\(-0.1, 0.2\)"):
        layers.RandomShear(y_factor=(-0.1, 0.2))
    with pytest.raises(NotImplementedError, match=r"RandomShear: unknown `fill_mode` 'mirror'"):
        layers.RandomShear(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match=r"RandomPerspective: the `scale` argument should be a number in the range "
                                         r"\[0, 1\]; received scale=2"):
        layers.RandomPerspective(scale=2)
    with pytest.raises(NotImplementedError, match=r"RandomPerspective: unknown `interpolation` 'bicubic'"):
        layers.RandomPerspective(interpolation="bicubic")
    with pytest.raises(NotImplementedError, match=r"RandomElasticTransform: unknown `fill_mode` 'edge'"):
        layers.RandomElasticTransform(fill_mode="edge")
    with pytest.raises(ValueError, match=r"RandomElasticTransform: the `scale` argument .*\[0, 1\]; received "
                                         r"scale=1.5"):
        layers.RandomElasticTransform(scale=1.5)
    with pytest.raises(ValueError, match=r"RandomErasing: the `fill_value` argument should be a number \(or a list "
                                         r"of three numbers\) or None; received fill_value=\(1, 2\)"):
        layers.RandomErasing(fill_value=(1, 2))
    with pytest.raises(ValueError, match=r"RandomErasing: the `factor` argument .*received factor=-0.5"):
        layers.RandomErasing(factor=-0.5)
    with pytest.raises(ValueError, match=r"RandomGaussianBlur: `kernel_size` must be an odd positive integer .*"
                                         r"received kernel_size=4"):
        layers.RandomGaussianBlur(kernel_size=4)
    with pytest.raises(ValueError, match=r"RandomGaussianBlur: the `sigma` argument .*received sigma=3"):
        layers.RandomGaussianBlur(sigma=3)
    with pytest.raises(ValueError, match=r"RandAugment: `num_ops` must be a non-negative integer; received "
                                         r"num_ops=-1"):
        layers.RandAugment(num_ops=-1)
    with pytest.raises(ValueError, match=r"RandAugment: the `value_range` argument should be a list of two numbers"):
        layers.RandAugment(value_range=255)
    with pytest.raises(ValueError, match=r"Pipeline: `layers` must be a list of layers; received layers=3"):
        layers.Pipeline(3)
    with pytest.raises(ValueError, match=r"RandomShear.*seed.*'a'"):
        layers.RandomShear(0.1, seed="a")
    check_rank_error(layers.RandomErasing(), images(rng, 4, 4), "expected min_ndim=3")
    check_rank_error(layers.RandomGaussianBlur(), images(rng, 1, 2, 4, 4, 3), "expected max_ndim=4")


# ----------------------------------------------------------------- devices
@pytest.mark.gpu
def test_gpu_outputs_follow_the_images_device(rng):
    x = rng.uniform(0, 255, size=(2, 6, 7, 3)).astype(np.float32)
    fixed = [lambda: layers.RandomGaussianBlur(factor=(1, 1), sigma=(0.5, 0.5)),
             lambda: layers.RandomErasing(factor=(0, 0)), lambda: layers.RandomPerspective(scale=0.0)]
    for make in fixed:
        with tl.device("cpu"):
            ref = make()(tl.constant(x)).numpy()
        with tl.device("gpu:0"):
            xg = tl.constant(x)
        with tl.device("cpu"):  # constants and draws must follow the images to the GPU
            got = make()(xg)
        assert "GPU" in got.device
        np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-3)
    with tl.device("gpu:0"):
        xg = tl.constant(x)
    with tl.device("cpu"):
        # Seed 2 draws shear, translation and rotation among its 11 operations.
        for layer in _all_layers(3)[:-2] + [_all_layers(3)[-1], layers.RandAugment(num_ops=11, seed=2)]:
            assert "GPU" in layer(xg).device, type(layer).__name__
