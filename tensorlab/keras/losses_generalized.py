"""Keras 3's generalized cross-entropy: ``keras.losses.categorical_generalized_cross_entropy``
and ``keras.losses.CategoricalGeneralizedCrossEntropy`` (Zhang & Sabuncu, 2018).

``(1 - p**q) / q`` with ``p`` the predicted probability of the true class: cross-entropy
as ``q -> 0``, mean absolute error at ``q = 1``; robust to noisy labels in between.

Example:
  >>> keras.losses.CategoricalGeneralizedCrossEntropy(q=0.5)([0, 2], [[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])
"""
import tensorlab as tl
from tensorlab.keras import losses as _losses


def _check_q(name, q):
    if not isinstance(q, (int, float)) or isinstance(q, bool) or not 0 < q < 1:
        raise ValueError(f"{name}: q must be a number in the interval (0, 1), got q={q!r}")


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Per-sample generalized cross-entropy ``(1 - p**q) / q``.

    Args:
      y_true: integer class indices ``(batch,)`` (or ``(batch, 1)``).
      y_pred: class probabilities ``(batch, classes)``.
      q: in ``(0, 1)``.

    Returns:
      ``(batch,)`` losses.
    """
    _check_q("categorical_generalized_cross_entropy", q)
    y_pred = _losses._t(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = tl.cast(y_pred, tl.float32)
    labels = _losses._t(y_true)
    # (batch, 1) labels are squeezed (Keras would broadcast them against every row).
    if len(labels.shape) == len(y_pred.shape) and labels.shape[-1] == 1:
        labels = tl.squeeze(labels, -1)
    if tuple(labels.shape) != tuple(y_pred.shape[:-1]):
        raise ValueError(f"categorical_generalized_cross_entropy: y_true must hold integer class indices of shape "
                         f"{tuple(y_pred.shape[:-1])} for y_pred of shape {tuple(y_pred.shape)}, got shape "
                         f"{tuple(labels.shape)}")
    one_hot = tl.one_hot(tl.cast(labels, tl.int32), y_pred.shape[-1], dtype=y_pred.dtype)
    p = tl.reduce_sum(y_pred * one_hot, axis=-1)
    return (1.0 - tl.pow(p, float(q))) / q


class CategoricalGeneralizedCrossEntropy(_losses.LossFunctionWrapper):
    """Generalized cross-entropy between integer labels and probabilities (noise-robust).

    Args:
      q: in ``(0, 1)``; near 0 it behaves like cross-entropy, near 1 like mean absolute error.

    Example:
      >>> model.compile(optimizer="adam", loss=keras.losses.CategoricalGeneralizedCrossEntropy(q=0.7))
    """

    def __init__(self, q=0.5, reduction="sum_over_batch_size", name="categorical_generalized_cross_entropy",
                 dtype=None):
        _check_q("CategoricalGeneralizedCrossEntropy", q)
        super().__init__(categorical_generalized_cross_entropy, reduction=reduction, name=name, dtype=dtype, q=q)
        self.q = q


# serialize_keras_object records a class's module: the public one, as Keras records its export name.
CategoricalGeneralizedCrossEntropy.__module__ = _losses.__name__
