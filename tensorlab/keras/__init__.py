"""``tl.keras``: Keras' API on tensorlab (layers, models, training, data utilities).

Scripts written for ``tf.keras`` or Keras 3 run after changing imports::

    from tensorlab import keras
    from tensorlab.keras import layers

    model = keras.Sequential([layers.Dense(256, input_dim=800, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=128)
"""
from tensorlab.keras import backend
from tensorlab.keras import activations, constraints, initializers, regularizers
from tensorlab.keras import saving
from tensorlab.keras import layers
from tensorlab.keras import losses, metrics, optimizers, callbacks
from tensorlab.keras import models, utils, datasets, preprocessing
from tensorlab.keras import ops, random, tree
from tensorlab.keras import config, dtype_policies, mixed_precision
from tensorlab.keras.dtype_policies import DTypePolicy
from tensorlab.keras._node import KerasTensor
from tensorlab.keras import _op_layer  # noqa: F401  (ops on Functional-API tensors)
from tensorlab.keras.backend import clear_session
from tensorlab.keras.layers.base import InputSpec, Layer
from tensorlab.keras.layers.input_layer import Input, InputLayer
from tensorlab.keras.models import Model, Sequential

__version__ = "3.0.0-tensorlab"
__all__ = ["Sequential", "Model", "Input", "InputLayer", "Layer", "InputSpec", "KerasTensor", "layers",
           "models", "optimizers", "losses", "metrics", "callbacks", "initializers", "activations",
           "regularizers", "constraints", "utils", "datasets", "saving", "backend", "clear_session", "ops",
           "random", "tree", "config", "dtype_policies", "mixed_precision", "DTypePolicy", "preprocessing",
           "applications"]


def __getattr__(name):
    # keras.applications (13 model builders) loads on first use: it is not needed to train.
    if name == "applications":
        import importlib
        mod = importlib.import_module("tensorlab.keras.applications")
        globals()[name] = mod
        return mod
    raise AttributeError(f"module 'tensorlab.keras' has no attribute {name!r}")
