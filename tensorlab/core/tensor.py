"""``tl.Tensor``, ``tl.Variable`` and conversion of Python values to tensors.

A Tensor is an immutable handle on a backend array (numpy on the CPU, CuPy on
a GPU) plus its device. Python operators route to the ops in ``tensorlab.ops``.
"""

from tensorlab.core import device as _device_mod
from tensorlab.core import dtypes as _dt
from tensorlab.core import registry as _reg
from tensorlab.core.spec import TensorShape, TensorSpec

_ops = None  # the tensorlab.ops package, bound once it is imported (see _bind_ops)


def _bind_ops(module):
    global _ops
    _ops = module


class _Operators:
    """Python operators shared by Tensor and Variable; TF's semantics."""

    __slots__ = ()

    def __add__(self, o): return _ops.add(self, o)
    def __radd__(self, o): return _ops.add(o, self)
    def __sub__(self, o): return _ops.subtract(self, o)
    def __rsub__(self, o): return _ops.subtract(o, self)
    def __mul__(self, o): return _ops.multiply(self, o)
    def __rmul__(self, o): return _ops.multiply(o, self)
    def __truediv__(self, o): return _ops.truediv(self, o)
    def __rtruediv__(self, o): return _ops.truediv(o, self)
    def __floordiv__(self, o): return _ops.floordiv(self, o)
    def __rfloordiv__(self, o): return _ops.floordiv(o, self)
    def __mod__(self, o): return _ops.floormod(self, o)
    def __rmod__(self, o): return _ops.floormod(o, self)
    def __pow__(self, o): return _ops.pow(self, o)
    def __rpow__(self, o): return _ops.pow(o, self)
    def __matmul__(self, o): return _ops.matmul(self, o)
    def __rmatmul__(self, o): return _ops.matmul(o, self)
    def __neg__(self): return _ops.negative(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)
    def __invert__(self): return _ops.logical_not(self) if self.dtype.is_bool else _ops.bitwise_invert(self)
    def __and__(self, o): return _ops.logical_and(self, o)
    def __rand__(self, o): return _ops.logical_and(o, self)
    def __or__(self, o): return _ops.logical_or(self, o)
    def __ror__(self, o): return _ops.logical_or(o, self)
    def __xor__(self, o): return _ops.logical_xor(self, o)
    def __lt__(self, o): return _ops.less(self, o)
    def __le__(self, o): return _ops.less_equal(self, o)
    def __gt__(self, o): return _ops.greater(self, o)
    def __ge__(self, o): return _ops.greater_equal(self, o)

    def __eq__(self, o):
        if o is None:
            return False
        return _ops.equal(self, o)

    def __ne__(self, o):
        if o is None:
            return True
        return _ops.not_equal(self, o)

    __hash__ = None  # like TF2: tensors are unhashable, use tensor.ref() as a key

    def __getitem__(self, key):
        return _ops.getitem(self, key)

    def __len__(self):
        s = self.shape
        if not s:
            raise TypeError("len() of a scalar (rank-0) tensor is undefined")
        return s[0]

    def __iter__(self):
        s = self.shape
        if not s:
            raise TypeError("Cannot iterate over a scalar tensor")
        return (self[i] for i in range(s[0]))

    def _scalar(self, kind):
        if self.shape.num_elements() != 1:
            raise ValueError(f"{kind}() of a tensor needs exactly one element; this one has shape {tuple(self.shape)}")
        return self.numpy().reshape(()).item()

    def __bool__(self):
        return bool(self._scalar("bool"))

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __index__(self):
        if not self.dtype.is_integer:
            raise TypeError(f"only integer tensors can be used as an index, not {self.dtype.name}")
        return int(self._scalar("index"))

    def __array__(self, dtype=None, copy=None):
        import numpy as np  # the protocol must return an ndarray (a 0-d result may hold a numpy scalar)
        a = np.asarray(self.numpy())
        if dtype is not None and a.dtype != dtype:
            return a.astype(dtype)
        return a.copy() if copy else a

    def ref(self):
        """A hashable reference to this object (TF's ``tensor.ref()``)."""
        return _Ref(self)


class _Ref:
    __slots__ = ("_obj",)

    def __init__(self, obj):
        self._obj = obj

    def deref(self):
        return self._obj

    def __hash__(self):
        return id(self._obj)

    def __eq__(self, other):
        return isinstance(other, _Ref) and other._obj is self._obj


class Tensor(_Operators):
    """An immutable multi-dimensional array on one device (like ``tf.Tensor``).

    Create tensors with ``tl.constant``, ``tl.zeros``, ``tl.random.normal``...
    rather than with this class.

    Example:
      >>> x = tl.constant([[1., 2.], [3., 4.]])
      >>> (x @ x + 1.0).numpy()
      array([[ 8., 11.],
             [16., 23.]], dtype=float32)
    """

    __slots__ = ("_data", "_device", "__weakref__", "_keras_mask")

    def __init__(self, *args, **kwargs):
        raise TypeError("tl.Tensor is not created directly; use tl.constant(value) or tl.convert_to_tensor")

    @property
    def shape(self):
        # A backend shape is already a tuple of ints: skip TensorShape's validation.
        return tuple.__new__(TensorShape, self._data.shape)

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return _dt.NP_TO_DTYPE[self._data.dtype]

    @property
    def device(self):
        return self._device.name

    def get_shape(self):
        return self.shape

    @property
    def size(self):
        return self._data.size

    def numpy(self):
        """The value as a numpy array (shares memory on the CPU, like TF)."""
        return self._device.backend.to_numpy(self._data)

    def cpu(self):
        """A copy of this tensor on the CPU (the tensor itself if already there)."""
        return _copy_to(self, _device_mod.get("cpu", 0))

    def gpu(self, index=0):
        """A copy of this tensor on GPU ``index``."""
        return _copy_to(self, _device_mod.parse(f"gpu:{index}"))

    def __dlpack__(self, stream=None, **kwargs):
        if stream is None:
            return self._data.__dlpack__(**kwargs)
        return self._data.__dlpack__(stream=stream, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __repr__(self):
        return (f"<tl.Tensor: shape={tuple(self._data.shape)}, dtype={self.dtype.name}, "
                f"numpy={self.numpy()!r}>")

    def __str__(self):
        return f"tl.Tensor(\n{self.numpy()}, shape={tuple(self._data.shape)}, dtype={self.dtype.name})"

    def __reduce__(self):
        return (_rebuild, (self.numpy(), self._device.name))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


def _rebuild(array, device_name):
    with _device_mod.device(device_name):
        return constant(array)


def wrap(data, dev):
    """Wraps a backend array (no copy) as a Tensor on ``dev``."""
    t = Tensor.__new__(Tensor)
    t._data = data
    t._device = dev
    return t


def _copy_to(t, dst):
    return wrap(_device_mod.transfer(t._data, t._device, dst), dst)


class SymbolicTensor(_Operators):
    """A tensor with a shape and dtype but no data (Keras' Functional API).

    Ops on symbolic tensors run their primitives' shape rules only.
    """

    __slots__ = ("_spec", "_device", "_keras_history", "name", "__weakref__", "_keras_mask")

    def __init__(self, shape, dtype=_dt.float32, name=None):
        self._spec = TensorSpec(shape, dtype)
        self._device = _device_mod.SYMBOLIC
        self._keras_history = None
        self._keras_mask = None
        self.name = name

    shape = property(lambda self: self._spec.shape)
    dtype = property(lambda self: self._spec.dtype)
    ndim = property(lambda self: len(self._spec.shape))
    device = property(lambda self: "symbolic")

    def get_shape(self):
        return self.shape

    def numpy(self):
        raise TypeError(
            f"symbolic tensor {self.name or ''} (shape={self.shape}, dtype={self.dtype.name}) has no value: "
            "it describes a Functional model's input or an intermediate output. Call the model on data instead.")

    def __bool__(self):
        raise TypeError("a symbolic tensor has no truth value; Python control flow on it is not traced")

    def __repr__(self):
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype.name}{' name=' + self.name if self.name else ''}>"


def spec_of(x):
    if isinstance(x, SymbolicTensor):
        return x._spec
    return TensorSpec(x.shape, x.dtype)


def _symbolic_eval(prim, args, params):
    out = prim.shape_rule(*[spec_of(a) for a in args], **params)
    if prim.multiple_results:
        return tuple(SymbolicTensor(s.shape, s.dtype) for s in out)
    return SymbolicTensor(out.shape, out.dtype)


# ------------------------------------------------------------------ conversion

def _to_array(value, dtype, dev):
    """Builds a backend array on ``dev`` from a Python/numpy value."""
    if dev.kind == "symbolic":
        dev = _device_mod.current()
        if dev.kind == "symbolic":
            dev = _device_mod.default_device()
    return dev, dev.backend.asarray(value, dtype.as_numpy_dtype if dtype is not None else None)


def constant(value, dtype=None, shape=None, name=None):
    """Creates a tensor from a Python value, numpy array or tensor (``tf.constant``).

    Args:
      value: a number, nested list, numpy array or tensor.
      dtype: the element type; by default inferred like TF (Python floats ->
        float32, Python ints -> int32, numpy arrays keep theirs).
      shape: optional shape; a scalar value is broadcast to it, otherwise the
        value is reshaped to it (element counts must match).
      name: ignored (kept for TF compatibility).

    Returns:
      A ``tl.Tensor`` on the current device.

    Example:
      >>> tl.constant([1, 2, 3], dtype=tl.float32)
    """
    if isinstance(value, (Tensor, Variable)):
        t = value if isinstance(value, Tensor) else value.read_value()
        if dtype is not None and _dt.as_dtype(dtype) != t.dtype:
            t = _ops.cast(t, dtype)
        if shape is not None:
            t = _ops.reshape(t, shape)
        cur = _device_mod.current()
        if t._device is not cur and cur.kind != "symbolic":
            t = _copy_to(t, cur)
        return t
    if isinstance(value, SymbolicTensor):
        raise TypeError("tl.constant: cannot make a constant of a symbolic (Functional-API) tensor")
    dt = _dt.as_dtype(dtype) if dtype is not None else _infer(value)
    dev = _device_mod.current()
    dev, arr = _to_array(value, dt, dev)
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        n = 1
        for s in shape:
            n *= s
        if arr.size == 1 and n != 1:
            arr = dev.backend.broadcast_copy(arr.reshape(()), shape)
        elif arr.size != n:
            from tensorlab.errors import InvalidArgumentError
            raise InvalidArgumentError(
                f"constant: value has {arr.size} elements (shape {tuple(arr.shape)}) and cannot be "
                f"reshaped to shape {shape} ({n} elements); give a scalar to fill the shape, or matching data")
        else:
            arr = arr.reshape(shape)
    return wrap(arr, dev)


def _infer(value):
    if hasattr(value, "__dlpack__") and not hasattr(value, "__array_interface__") and not hasattr(value, "__array__"):
        raise TypeError(f"tl.constant: use tl.from_dlpack for {type(value).__name__}")
    if isinstance(value, (list, tuple)) and value and any(isinstance(v, (Tensor, Variable)) for v in _flat(value)):
        # A list of tensors: infer from them (all must agree).
        dts = {v.dtype for v in _flat(value) if isinstance(v, (Tensor, Variable))}
        if len(dts) > 1:
            raise TypeError(f"tl.constant: list mixes tensors of dtypes {sorted(d.name for d in dts)}")
        return dts.pop()
    if hasattr(value, "dtype") and hasattr(value, "shape") and not hasattr(value, "__array_interface__"):
        try:  # e.g. a CuPy array or torch tensor exposing a numpy-compatible dtype
            return _dt.as_dtype(str(value.dtype).replace("torch.", ""))
        except TypeError:
            pass
    return _dt.infer_dtype(value)


def _flat(v):
    if isinstance(v, (list, tuple)):
        for x in v:
            yield from _flat(x)
    else:
        yield v


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """Converts a value to a tensor, like ``tf.convert_to_tensor``.

    Tensors pass through unchanged (a requested ``dtype`` must match: this
    does not cast; use ``tl.cast``); variables are read; other values become
    constants with ``dtype``, or ``dtype_hint`` when compatible.

    Raises:
      ValueError: for a tensor whose dtype differs from ``dtype``.
    """
    if type(value) is Tensor or isinstance(value, SymbolicTensor):
        if dtype is not None and _dt.as_dtype(dtype) != value.dtype:
            raise ValueError(f"convert_to_tensor: requested dtype {_dt.as_dtype(dtype).name} for a tensor of "
                             f"dtype {value.dtype.name}; use tl.cast to convert")
        return value
    if isinstance(value, Variable):
        return convert_to_tensor(value._read(), dtype)
    if isinstance(value, Tensor):
        return value
    if hasattr(value, "_tl_tensor"):  # objects that know how to become a tensor
        return convert_to_tensor(value._tl_tensor(), dtype)
    if dtype is None and dtype_hint is not None:
        try:
            return constant(value, dtype=dtype_hint)
        except (TypeError, ValueError):
            pass
    return constant(value, dtype=dtype)


def as_operand(value, like):
    """Converts ``value`` for use beside tensor ``like`` in an op (TF's promotion).

    Python scalars and sequences take ``like``'s dtype (an int tensor refuses a
    non-integral float); tensors of another dtype raise ``TypeError``.
    """
    if type(value) is Tensor or isinstance(value, SymbolicTensor):
        return value
    if isinstance(value, Variable):
        return value._read()
    dt = like.dtype
    if isinstance(value, float) and not dt.is_floating:
        if dt.is_bool or value != int(value):
            raise TypeError(f"Cannot convert {value!r} to a tensor of dtype {dt.name} "
                            f"(the other operand's dtype); use tl.cast for explicit conversion")
    elif isinstance(value, bool) and not dt.is_bool:
        pass
    elif hasattr(value, "dtype") and not isinstance(value, (int, float)):
        try:
            vdt = _dt.as_dtype(value.dtype)
        except TypeError:
            vdt = None
        if vdt is not None and vdt != dt and not (vdt.is_floating and dt.is_floating) \
                and not (vdt.is_integer and dt.is_integer):
            raise TypeError(f"Cannot use a {vdt.name} array beside a {dt.name} tensor; "
                            f"TF-style ops do not promote: use tl.cast")
    dev, arr = _to_array(value, dt, like._device)
    return wrap(arr, dev)


_reg._hooks["wrap"] = wrap
_reg._hooks["symbolic"] = _symbolic_eval
_reg._hooks["spec_of"] = spec_of

# Variables live in their own module; importing them here (after everything
# above exists) keeps ``tensorlab.core.tensor.Variable`` working for callers.
from tensorlab.core.variables import Variable, variable_creator_scope  # noqa: E402,F401
