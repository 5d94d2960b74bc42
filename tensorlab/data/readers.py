"""File readers: ``TextLineDataset``, ``TFRecordDataset``, ``FixedLengthRecordDataset``."""
import numpy as np

import tensorlab as tl
from tensorlab.data import _structure as st
from tensorlab.data import tfrecord as _tfr
from tensorlab.data.dataset import UNKNOWN_CARDINALITY, Dataset
from tensorlab.data.parallel import _Background
from tensorlab.data.sources import filenames_of
from tensorlab.data.transforms import _int


def _scalar_string(b):
    a = np.empty((), dtype=object)
    a[()] = b
    return a


class _FileDataset(Dataset):
    """Records of each file in turn, or ``num_parallel_reads`` files interleaved record by record."""

    _what = "reader"

    def __init__(self, filenames, compression_type=None, num_parallel_reads=None):
        self._files = filenames_of(filenames, self._what)
        self._compression = _tfr.compression_of(compression_type, self._what)
        n = 1 if num_parallel_reads is None else _int(self._what, "num_parallel_reads", num_parallel_reads, -1)
        self._parallel = len(self._files) if n == -1 else max(1, n)

    def _records(self, path):
        raise NotImplementedError

    def _gen(self):
        files = self._files
        if self._parallel == 1 or len(files) <= 1:
            for p in files:
                for r in self._records(p):
                    yield _scalar_string(r)
            return
        # Each open file is read on its own thread; records are taken round-robin (deterministic order).
        pending = list(files)
        slots = []
        while pending and len(slots) < self._parallel:
            p = pending.pop(0)
            slots.append(iter(_Background(lambda p=p: self._records(p), 64)))
        i = 0
        while slots:
            try:
                yield _scalar_string(next(slots[i]))
                i = (i + 1) % len(slots)
            except StopIteration:
                if pending:
                    p = pending.pop(0)
                    slots[i] = iter(_Background(lambda p=p: self._records(p), 64))
                else:
                    del slots[i]
                    if slots:
                        i %= len(slots)

    def _spec(self):
        return tl.TensorSpec([], st.STRING)

    def _card(self):
        return UNKNOWN_CARDINALITY


class TFRecordDataset(_FileDataset):
    """The records of TFRecord files, as scalar strings (``bytes``), like ``tf.data.TFRecordDataset``.

    Both checksums of every record are verified; a corrupt or truncated
    record raises ``tl.errors.DataLossError`` naming the file and byte offset.

    Args:
      filenames: a file name, a list of them, or a dataset of them.
      compression_type: ``None``/``""``, ``"GZIP"`` or ``"ZLIB"``.
      buffer_size: accepted for compatibility (reads are buffered).
      num_parallel_reads: read this many files at once, interleaving their records.

    Example:
      >>> ds = tl.data.TFRecordDataset(["a.tfrecord", "b.tfrecord"])
      >>> ds = ds.map(lambda r: tl.io.parse_single_example(r, features))
    """

    _what = "TFRecordDataset"

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        super().__init__(filenames, compression_type, num_parallel_reads)

    def _records(self, path):
        return _tfr.read_records(path, self._compression)


class TextLineDataset(_FileDataset):
    """The lines of text files (without line endings), as scalar strings (``bytes``).

    Example:
      >>> ds = tl.data.TextLineDataset("data.txt").skip(1)   # skip a header line
    """

    _what = "TextLineDataset"

    def __init__(self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None):
        super().__init__(filenames, compression_type, num_parallel_reads)

    def _records(self, path):
        with _tfr.open_read(path, self._compression) as f:
            for line in f:
                if line.endswith(b"\n"):
                    line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
                yield line


class FixedLengthRecordDataset(_FileDataset):
    """Fixed-size records of binary files (after ``header_bytes``, before ``footer_bytes``)."""

    _what = "FixedLengthRecordDataset"

    def __init__(self, filenames, record_bytes, header_bytes=None, footer_bytes=None, buffer_size=None,
                 compression_type=None, num_parallel_reads=None, name=None):
        super().__init__(filenames, compression_type, num_parallel_reads)
        self._rec = _int(self._what, "record_bytes", record_bytes, 1)
        self._head = _int(self._what, "header_bytes", header_bytes or 0, 0)
        self._foot = _int(self._what, "footer_bytes", footer_bytes or 0, 0)

    def _records(self, path):
        with _tfr.open_read(path, self._compression) as f:
            data = f.read()
        body = data[self._head:len(data) - self._foot]
        if len(body) % self._rec:
            raise tl.errors.DataLossError(
                f"{path}: {len(body)} bytes of records is not a multiple of record_bytes={self._rec} "
                f"(the last record, at byte offset {self._head + len(body) - len(body) % self._rec}, is truncated)")
        for i in range(0, len(body), self._rec):
            yield body[i:i + self._rec]
