"""``keras.Sequential``: a plain stack of layers, each with one input and one output."""
from tensorlab.keras._node import KerasTensor
from tensorlab.keras.layers.base import Layer
from tensorlab.keras.layers.input_layer import Input, InputLayer
from tensorlab.keras.models.model import Model


class Sequential(Model):
    """A linear stack of layers.

    Args:
      layers: optional list of layers (a ``keras.Input`` or ``InputLayer`` may come first).
      name: the model's name.

    The input shape comes from ``keras.Input``/``InputLayer``, from
    ``input_shape``/``input_dim`` on the first layer, from ``build``, or from
    the first batch of data.

    Example:
      >>> model = keras.Sequential([
      ...     keras.layers.Dense(256, input_dim=800, activation="relu"),
      ...     keras.layers.Dense(10, activation="softmax")])
      >>> model.add(keras.layers.Dropout(0.1))
      >>> model.pop()
    """

    _convert_input_args = False  # each layer casts its own inputs (mixed precision)

    def __init__(self, layers=None, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._layers = []
        self._input_tensor = None
        self._output_tensor = None
        self._input_layer = None
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------ structure
    def add(self, layer, rebuild=True):
        """Adds a layer on top of the stack."""
        if isinstance(layer, KerasTensor) and isinstance(layer._keras_history[0], InputLayer):
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise TypeError(f'Sequential "{self.name}": can only add Layer instances, got '
                            f"{type(layer).__name__}: {layer!r}")
        if isinstance(layer, InputLayer):
            if self._input_layer is not None or self._layers:
                raise ValueError(f'Sequential "{self.name}": an InputLayer can only be the first layer')
            self._input_layer = layer
            self._input_tensor = layer._output_tensor
            self._output_tensor = self._input_tensor
            return
        if any(x is layer for x in self._layers):
            raise ValueError(f'Sequential "{self.name}": layer "{layer.name}" is already in the model')
        if not self._layers and self._input_tensor is None and getattr(layer, "_batch_input_shape", None):
            self._input_layer = InputLayer(batch_shape=layer._batch_input_shape,
                                           dtype=getattr(layer, "_input_dtype_hint", None))
            self._input_tensor = self._input_layer._output_tensor
            self._output_tensor = self._input_tensor
        self._layers.append(layer)
        if self._output_tensor is not None and rebuild:
            self._output_tensor = self._call_symbolic(layer, self._output_tensor)
            self.built = True

    def _call_symbolic(self, layer, x):
        out = layer(x)
        if isinstance(out, (list, tuple)):
            if len(out) != 1:
                raise ValueError(f'Sequential "{self.name}": layer "{layer.name}" returned {len(out)} tensors; '
                                 "every layer in a Sequential model must have a single output. Use the "
                                 "Functional API for multi-output layers")
            out = out[0]
        return out

    def pop(self, rebuild=True):
        """Removes the last layer."""
        if not self._layers:
            raise TypeError(f'Sequential "{self.name}": there are no layers to pop')
        layer = self._layers.pop()
        if self._input_tensor is not None and rebuild:
            self._rebuild()
        return layer

    def _rebuild(self):
        x = self._input_tensor
        for layer in self._layers:
            x = self._call_symbolic(layer, x)
        self._output_tensor = x

    @property
    def layers(self):
        return list(self._layers)

    def _tracked(self):
        layers, variables = super()._tracked()
        seen = {id(x) for x in self._layers}
        return list(self._layers) + [x for x in layers if id(x) not in seen and x is not self._input_layer], \
            variables

    @property
    def inputs(self):
        return [self._input_tensor] if self._input_tensor is not None else None

    @property
    def outputs(self):
        return [self._output_tensor] if self._output_tensor is not None else None

    @property
    def input(self):
        if self._input_tensor is None:
            raise AttributeError(f'Sequential "{self.name}" has no defined input yet: give it an input shape')
        return self._input_tensor

    @property
    def output(self):
        if self._output_tensor is None:
            raise AttributeError(f'Sequential "{self.name}" has no defined output yet: give it an input shape')
        return self._output_tensor

    @property
    def input_shape(self):
        return tuple(self.input.shape)

    @property
    def output_shape(self):
        return tuple(self.output.shape)

    def _output_names(self):
        return [self._layers[-1].name] if self._layers else None

    # ------------------------------------------------------------------ build / call
    def build(self, input_shape=None):
        """Builds the stack for inputs of ``input_shape`` (batch dimension included)."""
        if input_shape is None:
            if self._input_tensor is None:
                raise ValueError(f'Sequential "{self.name}": build() needs an input_shape, e.g. (None, 784)')
            return
        if self._input_tensor is None:
            self._input_layer = InputLayer(batch_shape=tuple(input_shape))
            self._input_tensor = self._input_layer._output_tensor
            self._rebuild()
        self.built = True

    def call(self, inputs, training=None, mask=None):
        x = inputs
        for layer in self._layers:
            x = layer(x)
        return x

    def __call__(self, *args, **kwargs):
        if not self.built and self._input_tensor is None and args:
            first = args[0]
            shape = getattr(first, "shape", None)
            if shape is not None and not isinstance(first, (list, tuple, dict, KerasTensor)):
                # Record the graph for the data's shape (batch unknown), for summary() and layer.output.
                kind = getattr(getattr(first, "dtype", None), "kind", None)
                dt = getattr(first, "dtype", None)
                dtype = None if kind == "f" or (dt is not None and getattr(dt, "is_floating", False)) else \
                    getattr(dt, "name", None)
                try:
                    self._input_layer = InputLayer(batch_shape=(None,) + tuple(shape)[1:], dtype=dtype)
                    self._input_tensor = self._input_layer._output_tensor
                    self._rebuild()
                except Exception:
                    self._input_tensor = self._output_tensor = self._input_layer = None
                self.built = True
        return Model.__call__(self, *args, **kwargs)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    # ------------------------------------------------------------------ config
    def get_config(self):
        from tensorlab.keras.saving.serialization import serialize_keras_object
        layers = []
        if self._input_layer is not None:
            layers.append(serialize_keras_object(self._input_layer))
        layers += [serialize_keras_object(layer) for layer in self._layers]
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from tensorlab.keras.saving.serialization import deserialize_keras_object
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config["layers"]:
            model.add(deserialize_keras_object(entry, module="layers", custom_objects=custom_objects))
        if config.get("build_input_shape") and model._input_tensor is None:
            model.build(config["build_input_shape"])
        return model


__all__ = ["Sequential", "Input"]
