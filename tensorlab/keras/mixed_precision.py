"""``keras.mixed_precision``: float16/bfloat16 computation with float32 weights.

Example:
  >>> from tensorlab import keras
  >>> keras.mixed_precision.set_global_policy("mixed_float16")
  >>> model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(256, activation="relu"),
  ...                           keras.layers.Dense(10),
  ...                           keras.layers.Activation("softmax", dtype="float32")])
  >>> model.compile("adam", "sparse_categorical_crossentropy")  # wraps Adam in a LossScaleOptimizer

The layers compute in float16 and keep float32 weights; the last layer's
``dtype="float32"`` gives float32 outputs (Keras' advice for the softmax).
Losses and metrics compute in float32. See ``dtype_policies`` and
``optimizers.loss_scale`` for the details.
"""
from tensorlab.keras.dtype_policies import (DTypePolicy, Policy, dtype_policy, global_policy, set_dtype_policy,
                                            set_global_policy)
from tensorlab.keras.optimizers.loss_scale import LossScaleOptimizer

__all__ = ["DTypePolicy", "Policy", "LossScaleOptimizer", "set_global_policy", "global_policy",
           "set_dtype_policy", "dtype_policy"]
