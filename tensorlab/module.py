"""``tl.Module``: a named container of variables and sub-modules (TF's ``tf.Module``).

Variables and sub-modules are found by walking the instance's attributes (sorted by name, into
lists, tuples and dicts), as TF does; Keras layers count as sub-modules. ``tl.train.Checkpoint``
saves a module's variables under their attribute paths.
"""
import functools
import re

from tensorlab.core.name_scope import name_scope
from tensorlab.core.variables import Variable

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IGNORED = ("_name", "_name_scope", "_scope_name")


def _camel_to_snake(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s).lower()


def _is_layer(x):
    from tensorlab.keras.layers.base import Layer
    return isinstance(x, Layer)


def _is_optimizer(x):
    from tensorlab.keras.optimizers.base import Optimizer
    return isinstance(x, Optimizer)


def _leaves(value, path):
    """``(path, leaf)`` for each leaf of nested lists / tuples / dicts (dicts in key order)."""
    if isinstance(value, dict):
        for k in sorted(value, key=str):
            yield from _leaves(value[k], path + (k,))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _leaves(v, path + (i,))
    else:
        yield path, value


class Module:
    """Base class of objects that own variables, as ``tf.Module``.

    Args:
      name: the module's name, a Python identifier (default: the class name in snake_case);
        variables created under ``self.name_scope`` are named ``<name>/...``.

    Example:
      >>> class Dense(tl.Module):
      ...     def __init__(self, n_in, n_out, name=None):
      ...         super().__init__(name=name)
      ...         with self.name_scope:
      ...             self.w = tl.Variable(tl.random.normal([n_in, n_out]), name="w")
      ...             self.b = tl.Variable(tl.zeros([n_out]), name="b")
      ...     def __call__(self, x):
      ...         return tl.nn.relu(x @ self.w + self.b)
      >>> [v.name for v in Dense(3, 2).trainable_variables]
      ['dense/b:0', 'dense/w:0']
    """

    def __init__(self, name=None):
        if name is None:
            name = _camel_to_snake(type(self).__name__)
        elif not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise ValueError(f"{name!r} is not a valid module name. Module names must be valid Python identifiers "
                             "(e.g. a valid class name)")
        self._name = name
        with name_scope(name) as scope:
            self._scope_name = scope
        self._name_scope = name_scope(self._scope_name)

    @property
    def name(self):
        return self._name

    @property
    def name_scope(self):
        """The module's ``tl.name_scope`` (enter it to name variables ``<module>/...``)."""
        return self._name_scope

    def _flatten(self, predicate, recursive=True):
        seen, out, queue = set(), [], [self]
        visited = {id(self)}
        while queue:
            mod = queue.pop(0)
            if _is_layer(mod):  # a Keras layer's weights, as Keras tracks them
                for v in mod.variables:
                    if predicate(v) and id(v) not in seen:
                        seen.add(id(v))
                        out.append(v)
                continue
            subs = []
            for key in sorted(vars(mod)):
                if key in _IGNORED:
                    continue
                for _, leaf in _leaves(vars(mod)[key], (key,)):
                    if predicate(leaf) and id(leaf) not in seen:
                        seen.add(id(leaf))
                        out.append(leaf)
                    if recursive and (isinstance(leaf, Module) or _is_layer(leaf)) and id(leaf) not in visited:
                        visited.add(id(leaf))
                        subs.append(leaf)
            queue.extend(subs)
        return out

    @property
    def variables(self):
        """Every variable of this module and its sub-modules (each once)."""
        return tuple(self._flatten(lambda x: isinstance(x, Variable)))

    @property
    def trainable_variables(self):
        return tuple(self._flatten(lambda x: isinstance(x, Variable) and x.trainable))

    @property
    def non_trainable_variables(self):
        return tuple(self._flatten(lambda x: isinstance(x, Variable) and not x.trainable))

    @property
    def submodules(self):
        """Every module (and Keras layer) reachable from this one, nearest first."""
        return tuple(m for m in self._flatten(lambda x: isinstance(x, Module) or _is_layer(x)) if m is not self)

    def _checkpoint_children(self):
        """``(attribute path, object)`` for what ``tl.train.Checkpoint`` saves under this module."""
        for key in sorted(vars(self)):
            if key in _IGNORED:
                continue
            for path, leaf in _leaves(vars(self)[key], (key,)):
                if isinstance(leaf, (Variable, Module)) or _is_layer(leaf) or _is_optimizer(leaf):
                    yield "/".join(str(p) for p in path), leaf

    @classmethod
    def with_name_scope(cls, method):
        """Decorates a method to run inside the module's name scope."""
        @functools.wraps(method)
        def wrapped(self, *args, **kwargs):
            with self.name_scope:
                return method(self, *args, **kwargs)
        return wrapped

    def __repr__(self):
        return f"<{type(self).__module__}.{type(self).__name__} name={self._name!r}>"
