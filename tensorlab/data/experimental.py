"""``tl.data.experimental``: CSV readers, device prefetching, cardinality constants."""
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


__all__ = ["AUTOTUNE", "AutoShardPolicy", "CsvDataset", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY",
           "cardinality", "choose_from_datasets", "copy_to_device", "make_csv_dataset", "prefetch_to_device",
           "sample_from_datasets", "string", "assert_cardinality"]
