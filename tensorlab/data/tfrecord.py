"""TFRecord framing and CRC32C, byte-compatible with TensorFlow.

Each record in a TFRecord file is::

    uint64 length            (little endian)
    uint32 masked_crc32c(length bytes)
    byte   data[length]
    uint32 masked_crc32c(data)

where ``masked(crc) = ((crc >> 15) | (crc << 17)) + 0xa282ead8`` (mod 2**32)
and CRC32C is the Castagnoli CRC (reflected polynomial 0x82F63B78, as in
iSCSI/ext4). No CRC32C library is a dependency: checksums are computed with a
byte table, vectorized with numpy across many records (records advance in
lockstep, one byte column per numpy step) and, for one long buffer, across
lanes whose CRCs are joined with the GF(2) shift operator (zlib's
``crc32_combine``). ``google-crc32c`` or ``crc32c`` is used when installed.
"""
import gzip
import io
import struct
import zlib

import numpy as np

import tensorlab as tl

_POLY = 0x82F63B78
_MASK_DELTA = 0xA282EAD8


def _make_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ _POLY if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _make_table()
_NP_TABLE = np.asarray(_TABLE, dtype=np.uint32)

try:  # optional accelerated implementations
    import google_crc32c as _g

    def _fast(data):
        return _g.value(bytes(data))
except Exception:  # pragma: no cover - depends on the environment
    try:
        import crc32c as _c

        def _fast(data):
            return _c.crc32c(bytes(data))
    except Exception:
        _fast = None


def _crc_py(data, crc=0):
    """CRC32C of ``data`` continuing from finalized ``crc`` (pure Python)."""
    c = crc ^ 0xFFFFFFFF
    t = _TABLE
    for b in data:
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


# --------------------------------------------------------------- GF(2) operators (zlib's crc32_combine)
def _times(mat, vec):
    s = 0
    i = 0
    while vec:
        if vec & 1:
            s ^= mat[i]
        vec >>= 1
        i += 1
    return s


def _square(mat):
    return [_times(mat, mat[i]) for i in range(32)]


def _compose(a, b):
    return [_times(a, b[i]) for i in range(32)]


_ZERO_BIT = [_POLY] + [1 << (i - 1) for i in range(1, 32)]
_ZERO_BYTE = _square(_square(_square(_ZERO_BIT)))
_OPS = {}


def _zeros_op(nbytes):
    """The operator that appends ``nbytes`` zero bytes to a raw CRC register."""
    op = _OPS.get(nbytes)
    if op is None:
        result, p, n = None, _ZERO_BYTE, nbytes
        while n:
            if n & 1:
                result = p if result is None else _compose(p, result)
            n >>= 1
            if n:
                p = _square(p)
        op = _OPS[nbytes] = result
    return op


def crc32c_combine(crc1, crc2, len2):
    """The CRC32C of ``A + B`` from ``crc(A)``, ``crc(B)`` and ``len(B)``."""
    if len2 == 0:
        return crc1
    return _times(_zeros_op(len2), crc1) ^ crc2


# --------------------------------------------------------------- vectorized CRCs
def crc32c_many(buffers):
    """CRC32C of each bytes object in ``buffers`` (numpy, all records advancing together)."""
    n = len(buffers)
    out = np.zeros(n, dtype=np.uint32)
    if n == 0:
        return out
    lens = np.fromiter((len(b) for b in buffers), dtype=np.int64, count=n)
    order = np.argsort(lens, kind="stable")
    # Groups of similar length keep the zero padding (and memory) small.
    start = 0
    budget = 1 << 22
    while start < n:
        stop = start + 1
        longest = int(lens[order[start]])
        while stop < n and (stop - start + 1) * int(lens[order[stop]]) <= budget and \
                int(lens[order[stop]]) <= 2 * max(longest, 16):
            longest = int(lens[order[stop]])
            stop += 1
        idx = order[start:stop]
        out[idx] = _crc_group([buffers[i] for i in idx], lens[idx])
        start = stop
    return out


def _crc_group(bufs, lens):
    k = len(bufs)
    width = int(lens.max())
    if width == 0:
        return np.zeros(k, dtype=np.uint32)
    if k == 1 and width < 64:
        return np.asarray([_crc_py(bufs[0])], dtype=np.uint32)
    starts = width - lens
    flat = np.frombuffer(b"".join(bufs), dtype=np.uint8)
    if int(lens.min()) == width:
        rowmajor = flat.reshape(k, width)
    else:
        # Right-align each record: zero bytes before the CRC's initial value leave the register at 0.
        rowmajor = np.zeros((k, width), dtype=np.uint8)
        shift = np.arange(k, dtype=np.int64) * width + starts - (np.cumsum(lens) - lens)
        rowmajor.reshape(-1)[np.arange(flat.size, dtype=np.int64) + np.repeat(shift, lens)] = flat
    # Column-major: byte j of every record is one contiguous row, read once per step.
    mat = np.ascontiguousarray(rowmajor.T)
    crc = np.zeros(k, dtype=np.uint32)
    by_start = {}
    for i, s in enumerate(starts.tolist()):
        by_start.setdefault(s, []).append(i)
    by_start = {s: np.asarray(v) for s, v in by_start.items()}
    table = _NP_TABLE
    ff = np.uint32(0xFFFFFFFF)
    idx = np.empty(k, dtype=np.uint32)
    shifted = np.empty(k, dtype=np.uint32)
    eight = np.uint32(8)
    for j in range(width):
        r = by_start.get(j)
        if r is not None:
            crc[r] ^= ff
        np.bitwise_xor(crc, mat[j], out=idx)
        np.bitwise_and(idx, 0xFF, out=idx)
        np.right_shift(crc, eight, out=shifted)
        np.take(table, idx, out=crc)
        crc ^= shifted
    crc ^= ff
    crc[lens == 0] = 0
    return crc


def crc32c(data):
    """The CRC32C (Castagnoli) checksum of ``data`` (bytes-like), as an int."""
    if _fast is not None:
        return _fast(data)
    data = bytes(data)
    n = len(data)
    if n < 4096:
        return _crc_py(data)
    lanes = 256
    m = n // lanes
    head = [data[i * m:(i + 1) * m] for i in range(lanes)]
    crcs = _crc_group(head, np.full(lanes, m, dtype=np.int64)).tolist()
    op = _zeros_op(m)
    c = crcs[0]
    for x in crcs[1:]:
        c = _times(op, c) ^ x
    return _crc_py(data[lanes * m:], c)


def mask(crc):
    """TF's masked CRC: rotate right by 15 bits and add a constant (mod 2**32)."""
    crc &= 0xFFFFFFFF
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def unmask(masked):
    rot = (masked - _MASK_DELTA) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


def masked_crc32c(data):
    return mask(crc32c(data))


def _masked_many(buffers):
    if _fast is not None:
        return [mask(_fast(b)) for b in buffers]
    c = crc32c_many(buffers).astype(np.uint64)
    rot = ((c >> np.uint64(15)) | (c << np.uint64(17))) & np.uint64(0xFFFFFFFF)
    return ((rot + np.uint64(_MASK_DELTA)) & np.uint64(0xFFFFFFFF)).tolist()


def frame(records):
    """The TFRecord bytes of a list of records."""
    lengths = [struct.pack("<Q", len(r)) for r in records]
    lcrc = _masked_many(lengths)
    dcrc = _masked_many(records)
    parts = []
    for ln, lc, r, dc in zip(lengths, lcrc, records, dcrc):
        parts += [ln, struct.pack("<I", lc), r, struct.pack("<I", dc)]
    return b"".join(parts)


# --------------------------------------------------------------- compression and reading
def compression_of(compression_type, what):
    c = "" if compression_type is None else str(getattr(compression_type, "compression_type", compression_type))
    c = c.upper()
    if c not in ("", "GZIP", "ZLIB"):
        raise tl.errors.InvalidArgumentError(
            f"{what}: unsupported compression_type {compression_type!r}; valid: None/'' (none), 'GZIP', 'ZLIB'")
    return c


class _ZlibReader(io.RawIOBase):
    """A readable stream over a zlib-compressed file."""

    def __init__(self, f):
        self._f, self._d, self._buf = f, zlib.decompressobj(), b""

    def readable(self):
        return True

    def readinto(self, b):
        while not self._buf and not self._d.eof:
            chunk = self._f.read(1 << 16)
            if not chunk:
                break
            self._buf = self._d.decompress(chunk)
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self):
        self._f.close()
        super().close()


def open_read(path, compression):
    try:
        if compression == "GZIP":
            return gzip.open(path, "rb")
        f = open(path, "rb")
        return io.BufferedReader(_ZlibReader(f)) if compression == "ZLIB" else f
    except FileNotFoundError:
        raise tl.errors.NotFoundError(f"{path}: No such file or directory") from None


_BATCH_BYTES = 1 << 22


def read_records(path, compression=""):
    """Yields the records of a TFRecord file as bytes, checking both CRCs.

    Raises:
      DataLossError: on a checksum mismatch or a truncated record, naming
        the file and the record's byte offset (in the uncompressed stream).
    """
    with open_read(path, compression) as f:
        offset = 0
        while True:
            batch, size, end = [], 0, False
            while size < _BATCH_BYTES:
                head = f.read(12)
                if not head:
                    end = True
                    break
                if len(head) < 12:
                    raise tl.errors.DataLossError(
                        f"{path}: truncated record at byte offset {offset}: the file ends inside the 12-byte "
                        f"record header ({len(head)} bytes left)")
                length, lcrc = struct.unpack("<QI", head)
                if masked_crc32c(head[:8]) != lcrc:
                    raise tl.errors.DataLossError(
                        f"{path}: corrupted record at byte offset {offset}: the length field's checksum does not "
                        "match (the file is damaged or not a TFRecord file)")
                body = f.read(length + 4)
                if len(body) < length + 4:
                    raise tl.errors.DataLossError(
                        f"{path}: truncated record at byte offset {offset}: the header announces {length} bytes "
                        f"of data (+4 checksum bytes) but only {len(body)} remain")
                batch.append((offset, body[:length], struct.unpack("<I", body[length:])[0]))
                offset += 16 + length
                size += length + 64
            if batch:
                got = _masked_many([b for _, b, _ in batch])
                for (off, data, want), g in zip(batch, got):
                    if g != want:
                        raise tl.errors.DataLossError(
                            f"{path}: corrupted record at byte offset {off}: data checksum mismatch (stored "
                            f"masked CRC32C 0x{want:08x}, computed 0x{g:08x})")
                    yield data
            if end:
                return
