"""``tl.data.Dataset``: input pipelines with TensorFlow's semantics.

A dataset is a recipe: each ``iter(ds)`` starts a fresh pass that pulls
elements through the chain of transformations. Each node implements
``_gen()`` (a generator of host elements, see ``_structure``), ``_spec()``
and ``_card()``; the methods below only build nodes.
"""
import os

import numpy as np

import tensorlab as tl
from tensorlab.data import _structure as st

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


def _T():
    from tensorlab.data import transforms
    return transforms


def _P():
    from tensorlab.data import parallel
    return parallel


class DatasetSpec:
    """The spec of an element that is itself a dataset (``window``)."""

    def __init__(self, element_spec):
        self.element_spec = element_spec

    def __repr__(self):
        return f"DatasetSpec({self.element_spec!r})"

    def __eq__(self, other):
        return isinstance(other, DatasetSpec) and other.element_spec == self.element_spec

    __hash__ = None


class Iterator:
    """An iterator over a dataset (``iter(ds)``); yields CPU tensors.

    ``next(it)`` raises ``StopIteration`` at the end, ``it.get_next()``
    raises ``tl.errors.OutOfRangeError`` as TF's does.
    """

    def __init__(self, dataset):
        self._dataset = dataset
        self._gen = dataset._gen()

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        return self

    def __next__(self):
        return st.element_to_user(next(self._gen))

    def get_next(self):
        try:
            return self.__next__()
        except StopIteration:
            raise tl.errors.OutOfRangeError("End of sequence") from None

    next = __next__

    def close(self):
        self._gen.close()


class Dataset:
    """A sequence of elements built from sources and transformations, as ``tf.data.Dataset``.

    Elements are tensors or nested tuples/dicts of tensors. Iterating yields
    ``tl.Tensor``s on the CPU; ``Model.fit`` accepts a dataset of ``(x, y)``
    or ``(x, y, sample_weight)`` batches directly.

    Example:
      >>> ds = tl.data.Dataset.from_tensor_slices((x, y)).shuffle(1000).batch(32)
      >>> for xb, yb in ds: ...
      >>> model.fit(ds.prefetch(tl.data.AUTOTUNE), epochs=3)
    """

    _cached_spec = None
    _options = None

    # ---- what every node implements
    def _gen(self):
        raise NotImplementedError

    def _spec(self):
        """Element spec; by default read off the first element."""
        for e in self._gen():
            return st.spec_of(e)
        raise tl.errors.InvalidArgumentError(
            f"{type(self).__name__}: cannot infer the element spec of an empty dataset")

    def _card(self):
        return UNKNOWN_CARDINALITY

    def _inputs(self):
        return []

    # ---- the public surface
    @property
    def element_spec(self):
        """The structure of ``TensorSpec``s describing one element."""
        if self._cached_spec is None:
            self._cached_spec = self._spec()
        return self._cached_spec

    def cardinality(self):
        """Number of elements, or ``INFINITE_CARDINALITY`` (-1) / ``UNKNOWN_CARDINALITY`` (-2), as a tensor."""
        with tl.device("cpu"):
            return tl.constant(self._card(), dtype=tl.int64)

    def __len__(self):
        n = self._card()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return int(n)

    def __bool__(self):
        return True

    def __iter__(self):
        return Iterator(self)

    def __repr__(self):
        try:
            spec = st.describe(self.element_spec)
        except Exception:
            spec = "?"
        return f"<{type(self).__name__} element_spec={spec}>"

    def as_numpy_iterator(self):
        """Iterates elements as numpy arrays (``bytes`` for scalar strings)."""
        for e in self._gen():
            yield st.map_structure(st.to_numpy_user, e)

    def options(self):
        node, opts = self, None
        while node is not None and opts is None:
            opts = node._options
            ins = node._inputs()
            node = ins[0] if ins else None
        return opts if opts is not None else Options()

    def with_options(self, options):
        return _T().WithOptions(self, options)

    # ---- sources
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """Slices ``tensors`` (nested tuples/dicts of arrays) along their first dimension.

        Example:
          >>> ds = tl.data.Dataset.from_tensor_slices({"a": [1, 2], "b": [[1., 2.], [3., 4.]]})
          >>> [e["a"].numpy() for e in ds]   # [1, 2]
        """
        return TensorSlices(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of one element, ``tensors``."""
        return FromTensors(tensors)

    @staticmethod
    def range(*args, dtype=tl.int64, name=None):
        """Like Python's ``range`` (``start, stop, step``), yielding scalar ``dtype`` tensors."""
        return Range(*args, dtype=dtype)

    @staticmethod
    def from_generator(generator, output_types=None, output_shapes=None, args=None, output_signature=None,
                       name=None):
        """Elements produced by a Python generator function.

        Args:
          generator: a callable returning an iterator (called once per pass,
            with ``args`` if given).
          output_signature: nested ``tl.TensorSpec``s each element must match
            (dims may be ``None``); or the older ``output_types`` (+ ``output_shapes``).

        Example:
          >>> def gen():
          ...     for i in range(3):
          ...         yield i, [1.0] * i
          >>> ds = tl.data.Dataset.from_generator(gen, output_signature=(
          ...     tl.TensorSpec([], tl.int32), tl.TensorSpec([None], tl.float32)))
        """
        from tensorlab.data.sources import FromGenerator
        return FromGenerator(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def zip(*datasets, name=None):
        """Zips datasets (a tuple/dict of datasets, or several as arguments) element by element."""
        if len(datasets) == 1 and not isinstance(datasets[0], Dataset):
            datasets = datasets[0]
        return _T().Zip(datasets)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None):
        """The file names matching glob pattern(s), as a dataset of strings (shuffled by default)."""
        from tensorlab.data.sources import list_files
        return list_files(file_pattern, shuffle, seed)

    @staticmethod
    def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False):
        """Interleaves ``datasets`` by drawing each next element's source at random with ``weights``."""
        return _T().SampleFrom(datasets, weights, seed, stop_on_empty_dataset)

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
        """Takes each next element from ``datasets[c]`` for ``c`` read from ``choice_dataset``."""
        return _T().ChooseFrom(datasets, choice_dataset, stop_on_empty_dataset)

    @staticmethod
    def counter(start=0, step=1, dtype=tl.int64, name=None):
        """``start, start + step, start + 2 * step, ...`` forever (scalars of ``dtype``)."""
        from tensorlab.data.sources import Counter
        return Counter(start, step, dtype)

    @staticmethod
    def random(seed=None, rerandomize_each_iteration=None, name=None):
        """Random int64 scalars, forever (a new sequence each pass unless ``seed`` is given)."""
        from tensorlab.data.sources import RandomInts
        return RandomInts(seed, rerandomize_each_iteration)

    @staticmethod
    def load(path, element_spec=None, compression=None, reader_func=None, name=None):
        """The dataset that ``save`` wrote to directory ``path`` (``reader_func`` gets a dataset of
        its shards' datasets and returns the dataset to read)."""
        from tensorlab.data.saving import Loaded
        return Loaded(path, element_spec, compression, reader_func)

    def save(self, path, compression=None, shard_func=None, checkpoint_args=None, name=None):
        """Writes every element to directory ``path`` (``compression``: None or ``"GZIP"``;
        ``shard_func(element)`` picks each element's shard file). The directory is replaced only
        once the pass is complete."""
        from tensorlab.data.saving import save
        save(self, path, compression, shard_func, checkpoint_args)

    # ---- transformations
    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """Applies ``map_func`` to each element (tuple elements are unpacked into arguments).

        Args:
          map_func: a function of tensors returning tensors (or nested tuples/dicts).
          num_parallel_calls: run calls on a thread pool of this many threads
            (``tl.data.AUTOTUNE``: one per core); numpy work releases the GIL.
          deterministic: ``False`` lets results come out in completion order.

        Example:
          >>> ds = ds.map(lambda x, y: (tl.image.random_flip_left_right(x), y), num_parallel_calls=tl.data.AUTOTUNE)
        """
        if num_parallel_calls is None:
            return _T().Map(self, map_func)
        return _P().ParallelMap(self, map_func, num_parallel_calls, deterministic)

    def filter(self, predicate, name=None):
        """Keeps the elements for which ``predicate`` returns True."""
        return _T().Filter(self, predicate)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None, deterministic=None, name=None):
        """Stacks ``batch_size`` consecutive elements (the last batch may be smaller unless ``drop_remainder``)."""
        return _T().Batch(self, batch_size, drop_remainder)

    def padded_batch(self, batch_size, padded_shapes=None, padding_values=None, drop_remainder=False, name=None):
        """Batches elements of different shapes, padding each component to ``padded_shapes`` (or the longest)."""
        return _T().PaddedBatch(self, batch_size, padded_shapes, padding_values, drop_remainder)

    def unbatch(self, name=None):
        """Splits each element along its first dimension into several elements."""
        return _T().Unbatch(self)

    def rebatch(self, batch_size, drop_remainder=False, name=None):
        """Re-batches an already batched dataset to ``batch_size`` (an int or a list cycled through)."""
        return _T().Rebatch(self, batch_size, drop_remainder)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Shuffles with a buffer of ``buffer_size`` elements (TF's algorithm).

        Each output is drawn uniformly from the buffer and its slot refilled
        from the input; a buffer as large as the dataset gives a uniform shuffle.

        Args:
          buffer_size: elements held; ``tl.data.AUTOTUNE`` is not accepted, as in TF.
          seed: makes the sequence of orders reproducible (``tl.random.set_seed`` also does).
          reshuffle_each_iteration: a new order on each pass (else the same one).
        """
        return _T().Shuffle(self, buffer_size, seed, reshuffle_each_iteration)

    def repeat(self, count=None, name=None):
        """Repeats the dataset ``count`` times (forever for ``None`` or -1)."""
        return _T().Repeat(self, count)

    def take(self, count, name=None):
        """At most the first ``count`` elements (all for -1)."""
        return _T().Take(self, count)

    def skip(self, count, name=None):
        """All but the first ``count`` elements (-1 skips all)."""
        return _T().Skip(self, count)

    def shard(self, num_shards, index, name=None):
        """Every ``num_shards``-th element starting at ``index``."""
        return _T().Shard(self, num_shards, index)

    def enumerate(self, start=0, name=None):
        """Pairs each element with its int64 index: ``(i, element)``."""
        return _T().Enumerate(self, start)

    def concatenate(self, dataset, name=None):
        """This dataset's elements followed by ``dataset``'s (element structures and dtypes must match)."""
        return _T().Concatenate(self, dataset)

    def prefetch(self, buffer_size, name=None):
        """Produces elements in a background thread, up to ``buffer_size`` ahead (``AUTOTUNE`` picks)."""
        return _P().Prefetch(self, buffer_size)

    def cache(self, filename="", name=None):
        """Caches elements in memory, or in ``filename`` (kept for later processes).

        The first complete pass records the elements; later passes replay
        them. A file cache is written to a temporary file and renamed when
        the pass completes, so an interrupted pass never leaves a partial cache.
        """
        from tensorlab.data.cache import Cache
        return Cache(self, filename)

    def interleave(self, map_func, cycle_length=None, block_length=None, num_parallel_calls=None,
                   deterministic=None, name=None):
        """Maps each element to a dataset and interleaves ``cycle_length`` of them, ``block_length`` at a time.

        Example:
          >>> files = tl.data.Dataset.list_files("/data/*.tfrecord")
          >>> ds = files.interleave(tl.data.TFRecordDataset, cycle_length=4)
        """
        return _T().Interleave(self, map_func, cycle_length, block_length, num_parallel_calls)

    def flat_map(self, map_func, name=None):
        """Maps each element to a dataset and concatenates them."""
        return _T().Interleave(self, map_func, 1, 1, None)

    def window(self, size, shift=None, stride=1, drop_remainder=False, name=None):
        """Groups elements into windows; each element becomes a (structure of) dataset(s)."""
        return _T().Window(self, size, shift, stride, drop_remainder)

    def apply(self, transformation_func):
        """``transformation_func(self)``: applies a dataset-to-dataset function."""
        out = transformation_func(self)
        if not isinstance(out, Dataset):
            raise TypeError(f"apply: the transformation must return a Dataset, got {type(out).__name__}")
        return out

    def reduce(self, initial_state, reduce_func, name=None):
        """Folds the elements: ``state = reduce_func(state, element)``; returns the final state."""
        state = initial_state
        for e in self._gen():
            state = reduce_func(state, st.element_to_user(e))
        return state

    def unique(self, name=None):
        """The elements (scalars) with repeats removed, in first-seen order."""
        return _T().Unique(self)

    def scan(self, initial_state, scan_func, name=None):
        """Running state: ``scan_func(state, element) -> (new_state, output_element)``.

        Example:
          >>> tl.data.Dataset.range(5).scan(tl.constant(0, tl.int64), lambda s, x: (s + x, s + x))  # 0 1 3 6 10
        """
        from tensorlab.data.stateful import Scan
        return Scan(self, initial_state, scan_func)

    def group_by_window(self, key_func, reduce_func, window_size=None, window_size_func=None, name=None):
        """Groups elements by ``key_func(element)`` (an int64 scalar) into windows of ``window_size``
        (or ``window_size_func(key)``) and replaces each window by ``reduce_func(key, window_dataset)``.

        Example:
          >>> ds.group_by_window(lambda x: x % 2, lambda k, w: w.batch(4), window_size=4)
        """
        from tensorlab.data.stateful import GroupByWindow
        return GroupByWindow(self, key_func, reduce_func, window_size, window_size_func)

    def bucket_by_sequence_length(self, element_length_func, bucket_boundaries, bucket_batch_sizes,
                                  padded_shapes=None, padding_values=None, pad_to_bucket_boundary=False,
                                  no_padding=False, drop_remainder=False, name=None):
        """Batches elements of similar length together: lengths in ``[bucket_boundaries[i-1],
        bucket_boundaries[i])`` form batches of ``bucket_batch_sizes[i]``, padded per batch."""
        from tensorlab.data.stateful import bucket_by_sequence_length
        return bucket_by_sequence_length(self, element_length_func, bucket_boundaries, bucket_batch_sizes,
                                         padded_shapes, padding_values, pad_to_bucket_boundary, no_padding,
                                         drop_remainder)

    def ignore_errors(self, log_warning=False, name=None):
        """Drops the elements whose ``map`` or ``filter`` function raised (an error elsewhere
        still propagates); ``log_warning`` logs each dropped element's error."""
        from tensorlab.data.ignore_errors import IgnoreErrors
        return IgnoreErrors(self, log_warning)

    def take_while(self, predicate, name=None):
        """Elements up to (not including) the first for which ``predicate`` is False."""
        return _T().TakeWhile(self, predicate)

    def get_single_element(self, name=None):
        """The only element of a one-element dataset."""
        it = self._gen()
        try:
            e = next(it)
        except StopIteration:
            raise tl.errors.InvalidArgumentError("get_single_element: the dataset is empty") from None
        for _ in it:
            raise tl.errors.InvalidArgumentError("get_single_element: the dataset has more than one element")
        return st.element_to_user(e)

    def _advance_epochs(self, n):
        """Makes the next pass use the random orders of pass ``n`` (resuming training mid-run)."""
        for node in self._walk():
            if hasattr(node, "_iteration"):
                node._iteration = int(n)

    def _walk(self):
        yield self
        for d in self._inputs():
            yield from d._walk()


class Options:
    """Dataset options (``ds.with_options``); accepted for TF compatibility, mostly advisory."""

    def __init__(self):
        self.deterministic = None
        self.experimental_deterministic = None
        self.experimental_slack = False
        self.experimental_optimization = _Bag(map_parallelization=True, parallel_batch=True)
        self.threading = _Bag(private_threadpool_size=0, max_intra_op_parallelism=1)
        self.experimental_distribute = _Bag(auto_shard_policy=AutoShardPolicy.AUTO)

    def merge(self, options):
        out = Options()
        out.__dict__.update(self.__dict__)
        for k, v in options.__dict__.items():
            if v is not None:
                setattr(out, k, v)
        return out


class _Bag:
    def __init__(self, **kw):
        self.__dict__.update(kw)


class AutoShardPolicy:
    """How a distribution strategy shards a dataset across workers (``tf.data.experimental.AutoShardPolicy``)."""
    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


# ----------------------------------------------------------------- array sources
def _host_structure(x, what):
    """User data (tensors, arrays, lists, nested tuples/dicts) as host arrays."""
    if isinstance(x, dict):
        return {k: _host_structure(v, what) for k, v in x.items()}
    if isinstance(x, tuple):
        vals = [_host_structure(v, what) for v in x]
        return type(x)(*vals) if st._is_namedtuple(x) else tuple(vals)
    if isinstance(x, list) and x and all(isinstance(v, (str, bytes)) for v in x):
        return st._strings(np.asarray(x, dtype=object))
    if isinstance(x, np.ndarray):
        x = x.copy()  # the dataset keeps the values it was given, as TF's does
    return st.to_host(x, what)


class TensorSlices(Dataset):
    def __init__(self, tensors):
        self._data = _host_structure(tensors, "from_tensor_slices")
        leaves = st.flatten(self._data)
        if not leaves:
            raise tl.errors.InvalidArgumentError("from_tensor_slices: needs at least one tensor")
        sizes = []
        for a in leaves:
            if a.ndim == 0:
                raise tl.errors.InvalidArgumentError(
                    "from_tensor_slices: cannot slice a scalar (rank-0) component; each component "
                    f"needs a first dimension. Got structure {st.describe(st.spec_of(self._data))}")
            sizes.append(a.shape[0])
        if len(set(sizes)) > 1:
            raise tl.errors.InvalidArgumentError(
                "from_tensor_slices: all components must have the same size in dimension 0; got sizes "
                f"{sizes} for structure {st.describe(st.spec_of(self._data))}")
        self._n = sizes[0]
        self._leaves = leaves

    def _gen(self):
        leaves, data = self._leaves, self._data
        if len(leaves) == 1 and not st.is_nested(data):
            a = leaves[0]
            for i in range(self._n):
                yield a[i, ...]
            return
        for i in range(self._n):
            yield st.pack_as(data, [a[i, ...] for a in leaves])

    def _spec(self):
        return st.map_structure(lambda a: st.leaf_spec(a[0, ...] if len(a) else np.zeros(a.shape[1:], a.dtype)),
                                self._data)

    def _card(self):
        return self._n


class FromTensors(Dataset):
    def __init__(self, tensors):
        self._data = _host_structure(tensors, "from_tensors")

    def _gen(self):
        yield self._data

    def _spec(self):
        return st.spec_of(self._data)

    def _card(self):
        return 1


class Range(Dataset):
    def __init__(self, *args, dtype=tl.int64):
        if not 1 <= len(args) <= 3:
            raise TypeError(f"range: expected 1 to 3 arguments (start, stop, step), got {len(args)}")
        r = range(*[int(a) for a in args])
        if r.step == 0:
            raise tl.errors.InvalidArgumentError("range: step must not be 0")
        self._r = r
        self._dtype = tl.as_dtype(dtype)

    def _gen(self):
        npd = self._dtype.as_numpy_dtype
        for i in self._r:
            yield np.asarray(i, dtype=npd)

    def _spec(self):
        return tl.TensorSpec([], self._dtype)

    def _card(self):
        return len(self._r)


def cpu_count():
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
