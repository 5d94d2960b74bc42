"""More ``keras.ops.image`` (Keras 3): colour spaces, patches, Sobel edges, SSIM, Gaussian blur,
cropping and padding.

Images are 3-D (one image) or 4-D (a batch), channels last unless
``data_format="channels_first"`` (default: ``keras.config.image_data_format()``).
Built on ``tl.image`` where it has the op, so everything runs on the images' device.

    from tensorlab.keras import ops
    gray = ops.image.rgb_to_grayscale(images)
"""
import tensorlab as tl
from tensorlab.keras.ops._common import at_least_float32, channels_back, channels_last, constant_like, floating
from tensorlab.keras.ops._common import data_format as _data_format
from tensorlab.keras.ops._common import int_tuple, on_device_of, tensor

__all__ = ["rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb", "extract_patches", "extract_patches_3d", "sobel_edges",
           "ssim", "gaussian_blur", "crop_images", "pad_images"]


def _images(name, images, data_format, ranks=(3, 4)):
    """(images channels last, their format, whether unbatched)."""
    x = tensor(images)
    if len(x.shape) not in ranks:
        what = {(3, 4): "3-D (height, width, channels) or 4-D (batch, height, width, channels)",
                (4,): "4-D (batch, height, width, channels)",
                (4, 5): "4-D (depth, height, width, channels) or 5-D (batch, depth, height, width, channels)"}[ranks]
        raise ValueError(f"{name}: images must be {what}; received shape {tuple(x.shape)}")
    fmt = _data_format(name, data_format)
    unbatched = len(x.shape) == ranks[0] and len(ranks) > 1
    if unbatched:
        x = tl.expand_dims(x, 0)
    return channels_last(x, fmt, len(x.shape) - 2), fmt, unbatched


def _back(x, fmt, unbatched):
    x = channels_back(x, fmt, len(x.shape) - 2)
    return x[0] if unbatched else x


def _channels(name, x, valid):
    if x.shape[-1] not in valid:
        raise ValueError(f"{name}: expected {' or '.join(map(str, valid))} channels, got {x.shape[-1]} (channels-last "
                         f"shape {tuple(x.shape)})")


# ----------------------------------------------------------------------------- colour
def rgb_to_grayscale(images, data_format=None):
    """Luma ``0.2989 R + 0.5870 G + 0.1140 B``; one channel, the input's dtype (1-channel input as is).

    Example:
      >>> ops.image.rgb_to_grayscale(tl.ones([4, 4, 3])).shape   # (4, 4, 1)
    """
    x, fmt, unbatched = _images("rgb_to_grayscale", images, data_format)
    _channels("rgb_to_grayscale", x, (1, 3))
    if x.shape[-1] == 3:
        # Keras weights integer images as floats and truncates back (TF would rescale to [0, 1]).
        y = tl.image.rgb_to_grayscale(at_least_float32(x))
        x = y if y.dtype == x.dtype else tl.cast(y, x.dtype)
    return _back(x, fmt, unbatched)


def _float_images(name, x):
    if not x.dtype.is_floating:
        raise ValueError(f"{name}: images must have a float dtype; received images.dtype={x.dtype.name}")
    return x


def rgb_to_hsv(images, data_format=None):
    """RGB (values in [0, 1]) to HSV, each in [0, 1]; float images only.

    Example:
      >>> ops.image.rgb_to_hsv([[[0.0, 0.5, 0.5]]])   # cyan: [[[0.5, 1., 0.5]]]
    """
    x, fmt, unbatched = _images("rgb_to_hsv", images, data_format)
    _channels("rgb_to_hsv", _float_images("rgb_to_hsv", x), (3,))
    return _back(tl.image.rgb_to_hsv(x), fmt, unbatched)


def hsv_to_rgb(images, data_format=None):
    """HSV to RGB; the hue wraps around (taken modulo 1); float images only."""
    x, fmt, unbatched = _images("hsv_to_rgb", images, data_format)
    _channels("hsv_to_rgb", _float_images("hsv_to_rgb", x), (3,))
    h, s, v = tl.unstack(x, num=3, axis=-1)
    x = tl.stack([tl.math.floormod(h, 1.0), s, v], axis=-1)
    return _back(tl.image.hsv_to_rgb(x), fmt, unbatched)


# ----------------------------------------------------------------------------- patches
def _padding(name, padding):
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{name}: padding must be 'valid' or 'same', got {padding!r}")
    return padding.upper()


def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """Patches of ``size`` flattened into the channels, in (row, column, channel) order.

    A ``size`` of 3 ints extracts 3-D patches (``extract_patches_3d``).

    Args:
      images: 3-D or 4-D images.
      size: an int or ``(patch_height, patch_width)``.
      strides: between patch origins; default ``size`` (non-overlapping).
      dilation_rate: the spacing of a patch's samples.
      padding: ``"valid"`` or ``"same"`` (zero padding, as a convolution).

    Returns:
      ``(..., out_rows, out_cols, patch_height * patch_width * channels)`` (channels first
      with ``data_format="channels_first"``).

    Example:
      >>> ops.image.extract_patches(tl.zeros([2, 20, 20, 3]), 5).shape   # (2, 4, 4, 75)
    """
    if not isinstance(size, int):
        if not isinstance(size, (tuple, list)):
            raise TypeError(f"extract_patches: size must be an int or a tuple; received size={size!r}")
        if len(size) not in (2, 3):
            raise ValueError(f"extract_patches: size must have length 2 or 3; received size={size!r}")
        if len(size) == 3:
            return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    k = int_tuple("extract_patches", "size", size, 2)
    s = k if not strides else int_tuple("extract_patches", "strides", strides, 2)
    r = int_tuple("extract_patches", "dilation_rate", dilation_rate, 2)
    pad = _padding("extract_patches", padding)
    x, fmt, unbatched = _images("extract_patches", images, data_format)
    y = tl.image.extract_patches(x, [1, *k, 1], [1, *s, 1], [1, *r, 1], pad)
    return _back(y, fmt, unbatched)


def _same_padding(size, k, s, r):
    out = -(-size // s)
    total = max((out - 1) * s + (k - 1) * r + 1 - size, 0)
    return total // 2, total - total // 2


def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid", data_format=None):
    """3-D patches of ``size = (depth, height, width)`` flattened into the channels.

    Args:
      volumes: 4-D ``(depth, height, width, channels)`` or 5-D (a batch).
      size: an int or 3 ints; strides (default ``size``), dilation_rate likewise.
      padding: ``"valid"`` or ``"same"``.

    Returns:
      ``(..., out_d, out_h, out_w, pd * ph * pw * channels)``, (depth, row, column, channel) order.

    Example:
      >>> ops.image.extract_patches_3d(tl.zeros([2, 10, 10, 10, 3]), 3).shape   # (2, 3, 3, 3, 81)
    """
    name = "extract_patches_3d"
    k = int_tuple(name, "size", size, 3)
    s = k if strides is None else int_tuple(name, "strides", strides, 3)
    r = int_tuple(name, "dilation_rate", dilation_rate, 3)
    pad = _padding(name, padding)
    x, fmt, unbatched = _images(name, volumes, data_format, ranks=(4, 5))
    dims = x.shape[1:4]
    if pad == "SAME":
        x = tl.pad(x, [[0, 0]] + [list(_same_padding(d, *a)) for d, a in zip(dims, zip(k, s, r))] + [[0, 0]])
    out = [(x.shape[1 + i] - (k[i] - 1) * r[i] - 1) // s[i] + 1 for i in range(3)]
    if min(out) < 1:
        raise ValueError(f"{name}: patches of size {k} with dilation {r} do not fit volumes of shape "
                         f"{tuple(dims)} with padding {padding!r}")
    # Axis i becomes (out_i, k_i): input index o * stride + j * rate, one gather per axis.
    for i in range(3):
        axis = 1 + 2 * i
        index = [[o * s[i] + j * r[i] for j in range(k[i])] for o in range(out[i])]
        x = tl.gather(x, constant_like(index, tl.int32, x), axis=axis)
    x = tl.transpose(x, [0, 1, 3, 5, 2, 4, 6, 7])  # (n, od, oh, ow, kd, kh, kw, c)
    y = tl.reshape(x, [-1, *out, k[0] * k[1] * k[2] * x.shape[-1]])
    return _back(y, fmt, unbatched)


# ----------------------------------------------------------------------------- filters and quality
def sobel_edges(images, data_format=None):
    """Sobel derivatives of each channel: ``(batch, height, width, channels, 2)`` holding ``[dy, dx]``.

    As Keras' TensorFlow backend (``tf.image.sobel_edges``), the borders are filled
    by reflection; Keras' torch and JAX backends zero-pad, numpy's repeats the edge,
    so only the interior pixels agree across backends.

    Example:
      >>> ops.image.sobel_edges(tl.zeros([1, 8, 8, 1])).shape   # (1, 8, 8, 1, 2)
    """
    x, fmt, _ = _images("sobel_edges", images, data_format, ranks=(4,))
    y = tl.image.sobel_edges(floating(x))
    return y if fmt == "channels_last" else tl.transpose(y, [0, 3, 1, 2, 4])


def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, data_format=None):
    """Structural similarity (Wang et al., 2004) over a Gaussian window, averaged over the image
    and its channels: one value per image (a scalar for unbatched images).

    Example:
      >>> ops.image.ssim(x, x)   # 1.0
    """
    a, fmt, unbatched = _images("ssim", image1, data_format)
    b, _, unbatched2 = _images("ssim", image2, data_format)
    if tuple(a.shape) != tuple(b.shape) or unbatched != unbatched2:
        raise ValueError(f"ssim: image1 and image2 must have the same shape, got {tuple(tensor(image1).shape)} and "
                         f"{tuple(tensor(image2).shape)}")
    a, b = at_least_float32(a), at_least_float32(b)
    if b.dtype != a.dtype:
        b = tl.cast(b, a.dtype)
    out = tl.image.ssim(a, b, max_val, filter_size=filter_size, filter_sigma=filter_sigma, k1=k1, k2=k2)
    return out[0] if unbatched else out


def _gaussian_1d(size, sigma, like):
    with on_device_of(like):
        x = tl.cast(tl.range(0, size), like.dtype) - (size - 1) / 2.0
    k = tl.exp(-0.5 * tl.square(x / sigma))
    return k / tl.reduce_sum(k)


def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Blurs each channel with a Gaussian kernel (zero padding, output the input's size).

    ``kernel_size`` and ``sigma`` are ``(x, y)`` pairs (width first) as in Keras' kernels:
    the kernel is ``kernel_size[1]`` rows by ``kernel_size[0]`` columns. (Keras'
    backends agree only for square kernel sizes.)

    Example:
      >>> ops.image.gaussian_blur(images, kernel_size=(5, 5), sigma=(2.0, 2.0))
    """
    name = "gaussian_blur"
    ks = int_tuple(name, "kernel_size", kernel_size, 2)
    x, fmt, unbatched = _images(name, images, data_format)
    original = x.dtype
    x = at_least_float32(x)
    sx, sy = _sigmas(name, sigma, x)
    kernel = tl.expand_dims(_gaussian_1d(ks[1], sy, x), 1) * tl.expand_dims(_gaussian_1d(ks[0], sx, x), 0)
    kernel = tl.tile(tl.reshape(kernel, [ks[1], ks[0], 1, 1]), [1, 1, x.shape[-1], 1])
    y = tl.nn.depthwise_conv2d(x, kernel, [1, 1, 1, 1], "SAME")
    return _back(y if y.dtype == original else tl.cast(y, original), fmt, unbatched)


def _sigmas(name, sigma, like):
    """``sigma`` as an ``(x, y)`` pair: positive numbers, or scalars of a tensor in ``like``'s dtype."""
    if tl.is_tensor(sigma):
        v = tl.cast(sigma, like.dtype)
        return (v, v) if len(v.shape) == 0 else (v[0], v[1])
    pair = (sigma, sigma) if isinstance(sigma, (int, float)) else tuple(sigma)
    if len(pair) != 2 or not all(isinstance(v, (int, float)) and v > 0 for v in pair):
        raise ValueError(f"{name}: sigma must be a positive number or a pair of them, got {sigma!r}")
    return float(pair[0]), float(pair[1])


# ----------------------------------------------------------------------------- crop / pad
def _sides(name, verb, first, second, target, size, what):
    """(before, after) from exactly two of ``first``, ``second`` and ``target``."""
    names = (f"top_{verb}", f"bottom_{verb}", "target_height") if what == "height" else \
        (f"left_{verb}", f"right_{verb}", "target_width")
    given = (first, second, target)
    if given.count(None) != 1:
        raise ValueError(f"{name}: give exactly two of {', '.join(names)}; received " +
                         ", ".join(f"{n}={v}" for n, v in zip(names, given)))
    for n, v in zip(names, given):
        if v is not None and v < 0:
            raise ValueError(f"{name}: {n} must be >= 0; received {n}={v}")
    sign = 1 if verb == "padding" else -1
    if first is None:
        first = sign * (target - size) - second
    if second is None:
        second = sign * (target - size) - first
    for n, v in zip(names[:2], (first, second)):
        if v < 0:
            raise ValueError(f"{name}: the inferred {n} is {v} (image {what} {size}, {names[2]} {target}); it must "
                             "be >= 0")
    return first, second


def _framed(name, verb, images, sides, data_format):
    """(images channels last, format, unbatched, (top, bottom, left, right)) from Keras' six arguments."""
    x, fmt, unbatched = _images(name, images, data_format)
    h, w = x.shape[1], x.shape[2]
    top, bottom = _sides(name, verb, sides[0], sides[2], sides[4], h, "height")
    left, right = _sides(name, verb, sides[1], sides[3], sides[5], w, "width")
    return x, fmt, unbatched, (top, bottom, left, right)


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None, right_padding=None,
               target_height=None, target_width=None, data_format=None):
    """Zero-pads images; give two of (top, bottom, target height) and two of (left, right, target width).

    Example:
      >>> ops.image.pad_images(tl.zeros([15, 25, 3]), 2, 3, target_height=20, target_width=30).shape   # (20, 30, 3)
    """
    x, fmt, unbatched, (top, bottom, left, right) = _framed(
        "pad_images", "padding", images,
        (top_padding, left_padding, bottom_padding, right_padding, target_height, target_width), data_format)
    return _back(tl.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]), fmt, unbatched)


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None, right_cropping=None,
                target_height=None, target_width=None, data_format=None):
    """Crops images; give two of (top, bottom, target height) and two of (left, right, target width).

    Example:
      >>> ops.image.crop_images(tl.zeros([20, 30, 3]), 2, 3, target_height=15, target_width=25).shape   # (15, 25, 3)
    """
    x, fmt, unbatched, (top, bottom, left, right) = _framed(
        "crop_images", "cropping", images,
        (top_cropping, left_cropping, bottom_cropping, right_cropping, target_height, target_width), data_format)
    h, w = x.shape[1], x.shape[2]
    if top + bottom > h or left + right > w:
        raise ValueError(f"crop_images: cropping top={top}, bottom={bottom}, left={left}, right={right} exceeds the "
                         f"image size {h}x{w}")
    return _back(x[:, top:h - bottom, left:w - right, :], fmt, unbatched)
