"""MixUp and CutMix against numpy transcriptions of Keras 3's formulas with the layer's seeded draws replayed
(images and labels), the Beta draws' distribution, identity at inference, configs, training and errors."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab.keras import layers
from tests.keras.layers.layer_checks import check_rank_error, check_roundtrip, check_symbolic
from tests.keras.layers.test_geometric_augmentation import check_model_trains


def beta(g, n, alpha):
    """The layer's Beta(alpha, alpha) draws: two stateless gammas seeded from its stream."""
    seeds = g.uniform([2, 2], 0, 2 ** 31 - 1, dtype=tl.int32)
    a = tl.constant(np.float32(alpha))
    g1, g2 = (tl.random.stateless_gamma([n], seed=seeds[i], alpha=a).numpy() for i in range(2))
    return (g1 / (g1 + g2)).astype(np.float64)  # in float32, as the gammas


def one_hot(n, k=None):
    return np.eye(k or n)[np.arange(n) % (k or n)]


def test_mix_up(rng):
    x = rng.uniform(0, 255, size=(6, 5, 4, 3))
    labels = one_hot(6)
    layer = layers.MixUp(alpha=0.4, seed=3, dtype="float64")
    out = layer({"images": tl.constant(x), "labels": tl.constant(labels)})
    g = tl.random.Generator.from_seed(3)
    perm = g.shuffle(tl.range(6)).numpy()
    w = beta(g, 6, 0.4)
    ww = w[:, None, None, None]
    np.testing.assert_allclose(out["images"].numpy(), ww * x + (1 - ww) * x[perm], rtol=1e-12)
    np.testing.assert_allclose(out["labels"].numpy(), w[:, None] * labels + (1 - w[:, None]) * labels[perm],
                               rtol=1e-12)
    # Images alone, channels first: the same draws with the same seed.
    alone = layers.MixUp(alpha=0.4, seed=3, data_format="channels_first", dtype="float64")
    got = alone(tl.constant(np.transpose(x, [0, 3, 1, 2]))).numpy()
    np.testing.assert_allclose(got, np.transpose(ww * x + (1 - ww) * x[perm], [0, 3, 1, 2]), rtol=1e-12)
    # Integer labels are mixed in the layer's dtype; the label rows follow the images.
    ints = layers.MixUp(seed=3, dtype="float64")({"images": tl.constant(x), "labels": tl.constant([1, 2, 3, 4, 5, 6])})
    assert ints["labels"].dtype == tl.float64
    np.testing.assert_array_equal(layer(tl.constant(x), training=False).numpy(), x)
    check_symbolic(layer, tl.constant(x))
    check_roundtrip(layer, tl.constant(x), training=False)
    assert layer.get_config()["alpha"] == 0.4


def test_mix_up_beta_draws_have_the_beta_distribution():
    layer = layers.MixUp(alpha=0.5, seed=1, dtype="float64")
    w = np.concatenate([layer._beta(tl.zeros([4000, 1, 1, 1], tl.float64), 0.5).numpy() for _ in range(3)])
    assert w.min() >= 0 and w.max() <= 1
    # Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)) = 1/8.
    assert abs(w.mean() - 0.5) < 0.02 and abs(w.var() - 0.125) < 0.01


def test_cut_mix(rng):
    x = rng.uniform(0, 255, size=(8, 9, 10, 3))
    labels = one_hot(8, 5)
    layer = layers.CutMix(factor=(0.3, 0.9), seed=4, dtype="float64")
    out = layer({"images": tl.constant(x), "labels": tl.constant(labels)})
    g = tl.random.Generator.from_seed(4)
    alpha = float(g.uniform([], 0.3, 0.9).numpy()) + 1e-6
    ratio = np.sqrt(1 - beta(g, 8, alpha))
    cw, ch = ratio * 10, ratio * 9
    x0 = g.uniform([8]).numpy().astype(np.float64) * (10 - cw)
    y0 = g.uniform([8]).numpy().astype(np.float64) * (9 - ch)
    perm = g.shuffle(tl.range(8)).numpy()
    rows, cols = np.arange(9)[None, :, None, None], np.arange(10)[None, None, :, None]
    r = (slice(None), None, None, None)
    mask = (cols >= x0[r]) & (cols < (x0 + cw)[r]) & (rows >= y0[r]) & (rows < (y0 + ch)[r])
    np.testing.assert_allclose(out["images"].numpy(), np.where(mask, x[perm], x), rtol=1e-12)
    kept = 1 - cw * ch / 90
    np.testing.assert_allclose(out["labels"].numpy(), kept[:, None] * labels + (1 - kept[:, None]) * labels[perm],
                               rtol=1e-12)
    # The label weights are the share of each image's own pixels (up to the grid's rounding of the box).
    own = 1 - mask[..., 0].mean(axis=(1, 2))
    assert np.all(np.abs(own - kept) < 0.35)
    assert layers.CutMix().factor == (0, 1.0) and layers.CutMix(0.5).factor == (0, 0.5)
    np.testing.assert_array_equal(layer(tl.constant(x), training=False).numpy(), x)
    np.testing.assert_array_equal(layer(tl.constant(x[0])).numpy(), x[0])  # one image: nothing to mix
    check_symbolic(layer, tl.constant(x))
    check_roundtrip(layer, tl.constant(x), training=False)


def test_mixing_layers_in_a_model_that_trains(rng):
    check_model_trains([layers.MixUp(seed=1), layers.CutMix((0.2, 0.4), seed=2)],
                       rng.uniform(0, 1, size=(8, 6, 6, 3)).astype(np.float32), rng)


def test_errors_name_the_layer_and_the_valid_values(rng):
    x = tl.constant(rng.uniform(0, 1, size=(4, 5, 5, 3)))
    with pytest.raises(ValueError, match=r"MixUp: `alpha` must be a positive number; received alpha=0"):
        layers.MixUp(alpha=0)
    with pytest.raises(ValueError, match=r"CutMix: the `factor` argument .*\[0, 1\]; received factor=1.5"):
        layers.CutMix(factor=1.5)
    with pytest.raises(ValueError, match=r"MixUp: a dict input must have an 'images' entry and may have 'labels'; "
                                         r"received keys \['bounding_boxes', 'images'\]"):
        layers.MixUp()({"images": x, "bounding_boxes": x})
    with pytest.raises(ValueError, match=r'"cut_mix.*" \(CutMix\): the labels must have one row per image; '
                                         r"received images of shape \(4, 5, 5, 3\) and labels of shape \(3, 2\)"):
        layers.CutMix()({"images": x, "labels": tl.zeros([3, 2])})
    check_rank_error(layers.MixUp(), tl.zeros([4, 4]), "expected min_ndim=3")


@pytest.mark.gpu
def test_gpu_outputs_follow_the_images_device(rng):
    x = rng.uniform(0, 255, size=(4, 6, 7, 3)).astype(np.float32)
    with tl.device("gpu:0"):
        xg, yg = tl.constant(x), tl.constant(one_hot(4))
    with tl.device("cpu"):  # permutations, Beta draws and masks must follow the images to the GPU
        for layer in (layers.MixUp(seed=1), layers.CutMix(seed=2)):
            out = layer({"images": xg, "labels": yg})
            assert "GPU" in out["images"].device and "GPU" in out["labels"].device
            assert out["images"].shape == (4, 6, 7, 3)
