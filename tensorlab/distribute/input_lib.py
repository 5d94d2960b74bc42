"""Distributed input: global batches split across replicas, datasets sharded across workers.

``experimental_distribute_dataset(ds)`` takes a dataset batched at the global
batch size. With several workers each one keeps its share according to the
dataset's ``options().experimental_distribute.auto_shard_policy``:

- ``DATA`` (and ``AUTO`` when there is no file source, and ``HINT``): every
  worker reads the whole dataset and keeps its slice of each global batch, so
  N workers see exactly the batches one process would.
- ``FILE`` (and ``AUTO`` over a file reader or ``list_files``): each worker
  reads only its files (``files[worker::num_workers]``), rebatched to the
  per-worker batch size.
- ``OFF``: every worker reads everything, rebatched to the per-worker batch size.

Then a worker's batch is split across its replicas: ``b`` rows over ``n``
replicas give the first ``b % n`` replicas one row more (a final batch of 1
row over 2 replicas is ``[1, 0]``, as in TF), each part placed on its
replica's device. Workers keep stepping together until all are out of data
(a worker that runs out first feeds empty batches), so collectives never wait
for a worker that has stopped.
"""
import copy

import tensorlab as tl
from tensorlab.core import autodiff as _ad
from tensorlab.data.dataset import AutoShardPolicy
from tensorlab.distribute import values as _values


class InputOptions:
    """Options of distributed datasets (``tf.distribute.InputOptions``); placement is always per replica."""

    def __init__(self, experimental_fetch_to_device=None, experimental_replication_mode=None,
                 experimental_place_dataset_on_device=False, experimental_per_replica_buffer_size=1):
        self.experimental_fetch_to_device = experimental_fetch_to_device
        self.experimental_replication_mode = experimental_replication_mode
        self.experimental_place_dataset_on_device = experimental_place_dataset_on_device
        self.experimental_per_replica_buffer_size = experimental_per_replica_buffer_size


class InputContext:
    """What ``distribute_datasets_from_function``'s function learns about its input pipeline."""

    def __init__(self, num_input_pipelines=1, input_pipeline_id=0, num_replicas_in_sync=1):
        self.num_input_pipelines = num_input_pipelines
        self.input_pipeline_id = input_pipeline_id
        self.num_replicas_in_sync = num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size):
        """``global_batch_size // num_replicas_in_sync``; it must divide evenly."""
        if global_batch_size % self.num_replicas_in_sync:
            raise ValueError(f"get_per_replica_batch_size: the global batch size {global_batch_size} is not "
                             f"divisible by num_replicas_in_sync={self.num_replicas_in_sync}")
        return global_batch_size // self.num_replicas_in_sync

    def __repr__(self):
        return (f"InputContext(num_input_pipelines={self.num_input_pipelines}, input_pipeline_id="
                f"{self.input_pipeline_id}, num_replicas_in_sync={self.num_replicas_in_sync})")


class ValueContext:
    """What ``experimental_distribute_values_from_function``'s function learns about its replica."""

    def __init__(self, replica_id_in_sync_group=0, num_replicas_in_sync=1):
        self.replica_id_in_sync_group = replica_id_in_sync_group
        self.num_replicas_in_sync = num_replicas_in_sync


def split_sizes(b, n):
    """Rows per part when ``b`` rows are split over ``n`` parts (the first ``b % n`` get one more)."""
    base, extra = divmod(int(b), n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def _rows(struct):
    for leaf in _ad._flatten(struct)[0]:
        if _batched(leaf):
            return int(leaf.shape[0])
    raise ValueError("distributed dataset: an element has no batch dimension to split across replicas "
                     "(batch the dataset at the global batch size first)")


def _batched(leaf):
    shape = getattr(leaf, "shape", None)  # tensors, and host arrays (e.g. of strings)
    return shape is not None and len(shape) > 0


def _slice(struct, lo, hi, dev):
    leaves, rebuild = _ad._flatten(struct)
    out = []
    for leaf in leaves:
        if _batched(leaf):
            part = leaf[lo:hi]
            if tl.is_tensor(part):
                part = _values.to_device(part, dev)
            out.append(part)
        else:
            out.append(leaf)
    return rebuild(out)


def split_batch(struct, strategy, offset_parts=0, total_parts=None):
    """This worker's replicas' parts of a batch (the parts ``offset_parts..`` of ``total_parts``)."""
    ext = strategy.extended
    n = ext._num_local
    total = total_parts or n
    sizes = split_sizes(_rows(struct), total)
    starts = [sum(sizes[:i]) for i in range(total + 1)]
    return [_slice(struct, starts[offset_parts + i], starts[offset_parts + i + 1], ext._devices[i])
            for i in range(n)]


def _leaf_source(ds):
    node = ds
    while True:
        ins = node._inputs()
        if not ins:
            return node
        node = ins[0]


def _shard_files(ds, index, num):
    """A copy of the chain above ``ds``'s source whose file source keeps every ``num``-th file."""
    ins = ds._inputs()
    if not ins:
        files = getattr(ds, "_files", None)
        if files is not None:
            if len(files) < num:
                raise ValueError(f"AutoShardPolicy.FILE: {len(files)} file(s) cannot be sharded across {num} "
                                 "workers; use AutoShardPolicy.DATA")
            c = copy.copy(ds)
            c._files = list(files)[index::num]
            c._cached_spec = None
            return c
        if _is_filename_source(ds):
            return ds.shard(num, index)
        return None
    inner = _shard_files(ins[0], index, num)
    if inner is None:
        return None
    c = copy.copy(ds)
    for attr in ("_in", "_input", "_ds"):
        if getattr(c, attr, None) is ins[0]:
            setattr(c, attr, inner)
            break
    else:
        return None
    return c


def _is_filename_source(ds):
    return type(ds).__name__ in ("ListFiles", "_ListFiles") or getattr(ds, "_is_file_list", False)


def _policy(ds):
    try:
        return ds.options().experimental_distribute.auto_shard_policy
    except AttributeError:
        return AutoShardPolicy.AUTO


class DistributedDataset:
    """An iterable of per-replica batches (``tf.distribute.DistributedDataset``)."""

    def __init__(self, strategy, dataset, options=None):
        self._strategy = strategy
        self._options = options
        ext = strategy.extended
        self._num_workers = ext._num_workers
        self._dataset = dataset
        self._mode = "split"
        if self._num_workers > 1:
            self._dataset, self._mode = self._shard(dataset)

    def _shard(self, ds):
        ext = self._strategy.extended
        w, nw = ext._worker_index, ext._num_workers
        policy = _policy(ds)
        if policy in (AutoShardPolicy.FILE, AutoShardPolicy.AUTO):
            sharded = _shard_files(ds, w, nw)
            if sharded is not None:
                return self._rebatched(sharded), "local"
            if policy == AutoShardPolicy.FILE:
                raise ValueError("experimental_distribute_dataset: AutoShardPolicy.FILE needs a dataset read "
                                 "from files (a file reader or list_files); use AutoShardPolicy.DATA")
        if policy == AutoShardPolicy.OFF:
            return self._rebatched(ds), "local"
        return ds, "global"

    def _rebatched(self, ds):
        spec = ds.element_spec
        leaf = _ad._flatten(spec)[0][0]
        batch = leaf.shape[0] if leaf.shape.rank else None
        node = ds
        while batch is None and node is not None:
            batch = getattr(node, "_size", None) if type(node).__name__.endswith("Batch") else None
            ins = node._inputs()
            node = ins[0] if ins else None
        if batch is None:
            raise ValueError("experimental_distribute_dataset: cannot tell the global batch size of the dataset "
                             "to rebatch it per worker; end it with .batch(global_batch_size)")
        return ds.rebatch(max(1, int(batch) // self._num_workers))

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        return DistributedIterator(self)


class DistributedIterator:
    """Yields one structure of ``PerReplica`` values per step."""

    def __init__(self, dds):
        self._dds = dds
        self._it = iter(dds._dataset)
        self._template = None

    def __iter__(self):
        return self

    def _next_local(self):
        try:
            e = next(self._it)
            self._template = e
            return e
        except StopIteration:
            return None

    def __next__(self):
        s = self._dds._strategy
        ext = s.extended
        e = self._next_local()
        if not ext._any_worker(e is not None):
            raise StopIteration
        if e is None:
            e = _slice(self._template_or_fail(), 0, 0, ext._devices[0])
        if self._dds._mode == "global":
            parts = split_batch(e, s, ext._worker_index * ext._num_local, ext._num_replicas_in_sync)
        else:
            parts = split_batch(e, s)
        return _values.regroup(parts, wrap_single=s.num_replicas_in_sync > 1)

    def _template_or_fail(self):
        if self._template is None:
            raise tl.errors.OutOfRangeError("distributed dataset: this worker's shard is empty while other "
                                            "workers have data; give every worker at least one batch")
        return self._template

    def get_next(self):
        try:
            return next(self)
        except StopIteration:
            raise tl.errors.OutOfRangeError("End of sequence") from None

    def get_next_as_optional(self):
        try:
            return _Optional(next(self))
        except StopIteration:
            return _Optional(None)

    @property
    def element_spec(self):
        return self._dds.element_spec


class _Optional:
    def __init__(self, value):
        self._value = value

    def has_value(self):
        return tl.constant(self._value is not None)

    def get_value(self):
        if self._value is None:
            raise tl.errors.InvalidArgumentError("get_value: the optional has no value (end of input)")
        return self._value


class DistributedDatasetFromFunction:
    """Per-worker datasets from a function; each local replica takes successive batches."""

    def __init__(self, strategy, dataset_fn, options=None):
        ext = strategy.extended
        self._strategy = strategy
        ctx = InputContext(ext._num_workers, ext._worker_index, strategy.num_replicas_in_sync)
        self._dataset = dataset_fn(ctx)

    @property
    def element_spec(self):
        return self._dataset.element_spec

    def __iter__(self):
        return _FromFunctionIterator(self)


class _FromFunctionIterator(DistributedIterator):
    def __init__(self, dds):
        self._dds = dds
        self._it = iter(dds._dataset)
        self._template = None

    def __next__(self):
        s = self._dds._strategy
        ext = s.extended
        elems = [self._next_local() for _ in range(ext._num_local)]
        if not ext._any_worker(elems[0] is not None):
            raise StopIteration
        parts = []
        for i, e in enumerate(elems):
            src = e if e is not None else _slice(self._template_or_fail(), 0, 0, ext._devices[0])
            parts.append(_slice(src, 0, _rows(src), ext._devices[i]))
        return _values.regroup(parts, wrap_single=s.num_replicas_in_sync > 1)
