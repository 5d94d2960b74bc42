"""Losses (``keras.losses``): function forms return one value per sample; class
forms reduce them (``"sum_over_batch_size"`` by default) and apply sample weights.

Example:
  >>> loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
  >>> loss(tl.constant([1, 0]), tl.constant([[0.2, 2.0], [1.5, -1.0]]))
"""
import tensorlab as tl
from tensorlab.keras import _ids
from tensorlab.keras import backend as _backend
from tensorlab.keras.activations import logits_of as _logits_of

REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", "auto", None)


def _t(x, dtype=None):
    if isinstance(x, tl.Variable):
        x = x.read_value()
    if not isinstance(x, (tl.Tensor, tl.SymbolicTensor)):
        x = tl.convert_to_tensor(x, dtype=dtype) if dtype is not None and getattr(
            getattr(x, "dtype", None), "kind", "f") == "f" else tl.convert_to_tensor(x)
    return x


def _fmt(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _prepare(name, y_true, y_pred):
    """Tensors of one float dtype and matching rank (a trailing axis of size 1 is added or dropped)."""
    y_pred = _t(y_pred, _backend.floatx())
    y_true = _t(y_true)
    if y_true.dtype != y_pred.dtype:
        y_true = tl.cast(y_true, y_pred.dtype)
    rt, rp = len(y_true.shape), len(y_pred.shape)
    if rt == rp - 1 and y_pred.shape[-1] == 1:
        y_true = tl.expand_dims(y_true, -1)
    elif rp == rt - 1 and y_true.shape[-1] == 1:
        y_true = tl.squeeze(y_true, -1)
    st, sp = tuple(y_true.shape), tuple(y_pred.shape)
    if st != sp and (len(st) != len(sp) or any(a is not None and b is not None and a != b
                                               for a, b in zip(st, sp))):
        raise ValueError(f"{name}: y_true and y_pred must have the same shape; received y_true shape "
                         f"{_fmt(st)} and y_pred shape {_fmt(sp)}")
    return y_true, y_pred


def _mean_last(x):
    return tl.reduce_mean(x, axis=-1)


# ---------------------------------------------------------------------------- function forms

def mean_squared_error(y_true, y_pred):
    """Mean of ``(y_true - y_pred) ** 2`` over the last axis."""
    y_true, y_pred = _prepare("mean_squared_error", y_true, y_pred)
    return _mean_last(tl.square(y_pred - y_true))


def mean_absolute_error(y_true, y_pred):
    """Mean of ``|y_true - y_pred|`` over the last axis."""
    y_true, y_pred = _prepare("mean_absolute_error", y_true, y_pred)
    return _mean_last(tl.abs(y_pred - y_true))


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|(y_true - y_pred) / y_true|)`` over the last axis."""
    y_true, y_pred = _prepare("mean_absolute_percentage_error", y_true, y_pred)
    diff = tl.abs((y_true - y_pred) / tl.maximum(tl.abs(y_true), _backend.epsilon()))
    return 100.0 * _mean_last(diff)


def mean_squared_logarithmic_error(y_true, y_pred):
    y_true, y_pred = _prepare("mean_squared_logarithmic_error", y_true, y_pred)
    a = tl.log(tl.maximum(y_pred, _backend.epsilon()) + 1.0)
    b = tl.log(tl.maximum(y_true, _backend.epsilon()) + 1.0)
    return _mean_last(tl.square(a - b))


def huber(y_true, y_pred, delta=1.0):
    """Quadratic for errors below ``delta``, linear above, averaged over the last axis."""
    y_true, y_pred = _prepare("huber", y_true, y_pred)
    err = tl.abs(y_pred - y_true)
    quad = tl.minimum(err, delta)
    return _mean_last(0.5 * tl.square(quad) + delta * (err - quad))


def log_cosh(y_true, y_pred):
    """Mean of ``log(cosh(y_pred - y_true))`` over the last axis (computed stably)."""
    y_true, y_pred = _prepare("log_cosh", y_true, y_pred)
    x = y_pred - y_true
    return _mean_last(x + tl.math.softplus(-2.0 * x) - 0.6931471805599453)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy averaged over the last axis; ``y_true`` in [0, 1]."""
    y_true, y_pred = _prepare("binary_crossentropy", y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        x = y_pred
        per = tl.nn.relu(x) - x * y_true + tl.math.softplus(-tl.abs(x))
    else:
        eps = _backend.epsilon()
        p = tl.clip_by_value(y_pred, eps, 1.0 - eps)
        per = -(y_true * tl.log(p) + (1.0 - y_true) * tl.log(1.0 - p))
    return tl.reduce_mean(per, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Cross-entropy between one-hot (or soft) labels and predicted class probabilities."""
    y_true, y_pred = _prepare("categorical_crossentropy", y_true, y_pred)
    if label_smoothing:
        n = y_pred.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / n
    if not from_logits and axis == -1:
        logits = _logits_of(y_pred)
        if logits is not None:
            y_pred, from_logits = logits, True
    if from_logits:
        return -tl.reduce_sum(y_true * tl.nn.log_softmax(y_pred, axis=axis), axis=axis)
    eps = _backend.epsilon()
    p = y_pred / tl.reduce_sum(y_pred, axis=axis, keepdims=True)
    p = tl.clip_by_value(p, eps, 1.0 - eps)
    return -tl.reduce_sum(y_true * tl.log(p), axis=axis)


def _check_sparse(name, labels, n):
    """Range check of integer labels (only where the values are on the host, so no device sync)."""
    if labels._device.kind != "cpu" or n is None:
        return
    arr = labels.numpy()
    if arr.size and (arr.min() < 0 or arr.max() >= n):
        bad = arr[(arr < 0) | (arr >= n)]
        raise ValueError(f"{name}: labels must be integers in [0, {n}) for y_pred with {n} classes; "
                         f"received label value(s) {sorted(set(bad.tolist()))[:5]} (y_true shape "
                         f"{_fmt(labels.shape)}, y_pred has {n} classes on its last axis)")


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """Cross-entropy between integer labels and predicted class probabilities (or logits).

    Args:
      y_true: integer class ids, shape ``y_pred.shape[:-1]`` (a trailing 1 is allowed).
      y_pred: probabilities (or logits with ``from_logits=True``), classes on the last axis.
      ignore_class: a label value that contributes zero loss.

    Returns:
      Per-sample losses, shape ``y_pred.shape[:-1]``.
    """
    name = "sparse_categorical_crossentropy"
    if (ignore_class is None and type(y_true) is tl.Tensor and type(y_pred) is tl.Tensor
            and y_true._data.dtype.kind == "i" and y_true._data.dtype.itemsize in (4, 8)
            and y_pred._data.dtype.kind == "f" and y_true._data.shape == y_pred._data.shape[:-1]
            and y_pred._data.ndim):
        # The training loop's common case (integer labels of the right shape): no conversions.
        return _sparse_xent_checked(name, y_true, y_pred, from_logits)
    y_pred = _t(y_pred, _backend.floatx())
    y_true = _t(y_true)
    if not y_pred.dtype.is_floating:
        y_pred = tl.cast(y_pred, _backend.floatx())
    if len(y_true.shape) == len(y_pred.shape) and y_true.shape[-1] == 1:
        y_true = tl.reshape(y_true, tuple(-1 if d is None else d for d in y_true.shape[:-1])) \
            if all(d is not None for d in y_true.shape[:-1]) else tl.squeeze(y_true, -1)
    if len(y_true.shape) != len(y_pred.shape) - 1 or any(
            a is not None and b is not None and a != b for a, b in zip(y_true.shape, y_pred.shape[:-1])):
        raise ValueError(f"{name}: y_true must hold one integer label per prediction row, shape "
                         f"{_fmt(y_pred.shape[:-1])} (or with a trailing 1); received y_true shape "
                         f"{_fmt(y_true.shape)} and y_pred shape {_fmt(y_pred.shape)}")
    if y_true.dtype.name not in ("int32", "int64"):
        y_true = tl.cast(y_true, "int32")
    mask = None
    if ignore_class is not None:
        mask = tl.not_equal(y_true, ignore_class)
        y_true = tl.where(mask, y_true, tl.zeros_like(y_true))
    out = _sparse_xent_checked(name, y_true, y_pred, from_logits)
    if mask is not None:
        out = out * tl.cast(mask, out.dtype)
    return out


def _sparse_xent_checked(name, y_true, y_pred, from_logits):
    """Per-sample sparse cross-entropy of integer labels ``y_true`` (shape checked already)."""
    if not from_logits:
        logits = _logits_of(y_pred)
        if logits is not None:
            y_pred, from_logits = logits, True
    if from_logits:
        # The fused op checks the label range itself while it reads the labels; on a
        # bad label, the loss's own message (with every bad value) replaces the op's.
        try:
            out = tl.nn.sparse_softmax_cross_entropy_with_logits(labels=y_true, logits=y_pred)
        except tl.errors.InvalidArgumentError:
            if isinstance(y_true, tl.Tensor):
                _check_sparse(name, y_true, y_pred.shape[-1])
            raise
    else:
        n = y_pred.shape[-1]
        if isinstance(y_true, tl.Tensor):
            _check_sparse(name, y_true, n)
        eps = _backend.epsilon()
        p = tl.clip_by_value(y_pred, eps, 1.0 - eps)
        out = -tl.reduce_sum(tl.one_hot(y_true, n, dtype=y_pred.dtype) * tl.log(p), axis=-1)
    return out


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred))`` over the last axis (values clipped to [eps, 1])."""
    y_true, y_pred = _prepare("kl_divergence", y_true, y_pred)
    eps = _backend.epsilon()
    t = tl.clip_by_value(y_true, eps, 1.0)
    p = tl.clip_by_value(y_pred, eps, 1.0)
    return tl.reduce_sum(t * tl.log(t / p), axis=-1)


def poisson(y_true, y_pred):
    """Mean of ``y_pred - y_true * log(y_pred + eps)`` over the last axis."""
    y_true, y_pred = _prepare("poisson", y_true, y_pred)
    return _mean_last(y_pred - y_true * tl.log(y_pred + _backend.epsilon()))


def cosine_similarity(y_true, y_pred, axis=-1):
    """Negative cosine similarity (``-1`` means the vectors point the same way)."""
    y_true, y_pred = _prepare("cosine_similarity", y_true, y_pred)
    a = tl.nn.l2_normalize(y_true, axis=axis)
    b = tl.nn.l2_normalize(y_pred, axis=axis)
    return -tl.reduce_sum(a * b, axis=axis)


def _signed(tl, y_true):
    # Labels given as {0, 1} are mapped to {-1, 1}, as in Keras.
    return 2.0 * y_true - 1.0


def hinge(y_true, y_pred):
    """Mean of ``max(1 - y_true * y_pred, 0)``; labels in {-1, 1} (or {0, 1}, converted)."""
    y_true, y_pred = _prepare("hinge", y_true, y_pred)
    t = _signed(tl, y_true) if _is_01(y_true) else y_true
    return _mean_last(tl.nn.relu(1.0 - t * y_pred))


def squared_hinge(y_true, y_pred):
    y_true, y_pred = _prepare("squared_hinge", y_true, y_pred)
    t = _signed(tl, y_true) if _is_01(y_true) else y_true
    return _mean_last(tl.square(tl.nn.relu(1.0 - t * y_pred)))


def categorical_hinge(y_true, y_pred):
    y_true, y_pred = _prepare("categorical_hinge", y_true, y_pred)
    pos = tl.reduce_sum(y_true * y_pred, axis=-1)
    neg = tl.reduce_max((1.0 - y_true) * y_pred, axis=-1)
    return tl.nn.relu(neg - pos + 1.0)


def _is_01(y):
    if not isinstance(y, tl.Tensor):
        return True
    return bool(tl.reduce_all(tl.logical_or(tl.equal(y, 0.0), tl.equal(y, 1.0))))


# ---------------------------------------------------------------------------- classes

def at_least_float32(x, dtype=None):
    """``x`` cast to ``dtype`` when given, else a float16/bfloat16 tensor cast to float32.

    Losses and metrics of mixed-precision models compute in float32 (as in Keras), so a
    float16 model output neither overflows nor loses the loss's small differences.
    """
    if not isinstance(x, tl.Tensor):
        return x
    dt = x.dtype
    if not dt.is_floating:
        return x
    if dtype is not None:
        return x if dt.name == dtype else tl.cast(x, dtype)
    return tl.cast(x, tl.float32) if dt.size < 4 else x


class Loss:
    """Base class of losses: ``loss(y_true, y_pred, sample_weight=None) -> scalar``.

    Args:
      reduction: ``"sum_over_batch_size"`` (mean over all elements, the default),
        ``"sum"``, ``"mean"`` (weighted mean) or ``"none"``/None (per-sample values).
      name: the loss's name.
      dtype: the dtype the loss computes in; default: the prediction's, float32 for a
        float16/bfloat16 prediction.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: invalid reduction {reduction!r}; valid: "
                             "'sum_over_batch_size', 'sum', 'mean', 'none'")
        self.name = name or _backend.to_snake_case(type(self).__name__)
        # Keras 3: None means no reduction ("auto" is tf.keras' default).
        self.reduction = {"auto": "sum_over_batch_size", None: "none"}.get(reduction, reduction)
        self.dtype = None if dtype is None else getattr(dtype, "name", dtype)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        losses = self.call(y_true, at_least_float32(y_pred, self.dtype))
        return reduce_weighted_values(losses, sample_weight, self.reduction)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def reduce_weighted_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Applies sample weights (broadcast over trailing axes) and the reduction."""
    if sample_weight is not None:
        sw = _t(sample_weight)
        if sw.dtype != values.dtype:
            sw = tl.cast(sw, values.dtype)
        while len(sw.shape) > len(values.shape) and sw.shape[-1] == 1:
            sw = tl.squeeze(sw, -1)
        while len(sw.shape) < len(values.shape):
            sw = tl.expand_dims(sw, -1)
        values = values * sw
    if reduction == "none":
        return values
    total = tl.reduce_sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean" and sample_weight is not None:
        return total / tl.maximum(tl.reduce_sum(sw * tl.ones_like(values)), _backend.epsilon())
    shape = values.shape
    n = shape.num_elements() if hasattr(shape, "num_elements") else None
    if n is None:
        return tl.reduce_mean(values)
    return total / float(max(n, 1))


class LossFunctionWrapper(Loss):
    """A ``Loss`` around a per-sample function ``fn(y_true, y_pred, **kwargs)``."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or fn.__name__, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(self._fn_kwargs)
        return cfg


def _loss_class(cls_name, fn, default_name, params=(), doc=""):
    def __init__(self, *args, reduction="sum_over_batch_size", name=default_name, dtype=None, **kwargs):
        kw = dict(params)
        names = [p for p, _ in params]
        if len(args) > len(names):
            raise TypeError(f"{cls_name}: too many positional arguments {args}")
        kw.update(zip(names, args))
        for k, v in kwargs.items():
            if k not in kw:
                raise TypeError(f"{cls_name}: unexpected keyword argument {k!r}; valid: "
                                f"{', '.join(names + ['reduction', 'name', 'dtype'])}")
            kw[k] = v
        LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name, dtype=dtype, **kw)
    return type(cls_name, (LossFunctionWrapper,), {"__init__": __init__, "__doc__": doc or fn.__doc__})


MeanSquaredError = _loss_class("MeanSquaredError", mean_squared_error, "mean_squared_error")
MeanAbsoluteError = _loss_class("MeanAbsoluteError", mean_absolute_error, "mean_absolute_error")
MeanAbsolutePercentageError = _loss_class("MeanAbsolutePercentageError", mean_absolute_percentage_error,
                                          "mean_absolute_percentage_error")
MeanSquaredLogarithmicError = _loss_class("MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
                                          "mean_squared_logarithmic_error")
Huber = _loss_class("Huber", huber, "huber_loss", [("delta", 1.0)])
LogCosh = _loss_class("LogCosh", log_cosh, "log_cosh")
BinaryCrossentropy = _loss_class("BinaryCrossentropy", binary_crossentropy, "binary_crossentropy",
                                 [("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)])
CategoricalCrossentropy = _loss_class("CategoricalCrossentropy", categorical_crossentropy,
                                      "categorical_crossentropy",
                                      [("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)])
SparseCategoricalCrossentropy = _loss_class("SparseCategoricalCrossentropy", sparse_categorical_crossentropy,
                                            "sparse_categorical_crossentropy",
                                            [("from_logits", False), ("ignore_class", None)])
KLDivergence = _loss_class("KLDivergence", kl_divergence, "kl_divergence")
Poisson = _loss_class("Poisson", poisson, "poisson")
CosineSimilarity = _loss_class("CosineSimilarity", cosine_similarity, "cosine_similarity", [("axis", -1)])
Hinge = _loss_class("Hinge", hinge, "hinge")
SquaredHinge = _loss_class("SquaredHinge", squared_hinge, "squared_hinge")
CategoricalHinge = _loss_class("CategoricalHinge", categorical_hinge, "categorical_hinge")

# short aliases, as in Keras
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh

_FUNCS = {f.__name__: f for f in (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
                                  mean_squared_logarithmic_error, huber, log_cosh, binary_crossentropy,
                                  categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence,
                                  poisson, cosine_similarity, hinge, squared_hinge, categorical_hinge)}
_FUNCS.update({"mse": mean_squared_error, "mae": mean_absolute_error, "mape": mean_absolute_percentage_error,
               "msle": mean_squared_logarithmic_error, "kld": kl_divergence, "logcosh": log_cosh,
               "huber_loss": huber, "kullback_leibler_divergence": kl_divergence})
_CLASSES = {c.__name__: c for c in (MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
                                    MeanSquaredLogarithmicError, Huber, LogCosh, BinaryCrossentropy,
                                    CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence,
                                    Poisson, CosineSimilarity, Hinge, SquaredHinge, CategoricalHinge)}
_CLASS_OF = {"mean_squared_error": MeanSquaredError, "mean_absolute_error": MeanAbsoluteError,
             "mean_absolute_percentage_error": MeanAbsolutePercentageError,
             "mean_squared_logarithmic_error": MeanSquaredLogarithmicError, "huber": Huber,
             "log_cosh": LogCosh, "binary_crossentropy": BinaryCrossentropy,
             "categorical_crossentropy": CategoricalCrossentropy,
             "sparse_categorical_crossentropy": SparseCategoricalCrossentropy, "kl_divergence": KLDivergence,
             "poisson": Poisson, "cosine_similarity": CosineSimilarity, "hinge": Hinge,
             "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge}

# Focal cross-entropies, Dice, Tversky, Circle: in losses_extra.py, which builds on this module.
from tensorlab.keras import losses_extra as _extra  # noqa: E402
from tensorlab.keras.losses_extra import (BinaryFocalCrossentropy, CategoricalFocalCrossentropy,  # noqa: E402,F401
                                          Circle, Dice, Tversky, binary_focal_crossentropy,
                                          categorical_focal_crossentropy, circle, dice, tversky)

_FUNCS.update({f.__name__: f for f in _extra.FUNCTIONS})
_CLASSES.update({c.__name__: c for c in _extra.CLASSES})
_CLASS_OF.update(zip((f.__name__ for f in _extra.FUNCTIONS), _extra.CLASSES))

# CTC: in losses_ctc.py.
from tensorlab.keras.losses_ctc import CTC, ctc  # noqa: E402

_FUNCS["ctc"], _CLASSES["CTC"], _CLASS_OF["ctc"] = ctc, CTC, CTC

# Generalized cross-entropy: in losses_generalized.py.
from tensorlab.keras.losses_generalized import (CategoricalGeneralizedCrossEntropy,  # noqa: E402
                                                categorical_generalized_cross_entropy)

_FUNCS["categorical_generalized_cross_entropy"] = categorical_generalized_cross_entropy
_CLASSES["CategoricalGeneralizedCrossEntropy"] = CategoricalGeneralizedCrossEntropy
_CLASS_OF["categorical_generalized_cross_entropy"] = CategoricalGeneralizedCrossEntropy


def get(identifier):
    """A loss function or object from a name (``"mse"``, ``"sparse_categorical_crossentropy"``),
    a config dict, a ``Loss`` instance or a callable."""
    if identifier is None or isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        return _ids.lookup("loss", identifier, dict(_FUNCS, **_CLASSES))
    if isinstance(identifier, dict):
        return _ids.from_dict("loss", identifier, _CLASSES)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}; valid names: "
                     f"{', '.join(sorted(_FUNCS))}")


def serialize(loss):
    return _ids.serialize(loss) if isinstance(loss, Loss) else getattr(loss, "__name__", str(loss))


def deserialize(name, custom_objects=None):
    if isinstance(name, dict):
        return _ids.from_dict("loss", name, dict(_CLASSES, **(custom_objects or {})))
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return get(name)
