"""Transformations that carry state from element to element: ``scan``, ``group_by_window``
and ``bucket_by_sequence_length`` (built on ``group_by_window``, as in TF)."""
import bisect

import tensorlab as tl
from tensorlab.data import _structure as st
from tensorlab.data.combine import ListDataset
from tensorlab.data.dataset import Dataset
from tensorlab.data.transforms import INF, UNK, _Unary, _int


def _scalar_int(v, what):
    """A user function's result as a Python int, if it is an integer scalar."""
    a = st.to_host(v, what)
    if a.shape != () or a.dtype.kind not in "iu":
        raise tl.errors.InvalidArgumentError(
            f"{what} must return a scalar integer (int64) tensor; got dtype {a.dtype} and shape {list(a.shape)}")
    return int(a)


class Scan(_Unary):
    """``scan_func(state, element) -> (new_state, output)``, the state starting at ``initial_state``."""

    def __init__(self, ds, initial_state, scan_func):
        super().__init__(ds)
        if not callable(scan_func):
            raise TypeError(f"scan: scan_func must be callable, got {type(scan_func).__name__}")
        self._init = st.element_from_user(initial_state, "scan initial_state")
        self._fn = scan_func

    def _step(self, state, e):
        with tl.device("cpu"):
            out = self._fn(st.element_to_user(state), st.element_to_user(e))
        if not isinstance(out, tuple) or len(out) != 2 or st._is_namedtuple(out):
            raise TypeError("scan: scan_func must return a pair (new_state, output_element); got "
                            f"{type(out).__name__}")
        new = st.element_from_user(out[0], "scan")
        st.assert_same_structure(self._init, new, "scan: the new state")
        for old, cur in zip(st.flatten(self._init), st.flatten(new)):
            if old.dtype != cur.dtype:
                raise TypeError(f"scan: the new state's dtypes must match initial_state's; a component of dtype "
                                f"{old.dtype} became {cur.dtype}")
        return new, st.element_from_user(out[1], "scan")

    def _gen(self):
        state = self._init
        for e in self._in._gen():
            state, out = self._step(state, e)
            yield out

    def _spec(self):
        for e in self._in._gen():
            return st.spec_of(self._step(self._init, e)[1])
        raise tl.errors.InvalidArgumentError("scan: cannot infer the element spec of an empty dataset")


class GroupByWindow(_Unary):
    """TF's ``group_by_window``: elements go to the window of their ``key_func`` key; a full window
    (``window_size``, or ``window_size_func(key)``) is handed to ``reduce_func(key, window_dataset)``
    at once and that dataset's elements are produced. At the end of the input the unfinished windows
    are reduced in increasing key order."""

    def __init__(self, ds, key_func, reduce_func, window_size=None, window_size_func=None):
        super().__init__(ds)
        if (window_size is None) == (window_size_func is None):
            raise ValueError("group_by_window: give exactly one of window_size and window_size_func")
        for name, f in (("key_func", key_func), ("reduce_func", reduce_func)):
            if not callable(f):
                raise TypeError(f"group_by_window: {name} must be callable, got {type(f).__name__}")
        if window_size is not None:
            size = _int("group_by_window", "window_size", window_size, 1)
            window_size_func = lambda key: size  # noqa: E731
        self._key, self._reduce, self._size_of = key_func, reduce_func, window_size_func
        self._sizes = {}

    def _size(self, key):
        if key not in self._sizes:
            with tl.device("cpu"):
                n = _scalar_int(self._size_of(tl.constant(key, dtype=tl.int64)), "group_by_window: window_size_func")
            if n < 1:
                raise tl.errors.InvalidArgumentError(
                    f"group_by_window: window_size_func returned {n} for key {key}; window sizes must be >= 1")
            self._sizes[key] = n
        return self._sizes[key]

    def _flush(self, key, elements):
        window = ListDataset(list(elements), self._in.element_spec)  # one dataset of whole elements
        with tl.device("cpu"):
            out = self._reduce(tl.constant(key, dtype=tl.int64), window)
        if not isinstance(out, Dataset):
            raise TypeError(f"group_by_window: reduce_func must return a tl.data.Dataset, got {type(out).__name__}")
        return out

    def _gen(self):
        groups = {}
        self._sizes = {}
        for e in self._in._gen():
            with tl.device("cpu"):
                key = _scalar_int(st.call_user(self._key, e), "group_by_window: key_func")
            group = groups.setdefault(key, [])
            group.append(e)
            if len(group) >= self._size(key):
                del groups[key]
                yield from self._flush(key, group)._gen()
        for key in sorted(groups):
            yield from self._flush(key, groups[key])._gen()

    def _spec(self):
        for e in self._in._gen():
            with tl.device("cpu"):
                key = _scalar_int(st.call_user(self._key, e), "group_by_window: key_func")
            return self._flush(key, [e]).element_spec
        raise tl.errors.InvalidArgumentError("group_by_window: cannot infer the element spec of an empty dataset")

    def _card(self):
        return INF if self._in._card() == INF else UNK


def bucket_by_sequence_length(ds, element_length_func, bucket_boundaries, bucket_batch_sizes, padded_shapes=None,
                              padding_values=None, pad_to_bucket_boundary=False, no_padding=False,
                              drop_remainder=False):
    """TF's ``bucket_by_sequence_length``: elements whose length falls in ``[b_{i-1}, b_i)`` are
    batched together, ``bucket_batch_sizes[i]`` at a time, padded to the longest in the batch (or
    to ``b_i - 1`` with ``pad_to_bucket_boundary``)."""
    boundaries = [int(b) for b in bucket_boundaries]
    sizes = [_int("bucket_by_sequence_length", "bucket_batch_sizes[i]", b, 1) for b in bucket_batch_sizes]
    if len(sizes) != len(boundaries) + 1:
        raise ValueError(f"bucket_by_sequence_length: len(bucket_batch_sizes) must equal len(bucket_boundaries) "
                         f"+ 1; got {len(sizes)} batch sizes for {len(boundaries)} boundaries")
    if any(a >= b for a, b in zip(boundaries, boundaries[1:])):
        raise ValueError(f"bucket_by_sequence_length: bucket_boundaries must be strictly increasing; got {boundaries}")

    def bucket_of(*args):
        length = _scalar_int(element_length_func(*args), "bucket_by_sequence_length: element_length_func")
        return tl.constant(bisect.bisect_right(boundaries, length), dtype=tl.int64)  # bucket i: [b[i-1], b[i])

    def batch_bucket(bucket, window):
        b = int(bucket.numpy())
        if no_padding:
            return window.batch(sizes[b], drop_remainder=drop_remainder)
        shapes = padded_shapes
        if shapes is None:
            shapes = st.map_structure(lambda s: [None] * len(s.shape), window.element_spec)
        if pad_to_bucket_boundary:
            if b == len(boundaries):
                raise tl.errors.InvalidArgumentError(
                    "bucket_by_sequence_length: with pad_to_bucket_boundary=True, elements must have length < "
                    f"max(bucket_boundaries) = {boundaries[-1] if boundaries else 0}")
            fill = boundaries[b] - 1
            shapes = _fill_unknown(window.element_spec, shapes, fill)
        return window.padded_batch(sizes[b], shapes, padding_values, drop_remainder=drop_remainder)

    return GroupByWindow(ds, bucket_of, batch_bucket, window_size_func=lambda b: sizes[int(b.numpy())])


def _fill_unknown(spec, shapes, fill):
    """``shapes`` (one per component of ``spec``) with unknown dims set to ``fill``."""
    from tensorlab.data.transforms import _flatten_like
    flat = [[fill if d is None or (isinstance(d, int) and d < 0) else d for d in s]
            for s in _flatten_like(spec, shapes)]
    return st.pack_as(spec, flat) if st.is_nested(spec) else flat[0]
