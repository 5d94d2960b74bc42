"""``tl.distribute``: synchronous data-parallel training (``tf.distribute``).

- ``MirroredStrategy``: the devices of one process (GPUs through NCCL; logical
  CPU devices for testing, see ``tl.config.set_logical_device_configuration``).
- ``MultiWorkerMirroredStrategy``: one process per device, started by
  ``mpiexec``/``mpirun`` (or described by ``TF_CONFIG``); MPI for CPU
  collectives and rendezvous, NCCL for GPU collectives.

Example (a custom training loop):

    strategy = tl.distribute.MirroredStrategy()
    with strategy.scope():
        model = make_model()
        optimizer = tl.keras.optimizers.SGD(0.1)
    dist_ds = strategy.experimental_distribute_dataset(ds.batch(GLOBAL_BATCH))

    def step(x, y):
        with tl.GradientTape() as tape:
            per_example = loss_fn(y, model(x, training=True))
            loss = tl.nn.compute_average_loss(per_example, global_batch_size=GLOBAL_BATCH)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))  # all-reduces the gradients
        return loss

    for x, y in dist_ds:
        loss = strategy.reduce("SUM", strategy.run(step, args=(x, y)), axis=None)

``model.compile``/``fit``/``evaluate``/``predict`` of a model built and
compiled in ``strategy.scope()`` distribute each batch the same way.
"""
import types as _types

from tensorlab.distribute.strategy import (ReduceOp, ReplicaContext, Strategy, StrategyExtended,
                                           VariableAggregation, get_cross_replica_context, get_replica_context,
                                           get_strategy, has_strategy, in_cross_replica_context)
from tensorlab.distribute.values import DistributedValues, Mirrored, MirroredVariable, PerReplica
from tensorlab.distribute.cross_device_ops import (CrossDeviceOps, HierarchicalCopyAllReduce, LocalSumAllReduce,
                                                   NcclAllReduce, ReductionToOneDevice)
from tensorlab.distribute.mirrored import MirroredStrategy, OneDeviceStrategy
from tensorlab.distribute.input_lib import InputContext, InputOptions, ValueContext
from tensorlab.distribute.multi_worker import (CollectiveCommunication, CommunicationImplementation,
                                               CommunicationOptions, MultiWorkerMirroredStrategy)
from tensorlab.distribute import cluster_resolver
from tensorlab.distribute._errors import AbortedError, DeadlineExceededError
from tensorlab.data.dataset import AutoShardPolicy

experimental = _types.SimpleNamespace(
    MultiWorkerMirroredStrategy=MultiWorkerMirroredStrategy,
    CommunicationOptions=CommunicationOptions,
    CommunicationImplementation=CommunicationImplementation,
    CollectiveCommunication=CollectiveCommunication,
    ValueContext=ValueContext,
    AutoShardPolicy=AutoShardPolicy,
)

__all__ = [
    "MirroredStrategy", "MultiWorkerMirroredStrategy", "OneDeviceStrategy", "Strategy", "StrategyExtended",
    "ReduceOp", "VariableAggregation", "ReplicaContext", "get_strategy", "has_strategy", "get_replica_context",
    "get_cross_replica_context", "in_cross_replica_context", "DistributedValues", "PerReplica", "Mirrored",
    "MirroredVariable", "CrossDeviceOps", "NcclAllReduce", "ReductionToOneDevice", "HierarchicalCopyAllReduce",
    "LocalSumAllReduce", "InputContext", "InputOptions", "ValueContext", "CommunicationOptions",
    "CommunicationImplementation", "CollectiveCommunication", "AutoShardPolicy", "cluster_resolver",
    "experimental", "DeadlineExceededError", "AbortedError",
]
