"""keras.applications: model builders with Keras' layers and weight layout, preprocessing, errors.

The comparisons with the real Keras 3 (CPU backend) are skipped where it is not importable."""
import json
import os

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras

A = keras.applications

from tests.keras.real_keras import K, needs_keras  # noqa: E402 (the real Keras 3, or None)

# Two float32 implementations sum in different orders; relative to the output's magnitude.
TOL = 2e-4

# Keras 3's (count_params, len(layers), len(weights)) with input_shape=(32, 32, 3), classes=10.
KERAS_SIZES = {"ResNet50": (23608202, 177, 320), "ResNet101": (42678666, 347, 626),
               "ResNet152": (58391434, 517, 932), "ResNet50V2": (23585290, 192, 272),
               "ResNet101V2": (42647050, 379, 544), "ResNet152V2": (58352138, 566, 816),
               "VGG16": (33638218, 23, 32), "VGG19": (38947914, 26, 38), "MobileNet": (3239114, 91, 137),
               "MobileNetV2": (2270794, 156, 262), "DenseNet121": (7047754, 429, 606),
               "DenseNet169": (12659530, 597, 846), "DenseNet201": (18341194, 709, 1006)}

# Builders, small arguments Keras allows, and the family module of each.
CASES = [("ResNet50", dict(include_top=False, input_shape=(32, 32, 3), pooling="avg"), "resnet50"),
         ("ResNet50V2", dict(classes=10, input_shape=(32, 32, 3)), "resnet_v2"),
         # VGG's top is 17M weights of plain Dense layers: test_sizes_match_keras checks it
         ("VGG16", dict(include_top=False, input_shape=(32, 32, 3)), "vgg16"),
         ("VGG19", dict(include_top=False, input_shape=(32, 32, 3), pooling="max"), "vgg19"),
         # odd, non-square sizes exercise the asymmetric padding of the strided convolutions
         ("MobileNet", dict(alpha=0.25, classes=10, input_shape=(37, 45, 3)), "mobilenet"),
         ("MobileNetV2", dict(alpha=0.35, include_top=False, input_shape=(37, 45, 3)), "mobilenet_v2"),
         ("DenseNet121", dict(include_top=False, input_shape=(32, 32, 3), pooling="max"), "densenet")]


def _assert_close(actual, expected):
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, rtol=TOL, atol=TOL * scale)


def _keras_model(name, kwargs, rng):
    """A Keras model with non-trivial batch-norm statistics, biases and scales."""
    K.backend.clear_session()
    km = getattr(K.applications, name)(weights=None, **kwargs)
    for v in km.weights:
        if v.path.endswith(("gamma", "moving_variance")):
            v.assign(rng.uniform(0.5, 1.5, v.shape).astype("float32"))
        elif v.path.endswith(("beta", "moving_mean", "bias")):
            v.assign(rng.uniform(-0.2, 0.2, v.shape).astype("float32"))
    return km


def _k_predict(km, x):
    return K.ops.convert_to_numpy(km(x, training=False))


def _images(rng, shape, n=2):
    return rng.uniform(0, 255, (n,) + tuple(shape)).astype("float32")


def _write_legacy_h5(model, path):
    """The older Keras layout of the ImageNet files: a group per layer, its ``weight_names``."""
    import h5py
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [layer.name.encode("utf8") for layer in model.layers]
        for layer in model.layers:
            g = f.create_group(layer.name)
            names = [f"{layer.name}/w{i}:0" for i in range(len(layer.weights))]
            g.attrs["weight_names"] = [n.encode("utf8") for n in names]
            for n, v in zip(names, layer.weights):
                g.create_dataset(n, data=v.numpy())


def _randomize(model, rng):
    for v in model.weights:
        v.assign(rng.uniform(0.5, 1.5, tuple(v.shape)).astype("float32") * (0.3 if len(v.shape) > 1 else 1.0))


# ---------------------------------------------------------------- against Keras 3
@needs_keras
@pytest.mark.parametrize("name,kwargs,module", CASES, ids=[c[0] for c in CASES])
def test_keras_weights_load_and_predict_the_same(tmp_path, rng, name, kwargs, module):
    km = _keras_model(name, kwargs, rng)
    km.save_weights(tmp_path / "k.weights.h5")
    tm = getattr(A, name)(weights=str(tmp_path / "k.weights.h5"), **kwargs)
    assert [layer.name for layer in tm.layers] == [layer.name for layer in km.layers]
    assert [tuple(w.shape) for w in tm.weights] == [tuple(w.shape) for w in km.weights]
    assert tm.name == km.name
    x = getattr(A, module).preprocess_input(_images(rng, kwargs["input_shape"]))
    _assert_close(tm.predict(x, verbose=0), _k_predict(km, x))


@needs_keras
def test_legacy_h5_files_written_by_keras_load(tmp_path, rng):
    pytest.importorskip("h5py")
    import h5py
    try:
        from keras.src.legacy.saving import legacy_h5_format
    except ImportError:  # pragma: no cover
        pytest.skip("this Keras has no legacy HDF5 writer")
    kwargs = dict(alpha=0.25, include_top=False, input_shape=(32, 32, 3))
    km = _keras_model("MobileNet", kwargs, rng)
    with h5py.File(tmp_path / "w.h5", "w") as f:  # the layout of Keras' ImageNet files
        legacy_h5_format.save_weights_to_hdf5_group(f, km)
    km2 = _keras_model("MobileNetV2", dict(alpha=0.35, classes=5, input_shape=(32, 32, 3)), rng)
    legacy_h5_format.save_model_to_hdf5(km2, str(tmp_path / "m.h5"))  # model.save("m.h5"): weights in a group
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    tm = A.MobileNet(weights=str(tmp_path / "w.h5"), **kwargs)
    _assert_close(tm.predict(x, verbose=0), _k_predict(km, x))
    tm2 = A.MobileNetV2(weights=str(tmp_path / "m.h5"), alpha=0.35, classes=5, input_shape=(32, 32, 3))
    _assert_close(tm2.predict(x, verbose=0), _k_predict(km2, x))


@needs_keras
@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_preprocess_input_matches_keras(rng, mode, data_format):
    x = rng.uniform(0, 255, (2, 3, 5, 3)).astype("float32")
    expected = K.applications.imagenet_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    got = A.imagenet_utils.preprocess_input(x.copy(), data_format=data_format, mode=mode)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    got_t = A.imagenet_utils.preprocess_input(tl.constant(x), data_format=data_format, mode=mode)
    np.testing.assert_allclose(got_t.numpy(), expected, rtol=1e-5, atol=1e-5)


@needs_keras
def test_family_modules_preprocess_like_keras(rng):
    x = rng.uniform(0, 255, (1, 4, 4, 3)).astype("float32")
    for module in ("resnet", "resnet50", "resnet_v2", "vgg16", "vgg19", "mobilenet", "mobilenet_v2", "densenet"):
        expected = getattr(K.applications, module).preprocess_input(x.copy())
        np.testing.assert_allclose(getattr(A, module).preprocess_input(x.copy()), expected, rtol=1e-6,
                                   err_msg=module)


# ---------------------------------------------------------------- without Keras
@pytest.mark.parametrize("name", sorted(KERAS_SIZES))
def test_sizes_match_keras(name):
    m = getattr(A, name)(weights=None, input_shape=(32, 32, 3), classes=10)
    assert (m.count_params(), len(m.layers), len(m.weights)) == KERAS_SIZES[name]
    assert tuple(m.output.shape) == (None, 10)
    assert m.layers[-1].name == "predictions"


@pytest.mark.parametrize("name", ["MobileNet", "MobileNetV2"])
def test_output_shapes_with_and_without_top(rng, name):
    build = getattr(A, name)
    extra = dict(alpha=0.35 if name == "MobileNetV2" else 0.25)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    top = build(weights=None, input_shape=(32, 32, 3), classes=7, classifier_activation=None, **extra)
    assert top.predict(x, verbose=0).shape == (2, 7)
    features = build(weights=None, include_top=False, input_shape=(32, 32, 3), **extra)
    maps = features.predict(x, verbose=0)
    assert maps.ndim == 4 and maps.shape[:3] == (2, 1, 1)
    for pooling, reduce in (("avg", np.mean), ("max", np.max)):
        pooled = build(weights=None, include_top=False, pooling=pooling, input_shape=(32, 32, 3), **extra)
        pooled.set_weights(features.get_weights())
        np.testing.assert_allclose(pooled.predict(x, verbose=0), reduce(maps, axis=(1, 2)), rtol=1e-5, atol=1e-6)


def test_unknown_input_size_without_top():
    m = A.MobileNetV2(weights=None, include_top=False, alpha=0.35)
    assert tuple(m.input.shape) == (None, None, None, 3)
    # 1.5 columns at stride 32: Keras pads like TF's "same" for even sizes when the size is unknown
    assert m.predict(np.zeros((1, 64, 48, 3), "float32"), verbose=0).shape == (1, 2, 1, 1280)
    assert m.name == "mobilenetv2_0.35_None"  # Keras' default name


def test_trains_a_step(rng):
    model = A.MobileNetV2(weights=None, alpha=0.35, input_shape=(32, 32, 3), classes=4)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    before = [w.numpy().copy() for w in model.weights]
    moving_mean = model.get_layer("bn_Conv1").moving_mean.numpy().copy()
    x, y = rng.uniform(-1, 1, (8, 32, 32, 3)).astype("float32"), rng.integers(0, 4, 8)
    loss = model.train_on_batch(x, y)
    assert np.isfinite(float(np.asarray(loss).ravel()[0]))
    changed = [not np.array_equal(b, w.numpy()) for b, w in zip(before, model.weights)]
    assert sum(changed) > len(changed) // 2
    assert not np.array_equal(moving_mean, model.get_layer("bn_Conv1").moving_mean.numpy())


def test_weights_path_round_trip(tmp_path, rng):
    kwargs = dict(alpha=0.25, input_shape=(32, 32, 3), classes=3)
    a = A.MobileNet(weights=None, **kwargs)
    _randomize(a, rng)
    a.save_weights(tmp_path / "a.weights.h5")
    _write_legacy_h5(a, tmp_path / "a.h5")
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    for path in ("a.weights.h5", "a.h5"):
        b = A.MobileNet(weights=tmp_path / path, **kwargs)
        np.testing.assert_allclose(b.predict(x, verbose=0), a.predict(x, verbose=0), rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="MobileNet: the weights in .* do not fit"):
        A.MobileNet(weights=tmp_path / "a.h5", alpha=0.5, input_shape=(32, 32, 3), classes=3)


def test_imagenet_weights_from_keras_cache(tmp_path, rng, monkeypatch):
    pytest.importorskip("h5py")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kwargs = dict(alpha=0.25, include_top=False, input_shape=(128, 128, 3))
    a = A.MobileNet(weights=None, **kwargs)
    _randomize(a, rng)
    os.makedirs(tmp_path / "models")
    _write_legacy_h5(a, tmp_path / "models" / "mobilenet_2_5_128_tf_no_top.h5")  # Keras' file name
    b = A.MobileNet(**kwargs)  # weights="imagenet", the default
    x = rng.uniform(-1, 1, (1, 128, 128, 3)).astype("float32")
    np.testing.assert_allclose(b.predict(x, verbose=0), a.predict(x, verbose=0), rtol=1e-6, atol=1e-7)


def test_input_tensor(rng):
    images = keras.Input((32, 32, 3))
    scaled = keras.layers.Rescaling(1 / 127.5, offset=-1)(images)
    m = A.MobileNet(weights=None, alpha=0.25, input_tensor=scaled, include_top=False, pooling="avg")
    assert m.input is images  # the source of input_tensor, as Keras' get_source_inputs finds it
    x = rng.uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    plain = A.MobileNet(weights=None, alpha=0.25, input_shape=(32, 32, 3), include_top=False, pooling="avg")
    plain.set_weights(m.get_weights())
    np.testing.assert_allclose(m.predict(x, verbose=0), plain.predict(x / 127.5 - 1, verbose=0), rtol=1e-4,
                               atol=1e-5)
    with pytest.raises(ValueError, match="VGG16: input_tensor must be a Functional-API tensor"):
        A.VGG16(weights=None, include_top=False, input_tensor=np.zeros((1, 32, 32, 3), "float32"))


def test_submodules_and_names():
    assert A.resnet50.ResNet50 is A.resnet.ResNet50 is A.ResNet50
    assert A.resnet_v2.ResNet152V2 is A.ResNet152V2
    assert A.mobilenet_v2.MobileNetV2 is A.MobileNetV2 and A.mobilenet.MobileNet is A.MobileNet
    assert A.densenet.DenseNet201 is A.DenseNet201
    assert A.vgg16.VGG16 is A.VGG16 and A.vgg19.VGG19 is A.VGG19
    assert A.vgg19.decode_predictions is A.imagenet_utils.decode_predictions
    assert A.VGG19(weights=None, include_top=False).name == "vgg19"
    assert A.MobileNet(weights=None, alpha=0.5, input_shape=(160, 160, 3), include_top=False).name == \
        "mobilenet_0.50_160"
    with pytest.raises(AttributeError, match="Xception is not available in tensorlab; available: DenseNet121"):
        A.Xception


# ---------------------------------------------------------------- preprocessing
def _reference(x, mode, channels_first):
    """Keras' modes written out on a channels-last float64 copy."""
    x = np.moveaxis(x, 1 if x.ndim == 4 else 0, -1) if channels_first else x
    x = x.astype("float64")
    if mode == "tf":
        out = x / 127.5 - 1
    elif mode == "torch":
        out = (x / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
    else:
        out = x[..., ::-1] - [103.939, 116.779, 123.68]
    return np.moveaxis(out, -1, 1 if x.ndim == 4 else 0) if channels_first else out


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("ndim", [3, 4])
def test_preprocess_input_modes(rng, mode, data_format, ndim):
    shape = {(3, "channels_last"): (4, 5, 3), (3, "channels_first"): (3, 4, 5),
             (4, "channels_last"): (2, 4, 5, 3), (4, "channels_first"): (2, 3, 4, 5)}[ndim, data_format]
    x = rng.uniform(0, 255, shape).astype("float32")
    expected = _reference(x, mode, data_format == "channels_first")
    pre = A.imagenet_utils.preprocess_input
    np.testing.assert_allclose(pre(x.copy(), data_format=data_format, mode=mode), expected, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(pre(tl.constant(x), data_format=data_format, mode=mode).numpy(), expected,
                               rtol=1e-5, atol=1e-4)
    ints = x.astype("uint8")
    for out in (pre(ints, data_format=data_format, mode=mode),
                pre(tl.constant(ints), data_format=data_format, mode=mode).numpy()):
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, _reference(ints, mode, data_format == "channels_first"), rtol=1e-5,
                                   atol=1e-4)


def test_preprocess_input_in_place_and_symbolic(rng):
    x = rng.uniform(0, 255, (1, 2, 2, 3)).astype("float32")
    y = A.mobilenet.preprocess_input(x)
    assert y is x  # Keras overwrites float arrays
    images = keras.Input((4, 4, 3))
    model = keras.Model(images, A.densenet.preprocess_input(A.resnet50.preprocess_input(images)))
    z = rng.uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    expected = _reference(_reference(z, "caffe", False), "torch", False)
    np.testing.assert_allclose(model.predict(z, verbose=0), expected, rtol=1e-4, atol=1e-3)


def test_family_preprocessing_modes(rng):
    x = rng.uniform(0, 255, (1, 2, 2, 3)).astype("float32")
    modes = {"resnet": "caffe", "resnet50": "caffe", "vgg16": "caffe", "vgg19": "caffe", "resnet_v2": "tf",
             "mobilenet": "tf", "mobilenet_v2": "tf", "densenet": "torch"}
    for module, mode in modes.items():
        np.testing.assert_allclose(getattr(A, module).preprocess_input(x.copy()), _reference(x, mode, False),
                                   rtol=1e-5, atol=1e-4, err_msg=module)


def test_decode_predictions(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(A.imagenet_utils, "CLASS_INDEX", None)
    preds = np.zeros((2, 1000), "float32")
    preds[0, [3, 7]] = [0.9, 0.1]
    preds[1, 999] = 1.0
    with pytest.raises(RuntimeError, match="tensorlab does not download.*imagenet_class_index.json"):
        A.resnet50.decode_predictions(preds)
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    (tmp_path / "index.json").write_text(json.dumps(index))
    out = A.resnet50.decode_predictions(preds, top=2, class_index_path=str(tmp_path / "index.json"))
    assert [r[:2] for r in out[0]] == [("n00000003", "class_3"), ("n00000007", "class_7")]
    assert out[1][0][1] == "class_999" and out[1][0][2] == pytest.approx(1.0)
    assert len(A.vgg16.decode_predictions(preds)[0]) == 5  # the index stays loaded
    with pytest.raises(ValueError, match=r"shape \(samples, 1000\)"):
        A.imagenet_utils.decode_predictions(np.zeros((2, 10)))


# ---------------------------------------------------------------- argument errors
@pytest.mark.filterwarnings("ignore:.*weights for input shape \\(224, 224\\) will be loaded")
@pytest.mark.parametrize("name", ["ResNet50", "ResNet152V2", "VGG19", "MobileNet", "MobileNetV2", "DenseNet121"])
def test_imagenet_needs_a_local_file(tmp_path, monkeypatch, name):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(RuntimeError, match=rf"{name}: weights='imagenet' .* tensorlab does not download files. "
                                           r"Download https://storage.googleapis.com/\S+_no_?top.h5 and pass its "
                                           "path"):
        getattr(A, name)(include_top=False)


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="ResNet50: with weights='imagenet' and include_top=True, classes must "
                                         "be 1000; received classes=10"):
        A.ResNet50(classes=10)
    with pytest.raises(ValueError, match="VGG16: the input size must be at least 32x32; received "
                                         r"input_shape=\(31, 64, 3\)"):
        A.VGG16(weights=None, include_top=False, input_shape=(31, 64, 3))
    with pytest.raises(ValueError, match=r"DenseNet121: input_shape must be a tuple of three integers"):
        A.DenseNet121(weights=None, include_top=False, input_shape=(64, 64))
    with pytest.raises(ValueError, match=r"ResNet101: with include_top=True and weights='imagenet', input_shape "
                                         r"must be \(224, 224, 3\)"):
        A.ResNet101(input_shape=(64, 64, 3))
    with pytest.raises(ValueError, match="MobileNetV2: the input must have 3 channels with weights='imagenet'"):
        A.MobileNetV2(include_top=False, input_shape=(64, 64, 1))
    with pytest.raises(ValueError, match="with include_top=True the input_shape must be static"):
        A.ResNet50(weights=None, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="ResNet50V2: weights must be None .* received weights='nope.h5'"):
        A.ResNet50V2(weights="nope.h5")
    with pytest.raises(ValueError, match="pooling must be None, 'avg' or 'max'; received pooling='mean'"):
        A.VGG16(weights=None, include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="MobileNet: with weights='imagenet', alpha must be one of"):
        A.MobileNet(alpha=0.3)
    with pytest.raises(ValueError, match="MobileNet: with weights='imagenet', depth_multiplier must be 1"):
        A.MobileNet(depth_multiplier=2)
    with pytest.raises(ValueError, match="MobileNetV2: with weights='imagenet', alpha must be one of"):
        A.MobileNetV2(alpha=0.25)
    with pytest.raises(ValueError, match="classifier_activation must be None or 'softmax'"):
        A.DenseNet121(classifier_activation="sigmoid")
    with pytest.raises(ValueError, match="preprocess_input: mode must be one of"):
        A.imagenet_utils.preprocess_input(np.zeros((1, 2, 2, 3)), mode="keras")
    with pytest.raises(ValueError, match="data_format must be"):
        A.vgg16.preprocess_input(np.zeros((1, 2, 2, 3)), data_format="nhwc")
    with pytest.warns(UserWarning, match="1 or 3 input channels"):
        A.VGG16(weights=None, include_top=False, input_shape=(32, 32, 4))


def test_densenet_refuses_channels_first():
    keras.backend.set_image_data_format("channels_first")
    try:
        with pytest.raises(ValueError, match="DenseNet169: DenseNet does not support the 'channels_first'"):
            A.DenseNet169(weights=None)
    finally:
        keras.backend.set_image_data_format("channels_last")


def test_channels_first():
    from tensorlab.keras.layers._common import normalize_data_format
    keras.backend.set_image_data_format("channels_first")
    try:
        if normalize_data_format(None) == "channels_first":  # layers follow the global setting
            m = A.ResNet50(weights=None, input_shape=(3, 32, 32), include_top=False)
            assert tuple(m.output.shape) == (None, 2048, 1, 1)
        else:
            with pytest.raises(ValueError, match="ResNet50: tensorlab's layers do not follow image_data_format="
                                                 "'channels_first' yet"):
                A.ResNet50(weights=None, input_shape=(3, 32, 32), include_top=False)
    finally:
        keras.backend.set_image_data_format("channels_last")
