"""``keras.utils.pad_sequences`` and ``keras.utils.timeseries_dataset_from_array``.

Both take host data (lists, numpy arrays) at the edge of the framework: ``pad_sequences``
returns a numpy array as in Keras, ``timeseries_dataset_from_array`` a ``tl.data.Dataset``.
"""
import numpy as np

import tensorlab as tl


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre", value=0.0):
    """Pads (or truncates) a list of sequences to one length, as a numpy array.

    Args:
      sequences: a list of sequences (lists or arrays; items may themselves be arrays).
      maxlen: the length of the output (default: the longest sequence).
      dtype: of the output (a string dtype such as ``"object"`` or ``"<U10"`` for text).
      padding, truncating: ``"pre"`` (default) pads / cuts at the start, ``"post"`` at the end.
      value: the padding value.

    Returns:
      An array of shape ``(len(sequences), maxlen) + item_shape``.

    Example:
      >>> keras.utils.pad_sequences([[1], [2, 3], [4, 5, 6]])
      array([[0, 0, 1], [0, 2, 3], [4, 5, 6]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"pad_sequences: `sequences` must be iterable with a length; got {type(sequences).__name__}")
    for name, v in (("padding", padding), ("truncating", truncating)):
        if v not in ("pre", "post"):
            raise ValueError(f"pad_sequences: {name} must be 'pre' or 'post'; received {v!r}")
    lengths, sample_shape = [], ()
    for i, s in enumerate(sequences):
        try:
            lengths.append(len(s))
        except TypeError:
            raise ValueError(f"pad_sequences: `sequences` must be a list of iterables; item {i} is "
                             f"{type(s).__name__} ({s!r})") from None
        if not sample_shape and len(s):
            sample_shape = np.asarray(s).shape[1:]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    maxlen = int(maxlen)
    if maxlen < 0:
        raise ValueError(f"pad_sequences: maxlen must be >= 0; received {maxlen}")
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.dtype(dtype) == object
    if isinstance(value, str) and dtype != object and not is_text:
        raise ValueError(f"pad_sequences: dtype {dtype!r} cannot hold the string padding value {value!r}; use "
                         "dtype=object or a unicode dtype")
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        trunc = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if trunc.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: item {i} has items of shape {trunc.shape[1:]}, unlike the first "
                             f"non-empty sequence's {sample_shape}")
        if padding == "post":
            out[i, :len(trunc)] = trunc
        else:
            out[i, maxlen - len(trunc):] = trunc
    return out


def _positive_int(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v <= 0:
        raise ValueError(f"timeseries_dataset_from_array: {name} must be a positive integer; received {v!r}")
    return int(v)


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1, sampling_rate=1,
                                  batch_size=128, shuffle=False, seed=None, start_index=None, end_index=None):
    """Sliding windows over a time series, as a dataset of ``(windows, targets)`` batches.

    Window ``i`` holds ``data[start + p_i + k * sampling_rate]`` for ``k < sequence_length``,
    ``p_i = i * sequence_stride``; its target is ``targets[start + p_i]`` (``start = start_index``).

    Args:
      data: array-like with time on the first axis.
      targets: the target of each window's first step (same time axis), or None for windows only.
      sequence_length, sequence_stride, sampling_rate: window length, step between windows'
        starts, step between a window's time steps.
      batch_size: windows per batch (None: unbatched).
      shuffle, seed: shuffle the windows (reproducibly with a seed).
      start_index, end_index: use only ``data[start_index:end_index]``.

    Example:
      >>> ds = keras.utils.timeseries_dataset_from_array(x[:-10], x[10:], sequence_length=10, batch_size=32)
    """
    sequence_length = _positive_int("sequence_length", sequence_length)
    sequence_stride = _positive_int("sequence_stride", sequence_stride)
    sampling_rate = _positive_int("sampling_rate", sampling_rate)
    if batch_size is not None:
        batch_size = _positive_int("batch_size", batch_size)
    data = data.numpy() if isinstance(data, (tl.Tensor, tl.Variable)) else np.asarray(data)
    n = len(data)
    if start_index:
        if start_index < 0 or start_index >= n:
            raise ValueError(f"timeseries_dataset_from_array: start_index must be in [0, {n}) for data of length "
                             f"{n}; received {start_index}")
    start = int(start_index or 0)
    if end_index:
        if end_index <= start:
            raise ValueError(f"timeseries_dataset_from_array: end_index ({end_index}) must be greater than "
                             f"start_index ({start})")
        if end_index >= n:
            raise ValueError(f"timeseries_dataset_from_array: end_index must be lower than the length of the data "
                             f"({n}); received {end_index}")
    end = int(end_index) if end_index else n
    num_seqs = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = targets.numpy() if isinstance(targets, (tl.Tensor, tl.Variable)) else np.asarray(targets)
        num_seqs = min(num_seqs, len(targets))
    starts = np.arange(0, max(num_seqs, 0), sequence_stride, dtype=np.int64)
    if shuffle:
        np.random.RandomState(seed).shuffle(starts)
    # Windows are gathered lazily, a batch at a time, from one CPU copy of the series: the
    # dataset never holds every window at once (that would be sequence_length times the data).
    with tl.device("cpu"):
        series = tl.constant(data[start:end])
        steps = tl.range(sequence_length, dtype=tl.int64) * sampling_rate
        target_values = tl.constant(targets[start:end]) if targets is not None else None

    def window(p):
        idx = tl.expand_dims(p, -1) + steps
        w = tl.gather(series, idx)
        return w if target_values is None else (w, tl.gather(target_values, p))

    ds = tl.data.Dataset.from_tensor_slices(starts)
    if batch_size is not None:
        if shuffle:
            ds = ds.shuffle(buffer_size=batch_size * 8, seed=seed)
        ds = ds.batch(batch_size)
    return ds.map(window)
