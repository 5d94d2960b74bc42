"""Preemptible training on the bundled digits: stops cleanly on SIGTERM and resumes.

    python -m tensorlab.examples.preemptible --checkpoint-dir /checkpoints

On SIGTERM (``docker stop``, a scheduler's preemption) or Ctrl-C, the step in
flight finishes, the model, the optimizer state and the position are saved to
``--checkpoint-dir`` and the process exits with status 0. Run the same command
again with the same directory and training continues with the next step; at
the end the optimizer has taken exactly ``epochs * steps_per_epoch`` steps
across all runs, and the test accuracy is printed.
"""
import argparse
import os
import signal
import sys
import time

from tensorlab import keras
from tensorlab.keras import layers
from tensorlab.keras.callbacks_preempt import TerminateOnSignal


def build_model():
    return keras.Sequential([
        keras.Input(shape=(64,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ], name="digits_mlp")


def load_digits(train_samples):
    (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
    x_train = x_train.reshape(len(x_train), -1).astype("float32") / 16.0
    x_test = x_test.reshape(len(x_test), -1).astype("float32") / 16.0
    if train_samples:
        x_train, y_train = x_train[:train_samples], y_train[:train_samples]
    return (x_train, y_train), (x_test, y_test)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint-dir", default=os.environ.get("TENSORLAB_CHECKPOINT_DIR", "checkpoints"))
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--train-samples", type=int, default=0, help="use only the first N (0: all)")
    parser.add_argument("--step-delay", type=float, default=0.0,
                        help="seconds to sleep after each step (to give a preemption time to land)")
    parser.add_argument("--pid-file", default=None, help="write this process's id here once training runs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_digits(args.train_samples)
    steps_per_epoch = -(-len(x_train) // args.batch_size)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])

    preempt = TerminateOnSignal(args.checkpoint_dir, signals=(signal.SIGTERM, signal.SIGINT))
    initial_epoch = preempt.restore(model)
    start_iterations = int(model.optimizer.iterations.numpy())

    def on_train_batch_end(batch, logs=None):
        if args.step_delay:
            time.sleep(args.step_delay)

    def on_train_begin(logs=None):
        if args.pid_file:
            with open(args.pid_file, "w") as f:
                f.write(str(os.getpid()))
        print(f"training from epoch {initial_epoch + 1} step {preempt.initial_step} of {args.epochs} epochs "
              f"x {steps_per_epoch} steps (pid {os.getpid()})", flush=True)

    progress = keras.callbacks.LambdaCallback(on_train_begin=on_train_begin, on_train_batch_end=on_train_batch_end)
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, initial_epoch=initial_epoch,
              callbacks=[progress, preempt], verbose=args.verbose)
    iterations = int(model.optimizer.iterations.numpy())
    trained = iterations - start_iterations
    if preempt.stopped:
        print(f"stopped by {signal.Signals(preempt.received).name} after {trained} steps in this run "
              f"({iterations} in all); checkpoint in {args.checkpoint_dir}", flush=True)
        return 0
    loss, acc = model.evaluate(x_test, y_test, batch_size=120, verbose=0)
    print(f"finished: {trained} steps in this run, {iterations} of {args.epochs * steps_per_epoch} in all; "
          f"test loss {loss:.4f} - test accuracy {acc:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
