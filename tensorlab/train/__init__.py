"""``tl.train``: training utilities, as ``tf.train`` (``Example`` protos for TFRecord files, checkpoints
and reading them, moving averages)."""
from tensorlab.train.checkpoint import Checkpoint, CheckpointManager, latest_checkpoint
from tensorlab.train.example import BytesList, Example, Feature, Features, FloatList, Int64List
from tensorlab.train.moving_averages import ExponentialMovingAverage
from tensorlab.train.reader import CheckpointReader, list_variables, load_checkpoint, load_variable

__all__ = ["BytesList", "Example", "Feature", "Features", "FloatList", "Int64List", "Checkpoint",
           "CheckpointManager", "latest_checkpoint", "ExponentialMovingAverage", "CheckpointReader",
           "list_variables", "load_checkpoint", "load_variable"]
