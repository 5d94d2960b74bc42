"""numpy implementations of the indexing primitives (ops/indexing.py).

Index tensors are bounds-checked here, on every device, so an out-of-range
index is an InvalidArgumentError rather than a wrap-around or a crash.
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import indexing as I
from tensorlab.ops._rules import fmt


def _key(key, idx):
    out = []
    for e in key:
        if type(e) is tuple:
            out.append(slice(e[1], e[2], e[3]) if e[0] == "s" else idx[e[1]])
        else:
            out.append(e)
    return tuple(out)


def _check(idx, key, shape, op, negative):
    for pos, e in enumerate(key):
        if type(e) is not tuple or e[0] != "a":
            continue
        a, n = idx[e[1]], shape[pos]
        if a.size == 0:
            continue
        lo = -n if negative else 0
        bad = (a < lo) | (a >= n)
        if bad.any():
            v = int(a[bad].ravel()[0])
            raise InvalidArgumentError(f"{op}: index {v} is out of bounds for dimension {pos} with size {n} "
                                       f"(tensor shape {fmt(shape)}); valid indices are in [{lo}, {n})")


@impl(I.getitem_p, "cpu")
def getitem(x, key):
    return np.asarray(x[_key(key, ())])


@impl(I.getitem_grad_p, "cpu")
def getitem_grad(g, shape, key):
    out = np.zeros(shape, dtype=g.dtype)
    out[_key(key, ())] = g
    return out


@impl(I.gather_index_p, "cpu")
def gather_index(x, *idx, key, op, negative):
    _check(idx, key, x.shape, op, negative)
    return x[_key(key, idx)]


@impl(I.scatter_index_add_p, "cpu")
def scatter_index_add(u, *idx, shape, key, op, negative):
    _check(idx, key, shape, op, negative)
    out = np.zeros(shape, dtype=u.dtype)
    np.add.at(out, _key(key, idx), u)
    return out


@impl(I.scatter_index_update_p, "cpu")
def scatter_index_update(x, u, *idx, key, op, negative):
    _check(idx, key, x.shape, op, negative)
    out = x.copy()
    out[_key(key, idx)] = u
    return out
