"""tl.image non-maximum suppression against brute-force numpy references: TF's greedy NMS (random boxes with
tied scores, zero-area and inverted boxes), soft-NMS, TF 2's tiled padded NMS transcribed tile by tile, and
combined NMS; IoUs in float32 as TF's kernels compute them."""
import numpy as np
import pytest

import tensorlab as tl

E = tl.errors.InvalidArgumentError
f32 = np.float32


# ----------------------------------------------------------------- references
def tf_iou(a, b):
    """TF's IOU (non_max_suppression_op.cc): corners in any order, 0 for an empty box, float32 arithmetic."""
    a, b = np.asarray(a, f32), np.asarray(b, f32)
    ya0, yb0 = min(a[0], a[2]), min(b[0], b[2])
    xa0, xb0 = min(a[1], a[3]), min(b[1], b[3])
    ya1, yb1 = max(a[0], a[2]), max(b[0], b[2])
    xa1, xb1 = max(a[1], a[3]), max(b[1], b[3])
    area_a, area_b = (ya1 - ya0) * (xa1 - xa0), (yb1 - yb0) * (xb1 - xb0)
    if area_a <= 0 or area_b <= 0:
        return f32(0)
    inter = max(min(ya1, yb1) - max(ya0, yb0), f32(0)) * max(min(xa1, xb1) - max(xa0, xb0), f32(0))
    return inter / (area_a + area_b - inter)


def ref_nms(boxes, scores, max_out, thr=0.5, score_thr=-np.inf):
    """Brute force: visit boxes by (score desc, index asc); keep one unless it overlaps a kept one by > thr."""
    order = sorted((i for i in range(len(scores)) if scores[i] > score_thr), key=lambda i: (-scores[i], i))
    kept = []
    for i in order:
        if len(kept) == max_out:
            break
        if all(tf_iou(boxes[i], boxes[j]) <= f32(thr) for j in kept):
            kept.append(i)
    return kept


def ref_soft_nms(boxes, scores, max_out, sigma, score_thr=-np.inf):
    """Eager soft-NMS: select the best remaining box, decay every other by exp(-iou^2 / (2 sigma)), drop the low."""
    live = {i: float(scores[i]) for i in range(len(scores)) if scores[i] > score_thr}
    kept, kept_scores = [], []
    while live and len(kept) < max_out:
        i = min(live, key=lambda k: (-live[k], k))
        kept.append(i)
        kept_scores.append(live.pop(i))
        for k in list(live):
            live[k] *= np.exp(-0.5 / sigma * float(tf_iou(boxes[i], boxes[k])) ** 2)
            if live[k] <= score_thr:
                del live[k]
    return kept, kept_scores


def overlap_v2(a, b):
    """TF 2's _bbox_overlap: [B, N, 4] x [B, M, 4] -> [B, N, M], float32, epsilon in the union."""
    ay0, ax0, ay1, ax1 = (a[..., k:k + 1] for k in range(4))
    by0, bx0, by1, bx1 = (np.swapaxes(b[..., k:k + 1], 1, 2) for k in range(4))
    inter = np.maximum(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0) * \
        np.maximum(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0)
    union = (ay1 - ay0) * (ax1 - ax0) + (by1 - by0) * (bx1 - bx0) - inter + f32(1e-8)
    return inter / union


def ref_padded(boxes, scores, m, thr=0.5, score_thr=-np.inf, sorted_input=False, canonicalized=False, tile=512):
    """TF 2's non_max_suppression_padded_v2, tile by tile (cross suppression, iterated self suppression)."""
    batch_shape, n = boxes.shape[:-2], boxes.shape[-2]
    boxes = boxes.reshape(-1, n, 4).astype(f32)
    scores = scores.reshape(-1, n).astype(f32)
    bsz = boxes.shape[0]
    if score_thr != -np.inf:
        keep = scores > f32(score_thr)
        scores, boxes = scores * keep, boxes * keep[..., None]
    if not canonicalized:
        cols = [0, 1, 2, 3]
        if not boxes[0, 0, 0] <= boxes[0, 0, 2]:
            cols[0], cols[2] = 2, 0
        if not boxes[0, 0, 1] <= boxes[0, 0, 3]:
            cols[1], cols[3] = 3, 1
        boxes = boxes[..., cols]
    order = np.argsort(-scores, axis=1, kind="stable") if not sorted_input else None
    if order is not None:
        boxes = np.take_along_axis(boxes, order[..., None], 1)
    pad = int(np.ceil(max(n, m) / tile)) * tile - n
    boxes = np.pad(boxes, [(0, 0), (0, pad), (0, 0)])
    total = n + pad
    out_size, idx = np.zeros(bsz, int), 0
    while out_size.min() < m and idx < total // tile:
        cur = boxes[:, idx * tile:(idx + 1) * tile].copy()
        for k in range(idx):
            iou = overlap_v2(boxes[:, k * tile:(k + 1) * tile], cur)
            cur = cur * np.all(iou < f32(thr), axis=1)[..., None]
        iou = overlap_v2(cur, cur)
        iou = iou * (np.triu(np.ones((tile, tile), bool), 1) & (iou >= f32(thr)))
        total_iou, go = iou.sum((1, 2)), True
        while go:
            can = (iou.max(1) < thr)[:, :, None]
            iou = ((can * iou).max(1) < thr)[:, :, None] * iou
            new = iou.sum((1, 2))
            go, total_iou = np.any(total_iou - new > thr), new
        cur = cur * (1 - (iou.sum(1) > 0))[..., None]
        boxes[:, idx * tile:(idx + 1) * tile] = cur
        out_size += np.any(cur > 0, axis=2).sum(1)
        idx += 1
    num_valid = np.minimum(out_size, m)
    flags = np.any(boxes > 0, axis=2) * np.arange(total, 0, -1)[None]
    sel = np.minimum(total - (-np.sort(-flags, axis=1))[:, :m], n - 1)
    if order is not None:
        sel = np.take_along_axis(order, sel, 1)
    sel = np.where(np.arange(m)[None] < num_valid[:, None], sel, 0)
    return sel.reshape(batch_shape + (m,)), num_valid.reshape(batch_shape)


def ref_combined(boxes, scores, per_class, total, thr, score_thr, pad_per_class, clip):
    """TF's CombinedNonMaxSuppression kernel (ties: lower box index per class, then lower class)."""
    bsz, n, q, _ = boxes.shape
    classes = scores.shape[2]
    width = min(total, per_class * classes) if pad_per_class else total
    out_b, out_s, out_c, valid = np.zeros((bsz, width, 4)), np.zeros((bsz, width)), np.zeros((bsz, width)), []
    for b in range(bsz):
        cands = []
        for c in range(classes):
            bx = boxes[b, :, c if q > 1 else 0]
            order = sorted((i for i in range(n) if scores[b, i, c] > f32(score_thr)),
                           key=lambda i: (-scores[b, i, c], i))
            kept = []
            for i in order:
                if len(kept) == min(per_class, n):
                    break
                if all(not tf_iou(bx[i], bx[j]) > f32(thr) for j in kept):
                    kept.append(i)
            cands += [(-scores[b, i, c], c, k, i) for k, i in enumerate(kept)]
        cands = sorted(cands)[:width]
        valid.append(len(cands))
        for r, (s, c, _, i) in enumerate(cands):
            box = boxes[b, i, c if q > 1 else 0]
            out_b[b, r] = np.clip(box, 0, 1) if clip else box
            out_s[b, r], out_c[b, r] = -s, c
    return out_b, out_s, out_c, np.array(valid)


def random_boxes(rng, n, ties=True):
    """Boxes with heavy overlap, some zero-area and inverted; scores with ties when asked."""
    y, x = rng.uniform(0, 1, (2, n))
    h, w = rng.uniform(0.05, 0.5, (2, n))
    boxes = np.stack([y, x, y + h, x + w], 1)
    boxes[::7, 2] = boxes[::7, 0]  # zero height: overlaps nothing
    boxes[3::5] = boxes[3::5][:, [2, 3, 0, 1]]  # corners given the other way round
    scores = rng.integers(0, 6, n) / 5.0 if ties else rng.uniform(0, 1, n)
    return boxes.astype(f32), scores.astype(f32)


# ----------------------------------------------------------------- greedy NMS
@pytest.mark.parametrize("n,max_out,thr,score_thr", [(40, 40, 0.5, -np.inf), (60, 10, 0.3, 0.2), (25, 100, 0.0, 0.4),
                                                     (50, 50, 1.0, -np.inf), (1, 5, 0.5, -np.inf), (30, 0, 0.5, 0.1)])
def test_non_max_suppression_matches_brute_force(rng, n, max_out, thr, score_thr):
    for ties in (True, False):
        boxes, scores = random_boxes(rng, n, ties)
        got = tl.image.non_max_suppression(boxes, scores, max_out, thr, score_thr)
        assert got.dtype == tl.int32
        assert got.numpy().tolist() == ref_nms(boxes, scores, max_out, thr, score_thr)
        idx, sc = tl.image.non_max_suppression_with_scores(boxes, scores, max_out, thr, score_thr)
        assert idx.numpy().tolist() == got.numpy().tolist()
        np.testing.assert_array_equal(sc.numpy(), scores[got.numpy()])
        padded = tl.image.non_max_suppression_padded(boxes, scores, max_out, max(thr, 0.01), score_thr,
                                                     pad_to_max_output_size=True)
        want = ref_padded(boxes, scores, max_out, max(thr, 0.01), score_thr)
        np.testing.assert_array_equal(padded[0].numpy(), want[0])
        assert int(padded[1]) == int(want[1])


def test_non_max_suppression_known_cases():
    boxes = [[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, -0.1, 1, 0.9], [0, 10, 1, 11], [0, 10.1, 1, 11.1], [0, 100, 1, 101]]
    scores = [0.9, 0.75, 0.6, 0.95, 0.5, 0.3]
    np.testing.assert_array_equal(tl.image.non_max_suppression(boxes, scores, 3, 0.5).numpy(), [3, 0, 5])
    np.testing.assert_array_equal(tl.image.non_max_suppression(boxes, scores, 2, 0.5).numpy(), [3, 0])
    np.testing.assert_array_equal(tl.image.non_max_suppression(boxes, scores, 3, 0.5, 0.4).numpy(), [3, 0])
    empty = tl.image.non_max_suppression(tl.zeros([0, 4]), tl.zeros([0]), 3)
    assert empty.shape == (0,) and empty.dtype == tl.int32
    # An IoU exactly at the threshold does not suppress in TF's greedy NMS, but does in the tiled padded one.
    half = [[0, 0, 1, 2], [0, 1, 1, 3]]  # IoU 1/3
    np.testing.assert_array_equal(tl.image.non_max_suppression(half, [0.9, 0.8], 2, 1 / 3).numpy(), [0, 1])
    assert int(tl.image.non_max_suppression_padded(half, [0.9, 0.8], 2, 1 / 3)[1]) == 1


@pytest.mark.parametrize("sigma,score_thr", [(0.5, -np.inf), (0.1, 0.3), (1.0, 0.05)])
def test_soft_nms_matches_the_eager_reference(rng, sigma, score_thr):
    boxes, scores = random_boxes(rng, 30, ties=False)
    idx, sc = tl.image.non_max_suppression_with_scores(boxes, scores, 20, 0.5, score_thr, soft_nms_sigma=sigma)
    want_idx, want_sc = ref_soft_nms(boxes, scores, 20, sigma, score_thr)
    assert idx.numpy().tolist() == want_idx
    assert sc.dtype == tl.float32
    np.testing.assert_allclose(sc.numpy(), want_sc, rtol=1e-5)
    # The example of TF's docs: the second box survives with a lowered score.
    i2, s2 = tl.image.non_max_suppression_with_scores([[0, 0, 1, 1], [0, 0.1, 1, 1.1]], [0.9, 0.8], 2,
                                                      soft_nms_sigma=0.5)
    iou = 0.9 / 1.1
    np.testing.assert_array_equal(i2.numpy(), [0, 1])
    np.testing.assert_allclose(s2.numpy(), [0.9, 0.8 * np.exp(-iou ** 2)], rtol=1e-6)


# ----------------------------------------------------------------- padded (tiled) NMS
@pytest.mark.parametrize("tile,thr,score_thr,sorted_input", [(4, 0.5, -np.inf, False), (3, 0.3, 0.3, False),
                                                             (512, 0.6, 0.1, False), (5, 0.5, -np.inf, True)])
def test_padded_matches_the_tiled_algorithm(rng, tile, thr, score_thr, sorted_input):
    boxes = np.stack([random_boxes(rng, 13)[0] for _ in range(6)]).reshape(2, 3, 13, 4)
    boxes[0, 1, :, :] -= 0.6  # boxes with no positive coordinate suppress but are not output
    scores = rng.integers(0, 6, (2, 3, 13)).astype(f32) / 5
    if sorted_input:
        scores = -np.sort(-scores, axis=-1)
    for m in (4, 13, 20):
        idx, nv = tl.image.non_max_suppression_padded(boxes, scores, m, thr, score_thr, pad_to_max_output_size=True,
                                                      sorted_input=sorted_input, tile_size=tile)
        want_idx, want_nv = ref_padded(boxes, scores, m, thr, score_thr, sorted_input, tile=tile)
        assert idx.shape == (2, 3, m) and nv.shape == (2, 3) and idx.dtype == tl.int32
        np.testing.assert_array_equal(idx.numpy(), want_idx)
        np.testing.assert_array_equal(nv.numpy(), want_nv)
    single, n1 = tl.image.non_max_suppression_padded(boxes[1, 2], scores[1, 2], 6, thr, score_thr,
                                                     sorted_input=sorted_input, tile_size=tile)
    want_idx, want_nv = ref_padded(boxes[1, 2], scores[1, 2], 6, thr, score_thr, sorted_input, tile=tile)
    np.testing.assert_array_equal(single.numpy(), want_idx[:int(want_nv)])
    assert n1.shape == () and int(n1) == int(want_nv)


def test_padded_corner_order_comes_from_the_first_box(rng):
    boxes, scores = random_boxes(rng, 12, ties=False)
    flipped = boxes[:, [2, 3, 0, 1]].copy()
    flipped[0] = [0.9, 0.8, 0.1, 0.2]  # the first box decides the order for all: y2 < y1, x2 < x1
    for b in (boxes, flipped):
        for canon in (False, True):
            got = tl.image.non_max_suppression_padded(b, scores, 8, 0.4, pad_to_max_output_size=True,
                                                      canonicalized_coordinates=canon)
            want = ref_padded(b, scores, 8, 0.4, canonicalized=canon)
            np.testing.assert_array_equal(got[0].numpy(), want[0])


# ----------------------------------------------------------------- combined NMS
@pytest.mark.parametrize("q,pad_per_class,clip", [(1, False, True), (3, True, False), (3, False, True),
                                                   (1, True, False)])
def test_combined_nms_matches_the_kernel(rng, q, pad_per_class, clip):
    bsz, n, classes = 2, 15, 3
    base = np.stack([random_boxes(rng, n)[0] for _ in range(bsz * q)]).reshape(bsz, q, n, 4).transpose(0, 2, 1, 3)
    boxes = (base * 1.4 - 0.2).astype(f32)  # some coordinates outside [0, 1]: clipped on output
    scores = rng.uniform(0, 1, (bsz, n, classes)).astype(f32)
    for per_class, total, score_thr in ((4, 7, 0.2), (20, 100, -np.inf), (2, 3, 0.5)):
        got = tl.image.combined_non_max_suppression(boxes, scores, per_class, total, 0.45, score_thr,
                                                    pad_per_class=pad_per_class, clip_boxes=clip)
        want = ref_combined(boxes, scores, per_class, total, 0.45, score_thr, pad_per_class, clip)
        for g, w, name in zip(got, want, ("boxes", "scores", "classes", "valid_detections")):
            assert g.shape == w.shape, name
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-6, err_msg=name)
        assert got[3].dtype == tl.int32 and got[0].dtype == tl.float32


def test_symbolic_shapes():
    boxes, scores = tl.keras.Input((4,)), tl.keras.Input(())
    idx = tl.image.non_max_suppression(boxes, scores, 5)  # an unknown number of boxes is selected
    assert tuple(idx.shape) == (None,) and idx.dtype == tl.int32
    padded, nv = tl.image.non_max_suppression_padded(tl.keras.Input((7, 4)), tl.keras.Input((7,)), 5,
                                                     pad_to_max_output_size=True)
    assert tuple(padded.shape) == (None, 5) and tuple(nv.shape) == (None,)
    out = tl.image.combined_non_max_suppression(tl.keras.Input((7, 1, 4)), tl.keras.Input((7, 3)), 2, 4)
    assert [tuple(o.shape) for o in out] == [(None, 4, 4), (None, 4), (None, 4), (None,)]


# ----------------------------------------------------------------- errors
def test_errors_name_the_op_and_the_shapes():
    b, s = tl.zeros([3, 4]), tl.zeros([3])
    with pytest.raises(E, match=r"non_max_suppression: boxes must have shape \[num_boxes, 4\], got shape \[3,5\]"):
        tl.image.non_max_suppression(tl.zeros([3, 5]), s, 2)
    with pytest.raises(E, match=r"non_max_suppression: scores must have shape \[num_boxes\] = \[3\], got shape \[4\]"):
        tl.image.non_max_suppression(b, tl.zeros([4]), 2)
    with pytest.raises(E, match=r"non_max_suppression: iou_threshold must be in \[0, 1\], got 1.5"):
        tl.image.non_max_suppression(b, s, 2, 1.5)
    with pytest.raises(E, match=r"non_max_suppression: max_output_size must be non-negative, got -1"):
        tl.image.non_max_suppression(b, s, -1)
    with pytest.raises(E, match=r"non_max_suppression: max_output_size must be an integer scalar, got a int32 "
                                r"tensor of shape \[2\]"):
        tl.image.non_max_suppression(b, s, tl.constant([1, 2]))
    with pytest.raises(TypeError, match=r"non_max_suppression: scores must be float16, float32 or float64, got int32"):
        tl.image.non_max_suppression(b, tl.zeros([3], tl.int32), 2)
    with pytest.raises(E, match=r"non_max_suppression_with_scores: soft_nms_sigma must be >= 0, got -0.5"):
        tl.image.non_max_suppression_with_scores(b, s, 2, soft_nms_sigma=-0.5)
    with pytest.raises(E, match=r"non_max_suppression_padded: 'pad_to_max_output_size' \(value False\) must be True "
                                r"for batched input \(boxes of shape \[2,3,4\]\)"):
        tl.image.non_max_suppression_padded(tl.zeros([2, 3, 4]), tl.zeros([2, 3]), 2)
    with pytest.raises(E, match=r"non_max_suppression_padded: boxes must be \[..., num_boxes, 4\] and scores "
                                r"\[..., num_boxes\], got shapes \[3,4\] and \[2\]"):
        tl.image.non_max_suppression_padded(b, tl.zeros([2]), 2)
    with pytest.raises(E, match=r"non_max_suppression_padded: iou_threshold must be in \(0, 1\]"):
        tl.image.non_max_suppression_padded(b, s, 2, 0.0)
    with pytest.raises(E, match=r"combined_non_max_suppression: boxes must be \[batch, num_boxes, q, 4\] .*got shapes "
                                r"\[1,3,2,4\] and \[1,3,3\]"):
        tl.image.combined_non_max_suppression(tl.zeros([1, 3, 2, 4]), tl.zeros([1, 3, 3]), 2, 4)
    with pytest.raises(E, match=r"combined_non_max_suppression: max_output_size_per_class and max_total_size must be "
                                r"positive, got 0 and 4"):
        tl.image.combined_non_max_suppression(tl.zeros([1, 3, 1, 4]), tl.zeros([1, 3, 3]), 0, 4)


# ----------------------------------------------------------------- devices
@pytest.mark.gpu
def test_gpu_results_match_cpu(rng):
    boxes, scores = random_boxes(rng, 40)
    batch = np.stack([random_boxes(rng, 9)[0] for _ in range(6)]).reshape(2, 9, 3, 4)

    def run(b, s, bb, ss):
        return [tl.image.non_max_suppression(b, s, 15, 0.4, 0.1),
                tl.image.non_max_suppression_with_scores(b, s, 15, 0.4, soft_nms_sigma=0.3)[1],
                tl.image.non_max_suppression_padded(b, s, 12, 0.4, pad_to_max_output_size=True)[0],
                tl.image.combined_non_max_suppression(bb, ss, 3, 5)[1]]
    with tl.device("cpu"):
        ref = [r.numpy() for r in run(tl.constant(boxes), tl.constant(scores), tl.constant(batch),
                                      tl.constant(np.abs(batch[..., 0])))]
    with tl.device("gpu:0"):
        args = [tl.constant(v) for v in (boxes, scores, batch, np.abs(batch[..., 0]))]
    with tl.device("cpu"):  # indices and constants are made on the boxes' device
        got = run(*args)
    for g, r in zip(got, ref):
        assert "GPU" in g.device
        np.testing.assert_allclose(g.numpy(), r, rtol=1e-6)
