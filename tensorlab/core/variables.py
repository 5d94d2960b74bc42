"""``tl.Variable``: mutable tensor-valued state, and the variable-creator scope
that ``tl.distribute`` strategies use to make mirrored variables."""
import contextlib
import itertools
import threading

from tensorlab.core import device as _device_mod
from tensorlab.core import dtypes as _dt
from tensorlab.core import name_scope as _name_scope
from tensorlab.core import registry as _reg
from tensorlab.core.spec import TensorShape
from tensorlab.core.tensor import Tensor, _copy_to, _Operators, as_operand, constant, wrap
from tensorlab.core import tensor as _tensor  # its _ops is bound when tensorlab.ops loads

_var_ids = itertools.count()


class _Creators(threading.local):
    def __init__(self):
        self.stack = []


_creators = _Creators()


class _Autocast(threading.local):
    """The dtype that autocasting variables are read as in this thread (None: their own).

    Keras layers with a mixed dtype policy (float32 weights, float16 or bfloat16
    computation) set it while their ``call`` runs (``keras.layers.Layer.__call__``).
    """
    dtype = None


autocast_state = _Autocast()


def _autocast(var, s):
    """``s`` (a read of ``var``) cast to the autocast dtype, when one is set and differs.

    The cast is an op like any other: a tape records it, so the gradient reaches the
    variable in the variable's own dtype.
    """
    dt = autocast_state.dtype
    if dt is None or s.dtype is dt:
        return s
    return _tensor._ops.cast(s, dt)


@contextlib.contextmanager
def variable_creator_scope(creator):
    """Routes ``tl.Variable(...)`` calls in this thread through ``creator``.

    ``creator(**kwargs)`` receives ``Variable``'s keyword arguments and returns
    the variable to use (a ``tl.distribute`` strategy's scope creates mirrored
    variables this way). Scopes nest; the innermost creator wins.
    """
    _creators.stack.append(creator)
    try:
        yield
    finally:
        _creators.stack.pop()


def _bind_variable_args(initial_value=None, trainable=True, name=None, dtype=None, shape=None,
                        constraint=None, aggregation=None, synchronization=None, **kwargs):
    return dict(initial_value=initial_value, trainable=trainable, name=name, dtype=dtype, shape=shape,
                constraint=constraint, aggregation=aggregation, synchronization=synchronization, **kwargs)


class Variable(_Operators):
    """A mutable tensor-valued state, like ``tf.Variable``.

    Ops accept a variable wherever they accept a tensor. Reading a trainable
    variable inside a ``GradientTape`` makes the tape watch it.

    Args:
      initial_value: a tensor, array, Python value, or a callable returning one.
      trainable: whether ``GradientTape`` watches it automatically and
        optimizers update it.
      name: the variable's name (``v.name`` is ``"<name>:0"``, as in TF).
      dtype: converts the initial value to this dtype.
      shape: optional static shape check.

    Example:
      >>> v = tl.Variable(1.0)
      >>> v.assign_add(2.0)
      >>> float(v)
      3.0
    """

    __slots__ = ("_data", "_device", "_snap", "trainable", "_name", "_uid", "__weakref__",
                 "_keras_attrs", "constraint", "aggregation", "synchronization", "_autocast")

    def __new__(cls, *args, **kwargs):
        # Only plain tl.Variable(...) calls are routed: subclasses and the creators'
        # own constructions (object.__new__) are not.
        if _creators.stack and cls is Variable:
            creator = _creators.stack.pop()  # tl.Variable(...) inside a creator goes to the next one
            try:
                return creator(**_bind_variable_args(*args, **kwargs))
            finally:
                _creators.stack.append(creator)
        return object.__new__(cls)

    def __init__(self, initial_value=None, trainable=True, name=None, dtype=None, shape=None,
                 constraint=None, aggregation=None, synchronization=None, **kwargs):
        if _creators.stack and hasattr(self, "_uid"):
            return  # made by a creator (see __new__); Python calls __init__ on it again
        if initial_value is None:
            raise ValueError("tl.Variable: initial_value must be given")
        if callable(initial_value):
            initial_value = initial_value()
        t = initial_value._read() if isinstance(initial_value, Variable) else initial_value
        if not isinstance(t, Tensor):
            t = constant(t, dtype=dtype)
        elif dtype is not None and _dt.as_dtype(dtype) != t.dtype:
            t = _tensor._ops.cast(t, dtype)
        cur = _device_mod.current()
        if cur.kind != "symbolic" and t._device is not cur:
            t = _copy_to(t, cur)
        if shape is not None and not TensorShape(shape).is_compatible_with(t.shape):
            raise ValueError(f"tl.Variable: initial value shape {tuple(t.shape)} is not compatible with shape {shape}")
        self._data = t._data
        self._device = t._device
        self._snap = t
        self.trainable = bool(trainable)
        self._uid = next(_var_ids)
        self._name = _name_scope.scoped(name or "Variable")  # under tl.name_scope, as in TF 2
        self._keras_attrs = None
        self.constraint = constraint
        self.aggregation = aggregation
        self.synchronization = synchronization
        # Read as the autocast dtype inside a mixed-precision layer's call (Keras layers'
        # floating weights set this; see ``_autocast``).
        self._autocast = False

    # -- reading
    def _read(self):
        """The current value as a Tensor (one cached snapshot per assignment)."""
        s = self._snap
        if s is None:
            s = self._snap = wrap(self._data, self._device)
        if _reg.STATE.tapes:
            for tape in _reg.STATE.tapes:
                tape._variable_read(self, s)
        return _autocast(self, s) if self._autocast else s

    def read_value(self):
        return self._read()

    def value(self):
        return self._read()

    def _tl_tensor(self):
        return self._read()

    @property
    def name(self):
        return self._name if ":" in self._name else f"{self._name}:0"

    @property
    def shape(self):
        return TensorShape(self._data.shape)

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

    def numpy(self):
        return self._device.backend.to_numpy(self._data)

    # -- writing
    def _set(self, t):
        if tuple(t.shape) != tuple(self._data.shape):
            from tensorlab.errors import InvalidArgumentError
            raise InvalidArgumentError(
                f"assign: variable {self.name} has shape {tuple(self._data.shape)} and cannot take a value "
                f"of shape {tuple(t.shape)}")
        if t._device is not self._device:
            t = _copy_to(t, self._device)
        self._data = t._data
        self._snap = t

    def _coerce(self, value, op):
        t = value._read() if isinstance(value, Variable) else value
        if not isinstance(t, Tensor):
            t = as_operand(t, self)
        elif t.dtype != self.dtype:
            raise TypeError(f"{op}: variable {self.name} has dtype {self.dtype.name}, value has dtype "
                            f"{t.dtype.name}; use tl.cast first")
        return t

    def assign(self, value, use_locking=False, name=None, read_value=True):
        """Sets the variable's value (same shape and dtype). Returns the variable."""
        self._set(self._coerce(value, "assign"))
        return self if read_value else None

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        """Adds ``delta`` to the variable in place. Returns the variable."""
        self._set(_tensor._ops.add(self._read_untracked(), self._coerce(delta, "assign_add")))
        return self if read_value else None

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        """Subtracts ``delta`` from the variable in place. Returns the variable."""
        self._set(_tensor._ops.subtract(self._read_untracked(), self._coerce(delta, "assign_sub")))
        return self if read_value else None

    def _read_untracked(self):
        s = self._snap
        if s is None:
            s = self._snap = wrap(self._data, self._device)
        return s

    def _assign_raw(self, data):
        """Backend-level in-place replacement used by fused optimizer kernels."""
        self._data = data
        self._snap = None

    def __repr__(self):
        return (f"<tl.Variable '{self.name}' shape={tuple(self._data.shape)} dtype={self.dtype.name}, "
                f"numpy={self.numpy()!r}>")

    def __reduce__(self):
        return (Variable, (self.numpy(), self.trainable, self._name))

    def __deepcopy__(self, memo):
        v = Variable(self._read_untracked(), trainable=self.trainable)
        v._name = self._name  # the same name, not re-scoped under a current tl.name_scope
        v._autocast = self._autocast
        return v


