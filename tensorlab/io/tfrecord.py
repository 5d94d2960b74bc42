"""Writing TFRecord files: ``tl.io.TFRecordWriter`` (framing shared with ``tl.data.TFRecordDataset``)."""
import gzip
import os
import zlib

from tensorlab.data import tfrecord as _tfr


class TFRecordCompressionType:
    NONE = 0
    ZLIB = 1
    GZIP = 2


_BY_CODE = {0: "", 1: "ZLIB", 2: "GZIP"}


class TFRecordOptions:
    """Options of a TFRecord file: ``compression_type`` ``""``, ``"GZIP"`` or ``"ZLIB"``."""

    def __init__(self, compression_type=None, flush_mode=None, input_buffer_size=None, output_buffer_size=None,
                 window_bits=None, compression_level=None, compression_method=None, mem_level=None,
                 compression_strategy=None):
        if isinstance(compression_type, int):
            compression_type = _BY_CODE.get(compression_type, compression_type)
        self.compression_type = _tfr.compression_of(compression_type, "TFRecordOptions")
        self.compression_level = 6 if compression_level is None else int(compression_level)

    @classmethod
    def get_compression_type_string(cls, options):
        if options is None:
            return ""
        if isinstance(options, TFRecordOptions):
            return options.compression_type
        return TFRecordOptions(options).compression_type


class _ZlibWriter:
    def __init__(self, path, level):
        self._f = open(path, "wb")
        self._c = zlib.compressobj(level)

    def write(self, b):
        self._f.write(self._c.compress(b))

    def flush(self):
        self._f.write(self._c.flush(zlib.Z_SYNC_FLUSH))
        self._f.flush()

    def close(self):
        self._f.write(self._c.flush())
        self._f.close()


class TFRecordWriter:
    """Writes records to a TFRecord file that TensorFlow (and ``tl.data.TFRecordDataset``) reads.

    Records are framed as TF does (length, masked CRC32C of the length, data,
    masked CRC32C of the data); checksums are computed for many records at
    once, so records are buffered until ``flush``/``close`` or about 4 MB.

    Args:
      path: the file to create (overwritten).
      options: a ``TFRecordOptions`` or a compression string (``"GZIP"``, ``"ZLIB"``).

    Example:
      >>> with tl.io.TFRecordWriter("data.tfrecord") as w:
      ...     for ex in examples:
      ...         w.write(ex.SerializeToString())
    """

    _FLUSH_BYTES = 1 << 22

    def __init__(self, path, options=None):
        self._path = os.fspath(path)
        comp = TFRecordOptions.get_compression_type_string(options)
        level = options.compression_level if isinstance(options, TFRecordOptions) else 6
        if comp == "GZIP":
            self._f = gzip.open(self._path, "wb", compresslevel=level)
        elif comp == "ZLIB":
            self._f = _ZlibWriter(self._path, level)
        else:
            self._f = open(self._path, "wb")
        self._pending, self._size, self._closed = [], 0, False

    def write(self, record):
        """Appends one record (bytes; ``str`` is UTF-8 encoded)."""
        if self._closed:
            raise ValueError(f"TFRecordWriter: {self._path} is closed")
        if isinstance(record, str):
            record = record.encode()
        elif hasattr(record, "numpy"):
            record = record.numpy()
        if not isinstance(record, bytes):
            record = bytes(record.item() if hasattr(record, "item") and getattr(record, "ndim", 1) == 0 else record)
        self._pending.append(record)
        self._size += len(record)
        if self._size >= self._FLUSH_BYTES:
            self._write_pending()

    def _write_pending(self):
        if self._pending:
            self._f.write(_tfr.frame(self._pending))
        self._pending, self._size = [], 0

    def flush(self):
        """Writes buffered records to the file."""
        self._write_pending()
        self._f.flush()

    def close(self):
        """Flushes and closes the file."""
        if not self._closed:
            self._write_pending()
            self._f.close()
            self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


def tf_record_iterator(path, options=None):
    """Yields the records of a TFRecord file as bytes (checksums verified)."""
    return _tfr.read_records(os.fspath(path), TFRecordOptions.get_compression_type_string(options))
