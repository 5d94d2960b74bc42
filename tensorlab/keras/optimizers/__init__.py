"""Optimizers (``keras.optimizers``) and learning-rate ``schedules``.

Example:
  >>> opt = keras.optimizers.Adam(learning_rate=1e-3, global_clipnorm=1.0)
  >>> opt.apply_gradients(zip(grads, model.trainable_variables))
"""
from tensorlab.keras import _ids
from tensorlab.keras.optimizers import schedules
from tensorlab.keras.optimizers.algorithms import (SGD, Adadelta, Adafactor, Adagrad, Adam, Adamax, AdamW, Ftrl,
                                                   Lamb, Lion, Nadam, RMSprop)
from tensorlab.keras.optimizers.base import Optimizer
from tensorlab.keras.optimizers.loss_scale import LossScaleOptimizer

_TABLE = {c.__name__: c for c in (SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam, Lion, Adafactor,
                                  Ftrl, Lamb, LossScaleOptimizer)}
_TABLE.update({k.lower(): v for k, v in list(_TABLE.items())})


def get(identifier):
    """An optimizer from a name (``"adam"``, ``"sgd"``), a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _ids.lookup("optimizer", identifier, _TABLE)()
    if isinstance(identifier, dict):
        return _ids.from_dict("optimizer", identifier, _TABLE)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}; valid names: "
                     f"{', '.join(sorted(k for k in _TABLE if k.islower()))}")


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config, custom_objects=None):
    return _ids.from_dict("optimizer", config, dict(_TABLE, **(custom_objects or {})))


__all__ = ["Optimizer", "LossScaleOptimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam",
           "Lion", "Adafactor", "Ftrl", "Lamb", "schedules", "get", "serialize", "deserialize"]
