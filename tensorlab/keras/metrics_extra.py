"""More Keras 3 metrics: F-scores, R2, correlation coefficients.

``keras.metrics`` exports them beside the others. State lives in non-trainable
variables made with ``add_variable``; the F-scores and R2 make theirs on the first
``update_state``, when the number of classes is known (as in Keras).

Example:
  >>> m = keras.metrics.F1Score(average="macro", threshold=0.5)
  >>> m.update_state(y_true, y_pred)
  >>> float(m.result())
"""
import warnings

import tensorlab as tl
from tensorlab.keras import backend as _backend
from tensorlab.keras import losses as _losses
from tensorlab.keras import metrics as _metrics


def _number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


_as = _metrics._as_dtype


def _check_2d(cls_name, y_true, y_pred):
    st, sp = tuple(y_true.shape), tuple(y_pred.shape)
    if len(st) != 2 or len(sp) != 2 or st[-1] is None or sp[-1] is None:
        raise ValueError(f"{cls_name} expects 2D inputs with shape (batch_size, output_dim), with output_dim "
                         f"fully defined; received y_pred.shape={sp} and y_true.shape={st}")


class FBetaScore(_metrics.Metric):
    """The F-beta score, ``(1 + b2) * precision * recall / (b2 * precision + recall)`` with ``b2 = beta**2``.

    For multi-class and multi-label classification, with ``y_true`` and ``y_pred`` of
    shape ``(batch, num_classes)``.

    Args:
      average: None (one score per class), ``"micro"`` (from the counts over all
        classes), ``"macro"`` (mean of the class scores) or ``"weighted"`` (mean
        weighted by each class's support).
      beta: the weight of recall (> 0).
      threshold: predictions above it count as 1; None: the arg-max of each row is 1.

    Example:
      >>> m = keras.metrics.FBetaScore(beta=2.0, threshold=0.5)
      >>> m.update_state(np.array([[1, 1, 1], [1, 0, 0]]), np.array([[0.2, 0.6, 0.7], [0.6, 0.8, 0.0]]))
    """

    _AVERAGES = (None, "micro", "macro", "weighted")

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        cls = type(self).__name__
        if average not in self._AVERAGES:
            raise ValueError(f"{cls}: invalid average={average!r}; valid: None, 'micro', 'macro', 'weighted'")
        if not _number(beta) or beta <= 0:
            raise ValueError(f"{cls}: beta must be a number > 0, got {beta!r}")
        if threshold is not None and (not _number(threshold) or not 0 < threshold <= 1):
            raise ValueError(f"{cls}: threshold must be None or a number with 0 < threshold <= 1, got "
                             f"{threshold!r}")
        super().__init__(name, dtype)
        self.average = average
        self.beta = float(beta)
        self.threshold = None if threshold is None else float(threshold)
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true, y_pred):
        _check_2d(type(self).__name__, y_true, y_pred)
        shape = () if self.average == "micro" else (int(y_pred.shape[-1]),)
        self.true_positives = self.add_variable(shape, name="true_positives")
        self.false_positives = self.add_variable(shape, name="false_positives")
        self.false_negatives = self.add_variable(shape, name="false_negatives")
        self.intermediate_weights = self.add_variable(shape, name="intermediate_weights")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _as(y_true, self.dtype), _as(y_pred, self.dtype)
        if not self._built:
            self._build(y_true, y_pred)
        if self.threshold is None:
            top = tl.reduce_max(y_pred, axis=-1, keepdims=True)
            # A row of zeros has no arg-max class.
            pred = tl.logical_and(tl.greater_equal(y_pred, top), tl.greater(tl.abs(y_pred), 1e-9))
        else:
            pred = tl.greater(y_pred, self.threshold)
        pred = tl.cast(pred, self.dtype)
        w = None if sample_weight is None else tl.expand_dims(_as(sample_weight, self.dtype), 1)

        def add(var, value):
            var.assign_add(tl.reduce_sum(value if w is None else value * w, axis=self.axis))

        add(self.true_positives, pred * y_true)
        add(self.false_positives, pred * (1.0 - y_true))
        add(self.false_negatives, (1.0 - pred) * y_true)
        add(self.intermediate_weights, y_true)

    def result(self):
        if not self._built:
            return tl.constant(0.0, dtype=self.dtype)
        eps = _backend.epsilon()
        tp = self.true_positives.read_value()
        precision = tp / (tp + self.false_positives.read_value() + eps)
        recall = tp / (tp + self.false_negatives.read_value() + eps)
        b2 = self.beta ** 2
        score = precision * recall / (b2 * precision + recall + eps) * (1.0 + b2)
        if self.average == "weighted":
            support = self.intermediate_weights.read_value()
            return tl.reduce_sum(score * (support / (tl.reduce_sum(support) + eps)))
        if self.average is not None:
            return tl.reduce_mean(score)
        return score

    def get_config(self):
        cfg = super().get_config()
        cfg.update({"average": self.average, "beta": self.beta, "threshold": self.threshold})
        return cfg


class F1Score(FBetaScore):
    """The F1 score, ``2 * precision * recall / (precision + recall)`` (``FBetaScore`` with beta 1).

    Args:
      average: None, ``"micro"``, ``"macro"`` or ``"weighted"`` (see ``FBetaScore``).
      threshold: predictions above it count as 1; None: the arg-max of each row is 1.
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        cfg = super().get_config()
        del cfg["beta"]
        return cfg


class R2Score(_metrics.Metric):
    """The coefficient of determination, ``1 - sum((y_true - y_pred)**2) / sum((y_true - mean(y_true))**2)``.

    Args:
      class_aggregation: how the scores of the output columns combine: None (one per
        column), ``"uniform_average"`` or ``"variance_weighted_average"``.
      num_regressors: the number of regressors of the adjusted R2 (0: plain R2). As in
        Keras, the sample count it uses is the number of elements seen.

    Example:
      >>> m = keras.metrics.R2Score()
      >>> m.update_state(np.array([[1.0], [4.0], [3.0]]), np.array([[2.0], [4.0], [4.0]]))
      >>> float(m.result())  # 0.5714...
    """

    _AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        if class_aggregation not in self._AGGREGATIONS:
            raise ValueError(f"R2Score: invalid class_aggregation={class_aggregation!r}; valid: None, "
                             "'uniform_average', 'variance_weighted_average'")
        if not _number(num_regressors) or num_regressors < 0:
            raise ValueError(f"R2Score: num_regressors must be a number >= 0, got {num_regressors!r}")
        super().__init__(name, dtype)
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), name="num_samples")
        self._built = False

    def _build(self, y_true, y_pred):
        _check_2d("R2Score", y_true, y_pred)
        n = (int(y_pred.shape[-1]),)
        self.squared_sum = self.add_variable(n, name="squared_sum")
        self.sum = self.add_variable(n, name="sum")
        self.total_mse = self.add_variable(n, name="residual")
        self.count = self.add_variable(n, name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _losses._prepare("R2Score", _as(y_true, self.dtype), _as(y_pred, self.dtype))
        if not self._built:
            self._build(y_true, y_pred)
        w = tl.ones_like(y_true) if sample_weight is None else _as(sample_weight, self.dtype)
        if w.ndim == 1:
            w = tl.expand_dims(w, 1)
        w = w * tl.ones_like(y_true)
        wy = y_true * w
        self.sum.assign_add(tl.reduce_sum(wy, axis=0))
        self.squared_sum.assign_add(tl.reduce_sum(y_true * wy, axis=0))
        self.total_mse.assign_add(tl.reduce_sum(tl.square(y_true - y_pred) * w, axis=0))
        self.count.assign_add(tl.reduce_sum(w, axis=0))
        self.num_samples.assign_add(float(y_true.shape.num_elements()))

    def result(self):
        if not self._built:
            return tl.constant(0.0, dtype=self.dtype)
        s = self.sum.read_value()
        total = self.squared_sum.read_value() - s * (s / self.count.read_value())
        raw = 1.0 - self.total_mse.read_value() / total
        raw = tl.where(tl.math.is_inf(raw), tl.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = tl.reduce_mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = tl.reduce_sum(total * raw) / tl.reduce_sum(total)
        else:
            score = raw
        if self.num_regressors:
            n, p = float(self.num_samples.numpy()), float(self.num_regressors)
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. Falling back "
                              "to standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard R2 score.",
                              stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * ((n - 1.0) / (n - p - 1.0))
        return score

    def get_config(self):
        cfg = super().get_config()
        cfg.update({"class_aggregation": self.class_aggregation, "num_regressors": self.num_regressors})
        return cfg


# ---------------------------------------------------------------------------- correlations

def pearson_correlation(y_true, y_pred, axis=-1):
    """The Pearson correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``.

    Each side is centred and divided by its standard deviation (plus epsilon), and
    the products are averaged along ``axis``.
    """
    y_true, y_pred = _losses._prepare("pearson_correlation", y_true, y_pred)
    eps = _backend.epsilon()
    t = y_true - tl.reduce_mean(y_true, axis=axis, keepdims=True)
    p = y_pred - tl.reduce_mean(y_pred, axis=axis, keepdims=True)
    t = t / (tl.math.reduce_std(t, axis=axis, keepdims=True) + eps)
    p = p / (tl.math.reduce_std(p, axis=axis, keepdims=True) + eps)
    return tl.reduce_mean(t * p, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``:
    ``2 * cov / (var(y_true) + var(y_pred) + (mean(y_true) - mean(y_pred))**2)``."""
    y_true, y_pred = _losses._prepare("concordance_correlation", y_true, y_pred)
    t_mean = tl.reduce_mean(y_true, axis=axis, keepdims=True)
    p_mean = tl.reduce_mean(y_pred, axis=axis, keepdims=True)
    t_var = tl.math.reduce_variance(y_true - t_mean, axis=axis, keepdims=True)
    p_var = tl.math.reduce_variance(y_pred - p_mean, axis=axis, keepdims=True)
    # Keras centres y_true on y_pred's mean here; the mean over `axis` is the same.
    covar = (y_true - p_mean) * (y_pred - p_mean)
    norm = t_var + p_var + tl.square(t_mean - p_mean)
    return tl.reduce_mean(2.0 * covar / (norm + _backend.epsilon()), axis=axis)


class _Correlation(_metrics.MeanMetricWrapper):
    def __init__(self, fn, name, dtype, axis):
        super().__init__(fn, name=name, dtype=dtype, axis=axis)
        self.axis = axis


class PearsonCorrelation(_Correlation):
    """The mean over samples of the Pearson correlation coefficient along ``axis``.

    Args:
      axis: the axis (or axes) the coefficient is computed along (default -1).
    """

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name, dtype, axis)


class ConcordanceCorrelation(_Correlation):
    """The mean over samples of the concordance correlation coefficient along ``axis``.

    Args:
      axis: the axis (or axes) the coefficient is computed along (default -1).
    """

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name, dtype, axis)
