"""``tl.io.serialize_tensor`` / ``parse_tensor``: TF's ``TensorProto`` wire format, hand-encoded.

Numbers go in ``tensor_content`` (raw little-endian bytes), strings in
``string_val``, as TF's ``serialize_tensor`` writes them; the parser also
reads the typed repeated fields (``float_val``, ``int64_val``, ...) that other
writers use. Field numbers follow ``tensorflow/core/framework/tensor.proto``
and ``tensor_shape.proto``.
"""
import struct

import numpy as np

import tensorlab as tl
from tensorlab.data import _structure as st
from tensorlab.train.example import _as_int64, _fields, _ld, _unpack_varints, _varint

# DataType enum values (types.proto).
_DT = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6, "string": 7, "int64": 9,
       "bool": 10, "bfloat16": 14, "float16": 19}
_NAME = {v: k for k, v in _DT.items()}
# Typed repeated value fields: number -> (dtype names it may hold, decoder)
_FLOAT_VAL, _DOUBLE_VAL, _INT_VAL, _STRING_VAL, _INT64_VAL, _BOOL_VAL, _HALF_VAL = 5, 6, 7, 8, 10, 11, 13


def _shape_proto(shape):
    return b"".join(_ld(2, _key_size(d)) for d in shape)


def _key_size(d):
    return b"\x08" + _varint(int(d))  # Dim.size = 1 (a dim of size 0 is written too, harmlessly)


def serialize_tensor(tensor, name=None):
    """The ``TensorProto`` bytes of a tensor (as ``tf.io.serialize_tensor``).

    Example:
      >>> data = tl.io.serialize_tensor(tl.constant([[1., 2.]]))
      >>> tl.io.parse_tensor(data, tl.float32).numpy()
      array([[1., 2.]], dtype=float32)
    """
    if isinstance(tensor, (tl.Tensor, tl.Variable)):
        a = np.asarray(tensor.numpy())
    else:
        a = st.to_host(tensor, "serialize_tensor")
    if a.dtype == object:
        name_ = "string"
    else:
        name_ = tl.as_dtype(a.dtype).name
    if name_ not in _DT:
        raise TypeError(f"serialize_tensor: dtype {name_} has no TensorProto encoding")
    out = b"\x08" + _varint(_DT[name_]) + _ld(2, _shape_proto(a.shape))
    if name_ == "string":
        out += b"".join(_ld(_STRING_VAL, bytes(v)) for v in a.reshape(-1))
    elif a.size:
        out += _ld(4, np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).tobytes())
    return out


def _parse_shape(mv):
    dims = []
    for f, w, v in _fields(mv):
        if f == 2 and w == 2:
            size = 0
            for df, dw, dv in _fields(v):
                if df == 1 and dw == 0:
                    size = _as_int64(dv)
            dims.append(size)
        elif f == 3 and w == 0 and v:
            raise tl.errors.InvalidArgumentError("parse_tensor: the TensorProto has unknown rank")
    return tuple(dims)


def parse_tensor(serialized, out_type, name=None):
    """The tensor encoded in ``TensorProto`` bytes; ``out_type`` must match the stored dtype.

    Strings come back as numpy arrays of ``bytes`` (``bytes`` for a scalar).
    """
    if isinstance(serialized, np.ndarray):
        serialized = serialized.item()
    mv = memoryview(bytes(serialized))
    dtype, shape, content, vals = None, (), None, []
    try:
        for f, w, v in _fields(mv):
            if f == 1 and w == 0:
                dtype = _NAME.get(v)
                if dtype is None:
                    raise tl.errors.InvalidArgumentError(f"parse_tensor: unsupported TensorProto dtype enum {v}")
            elif f == 2 and w == 2:
                shape = _parse_shape(v)
            elif f == 4 and w == 2:
                content = bytes(v)
            elif f == _STRING_VAL and w == 2:
                vals.append(bytes(v))
            elif f == _FLOAT_VAL:
                vals.extend(struct.unpack(f"<{len(v) // 4}f", v) if w == 2 else struct.unpack("<f", v))
            elif f == _DOUBLE_VAL:
                vals.extend(struct.unpack(f"<{len(v) // 8}d", v) if w == 2 else struct.unpack("<d", v))
            elif f in (_INT_VAL, _INT64_VAL, _BOOL_VAL, _HALF_VAL):
                raw = _unpack_varints(v) if w == 2 else [_as_int64(v)]
                if f == _INT_VAL:  # int32 values are sign-extended to 64 bits on the wire
                    raw = [x if x < 2 ** 31 else x - 2 ** 32 for x in raw]
                vals.extend(raw)
    except tl.errors.DataLossError as e:
        raise tl.errors.InvalidArgumentError(f"parse_tensor: could not parse the TensorProto: {e}") from None
    want = st.as_dtype(out_type).name
    if dtype is None:
        raise tl.errors.InvalidArgumentError("parse_tensor: the TensorProto has no dtype")
    if dtype != want:
        raise tl.errors.InvalidArgumentError(
            f"parse_tensor: Type mismatch between parsed tensor ({dtype}) and dtype ({want})")
    n = int(np.prod(shape, dtype=np.int64))
    if dtype == "string":
        if len(vals) != n:
            raise tl.errors.InvalidArgumentError(f"parse_tensor: {len(vals)} strings for shape {list(shape)}")
        a = np.empty(n, dtype=object)
        a[:] = vals
        a = a.reshape(shape)
        return a.item() if a.ndim == 0 else a
    npd = np.dtype(tl.as_dtype(dtype).as_numpy_dtype)
    if content is not None:
        if len(content) != n * npd.itemsize:
            raise tl.errors.InvalidArgumentError(
                f"parse_tensor: tensor_content has {len(content)} bytes, shape {list(shape)} of {dtype} needs "
                f"{n * npd.itemsize}")
        a = np.frombuffer(content, dtype=npd.newbyteorder("<")).astype(npd).reshape(shape)
    else:
        if dtype in ("float16", "bfloat16"):  # half_val holds the uint16 bit patterns
            a = np.asarray(vals, dtype=np.uint16).view(npd)
        else:
            a = np.asarray(vals, dtype=npd)
        if a.size == 1 and n != 1:  # TF writes a repeated last value once
            a = np.broadcast_to(a, (n,))
        a = a.reshape(shape) if a.size == n else np.zeros(shape, npd)  # no values: zeros, as TF
    with tl.device("cpu"):
        return tl.constant(np.ascontiguousarray(a))
