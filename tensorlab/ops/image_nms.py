"""Non-maximum suppression (``tl.image``): ``non_max_suppression``, ``non_max_suppression_with_scores`` (soft-NMS),
``non_max_suppression_padded`` and ``combined_non_max_suppression``, with TF's results.

Greedy NMS is sequential, so these ops synchronize with the host: the
intersection-over-union rows, the suppression masks and the choice of the next
box are computed on the boxes' device, and one small read-back per selected box
(per selection round for batches) tells the loop which box was chosen and when
to stop. Soft-NMS runs TF's priority-queue loop on the host over the scores and
the IoU rows of the selected boxes, with the arithmetic rounded to the scores'
precision as TF's kernel. The outputs (int32 indices as in TF) are not differentiable;
boxes with NaN coordinates are not supported. Each op runs as one registry ``composite``,
so a Functional model records it as one node (its static shape has None for the
number of selected boxes where that depends on the values) and replays it on data.
"""
import heapq
import math
import struct

from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import creation as _cr
from tensorlab.ops import elementwise as _ew
from tensorlab.ops import indexing as _ix
from tensorlab.ops import reduction as _red
from tensorlab.ops import shape as _sh
from tensorlab.ops import sorting as _sort
from tensorlab.ops._rules import FLOATS, fmt, t
from tensorlab.ops.image import _on_device_of
from tensorlab.ops.image_geometry import _int_arg

_NMS_DTYPES = (dt.float16, dt.float32, dt.float64)


# ----------------------------------------------------------------- arguments
def _as_tensor(value, like=None, dtype=dt.float32):
    """A tensor; Python values go to ``like``'s device (the current one without ``like``)."""
    if isinstance(value, (Tensor, Variable, SymbolicTensor)):
        return t(value)
    if like is None:
        return _cr.constant(value, dtype)
    with _on_device_of(like):
        return _cr.constant(value, dtype)


def _float_arg(op, name, value):
    if isinstance(value, (Tensor, Variable)):
        if value.ndim != 0:
            raise InvalidArgumentError(f"{op}: {name} must be 0-D, got shape {fmt(value.shape)}")
        value = value.numpy().item()
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be a number or a scalar tensor, got {value!r}") from None


def _check_boxes(op, boxes, scores):
    """``boxes [num_boxes, 4]`` and ``scores [num_boxes]`` (float16/32/64) as tensors on the boxes' device."""
    b = _as_tensor(boxes)
    s = _as_tensor(scores, like=b)
    if b.ndim != 2 or b.shape[1] != 4:
        raise InvalidArgumentError(f"{op}: boxes must have shape [num_boxes, 4], got shape {fmt(b.shape)}")
    if s.ndim != 1 or s.shape[0] != b.shape[0]:
        raise InvalidArgumentError(f"{op}: scores must have shape [num_boxes] = [{b.shape[0]}], got shape "
                                   f"{fmt(s.shape)}")
    for what, v in (("boxes", b), ("scores", s)):
        if v.dtype not in _NMS_DTYPES:
            raise TypeError(f"{op}: {what} must be float16, float32 or float64, got {v.dtype.name}")
    return b, s


def _check_limits(op, max_output_size, iou_threshold):
    m = _int_arg(op, "max_output_size", max_output_size)
    if m < 0:
        raise InvalidArgumentError(f"{op}: max_output_size must be non-negative, got {m}")
    thr = _float_arg(op, "iou_threshold", iou_threshold)
    if not 0.0 <= thr <= 1.0:
        raise InvalidArgumentError(f"{op}: iou_threshold must be in [0, 1], got {thr}")
    return m, thr


# ----------------------------------------------------------------- IoU
def _iou_dtype(boxes):
    return dt.float64 if boxes.dtype == dt.float64 else dt.float32  # TF computes IoU in float


def _canonical(b):
    """TF's kernels' corner order: ``(ymin, xmin, ymax, xmax)`` and the area, for ``b [..., 4]``."""
    y1, x1, y2, x2 = _sh.unstack(b, num=4, axis=-1)
    ymin, xmin, ymax, xmax = _ew.minimum(y1, y2), _ew.minimum(x1, x2), _ew.maximum(y1, y2), _ew.maximum(x1, x2)
    return (ymin, xmin, ymax, xmax), _ew.multiply(_ew.subtract(ymax, ymin), _ew.subtract(xmax, xmin))


def _iou_rows(corners, area, pos):
    """TF's ``IOU`` between the box at ``pos[p]`` of each row ``p`` and every box of that row: ``[P, N]``."""
    sel = [_sh.expand_dims(_ix.gather(c, pos, axis=1, batch_dims=1), 1) for c in corners + (area,)]
    iy0, ix0 = _ew.maximum(sel[0], corners[0]), _ew.maximum(sel[1], corners[1])
    iy1, ix1 = _ew.minimum(sel[2], corners[2]), _ew.minimum(sel[3], corners[3])
    inter = _ew.multiply(_ew.maximum(_ew.subtract(iy1, iy0), 0.0), _ew.maximum(_ew.subtract(ix1, ix0), 0.0))
    empty = _ew.logical_or(_ew.less_equal(sel[4], 0.0), _ew.less_equal(area, 0.0))
    union = _ew.subtract(_ew.add(area, sel[4]), inter)
    return _ew.where(empty, 0.0, _ew.truediv(inter, _ew.where(empty, 1.0, union)))


def _overlap_rows(corners, area, pos):
    """``_bbox_overlap`` of TF's tiled NMS (no per-box canonicalization, ``1e-8`` added to the union)."""
    sel = [_sh.expand_dims(_ix.gather(c, pos, axis=1, batch_dims=1), 1) for c in corners + (area,)]
    ix0, ix1 = _ew.maximum(sel[1], corners[1]), _ew.minimum(sel[3], corners[3])
    iy0, iy1 = _ew.maximum(sel[0], corners[0]), _ew.minimum(sel[2], corners[2])
    inter = _ew.multiply(_ew.maximum(_ew.subtract(ix1, ix0), 0.0), _ew.maximum(_ew.subtract(iy1, iy0), 0.0))
    return _ew.truediv(inter, _ew.add(_ew.subtract(_ew.add(sel[4], area), inter), 1e-8))


# ----------------------------------------------------------------- the greedy loop
def _plain(b):
    """The corners as given and the (possibly negative) area: the tiled algorithm's geometry."""
    y0, x0, y1, x1 = _sh.unstack(b, num=4, axis=-1)
    return (y0, x0, y1, x1), _ew.multiply(_ew.subtract(y1, y0), _ew.subtract(x1, x0))


def _greedy(boxes, scores, valid, limit, geometry, rows, suppresses, counts=None):
    """Greedy NMS of ``P`` independent problems: ``boxes [P, N, 4]`` (in IoU precision), ``scores [P, N]``.

    Visits the ``valid`` boxes of each row in descending score order (ties:
    lower index first); the first box not yet suppressed is selected and
    suppresses the later boxes where ``suppresses(rows(...))``. A row stops
    after ``limit`` selections (of those ``counts`` marks, when given).

    Returns, per row, a list of (selected index, whether it counts).
    """
    p, n = scores.shape
    order = _sort.argsort(scores, axis=1, direction="DESCENDING")  # stable: ties keep the lower index first
    corners, area = geometry(_ix.gather(boxes, order, axis=1, batch_dims=1))
    alive = _ix.gather(valid, order, axis=1, batch_dims=1)
    with _on_device_of(scores):
        positions = _sh.reshape(_cr.range(n), [1, n])
        count = _cr.zeros([p], dt.int32)
    picked = [[] for _ in range(p)]
    for _ in range(n):  # each round removes at least the selected box of every active row
        flags = _ew.cast(alive, dt.int32)
        at = _ew.cast(_red.argmax(flags, axis=1), dt.int32)  # the first box left in each row
        active = _ew.logical_and(_ew.greater(_red.reduce_max(flags, axis=1), 0), _ew.less(count, limit))
        step = active if counts is None else _ew.logical_and(active, counts(corners, at))
        # The one read-back per round: which box each row selects, and whether it is done.
        state = _sh.stack([at, _ew.cast(active, dt.int32), _ew.cast(step, dt.int32)]).numpy().tolist()
        if not any(state[1]):
            break
        for r in range(p):
            if state[1][r]:
                picked[r].append((state[0][r], bool(state[2][r])))
        kill = _ew.logical_or(suppresses(rows(corners, area, at)), _ew.less_equal(positions, _sh.expand_dims(at, 1)))
        alive = _ew.logical_and(_ew.logical_and(alive, _ew.logical_not(kill)), _sh.expand_dims(active, 1))
        count = _ew.add(count, _ew.cast(step, dt.int32))
    order = order.numpy().tolist()
    return [[(order[r][i], c) for i, c in row] for r, row in enumerate(picked)]


def _hard(b, s, m, thr, score_threshold):
    """TF's hard NMS (``DoNonMaxSuppressionOp`` with sigma 0) of one image: the selected indices."""
    if m == 0 or b.shape[0] == 0:
        return []
    with _on_device_of(s):
        valid = _ew.greater(s, _cr.constant(score_threshold, s.dtype))
        limit = _cr.constant(m, dt.int32)
    picked = _greedy(_sh.expand_dims(_ew.cast(b, _iou_dtype(b)), 0), _sh.expand_dims(s, 0), _sh.expand_dims(valid, 0),
                     limit, _canonical, _iou_rows, lambda iou: _ew.greater(iou, thr))
    return [i for i, _ in picked[0]]


def _indices(like, values, dtype=dt.int32):
    with _on_device_of(like):
        return _cr.constant(values, dtype) if values else _cr.zeros([0], dtype)


def non_max_suppression(boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
                        name=None):
    """Greedily selects boxes in descending score order, pruning those that overlap a selected one.

    A box is dropped when its IoU with an already selected box exceeds
    ``iou_threshold``; boxes scoring ``<= score_threshold`` are never
    selected. Ties in score go to the lower index. As
    ``tf.image.non_max_suppression`` (box corners in any order; boxes of zero
    area overlap nothing). Reads one flag back per selected box.

    Args:
      boxes: ``[num_boxes, 4]`` as ``[y1, x1, y2, x2]``.
      scores: ``[num_boxes]``.
      max_output_size: the most boxes to select (an int or int scalar tensor).
      iou_threshold: in ``[0, 1]``.
      score_threshold: a float.

    Returns:
      int32 ``[M]``, ``M <= max_output_size``: the selected indices, by decreasing score.

    Example:
      >>> boxes = [[0, 0, 1, 1], [0, 0.1, 1, 1.1], [0, 2, 1, 3]]
      >>> tl.image.non_max_suppression(boxes, [0.9, 0.8, 0.7], 3).numpy()
      array([0, 2], dtype=int32)
    """
    op = "non_max_suppression"
    b, s = _check_boxes(op, boxes, scores)
    m, thr = _check_limits(op, max_output_size, iou_threshold)
    return _nms(b, s, m=m, thr=thr, score_threshold=_float_arg(op, "score_threshold", score_threshold))


@composite("non_max_suppression", lambda b, s, m, thr, score_threshold: TensorSpec((None,), dt.int32))
def _nms(b, s, m, thr, score_threshold):  # the number selected depends on the values
    return _indices(b, _hard(b, s, m, thr, score_threshold))


# ----------------------------------------------------------------- soft-NMS
def _rounder(dtype):
    """Rounds a Python float to ``dtype`` (TF does soft-NMS arithmetic in the scores' type)."""
    if dtype == dt.float64:
        return float
    f32 = struct.Struct("f")

    def to32(v):
        return f32.unpack(f32.pack(v))[0] if math.isfinite(v) else v
    if dtype == dt.float32:
        return to32
    f16 = struct.Struct("e")

    def to16(v):  # Eigen::half arithmetic: float32 result rounded to half
        v = to32(v)
        try:
            return f16.unpack(f16.pack(v))[0]
        except OverflowError:
            return math.copysign(math.inf, v)
    return to16


def _soft(b, s, m, score_threshold, sigma):
    """TF's ``DoNonMaxSuppressionOp`` loop with ``soft_nms_sigma > 0``: (indices, scores)."""
    r = _rounder(s.dtype)
    scores = s.numpy().tolist()
    sthr = r(score_threshold)
    scale = r(-0.5 / r(sigma))
    corners, area = _canonical(_sh.expand_dims(_ew.cast(b, _iou_dtype(b)), 0))
    heap = [(-v, i, 0) for i, v in enumerate(scores) if v > sthr]
    heapq.heapify(heap)
    selected, kept, rows = [], [], []
    while len(selected) < m and heap:
        neg, i, begin = heapq.heappop(heap)
        score = original = -neg
        for j in range(len(selected) - 1, begin - 1, -1):
            sim = r(rows[j][i])
            score = r(score * r(math.exp(r(r(scale * sim) * sim))))
            if score <= sthr:
                break
        if score == original:
            selected.append(i)
            kept.append(score)
            with _on_device_of(b):
                at = _cr.constant([i], dt.int32)
            rows.append(_iou_rows(corners, area, at).numpy().tolist()[0])
        elif score > sthr:
            heapq.heappush(heap, (-score, i, len(selected)))
    return selected, kept


def non_max_suppression_with_scores(boxes, scores, max_output_size, iou_threshold=0.5,
                                    score_threshold=float("-inf"), soft_nms_sigma=0.0, name=None):
    """``non_max_suppression`` that also returns the selected boxes' scores, with optional soft-NMS.

    With ``soft_nms_sigma > 0`` overlapping boxes are not dropped but their
    scores are multiplied by ``exp(-iou**2 / (2 sigma))`` (Bodla et al., 2017)
    each time a box is selected, and they compete again with the lowered score
    (``iou_threshold`` then plays no part); boxes falling to ``score_threshold``
    or below are dropped. TF's lazy priority-queue loop, on the host.

    Returns:
      ``(selected_indices, selected_scores)``: int32 ``[M]`` and ``[M]`` in the
      scores' dtype (the soft-NMS scores as lowered when selected).

    Example:
      >>> idx, sc = tl.image.non_max_suppression_with_scores(
      ...     [[0, 0, 1, 1], [0, 0.1, 1, 1.1]], [0.9, 0.8], 2, soft_nms_sigma=0.5)
      >>> idx.numpy()
      array([0, 1], dtype=int32)
    """
    op = "non_max_suppression_with_scores"
    b, s = _check_boxes(op, boxes, scores)
    m, thr = _check_limits(op, max_output_size, iou_threshold)
    sthr = _float_arg(op, "score_threshold", score_threshold)
    sigma = _float_arg(op, "soft_nms_sigma", soft_nms_sigma)
    if not sigma >= 0.0:
        raise InvalidArgumentError(f"{op}: soft_nms_sigma must be >= 0, got {sigma}")
    return _nms_with_scores(b, s, m=m, thr=thr, sthr=sthr, sigma=sigma)


@composite("non_max_suppression_with_scores", lambda b, s, m, thr, sthr, sigma: (
    TensorSpec((None,), dt.int32), TensorSpec((None,), s.dtype)), multiple_results=True)
def _nms_with_scores(b, s, m, thr, sthr, sigma):
    if m == 0 or b.shape[0] == 0:
        return _indices(b, []), _indices(b, [], s.dtype)
    if sigma > 0.0:
        selected, kept = _soft(b, s, m, sthr, sigma)
        return _indices(b, selected), _indices(b, kept, s.dtype)
    selected = _indices(b, _hard(b, s, m, thr, sthr))
    return selected, _ix.gather(s, selected)


# ----------------------------------------------------------------- padded (TF 2's tiled algorithm)
def non_max_suppression_padded(boxes, scores, max_output_size, iou_threshold=0.5, score_threshold=float("-inf"),
                               pad_to_max_output_size=False, name=None, sorted_input=False,
                               canonicalized_coordinates=False, tile_size=512):
    """Greedy NMS of one image or a batch, with the output padded to ``max_output_size``.

    Gives the results of TF 2's tiled ``non_max_suppression_padded`` (its
    tiles only parallelize, so ``tile_size`` changes nothing here), whose rules
    differ slightly from ``non_max_suppression``: a box is suppressed when its
    IoU (with ``1e-8`` added to the union) is ``>= iou_threshold``; boxes
    scoring ``<= score_threshold`` are zeroed; the corner order is taken from
    the first box for all boxes (unless ``canonicalized_coordinates``); and a
    selected box with no positive coordinate still suppresses but is not
    output (nor counted).

    Args:
      boxes: ``[..., num_boxes, 4]``; leading dimensions are batch dimensions.
      scores: ``[..., num_boxes]``.
      max_output_size: the most boxes to select per image.
      iou_threshold: in ``(0, 1]``.
      pad_to_max_output_size: pad the indices to ``max_output_size`` with 0
        (required for batches).
      sorted_input: the boxes are already sorted by decreasing score.
      canonicalized_coordinates: the boxes are ``[y_min, x_min, y_max, x_max]``.

    Returns:
      ``(selected_indices, num_valid)``: int32 ``[..., max_output_size]``
      (``[num_valid]`` unpadded) and int32 ``[...]``.

    Example:
      >>> idx, n = tl.image.non_max_suppression_padded([[0, 0, 1, 1], [0, 0.1, 1, 1.1]], [0.9, 0.8], 3,
      ...                                              pad_to_max_output_size=True)
      >>> idx.numpy(), int(n)
      (array([0, 0, 0], dtype=int32), 1)
    """
    op = "non_max_suppression_padded"
    b = _as_tensor(boxes)
    s = _as_tensor(scores, like=b)
    if b.ndim < 2 or b.shape[-1] != 4 or s.ndim != b.ndim - 1 or tuple(s.shape) != tuple(b.shape[:-1]):
        raise InvalidArgumentError(f"{op}: boxes must be [..., num_boxes, 4] and scores [..., num_boxes], got shapes "
                                   f"{fmt(b.shape)} and {fmt(s.shape)}")
    if not pad_to_max_output_size and b.ndim > 2:
        raise InvalidArgumentError(f"{op}: 'pad_to_max_output_size' (value {pad_to_max_output_size}) must be True "
                                   f"for batched input (boxes of shape {fmt(b.shape)})")
    if b.dtype not in FLOATS or s.dtype not in FLOATS:
        raise TypeError(f"{op}: boxes and scores must be float, got {b.dtype.name} and {s.dtype.name}")
    m = _int_arg(op, "max_output_size", max_output_size)
    thr = _float_arg(op, "iou_threshold", iou_threshold)
    tile = _int_arg(op, "tile_size", tile_size)
    if m < 0 or tile <= 0:
        raise InvalidArgumentError(f"{op}: max_output_size must be >= 0 and tile_size > 0, got {m} and {tile}")
    if not 0.0 < thr <= 1.0:
        raise InvalidArgumentError(f"{op}: iou_threshold must be in (0, 1] (TF's tiled algorithm is not greedy "
                                   f"NMS at 0), got {thr}")
    sthr = _float_arg(op, "score_threshold", score_threshold)
    return _nms_padded(b, s, m=m, thr=thr, sthr=sthr, pad_to_max_output_size=bool(pad_to_max_output_size),
                       sorted_input=bool(sorted_input),
                       canonicalized_coordinates=bool(canonicalized_coordinates))


def _nms_padded_rule(b, s, m, thr, sthr, pad_to_max_output_size, sorted_input, canonicalized_coordinates):
    batch_dims = tuple(b.shape[:-2])
    return (TensorSpec(batch_dims + (m,) if pad_to_max_output_size else (None,), dt.int32),
            TensorSpec(batch_dims, dt.int32))


@composite("non_max_suppression_padded", _nms_padded_rule, multiple_results=True)
def _nms_padded(b, s, m, thr, sthr, pad_to_max_output_size, sorted_input, canonicalized_coordinates):
    batch_dims, n = tuple(b.shape[:-2]), b.shape[-2]
    p = 1
    for d in batch_dims:
        p *= d
    b, s = _sh.reshape(b, [p, n, 4]), _sh.reshape(s, [p, n])
    with _on_device_of(b):
        valid = _ew.greater(s, _cr.constant(sthr, s.dtype)) if sthr != float("-inf") else \
            _cr.ones([p, n], dt.bool_)
    if sthr != float("-inf"):  # TF zeroes the filtered boxes (before choosing the corner order)
        b = _ew.multiply(b, _ew.cast(_sh.expand_dims(valid, 2), b.dtype))
    if sorted_input:  # TF does not sort: keep the given order
        with _on_device_of(b):
            s = _sh.broadcast_to(_sh.reshape(_cr.range(n, 0, -1, dtype=dt.float32), [1, n]), [p, n])
    picked = [[] for _ in range(p)]
    if m > 0 and n > 0 and p > 0:
        if not canonicalized_coordinates:  # TF reads the corner order off the first box, for all boxes
            first = b[0, 0].numpy().tolist()
            cols = [0, 1, 2, 3]
            if not first[0] <= first[2]:
                cols[0], cols[2] = 2, 0
            if not first[1] <= first[3]:
                cols[1], cols[3] = 3, 1
            b = _ix.gather(b, _indices(b, cols), axis=2)
        with _on_device_of(b):
            limit = _cr.constant(m, dt.int32)

        def positive(corners, at):  # only boxes with a positive coordinate are output
            sel = [_ix.gather(c, _sh.expand_dims(at, 1), axis=1, batch_dims=1) for c in corners]
            return _red.reduce_any(_ew.greater(_sh.concat(sel, axis=1), 0.0), axis=1)
        picked = _greedy(_ew.cast(b, dt.float32), s, valid, limit, _plain, _overlap_rows,
                         lambda iou: _ew.greater_equal(iou, thr), counts=positive)
    out = [[i for i, c in row if c][:m] for row in picked]
    num_valid = [len(row) for row in out]
    with _on_device_of(b):
        nv = _sh.reshape(_cr.constant(num_valid, dt.int32), list(batch_dims))
    if not pad_to_max_output_size:
        return _indices(b, out[0]), nv
    padded = [row + [0] * (m - len(row)) for row in out]
    with _on_device_of(b):
        idx = _cr.constant(padded, dt.int32) if p and m else _cr.zeros([p, m], dt.int32)
    return _sh.reshape(idx, list(batch_dims) + [m]), nv


# ----------------------------------------------------------------- combined (per class, then merged)
def combined_non_max_suppression(boxes, scores, max_output_size_per_class, max_total_size, iou_threshold=0.5,
                                 score_threshold=float("-inf"), pad_per_class=False, clip_boxes=True, name=None):
    """Greedy NMS per batch item and class, then the best ``max_total_size`` detections of each item.

    As ``tf.image.combined_non_max_suppression``: each class keeps up to
    ``max_output_size_per_class`` boxes (IoU ``> iou_threshold`` suppresses,
    scores ``<= score_threshold`` are dropped), and the kept detections of all
    classes are merged by decreasing score. Equal scores go to the lower
    class, then the lower box index (TF leaves their order unspecified).

    Args:
      boxes: float32 ``[batch, num_boxes, q, 4]``, ``q`` 1 (shared by the
        classes) or ``num_classes``.
      scores: float32 ``[batch, num_boxes, num_classes]``.
      max_output_size_per_class, max_total_size: positive ints.
      pad_per_class: pad to ``min(max_total_size, max_output_size_per_class *
        num_classes)`` detections instead of ``max_total_size``.
      clip_boxes: clip the output boxes to ``[0, 1]``.

    Returns:
      ``(nmsed_boxes [batch, D, 4], nmsed_scores [batch, D], nmsed_classes
      [batch, D], valid_detections [batch])``: float32 (classes as floats),
      int32 counts; entries past ``valid_detections`` are zero.

    Example:
      >>> out = tl.image.combined_non_max_suppression(tl.random.uniform([2, 10, 1, 4]), tl.random.uniform([2, 10, 3]),
      ...                                            max_output_size_per_class=4, max_total_size=6)
      >>> out[0].shape
      TensorShape([2, 6, 4])
    """
    op = "combined_non_max_suppression"
    b = _as_tensor(boxes)
    s = _as_tensor(scores, like=b)
    if b.ndim != 4 or s.ndim != 3 or b.shape[3] != 4 or b.shape[0] != s.shape[0] or b.shape[1] != s.shape[1] or \
            b.shape[2] not in (1, s.shape[2]):
        raise InvalidArgumentError(f"{op}: boxes must be [batch, num_boxes, q, 4] with q 1 or num_classes, and "
                                   f"scores [batch, num_boxes, num_classes], got shapes {fmt(b.shape)} and "
                                   f"{fmt(s.shape)}")
    per_class = _int_arg(op, "max_output_size_per_class", max_output_size_per_class)
    total = _int_arg(op, "max_total_size", max_total_size)
    if per_class <= 0 or total <= 0:
        raise InvalidArgumentError(f"{op}: max_output_size_per_class and max_total_size must be positive, got "
                                   f"{per_class} and {total}")
    thr = _float_arg(op, "iou_threshold", iou_threshold)
    if not 0.0 <= thr <= 1.0:
        raise InvalidArgumentError(f"{op}: iou_threshold must be in [0, 1], got {thr}")
    sthr = _float_arg(op, "score_threshold", score_threshold)
    classes = s.shape[2]
    if pad_per_class and classes is None:
        raise InvalidArgumentError(f"{op}: pad_per_class=True needs a known number of classes, got scores of "
                                   f"shape {fmt(s.shape)}")
    width = min(total, per_class * classes) if pad_per_class else total
    return _combined_nms(b, s, per_class=per_class, width=width, thr=thr, sthr=sthr, clip_boxes=bool(clip_boxes))


def _combined_nms_rule(b, s, per_class, width, thr, sthr, clip_boxes):
    batch = b.shape[0] if b.shape[0] is not None else s.shape[0]
    return (TensorSpec((batch, width, 4), dt.float32), TensorSpec((batch, width), dt.float32),
            TensorSpec((batch, width), dt.float32), TensorSpec((batch,), dt.int32))


@composite("combined_non_max_suppression", _combined_nms_rule, multiple_results=True)
def _combined_nms(b, s, per_class, width, thr, sthr, clip_boxes):
    batch, n, q, classes = b.shape[0], b.shape[1], b.shape[2], s.shape[2]
    b, s = _ew.cast(b, dt.float32), _ew.cast(s, dt.float32)
    picked = [[] for _ in range(batch * classes)]
    if n > 0 and batch * classes > 0:
        # One problem per (image, class): boxes [batch * classes, n, 4].
        pb = _sh.broadcast_to(_sh.transpose(b, [0, 2, 1, 3]), [batch, classes, n, 4]) if q == 1 else \
            _sh.transpose(b, [0, 2, 1, 3])
        ps = _sh.reshape(_sh.transpose(s, [0, 2, 1]), [batch * classes, n])
        with _on_device_of(b):
            valid = _ew.greater(ps, _cr.constant(sthr, dt.float32))
            limit = _cr.constant(min(per_class, n), dt.int32)
        picked = _greedy(_sh.reshape(pb, [batch * classes, n, 4]), ps, valid, limit, _canonical, _iou_rows,
                         lambda iou: _ew.greater(iou, thr))
    flat_scores = _sh.reshape(s, [-1])
    picks = [(bi, c, i) for bi in range(batch) for c in range(classes) for i, _ in picked[bi * classes + c]]
    values = _ix.gather(flat_scores, _indices(b, [(bi * n + i) * classes + c for bi, c, i in picks])).numpy().tolist() \
        if picks else []
    box_idx, score_idx, mask, classes_out, counts = [], [], [], [], []
    for bi in range(batch):
        ranked = sorted((-v, k) for k, (v, pk) in enumerate(zip(values, picks)) if pk[0] == bi)[:width]
        counts.append(len(ranked))
        for _, k in ranked:
            _, c, i = picks[k]
            box_idx.append((bi * n + i) * q + (c if q > 1 else 0))
            score_idx.append((bi * n + i) * classes + c)
            classes_out.append(float(c))
        pad = width - len(ranked)
        box_idx += [0] * pad
        score_idx += [0] * pad
        classes_out += [0.0] * pad
        mask += [1.0] * len(ranked) + [0.0] * pad
    with _on_device_of(b):
        keep = _sh.reshape(_cr.constant(mask, dt.float32), [batch, width])
        nmsed_classes = _sh.reshape(_cr.constant(classes_out, dt.float32), [batch, width])
        valid_detections = _cr.constant(counts, dt.int32)
    nmsed_boxes = _ix.gather(_sh.reshape(b, [-1, 4]), _indices(b, box_idx))
    if clip_boxes:
        nmsed_boxes = _ew.clip_by_value(nmsed_boxes, 0.0, 1.0)
    nmsed_boxes = _ew.multiply(_sh.reshape(nmsed_boxes, [batch, width, 4]), _sh.expand_dims(keep, 2))
    nmsed_scores = _ew.multiply(_sh.reshape(_ix.gather(flat_scores, _indices(b, score_idx)), [batch, width]), keep)
    return nmsed_boxes, nmsed_scores, nmsed_classes, valid_detections


__all__ = []
IMAGE = ["non_max_suppression", "non_max_suppression_with_scores", "non_max_suppression_padded",
         "combined_non_max_suppression"]
