"""Distributed values: ``PerReplica`` results and inputs, and ``MirroredVariable``.

A ``MirroredVariable`` is a ``tl.Variable`` whose value lives on the
strategy's first device (the primary copy) and which keeps one copy per
other replica device. A replica reads its own device's copy; updates are
applied once, to the primary copy, and a replica's copy is refreshed from
it the first time the replica reads the new value. Every copy therefore
holds exactly the primary's bits after every step, and devices receive a
new copy only of the variables they read (weights, not optimizer slots).
"""
import threading

from tensorlab.core import device as _device_mod
from tensorlab.core import registry as _reg
from tensorlab.core import tensor as _tensor
from tensorlab.core.tensor import Variable
from tensorlab.core.variables import _autocast


class _Thread(threading.local):
    def __init__(self):
        self.scopes = []      # strategies whose scope() is open in this thread
        self.replica = None   # the ReplicaContext of the replica this thread runs, if any


_local = _Thread()


def to_device(t, dev):
    """``t`` on device ``dev`` (the same tensor when it is there already).

    A GPU-to-GPU copy runs on the destination's stream, which does not wait for
    the work still queued on the source GPU (e.g. the optimizer update that
    wrote the source); an event makes it wait.
    """
    if t._device is dev:
        return t
    if dev.kind == "cuda" and t._device.kind == "cuda":
        import cupy
        with cupy.cuda.Device(t._device.index):
            ev = cupy.cuda.get_current_stream().record()
        with cupy.cuda.Device(dev.index):
            cupy.cuda.get_current_stream().wait_event(ev)
    return _tensor.wrap(_device_mod.transfer(t._data, t._device, dev), dev)


class DistributedValues:
    """Values of several replicas (``tf.distribute.DistributedValues``)."""

    def __init__(self, values):
        self._values = tuple(values)

    @property
    def values(self):
        return self._values

    def __len__(self):
        return len(self._values)

    def __repr__(self):
        inner = ", ".join(f"{i}: {v!r}" for i, v in enumerate(self._values))
        return f"{type(self).__name__}:{{{inner}}}"


class PerReplica(DistributedValues):
    """One (possibly different) value per replica of this worker."""


class Mirrored(DistributedValues):
    """One value per replica, known to be identical."""


def select(struct, i):
    """Replica ``i``'s part of a structure that may hold distributed values."""
    if isinstance(struct, DistributedValues):
        return struct._values[i]
    if isinstance(struct, dict):
        return type(struct)({k: select(v, i) for k, v in struct.items()}) if type(struct) is not dict \
            else {k: select(v, i) for k, v in struct.items()}
    if isinstance(struct, tuple):
        vals = [select(v, i) for v in struct]
        return type(struct)(*vals) if hasattr(struct, "_fields") else tuple(vals)
    if isinstance(struct, list):
        return [select(v, i) for v in struct]
    return struct


def regroup(values, wrap_single=True):
    """Per-replica structures -> one structure of ``PerReplica`` leaves.

    Leaves that are the same object in every replica stay plain (TF's regroup).
    """
    first = values[0]
    if len(values) == 1 and not wrap_single:
        return first
    if isinstance(first, dict) and all(isinstance(v, dict) and v.keys() == first.keys() for v in values):
        return {k: regroup([v[k] for v in values], wrap_single) for k in first}
    if isinstance(first, (tuple, list)) and not hasattr(first, "_fields") and \
            all(type(v) is type(first) and len(v) == len(first) for v in values):
        out = [regroup([v[j] for v in values], wrap_single) for j in range(len(first))]
        return tuple(out) if isinstance(first, tuple) else out
    if len(values) == 1:
        return PerReplica(values) if _is_value(first) else first
    if all(v is first for v in values):
        return first
    return PerReplica(values)


def _is_value(x):
    return hasattr(x, "shape")  # tensors and host arrays


def _aggregation(agg):
    """A variable's ``aggregation`` (a ``VariableAggregation``, or Keras' strings ``"sum"``,
    ``"mean"``, ``"only_first_replica"``, ``"none"``) as the enum; unset and NONE mean MEAN."""
    from tensorlab.distribute.replica import VariableAggregation
    if isinstance(agg, str):
        try:
            agg = VariableAggregation[agg.upper()]
        except KeyError:
            raise ValueError(f"variable aggregation {agg!r} is not one of 'none', 'sum', 'mean', "
                             "'only_first_replica'") from None
    if agg is None or agg in (VariableAggregation.NONE, 0):
        return VariableAggregation.MEAN
    return agg


class MirroredVariable(Variable):
    """A variable with one copy per replica device, kept identical (``tf.distribute`` mirrored variable).

    Created by ``tl.Variable(...)`` inside ``strategy.scope()``. Reading it in a
    replica gives that replica's copy; ``assign*`` in cross-replica context (or
    through ``strategy.extended.update``) updates every copy. In a replica
    function, ``assign*`` is a collective: the replicas' values are combined
    with the variable's ``aggregation`` (MEAN when unset; SUM, ONLY_FIRST_REPLICA)
    and the result is applied once.
    """

    def _mirror_init(self, strategy, devices):
        self._distribute_strategy = strategy
        self._devices = tuple(devices)
        self._copies = [None] * len(self._devices)

    # ------------------------------------------------------------------ reading
    def _local_index(self):
        ctx = _local.replica
        if ctx is None or ctx._strategy is not self._distribute_strategy:
            return 0, None
        return ctx._local_id, ctx

    def _primary(self):
        s = self._snap
        if s is None:
            s = self._snap = _tensor.wrap(self._data, self._device)
        return s

    def _component(self, i):
        p = self._primary()
        if i == 0:
            return p
        c = self._copies[i]
        if c is None or c[0] is not p:
            c = (p, to_device(p, self._devices[i]))
            self._copies[i] = c
        return c[1]

    def _read(self):
        i, ctx = self._local_index()
        s = self._component(i)
        if _reg.STATE.tapes:
            for tape in _reg.STATE.tapes:
                tape._variable_read(self, s)
            hook = ctx._grad_hook if ctx is not None else None
            if hook is not None and self.trainable:
                s = hook.read(self, s)
        return _autocast(self, s) if self._autocast else s

    def _read_untracked(self):
        i, _ = self._local_index()
        return self._component(i)

    @property
    def values(self):
        """The copies, one per replica device of this worker (as tensors)."""
        return tuple(self._component(i) for i in range(len(self._devices)))

    # ------------------------------------------------------------------ writing
    def _set(self, t):
        Variable._set(self, to_device(t, self._device))

    def _replica_update(self, kind, value, read_value):
        i, ctx = self._local_index()
        if ctx is None or ctx._strategy.num_replicas_in_sync == 1:
            getattr(Variable, kind)(self, value)
            return self if read_value else None
        from tensorlab.distribute.replica import ReduceOp, VariableAggregation
        t = self._coerce(value, kind)
        agg = _aggregation(self.aggregation)
        var = self

        def merge(strategy, per_replica):
            ext = strategy.extended
            vals = list(per_replica.values) if isinstance(per_replica, PerReplica) else [per_replica] * ctx._rdv.n
            if agg is VariableAggregation.ONLY_FIRST_REPLICA:
                v = ext._broadcast_first(vals[0])
            else:
                op = ReduceOp.SUM if agg is VariableAggregation.SUM else ReduceOp.MEAN
                v = ext._reduce_to_primary(op, vals)
            getattr(Variable, kind)(var, v)
        ctx.merge_call(merge, args=(t,))
        return self if read_value else None

    def assign(self, value, use_locking=False, name=None, read_value=True):
        return self._replica_update("assign", value, read_value)

    def assign_add(self, delta, use_locking=False, name=None, read_value=True):
        return self._replica_update("assign_add", delta, read_value)

    def assign_sub(self, delta, use_locking=False, name=None, read_value=True):
        return self._replica_update("assign_sub", delta, read_value)

    def _assign_raw(self, data):
        Variable._assign_raw(self, data)

    def __repr__(self):
        return (f"<MirroredVariable '{self.name}' shape={tuple(self._data.shape)} dtype={self.dtype.name} "
                f"copies={len(self._devices)}, numpy={self.numpy()!r}>")


class SingleCopyMirroredVariable(MirroredVariable):
    """The mirrored variable of a strategy with one device and one worker.

    With a single copy there is nothing to mirror or aggregate: reads and writes
    are a plain variable's, so a one-replica strategy costs (almost) nothing.
    """
    _read = Variable._read
    _read_untracked = Variable._read_untracked
    _set = Variable._set
    assign = Variable.assign
    assign_add = Variable.assign_add
    assign_sub = Variable.assign_sub
