"""Nested element structures and the host/tensor boundary of ``tl.data``.

Inside a pipeline an element is a nested structure (tuples, namedtuples,
dicts) whose leaves are host numpy arrays: input processing is host-side
work, so elements stay numpy until they reach user code. They become
``tl.Tensor``s on the CPU when handed to a ``map``/``filter`` function or
yielded by iteration. Strings have no tensor dtype, so string leaves are
numpy ``object`` arrays of ``bytes`` and reach user code as ``bytes``
(scalars) or such arrays (batches); their spec dtype is ``STRING``.
"""
import numpy as np

import tensorlab as tl
from tensorlab.nest import _is_namedtuple

STRING = tl.DType("string", None)
_STRING_NAMES = ("string", "str", "bytes")


def as_dtype(d):
    """``tl.as_dtype`` that also knows the string dtype."""
    if d is STRING or (isinstance(d, str) and d in _STRING_NAMES) or d in (str, bytes):
        return STRING
    if isinstance(d, tl.DType) and d.name == "string":
        return STRING
    return tl.as_dtype(d)


def is_string(d):
    return d is STRING or getattr(d, "name", None) == "string"


# ------------------------------------------------------------------ nesting
def is_nested(x):
    return isinstance(x, (tuple, dict))


def flatten(x):
    """The leaves of ``x`` in a fixed order (dicts by sorted key, as TF)."""
    if isinstance(x, dict):
        out = []
        for k in sorted(x):
            out.extend(flatten(x[k]))
        return out
    if isinstance(x, tuple):
        out = []
        for v in x:
            out.extend(flatten(v))
        return out
    return [x]


def pack_as(structure, leaves):
    """Rebuilds ``structure`` with ``leaves`` (in ``flatten`` order)."""
    it = iter(leaves)

    def build(s):
        if isinstance(s, dict):
            vals = {k: build(s[k]) for k in sorted(s)}
            return type(s)((k, vals[k]) for k in s) if type(s) is not dict else {k: vals[k] for k in s}
        if _is_namedtuple(s):
            return type(s)(*[build(v) for v in s])
        if isinstance(s, tuple):
            return tuple(build(v) for v in s)
        return next(it)
    return build(structure)


def map_structure(fn, *xs):
    leaves = [flatten(x) for x in xs]
    return pack_as(xs[0], [fn(*ls) for ls in zip(*leaves)])


def assert_same_structure(a, b, what):
    def sig(s):
        if isinstance(s, dict):
            return ("dict", tuple((k, sig(s[k])) for k in sorted(s)))
        if isinstance(s, tuple):
            return ("tuple", tuple(sig(v) for v in s))
        return "."
    if sig(a) != sig(b):
        raise TypeError(f"{what}: the two structures differ: {describe(a)} vs {describe(b)}")


def describe(s):
    if isinstance(s, dict):
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in s.items()) + "}"
    if isinstance(s, tuple):
        return "(" + ", ".join(describe(v) for v in s) + ("," if len(s) == 1 else "") + ")"
    if isinstance(s, tl.TensorSpec):
        return f"{s.dtype.name}{list(s.shape)}"
    return type(s).__name__


# ------------------------------------------------------------------ host leaves
def to_host(v, what="value"):
    """One user value (tensor, array, number, bytes/str) as a host numpy array."""
    if isinstance(v, np.ndarray):
        if v.dtype.kind in "US":
            return _strings(v)
        return v
    if isinstance(v, (tl.Tensor, tl.Variable)):
        return np.asarray(v.numpy())
    if isinstance(v, (bytes, str)):
        return _strings(np.asarray(v, dtype=object))
    if isinstance(v, tl.SymbolicTensor):
        raise TypeError(f"{what}: a symbolic (Functional-API) tensor has no data to put in a dataset")
    if isinstance(v, np.generic):
        return np.asarray(v)
    if isinstance(v, list):
        items = [to_host(x, what) for x in v]
        if items and items[0].dtype == object:
            return _strings(np.asarray([x.item() if x.ndim == 0 else x for x in items], dtype=object))
        if items and all(isinstance(x, (tl.Tensor, np.ndarray)) for x in v):
            return np.stack(items)
    if isinstance(v, _dataset_types()) or _is_sparse(v):
        return v
    return np.asarray(tl.constant(v).numpy())


def _is_sparse(v):
    return hasattr(v, "indices") and hasattr(v, "dense_shape") and hasattr(v, "values")


def _strings(a):
    """A numpy array of ``bytes`` objects (str encoded as UTF-8)."""
    a = np.asarray(a).astype(object) if not (isinstance(a, np.ndarray) and a.dtype == object) else a
    if a.size and not all(isinstance(s, bytes) for s in a.flat):
        out = np.empty(a.shape, dtype=object)
        out.flat[:] = [s.encode() if isinstance(s, str) else bytes(s) for s in a.flat]
        return out
    return a


def _dataset_types():
    from tensorlab.data.dataset import Dataset
    return (Dataset,)


def leaf_spec(a):
    """The TensorSpec of one host leaf."""
    if isinstance(a, tl.Tensor):
        return tl.TensorSpec(a.shape, a.dtype)
    if isinstance(a, _dataset_types()):
        from tensorlab.data.dataset import DatasetSpec
        return DatasetSpec(a.element_spec)
    if _is_sparse(a):
        return tl.TensorSpec([None] * len(a.shape), a.dtype)
    shape = a.shape
    dtype = STRING if a.dtype == object else tl.as_dtype(a.dtype)
    return tl.TensorSpec(shape, dtype)


def spec_of(element):
    return map_structure(leaf_spec, element)


def to_user(a):
    """One host leaf as user code sees it: a CPU tensor, or bytes for strings."""
    if isinstance(a, (np.ndarray, np.generic)):
        if a.dtype == object:
            return a.item() if a.ndim == 0 else a
        if isinstance(a, np.ndarray) and a.flags.writeable and a.dtype.kind in "biuf":
            # Zero-copy: pipeline arrays are never written after they are produced.
            try:
                return tl.from_dlpack(a)
            except (BufferError, TypeError, ValueError, RuntimeError):
                pass
        with tl.device("cpu"):
            return tl.constant(a)
    return a  # tensors already placed on a device, nested datasets


def to_numpy_user(a):
    if isinstance(a, tl.Tensor):
        a = a.numpy()
    if isinstance(a, np.ndarray) and a.ndim == 0:
        return a.item() if a.dtype == object else a[()]
    return a


def element_to_user(element):
    return map_structure(to_user, element)


def element_from_user(value, what):
    """A user function's result as a host element (lists become one tensor, as TF)."""
    if isinstance(value, dict):
        return {k: element_from_user(v, what) for k, v in value.items()}
    if _is_namedtuple(value):
        return type(value)(*[element_from_user(v, what) for v in value])
    if isinstance(value, tuple):
        return tuple(element_from_user(v, what) for v in value)
    if value is None:
        raise TypeError(f"{what}: the function returned None; return a tensor or a tuple/dict of tensors")
    return to_host(value, what)


def call_user(fn, element):
    """Calls ``fn`` on an element: unpacks tuples into arguments, as TF's map does."""
    args = element_to_user(element)
    if isinstance(args, tuple) and not _is_namedtuple(args):
        return fn(*args)
    return fn(args)


def compatible(spec, leaf):
    """True when host ``leaf`` fits ``spec`` (dtype equal, shape compatible)."""
    s = leaf_spec(leaf)
    if is_string(spec.dtype) != is_string(s.dtype):
        return False
    return (is_string(spec.dtype) or s.dtype == spec.dtype) and spec.shape.is_compatible_with(s.shape)


def most_specific_common(a, b):
    """The spec describing both ``a`` and ``b`` (differing dims become None)."""
    if len(a.shape) != len(b.shape):
        raise TypeError(f"incompatible ranks: {list(a.shape)} vs {list(b.shape)}")
    dims = [x if x == y else None for x, y in zip(a.shape, b.shape)]
    return tl.TensorSpec(dims, a.dtype)
