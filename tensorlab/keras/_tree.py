"""Minimal nested-structure helpers (lists, tuples, dicts) for the Keras engine."""
from tensorlab.nest import _is_namedtuple


def flatten(struct):
    """Leaves of a nested list/tuple/dict structure (dicts in sorted-key order)."""
    out = []
    _flat(struct, out)
    return out


def _flat(s, out):
    if isinstance(s, (list, tuple)):
        for x in s:
            _flat(x, out)
    elif isinstance(s, dict):
        for k in sorted(s):
            _flat(s[k], out)
    else:
        out.append(s)


def map_structure(fn, struct):
    if isinstance(struct, list):
        return [map_structure(fn, x) for x in struct]
    if isinstance(struct, tuple):
        vals = [map_structure(fn, x) for x in struct]
        return type(struct)(*vals) if _is_namedtuple(struct) else tuple(vals)
    if isinstance(struct, dict):
        return {k: map_structure(fn, v) for k, v in struct.items()}
    return fn(struct)


def pack_like(struct, flat):
    """Rebuilds ``struct``'s nesting from the leaves ``flat`` (inverse of ``flatten``)."""
    it = iter(flat)
    return _pack(struct, it)


def _pack(s, it):
    if isinstance(s, list):
        return [_pack(x, it) for x in s]
    if isinstance(s, tuple):
        vals = [_pack(x, it) for x in s]
        return type(s)(*vals) if _is_namedtuple(s) else tuple(vals)
    if isinstance(s, dict):
        packed = {k: _pack(s[k], it) for k in sorted(s)}
        return {k: packed[k] for k in s}
    return next(it)


def is_nested(x):
    return isinstance(x, (list, tuple, dict))
