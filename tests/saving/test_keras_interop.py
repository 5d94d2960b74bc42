"""``.keras`` and ``.weights.h5`` files exchanged with the real Keras 3 (on a CPU backend: PyTorch or JAX)."""
import importlib.util
import os

import numpy as np
import pytest

if "KERAS_BACKEND" not in os.environ:  # Keras 3 needs one backend to load files; take the one installed
    for _backend, _module in (("torch", "torch"), ("jax", "jax"), ("tensorflow", "tensorflow")):
        if importlib.util.find_spec(_module) is not None:
            os.environ["KERAS_BACKEND"] = _backend
            break
try:
    import keras as K  # the real Keras 3
except Exception as e:  # pragma: no cover - depends on the environment
    pytest.skip(f"Keras 3 with a backend (pip install keras torch) is not importable: {e}", allow_module_level=True)
if not K.__version__.startswith("3."):  # pragma: no cover
    pytest.skip(f"Keras 3 is needed, found {K.__version__}", allow_module_level=True)
pytest.importorskip("h5py")

import tensorlab as tl  # noqa: E402
from tensorlab.keras.saving import file_format as ff  # noqa: E402

# Two float32 implementations (Keras on torch, tensorlab on numpy) sum in different orders:
# differences of a few float32 ulps per op add up over a CNN's layers.
TOL = dict(rtol=2e-4, atol=2e-4)


def k_cnn(k):
    return k.Sequential([k.Input((8, 8, 3)), k.layers.Conv2D(4, 3, padding="same", activation="relu"),
                         k.layers.BatchNormalization(), k.layers.MaxPooling2D(), k.layers.DepthwiseConv2D(3),
                         k.layers.Flatten(), k.layers.Dropout(0.3), k.layers.Dense(5, activation="softmax")])


def k_seq_models(k):
    i = k.Input((5, 4))
    a = k.layers.Dense(4)(i)
    b = k.layers.Add()([a, i])
    c = k.layers.MultiHeadAttention(2, 3)(b, b)
    c = k.layers.LayerNormalization()(c)
    r = k.layers.LSTM(6, return_sequences=True)(c)
    r = k.layers.Bidirectional(k.layers.GRU(3))(r)
    return k.Model(i, k.layers.Dense(2)(k.layers.Concatenate()([r, k.layers.GlobalAveragePooling1D()(c)])))


def k_embedding(k):
    return k.Sequential([k.Input((7,), dtype="int32"), k.layers.Embedding(20, 4), k.layers.SimpleRNN(5),
                         k.layers.Dense(3)])


def k_recurrent_conv_and_gqa(k):
    # ConvLSTM (Keras keeps its weights in a cell sub-object), grouped-query attention and RMS norm
    frames = k.Input((3, 5, 5, 2))
    c = k.layers.ConvLSTM2D(3, 3, padding="same")(frames)
    c = k.layers.GlobalAveragePooling2D()(c)
    seq = k.Input((6, 4))
    s = k.layers.ConvLSTM1D(4, 2, padding="same", return_sequences=True)(k.layers.Reshape((6, 1, 4))(seq))
    s = k.layers.Reshape((6, 4))(s)
    a = k.layers.GroupQueryAttention(head_dim=2, num_query_heads=4, num_key_value_heads=2)(s, s)
    a = k.layers.RMSNormalization()(a)
    return k.Model([frames, seq], k.layers.Dense(2)(k.layers.Concatenate()([c, k.layers.Flatten()(a)])))


CASES = [("cnn", k_cnn, lambda r: r.random((4, 8, 8, 3)).astype("float32"), lambda r: r.integers(0, 5, 4)),
         ("attention_rnn", k_seq_models, lambda r: r.random((3, 5, 4)).astype("float32"),
          lambda r: r.random((3, 2)).astype("float32")),
         ("embedding", k_embedding, lambda r: r.integers(0, 20, (3, 7)).astype("int32"),
          lambda r: r.random((3, 3)).astype("float32")),
         ("conv_lstm_gqa", k_recurrent_conv_and_gqa,
          lambda r: [r.random((3, 3, 5, 5, 2)).astype("float32"), r.random((3, 6, 4)).astype("float32")],
          lambda r: r.random((3, 2)).astype("float32"))]


def _loss(name):
    return "sparse_categorical_crossentropy" if name == "cnn" else "mse"


@pytest.mark.parametrize("name,build,xs,ys", CASES, ids=[c[0] for c in CASES])
def test_keras_saved_model_loads_and_predicts_the_same(tmp_path, rng, name, build, xs, ys):
    x, y = xs(rng), ys(rng)
    km = build(K)
    km.compile(optimizer="adam", loss=_loss(name))
    km.fit(x, y, epochs=1, verbose=0)  # non-trivial batch-norm statistics and optimizer state
    km.save(tmp_path / "k.keras")
    tm = ff.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(tm.predict(x, verbose=0), km.predict(x, verbose=0), **TOL)
    assert int(tm.optimizer.iterations.numpy()) == int(km.optimizer.iterations.numpy())
    kv = [np.asarray(v.numpy() if hasattr(v, "numpy") else K.ops.convert_to_numpy(v))
          for v in km.optimizer.variables]
    tv = [v.numpy() for v in tm.optimizer.variables]
    assert len(kv) == len(tv)
    for a, b in zip(kv, tv):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,build,xs,ys", CASES, ids=[c[0] for c in CASES])
def test_tensorlab_saved_model_loads_in_keras(tmp_path, rng, name, build, xs, ys):
    x, y = xs(rng), ys(rng)
    km = build(K)
    km.save(tmp_path / "k0.keras")
    tm = ff.load_model(tmp_path / "k0.keras")  # the same architecture, built by tensorlab
    tm.compile(optimizer="adam", loss=_loss(name))
    tm.fit(x, y, epochs=1, verbose=0)
    ff.save_model(tm, tmp_path / "t.keras")
    k2 = K.models.load_model(tmp_path / "t.keras")
    np.testing.assert_allclose(k2.predict(x, verbose=0), tm.predict(x, verbose=0), **TOL)
    assert int(K.ops.convert_to_numpy(k2.optimizer.iterations)) == int(tm.optimizer.iterations.numpy())


def test_tensorlab_built_models_load_in_keras(tmp_path, rng):
    keras = tl.keras
    inp = keras.Input((6,))
    h = keras.layers.Dense(4, activation="relu")(inp)
    out = keras.layers.Dense(2)(keras.layers.Concatenate()([h, keras.layers.Dense(3)(h)]))
    fm = keras.Model(inp, out)
    sm = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(2, 3, strides=2),
                           keras.layers.Conv2DTranspose(2, 3, strides=2), keras.layers.AveragePooling2D(2),
                           keras.layers.Reshape((-1,)), keras.layers.Dense(2)])
    for model, x in ((fm, rng.random((3, 6)).astype("float32")), (sm, rng.random((2, 8, 8, 3)).astype("float32"))):
        ff.save_model(model, tmp_path / "m.keras")
        km = K.models.load_model(tmp_path / "m.keras")
        np.testing.assert_allclose(km.predict(x, verbose=0), model.predict(x, verbose=0), **TOL)


def test_weights_h5_files_both_ways(tmp_path, rng):
    x = rng.random((4, 8, 8, 3)).astype("float32")
    km = k_cnn(K)
    km.save_weights(tmp_path / "k.weights.h5")
    km.save(tmp_path / "arch.keras")
    tm = ff.load_model(tmp_path / "arch.keras")
    for v in tm.weights:
        v.assign(np.zeros(v.shape, v.dtype.as_numpy_dtype))
    ff.load_weights(tm, tmp_path / "k.weights.h5")
    np.testing.assert_allclose(tm.predict(x, verbose=0), km.predict(x, verbose=0), **TOL)
    for v in tm.weights:
        v.assign(rng.random(tuple(v.shape)).astype(v.dtype.as_numpy_dtype) * 0.1 + 0.5)
    ff.save_weights(tm, tmp_path / "t.weights.h5")
    km.load_weights(tmp_path / "t.weights.h5")
    np.testing.assert_allclose(km.predict(x, verbose=0), tm.predict(x, verbose=0), **TOL)


def test_keras_compile_config_objects_load(tmp_path, rng):
    x, y = rng.random((8, 4)).astype("float32"), rng.integers(0, 3, 8)
    km = K.Sequential([K.Input((4,)), K.layers.Dense(3)])
    km.compile(optimizer=K.optimizers.RMSprop(0.01), loss=K.losses.SparseCategoricalCrossentropy(from_logits=True),
               metrics=[K.metrics.SparseCategoricalAccuracy()])
    km.fit(x, y, verbose=0)
    km.save(tmp_path / "k.keras")
    tm = ff.load_model(tmp_path / "k.keras")
    assert type(tm.optimizer).__name__ == "RMSprop"
    assert float(tm.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    k_loss, k_acc = km.evaluate(x, y, verbose=0)
    t_loss, t_acc = tm.evaluate(x, y, verbose=0)
    assert t_loss == pytest.approx(k_loss, rel=1e-5) and t_acc == pytest.approx(k_acc)


def _subclassed(k):
    class Net(k.Model):
        def __init__(self):
            super().__init__()
            self.proj = k.layers.Dense(4)
            self.blocks = [k.layers.Dense(3), k.layers.Dense(3)]
            self.out = k.layers.Dense(2)  # sorts after `layers`: Keras files it under layers/dense_3

        def call(self, x):
            h = self.proj(x)
            for b in self.blocks:
                h = b(h)
            return self.out(h)
    return Net()


def test_subclassed_model_weights_both_ways(tmp_path, rng):
    x = rng.random((3, 5)).astype("float32")
    km = _subclassed(K)
    km(x)
    km.save_weights(tmp_path / "k.weights.h5")
    tm = _subclassed(tl.keras)
    tm(x)
    ff.load_weights(tm, tmp_path / "k.weights.h5")
    np.testing.assert_allclose(tm(x).numpy(), K.ops.convert_to_numpy(km(x)), **TOL)
    for v in tm.weights:
        v.assign(rng.random(tuple(v.shape)).astype("float32"))
    ff.save_weights(tm, tmp_path / "t.weights.h5")
    km.load_weights(tmp_path / "t.weights.h5")
    np.testing.assert_allclose(K.ops.convert_to_numpy(km(x)), tm(x).numpy(), **TOL)
