"""Runtime assertions (``tf.debugging.assert_*``, ``tf.Assert``), with TF 2's eager behaviour:
a check that fails raises at once (value checks: ``InvalidArgumentError``; rank and shape checks:
``ValueError``; dtype checks: ``TypeError``) and a check that holds returns None.

Value checks read one boolean back from the device (a host sync, as in TF eager). They are
composites of tensorlab ops; on symbolic (Functional-API) tensors they check nothing.
"""
from tensorlab.core import dtypes as _dt
from tensorlab.core.tensor import SymbolicTensor, as_operand, convert_to_tensor
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops.elementwise import (abs as _abs, cast, equal, greater, greater_equal, less, less_equal,
                                       logical_not, maximum, multiply, not_equal, subtract, where)
from tensorlab.ops.reduction import reduce_all


def _t(x):
    return x if isinstance(x, SymbolicTensor) else convert_to_tensor(x)


def _prefix(message):
    return f"{message}\n" if message else ""


def _summary(t, summarize):
    vals = t.numpy().reshape(-1).tolist()
    n = len(vals) if summarize is None else max(0, int(summarize))
    return str(vals[:n]) + (" ..." if len(vals) > n else "")


def _check_pairwise(op, sym, x, y, message, summarize, what):
    x = _t(x)
    y = as_operand(y, x)  # Python values take x's dtype, as in an op; tensors must match it
    if isinstance(x, SymbolicTensor) or isinstance(y, SymbolicTensor):
        return None
    try:
        ok = op(x, y)
    except Exception as e:
        raise InvalidArgumentError(f"{_prefix(message)}{what}: x of shape {list(x.shape)} and y of shape "
                                   f"{list(y.shape)} are not broadcast-compatible ({e})") from None
    if bool(reduce_all(ok).numpy()):
        return None
    bad = where(logical_not(ok))
    n = 3 if summarize is None else int(summarize)
    first = bad.numpy()[:n].tolist()
    raise InvalidArgumentError(
        f"{_prefix(message)}Condition x {sym} y did not hold.\nIndices of first {len(first)} different values:\n"
        f"{first}\nx (shape {list(x.shape)}) = {_summary(x, summarize)}\ny (shape {list(y.shape)}) = "
        f"{_summary(y, summarize)}")


def assert_equal(x, y, message=None, summarize=None, name=None):
    """Raises ``InvalidArgumentError`` unless ``x == y`` everywhere (with broadcasting)."""
    return _check_pairwise(equal, "==", x, y, message, summarize, "assert_equal")


def assert_none_equal(x, y, message=None, summarize=None, name=None):
    """Raises unless ``x != y`` everywhere."""
    return _check_pairwise(not_equal, "!=", x, y, message, summarize, "assert_none_equal")


def assert_less(x, y, message=None, summarize=None, name=None):
    """Raises unless ``x < y`` everywhere."""
    return _check_pairwise(less, "<", x, y, message, summarize, "assert_less")


def assert_less_equal(x, y, message=None, summarize=None, name=None):
    return _check_pairwise(less_equal, "<=", x, y, message, summarize, "assert_less_equal")


def assert_greater(x, y, message=None, summarize=None, name=None):
    return _check_pairwise(greater, ">", x, y, message, summarize, "assert_greater")


def assert_greater_equal(x, y, message=None, summarize=None, name=None):
    return _check_pairwise(greater_equal, ">=", x, y, message, summarize, "assert_greater_equal")


def _against_zero(op, sym, x, message, summarize, what):
    x = _t(x)
    if isinstance(x, SymbolicTensor):
        return None
    return _check_pairwise(op, sym, x, 0, message, summarize, what)


def assert_positive(x, message=None, summarize=None, name=None):
    """Raises unless every element of ``x`` is > 0."""
    return _against_zero(greater, ">", x, message, summarize, "assert_positive")


def assert_negative(x, message=None, summarize=None, name=None):
    return _against_zero(less, "<", x, message, summarize, "assert_negative")


def assert_non_negative(x, message=None, summarize=None, name=None):
    return _against_zero(greater_equal, ">=", x, message, summarize, "assert_non_negative")


def assert_non_positive(x, message=None, summarize=None, name=None):
    return _against_zero(less_equal, "<=", x, message, summarize, "assert_non_positive")


def assert_near(x, y, rtol=None, atol=None, message=None, summarize=None, name=None):
    """Raises unless ``|x - y| <= atol + rtol * |y|`` everywhere (default tolerances: 10 machine
    epsilons of the dtype, as TF)."""
    x = _t(x)
    y = as_operand(y, x)
    if isinstance(x, SymbolicTensor) or isinstance(y, SymbolicTensor):
        return None
    if not x.dtype.is_floating:
        raise TypeError(f"assert_near: x must be a floating tensor, got dtype {x.dtype.name}")
    y = cast(y, x.dtype)
    eps = {"float16": 2.0 ** -10, "bfloat16": 2.0 ** -7, "float32": 2.0 ** -23}.get(x.dtype.name, 2.0 ** -52)
    rtol = 10 * eps if rtol is None else float(rtol)
    atol = 10 * eps if atol is None else float(atol)
    diff = _abs(subtract(x, y))
    bound = maximum(cast(atol, x.dtype) + multiply(cast(rtol, x.dtype), _abs(y)), cast(0, x.dtype))
    ok = less_equal(diff, bound)
    if bool(reduce_all(ok).numpy()):
        return None
    raise InvalidArgumentError(
        f"{_prefix(message)}x and y not equal to tolerance rtol = {rtol:g}, atol = {atol:g}\nx (shape "
        f"{list(x.shape)}) = {_summary(x, summarize)}\ny (shape {list(y.shape)}) = {_summary(y, summarize)}")


def _rank_of(x):
    x = _t(x)
    return x, x.shape.rank


def assert_rank(x, rank, message=None, name=None):
    """Raises ``ValueError`` unless ``x`` has rank ``rank``."""
    x, r = _rank_of(x)
    if r is not None and r != int(rank):
        raise ValueError(f"{_prefix(message)}Tensor of shape {list(x.shape)} must have rank {int(rank)}; it has "
                         f"rank {r}")


def assert_rank_at_least(x, rank, message=None, name=None):
    x, r = _rank_of(x)
    if r is not None and r < int(rank):
        raise ValueError(f"{_prefix(message)}Tensor of shape {list(x.shape)} must have rank at least {int(rank)}; "
                         f"it has rank {r}")


def assert_rank_in(x, ranks, message=None, name=None):
    x, r = _rank_of(x)
    ranks = [int(k) for k in ranks]
    if r is not None and r not in ranks:
        raise ValueError(f"{_prefix(message)}Tensor of shape {list(x.shape)} must have rank in {ranks}; it has "
                         f"rank {r}")


def assert_scalar(tensor, message=None, name=None):
    """Raises ``ValueError`` unless ``tensor`` is a scalar (rank 0)."""
    t, r = _rank_of(tensor)
    if r is not None and r != 0:
        raise ValueError(f"{_prefix(message)}Expected scalar, got a tensor of shape {list(t.shape)}")
    return t


def assert_type(tensor, tf_type, message=None, name=None):
    """Raises ``TypeError`` unless ``tensor`` has dtype ``tf_type``."""
    t = _t(tensor)
    want = _dt.as_dtype(tf_type)
    if t.dtype != want:
        raise TypeError(f"{_prefix(message)}tensor has dtype {t.dtype.name}, expected {want.name}")


def assert_integer(x, message=None, name=None):
    """Raises ``TypeError`` unless ``x`` has an integer dtype."""
    t = _t(x)
    if not t.dtype.is_integer:
        raise TypeError(f"{_prefix(message)}Expected an integer tensor, got dtype {t.dtype.name}")


def assert_all_finite(t, msg, name=None, x=None, message=None):
    """Raises ``InvalidArgumentError`` if ``t`` has NaN or Inf (``check_numerics``); returns ``t``."""
    from tensorlab.ops.elementwise import check_numerics
    return check_numerics(t if x is None else x, msg if message is None else message)


def assert_shapes(shapes, data=None, summarize=None, message=None, name=None):
    """Checks tensors' shapes against specs with named dims, e.g. ``[(x, ("N", "D")), (y, ("N",))]``.

    A spec entry is an int (that size), a string (a symbol that must have the same size wherever
    it appears; ``"."`` or ``None`` for any size) or ``"*"`` first meaning any leading dims.
    Raises ``ValueError`` naming the tensor, its shape and the conflicting dimension.
    """
    items = list(shapes.items()) if isinstance(shapes, dict) else list(shapes)
    sizes = {}
    for i, (x, spec) in enumerate(items):
        t = _t(x)
        shape = t.shape.as_list() if t.shape.rank is not None else None
        spec = list(spec) if isinstance(spec, (list, tuple)) else ([] if spec == () else [spec])
        if shape is None:
            continue
        lead = bool(spec) and spec[0] == "*"
        dims = spec[1:] if lead else spec
        if (len(shape) < len(dims)) if lead else (len(shape) != len(dims)):
            raise ValueError(f"{_prefix(message)}assert_shapes: tensor #{i} of shape {shape} must have "
                             f"{'at least ' if lead else ''}{len(dims)} dimension(s) to match {tuple(spec)}")
        for d, (size, want) in enumerate(zip(shape[len(shape) - len(dims):], dims)):
            if want is None or want == ".":
                continue
            if isinstance(want, str):
                if want in sizes and size is not None and sizes[want] is not None and sizes[want] != size:
                    raise ValueError(f"{_prefix(message)}assert_shapes: tensor #{i} of shape {shape}: dimension "
                                     f"{want!r} is {size} here but {sizes[want]} in an earlier tensor")
                sizes.setdefault(want, size)
            elif size is not None and size != int(want):
                raise ValueError(f"{_prefix(message)}assert_shapes: tensor #{i} of shape {shape} must have size "
                                 f"{int(want)} in dimension {d + len(shape) - len(dims)}")


def Assert(condition, data, summarize=None, name=None):  # noqa: N802 (TF's name)
    """Raises ``InvalidArgumentError`` showing ``data`` (a list of tensors) if ``condition`` is False."""
    c = _t(condition)
    if isinstance(c, SymbolicTensor):
        return None
    if c.shape.num_elements() != 1 or not c.dtype.is_bool:
        raise TypeError(f"Assert: condition must be a scalar bool tensor; got shape {list(c.shape)}, dtype "
                        f"{c.dtype.name}")
    if bool(c.numpy().reshape(())):
        return None
    shown = [d if isinstance(d, str) else _summary(_t(d), summarize) for d in data]
    raise InvalidArgumentError("assertion failed: [" + "] [".join(shown) + "]")


def is_numeric_tensor(tensor):
    """True for a tensor of a numeric (integer, floating) dtype."""
    from tensorlab.core.tensor import Tensor, Variable
    return isinstance(tensor, (Tensor, Variable)) and (tensor.dtype.is_integer or tensor.dtype.is_floating)


def is_non_decreasing(x, name=None):
    """A bool scalar: each element of flattened ``x`` is >= the one before."""
    from tensorlab.ops.shape import reshape
    flat = reshape(_t(x), [-1])
    return reduce_all(greater_equal(flat[1:], flat[:-1]))


def is_strictly_increasing(x, name=None):
    from tensorlab.ops.shape import reshape
    flat = reshape(_t(x), [-1])
    return reduce_all(greater(flat[1:], flat[:-1]))


__all__ = ["assert_equal", "assert_greater", "assert_less", "assert_rank", "Assert"]
DEBUGGING = ["assert_equal", "assert_none_equal", "assert_less", "assert_less_equal", "assert_greater",
             "assert_greater_equal", "assert_positive", "assert_negative", "assert_non_negative",
             "assert_non_positive", "assert_near", "assert_rank", "assert_rank_at_least", "assert_rank_in",
             "assert_scalar", "assert_type", "assert_integer", "assert_all_finite", "assert_shapes", "Assert",
             "is_numeric_tensor", "is_non_decreasing", "is_strictly_increasing"]
MATH = ["is_non_decreasing", "is_strictly_increasing"]
