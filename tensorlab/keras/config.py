"""``keras.config`` (Keras 3): global settings of tl.keras.

The default float dtype, the fuzz factor, the image data format, and the global dtype
policy (``set_dtype_policy("mixed_float16")`` for mixed precision). The same functions
live in ``keras.backend`` and ``keras.mixed_precision``, as in Keras.
"""
from tensorlab.keras.backend import epsilon, floatx, image_data_format, set_epsilon, set_floatx, \
    set_image_data_format
from tensorlab.keras.dtype_policies import dtype_policy, set_dtype_policy


def backend():
    """The name of the backend running Keras: ``"tensorlab"``."""
    return "tensorlab"


__all__ = ["backend", "floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format",
           "set_image_data_format", "dtype_policy", "set_dtype_policy"]
