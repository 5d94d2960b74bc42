"""``keras.saving.deserialize_keras_object``: the config's ``"module"`` and the ``module=``
argument say where a class (or a built-in function) is looked up, as in Keras 3."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tests.keras.real_keras import K, needs_keras

deser = keras.saving.deserialize_keras_object

# Classes Keras has both as a loss and as a metric (same name, different objects).
_TWINS = ["MeanSquaredError", "MeanAbsoluteError", "Hinge", "KLDivergence", "CategoricalCrossentropy", "Poisson"]


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()
    yield


def _mse_ref(y, p):
    return np.mean((y.astype(np.float64) - p.astype(np.float64)) ** 2, axis=-1)


@pytest.mark.parametrize("name", _TWINS)
def test_config_module_picks_the_metric_or_the_loss(name):
    for mod, home in (("keras.metrics", keras.metrics), ("keras.losses", keras.losses)):
        obj = deser({"module": mod, "class_name": name, "config": {}, "registered_name": None})
        assert type(obj) is getattr(home, name), mod
    # ... and so does the module= argument, short or as a Keras path, for a config without a module.
    for arg in ("metrics", "keras.metrics", "tensorlab.keras.metrics"):
        assert type(deser({"class_name": name, "config": {}}, module=arg)) is getattr(keras.metrics, name)
    assert type(deser({"class_name": name, "config": {}}, module="keras.losses")) is getattr(keras.losses, name)


def test_a_metric_round_trips_as_a_metric(rng):
    m = keras.metrics.MeanSquaredError()
    again = deser(keras.saving.serialize_keras_object(m))
    assert type(again) is keras.metrics.MeanSquaredError
    y, p = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    again.update_state(tl.constant(y), tl.constant(p))
    np.testing.assert_allclose(float(again.result()), _mse_ref(y, p).mean(), rtol=1e-6)


def test_module_argument_as_a_keras_path_for_names():
    assert deser("Dense", module="keras.layers") is keras.layers.Dense
    assert type(deser("MeanSquaredError", module="keras.metrics")) is keras.metrics.MeanSquaredError
    assert isinstance(deser("adam", module="keras.optimizers"), keras.optimizers.Adam)
    with pytest.raises(ValueError, match=r"module='no_such_place' is not a Keras module"):
        deser({"class_name": "Dense", "config": {}}, module="no_such_place")


def test_configs_without_a_module_still_load():
    d = deser({"class_name": "Dense", "config": {"units": 3}})
    assert isinstance(d, keras.layers.Dense) and d.units == 3
    d = deser({"class_name": "Dense", "config": {"units": 2}, "module": None}, module="layers")
    assert isinstance(d, keras.layers.Dense) and d.units == 2


def test_subpackages_and_keras_internal_paths():
    sched = {"class_name": "ExponentialDecay", "config": {"initial_learning_rate": 0.5, "decay_steps": 4,
                                                          "decay_rate": 0.25}}
    for mod in ("keras.optimizers.schedules", "keras.optimizers", "keras.src.optimizers.schedules.learning_rate"):
        s = deser({**sched, "module": mod})
        assert isinstance(s, keras.optimizers.schedules.ExponentialDecay), mod
        np.testing.assert_allclose(float(s(8)), 0.5 * 0.25 ** 2, rtol=1e-6)
    adam = deser({"module": "keras.src.backend.torch.optimizers.torch_adam", "class_name": "Adam",
                  "config": {"learning_rate": 0.25}, "registered_name": "Adam"})
    assert isinstance(adam, keras.optimizers.Adam) and float(adam.learning_rate) == 0.25


def test_functional_model_under_keras_internal_module(rng):
    x = keras.Input((3,))
    model = keras.Model(x, keras.layers.Dense(2, activation="tanh")(x))
    cfg = keras.saving.serialize_keras_object(model)
    for mod in ("keras.src.models.functional", "keras.models"):
        clone = deser({**cfg, "module": mod})
        clone.set_weights(model.get_weights())
        a = rng.standard_normal((5, 3)).astype("float32")
        w, b = (np.asarray(v, np.float64) for v in model.get_weights())
        np.testing.assert_allclose(clone.predict(a, verbose=0), np.tanh(a.astype(np.float64) @ w + b),
                                   rtol=1e-5, atol=1e-6)


def test_builtin_functions_saved_by_name(rng):
    relu = deser({"module": "builtins", "class_name": "function", "config": "relu", "registered_name": "function"})
    assert relu is keras.activations.relu
    a = rng.standard_normal((4, 5))
    np.testing.assert_allclose(relu(tl.constant(a)).numpy(), np.maximum(a, 0.0))
    mse = deser({"module": "builtins", "class_name": "function", "config": "mean_squared_error",
                 "registered_name": "function"})
    y, p = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(mse(tl.constant(y), tl.constant(p)).numpy(), _mse_ref(y, p), rtol=1e-12)
    assert deser({"module": "keras.activations", "class_name": "function", "config": "tanh"}) is \
        keras.activations.tanh
    assert deser("relu", module="builtins") is keras.activations.relu


def test_custom_objects_win_and_user_modules_need_registration():
    class Dense(keras.layers.Dense):  # a user class sharing a built-in's name
        pass

    cfg = {"module": "my_pkg.layers", "class_name": "Dense", "config": {"units": 3}, "registered_name": None}
    # Not registered: no silent fallback to keras.layers.Dense.
    with pytest.raises(ValueError, match=r"Unknown layer class 'Dense' \(module 'my_pkg.layers'\): a class "
                                         r"from outside Keras is only found when it is registered.*custom_objects"):
        deser(cfg, module="layers")
    assert type(deser(cfg, custom_objects={"Dense": Dense})) is Dense
    with keras.saving.custom_object_scope({"my>Dense": Dense}):
        assert type(deser({**cfg, "registered_name": "my>Dense"})) is Dense

    def twice(v):
        return v * 2

    with keras.saving.custom_object_scope({"my>twice": twice}):
        assert deser({"module": "builtins", "class_name": "function", "config": "twice"}) is twice  # Keras <= 3.6


def test_not_found_errors_name_the_class_and_module():
    with pytest.raises(ValueError, match=r"Unknown layer class 'NoSuchLayer' \(module 'keras.layers'\): "
                                         r"tensorlab.keras.layers has no such class"):
        deser({"module": "keras.layers", "class_name": "NoSuchLayer", "config": {}})
    with pytest.raises(ValueError, match=r"Unknown loss class 'Accuracy' \(module 'keras.losses'\)"):
        deser({"module": "keras.losses", "class_name": "Accuracy", "config": {}})  # a metric, not a loss
    with pytest.raises(ValueError, match=r"Unknown object class 'Dense' \(module 'builtins'\)"):
        deser({"module": "builtins", "class_name": "Dense", "config": {}})
    with pytest.raises(ValueError, match=r"Unknown function 'no_such_fn' \(module 'builtins'\): none of "
                                         r"tensorlab.keras.activations.*has such a function"):
        deser({"module": "builtins", "class_name": "function", "config": "no_such_fn"})
    with pytest.raises(ValueError, match=r"Unknown optimizer class 'Nope': it is not a Keras built-in"):
        deser({"class_name": "Nope", "config": {}}, module="optimizers")


@needs_keras
def test_configs_written_by_keras_3(rng):
    from keras.saving import serialize_keras_object as kser
    for name in _TWINS:
        if name == "CategoricalCrossentropy":  # Keras' metric has an `axis` tensorlab's lacks
            continue
        assert type(deser(kser(getattr(K.metrics, name)()))) is getattr(keras.metrics, name)
        assert type(deser(kser(getattr(K.losses, name)()))) is getattr(keras.losses, name)
    for fn, ours in ((K.activations.relu, keras.activations.relu), (K.activations.gelu, keras.activations.gelu)):
        assert deser(kser(fn)) is ours
    mse = deser(kser(K.losses.mean_squared_error))
    y, p = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    np.testing.assert_allclose(mse(tl.constant(y), tl.constant(p)).numpy(), _mse_ref(y, p), rtol=1e-12)
    for opt in (K.optimizers.Adam(0.125), K.optimizers.SGD(0.5)):  # a backend-specific module path
        ours = deser(kser(opt))
        assert type(ours) is getattr(keras.optimizers, type(opt).__name__)
        assert float(ours.learning_rate) == float(opt.learning_rate)
    sched = deser(kser(K.optimizers.schedules.ExponentialDecay(0.5, 4, 0.25)))
    np.testing.assert_allclose(float(sched(8)), 0.5 * 0.25 ** 2, rtol=1e-6)
    act = deser(kser(K.layers.Activation("tanh")))
    a = rng.standard_normal((2, 3)).astype("float32")  # the layer computes in float32, as saved
    np.testing.assert_allclose(act(tl.constant(a)).numpy(), np.tanh(a.astype(np.float64)), rtol=1e-6)
    with pytest.raises(ValueError, match=r"Unknown layer class 'Dense2' \(module 'keras.layers'\)"):
        deser({**kser(K.layers.Activation("tanh")), "class_name": "Dense2"})
