"""Keras ``fit`` under ``MultiWorkerMirroredStrategy`` with a weight that gets no gradient.

Run by tests/distribute/test_mpi.py as ``mpiexec -n 2 python <this> <out>`` (each worker writes
``<out>/unused_<rank>.npz``) and as ``python <this> <out> --no-strategy`` (``unused_ref.npz``).
Whether some worker has a variable's gradient travels with the gradient buckets, so the weight
nobody has a gradient for must stay as it was, and the others must match the single process.
"""
import contextlib
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import tensorlab as tl  # noqa: E402


class WithSpare(tl.keras.layers.Layer):
    """x @ w + b, and a `spare` weight that the output does not depend on."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 3), initializer="glorot_uniform", name="w")
        self.spare = self.add_weight(shape=(2,), initializer="ones", name="spare")
        self.b = self.add_weight(shape=(3,), initializer="zeros", name="b")

    def call(self, x):
        return tl.matmul(x, self.w) + self.b


def main(out, no_strategy):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = rng.integers(0, 3, size=(64,)).astype(np.int32)
    strategy = None if no_strategy else tl.distribute.MultiWorkerMirroredStrategy()
    tl.keras.utils.set_random_seed(0)
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = tl.keras.Sequential([tl.keras.Input((5,)), tl.keras.layers.Dense(8, activation="tanh"),
                                     WithSpare()])
        # AdamW: a zero gradient would still decay `spare`; a missing one leaves it alone
        model.compile(tl.keras.optimizers.AdamW(0.01, weight_decay=0.1),
                      tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    name = "unused_ref" if no_strategy else f"unused_{strategy.extended._worker_index}"
    np.savez(os.path.join(out, name + ".npz"), **{f"w{i}": w for i, w in enumerate(model.get_weights())})


if __name__ == "__main__":
    main(sys.argv[1], "--no-strategy" in sys.argv)
