"""NumPy-style ops (``keras.ops.numpy``), as thin wrappers over tensorlab ops.

    from tensorlab.keras import ops
    ops.mean(x, axis=-1, keepdims=True)
    ops.take(x, [0, 2], axis=1)

Unlike ``tl.*`` (TF semantics: no implicit promotion), these follow Keras 3:
mixed dtypes are promoted (bool < int < float; the wider type wins), Python
numbers are weakly typed (they take the tensor's dtype unless a float meets an
integer tensor, which gives ``floatx``), ``axis=None`` means all axes, and
ops that are floating by nature (``mean``, ``sqrt``, ``divide``, ...) return
``floatx`` for integer input. Everything also runs on symbolic ``keras.Input``
tensors where the underlying tensorlab op does.
"""
import builtins
import math as _pymath

import tensorlab as tl
from tensorlab.core.dtypes import DType
from tensorlab.ops.indexing import take_along_axis as _take_along_axis

__all__ = [
    "abs", "absolute", "add", "all", "amax", "amin", "any", "append", "arange", "arccos", "arcsin", "arctan",
    "argmax", "argmin", "argsort", "array", "broadcast_to", "ceil", "clip", "concatenate", "cos", "cosh",
    "count_nonzero", "cumprod", "cumsum", "diag", "diff", "divide", "divide_no_nan", "dot", "einsum", "equal",
    "exp", "expand_dims", "expm1", "eye", "flip", "floor", "floor_divide", "full", "full_like", "get_item",
    "greater", "greater_equal", "hstack", "identity", "isclose", "isfinite", "isinf", "isnan", "less",
    "less_equal", "linspace", "log", "log10", "log1p", "log2", "logaddexp", "logical_and", "logical_not",
    "logical_or", "logical_xor", "matmul", "max", "maximum", "mean", "meshgrid", "min", "minimum", "mod",
    "moveaxis", "multiply", "ndim", "negative", "nonzero", "not_equal", "ones", "ones_like", "outer", "pad",
    "power", "prod", "ravel", "reciprocal", "repeat", "reshape", "roll", "round", "searchsorted", "sign", "sin",
    "sinh", "size", "sort", "split", "sqrt", "square", "squeeze", "stack", "std", "subtract", "sum", "swapaxes",
    "take", "take_along_axis", "tan", "tanh", "tensordot", "tile", "trace", "transpose", "tri", "tril", "triu",
    "true_divide", "trunc", "var", "vstack", "where", "zeros", "zeros_like",
]

_FLOATS = {"float16": 1, "bfloat16": 1, "float32": 2, "float64": 3}
_INTS = {"uint8": (8, False), "int8": (8, True), "int16": (16, True), "int32": (32, True), "int64": (64, True)}
_PY_SCALARS = (bool, int, float)


def _floatx():
    from tensorlab.keras import backend
    return backend.floatx()


def _dt(dtype):
    """A dtype given as a string, numpy dtype or tl.DType, as a tl.DType (None stays None)."""
    if dtype is None or isinstance(dtype, DType):
        return dtype
    return tl.as_dtype(getattr(dtype, "name", dtype))


def _t(x, dtype=None):
    return tl.convert_to_tensor(x, dtype=_dt(dtype))


def _is_float(x):
    return x.dtype.name in _FLOATS


def _promote_pair(a, b):
    """Keras' dtype lattice for two dtype names: bool < ints < floats, the wider type wins."""
    if a == b:
        return a
    if a == "bool" or b == "bool":
        return b if a == "bool" else a
    if a in _FLOATS and b in _FLOATS:
        if "float64" in (a, b):
            return "float64"
        return "float32" if _FLOATS[a] + _FLOATS[b] > 2 or a != b else a
    if a in _FLOATS or b in _FLOATS:
        return a if a in _FLOATS else b
    (na, sa), (nb, sb) = _INTS[a], _INTS[b]
    if sa == sb:
        return a if na >= nb else b
    unsigned_bits, signed_bits = (na, nb) if not sa else (nb, na)
    if signed_bits > unsigned_bits:
        return b if sb else a
    return {8: "int16", 16: "int32", 32: "int64"}.get(unsigned_bits, "int64")


def _promote(*xs):
    """Converts ``xs`` to tensors of one common dtype, treating Python numbers as weakly typed."""
    strong = [x for x in xs if not isinstance(x, _PY_SCALARS)]
    if not strong:
        ts = [_t(x) for x in xs]
    else:
        ts = [_t(x) for x in strong]
    name = ts[0].dtype.name
    for t in ts[1:]:
        name = _promote_pair(name, t.dtype.name)
    if strong:
        weak = [x for x in xs if isinstance(x, _PY_SCALARS)]
        if name not in _FLOATS and builtins.any(isinstance(w, float) for w in weak):
            name = _floatx()
        elif name == "bool" and builtins.any(not isinstance(w, bool) for w in weak):
            name = "int32"
    # Python numbers become tensors on the device of the tensors they meet (not the default one).
    dev = next((t.device for t in ts if isinstance(t, tl.Tensor)), None) if strong else None
    out = []
    for x in xs:
        if isinstance(x, _PY_SCALARS):
            if dev is None:
                t = _t(x, name)
            else:
                with tl.device(dev):
                    t = _t(x, name)
        else:
            t = _t(x)
        out.append(t if t.dtype.name == name else tl.cast(t, name))
    return out


def _to_float(x):
    x = _t(x)
    return x if _is_float(x) else tl.cast(x, _floatx())


def _sum_dtype(x):
    # Like Keras, small integer and bool sums accumulate in int32.
    return tl.cast(x, "int32") if x.dtype.name in ("bool", "int8", "int16", "uint8") else x


def _axes(axis):
    return list(axis) if isinstance(axis, (tuple, list)) else axis


def _norm_axis(axis, ndim, name):
    if not -ndim <= axis < ndim:
        raise ValueError(f"ops.{name}: axis {axis} is out of range for a tensor of rank {ndim}")
    return axis % ndim


# ---------------------------------------------------------------- elementwise, unary

def _unary(tl_fn, floating=True):
    def f(x):
        return tl_fn(_to_float(x) if floating else _t(x))
    return f


abs = _unary(tl.abs, floating=False)
absolute = abs
negative = _unary(tl.negative, floating=False)
square = _unary(tl.square, floating=False)
sign = _unary(tl.sign, floating=False)
sqrt = _unary(tl.sqrt)
exp = _unary(tl.exp)
expm1 = _unary(tl.expm1)
log = _unary(tl.log)
log1p = _unary(tl.log1p)
sin = _unary(tl.sin)
cos = _unary(tl.cos)
tan = _unary(tl.tan)
arcsin = _unary(tl.asin)
arccos = _unary(tl.acos)
arctan = _unary(tl.atan)
sinh = _unary(tl.sinh)
cosh = _unary(tl.cosh)
tanh = _unary(tl.tanh)
reciprocal = _unary(tl.reciprocal)
isnan = _unary(tl.math.is_nan)
isinf = _unary(tl.math.is_inf)
isfinite = _unary(tl.math.is_finite)


def _int_passthrough(tl_fn):
    def f(x):
        x = _t(x)
        return tl_fn(x) if _is_float(x) else x
    return f


floor = _int_passthrough(tl.floor)
ceil = _int_passthrough(tl.ceil)


def trunc(x):
    """Rounds towards zero, elementwise."""
    x = _t(x)
    return tl.sign(x) * tl.floor(tl.abs(x)) if _is_float(x) else x


def log2(x):
    x = _to_float(x)
    return tl.log(x) / tl.constant(_pymath.log(2.0), x.dtype)


def log10(x):
    x = _to_float(x)
    return tl.log(x) / tl.constant(_pymath.log(10.0), x.dtype)


def round(x, decimals=0):
    """Rounds half to even, like numpy; ``decimals`` may be negative."""
    x = _t(x)
    if not _is_float(x):
        if decimals >= 0:
            return x
        return tl.cast(round(tl.cast(x, _floatx()), decimals), x.dtype)
    if decimals == 0:
        return tl.round(x)
    scale = tl.cast(10.0 ** decimals, x.dtype)
    return tl.round(x * scale) / scale


def logical_not(x):
    return tl.logical_not(tl.cast(_t(x), "bool"))


# ---------------------------------------------------------------- elementwise, binary

def _binary(tl_fn, floating=False):
    def f(x1, x2):
        a, b = _promote(x1, x2)
        if floating and not _is_float(a):
            a, b = tl.cast(a, _floatx()), tl.cast(b, _floatx())
        return tl_fn(a, b)
    return f


add = _binary(tl.add)
subtract = _binary(tl.subtract)
multiply = _binary(tl.multiply)
divide = _binary(tl.divide, floating=True)
true_divide = divide
power = _binary(tl.pow)
maximum = _binary(tl.maximum)
minimum = _binary(tl.minimum)
mod = _binary(tl.floormod)
floor_divide = _binary(tl.floordiv)
equal = _binary(tl.equal)
not_equal = _binary(tl.not_equal)
greater = _binary(tl.greater)
greater_equal = _binary(tl.greater_equal)
less = _binary(tl.less)
less_equal = _binary(tl.less_equal)


def divide_no_nan(x1, x2):
    """``x1 / x2``, with 0 where ``x2`` is 0."""
    a, b = divide(x1, 1), _to_float(x2)
    a, b = _promote(a, b)
    safe = tl.where(tl.equal(b, 0), tl.ones_like(b), b)
    return tl.where(tl.equal(b, 0), tl.zeros_like(a), a / safe)


def logaddexp(x1, x2):
    """``log(exp(x1) + exp(x2))``, computed stably."""
    a, b = _promote(_to_float(x1), _to_float(x2))
    m = tl.maximum(a, b)
    return m + tl.log1p(tl.exp(-tl.abs(a - b)))


def _logical(tl_fn):
    def f(x1, x2):
        return tl_fn(tl.cast(_t(x1), "bool"), tl.cast(_t(x2), "bool"))
    return f


logical_and = _logical(tl.logical_and)
logical_or = _logical(tl.logical_or)
logical_xor = _logical(tl.logical_xor)


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Elementwise ``|x1 - x2| <= atol + rtol * |x2|``."""
    a, b = _promote(x1, x2)
    a, b = _to_float(a), _to_float(b)
    out = tl.less_equal(tl.abs(a - b), atol + rtol * tl.abs(b))
    if equal_nan:
        out = tl.logical_or(out, tl.logical_and(tl.math.is_nan(a), tl.math.is_nan(b)))
    return out


def clip(x, x_min, x_max):
    """Limits the values of ``x`` to ``[x_min, x_max]``."""
    x = _t(x)
    if x.dtype.name == "bool":
        x = tl.cast(x, "int32")
    x, lo, hi = _promote(x, x_min, x_max)
    return tl.minimum(tl.maximum(x, lo), hi)


def where(condition, x1=None, x2=None):
    """Picks ``x1`` where ``condition`` holds, else ``x2``; with neither, returns ``nonzero(condition)``."""
    if (x1 is None) != (x2 is None):
        raise ValueError("ops.where: give both x1 and x2, or neither")
    if x1 is None:
        return nonzero(condition)
    a, b = _promote(x1, x2)
    return tl.where(tl.cast(_t(condition), "bool"), a, b)


# ---------------------------------------------------------------- reductions

def sum(x, axis=None, keepdims=False):
    return tl.reduce_sum(_sum_dtype(_t(x)), axis=_axes(axis), keepdims=keepdims)


def prod(x, axis=None, keepdims=False, dtype=None):
    x = _sum_dtype(_t(x)) if dtype is None else tl.cast(_t(x), _dt(dtype))
    return tl.reduce_prod(x, axis=_axes(axis), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean; integer input gives ``floatx``."""
    return tl.reduce_mean(_to_float(x), axis=_axes(axis), keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    return tl.math.reduce_variance(_to_float(x), axis=_axes(axis), keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    return tl.math.reduce_std(_to_float(x), axis=_axes(axis), keepdims=keepdims)


def _minmax(tl_red, tl_pair):
    def f(x, axis=None, keepdims=False, initial=None):
        x = _t(x)
        cast_back = x.dtype.name == "bool"
        if cast_back:
            x = tl.cast(x, "int32")
        out = tl_red(x, axis=_axes(axis), keepdims=keepdims)
        if initial is not None:
            out = tl_pair(out, tl.cast(initial, out.dtype))
        return tl.cast(out, "bool") if cast_back else out
    return f


max = _minmax(tl.reduce_max, tl.maximum)
min = _minmax(tl.reduce_min, tl.minimum)


def amax(x, axis=None, keepdims=False):
    return max(x, axis=axis, keepdims=keepdims)


def amin(x, axis=None, keepdims=False):
    return min(x, axis=axis, keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    return tl.reduce_all(tl.cast(_t(x), "bool"), axis=_axes(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    return tl.reduce_any(tl.cast(_t(x), "bool"), axis=_axes(axis), keepdims=keepdims)


def count_nonzero(x, axis=None):
    """Number of non-zero values along ``axis`` (int32)."""
    return tl.reduce_sum(tl.cast(tl.not_equal(_t(x), 0), "int32"), axis=_axes(axis))


def _arg(tl_fn):
    def f(x, axis=None, keepdims=False):
        x = _t(x)
        if axis is None:
            out = tl_fn(tl.reshape(x, [-1]), axis=0, output_type=tl.int32)
            return tl.reshape(out, [1] * len(x.shape)) if keepdims else out
        out = tl_fn(x, axis=axis, output_type=tl.int32)
        return tl.expand_dims(out, axis) if keepdims else out
    return f


argmax = _arg(tl.argmax)
argmin = _arg(tl.argmin)


def _cum(tl_fn):
    def f(x, axis=None, dtype=None):
        x = _sum_dtype(_t(x)) if dtype is None else tl.cast(_t(x), _dt(dtype))
        if axis is None:
            x, axis = tl.reshape(x, [-1]), 0
        return tl_fn(x, axis=axis)
    return f


cumsum = _cum(tl.cumsum)
cumprod = _cum(tl.math.cumprod)


def sort(x, axis=-1):
    x = _t(x)
    if axis is None:
        x, axis = tl.reshape(x, [-1]), 0
    return tl.sort(x, axis=axis)


def argsort(x, axis=-1):
    """Indices (int32) that sort ``x`` along ``axis``; ties keep their order."""
    x = _t(x)
    if axis is None:
        x, axis = tl.reshape(x, [-1]), 0
    return tl.argsort(x, axis=axis, stable=True)


# ---------------------------------------------------------------- shapes

def ndim(x):
    return len(_t(x).shape)


def size(x):
    return tl.size(_t(x))


def reshape(x, newshape):
    if isinstance(newshape, int):
        newshape = [newshape]
    return tl.reshape(_t(x), list(newshape))


def ravel(x):
    return tl.reshape(_t(x), [-1])


def transpose(x, axes=None):
    return tl.transpose(_t(x), perm=None if axes is None else list(axes))


def swapaxes(x, axis1, axis2):
    x = _t(x)
    n = len(x.shape)
    perm = list(range(n))
    a, b = _norm_axis(axis1, n, "swapaxes"), _norm_axis(axis2, n, "swapaxes")
    perm[a], perm[b] = perm[b], perm[a]
    return tl.transpose(x, perm)


def moveaxis(x, source, destination):
    x = _t(x)
    n = len(x.shape)
    src = [_norm_axis(a, n, "moveaxis") for a in (source if isinstance(source, (list, tuple)) else [source])]
    dst = [_norm_axis(a, n, "moveaxis") for a in (destination if isinstance(destination, (list, tuple))
                                                   else [destination])]
    if len(src) != len(dst):
        raise ValueError(f"ops.moveaxis: source {source} and destination {destination} differ in length")
    perm = [a for a in range(n) if a not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return tl.transpose(x, perm)


def expand_dims(x, axis):
    x = _t(x)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    out_rank = len(x.shape) + len(axes)
    for a in sorted(_norm_axis(a, out_rank, "expand_dims") for a in axes):
        x = tl.expand_dims(x, a)
    return x


def squeeze(x, axis=None):
    x = _t(x)
    if axis is None:
        return tl.squeeze(x)
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    for a in axes:
        d = x.shape[_norm_axis(a, len(x.shape), "squeeze")]
        if d is not None and d != 1:
            raise ValueError(f"ops.squeeze: cannot squeeze axis {a} of size {d} (shape {tuple(x.shape)})")
    return tl.squeeze(x, axis=list(axes))


def broadcast_to(x, shape):
    return tl.broadcast_to(_t(x), list(shape))


def concatenate(xs, axis=0):
    """Joins tensors along ``axis`` (``None`` flattens them first), promoting dtypes."""
    xs = _promote(*xs)
    if axis is None:
        xs, axis = [tl.reshape(x, [-1]) for x in xs], 0
    return tl.concat(xs, axis=axis)


def stack(x, axis=0):
    return tl.stack(_promote(*x), axis=axis)


def hstack(xs):
    xs = _promote(*xs)
    return tl.concat(xs, axis=0 if len(xs[0].shape) == 1 else 1)


def vstack(xs):
    xs = [tl.reshape(x, [1, -1]) if len(x.shape) < 2 else x for x in _promote(*xs)]
    return tl.concat(xs, axis=0)


def append(x1, x2, axis=None):
    return concatenate([x1, x2], axis=axis)


def split(x, indices_or_sections, axis=0):
    """Splits into equal sections (an int) or at the given indices (a list), like numpy."""
    x = _t(x)
    n = x.shape[_norm_axis(axis, len(x.shape), "split")]
    if isinstance(indices_or_sections, int):
        if n is not None and n % indices_or_sections:
            raise ValueError(f"ops.split: axis {axis} of size {n} does not divide into "
                             f"{indices_or_sections} equal sections")
        return tl.split(x, indices_or_sections, axis=axis)
    bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    sizes = [builtins.max(0, builtins.min(b, n) - builtins.min(a, n)) for a, b in zip(bounds[:-1], bounds[1:])]
    return tl.split(x, sizes, axis=axis)


def tile(x, repeats):
    x = _t(x)
    reps = [repeats] if isinstance(repeats, int) else list(repeats)
    n = len(x.shape)
    for _ in range(len(reps) - n):
        x = tl.expand_dims(x, 0)
    reps = [1] * (len(x.shape) - len(reps)) + reps
    return tl.tile(x, reps)


def repeat(x, repeats, axis=None):
    return tl.repeat(_t(x), repeats, axis=axis)


def flip(x, axis=None):
    x = _t(x)
    axes = list(range(len(x.shape))) if axis is None else (list(axis) if isinstance(axis, (list, tuple))
                                                            else [axis])
    return tl.reverse(x, axes)


def roll(x, shift, axis=None):
    x = _t(x)
    if axis is None:
        return tl.reshape(tl.roll(tl.reshape(x, [-1]), shift, 0), tl.shape(x))
    return tl.roll(x, shift, axis)


def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads like ``numpy.pad``; ``mode`` is "constant", "reflect" or "symmetric"."""
    x = _t(x)
    if mode not in ("constant", "reflect", "symmetric"):
        raise ValueError(f"ops.pad: mode must be 'constant', 'reflect' or 'symmetric', got {mode!r}")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"ops.pad: constant_values is only valid with mode='constant', got mode={mode!r}")
    n = len(x.shape)
    pw = pad_width
    if isinstance(pw, int):
        pw = [[pw, pw]] * n
    else:
        pw = [list(p) if isinstance(p, (list, tuple)) else [p, p] for p in pw]
        if len(pw) == 1:
            pw = pw * n
    if len(pw) != n:
        raise ValueError(f"ops.pad: pad_width {pad_width} does not match a tensor of rank {n}")
    return tl.pad(x, pw, mode=mode.upper(), constant_values=0 if constant_values is None else constant_values)


def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis``."""
    x = _t(a)
    r = len(x.shape)
    axis = _norm_axis(axis, r, "diff")
    for _ in range(n):
        hi = [slice(None)] * r
        lo = [slice(None)] * r
        hi[axis], lo[axis] = slice(1, None), slice(None, -1)
        x = x[tuple(hi)] - x[tuple(lo)]
    return x


def get_item(x, key):
    return _t(x)[key]


# ---------------------------------------------------------------- creation

def _dtype_or_floatx(dtype):
    return _dt(dtype) if dtype is not None else tl.as_dtype(_floatx())


def zeros(shape, dtype=None):
    return tl.zeros(shape, dtype=_dtype_or_floatx(dtype))


def ones(shape, dtype=None):
    return tl.ones(shape, dtype=_dtype_or_floatx(dtype))


def _infer_dtype(value):
    if isinstance(value, bool):
        return tl.bool
    if isinstance(value, int):
        return tl.int32
    if isinstance(value, float):
        return tl.as_dtype(_floatx())
    return _t(value).dtype


def full(shape, fill_value, dtype=None):
    """A tensor of ``shape`` filled with ``fill_value`` (dtype inferred from it when not given)."""
    dtype = _dt(dtype) or _infer_dtype(fill_value)
    return tl.broadcast_to(tl.cast(_t(fill_value), dtype), list(shape) if not isinstance(shape, int) else [shape])


def zeros_like(x, dtype=None):
    return tl.zeros_like(_t(x)) if dtype is None else tl.cast(tl.zeros_like(_t(x)), _dt(dtype))


def ones_like(x, dtype=None):
    return tl.ones_like(_t(x)) if dtype is None else tl.cast(tl.ones_like(_t(x)), _dt(dtype))


def full_like(x, fill_value, dtype=None):
    x = _t(x)
    dtype = _dt(dtype) or x.dtype
    return tl.ones_like(tl.cast(x, dtype)) * tl.cast(_t(fill_value), dtype)


def array(x, dtype=None):
    return _t(x, dtype)


def arange(start, stop=None, step=1, dtype=None):
    """Evenly spaced values in ``[start, stop)``; int32 for integer arguments, else ``floatx``."""
    step = 1 if step is None else step
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = "int32" if builtins.all(isinstance(v, int) for v in (start, stop, step)) else _floatx()
    if step == 0:
        raise ValueError("ops.arange: step must not be 0")
    return tl.cast(tl.range(start, stop, step), _dt(dtype))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (inclusive when ``endpoint``)."""
    if num < 0:
        raise ValueError(f"ops.linspace: num must be >= 0, got {num}")
    fx = _floatx()
    start, stop = tl.cast(_t(start), fx), tl.cast(_t(stop), fx)
    div = (num - 1) if endpoint else num
    step = (stop - start) / builtins.max(div, 1)
    frac = tl.cast(tl.range(0, num), fx)
    shape_b = [num] + [1] * len(start.shape)
    out = tl.expand_dims(start, 0) + tl.reshape(frac, shape_b) * tl.expand_dims(step, 0)
    if endpoint and num > 1:
        out = tl.concat([out[:-1], tl.expand_dims(stop + tl.zeros_like(out[0]), 0)], axis=0)
    if axis != 0:
        out = moveaxis(out, 0, axis)
    if dtype is not None:
        out = tl.cast(out, _dt(dtype))
    return (out, step) if retstep else out


def eye(N, M=None, k=0, dtype=None):
    """A 2-D tensor with ones on the ``k``-th diagonal."""
    M = N if M is None else M
    rows = tl.reshape(tl.range(0, N), [N, 1])
    cols = tl.reshape(tl.range(0, M), [1, M])
    return tl.cast(tl.equal(cols - rows, k), _dtype_or_floatx(dtype))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the ``k``-th diagonal."""
    M = N if M is None else M
    rows = tl.reshape(tl.range(0, N), [N, 1])
    cols = tl.reshape(tl.range(0, M), [1, M])
    return tl.cast(tl.less_equal(cols - rows, k), _dtype_or_floatx(dtype))


def _tri_mask(x, k, lower):
    n, m = x.shape[-2], x.shape[-1]
    mask = tri(n, m, k if lower else k - 1, dtype="bool")
    if not lower:
        mask = tl.logical_not(mask)
    return tl.where(mask, x, tl.zeros_like(x))


def tril(x, k=0):
    return _tri_mask(_t(x), k, True)


def triu(x, k=0):
    return _tri_mask(_t(x), k, False)


def diag(x, k=0):
    """The ``k``-th diagonal of a matrix, or a matrix with the vector ``x`` on it."""
    x = _t(x)
    if len(x.shape) == 1:
        length = x.shape[0]
        n = length + builtins.abs(k)
        i = tl.range(0, length)
        idx = tl.stack([i + builtins.max(-k, 0), i + builtins.max(k, 0)], axis=1)
        return tl.scatter_nd(idx, x, [n, n])
    if len(x.shape) != 2:
        raise ValueError(f"ops.diag: x must be 1-D or 2-D, got shape {tuple(x.shape)}")
    n, m = x.shape
    i = tl.range(builtins.max(0, -k), builtins.max(builtins.max(0, -k), builtins.min(n, m - k)))
    return tl.gather_nd(x, tl.stack([i, i + k], axis=1))


def trace(x, offset=0, axis1=0, axis2=1):
    """Sum of the ``offset``-th diagonal over ``axis1``/``axis2``."""
    x = _sum_dtype(_t(x))
    r = len(x.shape)
    x = moveaxis(x, [_norm_axis(axis1, r, "trace"), _norm_axis(axis2, r, "trace")], [-2, -1])
    mask = eye(x.shape[-2], x.shape[-1], k=offset, dtype="bool")
    return tl.reduce_sum(tl.where(mask, x, tl.zeros_like(x)), axis=[-2, -1])


def meshgrid(*x, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError(f"ops.meshgrid: indexing must be 'xy' or 'ij', got {indexing!r}")
    return tl.meshgrid(*[_t(v) for v in x], indexing=indexing)


# ---------------------------------------------------------------- products

def matmul(x1, x2):
    """Matrix product with numpy's rules (1-D operands get a dimension added, then removed)."""
    a, b = _promote(x1, x2)
    if len(a.shape) == 0 or len(b.shape) == 0:
        raise ValueError("ops.matmul: operands must be at least 1-D; use ops.multiply for scalars")
    va, vb = len(a.shape) == 1, len(b.shape) == 1
    if va:
        a = tl.expand_dims(a, 0)
    if vb:
        b = tl.expand_dims(b, -1)
    out = tl.matmul(a, b)
    if va:
        out = tl.squeeze(out, axis=-2)
    if vb:
        out = tl.squeeze(out, axis=-1)
    return out


def dot(x1, x2):
    """``numpy.dot``: sums over the last axis of ``x1`` and the second-to-last of ``x2``."""
    a, b = _promote(x1, x2)
    if len(a.shape) == 0 or len(b.shape) == 0:
        return a * b
    if len(b.shape) == 1:
        return tl.tensordot(a, b, [[len(a.shape) - 1], [0]])
    return tl.tensordot(a, b, [[len(a.shape) - 1], [len(b.shape) - 2]])


def tensordot(x1, x2, axes=2):
    a, b = _promote(x1, x2)
    return tl.tensordot(a, b, axes)


def einsum(subscripts, *operands, **kwargs):
    return tl.einsum(subscripts, *_promote(*operands), **kwargs)


def outer(x1, x2):
    a, b = _promote(x1, x2)
    return tl.reshape(a, [-1, 1]) * tl.reshape(b, [1, -1])


# ---------------------------------------------------------------- indexing

def take(x, indices, axis=None):
    """Gathers ``x[indices]`` along ``axis`` (``None`` flattens ``x``); negative indices count from the end."""
    x = _t(x)
    if axis is None:
        x, axis = tl.reshape(x, [-1]), 0
    axis = _norm_axis(axis, len(x.shape), "take")
    indices = _t(indices)
    if indices.dtype.name not in _INTS:
        raise TypeError(f"ops.take: indices must be integers, got dtype {indices.dtype.name}")
    n = tl.cast(tl.shape(x)[axis], indices.dtype)
    indices = tl.where(tl.less(indices, 0), indices + n, indices)
    return tl.gather(x, indices, axis=axis)


def take_along_axis(x, indices, axis=None):
    """Picks values of ``x`` at ``indices`` along ``axis``; other axes broadcast."""
    x, indices = _t(x), _t(indices)
    if axis is None:
        x, axis = tl.reshape(x, [-1]), 0
        indices = tl.reshape(indices, [-1])
    r = len(x.shape)
    if len(indices.shape) != r:
        raise ValueError(f"ops.take_along_axis: indices of rank {len(indices.shape)} do not match x of rank {r}")
    axis = _norm_axis(axis, r, "take_along_axis")
    if indices.dtype.name not in _INTS:
        raise TypeError(f"ops.take_along_axis: indices must be integers, got dtype {indices.dtype.name}")
    if indices.dtype.name not in ("int32", "int64"):
        indices = tl.cast(indices, "int32")
    # One composite (a single Functional node): the other axes broadcast, negative indices wrap.
    return _take_along_axis(x, indices, axis, negative=True)


def nonzero(x):
    """A tuple of index tensors, one per dimension, of the non-zero elements."""
    coords = tl.where(tl.cast(_t(x), "bool"))
    return tuple(tl.cast(c, "int32") for c in tl.unstack(coords, axis=1))


def searchsorted(sorted_sequence, values, side="left"):
    if side not in ("left", "right"):
        raise ValueError(f"ops.searchsorted: side must be 'left' or 'right', got {side!r}")
    a, v = _promote(sorted_sequence, values)
    if len(a.shape) != 1:
        raise ValueError(f"ops.searchsorted: sorted_sequence must be 1-D, got shape {tuple(a.shape)}")
    return tl.searchsorted(a, v, side=side)


# ---------------------------------------------------------------- the rest of Keras' numpy namespace
# It outgrew this file: sibling modules (numpy_*.py, built on the helpers above) hold the rest,
# and their names are this module's too (so also ops.<name> at the top level).
from tensorlab.keras.ops import (numpy_arrays, numpy_bitwise, numpy_math, numpy_nan, numpy_products,  # noqa: E402
                                 numpy_stats, numpy_windows)

for _mod in (numpy_arrays, numpy_bitwise, numpy_math, numpy_nan, numpy_products, numpy_stats, numpy_windows):
    for _name in _mod.__all__:
        globals()[_name] = getattr(_mod, _name)
    __all__ += _mod.__all__
