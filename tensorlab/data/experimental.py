"""``tl.data.experimental``: CSV readers, device prefetching, cardinality constants, and the
older function forms of transformations that are now ``Dataset`` methods."""
from tensorlab.data._structure import STRING as string
from tensorlab.data.csv import CsvDataset, make_csv_dataset
from tensorlab.data.dataset import (AUTOTUNE, INFINITE_CARDINALITY, UNKNOWN_CARDINALITY, AutoShardPolicy,
                                    Dataset)
from tensorlab.data.parallel import copy_to_device, prefetch_to_device


def cardinality(dataset):
    """``dataset.cardinality()`` (an int64 scalar tensor; -1 infinite, -2 unknown)."""
    return dataset.cardinality()


def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False):
    return Dataset.sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset)


def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
    return Dataset.choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)


def assert_cardinality(expected_cardinality):
    """A transformation that checks the dataset has ``expected_cardinality`` elements."""
    def apply(ds):
        from tensorlab.data.transforms import AssertCardinality
        return AssertCardinality(ds, expected_cardinality)
    return apply


def group_by_window(key_func, reduce_func, window_size=None, window_size_func=None):
    """``ds.apply(group_by_window(...))`` is ``ds.group_by_window(...)``."""
    return lambda ds: ds.group_by_window(key_func, reduce_func, window_size, window_size_func)


def bucket_by_sequence_length(element_length_func, bucket_boundaries, bucket_batch_sizes, padded_shapes=None,
                              padding_values=None, pad_to_bucket_boundary=False, no_padding=False,
                              drop_remainder=False):
    """``ds.apply(bucket_by_sequence_length(...))`` is ``ds.bucket_by_sequence_length(...)``."""
    return lambda ds: ds.bucket_by_sequence_length(element_length_func, bucket_boundaries, bucket_batch_sizes,
                                                   padded_shapes, padding_values, pad_to_bucket_boundary,
                                                   no_padding, drop_remainder)


def ignore_errors(log_warning=False):
    """``ds.apply(ignore_errors())`` is ``ds.ignore_errors()``."""
    return lambda ds: ds.ignore_errors(log_warning)


def scan(initial_state, scan_func):
    """``ds.apply(scan(...))`` is ``ds.scan(...)``."""
    return lambda ds: ds.scan(initial_state, scan_func)


def save(dataset, path, compression=None, shard_func=None, checkpoint_args=None):
    """``dataset.save(path, ...)``."""
    dataset.save(path, compression, shard_func, checkpoint_args)


def load(path, element_spec=None, compression=None, reader_func=None):
    """``tl.data.Dataset.load(path, ...)``."""
    return Dataset.load(path, element_spec, compression, reader_func)


def Counter(start=0, step=1, dtype=None):  # noqa: N802 (TF's name)
    """``tl.data.Dataset.counter``."""
    import tensorlab as tl
    return Dataset.counter(start, step, tl.int64 if dtype is None else dtype)


def RandomDataset(seed=None):  # noqa: N802 (TF's name)
    """``tl.data.Dataset.random``."""
    return Dataset.random(seed)


__all__ = ["AUTOTUNE", "AutoShardPolicy", "CsvDataset", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY",
           "cardinality", "choose_from_datasets", "copy_to_device", "make_csv_dataset", "prefetch_to_device",
           "sample_from_datasets", "string", "assert_cardinality", "group_by_window", "bucket_by_sequence_length", "scan", "ignore_errors",
           "save", "load", "Counter", "RandomDataset"]
