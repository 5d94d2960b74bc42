"""``tl.TensorArray``: TF's list of same-dtype tensors, for loops that build a result piece by piece.

tensorlab executes eagerly, so a TensorArray is a Python list of tensors (as
TF's eager TensorArray is). ``read`` returns the written tensor itself and
``stack``/``gather``/``concat`` are the shape family's primitives, so
gradients flow through whatever was written, with no rules of their own.
"""
import operator

from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.spec import TensorShape
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable, convert_to_tensor
from tensorlab.errors import InvalidArgumentError, OutOfRangeError
from tensorlab.ops import creation as _cr
from tensorlab.ops import shape as _sh
from tensorlab.ops._rules import fmt


def _int(op, what, v):
    """A Python int from an int, a numpy integer or a scalar integer tensor."""
    if isinstance(v, (Tensor, Variable, SymbolicTensor)):
        if isinstance(v, SymbolicTensor) or not v.dtype.is_integer or tuple(v.shape) != ():
            raise TypeError(f"TensorArray.{op}: {what} must be a scalar integer, got a tensor of shape "
                            f"{fmt(v.shape)} and dtype {v.dtype.name}")
        return int(v)
    try:
        return operator.index(v)
    except TypeError:
        raise TypeError(f"TensorArray.{op}: {what} must be an integer, got {v!r}") from None


def _ints(op, what, v):
    if isinstance(v, (Tensor, Variable)):
        if not v.dtype.is_integer or len(v.shape) != 1:
            raise TypeError(f"TensorArray.{op}: {what} must be a 1-D integer tensor or list, got shape "
                            f"{fmt(v.shape)} and dtype {v.dtype.name}")
        return [int(i) for i in v.numpy().tolist()]
    return [_int(op, what, i) for i in v]


class TensorArray:
    """A list of tensors of one dtype with TF's ``tf.TensorArray`` interface.

    ``write`` (and ``scatter``, ``unstack``, ``split``) store tensors, ``read``
    and ``gather`` get them back, ``stack`` and ``concat`` join them. Each
    writing method returns the TensorArray, so TF's functional style
    ``ta = ta.write(i, x)`` works, and a TensorArray can be a ``while_loop``
    variable. Gradients flow from ``stack``/``read``/... back to what was written.

    Args:
      dtype: the dtype of every element.
      size: the initial number of elements (default 0).
      dynamic_size: let writes past the end grow the array (else they raise).
      clear_after_read: ``read`` empties the element it returns, so a second read
        of it raises (default True, as in TF).
      infer_shape: the first write fixes the element shape; later writes must
        match it.
      element_shape: the elements' shape if known (None dims are unknown).
      tensor_array_name, handle, flow, colocate_with_first_write_call, name:
        accepted for TF compatibility.

    Example:
      >>> ta = tl.TensorArray(tl.float32, size=0, dynamic_size=True)
      >>> for i in range(3):
      ...     ta = ta.write(i, tl.fill([2], float(i)))
      >>> ta.stack().numpy()
      array([[0., 0.],
             [1., 1.],
             [2., 2.]], dtype=float32)
    """

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None, tensor_array_name=None,
                 handle=None, flow=None, infer_shape=True, element_shape=None, colocate_with_first_write_call=True,
                 name=None):
        self._dtype = dt.as_dtype(dtype)
        n = 0 if size is None else _int("__init__", "size", size)
        if n < 0:
            raise InvalidArgumentError(f"TensorArray: size must be non-negative, got {n}")
        self._items = [None] * n
        self._dynamic = bool(dynamic_size)
        self._clear = True if clear_after_read is None else bool(clear_after_read)
        self._infer = bool(infer_shape)
        self._shape = None if element_shape is None else TensorShape(element_shape)
        self._cleared = set()

    # -- properties
    @property
    def dtype(self):
        """The dtype of the elements."""
        return self._dtype

    @property
    def dynamic_size(self):
        """Whether writes past the end grow the array."""
        return self._dynamic

    @property
    def element_shape(self):
        """The known element shape (a ``TensorShape``, None dims unknown), or None when unknown."""
        return self._shape

    def size(self, name=None):
        """The number of elements, as an int32 scalar tensor."""
        return _cr.constant(len(self._items), dt.int32)

    def identity(self):
        """This TensorArray (TF's graph-ordering helper; eager arrays need none)."""
        return self

    def __repr__(self):
        return (f"<tl.TensorArray dtype={self._dtype.name} size={len(self._items)} dynamic_size={self._dynamic} "
                f"element_shape={None if self._shape is None else fmt(self._shape)}>")

    # -- writing
    def _value(self, op, value):
        if isinstance(value, Variable):
            value = value._read()
        if isinstance(value, (Tensor, SymbolicTensor)):
            if value.dtype != self._dtype:
                raise TypeError(f"TensorArray.{op}: value has dtype {value.dtype.name} but the TensorArray holds "
                                f"{self._dtype.name}; cast it (tl.cast) first")
            return value
        return convert_to_tensor(value, dtype=self._dtype)

    def _merge_shape(self, op, shape, what):
        shape = TensorShape(shape)
        if self._shape is None:
            if self._infer:
                self._shape = shape
            return
        if not self._shape.is_compatible_with(shape):
            raise InvalidArgumentError(f"TensorArray.{op}: {what} has shape {fmt(shape)}, incompatible with the "
                                       f"element shape {fmt(self._shape)} of this TensorArray")
        if self._infer:
            self._shape = TensorShape([a if a is not None else b for a, b in zip(self._shape, shape)])

    def _check_writable(self, op, index):
        n = len(self._items)
        if index < 0:
            raise OutOfRangeError(f"TensorArray.{op}: index {index} is negative; indices must be in [0, size)")
        if index >= n and not self._dynamic:
            raise OutOfRangeError(f"TensorArray.{op}: index {index} is out of range for a TensorArray of size "
                                  f"{n} (dynamic_size=False); create it with dynamic_size=True to let it grow")

    def _put(self, index, x):
        if index >= len(self._items):  # dynamic_size (checked first)
            self._items.extend([None] * (index + 1 - len(self._items)))
        self._items[index] = x
        self._cleared.discard(index)

    def write(self, index, value, name=None):
        """Stores ``value`` at ``index``; returns this TensorArray.

        Raises:
          OutOfRangeError: a negative index, or one >= size without dynamic_size.
          TypeError: a value of another dtype.
          InvalidArgumentError: a value whose shape does not match the element shape.
        """
        i = _int("write", "index", index)
        x = self._value("write", value)
        self._check_writable("write", i)
        self._merge_shape("write", x.shape, "value")
        self._put(i, x)
        return self

    def scatter(self, indices, value, name=None):
        """Writes ``value[k]`` at ``indices[k]`` for each k; returns this TensorArray."""
        idx = _ints("scatter", "indices", indices)
        x = self._value("scatter", value)
        if x.ndim == 0 or (x.shape[0] is not None and x.shape[0] != len(idx)):
            raise InvalidArgumentError(f"TensorArray.scatter: value must have one row per index ({len(idx)}), got "
                                       f"shape {fmt(x.shape)}")
        for i in idx:
            self._check_writable("scatter", i)
        if idx:
            self._merge_shape("scatter", x.shape[1:], "each row of value")
            for i, row in zip(idx, _sh.unstack(x, num=len(idx))):
                self._put(i, row)
        return self

    def unstack(self, value, name=None):
        """Writes ``value[k]`` at index ``k`` for each row of ``value``; returns this TensorArray."""
        x = self._value("unstack", value)
        if x.ndim == 0:
            raise InvalidArgumentError("TensorArray.unstack: value must have rank 1 or more, got a scalar")
        return self.scatter(list(range(x.shape[0])), x)

    def split(self, value, lengths, name=None):
        """Splits ``value`` along axis 0 into pieces of ``lengths`` and writes piece ``k`` at index ``k``."""
        x = self._value("split", value)
        sizes = _ints("split", "lengths", lengths)
        if x.ndim == 0:
            raise InvalidArgumentError("TensorArray.split: value must have rank 1 or more, got a scalar")
        if any(s < 0 for s in sizes) or sum(sizes) != x.shape[0]:
            raise InvalidArgumentError(f"TensorArray.split: lengths {sizes} must be non-negative and sum to "
                                       f"value.shape[0] = {x.shape[0]} (value shape {fmt(x.shape)})")
        if not self._dynamic and len(sizes) != len(self._items):
            raise InvalidArgumentError(f"TensorArray.split: {len(sizes)} lengths for a TensorArray of size "
                                       f"{len(self._items)} (dynamic_size=False); they must be equal")
        # Pieces of different lengths share only the trailing dims (TF's element shape [None, ...]).
        first = sizes[0] if sizes and min(sizes) == max(sizes) else None
        self._merge_shape("split", [first] + list(x.shape[1:]), "each piece of value")
        for i, piece in enumerate(_sh.split(x, sizes) if sizes else ()):
            self._put(i, piece)
        return self

    # -- reading
    def _check_index(self, op, i):
        if not 0 <= i < len(self._items):
            raise OutOfRangeError(f"TensorArray.{op}: index {i} is out of range for a TensorArray of size "
                                  f"{len(self._items)}")

    def _element(self, op, i):
        """Element ``i``; an unwritten one is zeros when the element shape is known (TF's eager stack)."""
        self._check_index(op, i)
        x = self._items[i]
        if x is not None:
            return x
        if i in self._cleared:
            raise InvalidArgumentError(f"TensorArray.{op}: index {i} was cleared by a previous read "
                                       "(clear_after_read=True); create the TensorArray with clear_after_read=False "
                                       "to read an element more than once")
        if op != "read" and self._shape is not None and self._shape.is_fully_defined():
            with _dev.device(self._device()):
                return _cr.zeros(list(self._shape), dtype=self._dtype)
        raise InvalidArgumentError(f"TensorArray.{op}: index {i} has not been written (size {len(self._items)}, "
                                   f"element shape {'unknown' if self._shape is None else fmt(self._shape)}); "
                                   "write it before reading")

    def _device(self):
        for x in self._items:
            if type(x) is Tensor:
                return x._device
        return _dev.current()

    def read(self, index, name=None):
        """The tensor written at ``index`` (with clear_after_read, the element is emptied).

        Raises:
          OutOfRangeError: an index outside ``[0, size)``.
          InvalidArgumentError: an index never written, or already read and cleared.
        """
        i = _int("read", "index", index)
        x = self._element("read", i)
        if self._clear:
            self._items[i] = None
            self._cleared.add(i)
        return x

    def _joined(self, op, idx, concat=False):
        """The elements at ``idx`` stacked (or concatenated) along axis 0."""
        skip = 1 if concat else 0  # concat joins along the elements' first axis: only the rest must match
        if not idx:
            shape = [0] + (list(self._shape[skip:]) if self._shape is not None else [])
            with _dev.device(self._device()):
                return _cr.zeros([0] if None in shape else shape, dtype=self._dtype)
        xs = [self._element(op, i) for i in idx]
        for k, x in enumerate(xs):
            if x.ndim < skip:
                raise InvalidArgumentError(f"TensorArray.concat: element {idx[k]} is a scalar; concat needs elements "
                                           "of rank 1 or more (use stack)")
            if tuple(x.shape[skip:]) != tuple(xs[0].shape[skip:]):
                raise InvalidArgumentError(f"TensorArray.{op}: element {idx[0]} has shape {fmt(xs[0].shape)} but "
                                           f"element {idx[k]} has {fmt(x.shape)}; they must match to {op}")
        return _sh.concat(xs, 0) if concat else _sh.stack(xs, 0)

    def stack(self, name=None):
        """All elements stacked along a new first axis: ``[size] + element_shape``."""
        return self._joined("stack", list(range(len(self._items))))

    def gather(self, indices, name=None):
        """The elements at ``indices`` stacked along a new first axis."""
        idx = _ints("gather", "indices", indices)
        for i in idx:
            self._check_index("gather", i)
        return self._joined("gather", idx)

    def concat(self, name=None):
        """All elements concatenated along their first axis."""
        return self._joined("concat", list(range(len(self._items))), concat=True)

    def close(self, name=None):
        """Drops every element (the size becomes 0)."""
        self._items = []
        self._cleared = set()


__all__ = ["TensorArray"]
