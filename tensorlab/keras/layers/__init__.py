"""``tl.keras.layers``: the building blocks of models (Keras names and arguments).

    from tensorlab.keras import layers
    x = layers.Dense(64, activation="relu")(inputs)

Every layer has ``get_config``/``from_config``; ``serialize``/``deserialize``
turn a layer into ``{"class_name": ..., "config": ...}`` and back.
"""
from tensorlab.keras.layers.base import InputSpec, Layer
from tensorlab.keras.layers.input_layer import Input, InputLayer
from tensorlab.keras.layers.activation import ELU, LeakyReLU, PReLU, ReLU, Softmax
from tensorlab.keras.layers.adaptive_pooling import (AdaptiveAveragePooling1D, AdaptiveAveragePooling2D,
                                                     AdaptiveAveragePooling3D, AdaptiveMaxPooling1D,
                                                     AdaptiveMaxPooling2D, AdaptiveMaxPooling3D)
from tensorlab.keras.layers.attention import AdditiveAttention, Attention, MultiHeadAttention
from tensorlab.keras.layers.conv_rnn import ConvLSTM1D, ConvLSTM2D, ConvLSTM3D
from tensorlab.keras.layers.conv import (Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Convolution1D,
                                         Convolution1DTranspose, Convolution2D, Convolution2DTranspose,
                                         DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D,
                                         SeparableConvolution1D, SeparableConvolution2D)
from tensorlab.keras.layers.group_query_attention import GroupedQueryAttention, GroupQueryAttention
from tensorlab.keras.layers.core import Activation, Dense, EinsumDense, Embedding, Identity, Lambda, Masking
from tensorlab.keras.layers.merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract,
                                            add, average, concatenate, dot, maximum, minimum, multiply, subtract)
from tensorlab.keras.layers.normalization import (BatchNormalization, GroupNormalization, LayerNormalization,
                                                  RMSNormalization, SpectralNormalization, UnitNormalization)
from tensorlab.keras.layers.pooling import (AveragePooling1D, AveragePooling2D, AvgPool1D, AvgPool2D,
                                            GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAvgPool1D,
                                            GlobalAvgPool2D, GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPooling1D,
                                            GlobalMaxPooling2D, MaxPool1D, MaxPool2D, MaxPooling1D, MaxPooling2D)
from tensorlab.keras.layers.preprocessing import CenterCrop, Normalization, Rescaling, Resizing
from tensorlab.keras.layers.categorical import CategoryEncoding, Discretization, Hashing, IntegerLookup
from tensorlab.keras.layers.image_augmentation import (RandomBrightness, RandomContrast, RandomCrop, RandomFlip,
                                                       RandomRotation, RandomTranslation, RandomZoom)
from tensorlab.keras.layers.color_augmentation import (AutoContrast, Equalization, RandomColorDegeneration,
                                                       RandomColorJitter, RandomGrayscale, RandomHue, RandomInvert,
                                                       RandomPosterization, RandomSaturation, RandomSharpness,
                                                       Solarization)
from tensorlab.keras.layers.geometric_augmentation import (Pipeline, RandAugment, RandomElasticTransform,
                                                           RandomErasing, RandomGaussianBlur, RandomPerspective,
                                                           RandomShear)
from tensorlab.keras.layers.mixing_augmentation import CutMix, MixUp
from tensorlab.keras.layers.regularization import (ActivityRegularization, AlphaDropout, Dropout, GaussianDropout,
                                                   GaussianNoise, SpatialDropout1D, SpatialDropout2D)
from tensorlab.keras.layers.reshaping import (Cropping1D, Cropping2D, Flatten, Permute, RepeatVector, Reshape,
                                              UpSampling1D, UpSampling2D, ZeroPadding1D, ZeroPadding2D)
from tensorlab.keras.layers.rnn import GRU, LSTM, RNN, Bidirectional, SimpleRNN, StackedRNNCells, TimeDistributed
from tensorlab.keras.layers.reversible_embedding import ReversibleEmbedding
from tensorlab.keras.layers.spectral import MelSpectrogram, STFTSpectrogram
from tensorlab.keras.layers.wrapper import Wrapper
from tensorlab.keras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from tensorlab.keras.layers.volumetric import (AveragePooling3D, AvgPool3D, Conv3D, Conv3DTranspose,
                                               Convolution3D, Convolution3DTranspose, Cropping3D,
                                               GlobalAveragePooling3D, GlobalAvgPool3D, GlobalMaxPool3D,
                                               GlobalMaxPooling3D, MaxPool3D, MaxPooling3D, SpatialDropout3D,
                                               UpSampling3D, ZeroPadding3D)

_CLASSES = {name: obj for name, obj in dict(globals()).items()
            if isinstance(obj, type) and issubclass(obj, Layer)}


def _table():
    table = dict(_CLASSES)
    # Models nest as layers (Sequential inside Functional...); found lazily to avoid an import cycle.
    try:
        from tensorlab.keras import models as _models
        for name in ("Sequential", "Model", "Functional"):
            obj = getattr(_models, name, None)
            if obj is not None:
                table[name] = obj
    except ImportError:
        pass
    return table


def serialize(layer):
    """``{"class_name": ..., "config": layer.get_config()}`` for a layer.

    Example:
      >>> layers.serialize(layers.Dense(3))["class_name"]
      'Dense'
    """
    from tensorlab.keras.saving.object_registration import get_registered_name
    return {"class_name": get_registered_name(type(layer)), "config": layer.get_config()}


def deserialize(config, custom_objects=None):
    """Rebuilds a layer from ``serialize``'s output (``custom_objects`` maps names to custom classes).

    Raises:
      ValueError: for an unknown class name (the message lists the valid ones).
    """
    from tensorlab.keras import _ids
    if isinstance(config, Layer):
        return config
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"layers.deserialize expects a dict with 'class_name' and 'config'; received {config!r}")
    cls = _ids.lookup("layer", config["class_name"], _table(), custom_objects)
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier, custom_objects=None):
    """A layer from an instance, a ``serialize`` dict, or a class name (built with default arguments)."""
    if isinstance(identifier, Layer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, str):
        from tensorlab.keras import _ids
        return _ids.lookup("layer", identifier, _table(), custom_objects)()
    raise ValueError(f"Could not interpret layer identifier: {identifier!r}")


__all__ = sorted(_CLASSES) + ["serialize", "deserialize", "get", "add", "subtract", "multiply", "average",
                              "maximum", "minimum", "concatenate", "dot"]
