"""``keras.applications.densenet``: DenseNet121, DenseNet169, DenseNet201 (Huang et al., 2016)."""
from tensorlab.keras import backend, layers
from tensorlab.keras.applications import _common, imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
_EPS = 1.001e-5
_DEPTHS = {(6, 12, 24, 16): 121, (6, 12, 32, 32): 169, (6, 12, 48, 32): 201}


def dense_block(x, blocks, name):
    """``blocks`` conv blocks, each adding 32 channels to ``x``."""
    for i in range(blocks):
        x = conv_block(x, 32, name=f"{name}_block{i + 1}")
    return x


def transition_block(x, reduction, name):
    """Batch norm, ReLU, a 1x1 convolution keeping ``reduction`` of the channels, 2x2 average pooling."""
    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[bn_axis] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def conv_block(x, growth_rate, name):
    """Batch norm, ReLU, 1x1 conv, batch norm, ReLU, 3x3 conv; the result concatenated to ``x``."""
    bn_axis = 3 if backend.image_data_format() == "channels_last" else 1
    x1 = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_0_bn")(x)
    x1 = layers.Activation("relu", name=f"{name}_0_relu")(x1)
    x1 = layers.Conv2D(4 * growth_rate, 1, use_bias=False, name=f"{name}_1_conv")(x1)
    x1 = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_1_bn")(x1)
    x1 = layers.Activation("relu", name=f"{name}_1_relu")(x1)
    x1 = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(x1)
    return layers.Concatenate(axis=bn_axis, name=f"{name}_concat")([x, x1])


def DenseNet(blocks, include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", name="densenet"):
    """A DenseNet with ``blocks[i]`` conv blocks in each of its four dense blocks."""
    depth = _DEPTHS.get(tuple(blocks))
    fn = f"DenseNet{depth}" if depth else "DenseNet"
    if backend.image_data_format() == "channels_first":
        raise ValueError(f"{fn}: DenseNet does not support the 'channels_first' image data format (as in Keras); "
                         "use keras.backend.set_image_data_format('channels_last')")
    _common.check_args(fn, weights, include_top, classes, pooling)
    input_shape = _common.input_shape_for(fn, input_shape, include_top, weights, classifier_activation)
    if weights == "imagenet" and depth is None:
        raise ValueError(f"{fn}: there are no ImageNet weights for blocks={list(blocks)}; use weights=None or a "
                         "path")
    url = f"{BASE_WEIGHTS_PATH}densenet{depth}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    weights_path = _common.weights_file(fn, weights, url, include_top=include_top)
    img_input = _common.image_input(fn, input_shape, input_tensor)
    bn_axis = 3

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for i, n in enumerate(blocks):
        x = dense_block(x, n, name=f"conv{i + 2}")
        if i < 3:
            x = transition_block(x, 0.5, name=f"pool{i + 2}")
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = _common.classifier(x, include_top, pooling, classes, classifier_activation, "avg_pool", "max_pool")
    return _common.finish(fn, img_input, input_tensor, x, name, weights_path)


@_common.documented("densenet", "DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3))")
def DenseNet121(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="densenet121"):
    """Instantiates the DenseNet121 architecture (Keras' layer names and weights)."""
    return DenseNet([6, 12, 24, 16], **locals())


@_common.documented("densenet", "DenseNet169(weights=None, include_top=False, pooling='avg')")
def DenseNet169(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="densenet169"):
    """Instantiates the DenseNet169 architecture (Keras' layer names and weights)."""
    return DenseNet([6, 12, 32, 32], **locals())


@_common.documented("densenet", "DenseNet201(weights=None, include_top=False, pooling='avg')")
def DenseNet201(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None,
                classes=1000, classifier_activation="softmax", name="densenet201"):
    """Instantiates the DenseNet201 architecture (Keras' layer names and weights)."""
    return DenseNet([6, 12, 48, 32], **locals())


preprocess_input = imagenet_utils.preprocess_function(
    "torch", "DenseNet's preprocessing: pixels scaled to [0, 1], then normalized per channel with ImageNet's "
             "mean and std (mode 'torch').")
decode_predictions = imagenet_utils.decode_predictions

__all__ = ["DenseNet121", "DenseNet169", "DenseNet201", "preprocess_input", "decode_predictions"]
