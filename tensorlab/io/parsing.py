"""Parsing serialized ``tl.train.Example`` records into tensors (``tl.io.parse_single_example``...)."""
import numpy as np

import tensorlab as tl
from tensorlab.data import _structure as st
from tensorlab.train.example import Example

_KIND_OF = {"float32": "float_list", "int64": "int64_list", "string": "bytes_list"}
_TF_TYPE_NAME = {"float_list": "float", "int64_list": "int64", "bytes_list": "string"}


def _feature_dtype(dtype, what):
    d = st.as_dtype(dtype)
    if d.name not in _KIND_OF:
        raise TypeError(f"{what}: dtype {d.name} is not supported; Example features are float32, int64 or string "
                        "(cast after parsing)")
    return d


class FixedLenFeature:
    """A feature with a fixed number of values, parsed into a dense tensor of ``shape``.

    Args:
      shape: the tensor shape (its element count must match the stored values).
      dtype: ``tl.float32``, ``tl.int64`` or ``"string"``.
      default_value: used when an example lacks the feature (else it is an error).
    """

    def __init__(self, shape, dtype, default_value=None):
        self.shape = tuple(int(d) for d in shape) if not isinstance(shape, int) else (shape,)
        self.dtype = _feature_dtype(dtype, "FixedLenFeature")
        self.default_value = default_value

    def __repr__(self):
        return f"FixedLenFeature(shape={list(self.shape)}, dtype={self.dtype.name}, default_value={self.default_value!r})"


class VarLenFeature:
    """A feature with any number of values, parsed into a ``SparseTensor``."""

    def __init__(self, dtype):
        self.dtype = _feature_dtype(dtype, "VarLenFeature")

    def __repr__(self):
        return f"VarLenFeature(dtype={self.dtype.name})"


class SparseTensor:
    """Indices, values and dense shape of a sparse tensor (what ``VarLenFeature`` parses into).

    ``to_dense(default_value)`` gives the dense tensor (``tf.sparse.to_dense``).
    """

    def __init__(self, indices, values, dense_shape):
        self.indices = indices
        self.values = values
        self.dense_shape = dense_shape

    @property
    def shape(self):
        return tl.TensorShape(np.asarray(self.dense_shape).tolist())

    @property
    def dtype(self):
        return st.STRING if isinstance(self.values, np.ndarray) else self.values.dtype

    def to_dense(self, default_value=None):
        shape = tuple(np.asarray(self.dense_shape).tolist())
        idx = np.asarray(self.indices)
        vals = self.values if isinstance(self.values, np.ndarray) else self.values.numpy()
        fill = default_value if default_value is not None else (b"" if vals.dtype == object else 0)
        out = np.full(shape, fill, dtype=vals.dtype)
        if len(idx):
            out[tuple(idx.T)] = vals
        return out if out.dtype == object else _cpu_tensor(out)

    def __repr__(self):
        return f"SparseTensor(indices={self.indices!r}, values={self.values!r}, dense_shape={self.dense_shape!r})"


def _cpu_tensor(a):
    with tl.device("cpu"):
        return tl.constant(a)


def _values(value_list, dtype):
    if dtype.name == "string":
        out = np.empty(len(value_list), dtype=object)
        out[:] = list(value_list)
        return out
    return np.asarray(value_list, dtype=dtype.as_numpy_dtype)


def _decode(serialized, what):
    if isinstance(serialized, (tl.Tensor, tl.Variable)):
        raise TypeError(f"{what}: expected serialized Example bytes, got a numeric tensor")
    if isinstance(serialized, np.ndarray):
        if serialized.ndim != 0:
            raise tl.errors.InvalidArgumentError(f"{what}: expected one serialized Example (a scalar), got shape "
                                                 f"{list(serialized.shape)}; use parse_example for a batch")
        serialized = serialized.item()
    if isinstance(serialized, str):
        serialized = serialized.encode("latin-1")
    try:
        return Example.FromString(serialized)
    except tl.errors.DataLossError as e:
        raise tl.errors.InvalidArgumentError(f"{what}: Could not parse example input: {e}") from None


def _feature_values(ex, key, spec, what):
    feat = ex.features.feature.get(key)
    if feat is None or feat.WhichOneof("kind") is None:
        return None
    kind = feat.WhichOneof("kind")
    want = _KIND_OF[spec.dtype.name]
    if kind != want:
        raise tl.errors.InvalidArgumentError(
            f"{what}: Key: {key}. Data types don't match. Data type: {_TF_TYPE_NAME[kind]} but expected type: "
            f"{_TF_TYPE_NAME[want]}")
    return getattr(feat, kind).value


def _check_spec(features, what):
    if not isinstance(features, dict) or not features:
        raise TypeError(f"{what}: features must be a non-empty dict of name -> FixedLenFeature/VarLenFeature")
    for k, s in features.items():
        if not isinstance(s, (FixedLenFeature, VarLenFeature)):
            raise TypeError(f"{what}: features[{k!r}] must be a FixedLenFeature or VarLenFeature, got "
                            f"{type(s).__name__}")


def _fixed(key, spec, vals, what):
    n = int(np.prod(spec.shape, dtype=np.int64))
    if vals is None:
        if spec.default_value is None:
            raise tl.errors.InvalidArgumentError(
                f"{what}: Feature: {key} (data type: {spec.dtype.name}) is required but could not be found.")
        d = spec.default_value
        if spec.dtype.name == "string":
            return st._strings(np.broadcast_to(np.asarray(d, dtype=object), spec.shape).copy())
        return np.broadcast_to(np.asarray(d, dtype=spec.dtype.as_numpy_dtype), spec.shape).copy()
    if len(vals) != n:
        raise tl.errors.InvalidArgumentError(
            f"{what}: Key: {key}. Can't parse serialized Example: the feature has {len(vals)} values but the "
            f"FixedLenFeature shape {list(spec.shape)} needs {n}")
    return _values(vals, spec.dtype).reshape(spec.shape)


def _out(a):
    if a.dtype == object:
        return a.item() if a.ndim == 0 else a
    return _cpu_tensor(a)


def parse_single_example(serialized, features, name=None, example_names=None):
    """Parses one serialized ``tl.train.Example`` into a dict of tensors.

    Args:
      serialized: the record (``bytes``, as ``TFRecordDataset`` yields).
      features: dict of name -> ``FixedLenFeature`` (a dense tensor of its
        shape) or ``VarLenFeature`` (a ``SparseTensor``).

    Returns:
      A dict of CPU tensors (string features: ``bytes`` / numpy arrays of ``bytes``).

    Example:
      >>> feats = {"x": tl.io.FixedLenFeature([2], tl.float32), "y": tl.io.FixedLenFeature([], tl.int64)}
      >>> ds = tl.data.TFRecordDataset("d.tfrecord").map(lambda r: tl.io.parse_single_example(r, feats))
    """
    what = "parse_single_example"
    _check_spec(features, what)
    ex = _decode(serialized, what)
    out = {}
    for key, spec in features.items():
        vals = _feature_values(ex, key, spec, what)
        if isinstance(spec, FixedLenFeature):
            out[key] = _out(_fixed(key, spec, vals, what))
        else:
            v = _values(vals or [], spec.dtype)
            out[key] = SparseTensor(_cpu_tensor(np.arange(len(v), dtype=np.int64).reshape(-1, 1)), _out(v)
                                    if v.dtype != object else v, _cpu_tensor(np.asarray([len(v)], np.int64)))
    return out


def parse_example(serialized, features, name=None, example_names=None):
    """Parses a batch (1-D) of serialized Examples; dense features gain a leading batch dimension.

    ``VarLenFeature``s become ``SparseTensor``s with 2-D indices ``[example, position]``.
    """
    what = "parse_example"
    _check_spec(features, what)
    if isinstance(serialized, (bytes, str)):
        serialized = [serialized]
    batch = list(np.asarray(serialized, dtype=object).reshape(-1)) if not isinstance(serialized, list) else serialized
    exs = [_decode(s, what) for s in batch]
    out = {}
    for key, spec in features.items():
        per = [_feature_values(ex, key, spec, what) for ex in exs]
        if isinstance(spec, FixedLenFeature):
            arrs = [_fixed(key, spec, v, what) for v in per]
            out[key] = _out(np.stack(arrs) if arrs else _values([], spec.dtype).reshape((0,) + spec.shape))
        else:
            idx = [(i, j) for i, v in enumerate(per) for j in range(len(v or []))]
            flat = [x for v in per for x in (v or [])]
            v = _values(flat, spec.dtype)
            width = max([len(v_ or []) for v_ in per], default=0)
            out[key] = SparseTensor(_cpu_tensor(np.asarray(idx, dtype=np.int64).reshape(-1, 2)),
                                    _out(v) if v.dtype != object else v,
                                    _cpu_tensor(np.asarray([len(per), width], np.int64)))
    return out


def decode_raw(input_bytes, out_type, little_endian=True, fixed_length=None, name=None):
    """Reinterprets the bytes of string(s) as a vector of ``out_type`` numbers.

    A scalar string gives a 1-D tensor; a batch of strings a 2-D one (all of
    one length, or padded/truncated to ``fixed_length`` bytes).
    """
    dt = tl.as_dtype(out_type)
    npd = np.dtype(dt.as_numpy_dtype).newbyteorder("<" if little_endian else ">")
    if isinstance(input_bytes, (bytes, str)):
        items, scalar = [input_bytes.encode() if isinstance(input_bytes, str) else input_bytes], True
    else:
        arr = np.asarray(input_bytes, dtype=object)
        scalar = arr.ndim == 0
        items = [arr.item()] if scalar else list(arr.reshape(-1))
    rows = []
    for i, b in enumerate(items):
        if fixed_length is not None:
            b = bytes(b[:fixed_length]).ljust(int(fixed_length), b"\0")
        if len(b) % npd.itemsize:
            raise tl.errors.InvalidArgumentError(
                f"decode_raw: input {i} has {len(b)} bytes, not a multiple of {npd.itemsize} ({dt.name})")
        rows.append(np.frombuffer(b, dtype=npd).astype(npd.newbyteorder("=")))
    if scalar:
        return _cpu_tensor(rows[0])
    if len({len(r) for r in rows}) > 1:
        raise tl.errors.InvalidArgumentError(
            "decode_raw: the inputs have different lengths; give fixed_length to pad or truncate them")
    shape = np.asarray(input_bytes, dtype=object).shape
    return _cpu_tensor(np.stack(rows).reshape(shape + (-1,)) if rows else np.zeros(shape + (0,), npd))
