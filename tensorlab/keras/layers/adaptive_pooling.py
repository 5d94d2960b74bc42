"""``keras.layers.AdaptiveAveragePooling{1,2,3}D`` / ``AdaptiveMaxPooling{1,2,3}D``: pooling to a
fixed output size whatever the input size (``keras.ops.adaptive_average_pool`` / ``_max_pool``)."""
from tensorlab.keras.layers._common import check_ndim, normalize_data_format, normalize_tuple
from tensorlab.keras.layers.base import Layer


class _AdaptivePooling(Layer):
    rank = None
    reduce_max = False

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        try:
            self.output_size = normalize_tuple(output_size, self.rank, "output_size")
        except (ValueError, TypeError) as e:
            raise ValueError(f"{type(self).__name__}: {e} (output_size: a positive int or {self.rank} of them)") \
                from None
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        from tensorlab.keras.ops import nn_extra
        check_ndim(self, inputs, self.rank + 2)
        pool = nn_extra.adaptive_max_pool if self.reduce_max else nn_extra.adaptive_average_pool
        return pool(inputs, self.output_size, data_format=self.data_format)

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        if self.data_format == "channels_last":
            return (s[0],) + self.output_size + (s[-1],)
        return (s[0], s[1]) + self.output_size

    def get_config(self):
        config = super().get_config()
        config.update({"output_size": self.output_size, "data_format": self.data_format})
        return config


def _make(name, rank, reduce_max):
    kind = "max" if reduce_max else "average"
    doc = (f"Adaptive {kind} pooling over {rank} spatial dimension(s) to ``output_size`` (an int or a "
           f"{rank}-tuple): output cell ``j`` of an axis of ``n`` inputs covers ``[floor(j n / o), "
           f"ceil((j + 1) n / o))``, as Keras and PyTorch.\n\n    Args:\n      output_size: the spatial "
           f"output size.\n      data_format: ``\"channels_last\"`` (default) or ``\"channels_first\"``.\n")
    return type(name, (_AdaptivePooling,), {"rank": rank, "reduce_max": reduce_max, "__doc__": doc,
                                            "__module__": __name__})


AdaptiveAveragePooling1D = _make("AdaptiveAveragePooling1D", 1, False)
AdaptiveAveragePooling2D = _make("AdaptiveAveragePooling2D", 2, False)
AdaptiveAveragePooling3D = _make("AdaptiveAveragePooling3D", 3, False)
AdaptiveMaxPooling1D = _make("AdaptiveMaxPooling1D", 1, True)
AdaptiveMaxPooling2D = _make("AdaptiveMaxPooling2D", 2, True)
AdaptiveMaxPooling3D = _make("AdaptiveMaxPooling3D", 3, True)
