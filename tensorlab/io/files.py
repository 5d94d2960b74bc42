"""Whole files and file systems: ``tl.io.read_file``, ``write_file``, ``matching_files`` and
``tl.io.gfile`` (local paths; TF's gfile API).

File contents are ``bytes``, as string elements are everywhere in tensorlab (its tensors hold
numbers). ``write_file`` and ``GFile`` opened for writing replace the target only once the
data is complete, so a crash leaves the old file or none, never half a file.
"""
import glob as _glob
import os
import shutil
import stat as _stat_mod

import tensorlab as tl


def _path(p, what):
    if isinstance(p, bytes):
        p = p.decode()
    if isinstance(p, (tl.Tensor, tl.Variable)):
        raise TypeError(f"{what}: a file name is a string (or bytes), got a tensor")
    try:
        return os.fspath(p)
    except TypeError:
        raise TypeError(f"{what}: a file name must be a string, bytes or path-like; got {type(p).__name__}") from None


def read_file(filename, name=None):
    """The contents of ``filename`` as ``bytes`` (``tf.io.read_file``)."""
    path = _path(filename, "read_file")
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise tl.errors.NotFoundError(None, None, f"read_file: {path!r}: no such file") from None
    except IsADirectoryError:
        raise tl.errors.FailedPreconditionError(None, None, f"read_file: {path!r} is a directory") from None


def write_file(filename, contents, name=None):
    """Writes ``contents`` (bytes or str) to ``filename``, creating or replacing it atomically."""
    path = _path(filename, "write_file")
    if isinstance(contents, str):
        contents = contents.encode()
    if not isinstance(contents, (bytes, bytearray, memoryview)):
        raise TypeError(f"write_file: contents must be bytes or str, got {type(contents).__name__}")
    from tensorlab.keras.saving.file_format import atomic_write_bytes
    atomic_write_bytes(path, bytes(contents))


def matching_files(pattern, name=None):
    """The sorted file names matching a glob ``pattern`` (or a list of patterns)."""
    pats = pattern if isinstance(pattern, (list, tuple)) else [pattern]
    return sorted({m for p in pats for m in _glob.glob(_path(p, "matching_files"))})


class GFile:
    """A file object (``tf.io.gfile.GFile``): ``read``, ``write``, ``readline``, iteration, ``with``.

    Files opened for writing (``"w"``, ``"wb"``) are written to a temporary name and renamed over
    ``name`` on ``close``; ``"a"`` appends in place.
    """

    def __init__(self, name, mode="r"):
        self.name = _path(name, "GFile")
        self.mode = mode
        if mode not in ("r", "rb", "w", "wb", "a", "ab"):
            raise ValueError(f"GFile: mode must be one of r, rb, w, wb, a, ab; got {mode!r}")
        self._final = None
        target = self.name
        if mode in ("w", "wb"):
            self._final = self.name
            target = f"{self.name}.tmp-{os.getpid()}-{id(self)}"
        try:
            self._f = open(target, mode)
        except FileNotFoundError:
            raise tl.errors.NotFoundError(None, None, f"GFile: {self.name!r}: no such file or directory") from None

    def __getattr__(self, attr):  # read, readline, readlines, write, seek, tell, flush...
        return getattr(self._f, attr)

    def __iter__(self):
        return iter(self._f)

    def close(self):
        if self._f.closed:
            return
        self._f.flush()
        if self._final is not None:
            os.fsync(self._f.fileno())
        self._f.close()
        if self._final is not None:
            os.replace(self._f.name, self._final)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *rest):
        if exc_type is not None and self._final is not None:
            self._f.close()  # a failed write leaves the old file as it was
            try:
                os.remove(self._f.name)
            except OSError:
                pass
            return False
        self.close()
        return False


def _exists(path):
    return os.path.exists(_path(path, "gfile.exists"))


def _listdir(path):
    p = _path(path, "gfile.listdir")
    if not os.path.isdir(p):
        raise tl.errors.NotFoundError(None, None, f"gfile.listdir: {p!r} is not a directory")
    return sorted(os.listdir(p))


def _remove(path):
    p = _path(path, "gfile.remove")
    try:
        os.remove(p)
    except FileNotFoundError:
        raise tl.errors.NotFoundError(None, None, f"gfile.remove: {p!r}: no such file") from None


def _rename(src, dst, overwrite=False):
    s, d = _path(src, "gfile.rename"), _path(dst, "gfile.rename")
    if os.path.exists(d) and not overwrite:
        raise tl.errors.AlreadyExistsError(None, None, f"gfile.rename: {d!r} exists (pass overwrite=True)")
    os.replace(s, d)


def _copy(src, dst, overwrite=False):
    s, d = _path(src, "gfile.copy"), _path(dst, "gfile.copy")
    if os.path.exists(d) and not overwrite:
        raise tl.errors.AlreadyExistsError(None, None, f"gfile.copy: {d!r} exists (pass overwrite=True)")
    write_file(d, read_file(s))


def _walk(top, topdown=True, onerror=None):
    for root, dirs, files in os.walk(_path(top, "gfile.walk"), topdown=topdown, onerror=onerror):
        yield root, sorted(dirs), sorted(files)


class _Stat:
    def __init__(self, st):
        self.length, self.mtime_nsec, self.is_directory = st.st_size, st.st_mtime_ns, _stat_mod.S_ISDIR(st.st_mode)


gfile = type(os)("tensorlab.io.gfile", "Local file-system helpers with tf.io.gfile's names.")
gfile.GFile = GFile
gfile.exists = _exists
gfile.glob = matching_files
gfile.isdir = lambda path: os.path.isdir(_path(path, "gfile.isdir"))
gfile.listdir = _listdir
gfile.makedirs = lambda path: os.makedirs(_path(path, "gfile.makedirs"), exist_ok=True)
gfile.mkdir = lambda path: os.mkdir(_path(path, "gfile.mkdir"))
gfile.remove = _remove
gfile.rename = _rename
gfile.copy = _copy
gfile.rmtree = lambda path: shutil.rmtree(_path(path, "gfile.rmtree"))
gfile.walk = _walk
gfile.join = os.path.join
gfile.stat = lambda path: _Stat(os.stat(_path(path, "gfile.stat")))
