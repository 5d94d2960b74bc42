"""Convolution layers: Conv1D, Conv2D, Conv1DTranspose, Conv2DTranspose, DepthwiseConv1D/2D, SeparableConv1D/2D."""
import tensorlab as tl
from tensorlab.keras import activations, constraints, initializers, regularizers
from tensorlab.keras.layers._common import (add_bias_and_activate, check_ndim, conv_output_length,
                                            deconv_output_length, kernel_bias_config, normalize_data_format,
                                            normalize_padding, normalize_tuple, set_kernel_bias_args, shape_str,
                                            to_channels_first, to_channels_last)
from tensorlab.keras.layers.base import Layer


class _Conv(Layer):
    """Shared argument handling of the N-D convolution layers (N = ``rank``)."""

    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        r = self.rank
        self.filters = None if filters is None else int(filters)
        if self.filters is not None and self.filters <= 0:
            raise ValueError(f"{type(self).__name__}: `filters` must be a positive integer; received {filters!r}")
        self.kernel_size = normalize_tuple(kernel_size, r, "kernel_size")
        self.strides = normalize_tuple(strides, r, "strides")
        self.padding = normalize_padding(padding, allow_causal=(r == 1))
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, r, "dilation_rate")
        self.groups = int(groups)
        if self.filters is not None and self.filters % self.groups:
            raise ValueError(f"{type(self).__name__}: `filters` ({self.filters}) must be divisible by "
                             f"`groups` ({self.groups})")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{type(self).__name__}: strides > 1 together with dilation_rate > 1 is not "
                             f"supported; received strides={self.strides}, dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_kernel_bias_args(self, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                             kernel_constraint, bias_constraint)

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def _in_channels(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            raise ValueError(f'Input 0 of layer "{self.name}" ({type(self).__name__}) is incompatible with the '
                             f"layer: expected ndim={self.rank + 2}, found ndim={len(input_shape)}. "
                             f"Full shape received: {shape_str(input_shape)}")
        c = input_shape[self._channel_axis()]
        if c is None:
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}): the channel dimension of the inputs '
                             f"must be known; received input shape {shape_str(input_shape)}")
        return c

    def _kernel_shape(self, c):
        if c % self.groups:
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}): the number of input channels ({c}) '
                             f"must be divisible by groups ({self.groups})")
        return self.kernel_size + (c // self.groups, self.filters)

    def build(self, input_shape):
        c = self._in_channels(input_shape)
        self.kernel = self.add_weight(name="kernel", shape=self._kernel_shape(c),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, trainable=True)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self._out_channels(c),),
                                        initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint, trainable=True)
        self._built_channels = c
        self.built = True

    def _out_channels(self, c):
        return self.filters

    def _check_input(self, x):
        check_ndim(self, x, ndim=self.rank + 2)
        c = x.shape[self._channel_axis()]
        if c is not None and c != self._built_channels:
            raise ValueError(f'Input 0 of layer "{self.name}" ({type(self).__name__}) is incompatible with the '
                             f"layer: expected axis {self._channel_axis()} of input shape to have value "
                             f"{self._built_channels}, but received input with shape {shape_str(tuple(x.shape))}")

    def call(self, inputs):
        self._check_input(inputs)
        x = inputs
        if x.dtype.name != self.compute_dtype:
            x = tl.cast(x, self.compute_dtype)
        if self.data_format == "channels_first":
            x = to_channels_last(x, self.rank)
        y = add_bias_and_activate(self._convolve(x), None if self.bias is None else self.bias.value(),
                                  self.activation)
        if self.data_format == "channels_first":
            y = to_channels_first(y, self.rank)
        return y

    def _spatial_out(self, sizes):
        return tuple(conv_output_length(n, k, self.padding, s, d)
                     for n, k, s, d in zip(sizes, self.kernel_size, self.strides, self.dilation_rate))

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        c = self._out_channels(s[self._channel_axis()])
        if self.data_format == "channels_last":
            return (s[0],) + self._spatial_out(s[1:-1]) + (c,)
        return (s[0], c) + self._spatial_out(s[2:])

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
            "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
            "groups": self.groups, "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **kernel_bias_config(self),
        })
        return config


class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)`` inputs (temporal convolution).

    Args:
      filters: number of output channels.
      kernel_size: int or 1-tuple, the window length.
      strides: int or 1-tuple.
      padding: ``"valid"``, ``"same"`` or ``"causal"`` (output[t] sees only input[:t+1]).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      dilation_rate: int or 1-tuple.
      groups: number of channel groups (``filters`` and the input channels must divide by it).
      activation, use_bias, *_initializer, *_regularizer, *_constraint: as in ``Dense``.

    Kernel shape: ``(kernel_size, in_channels // groups, filters)``.

    Example:
      >>> tl.keras.layers.Conv1D(8, 3)(tl.ones((2, 10, 4))).shape
      TensorShape([2, 8, 8])
    """

    rank = 1

    def _convolve(self, x):
        pad = self.padding.upper()
        if self.padding == "causal":
            pad = [[(self.kernel_size[0] - 1) * self.dilation_rate[0], 0]]
        return tl.nn.conv1d(x, self.kernel, self.strides[0], pad, dilations=self.dilation_rate[0])


class Conv2D(_Conv):
    """2-D convolution over images ``(batch, height, width, channels)``.

    Args:
      filters: number of output channels.
      kernel_size: int or ``(kh, kw)``.
      strides: int or ``(sh, sw)``.
      padding: ``"valid"`` (default) or ``"same"`` (output size ``ceil(input / stride)``).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      dilation_rate: int or ``(dh, dw)``.
      groups: number of channel groups.
      activation, use_bias, *_initializer, *_regularizer, *_constraint: as in ``Dense``.

    Kernel shape: ``(kh, kw, in_channels // groups, filters)``.

    Example:
      >>> tl.keras.layers.Conv2D(16, 3, padding="same", activation="relu")(tl.ones((1, 28, 28, 1))).shape
      TensorShape([1, 28, 28, 16])
    """

    rank = 2

    def _convolve(self, x):
        return tl.nn.conv2d(x, self.kernel, self.strides, self.padding.upper(), dilations=self.dilation_rate)


class Conv2DTranspose(_Conv):
    """Transposed 2-D convolution ("deconvolution"): the gradient of ``Conv2D``.

    Args:
      filters: number of output channels.
      kernel_size, strides, padding, data_format, dilation_rate: as in ``Conv2D``.
      output_padding: int or ``(ph, pw)``: extra rows/columns added to one side
        of the output (each must be smaller than the stride); None infers the size.
      activation, use_bias, *_initializer, *_regularizer, *_constraint: as in ``Dense``.

    Kernel shape: ``(kh, kw, filters, in_channels)``.

    Example:
      >>> tl.keras.layers.Conv2DTranspose(3, 3, strides=2, padding="same")(tl.ones((1, 4, 4, 8))).shape
      TensorShape([1, 8, 8, 3])
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, **kwargs)
        self.output_padding = None if output_padding is None else normalize_tuple(
            output_padding, self.rank, "output_padding", allow_zero=True)
        if self.output_padding is not None and any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{type(self).__name__}: each output_padding {self.output_padding} must be smaller "
                             f"than the stride {self.strides}")

    def _kernel_shape(self, c):
        return self.kernel_size + (self.filters, c)

    def _spatial_out(self, sizes):
        op = self.output_padding or (None,) * self.rank
        return tuple(deconv_output_length(n, k, self.padding, s, p, d) for n, k, s, p, d in
                     zip(sizes, self.kernel_size, self.strides, op, self.dilation_rate))

    def _convolve(self, x):
        h, w = self._spatial_out(tuple(x.shape[1:3]))
        out_shape = (x.shape[0], h, w, self.filters)
        # The string padding and the explicit output size fix the result as in TF/Keras.
        pad = self.padding.upper()
        return tl.nn.conv2d_transpose(x, self.kernel, out_shape, self.strides, pad, dilations=self.dilation_rate)

    def get_config(self):
        config = super().get_config()
        config.pop("groups", None)
        config["output_padding"] = self.output_padding
        return config


class Conv1DTranspose(Conv2DTranspose):
    """Transposed 1-D convolution over ``(batch, steps, channels)``: the gradient of ``Conv1D``.

    Computed as a ``Conv2DTranspose`` on a height-1 image.

    Args:
      filters: number of output channels.
      kernel_size, strides, dilation_rate: int or 1-tuple.
      padding: ``"valid"`` (default) or ``"same"``.
      output_padding: int or 1-tuple: extra steps added to the end of the output
        (smaller than the stride); None infers the length.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      activation, use_bias, *_initializer, *_regularizer, *_constraint: as in ``Dense``.

    Kernel shape: ``(kernel_size, filters, in_channels)``. Output length (no
    output_padding): ``steps * stride`` with "same", ``steps * stride +
    max(kernel - stride, 0)`` with "valid" (kernel dilated).

    Example:
      >>> tl.keras.layers.Conv1DTranspose(3, 3, strides=2, padding="same")(tl.ones((1, 5, 8))).shape
      TensorShape([1, 10, 3])
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)
        if self.padding == "causal":
            raise ValueError("Conv1DTranspose: `padding` must be one of ('valid', 'same'); received 'causal'")

    def _convolve(self, x):
        (n,) = self._spatial_out((x.shape[1],))
        b = x.shape[0]
        y = tl.nn.conv2d_transpose(tl.expand_dims(x, 1), tl.expand_dims(self.kernel, 0), (b, 1, n, self.filters),
                                   (1,) + self.strides, self.padding.upper(), dilations=(1,) + self.dilation_rate)
        return tl.squeeze(y, axis=1)


class DepthwiseConv2D(_Conv):
    """Depthwise 2-D convolution: each input channel gets its own ``depth_multiplier`` filters.

    Args:
      kernel_size, strides, padding, data_format, dilation_rate: as in ``Conv2D``.
      depth_multiplier: output channels per input channel.
      depthwise_initializer, depthwise_regularizer, depthwise_constraint: for the kernel.
      activation, use_bias, bias_*: as in ``Dense``.

    Kernel shape: ``(kh, kw, in_channels, depth_multiplier)``; output channels
    ``in_channels * depth_multiplier``.

    Example:
      >>> tl.keras.layers.DepthwiseConv2D(3, depth_multiplier=2)(tl.ones((1, 5, 5, 3))).shape
      TensorShape([1, 3, 3, 6])
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=(1, 1), activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(None, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=depthwise_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=depthwise_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, kernel_constraint=depthwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = int(depth_multiplier)

    def _kernel_shape(self, c):
        return self.kernel_size + (c, self.depth_multiplier)

    def _out_channels(self, c):
        return None if c is None else c * self.depth_multiplier

    def _convolve(self, x):
        return tl.nn.depthwise_conv2d(x, self.kernel, (1,) + self.strides + (1,), self.padding.upper(),
                                      dilations=self.dilation_rate)

    def get_config(self):
        config = super().get_config()
        for k in ("filters", "groups"):
            config.pop(k, None)
        config["depth_multiplier"] = self.depth_multiplier
        config["depthwise_initializer"] = config.pop("kernel_initializer")
        config["depthwise_regularizer"] = config.pop("kernel_regularizer")
        config["depthwise_constraint"] = config.pop("kernel_constraint")
        return config


class SeparableConv2D(_Conv):
    """Depthwise separable 2-D convolution: a depthwise step, then a 1x1 pointwise convolution.

    Args:
      filters: number of output channels.
      kernel_size, strides, padding, data_format, dilation_rate: of the depthwise step.
      depth_multiplier: depthwise output channels per input channel.
      depthwise_*/pointwise_*: initializer, regularizer and constraint of each kernel.
      activation, use_bias, bias_*: as in ``Dense``.

    Kernels: ``depthwise_kernel (kh, kw, in, depth_multiplier)`` and
    ``pointwise_kernel (1, 1, in * depth_multiplier, filters)``.

    Example:
      >>> tl.keras.layers.SeparableConv2D(8, 3, padding="same")(tl.ones((1, 6, 6, 3))).shape
      TensorShape([1, 6, 6, 8])
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer, bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = int(depth_multiplier)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def build(self, input_shape):
        c = self._in_channels(input_shape)
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel", shape=self.kernel_size + (c, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint, trainable=True)
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel", shape=(1,) * self.rank + (c * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint, trainable=True)
        self.kernel = self.depthwise_kernel  # for the dtype/channel checks shared with _Conv
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        trainable=True)
        self._built_channels = c
        self.built = True

    def _convolve(self, x):
        return tl.nn.separable_conv2d(x, self.depthwise_kernel, self.pointwise_kernel,
                                      (1,) + self.strides + (1,), self.padding.upper(),
                                      dilations=self.dilation_rate)

    def get_config(self):
        config = super().get_config()
        for k in ("groups", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(k, None)
        config.update({
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
        })
        return config


def _conv1d_as_2d(layer, x, fn, *kernels):
    """A 1-D layer's convolution as the 2-D one of a height-1 image: ``fn(x2, *kernels2, strides,
    padding, dilations)``; causal padding becomes explicit left padding."""
    k, s, d = layer.kernel_size[0], layer.strides[0], layer.dilation_rate[0]
    pad = [[0, 0], [0, 0], [(k - 1) * d, 0], [0, 0]] if layer.padding == "causal" else layer.padding.upper()
    y = fn(tl.expand_dims(x, 1), *[tl.expand_dims(w, 0) for w in kernels], (1, 1, s, 1), pad, dilations=(1, d))
    return tl.squeeze(y, [1])


class DepthwiseConv1D(DepthwiseConv2D):
    """Depthwise 1-D convolution over ``(batch, steps, channels)``: each channel gets its own
    ``depth_multiplier`` filters.

    Args:
      kernel_size, strides, dilation_rate: ints.
      padding: ``"valid"``, ``"same"`` or ``"causal"``.
      depth_multiplier, data_format, activation, use_bias, depthwise_*, bias_*: as in ``DepthwiseConv2D``.

    Kernel shape: ``(kw, in_channels, depth_multiplier)``.

    Example:
      >>> tl.keras.layers.DepthwiseConv1D(3, depth_multiplier=2)(tl.ones((1, 8, 3))).shape
      TensorShape([1, 6, 6])
    """

    rank = 1

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, **kwargs):
        super().__init__(kernel_size, strides=strides, padding=padding, depth_multiplier=depth_multiplier,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)

    def _convolve(self, x):
        return _conv1d_as_2d(self, x, tl.nn.depthwise_conv2d, self.kernel)


class SeparableConv1D(SeparableConv2D):
    """Depthwise separable 1-D convolution over ``(batch, steps, channels)``: a depthwise step,
    then a pointwise (size-1) convolution.

    Args:
      filters, depth_multiplier, depthwise_*/pointwise_*, activation, use_bias, bias_*: as in
        ``SeparableConv2D``.
      kernel_size, strides, dilation_rate: ints.
      padding: ``"valid"``, ``"same"`` or ``"causal"``.

    Kernels: ``depthwise_kernel (kw, in, depth_multiplier)`` and ``pointwise_kernel
    (1, in * depth_multiplier, filters)``.

    Example:
      >>> tl.keras.layers.SeparableConv1D(8, 3, padding="same")(tl.ones((1, 10, 3))).shape
      TensorShape([1, 10, 8])
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, data_format=data_format,
                         dilation_rate=dilation_rate, depth_multiplier=depth_multiplier, **kwargs)

    def _convolve(self, x):
        return _conv1d_as_2d(self, x, tl.nn.separable_conv2d, self.depthwise_kernel, self.pointwise_kernel)


Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
