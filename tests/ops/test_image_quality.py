"""tl.image.psnr, ssim, ssim_multiscale, total_variation vs float64 numpy versions of TF's algorithms."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import Case, S, op_tests


# ----------------------------------------------------------------- TF's algorithms in float64 numpy
def _gauss(size, sigma):
    coords = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    g = coords ** 2 * (-0.5 / sigma ** 2)
    g = np.exp(g[None, :] + g[:, None])
    return g / g.sum()


def _filter(x, k):
    """VALID correlation of [..., h, w, c] with a [size, size] window, channel by channel."""
    fs = k.shape[0]
    h, w = x.shape[-3] - fs + 1, x.shape[-2] - fs + 1
    out = np.zeros(x.shape[:-3] + (h, w, x.shape[-1]))
    for a in range(fs):
        for b in range(fs):
            out += k[a, b] * x[..., a:a + h, b:b + w, :]
    return out


def _maps(x, y, m, fs, sigma, k1, k2):
    k = _gauss(fs, sigma)
    c1, c2 = (k1 * m) ** 2, (k2 * m) ** 2
    mx, my = _filter(x, k), _filter(y, k)
    lum = (2 * mx * my + c1) / (mx ** 2 + my ** 2 + c1)
    cs = (2 * _filter(x * y, k) - 2 * mx * my + c2) / (_filter(x * x + y * y, k) - mx ** 2 - my ** 2 + c2)
    return lum * cs, cs


def ref_ssim(x, y, m, fs=11, sigma=1.5, k1=0.01, k2=0.03):
    return _maps(x, y, m, fs, sigma, k1, k2)[0].mean(axis=(-3, -2)).mean(axis=-1)


def _down(x):
    ph, pw = x.shape[-3] % 2, x.shape[-2] % 2
    x = np.pad(x, [(0, 0)] * (x.ndim - 3) + [(0, ph), (0, pw), (0, 0)], mode="symmetric")
    h, w, c = x.shape[-3:]
    return x.reshape(x.shape[:-3] + (h // 2, 2, w // 2, 2, c)).mean(axis=(-4, -2))


def ref_ssim_multiscale(x, y, m, powers, fs=11, sigma=1.5, k1=0.01, k2=0.03):
    mcs = []
    for k in range(len(powers)):
        if k:
            x, y = _down(x), _down(y)
        s, cs = _maps(x, y, m, fs, sigma, k1, k2)
        mcs.append(np.maximum(cs.mean(axis=(-3, -2)), 0))
    scores = np.stack(mcs[:-1] + [np.maximum(s.mean(axis=(-3, -2)), 0)], axis=-1)
    return np.prod(scores ** np.asarray(powers), axis=-1).mean(axis=-1)


def ref_psnr(x, y, m):
    return 10 * np.log10(m ** 2 / ((x - y) ** 2).mean(axis=(-3, -2, -1)))


def ref_total_variation(x):
    axes = None if x.ndim == 3 else (1, 2, 3)
    return (np.abs(np.diff(x, axis=-3)).sum(axis=axes) + np.abs(np.diff(x, axis=-2)).sum(axis=axes))


POWERS = (0.2, 0.5, 0.3)


def _near(a, noise):
    """A second image correlated with the first (SSIM's contrast term stays positive)."""
    return a + 0.2 * noise


CASES = [
    Case("psnr", lambda a, b: tl.image.psnr(a, b, 1.0), lambda a, b: ref_psnr(a, b, 1.0),
         [S((2, 4, 5, 3), low=0, high=1), S((2, 4, 5, 3), low=0, high=1)]),
    Case("ssim_small_window", lambda a, b: tl.image.ssim(a, b, 1.0, filter_size=5, filter_sigma=1.2),
         lambda a, b: ref_ssim(a, b, 1.0, 5, 1.2), [S((2, 7, 8, 2), low=0, high=1), S((2, 7, 8, 2), low=0, high=1)],
         grad_rtol=1e-4),
    Case("ssim_default_3d", lambda a, n: tl.image.ssim(a, _near(a, n), 2.0, k1=0.02, k2=0.05),
         lambda a, n: ref_ssim(a, _near(a, n), 2.0, k1=0.02, k2=0.05),
         [S((12, 13, 1), low=0, high=2), S((12, 13, 1), low=-1, high=1)], grad=False),
    Case("ssim_multiscale", lambda a, n: tl.image.ssim_multiscale(a, _near(a, n), 1.0, POWERS, filter_size=3),
         lambda a, n: ref_ssim_multiscale(a, _near(a, n), 1.0, POWERS, fs=3),
         [S((1, 11, 9, 2), low=0, high=1), S((1, 11, 9, 2), low=-1, high=1)], grad_rtol=1e-4, second=False),
    Case("total_variation", tl.image.total_variation, ref_total_variation, [S((2, 3, 4, 2))]),
    Case("total_variation_3d", tl.image.total_variation, ref_total_variation, [S((4, 3, 2))]),
]

globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


def test_ssim_default_window_batch_dims_and_index_map(rng):
    a = rng.uniform(0, 1, size=(2, 3, 14, 12, 2))
    b = np.clip(a + rng.normal(0, 0.1, size=a.shape), 0, 1)
    got = tl.image.ssim(tl.constant(a), tl.constant(b), 1.0)
    assert tuple(got.shape) == (2, 3)
    np.testing.assert_allclose(got.numpy(), ref_ssim(a, b, 1.0), rtol=1e-10)
    smap = tl.image.ssim(tl.constant(a), tl.constant(b), 1.0, return_index_map=True)
    np.testing.assert_allclose(smap.numpy(), _maps(a, b, 1.0, 11, 1.5, 0.01, 0.03)[0].mean(axis=-1), rtol=1e-10)
    same = tl.image.ssim(tl.constant(a[0]), tl.constant(a[0]), 1.0).numpy()
    np.testing.assert_allclose(same, 1.0, rtol=1e-12)


def test_uint8_images_are_scaled_with_max_val(rng):
    a = rng.integers(0, 256, size=(2, 16, 16, 3)).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 20, size=a.shape), 0, 255).astype(np.uint8)
    af, bf = a / 255.0, b / 255.0
    for fn, ref in ((tl.image.ssim, ref_ssim), (tl.image.psnr, ref_psnr)):
        got = fn(tl.constant(a), tl.constant(b), 255)
        assert got.dtype == tl.float32
        np.testing.assert_allclose(got.numpy(), ref(af, bf, 1.0), rtol=1e-5)


def test_ssim_multiscale_default_weights_on_tf_sized_images(rng):
    a = rng.uniform(0, 1, size=(1, 177, 180, 1))
    b = np.clip(a + rng.normal(0, 0.05, size=a.shape), 0, 1)
    got = tl.image.ssim_multiscale(tl.constant(a), tl.constant(b), 1.0)
    np.testing.assert_allclose(got.numpy(), ref_ssim_multiscale(a, b, 1.0, (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)),
                               rtol=1e-10)


def test_psnr_known_value_and_identical_images():
    np.testing.assert_allclose(tl.image.psnr(tl.fill([8, 8, 3], 0.5), tl.fill([8, 8, 3], 0.6), 1.0).numpy(), 20.0,
                               rtol=1e-5)
    assert np.isinf(tl.image.psnr(tl.ones([4, 4, 1]), tl.ones([4, 4, 1]), 1.0).numpy())


def test_total_variation_integer_images(rng):
    x = rng.integers(0, 256, size=(3, 5, 4, 3)).astype(np.int32)
    got = tl.image.total_variation(tl.constant(x))
    assert got.dtype == tl.int32
    np.testing.assert_array_equal(got.numpy(), ref_total_variation(x))


def test_errors_name_the_op_and_the_shapes():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"ssim: the images' height and width \(8x12, shape "
                                                            r"\[1,8,12,1\]\) must be at least filter_size 11"):
        tl.image.ssim(tl.zeros([1, 8, 12, 1]), tl.zeros([1, 8, 12, 1]), 1.0)
    with pytest.raises(TypeError, match=r"psnr: the images must have one dtype, got float32 and float64"):
        tl.image.psnr(tl.zeros([4, 4, 1]), tl.zeros([4, 4, 1], tl.float64), 1.0)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"ssim: the images must be \[..., height, width, "
                                                            r"channels\] with equal last three dimensions, got shapes "
                                                            r"\[12,12,1\] and \[12,12,3\]"):
        tl.image.ssim(tl.zeros([12, 12, 1]), tl.zeros([12, 12, 3]), 1.0)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"ssim_multiscale: images of 64x64 .* shrink to 4x4 at "
                                                            r"the last of 5 scales, smaller than filter_size 11"):
        tl.image.ssim_multiscale(tl.zeros([64, 64, 1]), tl.zeros([64, 64, 1]), 1.0)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"psnr: max_val must be positive, got 0"):
        tl.image.psnr(tl.zeros([4, 4, 1]), tl.ones([4, 4, 1]), 0)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"total_variation: images must be 3-D .* got shape "
                                                            r"\[4,4\]"):
        tl.image.total_variation(tl.zeros([4, 4]))


@pytest.mark.gpu
def test_gpu_window_and_weights_follow_the_images_device(rng):
    a = rng.uniform(0, 1, size=(1, 13, 11, 2)).astype(np.float32)
    b = np.clip(a + 0.1, 0, 1).astype(np.float32)

    def run(x, y):
        return [tl.image.ssim(x, y, 1.0, filter_size=3), tl.image.ssim_multiscale(x, y, 1.0, POWERS, filter_size=3),
                tl.image.psnr(x, y, 1.0)]
    with tl.device("cpu"):
        ref = [r.numpy() for r in run(tl.constant(a), tl.constant(b))]
    with tl.device("gpu:0"):
        x, y = tl.constant(a), tl.constant(b)
    with tl.device("cpu"):  # the op's own constants must go to the images' device
        got = run(x, y)
    for g, r in zip(got, ref):
        assert "GPU" in g.device
        np.testing.assert_allclose(g.numpy(), r, rtol=1e-5)
