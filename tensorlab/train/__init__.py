"""``tl.train``: training utilities, as ``tf.train`` (``Example`` protos for TFRecord files, checkpoints)."""
from tensorlab.train.checkpoint import Checkpoint, CheckpointManager, latest_checkpoint
from tensorlab.train.example import BytesList, Example, Feature, Features, FloatList, Int64List

__all__ = ["BytesList", "Example", "Feature", "Features", "FloatList", "Int64List", "Checkpoint",
           "CheckpointManager", "latest_checkpoint"]
