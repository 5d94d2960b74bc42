"""3-D convolutions (``tf.nn.conv3d``, ``conv3d_transpose``), NDHWC activations and DHWIO filters.

Both are compositions of the 2-D primitives of ``conv.py``: one 2-D convolution (or its input
gradient) per filter depth tap over the depth slices that tap meets, folded into the batch. So a
GPU runs the conv2d kernels, and every order of gradient is conv2d's.
"""
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import shape as _shape
from tensorlab.ops._rules import check_same_dtype, fmt, t, tf
from tensorlab.ops.conv import (_groups, _known, _output_shape, _pads_2d, check_data_format, compute_padding,
                                conv2d_backprop_input_p, conv2d_p, norm_padding, norm_window, window_output_size)


def _conv3d_args(name, input, filters, layout, data_format, strides, padding, dilations):
    """The checked and normalized arguments of conv3d / conv3d_transpose: ``(x, w, strides,
    padding, dilations)``; ``layout`` names the filter dims in the rank error."""
    check_data_format(name, data_format, ("NDHWC",))
    x, w = tf(input, name), t(filters)
    if x.ndim != 5 or w.ndim != 5:
        raise InvalidArgumentError(
            f"{name}: expected a rank-5 NDHWC input and rank-5 filters {layout}, got input shape "
            f"{fmt(x.shape)} and filter shape {fmt(w.shape)}")
    _known(name, x, (1, 2, 3), "depth, height and width")
    check_same_dtype(name, x, w)
    return (x, w, norm_window(name, "strides", strides, 3), norm_padding(name, padding, 3),
            norm_window(name, "dilations", dilations, 3, default=1))


def conv3d(input, filters, strides, padding, data_format="NDHWC", dilations=None, name=None):
    """Computes a 3-D convolution of an NDHWC input with DHWIO filters (``tf.nn.conv3d``).

    It runs as one 2-D convolution per filter depth tap: the input depth slices that tap
    meets are folded into the batch, so the GPU runs the conv2d kernels, and the gradients
    (of any order) are conv2d's.

    Args:
      input: float tensor ``[batch, depth, height, width, in_channels]``.
      filters: ``[kd, kh, kw, in_channels // groups, out_channels]``, same dtype (grouped
        when the input depth is a multiple of ``in_channels``, as in TF).
      strides: an int or a list of 1, 3 or 5 ints (``[1, sd, sh, sw, 1]``).
      padding: ``"SAME"``, ``"VALID"`` or explicit pads
        ``[[0, 0], [front, back], [top, bottom], [left, right], [0, 0]]``.
      data_format: only ``"NDHWC"`` is supported.
      dilations: an int or a list of 1, 3 or 5 ints (default 1).

    Returns:
      ``[batch, out_depth, out_height, out_width, out_channels]``.

    Example:
      >>> x = tl.random.normal([2, 8, 16, 16, 3])
      >>> tl.nn.conv3d(x, tl.random.normal([3, 3, 3, 3, 8]), 1, "SAME").shape
      TensorShape([2, 8, 16, 16, 8])
    """
    name = "conv3d"
    x, w, strides, padding, dilations = _conv3d_args(name, input, filters, "[kd, kh, kw, in, out]", data_format,
                                                     strides, padding, dilations)
    groups = _groups(name, x, w)
    if w.shape[-1] is not None and w.shape[-1] % groups:
        raise InvalidArgumentError(f"{name}: out_channels {w.shape[-1]} (filter shape {fmt(w.shape)}) is not a "
                                   f"multiple of groups {groups}")
    kd = w.shape[0]
    od, front, back = compute_padding(name, x.shape[1], kd, strides[0], dilations[0],
                                      padding if isinstance(padding, str) else padding[0])
    pads_hw = _pads_2d(name, tuple(x.shape[2:4]), tuple(w.shape[1:3]), strides[1:], dilations[1:],
                       padding if isinstance(padding, str) else padding[1:])
    if front or back:
        x = _shape.pad(x, [[0, 0], [front, back], [0, 0], [0, 0], [0, 0]])
    _, _, h, wd, c = x.shape
    y = None
    for k in range(kd):  # the depth slices tap k meets, as one batch of 2-D images
        start = k * dilations[0]
        planes = x[:, start:start + (od - 1) * strides[0] + 1:strides[0]]
        part = conv2d_p(_shape.reshape(planes, [-1, h, wd, c]), w[k], strides=strides[1:], pads=pads_hw,
                        dilations=dilations[1:], groups=groups)
        y = part if y is None else y + part
    return _shape.reshape(y, [-1, od] + list(y.shape[1:]))


def conv3d_transpose(input, filters, output_shape, strides, padding="SAME", data_format="NDHWC",
                     dilations=None, name=None):
    """The transpose (gradient) of ``conv3d`` (``tf.nn.conv3d_transpose``).

    Each filter depth tap's 2-D transposed convolution of every input depth slice lands on the
    output depth that slice came from in ``conv3d`` (stride and dilation placed by zero
    stuffing and padding); the taps are summed and the depth padding cropped. All composite
    ops, so every order of gradient works and the GPU runs the conv2d kernels.

    Args:
      input: ``[batch, depth, height, width, in_channels]``.
      filters: ``[kd, kh, kw, out_channels, in_channels]`` (TF's order).
      output_shape: the ``[batch, out_depth, out_height, out_width, out_channels]`` of the result
        (``[out_depth, out_height, out_width]`` also works); ``conv3d`` of that shape with the
        same strides/padding must give ``input``'s shape.
      strides, padding, dilations: as in ``conv3d``.
      data_format: only ``"NDHWC"`` is supported.

    Returns:
      A tensor of ``output_shape``.

    Example:
      >>> y = tl.ones([1, 2, 4, 4, 8])
      >>> tl.nn.conv3d_transpose(y, tl.ones([3, 3, 3, 3, 8]), [1, 4, 8, 8, 3], 2).shape
      TensorShape([1, 4, 8, 8, 3])
    """
    from tensorlab.ops.creation import zeros_like
    name = "conv3d_transpose"
    x, w, strides, padding, dilations = _conv3d_args(name, input, filters, "[kd, kh, kw, out_ch, in_ch]",
                                                     data_format, strides, padding, dilations)
    out = _output_shape(name, output_shape, x, w, 5)
    if None in out[1:]:
        raise InvalidArgumentError(f"{name}: the output's depth, height, width and channels must be known, got "
                                   f"output_shape {list(output_shape)}")
    if x.shape[-1] is not None and w.shape[-1] is not None and x.shape[-1] != w.shape[-1]:
        raise InvalidArgumentError(
            f"{name}: input depth {x.shape[-1]} (input shape {fmt(x.shape)}) must equal the filters' in_channels "
            f"{w.shape[-1]} (filter shape {fmt(w.shape)} is [kd, kh, kw, out_ch, in_ch])")
    kd, (sd, dd) = w.shape[0], (strides[0], dilations[0])
    _, d, h, wd, c = out
    od, front, back = compute_padding(name, d, kd, sd, dd, padding if isinstance(padding, str) else padding[0])
    pads_hw = _pads_2d(name, (h, wd), tuple(w.shape[1:3]), strides[1:], dilations[1:],
                       padding if isinstance(padding, str) else padding[1:])
    oh_ow = tuple(window_output_size(name, n, k, st, dl, pads_hw[2 * i], pads_hw[2 * i + 1])
                  for i, (n, k, st, dl) in enumerate(zip((h, wd), w.shape[1:3], strides[1:], dilations[1:])))
    if (od,) + oh_ow != tuple(x.shape[1:4]):
        raise InvalidArgumentError(
            f"{name}: conv3d of output_shape {list(out)} with these strides and padding gives spatial shape "
            f"{[od, *oh_ow]}, not the input's {list(x.shape[1:4])}")
    depth = d + front + back
    span = (od - 1) * sd + 1
    flat = _shape.reshape(x, [-1] + list(x.shape[2:]))
    y = None
    for k in range(kd):
        z = conv2d_backprop_input_p(flat, w[k], input_shape=(flat.shape[0], h, wd, c), strides=strides[1:],
                                    pads=pads_hw, dilations=dilations[1:], groups=1)
        z = _shape.reshape(z, [-1, od, h, wd, c])
        if sd > 1:  # slice i sits at depth i * sd: interleave sd - 1 empty slices
            z = _shape.reshape(_shape.stack([z] + [zeros_like(z)] * (sd - 1), axis=2), [-1, od * sd, h, wd, c])
            z = z[:, :span]
        z = _shape.pad(z, [[0, 0], [k * dd, depth - span - k * dd], [0, 0], [0, 0], [0, 0]])
        y = z if y is None else y + z
    return y[:, front:front + d] if front or back else y


__all__ = []
NN = ["conv3d", "conv3d_transpose"]
