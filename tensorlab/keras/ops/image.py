"""``keras.ops.image``: resizing and projective/affine warps of image batches.

Images are 3-D (one image) or 4-D (a batch), ``channels_last`` unless
``data_format="channels_first"``. Built on ``tl.image.resize`` and
``tl.image.transform``, so they run on any device and are differentiable.
"""
import tensorlab as tl
from tensorlab.keras import backend as _backend
from tensorlab.keras.layers.preprocessing import aspect_crop

__all__ = ["resize", "affine_transform"]

_INTERPOLATIONS = ("bilinear", "nearest")


def _images(name, images, data_format):
    x = tl.convert_to_tensor(images)
    if len(x.shape) not in (3, 4):
        raise ValueError(f"{name}: images must be 3-D (height, width, channels) or 4-D (batch, height, width, "
                         f"channels); received shape {tuple(x.shape)}")
    fmt = data_format or _backend.image_data_format()
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: data_format must be 'channels_last' or 'channels_first'; received {fmt!r}")
    if fmt == "channels_first":
        x = tl.transpose(x, [1, 2, 0] if len(x.shape) == 3 else [0, 2, 3, 1])
    return x, fmt


def _back(x, fmt):
    if fmt == "channels_last":
        return x
    return tl.transpose(x, [2, 0, 1] if len(x.shape) == 3 else [0, 3, 1, 2])


def _interpolation(name, interpolation):
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(f"{name}: interpolation must be one of {_INTERPOLATIONS} (the others Keras names are not "
                         f"implemented); received {interpolation!r}")


def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Resizes images to ``size = (height, width)`` (half-pixel centers, as TF2 / Keras).

    Args:
      images: 3-D or 4-D images.
      size: the output ``(height, width)``.
      interpolation: ``"bilinear"`` or ``"nearest"``.
      crop_to_aspect_ratio: first crop the largest central window with the target aspect ratio.
      pad_to_aspect_ratio: first pad the short side evenly with ``fill_value`` to that ratio.
      fill_mode: only ``"constant"``.
      antialias: must be False (not implemented).

    Returns:
      The resized images, in the input's layout and (float) dtype.
    """
    _interpolation("resize", interpolation)
    if antialias:
        raise ValueError("resize: antialias=True is not implemented")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("resize: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can be True")
    if fill_mode != "constant":
        raise ValueError(f"resize: fill_mode must be 'constant'; received {fill_mode!r}")
    if len(size) != 2 or any(int(s) < 1 for s in size):
        raise ValueError(f"resize: size must be (height, width) with positive entries; received {size!r}")
    th, tw = int(size[0]), int(size[1])
    x, fmt = _images("resize", images, data_format)
    if crop_to_aspect_ratio:
        x = aspect_crop(x, th, tw)
    elif pad_to_aspect_ratio:
        h, w = x.shape[-3], x.shape[-2]
        top = (max(h, int(w * th / tw)) - h) // 2
        left = (max(w, int(h * tw / th)) - w) // 2
        lead = [[0, 0]] * (len(x.shape) - 3)
        x = tl.pad(x, lead + [[top, top], [left, left], [0, 0]], constant_values=fill_value)
    return _back(tl.image.resize(x, [th, tw], method=interpolation), fmt)


def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant", fill_value=0,
                     data_format=None):
    """Warps images by projective transforms ``[a0, a1, a2, b0, b1, b2, c0, c1]``.

    Each row maps an output point ``(x, y)`` to the input point
    ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)`` with ``k = c0 x + c1 y + 1``
    (Keras' and TF's convention).

    Args:
      images: 3-D or 4-D images.
      transform: shape ``[8]`` or ``[batch, 8]``.
      interpolation: ``"bilinear"`` or ``"nearest"``.
      fill_mode: ``"constant"``, ``"nearest"``, ``"reflect"`` or ``"wrap"`` for points outside the input.
      fill_value: the value outside the input with ``fill_mode="constant"``.

    Returns:
      The warped images, in the input's layout.
    """
    _interpolation("affine_transform", interpolation)
    x, fmt = _images("affine_transform", images, data_format)
    t = tl.convert_to_tensor(transform)
    if len(t.shape) not in (1, 2) or t.shape[-1] != 8:
        raise ValueError(f"affine_transform: transform must have shape [8] or [batch, 8]; received shape "
                         f"{tuple(t.shape)}")
    unbatched = len(x.shape) == 3
    if unbatched:
        x = tl.expand_dims(x, 0)
    if len(t.shape) == 1:
        t = tl.expand_dims(t, 0)
    if x.dtype.is_floating and t.dtype != x.dtype:
        t = tl.cast(t, x.dtype)
    y = tl.image.transform(x, t, interpolation=interpolation, fill_mode=fill_mode, fill_value=float(fill_value))
    if unbatched:
        y = y[0]
    return _back(y, fmt)


# Colour spaces, patches, Sobel, SSIM, blur, crop/pad (image_extra.py); resampling (image_warp.py).
from tensorlab.keras.ops import image_extra as _image_extra, image_warp as _image_warp  # noqa: E402

for _mod in (_image_extra, _image_warp):
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
    __all__ += _mod.__all__
del _mod, _name
