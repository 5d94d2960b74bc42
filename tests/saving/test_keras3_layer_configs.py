"""Layer configs written by the real Keras 3 (3.15: initializers' ``input_axes``/``output_axes``, Dense's
``quantization_config``, BatchNormalization's ``renorm*``) rebuilt by tensorlab, with the same meaning.

Each layer is built in Keras, its ``get_config()`` / ``serialize_keras_object`` form is deserialized with
``tl.keras.saving.deserialize_keras_object`` / ``tl.keras.layers.deserialize``, and the tensorlab layer's
attributes are checked; with Keras' weights copied over, both compute the same outputs.
"""
import json
import math

import numpy as np
import pytest

import tensorlab as tl
import tests.keras.real_keras  # noqa: F401  (picks a Keras backend before keras is imported)
from tensorlab import keras as tk

K = pytest.importorskip("keras")
if not K.__version__.startswith("3."):  # pragma: no cover - depends on the environment
    pytest.skip(f"these tests need Keras 3, found {K.__version__}", allow_module_level=True)


def both_ways(layer):
    """The tensorlab layers rebuilt from ``serialize_keras_object`` and from ``get_config`` (through JSON)."""
    ser = json.loads(json.dumps(K.saving.serialize_keras_object(layer)))
    a = tk.saving.deserialize_keras_object(ser)
    cfg = json.loads(json.dumps(layer.get_config()))
    b = tk.layers.deserialize({"class_name": type(layer).__name__, "config": cfg})
    assert type(a) is type(b) is getattr(tk.layers, type(layer).__name__)
    return a, b


def copy_weights(theirs, ours, x):
    """Builds ``ours`` on ``x`` and gives it ``theirs``' weights (same layout, as Keras 3)."""
    ours(tl.constant(x))
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])


def test_initializer_axes_define_the_fans():
    from keras.src.initializers.random_initializers import compute_fans as keras_fans
    shape = (4, 3, 5, 8)
    for axes in (([0, 1], [2, 3]), ([2], [0, 3]), ([-1], [0]), (None, [1]), ([0], None), (None, None)):
        assert tk.initializers.compute_fans(shape, *axes) == keras_fans(shape, *axes), axes
    for cls in ("VarianceScaling", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
                "LecunNormal"):
        init = getattr(K.initializers, cls)(seed=3, input_axes=[0, 2], output_axes=[1])
        ours = tk.saving.deserialize_keras_object(json.loads(json.dumps(K.saving.serialize_keras_object(init))))
        assert type(ours) is getattr(tk.initializers, cls)
        assert (ours.input_axes, ours.output_axes, ours.seed) == ([0, 2], [1], 3)
        assert (ours.scale, ours.mode, ours.distribution) == (init.scale, init.mode, init.distribution)
        assert ours.get_config() == {k: v for k, v in init.get_config().items()
                                     if cls == "VarianceScaling" or k in ("seed", "input_axes", "output_axes")}
    # The fans come from the axes: fan_in = 40 here, where the conv-kernel rule would give 30 * 40 = 1200.
    init = tk.initializers.VarianceScaling(2.0, "fan_in", "uniform", seed=1, input_axes=[0], output_axes=[1, 2])
    w = init((40, 30, 10)).numpy()
    limit = math.sqrt(3 * 2.0 / 40)
    assert 0.99 * limit < np.abs(w).max() <= limit
    plain = tk.initializers.VarianceScaling(2.0, "fan_in", "uniform", seed=1)((40, 30, 10)).numpy()
    assert np.abs(plain).max() <= math.sqrt(3 * 2.0 / 1200)


def test_dense_with_an_axes_initializer(rng):
    init = K.initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=7, input_axes=[0], output_axes=[1])
    theirs = K.layers.Dense(5, activation="relu", kernel_initializer=init,
                            bias_initializer=K.initializers.Constant(0.25), name="head")
    for ours in both_ways(theirs):
        assert ours.units == 5 and ours.use_bias and ours.name == "head"
        assert ours.activation is tk.activations.relu
        ki = ours.kernel_initializer
        assert type(ki) is tk.initializers.VarianceScaling
        assert (ki.scale, ki.mode, ki.distribution, ki.seed, ki.input_axes, ki.output_axes) == \
            (2.0, "fan_out", "uniform", 7, [0], [1])
        assert type(ours.bias_initializer) is tk.initializers.Constant and ours.bias_initializer.value == 0.25
    x = rng.standard_normal((4, 3)).astype("float32")
    theirs(x)
    copy_weights(theirs, ours, x)
    np.testing.assert_allclose(ours(tl.constant(x)).numpy(), K.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-6)


def test_lstm(rng):
    theirs = K.layers.LSTM(4, return_sequences=True, go_backwards=True, dropout=0.25,
                           kernel_initializer=K.initializers.HeNormal(seed=2),
                           recurrent_initializer=K.initializers.Orthogonal(gain=2.0, seed=4), unit_forget_bias=False)
    for ours in both_ways(theirs):
        assert ours.units == 4 and ours.return_sequences and ours.go_backwards and not ours.return_state
        assert ours.activation is tk.activations.tanh and ours.recurrent_activation is tk.activations.sigmoid
        assert ours.dropout == 0.25 and ours.unit_forget_bias is False
        assert type(ours.kernel_initializer) is tk.initializers.HeNormal and ours.kernel_initializer.seed == 2
        assert ours.kernel_initializer.input_axes is None and ours.kernel_initializer.output_axes is None
        assert type(ours.recurrent_initializer) is tk.initializers.Orthogonal
        assert ours.recurrent_initializer.gain == 2.0
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    theirs(x)
    copy_weights(theirs, ours, x)
    np.testing.assert_allclose(ours(tl.constant(x)).numpy(), K.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-6)


def test_conv2d(rng):
    theirs = K.layers.Conv2D(3, (3, 2), strides=(2, 1), padding="same", activation="relu",
                             kernel_initializer=K.initializers.GlorotUniform(seed=5), use_bias=False)
    for ours in both_ways(theirs):
        assert ours.filters == 3 and tuple(ours.kernel_size) == (3, 2) and tuple(ours.strides) == (2, 1)
        assert ours.padding == "same" and ours.data_format == "channels_last" and not ours.use_bias
        assert ours.activation is tk.activations.relu
        assert type(ours.kernel_initializer) is tk.initializers.GlorotUniform and ours.kernel_initializer.seed == 5
    x = rng.standard_normal((2, 7, 6, 4)).astype("float32")
    theirs(x)
    copy_weights(theirs, ours, x)
    np.testing.assert_allclose(ours(tl.constant(x)).numpy(), K.ops.convert_to_numpy(theirs(x)), rtol=1e-5, atol=1e-5)


def test_batch_normalization(rng):
    theirs = K.layers.BatchNormalization(axis=1, momentum=0.9, epsilon=1e-2, center=False,
                                         gamma_initializer=K.initializers.RandomUniform(0.5, 1.5, seed=1))
    assert theirs.get_config()["renorm"] is False and theirs.get_config()["renorm_momentum"] == 0.99
    for ours in both_ways(theirs):
        assert ours.axis == 1 and ours.momentum == 0.9 and ours.epsilon == 1e-2
        assert not ours.center and ours.scale and not ours.synchronized
        assert type(ours.gamma_initializer) is tk.initializers.RandomUniform
    x = rng.standard_normal((4, 3, 5)).astype("float32")
    theirs(x)
    theirs.set_weights([rng.uniform(0.5, 1.5, 3).astype("float32"), rng.standard_normal(3).astype("float32"),
                    rng.uniform(0.5, 2.0, 3).astype("float32")])
    copy_weights(theirs, ours, x)
    np.testing.assert_allclose(ours(tl.constant(x), training=False).numpy(),
                               K.ops.convert_to_numpy(theirs(x, training=False)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs,arg", [({"renorm": True}, "renorm"),
                                        ({"renorm": True, "renorm_clipping": {"rmax": 3.0}}, "renorm"),
                                        ({"renorm_momentum": 0.5}, "renorm_momentum"),
                                        ({"renorm_clipping": {"rmin": 0.5, "rmax": 2.0}}, "renorm_clipping")])
def test_batch_renormalization_is_refused_by_name(kwargs, arg):
    cfg = K.saving.serialize_keras_object(K.layers.BatchNormalization(**kwargs))
    with pytest.raises(ValueError, match=rf"BatchNormalization: {arg}=.* is not supported: tensorlab does not "
                                         r"implement batch renormalization; only renorm=False"):
        tk.saving.deserialize_keras_object(json.loads(json.dumps(cfg)))
