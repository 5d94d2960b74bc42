"""Random ops on Functional-API tensors: random crops, flips and colour jitter (stateful and stateless),
``tl.nn.dropout`` and the stateless samplers whose parameters are model tensors.

Each runs as one registry composite, so a ``keras.Model`` draws when it runs on data, on every call, as the
eager op does on every call. Each case checks the static shape and that ``model.predict``:

* stateless ops: equals the eager op with the same seed, on every call;
* stateful ops: equals the eager op drawing from the same op-seed stream (after the same ``set_seed``), varies
  from call to call, and has the op's distribution (crops are sub-windows at spread-out offsets, flips flip
  about half the images, colour factors fill their range, dropout drops about ``rate`` of the elements).
"""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras._node import KerasTensor


@pytest.fixture(autouse=True)
def _unseeded():
    yield
    tl.random.set_seed(None)


def build(shape, op, dtype="float32"):
    inp = keras.Input(shape, dtype=dtype)
    out = op(inp)
    assert isinstance(out, KerasTensor) and out._keras_history is not None, out
    return out, keras.Model(inp, out)


def predict(model, x):
    return np.asarray(model.predict(x, batch_size=len(x), verbose=0))


def images(rng, n=8, h=10, w=12, c=3):
    """Images whose pixels all differ (so a crop's offset can be read off)."""
    return (rng.permutation(n * h * w * c).reshape(n, h, w, c) / (n * h * w * c)).astype("float32")


def model_replays_eager(model, op, x, seed=11, calls=3):
    """After set_seed(seed), ``calls`` eager calls and (after set_seed(seed) again) ``calls`` model
    calls: asserts that the model draws the same op-seed stream as the eager op, and returns the
    model's outputs."""
    tl.random.set_seed(seed)
    want = [op(tl.constant(x)).numpy() for _ in range(calls)]
    tl.random.set_seed(seed)
    got = [predict(model, x) for _ in range(calls)]
    for g, e in zip(got, want):
        np.testing.assert_array_equal(g, e)
    return got


# ----------------------------------------------------------------- crops
def crop_offsets(x, y):
    """(batch, row, column) offsets of the window ``y`` of ``x`` (asserts ``y`` is one)."""
    n, h, w, _ = y.shape
    first = np.argwhere(x == y.flat[0])
    assert len(first) == 1, "the crop's first pixel is not a pixel of the input"
    b, i, j, _ = first[0]
    np.testing.assert_array_equal(y, x[b:b + n, i:i + h, j:j + w])
    return int(b), int(i), int(j)


def test_random_crop_draws_a_new_window_on_every_call(rng):
    x = images(rng)

    def op(v):
        return tl.image.random_crop(v, [8, 4, 5, 3], seed=3)
    out, model = build(x.shape[1:], op)
    assert tuple(out.shape) == (8, 4, 5, 3)
    model_replays_eager(model, op, x)
    offsets = [crop_offsets(x, predict(model, x)) for _ in range(150)]
    rows = np.array([o[1] for o in offsets])
    cols = np.array([o[2] for o in offsets])
    assert all(o[0] == 0 for o in offsets)
    assert rows.min() >= 0 and rows.max() <= 6 and cols.min() >= 0 and cols.max() <= 7
    # uniform over 7 x 8 offsets: every row and column offset shows up, not just the top-left corner
    assert set(rows.tolist()) == set(range(7)) and set(cols.tolist()) == set(range(8))
    assert abs(rows.mean() - 3.0) < 0.6 and abs(cols.mean() - 3.5) < 0.7


def test_random_crop_checks_the_size_known_only_when_the_model_runs(rng):
    _, model = build((None, 6, 3), lambda v: tl.image.random_crop(v, [2, 4, 4, 3]))
    assert predict(model, images(rng, 2, 5, 6)).shape == (2, 4, 4, 3)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"random_crop: Need value.shape >= size"):
        model(tl.constant(images(rng, 2, 3, 6)))


def test_stateless_random_crop_is_the_eager_crop_of_its_seed(rng):
    x = images(rng)
    seeds = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12)]
    windows = set()
    for seed in seeds:
        def op(v, seed=seed):
            return tl.image.stateless_random_crop(v, [8, 4, 5, 3], seed=seed)
        out, model = build(x.shape[1:], op)
        assert tuple(out.shape) == (8, 4, 5, 3)
        want = op(tl.constant(x)).numpy()
        for _ in range(2):
            np.testing.assert_array_equal(predict(model, x), want)
        windows.add(crop_offsets(x, want))
    assert len(windows) > 1


def test_stateless_random_crop_reads_a_seed_variable_when_the_model_runs(rng):
    x = images(rng)
    seed = tl.Variable([1, 2], dtype=tl.int64)
    _, model = build(x.shape[1:], lambda v: tl.image.stateless_random_crop(v, [8, 4, 5, 3], seed=seed))
    seen = set()
    for s in range(8):
        seed.assign([s, 2 * s + 1])
        want = tl.image.stateless_random_crop(tl.constant(x), [8, 4, 5, 3], seed=(s, 2 * s + 1)).numpy()
        got = predict(model, x)
        np.testing.assert_array_equal(got, want)
        seen.add(crop_offsets(x, got))
    assert len(seen) > 1


# ----------------------------------------------------------------- flips
@pytest.mark.parametrize("kind", ["left_right", "up_down"])
def test_random_flip_flips_about_half_the_images_on_each_call(rng, kind):
    op_fn = getattr(tl.image, f"random_flip_{kind}")
    axis = 2 if kind == "left_right" else 1
    x = images(rng, 32, 4, 5, 2)

    def op(v):
        return op_fn(v, seed=5)
    out, model = build(x.shape[1:], op)
    assert tuple(out.shape) == (None, 4, 5, 2)
    model_replays_eager(model, op, x)
    flipped = []
    for _ in range(20):
        y = predict(model, x)
        same = np.all(y == x, axis=(1, 2, 3))
        mirrored = np.all(y == np.flip(x, axis), axis=(1, 2, 3))
        assert np.all(same ^ mirrored)   # each image is itself or its mirror image
        flipped.append(mirrored)
    flipped = np.array(flipped)
    assert 0.4 < flipped.mean() < 0.6
    assert len({f.tobytes() for f in flipped}) > 1   # a new set of coins on every call


@pytest.mark.parametrize("kind", ["left_right", "up_down"])
def test_stateless_random_flip_is_the_eager_flip_of_its_seed(rng, kind):
    op_fn = getattr(tl.image, f"stateless_random_flip_{kind}")
    axis = 2 if kind == "left_right" else 1
    x = images(rng, 32, 4, 5, 2)
    patterns = set()
    for seed in [(1, 2), (3, 4)]:
        def op(v, seed=seed):
            return op_fn(v, seed=seed)
        out, model = build(x.shape[1:], op)
        assert tuple(out.shape) == (None, 4, 5, 2)
        want = op(tl.constant(x)).numpy()
        coins = tl.random.stateless_uniform([32, 1, 1, 1], seed=seed).numpy().reshape(-1) > 0.5  # TF's rule
        np.testing.assert_array_equal(want, np.where(coins[:, None, None, None], np.flip(x, axis), x))
        for _ in range(2):
            np.testing.assert_array_equal(predict(model, x), want)
        assert 0 < coins.sum() < 32
        patterns.add(coins.tobytes())
    assert len(patterns) == 2


# ----------------------------------------------------------------- colour jitter
def _factor(kind, x, y):
    """The one factor (brightness delta or contrast factor) that turned ``x`` into ``y``."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    if kind == "brightness":
        f = (y - x).mean()
        np.testing.assert_allclose(y, x + f, atol=1e-6)
        return f
    m = x.mean(axis=(1, 2), keepdims=True)   # per image and channel
    f = np.sum((y - m) * (x - m)) / np.sum((x - m) ** 2)   # least squares: one factor for the batch
    np.testing.assert_allclose(y, m + f * (x - m), atol=1e-5)
    return f


@pytest.mark.parametrize("kind,op_fn,low,high", [
    ("brightness", lambda v, seed: tl.image.random_brightness(v, 0.3, seed=seed), -0.3, 0.3),
    ("contrast", lambda v, seed: tl.image.random_contrast(v, 0.5, 1.5, seed=seed), 0.5, 1.5),
])
def test_random_brightness_and_contrast_draw_one_factor_per_call(rng, kind, op_fn, low, high):
    x = rng.uniform(0.2, 0.8, (4, 6, 5, 3)).astype("float32")

    def op(v):
        return op_fn(v, seed=9)
    out, model = build(x.shape[1:], op)
    assert tuple(out.shape) == (None, 6, 5, 3)
    model_replays_eager(model, op, x)
    f = np.array([_factor(kind, x, predict(model, x)) for _ in range(60)])
    assert f.min() >= low - 1e-5 and f.max() < high + 1e-5
    assert np.std(f) == pytest.approx((high - low) / np.sqrt(12), rel=0.35)   # uniform on [low, high)


@pytest.mark.parametrize("name,args,low,high", [("random_hue", (0.3,), -0.3, 0.3),
                                                 ("random_saturation", (0.2, 1.8), 0.2, 1.8)])
def test_random_hue_and_saturation_draw_on_every_call(rng, name, args, low, high):
    x = rng.uniform(0.0, 1.0, (4, 6, 5, 3)).astype("float32")

    def op(v):
        return getattr(tl.image, name)(v, *args, seed=4)
    out, model = build(x.shape[1:], op)
    assert tuple(out.shape) == (None, 6, 5, 3)
    got = model_replays_eager(model, op, x, calls=4)
    assert len({g.tobytes() for g in got}) == 4
    # call i adjusts the whole batch by the i-th uniform draw of the op's seed stream
    tl.random.set_seed(11)
    factors = [float(tl.random.uniform([], low, high, seed=4)) for _ in range(4)]
    adjust = getattr(tl.image, name.replace("random", "adjust"))
    for g, f in zip(got, factors):
        np.testing.assert_allclose(g, adjust(tl.constant(x.astype(np.float64)), f).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,args", [
    ("stateless_random_brightness", (0.4,)), ("stateless_random_contrast", (0.3, 1.7)),
    ("stateless_random_hue", (0.4,)), ("stateless_random_saturation", (0.1, 1.9)),
])
def test_stateless_colour_jitter_is_the_eager_op_of_its_seed(rng, name, args):
    x = rng.uniform(0.0, 1.0, (3, 5, 4, 3)).astype("float32")
    results = set()
    for seed in [(1, 2), (2, 1)]:
        def op(v, seed=seed):
            return getattr(tl.image, name)(v, *args, seed=seed)
        out, model = build(x.shape[1:], op)
        assert tuple(out.shape) == (None, 5, 4, 3)
        want = op(tl.constant(x)).numpy()
        for _ in range(2):
            np.testing.assert_array_equal(predict(model, x), want)
        results.add(want.tobytes())
        if name == "stateless_random_brightness":  # float64 reference: x + the seed's delta
            delta = tl.random.stateless_uniform([], seed=seed, minval=-0.4, maxval=0.4).numpy()
            np.testing.assert_allclose(want, x.astype(np.float64) + float(delta), rtol=1e-6, atol=1e-6)
    assert len(results) == 2


# ----------------------------------------------------------------- dropout
def test_dropout_drops_a_fresh_set_of_elements_on_every_call(rng):
    x = rng.uniform(1.0, 2.0, (64, 50)).astype("float32")

    def op(v):
        return tl.nn.dropout(v, 0.3, seed=2)
    out, model = build((50,), op)
    assert tuple(out.shape) == (None, 50)
    model_replays_eager(model, op, x)
    masks = []
    for _ in range(3):
        y = predict(model, x)
        kept = y != 0
        np.testing.assert_allclose(y[kept], x[kept] / 0.7, rtol=1e-6)
        masks.append(kept)
    assert all(abs(1 - m.mean() - 0.3) < 0.04 for m in masks)
    assert not np.array_equal(masks[0], masks[1])


def test_dropout_noise_shape_with_the_batch_size_unknown(rng):
    x = rng.uniform(1.0, 2.0, (200, 6)).astype("float32")
    out, model = build((6,), lambda v: tl.nn.dropout(v, 0.5, noise_shape=[None, 1]))
    assert tuple(out.shape) == (None, 6)
    kept = predict(model, x) != 0
    assert np.all(kept.all(axis=1) | ~kept.any(axis=1))   # whole rows kept or dropped
    assert 0.35 < kept[:, 0].mean() < 0.65


# ----------------------------------------------------------------- samplers with model tensors as parameters
@pytest.mark.parametrize("name", ["categorical", "shuffle", "gamma", "poisson", "binomial"])
def test_stateless_samplers_are_the_eager_samples_of_their_seed(rng, name):
    p = rng.uniform(0.1, 0.9, (6, 5)).astype("float32")
    seed = (4, 7)
    op, shape = {
        "categorical": (lambda v: tl.random.stateless_categorical(tl.math.log(v), 20, seed=seed), (None, 20)),
        "shuffle": (lambda v: tl.random.experimental.stateless_shuffle(v, seed=seed), (None, 5)),
        "gamma": (lambda v: tl.random.stateless_gamma([6, 5], seed=seed, alpha=v + 1.0), (6, 5)),
        "poisson": (lambda v: tl.random.stateless_poisson([6, 5], seed=seed, lam=v * 4.0), (6, 5)),
        "binomial": (lambda v: tl.random.stateless_binomial([6, 5], seed=seed, counts=20.0, probs=v), (6, 5)),
    }[name]
    out, model = build((5,), op)
    assert tuple(out.shape) == shape
    want = op(tl.constant(p)).numpy()
    for _ in range(3):   # the same numbers on every call, as the eager op with that seed
        np.testing.assert_array_equal(predict(model, p), want)
    if name == "shuffle":
        np.testing.assert_array_equal(np.sort(want, axis=0), np.sort(p, axis=0))


def test_stateful_samplers_with_a_model_tensor_parameter(rng):
    lam = rng.uniform(1.0, 3.0, (4, 5)).astype("float32")
    for op, shape in [(lambda v: tl.random.gamma([300], alpha=v), (300, None, 5)),
                      (lambda v: tl.random.poisson([300], v), (300, None, 5))]:
        out, model = build((5,), op)
        assert tuple(out.shape) == shape
        a, b = predict(model, lam), predict(model, lam)
        assert a.shape == (300, 4, 5) and not np.array_equal(a, b)
        np.testing.assert_allclose(a.mean(axis=0), lam, rtol=0.25)   # both have mean lam


@pytest.mark.parametrize("name", ["shuffle", "categorical"])
def test_stateful_shuffle_and_categorical_follow_the_op_seed_stream(rng, name):
    p = rng.uniform(0.1, 0.9, (16, 5)).astype("float32") + np.arange(16, dtype="float32")[:, None]
    op, shape = {
        "shuffle": (lambda v: tl.random.shuffle(v, seed=8), (None, 5)),
        "categorical": (lambda v: tl.random.categorical(tl.math.log(v), 30, seed=8), (None, 30)),
    }[name]
    out, model = build((5,), op)
    assert tuple(out.shape) == shape
    got = model_replays_eager(model, op, p, calls=3)
    assert len({g.tobytes() for g in got}) == 3
    if name == "shuffle":
        for g in got:
            np.testing.assert_array_equal(np.sort(g, axis=0), p)


@pytest.mark.parametrize("op", [
    lambda v, s: tl.image.stateless_random_flip_left_right(v, s),
    lambda v, s: tl.image.stateless_random_crop(v, [6, 2, 3, 3], s),
    lambda v, s: tl.image.stateless_random_hue(v, 0.3, s),
])
def test_a_seed_that_is_a_model_input(rng, op):
    x = rng.uniform(0.0, 1.0, (6, 4, 5, 3)).astype("float32")
    img, seed = keras.Input((4, 5, 3)), keras.Input(shape=(), batch_size=2, dtype="int32")
    model = keras.Model([img, seed], op(img, seed))
    results = set()
    for s in [(1, 2), (3, 4), (5, 6)]:
        got = model([tl.constant(x), tl.constant(np.array(s, "int32"))]).numpy()
        np.testing.assert_array_equal(got, op(tl.constant(x), s).numpy())
        results.add(got.tobytes())
    assert len(results) > 1
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"seed must be a shape-\[2\] int32/int64 tensor"):
        op(img, keras.Input((2,), dtype="int32"))   # a batch of seeds
