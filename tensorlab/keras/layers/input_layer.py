"""``InputLayer`` and ``Input``: the entry points of Functional models."""
from tensorlab.core import dtypes as _dt
from tensorlab.keras import backend as _backend
from tensorlab.keras._node import KerasTensor, Node
from tensorlab.keras.layers.base import Layer


class InputLayer(Layer):
    """The layer behind ``keras.Input``: holds the symbolic input tensor.

    Args:
      shape: the input's shape without the batch dimension, e.g. ``(28, 28, 1)``.
      batch_size: optional fixed batch size.
      dtype: the input's dtype (default ``"float32"``).
      batch_shape: the full shape, batch included (instead of ``shape``).
      input_tensor: an existing ``KerasTensor`` to use.
      name: the layer's name (default ``input_layer``, made unique).
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, name=None, **kwargs):
        # tf.keras spellings
        if shape is None and kwargs.get("input_shape") is not None:
            shape = kwargs.pop("input_shape")
        if batch_shape is None and kwargs.get("batch_input_shape") is not None:
            batch_shape = kwargs.pop("batch_input_shape")
        kwargs.pop("input_shape", None)
        kwargs.pop("batch_input_shape", None)
        kwargs.pop("ragged", None)
        if kwargs.pop("optional", None):
            pass
        super().__init__(name=name or _backend.unique_name("input_layer"), dtype=None, **kwargs)
        if input_tensor is not None:
            if not isinstance(input_tensor, KerasTensor):
                raise ValueError(f'InputLayer "{self.name}": input_tensor must be a KerasTensor '
                                 f"(from keras.Input), got {type(input_tensor).__name__}")
            batch_shape = tuple(input_tensor.shape)
            dtype = input_tensor.dtype.name
        if batch_shape is None:
            if shape is None:
                raise ValueError(f'InputLayer "{self.name}": give shape (without the batch dimension), e.g. '
                                 "keras.Input(shape=(784,)), or batch_shape")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size,) + shape
        else:
            batch_shape = tuple(batch_shape)
        for d in batch_shape:
            if d is not None and (not isinstance(d, int) or d < 0):
                raise ValueError(f'InputLayer "{self.name}": shape {batch_shape} must hold non-negative ints '
                                 "or None")
        self._input_dtype = _dt.as_dtype(dtype or _backend.floatx()).name
        self._batch_shape = batch_shape
        self.sparse = bool(sparse)
        self.built = True
        t = input_tensor if input_tensor is not None else KerasTensor(batch_shape, self._input_dtype,
                                                                       name=self.name)
        Node(self, (), {}, t)
        self._output_tensor = t

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def dtype(self):
        return self._input_dtype

    def call(self, inputs):
        return inputs

    def get_config(self):
        return {"batch_shape": list(self._batch_shape), "dtype": self._input_dtype, "sparse": self.sparse,
                "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None, tensor=None,
          **kwargs):
    """A symbolic input for a Functional model, like ``keras.Input``.

    Args:
      shape: the shape of one example (no batch dimension), e.g. ``(784,)``;
        ``None`` entries mean any size.
      batch_size: optional fixed batch size.
      dtype: the dtype of the data (default ``"float32"``).
      batch_shape: the full shape including the batch dimension.
      name: a name for the input (also the key for dict inputs to ``fit``).

    Returns:
      A ``KerasTensor``.

    Example:
      >>> x = keras.Input(shape=(784,))
      >>> y = keras.layers.Dense(10)(x)
      >>> model = keras.Model(x, y)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name, input_tensor=tensor, **kwargs)
    return layer._output_tensor
