"""``optimizer.apply_gradients`` called inside a replica, with TF's semantics.

In a replica function, ``apply_gradients`` receives that replica's local
gradients. As in TF, the call becomes a ``merge_call``: the gradients of all
replicas are summed (bucketed all-reduce; skipped with
``skip_gradients_aggregation=True`` / ``experimental_aggregate_gradients=False``,
when the caller has already reduced them) and the optimizer runs once, in
cross-replica context, on the variables' primary copies.

``keras.optimizers.Optimizer.apply_gradients`` calls this when it finds itself
in a replica context; outside replicas it updates directly.
"""


def apply_gradients(optimizer, ctx, grads_and_vars, skip_gradients_aggregation=False, aggregate=True):
    """All-reduces the replicas' gradients (unless told not to) and applies them once."""
    aggregate = aggregate and not skip_gradients_aggregation
    pairs = list(grads_and_vars)
    grads = [g for g, _ in pairs]
    variables = [v for _, v in pairs]

    def merge(strategy, *per_replica):
        from tensorlab.distribute import bucketing
        from tensorlab.distribute.values import select
        n = strategy.extended._num_local
        per = [[select(g, r) for g in per_replica] for r in range(n)]
        reduced = bucketing.reduce_gradients(strategy, per, variables) if aggregate else per[0]
        return optimizer._apply_gradients_here(zip(reduced, variables))
    return ctx.merge_call(merge, args=tuple(grads))
