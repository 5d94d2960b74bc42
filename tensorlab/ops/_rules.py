"""Shape/dtype rules shared by primitives, and argument helpers for op wrappers.

Rules take ``TensorSpec``s (dims may be ``None`` = unknown) and return specs;
they raise ``InvalidArgumentError``/``TypeError`` with messages that name the
op, the shapes and dtypes, and what would be valid.
"""
from tensorlab.core import dtypes as dt
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import (SymbolicTensor, Tensor, Variable, as_operand,
                                   convert_to_tensor)
from tensorlab.errors import InvalidArgumentError

FLOATS = frozenset(d for d in (dt.float16, dt.bfloat16, dt.float32, dt.float64) if d._np is not None)
_FLOAT_NP = frozenset(d._np for d in FLOATS)


def fmt(shape):
    return "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"


def broadcast_shapes(name, *shapes):
    """Numpy broadcasting of shapes with unknown (None) dims."""
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        dim = 1
        known = True
        for s in shapes:
            j = i - (ndim - len(s))
            if j < 0:
                continue
            d = s[j]
            if d is None:
                known = False if dim == 1 else known
                continue
            if d == 1:
                continue
            if dim != 1 and dim != d:
                raise InvalidArgumentError(
                    f"{name}: Incompatible shapes: " + " vs. ".join(fmt(s) for s in shapes)
                    + " (dimensions must be equal or 1 to broadcast)")
            dim = d
        out.append(dim if (known or dim != 1) else None)
    return tuple(out)


def check_same_dtype(name, *specs):
    d0 = specs[0].dtype
    for i, s in enumerate(specs[1:], 1):
        if s.dtype != d0:
            raise TypeError(f"{name}: input #{i} has dtype {s.dtype.name} but input #0 has dtype {d0.name}; "
                            "tensorlab (like TF) does not promote dtypes: use tl.cast to convert one input")
    return d0


def same_rule(name):
    def rule(x, **params):
        return TensorSpec(x.shape, x.dtype)
    return rule


def float_rule(name):
    def rule(x, **params):
        require_float(name, x)
        return TensorSpec(x.shape, x.dtype)
    return rule


def broadcast_rule(name, out_dtype=None):
    def rule(*specs, **params):
        d = check_same_dtype(name, *specs)
        return TensorSpec(broadcast_shapes(name, *[s.shape for s in specs]), out_dtype or d)
    return rule


def require_float(name, spec):
    if spec.dtype not in FLOATS:
        raise TypeError(f"{name}: expected a floating-point tensor (float16, bfloat16, float32, float64), "
                        f"got dtype {spec.dtype.name}; use tl.cast(x, tl.float32) first")


def require_like(name, what, spec, like, like_what):
    """Raises InvalidArgumentError unless ``spec`` has ``like``'s shape and dtype (for an op's
    inputs that must mirror another one: a gradient, an optimizer slot, ``dy``)."""
    if tuple(spec.shape) != tuple(like.shape) or spec.dtype != like.dtype:
        raise InvalidArgumentError(
            f"{name}: {what} must match {like_what} (shape {fmt(like.shape)}, dtype {like.dtype.name}); "
            f"got shape {fmt(spec.shape)}, dtype {spec.dtype.name}")


def require_dtypes(name, spec, allowed):
    if spec.dtype not in allowed:
        raise TypeError(f"{name}: dtype {spec.dtype.name} is not supported; valid dtypes: "
                        + ", ".join(sorted(d.name for d in allowed)))


def norm_axis(name, axis, ndim):
    """A non-negative axis, or an InvalidArgumentError naming the valid range."""
    try:
        a = int(axis)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name}: axis must be an integer, got {axis!r}") from None
    if not -ndim <= a < max(ndim, 1) or (ndim == 0 and a not in (0, -1)):
        raise InvalidArgumentError(
            f"{name}: axis {a} is out of range for a tensor of rank {ndim} (valid: {-ndim}..{ndim - 1})")
    return a % ndim if ndim else 0


def norm_axes(name, axis, ndim):
    """Sorted tuple of non-negative axes for ``axis`` = None/int/sequence."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (Tensor, Variable)):
        axis = axis.numpy().tolist()
    if isinstance(axis, (list, tuple)):
        axes = tuple(sorted({norm_axis(name, a, ndim) for a in axis}))
        if len(axes) != len(axis):
            raise InvalidArgumentError(f"{name}: axis {list(axis)} repeats an axis")
        return axes
    return (norm_axis(name, axis, ndim),)


def t(x):
    """Converts an op argument to a Tensor (fast for tensors)."""
    if type(x) is Tensor:
        return x
    if isinstance(x, Variable):
        return x._read()
    if isinstance(x, SymbolicTensor):
        return x
    return convert_to_tensor(x)


def tf(x, name):
    """Converts an op argument and checks it is floating point."""
    x = t(x)
    if type(x) is Tensor:
        if x._data.dtype not in _FLOAT_NP:
            require_float(name, x)
    else:
        require_float(name, x)
    return x


def pair(x, y, name):
    """Two op arguments as tensors of one dtype (TF's promotion rules)."""
    tx, ty = type(x), type(y)
    if tx is Tensor and ty is Tensor:
        if x._data.dtype is not y._data.dtype and x._data.dtype != y._data.dtype:
            check_same_dtype(name, x, y)
        return x, y
    if isinstance(x, Variable):
        x = x._read()
    if isinstance(y, Variable):
        y = y._read()
    xt = isinstance(x, (Tensor, SymbolicTensor))
    yt = isinstance(y, (Tensor, SymbolicTensor))
    if xt and yt:
        check_same_dtype(name, x, y)
        return x, y
    if xt:
        return x, as_operand(y, x)
    if yt:
        return as_operand(x, y), y
    x = convert_to_tensor(x)
    return x, as_operand(y, x)
