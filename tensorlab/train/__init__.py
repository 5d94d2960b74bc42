"""``tl.train``: training utilities, as ``tf.train`` (``Example`` protos for TFRecord files)."""
from tensorlab.train.example import BytesList, Example, Feature, Features, FloatList, Int64List

__all__ = ["BytesList", "Example", "Feature", "Features", "FloatList", "Int64List"]
