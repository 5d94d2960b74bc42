"""The few protobuf messages a tfevents file needs, encoded by hand.

Field numbers follow TensorFlow's ``event.proto``, ``summary.proto`` and
TensorBoard's plugin conventions (see README.md in this folder for why no
protobuf dependency is used). Only encoding is needed: TensorBoard reads.
"""
import struct

from tensorlab.io.tensor_proto import serialize_tensor
from tensorlab.train.example import _ld, _varint

# SummaryMetadata.data_class (summary.proto)
DATA_CLASS_SCALAR, DATA_CLASS_TENSOR, DATA_CLASS_BLOB_SEQUENCE = 1, 2, 3


def _key(field, wire):
    return _varint((field << 3) | wire)


def _double(field, x):
    return _key(field, 1) + struct.pack("<d", float(x))


def _int(field, n):
    return _key(field, 0) + _varint(int(n))


def _str(field, s):
    return _ld(field, s.encode("utf-8") if isinstance(s, str) else bytes(s))


def summary_metadata(plugin_name, content=b"", data_class=0, display_name=None, description=None):
    plugin = _str(1, plugin_name) + (_str(2, content) if content else b"")
    out = _ld(1, plugin)
    if display_name:
        out += _str(2, display_name)
    if description:
        out += _str(3, description)
    if data_class:
        out += _int(4, data_class)
    return out


def tensor_value(tag, array, metadata):
    """A ``Summary.Value`` holding a ``TensorProto`` (how TF2's ``tf.summary`` writes every kind)."""
    return _str(1, tag) + _ld(9, metadata) + _ld(8, serialize_tensor(array))


def event(wall_time, step=0, summary_values=None, file_version=None, graph_def=None):
    out = _double(1, wall_time)
    if step:
        out += _int(2, step)
    if file_version is not None:
        out += _str(3, file_version)
    if graph_def is not None:
        out += _ld(4, graph_def)
    if summary_values is not None:
        out += _ld(5, b"".join(_ld(1, v) for v in summary_values))
    return out
