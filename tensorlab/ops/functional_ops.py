"""Functional control flow: ``map_fn``, ``scan``, ``foldl``, ``foldr``, ``vectorized_map``,
and ``recompute_grad``.

tensorlab executes eagerly, so each runs ``fn`` in a Python loop over the first
dimension of its inputs: one ``unstack`` per input gives the elements and one
``stack`` per output gathers the results. Gradients therefore flow through those
primitives' rules and through whatever ``fn`` ran; nothing here needs a kernel.
Symbolic (Functional-API) inputs run ``fn`` once on symbolic elements to get
the result's shape, and the call is recorded as one registry composite, so that
a ``keras.Model`` replays the loop on data.
"""
import functools

from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.autodiff import GradientTape, _flatten, custom_gradient
from tensorlab.core.registry import composite
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import creation as _cr
from tensorlab.ops import shape as _sh
from tensorlab.ops._rules import fmt, t


def _structure(leaves, rebuild):
    """The nesting of a structure with its leaves blanked, to compare two structures (a list
    and a tuple of the same items count as the same)."""
    def plain(s):
        if isinstance(s, dict):
            return {k: plain(v) for k, v in s.items()}
        return [plain(v) for v in s] if isinstance(s, (list, tuple)) else s
    return plain(rebuild([None] * len(leaves)))


def _device_of(xs):
    for x in xs:
        if type(x) is Tensor:
            return x._device
    return _dev.current()


def _elems(op, fn, elems, broadcast=False):
    """``elems``' leaves as tensors, its rebuild, and the number of elements.

    With ``broadcast`` (vectorized_map), leaves whose first dimension is 1
    stand for every element."""
    if not callable(fn):
        raise TypeError(f"{op}: fn must be callable, got {type(fn).__name__}")
    leaves, rebuild = _flatten(elems)
    if not leaves or any(v is None for v in leaves):
        raise InvalidArgumentError(f"{op}: elems must be a tensor or a (nested) structure of tensors, got {elems!r}")
    xs = [t(v) for v in leaves]
    for i, x in enumerate(xs):
        if x.ndim == 0:
            raise InvalidArgumentError(f"{op}: elems are unstacked along their first dimension, but elems leaf #{i} "
                                       "is a scalar; give tensors of rank 1 or more")
    firsts = [x.shape[0] for x in xs]
    known = [d for d in firsts if d is not None and not (broadcast and d == 1)]
    n = known[0] if known else (1 if broadcast and None not in firsts else None)
    for i, d in enumerate(firsts):
        if d is not None and d != n and not (broadcast and d == 1):
            raise InvalidArgumentError(
                f"{op}: all elems must have the same first dimension{' (or 1)' if broadcast else ''}; got shapes "
                + ", ".join(fmt(x.shape) for x in xs))
    return xs, rebuild, n


def _rows(xs, rebuild, n):
    """``element(i)``: the i-th slice of every leaf, rebuilt into ``elems``' structure."""
    cols = [_sh.unstack(x) if x.shape[0] == n else _sh.unstack(x) * n for x in xs]
    return lambda i: rebuild([c[i] for c in cols])


def _symbolic_rows(xs, rebuild):
    return rebuild([SymbolicTensor(tuple(x.shape[1:]), x.dtype) for x in xs])


def _is_symbolic(leaves):
    return any(isinstance(v, SymbolicTensor) for v in leaves)


def _spec_of(op, s):
    """A signature leaf (dtype or TensorSpec) as ``(shape or None for unknown, dtype)``."""
    if isinstance(s, TensorSpec):
        return s.shape, s.dtype
    try:
        return None, dt.as_dtype(s)
    except (TypeError, ValueError):
        raise TypeError(f"{op}: an output signature must be a dtype or a tl.TensorSpec (or a structure of them), "
                        f"got {s!r}") from None


def _signature(op, sig):
    if sig is None:
        return None
    leaves, rebuild = _flatten(sig)
    return [_spec_of(op, s) for s in leaves], rebuild


def _results(op, outs, sig, what="fn"):
    """Stacks per-element results (each a structure of tensors) into one structure of stacked tensors."""
    leaves0, rebuild = _flatten(outs[0])
    shape0 = _structure(leaves0, rebuild)
    columns = [[] for _ in leaves0]
    for i, out in enumerate(outs):
        leaves, rb = _flatten(out)
        if len(leaves) != len(leaves0) or _structure(leaves, rb) != shape0:
            raise InvalidArgumentError(f"{op}: {what} returned {shape0!r} for element 0 but {_structure(leaves, rb)!r} "
                                       f"for element {i}; every element's result must have the same structure")
        for k, v in enumerate(leaves):
            if v is None:
                raise InvalidArgumentError(f"{op}: {what} returned None as output #{k} for element {i}; "
                                           "return tensors")
            columns[k].append(t(v))
    _check_signature(op, sig, [c[0] for c in columns], shape0)
    stacked = []
    for k, col in enumerate(columns):
        for i, v in enumerate(col):
            if tuple(v.shape) != tuple(col[0].shape) or v.dtype != col[0].dtype:
                raise InvalidArgumentError(
                    f"{op}: {what}'s output #{k} is {fmt(col[0].shape)} {col[0].dtype.name} for element 0 but "
                    f"{fmt(v.shape)} {v.dtype.name} for element {i}; every element's output must have one shape "
                    "and dtype to be stacked")
        stacked.append(_sh.stack(col))
    return rebuild(stacked)


def _check_signature(op, sig, firsts, structure):
    if sig is None:
        return
    specs, rebuild = sig
    if len(specs) != len(firsts) or _structure(specs, rebuild) != structure:
        raise InvalidArgumentError(f"{op}: fn returned {structure!r} but fn_output_signature describes "
                                   f"{_structure(specs, rebuild)!r}; they must have the same structure")
    for k, (v, (shape, dtype)) in enumerate(zip(firsts, specs)):
        if v.dtype != dtype:
            raise TypeError(f"{op}: fn's output #{k} has dtype {v.dtype.name} but fn_output_signature says "
                            f"{dtype.name}; cast it in fn (tl.cast) or fix the signature")
        if shape is not None and not shape.is_compatible_with(v.shape):
            raise InvalidArgumentError(f"{op}: fn's output #{k} has shape {fmt(v.shape)} but fn_output_signature "
                                       f"says {fmt(shape)}")


def _empty(specs, rebuild, dev):
    """Zero-length results ``[0] + shape`` per ``(shape, dtype)`` (``[0]`` where the shape is not fully
    known, as TF's empty TensorArray stacks)."""
    out = []
    with _dev.device(dev):
        for shape, dtype in specs:
            known = shape is not None and all(d is not None for d in shape)
            out.append(_cr.zeros([0] + list(shape) if known else [0], dtype=dtype))
    return rebuild(out)


def _symbolic_stack(out, n):
    leaves, rebuild = _flatten(out)
    return rebuild([SymbolicTensor((n,) + tuple(t(v).shape), t(v).dtype) for v in leaves])


def _replay(*tensors, run, specs):
    return tuple(t(v) for v in _flatten(run(*tensors))[0])


# One composite per op: ``run`` (a param) calls the op again on the tensors, ``specs`` are the results' specs.
_RECORDED = {op: composite(op, lambda *tensors, run, specs: specs, multiple_results=True)(_replay)
             for op in ("map_fn", "vectorized_map", "scan", "foldl", "foldr")}


def _recorded(op, call, args, out):
    """``call(*args)`` on symbolic inputs, recorded as one composite whose outputs have ``out``'s structure
    and specs (``out``: ``fn`` run on symbolic elements).

    The loop needs the number of elements, so a Functional model (``keras.Model``) replays ``call`` on data
    each time it runs. The tensors among ``args``' leaves are the composite's inputs; other leaves (Python
    values, variables, which are read when the model runs) are kept as they are.
    """
    leaves, rebuild = _flatten(list(args))
    slots = [i for i, v in enumerate(leaves) if isinstance(v, (Tensor, SymbolicTensor))]

    def run(*tensors):
        vals = list(leaves)
        for i, v in zip(slots, tensors):
            vals[i] = v
        return call(*rebuild(vals))

    out_leaves, out_rebuild = _flatten(out)
    specs = tuple(TensorSpec(tuple(t(v).shape), t(v).dtype) for v in out_leaves)
    return out_rebuild(list(_RECORDED[op](*[leaves[i] for i in slots], run=run, specs=specs)))


def _map(op, fn, xs, rebuild, n, sig, replay=None):
    """``replay``: ``(call, elems)``, the op called again on ``elems`` (used on symbolic elems)."""
    if _is_symbolic(xs):
        return _recorded(op, replay[0], [replay[1]], _symbolic_stack(fn(_symbolic_rows(xs, rebuild)), n))
    if n == 0:  # without a signature, TF assumes the output looks like elems
        return _empty(*(sig or ([(x.shape[1:], x.dtype) for x in xs], rebuild)), _device_of(xs))
    element = _rows(xs, rebuild, n)
    return _results(op, [fn(element(i)) for i in range(n)], sig)


def map_fn(fn, elems, dtype=None, parallel_iterations=None, back_prop=True, swap_memory=False, infer_shape=True,
           name=None, fn_output_signature=None):
    """Applies ``fn`` to each element of ``elems`` (unstacked along the first dimension) and stacks the results.

    Args:
      fn: a callable taking one element, with the structure of ``elems``.
      elems: a tensor or a (nested) structure of tensors sharing their first dimension.
      fn_output_signature: the output's dtype, ``tl.TensorSpec``, or a structure of
        them; fn's results are checked against it. Without it the output follows
        whatever fn returns. ``dtype`` is its older name.
      parallel_iterations, back_prop, swap_memory, infer_shape: accepted for TF
        compatibility (the loop runs eagerly).

    Returns:
      fn's result structure, each tensor with a leading dimension of ``len(elems)``.
      For empty ``elems``: zero-length tensors of the signature (default: ``elems``').

    Example:
      >>> tl.map_fn(lambda x: x * x, tl.constant([1., 2., 3.])).numpy()
      array([1., 4., 9.], dtype=float32)
      >>> tl.map_fn(lambda p: p[0] + p[1], (tl.constant([1, 2]), tl.constant([10, 20]))).numpy()
      array([11, 22], dtype=int32)
    """
    if dtype is not None and fn_output_signature is not None:
        raise ValueError("map_fn: give fn_output_signature or dtype (its deprecated name), not both")
    sig = _signature("map_fn", fn_output_signature if fn_output_signature is not None else dtype)
    return _map("map_fn", fn, *_elems("map_fn", fn, elems), sig,
                replay=(lambda e: map_fn(fn, e, dtype=dtype, fn_output_signature=fn_output_signature), elems))


def vectorized_map(fn, elems, fallback_to_while_loop=True, warn=True):
    """``map_fn`` with TF's ``vectorized_map`` conventions: an input whose first dimension is 1 is broadcast.

    TF vectorizes ``fn`` over the batch; tensorlab runs it once per element,
    which gives the same results (and gradients).

    Args:
      fn: a callable taking one element, with the structure of ``elems``.
      elems: a tensor or a (nested) structure of tensors; their first dimensions
        must be equal or 1.
      fallback_to_while_loop, warn: accepted for TF compatibility.

    Example:
      >>> tl.vectorized_map(lambda x: tl.reduce_sum(x), tl.ones([4, 3])).numpy()
      array([3., 3., 3., 3.], dtype=float32)
    """
    return _map("vectorized_map", fn, *_elems("vectorized_map", fn, elems, broadcast=True), None,
                replay=(lambda e: vectorized_map(fn, e), elems))


# ----------------------------------------------------------------- scan and folds
def _as_state(initializer):
    leaves, rebuild = _flatten(initializer)
    return rebuild([v if isinstance(v, SymbolicTensor) else t(v) for v in leaves])


def _accumulate(op, fn, elems, initializer, reverse):
    """Runs ``acc = fn(acc, x)`` over the elements, in loop order.

    Returns (accumulators, n, initial accumulator, symbolic). Without an
    initializer the first element is the first accumulator; symbolic inputs
    run ``fn`` once on symbolic values (one accumulator)."""
    xs, rebuild, n = _elems(op, fn, elems)
    init = None if initializer is None else _as_state(initializer)
    if _is_symbolic(xs) or (init is not None and _is_symbolic(_flatten(init)[0])):
        x = _symbolic_rows(xs, rebuild)
        return [fn(x if init is None else init, x)], n, init, True
    if n == 0 and init is None:
        raise InvalidArgumentError(f"{op}: elems is empty ({', '.join(fmt(x.shape) for x in xs)}) and there is no "
                                   "initializer; give an initializer or at least one element")
    element = _rows(xs, rebuild, n)
    order = list(range(n - 1, -1, -1) if reverse else range(n))
    acc = element(order.pop(0)) if init is None else init
    accs = [acc] if init is None else []
    leaves0, rb0 = _flatten(acc)
    structure = _structure(leaves0, rb0)
    for i in order:
        acc = fn(acc, element(i))
        leaves, rb = _flatten(acc)
        if len(leaves) != len(leaves0) or _structure(leaves, rb) != structure:
            raise InvalidArgumentError(f"{op}: fn(acc, x) returned {_structure(leaves, rb)!r} but the accumulator "
                                       f"is {structure!r}; fn must return the accumulator's structure")
        accs.append(acc)
    return accs, n, init, False


def scan(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, infer_shape=True,
         reverse=False, name=None):
    """The sequence of accumulators of ``acc = fn(acc, x)`` over the elements of ``elems``.

    Args:
      fn: a callable ``fn(acc, x)`` returning the new accumulator (the structure
        of ``initializer``, or of ``elems`` without one).
      elems: a tensor or (nested) structure of tensors, unstacked along axis 0.
      initializer: the first accumulator. Without it the first element is, and
        it is also the output's first row.
      reverse: scan from the last element to the first (row ``i`` of the output
        still belongs to element ``i``).
      parallel_iterations, back_prop, swap_memory, infer_shape: accepted for TF compatibility.

    Returns:
      The accumulators stacked along a new first axis, with their structure.

    Example:
      >>> tl.scan(lambda a, x: a + x, tl.constant([1, 2, 3, 4])).numpy()   # cumulative sum
      array([ 1,  3,  6, 10], dtype=int32)
      >>> tl.scan(lambda a, x: a + x, tl.constant([1, 2, 3, 4]), reverse=True).numpy()
      array([10,  9,  7,  4], dtype=int32)
    """
    accs, n, init, symbolic = _accumulate("scan", fn, elems, initializer, reverse)
    if symbolic:
        return _recorded("scan", lambda e, i: scan(fn, e, i, reverse=reverse), [elems, initializer],
                         _symbolic_stack(accs[0], n))
    if not accs:  # empty elems: zero-length accumulators
        leaves, rebuild = _flatten(init)
        return _empty([(v.shape, v.dtype) for v in leaves], rebuild, _device_of(leaves))
    if reverse:
        accs.reverse()
    return _results("scan", accs, None, what="fn(acc, x)")


def _fold(op, fn, elems, initializer, reverse):
    accs, _, init, symbolic = _accumulate(op, fn, elems, initializer, reverse)
    if symbolic:
        return _recorded(op, lambda e, i: _fold(op, fn, e, i, reverse), [elems, initializer], accs[0])
    return accs[-1] if accs else init


def foldl(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """Folds ``fn`` over the elements of ``elems`` from first to last: ``fn(...fn(fn(init, x0), x1)..., xn)``.

    Args:
      fn: a callable ``fn(acc, x)`` returning the new accumulator.
      elems: a tensor or (nested) structure of tensors, unstacked along axis 0.
      initializer: the first accumulator (default: the first element).

    Returns:
      The last accumulator.

    Example:
      >>> tl.foldl(lambda a, x: a * 10 + x, tl.constant([1, 2, 3])).numpy()
      123
    """
    return _fold("foldl", fn, elems, initializer, reverse=False)


def foldr(fn, elems, initializer=None, parallel_iterations=10, back_prop=True, swap_memory=False, name=None):
    """Folds ``fn`` over the elements of ``elems`` from last to first.

    Example:
      >>> tl.foldr(lambda a, x: a * 10 + x, tl.constant([1, 2, 3])).numpy()
      321
    """
    return _fold("foldr", fn, elems, initializer, reverse=True)


# ----------------------------------------------------------------- recompute_grad
def _differentiable(xs):
    return [x for x in _flatten(list(xs))[0] if isinstance(x, (Tensor, Variable))]


def recompute_grad(f):
    """Wraps ``f`` so the backward pass recomputes its forward instead of keeping it (``tf.recompute_grad``).

    The wrapped function gives ``f``'s values and gradients (for its tensor
    arguments and the variables it reads), but tapes record it as one op that
    holds only its inputs and outputs: the intermediate activations are
    recomputed when the gradient is taken, trading compute for memory.
    ``f`` should be deterministic (random ops would draw new values).

    Example:
      >>> block = tl.recompute_grad(lambda x: tl.tanh(x @ w1) @ w2)
      >>> with tl.GradientTape() as tape:
      ...     loss = tl.reduce_sum(block(x))
      >>> tape.gradient(loss, [w1, w2])
    """
    if not callable(f):
        raise TypeError(f"recompute_grad: f must be callable, got {type(f).__name__}")

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        def forward(*xs):
            def grad_fn(*dys, variables=None):
                sources = _differentiable(xs) + list(variables or ())
                with GradientTape(watch_accessed_variables=False) as tape:
                    tape.watch(sources)
                    again = _flatten(f(*xs, **kwargs))[0]
                used = [(y, d) for y, d in zip(again, dys)
                        if isinstance(y, (Tensor, Variable)) and y.dtype.is_floating and d is not None]
                grads = tape.gradient([y for y, _ in used], sources, output_gradients=[d for _, d in used])
                k = len(sources) - len(variables or ())
                return (grads[:k], grads[k:]) if variables else grads[:k]
            return f(*xs, **kwargs), grad_fn
        forward.__name__ = getattr(f, "__name__", "recompute_grad")
        return custom_gradient(forward)(*args)
    return wrapper


__all__ = ["map_fn", "vectorized_map", "scan", "foldl", "foldr", "recompute_grad"]
