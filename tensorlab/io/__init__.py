"""``tl.io``: files (``read_file``, ``write_file``, ``gfile``), image codecs, TFRecord files and
``tf.train.Example`` parsing, as ``tf.io``."""
from tensorlab.io.files import GFile, gfile, matching_files, read_file, write_file
from tensorlab.io.images import (decode_bmp, decode_gif, decode_image, decode_jpeg, decode_png, encode_jpeg,
                                 encode_png)
from tensorlab.io.parsing import (FixedLenFeature, SparseTensor, VarLenFeature, decode_raw, parse_example,
                                  parse_single_example)
from tensorlab.io.tensor_proto import parse_tensor, serialize_tensor
from tensorlab.io.tfrecord import TFRecordCompressionType, TFRecordOptions, TFRecordWriter, tf_record_iterator

__all__ = ["FixedLenFeature", "SparseTensor", "TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter",
           "VarLenFeature", "decode_raw", "parse_example", "parse_single_example", "parse_tensor",
           "serialize_tensor", "tf_record_iterator", "GFile", "gfile", "matching_files", "read_file", "write_file",
           "decode_bmp", "decode_gif", "decode_image", "decode_jpeg", "decode_png", "encode_jpeg", "encode_png"]
