"""Elementwise math: arithmetic, comparisons, logic, unary functions, cast, where.

Each primitive's gradient rule sits next to it. Rules return gradients in
the broadcast shape; the autodiff engine sums them back to input shapes.
"""
import math as _math

from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite, defgrad, not_differentiable, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import as_operand
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import (FLOATS, broadcast_rule, broadcast_shapes, check_same_dtype, float_rule, fmt,
                                  pair, require_dtypes, require_float, t, tf)

_INTS = frozenset({dt.int8, dt.int16, dt.int32, dt.int64, dt.uint8})
_NUMERIC = FLOATS | _INTS

# ----------------------------------------------------------------- binary arithmetic
add_p = primitive("add", broadcast_rule("add"))
subtract_p = primitive("subtract", broadcast_rule("subtract"))
multiply_p = primitive("multiply", broadcast_rule("multiply"))
divide_p = primitive("divide", broadcast_rule("divide"))          # float true division
floordiv_p = primitive("floordiv", broadcast_rule("floordiv"))
floormod_p = primitive("floormod", broadcast_rule("floormod"))
pow_p = primitive("pow", broadcast_rule("pow"))
maximum_p = primitive("maximum", broadcast_rule("maximum"))
minimum_p = primitive("minimum", broadcast_rule("minimum"))


@defgrad(add_p)
def _add_grad(g, out, x, y):
    return g, g


@defgrad(subtract_p)
def _sub_grad(g, out, x, y):
    return g, negative(g)


@defgrad(multiply_p)
def _mul_grad(g, out, x, y):
    return multiply(g, y), multiply(g, x)


@defgrad(divide_p)
def _div_grad(g, out, x, y):
    gx = divide(g, y)
    return gx, negative(multiply(gx, divide(x, y)))


@defgrad(floormod_p)
def _floormod_grad(g, out, x, y):
    return g, negative(multiply(g, floordiv(x, y)))


@defgrad(pow_p)
def _pow_grad(g, out, x, y):
    gx = multiply(g, multiply(y, pow(x, subtract(y, 1))))
    safe_log = where(greater(x, 0), log(where(greater(x, 0), x, 1)), zeros_like_(x))
    return gx, multiply(g, multiply(out, safe_log))


@defgrad(maximum_p)
def _max_grad(g, out, x, y):
    m = greater_equal(x, y)
    z = zeros_like_(g)
    return where(m, g, z), where(m, z, g)


@defgrad(minimum_p)
def _min_grad(g, out, x, y):
    m = less_equal(x, y)
    z = zeros_like_(g)
    return where(m, g, z), where(m, z, g)


not_differentiable(floordiv_p)


def zeros_like_(x):
    return multiply(x, 0)


def add(x, y, name=None):
    """Returns ``x + y`` elementwise, with broadcasting (``tf.math.add``)."""
    x, y = pair(x, y, "add")
    return add_p(x, y)


def subtract(x, y, name=None):
    """Returns ``x - y`` elementwise, with broadcasting."""
    x, y = pair(x, y, "subtract")
    return subtract_p(x, y)


def multiply(x, y, name=None):
    """Returns ``x * y`` elementwise, with broadcasting."""
    x, y = pair(x, y, "multiply")
    return multiply_p(x, y)


def _true_div_dtype(d):
    # TF: int8/int16/uint8 -> float32, int32/int64 -> float64.
    return dt.float32 if d in (dt.int8, dt.int16, dt.uint8) else dt.float64


def truediv(x, y, name=None):
    """Returns ``x / y``; integer inputs are converted to float first, as in TF."""
    x, y = pair(x, y, "truediv")
    if x.dtype in _INTS:
        fd = _true_div_dtype(x.dtype)
        x, y = cast(x, fd), cast(y, fd)
    elif x.dtype.is_bool:
        raise TypeError("truediv: bool tensors cannot be divided; cast them to a float dtype first")
    return divide_p(x, y)


def divide(x, y, name=None):
    """Returns ``x / y`` (``tf.math.divide``, the same as ``truediv``)."""
    return truediv(x, y)


def floordiv(x, y, name=None):
    """Returns ``floor(x / y)`` elementwise (``x // y``)."""
    x, y = pair(x, y, "floordiv")
    return floordiv_p(x, y)


def floormod(x, y, name=None):
    """Returns the remainder of floor division, with the sign of ``y`` (``x % y``)."""
    x, y = pair(x, y, "floormod")
    return floormod_p(x, y)


def pow(x, y, name=None):
    """Returns ``x ** y`` elementwise."""
    x, y = pair(x, y, "pow")
    return pow_p(x, y)


def maximum(x, y, name=None):
    """Elementwise maximum (the gradient goes to ``x`` where ``x >= y``)."""
    x, y = pair(x, y, "maximum")
    return maximum_p(x, y)


def minimum(x, y, name=None):
    """Elementwise minimum (the gradient goes to ``x`` where ``x <= y``)."""
    x, y = pair(x, y, "minimum")
    return minimum_p(x, y)


def squared_difference(x, y, name=None):
    """Returns ``(x - y) ** 2`` elementwise."""
    d = subtract(x, y)
    return multiply(d, d)


def add_n(inputs, name=None):
    """Sums a list of same-shaped, same-dtype tensors."""
    inputs = list(inputs)
    if not inputs:
        raise ValueError("add_n: needs at least one tensor")
    total = t(inputs[0])
    for x in inputs[1:]:
        total = add(total, x)
    return total


def clip_by_value(t_, clip_value_min, clip_value_max, name=None):
    """Clips values to ``[clip_value_min, clip_value_max]`` (gradient 1 inside, 0 outside)."""
    return minimum(maximum(t_, clip_value_min), clip_value_max)


# ----------------------------------------------------------------- comparisons and logic
def _cmp_rule(name):
    def rule(x, y):
        check_same_dtype(name, x, y)
        return TensorSpec(broadcast_shapes(name, x.shape, y.shape), dt.bool_)
    return rule


def _logic_rule(name):
    def rule(*specs):
        for s in specs:
            require_dtypes(name, s, {dt.bool_})
        return TensorSpec(broadcast_shapes(name, *[s.shape for s in specs]), dt.bool_)
    return rule


equal_p = primitive("equal", _cmp_rule("equal"))
not_equal_p = primitive("not_equal", _cmp_rule("not_equal"))
less_p = primitive("less", _cmp_rule("less"))
less_equal_p = primitive("less_equal", _cmp_rule("less_equal"))
greater_p = primitive("greater", _cmp_rule("greater"))
greater_equal_p = primitive("greater_equal", _cmp_rule("greater_equal"))
logical_and_p = primitive("logical_and", _logic_rule("logical_and"))
logical_or_p = primitive("logical_or", _logic_rule("logical_or"))
logical_xor_p = primitive("logical_xor", _logic_rule("logical_xor"))
logical_not_p = primitive("logical_not", _logic_rule("logical_not"))
bitwise_invert_p = primitive("bitwise_invert", lambda x: (require_dtypes("invert", x, _INTS), x)[1])
not_differentiable(equal_p, not_equal_p, less_p, less_equal_p, greater_p, greater_equal_p,
                   logical_and_p, logical_or_p, logical_xor_p, logical_not_p, bitwise_invert_p)


def equal(x, y, name=None):
    """Elementwise ``x == y`` as a bool tensor."""
    return equal_p(*pair(x, y, "equal"))


def not_equal(x, y, name=None):
    """Elementwise ``x != y`` as a bool tensor."""
    return not_equal_p(*pair(x, y, "not_equal"))


def less(x, y, name=None):
    """Elementwise ``x < y`` as a bool tensor."""
    return less_p(*pair(x, y, "less"))


def less_equal(x, y, name=None):
    """Elementwise ``x <= y`` as a bool tensor."""
    return less_equal_p(*pair(x, y, "less_equal"))


def greater(x, y, name=None):
    """Elementwise ``x > y`` as a bool tensor."""
    return greater_p(*pair(x, y, "greater"))


def greater_equal(x, y, name=None):
    """Elementwise ``x >= y`` as a bool tensor."""
    return greater_equal_p(*pair(x, y, "greater_equal"))


def logical_and(x, y, name=None):
    """Elementwise logical AND of bool tensors."""
    return logical_and_p(*pair(x, y, "logical_and"))


def logical_or(x, y, name=None):
    """Elementwise logical OR of bool tensors."""
    return logical_or_p(*pair(x, y, "logical_or"))


def logical_xor(x, y, name=None):
    """Elementwise logical XOR of bool tensors."""
    return logical_xor_p(*pair(x, y, "logical_xor"))


def logical_not(x, name=None):
    """Elementwise logical NOT of a bool tensor."""
    return logical_not_p(t(x))


def bitwise_invert(x, name=None):
    """Bitwise NOT of an integer tensor (``~x``)."""
    return bitwise_invert_p(t(x))


# ----------------------------------------------------------------- unary
def _numeric_rule(name):
    def rule(x):
        require_dtypes(name, x, _NUMERIC)
        return TensorSpec(x.shape, x.dtype)
    return rule


negative_p = primitive("negative", _numeric_rule("negative"))
abs_p = primitive("abs", _numeric_rule("abs"))
sign_p = primitive("sign", _numeric_rule("sign"))
square_p = primitive("square", _numeric_rule("square"))
round_p = primitive("round", _numeric_rule("round"))
floor_p = primitive("floor", float_rule("floor"))
ceil_p = primitive("ceil", float_rule("ceil"))
_FLOAT_UNARY = ["sqrt", "rsqrt", "reciprocal", "exp", "expm1", "log", "log1p", "sin", "cos", "tan",
                "tanh", "sigmoid", "erf", "asin", "acos", "atan", "sinh", "cosh", "softplus"]
_P = {name: primitive(name, float_rule(name)) for name in _FLOAT_UNARY}
sqrt_p, rsqrt_p, reciprocal_p, exp_p, expm1_p, log_p, log1p_p = (
    _P[n] for n in ("sqrt", "rsqrt", "reciprocal", "exp", "expm1", "log", "log1p"))
sin_p, cos_p, tan_p, tanh_p, sigmoid_p, erf_p = (_P[n] for n in ("sin", "cos", "tan", "tanh", "sigmoid", "erf"))
asin_p, acos_p, atan_p, sinh_p, cosh_p, softplus_p = (
    _P[n] for n in ("asin", "acos", "atan", "sinh", "cosh", "softplus"))
not_differentiable(round_p, floor_p, ceil_p)

_TWO_OVER_SQRT_PI = 2.0 / _math.sqrt(_math.pi)
_UNARY_GRADS = {
    negative_p: lambda g, y, x: negative(g),
    abs_p: lambda g, y, x: multiply(g, sign(x)),
    sign_p: lambda g, y, x: multiply(g, 0),
    square_p: lambda g, y, x: multiply(g, multiply(x, 2)),
    sqrt_p: lambda g, y, x: divide(g, multiply(y, 2)),
    rsqrt_p: lambda g, y, x: multiply(g, multiply(multiply(y, multiply(y, y)), -0.5)),
    reciprocal_p: lambda g, y, x: negative(multiply(g, multiply(y, y))),
    exp_p: lambda g, y, x: multiply(g, y),
    expm1_p: lambda g, y, x: multiply(g, add(y, 1)),
    log_p: lambda g, y, x: divide(g, x),
    log1p_p: lambda g, y, x: divide(g, add(x, 1)),
    sin_p: lambda g, y, x: multiply(g, cos(x)),
    cos_p: lambda g, y, x: negative(multiply(g, sin(x))),
    tan_p: lambda g, y, x: multiply(g, add(multiply(y, y), 1)),
    tanh_p: lambda g, y, x: multiply(g, subtract(1, multiply(y, y))),
    sigmoid_p: lambda g, y, x: multiply(g, multiply(y, subtract(1, y))),
    erf_p: lambda g, y, x: multiply(g, multiply(exp(negative(multiply(x, x))), _TWO_OVER_SQRT_PI)),
    asin_p: lambda g, y, x: multiply(g, rsqrt(subtract(1, multiply(x, x)))),
    acos_p: lambda g, y, x: negative(multiply(g, rsqrt(subtract(1, multiply(x, x))))),
    atan_p: lambda g, y, x: divide(g, add(multiply(x, x), 1)),
    sinh_p: lambda g, y, x: multiply(g, cosh(x)),
    cosh_p: lambda g, y, x: multiply(g, sinh(x)),
    softplus_p: lambda g, y, x: multiply(g, sigmoid(x)),
}
for _p, _rule in _UNARY_GRADS.items():
    defgrad(_p)(_rule)


def negative(x, name=None):
    """Returns ``-x`` elementwise."""
    return negative_p(t(x))


def abs(x, name=None):
    """Returns ``|x|`` elementwise."""
    return abs_p(t(x))


def sign(x, name=None):
    """Returns -1, 0 or 1 by the sign of each element."""
    return sign_p(t(x))


def square(x, name=None):
    """Returns ``x * x`` elementwise."""
    return square_p(t(x))


def round(x, name=None):
    """Rounds half to even, elementwise (``tf.math.round``)."""
    return round_p(t(x))


def floor(x, name=None):
    """Largest integer not greater than ``x``, elementwise."""
    return floor_p(tf(x, "floor"))


def ceil(x, name=None):
    """Smallest integer not less than ``x``, elementwise."""
    return ceil_p(tf(x, "ceil"))


def _float_unary(prim, doc):
    name = prim.name

    def op(x, name=None):
        return prim(tf(x, prim.name))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


sqrt = _float_unary(sqrt_p, "Returns the square root of ``x`` elementwise.")
rsqrt = _float_unary(rsqrt_p, "Returns ``1 / sqrt(x)`` elementwise.")
reciprocal = _float_unary(reciprocal_p, "Returns ``1 / x`` elementwise.")
exp = _float_unary(exp_p, "Returns ``e ** x`` elementwise.")
expm1 = _float_unary(expm1_p, "Returns ``exp(x) - 1`` elementwise, accurate near 0.")
log = _float_unary(log_p, "Returns the natural logarithm of ``x`` elementwise.")
log1p = _float_unary(log1p_p, "Returns ``log(1 + x)`` elementwise, accurate near 0.")
sin = _float_unary(sin_p, "Returns the sine of ``x`` elementwise.")
cos = _float_unary(cos_p, "Returns the cosine of ``x`` elementwise.")
tan = _float_unary(tan_p, "Returns the tangent of ``x`` elementwise.")
tanh = _float_unary(tanh_p, "Returns the hyperbolic tangent of ``x`` elementwise.")
sigmoid = _float_unary(sigmoid_p, "Returns ``1 / (1 + exp(-x))`` elementwise.")
erf = _float_unary(erf_p, "Returns the Gauss error function of ``x`` elementwise.")
asin = _float_unary(asin_p, "Returns the arcsine of ``x`` elementwise.")
acos = _float_unary(acos_p, "Returns the arccosine of ``x`` elementwise.")
atan = _float_unary(atan_p, "Returns the arctangent of ``x`` elementwise.")
sinh = _float_unary(sinh_p, "Returns the hyperbolic sine of ``x`` elementwise.")
cosh = _float_unary(cosh_p, "Returns the hyperbolic cosine of ``x`` elementwise.")
softplus = _float_unary(softplus_p, "Returns ``log(exp(x) + 1)`` elementwise, computed stably.")


# ----------------------------------------------------------------- cast and where
def _cast_rule(x, dtype):
    return TensorSpec(x.shape, dtype)


cast_p = primitive("cast", _cast_rule)


@defgrad(cast_p)
def _cast_grad(g, out, x, dtype):
    if x.dtype in FLOATS and dtype in FLOATS:
        return cast(g, x.dtype)
    return None


def cast(x, dtype, name=None):
    """Converts ``x`` to ``dtype`` (floats to ints truncate toward zero, as in TF).

    Example:
      >>> tl.cast(tl.constant([1.7, -1.7]), tl.int32).numpy()
      array([ 1, -1], dtype=int32)
    """
    x = t(x)
    d = dt.as_dtype(dtype)
    if x.dtype == d:
        return x
    return cast_p(x, dtype=d)


def _where_rule(c, x, y):
    if c.dtype != dt.bool_:
        raise TypeError(f"where: condition must be a bool tensor, got dtype {c.dtype.name}")
    d = check_same_dtype("where", x, y)
    return TensorSpec(broadcast_shapes("where", c.shape, x.shape, y.shape), d)


where_p = primitive("where", _where_rule)
where_indices_p = primitive("where_indices", lambda c: TensorSpec((None, len(c.shape)), dt.int64))
not_differentiable(where_indices_p)


@defgrad(where_p)
def _where_grad(g, out, c, x, y):
    z = zeros_like_(g)
    return None, where(c, g, z), where(c, z, g)


def where(condition, x=None, y=None, name=None):
    """Picks elements from ``x`` where ``condition`` is true, else from ``y``.

    With only ``condition``, returns the int64 coordinates of its true
    elements, shape ``[num_true, rank]`` (TF's ``tf.where(cond)``).
    """
    c = t(condition)
    if x is None and y is None:
        if c.dtype != dt.bool_:
            c = not_equal(c, 0)
        return where_indices_p(c)
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither")
    x, y = pair(x, y, "where")
    return where_p(c, x, y)


# ----------------------------------------------------------------- NaN/Inf tests and norm clipping
def _float_in(x, name):
    x = t(x)
    require_float(name, x)
    return x


def is_nan(x, name=None):
    """True where ``x`` is NaN, elementwise (``tf.math.is_nan``).

    Args:
      x: a floating-point tensor.

    Returns:
      A bool tensor of ``x``'s shape.

    Example:
      >>> tl.math.is_nan(tl.constant([1., float("nan"), float("inf")])).numpy()
      array([False,  True, False])
    """
    x = _float_in(x, "is_nan")
    return not_equal(x, x)


def is_inf(x, name=None):
    """True where ``x`` is +inf or -inf, elementwise (``tf.math.is_inf``).

    Example:
      >>> tl.math.is_inf(tl.constant([1., float("nan"), -float("inf")])).numpy()
      array([False, False,  True])
    """
    x = _float_in(x, "is_inf")
    return equal(abs(x), _math.inf)


def is_finite(x, name=None):
    """True where ``x`` is neither NaN nor infinite, elementwise (``tf.math.is_finite``).

    Example:
      >>> tl.math.is_finite(tl.constant([1., float("nan"), float("inf")])).numpy()
      array([ True, False, False])
    """
    x = _float_in(x, "is_finite")
    return less(abs(x), _math.inf)


def check_numerics(tensor, message, name=None):
    """Returns ``tensor`` if it has no NaN or Inf, else raises (``tf.debugging.check_numerics``).

    Args:
      tensor: a floating-point tensor.
      message: text that starts the error message.

    Returns:
      ``tensor`` itself (gradients flow through unchanged).

    Raises:
      InvalidArgumentError: naming ``message`` and whether NaN, Inf or both were found.

    Example:
      >>> tl.debugging.check_numerics(tl.constant([1., 2.]), "weights").numpy()
      array([1., 2.], dtype=float32)
    """
    return _check_numerics(_float_in(tensor, "check_numerics"), message=str(message))


@composite("check_numerics", lambda x, message: TensorSpec(x.shape, x.dtype))
def _check_numerics(x, message):
    # Reads the data back: on Functional-API tensors this runs as a composite, checking each time a model runs.
    from tensorlab.ops.reduction import reduce_any
    nan, inf = bool(reduce_any(is_nan(x))), bool(reduce_any(is_inf(x)))
    if nan or inf:
        found = "Inf and NaN" if nan and inf else ("NaN" if nan else "Inf")
        raise InvalidArgumentError(f"{message} : Tensor had {found} values (check_numerics on a tensor of shape "
                                   f"{fmt(x.shape)}, dtype {x.dtype.name})")
    return x


def _clip_norm_arg(name, clip_norm, like):
    c = as_operand(clip_norm, like)
    if c.shape != ():
        raise InvalidArgumentError(f"{name}: clip_norm must be a scalar, got shape {fmt(c.shape)}")
    check_same_dtype(name, like, c)
    return c


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """Rescales ``t`` so that its L2 norm over ``axes`` is at most ``clip_norm`` (``tf.clip_by_norm``).

    Computes ``t * clip_norm / max(l2norm(t, axes), clip_norm)``: slices whose
    norm is already at most ``clip_norm`` are unchanged. An all-zero slice stays
    zero, with a finite gradient.

    Args:
      t: a floating-point tensor.
      clip_norm: a positive scalar.
      axes: the dimensions to take the norm over (default: all of them).

    Returns:
      A tensor of ``t``'s shape and dtype.

    Example:
      >>> tl.clip_by_norm(tl.constant([3., 4.]), 1.0).numpy()
      array([0.6, 0.8], dtype=float32)
    """
    from tensorlab.ops.reduction import reduce_sum
    x = _float_in(t, "clip_by_norm")
    c = _clip_norm_arg("clip_by_norm", clip_norm, x)
    l2sum = reduce_sum(multiply(x, x), axes, keepdims=True)
    nonzero = greater(l2sum, 0)
    l2norm = where(nonzero, sqrt(where(nonzero, l2sum, 1)), l2sum)
    return divide(multiply(x, c), maximum(l2norm, c))


def clip_by_global_norm(t_list, clip_norm, use_norm=None, name=None):
    """Scales a list of tensors so that their global norm is at most ``clip_norm`` (``tf.clip_by_global_norm``).

    Each tensor becomes ``t * clip_norm / max(global_norm, clip_norm)``, where
    ``global_norm = sqrt(sum of all squared entries)`` (``tl.linalg.global_norm``).
    A NaN or infinite global norm makes every output NaN, as in TF.

    Args:
      t_list: a list or tuple of tensors; None entries are passed through.
      clip_norm: a positive scalar.
      use_norm: the global norm to use, if already computed.

    Returns:
      ``(list_clipped, global_norm)``: the scaled tensors (a list, None where
      ``t_list`` had None) and the global norm that was used.

    Example:
      >>> clipped, norm = tl.clip_by_global_norm([tl.constant([3.]), tl.constant([4.])], 1.0)
      >>> norm.numpy(), clipped[1].numpy()
      (5.0, array([0.8], dtype=float32))
    """
    from tensorlab.ops.linalg import global_norm
    if not isinstance(t_list, (list, tuple)):
        raise TypeError(f"clip_by_global_norm: t_list must be a list or tuple of tensors, got "
                        f"{type(t_list).__name__}")
    values = [None if v is None else t(v) for v in t_list]
    if all(v is None for v in values):
        raise ValueError("clip_by_global_norm: t_list has no tensors (every entry is None)")
    norm = global_norm(values) if use_norm is None else t(use_norm)
    c = _clip_norm_arg("clip_by_global_norm", clip_norm, norm)
    # min(1 / norm, 1 / c) * c is 1 for a small norm; adding norm - norm turns an inf/NaN norm into NaN.
    scale = add(multiply(c, minimum(reciprocal(norm), reciprocal(c))), subtract(norm, norm))
    return [None if v is None else multiply(v, cast(scale, v.dtype)) for v in values], norm


__all__ = [
    "add", "subtract", "multiply", "divide", "truediv", "floordiv", "floormod", "pow", "maximum",
    "minimum", "squared_difference", "add_n", "clip_by_value", "equal", "not_equal", "less", "less_equal",
    "greater", "greater_equal", "logical_and", "logical_or", "logical_xor", "logical_not",
    "bitwise_invert", "negative", "abs", "sign", "square", "round", "floor", "ceil", "sqrt", "rsqrt",
    "reciprocal", "exp", "expm1", "log", "log1p", "sin", "cos", "tan", "tanh", "sigmoid", "erf",
    "asin", "acos", "atan", "sinh", "cosh", "cast", "where", "clip_by_norm", "clip_by_global_norm",
]
MATH = [n for n in __all__ if n not in ("clip_by_norm", "clip_by_global_norm")] + [
    "softplus", "is_nan", "is_inf", "is_finite"]
DEBUGGING = ["check_numerics"]
NN = ["sigmoid", "tanh", "softplus"]
