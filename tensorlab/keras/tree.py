"""``keras.tree`` (Keras 3): nested structures of lists, tuples, namedtuples, deques and dicts.

As Keras' optree-based module: ``None`` is a leaf; dicts (and ``defaultdict``) are visited in
sorted-key order and rebuilt in their own key order; an ``OrderedDict`` keeps its insertion
order; ``dict``, ``OrderedDict`` and ``defaultdict`` with the same keys match each other,
while ``list``, ``tuple``, each namedtuple class and ``deque`` are distinct structures.
(``tl.nest`` follows ``tf.nest`` instead.)

    from tensorlab.keras import tree
    tree.map_structure(lambda x: x * 2, {"a": [1, 2], "b": 3})   # {'a': [2, 4], 'b': 6}
"""
import collections
import collections.abc as _abc

from tensorlab.nest import _is_namedtuple

__all__ = ["MAP_TO_NONE", "is_nested", "traverse", "flatten", "flatten_with_path", "map_structure",
           "map_structure_up_to", "assert_same_structure", "assert_same_paths", "pack_sequence_as",
           "lists_to_tuples", "map_shape_structure"]


class MAP_TO_NONE:
    """Returned by a ``traverse`` function to replace a sub-tree with None."""


def is_nested(structure):
    """True for a list, tuple, namedtuple, deque or mapping; False for a leaf (None included).

    Example:
      >>> tree.is_nested(42), tree.is_nested({"foo": 42})
      (False, True)
    """
    return isinstance(structure, (list, tuple, collections.deque, _abc.Mapping))


def _keys(m):
    if isinstance(m, collections.OrderedDict):
        return list(m)
    try:
        return sorted(m)
    except TypeError:
        raise TypeError(f"keras.tree: dictionary keys must be sortable, got keys {list(m)!r}") from None


def _children(s):
    """(path entries, children) of a node."""
    if isinstance(s, _abc.Mapping):
        keys = _keys(s)
        return keys, [s[k] for k in keys]
    return list(range(len(s))), list(s)


def _rebuild(s, children):
    if isinstance(s, _abc.Mapping):
        by_key = dict(zip(_keys(s), children))
        items = [(k, by_key[k]) for k in s]  # the mapping's own key order
        if isinstance(s, collections.defaultdict):
            return type(s)(s.default_factory, items)
        return dict(items) if type(s) is dict else type(s)(items)
    if _is_namedtuple(s):
        return type(s)(*children)
    if isinstance(s, collections.deque):
        return collections.deque(children, maxlen=s.maxlen)
    return type(s)(children)


def _node_kind(s):
    return "mapping" if isinstance(s, _abc.Mapping) else type(s)


def _mismatch(a, b, path):
    """A description of how nodes ``a`` and ``b`` differ (None if they match as nodes)."""
    if _node_kind(a) != _node_kind(b):
        return f"at {path or 'the top'}: node type {type(a).__module__}.{type(a).__qualname__} vs " \
            f"{type(b).__module__}.{type(b).__qualname__}"
    if isinstance(a, _abc.Mapping):
        if set(a) != set(b):
            return f"at {path or 'the top'}: keys {sorted(map(str, a))} vs {sorted(map(str, b))}"
    elif len(a) != len(b):
        return f"at {path or 'the top'}: {len(a)} vs {len(b)} children"
    return None


def traverse(func, structure, top_down=True):
    """Applies ``func`` to every sub-tree, depth first.

    Top down: a non-None ``func(subtree)`` replaces the subtree and stops the descent into it.
    Bottom up: children first; a non-None result replaces the (already traversed) subtree.
    Return ``MAP_TO_NONE`` to replace a subtree with None.

    Example:
      >>> tree.traverse(lambda x: x * 10 if isinstance(x, int) else None, [1, (2,)], top_down=False)
      [10, (20,)]
    """
    if not callable(func):
        raise TypeError(f"traverse: func must be callable, got {type(func).__name__}")

    def walk(s):
        def children():
            if not is_nested(s):
                return s
            return _rebuild(s, [walk(c) for c in _children(s)[1]])
        if top_down:
            out = func(s)
            if out is None:
                return children()
        else:
            s = children()
            out = func(s)
            if out is None:
                return s
        return None if out is MAP_TO_NONE else out
    return walk(structure)


def flatten(structure):
    """The leaves of ``structure`` in order (a leaf alone, None too, gives ``[leaf]``).

    Example:
      >>> tree.flatten({100: "world!", 6: "Hello"})
      ['Hello', 'world!']
    """
    return [leaf for _, leaf in flatten_with_path(structure)]


def flatten_with_path(structure):
    """``(path, leaf)`` pairs; a path is the tuple of indices and keys leading to the leaf.

    Example:
      >>> tree.flatten_with_path([{"foo": 42}])
      [((0, 'foo'), 42)]
    """
    out = []

    def walk(s, path):
        if not is_nested(s):
            out.append((path, s))
            return
        for key, child in zip(*_children(s)):
            walk(child, path + (key,))
    walk(structure, ())
    return out


def map_structure(func, *structures, none_is_leaf=True):
    """``func`` applied to the matching leaves of one or more structures of one layout.

    Args:
      none_is_leaf: with False, None values are kept as None instead of passed to ``func``.

    Example:
      >>> tree.map_structure(lambda x, y: x * y, [[1], [2]], [[3], [4]])
      [[3], [8]]
    """
    if not callable(func):
        raise TypeError(f"map_structure: func must be callable, got {type(func).__name__}")
    if not structures:
        raise ValueError("map_structure: give at least one structure")
    return _map("map_structure", func, structures, none_is_leaf)


def _map(name, func, structures, none_is_leaf=True):
    def walk(items, path):
        first = items[0]
        if first is None and not none_is_leaf:
            if any(x is not None for x in items[1:]):
                raise ValueError(f"{name}: the structures differ at {path or 'the top'}: None vs a value")
            return None
        if not is_nested(first) or any(not is_nested(x) for x in items[1:]):
            if any(is_nested(x) for x in items):
                raise ValueError(f"{name}: the structures don't have the same nested structure at "
                                 f"{path or 'the top'}: {[type(x).__name__ for x in items]}")
            return func(*items)
        for other in items[1:]:
            why = _mismatch(first, other, path)
            if why:
                raise ValueError(f"{name}: the structures don't have the same nested structure {why}")
        keys, children = _children(first)
        others = [[o[k] for k in keys] for o in items[1:]]
        return _rebuild(first, [walk([c] + [o[i] for o in others], f"{path}[{k!r}]")
                                for i, (k, c) in enumerate(zip(keys, children))])
    return walk(list(structures), "")


def map_structure_up_to(shallow_structure, func, *structures):
    """``map_structure`` down to the leaves of ``shallow_structure`` only: deeper parts of
    ``structures`` reach ``func`` whole.

    Example:
      >>> tree.map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]])
      ['[1, 1]', ['2', '2']]
    """
    if not callable(func):
        raise TypeError(f"map_structure_up_to: func must be callable, got {type(func).__name__}")
    if not structures:
        raise ValueError("map_structure_up_to: give at least one structure")

    def walk(shallow, items, path):
        if not is_nested(shallow):
            return func(*items)
        for other in items:
            if not is_nested(other):
                raise ValueError(f"map_structure_up_to: a structure is shallower than shallow_structure at "
                                 f"{path or 'the top'}")
            why = _mismatch(shallow, other, path)
            if why:
                raise ValueError(f"map_structure_up_to: the structures don't match shallow_structure {why}")
        keys, children = _children(shallow)
        return _rebuild(shallow, [walk(c, [o[k] for o in items], f"{path}[{k!r}]") for k, c in zip(keys, children)])
    return walk(shallow_structure, list(structures), "")


def assert_same_structure(a, b, check_types=None):
    """Raises ``ValueError`` naming where ``a`` and ``b`` are nested differently.

    ``list``, ``tuple``, each namedtuple class and ``deque`` differ; dict-like types with the
    same keys match. ``check_types`` is deprecated in Keras and has no effect.
    """
    _map("assert_same_structure", lambda *_: None, (a, b))


def assert_same_paths(a, b):
    """Raises ``ValueError`` if ``a`` and ``b`` have different leaf paths (node types are ignored).

    Example:
      >>> tree.assert_same_paths([0, 1], (2, 3))   # passes
    """
    pa = {p for p, _ in flatten_with_path(a)}
    pb = {p for p, _ in flatten_with_path(b)}
    if pa != pb:
        msg = "assert_same_paths: `a` and `b` don't have the same paths."
        if pa - pb:
            msg += f"\nPaths in `a` missing in `b`:\n{pa - pb}"
        if pb - pa:
            msg += f"\nPaths in `b` missing in `a`:\n{pb - pa}"
        raise ValueError(msg)


def pack_sequence_as(structure, flat_sequence):
    """``flat_sequence`` (one item per leaf of ``structure``) put into ``structure``'s layout.

    Example:
      >>> tree.pack_sequence_as((("a", "b"), "c"), [1, 2, 3])
      ((1, 2), 3)
    """
    if not isinstance(flat_sequence, (list, tuple)):
        raise TypeError(f"pack_sequence_as: flat_sequence must be a list or tuple, got "
                        f"{type(flat_sequence).__name__}")
    need = len(flatten_with_path(structure))
    if need != len(flat_sequence):
        raise ValueError(f"pack_sequence_as: the structure has {need} leaves but flat_sequence has "
                         f"{len(flat_sequence)} items. Structure: {structure!r}")
    it = iter(flat_sequence)
    return _map("pack_sequence_as", lambda _: next(it), (structure,))


def lists_to_tuples(structure):
    """``structure`` with every list turned into a tuple.

    Example:
      >>> tree.lists_to_tuples([1, [2, {"a": [3]}]])
      (1, (2, {'a': (3,)}))
    """
    return traverse(lambda s: tuple(s) if isinstance(s, list) else None, structure, top_down=False)


def _is_shape(x):
    return isinstance(x, (list, tuple)) and not _is_namedtuple(x) and \
        all(isinstance(e, (int, type(None))) and not isinstance(e, bool) for e in x)


def map_shape_structure(func, structure):
    """``map_structure`` where lists/tuples of ints and Nones count as leaves (shapes).

    Example:
      >>> tree.map_shape_structure(len, {"a": (1, None, 3), "b": [(2,), [4, 5]]})
      {'a': 3, 'b': [1, 2]}
    """
    if not callable(func):
        raise TypeError(f"map_shape_structure: func must be callable, got {type(func).__name__}")

    def apply(s):
        if is_nested(s) and not _is_shape(s):
            return None  # descend
        out = func(s)
        return MAP_TO_NONE if out is None else out
    return traverse(apply, structure, top_down=True)
