"""keras.layers.ReversibleEmbedding: lookups, reverse logits (tied and untied), soft cap, saving."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers


def test_forward_and_reverse_against_numpy(rng):
    emb = layers.ReversibleEmbedding(20, 6, logit_soft_cap=5.0)
    ids = rng.integers(0, 20, size=(2, 7))
    h = emb(tl.constant(ids))
    table = emb.embeddings.numpy().astype(np.float64)
    np.testing.assert_allclose(h.numpy(), table[ids], rtol=1e-6)
    x = rng.normal(size=(2, 7, 6)).astype(np.float32)
    logits = emb(tl.constant(x), reverse=True)
    ref = np.tanh(x.astype(np.float64) @ table.T / 5.0) * 5.0
    np.testing.assert_allclose(logits.numpy(), ref, rtol=1e-5, atol=1e-6)
    assert len(emb.weights) == 1


def test_untied_reverse_weights_and_gradients(rng):
    emb = layers.ReversibleEmbedding(10, 4, tie_weights=False, reverse_dtype="float64")
    emb(tl.constant([[1, 2]]))
    assert [w.name for w in emb.weights] == ["reversible_embedding/embeddings:0",
                                             "reversible_embedding/reverse_embeddings:0"]
    assert tuple(emb.reverse_embeddings.shape) == (4, 10)
    x = tl.constant(rng.normal(size=(3, 4)).astype(np.float32))
    with tl.GradientTape() as tape:
        out = emb(x, reverse=True)
        loss = tl.reduce_sum(out * out)
    assert out.dtype == tl.float64
    g_emb, g_rev = tape.gradient(loss, [emb.embeddings, emb.reverse_embeddings])
    assert g_emb is None and g_rev is not None
    ref = 2 * x.numpy().astype(np.float64).T @ (x.numpy().astype(np.float64) @ emb.reverse_embeddings.numpy())
    np.testing.assert_allclose(g_rev.numpy(), ref, rtol=1e-5)


def test_language_model_trains_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(1)  # weights and data fixed: the loss bar below is not left to chance
    rng = np.random.default_rng(1)
    emb = layers.ReversibleEmbedding(12, 8, name="tok")
    inp = keras.Input((5,), dtype="int32")
    h = layers.Dense(8, activation="tanh")(emb(inp))
    model = keras.Model(inp, emb(h, reverse=True))
    assert model.output_shape == (None, 5, 12)
    x = rng.integers(0, 12, size=(32, 5))
    model.compile(keras.optimizers.Adam(0.05), keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(x, x, epochs=8, batch_size=8, verbose=0)  # learn to copy the tokens
    assert hist.history["loss"][-1] < 0.6 * hist.history["loss"][0]
    model.save(str(tmp_path / "lm.keras"))
    back = keras.models.load_model(str(tmp_path / "lm.keras"))
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    cfg = back.get_layer("tok").get_config()
    assert cfg["tie_weights"] is True and cfg["logit_soft_cap"] is None


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match="logit_soft_cap must be positive"):
        layers.ReversibleEmbedding(4, 2, logit_soft_cap=0)
    emb = layers.ReversibleEmbedding(4, 2)
    emb(tl.constant([1]))
    with pytest.raises(ValueError, match=r"reverse=True needs inputs whose last dimension is output_dim=2"):
        emb(tl.ones([3, 5]), reverse=True)
