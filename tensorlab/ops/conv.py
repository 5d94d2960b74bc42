"""Convolutions: conv2d (grouped, dilated, strided) and its two backprops,
plus the TF functions built on them (conv1d, conv2d_transpose, depthwise and
separable convolutions; the 3-D ones are in ``conv3d.py``).

Layouts follow TF: activations NHWC, filters HWIO ``[kh, kw, in_ch // groups,
out_ch]``. The three primitives are each other's gradients, so any order of
derivative works: the forward conv is linear in ``x`` and in ``w``, and its
backprops are the adjoints of those two linear maps.
"""
from tensorlab.core.registry import defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import shape as _shape
from tensorlab.ops._rules import check_same_dtype, fmt, require_float, t, tf


# ----------------------------------------------------------------- window geometry
def window_output_size(name, size, k, stride, dilation, pad_before, pad_after):
    """Output length of a sliding window over ``size`` (None stays None)."""
    if size is None or pad_before is None or pad_after is None or k is None:
        return None
    eff = (k - 1) * dilation + 1
    span = size + pad_before + pad_after
    if span < eff:
        raise InvalidArgumentError(
            f"{name}: the window (size {k}, dilation {dilation}, so {eff} wide) is larger than the "
            f"padded input ({size} + pads {pad_before}+{pad_after} = {span}); use a smaller kernel, "
            "padding='SAME' or a larger input")
    return (span - eff) // stride + 1


def compute_padding(name, size, k, stride, dilation, padding):
    """TF's output length and pads for one spatial dim.

    Args:
      name: the op name (for errors).
      size: input length (None if unknown).
      k: window length; stride, dilation: ints.
      padding: "SAME", "VALID" or an explicit ``(before, after)`` pair.

    Returns:
      ``(out, pad_before, pad_after)``. SAME gives ``out = ceil(size / stride)``
      and puts the odd padding cell after (bottom/right), exactly as TF does;
      with an unknown ``size`` the pads are None.

    Example:
      >>> compute_padding("conv2d", 5, 3, 2, 1, "SAME")
      (3, 1, 1)
    """
    eff = (k - 1) * dilation + 1
    if isinstance(padding, str):
        if padding == "VALID":
            if size is None:
                return None, 0, 0
            return window_output_size(name, size, k, stride, dilation, 0, 0), 0, 0
        if size is None:
            return None, None, None
        out = -(-size // stride)
        total = max((out - 1) * stride + eff - size, 0)
        return out, total // 2, total - total // 2
    before, after = padding
    return window_output_size(name, size, k, stride, dilation, before, after), before, after


def norm_padding(name, padding, nspatial):
    """"SAME"/"VALID" (any case) or explicit pads -> "SAME", "VALID" or ((b, a), ...) per spatial dim."""
    if isinstance(padding, str):
        p = padding.upper()
        if p not in ("SAME", "VALID"):
            raise InvalidArgumentError(
                f"{name}: padding must be 'SAME', 'VALID' or a list of (before, after) pairs, got {padding!r}")
        return p
    try:
        pairs = [tuple(int(v) for v in pr) for pr in padding]
    except (TypeError, ValueError):
        raise InvalidArgumentError(
            f"{name}: padding must be 'SAME', 'VALID' or a list of (before, after) pairs, got {padding!r}") from None
    if len(pairs) == nspatial + 2:
        if pairs[0] != (0, 0) or pairs[-1] != (0, 0):
            raise InvalidArgumentError(
                f"{name}: explicit padding of the batch and channel dims must be [0, 0], got {padding!r}")
        pairs = pairs[1:-1]
    if len(pairs) != nspatial or any(len(pr) != 2 or min(pr) < 0 for pr in pairs):
        raise InvalidArgumentError(
            f"{name}: explicit padding needs {nspatial} (or {nspatial + 2}) non-negative (before, after) "
            f"pairs, got {padding!r}")
    return tuple(pairs)


def norm_window(name, what, value, nspatial, default=None):
    """Strides/dilations/ksize as a tuple of ``nspatial`` ints (TF accepts 1, N or N+2 values)."""
    if value is None:
        value = default
    if hasattr(value, "numpy"):
        value = value.numpy().tolist()
    vals = [int(value)] if isinstance(value, int) or not hasattr(value, "__len__") else [int(v) for v in value]
    if len(vals) == 1:
        vals = vals * nspatial
    elif len(vals) == nspatial + 2:
        if vals[0] != 1 or vals[-1] != 1:
            raise InvalidArgumentError(
                f"{name}: {what} {list(value)} must be 1 in the batch and channel dims (NHWC)")
        vals = vals[1:-1]
    if len(vals) != nspatial or any(v < 1 for v in vals):
        raise InvalidArgumentError(
            f"{name}: {what} must be a positive int or a list of 1, {nspatial} or {nspatial + 2} "
            f"positive ints, got {value!r}")
    return tuple(vals)


def check_data_format(name, data_format, allowed):
    if data_format is not None and data_format not in allowed:
        raise InvalidArgumentError(
            f"{name}: data_format {data_format!r} is not supported; tensorlab supports channels-last "
            f"{' / '.join(allowed)} (transpose the input to channels-last first)")


# ----------------------------------------------------------------- primitives
def _check_rank(name, spec, rank, what):
    if spec.ndim != rank:
        raise InvalidArgumentError(f"{name}: {what} must have rank {rank}, got shape {fmt(spec.shape)}")


def _conv_out_shape(name, x_shape, w_shape, strides, pads, dilations, groups):
    n, h, w_, c = x_shape
    kh, kw, icg, oc = w_shape
    if c is not None and icg is not None and c != icg * groups:
        raise InvalidArgumentError(
            f"{name}: input depth {c} (input shape {fmt(x_shape)}) does not match the filter: "
            f"in_channels {icg} x groups {groups} = {icg * groups} (filter shape {fmt(w_shape)}); "
            "the filter's third dim must be input depth / groups")
    if oc is not None and oc % groups:
        raise InvalidArgumentError(
            f"{name}: out_channels {oc} (filter shape {fmt(w_shape)}) is not a multiple of groups {groups}")
    oh = window_output_size(name, h, kh, strides[0], dilations[0], pads[0], pads[1])
    ow = window_output_size(name, w_, kw, strides[1], dilations[1], pads[2], pads[3])
    return (n, oh, ow, oc)


def _conv2d_rule(x, w, strides, pads, dilations, groups):
    _check_rank("conv2d", x, 4, "input (NHWC)")
    _check_rank("conv2d", w, 4, "filters ([kh, kw, in_ch/groups, out_ch])")
    require_float("conv2d", x)
    d = check_same_dtype("conv2d", x, w)
    return TensorSpec(_conv_out_shape("conv2d", x.shape, w.shape, strides, pads, dilations, groups), d)


def _compatible(a, b):
    return len(a) == len(b) and all(p is None or q is None or p == q for p, q in zip(a, b))


def _backprop_input_rule(dy, w, input_shape, strides, pads, dilations, groups):
    name = "conv2d_backprop_input"
    _check_rank(name, dy, 4, "dy (NHWC)")
    _check_rank(name, w, 4, "filters")
    require_float(name, dy)
    d = check_same_dtype(name, dy, w)
    if len(input_shape) != 4:
        raise InvalidArgumentError(f"{name}: input_shape must have 4 dims (NHWC), got {list(input_shape)}")
    expect = _conv_out_shape(name, tuple(input_shape), w.shape, strides, pads, dilations, groups)
    if not _compatible(expect, dy.shape):
        raise InvalidArgumentError(
            f"{name}: dy shape {fmt(dy.shape)} does not match the conv2d output shape {fmt(expect)} "
            f"of an input of shape {fmt(input_shape)} with filters {fmt(w.shape)}, strides {strides}, "
            f"pads {pads}, dilations {dilations}")
    n = input_shape[0] if input_shape[0] is not None else dy.shape[0]
    return TensorSpec((n,) + tuple(input_shape[1:]), d)


def _backprop_filter_rule(x, dy, filter_shape, strides, pads, dilations, groups):
    name = "conv2d_backprop_filter"
    _check_rank(name, x, 4, "input (NHWC)")
    _check_rank(name, dy, 4, "dy (NHWC)")
    require_float(name, x)
    d = check_same_dtype(name, x, dy)
    if len(filter_shape) != 4:
        raise InvalidArgumentError(f"{name}: filter_shape must have 4 dims (HWIO), got {list(filter_shape)}")
    expect = _conv_out_shape(name, x.shape, tuple(filter_shape), strides, pads, dilations, groups)
    if not _compatible(expect, dy.shape):
        raise InvalidArgumentError(
            f"{name}: dy shape {fmt(dy.shape)} does not match the conv2d output shape {fmt(expect)} "
            f"of input {fmt(x.shape)} and filters {fmt(filter_shape)}")
    return TensorSpec(tuple(filter_shape), d)


conv2d_p = primitive("conv2d", _conv2d_rule)
conv2d_backprop_input_p = primitive("conv2d_backprop_input", _backprop_input_rule)
conv2d_backprop_filter_p = primitive("conv2d_backprop_filter", _backprop_filter_rule)


@defgrad(conv2d_p)
def _conv2d_grad(g, out, x, w, **p):
    # Deferred: the input gradient of a network's first conv is rarely needed.
    return (lambda: conv2d_backprop_input_p(g, w, input_shape=tuple(x.shape), **p),
            lambda: conv2d_backprop_filter_p(x, g, filter_shape=tuple(w.shape), **p))


@defgrad(conv2d_backprop_input_p)
def _backprop_input_grad(g, out, dy, w, input_shape, **p):
    # dx = A_w^T dy, so <dx, g> = <conv(g, w), dy>: d/ddy = conv(g, w), d/dw = backprop_filter(g, dy).
    return conv2d_p(g, w, **p), conv2d_backprop_filter_p(g, dy, filter_shape=tuple(w.shape), **p)


@defgrad(conv2d_backprop_filter_p)
def _backprop_filter_grad(g, out, x, dy, filter_shape, **p):
    # <dw, g> = <conv(x, g), dy>: d/dx = backprop_input(dy, g), d/ddy = conv(x, g).
    return conv2d_backprop_input_p(dy, g, input_shape=tuple(x.shape), **p), conv2d_p(x, g, **p)


# ----------------------------------------------------------------- public functions
def _pads_2d(name, in_hw, k_hw, strides, dilations, padding):
    pads = []
    for i in range(2):
        pad = padding if isinstance(padding, str) else padding[i]
        _, b, a = compute_padding(name, in_hw[i], k_hw[i], strides[i], dilations[i], pad)
        pads += [b, a]
    return tuple(pads)


def _groups(name, x, w):
    c, icg = x.shape[-1], w.shape[-2]
    if c is None or icg is None:
        return 1
    if icg < 1 or c % icg:
        raise InvalidArgumentError(
            f"{name}: input depth {c} (input shape {fmt(x.shape)}) must equal the filter's in_channels "
            f"{icg} (filter shape {fmt(w.shape)}) or be a multiple of it (grouped convolution)")
    return c // icg


def _conv2d(name, x, w, strides, padding, dilations):
    if x.ndim != 4 or w.ndim != 4:
        raise InvalidArgumentError(
            f"{name}: expected a rank-4 NHWC input and rank-4 filters, got input shape {fmt(x.shape)} "
            f"and filter shape {fmt(w.shape)}")
    strides = norm_window(name, "strides", strides, 2)
    dilations = norm_window(name, "dilations", dilations, 2, default=1)
    padding = norm_padding(name, padding, 2)
    groups = _groups(name, x, w)
    pads = _pads_2d(name, tuple(x.shape[1:3]), tuple(w.shape[:2]), strides, dilations, padding)
    return conv2d_p(x, w, strides=strides, pads=pads, dilations=dilations, groups=groups)


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None, name=None):
    """Computes a 2-D convolution of an NHWC input with HWIO filters (``tf.nn.conv2d``).

    If the input depth is a multiple of the filters' ``in_channels``, the
    convolution is grouped (``groups = depth // in_channels``), as in TF.

    Args:
      input: float tensor ``[batch, height, width, in_channels]``.
      filters: ``[kh, kw, in_channels // groups, out_channels]``, same dtype.
      strides: an int or a list of 1, 2 or 4 ints (``[1, sh, sw, 1]``).
      padding: ``"SAME"``, ``"VALID"`` or explicit pads
        ``[[0, 0], [top, bottom], [left, right], [0, 0]]``.
      data_format: only ``"NHWC"`` is supported.
      dilations: an int or a list of 1, 2 or 4 ints (default 1).

    Returns:
      ``[batch, out_height, out_width, out_channels]``; with SAME padding
      ``out_height = ceil(height / sh)``.

    Example:
      >>> x = tl.random.normal([2, 28, 28, 3])
      >>> w = tl.random.normal([3, 3, 3, 16])
      >>> tl.nn.conv2d(x, w, strides=2, padding="SAME").shape
      TensorShape([2, 14, 14, 16])
    """
    check_data_format("conv2d", data_format, ("NHWC",))
    x, w = tf(input, "conv2d"), t(filters)
    return _conv2d("conv2d", x, w, strides, padding, dilations)


def _expand_h(x):
    """[N, W, C] -> [N, 1, W, C]."""
    return _shape.expand_dims(x, 1)


def _expand_filter(w):
    """[kw, i, o] -> [1, kw, i, o]."""
    return _shape.expand_dims(w, 0)


def _squeeze_h(y):
    """[N, 1, W, C] -> [N, W, C]."""
    return _shape.squeeze(y, [1])


def _padding_1d(name, padding):
    p = norm_padding(name, padding, 1)
    return p if isinstance(p, str) else ((0, 0),) + p


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None, name=None):
    """Computes a 1-D convolution of an NWC input with ``[kw, in, out]`` filters (``tf.nn.conv1d``).

    Args:
      input: ``[batch, width, in_channels]``.
      filters: ``[kw, in_channels // groups, out_channels]``.
      stride: an int or a list of 1 or 3 ints.
      padding: ``"SAME"``, ``"VALID"`` or explicit ``[[left, right]]``.
      data_format: only ``"NWC"`` is supported.
      dilations: an int or a list of 1 or 3 ints.

    Returns:
      ``[batch, out_width, out_channels]``.

    Example:
      >>> tl.nn.conv1d(tl.ones([2, 10, 4]), tl.ones([3, 4, 8]), 1, "VALID").shape
      TensorShape([2, 8, 8])
    """
    check_data_format("conv1d", data_format, ("NWC",))
    x, w = tf(input, "conv1d"), t(filters)
    if x.ndim != 3 or w.ndim != 3:
        raise InvalidArgumentError(
            f"conv1d: expected a rank-3 NWC input and rank-3 filters [kw, in, out], got input shape "
            f"{fmt(x.shape)} and filter shape {fmt(w.shape)}")
    s = (1,) + norm_window("conv1d", "stride", stride, 1)
    d = (1,) + norm_window("conv1d", "dilations", dilations, 1, default=1)
    y = _conv2d("conv1d", _expand_h(x), _expand_filter(w), s, _padding_1d("conv1d", padding), d)
    return _squeeze_h(y)


def _known(name, x, dims, what):
    for i in dims:
        if x.shape[i] is None:
            raise InvalidArgumentError(f"{name}: the {what} of the input must be known, got shape {fmt(x.shape)}")


def _output_shape(name, output_shape, x, w, rank):
    if hasattr(output_shape, "numpy"):
        output_shape = output_shape.numpy().tolist()
    shp = [None if d is None else int(d) for d in output_shape]
    if len(shp) == rank - 2:
        shp = [x.shape[0]] + shp + [w.shape[-2]]
    if len(shp) != rank:
        raise InvalidArgumentError(
            f"{name}: output_shape must have {rank} (or {rank - 2}) entries, got {list(output_shape)}")
    if shp[0] is None or (x.shape[0] is not None and shp[0] != x.shape[0]):
        shp[0] = x.shape[0]
    if shp[-1] is not None and w.shape[-2] is not None and shp[-1] != w.shape[-2]:
        raise InvalidArgumentError(
            f"{name}: output_shape depth {shp[-1]} ({list(output_shape)}) must equal the filters' "
            f"output channels {w.shape[-2]} (filter shape {fmt(w.shape)} is [kh, kw, out_ch, in_ch])")
    return tuple(shp)


def _conv2d_transpose(name, x, w, output_shape, strides, padding, dilations):
    if x.ndim != 4 or w.ndim != 4:
        raise InvalidArgumentError(
            f"{name}: expected a rank-4 NHWC input and rank-4 filters [kh, kw, out_ch, in_ch], got "
            f"input shape {fmt(x.shape)} and filter shape {fmt(w.shape)}")
    out = _output_shape(name, output_shape, x, w, 4)
    strides = norm_window(name, "strides", strides, 2)
    dilations = norm_window(name, "dilations", dilations, 2, default=1)
    padding = norm_padding(name, padding, 2)
    c_in, ocg = x.shape[-1], w.shape[-1]
    groups = 1
    if c_in is not None and ocg is not None and c_in != ocg:
        raise InvalidArgumentError(
            f"{name}: input depth {c_in} (input shape {fmt(x.shape)}) must equal the filters' in_channels "
            f"{ocg} (filter shape {fmt(w.shape)} is [kh, kw, out_ch, in_ch])")
    pads = _pads_2d(name, out[1:3], tuple(w.shape[:2]), strides, dilations, padding)
    return conv2d_backprop_input_p(x, w, input_shape=out, strides=strides, pads=pads,
                                   dilations=dilations, groups=groups)


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NHWC",
                     dilations=None, name=None):
    """The transpose (gradient) of ``conv2d`` (``tf.nn.conv2d_transpose``).

    Args:
      input: ``[batch, height, width, in_channels]``.
      filters: ``[kh, kw, out_channels, in_channels]`` (TF's order).
      output_shape: the ``[batch, out_height, out_width, out_channels]`` of the
        result (a list or 1-D tensor; ``[out_height, out_width]`` also works).
        ``conv2d`` of that shape with the same strides/padding must give
        ``input``'s shape.
      strides, padding, dilations: as in ``conv2d``.
      data_format: only ``"NHWC"`` is supported.

    Returns:
      A tensor of ``output_shape``.

    Example:
      >>> y = tl.ones([1, 4, 4, 8])
      >>> tl.nn.conv2d_transpose(y, tl.ones([3, 3, 3, 8]), [1, 8, 8, 3], 2).shape
      TensorShape([1, 8, 8, 3])
    """
    check_data_format("conv2d_transpose", data_format, ("NHWC",))
    x, w = tf(input, "conv2d_transpose"), t(filters)
    return _conv2d_transpose("conv2d_transpose", x, w, output_shape, strides, padding, dilations)


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NWC",
                     dilations=None, name=None):
    """The transpose of ``conv1d`` (``tf.nn.conv1d_transpose``); filters ``[kw, out_ch, in_ch]``.

    Args:
      input: ``[batch, width, in_channels]``.
      filters: ``[kw, out_channels, in_channels]``.
      output_shape: ``[batch, out_width, out_channels]``.
      strides, padding, dilations: as in ``conv1d``.

    Returns:
      A tensor of ``output_shape``.
    """
    check_data_format("conv1d_transpose", data_format, ("NWC",))
    x, w = tf(input, "conv1d_transpose"), t(filters)
    if x.ndim != 3 or w.ndim != 3:
        raise InvalidArgumentError(
            f"conv1d_transpose: expected a rank-3 NWC input and rank-3 filters, got input shape "
            f"{fmt(x.shape)} and filter shape {fmt(w.shape)}")
    if hasattr(output_shape, "numpy"):
        output_shape = output_shape.numpy().tolist()
    out = list(output_shape)
    if len(out) != 3:
        raise InvalidArgumentError(f"conv1d_transpose: output_shape must have 3 entries, got {out}")
    s = (1,) + norm_window("conv1d_transpose", "strides", strides, 1)
    d = (1,) + norm_window("conv1d_transpose", "dilations", dilations, 1, default=1)
    y = _conv2d_transpose("conv1d_transpose", _expand_h(x), _expand_filter(w), [out[0], 1, out[1], out[2]],
                          s, _padding_1d("conv1d_transpose", padding), d)
    return _squeeze_h(y)


def depthwise_conv2d(input, filter, strides, padding, data_format=None, dilations=None, name=None):
    """Depthwise 2-D convolution (``tf.nn.depthwise_conv2d``): each input channel
    is convolved with its own ``channel_multiplier`` filters.

    Args:
      input: ``[batch, height, width, in_channels]``.
      filter: ``[kh, kw, in_channels, channel_multiplier]``.
      strides: a list of 4 ints ``[1, sh, sw, 1]`` (or 1 or 2 ints).
      padding: ``"SAME"``, ``"VALID"`` or explicit pads.
      data_format: ``None`` or ``"NHWC"``.
      dilations: 1 or 2 ints.

    Returns:
      ``[batch, out_height, out_width, in_channels * channel_multiplier]``;
      output channel ``c * channel_multiplier + m`` uses filter ``[:, :, c, m]``.

    Example:
      >>> tl.nn.depthwise_conv2d(tl.ones([1, 5, 5, 3]), tl.ones([3, 3, 3, 2]), [1, 1, 1, 1], "SAME").shape
      TensorShape([1, 5, 5, 6])
    """
    check_data_format("depthwise_conv2d", data_format, ("NHWC",))
    x, w = tf(input, "depthwise_conv2d"), t(filter)
    if x.ndim != 4 or w.ndim != 4:
        raise InvalidArgumentError(
            f"depthwise_conv2d: expected a rank-4 NHWC input and a rank-4 filter [kh, kw, in_ch, multiplier], "
            f"got input shape {fmt(x.shape)} and filter shape {fmt(w.shape)}")
    c, cw = x.shape[-1], w.shape[2]
    if c is not None and cw is not None and c != cw:
        raise InvalidArgumentError(
            f"depthwise_conv2d: input depth {c} (input shape {fmt(x.shape)}) must equal the filter's "
            f"in_channels {cw} (filter shape {fmt(w.shape)})")
    kh, kw, _, m = w.shape
    w1 = _shape.reshape(w, [kh, kw, 1, -1])
    return _conv2d("depthwise_conv2d", x, w1, strides, padding, dilations)


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding, data_format=None,
                     dilations=None, name=None):
    """A depthwise convolution followed by a 1x1 convolution (``tf.nn.separable_conv2d``).

    Args:
      input: ``[batch, height, width, in_channels]``.
      depthwise_filter: ``[kh, kw, in_channels, channel_multiplier]``.
      pointwise_filter: ``[1, 1, in_channels * channel_multiplier, out_channels]``.
      strides, padding, dilations: of the depthwise step.

    Returns:
      ``[batch, out_height, out_width, out_channels]``.
    """
    y = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format, dilations)
    return _conv2d("separable_conv2d", y, t(pointwise_filter), 1, "VALID", 1)


def convolution(input, filters, strides=None, padding="VALID", data_format=None, dilations=None,
                name=None):
    """N-D convolution (``tf.nn.convolution``) for 1-D (rank-3), 2-D (rank-4) and 3-D (rank-5) inputs."""
    x = t(input)
    strides = 1 if strides is None else strides
    if x.ndim == 3:
        check_data_format("convolution", data_format, ("NWC",))
        return conv1d(x, filters, strides, padding, dilations=dilations)
    if x.ndim == 4:
        check_data_format("convolution", data_format, ("NHWC",))
        return conv2d(x, filters, strides, padding, dilations=dilations)
    if x.ndim == 5:
        from tensorlab.ops.conv3d import conv3d
        check_data_format("convolution", data_format, ("NDHWC",))
        return conv3d(x, filters, strides, padding, dilations=dilations)
    raise InvalidArgumentError(
        f"convolution: only 1-D (rank-3), 2-D (rank-4) and 3-D (rank-5) inputs are supported, got shape "
        f"{fmt(x.shape)}")


def atrous_conv2d(value, filters, rate, padding, name=None):
    """Atrous (dilated) 2-D convolution of an NHWC input (``tf.nn.atrous_conv2d``).

    ``conv2d`` with stride 1 and the filter taps ``rate`` pixels apart in both
    spatial dimensions (``dilations=rate``).

    Args:
      value: float ``[batch, height, width, in_channels]``.
      filters: ``[kh, kw, in_channels, out_channels]``, same dtype.
      rate: a positive int, the dilation.
      padding: ``"SAME"`` or ``"VALID"``.

    Returns:
      ``[batch, out_height, out_width, out_channels]``; with VALID padding
      ``out_height = height - (kh - 1) * rate``.

    Example:
      >>> tl.nn.atrous_conv2d(tl.ones([1, 7, 7, 2]), tl.ones([3, 3, 2, 4]), rate=2, padding="VALID").shape
      TensorShape([1, 3, 3, 4])
    """
    op = "atrous_conv2d"
    if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
        raise InvalidArgumentError(f"{op}: rate must be a positive integer (the dilation), got {rate!r}")
    if not isinstance(padding, str) or padding.upper() not in ("SAME", "VALID"):
        raise InvalidArgumentError(f"{op}: padding must be 'SAME' or 'VALID', got {padding!r}")
    return _conv2d(op, tf(value, op), t(filters), 1, padding, rate)


__all__ = []
NN = ["conv1d", "conv2d", "conv2d_transpose", "conv1d_transpose", "depthwise_conv2d", "separable_conv2d",
      "convolution", "atrous_conv2d"]
