"""Keras 3's CTC loss: ``keras.losses.ctc`` and ``keras.losses.CTC``.

As in Keras, class 0 is both the blank and the padding of the labels: each
label sequence's length is its number of nonzero entries, every example uses
all of ``y_pred``'s frames, and ``y_pred`` holds logits (``tl.nn.ctc_loss``
applies the softmax).

Example:
  >>> loss = keras.losses.CTC()
  >>> loss(tl.constant([[1, 2, 0]]), tl.zeros([1, 5, 3]))  # labels "1 2", 5 frames, 3 classes
"""
import tensorlab as tl
from tensorlab.keras import backend as _backend
from tensorlab.keras import losses as _losses


def ctc(y_true, y_pred):
    """Per-sample CTC loss of 0-padded integer labels and logits (Keras 3's ``ctc``).

    Args:
      y_true: integer labels ``(batch, max_length)``; 0 is the blank and the padding,
        never a class.
      y_pred: logits ``(batch, frames, classes)``, not softmax-normalized.

    Returns:
      Per-sample negative log-likelihoods, shape ``(batch,)``.
    """
    y_pred = _losses._t(y_pred, _backend.floatx())
    y_true = _losses._t(y_true)
    if len(y_true.shape) != 2:
        raise ValueError("ctc: targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` in "
                         f"integer format. Received: y_true.shape={_losses._fmt(y_true.shape)}")
    if len(y_pred.shape) != 3:
        raise ValueError("ctc: logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
                         f"num_classes)`. Received: y_pred.shape={_losses._fmt(y_pred.shape)}")
    if not y_pred.dtype.is_floating:
        y_pred = tl.cast(y_pred, _backend.floatx())
    if y_true.dtype.name not in ("int32", "int64"):
        y_true = tl.cast(y_true, tl.int32)
    label_length = tl.reduce_sum(tl.cast(tl.not_equal(y_true, 0), tl.int32), axis=-1)
    frames = tl.shape(y_pred)[1] * tl.ones_like(label_length)
    return tl.nn.ctc_loss(y_true, y_pred, label_length, frames, logits_time_major=False, blank_index=0)


class CTC(_losses.LossFunctionWrapper):
    """The CTC (connectionist temporal classification) loss, Keras 3's ``CTC``.

    ``y_true``: integer labels ``(batch, max_length)`` padded with 0 (also the blank);
    ``y_pred``: logits ``(batch, frames, classes)``.

    Example:
      >>> model.compile(optimizer="adam", loss=keras.losses.CTC())
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, reduction=reduction, name=name, dtype=dtype)


# serialize_keras_object records a class's module: the public one, as Keras records its export name.
CTC.__module__ = _losses.__name__
