"""Replica contexts and the collectives replica functions call (``all_reduce``, ``merge_call``).

Replicas of one process run as one thread each; a collective is a
rendezvous of those threads (``_Rendezvous``): every replica hands in its
value, one of them computes the result for all, and everybody continues.
A replica that fails breaks the rendezvous so the others raise instead of
waiting.
"""
import enum
import threading

import tensorlab as tl
from tensorlab.core import autodiff as _ad
from tensorlab.core import registry as _reg
from tensorlab.core import tensor as _tensor
from tensorlab.distribute import _errors
from tensorlab.distribute import values as _values


class ReduceOp(enum.Enum):
    """How values from several replicas combine (``tf.distribute.ReduceOp``)."""
    SUM = "SUM"
    MEAN = "MEAN"


class VariableAggregation(enum.Enum):
    """How replica-context assignments to a mirrored variable combine (``tf.VariableAggregation``)."""
    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


def as_reduce_op(op):
    if isinstance(op, ReduceOp):
        return op
    if isinstance(op, VariableAggregation):
        return {VariableAggregation.SUM: ReduceOp.SUM}.get(op, ReduceOp.MEAN)
    if isinstance(op, str) and op.upper() in ("SUM", "MEAN"):
        return ReduceOp[op.upper()]
    raise ValueError(f"reduce: unknown reduce op {op!r}; use tl.distribute.ReduceOp.SUM or ReduceOp.MEAN")


_local = _values._local  # this thread's open scopes and replica context


def current_replica_context():
    """The replica context of this thread, or None (cross-replica or no strategy)."""
    return _local.replica


class _Rendezvous:
    """All local replica threads meet; one of them runs ``fn`` on everybody's values.

    A replica that fails breaks the barrier, so the others raise instead of
    waiting forever; ``timeout`` bounds a wait for a replica that hangs.
    """

    def __init__(self, n, timeout):
        self.n = n
        self._barrier = threading.Barrier(n, timeout=timeout) if n > 1 else None  # one replica never waits
        self._slots = [None] * n
        self._result = None
        self._error = None
        self.count = 0  # collectives completed, named in errors

    def exchange(self, i, value, fn):
        if self.n == 1:
            self.count += 1
            return _untaped(fn, [value])
        self._slots[i] = value
        try:
            if self._barrier.wait() == 0:
                self._error = None
                try:
                    self._result = _untaped(fn, list(self._slots))
                except BaseException as e:  # every replica must see the failure
                    self._error = e
                self.count += 1
            self._barrier.wait()
        except threading.BrokenBarrierError:
            raise _errors.AbortedError(
                f"replica {i}: another replica failed or did not reach collective #{self.count + 1} "
                f"(all {self.n} replicas must run the same collectives in the same order)") from None
        if self._error is not None:
            raise self._error
        return self._result

    def abort(self):
        if self._barrier is not None:
            self._barrier.abort()


def _untaped(fn, arg):
    # A collective's own arithmetic is not part of any replica's graph: its
    # gradient is given by the collective's rule (see ReplicaContext.all_reduce).
    state = _reg.STATE
    saved = state.tapes
    state.tapes = []
    try:
        return fn(arg)
    finally:
        state.tapes = saved


class ReplicaContext:
    """What a function run by ``strategy.run`` sees of its replica (``tf.distribute.ReplicaContext``)."""

    def __init__(self, strategy, local_id, rendezvous, slot=None):
        self._strategy = strategy
        self._local_id = local_id   # which local device
        self._slot = local_id if slot is None else slot   # place among the replicas taking part
        self._rdv = rendezvous
        self._grad_hook = None  # set by the Keras step: called with each variable's ready gradient
        # Set by the Keras step that runs a model's own train_step/test_step in each replica:
        # this replica's share of the global batch and of the regularization (see
        # keras.backend.replica_shares); None elsewhere (an even split is assumed).
        self._batch_share = None
        self._reg_share = None

    @property
    def strategy(self):
        return self._strategy

    @property
    def num_replicas_in_sync(self):
        return self._strategy.num_replicas_in_sync

    @property
    def replica_id_in_sync_group(self):
        """This replica's index among all replicas (all workers), as an int32 scalar tensor."""
        with tl.device(self.device):
            return tl.constant(self._global_id(), dtype=tl.int32)

    def _global_id(self):
        return self._strategy.extended._worker_index * self._strategy.extended._num_local + self._local_id

    @property
    def device(self):
        return self._strategy.extended._devices[self._local_id].name

    @property
    def devices(self):
        return (self.device,)

    def merge_call(self, merge_fn, args=(), kwargs=None):
        """Runs ``merge_fn(strategy, *args, **kwargs)`` once, in cross-replica context.

        Each argument becomes a ``PerReplica`` of the replicas' values (or the value
        itself when every replica passed the same object). All replicas get the result.
        """
        kwargs = kwargs or {}

        def merged(slots):
            a = tuple(_values.regroup([s[0][k] for s in slots]) for k in range(len(args)))
            kw = {k: _values.regroup([s[1][k] for s in slots]) for k in kwargs}
            return self._strategy._in_cross_replica(lambda: merge_fn(self._strategy, *a, **kw))
        return self._rdv.exchange(self._slot, (tuple(args), dict(kwargs)), merged)

    def all_reduce(self, reduce_op, value, options=None):
        """Reduces ``value`` (a tensor or nested structure of tensors) across all replicas.

        Every replica gets the result on its device. Differentiable: the gradient
        of a SUM (MEAN) all-reduce is the SUM (MEAN) all-reduce of the gradients.
        """
        op = as_reduce_op(reduce_op)
        leaves, rebuild = _ad._flatten(value)
        leaves = [tl.convert_to_tensor(v) for v in leaves]
        if not leaves:
            return value
        ext = self._strategy.extended

        def reduce_all(slots):
            return ext._batch_all_reduce(op, slots)
        outs = self._rdv.exchange(self._slot, leaves, reduce_all)[self._slot]
        res = []
        for x, y in zip(leaves, outs):
            y = _tensor.wrap(y._data, y._device) if y is x else y
            _ad.record_custom(_all_reduce_grad(op), "all_reduce", (x,), y)
            res.append(y)
        return rebuild(res)

    def all_gather(self, value, axis, options=None):
        """Concatenates every replica's ``value`` along ``axis``; all replicas get the result."""
        leaves, rebuild = _ad._flatten(value)
        leaves = [tl.convert_to_tensor(v) for v in leaves]
        ext = self._strategy.extended
        outs = self._rdv.exchange(self._slot, leaves, lambda slots: ext._all_gather(slots, axis))[self._slot]
        return rebuild(list(outs))


def _all_reduce_grad(op):
    def rule(g, out, x):
        ctx = current_replica_context()
        if ctx is None:
            return g
        return ctx.all_reduce(op, g)
    return rule
