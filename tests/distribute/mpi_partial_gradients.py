"""Run by tests/distribute/test_mpi.py under ``mpiexec -n 2``: worker 1 has no gradient for ``b``.

Each worker writes ``a``, ``b``, ``c`` and ``unused`` after one ``apply_gradients`` to
``<out>/partial_<rank>.npz``.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import tensorlab as tl  # noqa: E402


def main(out):
    strategy = tl.distribute.MultiWorkerMirroredStrategy(
        communication_options=tl.distribute.experimental.CommunicationOptions(timeout_seconds=20))
    with strategy.scope():
        a = tl.Variable(np.arange(3, dtype=np.float32), name="a")
        b = tl.Variable(np.ones(2, np.float32), name="b")
        c = tl.Variable(np.full(4, 2.0, np.float32), name="c")
        unused = tl.Variable(np.full(2, 5.0, np.float32), name="unused")
        opt = tl.keras.optimizers.SGD(0.5)

    def step():
        rid = tl.distribute.get_replica_context().replica_id_in_sync_group
        with tl.GradientTape() as tape:
            loss = tl.reduce_sum(a * float(rid + 1)) + tl.reduce_sum(c * c)
            if rid == 0:
                loss = loss + tl.reduce_sum(b * 3.0)
        variables = [a, b, c, unused]
        opt.apply_gradients(zip(tape.gradient(loss, variables), variables))

    strategy.run(step)
    rank = strategy.cluster_resolver.task_id
    np.savez(os.path.join(out, f"partial_{rank}.npz"), a=a.numpy(), b=b.numpy(), c=c.numpy(),
             unused=unused.numpy())


if __name__ == "__main__":
    main(sys.argv[1])
