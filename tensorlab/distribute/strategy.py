"""The strategy base: scopes, replica contexts, ``run``/``reduce``/``gather``, ``get_strategy``.

Replicas of one process run as one thread each (TF's MirroredStrategy does
the same): each thread has its own device scope and its own gradient tapes,
so a replica's forward and backward pass run on its device with its copies
of the variables. Collectives inside a replica function (``all_reduce``,
``merge_call``, assignments to mirrored variables) are rendezvous points of
all replica threads; every replica must reach them in the same order, as
with any SPMD program.
"""
import threading

import tensorlab as tl
from tensorlab.core import autodiff as _ad
from tensorlab.core import device as _device_mod
from tensorlab.core import tensor as _tensor
from tensorlab.distribute import _errors
from tensorlab.distribute import values as _values
# Re-exported: values.py and the Keras hooks import these from here.
from tensorlab.distribute.replica import ReduceOp, ReplicaContext, _local, _Rendezvous, as_reduce_op
from tensorlab.distribute.replica import VariableAggregation, current_replica_context  # noqa: F401


class StrategyExtended:
    """Device placement and the collectives behind a strategy (``strategy.extended``)."""

    def __init__(self, strategy, devices, cross_device_ops):
        self._strategy = strategy
        self._devices = tuple(_device_mod.parse(d) for d in devices)
        self._num_local = len(self._devices)
        self._cross_device_ops = cross_device_ops
        self._worker_index = 0
        self._num_workers = 1
        self._collective_timeout = None

    @property
    def worker_devices(self):
        return tuple(d.name for d in self._devices)

    parameter_devices = worker_devices

    @property
    def _num_replicas_in_sync(self):
        return self._num_local * self._num_workers

    def _batch_all_reduce(self, op, per_replica_lists):
        """``per_replica_lists[r][k]``: replica r's k-th tensor -> the same layout, reduced."""
        n = len(per_replica_lists[0])
        cols = [[per_replica_lists[r][k] for r in range(len(per_replica_lists))] for k in range(n)]
        reduced = self._cross_device_ops.batch_all_reduce(ReduceOp.SUM, cols)
        reduced = self._cross_worker(reduced)
        if op is ReduceOp.MEAN:
            m = len(per_replica_lists) * self._num_workers   # the replicas taking part
            reduced = [[_div(t, m) for t in col] for col in reduced]
        return [[reduced[k][r] for k in range(n)] for r in range(len(per_replica_lists))]

    def _cross_worker(self, reduced_cols, defer=False):
        return reduced_cols  # one worker: the local reduction is the whole reduction

    def _wait_collectives(self):
        """Orders the compute streams after the gradient collectives left pending
        (``_batch_all_reduce_bucket``): called once a step's buckets are all queued."""
        if self._cross_device_ops is not None:
            self._cross_device_ops.wait_pending()

    def _all_gather(self, per_replica_lists, axis):
        n = len(per_replica_lists[0])
        out = []
        for k in range(n):
            parts = [per_replica_lists[r][k] for r in range(len(per_replica_lists))]
            with tl.device(self._devices[0].name):
                cat = tl.concat([tl.identity(p) for p in parts], axis=axis)
            cat = self._gather_workers(cat, axis)
            out.append([_to(cat, p._device) for p in parts])
        return [[out[k][r] for k in range(n)] for r in range(len(per_replica_lists))]

    def _gather_workers(self, t, axis):
        return t

    def _any_worker(self, flag, what="end-of-input check"):
        """True when ``flag`` holds on any worker (one worker: ``flag``)."""
        return self._any_worker_each([flag], what)[0]

    def _any_worker_each(self, flags, what):
        """For each flag, whether it holds on any worker (one collective; one worker: ``flags``).
        ``what`` names the collective in a timeout error."""
        return [bool(f) for f in flags]

    def _sum_over_workers(self, count):
        """The sum of the integer ``count`` over all workers (one worker: ``count``)."""
        return int(count)

    def _close(self):
        pass

    def _reduce_to_primary(self, op, per_replica):
        """A PerReplica (or list of tensors, one per local replica) -> one tensor on device 0."""
        vals = list(per_replica.values if isinstance(per_replica, _values.PerReplica) else per_replica)
        if len(vals) == 1:
            red = [_to(vals[0], self._devices[0])]
        else:
            red = self._cross_device_ops.batch_all_reduce(ReduceOp.SUM, [vals])[0][:1]
        red = self._cross_worker([red])[0]
        t = red[0]
        return _div(t, len(vals) * self._num_workers) if op is ReduceOp.MEAN else t

    def _broadcast_first(self, t):
        """The value of replica 0 of worker 0 (for ONLY_FIRST_REPLICA assignments)."""
        return t

    def update(self, var, fn, args=(), kwargs=None, group=True):
        """Runs ``fn(var, *args, **kwargs)`` once, on the variable's primary copy.

        The other copies refresh from it when a replica next reads them, so every
        copy takes the same update and stays bit-identical.
        """
        return self._strategy._in_cross_replica(lambda: fn(var, *args, **(kwargs or {})))

    def value_container(self, value):
        return value

    def reduce_to(self, reduce_op, value, destinations, options=None):
        """``strategy.reduce`` of ``value``, placed on ``destinations`` (a device string or a variable)."""
        t = self._strategy.reduce(reduce_op, value, axis=None)
        dest = getattr(destinations, "device", destinations)
        return _to(t, _device_mod.parse(dest)) if isinstance(dest, str) else t

    def batch_reduce_to(self, reduce_op, value_destination_pairs, options=None):
        return [self.reduce_to(reduce_op, v, d) for v, d in value_destination_pairs]

    def broadcast_to(self, tensor, destinations):
        """A copy of ``tensor`` on each replica device (``Mirrored``)."""
        t = tl.convert_to_tensor(tensor)
        return _values.Mirrored([_to(t, d) for d in self._devices])

    @property
    def should_checkpoint(self):
        """Whether this worker writes checkpoints (only the chief, with several workers)."""
        return self._worker_index == 0

    @property
    def should_save_summary(self):
        """Whether this worker writes TensorBoard summaries (only the chief)."""
        return self._worker_index == 0

    def variable_created_in_scope(self, v):
        return getattr(v, "_distribute_strategy", None) is self._strategy


def _div(t, m):
    return t / float(m) if t.dtype.is_floating else t // m


def _to(t, dev):
    return _values.to_device(t, dev)


class Strategy:
    """Base class of distribution strategies (``tf.distribute.Strategy``)."""

    def __init__(self, extended):
        self._extended = extended
        self._closed = False

    # ------------------------------------------------------------------ introspection
    @property
    def extended(self):
        return self._extended

    @property
    def num_replicas_in_sync(self):
        """Replicas taking part in each step, across all workers."""
        return self._extended._num_replicas_in_sync

    @property
    def cluster_resolver(self):
        return getattr(self._extended, "_cluster_resolver", None)

    # ------------------------------------------------------------------ scope
    def scope(self):
        """A context in which variables are created mirrored and ``get_strategy()`` is this strategy.

        Example:
          >>> strategy = tl.distribute.MirroredStrategy()
          >>> with strategy.scope():
          ...     model = make_model()
          ...     model.compile(optimizer="sgd", loss="mse")
        """
        return _Scope(self)

    def _in_cross_replica(self, fn):
        saved = _local.replica
        _local.replica = None
        _local.scopes.append(self)
        try:
            with _tensor.variable_creator_scope(self._create_variable):
                return fn()
        finally:
            _local.scopes.pop()
            _local.replica = saved

    def _create_variable(self, **kwargs):
        ctx = _local.replica
        if ctx is not None and ctx._strategy is self and ctx._rdv.n > 1:
            # Replicas creating "the same" variable get one mirrored variable (made once).
            return ctx.merge_call(lambda s: s._extended._create_mirrored(kwargs))
        return self._extended._create_mirrored(kwargs)

    # ------------------------------------------------------------------ running replicas
    def run(self, fn, args=(), kwargs=None, options=None):
        """Runs ``fn`` once per replica, each on its device with its part of the arguments.

        Arguments that are per-replica values (from a distributed dataset, or an
        earlier ``run``) are unpacked per replica; other arguments go to every
        replica as they are.

        Returns:
          The replicas' results: ``PerReplica`` values (a structure of them), or plain
          values with one replica.

        Example:
          >>> def step(x):
          ...     return tl.reduce_sum(x)
          >>> per_replica = strategy.run(step, args=(dist_batch,))
          >>> strategy.reduce(tl.distribute.ReduceOp.SUM, per_replica, axis=None)
        """
        kwargs = kwargs or {}
        n = self._extended._num_local
        calls = [(_values.select(args, i), _values.select(kwargs, i)) for i in range(n)]
        outs = self._run_replicas(lambda i, a, kw: fn(*a, **kw), calls)
        return _values.regroup(outs, wrap_single=self.num_replicas_in_sync > 1)

    def _run_replicas(self, body, calls, hook=None, local_ids=None):
        """Runs ``body(local_id, *calls[k])`` on local replica ``local_ids[k]`` (default: all, in order).

        Only the replicas listed take part in the collectives of this run.
        """
        ext = self._extended
        n = len(calls)
        ids = list(range(n)) if local_ids is None else list(local_ids)
        rdv = _Rendezvous(n, ext._collective_timeout)
        ctxs = [ReplicaContext(self, ids[k], rdv, slot=k) for k in range(n)]
        if hook is not None:
            for c in ctxs:
                c._grad_hook = hook(c)

        def one(i):
            saved = _local.replica
            _local.replica = ctxs[i]
            _local.scopes.append(self)
            try:
                with tl.device(ext._devices[ids[i]]), _tensor.variable_creator_scope(self._create_variable):
                    return body(ids[i], *calls[i])
            finally:
                _local.scopes.pop()
                _local.replica = saved

        if n == 1:
            return [one(0)]
        results = [None] * n
        errors = [None] * n

        def thread_main(i):
            try:
                results[i] = one(i)
            except BaseException as e:
                errors[i] = e
                rdv.abort()
        threads = [threading.Thread(target=thread_main, args=(i,), name=f"replica-{i}", daemon=True)
                   for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        first = next((e for e in errors if e is not None and not isinstance(e, _errors.AbortedError)), None)
        first = first or next((e for e in errors if e is not None), None)
        if first is not None:
            raise first
        return results

    # ------------------------------------------------------------------ reductions
    def reduce(self, reduce_op, value, axis=None):
        """Combines per-replica values into one tensor (cross-replica context).

        Args:
          reduce_op: ``ReduceOp.SUM`` or ``ReduceOp.MEAN``.
          value: a ``PerReplica`` value (e.g. returned by ``run``), or a plain tensor.
          axis: also reduce each value along this axis; with MEAN the result is the
            mean over all elements of all replicas (uneven replica batches count
            each element once).

        Returns:
          A tensor on the first device of this worker.
        """
        op = as_reduce_op(reduce_op)
        if isinstance(value, (list, tuple, dict)) and not isinstance(value, _values.PerReplica):
            leaves, rebuild = _ad._flatten(value)
            return rebuild([self.reduce(op, v, axis) for v in leaves])
        vals = self.experimental_local_results(value)
        if not isinstance(value, _values.DistributedValues):
            t = tl.convert_to_tensor(value)
            if axis is not None:
                t = (tl.reduce_sum if op is ReduceOp.SUM else tl.reduce_mean)(t, axis=axis)
            if op is ReduceOp.MEAN or self.num_replicas_in_sync == 1:
                return t
            raise ValueError(f"reduce: a value that is not per-replica ({tuple(t.shape)}) cannot be reduced "
                             f"with {op.name} across {self.num_replicas_in_sync} replicas; pass the result of "
                             "strategy.run, or use ReduceOp.MEAN")
        vals = [tl.convert_to_tensor(v) for v in vals]
        if axis is None:
            return self._extended._reduce_to_primary(op, vals)
        sums = [tl.reduce_sum(v, axis=axis) for v in vals]
        total = self._extended._reduce_to_primary(ReduceOp.SUM, sums)
        if op is ReduceOp.SUM:
            return total
        counts = [tl.constant(float(v.shape[axis]), dtype=tl.float64) for v in vals]
        with tl.device(self._extended._devices[0].name):
            count = self._extended._reduce_to_primary(ReduceOp.SUM, [_to(c, self._extended._devices[0])
                                                                     for c in counts])
        return total / tl.cast(count, total.dtype)

    def gather(self, value, axis):
        """Concatenates per-replica values along ``axis`` (all workers' replicas, in replica order)."""
        if isinstance(value, (list, tuple, dict)) and not isinstance(value, _values.PerReplica):
            leaves, rebuild = _ad._flatten(value)
            return rebuild([self.gather(v, axis) for v in leaves])
        vals = [tl.convert_to_tensor(v) for v in self.experimental_local_results(value)]
        dev = self._extended._devices[0]
        cat = tl.concat([_to(v, dev) for v in vals], axis=axis) if len(vals) > 1 else _to(vals[0], dev)
        return self._extended._gather_workers(cat, axis)

    def experimental_local_results(self, value):
        """The values of this worker's replicas, as a tuple."""
        if isinstance(value, _values.DistributedValues):
            return tuple(value.values)
        if isinstance(value, _values.MirroredVariable):
            return tuple(value._component(i) for i in range(len(value._devices)))
        return (value,)

    # ------------------------------------------------------------------ input
    def experimental_distribute_dataset(self, dataset, options=None):
        """Splits each global batch of ``dataset`` across replicas (and shards it across workers).

        Args:
          dataset: a ``tl.data.Dataset`` batched at the global batch size.
          options: a ``tl.distribute.InputOptions`` (accepted; prefetching is the dataset's).

        Returns:
          An iterable of per-replica batches for ``strategy.run``.
        """
        from tensorlab.distribute import input_lib
        return input_lib.DistributedDataset(self, dataset, options)

    def distribute_datasets_from_function(self, dataset_fn, options=None):
        """Calls ``dataset_fn(input_context)`` once per worker; each replica takes its own batches.

        The function's dataset must be batched at the per-replica batch size
        (``input_context.get_per_replica_batch_size(global_batch_size)``).
        """
        from tensorlab.distribute import input_lib
        return input_lib.DistributedDatasetFromFunction(self, dataset_fn, options)

    experimental_distribute_datasets_from_function = distribute_datasets_from_function

    def experimental_distribute_values_from_function(self, value_fn):
        """A ``PerReplica`` of ``value_fn(ValueContext)`` for each local replica."""
        from tensorlab.distribute.input_lib import ValueContext
        ext = self._extended
        vals = []
        for i, d in enumerate(ext._devices):
            with tl.device(d.name):
                v = value_fn(ValueContext(ext._worker_index * ext._num_local + i, self.num_replicas_in_sync))
                vals.append(tl.identity(v) if tl.is_tensor(v) else v)
        return _values.PerReplica(vals) if len(vals) > 1 else vals[0]

    # ------------------------------------------------------------------ lifetime
    def close(self):
        """Releases this strategy's communicators (also done when it is garbage-collected)."""
        if not self._closed:
            self._closed = True
            self._extended._close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass


class _Scope:
    def __init__(self, strategy):
        self._strategy = strategy
        self._creator = None

    def __enter__(self):
        cur = get_strategy()
        if _local.scopes and cur is not self._strategy and not isinstance(cur, _DefaultStrategy):
            raise ValueError("Mixing different tl.distribute strategies is not allowed: a scope of "
                             f"{type(cur).__name__} is already open in this thread")
        _local.scopes.append(self._strategy)
        self._creator = _tensor.variable_creator_scope(self._strategy._create_variable)
        self._creator.__enter__()
        return self._strategy

    def __exit__(self, *exc):
        self._creator.__exit__(*exc)
        _local.scopes.pop()
        return False


class _DefaultExtended(StrategyExtended):
    def __init__(self, strategy):
        from tensorlab.distribute.cross_device_ops import ReductionToOneDevice
        super().__init__(strategy, [], ReductionToOneDevice())

    @property
    def _devices(self):
        return (_device_mod.current(),)

    @_devices.setter
    def _devices(self, value):
        pass

    @property
    def _num_local(self):
        return 1

    @_num_local.setter
    def _num_local(self, value):
        pass

    def _create_mirrored(self, kwargs):
        return _tensor.Variable(**kwargs)

    def _close(self):
        pass


class _DefaultStrategy(Strategy):
    """The strategy in effect outside every scope: one replica on the current device."""

    def __init__(self):
        super().__init__(_DefaultExtended(self))

    def scope(self):
        return _NullScope(self)


class _NullScope:
    def __init__(self, s):
        self._s = s

    def __enter__(self):
        return self._s

    def __exit__(self, *exc):
        return False


_default = None


def _default_strategy():
    global _default
    if _default is None:
        _default = _DefaultStrategy()
    return _default


def get_strategy():
    """The strategy of the current scope or replica, or the default (one-replica) strategy."""
    r = _local.replica
    if r is not None:
        return r._strategy
    if _local.scopes:
        return _local.scopes[-1]
    return _default_strategy()


def has_strategy():
    """True inside a non-default strategy's ``scope()`` or replica function."""
    return _local.replica is not None or bool(_local.scopes)


def in_cross_replica_context():
    """True in a strategy's scope outside its replica functions."""
    return _local.replica is None and bool(_local.scopes)


def get_replica_context():
    """The current ``ReplicaContext``; None in cross-replica context.

    Outside every strategy this is the default strategy's single replica, so
    code such as ``get_replica_context().all_reduce(...)`` runs unchanged.
    """
    r = _local.replica
    if r is not None:
        return r
    if _local.scopes:
        return None
    return ReplicaContext(_default_strategy(), 0, _Rendezvous(1, None))


def get_cross_replica_context():
    """The strategy when in cross-replica context (or no strategy at all), else None."""
    if _local.replica is not None:
        return None
    return get_strategy()
