"""Core layers: Dense, EinsumDense, Activation, Lambda, Embedding, Identity, Masking."""
import re

import tensorlab as tl
from tensorlab.keras import activations, constraints, initializers, regularizers
from tensorlab.keras.layers._common import (add_bias_and_activate, check_last_dim, check_ndim, check_shape_ndim,
                                            kernel_bias_config, set_kernel_bias_args, shape_str)
from tensorlab.keras.layers.base import Layer


def matmul_last(x, w):
    """``x @ w`` over the last axis of an input of any rank >= 2."""
    if len(x.shape) == 2:
        return tl.matmul(x, w)
    lead = tuple(x.shape[:-1])
    if sum(d is None for d in lead) > 1:
        return tl.tensordot(x, w, axes=1)
    y = tl.matmul(tl.reshape(x, (-1, x.shape[-1])), w)
    return tl.reshape(y, tuple(-1 if d is None else d for d in lead) + (w.shape[-1],))


def _no_lora_or_quantization(layer, kwargs):
    """Pops Keras 3's LoRA and quantization options from ``kwargs``: Keras writes
    ``quantization_config`` (None) into every Dense, EinsumDense and Embedding config, so the
    defaults are accepted; tensorlab implements neither feature, so other values raise."""
    for k, feature in (("lora_rank", "LoRA"), ("lora_alpha", "LoRA"), ("quantization_config", "quantization")):
        v = kwargs.pop(k, None)
        if v is not None:
            raise ValueError(f"{layer}: {k}={v!r} is not supported: tensorlab does not implement {feature}; only "
                             f"{k}=None (the default) is accepted")


class Dense(Layer):
    """Densely-connected layer: ``activation(inputs @ kernel + bias)``.

    For inputs of rank > 2 the kernel is applied along the last axis.

    Args:
      units: dimensionality of the output.
      activation: activation function or its name (default: none, linear).
      use_bias: whether to add a bias vector.
      kernel_initializer, bias_initializer: initializers (names or objects).
      kernel_regularizer, bias_regularizer, activity_regularizer: regularizers.
      kernel_constraint, bias_constraint: constraints.
      lora_rank, lora_alpha, quantization_config: Keras 3's LoRA and quantization, not
        implemented: only None (the default, which Keras configs carry) is accepted.

    Input shape: ``(batch, ..., input_dim)``. Output shape: ``(batch, ..., units)``.

    Example:
      >>> layer = tl.keras.layers.Dense(4, activation="relu")
      >>> layer(tl.ones((2, 3))).shape
      TensorShape([2, 4])
    """

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        _no_lora_or_quantization("Dense", kwargs)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        if self.units <= 0:
            raise ValueError(f"Dense: `units` must be a positive integer; received units={units!r}")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_kernel_bias_args(self, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                             kernel_constraint, bias_constraint)
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        check_shape_ndim(self, input_shape, min_ndim=2)
        if input_shape[-1] is None:
            raise ValueError(f'Layer "{self.name}" (Dense) needs a known last input dimension; received input '
                             f"shape {shape_str(input_shape)}")
        self.input_dim = input_shape[-1]
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[-1], self.units),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint, trainable=True)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        trainable=True)
        self.built = True

    def call(self, inputs):
        # The hot path of every MLP: checks run only when the matmul refuses the input.
        kernel = self.kernel.value()
        if inputs.ndim == 2:
            try:
                y = tl.matmul(inputs, kernel)
            except (ValueError, TypeError):
                inputs = self._checked(inputs)
                y = tl.matmul(inputs, kernel)
        else:
            y = matmul_last(self._checked(inputs), kernel)
        return add_bias_and_activate(y, None if self.bias is None else self.bias.value(), self.activation)

    def _checked(self, inputs):
        check_ndim(self, inputs, min_ndim=2)
        check_last_dim(self, inputs, self.kernel.shape[0], "axis -1 of input shape")
        if inputs.dtype.name != self.compute_dtype:
            inputs = tl.cast(inputs, self.compute_dtype)
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **kernel_bias_config(self),
        })
        return config


class Activation(Layer):
    """Applies an activation function to its input.

    Args:
      activation: a callable or the name of a built-in activation (``"relu"``...).

    Example:
      >>> tl.keras.layers.Activation("relu")(tl.constant([-1., 2.])).numpy()
      array([0., 2.], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Identity(Layer):
    """Returns its input unchanged (a placeholder layer)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Lambda(Layer):
    """Wraps an arbitrary expression of tensorlab ops as a layer.

    Args:
      function: called as ``function(inputs, **arguments)``.
      output_shape: optional output shape (without the batch dimension) or a
        callable ``input_shape -> output_shape``; only needed where the shape
        cannot be inferred by running ``function`` symbolically.
      mask: optional mask or callable ``(inputs, mask) -> mask``.
      arguments: extra keyword arguments for ``function``.

    Example:
      >>> tl.keras.layers.Lambda(lambda x: x ** 2)(tl.constant([3.])).numpy()
      array([9.], dtype=float32)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(function, str):
            # A saved config names the function; it must be registered (register_keras_serializable).
            from tensorlab.keras.saving.object_registration import get_custom_objects
            function = get_custom_objects().get(function, function)
        if not callable(function):
            raise ValueError(f"Lambda: `function` must be callable (or the registered name of a function); "
                             f"received {function!r}")
        self.function = function
        self._output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})
        self.supports_masking = mask is not None

    def call(self, inputs, mask=None):
        return self.function(inputs, **self.arguments)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask if self.mask is not None else mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            raise NotImplementedError(f'Lambda layer "{self.name}": give `output_shape` to compute the '
                                      "output shape without running the function")
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        return (tuple(input_shape)[0],) + tuple(self._output_shape)

    def get_config(self):
        config = super().get_config()
        # Functions are kept as objects: they round-trip in memory; saving to
        # JSON records their qualified name only.
        config.update({"function": self.function, "output_shape": self._output_shape,
                       "arguments": dict(self.arguments)})
        if self.mask is not None:
            config["mask"] = self.mask
        return config


class Embedding(Layer):
    """Turns non-negative integer indices into dense vectors of fixed size.

    Args:
      input_dim: size of the vocabulary (largest index + 1).
      output_dim: dimension of the embedding vectors.
      embeddings_initializer, embeddings_regularizer, embeddings_constraint:
        for the ``(input_dim, output_dim)`` embedding matrix.
      mask_zero: whether index 0 is padding to be masked out downstream.

    Input shape: integer tensor ``(batch, ...)``. Output: ``(batch, ..., output_dim)``.

    Example:
      >>> emb = tl.keras.layers.Embedding(10, 4)
      >>> emb(tl.constant([[1, 2, 3]])).shape
      TensorShape([1, 3, 4])
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, input_length=None, **kwargs):
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        # Token ids given as floats must not pass through float16 (it rounds ids above
        # 2048); the table is gathered in its own dtype and the rows cast (see call).
        kwargs.setdefault("autocast", False)
        _no_lora_or_quantization(type(self).__name__, kwargs)
        super().__init__(**kwargs)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        if self.input_dim <= 0 or self.output_dim <= 0:
            raise ValueError(f"Embedding: input_dim and output_dim must be positive; received "
                             f"input_dim={input_dim}, output_dim={output_dim}")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint, trainable=True)
        self.built = True

    def call(self, inputs):
        if not inputs.dtype.is_integer:
            inputs = tl.cast(inputs, tl.int32)
        out = tl.gather(self.embeddings, inputs)
        # Under a mixed policy: only the gathered rows are cast, not the whole table.
        return out if out.dtype.name == self.compute_dtype else tl.cast(out, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return tl.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim, "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        })
        return config


class Masking(Layer):
    """Masks timesteps whose features all equal ``mask_value`` (output zeroes them).

    Args:
      mask_value: the padding value to skip.
    """

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)
        self.supports_masking = True

    def compute_mask(self, inputs, mask=None):
        return tl.reduce_any(tl.not_equal(inputs, self.mask_value), axis=-1)

    def call(self, inputs):
        keep = tl.reduce_any(tl.not_equal(inputs, self.mask_value), axis=-1, keepdims=True)
        return inputs * tl.cast(keep, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config


def _einsum_specs(equation):
    """``(input_spec, weight_spec, output_spec, elided side)`` of an EinsumDense equation."""
    eq = re.sub(r"\.\.\.", "0", str(equation))
    for pattern, side in ((r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None),
                          (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", "left"),
                          (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", "right")):
        m = re.fullmatch(pattern, eq)
        if m:
            return m.group(1), m.group(2), m.group(3), side
    raise ValueError(f"EinsumDense: invalid einsum equation {equation!r}. Equations must be in the form "
                     "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]...")


def _einsum_shapes(layer, input_shape):
    """Kernel shape, bias shape (or None) and full output shape of an EinsumDense layer."""
    in_spec, w_spec, out_spec, side = _einsum_specs(layer.equation)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(in_spec)
    if elided < 0 or (side is None and elided) or (side == "right" and elided == 0):
        raise ValueError(f'Layer "{layer.name}" (EinsumDense): equation {layer.equation!r} does not fit inputs of '
                         f"shape {shape_str(input_shape)}")
    out = [input_shape[0]] + list(layer.partial_output_shape)
    if side == "left":
        out[1:1] = list(input_shape[1:elided])
        in_map = {c: i + elided for i, c in enumerate(in_spec)}
        out_map = {c: i + elided for i, c in enumerate(out_spec)}
    else:
        if side == "right":
            out += list(input_shape[len(input_shape) - elided:])
        in_map = {c: i for i, c in enumerate(in_spec)}
        out_map = {c: i for i, c in enumerate(out_spec)}
    if len(out) != len(out_spec) + (elided if side else 0):
        raise ValueError(f'Layer "{layer.name}" (EinsumDense): output_shape {layer.partial_output_shape} must have '
                         f"one entry per output axis of {out_spec!r} after the first (the batch axis)")
    for c in in_spec:
        if c in out_map and out[out_map[c]] is not None and out[out_map[c]] != input_shape[in_map[c]]:
            raise ValueError(f'Layer "{layer.name}" (EinsumDense): input shape and output shape do not match at '
                             f"shared dimension {c!r}: the input {shape_str(input_shape)} has "
                             f"{input_shape[in_map[c]]}, output_shape {layer.partial_output_shape} has "
                             f"{out[out_map[c]]}")
        if c in out_map:
            out[out_map[c]] = input_shape[in_map[c]]
    for c in out_spec:
        if c not in in_spec and c not in w_spec:
            raise ValueError(f'Layer "{layer.name}" (EinsumDense): output dimension {c!r} of {out_spec!r} is in '
                             f"neither the input spec {in_spec!r} nor the weight spec {w_spec!r}")
    kernel = []
    for c in w_spec:
        d = input_shape[in_map[c]] if c in in_map else out[out_map[c]] if c in out_map else None
        if c not in in_map and c not in out_map:
            raise ValueError(f'Layer "{layer.name}" (EinsumDense): weight dimension {c!r} is in neither the input '
                             f"spec {in_spec!r} nor the output spec {out_spec!r}; the weight must be fully specified")
        if d is None:
            raise ValueError(f'Layer "{layer.name}" (EinsumDense): the size of weight dimension {c!r} is unknown '
                             f"for input shape {shape_str(input_shape)} and output_shape {layer.partial_output_shape}")
        kernel.append(d)
    bias = None
    if layer.bias_axes is not None:
        for c in layer.bias_axes:
            if c not in out_spec:
                raise ValueError(f'Layer "{layer.name}" (EinsumDense): bias dimension {c!r} is not part of the '
                                 f"output spec {out_spec!r}")
        first = min(out_spec.find(c) for c in layer.bias_axes)
        bias = [out[out_map[c]] if c in layer.bias_axes else 1 for c in out_spec[first:]]
        if side == "right":
            bias += [1] * elided
    return tuple(kernel), None if bias is None else tuple(bias), tuple(out)


def _einsum_fan_axes(equation):
    """The kernel's input and output axes (Keras 3's): a kernel letter in the output spec is an output
    unit, one only in the input spec an input unit."""
    in_spec, w_spec, out_spec, _ = _einsum_specs(equation)
    output_axes = [i for i, c in enumerate(w_spec) if c in out_spec]
    input_axes = [i for i, c in enumerate(w_spec) if c not in out_spec and c in in_spec]
    return input_axes, output_axes


class EinsumDense(Layer):
    """A dense layer whose computation is an einsum: ``activation(einsum(equation, inputs, kernel) + bias)``.

    The equation has the form ``"ab,bc->ac"``, ``"...ab,bc->...ac"`` or
    ``"ab...,bc->ac..."``: the input's axes, the kernel's axes, the output's
    axes; the kernel's shape follows from the input shape and ``output_shape``.

    Args:
      equation: the einsum equation (input, kernel -> output).
      output_shape: the output shape without the batch axis and without the axes
        an ellipsis stands for (an int for one axis); None for a size the input gives.
      activation: activation function or its name (default: none).
      bias_axes: output axes (letters of the output spec) that get a bias, or None.
      kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: as in ``Dense``. As in Keras 3, a
        ``VarianceScaling`` kernel initializer (e.g. the default Glorot uniform) takes its fans from the
        equation: the kernel axes shared with the output are its output units, the others its input units.

    Example:
      >>> layer = tl.keras.layers.EinsumDense("abc,cd->abd", output_shape=(None, 64), bias_axes="d")
      >>> layer(tl.ones((2, 32, 128))).shape
      TensorShape([2, 32, 64])
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        _no_lora_or_quantization("EinsumDense", kwargs)
        super().__init__(**kwargs)
        if not isinstance(equation, str):
            raise ValueError(f"EinsumDense: `equation` must be a string; received equation={equation!r}")
        _einsum_specs(equation)
        self.equation = equation
        if isinstance(output_shape, int) and not isinstance(output_shape, bool):
            self.partial_output_shape = (output_shape,)
        else:
            try:
                self.partial_output_shape = tuple(None if d is None else int(d) for d in output_shape)
            except (TypeError, ValueError):
                raise ValueError(f"EinsumDense: `output_shape` must be an int or a tuple of ints/None; received "
                                 f"output_shape={output_shape!r}") from None
        if bias_axes is not None and not isinstance(bias_axes, str):
            raise ValueError(f"EinsumDense: `bias_axes` must be a string of output axes or None; received "
                             f"bias_axes={bias_axes!r}")
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        set_kernel_bias_args(self, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                             kernel_constraint, bias_constraint)

    def build(self, input_shape):
        kernel_shape, bias_shape, self.full_output_shape = _einsum_shapes(self, input_shape)
        self._input_ndim = len(tuple(input_shape))
        # As Keras 3: a VarianceScaling initializer takes its fans from the equation.
        init = initializers._with_fan_axes(self.kernel_initializer, *_einsum_fan_axes(self.equation))
        self.kernel = self.add_weight(name="kernel", shape=kernel_shape, initializer=init,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
                                      trainable=True)
        self.bias = None
        if bias_shape is not None:
            self.bias = self.add_weight(name="bias", shape=bias_shape, initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint,
                                        trainable=True)
        self.built = True

    def call(self, inputs):
        check_ndim(self, inputs, ndim=self._input_ndim)
        x = inputs if inputs.dtype.name == self.compute_dtype else tl.cast(inputs, self.compute_dtype)
        y = tl.einsum(self.equation, x, self.kernel)
        bias = None if self.bias is None else self.bias.value()
        if bias is not None and len(bias.shape) != 1:
            # a bias over several output axes broadcasts as it is; only a last-axis vector fuses
            y, bias = y + bias, None
        return add_bias_and_activate(y, bias, self.activation)

    def compute_output_shape(self, input_shape):
        return tuple(self.full_output_shape) if self.built else _einsum_shapes(self, input_shape)[2]

    def get_config(self):
        config = super().get_config()
        config.update({
            "output_shape": self.partial_output_shape, "equation": self.equation,
            "activation": activations.serialize(self.activation), "bias_axes": self.bias_axes,
            **kernel_bias_config(self),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
        })
        return config
