"""``keras.applications.resnet``: ResNet50, ResNet101, ResNet152 (He et al., 2015).

Layer names, order and weights are Keras' own, so Keras' weight files load:

    model = keras.applications.ResNet50(weights="resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                                        include_top=False, pooling="avg")
    features = model.predict(keras.applications.resnet50.preprocess_input(images))
"""
from tensorlab.keras import layers
from tensorlab.keras.applications import _common, imagenet_utils

BASE_WEIGHTS_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
_EPS = 1.001e-5
_PUBLIC_NAMES = {f"resnet{depth}{v.lower()}": f"ResNet{depth}{v}" for depth in (50, 101, 152) for v in ("", "V2")}


def ResNet(stack_fn, preact, use_bias, include_top=True, weights="imagenet", input_tensor=None, input_shape=None,
           pooling=None, classes=1000, classifier_activation="softmax", name="resnet", weights_name=None):
    """The ResNet (``preact=False``) and ResNetV2 (``preact=True``) trunk around ``stack_fn``'s blocks."""
    fn = _PUBLIC_NAMES.get(weights_name, "ResNet")
    _common.check_args(fn, weights, include_top, classes, pooling)
    input_shape = _common.input_shape_for(fn, input_shape, include_top, weights, classifier_activation)
    if weights == "imagenet" and weights_name is None:
        raise ValueError(f"{fn}: there are no ImageNet weights for this architecture; use weights=None or a path")
    file_name = f"{weights_name}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    weights_path = _common.weights_file(fn, weights, BASE_WEIGHTS_PATH + file_name, include_top=include_top)
    img_input = _common.image_input(fn, input_shape, input_tensor)
    bn_axis = _common.channel_axis()

    x = layers.ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if preact:
        x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = _common.classifier(x, include_top, pooling, classes, classifier_activation, "avg_pool", "max_pool")
    return _common.finish(fn, img_input, input_tensor, x, name, weights_path)


def residual_block_v1(x, filters, kernel_size=3, stride=1, conv_shortcut=True, name=None):
    """A bottleneck block of ResNet v1: 1x1, 3x3, 1x1 convolutions plus the shortcut, then ReLU."""
    bn_axis = _common.channel_axis()
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x)
        shortcut = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_0_bn")(shortcut)
    else:
        shortcut = x
    x = layers.Conv2D(filters, 1, strides=stride, name=f"{name}_1_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(filters, kernel_size, padding="SAME", name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_3_bn")(x)
    x = layers.Add(name=f"{name}_add")([shortcut, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def stack_residual_blocks_v1(x, filters, blocks, stride1=2, name=None):
    """``blocks`` v1 blocks; the first one strides by ``stride1`` and has a convolution shortcut."""
    x = residual_block_v1(x, filters, stride=stride1, name=f"{name}_block1")
    for i in range(2, blocks + 1):
        x = residual_block_v1(x, filters, conv_shortcut=False, name=f"{name}_block{i}")
    return x


def residual_block_v2(x, filters, kernel_size=3, stride=1, conv_shortcut=False, name=None):
    """A pre-activation bottleneck block of ResNet v2 (batch norm and ReLU before the convolutions)."""
    bn_axis = _common.channel_axis()
    preact = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_preact_bn")(x)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        shortcut = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, strides=1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_1_bn")(x)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(padding=((1, 1), (1, 1)), name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = layers.BatchNormalization(axis=bn_axis, epsilon=_EPS, name=f"{name}_2_bn")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([shortcut, x])


def stack_residual_blocks_v2(x, filters, blocks, stride1=2, name=None):
    """``blocks`` v2 blocks; the last one strides by ``stride1`` (as in Keras' ResNetV2)."""
    x = residual_block_v2(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = residual_block_v2(x, filters, name=f"{name}_block{i}")
    return residual_block_v2(x, filters, stride=stride1, name=f"{name}_block{blocks}")


def _resnet(depths, stack, first_stride, last_stride, preact, weights_name, **kwargs):
    def stack_fn(x):
        strides = (first_stride, 2, 2, last_stride)
        for i, (filters, blocks) in enumerate(zip((64, 128, 256, 512), depths)):
            x = stack(x, filters, blocks, stride1=strides[i], name=f"conv{i + 2}")
        return x
    return ResNet(stack_fn, preact, True, weights_name=weights_name, **kwargs)


def _v1(depths, weights_name, **kwargs):
    return _resnet(depths, stack_residual_blocks_v1, 1, 2, False, weights_name, **kwargs)


@_common.documented("resnet50", "ResNet50(weights=None, input_shape=(64, 64, 3), classes=10)")
def ResNet50(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="resnet50"):
    """Instantiates the ResNet50 architecture (Keras' layer names and weights)."""
    return _v1((3, 4, 6, 3), "resnet50", **locals())


@_common.documented("resnet", "ResNet101(weights=None, include_top=False, pooling='avg')")
def ResNet101(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name="resnet101"):
    """Instantiates the ResNet101 architecture (Keras' layer names and weights)."""
    return _v1((3, 4, 23, 3), "resnet101", **locals())


@_common.documented("resnet", "ResNet152(weights=None, include_top=False, pooling='avg')")
def ResNet152(include_top=True, weights="imagenet", input_tensor=None, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name="resnet152"):
    """Instantiates the ResNet152 architecture (Keras' layer names and weights)."""
    return _v1((3, 8, 36, 3), "resnet152", **locals())


preprocess_input = imagenet_utils.preprocess_function(
    "caffe", "ResNet's preprocessing: RGB to BGR, minus the ImageNet mean pixel (mode 'caffe').")
decode_predictions = imagenet_utils.decode_predictions

__all__ = ["ResNet50", "ResNet101", "ResNet152", "preprocess_input", "decode_predictions"]
