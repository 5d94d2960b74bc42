"""``Dataset.save`` / ``Dataset.load``: a dataset's elements in a directory, for later runs.

The directory holds ``dataset_spec.json`` (format, element spec, shard count, compression,
element count) and one file per shard, ``shard-NNNNN.tldata``, in the cache file format
(``cache.py``: dtype, shape and raw bytes per leaf, no pickle), optionally gzip-compressed.
Everything is written to a temporary directory that replaces ``path`` only once complete, so an
interrupted save leaves the previous directory (or none) untouched.
"""
import gzip
import json
import os
import shutil

import tensorlab as tl
from tensorlab.data import _structure as st
from tensorlab.data.cache import _MAGIC, read_elements, write_element, write_end
from tensorlab.data.combine import ListDataset
from tensorlab.data.dataset import Dataset, DatasetSpec

FORMAT = "tensorlab-dataset-1"
SPEC_FILE = "dataset_spec.json"
_COMPRESSIONS = (None, "GZIP")


def _encode_spec(spec):
    if isinstance(spec, dict):
        return {"dict": {k: _encode_spec(v) for k, v in spec.items()}}
    if isinstance(spec, tuple):
        return {"tuple": [_encode_spec(v) for v in spec]}
    if isinstance(spec, tl.TensorSpec):
        return {"shape": None if spec.shape.rank is None else [d for d in spec.shape.as_list()],
                "dtype": spec.dtype.name}
    raise TypeError(f"Dataset.save: cannot save elements of spec {spec!r}; elements must be (nested tuples/dicts "
                    "of) tensors")


def _decode_spec(d):
    if "dict" in d:
        return {k: _decode_spec(v) for k, v in d["dict"].items()}
    if "tuple" in d:
        return tuple(_decode_spec(v) for v in d["tuple"])
    return tl.TensorSpec(d["shape"], st.as_dtype(d["dtype"]))


def _check_compression(compression, what):
    if compression not in _COMPRESSIONS:
        raise ValueError(f"{what}: compression must be one of {_COMPRESSIONS}; got {compression!r}")


def _open(path, mode, compression):
    return gzip.open(path, mode) if compression == "GZIP" else open(path, mode)


def _shard_name(i):
    return f"shard-{i:05d}.tldata"


def save(ds, path, compression=None, shard_func=None, checkpoint_args=None):
    """Writes every element of ``ds`` under directory ``path`` (replacing what was there)."""
    _check_compression(compression, "Dataset.save")
    if checkpoint_args is not None:
        raise ValueError("Dataset.save: checkpoint_args (resumable saving) is not supported; save in one pass")
    if shard_func is not None and not callable(shard_func):
        raise TypeError(f"Dataset.save: shard_func must be callable, got {type(shard_func).__name__}")
    spec = ds.element_spec
    encoded = _encode_spec(spec)
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    files, counts = {}, {}
    try:
        for e in ds._gen():
            shard = 0
            if shard_func is not None:
                with tl.device("cpu"):
                    shard = _shard_index(st.call_user(shard_func, e))
            f = files.get(shard)
            if f is None:
                f = files[shard] = _open(os.path.join(tmp, _shard_name(shard)), "wb", compression)
                f.write(_MAGIC)
                counts[shard] = 0
            write_element(f, e)
            counts[shard] += 1
        for shard, f in files.items():
            write_end(f, counts[shard])
            f.close()
        meta = {"format": FORMAT, "element_spec": encoded, "shards": sorted(files), "compression": compression,
                "cardinality": sum(counts.values())}
        with open(os.path.join(tmp, SPEC_FILE), "w") as f:
            json.dump(meta, f)
        _replace_dir(tmp, path)
    except BaseException:
        for f in files.values():
            f.close()
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _shard_index(v):
    a = st.to_host(v, "Dataset.save: shard_func")
    if a.shape != () or a.dtype.kind not in "iu" or int(a) < 0:
        raise tl.errors.InvalidArgumentError(
            f"Dataset.save: shard_func must return a non-negative integer scalar; got {a!r}")
    return int(a)


def _replace_dir(tmp, path):
    """Moves the finished ``tmp`` to ``path``; an old ``path`` is removed only after that succeeded."""
    old = None
    if os.path.lexists(path):
        old = f"{path}.old-{os.getpid()}"
        os.replace(path, old)
    try:
        os.replace(tmp, path)
    except BaseException:
        if old is not None:
            os.replace(old, path)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


class _Shard(Dataset):
    def __init__(self, path, spec, compression):
        self._path, self._spec_value, self._compression = path, spec, compression

    def _gen(self):
        path = self._path
        with _open(path, "rb", self._compression) as f:
            if f.read(len(_MAGIC)) != _MAGIC:
                raise tl.errors.DataLossError(f"Dataset.load: {path!r} is not a tensorlab dataset shard")

            def wrong_count(k, nleaves):
                return tl.errors.DataLossError(f"Dataset.load: {path!r} holds elements of {k} components; the "
                                               f"saved spec has {nleaves}")
            yield from read_elements(f, path, self._spec_value, "Dataset.load", wrong_count)

    def _spec(self):
        return self._spec_value


class Loaded(Dataset):
    """The elements saved under a directory, shard after shard (or as ``reader_func`` combines them)."""

    def __init__(self, path, element_spec=None, compression=None, reader_func=None):
        path = os.fspath(path)
        meta_path = os.path.join(path, SPEC_FILE)
        if not os.path.isfile(meta_path):
            raise tl.errors.NotFoundError(f"Dataset.load: {path!r} holds no saved dataset ({SPEC_FILE} is missing)")
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("format") != FORMAT:
            raise tl.errors.DataLossError(f"Dataset.load: {meta_path!r} is of format {meta.get('format')!r}, "
                                          f"expected {FORMAT!r}")
        _check_compression(compression, "Dataset.load")
        if compression is not None and compression != meta["compression"]:
            raise ValueError(f"Dataset.load: the dataset was saved with compression={meta['compression']!r}, "
                             f"not {compression!r}")
        saved = _decode_spec(meta["element_spec"])
        if element_spec is not None and _encode_spec(element_spec) != meta["element_spec"]:
            raise ValueError(f"Dataset.load: element_spec {st.describe(element_spec)} does not match the saved "
                             f"one, {st.describe(saved)}")
        self._spec_value, self._n = saved, int(meta["cardinality"])
        self._shards = [_Shard(os.path.join(path, _shard_name(i)), saved, meta["compression"])
                        for i in meta["shards"]]
        self._reader = reader_func

    def _combined(self):
        if self._reader is None:
            return None
        out = self._reader(ListDataset(list(self._shards), DatasetSpec(self._spec_value)))
        if not isinstance(out, Dataset):
            raise TypeError(f"Dataset.load: reader_func must return a tl.data.Dataset, got {type(out).__name__}")
        return out

    def _gen(self):
        combined = self._combined()
        if combined is not None:
            yield from combined._gen()
            return
        for shard in self._shards:
            yield from shard._gen()

    def _spec(self):
        return self._spec_value

    def _card(self):
        from tensorlab.data.dataset import UNKNOWN_CARDINALITY
        return self._n if self._reader is None else UNKNOWN_CARDINALITY
