"""NumPy-style products, selection and set ops (``keras.ops.numpy``): cross, inner, kron, vdot,
vander, correlate, slogdet, select, isin, argpartition, unique and vectorize.

    from tensorlab.keras import ops
    ops.cross(u, v)
    values, counts = ops.unique(x, return_counts=True)
"""
import builtins
import functools
import re

import tensorlab as tl
from tensorlab.keras.ops import _numpy_helpers as H
from tensorlab.keras.ops import numpy as knp

__all__ = ["argpartition", "correlate", "cross", "inner", "isin", "kron", "select", "slogdet", "unique", "vander",
           "vdot", "vectorize"]


def _logical_if_bool(f, a, b):
    """``f(a, b)`` for numbers; for bools, numpy's meaning of a product (and, then any)."""
    if a.dtype.name != "bool":
        return f(a, b)
    return tl.not_equal(f(tl.cast(a, "int32"), tl.cast(b, "int32")), 0)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """Cross products of the 3-D (or 2-D, z taken as 0) vectors along ``axisa`` of ``x1`` and ``axisb`` of
    ``x2``, placed along ``axisc``. ``axis`` sets all three. Two 2-D vectors give the z component only."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = knp._promote(x1, x2)
    if a.dtype.name == "bool":
        raise TypeError("ops.cross: bool tensors have no cross product; cast them to a number dtype first")
    a = knp.moveaxis(a, H.norm_axis("cross", axisa, len(a.shape)), -1)
    b = knp.moveaxis(b, H.norm_axis("cross", axisb, len(b.shape)), -1)
    na, nb = a.shape[-1], b.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"ops.cross: the vectors must have 2 or 3 components, got {na} (x1 shape {tuple(x1.shape)},"
                         f" axisa={axisa}) and {nb} (x2 shape {tuple(x2.shape)}, axisb={axisb})")
    a0, a1, b0, b1 = a[..., 0], a[..., 1], b[..., 0], b[..., 1]
    z = a0 * b1 - a1 * b0
    if na == 2 and nb == 2:
        return z
    a2 = a[..., 2] if na == 3 else tl.zeros_like(a0)
    b2 = b[..., 2] if nb == 3 else tl.zeros_like(b0)
    out = tl.stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, z], axis=-1)
    return knp.moveaxis(out, -1, H.norm_axis("cross", axisc, len(out.shape)))


def inner(x1, x2):
    """Sums products over the last axes of ``x1`` and ``x2`` (a plain product for scalars)."""
    a, b = knp._promote(x1, x2)
    if not a.shape or not b.shape:
        return _logical_if_bool(tl.multiply, a, b)
    if a.shape[-1] is not None and b.shape[-1] is not None and a.shape[-1] != b.shape[-1]:
        raise ValueError(f"ops.inner: the last dimensions of x1 {tuple(a.shape)} and x2 {tuple(b.shape)} must match")
    return _logical_if_bool(lambda u, v: tl.tensordot(u, v, [[len(u.shape) - 1], [len(v.shape) - 1]]), a, b)


def kron(x1, x2):
    """The Kronecker product: blocks ``x1[i] * x2``, over every axis (the lower rank padded with 1s)."""
    a, b = knp._promote(x1, x2)
    r = builtins.max(len(a.shape), len(b.shape))
    sa = [1] * (r - len(a.shape)) + list(a.shape)
    sb = [1] * (r - len(b.shape)) + list(b.shape)
    # a[i0, 1, i1, 1, ...] * b[1, j0, 1, j1, ...] interleaves the axes; merging pairs gives i * nb + j.
    a = H.reshape("kron", a, [d for s in sa for d in (s, 1)])
    b = H.reshape("kron", b, [d for s in sb for d in (1, s)])
    prod = tl.logical_and(a, b) if a.dtype.name == "bool" else a * b
    return H.reshape("kron", prod, [None if None in (p, q) else p * q for p, q in zip(sa, sb)])


def vdot(x1, x2):
    """The dot product of the flattened ``x1`` and ``x2`` (of equal size)."""
    a, b = knp._promote(x1, x2)
    a, b = tl.reshape(a, [-1]), tl.reshape(b, [-1])
    if a.shape[0] is not None and b.shape[0] is not None and a.shape[0] != b.shape[0]:
        raise ValueError(f"ops.vdot: x1 and x2 must have the same size, got {tuple(x1.shape)} and {tuple(x2.shape)}")
    return _logical_if_bool(lambda u, v: tl.reduce_sum(u * v), a, b)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of 1-D ``x``: column ``j`` is ``x ** (N - 1 - j)`` (``x ** j`` if ``increasing``)."""
    x = knp._t(x)
    if len(x.shape) != 1:
        raise ValueError(f"ops.vander: x must be 1-D, got shape {tuple(x.shape)}")
    if x.dtype.name == "bool":
        return tl.cast(vander(tl.cast(x, "int32"), N, increasing), "bool")
    n = H.static_dim("vander", x, 0)
    N = n if N is None else int(N)
    if N < 0:
        raise ValueError(f"ops.vander: N must be >= 0, got {N}")
    col = tl.reshape(x, [-1, 1])
    ones = tl.ones_like(col)
    if N <= 1:
        out = tl.reshape(ones, [n, N]) if N else tl.zeros([n, 0], x.dtype)
    elif knp._is_float(x):
        # x ** k for k >= 1 (x ** 0 stays 1: pow's gradient there would be 0 * inf).
        out = tl.concat([ones, tl.pow(col, tl.cast(tl.range(1, N), x.dtype))], axis=1)
    else:
        out = tl.math.cumprod(tl.concat([ones, col * tl.ones([1, N - 1], x.dtype)], axis=1), axis=1)  # exact
    return out if increasing else tl.reverse(out, [1])


def correlate(x1, x2, mode="valid"):
    """The cross-correlation ``c[k] = sum_n x1[n + k] * x2[n]`` of two 1-D tensors; ``mode`` "valid",
    "same" or "full" as numpy's."""
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"ops.correlate: mode must be 'valid', 'same' or 'full', got {mode!r}")
    a, v = knp._promote(x1, x2)
    d = a.dtype.name
    d = "float64" if d in ("int64", "float64") else (d if d in ("float16", "bfloat16") else "float32")
    a, v = tl.cast(a, d), tl.cast(v, d)
    if len(a.shape) != 1 or len(v.shape) != 1:
        raise ValueError(f"ops.correlate: x1 and x2 must be 1-D, got shapes {tuple(a.shape)} and {tuple(v.shape)}")
    m, n = H.static_dim("correlate", a, 0), H.static_dim("correlate", v, 0)
    if not m or not n:
        raise ValueError(f"ops.correlate: x1 and x2 must not be empty, got lengths {m} and {n}")
    padded = tl.pad(a, [[n - 1, n - 1]])
    windows = tl.gather(padded, tl.reshape(tl.range(0, m + n - 1), [-1, 1]) + tl.reshape(tl.range(0, n), [1, -1]))
    full = tl.reduce_sum(windows * v, axis=1)  # k = -(n - 1) .. m - 1
    length = {"full": m + n - 1, "same": builtins.max(m, n), "valid": builtins.max(m, n) - builtins.min(m, n) + 1}[mode]
    start = (m + n - 1 - length) // 2
    return full[start:start + length]


def slogdet(x):
    """``(sign, log|det|)`` of each square matrix in ``x``."""
    x = knp._to_float(x)
    if len(x.shape) < 2 or x.shape[-2] != x.shape[-1]:
        raise ValueError(f"ops.slogdet: expected a square matrix or a batch of them (shape (..., n, n)), got shape "
                         f"{tuple(x.shape)}")
    sign, logabsdet = tl.linalg.slogdet(x)
    return sign, logabsdet


def select(condlist, choicelist, default=0):
    """Picks from ``choicelist[i]`` where ``condlist[i]`` holds, the first true condition winning; ``default``
    where none does."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"ops.select: condlist ({len(condlist)} entries) and choicelist ({len(choicelist)}) "
                         "must have the same length")
    if not condlist:
        raise ValueError("ops.select: condlist and choicelist must not be empty")
    conds = [knp._t(c) for c in condlist]
    for i, c in enumerate(conds):
        if c.dtype.name != "bool":
            raise TypeError(f"ops.select: condlist[{i}] must be a bool tensor, got dtype {c.dtype.name}")
    *choices, out = knp._promote(*choicelist, default)
    for c, v in reversed(list(zip(conds, choices))):
        out = tl.where(c, v, out)
    return out


def isin(x1, x2, assume_unique=False, invert=False):
    """True where an element of ``x1`` occurs in ``x2`` (False with ``invert``), with ``x1``'s shape."""
    a, b = knp._promote(x1, x2)
    if a.dtype.name == "bool":
        a, b = tl.cast(a, "int32"), tl.cast(b, "int32")
    flat = tl.reshape(a, [-1])
    s = tl.sort(tl.reshape(b, [-1]))
    m = H.static_dim("isin", s, 0)
    if m == 0:
        found = tl.cast(tl.zeros_like(flat), "bool")
    else:
        pos = tl.minimum(tl.searchsorted(s, flat, side="left"), m - 1)
        found = tl.equal(tl.gather(s, pos), flat)
    if invert:
        found = tl.logical_not(found)
    return H.reshape("isin", found, a.shape)


def argpartition(x, kth, axis=-1):
    """Indices (int32) that partition ``x`` along ``axis`` around each ``kth``: the element there is the
    one a full sort puts there, smaller ones come before it, larger ones after. (A stable argsort, which
    satisfies this for every ``kth``.)"""
    x = knp._t(x)
    if axis is None:
        x, axis = tl.reshape(x, [-1]), 0
    axis = H.norm_axis("argpartition", axis, len(x.shape))
    n = H.static_dim("argpartition", x, axis)
    for k in (kth if isinstance(kth, (list, tuple)) else [kth]):
        if not -n <= int(k) < n:
            raise ValueError(f"ops.argpartition: kth={k} is out of bounds for an axis of size {n}")
    return knp.argsort(x, axis=axis)


def _pad_or_cut(t, size, fill):
    n = H.static_dim("unique", t, 0)
    if n >= size:
        return t[:size]
    pad = tl.broadcast_to(H.as_dtype(fill, t.dtype), [size - n] + list(t.shape[1:]))
    return tl.concat([t, pad], 0)


def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False, axis=None, size=None,
           fill_value=None):
    """The sorted unique elements of ``x`` (flattened), or its unique slices along ``axis``.

    Optionally also the int32 index of each one's first occurrence, the inverse (indices into the
    unique values that rebuild ``x``; ``x``'s shape, or its length along ``axis``) and the counts.
    With ``size``, the outputs are cut or padded to that many entries (values with ``fill_value``,
    default 0; index and counts with 0). ``sorted=False`` is accepted; the values come sorted anyway.
    """
    x = knp._t(x)
    if axis is None:
        rows = tl.reshape(x, [-1, 1])
    else:
        axis = H.norm_axis("unique", axis, len(x.shape))
        moved = knp.moveaxis(x, axis, 0)
        rows = tl.reshape(moved, [H.static_dim("unique", x, axis), -1])
    n = rows.shape[0]
    order = tl.range(0, n)
    for j in reversed(range(rows.shape[1])):  # lexicographic: stable sorts by the later columns first
        order = tl.gather(order, tl.argsort(tl.gather(rows[:, j], order), stable=True))
    s = tl.gather(rows, order)
    new = tl.concat([tl.ones([builtins.min(n, 1)], "bool"),
                     tl.reduce_any(tl.not_equal(s[1:], s[:-1]), axis=1)], 0)
    starts = tl.cast(tl.reshape(tl.where(new), [-1]), "int32")
    values = tl.gather(s, starts)
    values = tl.reshape(values, [-1]) if axis is None else knp.moveaxis(
        tl.reshape(values, [-1] + list(moved.shape[1:])), 0, axis)
    index = tl.gather(order, starts)
    counts = tl.concat([starts[1:], tl.constant([n], "int32")], 0) - starts
    inverse = None
    if return_inverse:  # the group of each sorted entry, put back in the original order
        inverse = tl.gather(tl.cumsum(tl.cast(new, "int32")) - 1, tl.argsort(order))
        inverse = tl.reshape(inverse, tl.shape(x)) if axis is None else inverse
    if size is not None:
        fill = 0 if fill_value is None else fill_value
        index, counts = _pad_or_cut(index, size, 0), _pad_or_cut(counts, size, 0)
        values = _pad_or_cut(values, size, fill) if axis is None else knp.moveaxis(
            _pad_or_cut(knp.moveaxis(values, axis, 0), size, fill), 0, axis)
    extra = [t for t, want in ((index, return_index), (inverse, return_inverse), (counts, return_counts)) if want]
    return (values, *extra) if extra else values


_CORE = r"\((?:\w+(?:,\w+)*)?\)"


def _parse_signature(signature):
    sig = signature.replace(" ", "")
    if not re.fullmatch(rf"{_CORE}(?:,{_CORE})*->{_CORE}(?:,{_CORE})*", sig):
        raise ValueError(f"ops.vectorize: signature must look like '(m,n),(n)->(m)', got {signature!r}")
    ins, outs = sig.split("->")
    parse = lambda part: [tuple(d for d in g.split(",") if d) for g in re.findall(r"\(([^()]*)\)", part)]
    return parse(ins), parse(outs)


def _broadcast(s1, s2):
    r = builtins.max(len(s1), len(s2))
    s1, s2 = (1,) * (r - len(s1)) + tuple(s1), (1,) * (r - len(s2)) + tuple(s2)
    if any(a != b and 1 not in (a, b) for a, b in zip(s1, s2)):
        raise ValueError(f"ops.vectorize: the arguments' leading shapes {s1} and {s2} do not broadcast")
    return tuple(b if a == 1 else a for a, b in zip(s1, s2))


def vectorize(pyfunc, *, excluded=None, signature=None):
    """Makes ``pyfunc`` (written for single elements, or for core dimensions given by a gufunc
    ``signature`` such as ``"(n),(n)->()"``) apply over the broadcast leading dimensions of its tensor
    arguments. Positional arguments whose index is in ``excluded``, None arguments and keyword
    arguments are passed to every call unchanged."""
    if not callable(pyfunc):
        raise TypeError(f"ops.vectorize: pyfunc must be callable, got {type(pyfunc).__name__}")
    excluded = set(excluded or ())
    in_core, out_core = _parse_signature(signature) if signature is not None else (None, None)

    @functools.wraps(pyfunc)
    def wrapped(*args, **kwargs):
        pos = [i for i, a in enumerate(args) if i not in excluded and a is not None]
        core = in_core if in_core is not None else [()] * len(pos)
        if len(core) != len(pos):
            raise ValueError(f"ops.vectorize: the signature {signature!r} has {len(core)} inputs, got {len(pos)} "
                             "vectorized arguments")
        ts = [knp._t(args[i]) for i in pos]
        sizes, batch = {}, ()
        for t, dims in zip(ts, core):
            if len(t.shape) < len(dims):
                raise ValueError(f"ops.vectorize: an argument of shape {tuple(t.shape)} has fewer dimensions than "
                                 f"its core dimensions {dims}")
            for name, d in zip(dims, t.shape[len(t.shape) - len(dims):]):
                if sizes.setdefault(name, d) != d:
                    raise ValueError(f"ops.vectorize: core dimension {name!r} is {sizes[name]} in one argument and "
                                     f"{d} in another")
            batch = _broadcast(batch, tuple(t.shape[:len(t.shape) - len(dims)]))
        if not ts:
            return pyfunc(*args, **kwargs)
        flat = [tl.reshape(tl.broadcast_to(t, list(batch) + list(t.shape[len(t.shape) - len(d):])),
                           [-1] + list(t.shape[len(t.shape) - len(d):])) for t, d in zip(ts, core)]

        def one(elems):
            full = list(args)
            for i, e in zip(pos, elems):
                full[i] = e
            return pyfunc(*full, **kwargs)

        out = tl.vectorized_map(one, tuple(flat))
        unflat = lambda o: tl.reshape(o, list(batch) + list(o.shape[1:]))
        return tuple(unflat(o) for o in out) if isinstance(out, (tuple, list)) else unflat(out)
    return wrapped


H.on_input_device(globals(), [n for n in __all__ if n != "vectorize"])
