"""Merging layers: Add, Subtract, Multiply, Average, Maximum, Minimum,
Concatenate, Dot, and their functional forms (``add``, ``concatenate``...)."""
import tensorlab as tl
from tensorlab.keras.layers._common import shape_str
from tensorlab.keras.layers.base import Layer


def _broadcast_shape(layer, shapes):
    """Numpy broadcasting of the inputs' shapes, or a ValueError naming the layer and shapes."""
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        dims = [s[i - ndim + len(s)] for s in shapes if i - ndim + len(s) >= 0]
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise ValueError(f'Layer "{layer.name}" ({type(layer).__name__}) requires inputs with matching '
                             "(or broadcastable) shapes; received inputs with shapes "
                             + ", ".join(shape_str(tuple(s)) for s in shapes))
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


class _Merge(Layer):
    """Element-wise merge of a list of inputs of the same (broadcastable) shape."""

    min_inputs = 2

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < self.min_inputs:
            n = len(inputs) if isinstance(inputs, (list, tuple)) else 1
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) should be called on a list of at least '
                             f"{self.min_inputs} inputs; received {n} input(s)")
        _broadcast_shape(self, [tuple(x.shape) for x in inputs])

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) should be called on a list of inputs; '
                             f"received input shape {input_shape}")
        self.built = True

    def call(self, inputs):
        self._check_inputs(inputs)
        inputs = list(inputs)
        dt = inputs[0].dtype
        inputs = [x if x.dtype == dt else tl.cast(x, dt) for x in inputs]
        return self._merge(inputs)

    def compute_output_shape(self, input_shape):
        return _broadcast_shape(self, [tuple(s) for s in input_shape])

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)) or all(m is None for m in mask):
            return None
        masks = [m for m in mask if m is not None]
        out = masks[0]
        for m in masks[1:]:
            out = tl.logical_and(out, m)
        return out


class Add(_Merge):
    """Adds a list of inputs element-wise (all of the same shape).

    Example:
      >>> tl.keras.layers.Add()([tl.ones((2, 3)), tl.ones((2, 3))]).numpy()[0, 0]
      2.0
    """

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """Subtracts two inputs: ``inputs[0] - inputs[1]``.

    Example:
      >>> tl.keras.layers.Subtract()([tl.ones((2, 3)), tl.ones((2, 3))]).numpy()[0, 0]
      0.0
    """

    def _check_inputs(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            n = len(inputs) if isinstance(inputs, (list, tuple)) else 1
            raise ValueError(f'Layer "{self.name}" (Subtract) should be called on a list of exactly 2 inputs; '
                             f"received {n} input(s)")
        super()._check_inputs(inputs)

    def _merge(self, xs):
        return xs[0] - xs[1]


class Multiply(_Merge):
    """Multiplies a list of inputs element-wise."""

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """Averages a list of inputs element-wise."""

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out / float(len(xs))


class Maximum(_Merge):
    """Element-wise maximum of a list of inputs."""

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = tl.maximum(out, x)
        return out


class Minimum(_Merge):
    """Element-wise minimum of a list of inputs."""

    def _merge(self, xs):
        out = xs[0]
        for x in xs[1:]:
            out = tl.minimum(out, x)
        return out


class Concatenate(Layer):
    """Concatenates a list of inputs along ``axis`` (other dimensions must match).

    Args:
      axis: the concatenation axis (default -1).

    Example:
      >>> tl.keras.layers.Concatenate()([tl.ones((2, 3)), tl.ones((2, 4))]).shape
      TensorShape([2, 7])
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.supports_masking = True

    def _out_shape(self, shapes):
        shapes = [tuple(s) for s in shapes]
        if len(shapes) < 1 or len({len(s) for s in shapes}) != 1:
            raise ValueError(f'Layer "{self.name}" (Concatenate) requires inputs of the same rank; received '
                             "inputs with shapes " + ", ".join(shape_str(s) for s in shapes))
        nd = len(shapes[0])
        if not -nd <= self.axis < nd:
            raise ValueError(f'Layer "{self.name}" (Concatenate): axis {self.axis} is out of range for inputs of '
                             f"rank {nd}")
        ax = self.axis % nd
        out = list(shapes[0])
        for i in range(nd):
            if i == ax:
                dims = [s[i] for s in shapes]
                out[i] = None if any(d is None for d in dims) else sum(dims)
                continue
            known = {s[i] for s in shapes if s[i] is not None}
            if len(known) > 1:
                raise ValueError(f'Layer "{self.name}" (Concatenate) requires inputs with matching shapes except '
                                 f"for the concatenation axis {self.axis}; received inputs with shapes "
                                 + ", ".join(shape_str(s) for s in shapes))
            out[i] = known.pop() if known else None
        return tuple(out)

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f'Layer "{self.name}" (Concatenate) should be called on a list of inputs; received '
                             f"input shape {input_shape}")
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f'Layer "{self.name}" (Concatenate) should be called on a list of inputs')
        self._out_shape([x.shape for x in inputs])
        dt = inputs[0].dtype
        return tl.concat([x if x.dtype == dt else tl.cast(x, dt) for x in inputs], axis=self.axis)

    def compute_output_shape(self, input_shape):
        return self._out_shape(input_shape)

    def compute_mask(self, inputs, mask=None):
        if mask is None or not isinstance(mask, (list, tuple)) or all(m is None for m in mask):
            return None
        nd = len(inputs[0].shape)
        if self.axis % nd == nd - 1:
            masks = [m for m in mask if m is not None]
            out = masks[0]
            for m in masks[1:]:
                out = tl.logical_and(out, m)
            return out
        full = [tl.ones(tuple(x.shape[:-1]), dtype=tl.bool) if m is None else m for x, m in zip(inputs, mask)]
        return tl.concat(full, axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Dot(Layer):
    """Dot product of two inputs along ``axes`` (per example).

    For inputs of shapes ``(batch, n)`` and ``(batch, n)`` with ``axes=1`` the
    output is ``(batch, 1)``; for ``(batch, n, d)`` and ``(batch, m, d)`` with
    ``axes=2`` it is ``(batch, n, m)``.

    Args:
      axes: an int or a pair of ints: the axis of each input to contract.
      normalize: L2-normalize both inputs along ``axes`` first (cosine similarity).

    Example:
      >>> tl.keras.layers.Dot(axes=1)([tl.ones((2, 3)), tl.ones((2, 3))]).numpy()
      array([[3.], [3.]], dtype=float32)
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes = int(axes) if isinstance(axes, int) else tuple(int(a) for a in axes)
        self.normalize = bool(normalize)

    def _resolved_axes(self, s1, s2):
        if len(s1) not in (2, 3) or len(s2) not in (2, 3):
            raise ValueError(f'Layer "{self.name}" (Dot) supports inputs of rank 2 or 3; received inputs with '
                             f"shapes {shape_str(tuple(s1))}, {shape_str(tuple(s2))}")
        a = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        a = (a[0] % len(s1), a[1] % len(s2))
        if 0 in a:
            raise ValueError(f'Layer "{self.name}" (Dot) cannot contract the batch axis; received axes={self.axes}')
        if s1[a[0]] is not None and s2[a[1]] is not None and s1[a[0]] != s2[a[1]]:
            raise ValueError(f'Layer "{self.name}" (Dot): dimension incompatibility: {s1[a[0]]} != {s2[a[1]]} '
                             f"(axes {a}); received inputs with shapes {shape_str(tuple(s1))}, "
                             f"{shape_str(tuple(s2))}")
        return a

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2:
            raise ValueError(f'Layer "{self.name}" (Dot) should be called on a list of 2 inputs; received '
                             f"input shape {input_shape}")
        self._resolved_axes(*input_shape)
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f'Layer "{self.name}" (Dot) should be called on a list of 2 inputs')
        x, y = inputs
        a1, a2 = self._resolved_axes(x.shape, y.shape)
        if self.normalize:
            x = tl.nn.l2_normalize(x, axis=a1)
            y = tl.nn.l2_normalize(y, axis=a2)
        r1, r2 = len(x.shape), len(y.shape)
        if r1 == 2 and r2 == 2:
            return tl.reduce_sum(x * y, axis=1, keepdims=True)
        # Batched matmul: bring the contracted axis of x last and of y to position 1.
        if r1 == 2:
            x = tl.reshape(x, (-1, 1, x.shape[1]))
        elif a1 == 1:
            x = tl.transpose(x, (0, 2, 1))
        if r2 == 2:
            y = tl.reshape(y, (-1, y.shape[1], 1))
        elif a2 == 2:
            y = tl.transpose(y, (0, 2, 1))
        out = tl.matmul(x, y)
        if r1 == 2:
            out = tl.reshape(out, (-1, out.shape[2]))
        elif r2 == 2:
            out = tl.reshape(out, (-1, out.shape[1]))
        return out

    def compute_output_shape(self, input_shape):
        s1, s2 = [tuple(s) for s in input_shape]
        a1, a2 = self._resolved_axes(s1, s2)
        rest = [d for i, d in enumerate(s1) if i not in (0, a1)] + [d for i, d in enumerate(s2) if i not in (0, a2)]
        return (s1[0],) + tuple(rest) if rest else (s1[0], 1)

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def add(inputs, **kwargs):
    """Functional form of ``Add``: ``add([x1, x2, ...])``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Functional form of ``Subtract``: ``subtract([x1, x2])``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Functional form of ``Multiply``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Functional form of ``Average``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Functional form of ``Maximum``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Functional form of ``Minimum``."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Functional form of ``Concatenate``: ``concatenate([x1, x2], axis=-1)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """Functional form of ``Dot``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
