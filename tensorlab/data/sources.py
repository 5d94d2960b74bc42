"""Dataset sources fed by Python code or the file system: ``from_generator``, ``list_files``."""
import glob

import numpy as np

import tensorlab as tl
from tensorlab.data import _structure as st
from tensorlab.data.dataset import UNKNOWN_CARDINALITY, Dataset, TensorSlices
from tensorlab.data.transforms import seed_from


def _signature(output_types, output_shapes, output_signature):
    if output_signature is not None:
        if output_types is not None or output_shapes is not None:
            raise TypeError("from_generator: give output_signature, or output_types (+ output_shapes), not both")
        for s in st.flatten(output_signature):
            if not isinstance(s, tl.TensorSpec):
                raise TypeError(f"from_generator: output_signature must hold tl.TensorSpec objects, got "
                                f"{type(s).__name__}")
        return output_signature
    if output_types is None:
        raise TypeError("from_generator: output_signature (or output_types) is required")
    types = st.flatten(output_types) if st.is_nested(output_types) else [output_types]
    if output_shapes is None:
        shapes = [None] * len(types)
    elif st.is_nested(output_types):
        from tensorlab.data.transforms import _flatten_like
        shapes = _flatten_like(output_types, output_shapes)
    else:
        shapes = [output_shapes]
    specs = []
    for d, s in zip(types, shapes):
        if s is None:
            raise TypeError("from_generator: output_shapes is needed with output_types (or use output_signature)")
        specs.append(tl.TensorSpec(s, st.as_dtype(d)))
    return st.pack_as(output_types, specs) if st.is_nested(output_types) else specs[0]


class FromGenerator(Dataset):
    def __init__(self, generator, output_types, output_shapes, args, output_signature):
        if not callable(generator):
            raise TypeError(f"from_generator: generator must be a callable returning an iterator, got "
                            f"{type(generator).__name__}")
        self._generator = generator
        self._args = () if args is None else tuple(args)
        self._sig = _signature(output_types, output_shapes, output_signature)
        self._leaf_specs = st.flatten(self._sig)

    def _convert(self, value, i):
        sig = self._sig
        if st.is_nested(sig):
            if isinstance(sig, tuple) and isinstance(value, list):
                value = tuple(value)
            try:
                st.assert_same_structure(sig, value, "from_generator")
            except TypeError:
                raise TypeError(f"from_generator: element {i} does not match the output signature "
                                f"{st.describe(sig)}; got {st.describe(value)}") from None
            leaves = st.flatten(value)
        else:
            leaves = [value]
        out = []
        for j, (v, spec) in enumerate(zip(leaves, self._leaf_specs)):
            if st.is_string(spec.dtype):
                a = st.to_host(v, "from_generator")
                if a.dtype != object:
                    raise TypeError(f"from_generator: element {i}, component {j}: expected strings, got "
                                    f"dtype {a.dtype}")
            else:
                try:
                    a = np.asarray(v.numpy() if isinstance(v, (tl.Tensor, tl.Variable)) else v,
                                   dtype=spec.dtype.as_numpy_dtype)
                except (TypeError, ValueError) as e:
                    raise TypeError(f"from_generator: element {i}, component {j}: cannot convert "
                                    f"{type(v).__name__} to {spec.dtype.name}: {e}") from None
            if not spec.shape.is_compatible_with(a.shape):
                raise tl.errors.InvalidArgumentError(
                    f"from_generator: `generator` yielded an element of shape {list(a.shape)} where an element "
                    f"of shape {list(spec.shape)} was expected (element {i}, component {j})")
            out.append(a)
        return st.pack_as(sig, out) if st.is_nested(sig) else out[0]

    def _gen(self):
        for i, v in enumerate(self._generator(*self._args)):
            yield self._convert(v, i)

    def _spec(self):
        return self._sig

    def _card(self):
        return UNKNOWN_CARDINALITY


def list_files(file_pattern, shuffle=None, seed=None):
    if isinstance(file_pattern, Dataset):
        pats = [e.item() if e.ndim == 0 else e for e in file_pattern._gen()]
    elif isinstance(file_pattern, (str, bytes)):
        pats = [file_pattern]
    else:
        pats = list(file_pattern)
    pats = [p.decode() if isinstance(p, bytes) else str(p) for p in pats]
    names = sorted({f for p in pats for f in glob.glob(p)})
    if not names:
        raise tl.errors.InvalidArgumentError(f"list_files: no files match pattern {pats if len(pats) > 1 else pats[0]!r}")
    ds = TensorSlices(st._strings(np.asarray(names, dtype=object)))
    if shuffle is None or shuffle:
        ds = ds.shuffle(len(names), seed=seed_from(seed))
    return ds


def filenames_of(filenames, what):
    """A list of file names from a str, a list of them, a string tensor/array, or a dataset of them."""
    if isinstance(filenames, Dataset):
        vals = [e.item() if e.ndim == 0 else e for e in filenames._gen()]
    elif isinstance(filenames, (str, bytes)):
        vals = [filenames]
    elif isinstance(filenames, np.ndarray):
        vals = list(filenames.reshape(-1))
    else:
        try:
            vals = list(filenames)
        except TypeError:
            raise TypeError(f"{what}: filenames must be a string, a list of strings or a dataset of strings, got "
                            f"{type(filenames).__name__}") from None
    out = []
    for v in vals:
        if isinstance(v, bytes):
            v = v.decode()
        if hasattr(v, "__fspath__"):
            v = v.__fspath__()
        if not isinstance(v, str):
            raise TypeError(f"{what}: file names must be strings, got {type(v).__name__}")
        out.append(v)
    return out


class Counter(Dataset):
    """``Dataset.counter``: ``start, start + step, ...`` forever, as scalars of ``dtype``."""

    def __init__(self, start=0, step=1, dtype=tl.int64):
        self._dtype = tl.as_dtype(dtype)
        if not (self._dtype.is_integer or self._dtype.is_floating):
            raise TypeError(f"Dataset.counter: dtype must be an integer or floating dtype, got {self._dtype.name}")
        self._start, self._step = start, step

    def _gen(self):
        npd = self._dtype.as_numpy_dtype
        v, step = np.asarray(self._start, dtype=npd), np.asarray(self._step, dtype=npd)
        while True:
            yield v
            v = np.asarray(v + step, dtype=npd)

    def _spec(self):
        return tl.TensorSpec([], self._dtype)

    def _card(self):
        from tensorlab.data.dataset import INFINITE_CARDINALITY
        return INFINITE_CARDINALITY


class RandomInts(Dataset):
    """``Dataset.random``: int64 scalars drawn uniformly from the whole int64 range, forever.

    With a ``seed`` every pass repeats the same sequence unless ``rerandomize_each_iteration``;
    without one, each pass draws a new sequence (a seed drawn from ``tl.random``, so
    ``tl.random.set_seed`` makes runs reproducible)."""

    def __init__(self, seed=None, rerandomize_each_iteration=None):
        self._seed = seed_from(seed)
        self._rerandomize = bool(rerandomize_each_iteration) if rerandomize_each_iteration is not None \
            else seed is None
        self._iteration = 0

    def _gen(self):
        it = self._iteration if self._rerandomize else 0
        if self._rerandomize:
            self._iteration += 1
        rng = np.random.default_rng([self._seed, it])
        info = np.iinfo(np.int64)
        while True:  # one numpy call per 1024 elements
            for v in rng.integers(info.min, info.max, size=1024, dtype=np.int64, endpoint=True):
                yield np.asarray(v)

    def _spec(self):
        return tl.TensorSpec([], tl.int64)

    def _card(self):
        from tensorlab.data.dataset import INFINITE_CARDINALITY
        return INFINITE_CARDINALITY
