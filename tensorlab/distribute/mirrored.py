"""``MirroredStrategy``: synchronous data parallelism over the devices of one process."""
import tensorlab as tl
from tensorlab.core import device as _device_mod
from tensorlab.core import tensor as _tensor
from tensorlab.distribute import cross_device_ops as _cdo
from tensorlab.distribute import strategy as _strategy
from tensorlab.distribute import values as _values


def _default_devices():
    n = _device_mod.gpu_count()
    if n:
        return [f"/GPU:{i}" for i in range(n)]
    return [f"/CPU:{i}" for i in range(_device_mod.logical_cpu_count())]


class MirroredExtended(_strategy.StrategyExtended):
    def __init__(self, strategy, devices, cross_device_ops):
        devs = [_device_mod.parse(d) for d in devices]
        if len(set(devs)) != len(devs):
            raise ValueError(f"MirroredStrategy: devices {list(devices)} name a device more than once")
        super().__init__(strategy, devs, cross_device_ops or _cdo.default_for(devs))
        # Benchmarks set this to run the bucketed collectives even with one replica.
        self._force_collectives = False

    def _create_mirrored(self, kwargs):
        # One device and no collectives asked for: one copy, nothing to keep in sync.
        # (_force_collectives must be set before the variables are created.)
        single = len(self._devices) == 1 and self._num_workers == 1 and not self._force_collectives
        with tl.device(self._devices[0].name):
            v = object.__new__(_values.SingleCopyMirroredVariable if single else _values.MirroredVariable)
            _tensor.Variable.__init__(v, **kwargs)
        v._mirror_init(self._strategy, self._devices)
        self._after_create(v)
        return v

    def _after_create(self, v):
        pass

    def _batch_all_reduce_bucket(self, per_replica_buffers):
        """One packed gradient buffer per local replica -> the SUM on the first device."""
        if len(per_replica_buffers) == 1 and not self._force_collectives:
            red = [per_replica_buffers[0]]
        else:  # may stay pending on the NCCL streams: see _wait_collectives
            red = self._cross_device_ops._all_reduce_bucket(per_replica_buffers)
        if self._num_workers > 1:
            self._cross_device_ops.wait_pending()  # the cross-worker all-reduce reads the local sum
        return self._cross_worker([red], defer=True)[0][0]

    def _close(self):
        self._cross_device_ops.close()


class MirroredStrategy(_strategy.Strategy):
    """Synchronous training on several devices of one machine (``tf.distribute.MirroredStrategy``).

    Each replica runs on one device with its own copy of the variables; a global
    batch is split across replicas, gradients are all-reduced and every copy
    takes the same update.

    Args:
      devices: device strings, e.g. ``["/GPU:0", "/GPU:1"]``. Default: every GPU;
        without a GPU, every logical CPU device (see
        ``tl.config.set_logical_device_configuration``), which is one CPU unless
        the CPU was split.
      cross_device_ops: a ``CrossDeviceOps`` (``NcclAllReduce`` for GPUs by
        default, ``ReductionToOneDevice`` for mixed devices).

    Example:
      >>> strategy = tl.distribute.MirroredStrategy()
      >>> with strategy.scope():
      ...     model = tl.keras.Sequential([tl.keras.Input((4,)), tl.keras.layers.Dense(1)])
      ...     model.compile(optimizer="sgd", loss="mse")
      >>> model.fit(x, y, batch_size=64)   # 64 samples per step, split across replicas
    """

    def __init__(self, devices=None, cross_device_ops=None):
        devs = list(devices) if devices is not None else _default_devices()
        if not devs:
            raise ValueError("MirroredStrategy: devices must not be empty")
        super().__init__(MirroredExtended(self, devs, cross_device_ops))

    def __repr__(self):
        return f"<MirroredStrategy devices={list(self.extended.worker_devices)}>"


class OneDeviceStrategy(MirroredStrategy):
    """All computation on one device (``tf.distribute.OneDeviceStrategy``)."""

    def __init__(self, device):
        super().__init__([device])
