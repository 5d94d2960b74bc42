"""More Keras 3 losses: focal cross-entropies, Dice, Tversky and Circle.

``keras.losses`` exports them beside the others (function and class forms,
``get``/``serialize``/``deserialize``); the formulas are Keras 3's, term for term.

Example:
  >>> loss = keras.losses.BinaryFocalCrossentropy(gamma=2.0, from_logits=True)
  >>> loss(tl.constant([[0.0, 1.0]]), tl.constant([[-1.5, 0.8]]))
"""
import warnings

import tensorlab as tl
from tensorlab.keras import backend as _backend
from tensorlab.keras import losses as _losses

# ---------------------------------------------------------------------------- function forms


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy scaled by the focal factor ``(1 - p_t) ** gamma``, averaged over ``axis``.

    ``p_t`` is the predicted probability of the true class. With
    ``apply_class_balancing``, class 1 is weighted by ``alpha`` and class 0 by ``1 - alpha``.

    Args:
      y_true: labels in [0, 1], shape ``(batch, d0, .. dN)``.
      y_pred: probabilities (logits with ``from_logits=True``), same shape.
      label_smoothing: squeezes the labels towards 0.5 by this fraction.

    Returns:
      Per-sample losses, shape ``(batch, d0, .. dN-1)``.
    """
    y_true, y_pred = _losses._prepare("binary_focal_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = tl.sigmoid(y_pred)
    eps = _backend.epsilon()
    p = tl.clip_by_value(y_pred, eps, 1.0 - eps)
    bce = -(y_true * tl.log(p) + (1.0 - y_true) * tl.log(1.0 - p))
    # Keras takes p_t from the unclipped probabilities.
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = tl.pow(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return tl.reduce_mean(focal, axis=axis)


def _on_device_of(x, value):
    """A Python number stays one; a list becomes a constant on ``x``'s device, in its dtype."""
    if isinstance(value, (int, float)):
        return float(value)
    with tl.device(x.device):
        return tl.constant(value, dtype=x.dtype)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0,
                                   axis=-1):
    """Categorical cross-entropy with each class term scaled by ``alpha * (1 - p) ** gamma``.

    Args:
      y_true: one-hot (or soft) labels.
      y_pred: class probabilities (logits with ``from_logits=True``), classes on ``axis``.
      alpha: a number, or one weight per class.
      label_smoothing: mixes the labels with the uniform distribution by this fraction.

    Returns:
      Per-sample losses (``axis`` reduced).
    """
    y_true, y_pred = _losses._prepare("categorical_focal_crossentropy", y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn("In loss categorical_focal_crossentropy, expected y_pred.shape to be (batch_size, "
                      f"num_classes) with num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. "
                      "Consider using 'binary_crossentropy' if you only have 2 classes.", SyntaxWarning,
                      stacklevel=2)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = tl.nn.softmax(y_pred, axis=axis)
    eps = _backend.epsilon()
    out = y_pred / tl.reduce_sum(y_pred, axis=axis, keepdims=True)
    out = tl.clip_by_value(out, eps, 1.0 - eps)
    cce = -y_true * tl.log(out)
    weight = tl.pow(1.0 - out, gamma) * _on_device_of(out, alpha)
    return tl.reduce_sum(weight * cce, axis=axis)


def dice(y_true, y_pred, axis=None):
    """``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)``.

    Args:
      axis: the axes summed over (None: all, giving one scalar for the batch).
    """
    y_true, y_pred = _losses._prepare("dice", y_true, y_pred)
    inter = tl.reduce_sum(y_true * y_pred, axis=axis)
    denom = tl.reduce_sum(y_true, axis=axis) + tl.reduce_sum(y_pred, axis=axis) + _backend.epsilon()
    return 1.0 - 2.0 * inter / denom


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """``1 - TP / (TP + alpha * sum((1 - y_pred) * y_true) + beta * sum(y_pred * (1 - y_true)) + eps)``.

    With ``alpha = beta = 0.5`` it is the Dice loss. The terms are Keras' (its
    ``alpha`` multiplies the missed-positive term).
    """
    y_true, y_pred = _losses._prepare("tversky", y_true, y_pred)
    inter = tl.reduce_sum(y_true * y_pred, axis=axis)
    fp = tl.reduce_sum((1.0 - y_pred) * y_true, axis=axis)
    fn = tl.reduce_sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - inter / (inter + fp * alpha + fn * beta + _backend.epsilon())


def _pos_neg_masks(query_labels, key_labels, remove_diagonal):
    q = tl.reshape(query_labels, (-1, 1))
    k = tl.reshape(key_labels, (-1, 1))
    pos = tl.equal(q, tl.transpose(k))
    neg = tl.logical_not(pos)
    if remove_diagonal:
        with tl.device(pos.device):
            eye = tl.eye(int(q.shape[0]), int(k.shape[0]), dtype="bool")
        pos = tl.logical_and(pos, tl.logical_not(eye))
    return pos, neg


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True, gamma=80, margin=0.4):
    """Circle loss (Sun et al., 2020) of L2-normalized embeddings with integer labels.

    Args:
      y_true: integer labels, shape ``(batch,)``.
      y_pred: L2-normalized embeddings, shape ``(batch, dim)``.
      ref_labels, ref_embeddings: the pairs' other side (default: the batch itself).
      remove_diagonal: leave each sample's pair with itself out of the positives.
      gamma: the scale of the similarity scores.
      margin: the relaxation margin.

    Returns:
      One loss per sample, 0 for a sample without positive or negative pairs.
    """
    y_pred = _losses._t(y_pred, _backend.floatx())
    y_true = tl.cast(_losses._t(y_true), "int32")
    ref_embeddings = y_pred if ref_embeddings is None else tl.cast(_losses._t(ref_embeddings), y_pred.dtype)
    ref_labels = y_true if ref_labels is None else tl.cast(_losses._t(ref_labels), "int32")
    dist = tl.maximum(1.0 - tl.matmul(y_pred, ref_embeddings, transpose_b=True), 0.0)
    pos, neg = _pos_neg_masks(y_true, ref_labels, remove_diagonal)
    posf, negf = tl.cast(pos, dist.dtype), tl.cast(neg, dist.dtype)
    pos_w = tl.maximum((margin + dist) * posf, 0.0)
    neg_w = tl.maximum((1.0 + margin - dist) * negf, 0.0)
    pos_d = -gamma * pos_w * (margin - dist)
    neg_d = gamma * neg_w * ((1.0 - margin) - dist)
    minus_inf = tl.zeros_like(dist) - float("inf")
    p_loss = tl.reduce_logsumexp(tl.where(pos, pos_d, minus_inf), axis=1)
    n_loss = tl.reduce_logsumexp(tl.where(neg, neg_d, minus_inf), axis=1)
    return tl.math.softplus(p_loss + n_loss)


# ---------------------------------------------------------------------------- classes

BinaryFocalCrossentropy = _losses._loss_class(
    "BinaryFocalCrossentropy", binary_focal_crossentropy, "binary_focal_crossentropy",
    [("apply_class_balancing", False), ("alpha", 0.25), ("gamma", 2.0), ("from_logits", False),
     ("label_smoothing", 0.0), ("axis", -1)])
CategoricalFocalCrossentropy = _losses._loss_class(
    "CategoricalFocalCrossentropy", categorical_focal_crossentropy, "categorical_focal_crossentropy",
    [("alpha", 0.25), ("gamma", 2.0), ("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)])


class Dice(_losses.LossFunctionWrapper):
    """The Dice loss, ``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred))``.

    Args:
      axis: the axes summed over; None sums over everything (one value per batch);
        e.g. ``(1, 2, 3)`` gives one loss per image.

    Example:
      >>> keras.losses.Dice(axis=(1, 2, 3), reduction="none")(masks, predicted_masks)
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)


class Tversky(_losses.LossFunctionWrapper):
    """The Tversky loss: Dice with the two kinds of error weighted by ``alpha`` and ``beta``.

    Args:
      alpha: weight of the ``sum((1 - y_pred) * y_true)`` term (default 0.5).
      beta: weight of the ``sum(y_pred * (1 - y_true))`` term (default 0.5).
      axis: the axes summed over (None: all).
    """

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky", axis=None,
                 dtype=None):
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha, beta=beta, axis=axis)


class Circle(_losses.LossFunctionWrapper):
    """Circle loss between integer labels and L2-normalized embeddings (metric learning).

    As in Keras, samples whose loss is 0 (no positive or no negative pair in the
    batch) are masked: ``"sum_over_batch_size"`` averages over the other samples only.

    Args:
      gamma: the scale of the similarity scores (default 80).
      margin: the relaxation margin (default 0.4).
      remove_diagonal: leave each sample's pair with itself out of the positives.

    Example:
      >>> model.compile(optimizer="adam", loss=keras.losses.Circle())  # model ends in UnitNormalization
    """

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction="sum_over_batch_size", name="circle",
                 dtype=None):
        super().__init__(circle, reduction=reduction, name=name, dtype=dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)

    def __call__(self, y_true, y_pred, sample_weight=None):
        losses = self.call(y_true, _losses.at_least_float32(y_pred, self.dtype))
        if self.reduction in ("none", "sum"):
            return _losses.reduce_weighted_values(losses, sample_weight, self.reduction)
        # The masked samples add 0 to the sum; only the divisor leaves them out.
        mask = tl.cast(tl.greater(losses, 0.0), losses.dtype)
        total = _losses.reduce_weighted_values(losses, sample_weight, "sum")
        if self.reduction == "mean" and sample_weight is not None:
            count = _losses.reduce_weighted_values(mask, sample_weight, "sum")
            return total / tl.maximum(count, _backend.epsilon())
        return total / (tl.reduce_sum(mask) + _backend.epsilon())


# serialize_keras_object records a class's module: the public one, as Keras records its export name.
for _cls in (Dice, Tversky, Circle):
    _cls.__module__ = _losses.__name__
del _cls

FUNCTIONS = (binary_focal_crossentropy, categorical_focal_crossentropy, dice, tversky, circle)
CLASSES = (BinaryFocalCrossentropy, CategoricalFocalCrossentropy, Dice, Tversky, Circle)
