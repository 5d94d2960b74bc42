"""Control flow: ``cond``, ``case``, ``switch_case``, ``while_loop``.

tensorlab executes eagerly, so these evaluate the predicate and run only the
chosen branch (or the loop body as many times as needed) in Python. The ops
inside are recorded by any active ``GradientTape``, so gradients flow through
exactly what ran. They need no primitive and no kernel.
"""
from tensorlab.core.autodiff import _flatten
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable, convert_to_tensor
from tensorlab.errors import InvalidArgumentError


def _truth(name, pred):
    if isinstance(pred, SymbolicTensor):
        raise TypeError(f"{name}: the predicate is a symbolic (Functional-API) tensor and has no value; "
                        "call the model on data, or compute the branch choice outside the model")
    if isinstance(pred, (Tensor, Variable)):
        if pred.shape.num_elements() != 1:
            raise InvalidArgumentError(f"{name}: the predicate must be a scalar, got shape {list(pred.shape)}")
        return bool(pred)
    return bool(pred)


def cond(pred, true_fn=None, false_fn=None, name=None):
    """Runs ``true_fn()`` if ``pred`` is true, else ``false_fn()``, and returns its result.

    Args:
      pred: a scalar bool tensor or Python bool.
      true_fn, false_fn: callables without arguments.

    Returns:
      What the chosen branch returns. Gradients flow through that branch.

    Example:
      >>> x = tl.constant(2.0)
      >>> tl.cond(x > 0, lambda: x * x, lambda: -x).numpy()
      4.0
    """
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("cond: true_fn and false_fn must both be callables")
    return true_fn() if _truth("cond", pred) else false_fn()


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """Runs the function of the first ``(pred, fn)`` pair whose ``pred`` is true.

    Args:
      pred_fn_pairs: a list of ``(pred, fn)`` pairs (or a dict ``pred -> fn``).
      default: called when no predicate is true (default: the last pair's fn).
      exclusive: raise if more than one predicate is true.

    Returns:
      What the chosen function returns.
    """
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    for p in pairs:
        if not (isinstance(p, tuple) and len(p) == 2 and callable(p[1])):
            raise TypeError(f"case: each entry of pred_fn_pairs must be a (predicate, callable) pair, got {p!r}")
    truths = [_truth("case", p) for p, _ in pairs]
    if exclusive and sum(truths) > 1:
        raise InvalidArgumentError(f"case: exclusive=True but predicates {[i for i, v in enumerate(truths) if v]} "
                                   "are all true")
    for v, (_, fn) in zip(truths, pairs):
        if v:
            return fn()
    if default is not None:
        return default()
    if not pairs:
        raise ValueError("case: no pairs and no default")
    return pairs[-1][1]()


def switch_case(branch_index, branch_fns, default=None, name="switch_case"):
    """Runs ``branch_fns[branch_index]()``.

    Args:
      branch_index: a scalar int tensor or Python int.
      branch_fns: a list of callables, or a dict ``int -> callable``.
      default: called for an index with no branch (default: the last branch).
    """
    if isinstance(branch_index, SymbolicTensor):
        raise TypeError("switch_case: branch_index is a symbolic tensor and has no value")
    i = int(branch_index)
    fns = dict(branch_fns) if isinstance(branch_fns, dict) else dict(enumerate(branch_fns))
    if not fns:
        raise ValueError("switch_case: branch_fns is empty")
    if i in fns:
        return fns[i]()
    return default() if default is not None else fns[max(fns)]()


def _leaf(v):
    if isinstance(v, (Tensor, Variable, SymbolicTensor)) or v is None or callable(v):
        return v
    if hasattr(v, "__array__") or isinstance(v, (int, float, bool)):
        return convert_to_tensor(v)
    return v


def while_loop(cond, body, loop_vars, shape_invariants=None, parallel_iterations=10, back_prop=True,
               swap_memory=False, maximum_iterations=None, name=None):
    """Repeats ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` is true.

    Args:
      cond: callable returning a scalar bool (tensor) from the loop variables.
      body: callable returning new loop variables, with the same structure.
      loop_vars: a tensor, or a (nested) tuple/list/dict of tensors.
      maximum_iterations: optional upper bound on the number of iterations.
      shape_invariants, parallel_iterations, back_prop, swap_memory: accepted
        for TF compatibility (eager loops need none of them).

    Returns:
      The final loop variables, with the structure of ``loop_vars``.
      Gradients flow through every iteration that ran.

    Example:
      >>> i, x = tl.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * x),
      ...                      (tl.constant(0), tl.constant(2.0)))
      >>> x.numpy()   # ((2^2)^2)^2
      256.0
    """
    if not callable(cond) or not callable(body):
        raise TypeError("while_loop: cond and body must be callables")
    packed = isinstance(loop_vars, (list, tuple))
    state = loop_vars if packed else [loop_vars]
    leaves, rebuild = _flatten(state)
    state = rebuild([_leaf(v) for v in leaves])
    n = len(leaves)
    limit = None if maximum_iterations is None else int(maximum_iterations)
    it = 0
    while (limit is None or it < limit) and _truth("while_loop", cond(*state)):
        out = body(*state)
        if len(state) == 1 and not isinstance(out, (list, tuple)):
            out = [out]
        if not isinstance(out, (list, tuple)):
            raise ValueError(f"while_loop: body must return {len(state)} loop variables (a list or tuple), "
                             f"got {type(out).__name__}")
        out_leaves = _flatten(list(out))[0]
        if len(out) != len(state) or len(out_leaves) != n:
            raise ValueError(f"while_loop: body returned {len(out)} values ({len(out_leaves)} tensors) but "
                             f"loop_vars has {len(state)} values ({n} tensors); they must match in structure")
        state = rebuild([_leaf(v) for v in out_leaves])
        it += 1
    if packed:
        return state
    return state[0]


__all__ = ["cond", "case", "switch_case", "while_loop"]
