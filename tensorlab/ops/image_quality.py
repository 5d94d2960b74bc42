"""Image quality measures (``tl.image``): ``psnr``, ``ssim``, ``ssim_multiscale``, ``total_variation``.

Composites that follow TF's algorithms step for step: integer images are
converted to float ``[0, 1]`` (``max_val`` with them), SSIM's local statistics
are a Gaussian-weighted ``depthwise_conv2d`` with VALID padding, averaged over
the spatial dimensions and then the channels. They run on every device and
differentiate with respect to float images. Float32/float64 images keep their
dtype (TF computes in float32).
"""
import math

from tensorlab.core import dtypes as dt
from tensorlab.core.tensor import Tensor, Variable
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import creation as _cr
from tensorlab.ops import elementwise as _ew
from tensorlab.ops import reduction as _red
from tensorlab.ops import shape as _sh
from tensorlab.ops._rules import broadcast_shapes, fmt, t
from tensorlab.ops.image import _on_device_of, convert_image_dtype

_MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # TF's (Wang et al. 2003) scale weights


def _images(op, a, b, max_val):
    """Both images as float tensors of one dtype, and ``max_val`` scaled as the images were."""
    x, y = t(a), t(b)
    if x.dtype != y.dtype:
        raise TypeError(f"{op}: the images must have one dtype, got {x.dtype.name} and {y.dtype.name}")
    if x.ndim < 3 or y.ndim < 3 or not x.shape[-3:].is_compatible_with(y.shape[-3:]):
        raise InvalidArgumentError(f"{op}: the images must be [..., height, width, channels] with equal last three "
                                   f"dimensions, got shapes {fmt(x.shape)} and {fmt(y.shape)}")
    broadcast_shapes(op, x.shape[:-3], y.shape[:-3])
    d = x.dtype if x.dtype in (dt.float32, dt.float64) else dt.float32
    if isinstance(max_val, (Tensor, Variable)):
        m = convert_image_dtype(_ew.cast(max_val, x.dtype), d)
    else:  # TF casts max_val to the images' dtype first (an int for integer images)
        m = float(int(max_val)) / x.dtype.max if x.dtype.is_integer else float(max_val)
    return convert_image_dtype(x, d), convert_image_dtype(y, d), m


def psnr(a, b, max_val, name=None):
    """Peak signal-to-noise ratio between two images (or batches): ``10 log10(max_val^2 / MSE)``.

    Args:
      a, b: images ``[..., height, width, channels]`` of one dtype; leading
        (batch) dimensions broadcast.
      max_val: the dynamic range of the pixel values (e.g. 255 or 1.0).

    Returns:
      One PSNR per image, shape ``a.shape[:-3]`` (broadcast with ``b``'s);
      float32 (float64 for float64 images). Identical images give ``inf``.

    Example:
      >>> round(float(tl.image.psnr(tl.fill([8, 8, 3], 0.5), tl.fill([8, 8, 3], 0.6), max_val=1.0)), 4)
      20.0
    """
    x, y, m = _images("psnr", a, b, max_val)
    mse = _red.reduce_mean(_ew.squared_difference(x, y), [-3, -2, -1])
    log10 = math.log(10.0)
    if isinstance(m, Tensor):
        peak = _ew.multiply(_ew.log(m), 20.0 / log10)
    elif m > 0:
        peak = 20.0 * math.log(m) / log10
    else:
        raise InvalidArgumentError(f"psnr: max_val must be positive, got {max_val!r}")
    return _ew.subtract(peak, _ew.multiply(_ew.log(mse), 10.0 / log10))


def _gaussian(size, sigma, x):
    """TF's ``_fspecial_gauss`` kernel, tiled for a depthwise convolution: ``[size, size, channels, 1]``."""
    with _on_device_of(x):
        coords = _ew.subtract(_cr.range(size, dtype=x.dtype), (size - 1) / 2.0)
    g = _ew.multiply(_ew.square(coords), -0.5 / float(sigma) ** 2)
    g = _ew.add(_sh.reshape(g, [1, -1]), _sh.reshape(g, [-1, 1]))
    from tensorlab.ops.nn import softmax
    g = softmax(_sh.reshape(g, [1, -1]))
    return _sh.tile(_sh.reshape(g, [size, size, 1, 1]), [1, 1, x.shape[-1], 1])


def _lead(shape):
    """Leading dims for a reshape: a single unknown one becomes -1."""
    dims = list(shape)
    return [-1 if d is None else d for d in dims] if dims.count(None) == 1 else dims


def _ssim_maps(op, x, y, m, filter_size, filter_sigma, k1, k2):
    """TF's ``_ssim_per_channel`` before the spatial mean: (luminance * contrast-structure, contrast-structure)."""
    from tensorlab.ops.conv import depthwise_conv2d
    fs = int(filter_size)
    for img in (x, y):
        h, w = img.shape[-3], img.shape[-2]
        if h is not None and w is not None and (h < fs or w < fs):
            raise InvalidArgumentError(f"{op}: the images' height and width ({h}x{w}, shape {fmt(img.shape)}) must be "
                                       f"at least filter_size {fs}")
    kernel = _gaussian(fs, filter_sigma, x)

    def reducer(v):  # the Gaussian-weighted local mean of v, over [..., h, w, c]
        flat = v if v.ndim == 4 else _sh.reshape(v, [-1] + list(v.shape[-3:]))
        out = depthwise_conv2d(flat, kernel, strides=[1, 1, 1, 1], padding="VALID")
        return out if v.ndim == 4 else _sh.reshape(out, _lead(v.shape[:-3]) + list(out.shape[1:]))

    if isinstance(m, Tensor):
        c1, c2 = _ew.square(_ew.multiply(m, k1)), _ew.square(_ew.multiply(m, k2))
    else:
        c1, c2 = (k1 * m) ** 2, (k2 * m) ** 2
    mean0, mean1 = reducer(x), reducer(y)
    num0 = _ew.multiply(_ew.multiply(mean0, mean1), 2.0)
    den0 = _ew.add(_ew.square(mean0), _ew.square(mean1))
    luminance = _ew.truediv(_ew.add(num0, c1), _ew.add(den0, c1))
    num1 = _ew.multiply(reducer(_ew.multiply(x, y)), 2.0)
    den1 = reducer(_ew.add(_ew.square(x), _ew.square(y)))
    cs = _ew.truediv(_ew.add(_ew.subtract(num1, num0), c2), _ew.add(_ew.subtract(den1, den0), c2))
    return _ew.multiply(luminance, cs), cs


def ssim(img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03, return_index_map=False):
    """Structural similarity (SSIM) between two images (or batches), TF's ``tf.image.ssim``.

    Local means, variances and the covariance come from an
    ``filter_size x filter_size`` Gaussian window (std ``filter_sigma``) over
    the VALID positions; SSIM = luminance * contrast-structure, averaged over
    height and width, then over channels.

    Args:
      img1, img2: images ``[..., height, width, channels]`` of one dtype, at
        least ``filter_size`` high and wide; leading dimensions broadcast.
      max_val: the dynamic range of the pixel values (e.g. 255 or 1.0).
      filter_size, filter_sigma: the Gaussian window.
      k1, k2: SSIM's stabilizing constants (``c = (k * max_val) ** 2``).
      return_index_map: return the SSIM map ``[..., h', w']`` (averaged over
        channels only) instead of its mean.

    Returns:
      One SSIM per image, shape ``img1.shape[:-3]`` (broadcast with ``img2``'s);
      float32 (float64 for float64 images).

    Example:
      >>> x = tl.random.uniform([2, 16, 16, 3])
      >>> tl.image.ssim(x, x, max_val=1.0).numpy()
      array([1., 1.], dtype=float32)
    """
    x, y, m = _images("ssim", img1, img2, max_val)
    s, _ = _ssim_maps("ssim", x, y, m, filter_size, filter_sigma, k1, k2)
    if not return_index_map:
        s = _red.reduce_mean(s, [-3, -2])
    return _red.reduce_mean(s, [-1])


def _downscale(x):
    """TF's MS-SSIM step: pad odd height/width by symmetric reflection at the end, then 2x2 average pooling."""
    h, w, c = x.shape[-3:]
    lead = [[0, 0]] * (x.ndim - 3)
    if h % 2 or w % 2:
        x = _sh.pad(x, lead + [[0, h % 2], [0, w % 2], [0, 0]], mode="SYMMETRIC")
        h, w = h + h % 2, w + w % 2
    blocks = _sh.reshape(x, _lead(x.shape[:-3]) + [h // 2, 2, w // 2, 2, c])
    return _red.reduce_mean(blocks, [-4, -2])


def ssim_multiscale(img1, img2, max_val, power_factors=_MSSSIM_WEIGHTS, filter_size=11, filter_sigma=1.5, k1=0.01,
                    k2=0.03):
    """Multi-scale SSIM (MS-SSIM) between two images (or batches), TF's ``tf.image.ssim_multiscale``.

    At each of ``len(power_factors)`` scales (each half the size of the one
    before) the contrast-structure term is measured; the last scale uses the
    full SSIM. The result is their product, each raised to its power factor,
    averaged over channels.

    Args:
      img1, img2: images ``[..., height, width, channels]`` of one dtype, large
        enough that the smallest scale is at least ``filter_size`` pixels
        (about ``filter_size * 2 ** (len(power_factors) - 1)``: 176 by default).
      max_val: the dynamic range of the pixel values.
      power_factors: one weight per scale (default: TF's five).
      filter_size, filter_sigma, k1, k2: as for ``ssim``.

    Returns:
      One MS-SSIM per image, shape ``img1.shape[:-3]``; float32 (float64 for float64 images).

    Example:
      >>> x = tl.random.uniform([1, 180, 180, 1])
      >>> tl.image.ssim_multiscale(x, x * 0.9, max_val=1.0).shape
      TensorShape([1])
    """
    x, y, m = _images("ssim_multiscale", img1, img2, max_val)
    factors = [float(p) for p in (power_factors.numpy().tolist() if hasattr(power_factors, "numpy")
                                  else power_factors)]
    if not factors:
        raise InvalidArgumentError("ssim_multiscale: power_factors must hold at least one weight")
    h, w = x.shape[-3], x.shape[-2]
    if h is not None and w is not None:
        sizes = [(h, w)]
        for _ in factors[1:]:
            sizes.append((-(-sizes[-1][0] // 2), -(-sizes[-1][1] // 2)))
        if min(sizes[-1]) < int(filter_size):
            raise InvalidArgumentError(
                f"ssim_multiscale: images of {h}x{w} (shape {fmt(x.shape)}) shrink to {sizes[-1][0]}x{sizes[-1][1]} at "
                f"the last of {len(factors)} scales, smaller than filter_size {int(filter_size)}; use larger "
                "images, fewer power_factors or a smaller filter_size")
    mcs = []
    for k in range(len(factors)):
        if k:
            x, y = _downscale(x), _downscale(y)
        s, cs = _ssim_maps("ssim_multiscale", x, y, m, filter_size, filter_sigma, k1, k2)
        mcs.append(_red.reduce_mean(cs, [-3, -2]))
    from tensorlab.ops.nn import relu
    scores = [relu(v) for v in mcs[:-1]] + [relu(_red.reduce_mean(s, [-3, -2]))]
    stacked = _sh.stack(scores, axis=-1)
    with _on_device_of(stacked):
        weights = _cr.constant(factors, stacked.dtype)
    return _red.reduce_mean(_red.reduce_prod(_ew.pow(stacked, weights), [-1]), [-1])


def total_variation(images, name=None):
    """The sum of absolute differences between neighbouring pixels, per image (``tf.image.total_variation``).

    Args:
      images: ``[height, width, channels]`` or ``[batch, height, width, channels]``.

    Returns:
      A scalar for one image, ``[batch]`` for a batch; the images' dtype.

    Example:
      >>> x = tl.reshape(tl.constant([0., 1., 3., 6.]), [2, 2, 1])
      >>> tl.image.total_variation(x).numpy()   # |3-0| + |6-1| + |1-0| + |6-3|
      12.0
    """
    x = t(images)
    if x.ndim not in (3, 4):
        raise InvalidArgumentError(f"total_variation: images must be 3-D [height, width, channels] or 4-D [batch, "
                                   f"height, width, channels], got shape {fmt(x.shape)}")
    h_ax = x.ndim - 3
    axes = None if x.ndim == 3 else [1, 2, 3]
    terms = []
    for ax in (h_ax, h_ax + 1):
        n = x.shape[ax]
        lo = [slice(None)] * x.ndim
        hi = [slice(None)] * x.ndim
        lo[ax], hi[ax] = slice(0, max(n - 1, 0)), slice(1, n)
        terms.append(_red.reduce_sum(_ew.abs(_ew.subtract(x[tuple(hi)], x[tuple(lo)])), axis=axes))
    return _ew.add(*terms)


__all__ = []
IMAGE = ["psnr", "ssim", "ssim_multiscale", "total_variation"]
