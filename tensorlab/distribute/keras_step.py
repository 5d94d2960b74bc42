"""Keras ``fit``/``evaluate``/``predict`` steps of a model compiled in a strategy's scope.

``Model.compile`` records the strategy whose scope is open; ``fit`` and the
other loops then call ``train_step``/``test_step``/``predict_step`` from here
instead of the model's own. A step:

1. splits the global batch across all replicas (every worker receives the
   same global batch and keeps its replicas' parts), or takes the parts as
   they come from a distributed dataset;
2. runs the forward and backward pass of each replica on its device, with
   that device's copies of the variables; each replica's loss is its mean
   loss scaled by ``replica_rows / global_rows`` (regularization by
   ``1 / num_replicas``), so the replicas' losses add up to the loss of the
   global batch (TF's ``compute_average_loss``);
3. sums the gradients over replicas in buckets, each reduced as soon as the
   backward pass has produced all of its gradients (see ``bucketing``);
4. applies the optimizer once to the primary copies; every replica's copy
   follows from it;
5. updates the loss tracker with the global loss, and the compiled metrics
   with the whole batch's predictions.

A model that overrides ``train_step``/``test_step``/``predict_step`` keeps
it, run as TF's ``fit`` runs it: once in every replica (``strategy.run``), on
that replica's part of the global batch. There ``compute_loss`` and the
compiled loss give the replica's share of the global loss,
``optimizer.apply_gradients`` sums the gradients over replicas and updates
once, and metric updates add up over replicas; the logs are the first
replica's (all replicas read the same metric values).
"""
import weakref

import tensorlab as tl
from tensorlab.core import autodiff as _ad
from tensorlab.distribute import bucketing as _bucketing
from tensorlab.distribute import input_lib as _input
from tensorlab.distribute import strategy as _strategy
from tensorlab.distribute.values import DistributedValues, MirroredVariable, select


def _unpack(data):
    from tensorlab.keras.models import data_adapter
    return data_adapter.unpack_x_y_sample_weight(data)


def strategy_for(model):
    """The strategy ``model`` was compiled under, or None."""
    return getattr(model, "_distribute_strategy", None)


def record_compile_strategy(model):
    """Called by ``compile``: remembers the strategy whose scope is open (if any)."""
    model._distribute_strategy = _strategy.get_strategy() if _strategy.has_strategy() else None


def _overridden(model, name):
    from tensorlab.keras.models.trainer import Trainer
    return getattr(type(model), name) is not getattr(Trainer, name)


_checked = weakref.WeakKeyDictionary()  # model -> its trainable variables, once found mirrored


def _ensure_built(model, strategy, parts):
    if not getattr(model, "built", False):
        first = parts[0][0]
        strategy._in_cross_replica(lambda: model(first, training=False))
    tv = model._trainable_vars()
    if _checked.get(model) is tv:
        return tv
    bad = [v.name for v in tv if not isinstance(v, MirroredVariable) or v._distribute_strategy is not strategy]
    if bad:
        raise ValueError(f"Model \"{model.name}\" was compiled under {type(strategy).__name__}.scope() but its "
                         f"variables {bad[:3]}{'...' if len(bad) > 3 else ''} were not created in that scope; "
                         "build (or create) and compile the model inside strategy.scope()")
    _checked[model] = tv
    return tv


def _rows(x):
    return _input._rows(x)


def _global_batch(strategy, data):
    """``(x, y, sample_weight, global rows, per-replica parts)`` of one step's input.

    The input is either a global batch (with several workers, every worker gets
    the same one), split here, or an element of a distributed dataset
    (``strategy.experimental_distribute_dataset``), split already: per-replica
    values whose rows are counted over all replicas and workers, and whose
    ``y``/``sample_weight`` are gathered for the metrics.
    """
    if not any(isinstance(leaf, DistributedValues) for leaf in _ad._flatten(data)[0]):
        x, y, sw = _unpack(data)
        return x, y, sw, _rows(x), _split(strategy, data)
    ext = strategy.extended
    parts = [_unpack(select(data, i)) for i in range(ext._num_local)]
    rows = ext._sum_over_workers(sum(_rows(p[0]) for p in parts))
    x, y, sw = _unpack(data)
    y = None if y is None else strategy.gather(y, axis=0)
    sw = None if sw is None else strategy.gather(sw, axis=0)
    return x, y, sw, rows, parts


def _split(strategy, data):
    ext = strategy.extended
    if strategy.num_replicas_in_sync == 1 and _on(data, ext._devices[0]):
        return [_unpack(data)]
    parts = _input.split_batch(data, strategy, ext._worker_index * ext._num_local, strategy.num_replicas_in_sync)
    return [_unpack(p) for p in parts]


def _active(strategy, parts):
    """The local replicas that take part: with one worker, those that got rows.

    A global batch smaller than the number of replicas (a final batch) leaves some
    replicas without rows; they sit the step out, so that no layer sees an empty
    batch (BatchNormalization's statistics of no rows are NaN). Workers of a
    multi-worker strategy all take part, since their collectives must match.
    """
    if strategy.extended._num_workers > 1:
        return list(range(len(parts))), parts
    ids = [i for i, p in enumerate(parts) if _rows(p[0])]
    return ids, [parts[i] for i in ids]


def _on(data, dev):
    return all(getattr(leaf, "_device", dev) is dev for leaf in _ad._flatten(data)[0])


def _replica_loss(model, y, pred, sw, rows, global_rows, n_replicas):
    from tensorlab.keras.models.compile_utils import combine_losses
    if rows:
        data = model.compiled_loss.compute(y, pred, sw) if model.compiled_loss.has_loss else None
        share = rows / global_rows
    else:
        # No rows here: a zero loss that still depends on the outputs, so this replica's
        # backward pass runs the same collectives as the others'.
        outs = [tl.reduce_sum(p) for p in _ad._flatten(pred)[0]]
        data, share = (tl.add_n(outs) if len(outs) > 1 else outs[0]) * 0.0, 1.0
    total = combine_losses(data, model.losses, (share, 1.0 / n_replicas))
    if total is None:
        raise ValueError(f'Model "{model.name}" has no loss to optimize: pass loss= to compile() or add '
                         "losses with add_loss()")
    return total


def _global_loss(strategy, losses):
    return strategy.extended._reduce_to_primary(_strategy.ReduceOp.SUM, losses)


def _gather_preds(strategy, preds):
    from tensorlab.keras import _tree
    flat = [_tree.flatten(p) for p in preds]
    cat = [strategy.gather(_values_per_replica([f[i] for f in flat]), axis=0) for i in range(len(flat[0]))]
    return _tree.pack_like(preds[0], cat)


def _values_per_replica(vals):
    from tensorlab.distribute.values import PerReplica
    return PerReplica(vals) if len(vals) > 1 else vals[0]


def _model_step_in_replicas(model, strategy, data, name):
    """Runs the model's own ``name`` step in every replica, on the replica's rows.

    Returns the replicas' results, in replica order.
    """
    from tensorlab.keras.models import data_adapter
    _, _, _, global_rows, parts = _global_batch(strategy, data)
    _ensure_built(model, strategy, parts)
    ids, parts = _active(strategy, parts)
    taking_part = len(parts) * strategy.extended._num_workers
    step = getattr(model, name)

    def replica(i, xr, yr, swr):
        ctx = _strategy.current_replica_context()
        ctx._batch_share = _rows(xr) / global_rows if global_rows else 0.0
        ctx._reg_share = 1.0 / taking_part
        return step(data_adapter.pack_x_y_sample_weight(xr, yr, swr))
    return strategy._run_replicas(replica, parts, local_ids=ids)


def train_step(model, data):
    """One distributed optimization step on a global batch; returns the logs."""
    strategy = strategy_for(model)
    if _overridden(model, "train_step"):
        return _model_step_in_replicas(model, strategy, data, "train_step")[0]
    x, y, sw, global_rows, parts = _global_batch(strategy, data)
    tv = _ensure_built(model, strategy, parts)
    n = strategy.num_replicas_in_sync
    if n == 1 and not getattr(strategy.extended, "_force_collectives", False):
        return _single_replica_train_step(model, strategy, parts[0], tv, x, y, sw, global_rows)
    bucketer = _bucketing.GradientBucketer(strategy, tv, getattr(strategy.extended, "_bucket_bytes",
                                                                  _bucketing.DEFAULT_BUCKET_BYTES))

    def replica(i, xr, yr, swr):
        ctx = _strategy.current_replica_context()
        rows = _rows(xr)
        with tl.GradientTape() as tape:
            pred = model(xr, training=True)
            loss = _replica_loss(model, yr, pred, swr, rows, global_rows, n)
            scaled = model.optimizer.scale_loss(loss)
        grads = tape.gradient(scaled, tv)
        ctx._grad_hook.finish(grads)
        return loss, pred

    ids, parts = _active(strategy, parts)
    n = len(parts) * strategy.extended._num_workers
    outs = strategy._run_replicas(replica, parts, hook=bucketer.for_replica, local_ids=ids)
    reduced = bucketer.result()
    strategy.extended._last_step_buckets = (len(bucketer._buckets), bucketer.buckets_early)
    strategy._in_cross_replica(lambda: model.optimizer.apply_gradients(zip(reduced, tv)))
    return _logs(model, strategy, outs, x, y, sw, global_rows)


def _single_replica_train_step(model, strategy, part, tv, x, y, sw, global_rows):
    # One replica in all: nothing to reduce, so no buckets, hooks or extra copies.
    def replica(i, xr, yr, swr):
        with tl.GradientTape() as tape:
            pred = model(xr, training=True)
            loss = _replica_loss(model, yr, pred, swr, global_rows, global_rows, 1)
            scaled = model.optimizer.scale_loss(loss)
        return loss, pred, tape.gradient(scaled, tv)

    loss, pred, grads = strategy._run_replicas(replica, [part])[0]
    strategy._in_cross_replica(lambda: model.optimizer.apply_gradients(zip(grads, tv)))
    return _logs(model, strategy, [(loss, pred)], x, y, sw, global_rows)


def _logs(model, strategy, outs, x, y, sw, global_rows):
    loss = _global_loss(strategy, [o[0] for o in outs])
    model._loss_tracker.update_state(loss, sample_weight=float(global_rows))
    if model.compiled_metrics.has_metrics and y is not None:
        preds = _gather_preds(strategy, [o[1] for o in outs])
        return strategy._in_cross_replica(lambda: model.compute_metrics(x, y, preds, sw))
    return model.get_metrics_result()


def test_step(model, data):
    """One distributed evaluation step on a global batch; returns the logs."""
    strategy = strategy_for(model)
    if _overridden(model, "test_step"):
        return _model_step_in_replicas(model, strategy, data, "test_step")[0]
    x, y, sw, global_rows, parts = _global_batch(strategy, data)
    _ensure_built(model, strategy, parts)
    n = strategy.num_replicas_in_sync

    def replica(i, xr, yr, swr):
        pred = model(xr, training=False)
        return _replica_loss(model, yr, pred, swr, _rows(xr), global_rows, n), pred

    ids, parts = _active(strategy, parts)
    n = len(parts) * strategy.extended._num_workers
    outs = strategy._run_replicas(replica, parts, local_ids=ids)
    return _logs(model, strategy, outs, x, y, sw, global_rows)


def predict_step(model, data):
    """The model's outputs for a global batch, computed by all replicas and gathered in order."""
    strategy = strategy_for(model)
    if _overridden(model, "predict_step"):
        return _gather_preds(strategy, _model_step_in_replicas(model, strategy, data, "predict_step"))
    parts = _global_batch(strategy, data)[4]
    _ensure_built(model, strategy, parts)
    ids, parts = _active(strategy, parts)
    outs = strategy._run_replicas(lambda i, xr, yr, swr: model(xr, training=False), parts, local_ids=ids)
    return _gather_preds(strategy, outs)
