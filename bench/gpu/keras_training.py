"""Keras training steps on one GPU: float32 and mixed_float16, against PyTorch in the same run.

The model is a small ResNet-style CNN (NHWC): two 3x3 convolutions with batch norm per stage,
three stages, global average pooling and a dense head. One step is ``model.train_on_batch``
(forward, loss, backward, Adam update; mixed_float16 adds loss scaling). The reference is the
same network in PyTorch, channels_last, Adam: float32 with TF32 off, and ``torch.autocast``
float16 with a ``GradScaler`` for the mixed row. Times are medians of whole steps (wall clock,
the device synchronized after each step). Rows: {"bench", "shape", "ours_ms", "ref_ms",
"ratio" (ref / ours, > 1: tensorlab is faster)}; the mixed row is named
``keras_cnn_step[mixed_float16]``, so the table's candidate list shows mixed precision's
speed-up over float32.

Run: ``PYTHONPATH=. python bench/gpu/keras_training.py [--quick]``.
"""
from __future__ import annotations

import json
import statistics
import sys
import time

WIDTHS = (32, 64, 128)
IMAGE_SIZE = 32


def _tl_model(keras):
    layers = keras.layers
    x = inp = keras.Input((IMAGE_SIZE, IMAGE_SIZE, 3))
    for i, w in enumerate(WIDTHS):
        if i:
            x = layers.MaxPooling2D()(x)
        for _ in range(2):
            x = layers.Conv2D(w, 3, padding="same", use_bias=False)(x)
            x = layers.BatchNormalization()(x)
            x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    out = layers.Activation("linear", dtype="float32")(layers.Dense(10)(x))  # float32 logits
    return keras.Model(inp, out)


def _torch_model(torch):
    nn = torch.nn
    mods, c = [], 3
    for i, w in enumerate(WIDTHS):
        if i:
            mods.append(nn.MaxPool2d(2))
        for _ in range(2):
            mods += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU()]
            c = w
    mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 10)]
    return nn.Sequential(*mods).cuda().to(memory_format=torch.channels_last)


def _median_ms(step, steps, warmup, sync):
    for _ in range(warmup):
        step()
    sync()
    ts = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        sync()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


def _ours(batch, policy, x_np, y_np, steps, warmup, sync):
    import tensorlab as tl
    from tensorlab import keras
    keras.mixed_precision.set_global_policy(policy)
    try:
        with tl.device("gpu:0"):
            model = _tl_model(keras)
            model.compile(keras.optimizers.Adam(1e-3),
                          keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            x, y = tl.constant(x_np), tl.constant(y_np)
            return _median_ms(lambda: model.train_on_batch(x, y), steps, warmup, sync)
    finally:
        keras.mixed_precision.set_global_policy(None)


def _reference(torch, mixed, x_np, y_np, steps, warmup):
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    model = _torch_model(torch)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    scaler = torch.amp.GradScaler("cuda", enabled=mixed)
    x = torch.from_numpy(x_np).cuda().permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
    y = torch.from_numpy(y_np.astype("int64")).cuda()
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.float16, enabled=mixed):
            loss = loss_fn(model(x).float(), y)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        return float(loss)  # a host read, as train_on_batch returns the loss

    return _median_ms(step, steps, warmup, torch.cuda.synchronize)


def run(results: list, quick: bool = False, batch=None, steps=None, warmup=None):
    """Append the float32 and mixed_float16 rows to `results`."""
    import cupy
    import numpy as np
    batch = batch or (128 if quick else 256)
    steps, warmup = steps or (10 if quick else 20), warmup or (3 if quick else 5)
    rng = np.random.default_rng()
    x = rng.standard_normal((batch, IMAGE_SIZE, IMAGE_SIZE, 3)).astype(np.float32)
    y = rng.integers(0, 10, batch).astype(np.int32)
    sync = cupy.cuda.Device().synchronize
    try:
        import torch
    except Exception:  # PyTorch is an optional reference
        torch = None
    shape = f"{batch}x{IMAGE_SIZE}x{IMAGE_SIZE}x3 cnn{'-'.join(map(str, WIDTHS))}"
    for bench, policy, mixed in (("keras_cnn_step", "float32", False),
                                 ("keras_cnn_step[mixed_float16]", "mixed_float16", True)):
        ours = _ours(batch, policy, x, y, steps, warmup, sync)
        ref = None
        if torch is not None:
            try:
                ref = _reference(torch, mixed, x, y, steps, warmup)
            except Exception as e:
                print(f"[{bench}] PyTorch reference failed: {e!r}", flush=True)
        results.append({"bench": bench, "shape": shape, "ours_ms": round(ours, 3),
                        "ref_ms": None if ref is None else round(ref, 3),
                        "ratio": None if ref is None else round(ref / ours, 3)})
        print(json.dumps(results[-1]), flush=True)
    return results


if __name__ == "__main__":
    run([], quick="--quick" in sys.argv)
