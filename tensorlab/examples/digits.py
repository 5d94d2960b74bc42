"""Trains a small CNN on the bundled UCI digits and prints the test accuracy.

    python -m tensorlab.examples.digits            # or: make demo

Runs on the default device (the first GPU if CuPy and a GPU are usable,
else the CPU; ``TENSORLAB_DEVICE=cpu`` forces the CPU). Exits with status 1
if the test accuracy is below 97%.
"""
import argparse
import sys
import time

import numpy as np

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers

TARGET = 0.97


def build_model():
    return keras.Sequential([
        keras.Input(shape=(8, 8, 1)),
        layers.Conv2D(32, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.25),
        layers.Dense(10, activation="softmax"),
    ], name="digits_cnn")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1)
    args = parser.parse_args(argv)

    from tensorlab.core import device as _device
    dev = _device.current()
    print(f"tensorlab {tl.__version__} running on {dev.short_name} ({dev.name})", flush=True)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train[..., None].astype("float32") / 16.0
    x_test = x_test[..., None].astype("float32") / 16.0
    print(f"digits: {len(x_train)} training and {len(x_test)} test images of 8x8 pixels", flush=True)

    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    if args.verbose:
        model.summary()
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=args.verbose)
    train_s = time.perf_counter() - start
    loss, acc = model.evaluate(x_test, y_test, batch_size=120, verbose=0)
    print(f"test loss {loss:.4f} - test accuracy {acc:.4f} ({np.sum(model.predict(x_test, verbose=0).argmax(1) == y_test)}"
          f"/{len(y_test)} correct) - training took {train_s:.1f}s", flush=True)
    if acc < TARGET:
        print(f"FAILED: test accuracy {acc:.4f} is below the target {TARGET}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
