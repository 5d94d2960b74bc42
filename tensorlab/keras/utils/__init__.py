"""``keras.utils``: seeding, label encoding, normalization, progress bars, batch generators, image
files, Functional-API helpers and dtype names."""
import random as _random

import numpy as np

from tensorlab.keras.backend import clear_session, is_keras_tensor, standardize_dtype
from tensorlab.keras.config import (disable_interactive_logging, enable_interactive_logging,
                                    is_interactive_logging_enabled)
from tensorlab.keras.models.data_adapter import pack_x_y_sample_weight, unpack_x_y_sample_weight
from tensorlab.keras.saving.object_registration import (CustomObjectScope, custom_object_scope, get_custom_objects,
                                                        get_registered_name, get_registered_object,
                                                        register_keras_serializable)
from tensorlab.keras.saving.serialization import deserialize_keras_object, serialize_keras_object
from tensorlab.keras.utils.data import PyDataset, Sequence
from tensorlab.keras.utils.audio_dataset import audio_dataset_from_directory
from tensorlab.keras.utils.dataset_split import split_dataset
from tensorlab.keras.utils.image_dataset import image_dataset_from_directory
from tensorlab.keras.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from tensorlab.keras.utils.progbar import Progbar
from tensorlab.keras.utils.sequences import pad_sequences, timeseries_dataset_from_array


def set_random_seed(seed):
    """Seeds Python's, numpy's and tensorlab's random generators.

    With the same seed, a CPU training run (weight initialization, dropout,
    shuffling) is reproducible bit for bit.
    """
    import tensorlab as tl
    if not isinstance(seed, int):
        raise ValueError(f"set_random_seed: seed must be an int, got {seed!r}")
    _random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    tl.random.set_seed(seed)


def to_categorical(x, num_classes=None, dtype="float32"):
    """One-hot encodes integer class labels as a numpy array.

    Args:
      x: integer labels (any shape; a trailing axis of size 1 is dropped).
      num_classes: number of classes (default ``max(x) + 1``).

    Returns:
      An array of shape ``x.shape + (num_classes,)``.

    Example:
      >>> keras.utils.to_categorical([0, 2, 1], 3)
      array([[1., 0., 0.], [0., 0., 1.], [0., 1., 0.]], dtype=float32)
    """
    x = np.asarray(x.numpy() if hasattr(x, "numpy") else x)
    if x.ndim and x.shape[-1] == 1 and x.ndim > 1:
        x = x.reshape(x.shape[:-1])
    x = x.astype("int64")
    n = int(x.max()) + 1 if num_classes is None else int(num_classes)
    if x.size and (x.min() < 0 or x.max() >= n):
        raise ValueError(f"to_categorical: labels must be in [0, {n}); got values from {x.min()} to {x.max()}")
    out = np.zeros(x.shape + (n,), dtype=getattr(dtype, "name", dtype))
    np.put_along_axis(out, x[..., None], 1, axis=-1)
    return out


def normalize(x, axis=-1, order=2):
    """Scales ``x`` to unit ``order``-norm along ``axis`` (numpy in, numpy out; tensors for tensors)."""
    import tensorlab as tl
    if isinstance(x, (tl.Tensor, tl.Variable)):
        n = tl.norm(x, ord=order, axis=axis, keepdims=True) if order != 2 else \
            tl.sqrt(tl.reduce_sum(tl.square(x), axis=axis, keepdims=True))
        return x / tl.maximum(n, 1e-12)
    x = np.asarray(x)
    n = np.atleast_1d(np.linalg.norm(x, order, axis))
    n[n == 0] = 1
    return x / np.expand_dims(n, axis)


def get_source_inputs(tensor):
    """The ``keras.Input`` tensors a Functional-API tensor is computed from, as a list (each once, in
    the order first reached); a tensor without Keras history is returned as is.

    Example:
      >>> x = keras.Input((3,)); y = layers.Dense(2)(x)
      >>> keras.utils.get_source_inputs(y) == [x]
      True
    """
    if not hasattr(tensor, "_keras_history") or tensor._keras_history is None:
        return tensor
    layer, node_index, _ = tensor._keras_history
    if not layer or not layer._inbound_nodes:
        return [tensor]
    node = layer._inbound_nodes[node_index]
    if not node.input_tensors:  # an Input
        return [tensor]
    sources = []
    for t in node.input_tensors:
        for s in get_source_inputs(t):
            if all(s is not seen for seen in sources):
                sources.append(s)
    return sources


def get_file(*args, **kwargs):
    raise RuntimeError("keras.utils.get_file: downloading is not available in tensorlab; put the file on "
                       "disk and pass its path")


def plot_model(*args, **kwargs):
    raise NotImplementedError("keras.utils.plot_model is not available in tensorlab; use model.summary()")


__all__ = ["set_random_seed", "to_categorical", "normalize", "Progbar", "PyDataset", "Sequence",
           "register_keras_serializable", "get_custom_objects", "custom_object_scope", "get_registered_name",
           "get_registered_object", "serialize_keras_object", "deserialize_keras_object",
           "unpack_x_y_sample_weight", "pack_x_y_sample_weight", "get_file", "plot_model",
           "image_dataset_from_directory", "pad_sequences", "timeseries_dataset_from_array", "split_dataset",
           "audio_dataset_from_directory",
           "array_to_img", "img_to_array", "load_img", "save_img", "get_source_inputs", "is_keras_tensor",
           "clear_session", "standardize_dtype", "CustomObjectScope", "enable_interactive_logging",
           "disable_interactive_logging", "is_interactive_logging_enabled"]
