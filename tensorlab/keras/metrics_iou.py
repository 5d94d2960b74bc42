"""Intersection-over-union metrics (``keras.metrics.IoU`` and its variants).

Predictions are accumulated in a ``(num_classes, num_classes)`` confusion matrix
(rows: true class, columns: predicted class), weighted by ``sample_weight``; the
IoU of class ``c`` is ``cm[c, c] / (row_sum[c] + col_sum[c] - cm[c, c])``.

Example:
  >>> m = keras.metrics.MeanIoU(num_classes=2)
  >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
  >>> float(m.result())  # (1/3 + 1/3) / 2
  0.33333334
"""
import tensorlab as tl
from tensorlab.keras import backend as _backend
from tensorlab.keras import metrics as _metrics

_as = _metrics._as_dtype


def _ids_error(cls_name, ids, num_classes):
    return ValueError(f"{cls_name}: target_class_ids must be a non-empty list of class ids in "
                      f"[0, {num_classes}); got {ids!r}")


class _IoUBase(_metrics.Metric):
    """The confusion matrix of integer (or arg-max) labels and predictions, as a variable."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
            raise ValueError(f"{type(self).__name__}: num_classes must be an integer >= 1, got {num_classes!r}")
        # float32 by default, as Keras: the counts are summed weights.
        super().__init__(name=name, dtype=dtype or "float32")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable((num_classes, num_classes), name="total_confusion_matrix")

    def _labels(self, x, sparse):
        if not sparse:
            x = tl.argmax(x.read_value() if isinstance(x, tl.Variable) else tl.convert_to_tensor(x), axis=self.axis)
        return tl.reshape(_as(x, self.dtype), (-1,))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds the batch's (weighted) pairs to the confusion matrix.

        Args:
          y_true, y_pred: class ids (or one-hot/scores with ``sparse_y_* = False``), any shape.
          sample_weight: a scalar or weights broadcastable to ``y_true``; 0 masks a value.
        """
        y_true = self._labels(y_true, self.sparse_y_true)
        y_pred = self._labels(y_pred, self.sparse_y_pred)
        w = tl.ones_like(y_true) if sample_weight is None else \
            tl.reshape(_as(sample_weight, self.dtype), (-1,)) * tl.ones_like(y_true)
        if self.ignore_class is not None:
            valid = tl.cast(tl.not_equal(y_true, float(self.ignore_class)), self.dtype)
            y_true, y_pred, w = y_true * valid, y_pred * valid, w * valid
        t, p = tl.cast(y_true, "int32"), tl.cast(y_pred, "int32")
        self._check_range(t, p)
        n = self.num_classes
        cm = tl.matmul(tl.one_hot(t, n, dtype=self.dtype) * tl.expand_dims(w, -1), tl.one_hot(p, n, dtype=self.dtype),
                       transpose_a=True)
        self.total_cm.assign_add(cm)

    def _check_range(self, *ids):
        # Only where the values are on the host: no device sync on a GPU.
        n = self.num_classes
        for x in ids:
            if x._device.kind != "cpu":
                continue
            arr = x.numpy()
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                bad = sorted(set(arr[(arr < 0) | (arr >= n)].tolist()))[:5]
                raise ValueError(f"{type(self).__name__}: labels and predictions must be class ids in [0, {n}) "
                                 f"(num_classes={n}); received {bad}")


class IoU(_IoUBase):
    """The mean IoU of the classes in ``target_class_ids`` (the IoU of one class for one id).

    Classes with no true or predicted value are left out of the mean.

    Args:
      num_classes: the number of classes (the confusion matrix is num_classes x num_classes).
      target_class_ids: the classes whose IoUs are averaged.
      ignore_class: a label value whose pairs are not counted (e.g. a "void" class).
      sparse_y_true, sparse_y_pred: False: take the arg-max over ``axis`` first.
      axis: the class axis of dense labels or predictions.

    Example:
      >>> m = keras.metrics.IoU(num_classes=2, target_class_ids=[0])
      >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
      >>> float(m.result())
      0.33333334
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_true=True,
                 sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        ids = list(target_class_ids) if isinstance(target_class_ids, (list, tuple)) else None
        if not ids or any(not isinstance(i, int) or not 0 <= i < num_classes for i in ids):
            raise _ids_error(type(self).__name__, target_class_ids, num_classes)
        self.target_class_ids = ids
        self._ids = {}  # device -> the ids as a tensor there

    def result(self):
        cm = self.total_cm.read_value()
        tp = tl.linalg.diag_part(cm)
        denom = tl.reduce_sum(cm, axis=0) + tl.reduce_sum(cm, axis=1) - tp
        ids = self._ids.get(cm.device)
        if ids is None:
            with tl.device(cm.device):
                ids = self._ids[cm.device] = tl.constant(self.target_class_ids, dtype="int32")
        tp, denom = tl.gather(tp, ids), tl.gather(denom, ids)
        eps = _backend.epsilon()
        # A class with an empty row and column has no IoU: it is left out of the mean.
        valid = tl.reduce_sum(tl.cast(tl.greater(denom, 1e-9), self.dtype))
        return tl.reduce_sum(tp / (denom + eps), axis=-1) / (valid + eps)

    def get_config(self):
        cfg = super().get_config()
        cfg.update({"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                    "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                    "sparse_y_pred": self.sparse_y_pred, "axis": self.axis})
        return cfg


class BinaryIoU(IoU):
    """IoU of a binary task: predictions ``>= threshold`` are class 1, the rest class 0.

    Args:
      target_class_ids: ``[0]``, ``[1]`` or ``[0, 1]`` (the mean of both IoUs).
      threshold: the probability (or logit) from which a prediction is class 1.

    Example:
      >>> m = keras.metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
      >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
      >>> float(m.result())
      0.33333334
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tl.cast(tl.greater_equal(_as(y_pred, self.dtype), self.threshold), self.dtype)
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold, "name": self.name,
                "dtype": self.dtype}


class MeanIoU(IoU):
    """The mean of the IoUs of all ``num_classes`` classes (those seen in labels or predictions).

    Args:
      num_classes: the number of classes.
      ignore_class: a label value whose pairs are not counted.
      sparse_y_true, sparse_y_pred: False: take the arg-max over ``axis`` first.

    Example:
      >>> m = keras.metrics.MeanIoU(num_classes=2)
      >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1], sample_weight=[0.3, 0.3, 0.3, 0.1])
      >>> float(m.result())
      0.23809525
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_true=True, sparse_y_pred=True,
                 axis=-1):
        ids = list(range(num_classes)) if isinstance(num_classes, int) else [0]
        super().__init__(num_classes, ids, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """``IoU`` for one-hot labels: labels (and, by default, predictions) go through arg-max first.

    Args:
      num_classes: the number of classes (the size of the one-hot axis).
      target_class_ids: the classes whose IoUs are averaged.
      sparse_y_pred: True when predictions are already class ids.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None, sparse_y_pred=False,
                 axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids, "name": self.name,
                "dtype": self.dtype, "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` for one-hot labels: labels (and, by default, predictions) go through arg-max first.

    Args:
      num_classes: the number of classes (the size of the one-hot axis).
      sparse_y_pred: True when predictions are already class ids.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}
