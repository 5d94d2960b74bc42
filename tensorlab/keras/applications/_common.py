"""What every application builder shares: argument checks, the input tensor, the pooled
output, the model and its weights (Keras 3 ``.weights.h5`` or the older Keras ``.h5``).

Keras' pretrained ImageNet files are in the older HDF5 layout (groups named
after the layers, an attribute ``weight_names`` listing each layer's
datasets); tensorlab's ``load_weights`` reads Keras 3's layout, so the older
one is read here.
"""
import os

import numpy as np

from tensorlab.keras import backend, layers
from tensorlab.keras.applications.imagenet_utils import keras_models_dir, obtain_input_shape, validate_activation
from tensorlab.keras.layers._common import normalize_data_format
from tensorlab.keras.models import Model
from tensorlab.keras.saving.h5_weights import _HDF5_MAGIC, _h5py

_DOC = """

    Args:{first}
      include_top: whether to include the classifier at the top of the network.
      weights: ``None`` (random initialization), ``"imagenet"`` (Keras' pretrained file, read
        from Keras' cache ``~/.keras/models/``: tensorlab does not download it) or the path of
        a weights file saved by Keras (``.weights.h5`` or ``.h5``) or tensorlab for this
        architecture and these arguments.
      input_tensor: optional Functional-API tensor to use as the image input.{input_shape}
      pooling: without the top: ``None`` (4D feature maps), ``"avg"`` or ``"max"``.
      classes: number of classes with ``include_top=True`` (1000 with ImageNet weights).
      classifier_activation: activation of the ``predictions`` layer (``None`` for logits;
        ``None`` or ``"softmax"`` with pretrained weights).
      name: the model's name.

    Returns:
      A Functional ``Model``; preprocess its inputs with ``{module}.preprocess_input``.

    Example:
      >>> model = keras.applications.{example}
    """
_INPUT_SHAPE = """
      input_shape: the image shape, at least 32x32 (default ``(224, 224, 3)`` with the top, any
        size without it); with the top and ImageNet weights, ``(224, 224, 3)``{sizes}."""


def documented(module, example, first="", sizes=""):
    """Appends the arguments every builder shares to a builder's docstring.

    ``first``: the builder's own arguments; like Keras' MobileNets, such builders take
    ``input_shape`` first. ``sizes``: the other input sizes of the ImageNet weights.
    """
    input_shape = _INPUT_SHAPE.format(sizes=sizes)
    head, tail = (input_shape + first, "") if first else ("", input_shape)

    def decorate(builder):
        builder.__doc__ = builder.__doc__.rstrip() + _DOC.format(first=head, input_shape=tail, module=module,
                                                                 example=example)
        return builder
    return decorate


def check_args(fn, weights, include_top, classes, pooling=None):
    """Keras' checks of ``weights`` and ``classes``, with ``fn`` (the builder's name) in the message."""
    if normalize_data_format(None) != backend.image_data_format():
        raise ValueError(f"{fn}: tensorlab's layers do not follow image_data_format="
                         f"{backend.image_data_format()!r} yet (they default to 'channels_last'); use "
                         "keras.backend.set_image_data_format('channels_last')")
    if not (weights is None or weights == "imagenet" or
            (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError(f"{fn}: weights must be None (random initialization), 'imagenet' (pre-training on "
                         f"ImageNet) or the path of an existing weights file; received weights={weights!r}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(f"{fn}: with weights='imagenet' and include_top=True, classes must be 1000; received "
                         f"classes={classes}")
    if pooling not in (None, "avg", "max"):
        raise ValueError(f"{fn}: pooling must be None, 'avg' or 'max'; received pooling={pooling!r}")


def input_shape_for(fn, input_shape, include_top, weights, classifier_activation, default_size=224, min_size=32):
    """The validated input shape (and, before anything is built, the check of the classifier activation)."""
    shape = obtain_input_shape(input_shape, default_size=default_size, min_size=min_size,
                               data_format=backend.image_data_format(), require_flatten=include_top,
                               weights=weights, fn=fn)
    if include_top:
        validate_activation(classifier_activation, weights, fn=fn)
    return shape


def image_input(fn, input_shape, input_tensor):
    """The model's image tensor: ``input_tensor`` when given, else a new ``keras.Input``."""
    if input_tensor is None:
        return layers.Input(shape=input_shape)
    if not backend.is_keras_tensor(input_tensor):
        raise ValueError(f"{fn}: input_tensor must be a Functional-API tensor (from keras.Input or a layer "
                         f"called on one); received {type(input_tensor).__name__}")
    return input_tensor


def channel_axis():
    return 1 if backend.image_data_format() == "channels_first" else -1


def pooled(x, pooling, avg_name=None, max_name=None):
    """The output of a headless model: ``x`` as is, or globally average- or max-pooled."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name=max_name)(x)
    return x


def classifier(x, include_top, pooling, classes, classifier_activation, avg_name=None, max_name=None):
    """The usual top (global average pooling and ``Dense(classes)`` named ``predictions``) or ``pooled``."""
    if include_top:
        x = layers.GlobalAveragePooling2D(name=avg_name)(x)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return pooled(x, pooling, avg_name, max_name)


def source_inputs(tensor):
    """The ``keras.Input`` tensors that ``tensor`` was computed from (Keras' ``get_source_inputs``)."""
    out, stack, seen = [], [tensor], set()
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen.add(id(t))
        layer, node_index, _ = t._keras_history
        node = layer._inbound_nodes[node_index]
        if node.input_tensors:
            stack.extend(reversed(node.input_tensors))
        else:
            out.append(t)
    return out


def weights_file(fn, weights, url, **call):
    """The file to load ``weights`` from (``None`` for none): for ``"imagenet"``, Keras' pretrained
    file ``url`` in Keras' cache, else a clear error, raised before anything is built."""
    if weights != "imagenet":
        return weights
    name = url.rsplit("/", 1)[-1]
    path = os.path.join(keras_models_dir(), name)
    if os.path.exists(path):
        return path
    args = "".join(f", {k}={v!r}" for k, v in call.items())
    raise RuntimeError(
        f"{fn}: weights='imagenet' means Keras' pretrained file {name}, and tensorlab does not download files. "
        f"Download {url} and pass its path, {fn}(weights='/path/to/{name}'{args}), or put it at {path}. "
        "weights=None builds the model with random weights")


def finish(fn, img_input, input_tensor, outputs, name, weights_path):
    """The Functional model from the image input to ``outputs``, with the weights of ``weights_path``."""
    inputs = img_input
    if input_tensor is not None:
        sources = source_inputs(input_tensor)
        inputs = sources[0] if len(sources) == 1 else sources
    model = Model(inputs, outputs, name=name)
    if weights_path is not None:
        load_weights(model, weights_path, fn)
    return model


def load_weights(model, path, fn):
    """Loads a Keras 3 ``.weights.h5``/``.keras`` file, or an older Keras ``.h5`` (ImageNet files)."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        is_h5 = f.read(8) == _HDF5_MAGIC
    if is_h5:
        with _h5py().File(path, "r") as f:
            group = f["model_weights"] if "layer_names" not in f.attrs and "model_weights" in f else f
            if "layer_names" in group.attrs or "layer_names0" in group.attrs:
                return _load_legacy_h5(model, group, path, fn)
    model.load_weights(path)


def _attr_strings(group, name):
    """A list-of-strings attribute; Keras splits long ones into ``name0``, ``name1``, ..."""
    if name in group.attrs:
        values = list(group.attrs[name])
    else:
        values, i = [], 0
        while f"{name}{i}" in group.attrs:
            values += list(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v) for v in values]


def _load_legacy_h5(model, f, path, fn):
    """The older Keras layout: layers matched by name (all of these models name their layers), else
    in order of the layers that hold weights, as Keras does; everything is checked before assigning."""
    stored = {}
    for layer_name in _attr_strings(f, "layer_names"):
        g = f[layer_name]
        names = _attr_strings(g, "weight_names")
        if names:
            stored[layer_name] = [np.asarray(g[n]) for n in names]
    targets = [layer for layer in model.layers if layer.weights]
    if set(stored) == {layer.name for layer in targets}:
        pairs = [(layer, stored[layer.name]) for layer in targets]
    elif len(stored) == len(targets):
        pairs = list(zip(targets, stored.values()))
    else:
        raise ValueError(f"{fn}: {path!r} holds weights for {len(stored)} layers, the model has {len(targets)} "
                         "layers with weights: the file is for another architecture or other arguments")
    plan, problems = [], []
    for layer, arrays in pairs:
        if len(arrays) != len(layer.weights):
            problems.append(f"layer {layer.name!r} has {len(layer.weights)} weights, the file {len(arrays)}")
            continue
        for v, a in zip(layer.weights, arrays):
            if tuple(v.shape) != a.shape:
                problems.append(f"{v.name} has shape {tuple(v.shape)}, the file's has shape {a.shape}")
            else:
                plan.append((v, a))
    if problems:
        raise ValueError(f"{fn}: the weights in {path!r} do not fit the model: " + "; ".join(problems[:6])
                         + (" ..." if len(problems) > 6 else ""))
    for v, a in plan:
        v.assign(a.astype(v.dtype.as_numpy_dtype, copy=False))
