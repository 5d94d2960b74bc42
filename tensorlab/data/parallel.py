"""Transformations that run work on threads: parallel ``map``, ``prefetch``, ``prefetch_to_device``.

Threads suit input pipelines: numpy, file reads and decompression release
the GIL, so a map over numpy work scales with cores, and a prefetch thread
overlaps producing the next batch with the training step that consumes this one.
"""
import collections
import concurrent.futures as cf
import queue
import threading

import tensorlab as tl
from tensorlab.data import _structure as st
from tensorlab.data.dataset import AUTOTUNE, cpu_count
from tensorlab.data.transforms import SKIPPED, Map, _int, _Unary

# The prefetch depth AUTOTUNE picks: enough to hide jitter in producing a batch
# without holding many batches of memory.
_AUTOTUNE_BUFFER = 4


class ParallelMap(Map):
    def __init__(self, ds, fn, num_parallel_calls, deterministic):
        super().__init__(ds, fn)
        n = _int("map", "num_parallel_calls", num_parallel_calls, -1)
        if n == 0 or n < -1:
            raise tl.errors.InvalidArgumentError(
                f"map: num_parallel_calls must be a positive integer or tl.data.AUTOTUNE (-1), got {n}")
        self._threads = cpu_count() if n == AUTOTUNE else n
        self._deterministic = deterministic

    def _ordered(self):
        if self._deterministic is not None:
            return bool(self._deterministic)
        opts = self.options()
        d = opts.deterministic if opts.deterministic is not None else opts.experimental_deterministic
        return True if d is None else bool(d)

    def _gen(self):
        n = self._threads
        if n == 1:
            yield from Map._gen(self)
            return
        yield from (r for r in self._results(n) if r is not SKIPPED)

    def _results(self, n):
        apply = self._apply if self._skip is None else self._apply_or_skip
        window = 2 * n  # calls in flight: keeps every thread busy while results wait to be consumed
        pool = cf.ThreadPoolExecutor(n, thread_name_prefix="tl.data.map")
        try:
            if self._ordered():
                pending = collections.deque()
                for e in self._in._gen():
                    pending.append(pool.submit(apply, e))
                    if len(pending) >= window:
                        yield pending.popleft().result()
                while pending:
                    yield pending.popleft().result()
            else:
                pending = set()
                for e in self._in._gen():
                    pending.add(pool.submit(apply, e))
                    if len(pending) >= window:
                        done, pending = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
                        for f in done:
                            yield f.result()
                for f in cf.as_completed(pending):
                    yield f.result()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)


class _Background:
    """Runs a generator on a daemon thread, handing its items over through a bounded queue.

    Errors raised on the thread re-raise in the consumer; when the consumer stops
    (exhausted, closed early, or failed) the thread stops too, and with ``join`` the
    consumer waits for it to end (for producers that never block for long).
    """

    def __init__(self, make_gen, size, convert=None, name="tl.data.prefetch", join=False):
        self._q = queue.Queue(maxsize=max(1, size))
        self._stop = threading.Event()
        self._make, self._convert, self._join = make_gen, convert, join
        self._thread = threading.Thread(target=self._run, daemon=True, name=name)
        self._thread.start()

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self):
        try:
            conv = self._convert
            for e in self._make():
                if conv is not None:
                    e = conv(e)
                if not self._put((0, e)):
                    return
            self._put((1, None))
        except BaseException as err:  # handed to the consumer, raised there
            self._put((2, err))

    def __iter__(self):
        try:
            while True:
                kind, v = self._q.get()
                if kind == 0:
                    yield v
                elif kind == 1:
                    return
                else:
                    raise v
        finally:
            self._stop.set()
            if self._join:
                self._thread.join()


class Prefetch(_Unary):
    def __init__(self, ds, buffer_size):
        super().__init__(ds)
        n = _int("prefetch", "buffer_size", buffer_size, -1)
        self._size = _AUTOTUNE_BUFFER if n == AUTOTUNE else n

    def _gen(self):
        if self._size == 0:
            yield from self._in._gen()
            return
        yield from _Background(self._in._gen, self._size)


class PrefetchToDevice(_Unary):
    """Places each element's tensors on ``device`` ahead of use (from a background thread when buffered)."""

    def __init__(self, ds, device, buffer_size):
        super().__init__(ds)
        self._device = device
        with tl.device(device):  # fails early, naming the device, if it does not exist
            pass
        self._size = _AUTOTUNE_BUFFER if buffer_size in (None, AUTOTUNE) else _int(
            "prefetch_to_device", "buffer_size", buffer_size, 0)

    def _place(self, element):
        dev = self._device

        def leaf(a):
            if isinstance(a, tl.Tensor) or (getattr(a, "dtype", None) is not None and a.dtype != object):
                with tl.device(dev):
                    return tl.constant(a)
            return a
        return st.map_structure(leaf, element)

    def _gen(self):
        if self._size == 0:
            for e in self._in._gen():
                yield self._place(e)
            return
        yield from _Background(self._in._gen, self._size, self._place)


def prefetch_to_device(device, buffer_size=None):
    """A transformation that prefetches elements onto ``device`` (e.g. ``"/GPU:0"``).

    The copy to the device happens on a background thread, so on a GPU it
    overlaps the training step using the previous batch. Apply it last.

    Example:
      >>> ds = ds.batch(128).apply(tl.data.experimental.prefetch_to_device("/GPU:0"))
    """
    def apply(ds):
        return PrefetchToDevice(ds, device, buffer_size)
    return apply


def copy_to_device(target_device, source_device="/cpu:0"):
    """A transformation that copies each element to ``target_device`` when it is produced."""
    def apply(ds):
        return PrefetchToDevice(ds, target_device, 0)
    return apply
