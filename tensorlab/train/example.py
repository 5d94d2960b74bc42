"""``tl.train.Example`` and friends: TensorFlow's ``example.proto`` messages.

Why a hand-written encoder instead of the ``protobuf`` package: the six
messages use three wire types (varint, length-delimited and fixed32) and
fit in this one file, while depending on ``protobuf`` would make
a generated ``_pb2`` module and a version-sensitive runtime a requirement of
every install (tensorlab needs only numpy). The encoding is wire-compatible
with TF's ``tensorflow/core/example/{example,feature}.proto``::

    message BytesList { repeated bytes value = 1; }
    message FloatList { repeated float value = 1 [packed = true]; }
    message Int64List { repeated int64 value = 1 [packed = true]; }
    message Feature { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2;
                                   Int64List int64_list = 3; } }
    message Features { map<string, Feature> feature = 1; }
    message Example { Features features = 1; }

The decoder accepts packed and unpacked repeated scalars and skips unknown
fields, as protobuf parsers must; the encoder writes packed lists and map
entries sorted by key (deterministic output).
"""
import struct

from tensorlab.errors import DataLossError


# --------------------------------------------------------------- wire format
def _varint(n):
    if n < 0:
        n += 1 << 64  # negative int64: ten-byte two's complement, as protobuf
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _read_varint(buf, pos, end):
    result = shift = 0
    while True:
        if pos >= end:
            raise DataLossError("Example: truncated varint in serialized message")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise DataLossError("Example: malformed varint in serialized message")


def _key(field, wire):
    return _varint((field << 3) | wire)


def _ld(field, payload):
    return _key(field, 2) + _varint(len(payload)) + payload


def _fields(buf, start=0, end=None):
    """Yields (field number, wire type, value) of a serialized message; value is int or memoryview."""
    end = len(buf) if end is None else end
    pos = start
    while pos < end:
        key, pos = _read_varint(buf, pos, end)
        field, wire = key >> 3, key & 7
        if wire == 0:
            v, pos = _read_varint(buf, pos, end)
        elif wire == 1:
            if pos + 8 > end:
                raise DataLossError("Example: truncated fixed64 field")
            v, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = _read_varint(buf, pos, end)
            if pos + n > end:
                raise DataLossError(f"Example: length-delimited field {field} runs past the end of the message")
            v, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            if pos + 4 > end:
                raise DataLossError("Example: truncated fixed32 field")
            v, pos = buf[pos:pos + 4], pos + 4
        else:
            raise DataLossError(f"Example: unsupported wire type {wire} for field {field}")
        yield field, wire, v


def _as_int64(u):
    return u - (1 << 64) if u >= 1 << 63 else u


def _unpack_varints(mv):
    out, pos, end = [], 0, len(mv)
    while pos < end:
        v, pos = _read_varint(mv, pos, end)
        out.append(_as_int64(v))
    return out


# --------------------------------------------------------------- messages
class _Message:
    __slots__ = ()

    def SerializeToString(self, deterministic=None):
        return self._encode()

    @classmethod
    def FromString(cls, s):
        m = cls()
        m.ParseFromString(s)
        return m

    def ParseFromString(self, s):
        self.Clear()
        self.MergeFromString(s)
        return len(s)

    def MergeFromString(self, s):
        self._merge(memoryview(bytes(s)))
        return len(s)

    def CopyFrom(self, other):
        self.ParseFromString(other.SerializeToString())

    def __eq__(self, other):
        return type(other) is type(self) and other.SerializeToString() == self.SerializeToString()

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def ByteSize(self):
        return len(self._encode())


class _ValueList(_Message):
    __slots__ = ("value",)

    def __init__(self, value=None):
        self.value = [self._coerce(v) for v in (value or [])]

    def Clear(self):
        self.value = []

    def __repr__(self):
        return f"{type(self).__name__}(value={self.value!r})"


class BytesList(_ValueList):
    """``repeated bytes value``; ``str`` values are stored UTF-8 encoded."""
    __slots__ = ()

    @staticmethod
    def _coerce(v):
        if isinstance(v, str):
            return v.encode()
        return bytes(v)

    def _encode(self):
        return b"".join(_ld(1, v) for v in self.value)

    def _merge(self, mv):
        for f, w, v in _fields(mv):
            if f == 1 and w == 2:
                self.value.append(bytes(v))


class FloatList(_ValueList):
    """``repeated float value`` (float32 on the wire)."""
    __slots__ = ()

    @staticmethod
    def _coerce(v):
        return struct.unpack("<f", struct.pack("<f", float(v)))[0]

    def _encode(self):
        if not self.value:
            return b""
        return _ld(1, struct.pack(f"<{len(self.value)}f", *self.value))

    def _merge(self, mv):
        for f, w, v in _fields(mv):
            if f != 1:
                continue
            if w == 2:
                if len(v) % 4:
                    raise DataLossError("FloatList: packed float field length is not a multiple of 4")
                self.value.extend(struct.unpack(f"<{len(v) // 4}f", v))
            elif w == 5:
                self.value.append(struct.unpack("<f", v)[0])


class Int64List(_ValueList):
    """``repeated int64 value`` (varints on the wire)."""
    __slots__ = ()

    @staticmethod
    def _coerce(v):
        i = int(v)
        if not -(1 << 63) <= i < (1 << 63):
            raise ValueError(f"Int64List: value {i} is out of the int64 range")
        return i

    def _encode(self):
        if not self.value:
            return b""
        return _ld(1, b"".join(_varint(v) for v in self.value))

    def _merge(self, mv):
        for f, w, v in _fields(mv):
            if f != 1:
                continue
            if w == 2:
                self.value.extend(_unpack_varints(v))
            elif w == 0:
                self.value.append(_as_int64(v))


_KINDS = ("bytes_list", "float_list", "int64_list")
_KIND_CLASSES = {"bytes_list": BytesList, "float_list": FloatList, "int64_list": Int64List}


class Feature(_Message):
    """One of ``bytes_list``, ``float_list``, ``int64_list`` (a protobuf ``oneof``).

    Example:
      >>> tl.train.Feature(int64_list=tl.train.Int64List(value=[1, 2]))
    """
    __slots__ = ("_kind", "_value")

    def __init__(self, bytes_list=None, float_list=None, int64_list=None):
        self._kind, self._value = None, None
        given = [(k, v) for k, v in zip(_KINDS, (bytes_list, float_list, int64_list)) if v is not None]
        if len(given) > 1:
            raise ValueError("Feature: set only one of bytes_list, float_list, int64_list")
        if given:
            k, v = given[0]
            if not isinstance(v, _KIND_CLASSES[k]):
                raise TypeError(f"Feature: {k} must be a {_KIND_CLASSES[k].__name__}, got {type(v).__name__}")
            self._kind, self._value = k, v

    def WhichOneof(self, name):
        if name != "kind":
            raise ValueError(f"Feature has no oneof named {name!r} (it has 'kind')")
        return self._kind

    def HasField(self, name):
        return self._kind == name

    def Clear(self):
        self._kind, self._value = None, None

    def _get(self, kind):
        if self._kind == kind:
            return self._value
        return _KIND_CLASSES[kind]()  # reading an unset member gives an empty list, as protobuf

    bytes_list = property(lambda self: self._get("bytes_list"))
    float_list = property(lambda self: self._get("float_list"))
    int64_list = property(lambda self: self._get("int64_list"))

    def _encode(self):
        if self._kind is None:
            return b""
        return _ld(_KINDS.index(self._kind) + 1, self._value._encode())

    def _merge(self, mv):
        for f, w, v in _fields(mv):
            if 1 <= f <= 3 and w == 2:
                kind = _KINDS[f - 1]
                if self._kind != kind:
                    self._kind, self._value = kind, _KIND_CLASSES[kind]()
                self._value._merge(v)

    def __repr__(self):
        return f"Feature({self._kind}={self._value!r})" if self._kind else "Feature()"


class Features(_Message):
    """``map<string, Feature> feature``.

    Example:
      >>> tl.train.Features(feature={"label": tl.train.Feature(int64_list=tl.train.Int64List(value=[3]))})
    """
    __slots__ = ("feature",)

    def __init__(self, feature=None):
        self.feature = dict(feature or {})
        for k, v in self.feature.items():
            if not isinstance(v, Feature):
                raise TypeError(f"Features: feature[{k!r}] must be a tl.train.Feature, got {type(v).__name__}")

    def Clear(self):
        self.feature = {}

    def _encode(self):
        out = []
        for k in sorted(self.feature):
            entry = _ld(1, k.encode()) + _ld(2, self.feature[k]._encode())
            out.append(_ld(1, entry))
        return b"".join(out)

    def _merge(self, mv):
        for f, w, v in _fields(mv):
            if f != 1 or w != 2:
                continue
            key, val = "", Feature()
            for ef, ew, ev in _fields(v):
                if ef == 1 and ew == 2:
                    key = bytes(ev).decode()
                elif ef == 2 and ew == 2:
                    val = Feature()
                    val._merge(ev)
            self.feature[key] = val  # a later entry for a key replaces the earlier one, as protobuf maps

    def __repr__(self):
        return f"Features(feature={self.feature!r})"


class Example(_Message):
    """A record of named features: TF's ``tf.train.Example``.

    Example:
      >>> ex = tl.train.Example(features=tl.train.Features(feature={
      ...     "x": tl.train.Feature(float_list=tl.train.FloatList(value=[1.0, 2.0])),
      ...     "y": tl.train.Feature(int64_list=tl.train.Int64List(value=[1]))}))
      >>> data = ex.SerializeToString()
      >>> tl.train.Example.FromString(data) == ex
      True
    """
    __slots__ = ("features",)

    def __init__(self, features=None):
        if features is not None and not isinstance(features, Features):
            raise TypeError(f"Example: features must be a tl.train.Features, got {type(features).__name__}")
        self.features = features if features is not None else Features()

    def Clear(self):
        self.features = Features()

    def _encode(self):
        body = self.features._encode()
        return _ld(1, body) if body else b""

    def _merge(self, mv):
        for f, w, v in _fields(mv):
            if f == 1 and w == 2:
                self.features._merge(v)

    def __repr__(self):
        return f"Example(features={self.features!r})"


__all__ = ["BytesList", "Example", "Feature", "Features", "FloatList", "Int64List"]
