"""Transformations that combine datasets or nest them: zip, concatenate, interleave, window, sampling."""
import itertools

import numpy as np

import tensorlab as tl
from tensorlab.data import _structure as st
from tensorlab.data.dataset import Dataset, DatasetSpec, cpu_count
from tensorlab.data.transforms import INF, UNK, _int, _Unary, seed_from


class Concatenate(Dataset):
    def __init__(self, a, b):
        if not isinstance(b, Dataset):
            raise TypeError(f"concatenate: expected a tl.data.Dataset, got {type(b).__name__}")
        self._a, self._b = a, b
        sa, sb = a.element_spec, b.element_spec
        st.assert_same_structure(sa, sb, "concatenate")
        for x, y in zip(st.flatten(sa), st.flatten(sb)):
            if x.dtype != y.dtype or len(x.shape) != len(y.shape):
                raise TypeError(f"concatenate: incompatible element specs {st.describe(sa)} and {st.describe(sb)}; "
                                "dtypes and ranks must match")

    def _inputs(self):
        return [self._a, self._b]

    def _gen(self):
        yield from self._a._gen()
        yield from self._b._gen()

    def _spec(self):
        return st.map_structure(st.most_specific_common, self._a.element_spec, self._b.element_spec)

    def _card(self):
        a, b = self._a._card(), self._b._card()
        if INF in (a, b):
            return INF
        if UNK in (a, b):
            return UNK
        return a + b


class Zip(Dataset):
    def __init__(self, datasets):
        if isinstance(datasets, Dataset):
            datasets = (datasets,)
        if not isinstance(datasets, (tuple, list, dict)):
            raise TypeError(f"zip: expected a tuple or dict of datasets, got {type(datasets).__name__}")
        if isinstance(datasets, list):
            datasets = tuple(datasets)
        for d in st.flatten(datasets):
            if not isinstance(d, Dataset):
                raise TypeError(f"zip: every component must be a tl.data.Dataset, got {type(d).__name__}")
        self._structure = datasets
        self._ds = st.flatten(datasets)

    def _inputs(self):
        return list(self._ds)

    def _gen(self):
        gens = [d._gen() for d in self._ds]
        for parts in zip(*gens):
            yield st.pack_as(self._structure, list(parts))

    def _spec(self):
        return st.pack_as(self._structure, [d.element_spec for d in self._ds])

    def _card(self):
        cs = [d._card() for d in self._ds]
        finite = [c for c in cs if c >= 0]
        if finite:
            return min(finite) if UNK not in cs else UNK
        return UNK if UNK in cs else INF


class Interleave(_Unary):
    """TF's interleave: a cycle of ``cycle_length`` open inputs, ``block_length`` elements from each in turn."""

    def __init__(self, ds, fn, cycle_length, block_length, num_parallel_calls):
        super().__init__(ds)
        self._fn = fn
        if cycle_length is None or cycle_length == -1:
            cycle_length = cpu_count()
        self._cycle = _int("interleave", "cycle_length", cycle_length, 1)
        self._block = _int("interleave", "block_length", 1 if block_length is None else block_length, 1)
        self._parallel = num_parallel_calls is not None and _int("interleave", "num_parallel_calls",
                                                                 num_parallel_calls, -1) != 1

    def _open(self, e):
        with tl.device("cpu"):
            d = st.call_user(self._fn, e)
        if not isinstance(d, Dataset):
            raise TypeError(f"interleave/flat_map: map_func must return a tl.data.Dataset, got {type(d).__name__}")
        if self._parallel:  # each open input produces on its own thread (e.g. one file reader each)
            from tensorlab.data.parallel import _Background
            return iter(_Background(d._gen, 16))
        return d._gen()

    def _gen(self):
        src = self._in._gen()
        slots = []
        for e in src:
            slots.append(self._open(e))
            if len(slots) == self._cycle:
                break
        i = 0
        while slots:
            g = slots[i]
            done = False
            for _ in range(self._block):
                try:
                    yield next(g)
                except StopIteration:
                    done = True
                    break
            if done:
                nxt = next(src, None)
                if nxt is None:
                    del slots[i]
                    if not slots:
                        return
                    i %= len(slots)
                    continue
                slots[i] = self._open(nxt)  # visited on its next turn, as TF's cycle does
            i = (i + 1) % len(slots)

    def _spec(self):
        for e in self._in._gen():
            with tl.device("cpu"):
                d = st.call_user(self._fn, e)
            return d.element_spec
        raise tl.errors.InvalidArgumentError("interleave: cannot infer the element spec of an empty input")

    def _card(self):
        return UNK


class ListDataset(Dataset):
    """A dataset over a list of host elements (the contents of a window)."""

    def __init__(self, elements, spec):
        self._elements = elements
        self._spec_value = spec

    def _gen(self):
        return iter(self._elements)

    def _spec(self):
        return self._spec_value

    def _card(self):
        return len(self._elements)


class Window(_Unary):
    def __init__(self, ds, size, shift, stride, drop_remainder):
        super().__init__(ds)
        self._size = _int("window", "size", size, 1)
        self._shift = self._size if shift is None else _int("window", "shift", shift, 1)
        self._stride = _int("window", "stride", stride, 1)
        self._drop = bool(drop_remainder)

    def _gen(self):
        span = (self._size - 1) * self._stride + 1
        spec = self._in.element_spec
        buf = []
        src = self._in._gen()
        exhausted = False
        while True:
            while len(buf) < span and not exhausted:
                try:
                    buf.append(next(src))
                except StopIteration:
                    exhausted = True
            if not buf:
                return
            win = buf[:span:self._stride]
            if len(win) < self._size and self._drop:
                return
            cols = list(zip(*[st.flatten(e) for e in win]))
            yield st.pack_as(spec, [ListDataset(list(c), s) for c, s in zip(cols, st.flatten(spec))])
            if self._shift >= len(buf):
                extra = self._shift - len(buf)
                buf = []
                for _ in itertools.islice(src, extra):
                    pass
            else:
                del buf[:self._shift]

    def _spec(self):
        return st.map_structure(DatasetSpec, self._in.element_spec)

    def _card(self):
        n = self._in._card()
        if n in (INF, UNK):
            return n
        if self._drop:
            span = (self._size - 1) * self._stride + 1
            return 0 if n < span else (n - span) // self._shift + 1
        return -(-n // self._shift)


class SampleFrom(Dataset):
    def __init__(self, datasets, weights, seed, stop_on_empty):
        self._ds = list(datasets)
        k = len(self._ds)
        w = [1.0 / k] * k if weights is None else [float(x) for x in
                                                    (weights.numpy() if isinstance(weights, tl.Tensor) else weights)]
        if len(w) != k:
            raise tl.errors.InvalidArgumentError(f"sample_from_datasets: {len(w)} weights for {k} datasets")
        self._w = np.asarray(w, dtype=np.float64)
        self._seed = seed_from(seed)
        self._stop = stop_on_empty
        self._iteration = 0

    def _inputs(self):
        return self._ds

    def _gen(self):
        rng = np.random.default_rng([self._seed, self._iteration])
        self._iteration += 1
        gens = [d._gen() for d in self._ds]
        alive = np.ones(len(gens), bool)
        while alive.any():
            p = self._w * alive
            if p.sum() <= 0:
                return
            i = int(rng.choice(len(gens), p=p / p.sum()))
            try:
                yield next(gens[i])
            except StopIteration:
                if self._stop:
                    return
                alive[i] = False

    def _spec(self):
        return self._ds[0].element_spec

    def _card(self):
        return UNK


class ChooseFrom(Dataset):
    def __init__(self, datasets, choice_dataset, stop_on_empty):
        self._ds, self._choice, self._stop = list(datasets), choice_dataset, stop_on_empty

    def _inputs(self):
        return self._ds + [self._choice]

    def _gen(self):
        gens = [d._gen() for d in self._ds]
        for c in self._choice._gen():
            i = int(c)
            if not 0 <= i < len(gens):
                raise tl.errors.InvalidArgumentError(
                    f"choose_from_datasets: choice {i} is out of range for {len(gens)} datasets")
            try:
                yield next(gens[i])
            except StopIteration:
                if self._stop:
                    return

    def _spec(self):
        return self._ds[0].element_spec

    def _card(self):
        return UNK
