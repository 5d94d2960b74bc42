"""``tl.summary``: TensorBoard event files, written without TensorFlow.

Example:
  >>> writer = tl.summary.create_file_writer("logs/run1")
  >>> with writer.as_default():
  ...     for step in range(100):
  ...         tl.summary.scalar("loss", 1.0 / (step + 1), step=step)
  ...     tl.summary.histogram("weights", tl.random.normal([1000]), step=0)
"""
from tensorlab.summary.ops import experimental, histogram, image, keras_model, record_if, scalar, text
from tensorlab.summary.writer import SummaryWriter, create_file_writer, create_noop_writer, flush

__all__ = ["create_file_writer", "create_noop_writer", "SummaryWriter", "scalar", "histogram", "image", "text",
           "flush", "record_if", "experimental", "keras_model"]
