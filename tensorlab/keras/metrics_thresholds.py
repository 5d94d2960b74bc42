"""Keras 3 metrics read off a sweep of thresholds: ``SensitivityAtSpecificity``,
``SpecificityAtSensitivity``, ``PrecisionAtRecall``, ``RecallAtPrecision``; and the hinge
metrics ``SquaredHinge`` and ``CategoricalHinge``.

Like ``AUC``, they count true/false positives/negatives at ``num_thresholds`` thresholds
evenly spaced in [0, 1] (predictions are clipped to [0, 1]; a prediction counts as
positive above a threshold), then report the best value of one rate among the
thresholds where the other rate reaches the target (0 if none does).

Example:
  >>> m = keras.metrics.PrecisionAtRecall(0.5)
  >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
  >>> float(m.result())
  0.5
"""
import tensorlab as tl
from tensorlab.keras import losses as _losses
from tensorlab.keras import metrics as _metrics


class SensitivitySpecificityBase(_metrics._Confusion):
    """Confusion counts at ``num_thresholds`` thresholds and a target ``value`` of one rate.

    Subclasses define ``result`` with ``_best_where(constrained, dependent)``.
    """

    _target = "value"

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        cls = type(self).__name__
        if not isinstance(num_thresholds, int) or num_thresholds <= 0:
            raise ValueError(f"{cls}: num_thresholds must be an integer > 0, got num_thresholds={num_thresholds!r}")
        if not 0 <= value <= 1:
            raise ValueError(f"{cls}: {self._target} must be in the range [0, 1], got {self._target}={value}")
        if num_thresholds == 1:
            thresholds = [0.5]
        else:
            thresholds = [0.0] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
        super().__init__(thresholds, None, class_id, name, dtype)
        self._single = False
        self.value = value
        self.num_thresholds = num_thresholds

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds a batch's counts; ``sample_weight`` weights each prediction (0 masks it)."""
        y_pred = tl.clip_by_value(_metrics._t(y_pred), 0.0, 1.0)
        super().update_state(y_true, y_pred, sample_weight)

    def _rates(self):
        tp, fp = self.true_positives.read_value(), self.false_positives.read_value()
        fn, tn = self.false_negatives.read_value(), self.true_negatives.read_value()
        return {"sensitivity": _metrics._div0(tp, tp + fn), "specificity": _metrics._div0(tn, tn + fp),
                "precision": _metrics._div0(tp, tp + fp)}

    def _best_where(self, constrained, dependent):
        """The largest ``dependent`` rate among thresholds where ``constrained >= value`` (else 0)."""
        feasible = tl.greater_equal(constrained, self.value)
        return tl.maximum(tl.reduce_max(tl.where(feasible, dependent, tl.zeros_like(dependent))), 0.0)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._target: self.value}


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity ``tp / (tp + fn)`` where the specificity ``tn / (tn + fp)`` is >= ``specificity``.

    Args:
      specificity: the target, in [0, 1].
      num_thresholds: thresholds evenly spaced in [0, 1] (1: the single threshold 0.5).
      class_id: the class (last-axis index) to score, for multi-class predictions.

    Example:
      >>> m = keras.metrics.SensitivityAtSpecificity(0.5)
      >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])   # result: 0.5
    """

    _target = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)
        self.specificity = specificity

    def result(self):
        r = self._rates()
        return self._best_where(r["specificity"], r["sensitivity"])


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity where the sensitivity is >= ``sensitivity`` (see ``SensitivityAtSpecificity``).

    Example:
      >>> m = keras.metrics.SpecificityAtSensitivity(0.5)
      >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])   # result: 0.6667
    """

    _target = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)
        self.sensitivity = sensitivity

    def result(self):
        r = self._rates()
        return self._best_where(r["sensitivity"], r["specificity"])


class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision ``tp / (tp + fp)`` where the recall ``tp / (tp + fn)`` is >= ``recall``.

    Example:
      >>> m = keras.metrics.PrecisionAtRecall(0.5)
      >>> m.update_state([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])   # result: 0.5
    """

    _target = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)
        self.recall = recall

    def result(self):
        r = self._rates()
        return self._best_where(r["sensitivity"], r["precision"])


class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall where the precision is >= ``precision`` (0 when no threshold reaches it).

    Example:
      >>> m = keras.metrics.RecallAtPrecision(0.8)
      >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])   # result: 0.5
    """

    _target = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)
        self.precision = precision

    def result(self):
        r = self._rates()
        return self._best_where(r["precision"], r["sensitivity"])


SquaredHinge = _metrics._wrapper("SquaredHinge", _losses.squared_hinge, "squared_hinge")
CategoricalHinge = _metrics._wrapper("CategoricalHinge", _losses.categorical_hinge, "categorical_hinge")

CLASSES = (SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision, SquaredHinge,
           CategoricalHinge)
# Keras 3 exports these loss functions from keras.metrics too.
FUNCTIONS = ("binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
             "categorical_focal_crossentropy", "categorical_hinge", "hinge", "huber", "kl_divergence", "log_cosh",
             "mean_absolute_error", "mean_absolute_percentage_error", "mean_squared_error",
             "mean_squared_logarithmic_error", "poisson", "sparse_categorical_crossentropy", "squared_hinge")
