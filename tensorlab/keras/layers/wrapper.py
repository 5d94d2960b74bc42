"""``keras.layers.Wrapper``: the base of layers that wrap another layer (TimeDistributed,
SpectralNormalization, users' own wrappers)."""
from tensorlab.keras.layers.base import Layer


class Wrapper(Layer):
    """Base class of layers that wrap another layer (``keras.layers.Wrapper``).

    Holds ``self.layer`` (an instance, or a ``serialize`` dict rebuilt here), builds it with
    the wrapper's input shape unless a subclass says otherwise, and puts it in the config under
    ``"layer"``. Subclasses write ``call``.

    Args:
      layer: the layer to wrap.
    """

    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):
            from tensorlab.keras import layers as _layers
            layer = _layers.deserialize(layer)
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__}: `layer` must be a Layer instance; received {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True
        self.built = True

    def get_config(self):
        from tensorlab.keras import layers as _layers
        config = super().get_config()
        config["layer"] = _layers.serialize(self.layer)
        return config
