"""``optimizer.apply_gradients`` inside ``strategy.run``, with TF's semantics.

In a replica function, ``apply_gradients`` receives that replica's local
gradients. As in TF, the call becomes a ``merge_call``: the gradients of all
replicas are summed (bucketed all-reduce; skipped with
``skip_gradients_aggregation=True`` / ``experimental_aggregate_gradients=False``,
when the caller has already reduced them) and the optimizer runs once, in
cross-replica context, on the variables' primary copies. Outside replica
functions ``apply_gradients`` is untouched.

The Keras optimizers know nothing of strategies; this wraps
``Optimizer.apply_gradients`` once, when the first strategy is created.
"""
import functools

_installed = [False]


def install():
    if _installed[0]:
        return
    try:
        from tensorlab.keras.optimizers import base
    except Exception:  # no Keras optimizers: nothing to hook
        return
    orig = base.Optimizer.apply_gradients
    if getattr(orig, "_tl_distribute_hook", False):
        _installed[0] = True
        return

    @functools.wraps(orig)
    def apply_gradients(self, grads_and_vars, name=None, skip_gradients_aggregation=False, **kwargs):
        from tensorlab.distribute.strategy import current_replica_context
        ctx = current_replica_context()
        if ctx is None:
            return orig(self, grads_and_vars, name=name, skip_gradients_aggregation=skip_gradients_aggregation,
                        **kwargs)
        aggregate = not skip_gradients_aggregation and kwargs.pop("experimental_aggregate_gradients", True)
        pairs = list(grads_and_vars)
        grads = [g for g, _ in pairs]
        variables = [v for _, v in pairs]
        opt = self

        def merge(strategy, *per_replica):
            from tensorlab.distribute import bucketing
            from tensorlab.distribute.values import select
            n = strategy.extended._num_local
            per = [[select(g, r) for g in per_replica] for r in range(n)]
            reduced = bucketing.reduce_gradients(strategy, per) if aggregate else per[0]
            return orig(opt, zip(reduced, variables), name=name, skip_gradients_aggregation=True, **kwargs)
        return ctx.merge_call(merge, args=tuple(grads))

    apply_gradients._tl_distribute_hook = True
    base.Optimizer.apply_gradients = apply_gradients
    _installed[0] = True
