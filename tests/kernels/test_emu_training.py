"""Training on the emulated GPU: Keras models run end to end on `GPU:0`, which is the host
emulator running our kernels (see emu/emulated_device.py), and match the CPU. (The digits demo
on a GPU, tests/keras/test_gpu.py, runs on it with `pytest -m gpu --emulated-gpu`.)

This exercises everything between a Keras `fit` and the kernels, as a GPU run would: device
placement, the registry's CUDA implementations and their CuPy fallbacks, the launchers, and
the kernels themselves. Timing, concurrency between blocks and CuPy itself are not covered.
"""
import numpy as np

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers


def _model():
    return keras.Sequential([
        keras.Input((8, 8, 2)),
        layers.Conv2D(8, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.Conv2D(6, 3, activation="tanh"),
        layers.Flatten(),
        layers.Dense(16, activation="gelu"),
        layers.LayerNormalization(),
        layers.Dense(5),
    ])


def _train(device, weights, x, y):
    with tl.device(device):
        m = _model()
        m.set_weights(weights)
        m.compile(optimizer=keras.optimizers.Adam(5e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
        hist = m.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        evaluated = m.evaluate(x, y, batch_size=32, verbose=0)
        predicted = m.predict(x[:7], verbose=0)
        return m.get_weights(), hist.history["loss"], evaluated, predicted


def test_fit_evaluate_predict_match_the_cpu(emulated_gpu_device):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(64, 8, 8, 2)).astype(np.float32)
    y = rng.integers(0, 5, size=64).astype(np.int32)
    with tl.device("cpu"):
        init = _model().get_weights()
    emulated_gpu_device.launched.clear()
    gpu = _train("gpu:0", init, x, y)
    ran = set(emulated_gpu_device.kernels())
    cpu = _train("cpu", init, x, y)
    for part in ("tl_conv2d_fwd", "tl_conv2d_bwd_input", "tl_conv2d_bwd_filter", "tl_batch_norm_stats",
                 "tl_batch_norm_bwd", "tl_layer_norm_fwd", "tl_layer_norm_bwd", "tl_bias_act_fwd",
                 "tl_bias_act_bwd", "tl_max_pool2d_fwd", "tl_max_pool2d_bwd", "tl_matmul_f32",
                 "tl_sparse_xent_fwd_bwd", "tl_adam_update_f32"):
        assert any(k.startswith(part) for k in ran), f"no {part}* kernel ran; ran: {sorted(ran)}"
    np.testing.assert_allclose(gpu[1], cpu[1], rtol=1e-4)          # per-epoch losses
    np.testing.assert_allclose(gpu[2], cpu[2], rtol=1e-4)          # evaluate
    np.testing.assert_allclose(gpu[3], cpu[3], rtol=1e-3, atol=1e-4)
    for w_gpu, w_cpu in zip(gpu[0], cpu[0]):
        np.testing.assert_allclose(w_gpu, w_cpu, rtol=1e-3, atol=1e-4)


def _mixed_mlp():
    return keras.Sequential([
        keras.Input((24,)),
        layers.Reshape((4, 6, 1)),
        layers.Conv2D(4, 3, padding="same", activation="relu"),  # float16: the CuPy path
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.BatchNormalization(),
        layers.Dense(32, activation="gelu"),
        layers.LayerNormalization(),
        layers.Dense(5),
        layers.Activation("linear", dtype="float32"),
    ])


def test_mixed_float16_fit_runs_the_half_kernels_and_matches_the_cpu(emulated_gpu_device):
    """mixed_float16 on GPU:0: float16 matmuls on the tensor-core kernel, float32 norms and
    updates, loss scaling; a training step gives the CPU's weights. (Only the first steps are
    compared tightly: float16 roundings flip on tiny differences, so longer runs drift apart.)"""
    rng = np.random.default_rng(11)
    x = rng.normal(size=(32, 24)).astype(np.float32)
    y = rng.integers(0, 5, size=32).astype(np.int32)
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        with tl.device("cpu"):
            init = _mixed_mlp().get_weights()
        results = {}
        for device in ("gpu:0", "cpu"):
            emulated_gpu_device.launched.clear()
            with tl.device(device):
                m = _mixed_mlp()
                m.set_weights(init)
                m.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                          loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
                hist = m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
            assert isinstance(m.optimizer, keras.optimizers.LossScaleOptimizer)
            assert int(m.optimizer.iterations.numpy()) == 2
            results[device] = (m.get_weights(), hist.history["loss"], set(emulated_gpu_device.kernels()))
    finally:
        keras.mixed_precision.set_global_policy(None)
    ran = results["gpu:0"][2]
    for part in ("tl_matmul_f16_tc", "tl_batch_norm_stats", "tl_layer_norm_fwd", "tl_sgd_momentum_update_f32"):
        assert any(k.startswith(part) for k in ran), f"no {part}* kernel ran; ran: {sorted(ran)}"
    np.testing.assert_allclose(results["gpu:0"][1], results["cpu"][1], rtol=1e-3)
    for w_gpu, w_cpu in zip(results["gpu:0"][0], results["cpu"][0]):
        np.testing.assert_allclose(w_gpu, w_cpu, rtol=1e-3, atol=1e-4)


def test_the_gpu_check_training_benchmark_runs(emulated_gpu_device, monkeypatch):
    """bench/gpu/keras_training.py (gpu-check's float32 vs mixed_float16 training rows) end to
    end on the emulated GPU, with a tiny network. (The timings mean nothing here.)"""
    from bench.gpu import keras_training as bench
    monkeypatch.setattr(bench, "WIDTHS", (4, 8))
    monkeypatch.setattr(bench, "IMAGE_SIZE", 6)
    rows = bench.run([], batch=4, steps=1, warmup=1)
    assert [r["bench"] for r in rows] == ["keras_cnn_step", "keras_cnn_step[mixed_float16]"]
    assert all(r["ours_ms"] > 0 and r["shape"] == "4x6x6x3 cnn4-8" for r in rows)
    assert "tl_matmul_f16_tc" in " ".join(emulated_gpu_device.kernels())
    assert keras.mixed_precision.global_policy().name == "float32"  # the benchmark restored it


def test_composite_3d_ops_stay_on_their_inputs_device(emulated_gpu_device):
    """With GPU:0 the default device, the 3-D ops of a CPU tensor (built from 2-D ops plus
    constants of their own) run on the CPU, and those of a GPU tensor on the GPU."""
    rng = np.random.default_rng(5)
    x_np = rng.normal(size=(1, 4, 5, 5, 2)).astype(np.float32)
    w_np = rng.normal(size=(2, 2, 2, 2, 3)).astype(np.float32)
    with tl.device("cpu"):
        x, w = tl.constant(x_np), tl.constant(w_np)
    outs = {}
    for name, fn in (("avg", lambda a: tl.nn.avg_pool3d(a, 3, 2, "SAME")),
                     ("conv", lambda a: tl.nn.conv3d(a, w, 1, "SAME")),
                     ("transpose", lambda a: tl.nn.conv3d_transpose(tl.nn.conv3d(a, w, 2, "SAME"), w,
                                                                   list(a.shape), 2, "SAME"))):
        y = fn(x)  # no device scope: GPU:0 is the default
        assert "CPU" in y.device, (name, y.device)
        outs[name] = y.numpy()
    with tl.device("cpu"):  # recurrent layers built on the CPU make their zero states there too
        rnn = tl.keras.layers.LSTM(3)
        conv_lstm = tl.keras.layers.ConvLSTM2D(2, 3, padding="same")
        seq = tl.constant(x_np[:, :, :, 0, 0])            # (1, 4, 5)
        rnn(seq)
        conv_lstm(x)
    assert "CPU" in rnn(seq).device and "CPU" in conv_lstm(x).device
    with tl.device("gpu:0"):
        xg, w = tl.constant(x_np), tl.constant(w_np)
        y = tl.nn.avg_pool3d(xg, 3, 2, "SAME")
    assert "GPU" in y.device
    np.testing.assert_allclose(y.numpy(), outs["avg"], rtol=1e-6)
