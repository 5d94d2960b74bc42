"""``keras.applications.imagenet_utils``: ImageNet input preprocessing and decoding of predictions.

The same modes as Keras: ``"caffe"`` (RGB to BGR, minus the ImageNet mean
pixel), ``"tf"`` (scaled to [-1, 1]) and ``"torch"`` (scaled to [0, 1], then
normalized with ImageNet's mean and standard deviation).
"""
import json
import os
import warnings

import numpy as np

from tensorlab.keras import activations, backend, ops

CLASS_INDEX = None
CLASS_INDEX_PATH = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
_CLASS_INDEX_FILE = "imagenet_class_index.json"

_CAFFE_MEAN = [103.939, 116.779, 123.68]
_TORCH_MEAN, _TORCH_STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def keras_models_dir():
    """Where Keras caches downloaded model files: ``$KERAS_HOME/models`` or ``~/.keras/models``."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "models")


def preprocess_input(x, data_format=None, mode="caffe"):
    """Preprocesses a batch of images with values in [0, 255] for an ImageNet model.

    Args:
      x: a numpy array or a tensor (also a Functional-API tensor), 3D or 4D,
        with 3 color channels. A float numpy array is overwritten in place,
        as in Keras (pass ``np.copy(x)`` to keep it).
      data_format: ``"channels_last"`` or ``"channels_first"`` (default:
        ``keras.backend.image_data_format()``).
      mode: ``"caffe"`` (RGB to BGR, then minus the ImageNet mean pixel),
        ``"tf"`` (scaled to [-1, 1]) or ``"torch"`` (scaled to [0, 1], then
        normalized per channel with ImageNet's mean and std).

    Returns:
      The preprocessed array (float32 for integer input) or tensor.

    Example:
      >>> imagenet_utils.preprocess_input(np.full((1, 2, 2, 3), 255.0), mode="tf")[0, 0, 0]
      array([1., 1., 1.])
    """
    if mode not in {"caffe", "tf", "torch"}:
        raise ValueError(f"preprocess_input: mode must be one of 'caffe', 'tf', 'torch'; received mode={mode!r}")
    if data_format is None:
        data_format = backend.image_data_format()
    elif data_format not in {"channels_first", "channels_last"}:
        raise ValueError("preprocess_input: data_format must be 'channels_first' or 'channels_last'; received "
                         f"data_format={data_format!r}")
    if isinstance(x, np.ndarray):
        return _preprocess_numpy_input(x, data_format, mode)
    return _preprocess_tensor_input(x, data_format, mode)


def preprocess_function(mode, doc):
    """A family's ``preprocess_input(x, data_format=None)``: ``preprocess_input`` in ``mode``."""
    def preprocess(x, data_format=None):
        return preprocess_input(x, data_format=data_format, mode=mode)
    preprocess.__name__ = preprocess.__qualname__ = "preprocess_input"
    preprocess.__doc__ = doc + "\n\n    See ``imagenet_utils.preprocess_input`` for the arguments."
    return preprocess


def _mode_constants(mode):
    return (_TORCH_MEAN, _TORCH_STD) if mode == "torch" else (_CAFFE_MEAN, None)


def _preprocess_numpy_input(x, data_format, mode):
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype(backend.floatx(), copy=False)
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
    elif data_format == "channels_first":  # caffe: RGB -> BGR
        x = x[::-1, ...] if x.ndim == 3 else x[:, ::-1, ...]
    else:
        x = x[..., ::-1]
    mean, std = _mode_constants(mode)
    channel = (0 if x.ndim == 3 else 1) if data_format == "channels_first" else x.ndim - 1
    for c in range(3):
        index = (slice(None),) * channel + (c,)
        x[index] -= mean[c]
        if std is not None:
            x[index] /= std[c]
    return x


def _preprocess_tensor_input(x, data_format, mode):
    ndim = len(x.shape)
    if not x.dtype.is_floating:  # as for numpy input (Keras' own tensor path needs float input)
        x = ops.cast(x, backend.floatx())
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        x = x / 255.0
    elif data_format == "channels_first":  # caffe: RGB -> BGR
        x = ops.stack([x[i, ...] for i in (2, 1, 0)], axis=0) if ndim == 3 else \
            ops.stack([x[:, i] for i in (2, 1, 0)], axis=1)
    else:
        x = ops.stack([x[..., i] for i in (2, 1, 0)], axis=-1)
    mean, std = _mode_constants(mode)
    if data_format == "channels_first":
        shape = (3, 1, 1) if ndim == 3 else (1, 3) + (1,) * (ndim - 2)
    else:
        shape = (1,) * (ndim - 1) + (3,)
    x = x + ops.reshape(ops.convert_to_tensor(-np.array(mean), dtype=x.dtype), shape)
    if std is not None:
        x = x / ops.reshape(ops.convert_to_tensor(np.array(std), dtype=x.dtype), shape)
    return x


def decode_predictions(preds, top=5, class_index_path=None):
    """Decodes the predictions of an ImageNet model into ``(class_name, description, score)`` tuples.

    Keras downloads ImageNet's class index; tensorlab does not download: it
    reads ``imagenet_class_index.json`` from ``class_index_path``, or from
    Keras' cache (``~/.keras/models/``, or ``$KERAS_HOME/models/``).

    Args:
      preds: predictions of shape ``(samples, 1000)`` (numpy array or tensor).
      top: how many of the top classes to return per sample.
      class_index_path: optional path of ``imagenet_class_index.json``.

    Returns:
      One list of ``top`` tuples per sample, highest score first.

    Raises:
      ValueError: when ``preds`` is not of shape ``(samples, 1000)``.
      RuntimeError: when the class index file is not on disk.
    """
    global CLASS_INDEX
    if len(preds.shape) != 2 or preds.shape[1] != 1000:
        raise ValueError("decode_predictions expects a batch of predictions (a 2D array of shape (samples, "
                         f"1000)); received an array of shape {tuple(preds.shape)}")
    if class_index_path is not None or CLASS_INDEX is None:
        path = class_index_path or os.path.join(keras_models_dir(), _CLASS_INDEX_FILE)
        if not os.path.exists(path):
            raise RuntimeError(
                f"decode_predictions needs ImageNet's class index, and tensorlab does not download files. "
                f"Download {CLASS_INDEX_PATH} and pass decode_predictions(preds, class_index_path='/path/to/"
                f"{_CLASS_INDEX_FILE}'), or put it at {os.path.join(keras_models_dir(), _CLASS_INDEX_FILE)}")
        with open(path) as f:
            CLASS_INDEX = json.load(f)
    preds = ops.convert_to_numpy(preds)
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [tuple(CLASS_INDEX[str(i)]) + (pred[i],) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


def obtain_input_shape(input_shape, default_size, min_size, data_format, require_flatten, weights=None,
                       fn="obtain_input_shape"):
    """Validates a model's ``input_shape`` (or gives the default one), as Keras does.

    Returns:
      A shape tuple of 3 entries (``None`` for sizes left open).
    """
    channels_first = data_format == "channels_first"
    if weights != "imagenet" and input_shape and len(input_shape) == 3:
        channels = input_shape[0] if channels_first else input_shape[-1]
        if channels not in {1, 3}:
            warnings.warn(f"{fn}: this model usually expects 1 or 3 input channels, but input_shape="
                          f"{tuple(input_shape)} has {channels}", stacklevel=3)
        default_shape = (channels, default_size, default_size) if channels_first else \
            (default_size, default_size, channels)
    else:
        default_shape = (3, default_size, default_size) if channels_first else (default_size, default_size, 3)
    if weights == "imagenet" and require_flatten:
        if input_shape is not None and tuple(input_shape) != default_shape:
            raise ValueError(f"{fn}: with include_top=True and weights='imagenet', input_shape must be "
                             f"{default_shape}; received input_shape={tuple(input_shape)}")
        return default_shape
    if input_shape:
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f"{fn}: input_shape must be a tuple of three integers; received "
                             f"input_shape={input_shape}")
        channels, rows, cols = (input_shape if channels_first else (input_shape[2],) + input_shape[:2])
        if channels != 3 and weights == "imagenet":
            raise ValueError(f"{fn}: the input must have 3 channels with weights='imagenet'; received "
                             f"input_shape={input_shape}")
        if (rows is not None and rows < min_size) or (cols is not None and cols < min_size):
            raise ValueError(f"{fn}: the input size must be at least {min_size}x{min_size}; received "
                             f"input_shape={input_shape}")
    elif require_flatten:
        input_shape = default_shape
    else:
        input_shape = (3, None, None) if channels_first else (None, None, 3)
    if require_flatten and None in input_shape:
        raise ValueError(f"{fn}: with include_top=True the input_shape must be static; received "
                         f"input_shape={input_shape}")
    return input_shape


def correct_pad(inputs, kernel_size):
    """The ``ZeroPadding2D`` padding before a strided 'valid' convolution that mimics TF's 'same'."""
    img_dim = 2 if backend.image_data_format() == "channels_first" else 1
    input_size = inputs.shape[img_dim:img_dim + 2]
    if isinstance(kernel_size, int):
        kernel_size = (kernel_size, kernel_size)
    adjust = (1, 1) if input_size[0] is None else (1 - input_size[0] % 2, 1 - input_size[1] % 2)
    correct = (kernel_size[0] // 2, kernel_size[1] // 2)
    return (correct[0] - adjust[0], correct[0]), (correct[1] - adjust[1], correct[1])


def validate_activation(classifier_activation, weights, fn="validate_activation"):
    """Pretrained weights allow only ``None`` and ``"softmax"`` as ``classifier_activation``."""
    if weights is None:
        return
    if activations.get(classifier_activation) not in {activations.get("softmax"), activations.get(None)}:
        raise ValueError(f"{fn}: with pretrained weights, classifier_activation must be None or 'softmax'; "
                         f"received classifier_activation={classifier_activation!r}")


__all__ = ["preprocess_input", "decode_predictions"]
