"""keras.tree against the real Keras' (optree) behaviour; keras.utils image files and Functional-API
helpers; keras.backend dtype helpers; keras.config switches: interactive logging (the Progbar),
max_epochs / max_steps_per_epoch (fit, evaluate, predict), traceback filtering, flash attention,
unsafe deserialization."""
import collections
import io
import logging
import os
import traceback

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import backend, config, layers, tree, utils
from tests.keras.real_keras import K

Foo = collections.namedtuple("Foo", ["a", "b"])
STRUCTURES = [[[1, 2, 3], [4, [5], [[6]]]], None, 1, {100: "w", 6: "h"}, collections.OrderedDict([("b", 1), ("a", 2)]),
              collections.deque([1, [2]]), Foo(1, [2, None]), {"b": [1, (2, None)], "a": 3},
              collections.defaultdict(int, {"z": 1, "y": [2]})]


# ----------------------------------------------------------------------------- keras.tree
@pytest.mark.parametrize("s", STRUCTURES, ids=lambda s: type(s).__name__)
def test_tree_functions(s):
    leaves = tree.flatten(s)
    assert tree.pack_sequence_as(s, leaves) == s
    assert [leaf for _, leaf in tree.flatten_with_path(s)] == leaves
    assert tree.flatten(tree.map_structure(repr, s)) == [repr(x) for x in leaves]
    if K is not None:
        assert leaves == K.tree.flatten(s) and tree.flatten_with_path(s) == K.tree.flatten_with_path(s)
        assert tree.is_nested(s) == K.tree.is_nested(s)
        assert tree.map_structure(lambda x: 0, s, none_is_leaf=False) == K.tree.map_structure(
            lambda x: 0, s, none_is_leaf=False)
        assert tree.lists_to_tuples(s) == K.tree.lists_to_tuples(s)
        for top_down in (True, False):
            mine, theirs = [], []
            assert tree.traverse(mine.append, s, top_down) == K.tree.traverse(theirs.append, s, top_down)
            assert mine == theirs


def test_tree_examples_and_errors():
    assert tree.flatten({100: "world!", 6: "Hello"}) == ["Hello", "world!"]
    assert tree.flatten(collections.OrderedDict([("b", 1), ("a", 2)])) == [1, 2]  # insertion order
    assert tree.flatten_with_path([{"foo": 42}]) == [((0, "foo"), 42)]
    assert tree.pack_sequence_as({"key3": "", "key1": "", "key2": ""}, ["v1", "v2", "v3"]) == \
        {"key3": "v3", "key1": "v1", "key2": "v2"}
    assert tree.map_structure(lambda x, y: x + y, {"a": 1, "b": 2}, collections.OrderedDict([("b", 1), ("a", 2)])) \
        == {"a": 3, "b": 3}
    assert tree.map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]]) == ["[1, 1]", ["2", "2"]]
    assert tree.map_shape_structure(len, {"a": (1, None, 3), "b": [(2,), [4, 5]]}) == {"a": 3, "b": [1, 2]}
    assert tree.traverse(lambda x: tree.MAP_TO_NONE if x == 2 else None, [1, 2]) == [1, None]
    assert tree.traverse(lambda x: x * 10 if isinstance(x, int) else None, [1, (2,)], top_down=False) == [10, (20,)]
    tree.assert_same_structure({"a": 1, "b": 2}, collections.OrderedDict([("b", 0), ("a", 0)]))
    tree.assert_same_paths([0, 1], (2, 3))
    with pytest.raises(ValueError, match=r"assert_same_structure: .* at the top: node type builtins.list vs "
                                         r"builtins.tuple"):
        tree.assert_same_structure([1, 2], (1, 2))
    with pytest.raises(ValueError, match=r"assert_same_structure: .* node type .*Foo vs .*Foo"):
        tree.assert_same_structure(Foo(1, 2), collections.namedtuple("Foo", ["a", "b"])(1, 2))
    with pytest.raises(ValueError, match=r"map_structure: .* at \[1\]"):
        tree.map_structure(lambda a, b: a, [1, 2], [1, [2]])
    with pytest.raises(ValueError, match=r"Paths in `a` missing in `b`"):
        tree.assert_same_paths([0, 1], {"a": 1})
    with pytest.raises(ValueError, match=r"pack_sequence_as: the structure has 2 leaves but flat_sequence has 1"):
        tree.pack_sequence_as([1, 2], [1])
    with pytest.raises(TypeError, match=r"map_structure: func must be callable, got int"):
        tree.map_structure(1, [1])
    assert keras.tree is tree


# ----------------------------------------------------------------------------- keras.utils
def test_image_files_round_trip(tmp_path, rng):
    pytest.importorskip("PIL")
    rgb = (rng.random((6, 7, 3)) * 255).astype("float32")
    img = utils.array_to_img(rgb, scale=False)
    assert img.mode == "RGB" and img.size == (7, 6)
    np.testing.assert_array_equal(utils.img_to_array(img), rgb.astype("uint8"))
    assert utils.img_to_array(img, data_format="channels_first").shape == (3, 6, 7)
    path = tmp_path / "x.png"
    utils.save_img(path, rgb, scale=False)
    np.testing.assert_array_equal(utils.img_to_array(utils.load_img(path)), rgb.astype("uint8"))
    gray = utils.load_img(path, color_mode="grayscale", target_size=(3, 4))
    assert gray.mode == "L" and gray.size == (4, 3)
    assert utils.img_to_array(gray).shape == (3, 4, 1)
    assert utils.load_img(path, target_size=(2, 2), keep_aspect_ratio=True).size == (2, 2)
    scaled = utils.img_to_array(utils.array_to_img(rgb / 255.0 - 0.5))
    assert scaled.min() == 0 and scaled.max() == 255  # scale=True stretches to [0, 255]
    assert utils.array_to_img(np.full((2, 2, 1), 1000.0), scale=False).mode == "I"
    with pytest.warns(UserWarning, match="JPEG format does not support RGBA"):
        utils.save_img(tmp_path / "x.jpg", np.zeros((2, 2, 4)))
    with pytest.raises(ValueError, match=r"array_to_img: expected an image array of rank 3"):
        utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"load_img: color_mode must be 'grayscale', 'rgb' or 'rgba'"):
        utils.load_img(path, color_mode="cmyk")
    with pytest.raises(ValueError, match=r"load_img: invalid interpolation 'cubic'"):
        utils.load_img(path, target_size=(3, 3), interpolation="cubic")


def test_functional_helpers_and_aliases():
    a, b = keras.Input((3,)), keras.Input((3,))
    y = layers.Dense(2)(layers.Add()([a, layers.Dense(3)(b)]))
    z = layers.Concatenate()([y, layers.Dense(2)(a)])
    sources = utils.get_source_inputs(z)
    assert len(sources) == 2 and sources[0] is a and sources[1] is b
    assert utils.get_source_inputs(a) == [a]
    assert utils.is_keras_tensor(z) and not utils.is_keras_tensor(tl.ones([2]))
    assert utils.CustomObjectScope is utils.custom_object_scope
    with utils.CustomObjectScope({"MyThing": int}):
        assert keras.saving.get_custom_objects().get("MyThing", int) is int
    assert utils.standardize_dtype is backend.standardize_dtype
    keras.layers.Dense(1)
    utils.clear_session()
    assert keras.layers.Dense(1).name == "dense"


# ----------------------------------------------------------------------------- keras.backend
def test_backend_dtype_helpers():
    assert backend.backend() == "tensorlab" and config.backend() == "tensorlab"
    assert backend.standardize_dtype(None) == "float32"
    assert backend.standardize_dtype(float) == "float32" and backend.standardize_dtype(int) == "int64"
    assert backend.standardize_dtype(tl.int16) == "int16" and backend.standardize_dtype(np.dtype("bool")) == "bool"
    assert backend.standardize_dtype(np.float16) == "float16"
    with pytest.raises(ValueError, match=r"standardize_dtype: invalid dtype 'float128'; valid: float16"):
        backend.standardize_dtype("float128")
    assert backend.is_float_dtype("bfloat16") and backend.is_float_dtype(tl.float64)
    assert not backend.is_float_dtype("int8") and backend.is_int_dtype("uint8") and not backend.is_int_dtype("bool")
    # Keras' lattice (TensorFlow-backend widths: 64-bit types stay 64-bit)
    cases = {("int32", "float16"): "float16", ("bfloat16", int): "bfloat16", ("int8", "uint8"): "int16",
             ("uint8", float): "float32", (int, float): "float32", ("bool", "int8"): "int8", (int,): "int32",
             ("float16", "bfloat16"): "float32", ("int32", "uint32"): "int64", ("float64", int): "float64",
             ("int64", "float32"): "float32", (): "float32", (None, "int32"): "float32", ("bool", "bool"): "bool",
             ("uint64", "int8"): "float32"}
    for args, want in cases.items():
        assert backend.result_type(*args) == want, args
    if K is not None:
        for args, want in cases.items():
            if "64" not in want and not (int in args and len(args) == 1):
                assert K.backend.result_type(*args) == want, args
    with pytest.raises(ValueError, match="result_type: there is no implicit conversion from float8"):
        backend.result_type("float8_e4m3fn", "float32")
    backend.clear_session()
    assert [backend.get_uid("x"), backend.get_uid("x"), backend.get_uid("y")] == [1, 2, 1]
    backend.clear_session()
    assert backend.get_uid("x") == 1


# ----------------------------------------------------------------------------- keras.config
@pytest.fixture
def restore_config():
    saved = dict(config._state)
    yield
    config._state.clear()
    config._state.update(saved)


def test_interactive_logging_routes_the_progbar(restore_config, caplog):
    assert config.is_interactive_logging_enabled() and utils.is_interactive_logging_enabled()
    out = io.StringIO()
    bar = utils.Progbar(3, verbose=1, stream=out)
    bar.update(3, [("loss", 0.5)])
    assert "3/3" in out.getvalue() and "loss: 0.5000" in out.getvalue()
    utils.disable_interactive_logging()
    assert not config.is_interactive_logging_enabled()
    out = io.StringIO()
    with caplog.at_level(logging.INFO, logger="tensorlab.keras"):
        bar = utils.Progbar(3, verbose=1, stream=out)
        bar.update(1, [("loss", 1.0)])
        bar.update(3, [("loss", 0.25)])
        utils.Progbar(2, verbose=2, stream=out).update(2, [("acc", 0.75)])
    assert out.getvalue() == ""
    lines = [r.getMessage() for r in caplog.records if r.name == "tensorlab.keras"]
    assert len(lines) == 2 and "3/3" in lines[0] and "loss: 0.2500" in lines[0] and "acc: 0.7500" in lines[1]
    config.enable_interactive_logging()
    assert config.is_interactive_logging_enabled()


def _model():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_max_epochs_and_steps(restore_config):
    x, y = np.ones((40, 2), "float32"), np.ones((40, 1), "float32")
    config.set_max_epochs(2)
    assert config.max_epochs() == 2
    with pytest.warns(UserWarning, match=r"fit: limiting epochs to 2"):
        history = _model().fit(x, y, epochs=5, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2
    config.set_max_epochs(None)
    config.set_max_steps_per_epoch(3)
    assert config.max_steps_per_epoch() == 3
    steps = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: steps.append(batch))
    model = _model()
    with pytest.warns(UserWarning, match=r"fit: limiting steps to 3"):
        model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[counter])
    assert steps == [0, 1, 2, 0, 1, 2]
    with pytest.warns(UserWarning, match=r"predict: limiting steps to 3"):
        assert model.predict(x, batch_size=4, verbose=0).shape == (12, 1)
    tested = []
    with pytest.warns(UserWarning, match=r"evaluate: limiting steps to 3"):
        model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[keras.callbacks.LambdaCallback(
            on_test_batch_end=lambda batch, logs: tested.append(batch))])
    assert tested == [0, 1, 2]
    with pytest.raises(ValueError, match=r"set_max_epochs: expected a positive int or None, got 0"):
        config.set_max_epochs(0)


def _raise_in_call(x):
    raise RuntimeError("boom from user code")


def test_traceback_filtering(restore_config):
    model = keras.Sequential([keras.Input((2,)), layers.Lambda(_raise_in_call, output_shape=(2,))])
    model.compile("sgd", "mse")
    package = os.path.dirname(tl.__file__)

    def frames():
        with pytest.raises(RuntimeError, match="boom from user code") as info:
            model.predict(np.ones((2, 2), "float32"), verbose=0)
        return [f.filename for f in traceback.extract_tb(info.value.__traceback__)]

    assert config.is_traceback_filtering_enabled()
    files = frames()
    # (the frame re-raising the filtered error stays, as Keras' error_handler frame does)
    assert files[-1] == __file__ and [f for f in files if f.startswith(package)] == [
        os.path.join(package, "keras", "utils", "traceback_utils.py")]
    config.disable_traceback_filtering()
    assert not config.is_traceback_filtering_enabled()
    assert any(f.startswith(package) for f in frames())
    config.enable_traceback_filtering()


def test_flash_attention_hint_and_unsafe_deserialization(restore_config, rng):
    assert config.is_flash_attention_enabled() is None
    q = rng.normal(size=(1, 3, 2, 4))
    plain = keras.ops.dot_product_attention(q, q, q)
    config.enable_flash_attention()
    assert config.is_flash_attention_enabled() is True
    np.testing.assert_array_equal(keras.ops.dot_product_attention(q, q, q).numpy(), plain.numpy())
    config.disable_flash_attention()
    assert config.is_flash_attention_enabled() is False
    assert config.in_safe_mode() is None
    config.enable_unsafe_deserialization()
    assert config.in_safe_mode() is False
