"""``tl.nest``: nested structures of lists, tuples, namedtuples and dicts (``tf.nest``).

Dicts (and other mappings) are visited in sorted-key order and rebuilt with their own type;
namedtuples keep their class; anything else (tensors, numbers, strings, None) is a leaf.
"""
import collections
import collections.abc as _abc

__all__ = ["is_nested", "flatten", "pack_sequence_as", "map_structure", "assert_same_structure"]


def _is_namedtuple(x):
    """True for an instance of a namedtuple class (the one test shared by ``tl.nest``,
    ``keras.tree``, the Keras engine's structure helpers and ``tl.data``)."""
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def is_nested(seq):
    """True for a list, tuple or mapping (a structure with children); False for a leaf."""
    return isinstance(seq, (list, tuple, _abc.Mapping))


def _children(s):
    if isinstance(s, _abc.Mapping):
        return [s[k] for k in _sorted_keys(s)]
    return list(s)


def _sorted_keys(m):
    try:
        return sorted(m)
    except TypeError:
        raise TypeError(f"nest: dictionary keys must be sortable; got keys {list(m)!r}") from None


def flatten(structure, expand_composites=False):
    """The leaves of ``structure`` in order (a leaf alone gives ``[leaf]``).

    Example:
      >>> tl.nest.flatten({"b": [1, 2], "a": (3, None)})
      [3, None, 1, 2]
    """
    out = []
    stack = [structure]
    while stack:
        s = stack.pop()
        if is_nested(s):
            stack.extend(reversed(_children(s)))
        else:
            out.append(s)
    return out


def _rebuild(s, children):
    if isinstance(s, _abc.Mapping):
        by_key = dict(zip(_sorted_keys(s), children))
        items = [(k, by_key[k]) for k in s]  # the mapping's own key order
        if type(s) is dict:
            return dict(items)
        if isinstance(s, collections.defaultdict):
            return type(s)(s.default_factory, items)
        return type(s)(items)
    if _is_namedtuple(s):
        return type(s)(*children)
    if type(s) in (tuple, list):
        return type(s)(children)
    return type(s)(children)


def _count(s):
    return sum(_count(c) for c in _children(s)) if is_nested(s) else 1


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """``flat_sequence`` (as many items as ``structure`` has leaves) put into ``structure``'s shape."""
    if not isinstance(flat_sequence, (list, tuple)):
        raise TypeError(f"pack_sequence_as: flat_sequence must be a list or tuple; got "
                        f"{type(flat_sequence).__name__}")
    flat = list(flat_sequence)
    need = _count(structure)
    if need != len(flat):
        raise ValueError(f"pack_sequence_as: the structure has {need} leaves but flat_sequence has {len(flat)} "
                         f"items. Structure: {structure!r}")
    it = iter(flat)

    def pack(s):
        if not is_nested(s):
            return next(it)
        return _rebuild(s, [pack(c) for c in _children(s)])
    return pack(structure)


def _kind(s):
    if isinstance(s, _abc.Mapping):
        return "mapping"
    if _is_namedtuple(s):
        return type(s)
    return type(s)


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    """Raises ``ValueError`` (different nesting or lengths) or ``TypeError`` (different sequence
    types, with ``check_types``) naming where the two structures differ."""
    def walk(a, b, path):
        na, nb = is_nested(a), is_nested(b)
        if na != nb:
            raise ValueError(f"The two structures don't have the same nested structure: at {path or 'the top'}, "
                             f"one is {'a sequence' if na else 'a leaf'} ({type(a).__name__}) and the other is "
                             f"{'a sequence' if nb else 'a leaf'} ({type(b).__name__})")
        if not na:
            return
        if check_types and _kind(a) != _kind(b) and not (isinstance(a, _abc.Mapping) and isinstance(b, _abc.Mapping)):
            raise TypeError(f"The two structures don't have the same sequence type at {path or 'the top'}: "
                            f"{type(a).__name__} vs {type(b).__name__}")
        if isinstance(a, _abc.Mapping) and isinstance(b, _abc.Mapping):
            if set(a) != set(b):
                raise ValueError(f"The two structures don't have the same keys at {path or 'the top'}: "
                                 f"{sorted(map(str, a))} vs {sorted(map(str, b))}")
            for k in _sorted_keys(a):
                walk(a[k], b[k], f"{path}[{k!r}]")
            return
        if len(a) != len(b):
            raise ValueError(f"The two structures don't have the same sequence length at {path or 'the top'}: "
                             f"{len(a)} vs {len(b)}")
        for i, (x, y) in enumerate(zip(a, b)):
            walk(x, y, f"{path}[{i}]")
    walk(nest1, nest2, "")


def map_structure(func, *structure, check_types=True, expand_composites=False):
    """``func`` applied to the corresponding leaves of one or more same-shaped structures.

    Example:
      >>> tl.nest.map_structure(lambda a, b: a + b, {"x": 1, "y": (2, 3)}, {"x": 10, "y": (20, 30)})
      {'x': 11, 'y': (22, 33)}
    """
    if not callable(func):
        raise TypeError(f"map_structure: func must be callable, got {type(func).__name__}")
    if not structure:
        raise ValueError("map_structure: give at least one structure")
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    flats = [flatten(s) for s in structure]
    return pack_sequence_as(structure[0], [func(*xs) for xs in zip(*flats)])
