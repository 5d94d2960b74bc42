"""Bitwise ops on integer tensors (``tf.bitwise``) and ``tf.bitcast``.

None of them is differentiable: their inputs and outputs are integers, or (bitcast) the
same bits read as another type.
"""
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import not_differentiable, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import broadcast_shapes, check_same_dtype, fmt, pair, require_dtypes, t
from tensorlab.ops.elementwise import bitwise_invert

_INTS = frozenset({dt.int8, dt.int16, dt.int32, dt.int64, dt.uint8})
_INTS_BOOL = _INTS | {dt.bool_}
# bool is left out of bitcast: a byte other than 0 or 1 is no valid bool.
_BITCASTABLE = frozenset(d for d in dt.ALL if d._np is not None and d is not dt.bool_)


def _binary_rule(name, allowed):
    def rule(x, y):
        d = check_same_dtype(name, x, y)
        require_dtypes(name, x, allowed)
        return TensorSpec(broadcast_shapes(name, x.shape, y.shape), d)
    return rule


bitwise_and_p = primitive("bitwise_and", _binary_rule("bitwise_and", _INTS_BOOL))
bitwise_or_p = primitive("bitwise_or", _binary_rule("bitwise_or", _INTS_BOOL))
bitwise_xor_p = primitive("bitwise_xor", _binary_rule("bitwise_xor", _INTS_BOOL))
left_shift_p = primitive("left_shift", _binary_rule("left_shift", _INTS))
right_shift_p = primitive("right_shift", _binary_rule("right_shift", _INTS))


def _bitcast_rule(x, dtype):
    require_dtypes("bitcast", x, _BITCASTABLE)
    require_dtypes("bitcast", TensorSpec((), dtype), _BITCASTABLE)
    a, b = x.dtype.size, dtype.size
    if a == b:
        return TensorSpec(x.shape, dtype)
    if a > b:
        return TensorSpec(tuple(x.shape) + (a // b,), dtype)
    if not x.shape or x.shape[-1] not in (None, b // a):
        raise InvalidArgumentError(
            f"bitcast: casting {x.dtype.name} (shape {fmt(x.shape)}) to the wider {dtype.name} needs a last "
            f"dimension of {b // a} ({dtype.size} bytes / {x.dtype.size} bytes)")
    return TensorSpec(tuple(x.shape[:-1]), dtype)


bitcast_p = primitive("bitcast", _bitcast_rule)
not_differentiable(bitwise_and_p, bitwise_or_p, bitwise_xor_p, left_shift_p, right_shift_p, bitcast_p)


def _checked(prim, *args, **params):
    prim.shape_rule(*args, **params)  # eagerly too: numpy would fail on floats with a less clear message
    return prim(*args, **params)


def bitwise_and(x, y, name=None):
    """Elementwise ``x & y`` of integer (or bool) tensors, with broadcasting (``tf.bitwise.bitwise_and``).

    Example:
      >>> tl.bitwise.bitwise_and(tl.constant([12, 10]), tl.constant([10, 6])).numpy()
      array([8, 2], dtype=int32)
    """
    return _checked(bitwise_and_p, *pair(x, y, "bitwise_and"))


def bitwise_or(x, y, name=None):
    """Elementwise ``x | y`` of integer (or bool) tensors (``tf.bitwise.bitwise_or``)."""
    return _checked(bitwise_or_p, *pair(x, y, "bitwise_or"))


def bitwise_xor(x, y, name=None):
    """Elementwise ``x ^ y`` of integer (or bool) tensors (``tf.bitwise.bitwise_xor``)."""
    return _checked(bitwise_xor_p, *pair(x, y, "bitwise_xor"))


def left_shift(x, y, name=None):
    """Elementwise ``x << y`` of integer tensors (``tf.bitwise.left_shift``).

    A shift by a negative count or by the bit width or more gives 0 on every device (as numpy does),
    where C leaves it undefined.

    Example:
      >>> tl.bitwise.left_shift(tl.constant([1, 3]), tl.constant([4, 1])).numpy()
      array([16,  6], dtype=int32)
    """
    return _checked(left_shift_p, *pair(x, y, "left_shift"))


def right_shift(x, y, name=None):
    """Elementwise ``x >> y`` of integer tensors, arithmetic (sign-filling) for signed ones
    (``tf.bitwise.right_shift``). A shift by a negative count or by the bit width or more gives
    0, or -1 for a negative ``x``, on every device."""
    return _checked(right_shift_p, *pair(x, y, "right_shift"))


def invert(x, name=None):
    """Bitwise NOT of an integer tensor (``tf.bitwise.invert``, the same as ``tl.bitwise_invert``)."""
    return bitwise_invert(x)


def bitcast(input, type, name=None):
    """Reads the bits of ``input`` as dtype ``type`` without changing them (``tf.bitcast``).

    Same-size types keep the shape. A narrower ``type`` adds a last dimension of
    ``input.dtype.size // type.size``; a wider one needs a last dimension of
    ``type.size // input.dtype.size`` and removes it.

    Example:
      >>> tl.bitcast(tl.constant([1.0]), tl.int32).numpy()
      array([1065353216], dtype=int32)
    """
    return _checked(bitcast_p, t(input), dtype=dt.as_dtype(type))


__all__ = ["bitcast"]
BITWISE = ["bitwise_and", "bitwise_or", "bitwise_xor", "left_shift", "right_shift", "invert"]
