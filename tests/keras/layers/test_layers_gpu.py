"""The same layers give the same outputs and weight gradients on the GPU as on the CPU."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab.keras import layers

pytestmark = pytest.mark.gpu

CASES = [
    (lambda: layers.Dense(5, activation="relu"), (4, 3)),
    (lambda: layers.Dense(5), (2, 3, 4)),
    (lambda: layers.Conv2D(4, 3, padding="same", activation="relu"), (2, 7, 7, 3)),
    (lambda: layers.Conv1D(4, 3, padding="causal"), (2, 9, 3)),
    (lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same"), (2, 4, 4, 2)),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=2), (2, 6, 6, 3)),
    (lambda: layers.SeparableConv2D(4, 3), (2, 6, 6, 3)),
    (lambda: layers.MaxPooling2D(), (2, 6, 6, 3)),
    (lambda: layers.AveragePooling2D(3, strides=2, padding="same"), (2, 7, 7, 3)),
    (lambda: layers.GlobalAveragePooling2D(), (2, 5, 5, 3)),
    (lambda: layers.GlobalMaxPooling1D(), (2, 5, 3)),
    (lambda: layers.BatchNormalization(), (8, 5)),
    (lambda: layers.LayerNormalization(), (4, 6)),
    (lambda: layers.SimpleRNN(4, return_sequences=True), (2, 5, 3)),
    (lambda: layers.LSTM(4), (2, 5, 3)),
    (lambda: layers.GRU(4, return_sequences=True), (2, 5, 3)),
    (lambda: layers.Bidirectional(layers.LSTM(3)), (2, 4, 3)),
    (lambda: layers.TimeDistributed(layers.Dense(3)), (2, 4, 3)),
    (lambda: layers.UpSampling2D(2, interpolation="bilinear"), (2, 3, 3, 2)),
    (lambda: layers.UpSampling2D(2), (2, 3, 3, 2)),
    (lambda: layers.ZeroPadding2D(1), (2, 3, 3, 2)),
    (lambda: layers.Cropping2D(1), (2, 4, 4, 2)),
    (lambda: layers.Flatten(), (2, 3, 4)),
    (lambda: layers.Permute((2, 1)), (2, 3, 4)),
    (lambda: layers.PReLU(alpha_initializer="normal"), (2, 5)),
    (lambda: layers.ELU(), (2, 5)),
    (lambda: layers.Softmax(), (2, 5)),
    (lambda: layers.ReLU(max_value=1.0, negative_slope=0.1), (2, 5)),
    (lambda: layers.Normalization(mean=1.0, variance=4.0), (2, 5)),
    (lambda: layers.Conv3D(4, 3, padding="same", activation="relu"), (2, 4, 5, 5, 3)),
    (lambda: layers.MaxPooling3D(2, padding="same"), (2, 3, 5, 5, 2)),
    (lambda: layers.AveragePooling3D((2, 3, 2), strides=1), (2, 4, 5, 5, 2)),
    (lambda: layers.UpSampling3D(2), (2, 2, 3, 3, 2)),
    (lambda: layers.Conv3DTranspose(3, 2, strides=(1, 2, 2), padding="same"), (2, 3, 3, 3, 2)),
    (lambda: layers.DepthwiseConv1D(3, depth_multiplier=2, padding="causal"), (2, 7, 3)),
    (lambda: layers.SeparableConv1D(4, 3, strides=2, padding="same"), (2, 9, 3)),
    (lambda: layers.ConvLSTM1D(3, 3, padding="same", return_sequences=True), (2, 3, 7, 2)),
    (lambda: layers.ConvLSTM3D(2, 2, strides=(1, 2, 1), data_format="channels_first"), (2, 2, 2, 3, 4, 3)),
    (lambda: layers.RMSNormalization(axis=[1, 2]), (3, 4, 5)),
    (lambda: layers.GroupQueryAttention(3, 4, 2, use_gate=True, sliding_window=2), (2, 5, 6)),
    (lambda: layers.GroupQueryAttention(2, 4, 1, use_bias=False), (2, 4, 5)),
]


def _run(make, x_np, device, weights=None):
    with tl.device(device):
        layer = make()
        x = tl.constant(x_np)
        args = (x, x) if "value" in layer.call.__code__.co_varnames else (x,)  # attention: over x itself
        layer(*args)
        if weights is not None:
            layer.set_weights(weights)
        with tl.GradientTape() as tape:
            y = layer(*args, training=True) if "training" in layer.call.__code__.co_varnames else layer(*args)
            loss = tl.reduce_sum(y * y)
        grads = tape.gradient(loss, layer.trainable_weights)
        return layer, y.numpy(), [None if g is None else g.numpy() for g in grads]


@pytest.mark.parametrize("make,shape", CASES, ids=lambda v: "" if callable(v) else str(v))
def test_gpu_matches_cpu(make, shape, rng):
    x = rng.standard_normal(shape).astype("float32")
    cpu_layer, y_cpu, g_cpu = _run(make, x, "cpu")
    _, y_gpu, g_gpu = _run(make, x, "gpu:0", cpu_layer.get_weights())
    np.testing.assert_allclose(y_gpu, y_cpu, rtol=2e-4, atol=2e-5)
    for a, b in zip(g_gpu, g_cpu):
        np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


def test_gpu_attention_and_embedding(rng):
    q = rng.standard_normal((2, 5, 8)).astype("float32")
    ids = rng.integers(0, 10, size=(2, 5)).astype("int32")
    outs = []
    w = None
    for dev in ("cpu", "gpu:0"):
        with tl.device(dev):
            mha = layers.MultiHeadAttention(2, 4)
            emb = layers.Embedding(10, 8)
            x = tl.constant(q) + emb(tl.constant(ids))
            mha(x, x)
            if w is None:
                w = (mha.get_weights(), emb.get_weights())
            else:
                mha.set_weights(w[0])
                emb.set_weights(w[1])
            x = tl.constant(q) + emb(tl.constant(ids))
            outs.append(mha(x, x, use_causal_mask=True).numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=2e-4, atol=2e-5)


def test_gpu_images_in_affine_augmentations_under_a_cpu_scope(rng):
    # The layers' constant transform columns go to the images' device, not the current one.
    x = rng.uniform(size=(2, 6, 6, 3)).astype("float32")
    with tl.device("gpu:0"):
        xg = tl.constant(x)
    for make in (lambda: layers.RandomRotation(0.2, seed=1), lambda: layers.RandomTranslation(0.2, 0.2, seed=1),
                 lambda: layers.RandomZoom(0.2, seed=1), lambda: layers.Resizing(4, 5)):
        with tl.device("cpu"):
            y = make()(xg, training=True)
        assert "GPU" in y.device and y.shape[0] == 2
