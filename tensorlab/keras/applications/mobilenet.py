"""``keras.applications.mobilenet``: MobileNet (Howard et al., 2017): depthwise-separable convolutions."""
import warnings

from tensorlab.keras import backend, layers
from tensorlab.keras.applications import _common, imagenet_utils

BASE_WEIGHT_PATH = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"


def imagenet_rows(fn, input_shape, sizes):
    """The image size of the pretrained file to use: the input's when it is square and one of
    ``sizes``, else 224 (with Keras' warning)."""
    rows, cols = (input_shape[1:] if backend.image_data_format() == "channels_first" else input_shape[:2])
    if rows != cols or rows not in sizes:
        warnings.warn(f"{fn}: input_shape is undefined or non-square, or its size is not in {sizes}; weights "
                      "for input shape (224, 224) will be loaded as the default", stacklevel=3)
        return 224
    return rows


def default_size(input_shape, sizes, input_tensor=None):
    """The input size the input shape is checked against: the input's own (``input_shape``, else
    ``input_tensor``'s when given) when it is square and one of ``sizes``, else 224."""
    if input_shape is None and input_tensor is not None and backend.is_keras_tensor(input_tensor):
        input_shape = tuple(input_tensor.shape)[1:]
    if input_shape is None or len(input_shape) != 3:
        return 224
    rows, cols = (input_shape[1:] if backend.image_data_format() == "channels_first" else input_shape[:2])
    return rows if rows == cols and rows in sizes else 224


@_common.documented("mobilenet", "MobileNet(weights=None, alpha=0.25, input_shape=(32, 32, 3), classes=10)",
                    first="""
      alpha: width multiplier: scales the number of filters of every layer (0.25, 0.5,
        0.75 or 1.0 with ImageNet weights).
      depth_multiplier: depth multiplier of the depthwise convolutions (1 with ImageNet weights).
      dropout: dropout rate before the classifier.""", sizes=" or square 128, 160 or 192")
def MobileNet(input_shape=None, alpha=1.0, depth_multiplier=1, dropout=1e-3, include_top=True, weights="imagenet",
              input_tensor=None, pooling=None, classes=1000, classifier_activation="softmax", name=None):
    """Instantiates the MobileNet architecture (Keras' layer names and weights); the model's
    default name is ``mobilenet_{alpha:.2f}_{rows}``."""
    fn = "MobileNet"
    _common.check_args(fn, weights, include_top, classes, pooling)
    sizes = [128, 160, 192, 224]
    input_shape = _common.input_shape_for(fn, input_shape, include_top, weights, classifier_activation,
                                          default_size=default_size(input_shape, sizes))
    rows = input_shape[1 if backend.image_data_format() == "channels_first" else 0]
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError(f"{fn}: with weights='imagenet', depth_multiplier must be 1; received "
                             f"depth_multiplier={depth_multiplier}")
        if alpha not in [0.25, 0.50, 0.75, 1.0]:
            raise ValueError(f"{fn}: with weights='imagenet', alpha must be one of 0.25, 0.50, 0.75, 1.0; "
                             f"received alpha={alpha}")
        rows = imagenet_rows(fn, input_shape, sizes)
    alpha_text = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0"}.get(alpha, "2_5")
    url = f"{BASE_WEIGHT_PATH}mobilenet_{alpha_text}_{rows}_tf{'' if include_top else '_no_top'}.h5"
    weights_path = _common.weights_file(fn, weights, url, alpha=alpha, include_top=include_top)
    img_input = _common.image_input(fn, input_shape, input_tensor)

    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    for block_id, (filters, strides) in enumerate(
            [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)],
            start=1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, strides=(strides, strides),
                                  block_id=block_id)
    if include_top:
        x = layers.GlobalAveragePooling2D(keepdims=True)(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = layers.Reshape((classes,), name="reshape_2")(x)
        x = layers.Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pooled(x, pooling)
    return _common.finish(fn, img_input, input_tensor, x, name or f"mobilenet_{alpha:0.2f}_{rows}", weights_path)


def _conv_block(inputs, filters, alpha, kernel=(3, 3), strides=(1, 1)):
    """The first convolution, batch norm and ReLU6."""
    x = layers.Conv2D(int(filters * alpha), kernel, padding="same", use_bias=False, strides=strides,
                      name="conv1")(inputs)
    x = layers.BatchNormalization(axis=_common.channel_axis(), name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, pointwise_conv_filters, alpha, depth_multiplier=1, strides=(1, 1), block_id=1):
    """A 3x3 depthwise convolution and a 1x1 pointwise one, each with batch norm and ReLU6."""
    axis = _common.channel_axis()
    if strides == (1, 1):
        x = inputs
    else:  # TF's "same" padding of a strided convolution pads at the end only
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(inputs)
    x = layers.DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                               depth_multiplier=depth_multiplier, strides=strides, use_bias=False,
                               name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(axis=axis, name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(int(pointwise_conv_filters * alpha), (1, 1), padding="same", use_bias=False, strides=(1, 1),
                      name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(axis=axis, name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


preprocess_input = imagenet_utils.preprocess_function(
    "tf", "MobileNet's preprocessing: pixels scaled to [-1, 1] (mode 'tf').")
decode_predictions = imagenet_utils.decode_predictions

__all__ = ["MobileNet", "preprocess_input", "decode_predictions"]
