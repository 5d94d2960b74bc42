"""CSV readers: ``tl.data.experimental.CsvDataset`` and ``make_csv_dataset``."""
import csv as _csv
import io

import numpy as np

import tensorlab as tl
from tensorlab.data import _structure as st
from tensorlab.data import tfrecord as _tfr
from tensorlab.data.dataset import UNKNOWN_CARDINALITY, Dataset
from tensorlab.data.sources import filenames_of, list_files
from tensorlab.data.transforms import _int

_CSV_DTYPES = ("int32", "int64", "float32", "float64", "string")


def _default_of(d, i):
    """(dtype, default value or None) from one ``record_defaults`` entry."""
    if isinstance(d, (tl.DType, type)) or (isinstance(d, str) and d in _CSV_DTYPES):
        dt = st.as_dtype(d)
        return dt, None
    if isinstance(d, (list, tuple)):
        if len(d) == 0:
            raise tl.errors.InvalidArgumentError(f"CsvDataset: record_defaults[{i}] is an empty list; give a dtype "
                                                 "(required column) or a one-element list with the default value")
        d = d[0]
    if isinstance(d, (tl.Tensor, np.ndarray, np.generic)):
        a = np.asarray(d.numpy() if isinstance(d, tl.Tensor) else d).reshape(-1)
        if a.dtype == object or a.dtype.kind in "US":
            return st.STRING, (None if a.size == 0 else st._strings(a)[0])
        dt = tl.as_dtype(a.dtype)
        return dt, (None if a.size == 0 else a[0].item())
    if isinstance(d, (bytes, str)):
        return st.STRING, d.encode() if isinstance(d, str) else d
    if isinstance(d, bool):
        raise TypeError(f"CsvDataset: record_defaults[{i}] is a bool; CSV columns are int32, int64, float32, "
                        "float64 or string")
    if isinstance(d, int):
        return tl.int32, d
    if isinstance(d, float):
        return tl.float32, d
    raise TypeError(f"CsvDataset: record_defaults[{i}] must be a dtype or a default value, got {d!r}")


def _convert(text, dtype, path, line, col):
    try:
        if dtype in (tl.int32, tl.int64):
            return int(text)
        if dtype in (tl.float32, tl.float64):
            return float(text)
    except ValueError:
        raise tl.errors.InvalidArgumentError(
            f"{path}:{line}: field {col} ({text!r}) is not a valid {dtype.name}") from None
    return text.encode()


class CsvDataset(Dataset):
    """Rows of CSV files as tuples of scalar tensors, like ``tf.data.experimental.CsvDataset``.

    Args:
      filenames: a file name, list of names, or dataset of names.
      record_defaults: one entry per (selected) column: a dtype (the column
        is required) or a value / one-element list (the default used when the
        field is empty or equals ``na_value``); it also sets the column's type.
      header: skip each file's first line.
      field_delim, use_quote_delim, na_value: CSV syntax.
      select_cols: indices of the columns to keep (sorted).
      exclude_cols: indices of the columns to drop.

    Raises:
      InvalidArgumentError: a row with the wrong number of fields, or a
        missing required field, naming the file and line.

    Example:
      >>> ds = tl.data.experimental.CsvDataset("a.csv", [tl.float32, [0], [""]], header=True)
    """

    def __init__(self, filenames, record_defaults, compression_type=None, buffer_size=None, header=False,
                 field_delim=",", use_quote_delim=True, na_value="", select_cols=None, exclude_cols=None, name=None):
        self._files = filenames_of(filenames, "CsvDataset")
        self._compression = _tfr.compression_of(compression_type, "CsvDataset")
        self._cols = [_default_of(d, i) for i, d in enumerate(record_defaults)]
        self._header = bool(header)
        self._ignore_errors = False  # make_csv_dataset(ignore_errors=True) skips malformed rows
        if len(field_delim) != 1:
            raise tl.errors.InvalidArgumentError(f"CsvDataset: field_delim must be one character, got {field_delim!r}")
        self._delim, self._quote, self._na = field_delim, bool(use_quote_delim), na_value
        if select_cols is not None and exclude_cols is not None:
            raise tl.errors.InvalidArgumentError("CsvDataset: give select_cols or exclude_cols, not both")
        self._select = None if select_cols is None else [int(c) for c in select_cols]
        self._exclude = None if exclude_cols is None else sorted(int(c) for c in exclude_cols)
        if self._select is not None:
            if self._select != sorted(set(self._select)):
                raise tl.errors.InvalidArgumentError(
                    f"CsvDataset: select_cols must be sorted and without repeats, got {self._select}")
            if len(self._select) != len(self._cols):
                raise tl.errors.InvalidArgumentError(
                    f"CsvDataset: {len(self._select)} select_cols but {len(self._cols)} record_defaults; give one "
                    "default per selected column")

    def _rows(self, path):
        with _tfr.open_read(path, self._compression) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            reader = _csv.reader(text, delimiter=self._delim,
                                 quoting=_csv.QUOTE_MINIMAL if self._quote else _csv.QUOTE_NONE)
            first = True
            for fields in reader:
                line = reader.line_num
                if first and self._header:
                    first = False
                    continue
                first = False
                if not fields:
                    continue
                yield line, fields

    def _gen(self):
        cols = self._cols
        ncols = len(cols)
        for path in self._files:
            for line, fields in self._rows(path):
                if self._select is not None:
                    if self._select[-1] >= len(fields):
                        raise tl.errors.InvalidArgumentError(
                            f"{path}:{line}: select_cols asks for column {self._select[-1]} but the record has "
                            f"{len(fields)} fields")
                    fields = [fields[i] for i in self._select]
                elif self._exclude is not None:
                    fields = [f for i, f in enumerate(fields) if i not in self._exclude]
                if len(fields) != ncols:
                    if self._ignore_errors:
                        continue
                    raise tl.errors.InvalidArgumentError(
                        f"{path}:{line}: Expect {ncols} fields but have {len(fields)} in record (file {path!r}, "
                        f"line {line})")
                try:
                    out = self._parse(path, line, fields)
                except tl.errors.InvalidArgumentError:
                    if self._ignore_errors:
                        continue
                    raise
                yield out

    def _parse(self, path, line, fields):
        out = []
        for c, (text, (dtype, default)) in enumerate(zip(fields, self._cols)):
            if text == "" or text == self._na:
                if default is None:
                    raise tl.errors.InvalidArgumentError(
                        f"{path}:{line}: Field {c} is required but missing in record (file {path!r}, "
                        f"line {line}); give a default in record_defaults")
                v = default
            else:
                v = _convert(text, dtype, path, line, c)
            if st.is_string(dtype):
                a = np.empty((), dtype=object)
                a[()] = v if isinstance(v, bytes) else str(v).encode()
            else:
                a = np.asarray(v, dtype=dtype.as_numpy_dtype)
            out.append(a)
        return tuple(out)

    def _spec(self):
        return tuple(tl.TensorSpec([], d) for d, _ in self._cols)

    def _card(self):
        return UNKNOWN_CARDINALITY


def _infer_type(values):
    """TF's column type inference: int32, then int64, then float32, else string."""
    kind = "int32"
    for v in values:
        if v == "":
            continue
        if kind in ("int32", "int64"):
            try:
                i = int(v)
                if kind == "int32" and not -2 ** 31 <= i < 2 ** 31:
                    kind = "int64"
                continue
            except ValueError:
                kind = "float32"
        if kind == "float32":
            try:
                float(v)
                continue
            except ValueError:
                return "string"
    return kind


def make_csv_dataset(file_pattern, batch_size, column_names=None, column_defaults=None, label_name=None,
                     select_columns=None, field_delim=",", use_quote_delim=True, na_value="", header=True,
                     num_epochs=None, shuffle=True, shuffle_buffer_size=10000, shuffle_seed=None,
                     prefetch_buffer_size=None, num_parallel_reads=None, sloppy=False, num_rows_for_inference=100,
                     compression_type=None, ignore_errors=False, encoding="utf-8"):
    """Batches of CSV rows as ``(features_dict, label)`` (or a dict), like ``tf.data.experimental.make_csv_dataset``.

    Column names come from the header (or ``column_names``); column types
    from ``column_defaults`` or are inferred from the first
    ``num_rows_for_inference`` rows (int32, int64, float32 or string); missing
    values take the column default (0 / empty string when inferred).

    Example:
      >>> ds = tl.data.experimental.make_csv_dataset("train.csv", batch_size=32, label_name="y", num_epochs=1)
      >>> features, labels = next(iter(ds))
    """
    files = filenames_of(list_files(file_pattern, shuffle=False), "make_csv_dataset") if isinstance(
        file_pattern, str) else filenames_of(file_pattern, "make_csv_dataset")
    comp = _tfr.compression_of(compression_type, "make_csv_dataset")
    with _tfr.open_read(files[0], comp) as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = _csv.reader(text, delimiter=field_delim)
        rows = []
        for row in reader:
            rows.append(row)
            if len(rows) > num_rows_for_inference:
                break
    if column_names is None:
        if not header:
            raise tl.errors.InvalidArgumentError("make_csv_dataset: column_names is required when header=False")
        if not rows:
            raise tl.errors.InvalidArgumentError(f"make_csv_dataset: {files[0]!r} is empty; no header to read")
        column_names = rows[0]
    column_names = list(column_names)
    if len(set(column_names)) != len(column_names):
        raise tl.errors.InvalidArgumentError(f"make_csv_dataset: column names repeat: {column_names}")
    data_rows = rows[1:] if header else rows
    if select_columns is not None:
        idx = [c if isinstance(c, int) else column_names.index(c) for c in select_columns]
        for c in select_columns:
            if not isinstance(c, int) and c not in column_names:
                raise tl.errors.InvalidArgumentError(f"make_csv_dataset: select column {c!r} is not among {column_names}")
        idx = sorted(idx)
    else:
        idx = list(range(len(column_names)))
    names = [column_names[i] for i in idx]
    if label_name is not None and label_name not in names:
        raise tl.errors.InvalidArgumentError(f"make_csv_dataset: label_name {label_name!r} is not among the columns "
                                             f"{names}")
    if column_defaults is None:
        defaults = []
        for i in idx:
            kind = _infer_type([r[i] for r in data_rows if i < len(r)])
            defaults.append([b""] if kind == "string" else [np.zeros((), kind)])
    else:
        defaults = list(column_defaults)
        if len(defaults) == len(column_names) and len(idx) != len(column_names):
            defaults = [defaults[i] for i in idx]
    ds = CsvDataset(files, defaults, compression_type=comp, header=header, field_delim=field_delim,
                    use_quote_delim=use_quote_delim, na_value=na_value,
                    select_cols=idx if len(idx) != len(column_names) else None)
    ds._ignore_errors = bool(ignore_errors)
    if num_epochs != 1:
        ds = ds.repeat(num_epochs)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer_size, seed=shuffle_seed)

    def to_dict(*values):
        d = dict(zip(names, values))
        if label_name is None:
            return d
        label = d.pop(label_name)
        return d, label
    ds = ds.batch(_int("make_csv_dataset", "batch_size", batch_size, 1))
    ds = ds.map(to_dict)
    return ds.prefetch(-1 if prefetch_buffer_size is None else prefetch_buffer_size)
