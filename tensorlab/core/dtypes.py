"""tensorlab dtypes (``tl.float32``, ...) and the table that maps them to numpy.

This is the one place above the backends that knows numpy dtypes: backends
store arrays whose ``.dtype`` is a numpy dtype, and ``as_dtype`` maps it back.
"""
import numpy as np

try:  # bfloat16 is optional: it needs the small ml_dtypes package.
    import ml_dtypes as _ml_dtypes
    _BF16 = np.dtype(_ml_dtypes.bfloat16)
except Exception:  # pragma: no cover - depends on the environment
    _BF16 = None


class DType:
    """A tensor element type with TensorFlow's name and predicates.

    Compares equal to itself, to its name (``"float32"``) and to the
    matching numpy dtype, as ``tf.DType`` does.
    """

    __slots__ = ("name", "_np", "size")

    def __init__(self, name, np_dtype):
        self.name = name
        self._np = np_dtype
        self.size = np_dtype.itemsize if np_dtype is not None else 0

    @property
    def as_numpy_dtype(self):
        if self._np is None:
            raise TypeError(f"dtype {self.name} needs the ml_dtypes package (pip install ml_dtypes)")
        return self._np.type

    @property
    def is_floating(self):
        return self.name in ("float16", "bfloat16", "float32", "float64")

    @property
    def is_integer(self):
        return self.name.startswith(("int", "uint"))

    @property
    def is_unsigned(self):
        return self.name.startswith("uint")

    @property
    def is_bool(self):
        return self.name == "bool"

    @property
    def base_dtype(self):
        return self

    @property
    def min(self):
        return self._finfo().min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self):
        return self._finfo().max if self.is_floating else np.iinfo(self._np).max

    def _finfo(self):
        if self.name == "bfloat16":  # numpy's finfo does not know ml_dtypes' bfloat16; ml_dtypes' does
            import ml_dtypes
            return ml_dtypes.finfo(self._np)
        return np.finfo(self._np)

    def __repr__(self):
        return f"tl.{self.name}"

    def __eq__(self, other):
        if other is self:
            return True
        try:
            return as_dtype(other) is self
        except TypeError:
            return False

    def __hash__(self):
        return hash(self.name)


float16 = DType("float16", np.dtype(np.float16))
bfloat16 = DType("bfloat16", _BF16)
float32 = DType("float32", np.dtype(np.float32))
float64 = DType("float64", np.dtype(np.float64))
int8 = DType("int8", np.dtype(np.int8))
int16 = DType("int16", np.dtype(np.int16))
int32 = DType("int32", np.dtype(np.int32))
int64 = DType("int64", np.dtype(np.int64))
uint8 = DType("uint8", np.dtype(np.uint8))
bool_ = DType("bool", np.dtype(np.bool_))
half, double = float16, float64

ALL = (float16, bfloat16, float32, float64, int8, int16, int32, int64, uint8, bool_)
_BY_NAME = {d.name: d for d in ALL}
_BY_NAME.update({"half": float16, "double": float64, "float": float32, "int": int32,
                 "bool_": bool_})
# numpy dtype -> DType; backends hand us numpy dtypes (CuPy uses numpy's too).
NP_TO_DTYPE = {d._np: d for d in ALL if d._np is not None}
_PY_TYPES = {float: float32, int: int32, bool: bool_}


def as_dtype(value):
    """Converts a DType, name, numpy dtype or Python type to a ``DType``.

    Raises:
      TypeError: if ``value`` does not name a supported dtype.
    """
    if isinstance(value, DType):
        return value
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value in _PY_TYPES:
        return _PY_TYPES[value]
    try:
        d = NP_TO_DTYPE.get(np.dtype(value))
    except TypeError:
        d = None
    if d is None:
        raise TypeError(f"Cannot convert {value!r} to a tensorlab dtype; valid dtypes are "
                        + ", ".join(x.name for x in ALL))
    return d


def infer_dtype(value):
    """The dtype ``tl.constant(value)`` takes when none is given (TF's rules).

    Python floats become float32 and Python ints int32, while numpy arrays
    and scalars keep their own dtype.
    """
    if isinstance(value, (np.ndarray, np.generic)):
        return as_dtype(value.dtype)
    arr = np.asarray(value)
    if arr.dtype == np.float64:
        return float32
    if arr.dtype.kind in "iu":
        if arr.size and (arr.max() > np.iinfo(np.int32).max or arr.min() < np.iinfo(np.int32).min):
            return int64
        return int32
    if arr.dtype.kind == "b":
        return bool_
    if arr.dtype.kind in "OUS" or arr.dtype.kind == "c":
        raise TypeError(f"Cannot convert {type(value).__name__} with numpy dtype {arr.dtype} to a tensor; "
                        "tensorlab tensors hold numbers or booleans")
    return as_dtype(arr.dtype)
