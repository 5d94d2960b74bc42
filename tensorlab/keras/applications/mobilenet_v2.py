"""``keras.applications.mobilenet_v2``: MobileNetV2 (Sandler et al., 2018): inverted residual blocks."""
from tensorlab.keras import backend, layers
from tensorlab.keras.applications import _common, imagenet_utils
from tensorlab.keras.applications.mobilenet import default_size, imagenet_rows

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"

# (filters, stride, expansion) of blocks 0..16
_BLOCKS = ([(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6)] + [(64, 2, 6)] +
           [(64, 1, 6)] * 3 + [(96, 1, 6)] * 3 + [(160, 2, 6)] + [(160, 1, 6)] * 2 + [(320, 1, 6)])


@_common.documented("mobilenet_v2", "MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), classes=10)",
                    first="""
      alpha: width multiplier: scales the number of filters of every block (0.35, 0.5,
        0.75, 1.0, 1.3 or 1.4 with ImageNet weights).""",
                    sizes=" or square 96, 128, 160 or 192")
def MobileNetV2(input_shape=None, alpha=1.0, include_top=True, weights="imagenet", input_tensor=None, pooling=None,
                classes=1000, classifier_activation="softmax", name=None):
    """Instantiates the MobileNetV2 architecture (Keras' layer names and weights); the model's
    default name is ``mobilenetv2_{alpha:.2f}_{rows}``."""
    fn = "MobileNetV2"
    _common.check_args(fn, weights, include_top, classes, pooling)
    if input_shape is not None and input_tensor is not None:
        if not backend.is_keras_tensor(input_tensor):
            _common.image_input(fn, input_shape, input_tensor)  # raises the error
        col = 3 if backend.image_data_format() == "channels_first" else 2
        if len(input_tensor.shape) != 4 or input_tensor.shape[col] != tuple(input_shape)[col - 1]:
            raise ValueError(f"{fn}: input_tensor's shape {tuple(input_tensor.shape)} does not match "
                             f"input_shape={tuple(input_shape)}")
    sizes = [96, 128, 160, 192, 224]
    input_shape = _common.input_shape_for(fn, input_shape, include_top, weights, classifier_activation,
                                          default_size=default_size(input_shape, sizes, input_tensor))
    rows = input_shape[1 if backend.image_data_format() == "channels_first" else 0]
    if weights == "imagenet":
        if alpha not in [0.35, 0.50, 0.75, 1.0, 1.3, 1.4]:
            raise ValueError(f"{fn}: with weights='imagenet', alpha must be one of 0.35, 0.50, 0.75, 1.0, 1.3, "
                             f"1.4; received alpha={alpha}")
        rows = imagenet_rows(fn, input_shape, sizes)
    url = (f"{BASE_WEIGHT_PATH}mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{float(alpha)}_{rows}"
           f"{'' if include_top else '_no_top'}.h5")
    weights_path = _common.weights_file(fn, weights, url, alpha=alpha, include_top=include_top)
    img_input = _common.image_input(fn, input_shape, input_tensor)
    axis = _common.channel_axis()

    x = layers.Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same",
                      use_bias=False, name="Conv1")(img_input)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    for block_id, (filters, stride, expansion) in enumerate(_BLOCKS):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride, expansion=expansion,
                                block_id=block_id)
    # The width multiplier does not thin the last convolution, only widens it (as in the paper).
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = layers.Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name="Conv_1_bn")(x)
    x = layers.ReLU(6.0, name="out_relu")(x)
    x = _common.classifier(x, include_top, pooling, classes, classifier_activation)
    return _common.finish(fn, img_input, input_tensor, x, name or f"mobilenetv2_{alpha:0.2f}_{rows}",
                          weights_path)


def _inverted_res_block(inputs, expansion, stride, alpha, filters, block_id):
    """1x1 expansion, 3x3 depthwise convolution, linear 1x1 projection; a residual add when shapes allow."""
    axis = _common.channel_axis()
    in_channels = inputs.shape[axis]
    # The projection's filters are a multiple of 8.
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = layers.Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False, activation=None,
                          name=f"{prefix}expand")(x)
        x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = layers.ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                               padding="same" if stride == 1 else "valid", name=f"{prefix}depthwise")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False, activation=None,
                      name=f"{prefix}project")(x)
    x = layers.BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=f"{prefix}project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def _make_divisible(v, divisor, min_value=None):
    """``v`` rounded to a multiple of ``divisor``, never more than 10% below ``v``."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


preprocess_input = imagenet_utils.preprocess_function(
    "tf", "MobileNetV2's preprocessing: pixels scaled to [-1, 1] (mode 'tf').")
decode_predictions = imagenet_utils.decode_predictions

__all__ = ["MobileNetV2", "preprocess_input", "decode_predictions"]
