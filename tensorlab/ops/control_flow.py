"""Control flow: ``cond``, ``case``, ``switch_case``, ``while_loop``; and the
eager forms of TF's graph-side helpers: ``print``, ``control_dependencies``,
``py_function`` and ``numpy_function``.

tensorlab executes eagerly, so these evaluate the predicate and run only the
chosen branch (or the loop body as many times as needed) in Python. The ops
inside are recorded by any active ``GradientTape``, so gradients flow through
exactly what ran. They need no primitive and no kernel.
"""
import builtins
import contextlib
import pprint
import struct
import sys

from tensorlab.core import dtypes as dt
from tensorlab.core.autodiff import _flatten
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable, constant, convert_to_tensor
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


# ----------------------------------------------------------------- print
def _round_trips(text, v, fmt):
    return struct.unpack(fmt, struct.pack(fmt, float(text)))[0] == v


def _element(v, kind):
    if kind == "b":
        return "True" if v else "False"
    if kind == "i":
        return str(int(v))
    v = float(v)
    digits, fmt = ((15, 17), "d") if kind == "f8" else ((6, 9), "f")
    text = "%.*g" % (digits[0], v)
    if v == v and abs(v) != float("inf") and not _round_trips(text, v, fmt):
        text = "%.*g" % (digits[1], v)
    return text


def _format_array(a, kind, summarize):
    """TF's layout: rows on their own lines, the middle of long dims elided as ``...``."""
    if a.ndim == 0:
        return _element(a[()], kind)

    def dim(a, depth):
        n = a.shape[0]
        ends = n if summarize < 0 else summarize
        idx = list(builtins.range(n)) if n <= 2 * ends else (
            list(builtins.range(ends)) + [None] + list(builtins.range(n - ends, n)))
        sep = " " if a.ndim == 1 else "\n" * (a.ndim - 1) + " " * (depth + 1)
        parts = ["..." if i is None else (_element(a[i], kind) if a.ndim == 1 else dim(a[i], depth + 1))
                 for i in idx]
        return "[" + sep.join(parts) + "]"
    return dim(a, 0)


def _format_tensor(x, summarize):
    if isinstance(x, SymbolicTensor):
        return repr(x)
    x = x._read() if isinstance(x, Variable) else x
    d = x.dtype
    kind = "b" if d.is_bool else ("i" if d.is_integer else ("f8" if d == dt.float64 else "f"))
    return _format_array(x.numpy(), kind, summarize)


class _Slot:
    """Stands for a tensor inside a structure that ``pprint`` lays out."""

    def __init__(self, i):
        self.i = i

    def __repr__(self):
        return f"\x00{self.i}\x00"


def _is_tensor(v):
    return isinstance(v, (Tensor, Variable, SymbolicTensor))


def _with_slots(v, tensors):
    if _is_tensor(v):
        tensors.append(v)
        return _Slot(len(tensors) - 1)
    if isinstance(v, dict):
        return type(v)((k, _with_slots(x, tensors)) for k, x in v.items())
    if isinstance(v, (list, tuple)):
        items = [_with_slots(x, tensors) for x in v]
        return type(v)(*items) if hasattr(v, "_fields") else type(v)(items)
    return v


def _format_input(v, summarize):
    if isinstance(v, str):
        return v
    if _is_tensor(v):
        return _format_tensor(v, summarize)
    tensors = []
    text = pprint.pformat(_with_slots(v, tensors))
    for i, x in enumerate(tensors):
        text = text.replace(f"\x00{i}\x00", _format_tensor(x, summarize), 1)
    return text


def print(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None):
    """Prints tensors and Python values, formatted as ``tf.print`` does.

    Tensors print as nested brackets (``[[1 2] [3 4]]`` on separate rows);
    dimensions longer than ``2 * summarize`` show only their first and last
    ``summarize`` entries around ``...``. Python structures holding tensors
    print like ``pprint`` with each tensor formatted in place; strings print as
    they are.

    Args:
      *inputs: tensors, strings, numbers, or lists/tuples/dicts of them.
      output_stream: where to write: a file-like object (default: ``sys.stderr``
        at the time of the call), a ``"file://path"`` to append to, or a
        logging function such as ``logging.info``.
      summarize: entries kept at each end of a long dimension; -1 prints all.
      sep: the text between inputs.
      end: the text after the last input.

    Example:
      >>> tl.print("x:", tl.constant([[1, 2], [3, 4]]), output_stream=sys.stdout)
      x: [[1 2]
       [3 4]]
    """
    n = 3 if summarize is None else int(summarize)
    text = sep.join(_format_input(v, n) for v in inputs)
    stream = sys.stderr if output_stream is None else output_stream
    if isinstance(stream, str):
        if not stream.startswith("file://"):
            raise ValueError(f"print: output_stream {stream!r} is not supported; give a file-like object, "
                             "a 'file://path' string or a logging function")
        with open(stream[len("file://"):], "a") as f:
            f.write(text + end)
    elif hasattr(stream, "write"):
        stream.write(text + end)
        if hasattr(stream, "flush"):
            stream.flush()
    elif callable(stream):
        stream(text)
    else:
        raise ValueError(f"print: output_stream must be a file-like object, a 'file://path' string or a "
                         f"logging function, got {type(stream).__name__}")


def control_dependencies(control_inputs):
    """A context manager that orders nothing: ops run in program order (``tf.control_dependencies``).

    As in TF's eager mode, callables in ``control_inputs`` are called now and
    everything else is ignored.

    Example:
      >>> with tl.control_dependencies([tl.debugging.check_numerics(x, "x")]):
      ...     y = x * 2
    """
    for c in control_inputs or ():
        if callable(c):
            c()
    return contextlib.nullcontext()


# ----------------------------------------------------------------- Python functions inside ops
def _fn_name(func):
    return getattr(func, "__name__", type(func).__name__)


def _outputs(op, func, result, Tout, convert):
    """``result`` as tensors of the dtypes in ``Tout`` (one tensor for a single dtype)."""
    if Tout is None:
        return None
    single = not isinstance(Tout, (list, tuple))
    dtypes = [dt.as_dtype(d.dtype if isinstance(d, TensorSpec) else d) for d in ([Tout] if single else Tout)]
    if single:
        values = [result]
    elif result is None:
        values = []
    elif isinstance(result, (list, tuple)):
        values = list(result)
    else:
        values = [result]
    if len(values) != len(dtypes):
        raise InvalidArgumentError(f"{op}: {_fn_name(func)} returned {len(values)} values but Tout lists "
                                   f"{len(dtypes)} ({[d.name for d in dtypes]})")
    out = []
    for i, (v, d) in enumerate(zip(values, dtypes)):
        if v is None:
            raise InvalidArgumentError(f"{op}: {_fn_name(func)} returned None for output #{i}, which Tout says "
                                       f"is {d.name}")
        y = convert(v, d)
        if y.dtype != d:
            raise InvalidArgumentError(f"{op}: output #{i} of {_fn_name(func)} has dtype {y.dtype.name}, but Tout "
                                       f"says {d.name}; return values of that dtype (tl.cast / astype)")
        out.append(y)
    return out[0] if single else out


def _py_value(v, d):
    if isinstance(v, (Tensor, Variable)):
        return v._read() if isinstance(v, Variable) else v
    return convert_to_tensor(v, dtype_hint=d)


def py_function(func=None, inp=None, Tout=None, name=None):
    """Calls ``func`` on tensors and returns its results as tensors of ``Tout`` (``tf.py_function``).

    tensorlab runs eagerly, so ``func(*inp)`` simply runs now. Tensorlab ops
    inside it are recorded by active ``GradientTape``s: the result is
    differentiable with respect to ``inp`` through them.

    Args:
      func: a Python function taking ``len(inp)`` tensors.
      inp: a list of tensors (or values to convert).
      Tout: a dtype or ``tl.TensorSpec`` (the result is one tensor), a list
        of them (a list of tensors), or None (``func``'s result is discarded).

    Returns:
      A tensor, a list of tensors, or None, as ``Tout`` says.

    Raises:
      InvalidArgumentError: when ``func`` returns a different number of values
        or a tensor of another dtype than ``Tout``.

    Example:
      >>> tl.py_function(lambda x: x * 2, [tl.constant(3.)], Tout=tl.float32).numpy()
      6.0
    """
    if func is None:  # @tl.py_function(Tout=...) decorates a function
        def decorate(f):
            def wrapper(*args):
                return py_function(f, list(args), Tout)
            wrapper.__name__ = _fn_name(f)
            return wrapper
        return decorate
    if not callable(func):
        raise TypeError(f"py_function: func must be callable, got {type(func).__name__}")
    args = [v if isinstance(v, (Tensor, SymbolicTensor)) else convert_to_tensor(v) for v in (inp or [])]
    return _outputs("py_function", func, func(*args), Tout, _py_value)


def _np_value(v, d):
    if isinstance(v, (Tensor, Variable)):
        return constant(v.numpy())
    return constant(v) if hasattr(v, "dtype") else convert_to_tensor(v, dtype_hint=d)


def numpy_function(func, inp, Tout, stateful=True, name=None):
    """Calls ``func`` on numpy arrays and returns its results as tensors of ``Tout`` (``tf.numpy_function``).

    The inputs are copied to numpy arrays (``func`` may modify them) and the
    outputs back to tensors, so no gradient flows through: use
    ``py_function`` for that. A numpy array
    result must already have its ``Tout`` dtype (as in TF: a float64 array for
    a float32 output is an error).

    Args:
      func: a Python function taking ``len(inp)`` numpy arrays.
      inp: a list of tensors (or values to convert).
      Tout: a dtype, a list of dtypes, or None, as for ``py_function``.
      stateful: accepted for TF compatibility (every call runs ``func``).

    Example:
      >>> tl.numpy_function(lambda a: a.sum(keepdims=True), [tl.constant([1, 2])], tl.int32).numpy()
      array([3], dtype=int32)
    """
    if not callable(func):
        raise TypeError(f"numpy_function: func must be callable, got {type(func).__name__}")
    # Copies: a CPU tensor's numpy() shares its memory, and func may write to its arrays.
    arrays = [(v if _is_tensor(v) else convert_to_tensor(v)).numpy().copy() for v in (inp or [])]
    return _outputs("numpy_function", func, func(*arrays), Tout, _np_value)


__all__ = ["cond", "case", "switch_case", "while_loop", "print", "control_dependencies", "py_function",
           "numpy_function"]
