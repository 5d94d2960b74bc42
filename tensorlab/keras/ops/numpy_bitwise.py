"""Integer NumPy-style ops (``keras.ops.numpy``): bitwise logic and shifts, gcd/lcm, and ``view``
(the same bits read as another dtype).

    from tensorlab.keras import ops
    ops.bitwise_and(x, 0xFF)
    ops.right_shift(x, 4)

They take integer tensors (and/or/xor/invert also bool ones) and are not differentiable.
"""
import tensorlab as tl
from tensorlab.keras.ops import _numpy_helpers as H
from tensorlab.keras.ops import numpy as knp

__all__ = [
    "bitwise_and", "bitwise_invert", "bitwise_left_shift", "bitwise_not", "bitwise_or", "bitwise_right_shift",
    "bitwise_xor", "gcd", "lcm", "left_shift", "right_shift", "view",
]


def _bitwise(name, tl_fn):
    def f(x, y):
        return tl_fn(*H.promote_int(name, x, y, allow_bool=True))
    f.__name__ = name
    f.__doc__ = f"Elementwise bitwise {name[8:].upper()} of integer (or bool) tensors, with broadcasting."
    return f


bitwise_and = _bitwise("bitwise_and", tl.bitwise.bitwise_and)
bitwise_or = _bitwise("bitwise_or", tl.bitwise.bitwise_or)
bitwise_xor = _bitwise("bitwise_xor", tl.bitwise.bitwise_xor)


def bitwise_invert(x):
    """Bitwise NOT of an integer tensor (logical NOT of a bool one)."""
    (x,) = H.promote_int("bitwise_invert", x, allow_bool=True)
    return tl.logical_not(x) if x.dtype.name == "bool" else tl.bitwise.invert(x)


def bitwise_not(x):
    """Bitwise NOT (the same as ``bitwise_invert``)."""
    return bitwise_invert(x)


def left_shift(x, y):
    """Shifts the bits of integer ``x`` left by ``y``; counts outside ``[0, bits)`` give 0."""
    return tl.bitwise.left_shift(*H.promote_int("left_shift", x, y))


def right_shift(x, y):
    """Shifts the bits of integer ``x`` right by ``y``, filling with the sign bit."""
    return tl.bitwise.right_shift(*H.promote_int("right_shift", x, y))


def bitwise_left_shift(x, y):
    """The same as ``left_shift``."""
    return left_shift(x, y)


def bitwise_right_shift(x, y):
    """The same as ``right_shift``."""
    return right_shift(x, y)


def gcd(x1, x2):
    """Greatest common divisor of ``|x1|`` and ``|x2|``, elementwise (``gcd(0, 0) == 0``)."""
    return tl.math.gcd(*H.promote_int("gcd", x1, x2))


def lcm(x1, x2):
    """Least common multiple of ``|x1|`` and ``|x2|``, elementwise (0 if either is 0)."""
    a, b = H.promote_int("lcm", x1, x2)
    g = tl.math.gcd(a, b)
    zero = tl.equal(g, 0)
    q = tl.floordiv(a, tl.where(zero, tl.ones_like(g), g))  # exact: g divides a
    return tl.where(zero, tl.zeros_like(g), tl.abs(q * b))


def view(x, dtype=None):
    """The bits of ``x`` read as ``dtype``, as numpy's ``x.view(dtype)``.

    A narrower ``dtype`` multiplies the last dimension by the size ratio, a wider one divides it
    (it must divide evenly). ``bool`` views are allowed to and from 1-byte integer types.
    """
    x = knp._t(x)
    new = x.dtype if dtype is None else knp._dt(dtype)
    old_size, new_size = x.dtype.size, new.size
    if new == x.dtype:
        return tl.identity(x)
    shape = list(x.shape)
    if old_size != new_size:
        if not shape:
            raise ValueError(f"ops.view: a scalar of dtype {x.dtype.name} ({old_size} bytes) can only be viewed as a "
                             f"dtype of the same size, got {new.name} ({new_size} bytes)")
        if shape[-1] is not None and shape[-1] * old_size % new_size:
            raise ValueError(f"ops.view: cannot view a tensor of shape {tuple(shape)} and dtype {x.dtype.name} as "
                             f"{new.name}: the last dimension's {shape[-1] * old_size} bytes do not divide into "
                             f"items of {new_size} bytes")
    if x.dtype.name == "bool":
        return view(tl.cast(x, "uint8"), new)  # a bool's byte is 0 or 1
    if new.name == "bool":
        return tl.not_equal(view(x, "uint8"), 0)
    if old_size == new_size:
        return tl.bitcast(x, new)
    last = None if shape[-1] is None else shape[-1] * old_size // new_size
    if old_size > new_size:
        return H.reshape("view", tl.bitcast(x, new), shape[:-1] + [last])
    return tl.bitcast(H.reshape("view", x, shape[:-1] + [last, new_size // old_size]), new)


H.on_input_device(globals(), __all__)
