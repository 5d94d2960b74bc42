"""A step where replica 1 has no gradient for ``b`` (and nobody has one for ``unused``).

Used by tests/distribute/test_keras_equivalence.py (logical CPU replicas) and, as a script
under ``mpiexec -n 2``, by tests/distribute/test_mpi.py: each worker then writes its variables
after one ``apply_gradients`` to ``<out>/partial_<rank>.npz``.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import tensorlab as tl  # noqa: E402

#: the variables after one step: a's and c's gradients summed over both replicas, b's replica 0's alone
EXPECTED = {"a": np.arange(3) - 0.5 * (1 + 2), "b": np.full(2, 1 - 0.5 * 3), "c": np.full(4, 2 - 0.5 * 2 * (2 * 2)),
            "unused": np.full(2, 5.0)}


def run_one_step(strategy):
    """Creates the variables in ``strategy``'s scope, runs one step, returns {name: values}."""
    with strategy.scope():
        a = tl.Variable(np.arange(3, dtype=np.float32), name="a")
        b = tl.Variable(np.ones(2, np.float32), name="b")
        c = tl.Variable(np.full(4, 2.0, np.float32), name="c")
        unused = tl.Variable(np.full(2, 5.0, np.float32), name="unused")
        opt = tl.keras.optimizers.SGD(0.5)
    variables = [a, b, c, unused]

    def step():
        rid = tl.distribute.get_replica_context().replica_id_in_sync_group
        with tl.GradientTape() as tape:
            loss = tl.reduce_sum(a * float(rid + 1)) + tl.reduce_sum(c * c)
            if rid == 0:
                loss = loss + tl.reduce_sum(b * 3.0)
        grads = tape.gradient(loss, variables)
        assert (grads[1] is None) == (rid == 1) and grads[3] is None
        opt.apply_gradients(zip(grads, variables))

    strategy.run(step)
    return {"a": a.numpy(), "b": b.numpy(), "c": c.numpy(), "unused": unused.numpy()}


if __name__ == "__main__":
    s = tl.distribute.MultiWorkerMirroredStrategy(
        communication_options=tl.distribute.experimental.CommunicationOptions(timeout_seconds=20))
    np.savez(os.path.join(sys.argv[1], f"partial_{s.cluster_resolver.task_id}.npz"), **run_one_step(s))
