"""Geometry ops (``tl.image``): 90-degree rotations, transposes, crops and pads to a box, resizing by cropping
or padding, ``crop_and_resize``, stateless random crops and flips, and ``draw_bounding_boxes``.

Composites that follow TF's kernels (index arithmetic in float32 where TF's is),
so they run on every device and differentiate where the math does
(``crop_and_resize`` with respect to the image and the boxes). Images are
``[height, width, channels]`` or ``[batch, height, width, channels]``.
Non-maximum suppression is in ``image_nms.py``.
"""
import math
import operator
import struct

from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable
from tensorlab.errors import InvalidArgumentError, OutOfRangeError
from tensorlab.ops import creation as _cr
from tensorlab.ops import elementwise as _ew
from tensorlab.ops import indexing as _ix
from tensorlab.ops import random_ops as _rnd
from tensorlab.ops import reduction as _red
from tensorlab.ops import shape as _sh
from tensorlab.ops._rules import FLOATS, fmt, t
from tensorlab.ops.image import _image, _on_device_of, resize

_INT32_MAX = 2 ** 31 - 1


def _int_arg(op, name, value):
    """A Python int from an int or an eager integer scalar tensor."""
    if isinstance(value, SymbolicTensor):
        raise InvalidArgumentError(f"{op}: {name} must be known (a Python integer or an eager scalar tensor), got "
                                   f"a symbolic tensor")
    if isinstance(value, (Tensor, Variable)):
        if value.ndim != 0 or not value.dtype.is_integer:
            raise InvalidArgumentError(f"{op}: {name} must be an integer scalar, got a {value.dtype.name} tensor of "
                                       f"shape {fmt(value.shape)}")
        return int(value.numpy())
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an integer, got {value!r}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{op}: {name} must be an integer, got {value!r}") from None


def _f32(v):
    """``v`` rounded to float32 (TF does this shape arithmetic in float32)."""
    return struct.unpack("f", struct.pack("f", v))[0]


def _hw(op, x):
    h, w = x.shape[-3], x.shape[-2]
    if h is None or w is None:
        raise InvalidArgumentError(f"{op}: the image height and width must be known, got shape {fmt(x.shape)}")
    return h, w


# ----------------------------------------------------------------- rotations and transposes
def _swap_hw(x):
    r = x.ndim
    perm = list(range(r))
    perm[r - 3], perm[r - 2] = r - 2, r - 3
    return _sh.transpose(x, perm)


def rot90(image, k=1, name=None):
    """Rotates an image (or each image of a batch) counter-clockwise by ``k`` quarter turns.

    Args:
      image: ``[height, width, channels]`` or ``[batch, height, width, channels]``.
      k: an integer (or integer scalar tensor); taken modulo 4, negative turns clockwise.

    Example:
      >>> tl.image.rot90(tl.constant([[[1], [2]], [[3], [4]]]))[..., 0].numpy()
      array([[2, 4],
             [1, 3]], dtype=int32)
    """
    x = _image("rot90", image)
    k = _int_arg("rot90", "k", k) % 4
    h_ax, w_ax = x.ndim - 3, x.ndim - 2
    if k == 1:
        return _swap_hw(_sh.reverse(x, [w_ax]))
    if k == 2:
        return _sh.reverse(x, [h_ax, w_ax])
    if k == 3:
        return _sh.reverse(_swap_hw(x), [w_ax])
    return x


def transpose(image, name=None):
    """Swaps the height and width of an image (or of each image of a batch).

    Example:
      >>> tl.image.transpose(tl.zeros([3, 2, 1])).shape
      TensorShape([2, 3, 1])
    """
    return _swap_hw(_image("transpose", image))


# ----------------------------------------------------------------- crops and pads to a box
def _box_args(op, image, names, values):
    x = _image(op, image)
    return (x,) + tuple(_int_arg(op, n, v) for n, v in zip(names, values))


def _require(op, ok, message, x):
    if not ok:
        raise InvalidArgumentError(f"{op}: {message} (image shape {fmt(x.shape)})")


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The ``target_height`` x ``target_width`` window of an image whose top-left corner is at the offsets.

    Raises:
      InvalidArgumentError (a ValueError): negative offsets, non-positive
        targets, or a window that does not fit in the image.

    Example:
      >>> tl.image.crop_to_bounding_box(tl.zeros([4, 6, 3]), 1, 2, 2, 3).shape
      TensorShape([2, 3, 3])
    """
    op = "crop_to_bounding_box"
    x, oh, ow, th, tw = _box_args(op, image, ("offset_height", "offset_width", "target_height", "target_width"),
                                  (offset_height, offset_width, target_height, target_width))
    h, w = x.shape[-3], x.shape[-2]
    _require(op, ow >= 0, f"offset_width must be >= 0, got {ow}", x)
    _require(op, oh >= 0, f"offset_height must be >= 0, got {oh}", x)
    _require(op, tw > 0, f"target_width must be > 0, got {tw}", x)
    _require(op, th > 0, f"target_height must be > 0, got {th}", x)
    _require(op, w is None or w >= tw + ow, f"width must be >= target + offset, got width {w}, target_width {tw} "
                                            f"and offset_width {ow}", x)
    _require(op, h is None or h >= th + oh, f"height must be >= target + offset, got height {h}, target_height {th} "
                                            f"and offset_height {oh}", x)
    lead = x.ndim - 3
    return _ix.slice(x, [0] * lead + [oh, ow, 0], [-1] * lead + [th, tw, -1])


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """Pads an image with zeros to ``target_height`` x ``target_width``, the image's top-left corner at the offsets.

    Raises:
      InvalidArgumentError (a ValueError): negative offsets, or an image that
        does not fit in the target at the offsets.

    Example:
      >>> tl.image.pad_to_bounding_box(tl.ones([2, 2, 3]), 1, 1, 4, 4)[..., 0].numpy()
      array([[0., 0., 0., 0.],
             [0., 1., 1., 0.],
             [0., 1., 1., 0.],
             [0., 0., 0., 0.]], dtype=float32)
    """
    op = "pad_to_bounding_box"
    x, oh, ow, th, tw = _box_args(op, image, ("offset_height", "offset_width", "target_height", "target_width"),
                                  (offset_height, offset_width, target_height, target_width))
    h, w = _hw(op, x)
    after_w, after_h = tw - ow - w, th - oh - h
    _require(op, oh >= 0, f"offset_height must be >= 0, got {oh}", x)
    _require(op, ow >= 0, f"offset_width must be >= 0, got {ow}", x)
    _require(op, after_w >= 0, f"width must be <= target - offset, got width {w}, target_width {tw} and "
                               f"offset_width {ow}", x)
    _require(op, after_h >= 0, f"height must be <= target - offset, got height {h}, target_height {th} and "
                               f"offset_height {oh}", x)
    if not (oh or ow or after_h or after_w):
        return x
    return _sh.pad(x, [[0, 0]] * (x.ndim - 3) + [[oh, after_h], [ow, after_w], [0, 0]])


def _target_args(op, image, target_height, target_width):
    """The image, the checked targets and the image's height and width."""
    x, th, tw = _box_args(op, image, ("target_height", "target_width"), (target_height, target_width))
    _require(op, tw > 0, f"target_width must be > 0, got {tw}", x)
    _require(op, th > 0, f"target_height must be > 0, got {th}", x)
    return (x, th, tw) + _hw(op, x)


def resize_with_crop_or_pad(image, target_height, target_width):
    """Crops the center of an image or pads it evenly with zeros to ``target_height`` x ``target_width``.

    Each dimension larger than its target is cropped centrally (the extra
    pixel, if odd, comes off the end), each smaller one is zero-padded
    (the extra pixel goes after), as ``tf.image.resize_with_crop_or_pad``.

    Example:
      >>> tl.image.resize_with_crop_or_pad(tl.ones([5, 2, 3]), 3, 4).shape
      TensorShape([3, 4, 3])
    """
    x, th, tw, h, w = _target_args("resize_with_crop_or_pad", image, target_height, target_width)
    cropped = crop_to_bounding_box(x, max((h - th) // 2, 0), max((w - tw) // 2, 0), min(th, h), min(tw, w))
    return pad_to_bounding_box(cropped, max((th - h) // 2, 0), max((tw - w) // 2, 0), th, tw)


def resize_with_pad(image, target_height, target_width, method="bilinear", antialias=False):
    """Resizes an image to fit ``target_height`` x ``target_width`` keeping its aspect ratio, then zero-pads it.

    The scale and the padding are computed in float32 as TF does; the image is
    resized with ``tl.image.resize(method=method)`` (bilinear output is float)
    and centered (an odd extra pixel of padding goes after).

    Example:
      >>> tl.image.resize_with_pad(tl.ones([4, 8, 3]), 8, 8).shape
      TensorShape([8, 8, 3])
    """
    op = "resize_with_pad"
    x, th, tw, h, w = _target_args(op, image, target_height, target_width)
    ratio = max(_f32(w / tw), _f32(h / th))
    rh_f, rw_f = _f32(h / ratio), _f32(w / ratio)
    rh, rw = int(math.floor(rh_f)), int(math.floor(rw_f))
    if rh <= 0 or rw <= 0:
        raise InvalidArgumentError(f"{op}: the image ({h} x {w}) scaled to fit {th} x {tw} would be {rh} x {rw}; "
                                   f"both sizes must be positive")
    ph = max(0, int(math.floor(_f32(_f32(th - rh_f) / 2))))
    pw = max(0, int(math.floor(_f32(_f32(tw - rw_f) / 2))))
    with _on_device_of(x):  # resize makes its sample coordinates on the current device
        resized = resize(x, [rh, rw], method=method, antialias=antialias)
    return pad_to_bounding_box(resized, ph, pw, th, tw)


# ----------------------------------------------------------------- crop_and_resize
def _crop_axis(c1, c2, size, n_out, dtype):
    """TF's sample coordinates along one axis for every box: ``[num_boxes, n_out]`` (float ``dtype``)."""
    n = float(size - 1)
    if n_out > 1:
        scale = _ew.truediv(_ew.multiply(_ew.subtract(c2, c1), n), float(n_out - 1))
        steps = _sh.reshape(_cr.range(n_out, dtype=dtype), [1, n_out])
        return _ew.add(_sh.expand_dims(_ew.multiply(c1, n), 1), _ew.multiply(steps, _sh.expand_dims(scale, 1)))
    return _sh.expand_dims(_ew.multiply(_ew.multiply(_ew.add(c1, c2), 0.5), n), 1)


def _round_half_away(v):
    """C's ``roundf`` for non-negative ``v`` (TF's nearest crop): ``floor(v) + (v - floor(v) >= 0.5)``."""
    f = _ew.floor(v)
    return _ew.add(f, _ew.cast(_ew.greater_equal(_ew.subtract(v, f), 0.5), v.dtype))


def _check_crop_inputs(op, x, b, idx, crop_size, method):
    if x.ndim != 4:
        raise InvalidArgumentError(f"{op}: image must be 4-D [batch, height, width, depth], got shape "
                                   f"{fmt(x.shape)}")
    n, h, w, _ = x.shape
    if h is None or w is None or h <= 0 or w <= 0:
        raise InvalidArgumentError(f"{op}: the image height and width must be known and positive, got shape "
                                   f"{fmt(x.shape)}")
    if b.ndim != 2 or b.shape[1] not in (4, None):
        raise InvalidArgumentError(f"{op}: boxes must have shape [num_boxes, 4], got shape {fmt(b.shape)}")
    if idx.ndim != 1 or (None not in (idx.shape[0], b.shape[0]) and idx.shape[0] != b.shape[0]):
        raise InvalidArgumentError(f"{op}: box_indices must have shape [num_boxes] = [{b.shape[0]}], got shape "
                                   f"{fmt(idx.shape)}")
    if not idx.dtype.is_integer:
        raise TypeError(f"{op}: box_indices must be int32 or int64, got {idx.dtype.name}")
    size = crop_size.numpy().tolist() if hasattr(crop_size, "numpy") else list(crop_size)
    if len(size) != 2 or any(isinstance(s, bool) or int(s) != s or s <= 0 for s in size):
        raise InvalidArgumentError(f"{op}: crop_size must be [crop_height, crop_width], two positive integers, "
                                   f"got {size}")
    if method not in ("bilinear", "nearest"):
        raise InvalidArgumentError(f"{op}: method must be 'bilinear' or 'nearest', got {method!r}")
    return [int(s) for s in size]


def crop_and_resize(image, boxes, box_indices, crop_size, method="bilinear", extrapolation_value=0.0,
                    name=None):
    """Crops boxes out of a batch of images and resizes each crop to ``crop_size``, as ``tf.image.crop_and_resize``.

    Box ``[y1, x1, y2, x2]`` (normalized: 0 and 1 are the first and last pixel
    centers; ``y1 > y2`` flips the crop) of image ``box_indices[i]`` is sampled
    on a ``crop_height`` x ``crop_width`` grid from ``y1 * (height - 1)`` to
    ``y2 * (height - 1)`` (a single row or column samples the box center);
    samples outside the image are ``extrapolation_value``. As TF's kernels,
    it checks the box indices and coordinates on the host (one read-back).

    Args:
      image: ``[batch, height, width, depth]``, any real dtype.
      boxes: ``[num_boxes, 4]`` floats.
      box_indices: ``[num_boxes]`` ints in ``[0, batch)``.
      crop_size: ``[crop_height, crop_width]``, positive.
      method: ``"bilinear"`` (differentiable with respect to the image and the
        boxes, as TF's gradients) or ``"nearest"`` (round half away from zero;
        the boxes get no gradient, where TF uses the bilinear one).
      extrapolation_value: the value of samples outside the image.

    Returns:
      ``[num_boxes, crop_height, crop_width, depth]``: float images keep their
      dtype (TF always returns float32), others become float32.

    Raises:
      OutOfRangeError: a box index outside ``[0, batch)``.
      InvalidArgumentError: bad shapes or a box coordinate that is not finite.

    Example:
      >>> img = tl.reshape(tl.range(16.), [1, 4, 4, 1])
      >>> tl.image.crop_and_resize(img, [[0., 0., 1., 1.]], [0], [2, 2])[0, ..., 0].numpy()
      array([[ 0.,  3.],
             [12., 15.]], dtype=float32)
    """
    op = "crop_and_resize"
    x = t(image)
    method = str(method).lower()
    with _on_device_of(x):  # Python boxes and indices go to the image's device
        b = t(boxes if isinstance(boxes, (Tensor, Variable, SymbolicTensor)) else
              _cr.constant(boxes, x.dtype if x.dtype in FLOATS else dt.float32))
        idx = t(box_indices if isinstance(box_indices, (Tensor, Variable, SymbolicTensor)) else
                _cr.constant(box_indices, dt.int32))
    ch, cw = _check_crop_inputs(op, x, b, idx, crop_size, method)
    return _crop_and_resize(x, b, idx, crop_size=(ch, cw), method=method,
                            extrapolation_value=float(extrapolation_value))


def _crop_and_resize_rule(x, b, idx, crop_size, method, extrapolation_value):
    nb = b.shape[0] if b.shape[0] is not None else idx.shape[0]
    return TensorSpec((nb,) + tuple(crop_size) + (x.shape[3],), x.dtype if x.dtype in FLOATS else dt.float32)


@composite("crop_and_resize", _crop_and_resize_rule)
def _crop_and_resize(x, b, idx, crop_size, method, extrapolation_value):
    # The box checks read values back and the sampling grid needs the number of boxes.
    op = "crop_and_resize"
    ch, cw = crop_size
    n, h, w, depth = x.shape
    d = x.dtype if x.dtype in FLOATS else dt.float32
    x, b = _ew.cast(x, d), _ew.cast(b, d)
    nb = b.shape[0]
    if nb == 0:
        with _on_device_of(x):
            return _cr.zeros([0, ch, cw, depth], d)
    # One read-back for both checks (TF's kernels check on the host too).
    flags = _sh.stack([_ew.cast(_red.reduce_all(_ew.logical_and(_ew.greater_equal(idx, 0), _ew.less(idx, n))),
                                dt.int32),
                       _ew.cast(_red.reduce_all(_ew.is_finite(b)), dt.int32)]).numpy().tolist()
    if not flags[0]:
        raise OutOfRangeError(f"{op}: box_indices has values outside [0, {n}) (the batch size of the image of "
                              f"shape {fmt(x.shape)})")
    if not flags[1]:
        raise InvalidArgumentError(f"{op}: boxes contains at least one element that is not finite")
    y1, x1, y2, x2 = _sh.unstack(b, num=4, axis=1)
    with _on_device_of(x):
        in_y = _crop_axis(y1, y2, h, ch, d)  # [nb, ch]
        in_x = _crop_axis(x1, x2, w, cw, d)  # [nb, cw]
    inside = _ew.logical_and(
        _sh.reshape(_ew.logical_and(_ew.greater_equal(in_y, 0.0), _ew.less_equal(in_y, float(h - 1))), [nb, ch, 1]),
        _sh.reshape(_ew.logical_and(_ew.greater_equal(in_x, 0.0), _ew.less_equal(in_x, float(w - 1))), [nb, 1, cw]))
    flat = _sh.reshape(x, [n * h * w, depth])
    base = _sh.reshape(_ew.multiply(_ew.cast(idx, dt.int32), h * w), [nb, 1, 1])

    def index(v, size):  # clamped int rows/cols, [nb, k]; samples outside the image are masked below
        return _ew.cast(_ew.clip_by_value(v, 0.0, float(size - 1)), dt.int32)

    def pick(ry, rx):
        flat_idx = _ew.add(base, _ew.add(_ew.multiply(_sh.reshape(ry, [nb, ch, 1]), w), _sh.reshape(rx, [nb, 1, cw])))
        return _ix.gather(flat, flat_idx)  # [nb, ch, cw, depth]

    if method == "nearest":
        out = pick(index(_round_half_away(in_y), h), index(_round_half_away(in_x), w))
    else:
        top, left = _ew.floor(in_y), _ew.floor(in_x)
        y_lerp = _sh.reshape(_ew.subtract(in_y, top), [nb, ch, 1, 1])
        x_lerp = _sh.reshape(_ew.subtract(in_x, left), [nb, 1, cw, 1])
        t_i, b_i = index(top, h), index(_ew.ceil(in_y), h)
        l_i, r_i = index(left, w), index(_ew.ceil(in_x), w)
        tl_, tr_, bl_, br_ = pick(t_i, l_i), pick(t_i, r_i), pick(b_i, l_i), pick(b_i, r_i)
        top_v = _ew.add(tl_, _ew.multiply(_ew.subtract(tr_, tl_), x_lerp))
        bottom_v = _ew.add(bl_, _ew.multiply(_ew.subtract(br_, bl_), x_lerp))
        out = _ew.add(top_v, _ew.multiply(_ew.subtract(bottom_v, top_v), y_lerp))
    with _on_device_of(x):
        fill = _cr.constant(extrapolation_value, d)
    return _ew.where(_sh.broadcast_to(_sh.expand_dims(inside, -1), out.shape), out, fill)


# ----------------------------------------------------------------- stateless random crops and flips
def stateless_random_crop(value, size, seed, name=None):
    """A ``size``-shaped slice of ``value`` at offsets determined by ``seed`` alone, as TF's ``stateless_random_crop``.

    Each offset is ``u % (dim - size + 1)`` with ``u`` a stateless uniform
    int32 in ``[0, 2**31 - 1)``, as TF computes it (the numbers differ from TF's).

    Args:
      value: a tensor of any rank.
      size: the crop shape, one entry per dimension of ``value`` (each <= its dim).
      seed: a shape-[2] int32/int64 tensor or a pair of integers.

    Example:
      >>> tl.image.stateless_random_crop(tl.zeros([32, 32, 3]), [24, 24, 3], seed=(1, 2)).shape
      TensorShape([24, 24, 3])
    """
    op = "stateless_random_crop"
    x = t(value)
    size = [_int_arg(op, "size", s) for s in (size.numpy().tolist() if hasattr(size, "numpy") else size)]
    shape = tuple(x.shape)
    if len(size) != len(shape):
        raise InvalidArgumentError(f"{op}: size {size} must have one entry per dimension of value (shape "
                                   f"{fmt(shape)})")
    _check_crop_size(op, shape, size)
    inputs, seed = _rnd.stateless_seed_inputs(op, seed)
    return _stateless_random_crop(x, *inputs, size=tuple(size), seed=seed)


def _check_crop_size(op, shape, size):
    if any(s < 0 or (n is not None and s > n) for s, n in zip(size, shape)):
        raise InvalidArgumentError(f"{op}: Need value.shape >= size, got shape {fmt(shape)} and size {list(size)}")


def _stateless_crop_rule(x, *seed_specs, size, seed):
    _rnd.stateless_seed_spec("stateless_random_crop", *seed_specs)
    return TensorSpec(size, x.dtype)


@composite("stateless_random_crop", _stateless_crop_rule)
def _stateless_random_crop(x, *seed_input, size, seed):
    # The offsets are read back to slice and need the concrete shape: on Functional-API tensors this runs as
    # a composite when the model runs (the sizes known only then are checked then).
    op = "stateless_random_crop"
    shape = tuple(x.shape)
    _check_crop_size(op, shape, size)
    with _on_device_of(x):
        u = _rnd.stateless_uniform([len(size)], seed=_rnd.stateless_seed_of(seed_input, seed), minval=0,
                                   maxval=_INT32_MAX, dtype=dt.int32)
    offsets = [r % (n - s + 1) for r, n, s in zip(u.numpy().tolist(), shape, size)]
    return _ix.slice(x, offsets, list(size))


def _stateless_flip_rule(x, *seed_specs, axis_from_end, seed):
    _rnd.stateless_seed_spec("stateless_random_flip", *seed_specs)
    return TensorSpec(x.shape, x.dtype)


def _stateless_flip(x, *seed_input, axis_from_end, seed):
    # One coin per image needs the batch size: on Functional-API images this runs as a composite.
    seed = _rnd.stateless_seed_of(seed_input, seed)
    flipped = _sh.reverse(x, [x.ndim - axis_from_end])
    with _on_device_of(x):
        if x.ndim == 3:
            return _ew.where(_ew.less(_rnd.stateless_uniform([], seed=seed), 0.5), flipped, x)
        # TF flips the images whose round(u) is 1 (round half to even: u > 0.5).
        coin = _ew.greater(_rnd.stateless_uniform([x.shape[0], 1, 1, 1], seed=seed), 0.5)
    return _ew.where(_sh.broadcast_to(coin, x.shape), flipped, x)


_stateless_flip_left_right = composite("stateless_random_flip_left_right", _stateless_flip_rule)(_stateless_flip)
_stateless_flip_up_down = composite("stateless_random_flip_up_down", _stateless_flip_rule)(_stateless_flip)


def stateless_random_flip_left_right(image, seed):
    """Flips an image horizontally with probability 1/2 (each image of a batch apart), determined by ``seed``.

    Example:
      >>> a = tl.image.stateless_random_flip_left_right(images, seed=(2, 3))   # the same on every call
    """
    op = "stateless_random_flip_left_right"
    x = _image(op, image)
    inputs, seed = _rnd.stateless_seed_inputs(op, seed)
    return _stateless_flip_left_right(x, *inputs, axis_from_end=2, seed=seed)


def stateless_random_flip_up_down(image, seed):
    """Flips an image vertically with probability 1/2 (each image of a batch apart), determined by ``seed``."""
    op = "stateless_random_flip_up_down"
    x = _image(op, image)
    inputs, seed = _rnd.stateless_seed_inputs(op, seed)
    return _stateless_flip_up_down(x, *inputs, axis_from_end=3, seed=seed)


# ----------------------------------------------------------------- draw_bounding_boxes
# TF's default colours (RGBA), cycled through by box index.
_COLORS = ((1, 1, 0, 1), (0, 0, 1, 1), (1, 0, 0, 1), (0, 1, 0, 1), (0.5, 0, 0.5, 1), (0.5, 0.5, 0, 1),
           (0.5, 0, 0, 1), (0, 0, 0.5, 1), (0, 1, 1, 1), (1, 0, 1, 1))


def _color_table(op, colors, depth, like):
    if colors is not None:
        with _on_device_of(like):
            c = t(colors if isinstance(colors, (Tensor, Variable)) else _cr.constant(colors, dt.float32))
        if c.ndim != 2 or c.shape[1] < depth:
            raise InvalidArgumentError(f"{op}: colors must be a 2-D matrix [num_colors, >= {depth}] (at least the "
                                       f"image's {depth} channels), got shape {fmt(c.shape)}")
        if c.shape[0] > 0:
            return _ew.cast(_ix.slice(c, [0, 0], [-1, depth]), like.dtype)
    with _on_device_of(like):
        table = _cr.constant([list(col[:depth]) for col in _COLORS], like.dtype)
    if depth == 1:
        table = _ew.add(_ew.multiply(table, 0.0), 1.0)  # TF's grey table is all white
    return table


def draw_bounding_boxes(images, boxes, colors, name=None):
    """Draws the outlines of boxes on images, as ``tf.image.draw_bounding_boxes``.

    Box ``[y_min, x_min, y_max, x_max]`` (fractions of ``height - 1`` and
    ``width - 1``, truncated to pixels) is outlined with colour
    ``colors[i % num_colors]``; later boxes are drawn over earlier ones. Lines
    outside the image are clipped; inverted boxes and boxes entirely outside
    are not drawn. ``colors=None`` (or an empty matrix) cycles TF's ten
    default colours. Needs ``batch * num_boxes * height * width`` booleans of memory.

    Args:
      images: float ``[batch, height, width, depth]`` with depth 1, 3 or 4.
      boxes: ``[batch, num_boxes, 4]``.
      colors: ``[num_colors, >= depth]`` (RGBA rows), or None.

    Example:
      >>> img = tl.image.draw_bounding_boxes(tl.zeros([1, 3, 3, 3]), [[[0, 0, 1, 1]]], [[1.0, 0.0, 0.0]])
      >>> img[0, ..., 0].numpy()
      array([[1., 1., 1.],
             [1., 0., 1.],
             [1., 1., 1.]], dtype=float32)
    """
    op = "draw_bounding_boxes"
    x = t(images)
    with _on_device_of(x):
        b = t(boxes if isinstance(boxes, (Tensor, Variable, SymbolicTensor)) else _cr.constant(boxes, dt.float32))
    if x.ndim != 4:
        raise InvalidArgumentError(f"{op}: images must have rank 4 ([batch, height, width, depth]), got shape "
                                   f"{fmt(x.shape)}")
    if x.dtype not in FLOATS:
        raise TypeError(f"{op}: images must be float16, bfloat16, float32 or float64, got {x.dtype.name}")
    if b.ndim != 3 or b.shape[2] not in (4, None) or None not in (x.shape[0], b.shape[0]) and \
            x.shape[0] != b.shape[0]:
        raise InvalidArgumentError(f"{op}: boxes must have shape [batch, num_boxes, 4] with the images' batch "
                                   f"size, got shape {fmt(b.shape)} for images of shape {fmt(x.shape)}")
    n, h, w, depth = x.shape
    if depth not in (1, 3, 4):
        raise InvalidArgumentError(f"{op}: channel depth should be either 1 (GRY), 3 (RGB), or 4 (RGBA), got shape "
                                   f"{fmt(x.shape)}")
    table = _color_table(op, colors, depth, x)
    return _draw_bounding_boxes(x, b, table)


@composite("draw_bounding_boxes", lambda x, b, table: TensorSpec(x.shape, x.dtype))
def _draw_bounding_boxes(x, b, table):
    # The pixel grids need the image size and the number of boxes.
    n, h, w, depth = x.shape
    nb = b.shape[1]
    if nb == 0:
        return x

    def pixels(col, size):  # float32 product truncated toward zero, as TF's int64 cast (clipped: same outcome)
        v = _ew.multiply(_ew.cast(_ix.gather(b, col, axis=2), dt.float32), float(size - 1))
        return _sh.reshape(_ew.cast(_ew.clip_by_value(v, -1.0, float(size)), dt.int32), [n, nb, 1, 1])

    r0, c0, r1, c1 = pixels(0, h), pixels(1, w), pixels(2, h), pixels(3, w)
    drawn = _ew.logical_and(_ew.logical_and(_ew.less_equal(r0, r1), _ew.less_equal(c0, c1)),
                            _ew.logical_and(_ew.logical_and(_ew.less(r0, h), _ew.greater_equal(r1, 0)),
                                            _ew.logical_and(_ew.less(c0, w), _ew.greater_equal(c1, 0))))
    with _on_device_of(x):
        rows = _sh.reshape(_cr.range(h), [1, 1, h, 1])
        cols = _sh.reshape(_cr.range(w), [1, 1, 1, w])
        order = _sh.reshape(_cr.range(1, nb + 1), [1, nb, 1, 1])

    def between(v, lo, hi):
        return _ew.logical_and(_ew.greater_equal(v, lo), _ew.less_equal(v, hi))

    in_cols = between(cols, _ew.maximum(c0, 0), _ew.minimum(c1, w - 1))
    in_rows = between(rows, _ew.maximum(r0, 0), _ew.minimum(r1, h - 1))
    horizontal = _ew.logical_and(_ew.logical_or(_ew.equal(rows, r0), _ew.equal(rows, r1)), in_cols)
    vertical = _ew.logical_and(_ew.logical_or(_ew.equal(cols, c0), _ew.equal(cols, c1)), in_rows)
    on = _ew.logical_and(_ew.logical_or(horizontal, vertical), drawn)  # [n, nb, h, w]
    last = _red.reduce_max(_ew.where(on, order, 0), axis=1)  # the last box drawn on each pixel (0: none)
    color = _ix.gather(table, _ew.floormod(_ew.maximum(_ew.subtract(last, 1), 0), table.shape[0]))
    mask = _sh.broadcast_to(_sh.expand_dims(_ew.greater(last, 0), -1), x.shape)
    return _ew.where(mask, color, x)


__all__ = []
IMAGE = ["rot90", "transpose", "crop_to_bounding_box", "pad_to_bounding_box", "resize_with_crop_or_pad",
         "resize_with_pad", "crop_and_resize", "stateless_random_crop", "stateless_random_flip_left_right",
         "stateless_random_flip_up_down", "draw_bounding_boxes"]
