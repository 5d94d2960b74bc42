"""tl.image geometry ops against float64 numpy transcriptions of TF's algorithms: rot90, transpose, crops and
pads to a box, resize_with_crop_or_pad / resize_with_pad, crop_and_resize, the stateless random crop and flips,
and draw_bounding_boxes (TF's documented examples included)."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import Case, S, op_tests
from tests.ops.test_image import ref_resize_bilinear, ref_resize_nearest

E = tl.errors.InvalidArgumentError


# ----------------------------------------------------------------- references (TF's algorithms)
def ref_crop_or_pad(x, th, tw):
    """TF's resize_with_crop_or_pad: central crop (floor of half the excess first), then zero padding."""
    h, w = x.shape[-3], x.shape[-2]
    top, left = max((h - th) // 2, 0), max((w - tw) // 2, 0)
    y = x[..., top:top + min(th, h), left:left + min(tw, w), :]
    ph, pw = max((th - h) // 2, 0), max((tw - w) // 2, 0)
    pads = [(0, 0)] * (x.ndim - 3) + [(ph, th - ph - y.shape[-3]), (pw, tw - pw - y.shape[-2]), (0, 0)]
    return np.pad(y, pads)


def ref_resize_with_pad(x, th, tw, resize=ref_resize_bilinear):
    """TF's _resize_image_with_pad_common, its scale arithmetic in float32."""
    f = np.float32
    h, w = x.shape[-3], x.shape[-2]
    ratio = max(f(w) / f(tw), f(h) / f(th))
    rh, rw = f(h) / ratio, f(w) / ratio
    ph, pw = max(0, int(np.floor((f(th) - rh) / f(2)))), max(0, int(np.floor((f(tw) - rw) / f(2))))
    y = resize(x, (int(np.floor(rh)), int(np.floor(rw))))
    pads = [(0, 0)] * (x.ndim - 3) + [(ph, th - ph - y.shape[-3]), (pw, tw - pw - y.shape[-2]), (0, 0)]
    return np.pad(y, pads)


def ref_crop_and_resize(image, boxes, box_ind, crop_size, method="bilinear", extrapolation_value=0.0):
    """TF's CropAndResize CPU functor, pixel by pixel, in float64."""
    _, h, w, d = image.shape
    ch, cw = crop_size
    out = np.empty((len(boxes), ch, cw, d))
    for b, (y1, x1, y2, x2) in enumerate(boxes):
        img = image[box_ind[b]]
        hs = (y2 - y1) * (h - 1) / (ch - 1) if ch > 1 else 0
        ws = (x2 - x1) * (w - 1) / (cw - 1) if cw > 1 else 0
        for y in range(ch):
            in_y = y1 * (h - 1) + y * hs if ch > 1 else 0.5 * (y1 + y2) * (h - 1)
            for x in range(cw):
                in_x = x1 * (w - 1) + x * ws if cw > 1 else 0.5 * (x1 + x2) * (w - 1)
                if in_y < 0 or in_y > h - 1 or in_x < 0 or in_x > w - 1:
                    out[b, y, x] = extrapolation_value
                elif method == "nearest":
                    out[b, y, x] = img[int(np.floor(in_y + 0.5)), int(np.floor(in_x + 0.5))]
                else:
                    t, l_ = int(np.floor(in_y)), int(np.floor(in_x))
                    bo, r = int(np.ceil(in_y)), int(np.ceil(in_x))
                    yl, xl = in_y - t, in_x - l_
                    top = img[t, l_] + (img[t, r] - img[t, l_]) * xl
                    bottom = img[bo, l_] + (img[bo, r] - img[bo, l_]) * xl
                    out[b, y, x] = top + (bottom - top) * yl
    return out


DEFAULT_COLORS = np.array([[1, 1, 0, 1], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0.5, 0, 0.5, 1],
                           [0.5, 0.5, 0, 1], [0.5, 0, 0, 1], [0, 0, 0.5, 1], [0, 1, 1, 1], [1, 0, 1, 1]])


def ref_draw_bounding_boxes(images, boxes, colors=None):
    """TF's DrawBoundingBoxesOp, box by box and line by line."""
    out = images.copy()
    n, h, w, d = images.shape
    if colors is None or np.size(colors) == 0:  # TF's default table (all white for one channel)
        table = DEFAULT_COLORS[:, :d] if d > 1 else np.ones((10, 1))
    else:
        table = np.asarray(colors, np.float32)[:, :d]
    for b in range(n):
        for i, box in enumerate(boxes[b]):
            color = table[i % len(table)]
            r0, c0, r1, c1 = (int(np.float32(v) * np.float32(s - 1)) for v, s in zip(box, (h, w, h, w)))
            if r0 > r1 or c0 > c1 or r0 >= h or r1 < 0 or c0 >= w or c1 < 0:
                continue
            r0c, r1c, c0c, c1c = max(r0, 0), min(r1, h - 1), max(c0, 0), min(c1, w - 1)
            if r0 >= 0:
                out[b, r0, c0c:c1c + 1] = color
            if r1 < h:
                out[b, r1, c0c:c1c + 1] = color
            if c0 >= 0:
                out[b, r0c:r1c + 1, c0] = color
            if c1 < w:
                out[b, r0c:r1c + 1, c1] = color
    return out


# ----------------------------------------------------------------- the harness
def crop_and_resize_case(name, size, method="bilinear", ext=0.0, indices=(0, 1, 1, 0), box_diff=True):
    def fn(img, bx):
        return tl.image.crop_and_resize(img, bx, tl.constant(list(indices)), size, method=method,
                                        extrapolation_value=ext)

    def ref(img, bx):
        return ref_crop_and_resize(img, bx, list(indices), size, method, ext)
    return Case(name, fn, ref, [S((2, 5, 6, 3)), S((len(indices), 4), low=-0.3, high=1.3, diff=box_diff)],
                second=box_diff)


def rot(k):
    return Case(f"rot90_k{k}", lambda x: tl.image.rot90(x, k), lambda x: np.rot90(x, k, axes=(-3, -2)),
                [S((2, 3, 5, 2))])


CASES = [
    rot(1), rot(2), rot(3), rot(-1), rot(6),
    Case("rot90_unbatched", lambda x: tl.image.rot90(x), lambda x: np.rot90(x, 1, axes=(0, 1)), [S((3, 4, 2))]),
    Case("transpose", tl.image.transpose, lambda x: np.swapaxes(x, -3, -2), [S((2, 3, 5, 2))]),
    Case("crop_to_bounding_box", lambda x: tl.image.crop_to_bounding_box(x, 1, 2, 3, 2),
         lambda x: x[..., 1:4, 2:4, :], [S((2, 5, 6, 3))]),
    Case("pad_to_bounding_box", lambda x: tl.image.pad_to_bounding_box(x, 2, 1, 7, 5),
         lambda x: np.pad(x, [(2, 2), (1, 1), (0, 0)]), [S((3, 3, 2))]),
    Case("resize_with_crop_or_pad_crop", lambda x: tl.image.resize_with_crop_or_pad(x, 3, 2),
         lambda x: ref_crop_or_pad(x, 3, 2), [S((2, 6, 5, 2))]),
    Case("resize_with_crop_or_pad_mixed", lambda x: tl.image.resize_with_crop_or_pad(x, 8, 3),
         lambda x: ref_crop_or_pad(x, 8, 3), [S((5, 6, 2))]),
    Case("resize_with_pad_wide", lambda x: tl.image.resize_with_pad(x, 7, 9), lambda x: ref_resize_with_pad(x, 7, 9),
         [S((2, 5, 4, 3))]),
    Case("resize_with_pad_tall", lambda x: tl.image.resize_with_pad(x, 9, 4), lambda x: ref_resize_with_pad(x, 9, 4),
         [S((3, 7, 2))]),
    crop_and_resize_case("crop_and_resize_bilinear", [3, 4]),
    crop_and_resize_case("crop_and_resize_one_row_and_column", [1, 1], ext=-0.5),
    crop_and_resize_case("crop_and_resize_upsample", [7, 9], ext=2.5, indices=(1, 0, 1)),
    crop_and_resize_case("crop_and_resize_nearest", [4, 3], method="nearest", box_diff=False),
]


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU vs CPU


# ----------------------------------------------------------------- TF's documented values
def test_tf_documented_values():
    a = tl.constant([[[1], [2]], [[3], [4]]])
    np.testing.assert_array_equal(tl.image.rot90(a)[..., 0].numpy(), [[2, 4], [1, 3]])
    np.testing.assert_array_equal(tl.image.rot90(a, k=3)[..., 0].numpy(), [[3, 1], [4, 2]])
    x = tl.constant([[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], [[7.0, 8.0, 9.0], [10.0, 11.0, 12.0]]])
    np.testing.assert_array_equal(tl.image.transpose(x).numpy(), [[[1, 2, 3], [7, 8, 9]], [[4, 5, 6], [10, 11, 12]]])
    ints = tl.constant([[[1, 2], [3, 4]], [[5, 6], [7, 8]], [[9, 10], [11, 12]]])
    t = tl.image.transpose(ints)
    assert t.dtype == tl.int32 and t.shape == (2, 3, 2)
    np.testing.assert_array_equal(t.numpy(), [[[1, 2], [5, 6], [9, 10]], [[3, 4], [7, 8], [11, 12]]])
    padded = tl.image.pad_to_bounding_box(x, 1, 1, 4, 4).numpy()
    assert padded.shape == (4, 4, 3) and padded.sum() == 78
    np.testing.assert_array_equal(padded[1:3, 1:3], x.numpy())
    image = tl.constant(np.arange(1, 28, dtype=np.float32).reshape(3, 3, 3))
    np.testing.assert_array_equal(tl.image.crop_to_bounding_box(image, 0, 0, 2, 2)[..., 0].numpy(), [[1, 4], [10, 13]])
    five = tl.constant(np.arange(75).reshape(5, 5, 3))
    np.testing.assert_array_equal(tl.image.resize_with_crop_or_pad(five, 3, 3)[..., 0].numpy(),
                                  [[18, 21, 24], [33, 36, 39], [48, 51, 54]])
    three = tl.constant(np.arange(1, 28).reshape(3, 3, 3))
    np.testing.assert_array_equal(tl.image.resize_with_crop_or_pad(three, 5, 5)[..., 0].numpy(),
                                  [[0, 0, 0, 0, 0], [0, 1, 4, 7, 0], [0, 10, 13, 16, 0], [0, 19, 22, 25, 0],
                                   [0, 0, 0, 0, 0]])
    drawn = tl.image.draw_bounding_boxes(tl.zeros([1, 3, 3, 3]), np.array([0, 0, 1, 1]).reshape([1, 1, 4]),
                                         np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    red = [1.0, 0.0, 0.0]
    np.testing.assert_array_equal(drawn.numpy(), [[[red, red, red], [red, [0, 0, 0], red], [red, red, red]]])


# ----------------------------------------------------------------- more shapes, dtypes and edge cases
@pytest.mark.parametrize("h,w,th,tw", [(5, 5, 3, 3), (4, 7, 4, 7), (3, 8, 6, 2), (1, 1, 4, 5), (9, 2, 1, 1)])
def test_resize_with_crop_or_pad_sizes(rng, h, w, th, tw):
    x = rng.uniform(0.5, 2.0, size=(2, h, w, 3))
    np.testing.assert_array_equal(tl.image.resize_with_crop_or_pad(x, th, tw).numpy(), ref_crop_or_pad(x, th, tw))
    np.testing.assert_array_equal(tl.image.resize_with_crop_or_pad(x[0], th, tw).numpy(),
                                  ref_crop_or_pad(x[0], th, tw))


@pytest.mark.parametrize("h,w,th,tw", [(4, 8, 8, 8), (8, 4, 8, 8), (7, 3, 5, 11), (10, 10, 4, 4), (3, 9, 6, 5)])
def test_resize_with_pad_sizes_and_methods(rng, h, w, th, tw):
    x = rng.uniform(0.5, 2.0, size=(h, w, 2))
    np.testing.assert_allclose(tl.image.resize_with_pad(x, th, tw).numpy(), ref_resize_with_pad(x, th, tw),
                               rtol=1e-12, atol=1e-12)
    got = tl.image.resize_with_pad(x, th, tw, method="nearest").numpy()
    np.testing.assert_array_equal(got, ref_resize_with_pad(x, th, tw, resize=ref_resize_nearest))
    ints = tl.image.resize_with_pad(tl.constant((x * 100).astype(np.uint8)), th, tw)
    assert ints.dtype == tl.float32  # bilinear output is float, as in TF


def test_crop_and_resize_edge_cases(rng):
    img = rng.uniform(0.5, 2.0, size=(3, 4, 5, 2))
    boxes = np.array([[0.1, 0.9, 0.8, 0.2], [0.5, 0.5, 0.5, 0.5], [-2.0, -2.0, -1.0, -1.0], [0, 0, 1, 1]])
    ind = [2, 0, 1, 1]
    for method in ("bilinear", "nearest"):  # flipped, degenerate, all outside, the whole image
        got = tl.image.crop_and_resize(img, boxes, ind, [3, 4], method=method, extrapolation_value=7.0)
        np.testing.assert_allclose(got.numpy(), ref_crop_and_resize(img, boxes, ind, (3, 4), method, 7.0), rtol=1e-12)
    whole = tl.image.crop_and_resize(img, [[0, 0, 1, 1]], [1], [4, 5]).numpy()
    np.testing.assert_allclose(whole[0], img[1], rtol=1e-12)
    u8 = tl.image.crop_and_resize(tl.constant((img * 100).astype(np.uint8)), boxes, ind, [2, 2])
    assert u8.dtype == tl.float32
    np.testing.assert_allclose(u8.numpy(), ref_crop_and_resize((img * 100).astype(np.uint8).astype(np.float64),
                                                               boxes, ind, (2, 2)), rtol=1e-6)
    empty = tl.image.crop_and_resize(img, tl.zeros([0, 4], tl.float64), tl.zeros([0], tl.int32), [2, 3])
    assert empty.shape == (0, 2, 3, 2)


def test_crop_and_resize_gradient_matches_tf_box_gradient(rng):
    """TF's CropAndResizeGradBoxes formula: d out / d y1 = image_grad_y * (h - 1 - y * (h - 1) / (ch - 1))."""
    img = rng.uniform(0.5, 2.0, size=(1, 6, 7, 1))
    box = np.array([[0.13, 0.21, 0.77, 0.69]])
    ch, cw = 4, 3
    g = rng.uniform(0.5, 1.5, size=(1, ch, cw, 1))
    bt = tl.constant(box)
    with tl.GradientTape() as tape:
        tape.watch(bt)
        y = tl.reduce_sum(tl.image.crop_and_resize(img, bt, [0], [ch, cw]) * g)
    got = tape.gradient(y, bt).numpy()[0]
    want = np.zeros(4)
    h, w = 6, 7
    for yy in range(ch):
        in_y = box[0, 0] * (h - 1) + yy * (box[0, 2] - box[0, 0]) * (h - 1) / (ch - 1)
        t, yl = int(np.floor(in_y)), in_y - np.floor(in_y)
        for xx in range(cw):
            in_x = box[0, 1] * (w - 1) + xx * (box[0, 3] - box[0, 1]) * (w - 1) / (cw - 1)
            lft, xl = int(np.floor(in_x)), in_x - np.floor(in_x)
            tl_, tr = img[0, t, lft, 0], img[0, t, lft + 1, 0]
            bl, br = img[0, t + 1, lft, 0], img[0, t + 1, lft + 1, 0]
            gy = ((1 - xl) * (bl - tl_) + xl * (br - tr)) * g[0, yy, xx, 0]
            gx = ((1 - yl) * (tr - tl_) + yl * (br - bl)) * g[0, yy, xx, 0]
            want += [gy * (h - 1 - yy * (h - 1) / (ch - 1)), gx * (w - 1 - xx * (w - 1) / (cw - 1)),
                     gy * yy * (h - 1) / (ch - 1), gx * xx * (w - 1) / (cw - 1)]
    np.testing.assert_allclose(got, want, rtol=1e-10)


@pytest.mark.parametrize("depth,colors", [(3, None), (4, None), (1, None), (3, "given"), (1, "given"), (3, "empty")])
def test_draw_bounding_boxes_matches_tf_kernel(rng, depth, colors):
    images = rng.uniform(0.2, 0.8, size=(2, 7, 9, depth))
    # Random boxes, partly outside, inverted, tiny, and overlapping (later boxes draw over earlier ones).
    boxes = rng.uniform(-0.3, 1.3, size=(2, 14, 4))
    boxes[:, :3] = [[0.1, 0.1, 0.9, 0.9], [0.8, 0.2, 0.3, 0.9], [0.5, 0.5, 0.5, 0.5]]
    boxes[0, 3] = [-2.0, -2.0, -1.5, -1.5]
    table = {None: None, "given": rng.uniform(0, 1, size=(3, 4)), "empty": np.zeros((0, 4))}[colors]
    got = tl.image.draw_bounding_boxes(images, boxes, table)
    assert got.dtype == tl.float64
    np.testing.assert_array_equal(got.numpy(), ref_draw_bounding_boxes(images, boxes, table))
    f16 = tl.image.draw_bounding_boxes(tl.constant(images.astype(np.float16)), boxes, table)
    assert f16.dtype == tl.float16


def test_stateless_random_crop_and_flips_depend_on_the_seed_alone(rng):
    x = tl.constant(rng.uniform(0.5, 2.0, size=(6, 7, 8, 3)))
    crop = tl.image.stateless_random_crop(x, [6, 4, 5, 3], seed=(3, 4))
    tl.random.uniform([5])  # other draws in between change nothing
    np.testing.assert_array_equal(tl.image.stateless_random_crop(x, [6, 4, 5, 3], seed=tl.constant([3, 4])).numpy(),
                                  crop.numpy())
    u = tl.random.stateless_uniform([4], seed=(3, 4), minval=0, maxval=2 ** 31 - 1, dtype=tl.int32).numpy()
    off = [int(v) % (n - s + 1) for v, n, s in zip(u, (6, 7, 8, 3), (6, 4, 5, 3))]  # TF's offsets: u % limit
    np.testing.assert_array_equal(crop.numpy(), x.numpy()[:, off[1]:off[1] + 4, off[2]:off[2] + 5])
    crops = {tuple(tl.image.stateless_random_crop(x, [1, 2, 2, 1], seed=(s, 0)).numpy().ravel()) for s in range(8)}
    assert len(crops) > 1
    for op, axis in ((tl.image.stateless_random_flip_left_right, 2), (tl.image.stateless_random_flip_up_down, 1)):
        y = op(x, seed=(5, 6)).numpy()
        coins = tl.random.stateless_uniform([6, 1, 1, 1], seed=(5, 6)).numpy().ravel()
        want = np.where((coins > 0.5)[:, None, None, None], np.flip(x.numpy(), axis), x.numpy())
        np.testing.assert_array_equal(y, want)
        np.testing.assert_array_equal(op(x, seed=(5, 6)).numpy(), y)
        one = op(x[0], seed=(1, 1)).numpy()
        coin = float(tl.random.stateless_uniform([], seed=(1, 1)))
        np.testing.assert_array_equal(one, np.flip(x.numpy()[0], axis - 1) if coin < 0.5 else x.numpy()[0])
    flips = [op(x, seed=(s, 1)).numpy() for s in range(6)]
    assert any(not np.array_equal(flips[0], f) for f in flips[1:])


def test_symbolic_shapes():
    x = tl.keras.Input((6, 8, 3))
    assert tuple(tl.image.rot90(x).shape) == (None, 8, 6, 3)
    assert tuple(tl.image.crop_to_bounding_box(x, 1, 1, 4, 5).shape) == (None, 4, 5, 3)
    assert tuple(tl.image.pad_to_bounding_box(x, 1, 1, 9, 9).shape) == (None, 9, 9, 3)
    assert tuple(tl.image.stateless_random_flip_up_down(x, seed=(1, 2)).shape) == (None, 6, 8, 3)
    assert tuple(tl.image.draw_bounding_boxes(x, tl.keras.Input((2, 4)), None).shape) == (None, 6, 8, 3)


# ----------------------------------------------------------------- errors
def test_errors_name_the_op_the_values_and_the_shape():
    img = tl.zeros([4, 6, 3])
    with pytest.raises(E, match=r"rot90: expected an image of rank 3 or 4 .*got shape \[4,6\]"):
        tl.image.rot90(tl.zeros([4, 6]))
    with pytest.raises(TypeError, match=r"rot90: k must be an integer, got 1.5"):
        tl.image.rot90(img, 1.5)
    with pytest.raises(E, match=r"transpose: expected an image of rank 3 or 4 .*got shape \[1,2,3,4,5\]"):
        tl.image.transpose(tl.zeros([1, 2, 3, 4, 5]))
    with pytest.raises(ValueError, match=r"crop_to_bounding_box: offset_width must be >= 0, got -1 \(image shape "
                                         r"\[4,6,3\]\)"):
        tl.image.crop_to_bounding_box(img, 0, -1, 2, 2)
    with pytest.raises(E, match=r"crop_to_bounding_box: target_height must be > 0, got 0"):
        tl.image.crop_to_bounding_box(img, 0, 0, 0, 2)
    with pytest.raises(E, match=r"crop_to_bounding_box: width must be >= target \+ offset, got width 6, "
                                r"target_width 5 and offset_width 2"):
        tl.image.crop_to_bounding_box(img, 0, 2, 2, 5)
    with pytest.raises(E, match=r"pad_to_bounding_box: height must be <= target - offset, got height 4, "
                                r"target_height 4 and offset_height 1 \(image shape \[4,6,3\]\)"):
        tl.image.pad_to_bounding_box(img, 1, 0, 4, 8)
    with pytest.raises(E, match=r"resize_with_crop_or_pad: target_width must be > 0, got -3"):
        tl.image.resize_with_crop_or_pad(img, 2, -3)
    with pytest.raises(E, match=r"resize_with_pad: the image \(1 x 90\) scaled to fit 3 x 3 would be 0 x 3"):
        tl.image.resize_with_pad(tl.zeros([1, 90, 1]), 3, 3)


def test_crop_and_resize_and_draw_errors():
    img = tl.zeros([2, 4, 4, 3])
    with pytest.raises(E, match=r"crop_and_resize: image must be 4-D \[batch, height, width, depth\], got shape "
                                r"\[4,4,3\]"):
        tl.image.crop_and_resize(tl.zeros([4, 4, 3]), [[0, 0, 1, 1]], [0], [2, 2])
    with pytest.raises(E, match=r"crop_and_resize: boxes must have shape \[num_boxes, 4\], got shape \[1,3\]"):
        tl.image.crop_and_resize(img, [[0, 0, 1]], [0], [2, 2])
    with pytest.raises(E, match=r"crop_and_resize: box_indices must have shape \[num_boxes\] = \[1\], got shape "
                                r"\[2\]"):
        tl.image.crop_and_resize(img, [[0, 0, 1, 1]], [0, 1], [2, 2])
    with pytest.raises(E, match=r"crop_and_resize: crop_size must be \[crop_height, crop_width\], two positive "
                                r"integers, got \[0, 2\]"):
        tl.image.crop_and_resize(img, [[0, 0, 1, 1]], [0], [0, 2])
    with pytest.raises(E, match=r"crop_and_resize: method must be 'bilinear' or 'nearest', got 'bicubic'"):
        tl.image.crop_and_resize(img, [[0, 0, 1, 1]], [0], [2, 2], method="bicubic")
    with pytest.raises(tl.errors.OutOfRangeError, match=r"crop_and_resize: box_indices has values outside \[0, 2\)"):
        tl.image.crop_and_resize(img, [[0, 0, 1, 1]], [2], [2, 2])
    with pytest.raises(E, match=r"crop_and_resize: boxes contains at least one element that is not finite"):
        tl.image.crop_and_resize(img, [[0, 0, float("nan"), 1]], [0], [2, 2])
    with pytest.raises(E, match=r"draw_bounding_boxes: images must have rank 4 .*got shape \[4,4,3\]"):
        tl.image.draw_bounding_boxes(tl.zeros([4, 4, 3]), [[[0, 0, 1, 1]]], None)
    with pytest.raises(E, match=r"draw_bounding_boxes: channel depth should be either 1 \(GRY\), 3 \(RGB\), or 4 "
                                r"\(RGBA\), got shape \[1,4,4,2\]"):
        tl.image.draw_bounding_boxes(tl.zeros([1, 4, 4, 2]), [[[0, 0, 1, 1]]], None)
    with pytest.raises(E, match=r"draw_bounding_boxes: boxes must have shape \[batch, num_boxes, 4\] .*got shape "
                                r"\[2,1,4\] for images of shape \[1,4,4,3\]"):
        tl.image.draw_bounding_boxes(tl.zeros([1, 4, 4, 3]), tl.zeros([2, 1, 4]), None)
    with pytest.raises(E, match=r"draw_bounding_boxes: colors must be a 2-D matrix \[num_colors, >= 3\] .*got shape "
                                r"\[2,2\]"):
        tl.image.draw_bounding_boxes(tl.zeros([1, 4, 4, 3]), tl.zeros([1, 1, 4]), [[1, 0], [0, 1]])
    with pytest.raises(TypeError, match=r"draw_bounding_boxes: images must be float16, .*got uint8"):
        tl.image.draw_bounding_boxes(tl.zeros([1, 4, 4, 3], tl.uint8), tl.zeros([1, 1, 4]), None)
    with pytest.raises(E, match=r"stateless_random_crop: Need value.shape >= size, got shape \[4,4\] and size "
                                r"\[5, 2\]"):
        tl.image.stateless_random_crop(tl.zeros([4, 4]), [5, 2], seed=(1, 2))


# ----------------------------------------------------------------- devices
@pytest.mark.gpu
def test_gpu_results_and_constants_follow_the_images_device(rng):
    img = rng.uniform(0.2, 0.8, size=(2, 6, 7, 3)).astype(np.float32)
    boxes = rng.uniform(-0.2, 1.2, size=(3, 4)).astype(np.float32)
    draw = rng.uniform(-0.2, 1.2, size=(2, 5, 4)).astype(np.float32)

    def run(x, b, d):
        return [tl.image.crop_and_resize(x, b, [0, 1, 1], [4, 5]), tl.image.draw_bounding_boxes(x, d, None),
                tl.image.rot90(x, 3), tl.image.resize_with_pad(x, 9, 5), tl.image.resize_with_crop_or_pad(x, 3, 9),
                tl.image.crop_and_resize(x, b, [1, 0, 1], [2, 3], method="nearest")]
    with tl.device("cpu"):
        ref = [r.numpy() for r in run(tl.constant(img), tl.constant(boxes), tl.constant(draw))]
    with tl.device("gpu:0"):
        xg, bg, dg = tl.constant(img), tl.constant(boxes), tl.constant(draw)
    with tl.device("cpu"):  # the ops' own constants and indices must go to the images' device
        got = run(xg, bg, dg)
        drawn = [tl.image.stateless_random_crop(xg, [2, 3, 3, 3], seed=(1, 2)),
                 tl.image.stateless_random_flip_up_down(xg, seed=(1, 2))]
    for g, r in zip(got, ref):
        assert "GPU" in g.device
        np.testing.assert_allclose(g.numpy(), r, rtol=1e-5, atol=1e-6)
    for d in drawn:  # stateless numbers are per kind of device: only the placement is compared
        assert "GPU" in d.device
