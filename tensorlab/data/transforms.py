"""The sequential transformations of ``tl.data.Dataset`` (one node class each)."""
import itertools

import numpy as np

import tensorlab as tl
from tensorlab.data import _structure as st
from tensorlab.data.dataset import INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, Dataset

INF, UNK = INFINITE_CARDINALITY, UNKNOWN_CARDINALITY


def _int(name, what, v, minimum=None):
    if isinstance(v, (tl.Tensor, tl.Variable)):
        v = v.numpy()
    try:
        i = int(v)
    except (TypeError, ValueError):
        raise TypeError(f"{name}: {what} must be an integer, got {v!r}") from None
    if minimum is not None and i < minimum:
        raise tl.errors.InvalidArgumentError(f"{name}: {what} must be >= {minimum}, got {i}")
    return i


class _Unary(Dataset):
    def __init__(self, input_dataset):
        if not isinstance(input_dataset, Dataset):
            raise TypeError(f"{type(self).__name__}: expected a tl.data.Dataset, got {type(input_dataset).__name__}")
        self._in = input_dataset

    def _inputs(self):
        return [self._in]

    def _spec(self):
        return self._in.element_spec

    def _card(self):
        return self._in._card()


class WithOptions(_Unary):
    def __init__(self, ds, options):
        super().__init__(ds)
        self._options = ds.options().merge(options)

    def _gen(self):
        return self._in._gen()


# ----------------------------------------------------------------- map / filter
def trace_spec(fn, spec, what):
    """The output spec of ``fn`` run on symbolic tensors, or None when it needs data."""
    leaves = st.flatten(spec)
    if any(not isinstance(s, tl.TensorSpec) or st.is_string(s.dtype) for s in leaves):
        return None
    args = st.pack_as(spec, [tl.SymbolicTensor(s.shape, s.dtype) for s in leaves])
    try:
        out = fn(*args) if isinstance(args, tuple) and not st._is_namedtuple(args) else fn(args)
    except Exception:
        return None

    def leaf(v):
        if isinstance(v, tl.SymbolicTensor):
            return tl.TensorSpec(v.shape, v.dtype)
        raise TypeError

    try:
        return st.map_structure(leaf, out)
    except Exception:
        return None


SKIPPED = object()  # what a map or filter call gives for an element dropped by ignore_errors


class Map(_Unary):
    _skip = None  # set on copies made by ignore_errors: called with the error of a dropped element

    def __init__(self, ds, fn):
        super().__init__(ds)
        if not callable(fn):
            raise TypeError(f"map: map_func must be callable, got {type(fn).__name__}")
        self._fn = fn

    def _apply(self, e):
        with tl.device("cpu"):
            return st.element_from_user(st.call_user(self._fn, e), "map")

    def _apply_or_skip(self, e):
        try:
            return self._apply(e)
        except Exception as err:
            self._skip(err)
            return SKIPPED

    def _gen(self):
        apply = self._apply if self._skip is None else self._apply_or_skip
        for e in self._in._gen():
            out = apply(e)
            if out is not SKIPPED:
                yield out

    def _spec(self):
        try:
            spec = trace_spec(self._fn, self._in.element_spec, "map")
        except Exception:
            spec = None
        return spec if spec is not None else Dataset._spec(self)


def _truth(v, what):
    if isinstance(v, (tl.Tensor, tl.Variable)):
        if v.shape.num_elements() != 1 or not v.dtype.is_bool:
            raise tl.errors.InvalidArgumentError(
                f"{what}: the predicate must return a scalar bool tensor, got shape {list(v.shape)} "
                f"dtype {v.dtype.name}")
        return bool(v.numpy())
    return bool(v)


class Filter(_Unary):
    _skip = None  # as Map's

    def __init__(self, ds, predicate):
        super().__init__(ds)
        self._pred = predicate

    def _keep(self, e):
        with tl.device("cpu"):
            return _truth(st.call_user(self._pred, e), "filter")

    def _gen(self):
        for e in self._in._gen():
            if self._skip is None:
                keep = self._keep(e)
            else:
                try:
                    keep = self._keep(e)
                except Exception as err:
                    self._skip(err)
                    keep = False
            if keep:
                yield e

    def _card(self):
        n = self._in._card()
        return INF if n == INF else UNK


class TakeWhile(Filter):
    def _gen(self):
        for e in self._in._gen():
            with tl.device("cpu"):
                if not _truth(st.call_user(self._pred, e), "take_while"):
                    return
            yield e

    def _card(self):
        return UNK


# ----------------------------------------------------------------- batching
def stack(elements, what="batch"):
    """Stacks host elements component-wise (TF's error for differing shapes)."""
    first = elements[0]
    cols = list(zip(*[st.flatten(e) for e in elements]))
    out = []
    for c, col in enumerate(cols):
        s0 = col[0].shape
        for j, a in enumerate(col):
            if a.shape != s0:
                raise tl.errors.InvalidArgumentError(
                    f"{what}: Cannot batch tensors with different shapes in component {c}. First element had "
                    f"shape {list(s0)} and element {j} had shape {list(a.shape)}; use padded_batch, or map "
                    "the elements to one shape first")
        out.append(np.stack(col))
    return st.pack_as(first, out)


def _batched_spec(spec, batch_dim):
    return st.map_structure(lambda s: tl.TensorSpec((batch_dim,) + tuple(s.shape), s.dtype), spec)


def _batch_card(n, size, drop):
    if n in (INF, UNK):
        return n
    return n // size if drop else -(-n // size)


class Batch(_Unary):
    def __init__(self, ds, batch_size, drop_remainder):
        super().__init__(ds)
        self._size = _int("batch", "batch_size", batch_size, 1)
        self._drop = bool(drop_remainder)

    def _groups(self):
        buf = []
        size = self._size
        for e in self._in._gen():
            buf.append(e)
            if len(buf) == size:
                yield buf
                buf = []
        if buf and not self._drop:
            yield buf

    def _gen(self):
        for group in self._groups():
            yield stack(group)

    def _spec(self):
        return _batched_spec(self._in.element_spec, self._size if self._drop else None)

    def _card(self):
        return _batch_card(self._in._card(), self._size, self._drop)


class PaddedBatch(Batch):
    def __init__(self, ds, batch_size, padded_shapes, padding_values, drop_remainder):
        super().__init__(ds, batch_size, drop_remainder)
        spec = ds.element_spec
        leaves = st.flatten(spec)
        if padded_shapes is None:
            shapes = [tuple(None for _ in s.shape) for s in leaves]
        else:
            shapes = [tuple(None if d is None or (isinstance(d, int) and d < 0) else int(d) for d in
                            (list(p) if not isinstance(p, (tl.Tensor,)) else p.numpy().tolist()))
                      for p in _flatten_like(spec, padded_shapes)]
        for s, p in zip(leaves, shapes):
            if len(p) != len(s.shape):
                raise tl.errors.InvalidArgumentError(
                    f"padded_batch: padded shape {list(p)} has rank {len(p)} but the component has shape "
                    f"{list(s.shape)}")
        if padding_values is None:
            values = [b"" if st.is_string(s.dtype) else 0 for s in leaves]
        else:
            values = _flatten_like(spec, padding_values)
        self._shapes, self._values = shapes, [st.to_host(v) for v in values]

    def _gen(self):
        for group in self._groups():
            cols = list(zip(*[st.flatten(e) for e in group]))
            out = []
            for c, (col, pshape, pv) in enumerate(zip(cols, self._shapes, self._values)):
                longest = tuple(max(a.shape[i] for a in col) for i in range(col[0].ndim))
                target = tuple(longest[i] if d is None else d for i, d in enumerate(pshape))
                for a in col:
                    if any(x > t for x, t in zip(a.shape, target)):
                        raise tl.errors.InvalidArgumentError(
                            f"padded_batch: component {c} has shape {list(a.shape)}, larger than the padded "
                            f"shape {list(target)}")
                res = np.empty((len(col),) + target, dtype=col[0].dtype)
                res[...] = pv.astype(col[0].dtype) if col[0].dtype != object else pv
                for j, a in enumerate(col):
                    res[(j,) + tuple(slice(0, x) for x in a.shape)] = a
                out.append(res)
            yield st.pack_as(group[0], out)

    def _spec(self):
        leaves = st.flatten(self._in.element_spec)
        b = self._size if self._drop else None
        return st.pack_as(self._in.element_spec, [
            tl.TensorSpec((b,) + p, s.dtype) for s, p in zip(leaves, self._shapes)])


def _flatten_like(spec, value):
    """Flattens ``value`` given per component of ``spec`` (a shape per leaf)."""
    if isinstance(spec, dict):
        return [x for k in sorted(spec) for x in _flatten_like(spec[k], value[k])]
    if isinstance(spec, tuple):
        return [x for s, v in zip(spec, value) for x in _flatten_like(s, v)]
    return [value]


class Unbatch(_Unary):
    def _gen(self):
        for e in self._in._gen():
            leaves = st.flatten(e)
            n = {a.shape[0] if a.ndim else None for a in leaves}
            if None in n:
                raise tl.errors.InvalidArgumentError("unbatch: cannot unbatch a scalar component (rank 0)")
            if len(n) > 1:
                raise tl.errors.InvalidArgumentError(
                    f"unbatch: all components must have the same first dimension, got {sorted(n)}")
            for i in range(n.pop()):
                yield st.pack_as(e, [a[i, ...] for a in leaves])

    def _spec(self):
        return st.map_structure(lambda s: tl.TensorSpec(s.shape[1:], s.dtype), self._in.element_spec)

    def _card(self):
        n = self._in._card()
        return INF if n == INF else UNK


class Rebatch(_Unary):
    def __init__(self, ds, batch_size, drop_remainder):
        super().__init__(ds)
        sizes = list(batch_size) if isinstance(batch_size, (list, tuple)) else [batch_size]
        self._sizes = [_int("rebatch", "batch_size", s, 1) for s in sizes]
        self._drop = bool(drop_remainder)

    def _gen(self):
        sizes = itertools.cycle(self._sizes)
        want = next(sizes)
        buf = []
        for e in Unbatch(self._in)._gen():
            buf.append(e)
            if len(buf) == want:
                yield stack(buf, "rebatch")
                buf, want = [], next(sizes)
        if buf and not self._drop:
            yield stack(buf, "rebatch")

    def _spec(self):
        fixed = self._drop and len(set(self._sizes)) == 1
        return st.map_structure(lambda s: tl.TensorSpec((self._sizes[0] if fixed else None,) + tuple(s.shape[1:]),
                                                        s.dtype), self._in.element_spec)

    def _card(self):
        n = self._in._card()
        return INF if n == INF else UNK


# ----------------------------------------------------------------- order
def seed_from(seed):
    """A concrete seed: the given one, else one drawn from tl.random (so tl.random.set_seed fixes it)."""
    if seed is not None:
        return _int("shuffle", "seed", seed)
    with tl.device("cpu"):
        return int(tl.random.uniform([], maxval=2 ** 31 - 1, dtype=tl.int64).numpy())


class Shuffle(_Unary):
    def __init__(self, ds, buffer_size, seed, reshuffle_each_iteration):
        super().__init__(ds)
        self._size = _int("shuffle", "buffer_size", buffer_size, 1)
        self._seed = seed_from(seed)
        self._reshuffle = bool(reshuffle_each_iteration)
        self._iteration = 0

    def _gen(self):
        it = self._iteration if self._reshuffle else 0
        if self._reshuffle:
            self._iteration += 1
        rng = np.random.default_rng([self._seed, it])
        buf = []
        size = self._size
        src = self._in._gen()
        for e in src:
            buf.append(e)
            if len(buf) == size:
                break
        # Draw indices in blocks: one numpy call per 1024 outputs, not per element.
        block = []
        for e in src:
            if not block:
                block = (rng.random(1024) * size).astype(np.int64).tolist()[::-1]
            i = block.pop()
            out = buf[i]
            buf[i] = e
            yield out
        while buf:
            i = int(rng.integers(len(buf)))
            buf[i], buf[-1] = buf[-1], buf[i]
            yield buf.pop()


class Repeat(_Unary):
    def __init__(self, ds, count):
        super().__init__(ds)
        self._count = -1 if count is None else _int("repeat", "count", count, -1)

    def _gen(self):
        n = 0
        while self._count < 0 or n < self._count:
            empty = True
            for e in self._in._gen():
                empty = False
                yield e
            if empty:
                return
            n += 1

    def _card(self):
        n = self._in._card()
        if self._count < 0:
            return 0 if n == 0 else (INF if n != UNK else UNK)
        if n in (INF, UNK):
            return 0 if self._count == 0 else n
        return n * self._count


class Take(_Unary):
    def __init__(self, ds, count):
        super().__init__(ds)
        self._count = _int("take", "count", count, -1)

    def _gen(self):
        if self._count < 0:
            yield from self._in._gen()
            return
        if self._count == 0:
            return
        for i, e in enumerate(self._in._gen(), 1):
            yield e
            if i >= self._count:
                return

    def _card(self):
        n = self._in._card()
        if self._count < 0:
            return n
        if n == INF:
            return self._count
        if n == UNK:
            return UNK
        return min(n, self._count)


class Skip(_Unary):
    def __init__(self, ds, count):
        super().__init__(ds)
        self._count = _int("skip", "count", count, -1)

    def _gen(self):
        if self._count < 0:
            for _ in self._in._gen():
                pass
            return
        yield from itertools.islice(self._in._gen(), self._count, None)

    def _card(self):
        n = self._in._card()
        if n in (INF, UNK):
            return n
        return 0 if self._count < 0 else max(0, n - self._count)


class Shard(_Unary):
    def __init__(self, ds, num_shards, index):
        super().__init__(ds)
        self._num = _int("shard", "num_shards", num_shards, 1)
        self._index = _int("shard", "index", index, 0)
        if self._index >= self._num:
            raise tl.errors.InvalidArgumentError(
                f"shard: index {self._index} is out of range for num_shards={self._num} (valid: 0..{self._num - 1})")

    def _gen(self):
        return itertools.islice(self._in._gen(), self._index, None, self._num)

    def _card(self):
        n = self._in._card()
        if n in (INF, UNK):
            return n
        return n // self._num + (1 if n % self._num > self._index else 0)


class Enumerate(_Unary):
    def __init__(self, ds, start):
        super().__init__(ds)
        self._start = _int("enumerate", "start", start)

    def _gen(self):
        for i, e in enumerate(self._in._gen(), self._start):
            yield (np.asarray(i, dtype=np.int64), e)

    def _spec(self):
        return (tl.TensorSpec([], tl.int64), self._in.element_spec)


class Unique(_Unary):
    def _gen(self):
        seen = set()
        for e in self._in._gen():
            if st.is_nested(e) or e.ndim != 0:
                raise tl.errors.InvalidArgumentError("unique: only datasets of scalar elements are supported")
            k = e.item()
            if k not in seen:
                seen.add(k)
                yield e

    def _card(self):
        return UNK


class AssertCardinality(_Unary):
    def __init__(self, ds, expected):
        super().__init__(ds)
        self._n = _int("assert_cardinality", "expected_cardinality", expected)

    def _gen(self):
        n = 0
        for e in self._in._gen():
            n += 1
            if self._n >= 0 and n > self._n:
                raise tl.errors.FailedPreconditionError(
                    f"assert_cardinality: input dataset was expected to contain {self._n} elements but contained "
                    "at least one more")
            yield e
        if self._n >= 0 and n < self._n or self._n == INF:
            raise tl.errors.FailedPreconditionError(
                f"assert_cardinality: input dataset was expected to contain {self._n} elements but contained "
                f"only {n}")

    def _card(self):
        return self._n


# Re-exported so dataset.py finds every node class in this module.
from tensorlab.data.combine import (ChooseFrom, Concatenate, Interleave, ListDataset, SampleFrom,  # noqa: E402,F401
                                    Window, Zip)
