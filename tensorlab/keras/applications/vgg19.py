"""``keras.applications.vgg19``: VGG19 (Simonyan & Zisserman, 2014)."""
from tensorlab.keras.applications import _common
from tensorlab.keras.applications.vgg16 import _vgg, decode_predictions, preprocess_input

WEIGHTS_PATH = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                "vgg19_weights_tf_dim_ordering_tf_kernels.h5")
WEIGHTS_PATH_NO_TOP = ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/"
                       "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5")


@_common.documented("vgg19", "VGG19(weights=None, include_top=False, input_shape=(32, 32, 3))")
def VGG19(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg19"):
    """Instantiates the VGG19 model (Keras' layer names and weights); its top has 3 fully-connected layers."""
    return _vgg("VGG19", (2, 2, 4, 4, 4), (WEIGHTS_PATH, WEIGHTS_PATH_NO_TOP), **locals())


__all__ = ["VGG19", "preprocess_input", "decode_predictions"]
