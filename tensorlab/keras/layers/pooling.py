"""Pooling layers: Max/AveragePooling1D/2D and the global poolings."""
import tensorlab as tl
from tensorlab.keras.layers._common import (check_ndim, conv_output_length, normalize_data_format,
                                            normalize_padding, normalize_tuple, to_channels_first,
                                            to_channels_last)
from tensorlab.keras.layers.base import Layer


class _Pooling(Layer):
    rank = 2
    mode = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        r = self.rank
        self.pool_size = normalize_tuple(pool_size, r, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, r, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        check_ndim(self, inputs, ndim=self.rank + 2)
        x = inputs
        if self.data_format == "channels_first":
            x = to_channels_last(x, self.rank)
        fn = {("max", 1): tl.nn.max_pool1d, ("avg", 1): tl.nn.avg_pool1d,
              ("max", 2): tl.nn.max_pool2d, ("avg", 2): tl.nn.avg_pool2d,
              ("max", 3): tl.nn.max_pool3d, ("avg", 3): tl.nn.avg_pool3d}[(self.mode, self.rank)]
        y = fn(x, self.pool_size, self.strides, self.padding.upper())
        if self.data_format == "channels_first":
            y = to_channels_first(y, self.rank)
        return y

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        sp = s[1:-1] if self.data_format == "channels_last" else s[2:]
        out = tuple(conv_output_length(n, k, self.padding, st) for n, k, st in zip(sp, self.pool_size, self.strides))
        if self.data_format == "channels_last":
            return (s[0],) + out + (s[-1],)
        return (s[0], s[1]) + out

    def get_config(self):
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "strides": self.strides, "padding": self.padding,
                       "data_format": self.data_format})
        return config


_POOL_DOC = """{kind} pooling over {what}.

    Args:
      pool_size: int or {n}-tuple, the window size (default 2).
      strides: int or {n}-tuple (default: ``pool_size``).
      padding: ``"valid"`` (default) or ``"same"``.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.{name}({example_arg})(tl.ones({example_in})).shape
      TensorShape({example_out})
    """


class MaxPooling1D(_Pooling):
    __doc__ = _POOL_DOC.format(kind="Max", what="the steps of ``(batch, steps, channels)`` inputs", n=1,
                               name="MaxPooling1D", example_arg="2", example_in="(2, 10, 3)",
                               example_out="[2, 5, 3]")
    rank, mode = 1, "max"


class AveragePooling1D(_Pooling):
    __doc__ = _POOL_DOC.format(kind="Average", what="the steps of ``(batch, steps, channels)`` inputs", n=1,
                               name="AveragePooling1D", example_arg="2", example_in="(2, 10, 3)",
                               example_out="[2, 5, 3]")
    rank, mode = 1, "avg"


class MaxPooling2D(_Pooling):
    __doc__ = _POOL_DOC.format(kind="Max", what="the rows and columns of images", n=2, name="MaxPooling2D",
                               example_arg="(2, 2)", example_in="(1, 28, 28, 8)", example_out="[1, 14, 14, 8]")
    rank, mode = 2, "max"


class AveragePooling2D(_Pooling):
    __doc__ = _POOL_DOC.format(kind="Average", what="the rows and columns of images", n=2,
                               name="AveragePooling2D", example_arg="(2, 2)", example_in="(1, 28, 28, 8)",
                               example_out="[1, 14, 14, 8]")
    rank, mode = 2, "avg"


class _GlobalPooling(Layer):
    rank = 2
    mode = "avg"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.keepdims = bool(keepdims)

    def _axes(self):
        if self.data_format == "channels_last":
            return list(range(1, self.rank + 1))
        return list(range(2, self.rank + 2))

    def call(self, inputs):
        check_ndim(self, inputs, ndim=self.rank + 2)
        fn = tl.reduce_mean if self.mode == "avg" else tl.reduce_max
        return fn(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        s = list(input_shape)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(s))
        return tuple(d for i, d in enumerate(s) if i not in axes)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling1D(_GlobalPooling):
    """Averages over the steps: ``(batch, steps, channels) -> (batch, channels)``.

    Args:
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      keepdims: keep the reduced axis with size 1.
    """
    rank, mode = 1, "avg"


class GlobalMaxPooling1D(_GlobalPooling):
    """Maximum over the steps: ``(batch, steps, channels) -> (batch, channels)``.

    Args:
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      keepdims: keep the reduced axis with size 1.
    """
    rank, mode = 1, "max"


class GlobalAveragePooling2D(_GlobalPooling):
    """Averages over height and width: ``(batch, h, w, channels) -> (batch, channels)``.

    Args:
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      keepdims: keep the reduced axes with size 1.

    Example:
      >>> tl.keras.layers.GlobalAveragePooling2D()(tl.ones((2, 4, 4, 3))).shape
      TensorShape([2, 3])
    """
    rank, mode = 2, "avg"


class GlobalMaxPooling2D(_GlobalPooling):
    """Maximum over height and width: ``(batch, h, w, channels) -> (batch, channels)``.

    Args:
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      keepdims: keep the reduced axes with size 1.
    """
    rank, mode = 2, "max"


MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
