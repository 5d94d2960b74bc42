"""``keras.utils`` image helpers: ``load_img``, ``save_img``, ``img_to_array``, ``array_to_img``.

They work on the host with Pillow (imported on first use) and numpy arrays, as in Keras.

    img = keras.utils.load_img("cat.jpg", target_size=(224, 224))
    x = keras.utils.img_to_array(img)          # (224, 224, 3) float32
"""
import io
import pathlib
import warnings

import numpy as np

from tensorlab.keras import backend as _backend

_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "hamming", "box", "lanczos")


def pil_image(what):
    """``PIL.Image`` (``tl.io.images.pil_image``, imported when first needed: keras loads without tl.io)."""
    from tensorlab.io.images import pil_image as _pil_image
    return _pil_image(what)


def _format(name, data_format):
    data_format = data_format or _backend.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: data_format must be 'channels_last' or 'channels_first', got {data_format!r}")
    return data_format


def _host(x, dtype):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x, dtype=dtype)


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A PIL image from a 3-D array: 1 channel gives mode ``"L"`` (``"I"`` above 255), 3 ``"RGB"``,
    4 ``"RGBA"``.

    Args:
      x: ``(height, width, channels)`` (channels first with ``data_format="channels_first"``).
      scale: stretch the values to [0, 255] first (min to 0, max to 255).
      dtype: the array's dtype while scaling (default ``floatx()``).

    Example:
      >>> keras.utils.array_to_img(np.random.random((32, 32, 3))).size
      (32, 32)
    """
    image = pil_image("array_to_img")
    data_format = _format("array_to_img", data_format)
    x = _host(x, dtype or _backend.floatx())
    if x.ndim != 3:
        raise ValueError(f"array_to_img: expected an image array of rank 3 (one image), got shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    channels = x.shape[2]
    if channels == 4:
        return image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img: unsupported number of channels {channels} (shape {x.shape}); valid: 1, 3, 4")


def img_to_array(img, data_format=None, dtype=None):
    """A 3-D numpy array from a PIL image (a grayscale image gets a channel axis of 1).

    Example:
      >>> keras.utils.img_to_array(keras.utils.load_img("cat.jpg")).shape
      (height, width, 3)
    """
    data_format = _format("img_to_array", data_format)
    x = np.asarray(img, dtype=dtype or _backend.floatx())
    if x.ndim == 3:
        return x.transpose(2, 0, 1) if data_format == "channels_first" else x
    if x.ndim == 2:
        return x[None] if data_format == "channels_first" else x[:, :, None]
    raise ValueError(f"img_to_array: unsupported image shape {x.shape}; expected (height, width) or "
                     "(height, width, channels)")


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Saves a 3-D array as an image file (format from the extension unless ``file_format`` is given;
    RGBA becomes RGB for JPEG, with a warning). ``kwargs`` go to ``PIL.Image.save``."""
    data_format = _format("save_img", data_format)
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("save_img: the JPEG format does not support RGBA images, converting to RGB.", stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format or None, **kwargs)


def _center_box(size, target):
    """The largest centred crop box of ``size = (w, h)`` with the aspect ratio of ``target = (w, h)``."""
    (width, height), (tw, th) = size, target
    crop_h = min(height, width * th // tw)
    crop_w = min(width, height * tw // th)
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return [left, top, left + crop_w, top + crop_h]


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest", keep_aspect_ratio=False):
    """Loads an image file as a PIL image.

    Args:
      path: a path or an ``io.BytesIO``.
      color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
      target_size: None (as stored) or ``(height, width)``.
      interpolation: the resampling: ``"nearest"``, ``"bilinear"``, ``"bicubic"``, ``"hamming"``,
        ``"box"`` or ``"lanczos"``.
      keep_aspect_ratio: crop the centre to the target's aspect ratio before resizing.

    Example:
      >>> keras.utils.load_img("cat.jpg", target_size=(224, 224)).size
      (224, 224)
    """
    image = pil_image("load_img")
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        with open(path, "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"load_img: path must be path-like or an io.BytesIO, got {type(path).__name__}")
    modes = {"grayscale": ("L", ("L", "I;16", "I")), "rgb": ("RGB", ("RGB",)), "rgba": ("RGBA", ("RGBA",))}
    if color_mode not in modes:
        raise ValueError(f"load_img: color_mode must be 'grayscale', 'rgb' or 'rgba', got {color_mode!r}")
    mode, keep = modes[color_mode]
    if img.mode not in keep:
        img = img.convert(mode)
    if target_size is not None:
        size = (int(target_size[1]), int(target_size[0]))
        if img.size != size:
            if interpolation not in _INTERPOLATIONS:
                raise ValueError(f"load_img: invalid interpolation {interpolation!r}; valid: "
                                 f"{', '.join(_INTERPOLATIONS)}")
            resample = getattr(image, "Resampling", image)
            resample = getattr(resample, interpolation.upper())
            box = _center_box(img.size, size) if keep_aspect_ratio else None
            img = img.resize(size, resample, box=box)
    return img
