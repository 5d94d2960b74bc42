"""``keras.utils.split_dataset``: one dataset (or arrays) into two ``tl.data.Dataset``s."""
import random

import numpy as np

import tensorlab as tl


def _check_size(name, v, total):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
        raise TypeError(f"split_dataset: {name} must be an int, a float or None; received {v!r} "
                        f"({type(v).__name__})")
    if isinstance(v, (float, np.floating)):
        if not 0 < v < 1:
            raise ValueError(f"split_dataset: a float {name} is a fraction and must be in (0, 1); received {v}")
        return float(v)
    if not 0 < v < total:
        raise ValueError(f"split_dataset: an int {name} counts samples and must be in [1, {total - 1}] for a dataset "
                         f"of {total} samples; received {v}")
    return int(v)


def _sizes(left, right, total):
    if left is None and right is None:
        raise ValueError("split_dataset: at least one of left_size and right_size must be given")
    left, right = _check_size("left_size", left, total), _check_size("right_size", right, total)
    if isinstance(left, float) and isinstance(right, float) and left + right > 1:
        raise ValueError(f"split_dataset: the fractions left_size={left} and right_size={right} sum to more than 1")
    left = round(left * total) if isinstance(left, float) else left
    right = round(right * total) if isinstance(right, float) else right
    if left is None:
        left = total - right
    elif right is None:
        right = total - left
    if left + right > total:
        raise ValueError(f"split_dataset: left_size ({left}) + right_size ({right}) exceeds the {total} samples")
    for side, n in (("left", left), ("right", right)):
        if n == 0:
            raise ValueError(f"split_dataset: with {total} samples, left_size={left} and right_size={right} leave the "
                             f"{side} split empty; adjust the sizes")
    return int(left), int(right)


def _batch_size(ds):
    """The batch size of a dataset that ends in ``batch`` (through prefetch/options), else None."""
    from tensorlab.data.parallel import Prefetch
    from tensorlab.data.transforms import Batch, WithOptions
    node = ds
    while isinstance(node, (Prefetch, WithOptions)):
        node = node._in
    return node._size if isinstance(node, Batch) else None


def _samples(dataset):
    """``(samples, structure)``: the data as a list of per-sample structures of numpy arrays."""
    if isinstance(dataset, tl.data.Dataset):
        ds = dataset.unbatch() if _batch_size(dataset) is not None else dataset
        return list(ds.as_numpy_iterator()), None
    if isinstance(dataset, (tl.Tensor, tl.Variable)):
        dataset = dataset.numpy()
    if isinstance(dataset, np.ndarray):
        return list(dataset), "array"
    if isinstance(dataset, (list, tuple)) and dataset and all(
            isinstance(a, (np.ndarray, tl.Tensor, tl.Variable, list)) for a in dataset):
        arrays = [np.asarray(a.numpy() if isinstance(a, (tl.Tensor, tl.Variable)) else a) for a in dataset]
        n = {len(a) for a in arrays}
        if len(n) != 1:
            raise ValueError(f"split_dataset: the arrays must have the same length; got lengths "
                             f"{[len(a) for a in arrays]}")
        return list(zip(*arrays)), type(dataset)
    raise TypeError("split_dataset: dataset must be a tl.data.Dataset, a numpy array or tensor, or a list/tuple of "
                    f"arrays of the same length; received {type(dataset).__name__}")


def _as_dataset(samples, structure):
    if structure == "array":
        return tl.data.Dataset.from_tensor_slices(np.stack(samples))
    if structure is not None:  # a list/tuple of arrays: one component each
        return tl.data.Dataset.from_tensor_slices(tuple(np.stack(col) for col in zip(*samples)))
    first = samples[0]
    if isinstance(first, dict):
        return tl.data.Dataset.from_tensor_slices({k: np.stack([s[k] for s in samples]) for k in first})
    if isinstance(first, tuple):
        return tl.data.Dataset.from_tensor_slices(tuple(np.stack(col) for col in zip(*samples)))
    return tl.data.Dataset.from_tensor_slices(np.stack(samples))


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Splits ``dataset`` into ``(left, right)`` datasets of ``left_size`` / ``right_size`` samples
    (an int count, or a float fraction; the other defaults to the rest), as Keras does.

    A batched ``tl.data.Dataset`` is split by samples and both splits are batched the same way.
    ``shuffle`` shuffles the samples first (reproducibly with ``seed``).

    Example:
      >>> train, val = keras.utils.split_dataset((x, y), left_size=0.8, shuffle=True, seed=1)
    """
    samples, structure = _samples(dataset)
    total = len(samples)
    if shuffle:
        random.Random(random.randint(0, 10 ** 6) if seed is None else seed).shuffle(samples)
    left, right = _sizes(left_size, right_size, total)
    splits = [_as_dataset(samples[:left], structure), _as_dataset(samples[total - right:], structure)]
    batch = _batch_size(dataset) if isinstance(dataset, tl.data.Dataset) else None
    if batch is not None:
        splits = [s.batch(batch) for s in splits]
    return tuple(s.prefetch(tl.data.AUTOTUNE) for s in splits)
