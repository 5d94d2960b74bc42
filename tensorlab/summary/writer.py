"""``SummaryWriter``: appends ``Event`` records to a tfevents file, as ``tf.summary``'s writer.

File name and framing are TensorFlow's: ``events.out.tfevents.<time>.<host>.<pid>.<n>.v2``,
each record framed as in TFRecord files (length, masked CRC32C of the length, data,
masked CRC32C of the data). The first event names the file version ``brain.Event:2``.
"""
import atexit
import contextlib
import os
import socket
import threading
import time
import weakref

from tensorlab.data.tfrecord import frame
from tensorlab.summary import _proto

_counter = [0]
_lock = threading.Lock()
_state = threading.local()
_open_writers = weakref.WeakSet()


def _stack():
    if not hasattr(_state, "writers"):
        _state.writers = []
        _state.step = None
        _state.record = []
    return _state


class SummaryWriter:
    """Writes summaries to one event file in ``logdir`` (make one with ``create_file_writer``)."""

    def __init__(self, logdir, max_queue=10, flush_millis=120000, filename_suffix=None):
        self.logdir = os.fspath(logdir)
        os.makedirs(self.logdir, exist_ok=True)
        with _lock:
            _counter[0] += 1
            n = _counter[0]
        name = f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{n}.v2"
        self.path = os.path.join(self.logdir, name + (filename_suffix or ""))
        self._file = open(self.path, "ab")
        self._queue = []
        self._max_queue = max(1, int(max_queue or 10))
        self._flush_secs = (flush_millis if flush_millis is not None else 120000) / 1000.0
        self._last_flush = time.monotonic()
        self._lock = threading.Lock()
        self._closed = False
        self._write_event(_proto.event(time.time(), file_version="brain.Event:2"))
        self.flush()
        _open_writers.add(self)

    def _write_event(self, data):
        with self._lock:
            if self._closed:
                raise RuntimeError(f"SummaryWriter for {self.logdir!r} is closed")
            self._queue.append(data)
            due = len(self._queue) >= self._max_queue or time.monotonic() - self._last_flush >= self._flush_secs
        if due:
            self.flush()

    def write_values(self, step, values):
        self._write_event(_proto.event(time.time(), step=step, summary_values=values))

    def write_graph_def(self, graph_def_bytes, step=0):
        self._write_event(_proto.event(time.time(), step=step, graph_def=graph_def_bytes))

    def flush(self):
        """Writes the queued events to disk."""
        with self._lock:
            if self._closed:
                return
            if self._queue:
                self._file.write(frame(self._queue))
                self._queue = []
            self._file.flush()
            self._last_flush = time.monotonic()

    def close(self):
        """Flushes and closes the file; the writer cannot be used afterwards."""
        self.flush()
        with self._lock:
            if not self._closed:
                self._closed = True
                self._file.close()

    def init(self):
        return None

    def set_as_default(self, step=None):
        """Makes this the default writer for summary ops (for the rest of the thread)."""
        s = _stack()
        s.writers.append(self)
        if step is not None:
            s.step = step

    @contextlib.contextmanager
    def as_default(self, step=None):
        """``with writer.as_default(step=...):`` makes summary ops write to this writer."""
        s = _stack()
        s.writers.append(self)
        old_step = s.step
        if step is not None:
            s.step = step
        try:
            yield self
        finally:
            s.writers.pop()
            s.step = old_step
            self.flush()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _NoopWriter:
    def set_as_default(self, step=None):
        pass

    @contextlib.contextmanager
    def as_default(self, step=None):
        yield self

    def flush(self):
        pass

    def close(self):
        pass

    def init(self):
        pass


def create_file_writer(logdir, max_queue=None, flush_millis=None, filename_suffix=None, name=None,
                       experimental_trackable=False):
    """A summary writer for the event file it creates in ``logdir``.

    Args:
      logdir: the folder (created if needed).
      max_queue: events held before a write to disk (default 10).
      flush_millis: longest time between writes to disk (default 120 s).
      filename_suffix: appended to the event file's name.

    Returns:
      A ``SummaryWriter``.

    Example:
      >>> writer = tl.summary.create_file_writer("/tmp/logs")
      >>> with writer.as_default(step=1):
      ...     tl.summary.scalar("loss", 0.25)
    """
    return SummaryWriter(logdir, max_queue=max_queue, flush_millis=flush_millis, filename_suffix=filename_suffix)


def create_noop_writer():
    """A writer that records nothing."""
    return _NoopWriter()


def default_writer():
    s = _stack()
    return s.writers[-1] if s.writers else None


def flush(writer=None, name=None):
    """Flushes ``writer`` (default: the default writer)."""
    w = writer if writer is not None else default_writer()
    if w is not None:
        w.flush()


@atexit.register
def _close_all():
    for w in list(_open_writers):
        try:
            w.close()
        except Exception:
            pass
