"""``tl.keras.applications``: Keras' image-classification models, with Keras' layer names and
weight layout, so that weight files saved by Keras load into them.

    from tensorlab import keras
    model = keras.applications.ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3), pooling="avg")
    features = model.predict(keras.applications.resnet50.preprocess_input(images))

``weights="imagenet"`` reads Keras' pretrained file from Keras' cache
(``~/.keras/models/``): tensorlab does not download it. Download the file named
in the error message, and pass its path as ``weights`` or put it in the cache.
"""
from tensorlab.keras.applications import (densenet, imagenet_utils, mobilenet, mobilenet_v2, resnet, resnet50,
                                          resnet_v2, vgg16, vgg19)
from tensorlab.keras.applications.densenet import DenseNet121, DenseNet169, DenseNet201
from tensorlab.keras.applications.mobilenet import MobileNet
from tensorlab.keras.applications.mobilenet_v2 import MobileNetV2
from tensorlab.keras.applications.resnet import ResNet50, ResNet101, ResNet152
from tensorlab.keras.applications.resnet_v2 import ResNet50V2, ResNet101V2, ResNet152V2
from tensorlab.keras.applications.vgg16 import VGG16
from tensorlab.keras.applications.vgg19 import VGG19

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "MobileNet", "MobileNetV2", "ResNet50", "ResNet101",
           "ResNet152", "ResNet50V2", "ResNet101V2", "ResNet152V2", "VGG16", "VGG19", "densenet", "imagenet_utils",
           "mobilenet", "mobilenet_v2", "resnet", "resnet50", "resnet_v2", "vgg16", "vgg19"]

# Keras applications tensorlab does not have (yet): a clear error instead of a bare AttributeError.
_NOT_HERE = {"ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge",
             "InceptionResNetV2", "InceptionV3", "MobileNetV3Large", "MobileNetV3Small", "NASNetLarge",
             "NASNetMobile", "Xception", "convnext", "efficientnet", "efficientnet_v2", "inception_resnet_v2",
             "inception_v3", "mobilenet_v3", "nasnet", "xception"}


def __getattr__(name):
    if name in _NOT_HERE or name.startswith("EfficientNet"):
        raise AttributeError(f"keras.applications.{name} is not available in tensorlab; available: "
                             + ", ".join(n for n in __all__ if n[0].isupper()))
    raise AttributeError(f"module 'tensorlab.keras.applications' has no attribute {name!r}")
