"""``keras.applications.vgg16``: VGG16 (Simonyan & Zisserman, 2014)."""
from tensorlab.keras import layers
from tensorlab.keras.applications import _common, imagenet_utils

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
                "vgg16_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
                       "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5")


def _vgg(fn, convs, urls, include_top, weights, input_tensor, input_shape, pooling, classes, classifier_activation,
         name):
    """Five blocks of ``convs[i]`` 3x3 convolutions and a 2x2 max pooling, then two 4096-unit layers."""
    _common.check_args(fn, weights, include_top, classes, pooling)
    input_shape = _common.input_shape_for(fn, input_shape, include_top, weights, classifier_activation)
    weights_path = _common.weights_file(fn, weights, urls[0 if include_top else 1], include_top=include_top)
    img_input = x = _common.image_input(fn, input_shape, input_tensor)
    for block, (filters, n) in enumerate(zip((64, 128, 256, 512, 512), convs), start=1):
        for i in range(1, n + 1):
            x = layers.Conv2D(filters, (3, 3), activation="relu", padding="same", name=f"block{block}_conv{i}")(x)
        x = layers.MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", name="fc1")(x)
        x = layers.Dense(4096, activation="relu", name="fc2")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pooled(x, pooling)
    return _common.finish(fn, img_input, input_tensor, x, name, weights_path)


@_common.documented("vgg16", "VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))")
def VGG16(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg16"):
    """Instantiates the VGG16 model (Keras' layer names and weights); its top has 3 fully-connected layers."""
    return _vgg("VGG16", (2, 2, 3, 3, 3), (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP), **locals())


preprocess_input = imagenet_utils.preprocess_function(
    "caffe", "VGG's preprocessing: RGB to BGR, minus the ImageNet mean pixel (mode 'caffe').")
decode_predictions = imagenet_utils.decode_predictions

__all__ = ["VGG16", "preprocess_input", "decode_predictions"]
