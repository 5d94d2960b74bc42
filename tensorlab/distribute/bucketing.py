"""Gradient buckets (fusion buffers): many small all-reduces become a few large ones.

Gradients are grouped, in the order the backward pass produces them (the
reverse of the order their variables were read), into buckets of at most
``bucket_bytes`` (default 25 MB, PyTorch DDP's and Horovod's figure) of one
dtype. A bucket is packed into one flat buffer, reduced with one collective
and unpacked. ``GradientBucketer`` starts a bucket's reduction as soon as the
last of its gradients is ready, while the rest of the backward pass runs.
"""
import numpy as np

import tensorlab as tl
from tensorlab.core import autodiff as _ad
from tensorlab.core import tensor as _tensor

DEFAULT_BUCKET_BYTES = 25 * 1024 * 1024


def plan(specs, bucket_bytes=DEFAULT_BUCKET_BYTES):
    """Groups tensors into buckets.

    Args:
      specs: ``(num_elements, dtype)`` of each tensor, in the order to reduce them.
      bucket_bytes: the largest bucket (a larger single tensor gets its own).

    Returns:
      A list of buckets, each a list of indices into ``specs``.
    """
    buckets, open_by_dtype = [], {}
    for i, (n, dt) in enumerate(specs):
        size = n * dt.size
        b = open_by_dtype.get(dt)
        if b is not None and b[1] + size <= bucket_bytes:
            b[0].append(i)
            b[1] += size
            continue
        b = [[i], size]
        buckets.append(b)
        open_by_dtype[dt] = b
    return [b[0] for b in buckets]


def pack(tensors):
    """Flattens and concatenates tensors (one dtype, one device) into one buffer."""
    if len(tensors) == 1:
        return tl.reshape(tensors[0], [-1])
    return tl.concat([tl.reshape(t, [-1]) for t in tensors], axis=0)


def unpack(flat, shapes):
    """Splits a packed buffer back into tensors of ``shapes``: views of it, no kernel runs (the
    buffer may still be written by a collective on another stream: see PendingCollectives)."""
    data, dev = flat._data, flat._device
    out, start = [], 0
    for s in shapes:
        n = _num(s)
        out.append(_tensor.wrap(data[start:start + n].reshape(tuple(int(d) for d in s)), dev))
        start += n
    if start != data.size:
        raise ValueError(f"unpack: shapes {list(shapes)} hold {start} elements, the buffer {data.size}")
    return out


def _num(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


class GradientBucketer:
    """Per-step gradient bucketing driven by the backward pass of each replica.

    A replica's reads of trainable mirrored variables are recorded as identity
    ops whose gradient rule hands the variable's finished gradient to this
    bucketer (``read``). Once every variable of a bucket has its gradient on
    every replica, the bucket is reduced across replicas (and workers). The
    identity's gradient passes through unchanged: ``tape.gradient`` still
    returns local gradients, as without a strategy.
    """

    def __init__(self, strategy, variables, bucket_bytes=DEFAULT_BUCKET_BYTES):
        self._strategy = strategy
        self._vars = list(variables)
        self._index = {v._uid: k for k, v in enumerate(self._vars)}
        order = list(range(len(self._vars)))[::-1]  # backward produces the last-read gradients first
        specs = [(_num(self._vars[k].shape), self._vars[k].dtype) for k in order]
        self._buckets = [[order[j] for j in b] for b in plan(specs, bucket_bytes)]
        self._bucket_of = {}
        for bi, b in enumerate(self._buckets):
            for k in b:
                self._bucket_of[k] = bi
        self.reduced = [None] * len(self._vars)   # the all-reduced gradients, on the primary device
        self.buckets_early = 0                    # buckets reduced during the backward pass
        self._replicas = []                       # each local replica's _ReplicaBuckets
        # With several workers, whether any worker has a variable's gradient travels in its
        # bucket (one count per variable, appended): no collective of its own.
        self._fold_presence = strategy.extended._num_workers > 1
        self._presence = []                       # (bucket, reduced counts) per bucket

    def for_replica(self, ctx):
        rb = _ReplicaBuckets(self, ctx)
        self._replicas.append(rb)
        return rb

    def result(self):
        """The reduced gradients, after every replica finished: None for a variable that no
        replica of any worker has a gradient for (its bucket reduced zeros), as without a strategy."""
        self._strategy.extended._wait_collectives()  # the buckets' collectives ran beside backward
        if self._fold_presence:
            anywhere = [False] * len(self._vars)
            counts = np.concatenate([c.numpy().ravel() for _, c in self._presence]) if self._presence else []
            for k, c in zip((k for b, _ in self._presence for k in b), counts):
                anywhere[k] = bool(c > 0)
        else:  # one worker: the local replicas know
            anywhere = [any(rb.grads[k] is not None for rb in self._replicas) for k in range(len(self._vars))]
        return [g if flag else None for g, flag in zip(self.reduced, anywhere)]

    def _reduce_bucket(self, bi, per_replica_grads):
        """Runs once per bucket, when every replica has all of its gradients."""
        b = self._buckets[bi]
        ext = self._strategy.extended
        cols = []
        for grads in per_replica_grads:
            gs = [grads[k] for k in b]
            if any(g is None for g in gs):
                gs = [g if g is not None else _zeros_for(self._vars[k], grads, b) for g, k in zip(gs, b)]
            if self._fold_presence:
                with tl.device(gs[0].device):
                    gs.append(tl.constant([0.0 if grads[k] is None else 1.0 for k in b], dtype=gs[0].dtype))
            cols.append(pack(gs))
        red = ext._batch_all_reduce_bucket(cols)
        shapes = [tuple(self._vars[k].shape) for k in b]
        parts = unpack(red, shapes + ([(len(b),)] if self._fold_presence else []))
        for k, g in zip(b, parts):
            self.reduced[k] = g
        if self._fold_presence:
            self._presence.append((b, parts[-1]))


def _zeros_for(var, grads, bucket):
    like = next((grads[k] for k in bucket if grads[k] is not None), None)
    dev = like.device if like is not None else var.device
    with tl.device(dev):
        return tl.zeros(tuple(var.shape), dtype=var.dtype)


class _ReplicaBuckets:
    """One replica's view: counts reads during the forward pass, collects gradients in the backward."""

    def __init__(self, owner, ctx):
        self._o = owner
        self._ctx = ctx
        self._reads = {}         # variable index -> reads recorded so far (forward)
        self._pending = {}       # variable index -> gradient contributions still to come (backward)
        self.grads = [None] * len(owner._vars)
        self._missing = [len(b) for b in owner._buckets]
        self._done = [False] * len(owner._buckets)
        self._next = 0           # buckets are reduced in order, so every replica issues the same sequence

    def read(self, var, snap):
        k = self._o._index.get(var._uid)
        if k is None:
            return snap
        self._reads[k] = self._reads.get(k, 0) + 1
        out = _tensor.wrap(snap._data, snap._device)
        _ad.record_custom(self._rule(k), "mirrored_read", (snap,), out)
        return out

    def _rule(self, k):
        def rule(g, out, x):
            self._ready(k, g)
            return g
        return rule

    def _ready(self, k, g):
        left = self._pending.get(k, self._reads.get(k, 1)) - 1
        self._pending[k] = left
        self.grads[k] = g if self.grads[k] is None else self.grads[k] + g
        if left == 0:
            bi = self._o._bucket_of[k]
            self._missing[bi] -= 1
            self._flush(final=False)

    def _flush(self, final):
        o = self._o
        while self._next < len(o._buckets) and (final or self._missing[self._next] == 0):
            bi = self._next
            self._next += 1
            if not final:
                o.buckets_early += self._ctx._slot == 0
            self._ctx._rdv.exchange(self._ctx._slot, self.grads,
                                    lambda slots, bi=bi: o._reduce_bucket(bi, slots))

    def finish(self, tape_grads):
        """After ``tape.gradient``: takes gradients the hooks did not see and reduces what is left."""
        for k, g in enumerate(tape_grads):
            if self.grads[k] is None and g is not None:
                self.grads[k] = g
        self._flush(final=True)


def reduce_gradients(strategy, per_replica_grads, variables, bucket_bytes=DEFAULT_BUCKET_BYTES):
    """SUM of each variable's gradient over all replicas (and workers), on the first device.

    Args:
      per_replica_grads: ``per_replica_grads[r][k]``: local replica r's gradient of variable k
        (None where it has none).
      variables: the variables, in the same order (their shapes and dtypes fix the buckets, so
        that every worker issues the same collectives whichever gradients it has).

    Returns:
      One gradient per variable, in bucketed collectives: the sum over the replicas that have
      one (the others count as zeros), or None where no replica of any worker has one, as
      without a strategy.
    """
    ext = strategy.extended
    n_vars = len(variables)
    if ext._num_local == 1 and ext._num_workers == 1:
        return list(per_replica_grads[0])
    present = [k for k, flag in enumerate(_present_anywhere(strategy, per_replica_grads, n_vars)) if flag]
    out = [None] * n_vars
    order = present[::-1]
    specs = [(_num(variables[k].shape), variables[k].dtype) for k in order]
    for b in plan(specs, bucket_bytes):
        ks = [order[j] for j in b]
        cols = []
        for r, grads in enumerate(per_replica_grads):
            gs = []
            for k in ks:
                g = grads[k]
                if g is None:
                    with tl.device(ext._devices[r].name):
                        g = tl.zeros(tuple(variables[k].shape), dtype=variables[k].dtype)
                gs.append(g)
            cols.append(pack(gs))
        red = ext._batch_all_reduce_bucket(cols)
        for k, g in zip(ks, unpack(red, [tuple(variables[k].shape) for k in ks])):
            out[k] = g
    ext._wait_collectives()
    return out


def _present_anywhere(strategy, per_replica_grads, n_vars):
    """For each variable, whether any local replica, or any other worker, has a gradient for it."""
    local = [any(grads[k] is not None for grads in per_replica_grads) for k in range(n_vars)]
    return strategy.extended._any_worker_each(local, "which variables have gradients")
