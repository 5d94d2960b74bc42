"""More ``keras.ops.nn`` (Keras 3): attention, layer/RMS normalization, sparse activations,
pixel shuffles, PSNR, im2col (``unfold``/``fold``) and adaptive pooling.

All are compositions of tensorlab ops, so they run on the input's device and are
differentiable. ``polar`` is not provided: it returns complex numbers, which
tensorlab does not represent.

    from tensorlab.keras import ops
    y = ops.dot_product_attention(q, k, v, is_causal=True)
"""
import math
import warnings

import tensorlab as tl
from tensorlab.keras import backend as _backend
from tensorlab.keras.ops._common import at_least_float32, channels_back, channels_last, constant_like
from tensorlab.keras.ops._common import data_format as _data_format
from tensorlab.keras.ops._common import floating, int_tuple, on_device_of, tensor

__all__ = ["sparse_sigmoid", "sparsemax", "depth_to_space", "space_to_depth", "psnr", "dot_product_attention",
           "layer_normalization", "rms_normalization", "unfold", "fold", "adaptive_average_pool",
           "adaptive_max_pool"]


# ----------------------------------------------------------------------------- activations
def sparse_sigmoid(x):
    """0 for ``x <= -1``, ``(x + 1) / 2`` for ``-1 < x < 1``, 1 for ``x >= 1``.

    Example:
      >>> ops.sparse_sigmoid([-6.0, 0.0, 6.0])   # [0., 0.5, 1.]
    """
    return tl.clip_by_value(0.5 * (floating(x) + 1.0), 0.0, 1.0)


def sparsemax(x, axis=-1):
    """Sparsemax (Martins & Astudillo, 2016): ``max(x - tau(x), 0)`` along ``axis``, with ``tau``
    chosen so the outputs sum to 1 (a projection onto the simplex; many outputs are exactly 0).

    Note: Keras 3.15's kernels sum the cumulative sums over the support when computing
    ``tau``, so theirs sum to 1 only when a single entry survives; this follows the paper.

    Example:
      >>> ops.sparsemax([1.0, 0.8, -1.0])   # [0.6, 0.4, 0.]
    """
    x = floating(x)
    ndim = len(x.shape)
    if not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise ValueError(f"sparsemax: axis must be an int in [{-ndim}, {ndim}) for shape {tuple(x.shape)}, "
                         f"got {axis!r}")
    axis %= ndim
    n = x.shape[axis]
    z = tl.sort(x, axis=axis, direction="DESCENDING")
    cumsum = tl.math.cumsum(z, axis=axis)
    shape = [1] * ndim
    shape[axis] = n
    with on_device_of(x):
        k = tl.reshape(tl.cast(tl.range(1, n + 1), x.dtype), shape)
    support = tl.cast(tl.greater(1.0 + k * z, cumsum), x.dtype)
    size = tl.reduce_sum(support, axis=axis, keepdims=True)
    # cumsum at the last supported position = the sum of the supported (sorted) entries.
    tau = (tl.reduce_sum(support * z, axis=axis, keepdims=True) - 1.0) / size
    return tl.nn.relu(x - tau)


# ----------------------------------------------------------------------------- pixel shuffles, PSNR
def _block(name, x, block_size, fmt):
    x = tensor(x)
    if len(x.shape) != 4:
        raise ValueError(f"{name}: x must be 4-D ((batch, height, width, channels) or (batch, channels, height, "
                         f"width)), got shape {tuple(x.shape)}")
    if not isinstance(block_size, int) or block_size < 2:
        raise ValueError(f"{name}: block_size must be an int >= 2, got {block_size!r}")
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"{name}: data_format must be 'channels_last' or 'channels_first', got {fmt!r}")
    return x


def depth_to_space(x, block_size, data_format="channels_last"):
    """Moves channels into ``block_size x block_size`` pixel blocks (pixel shuffle).

    channels_last: TF's ``depth_to_space`` (input channel ``(dy * b + dx) * C + c``);
    channels_first: PyTorch's ``pixel_shuffle`` (input channel ``c * b * b + dy * b + dx``),
    as Keras' numpy, JAX and torch backends.

    Example:
      >>> ops.depth_to_space(tl.zeros([1, 2, 2, 8]), 2).shape   # (1, 4, 4, 2)
    """
    x = _block("depth_to_space", x, block_size, data_format)
    if data_format == "channels_last":
        return tl.nn.depth_to_space(x, block_size)
    b, (c, h, w) = block_size, x.shape[1:]
    if c % (b * b):
        raise ValueError(f"depth_to_space: channels {c} must be divisible by block_size ** 2 = {b * b} (shape "
                         f"{tuple(x.shape)}, channels_first)")
    y = tl.transpose(tl.reshape(x, [-1, c // (b * b), b, b, h, w]), [0, 1, 4, 2, 5, 3])
    return tl.reshape(y, [-1, c // (b * b), h * b, w * b])


def space_to_depth(x, block_size, data_format="channels_last"):
    """Moves ``block_size x block_size`` pixel blocks into the channels; the inverse of ``depth_to_space``
    (TF's order for channels_last, PyTorch's ``pixel_unshuffle`` for channels_first).

    Example:
      >>> ops.space_to_depth(tl.zeros([1, 4, 4, 2]), 2).shape   # (1, 2, 2, 8)
    """
    x = _block("space_to_depth", x, block_size, data_format)
    if data_format == "channels_last":
        return tl.nn.space_to_depth(x, block_size)
    b, (c, h, w) = block_size, x.shape[1:]
    if h % b or w % b:
        raise ValueError(f"space_to_depth: height {h} and width {w} must be divisible by block_size {b} (shape "
                         f"{tuple(x.shape)}, channels_first)")
    y = tl.transpose(tl.reshape(x, [-1, c, h // b, b, w // b, b]), [0, 1, 3, 5, 2, 4])
    return tl.reshape(y, [-1, c * b * b, h // b, w // b])


def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio over all elements: ``20 log10(max_val) - 10 log10(mean((x1 - x2)**2))``.

    Example:
      >>> ops.psnr(tl.fill([4, 4], 0.5), tl.fill([4, 4], 0.6), 1.0)   # 20.0
    """
    a, b = at_least_float32(x1), at_least_float32(x2)
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(f"psnr: x1 and x2 must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    if b.dtype != a.dtype:
        b = tl.cast(b, a.dtype)
    # One "image" holding every element: tl.image.psnr then means over all of them.
    return tl.image.psnr(tl.reshape(a, [-1, 1, 1]), tl.reshape(b, [-1, 1, 1]), max_val)


# ----------------------------------------------------------------------------- attention
def _large_negative(dtype):
    return -0.7 * (65500.0 if dtype == tl.float16 else 3.38953e38)


def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    """Scaled dot-product attention: ``softmax(q k^T * scale + bias, masked) v``.

    Args:
      query: ``(B, T, N, H)``.
      key, value: ``(B, S, K, H)``; ``N`` a multiple of ``K`` gives grouped-query attention
        (query head ``n`` reads key head ``n // (N // K)``).
      bias: added to the logits; broadcastable to ``(B, N, T, S)``.
      mask: boolean, broadcastable to ``(B, N, T, S)``; True takes part.
      scale: logit scale, default ``1 / sqrt(H)``.
      is_causal: query ``t`` attends to keys ``s <= t``.
      flash_attention: a hint, as in Keras (its backends fall back without a fused
        kernel); tensorlab computes the same attention either way.
      attn_logits_soft_cap: only JAX on TPU supports it in Keras; must be None.

    Returns:
      ``(B, T, N, H)``, in the inputs' dtype; logits and softmax run in float32 or wider.

    Example:
      >>> ops.dot_product_attention(q, k, v, is_causal=True)
    """
    if attn_logits_soft_cap is not None:
        raise ValueError("dot_product_attention: attn_logits_soft_cap is only supported for JAX on TPU; set "
                         "attn_logits_soft_cap=None")
    q, k, v = floating(query), floating(key), floating(value)
    for what, t in (("query", q), ("key", k), ("value", v)):
        if len(t.shape) != 4:
            raise ValueError(f"dot_product_attention: only 4-D inputs (batch, length, heads, head_dim) are "
                             f"supported, got {what}.shape={tuple(t.shape)} (query {tuple(q.shape)}, key "
                             f"{tuple(k.shape)}, value {tuple(v.shape)})")
    heads, kv_heads = q.shape[2], k.shape[2]
    if tuple(k.shape) != tuple(v.shape) or q.shape[-1] != k.shape[-1] or heads % kv_heads:
        raise ValueError(f"dot_product_attention: key and value must have one shape (B, S, K, H) with the "
                         f"query's H, and the query's heads N a multiple of K; got query {tuple(q.shape)}, key "
                         f"{tuple(k.shape)}, value {tuple(v.shape)}")
    # Keras: the inputs in their common dtype; logits and softmax in it or float32, if wider.
    out_dtype = tl.as_dtype(_backend.result_type(q.dtype.name, k.dtype.name, v.dtype.name))
    compute = tl.as_dtype(_backend.result_type(out_dtype.name, "float32"))
    if heads != kv_heads:
        k = tl.repeat(k, heads // kv_heads, axis=2)
        v = tl.repeat(v, heads // kv_heads, axis=2)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    qt = tl.cast(tl.transpose(q, [0, 2, 1, 3]), compute)
    kt = tl.cast(tl.transpose(k, [0, 2, 1, 3]), compute)
    logits = tl.matmul(qt, kt, transpose_b=True) * scale
    if bias is not None:
        logits = logits + tl.cast(tensor(bias), compute)
    keep = None
    if mask is not None:
        keep = tensor(mask)
        keep = keep if keep.dtype == tl.bool else tl.not_equal(keep, 0)
    if is_causal:
        t_len, s_len = logits.shape[2], logits.shape[3]
        with on_device_of(logits):
            causal = tl.cast(tl.linalg.band_part(tl.ones([t_len, s_len], tl.int32), -1, 0), tl.bool)
        keep = causal if keep is None else tl.logical_and(keep, causal)
    if keep is not None:
        logits = tl.where(keep, logits, _large_negative(compute))
    probs = tl.cast(tl.nn.softmax(logits, axis=-1), out_dtype)
    out = tl.matmul(probs, tl.cast(tl.transpose(v, [0, 2, 1, 3]), out_dtype))
    return tl.transpose(out, [0, 2, 1, 3])


# ----------------------------------------------------------------------------- normalization
def _norm_axes(name, x, axis):
    ndim = max(len(x.shape), 1)
    axes = [axis] if isinstance(axis, int) else list(axis)
    if not axes or not all(isinstance(a, int) and -ndim <= a < ndim for a in axes):
        raise ValueError(f"{name}: axis must be an int or a list of ints in [{-ndim}, {ndim}) for shape "
                         f"{tuple(x.shape)}, got {axis!r}")
    return sorted(a % ndim for a in axes)


def _param(v, x, axes):
    """A gamma/beta/scale vector broadcast against ``x`` along ``axes`` (Keras' ``_broadcast``)."""
    if v is None:
        return None
    v = tl.cast(tensor(v), x.dtype)
    ndim = len(x.shape)
    if len(v.shape) != ndim and axes != [ndim - 1]:
        shape = [1] * ndim
        for a in axes:
            shape[a] = x.shape[a]
        v = tl.reshape(v, shape)
    return v


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis`` (Ba et al., 2016).

    Computes in float32 or wider and returns ``x``'s dtype. ``epsilon`` defaults to
    ``backend.epsilon()``. ``rms_scaling=True`` (deprecated in Keras) divides by the
    standard deviation without centering.

    Example:
      >>> ops.layer_normalization([1.0, 2.0, 3.0, 4.0, 5.0])   # [-1.41, -0.71, 0., 0.71, 1.41]
    """
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization: unexpected keyword arguments {sorted(kwargs)}; valid: gamma, beta, "
                        "axis, epsilon, rms_scaling")
    if rms_scaling:
        warnings.warn("layer_normalization: rms_scaling=True is deprecated (it scales by the variance, not the root "
                      "mean square); use ops.rms_normalization instead", stacklevel=2)
    x = tensor(x)
    original = x.dtype if x.dtype.is_floating else tl.as_dtype(_backend.floatx())
    xf = at_least_float32(x)
    epsilon = _backend.epsilon() if epsilon is None else epsilon
    axes = _norm_axes("layer_normalization", xf, axis)
    gamma, beta = _param(gamma, xf, axes), _param(beta, xf, axes)
    mean = tl.reduce_mean(xf, axis=axes, keepdims=True)
    variance = tl.reduce_mean(tl.square(xf - mean), axis=axes, keepdims=True)
    inv = tl.math.rsqrt(variance + epsilon)
    if gamma is not None:
        inv = inv * gamma
    if rms_scaling:
        out = xf * inv
    else:
        out = (xf - mean) * inv
        if beta is not None:
            out = out + beta
    return out if out.dtype == original else tl.cast(out, original)


def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``x * rsqrt(mean(x**2, axis) + epsilon) * scale`` (Zhang & Sennrich, 2019).

    Computes in float32 or wider and returns ``x``'s dtype; ``epsilon`` defaults to
    ``backend.epsilon()``.

    Example:
      >>> ops.rms_normalization([[3.0, 4.0]])   # [[0.8485, 1.1314]]
    """
    x = tensor(x)
    original = x.dtype if x.dtype.is_floating else tl.as_dtype(_backend.floatx())
    xf = at_least_float32(x)
    if len(xf.shape) == 0:
        xf = tl.reshape(xf, [1])
    epsilon = _backend.epsilon() if epsilon is None else epsilon
    axes = _norm_axes("rms_normalization", xf, axis)
    out = xf * tl.math.rsqrt(tl.reduce_mean(tl.square(xf), axis=axes, keepdims=True) + epsilon)
    if scale is not None:
        out = out * tl.cast(tensor(scale), xf.dtype)
    return out if out.dtype == original else tl.cast(out, original)


# ----------------------------------------------------------------------------- unfold / fold (im2col)
def _im2col_index(name, size, kernel_size, dilation, padding, stride):
    """(kernel, dilation, padding, stride pairs, output grid, flat positions ``[kH*kW, L]`` in the padded image)."""
    k = int_tuple(name, "kernel_size", kernel_size, 2)
    d = int_tuple(name, "dilation", dilation, 2)
    p = int_tuple(name, "padding", padding, 2, minimum=0)
    s = int_tuple(name, "stride", stride, 2)
    padded = [size[i] + 2 * p[i] for i in range(2)]
    grid = [(padded[i] - d[i] * (k[i] - 1) - 1) // s[i] + 1 for i in range(2)]
    if min(grid) < 1:
        raise ValueError(f"{name}: the kernel {k} with dilation {d} does not fit the padded spatial size "
                         f"{tuple(padded)} (input {tuple(size)}, padding {p})")
    index = [[(oh * s[0] + i * d[0]) * padded[1] + ow * s[1] + j * d[1]
              for oh in range(grid[0]) for ow in range(grid[1])]
             for i in range(k[0]) for j in range(k[1])]
    return k, p, padded, grid, index


def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of a channels_first batch (im2col, ``torch.nn.functional.unfold``).

    Args:
      x: ``(N, C, H, W)``.
      kernel_size, dilation, padding, stride: ints or pairs; zero ``padding`` on both sides.

    Returns:
      ``(N, C * kH * kW, L)``, ``L`` the number of block positions (row-major).

    Example:
      >>> ops.unfold(tl.zeros([1, 2, 3, 4]), 2).shape   # (1, 8, 6)
    """
    x = tensor(x)
    if len(x.shape) != 4:
        raise ValueError(f"unfold: x must be 4-D (N, C, H, W), got shape {tuple(x.shape)}")
    n, c, h, w = x.shape
    k, p, padded, grid, index = _im2col_index("unfold", (h, w), kernel_size, dilation, padding, stride)
    if any(p):
        x = tl.pad(x, [[0, 0], [0, 0], [p[0], p[0]], [p[1], p[1]]])
    flat = tl.reshape(x, [-1, c, padded[0] * padded[1]])
    blocks = tl.gather(flat, constant_like(index, tl.int32, x), axis=2)
    return tl.reshape(blocks, [-1, c * k[0] * k[1], grid[0] * grid[1]])


def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding blocks back into a channels_first batch (col2im, the adjoint of ``unfold``).

    Args:
      x: ``(N, C * kH * kW, L)`` with ``L`` the number of block positions.
      output_size: ``(H, W)`` (or an int) of the result.

    Returns:
      ``(N, C, H, W)``; overlapping entries add up.

    Example:
      >>> ops.fold(ops.unfold(x, 2), (3, 4), 2)   # x times the number of blocks covering each pixel
    """
    x = tensor(x)
    if len(x.shape) != 3:
        raise ValueError(f"fold: x must be 3-D (N, C * kH * kW, L), got shape {tuple(x.shape)}")
    out = int_tuple("fold", "output_size", output_size, 2)
    k, p, padded, grid, index = _im2col_index("fold", out, kernel_size, dilation, padding, stride)
    ckk, blocks = x.shape[1], x.shape[2]
    if ckk % (k[0] * k[1]) or blocks != grid[0] * grid[1]:
        raise ValueError(f"fold: x of shape {tuple(x.shape)} does not match kernel_size {k} and output_size {out}: "
                         f"dimension 1 must be a multiple of {k[0] * k[1]} and dimension 2 must be "
                         f"{grid[0] * grid[1]} (the block positions)")
    c = ckk // (k[0] * k[1])
    # (N, C, kH*kW*L) -> (kH*kW*L, N, C), summed into the padded image's positions.
    rows = tl.transpose(tl.reshape(x, [-1, c, k[0] * k[1] * blocks]), [2, 0, 1])
    ids = constant_like([i for r in index for i in r], tl.int32, x)
    image = tl.math.unsorted_segment_sum(rows, ids, padded[0] * padded[1])
    image = tl.reshape(tl.transpose(image, [1, 2, 0]), [-1, c, padded[0], padded[1]])
    return image[:, :, p[0]:p[0] + out[0], p[1]:p[1] + out[1]]


# ----------------------------------------------------------------------------- adaptive pooling
def _adaptive_pool(name, inputs, output_size, fmt, reduce_max):
    x = tensor(inputs)
    spatial = len(x.shape) - 2
    if spatial not in (1, 2, 3):
        raise ValueError(f"{name}: inputs must be 3-D, 4-D or 5-D (batch, *spatial, channels), got shape "
                         f"{tuple(x.shape)}")
    fmt = _data_format(name, fmt)
    out = int_tuple(name, "output_size", output_size, spatial)
    if not reduce_max:
        x = floating(x)
    x = channels_last(x, fmt, spatial)
    for i, o in enumerate(out):
        axis = i + 1
        size = x.shape[axis]
        # Window j covers [floor(j * size / o), ceil((j + 1) * size / o)), as torch and Keras.
        starts = [j * size // o for j in range(o)]
        ends = [-(-(j + 1) * size // o) for j in range(o)]
        width = max(e - s for s, e in zip(starts, ends))
        index = [[min(s + m, e - 1) for m in range(width)] for s, e in zip(starts, ends)]
        windows = tl.gather(x, constant_like(index, tl.int32, x), axis=axis)
        if reduce_max:
            x = tl.reduce_max(windows, axis=axis + 1)
        else:
            weights = [[1.0 / (e - s) if m < e - s else 0.0 for m in range(width)] for s, e in zip(starts, ends)]
            w = tl.reshape(constant_like(weights, x.dtype, x), [o, width] + [1] * (len(windows.shape) - axis - 2))
            x = tl.reduce_sum(windows * w, axis=axis + 1)
    return channels_back(x, fmt, spatial)


def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed ``output_size``: window ``j`` of ``n`` input cells along an axis
    covers ``[floor(j n / o), ceil((j + 1) n / o))`` (PyTorch's and Keras' rule).

    Args:
      inputs: 3-D, 4-D or 5-D (1-D, 2-D or 3-D pooling), channels last unless
        ``data_format="channels_first"``.
      output_size: an int or one per spatial dimension.

    Example:
      >>> ops.adaptive_average_pool(tl.zeros([2, 100, 80, 3]), 7).shape   # (2, 7, 7, 3)
    """
    return _adaptive_pool("adaptive_average_pool", inputs, output_size, data_format, False)


def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed ``output_size`` (the windows of ``adaptive_average_pool``).

    Example:
      >>> ops.adaptive_max_pool(tl.zeros([2, 64, 64, 3]), (32, 32)).shape   # (2, 32, 32, 3)
    """
    return _adaptive_pool("adaptive_max_pool", inputs, output_size, data_format, True)
