"""Linear algebra: matmul, matvec, tensordot, einsum, norm, trace, diagonals, band_part.

Primitives: ``matmul`` (the hottest op: its CUDA implementation is our
kernel) and ``einsum`` (general contractions). Everything else is composed
from them, from reductions and from elementwise ops. The dense solvers and
decompositions (cholesky, solve, qr, ...) are in ``linalg_solvers.py``.
"""
import string

from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite, defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import (FLOATS, broadcast_shapes, check_same_dtype, fmt, norm_axis, pair,
                                  require_dtypes, t, tf)
from tensorlab.ops.creation import eye

_INTS = frozenset({dt.int8, dt.int16, dt.int32, dt.int64, dt.uint8})
NUMERIC = FLOATS | _INTS


def _E():
    from tensorlab.ops import elementwise
    return elementwise


def _R():
    from tensorlab.ops import reduction
    return reduction


def _reshape(x, shape):
    from tensorlab.ops.shape import reshape
    return reshape(x, shape)


# ----------------------------------------------------------------- matmul
def _matmul_rule(a, b, transpose_a, transpose_b):
    check_same_dtype("matmul", a, b)
    require_dtypes("matmul", a, NUMERIC)
    if len(a.shape) < 2 or len(b.shape) < 2:
        raise InvalidArgumentError(
            f"matmul: In[0] and In[1] must have rank >= 2, got shapes {fmt(a.shape)} and {fmt(b.shape)}; "
            "use tl.linalg.matvec for matrix-vector products or tl.tensordot for vectors")
    m, ka = (a.shape[-1], a.shape[-2]) if transpose_a else (a.shape[-2], a.shape[-1])
    kb, n = (b.shape[-1], b.shape[-2]) if transpose_b else (b.shape[-2], b.shape[-1])
    if ka is not None and kb is not None and ka != kb:
        raise InvalidArgumentError(
            f"matmul: Matrix size-incompatible: In[0]: {fmt(a.shape)}, In[1]: {fmt(b.shape)} "
            f"(transpose_a={transpose_a}, transpose_b={transpose_b}); the inner dimensions {ka} and {kb} "
            "must be equal")
    try:
        batch = broadcast_shapes("matmul", a.shape[:-2], b.shape[:-2])
    except InvalidArgumentError:
        raise InvalidArgumentError(
            f"matmul: batch dimensions {fmt(a.shape[:-2])} of In[0] (shape {fmt(a.shape)}) and "
            f"{fmt(b.shape[:-2])} of In[1] (shape {fmt(b.shape)}) cannot be broadcast together "
            "(each must be equal or 1)") from None
    return TensorSpec(tuple(batch) + (m, n), a.dtype)


matmul_p = primitive("matmul", _matmul_rule)


@defgrad(matmul_p)
def _matmul_grad(g, out, a, b, transpose_a, transpose_b):
    # Deferred (callables): the engine computes only the gradients it needs, so a
    # first layer's x @ W never pays for the gradient of the data batch.
    # Batch broadcasting is undone by the autodiff engine.
    if not transpose_a and not transpose_b:
        return (lambda: matmul_p(g, b, transpose_a=False, transpose_b=True),
                lambda: matmul_p(a, g, transpose_a=True, transpose_b=False))
    if transpose_a and not transpose_b:
        return (lambda: matmul_p(b, g, transpose_a=False, transpose_b=True),
                lambda: matmul_p(a, g, transpose_a=False, transpose_b=False))
    if not transpose_a:
        return (lambda: matmul_p(g, b, transpose_a=False, transpose_b=False),
                lambda: matmul_p(g, a, transpose_a=True, transpose_b=False))
    return (lambda: matmul_p(b, g, transpose_a=True, transpose_b=True),
            lambda: matmul_p(g, a, transpose_a=True, transpose_b=True))


def _flag(name, transpose, adjoint, which):
    if transpose and adjoint:
        raise ValueError(f"{name}: only one of transpose_{which} and adjoint_{which} can be True")
    return bool(transpose or adjoint)  # real dtypes only: the adjoint is the transpose


def matmul(a, b, transpose_a=False, transpose_b=False, adjoint_a=False, adjoint_b=False,
           a_is_sparse=False, b_is_sparse=False, output_type=None, name=None):
    """Matrix product of the last two dimensions, batched over the others (``a @ b``).

    Batch dimensions broadcast (numpy rules). Both inputs need rank >= 2.

    Args:
      a: tensor of shape ``[..., M, K]`` (``[..., K, M]`` with ``transpose_a``).
      b: tensor of shape ``[..., K, N]`` (``[..., N, K]`` with ``transpose_b``), same dtype.
      transpose_a, transpose_b: transpose the last two dimensions first.
      adjoint_a, adjoint_b: the same as transposing, for real dtypes.
      a_is_sparse, b_is_sparse: ignored (kept for TF compatibility).
      output_type: optional dtype of the result; inputs are cast to it first.

    Returns:
      A tensor of shape ``broadcast(batch) + [M, N]``.

    Raises:
      InvalidArgumentError: rank < 2, mismatched inner dimensions or batch dims.

    Example:
      >>> a = tl.ones([5, 2, 3]); b = tl.ones([3, 4])
      >>> tl.matmul(a, b).shape
      TensorShape([5, 2, 4])
    """
    a, b = pair(a, b, "matmul")
    if a.ndim < 2 or b.ndim < 2 or a.dtype not in NUMERIC:
        _matmul_rule(a, b, False, False)  # raises the rule's message
    ta = _flag("matmul", transpose_a, adjoint_a, "a")
    tb = _flag("matmul", transpose_b, adjoint_b, "b")
    if output_type is not None and dt.as_dtype(output_type) != a.dtype:
        a, b = _E().cast(a, output_type), _E().cast(b, output_type)
    return matmul_p(a, b, transpose_a=ta, transpose_b=tb)


def _symbolic(*xs):
    return any(isinstance(x, SymbolicTensor) for x in xs)


def matvec(a, b, transpose_a=False, adjoint_a=False, a_is_sparse=False, b_is_sparse=False, name=None):
    """Matrix-vector product: ``[..., M, K] x [..., K] -> [..., M]`` (batch dims broadcast).

    Example:
      >>> tl.linalg.matvec(tl.eye(2), tl.constant([1., 2.])).numpy()
      array([1., 2.], dtype=float32)
    """
    a, b = pair(a, b, "matvec")
    ta = _flag("matvec", transpose_a, adjoint_a, "a")
    if a.ndim < 2 or b.ndim < 1:
        raise InvalidArgumentError(f"matvec: a must have rank >= 2 and b rank >= 1, got shapes "
                                   f"{fmt(a.shape)} and {fmt(b.shape)}")
    if _symbolic(a, b):
        return einsum("...ji,...j->...i" if ta else "...ij,...j->...i", a, b)
    y = matmul_p(a, _reshape(b, tuple(b.shape) + (1,)), transpose_a=ta, transpose_b=False)
    return _reshape(y, tuple(y.shape)[:-1])


# ----------------------------------------------------------------- einsum
_LETTERS = string.ascii_letters


def _split(name, equation):
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise InvalidArgumentError(f"{name}: equation {equation!r} has more than one '->'")
    lhs, rhs = eq.split("->") if "->" in eq else (eq, None)
    terms = lhs.split(",")
    for term in terms + ([rhs] if rhs is not None else []):
        body = term.replace("...", "", 1)
        bad = [c for c in body if c not in _LETTERS]
        if bad:
            raise InvalidArgumentError(f"{name}: equation {equation!r} has invalid subscript {bad[0]!r} in "
                                       f"{term!r}; use letters, ',', '->' and one '...' per operand")
    return terms, rhs


def parse_einsum(equation, shapes, name="einsum"):
    """Expands ``equation`` (with '...' and implicit output) for operands of ``shapes``.

    Returns ``(explicit_equation, broadcast_letters)``: the equation with
    ellipses replaced by fresh letters (only those may broadcast size-1 dims).
    """
    terms, rhs = _split(name, equation)
    if len(terms) != len(shapes):
        raise InvalidArgumentError(f"{name}: equation {equation!r} names {len(terms)} operands but "
                                   f"{len(shapes)} were given")
    used = set(equation)
    fresh = [c for c in _LETTERS if c not in used]
    ell_rank = 0
    for term, shape in zip(terms, shapes):
        n = len(term.replace("...", ""))
        if ("..." in term and n > len(shape)) or ("..." not in term and n != len(shape)):
            raise InvalidArgumentError(f"{name}: subscripts {term!r} do not match operand of rank {len(shape)} "
                                       f"(shape {fmt(shape)}) in equation {equation!r}")
        if "..." in term:
            ell_rank = max(ell_rank, len(shape) - n)
    if ell_rank > len(fresh):
        raise InvalidArgumentError(f"{name}: too many dimensions for equation {equation!r}")
    ell = "".join(fresh[:ell_rank])
    ins = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            k = len(shape) - len(term.replace("...", ""))
            term = term.replace("...", ell[ell_rank - k:])
        ins.append(term)
    if rhs is None:
        letters = "".join(t_.replace("...", "") for t_ in terms)
        rhs = ell + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    else:
        rhs = rhs.replace("...", ell)
    seen = set("".join(ins))
    for c in rhs:
        if c not in seen:
            raise InvalidArgumentError(f"{name}: output subscript {c!r} in equation {equation!r} does not "
                                       "appear in any input")
        if rhs.count(c) > 1:
            raise InvalidArgumentError(f"{name}: output subscript {c!r} repeats in equation {equation!r}")
    return ",".join(ins) + "->" + rhs, ell


def letter_sizes(name, ins, shapes, bcast):
    """Size of each subscript letter (None if unknown); raises when operands disagree.

    Letters in ``bcast`` (from '...') may also be 1 in some operands.
    """
    sizes, where_ = {}, {}
    for k, (term, shape) in enumerate(zip(ins, shapes)):
        for c, d in zip(term, shape):
            if c not in sizes:
                sizes[c], where_[c] = d, k
                continue
            prev, flexible = sizes[c], c in bcast
            if flexible and d == 1:
                continue
            if prev is None or (flexible and prev == 1):
                if d is not None or prev == 1:
                    sizes[c], where_[c] = d, k
                continue
            if d is not None and d != prev:
                j = where_[c]
                raise InvalidArgumentError(
                    f"{name}: subscript {c!r} has size {prev} in operand #{j} (shape {fmt(shapes[j])}, "
                    f"subscripts {ins[j]!r}) but size {d} in operand #{k} (shape {fmt(shape)}, "
                    f"subscripts {term!r})")
    return sizes


def _einsum_rule(*xs, equation, bcast):
    check_same_dtype("einsum", *xs)
    require_dtypes("einsum", xs[0], NUMERIC)
    lhs, rhs = equation.split("->")
    ins = lhs.split(",")
    shapes = [x.shape for x in xs]
    for term, s in zip(ins, shapes):
        if len(term) != len(s):
            raise InvalidArgumentError(f"einsum: subscripts {term!r} do not match operand shape {fmt(s)}")
    sizes = letter_sizes("einsum", ins, shapes, bcast)
    return TensorSpec(tuple(sizes[c] for c in rhs), xs[0].dtype)


einsum_p = primitive("einsum", _einsum_rule)


def _eye_like(n, m, like, n_axes=(-1,), m_axes=(-1,)):
    """``eye(n, m)`` in ``like``'s dtype, on ``like``'s device.

    On a symbolic ``like`` (a Functional-API tensor) it is a composite of ``like``, made when the model runs
    on data (on the data's device); a size not known yet (None) is then the smallest of ``like``'s sizes
    along ``n_axes`` (``m_axes``).
    """
    if isinstance(like, SymbolicTensor):
        return _eye_of(like, rows=tuple(n_axes) if n is None else n, cols=tuple(m_axes) if m is None else m)
    with _dev.device(like._device):
        return eye(n, m, dtype=like.dtype)


def _eye_size(shape, size):
    """An int size, or the smallest of ``shape``'s sizes along a tuple of axes (None while one is unknown)."""
    if isinstance(size, int):
        return size
    dims = [shape[a] for a in size]
    return None if None in dims else min(dims)


@composite("eye_like", lambda like, rows, cols: TensorSpec((_eye_size(like.shape, rows), _eye_size(like.shape, cols)),
                                                           like.dtype))
def _eye_of(like, rows, cols):
    return _eye_like(_eye_size(like.shape, rows), _eye_size(like.shape, cols), like)


@defgrad(einsum_p)
def _einsum_grad(g, out, *xs, equation, bcast):
    from tensorlab.ops.shape import broadcast_to
    lhs, rhs = equation.split("->")
    ins = lhs.split(",")
    free = [c for c in _LETTERS if c not in equation]
    grads = []
    for i, (s, x) in enumerate(zip(ins, xs)):
        others = [ins[j] for j in range(len(ins)) if j != i]
        avail = set(rhs).union(*others)
        distinct = "".join(dict.fromkeys(s))
        kept = "".join(c for c in distinct if c in avail)
        gi = einsum_p(g, *[xs[j] for j in range(len(xs)) if j != i],
                      equation=",".join([rhs] + others) + "->" + kept, bcast=bcast)
        dims = {c: d for c, d in zip(s, x.shape)}
        if kept != distinct:  # letters summed away within x alone: broadcast back
            gshape = dict(zip(kept, gi.shape))
            gi = _reshape(gi, tuple(gshape.get(c, 1) for c in distinct))
            gi = broadcast_to(gi, tuple(gshape.get(c, dims[c]) for c in distinct))
        if len(distinct) != len(s):  # repeated letters (diagonals): put gi on the diagonal
            full, eyes, terms = "", [], [distinct]
            for k, c in enumerate(s):
                if c in s[:k]:
                    f = free.pop(0)
                    full += f
                    eyes.append(_eye_like(dims[c], dims[c], x))
                    terms.append(c + f)
                else:
                    full += c
            gi = einsum_p(gi, *eyes, equation=",".join(terms) + "->" + full, bcast=bcast)
        if tuple(gi.shape) != tuple(x.shape):  # x broadcast a size-1 dim the other operands lacked
            gi = broadcast_to(gi, broadcast_shapes("einsum", gi.shape, x.shape))
        grads.append(gi)
    return tuple(grads)


def einsum(equation, *inputs, **kwargs):
    """Einstein summation over the operands' subscripted dimensions (numpy/TF semantics).

    Supports explicit (``'ij,jk->ik'``) and implicit (``'ij,jk'``) outputs, one
    ``...`` per operand for broadcast batch dimensions, repeated subscripts
    (``'ii->i'`` diagonal, ``'ii'`` trace) and any number of operands.

    Args:
      equation: the subscripts string.
      *inputs: tensors of one dtype, one per operand in ``equation``.

    Returns:
      The contracted tensor.

    Example:
      >>> a = tl.ones([2, 3]); b = tl.ones([3, 4])
      >>> tl.einsum("ij,jk->ik", a, b).shape
      TensorShape([2, 4])
    """
    if len(inputs) == 1 and isinstance(inputs[0], (list, tuple)):
        inputs = tuple(inputs[0])
    xs = [t(x) for x in inputs]
    if not xs:
        raise InvalidArgumentError("einsum: needs at least one operand")
    check_same_dtype("einsum", *xs)
    require_dtypes("einsum", xs[0], NUMERIC)
    shapes = [x.shape for x in xs]
    eq, ell = parse_einsum(equation, shapes)
    letter_sizes("einsum", eq.split("->")[0].split(","), shapes, ell)  # numpy would broadcast silently
    return einsum_p(*xs, equation=eq, bcast=ell)


# ----------------------------------------------------------------- tensordot
def _tensordot_axes(a, b, axes):
    if isinstance(axes, int) or (hasattr(axes, "ndim") and axes.ndim == 0):
        n = int(axes)
        if not 0 <= n <= min(a.ndim, b.ndim):
            raise InvalidArgumentError(f"tensordot: axes={n} must be between 0 and the smaller rank "
                                       f"({min(a.ndim, b.ndim)}) of shapes {fmt(a.shape)} and {fmt(b.shape)}")
        aa, ba = tuple(range(a.ndim - n, a.ndim)), tuple(range(n))
    else:
        aa, ba = _axes_pair(a, b, axes)
    for i, j in zip(aa, ba):
        if a.shape[i] is not None and b.shape[j] is not None and a.shape[i] != b.shape[j]:
            raise InvalidArgumentError(
                f"tensordot: axis {i} of a (shape {fmt(a.shape)}) has size {a.shape[i]} but axis {j} of b "
                f"(shape {fmt(b.shape)}) has size {b.shape[j]}; contracted axes must match")
    return aa, ba


def _axes_pair(a, b, axes):
    if hasattr(axes, "numpy"):
        axes = axes.numpy().tolist()
    try:
        aa, ba = axes
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"tensordot: axes must be an int or a pair of axis lists, got {axes!r}") \
            from None
    aa = [aa] if isinstance(aa, int) else list(aa)
    ba = [ba] if isinstance(ba, int) else list(ba)
    if len(aa) != len(ba):
        raise InvalidArgumentError(f"tensordot: axes {aa} of a and {ba} of b must have the same length")
    aa = tuple(norm_axis("tensordot", x, a.ndim) for x in aa)
    ba = tuple(norm_axis("tensordot", x, b.ndim) for x in ba)
    if len(set(aa)) != len(aa) or len(set(ba)) != len(ba):
        raise InvalidArgumentError(f"tensordot: axes {list(aa)} / {list(ba)} repeat an axis")
    return aa, ba


def _prod(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def tensordot(a, b, axes, name=None):
    """Tensor contraction of ``a`` and ``b`` over the given axes.

    Args:
      a, b: tensors of one dtype.
      axes: an int N (the last N axes of ``a`` with the first N of ``b``) or a
        pair of axis lists ``[a_axes, b_axes]`` contracted pairwise.

    Returns:
      A tensor with ``a``'s free axes followed by ``b``'s.

    Example:
      >>> tl.tensordot(tl.ones([2, 3, 4]), tl.ones([4, 5]), axes=1).shape
      TensorShape([2, 3, 5])
    """
    a, b = pair(a, b, "tensordot")
    aa, ba = _tensordot_axes(a, b, axes)
    n = len(aa)
    free_a = [i for i in range(a.ndim) if i not in aa]
    free_b = [i for i in range(b.ndim) if i not in ba]
    a_lead, a_trail = aa == tuple(range(n)), aa == tuple(range(a.ndim - n, a.ndim))
    b_lead, b_trail = ba == tuple(range(n)), ba == tuple(range(b.ndim - n, b.ndim))
    if not _symbolic(a, b) and (a_lead or a_trail) and (b_lead or b_trail):
        # The common layouts are one matmul on reshaped views.
        k = _prod(a.shape[i] for i in aa)
        fa, fb = [a.shape[i] for i in free_a], [b.shape[i] for i in free_b]
        a2 = _reshape(a, (_prod(fa), k) if a_trail else (k, _prod(fa)))
        b2 = _reshape(b, (k, _prod(fb)) if b_lead else (_prod(fb), k))
        y = matmul_p(a2, b2, transpose_a=not a_trail, transpose_b=not b_lead)
        return _reshape(y, tuple(fa + fb))
    la = _LETTERS[:a.ndim]
    lb = list(_LETTERS[a.ndim:a.ndim + b.ndim])
    for i, j in zip(aa, ba):
        lb[j] = la[i]
    lb = "".join(lb)
    out = "".join(la[i] for i in free_a) + "".join(lb[j] for j in free_b)
    return einsum_p(a, b, equation=f"{la},{lb}->{out}", bcast="")


# ----------------------------------------------------------------- norms
_INF = float("inf")


def _squeeze_axes(x, axes, keepdims):
    # Summing over size-1 axes drops them; works on symbolic shapes too.
    return x if keepdims else _R().reduce_sum_p(x, axes=tuple(sorted(axes)), keepdims=False)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):
    """Vector or matrix norm of ``tensor`` (``tf.norm`` / ``tf.linalg.norm``).

    Args:
      tensor: a floating-point tensor.
      ord: for vectors ``'euclidean'``/``'fro'``/2, 1, ``inf`` or any p > 0;
        for matrices ``'euclidean'``/``'fro'``, 1 (max column sum) or ``inf``
        (max row sum).
      axis: None (all elements as one vector), an int (vector norms), or a
        pair of ints (matrix norms over those two axes).
      keepdims: keep the reduced axes with length 1.

    Returns:
      The norms, with the reduced axes removed unless ``keepdims``.

    Example:
      >>> tl.norm(tl.constant([3., 4.])).numpy()
      5.0
    """
    E, R = _E(), _R()
    x = tf(tensor, "norm")
    keepdims = bool(keepdims)
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    euclid = isinstance(ord, str) and ord in ("euclidean", "fro")
    if isinstance(axis, (list, tuple)):
        if len(axis) != 2:
            raise ValueError(f"norm: axis must be None, an int or a pair of ints, got {axis!r}")
        a0, a1 = (norm_axis("norm", a, x.ndim) for a in axis)
        if a0 == a1:
            raise ValueError(f"norm: the two matrix axes must differ, got {axis!r}")
        if euclid:
            return E.sqrt(R.reduce_sum_p(E.square(x), axes=tuple(sorted((a0, a1))), keepdims=keepdims))
        if ord in (1, _INF) and not isinstance(ord, bool):
            sum_ax, max_ax = (a0, a1) if ord == 1 else (a1, a0)
            s = R.reduce_sum_p(E.abs(x), axes=(sum_ax,), keepdims=True)
            return _squeeze_axes(R.reduce_max_p(s, axes=(max_ax,), keepdims=True), (a0, a1), keepdims)
        raise ValueError(f"norm: matrix norm ord={ord!r} is not supported; use 'fro', 'euclidean', 1 or inf")
    axes = tuple(range(x.ndim)) if axis is None else (norm_axis("norm", axis, x.ndim),)
    if euclid or (ord == 2 and not isinstance(ord, bool)):
        return E.sqrt(R.reduce_sum_p(E.square(x), axes=axes, keepdims=keepdims))
    if isinstance(ord, (int, float)) and not isinstance(ord, bool) and ord > 0:
        if ord == 1:
            return R.reduce_sum_p(E.abs(x), axes=axes, keepdims=keepdims)
        if ord == _INF:
            return R.reduce_max_p(E.abs(x), axes=axes, keepdims=keepdims)
        s = R.reduce_sum_p(E.pow(E.abs(x), float(ord)), axes=axes, keepdims=keepdims)
        return E.pow(s, 1.0 / float(ord))
    raise ValueError(f"norm: vector norm ord={ord!r} is not supported; use 'euclidean', 'fro', 1, 2, inf "
                     "or a positive number")


def global_norm(t_list, name=None):
    """``sqrt(sum of squared elements of all tensors)``; None entries are skipped.

    Example:
      >>> tl.linalg.global_norm([tl.constant([3.]), tl.constant([4.])]).numpy()
      5.0
    """
    E, R = _E(), _R()
    parts = [R.reduce_sum(E.square(t(x))) for x in t_list if x is not None]
    if not parts:
        raise ValueError("global_norm: t_list has no tensors")
    return E.sqrt(E.add_n(parts))


# ----------------------------------------------------------------- diagonals
def _matrix(name, x):
    if x.ndim < 2:
        raise InvalidArgumentError(f"{name}: input must have rank >= 2, got shape {fmt(x.shape)}")
    return x.shape[-2], x.shape[-1]


def diag_part(input, name="diag_part", k=0, padding_value=0, align="RIGHT_LEFT"):
    """The main diagonal of the innermost matrices: ``[..., M, N] -> [..., min(M, N)]``.

    Example:
      >>> tl.linalg.diag_part(tl.constant([[1., 2.], [3., 4.]])).numpy()
      array([1., 4.], dtype=float32)
    """
    x = t(input)
    if k != 0:
        raise NotImplementedError("diag_part: only the main diagonal (k=0) is supported")
    m, n = _matrix("diag_part", x)
    if m is None or n is None:  # symbolic: whether the matrices are square is known when the model runs
        return _diag_part_of(x)
    if m == n:
        return einsum_p(x, equation=_ell_eq(x.ndim - 2, "ii", "i"), bcast="")
    # Rectangular: select x[i, i] for i < min(m, n) by contracting with two eye slices.
    q = min(m, n)
    return einsum_p(x, _eye_like(m, q, x), _eye_like(n, q, x),
                    equation=_ell_eq(x.ndim - 2, "ij", "k", "ik", "jk"), bcast="")


_BATCH_LETTERS = "".join(c for c in _LETTERS if c not in "ijk")


def _ell_eq(batch, term, out, *extra):
    """An einsum equation over ``batch`` leading dims plus ``term`` (extra operands have no batch)."""
    b = _BATCH_LETTERS[:batch]
    return ",".join([b + term] + list(extra)) + "->" + b + out


def trace(x, name=None):
    """Sum of the main diagonal of the innermost matrices: ``[..., M, N] -> [...]``.

    Example:
      >>> tl.linalg.trace(tl.constant([[1., 2.], [3., 4.]])).numpy()
      5.0
    """
    x = t(x)
    m, n = _matrix("trace", x)
    if m is None or n is None or m == n:
        return einsum_p(x, equation=_ell_eq(x.ndim - 2, "ii", ""), bcast="")
    return _R().reduce_sum(diag_part(x), axis=-1)


@composite("diag_part", lambda x: TensorSpec(tuple(x.shape[:-2]) + (None,), x.dtype))
def _diag_part_of(x):
    return diag_part(x)


def diag(diagonal, name="diag", k=0, num_rows=-1, num_cols=-1, padding_value=0, align="RIGHT_LEFT"):
    """Batched square matrices with ``diagonal`` on the main diagonal: ``[..., N] -> [..., N, N]``.

    Example:
      >>> tl.linalg.diag(tl.constant([1., 2.])).numpy()
      array([[1., 0.],
             [0., 2.]], dtype=float32)
    """
    d = t(diagonal)
    if k != 0 or num_rows not in (-1, None) or num_cols not in (-1, None):
        raise NotImplementedError("diag: only the main diagonal of square matrices (k=0) is supported")
    if d.ndim < 1:
        raise InvalidArgumentError(f"diag: diagonal must have rank >= 1, got shape {fmt(d.shape)}")
    n = d.shape[-1]
    return einsum_p(d, _eye_like(n, n, d), equation=_ell_eq(d.ndim - 1, "i", "ij", "ij"), bcast="")


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """Swaps the last two dimensions: ``[..., M, N] -> [..., N, M]``."""
    x = t(a)
    _matrix("matrix_transpose", x)
    return einsum_p(x, equation=_ell_eq(x.ndim - 2, "ij", "ji"), bcast="")


def adjoint(matrix, name=None):
    """The conjugate transpose of the innermost matrices (the transpose, for real dtypes)."""
    return matrix_transpose(matrix)


def _band_arg(name, v, what, size):
    v = int(v.numpy()) if hasattr(v, "numpy") else int(v)
    if size is not None and v > size:
        raise InvalidArgumentError(f"{name}: {what} must be negative or at most the number of "
                                   f"{'rows' if what == 'num_lower' else 'columns'} ({size}), got {v}")
    return v


def _band_mask(m, n, num_lower, num_upper, like):
    """``[m, n]`` bool: True inside the band (``num_lower`` below, ``num_upper`` above; < 0 keeps all)."""
    if isinstance(like, SymbolicTensor):  # made when a model runs on data: [m, n] are like's last two dims
        return _band_mask_of(like, num_lower=num_lower, num_upper=num_upper)
    from tensorlab.ops.creation import range as _range
    E = _E()
    with _dev.device(like._device):
        d = E.subtract(_reshape(_range(n), (1, n)), _reshape(_range(m), (m, 1)))  # column - row
        keep = E.greater_equal(d, -num_lower) if num_lower >= 0 else None
        if num_upper >= 0:
            up = E.less_equal(d, num_upper)
            keep = up if keep is None else E.logical_and(keep, up)
    return keep


@composite("band_mask", lambda like, num_lower, num_upper: TensorSpec(tuple(like.shape[-2:]), dt.bool_))
def _band_mask_of(like, num_lower, num_upper):
    return _band_mask(like.shape[-2], like.shape[-1], num_lower, num_upper, like)


def band_part(input, num_lower, num_upper, name=None):
    """Keeps a band around the diagonal of the innermost matrices and zeroes the rest.

    ``out[..., i, j] = input[..., i, j]`` if ``num_lower < 0 or i - j <= num_lower``
    and ``num_upper < 0 or j - i <= num_upper``, else 0.

    Args:
      input: tensor of shape ``[..., M, N]``.
      num_lower: number of subdiagonals to keep; negative keeps the whole lower triangle.
      num_upper: number of superdiagonals to keep; negative keeps the whole upper triangle.

    Returns:
      A tensor of the input's shape and dtype.

    Example:
      >>> x = tl.ones([3, 3])
      >>> tl.linalg.band_part(x, -1, 0).numpy()  # lower triangle
      array([[1., 0., 0.],
             [1., 1., 0.],
             [1., 1., 1.]], dtype=float32)
    """
    x = t(input)
    m, n = _matrix("band_part", x)
    lo = _band_arg("band_part", num_lower, "num_lower", m)
    hi = _band_arg("band_part", num_upper, "num_upper", n)
    if lo < 0 and hi < 0:
        return x
    return _E().where(_band_mask(m, n, lo, hi, x), x, 0)


def set_diag(input, diagonal, name="set_diag", k=0, align="RIGHT_LEFT"):
    """Replaces the main diagonal of the innermost matrices.

    Args:
      input: tensor of shape ``[..., M, N]``.
      diagonal: tensor of shape ``[..., min(M, N)]`` (the same batch dims), same dtype.

    Returns:
      ``input`` with ``out[..., i, i] = diagonal[..., i]``.

    Example:
      >>> tl.linalg.set_diag(tl.zeros([2, 2]), tl.constant([1., 2.])).numpy()
      array([[1., 0.],
             [0., 2.]], dtype=float32)
    """
    x, d = pair(input, diagonal, "set_diag")
    if k != 0:
        raise NotImplementedError("set_diag: only the main diagonal (k=0) is supported")
    m, n = _matrix("set_diag", x)
    q = None if m is None or n is None else min(m, n)
    want = tuple(x.shape[:-2]) + (q,)
    if len(d.shape) != len(want) or any(a is not None and b is not None and a != b for a, b in zip(d.shape, want)):
        raise InvalidArgumentError(f"set_diag: diagonal must have shape {fmt(want)} ([..., min(M, N)]) for "
                                   f"input of shape {fmt(x.shape)}, got shape {fmt(d.shape)}")
    on_diag = einsum_p(d, _eye_like(m, q, x, (-2,), (-2, -1)), _eye_like(n, q, x, (-1,), (-2, -1)),
                       equation=_ell_eq(x.ndim - 2, "k", "ij", "ik", "jk"), bcast="")
    return _E().where(_band_mask(m, n, 0, 0, x), on_diag, x)


__all__ = ["matmul", "tensordot", "einsum", "norm"]
LINALG = ["matmul", "matvec", "tensordot", "einsum", "norm", "global_norm", "trace", "diag_part", "diag",
          "matrix_transpose", "adjoint", "eye", "band_part", "set_diag"]
