"""``Dataset.cache``: replaying elements from memory or from a file.

The cache file (``<filename>.tldata``) is a flat sequence of elements, each
leaf written as dtype, shape and raw bytes (strings length-prefixed), so it
reloads without pickle. It is written to a temporary file that is renamed
into place only once a pass completes: a killed or interrupted pass leaves
either no cache or the previous complete one.
"""
import os
import struct
import threading

import numpy as np

import tensorlab as tl
from tensorlab.data import _structure as st
from tensorlab.data.transforms import _Unary

_MAGIC = b"TLDATACACHE1\n"
_SUFFIX = ".tldata"


def _write_leaf(f, a):
    if a.dtype == object:
        items = [bytes(x) for x in a.reshape(-1)]
        f.write(b"s" + struct.pack("<B", a.ndim) + struct.pack(f"<{a.ndim}q", *a.shape))
        f.write(struct.pack(f"<{len(items)}q", *[len(x) for x in items]))
        f.write(b"".join(items))
        return
    dt = a.dtype.str.encode()
    f.write(b"a" + struct.pack("<B", len(dt)) + dt + struct.pack("<B", a.ndim)
            + struct.pack(f"<{a.ndim}q", *a.shape))
    f.write(np.ascontiguousarray(a).tobytes())


def _read_exact(f, n, path):
    b = f.read(n)
    if len(b) != n:
        raise tl.errors.DataLossError(f"cache: file {path!r} is truncated at byte offset {f.tell()}; delete it "
                                      "to rebuild the cache")
    return b


def _read_leaf(f, path):
    kind = f.read(1)
    if kind == b"s":
        nd = _read_exact(f, 1, path)[0]
        shape = struct.unpack(f"<{nd}q", _read_exact(f, 8 * nd, path))
        n = int(np.prod(shape, dtype=np.int64))
        lens = struct.unpack(f"<{n}q", _read_exact(f, 8 * n, path))
        blob = _read_exact(f, sum(lens), path)
        out = np.empty(n, dtype=object)
        pos = 0
        for i, ln in enumerate(lens):
            out[i] = blob[pos:pos + ln]
            pos += ln
        return out.reshape(shape)
    if kind == b"a":
        ln = _read_exact(f, 1, path)[0]
        dt = np.dtype(_read_exact(f, ln, path).decode())
        nd = _read_exact(f, 1, path)[0]
        shape = struct.unpack(f"<{nd}q", _read_exact(f, 8 * nd, path))
        n = int(np.prod(shape, dtype=np.int64)) * dt.itemsize
        return np.frombuffer(_read_exact(f, n, path), dtype=dt).reshape(shape)
    raise tl.errors.DataLossError(f"cache: file {path!r} is corrupt at byte offset {f.tell() - 1}; delete it "
                                  "to rebuild the cache")


_END = 0xFFFFFFFF  # in place of a component count: the end, followed by the element count


def write_element(f, e):
    """Appends one element: its component count, then each leaf."""
    leaves = st.flatten(e)
    f.write(struct.pack("<I", len(leaves)))
    for a in leaves:
        _write_leaf(f, a)


def write_end(f, count):
    """Closes a sequence of ``count`` elements (a reader checks the count)."""
    f.write(struct.pack("<I", _END) + struct.pack("<q", count))


def read_elements(f, path, template, what, wrong_count):
    """Yields the elements after the magic of an open file, shaped like ``template``; raises
    ``DataLossError`` for a truncated file or a wrong count, and ``wrong_count(k, expected)``
    when an element has ``k`` components instead of ``template``'s."""
    nleaves = len(st.flatten(template))
    count = 0
    while True:
        (k,) = struct.unpack("<I", _read_exact(f, 4, path))
        if k == _END:
            (n,) = struct.unpack("<q", _read_exact(f, 8, path))
            if n != count:
                raise tl.errors.DataLossError(f"{what}: {path!r} records {n} elements but holds {count}")
            return
        if k != nleaves:
            raise wrong_count(k, nleaves)
        count += 1
        yield st.pack_as(template, [_read_leaf(f, path) for _ in range(k)])


class Cache(_Unary):
    def __init__(self, ds, filename):
        super().__init__(ds)
        filename = os.fspath(filename) if filename is not None else ""
        self._path = filename + _SUFFIX if filename else None
        self._memory = None
        self._lock = threading.Lock()

    def _gen(self):
        if self._path is None:
            yield from self._memory_gen()
        elif os.path.exists(self._path):
            yield from self._file_read()
        else:
            yield from self._file_write()

    def _memory_gen(self):
        if self._memory is not None:
            yield from self._memory
            return
        seen = []
        for e in self._in._gen():
            seen.append(e)
            yield e
        with self._lock:  # only a complete pass becomes the cache
            if self._memory is None:
                self._memory = seen

    def _file_write(self):
        tmp = f"{self._path}.tmp-{os.getpid()}-{threading.get_ident()}"
        d = os.path.dirname(os.path.abspath(self._path))
        if not os.path.isdir(d):
            raise tl.errors.NotFoundError(f"cache: directory {d!r} of cache file {self._path!r} does not exist")
        f = open(tmp, "wb")
        done = False
        try:
            f.write(_MAGIC)
            n = 0
            for e in self._in._gen():
                write_element(f, e)
                n += 1
                yield e
            write_end(f, n)
            f.flush()
            os.fsync(f.fileno())
            done = True
        finally:
            f.close()
            if done:
                os.replace(tmp, self._path)
            else:
                try:
                    os.remove(tmp)
                except OSError:
                    pass

    def _file_read(self):
        path = self._path
        template = self._in.element_spec
        with open(path, "rb") as f:
            if f.read(len(_MAGIC)) != _MAGIC:
                raise tl.errors.DataLossError(f"cache: {path!r} is not a tensorlab dataset cache file")

            def wrong_count(k, nleaves):
                return tl.errors.InvalidArgumentError(
                    f"cache: file {path!r} holds elements of {k} components but this dataset's elements have "
                    f"{nleaves} ({st.describe(template)}); use another cache file name")
            yield from read_elements(f, path, template, "cache", wrong_count)
