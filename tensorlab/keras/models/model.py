"""``keras.Model``: a layer with training (``compile``/``fit``...) and saving.

Three ways to build one:

- Functional: ``keras.Model(inputs, outputs)`` from ``keras.Input`` tensors.
- Sequential: ``keras.Sequential([...])``.
- Subclassing: define ``__init__`` (create layers) and ``call``.
"""
import json

from tensorlab.keras.layers.base import Layer, _ctx
from tensorlab.keras.models.trainer import Trainer


def _inject_functional(cls):
    """Puts ``Functional`` in place of ``Model`` among ``cls``'s ancestors (Keras'
    ``inject_functional_model_class``)."""
    from tensorlab.keras.models.functional import Functional
    if cls is Model:
        return Functional
    if cls is object or not issubclass(cls, Model):
        return cls
    cls.__bases__ = tuple(_inject_functional(b) for b in cls.__bases__)
    return cls


class Model(Trainer, Layer):
    """A model: layers plus training and inference features.

    ``keras.Model(inputs, outputs, name=None)`` builds a Functional model;
    subclass it and implement ``call`` for arbitrary forward passes.

    Example:
      >>> inputs = keras.Input(shape=(784,))
      >>> x = keras.layers.Dense(64, activation="relu")(inputs)
      >>> outputs = keras.layers.Dense(10)(x)
      >>> model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")

      >>> class MyModel(keras.Model):
      ...     def __init__(self):
      ...         super().__init__()
      ...         self.dense1 = keras.layers.Dense(32, activation="relu")
      ...         self.dense2 = keras.layers.Dense(5)
      ...     def call(self, inputs, training=False):
      ...         return self.dense2(self.dense1(inputs))
    """

    def __new__(cls, *args, **kwargs):
        if cls is Model and (args or "inputs" in kwargs or "outputs" in kwargs):
            from tensorlab.keras.models.functional import Functional
            return Functional.__new__(Functional, *args, **kwargs)
        return super().__new__(cls, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        if args or "inputs" in kwargs or "outputs" in kwargs:
            # A subclass built from inputs and outputs (``super().__init__(inputs, outputs)``, e.g. to
            # override ``train_step``) becomes a Functional model, as in Keras.
            from tensorlab.keras.models.functional import Functional
            if not isinstance(self, Functional):
                _inject_functional(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        super().__init__(**kwargs)
        self.compiled = False
        self.stop_training = False
        self.history = None
        self.optimizer = None

    def call(self, inputs, training=None, mask=None):
        raise NotImplementedError(f'Model "{self.name}" ({type(self).__name__}) does not define call(); '
                                  "subclassed models must implement call(inputs, training=None)")

    def build(self, input_shape=None):
        """Creates the weights by running the model once on ``input_shape`` (symbolically if possible)."""
        if self.built or input_shape is None:
            self.built = True
            return
        import tensorlab as tl

        def sym(s):
            return tl.SymbolicTensor(tuple(s), self.compute_dtype)
        nested = isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0],
                                                                                       (list, tuple, dict))
        x = [sym(s) for s in input_shape] if nested else (
            {k: sym(v) for k, v in input_shape.items()} if isinstance(input_shape, dict) else sym(input_shape))
        _ctx.symbolic_depth += 1
        try:
            self.call(x, **self._symbolic_kwargs((x,), {}))
        except Exception:
            _ctx.symbolic_depth -= 1
            # Python control flow on values: run once on concrete zeros instead.
            def zeros(s):
                return tl.zeros(tuple(1 if d is None else d for d in s), dtype=self.compute_dtype)
            xz = [zeros(s) for s in input_shape] if nested else (
                {k: zeros(v) for k, v in input_shape.items()} if isinstance(input_shape, dict) else zeros(input_shape))
            self.call(xz)
            _ctx.symbolic_depth += 1
        finally:
            _ctx.symbolic_depth -= 1
        self.built = True
        self._build_input_shape = input_shape

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuilds a model from ``get_config()`` (a Functional config builds a Functional model)."""
        if "input_layers" in config and "output_layers" in config:
            from tensorlab.keras.models.functional import Functional
            from tensorlab.keras.models.functional_config import functional_from_config
            return functional_from_config(Functional if cls is Model else cls, config, custom_objects)
        return super().from_config(config)

    # ------------------------------------------------------------------ layers
    def get_layer(self, name=None, index=None):
        """The layer called ``name``, or at position ``index`` in ``model.layers``."""
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(f'Model "{self.name}": was asked for layer index {index}, but the model has '
                                 f"only {len(layers)} layers")
            return layers[index]
        if name is None:
            raise ValueError("get_layer: give a name or an index")
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f'No such layer: {name}. Existing layers in model "{self.name}" are: '
                         f"{[layer.name for layer in layers]}")

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints a table of the layers with their output shapes and parameter counts.

        Args:
          print_fn: called with each line (default ``print``).
          expand_nested: also list the layers inside nested models.
          show_trainable: add a column saying whether each layer is trainable.
        """
        from tensorlab.keras.models.summary import print_summary
        print_summary(self, line_length=line_length, print_fn=print_fn, expand_nested=expand_nested,
                      show_trainable=show_trainable)

    # ------------------------------------------------------------------ saving
    def save_weights(self, filepath, overwrite=True, save_format=None, **kwargs):
        """Writes the weights to ``filepath`` (``.weights.h5``, Keras 3's layout; written atomically)."""
        from tensorlab.keras.saving import file_format
        file_format.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, by_name=False, **kwargs):
        """Reads ``.weights.h5`` or ``.keras`` weights (ours or Keras 3's) into this model."""
        from tensorlab.keras.saving import file_format
        file_format.load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def save(self, filepath, overwrite=True, **kwargs):
        """Saves architecture, weights, optimizer state and compile settings in one ``.keras`` zip
        (Keras 3's format; written atomically). ``keras.models.load_model`` reads it back."""
        from tensorlab.keras.saving import file_format
        file_format.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def to_json(self, **kwargs):
        """The model's architecture as a JSON string (``keras.models.model_from_json`` reads it)."""
        from tensorlab.keras.saving.serialization import serialize_keras_object
        return json.dumps(serialize_keras_object(self), default=_json_default, **kwargs)

    def get_compile_config(self):
        if not getattr(self, "compiled", False):
            return None
        from tensorlab.keras.saving.serialization import serialize_keras_object
        return {"optimizer": serialize_keras_object(self.optimizer), "loss": _ser(self.compiled_loss._spec),
                "metrics": _ser(self.compiled_metrics._spec), "loss_weights": self.compiled_loss._weights_spec,
                "weighted_metrics": _ser(self.compiled_metrics._wspec)}

    def compile_from_config(self, config):
        from tensorlab.keras.saving.serialization import deserialize_keras_object
        opt = config.get("optimizer")
        self.compile(optimizer=deserialize_keras_object(opt, module="optimizers") if isinstance(opt, dict) else opt,
                     loss=_deser(config.get("loss"), "losses"), metrics=_deser(config.get("metrics"), "metrics"),
                     loss_weights=config.get("loss_weights"),
                     weighted_metrics=_deser(config.get("weighted_metrics"), "metrics"))


Model.build._tl_lazy = True


def _json_default(o):
    if hasattr(o, "tolist"):
        return o.tolist()
    if hasattr(o, "name"):
        return o.name
    raise TypeError(f"to_json: cannot serialize {type(o).__name__}")


def _ser(spec):
    from tensorlab.keras.saving.serialization import serialize_keras_object
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, (list, tuple)):
        return [_ser(s) for s in spec]
    if isinstance(spec, dict):
        return {k: _ser(v) for k, v in spec.items()}
    return serialize_keras_object(spec)


def _deser(spec, module):
    from tensorlab.keras.saving.serialization import deserialize_keras_object
    if spec is None or isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return [_deser(s, module) for s in spec]
    if isinstance(spec, dict) and "class_name" not in spec:
        return {k: _deser(v, module) for k, v in spec.items()}
    return deserialize_keras_object(spec, module=module)
