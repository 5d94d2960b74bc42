"""Stateful metrics (``keras.metrics``): ``update_state`` accumulates, ``result``
reads, ``reset_state`` clears. State lives in non-trainable ``tl.Variable``s.

Example:
  >>> m = keras.metrics.SparseCategoricalAccuracy()
  >>> m.update_state([1, 2], [[0.1, 0.9, 0.0], [0.8, 0.1, 0.1]])
  >>> float(m.result())
  0.5
"""
import tensorlab as tl
from tensorlab.keras import _ids
from tensorlab.keras import backend as _backend
from tensorlab.keras import losses as _losses


def _t(x):
    if isinstance(x, tl.Tensor):
        return x
    if isinstance(x, tl.Variable):
        return x.read_value()
    kind = getattr(getattr(x, "dtype", None), "kind", None)
    if kind == "f":
        return tl.convert_to_tensor(x, dtype=_backend.floatx())
    return tl.convert_to_tensor(x)


def _as_dtype(x, dtype):
    """``x`` as a tensor of ``dtype``; host values convert straight to it (no floatx rounding)."""
    if isinstance(x, tl.Variable):
        x = x.read_value()
    if not isinstance(x, tl.Tensor):
        return tl.convert_to_tensor(x, dtype=dtype)
    return x if x.dtype.name == dtype else tl.cast(x, dtype)


class Metric:
    """Base class of metrics.

    Subclasses create state with ``add_variable`` in ``__init__`` and
    implement ``update_state`` and ``result``.
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or _backend.to_snake_case(type(self).__name__)
        self.dtype = dtype or _backend.floatx()
        self._variables = []

    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """A state variable. Under a ``tl.distribute`` strategy, updates made in several
        replicas combine with ``aggregation`` (``"sum"``: every replica's rows count)."""
        from tensorlab.keras import initializers
        value = initializers.get(initializer)(tuple(shape), dtype=dtype or self.dtype)
        v = tl.Variable(value, trainable=False, name=f"{self.name}/{name or 'var'}", aggregation=aggregation)
        v._keras_attrs = {"initializer": value}
        self._variables.append(v)
        return v

    add_weight = add_variable

    @property
    def variables(self):
        return list(self._variables)

    def reset_state(self):
        """Sets every state variable back to its initial value."""
        for v in self._variables:
            v.assign(v._keras_attrs["initializer"])

    reset_states = reset_state

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Sum(Metric):
    """The (weighted) sum of all values seen."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")

    def update_state(self, values, sample_weight=None):
        values = _as_dtype(values, self.dtype)
        if sample_weight is not None:
            values = _losses.reduce_weighted_values(values, sample_weight, "none")
        self.total.assign_add(tl.reduce_sum(values))

    def result(self):
        return self.total.read_value()


class Mean(Metric):
    """The (weighted) mean of all values seen."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.total = self.add_variable(name="total")
        # Counts known on the host (unweighted values, Python weights) stay on the host:
        # reading the mean then costs one op and no device sync. Tensor weights go to
        # the ``count`` variable.
        self.count = self.add_variable(name="count")
        self._host_count = 0.0
        self._device_count = False

    def update_state(self, values, sample_weight=None):
        values = _as_dtype(values, self.dtype)
        n = values.shape.num_elements()
        if (sample_weight is None or isinstance(sample_weight, (int, float))) and \
                _backend.replica_context_of_many() is None:
            s = tl.reduce_sum(values) if values.ndim else values
            if sample_weight is not None and sample_weight != 1:
                s = s * float(sample_weight)
                n = n * float(sample_weight)
            self.total.assign_add(s)
            self._host_count += n
            return
        # Tensor weights, or a replica of a distributed step (whose count must add up
        # across replicas, so it goes to the ``count`` variable too).
        if sample_weight is None or isinstance(sample_weight, (int, float)):
            sample_weight = tl.constant(1.0 if sample_weight is None else float(sample_weight), dtype=self.dtype)
        sw = _as_dtype(sample_weight, self.dtype)
        weighted = _losses.reduce_weighted_values(values, sw, "none")
        self.total.assign_add(tl.reduce_sum(weighted))
        self.count.assign_add(tl.reduce_sum(tl.cast(sw, self.dtype) * tl.ones_like(weighted)))
        self._device_count = True

    def reset_state(self):
        super().reset_state()
        self._host_count = 0.0
        self._device_count = False

    def result(self):
        total = self.total.read_value()
        if not self._device_count:
            return total * (1.0 / self._host_count) if self._host_count else total * 0.0
        c = self.count.read_value() + self._host_count
        return total / tl.maximum(c, 1e-30)


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or fn.__name__, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, _losses.at_least_float32(y_pred), **self._fn_kwargs)
        super().update_state(values, sample_weight)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(self._fn_kwargs)
        return cfg

    @classmethod
    def from_config(cls, config):
        if cls is MeanMetricWrapper:
            raise ValueError("MeanMetricWrapper.from_config needs the wrapped function; use a named metric")
        return cls(**config)


# ---------------------------------------------------------------------------- accuracy functions

def _labels_like(y_true, y_pred):
    """Integer labels of rank ``y_pred.ndim - 1``."""
    y_true = _t(y_true)
    if y_true.ndim == y_pred.ndim and y_true.ndim > 0 and y_true.shape[-1] == 1:
        y_true = tl.squeeze(y_true, -1)
    return y_true


def accuracy(y_true, y_pred):
    """1.0 where ``y_true == y_pred`` exactly."""
    y_true, y_pred = _t(y_true), _t(y_pred)
    if y_true.dtype != y_pred.dtype:
        y_true = tl.cast(y_true, y_pred.dtype)
    return tl.cast(tl.equal(y_true, y_pred), _backend.floatx())


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where ``(y_pred > threshold) == y_true``, averaged over the last axis."""
    y_true, y_pred = _losses._prepare("binary_accuracy", y_true, y_pred)
    pred = tl.cast(tl.greater(y_pred, threshold), y_pred.dtype)
    return tl.reduce_mean(tl.cast(tl.equal(pred, y_true), _backend.floatx()), axis=-1)


def categorical_accuracy(y_true, y_pred):
    """1.0 where the arg-max of ``y_pred`` matches the arg-max of one-hot ``y_true``."""
    y_pred = _t(y_pred)
    return tl.cast(tl.equal(tl.argmax(_t(y_true), axis=-1), tl.argmax(y_pred, axis=-1)), _backend.floatx())


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where the arg-max of ``y_pred`` equals the integer label ``y_true``."""
    y_pred = _t(y_pred)
    labels = _labels_like(y_true, y_pred)
    pred = tl.argmax(y_pred, axis=-1)
    if labels.dtype is not pred.dtype:  # dtypes are singletons
        labels = tl.cast(labels, pred.dtype)
    return tl.cast(tl.equal(labels, pred), _backend.floatx())


def _in_top_k(y_pred, labels, k):
    idx = tl.math.top_k(y_pred, k=min(k, y_pred.shape[-1])).indices
    labels = tl.cast(labels, idx.dtype)
    hit = tl.equal(idx, tl.expand_dims(labels, -1))
    return tl.cast(tl.reduce_any(hit, axis=-1), _backend.floatx())


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return _in_top_k(_t(y_pred), tl.argmax(_t(y_true), axis=-1), k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = _t(y_pred)
    return _in_top_k(y_pred, _labels_like(y_true, y_pred), k)


def _wrapper(cls_name, fn, default_name, params=()):
    def __init__(self, *args, name=default_name, dtype=None, **kwargs):
        kw = dict(params)
        names = [p for p, _ in params]
        kw.update(zip(names, args))
        for k, v in kwargs.items():
            if k not in kw:
                raise TypeError(f"{cls_name}: unexpected keyword argument {k!r}; valid: "
                                f"{', '.join(names + ['name', 'dtype'])}")
            kw[k] = v
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **kw)
    return type(cls_name, (MeanMetricWrapper,), {"__init__": __init__, "__doc__": fn.__doc__})


Accuracy = _wrapper("Accuracy", accuracy, "accuracy")
BinaryAccuracy = _wrapper("BinaryAccuracy", binary_accuracy, "binary_accuracy", [("threshold", 0.5)])
CategoricalAccuracy = _wrapper("CategoricalAccuracy", categorical_accuracy, "categorical_accuracy")
SparseCategoricalAccuracy = _wrapper("SparseCategoricalAccuracy", sparse_categorical_accuracy,
                                     "sparse_categorical_accuracy")
TopKCategoricalAccuracy = _wrapper("TopKCategoricalAccuracy", top_k_categorical_accuracy,
                                   "top_k_categorical_accuracy", [("k", 5)])
SparseTopKCategoricalAccuracy = _wrapper("SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
                                         "sparse_top_k_categorical_accuracy", [("k", 5)])
MeanSquaredError = _wrapper("MeanSquaredError", _losses.mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _wrapper("MeanAbsoluteError", _losses.mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _wrapper("MeanAbsolutePercentageError", _losses.mean_absolute_percentage_error,
                                       "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _wrapper("MeanSquaredLogarithmicError", _losses.mean_squared_logarithmic_error,
                                       "mean_squared_logarithmic_error")
KLDivergence = _wrapper("KLDivergence", _losses.kl_divergence, "kl_divergence")
Poisson = _wrapper("Poisson", _losses.poisson, "poisson")
LogCoshError = _wrapper("LogCoshError", _losses.log_cosh, "logcosh")
Hinge = _wrapper("Hinge", _losses.hinge, "hinge")
BinaryCrossentropy = _wrapper("BinaryCrossentropy", _losses.binary_crossentropy, "binary_crossentropy",
                              [("from_logits", False), ("label_smoothing", 0.0)])
CategoricalCrossentropy = _wrapper("CategoricalCrossentropy", _losses.categorical_crossentropy,
                                   "categorical_crossentropy", [("from_logits", False), ("label_smoothing", 0.0)])
SparseCategoricalCrossentropy = _wrapper("SparseCategoricalCrossentropy", _losses.sparse_categorical_crossentropy,
                                         "sparse_categorical_crossentropy", [("from_logits", False)])


class RootMeanSquaredError(Mean):
    """``sqrt(mean((y_true - y_pred) ** 2))`` over everything seen."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _losses._prepare(self.name, y_true, y_pred)
        super().update_state(tl.square(y_pred - y_true), sample_weight)

    def result(self):
        return tl.sqrt(super().result())


class CosineSimilarity(MeanMetricWrapper):
    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(lambda t, p: -_losses.cosine_similarity(t, p, axis=axis), name=name, dtype=dtype)


# ---------------------------------------------------------------------------- confusion-based

class _Confusion(Metric):
    """Counts of true/false positives/negatives at one or more thresholds."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None, default=0.5):
        super().__init__(name, dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        th = default if thresholds is None else thresholds
        self._single = not isinstance(th, (list, tuple))
        self.thresholds = [float(th)] if self._single else [float(x) for x in th]
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), name="true_positives")
        self.false_positives = self.add_variable((n,), name="false_positives")
        self.false_negatives = self.add_variable((n,), name="false_negatives")
        self.true_negatives = self.add_variable((n,), name="true_negatives")
        self._th = {}  # (dtype, device) -> the thresholds as a [1, n] tensor there

    def _prep(self, y_true, y_pred, sample_weight):
        y_pred = _t(y_pred)
        y_true = tl.cast(_t(y_true), y_pred.dtype)
        if self.top_k is not None:
            k = self.top_k
            kth = tl.reduce_min(tl.math.top_k(y_pred, k=k).values, axis=-1, keepdims=True)
            y_pred = tl.where(tl.greater_equal(y_pred, kth), y_pred, tl.zeros_like(y_pred) - 1e9)
        if self.class_id is not None:
            y_true = y_true[..., self.class_id]
            y_pred = y_pred[..., self.class_id]
        if y_true.ndim != y_pred.ndim:
            y_true = tl.reshape(y_true, y_pred.shape)
        p = tl.reshape(y_pred, (-1, 1))
        t = tl.reshape(y_true, (-1, 1))
        key = (p.dtype, p.device)
        th = self._th.get(key)
        if th is None:
            with tl.device(p.device):
                th = self._th[key] = tl.constant([self.thresholds], dtype=p.dtype)
        pos = tl.cast(tl.greater(p, th), self.dtype)
        lab = tl.cast(tl.greater(t, 0.5), self.dtype)
        if sample_weight is not None:
            w = tl.reshape(tl.cast(_t(sample_weight), self.dtype) * tl.ones_like(tl.cast(y_true, self.dtype)),
                           (-1, 1))
        else:
            w = None
        return pos, lab, w

    def update_state(self, y_true, y_pred, sample_weight=None):
        pos, lab, w = self._prep(y_true, y_pred, sample_weight)
        neg, nlab = 1.0 - pos, 1.0 - lab
        ww = (lambda x: x) if w is None else (lambda x: x * w)
        self.true_positives.assign_add(tl.reduce_sum(ww(pos * lab), axis=0))
        self.false_positives.assign_add(tl.reduce_sum(ww(pos * nlab), axis=0))
        self.false_negatives.assign_add(tl.reduce_sum(ww(neg * lab), axis=0))
        self.true_negatives.assign_add(tl.reduce_sum(ww(neg * nlab), axis=0))

    def _out(self, x):
        return tl.reshape(x, ()) if self._single else x

    def get_config(self):
        cfg = super().get_config()
        cfg.update({"thresholds": self.init_thresholds, "top_k": self.top_k, "class_id": self.class_id})
        return cfg


def _div0(a, b):
    return tl.where(tl.greater(b, 0.0), a / tl.maximum(b, 1e-30), tl.zeros_like(a))


class Precision(_Confusion):
    """``tp / (tp + fp)`` for predictions above ``thresholds`` (default 0.5)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="precision", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        tp = self.true_positives.read_value()
        return self._out(_div0(tp, tp + self.false_positives.read_value()))


class Recall(_Confusion):
    """``tp / (tp + fn)`` for predictions above ``thresholds`` (default 0.5)."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name="recall", dtype=None):
        super().__init__(thresholds, top_k, class_id, name, dtype)

    def result(self):
        tp = self.true_positives.read_value()
        return self._out(_div0(tp, tp + self.false_negatives.read_value()))


class AUC(_Confusion):
    """Area under the ROC or precision-recall curve, from counts at ``num_thresholds`` thresholds.

    Args:
      num_thresholds: number of thresholds evenly spaced in [0, 1].
      curve: ``"ROC"`` or ``"PR"``.
      from_logits: apply a sigmoid to predictions first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name="auc",
                 dtype=None, thresholds=None, multi_label=False, num_labels=None, label_weights=None,
                 from_logits=False):
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f"AUC: invalid curve {curve!r}; valid: 'ROC', 'PR'")
        if thresholds is None:
            if num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
            eps = 1e-7
            thresholds = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            thresholds = [0.0 - eps] + thresholds + [1.0 + eps]
        else:
            thresholds = [0.0 - 1e-7] + list(thresholds) + [1.0 + 1e-7]
        self.num_thresholds = len(thresholds)
        self.curve = curve.upper()
        self.summation_method = summation_method
        self.from_logits = from_logits
        super().__init__(list(thresholds), None, None, name, dtype)
        self._single = False

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            y_pred = tl.sigmoid(_t(y_pred))
        super().update_state(y_true, y_pred, sample_weight)

    def result(self):
        tp, fp = self.true_positives.read_value(), self.false_positives.read_value()
        fn, tn = self.false_negatives.read_value(), self.true_negatives.read_value()
        n = self.num_thresholds
        if self.curve == "PR":
            dtp = tp[: n - 1] - tp[1:]
            p = tp + fp
            dp = p[: n - 1] - p[1:]
            slope = _div0(dtp, tl.maximum(dp, 0.0))
            intercept = tp[1:] - slope * p[1:]
            ratio = tl.where(tl.logical_and(tl.greater(p[: n - 1], 0.0), tl.greater(p[1:], 0.0)),
                             _div0(p[: n - 1], tl.maximum(p[1:], 0.0)), tl.ones_like(p[1:]))
            inc = _div0(slope * (dtp + intercept * tl.log(ratio)), tl.maximum(tp[1:] + fn[1:], 0.0))
            return tl.reduce_sum(inc)
        tpr = _div0(tp, tp + fn)
        fpr = _div0(fp, fp + tn)
        return tl.reduce_sum((fpr[: n - 1] - fpr[1:]) * (tpr[: n - 1] + tpr[1:]) / 2.0)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "num_thresholds": self.num_thresholds,
                "curve": self.curve, "from_logits": self.from_logits}


class TruePositives(_Confusion):
    def __init__(self, thresholds=None, name="true_positives", dtype=None):
        super().__init__(thresholds, None, None, name, dtype)

    def result(self):
        return self._out(self.true_positives.read_value())


class FalsePositives(_Confusion):
    def __init__(self, thresholds=None, name="false_positives", dtype=None):
        super().__init__(thresholds, None, None, name, dtype)

    def result(self):
        return self._out(self.false_positives.read_value())


class TrueNegatives(_Confusion):
    def __init__(self, thresholds=None, name="true_negatives", dtype=None):
        super().__init__(thresholds, None, None, name, dtype)

    def result(self):
        return self._out(self.true_negatives.read_value())


class FalseNegatives(_Confusion):
    def __init__(self, thresholds=None, name="false_negatives", dtype=None):
        super().__init__(thresholds, None, None, name, dtype)

    def result(self):
        return self._out(self.false_negatives.read_value())


_CLASSES = {c.__name__: c for c in (
    Sum, Mean, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, KLDivergence, Poisson, LogCoshError, Hinge, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, RootMeanSquaredError, CosineSimilarity, Precision,
    Recall, AUC, TruePositives, FalsePositives, TrueNegatives, FalseNegatives)}
_NAMES = {
    "accuracy": Accuracy, "acc": Accuracy, "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy, "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError, "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError, "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError, "msle": MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError, "rmse": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError, "kl_divergence": KLDivergence, "kld": KLDivergence,
    "poisson": Poisson, "logcosh": LogCoshError, "log_cosh": LogCoshError, "hinge": Hinge,
    "binary_crossentropy": BinaryCrossentropy, "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy, "cosine_similarity": CosineSimilarity,
    "precision": Precision, "recall": Recall, "auc": AUC,
}

# F-scores, R2, correlations (metrics_extra.py) and the IoU family (metrics_iou.py) build on this module.
from tensorlab.keras.metrics_extra import (ConcordanceCorrelation, F1Score, FBetaScore,  # noqa: E402,F401
                                           PearsonCorrelation, R2Score, concordance_correlation,
                                           pearson_correlation)
from tensorlab.keras.metrics_iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU  # noqa: E402

for _cls in (FBetaScore, F1Score, R2Score, PearsonCorrelation, ConcordanceCorrelation, IoU, BinaryIoU, MeanIoU,
             OneHotIoU, OneHotMeanIoU):
    # serialize_keras_object records a class's module: the public one, as Keras records its export name.
    _cls.__module__ = __name__
    _CLASSES[_cls.__name__] = _cls
    _NAMES[_backend.to_snake_case(_cls.__name__)] = _cls
del _cls
_NAMES["fbeta_score"] = FBetaScore

# Metrics at a target rate, SquaredHinge, CategoricalHinge and the loss functions Keras
# also exports here: metrics_thresholds.py.
from tensorlab.keras import metrics_thresholds as _thresholds  # noqa: E402
from tensorlab.keras.metrics_thresholds import (CategoricalHinge, PrecisionAtRecall,  # noqa: E402,F401
                                                RecallAtPrecision, SensitivityAtSpecificity,
                                                SpecificityAtSensitivity, SquaredHinge)

for _cls in _thresholds.CLASSES:
    _cls.__module__ = __name__
    _CLASSES[_cls.__name__] = _cls
_NAMES.update({"squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge})
del _cls
for _fn in _thresholds.FUNCTIONS:
    globals()[_fn] = getattr(_losses, _fn)
del _fn


def get(identifier):
    """A metric instance (or function) from a name (``"mae"``, ``"precision"``), config dict or object."""
    if identifier is None or isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        obj = _ids.lookup("metric", identifier, dict(_NAMES, **_CLASSES))
        return obj() if isinstance(obj, type) else obj
    if isinstance(identifier, dict):
        return _ids.from_dict("metric", identifier, _CLASSES)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}; valid names: "
                     f"{', '.join(sorted(_NAMES))}")


def serialize(metric):
    return _ids.serialize(metric)


def deserialize(config, custom_objects=None):
    return _ids.from_dict("metric", config, dict(_CLASSES, **(custom_objects or {})))
