"""Turning what ``fit``/``evaluate``/``predict`` receive into batches of tensors.

Accepted: numpy arrays and tensors (also in lists/tuples/dicts), Python
generators, ``keras.utils.PyDataset``/``Sequence`` and any re-iterable batch
source such as ``tl.data.Dataset``. Array data is sliced on the host and each
batch converted once, at the edge; float arrays become ``floatx`` tensors.
"""
import math
import sys
import warnings

import numpy as np

import tensorlab as tl
from tensorlab.core import device as _device
from tensorlab.core.tensor import wrap as _wrap_tensor
from tensorlab.keras import _tree
from tensorlab.keras import backend as _backend


def unpack_x_y_sample_weight(data):
    """``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` -> ``(x, y, sample_weight)``."""
    if isinstance(data, tuple):
        if len(data) == 1:
            return data[0], None, None
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data
        raise ValueError(f"Data is expected as (x,), (x, y) or (x, y, sample_weight); got a tuple of {len(data)}")
    return data, None, None


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _host(a):
    """A host numpy array for an array-like leaf."""
    if isinstance(a, (tl.Tensor, tl.Variable)):
        return a.numpy()
    if isinstance(a, np.ndarray):
        return a
    return np.asarray(a)


def _cpu_target():
    """The current device when it is a CPU (batches there may share host memory), else None."""
    d = _device.current()
    return d if d.kind == "cpu" else None


def to_tensor(a, fresh=False):
    """Converts one batch leaf (numpy array, list, tensor) to a tensor; floats to floatx.

    ``fresh``: ``a`` is a new array nobody else holds (a gathered batch), so on the
    CPU the tensor may share its memory instead of copying it.
    """
    if isinstance(a, tl.Tensor) or a is None:
        return a
    if isinstance(a, tl.Variable):
        return a.read_value()
    if _is_distributed_value(a):
        return a  # a part per replica, from a distributed dataset: the strategy's step takes it
    arr = a if isinstance(a, np.ndarray) else np.asarray(a)
    if arr.dtype.kind == "f" and arr.dtype.name != _backend.floatx():
        arr = arr.astype(_backend.floatx())
        fresh = True
    elif arr.dtype.kind in "US":
        raise TypeError(f"fit/evaluate/predict: string data (dtype {arr.dtype}) is not supported; "
                        "encode it as numbers first")
    if fresh and arr.flags.c_contiguous and arr.dtype.kind in "fiub":
        dev = _cpu_target()
        if dev is not None:
            return _wrap_tensor(arr, dev)
    return tl.constant(arr)


def _is_distributed_value(a):
    values = sys.modules.get("tensorlab.distribute.values")
    return values is not None and isinstance(a, values.DistributedValues)


def distributed_source_strategy(x):
    """The strategy of a distributed dataset (``strategy.experimental_distribute_dataset``), else None."""
    input_lib = sys.modules.get("tensorlab.distribute.input_lib")
    if input_lib is None or not isinstance(x, (input_lib.DistributedDataset,
                                               input_lib.DistributedDatasetFromFunction)):
        return None
    return x._strategy


def _batch_leaf_to_tensor(a, dev):
    """A gathered batch leaf (fresh, already floatx) -> tensor; on a CPU ``dev``, zero-copy."""
    if dev is not None and a.flags.c_contiguous and a.dtype.kind in "fiub":
        return _wrap_tensor(a, dev)
    return to_tensor(a, True)


def _is_array_like(x):
    if x is None:
        return True
    if isinstance(x, (np.ndarray, tl.Tensor, tl.Variable)):
        return True
    if isinstance(x, dict):
        return all(_is_array_like(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        # a list of arrays (several inputs) or nested lists of numbers (one array)
        return all(isinstance(v, (np.ndarray, tl.Tensor, tl.Variable, dict)) for v in x) or _numeric_list(x)
    return False


def _numeric_list(x):
    if isinstance(x, (list, tuple)):
        return all(_numeric_list(v) for v in x)
    return isinstance(x, (int, float, bool, np.number))


class ArrayAdapter:
    """Batches of in-memory arrays; optional per-epoch shuffling."""

    def __init__(self, x, y=None, sample_weight=None, batch_size=32, shuffle=False, steps=None,
                 class_weight=None, what="fit"):
        self.x = _tree.map_structure(_host, x)
        self.y = None if y is None else _tree.map_structure(_host, y)
        self.sw = None if sample_weight is None else _tree.map_structure(_host, sample_weight)
        leaves = {"x": _tree.flatten(self.x), "y": _tree.flatten(self.y) if y is not None else [],
                  "sample_weight": _tree.flatten(self.sw) if sample_weight is not None else []}
        sizes = {k: sorted({len(a) if a.ndim else 1 for a in v}) for k, v in leaves.items() if v}
        flat = sorted({s for v in sizes.values() for s in v})
        if len(flat) > 1:
            detail = "; ".join(f"{k} sizes: {', '.join(map(str, v))}" for k, v in sizes.items())
            raise ValueError(f"{what}: data cardinality is ambiguous: {detail}. Make sure all arrays (x, y, "
                             "sample_weight) contain the same number of samples")
        self.n = flat[0] if flat else 0
        if class_weight is not None:
            self.sw = _apply_class_weight(self.y, self.sw, class_weight)
        self.batch_size = int(batch_size or 32)
        self.shuffle = shuffle
        self.num_batches = max(1, math.ceil(self.n / self.batch_size)) if self.n else 0
        if steps is not None:
            self.num_batches = min(self.num_batches, int(steps)) if self.n else int(steps)
        # Convert the dtype once, not per batch.
        self.x = _tree.map_structure(_as_float_x, self.x)
        self.y = None if self.y is None else _tree.map_structure(_as_float_x, self.y)
        self.sw = None if self.sw is None else _tree.map_structure(_as_float_x, self.sw)

    def _host_batches(self, order):
        """Yields each batch as fresh host arrays (x, y, sw), in the epoch's order."""
        bs, n = self.batch_size, self.n
        x, y, sw = self.x, self.y, self.sw
        for i in range(self.num_batches):
            if order is None:
                sl = slice(i * bs, min(n, (i + 1) * bs))

                def take(a, sl=sl):
                    return np.array(a[sl])  # a copy the batch tensor may own
            else:
                idx = order[i * bs:(i + 1) * bs]

                def take(a, idx=idx):
                    return a[idx]
            # a single array (the common case) directly, a structure of them through map_structure
            xb = take(x) if type(x) is np.ndarray else _tree.map_structure(take, x)
            yb = None if y is None else (take(y) if type(y) is np.ndarray else _tree.map_structure(take, y))
            swb = None if sw is None else (take(sw) if type(sw) is np.ndarray else _tree.map_structure(take, sw))
            yield xb, yb, swb

    def __iter__(self):
        bs, n = self.batch_size, self.n
        dev = _cpu_target()
        order = None
        if self.shuffle and self.shuffle != "batch":
            order = np.random.permutation(n)
        elif self.shuffle == "batch":
            # tf.keras' "batch" shuffle: the full batches in a random order, the partial
            # one last, and the rows of each batch shuffled among themselves.
            full = n // bs
            parts = [np.random.permutation(np.arange(b * bs, (b + 1) * bs)) for b in np.random.permutation(full)]
            if n % bs:
                parts.append(np.random.permutation(np.arange(full * bs, n)))
            order = np.concatenate(parts)
        host = self._host_batches(order)
        if self.num_batches > 1 and self._bytes_per_batch() >= _PREFETCH_MIN_BYTES:
            host = _prefetched(host)

        def conv(a):
            return _batch_leaf_to_tensor(a, dev)
        try:
            for xb, yb, swb in host:
                xb = conv(xb) if type(xb) is np.ndarray else _tree.map_structure(conv, xb)
                if yb is None:
                    yield (xb,)
                    continue
                yb = conv(yb) if type(yb) is np.ndarray else _tree.map_structure(conv, yb)
                if swb is None:
                    yield (xb, yb)
                else:
                    yield (xb, yb, conv(swb) if type(swb) is np.ndarray else _tree.map_structure(conv, swb))
        finally:
            host.close()

    def _bytes_per_batch(self):
        leaves = _tree.flatten([self.x, self.y, self.sw])
        return sum(a.nbytes // max(1, len(a)) for a in leaves if isinstance(a, np.ndarray) and a.ndim) \
            * self.batch_size

    def split(self, fraction):
        """Splits off the last ``fraction`` of the samples (before shuffling), like Keras."""
        cut = int(self.n * (1.0 - fraction))
        if cut <= 0 or cut >= self.n:
            raise ValueError(f"validation_split={fraction} leaves no training or no validation samples "
                             f"out of {self.n}")

        def head(a):
            return a[:cut]

        def tail(a):
            return a[cut:]
        val = (_tree.map_structure(tail, self.x), None if self.y is None else _tree.map_structure(tail, self.y),
               None if self.sw is None else _tree.map_structure(tail, self.sw))
        self.x = _tree.map_structure(head, self.x)
        self.y = None if self.y is None else _tree.map_structure(head, self.y)
        self.sw = None if self.sw is None else _tree.map_structure(head, self.sw)
        self.n = cut
        self.num_batches = max(1, math.ceil(cut / self.batch_size))
        return val


# Gathering a batch copies it out of the (uncached) dataset arrays: for batches of
# this size and up, a worker thread gathers the next batch while the current step
# runs, as tf.data's prefetch and PyTorch's DataLoader do. numpy releases the GIL
# while it copies, so the gather overlaps the step's kernels.
_PREFETCH_MIN_BYTES = 64 * 1024
_PREFETCH_DEPTH = 2


def _prefetched(gen):
    """``gen``'s items from a daemon thread, ``_PREFETCH_DEPTH`` ahead (tl.data's prefetch thread).

    Errors raised in the thread re-raise in the consumer. Closing the returned
    generator (the training loop stopped early) stops the thread and waits for it.
    """
    from tensorlab.data.parallel import _Background
    return iter(_Background(lambda: gen, _PREFETCH_DEPTH, name="tensorlab-batch-prefetch", join=True))


def _as_float_x(a):
    if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.dtype.name != _backend.floatx():
        return a.astype(_backend.floatx())
    return a


def _apply_class_weight(y, sw, class_weight):
    if y is None:
        raise ValueError("fit: class_weight needs targets y")
    if isinstance(y, (list, tuple, dict)):
        raise ValueError("fit: class_weight is only supported for models with a single output; use "
                         "sample_weight for several outputs")
    labels = y
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    labels = labels.reshape(len(labels), -1)[:, 0].astype(np.int64)
    maxc = max(class_weight) if class_weight else -1
    table = np.ones(max(int(maxc), int(labels.max(initial=0))) + 1, dtype=np.float32)
    for k, v in class_weight.items():
        table[int(k)] = v
    w = table[labels]
    return w if sw is None else sw * w


class IterableAdapter:
    """Batches from a generator (consumed once) or a re-iterable source (a dataset, a PyDataset)."""

    def __init__(self, source, steps=None, what="fit"):
        self.source = source
        self.steps = None if steps is None else int(steps)
        self.is_generator = hasattr(source, "__next__")
        self._it = None
        self.num_batches = self.steps
        if self.num_batches is None and hasattr(source, "__len__") and not self.is_generator:
            try:
                self.num_batches = len(source)
            except TypeError:
                self.num_batches = None

    def _iterator(self):
        src = self.source
        if self.is_generator:
            return src
        if hasattr(src, "__getitem__") and hasattr(src, "__len__") and not hasattr(src, "element_spec"):
            return (src[i] for i in range(len(src)))
        return iter(src)

    def __iter__(self):
        it = self.source if self.is_generator else self._iterator()
        count = 0
        while self.steps is None or count < self.steps:
            try:
                batch = next(it)
            except StopIteration:
                if self.steps is not None and count and not self.is_generator:
                    it = self._iterator()  # a finite source re-read to fill steps_per_epoch
                    continue
                break
            count += 1
            yield _tree.map_structure(to_tensor, tuple(batch) if isinstance(batch, (tuple, list)) and
                                      _looks_like_xy(batch) else (batch,))
        if hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()


class EpochIterator:
    """The batches of each epoch of ``fit``.

    Without ``steps_per_epoch``: all of the adapter's batches, every epoch. With it:
    that many batches per epoch from one iterator kept across epochs, so each epoch
    continues where the previous one stopped (Keras 3). When the input runs out, a
    warning says so, the epoch ends there, and the next epoch starts the input over
    (a generator, used up, then yields nothing and training stops).
    """

    def __init__(self, adapter, steps=None):
        self.adapter = adapter
        self.steps = None if steps is None else int(steps)
        if self.steps is not None and self.steps < 1:
            raise ValueError(f"fit: steps_per_epoch must be a positive integer, got {steps}")
        self._it = None
        self.ran_out = False

    def epoch(self):
        """An iterator over the batches of the next epoch."""
        if self.steps is None:
            return iter(self.adapter)  # directly: no generator in between, per batch
        return self._continued_epoch()

    def _continued_epoch(self):
        if self._it is None:
            self._it = iter(self.adapter)
        for _ in range(self.steps):
            try:
                batch = next(self._it)
            except StopIteration:
                self._it = None
                self.ran_out = True
                warnings.warn("fit: the input ran out of data; interrupting the epoch. Make sure it can "
                              "produce steps_per_epoch * epochs batches (e.g. with Dataset.repeat())",
                              stacklevel=3)
                return
            self.ran_out = False
            yield batch

    def close(self):
        """Stops an iterator kept open across epochs (and its prefetch thread)."""
        if self._it is not None and hasattr(self._it, "close"):
            self._it.close()
        self._it = None


def _looks_like_xy(batch):
    return isinstance(batch, tuple) and 1 <= len(batch) <= 3


def get_adapter(x, y=None, sample_weight=None, batch_size=None, shuffle=False, steps=None, class_weight=None,
                what="fit"):
    if _is_array_like(x):
        if x is None:
            raise ValueError(f"{what}: x is required")
        return ArrayAdapter(x, y, sample_weight, batch_size or 32, shuffle, steps, class_weight, what)
    if y is not None:
        raise ValueError(f"{what}: y must not be given when x is a generator or dataset (it yields (x, y) "
                         f"pairs itself); got x of type {type(x).__name__}")
    if sample_weight is not None:
        raise ValueError(f"{what}: sample_weight must not be given when x is a generator or dataset")
    if not (hasattr(x, "__iter__") or hasattr(x, "__getitem__")):
        raise ValueError(f"{what}: unsupported data type {type(x).__name__}; give numpy arrays, tensors, a "
                         "dict/list of them, a generator, a keras.utils.PyDataset or a tl.data.Dataset")
    return IterableAdapter(x, steps, what)
