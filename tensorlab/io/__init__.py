"""``tl.io``: TFRecord files and ``tf.train.Example`` parsing, as ``tf.io``."""
from tensorlab.io.parsing import (FixedLenFeature, SparseTensor, VarLenFeature, decode_raw, parse_example,
                                  parse_single_example)
from tensorlab.io.tensor_proto import parse_tensor, serialize_tensor
from tensorlab.io.tfrecord import TFRecordCompressionType, TFRecordOptions, TFRecordWriter, tf_record_iterator

__all__ = ["FixedLenFeature", "SparseTensor", "TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter",
           "VarLenFeature", "decode_raw", "parse_example", "parse_single_example", "parse_tensor",
           "serialize_tensor", "tf_record_iterator"]
