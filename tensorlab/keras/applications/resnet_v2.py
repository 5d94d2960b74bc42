"""``keras.applications.resnet_v2``: ResNet50V2, ResNet101V2, ResNet152V2 (He et al., 2016).

Pre-activation ResNets: batch norm and ReLU come before each block's convolutions.
Inputs are scaled to [-1, 1] by ``resnet_v2.preprocess_input``.
"""
from tensorlab.keras.applications import _common, imagenet_utils
from tensorlab.keras.applications.resnet import _resnet, stack_residual_blocks_v2


def _v2(depths, weights_name, **kwargs):
    return _resnet(depths, stack_residual_blocks_v2, 2, 1, True, weights_name, **kwargs)


@_common.documented("resnet_v2", "ResNet50V2(weights=None, include_top=False, pooling='avg')")
def ResNet50V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
               classes=1000, classifier_activation="softmax", name="resnet50v2"):
    """Instantiates the ResNet50V2 architecture (Keras' layer names and weights)."""
    return _v2((3, 4, 6, 3), "resnet50v2", **locals())


@_common.documented("resnet_v2", "ResNet101V2(weights=None, include_top=False, pooling='avg')")
def ResNet101V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="resnet101v2"):
    """Instantiates the ResNet101V2 architecture (Keras' layer names and weights)."""
    return _v2((3, 4, 23, 3), "resnet101v2", **locals())


@_common.documented("resnet_v2", "ResNet152V2(weights=None, include_top=False, pooling='avg')")
def ResNet152V2(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="resnet152v2"):
    """Instantiates the ResNet152V2 architecture (Keras' layer names and weights)."""
    return _v2((3, 8, 36, 3), "resnet152v2", **locals())


preprocess_input = imagenet_utils.preprocess_function(
    "tf", "ResNetV2's preprocessing: pixels scaled to [-1, 1] (mode 'tf').")
decode_predictions = imagenet_utils.decode_predictions

__all__ = ["ResNet50V2", "ResNet101V2", "ResNet152V2", "preprocess_input", "decode_predictions"]
