"""TFRecord framing (masked CRC32C), tl.train.Example encoding, tl.io parsing, corrupt files."""
import os
import struct

import numpy as np
import pytest

import tensorlab as tl
from tensorlab.data import tfrecord as tfr


# ----------------------------------------------------------------- CRC32C known answers
def _crc_bitwise(data):
    """A bit-at-a-time reference CRC32C, independent of the table code."""
    c = 0xFFFFFFFF
    for b in data:
        c ^= b
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF


def test_crc32c_known_answers():
    # RFC 3720 (iSCSI) B.4 test vectors, also TF's crc32c_test.cc.
    assert tfr.crc32c(b"123456789") == 0xE3069283
    assert tfr.crc32c(bytes(32)) == 0x8A9136AA
    assert tfr.crc32c(b"\xff" * 32) == 0x62A8AB43
    assert tfr.crc32c(bytes(range(32))) == 0x46DD794E
    assert tfr.crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C
    assert tfr.crc32c(b"") == 0


def test_masked_crc_matches_tf_formula():
    for data in (b"", b"a", b"hello world", bytes(range(256))):
        c = _crc_bitwise(data)
        assert tfr.masked_crc32c(data) == ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF
        assert tfr.unmask(tfr.masked_crc32c(data)) == c


def test_crc_vectorized_paths_agree(rng):
    bufs = [rng.integers(0, 256, size=int(n), dtype=np.uint8).tobytes() for n in rng.integers(0, 300, 40)]
    bufs += [b"", b"x"]
    assert tfr.crc32c_many(bufs).tolist() == [_crc_bitwise(b) for b in bufs]
    big = rng.integers(0, 256, size=70001, dtype=np.uint8).tobytes()  # lanes + combine + tail
    assert tfr.crc32c(big) == tfr._crc_py(big)
    a, b = big[:1234], big[1234:]
    assert tfr.crc32c_combine(tfr.crc32c(a), tfr.crc32c(b), len(b)) == tfr.crc32c(big)


def test_crc_agrees_with_tensorboard_reference_when_installed():
    ref = pytest.importorskip("tensorboard.compat.tensorflow_stub.pywrap_tensorflow")
    for data in (b"", b"abc", bytes(range(200)) * 3):
        assert tfr.masked_crc32c(data) == ref.masked_crc32c(data)


# ----------------------------------------------------------------- framing
def _tf_bytes(records):
    """TFRecord bytes built by hand, field by field, as TF's RecordWriter writes them."""
    out = b""
    for r in records:
        ln = struct.pack("<Q", len(r))
        out += ln + struct.pack("<I", tfr.mask(_crc_bitwise(ln))) + r + struct.pack("<I", tfr.mask(_crc_bitwise(r)))
    return out


def test_writer_output_is_tf_framing(tmp_path):
    recs = [b"", b"abc", os.urandom(3000), b"\x00" * 17]
    p = tmp_path / "w.tfrecord"
    with tl.io.TFRecordWriter(str(p)) as w:
        for r in recs:
            w.write(r)
    assert p.read_bytes() == _tf_bytes(recs)


def test_reads_file_framed_independently(tmp_path):
    # Bytes framed field by field with the bitwise CRC reference, as TF's RecordWriter lays them out.
    data = _tf_bytes([b"hello", b"", b"world" * 100])
    assert data[:8] == b"\x05" + b"\x00" * 7 and data[12:17] == b"hello"
    p = tmp_path / "tf.tfrecord"
    p.write_bytes(data)
    assert list(tl.data.TFRecordDataset(str(p)).as_numpy_iterator()) == [b"hello", b"", b"world" * 100]


@pytest.mark.parametrize("compression", ["", "GZIP", "ZLIB"])
def test_roundtrip_dataset(tmp_path, compression, rng):
    recs = [rng.integers(0, 256, size=int(n), dtype=np.uint8).tobytes() for n in rng.integers(0, 500, 30)]
    p = str(tmp_path / "r.tfrecord")
    with tl.io.TFRecordWriter(p, tl.io.TFRecordOptions(compression_type=compression)) as w:
        for r in recs:
            w.write(r)
    ds = tl.data.TFRecordDataset(p, compression_type=compression)
    assert list(ds.as_numpy_iterator()) == recs
    assert ds.element_spec.dtype.name == "string" and ds.element_spec.shape == []
    assert list(tl.io.tf_record_iterator(p, compression)) == recs


def test_multiple_files_parallel_reads_interleave(tmp_path):
    paths = []
    for k in range(3):
        p = str(tmp_path / f"f{k}.tfrecord")
        with tl.io.TFRecordWriter(p) as w:
            for i in range(4):
                w.write(f"{k}-{i}".encode())
        paths.append(p)
    seq = list(tl.data.TFRecordDataset(paths).as_numpy_iterator())
    assert seq == [f"{k}-{i}".encode() for k in range(3) for i in range(4)]
    par = list(tl.data.TFRecordDataset(paths, num_parallel_reads=3).as_numpy_iterator())
    assert par[:3] == [b"0-0", b"1-0", b"2-0"] and sorted(par) == sorted(seq)
    files = tl.data.Dataset.from_tensor_slices(paths)
    il = files.interleave(tl.data.TFRecordDataset, cycle_length=2)
    assert sorted(il.as_numpy_iterator()) == sorted(seq)


def _write(path, recs):
    with tl.io.TFRecordWriter(path) as w:
        for r in recs:
            w.write(r)


def test_error_corrupt_data_crc_names_file_and_offset(tmp_path):
    p = str(tmp_path / "bad.tfrecord")
    _write(p, [b"aaaa", b"bbbbbb", b"cc"])
    raw = bytearray(open(p, "rb").read())
    second = 16 + 4  # the second record starts after the first one (16 bytes of framing + 4 of data)
    raw[second + 12 + 2] ^= 0x01  # flip a bit in the second record's data
    open(p, "wb").write(bytes(raw))
    with pytest.raises(tl.errors.DataLossError, match=rf"bad\.tfrecord.*byte offset {second}.*checksum"):
        list(tl.data.TFRecordDataset(p))


def test_error_corrupt_length_crc(tmp_path):
    p = str(tmp_path / "len.tfrecord")
    _write(p, [b"abc"])
    raw = bytearray(open(p, "rb").read())
    raw[0] = 200  # length no longer matches its checksum
    open(p, "wb").write(bytes(raw))
    with pytest.raises(tl.errors.DataLossError, match=r"len\.tfrecord.*byte offset 0.*length"):
        list(tl.data.TFRecordDataset(p))


@pytest.mark.parametrize("cut", [5, 12 + 2, 12 + 10 + 1])
def test_error_truncated_record(tmp_path, cut):
    p = str(tmp_path / "t.tfrecord")
    _write(p, [b"x" * 10, b"y" * 10])
    raw = open(p, "rb").read()
    first = 16 + 10
    open(p, "wb").write(raw[:first + cut])
    ds = tl.data.TFRecordDataset(p)
    with pytest.raises(tl.errors.DataLossError, match=rf"t\.tfrecord: truncated record at byte offset {first}"):
        list(ds.as_numpy_iterator())


def test_error_missing_file(tmp_path):
    with pytest.raises(tl.errors.NotFoundError, match="nope.tfrecord"):
        list(tl.data.TFRecordDataset(str(tmp_path / "nope.tfrecord")))


# ----------------------------------------------------------------- Example protos
def _example(i):
    F = tl.train
    return F.Example(features=F.Features(feature={
        "img": F.Feature(bytes_list=F.BytesList(value=[bytes([i] * 4)])),
        "x": F.Feature(float_list=F.FloatList(value=[i + 0.5, -i])),
        "label": F.Feature(int64_list=F.Int64List(value=[i - 2])),
        "tags": F.Feature(int64_list=F.Int64List(value=list(range(i)))),
    }))


def test_example_known_bytes():
    ex = tl.train.Example(features=tl.train.Features(feature={
        "a": tl.train.Feature(int64_list=tl.train.Int64List(value=[1, -1]))}))
    # Example{1: Features{1: entry{1:"a", 2: Feature{3: Int64List{1: packed [1, -1]}}}}}
    inner = b"\x0a\x0b" + b"\x01" + b"\xff" * 9 + b"\x01"
    feature = b"\x1a" + bytes([len(inner)]) + inner
    entry = b"\x0a\x01a" + b"\x12" + bytes([len(feature)]) + feature
    features = b"\x0a" + bytes([len(entry)]) + entry
    assert ex.SerializeToString() == b"\x0a" + bytes([len(features)]) + features
    back = tl.train.Example.FromString(ex.SerializeToString())
    assert back == ex and back.features.feature["a"].int64_list.value == [1, -1]
    assert back.features.feature["a"].WhichOneof("kind") == "int64_list"


def test_example_roundtrip_and_unpacked_input():
    for i in range(4):
        ex = _example(i)
        assert tl.train.Example.FromString(ex.SerializeToString()) == ex
    # Unpacked repeated fields (legal protobuf, written by some encoders) decode the same.
    fl = b"\x0d" + struct.pack("<f", 1.5) + b"\x0d" + struct.pack("<f", 2.0)
    assert tl.train.FloatList.FromString(fl).value == [1.5, 2.0]
    il = b"\x08\x05\x08\x07"
    assert tl.train.Int64List.FromString(il).value == [5, 7]


def test_example_matches_protobuf_library():
    pytest.importorskip("google.protobuf")
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
    fd = descriptor_pb2.FileDescriptorProto(name="ex_test.proto", package="tltest", syntax="proto3")
    L = descriptor_pb2.FieldDescriptorProto
    for name, typ in (("BytesList", L.TYPE_BYTES), ("FloatList", L.TYPE_FLOAT), ("Int64List", L.TYPE_INT64)):
        m = fd.message_type.add(name=name)
        m.field.add(name="value", number=1, type=typ, label=L.LABEL_REPEATED)
    f = fd.message_type.add(name="Feature")
    f.oneof_decl.add(name="kind")
    for i, (n, t) in enumerate((("bytes_list", "BytesList"), ("float_list", "FloatList"), ("int64_list", "Int64List"))):
        f.field.add(name=n, number=i + 1, type=L.TYPE_MESSAGE, type_name=f".tltest.{t}", label=L.LABEL_OPTIONAL,
                    oneof_index=0)
    fs = fd.message_type.add(name="Features")
    entry = fs.nested_type.add(name="FeatureEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=L.TYPE_STRING, label=L.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=L.TYPE_MESSAGE, type_name=".tltest.Feature", label=L.LABEL_OPTIONAL)
    fs.field.add(name="feature", number=1, type=L.TYPE_MESSAGE, type_name=".tltest.Features.FeatureEntry",
                 label=L.LABEL_REPEATED)
    e = fd.message_type.add(name="Example")
    e.field.add(name="features", number=1, type=L.TYPE_MESSAGE, type_name=".tltest.Features", label=L.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    Ex = message_factory.GetMessageClass(pool.FindMessageTypeByName("tltest.Example"))
    for i in range(4):
        ours = _example(i).SerializeToString()
        ref = Ex.FromString(ours)  # the protobuf library parses our bytes
        assert list(ref.features.feature["x"].float_list.value) == [np.float32(i + 0.5), -i]
        assert list(ref.features.feature["label"].int64_list.value) == [i - 2]
        assert list(ref.features.feature["img"].bytes_list.value) == [bytes([i] * 4)]
        theirs = ref.SerializeToString(deterministic=True)
        assert tl.train.Example.FromString(theirs) == _example(i)  # and we parse theirs


# ----------------------------------------------------------------- parsing
FEATS = {"img": tl.io.FixedLenFeature([], tl.string if hasattr(tl, "string") else "string"),
         "x": tl.io.FixedLenFeature([2], tl.float32),
         "label": tl.io.FixedLenFeature([], tl.int64),
         "tags": tl.io.VarLenFeature(tl.int64),
         "missing": tl.io.FixedLenFeature([2], tl.float32, default_value=[7.0, 8.0])}


def test_parse_single_example_in_pipeline(tmp_path):
    p = str(tmp_path / "e.tfrecord")
    _write(p, [_example(i).SerializeToString() for i in range(4)])
    ds = tl.data.TFRecordDataset(p).map(lambda r: tl.io.parse_single_example(r, FEATS))
    out = list(ds)
    for i, e in enumerate(out):
        assert e["img"] == bytes([i] * 4)
        np.testing.assert_array_equal(e["x"].numpy(), np.float32([i + 0.5, -i]))
        assert e["x"].dtype == tl.float32 and e["label"].dtype == tl.int64 and int(e["label"]) == i - 2
        np.testing.assert_array_equal(e["tags"].values.numpy(), np.arange(i))
        np.testing.assert_array_equal(e["tags"].to_dense().numpy(), np.arange(i))
        np.testing.assert_array_equal(e["missing"].numpy(), [7.0, 8.0])


def test_parse_example_batch():
    batch = np.array([_example(i).SerializeToString() for i in range(3)], dtype=object)
    out = tl.io.parse_example(batch, FEATS)
    np.testing.assert_array_equal(out["x"].numpy(), np.float32([[0.5, 0], [1.5, -1], [2.5, -2]]))
    np.testing.assert_array_equal(out["label"].numpy(), [-2, -1, 0])
    assert list(out["img"]) == [bytes([i] * 4) for i in range(3)]
    sp = out["tags"]
    np.testing.assert_array_equal(sp.indices.numpy(), [[1, 0], [2, 0], [2, 1]])
    np.testing.assert_array_equal(sp.dense_shape.numpy(), [3, 2])
    np.testing.assert_array_equal(sp.to_dense().numpy(), [[0, 0], [0, 0], [0, 1]])


def test_error_parse_missing_required_and_wrong_type_and_size():
    s = _example(1).SerializeToString()
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"Feature: nothere \(data type: float32\) is required"):
        tl.io.parse_single_example(s, {"nothere": tl.io.FixedLenFeature([], tl.float32)})
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"Key: label.*Data type: int64 but expected type: float"):
        tl.io.parse_single_example(s, {"label": tl.io.FixedLenFeature([], tl.float32)})
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"Key: x.*2 values.*\[3\]"):
        tl.io.parse_single_example(s, {"x": tl.io.FixedLenFeature([3], tl.float32)})


def test_decode_raw():
    a = np.arange(6, dtype=np.float32)
    np.testing.assert_array_equal(tl.io.decode_raw(a.tobytes(), tl.float32).numpy(), a)
    b = np.array([a[:3].tobytes(), a[3:].tobytes()], dtype=object)
    np.testing.assert_array_equal(tl.io.decode_raw(b, tl.float32).numpy(), a.reshape(2, 3))
    big = np.arange(3, dtype=">i4").tobytes()
    np.testing.assert_array_equal(tl.io.decode_raw(big, tl.int32, little_endian=False).numpy(), [0, 1, 2])


# ----------------------------------------------------------------- TensorProto
@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "uint8", "bool", "float16"])
def test_serialize_parse_tensor_roundtrip(dtype, rng):
    a = (rng.normal(size=(2, 3)) * 10).astype(dtype)
    back = tl.io.parse_tensor(tl.io.serialize_tensor(tl.constant(a)), dtype)
    assert back.dtype == tl.as_dtype(dtype)
    np.testing.assert_array_equal(back.numpy(), a)
    s = np.array([[b"a", b"bc"]], dtype=object)
    assert tl.io.parse_tensor(tl.io.serialize_tensor(s), "string").tolist() == [[b"a", b"bc"]]


def test_tensor_proto_known_bytes():
    # dtype DT_INT32 (3), shape [2], tensor_content = two little-endian int32s.
    got = tl.io.serialize_tensor(tl.constant([1, 2], tl.int32))
    assert got == b"\x08\x03" + b"\x12\x04" + b"\x12\x02\x08\x02" + b"\x22\x08" + struct.pack("<2i", 1, 2)
    # Typed repeated fields (int_val = 7, packed) parse too, with a repeated last value filling the shape.
    other = b"\x08\x03" + b"\x12\x04\x12\x02\x08\x03" + b"\x3a\x01\x05"
    np.testing.assert_array_equal(tl.io.parse_tensor(other, tl.int32).numpy(), [5, 5, 5])


def test_error_parse_tensor_type_mismatch():
    data = tl.io.serialize_tensor(tl.constant([1.0]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"Type mismatch.*\(float32\) and dtype \(int64\)"):
        tl.io.parse_tensor(data, tl.int64)
