"""Data-parallel training with ``MultiWorkerMirroredStrategy`` across MPI processes.

Run it on one machine with two processes, or across machines:

    mpiexec -n 2 python scripts/mpi_train_example.py --out /tmp/run
    mpirun -H host1,host2 -np 8 python scripts/mpi_train_example.py --out /tmp/run

Without ``mpiexec`` it trains in one process, without a strategy, on the same
global batches: the weights agree with the multi-process run's (up to float
rounding). Each process writes its final weights to ``<out>/weights_<rank>.npz``;
only the chief (rank 0) would write checkpoints and logs.

``--die-rank R --die-step S`` kills process R at step S (``--hang``: stops it
instead); the other processes then stop with a ``DeadlineExceededError``
naming rank R once ``--timeout`` seconds have passed.
"""
import argparse
import contextlib
import os
import signal
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorlab as tl  # noqa: E402


class OwnTrainStep(tl.keras.Sequential):
    """A model with its own ``train_step``: under a strategy it runs in every replica."""

    def train_step(self, data):
        x, y = data
        with tl.GradientTape() as tape:
            pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, pred)
        return {m.name: m.result() for m in self.compiled_metrics.metrics}


def make_model(kind, own_train_step=False):
    L = tl.keras.layers
    cls = OwnTrainStep if own_train_step else tl.keras.Sequential
    if kind == "cnn":
        return cls([tl.keras.Input((6, 6, 2)), L.Conv2D(4, 3, use_bias=False),
                    L.BatchNormalization(synchronized=True, momentum=0.9), L.Activation("relu"),
                    L.Flatten(), L.Dense(3)])
    return cls([tl.keras.Input((6,)), L.Dense(16, activation="tanh"), L.Dense(3)])


def data(kind, n, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6, 6, 2) if kind == "cnn" else (n, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=(n,)).astype(np.int32)
    return x, y


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--model", choices=["mlp", "cnn"], default="mlp")
    p.add_argument("--global-batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=4)
    p.add_argument("--timeout", type=float, default=None)
    p.add_argument("--die-rank", type=int, default=-1)
    p.add_argument("--die-step", type=int, default=1)
    p.add_argument("--hang", action="store_true", help="--die-rank stops (SIGSTOP) instead of dying")
    p.add_argument("--loop", choices=["fit", "fit-dataset", "train-step", "custom"], default="fit",
                   help="fit on arrays; fit on a (distributed) tl.data dataset; fit of a model with its own "
                        "train_step; a custom loop with strategy.run")
    p.add_argument("--no-strategy", action="store_true", help="train in one process without a strategy")
    p.add_argument("--log-dir", help="also write TensorBoard logs and a weights checkpoint here (the chief only)")
    a = p.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)

    strategy = None
    rank = 0
    if not a.no_strategy:
        opts = tl.distribute.experimental.CommunicationOptions(timeout_seconds=a.timeout)
        strategy = tl.distribute.MultiWorkerMirroredStrategy(communication_options=opts)
        rank = strategy.extended._worker_index
    x, y = data(a.model, a.global_batch * a.steps)
    tl.random.set_seed(1234)
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        model = make_model(a.model, own_train_step=a.loop == "train-step")
        model.compile(optimizer=tl.keras.optimizers.SGD(0.1, momentum=0.9),
                      loss=tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    if strategy is None:
        init = np.load(os.path.join(a.out, "init.npz")) if os.path.exists(os.path.join(a.out, "init.npz")) else None
        if init is not None:
            for i, w in enumerate(model.weights):
                w.assign(init[f"w{i}"])
    elif rank == 0:
        np.savez(os.path.join(a.out, "init.npz"), **{f"w{i}": w.numpy() for i, w in enumerate(model.weights)})

    class Die(tl.keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if rank == a.die_rank and batch == a.die_step:
                os.kill(os.getpid(), signal.SIGSTOP if a.hang else signal.SIGKILL)

    try:
        if a.loop == "custom":
            loss = custom_loop(strategy, model, x, y, a.global_batch)
        else:
            if a.loop == "fit-dataset":
                ds = tl.data.Dataset.from_tensor_slices((x, y)).batch(a.global_batch)
                inputs = dict(x=ds if strategy is None else strategy.experimental_distribute_dataset(ds))
            else:
                inputs = dict(x=x, y=y, batch_size=a.global_batch, shuffle=False)
            callbacks = [Die()] if a.die_rank >= 0 else []
            if a.log_dir:
                callbacks += [tl.keras.callbacks.TensorBoard(a.log_dir),
                              tl.keras.callbacks.ModelCheckpoint(os.path.join(a.log_dir, "ckpt.weights.h5"),
                                                                 save_weights_only=True)]
            hist = model.fit(**inputs, epochs=1, verbose=0, callbacks=callbacks)
            loss = hist.history.get("loss", hist.history["accuracy"])[-1]
    except tl.distribute.DeadlineExceededError as e:
        with open(os.path.join(a.out, f"error_{rank}.txt"), "w") as f:
            f.write(str(e))
        print(f"rank {rank}: {e}", flush=True)
        os._exit(3)  # MPI_Finalize would wait for the dead worker
    np.savez(os.path.join(a.out, f"weights_{rank}.npz"), loss=loss,
             **{f"w{i}": w.numpy() for i, w in enumerate(model.weights)})
    print(f"rank {rank}: loss {loss:.6f}", flush=True)


def custom_loop(strategy, model, x, y, global_batch):
    """The same training as ``fit``, written as a TF-style custom loop (``strategy.run``)."""
    loss_fn = tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")
    ds = tl.data.Dataset.from_tensor_slices((x, y)).batch(global_batch)

    def step(xb, yb):
        with tl.GradientTape() as tape:
            per_example = loss_fn(yb, model(xb, training=True))
            loss = tl.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        model.optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    loss = 0.0
    if strategy is None:
        for xb, yb in ds:
            loss = float(step(xb, yb))
        return loss
    for xb, yb in strategy.experimental_distribute_dataset(ds):
        loss = float(strategy.reduce("SUM", strategy.run(step, args=(xb, yb)), axis=None))
    return loss


if __name__ == "__main__":
    main()
