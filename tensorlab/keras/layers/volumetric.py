"""Layers over volumes ``(batch, depth, height, width, channels)``: Conv3D, Conv3DTranspose,
3-D pooling, ZeroPadding3D, Cropping3D, UpSampling3D and SpatialDropout3D.

Conv3D and the pooling layers share the N-D machinery of ``conv.py`` / ``pooling.py`` (rank 3);
``tl.nn.conv3d`` runs a 3-D convolution as 2-D convolutions over depth slices, so a GPU runs
the conv2d kernels.
"""
import tensorlab as tl
from tensorlab.keras.layers._common import (check_ndim, normalize_data_format, normalize_tuple, shape_str,
                                            to_channels_first, to_channels_last)
from tensorlab.keras.layers.base import Layer
from tensorlab.keras.layers.conv import Conv2DTranspose, _Conv
from tensorlab.keras.layers.pooling import _POOL_DOC, _GlobalPooling, _Pooling
from tensorlab.keras.layers.regularization import SpatialDropout2D


class Conv3D(_Conv):
    """3-D convolution over volumes ``(batch, depth, height, width, channels)``.

    Args:
      filters: number of output channels.
      kernel_size: int or ``(kd, kh, kw)``.
      strides, dilation_rate: int or 3-tuple.
      padding: ``"valid"`` (default) or ``"same"``.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      groups: number of channel groups.
      activation, use_bias, *_initializer, *_regularizer, *_constraint: as in ``Dense``.

    Kernel shape: ``(kd, kh, kw, in_channels // groups, filters)``.

    Example:
      >>> tl.keras.layers.Conv3D(8, 3, padding="same")(tl.ones((1, 4, 8, 8, 2))).shape
      TensorShape([1, 4, 8, 8, 8])
    """

    rank = 3

    def _convolve(self, x):
        return tl.nn.conv3d(x, self.kernel, self.strides, self.padding.upper(), dilations=self.dilation_rate)


class Conv3DTranspose(Conv2DTranspose):
    """Transposed 3-D convolution: the gradient of ``Conv3D`` (3-D U-Net decoders).

    Args:
      filters: number of output channels.
      kernel_size, strides, padding, data_format, dilation_rate: as in ``Conv3D``.
      output_padding: int or 3-tuple: extra planes added to one side of the output (each
        smaller than the stride); None infers the size.
      activation, use_bias, *_initializer, *_regularizer, *_constraint: as in ``Dense``.

    Kernel shape: ``(kd, kh, kw, filters, in_channels)``.

    Example:
      >>> tl.keras.layers.Conv3DTranspose(4, 2, strides=2)(tl.ones((1, 2, 4, 4, 8))).shape
      TensorShape([1, 4, 8, 8, 4])
    """

    rank = 3

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid", output_padding=None,
                 data_format=None, dilation_rate=(1, 1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding, output_padding=output_padding,
                         data_format=data_format, dilation_rate=dilation_rate, **kwargs)

    def _convolve(self, x):
        d, h, w = self._spatial_out(tuple(x.shape[1:4]))
        return tl.nn.conv3d_transpose(x, self.kernel, (x.shape[0], d, h, w, self.filters), self.strides,
                                      self.padding.upper(), dilations=self.dilation_rate)


class MaxPooling3D(_Pooling):
    __doc__ = _POOL_DOC.format(kind="Max", what="the depth, rows and columns of volumes", n=3,
                               name="MaxPooling3D", example_arg="2", example_in="(1, 4, 8, 8, 3)",
                               example_out="[1, 2, 4, 4, 3]")
    rank, mode = 3, "max"


class AveragePooling3D(_Pooling):
    __doc__ = _POOL_DOC.format(kind="Average", what="the depth, rows and columns of volumes", n=3,
                               name="AveragePooling3D", example_arg="2", example_in="(1, 4, 8, 8, 3)",
                               example_out="[1, 2, 4, 4, 3]")
    rank, mode = 3, "avg"


class GlobalAveragePooling3D(_GlobalPooling):
    """Averages over depth, height and width: ``(batch, d, h, w, channels) -> (batch, channels)``.

    Args:
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      keepdims: keep the reduced axes with size 1.
    """
    rank, mode = 3, "avg"


class GlobalMaxPooling3D(_GlobalPooling):
    """Maximum over depth, height and width: ``(batch, d, h, w, channels) -> (batch, channels)``.

    Args:
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      keepdims: keep the reduced axes with size 1.
    """
    rank, mode = 3, "max"


def _triples(value, name):
    """An int, three ints, or three (before, after) pairs -> three (before, after) pairs."""
    if isinstance(value, int):
        value = (value,) * 3
    value = tuple(value)
    if len(value) != 3:
        raise ValueError(f"`{name}` must be an int, 3 ints or 3 (before, after) pairs; received {value!r}")
    out = tuple((v, v) if isinstance(v, int) else tuple(normalize_tuple(v, 2, name, allow_zero=True)) for v in value)
    if any(a < 0 for p in out for a in p):
        raise ValueError(f"`{name}` values must be >= 0; received {value!r}")
    return tuple(tuple(int(a) for a in p) for p in out)


class _Volume(Layer):
    """Shared by the layers that change the three spatial sizes of a volume."""

    def _spatial_axes(self):
        return (1, 2, 3) if self.data_format == "channels_last" else (2, 3, 4)

    def compute_output_shape(self, input_shape):
        s = list(input_shape)
        for ax, f in zip(self._spatial_axes(), self._size_maps()):
            s[ax] = None if s[ax] is None else f(s[ax])
        return tuple(s)


class ZeroPadding3D(_Volume):
    """Pads the depth, rows and columns of a volume with zeros.

    Args:
      padding: int, ``(pd, ph, pw)`` or ``((front, back), (top, bottom), (left, right))``.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.ZeroPadding3D(1)(tl.ones((1, 2, 2, 2, 3))).shape
      TensorShape([1, 4, 4, 4, 3])
    """

    def __init__(self, padding=(1, 1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _triples(padding, "padding")
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        check_ndim(self, inputs, ndim=5)
        pads = [[0, 0]] * 5
        for ax, p in zip(self._spatial_axes(), self.padding):
            pads[ax] = list(p)
        return tl.pad(inputs, pads)

    def _size_maps(self):
        return [lambda n, p=p: n + p[0] + p[1] for p in self.padding]

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class Cropping3D(_Volume):
    """Crops the depth, rows and columns off the borders of a volume.

    Args:
      cropping: int, ``(cd, ch, cw)`` or ``((front, back), (top, bottom), (left, right))``.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.Cropping3D(((1, 0), (0, 2), (1, 1)))(tl.ones((1, 5, 5, 5, 3))).shape
      TensorShape([1, 4, 3, 3, 3])
    """

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _triples(cropping, "cropping")
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        check_ndim(self, inputs, ndim=5)
        begin, size = [0] * 5, [-1] * 5
        for ax, (a, z), what in zip(self._spatial_axes(), self.cropping, ("depth", "height", "width")):
            n = inputs.shape[ax]
            if n is None:
                raise ValueError(f'Layer "{self.name}" (Cropping3D) needs known depth, height and width; '
                                 f"received input shape {shape_str(tuple(inputs.shape))}")
            if a + z >= n:
                raise ValueError(f'Layer "{self.name}" (Cropping3D): cropping {self.cropping} removes the whole '
                                 f"{what} of an input of shape {shape_str(tuple(inputs.shape))}")
            begin[ax], size[ax] = a, n - a - z
        return tl.slice(inputs, begin, size)

    def _size_maps(self):
        return [lambda n, c=c: n - c[0] - c[1] for c in self.cropping]

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class UpSampling3D(_Volume):
    """Repeats the depth slices, rows and columns of a volume (nearest neighbour).

    Args:
      size: int or ``(sd, sh, sw)`` upsampling factors.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.UpSampling3D(2)(tl.ones((1, 2, 3, 4, 1))).shape
      TensorShape([1, 4, 6, 8, 1])
    """

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 3, "size")
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        check_ndim(self, inputs, ndim=5)
        x = inputs if self.data_format == "channels_last" else to_channels_last(inputs, 3)
        _, d, h, w, c = x.shape
        if None in (d, h, w, c):
            raise ValueError(f'Layer "{self.name}" (UpSampling3D) needs known depth, height, width and channels; '
                             f"received input shape {shape_str(tuple(inputs.shape))}")
        sd, sh, sw = self.size
        x = tl.reshape(x, (-1, d, 1, h, 1, w, 1, c))
        x = tl.tile(x, (1, 1, sd, 1, sh, 1, sw, 1))
        x = tl.reshape(x, (-1, d * sd, h * sh, w * sw, c))
        return x if self.data_format == "channels_last" else to_channels_first(x, 3)

    def _size_maps(self):
        return [lambda n, s=s: n * s for s in self.size]

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format})
        return config


class SpatialDropout3D(SpatialDropout2D):
    """Dropout of whole feature volumes: one keep/drop decision per (example, channel).

    Args:
      rate: fraction of the channels to drop.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      seed: seed for the random mask.
    """

    def call(self, inputs, training=None):
        check_ndim(self, inputs, ndim=5)
        return super(SpatialDropout2D, self).call(inputs, training=training)

    def _noise_shape(self, x):
        b = x.shape[0]
        if self.data_format == "channels_last":
            return (b, 1, 1, 1, x.shape[4])
        return (b, x.shape[1], 1, 1, 1)


Convolution3D = Conv3D
Convolution3DTranspose = Conv3DTranspose
MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool3D = GlobalMaxPooling3D
