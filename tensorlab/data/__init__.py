"""``tl.data``: input pipelines (``tf.data``'s API and semantics).

    ds = tl.data.Dataset.from_tensor_slices((images, labels))
    ds = ds.shuffle(10000).batch(128).prefetch(tl.data.AUTOTUNE)
    model.fit(ds, epochs=5)

Readers: ``TextLineDataset``, ``TFRecordDataset`` (TensorFlow's file format),
``FixedLengthRecordDataset`` and, in ``experimental``, CSV files. String
elements (file lines, records) are ``bytes``, as tensorlab tensors hold numbers.
"""
from tensorlab.data import experimental
from tensorlab.data.dataset import AUTOTUNE, Dataset, DatasetSpec, Iterator, Options
from tensorlab.data.readers import FixedLengthRecordDataset, TextLineDataset, TFRecordDataset

INFINITE_CARDINALITY = experimental.INFINITE_CARDINALITY
UNKNOWN_CARDINALITY = experimental.UNKNOWN_CARDINALITY

__all__ = ["AUTOTUNE", "Dataset", "DatasetSpec", "Iterator", "Options", "TextLineDataset", "TFRecordDataset",
           "FixedLengthRecordDataset", "experimental", "INFINITE_CARDINALITY", "UNKNOWN_CARDINALITY"]
