"""``tl.name_scope``: the stack of name prefixes for variables created eagerly (as TF 2)."""
import re
import threading

_state = threading.local()
_VALID = re.compile(r"^[A-Za-z0-9_.\\/>-]*$")


def current():
    """The current scope, ``""`` or ``"outer/inner/"``."""
    return getattr(_state, "scope", "")


def scoped(name):
    """``name`` under the current scope (how ``tl.Variable(name=...)`` is named)."""
    return current() + name


class name_scope:  # noqa: N801 (TF's name)
    """A context manager that prefixes the names of variables created inside it.

    ``with tl.name_scope("encoder") as scope:`` makes ``scope == "encoder/"`` (nested scopes
    join with ``/``; a name ending in ``/`` is taken as a whole scope, not nested).

    Example:
      >>> with tl.name_scope("dense"):
      ...     w = tl.Variable(tl.ones([2, 2]), name="w")
      >>> w.name
      'dense/w:0'
    """

    def __init__(self, name):
        if not isinstance(name, str):
            raise TypeError(f"name_scope: name must be a string, got {type(name).__name__}")
        if name and not _VALID.match(name):
            raise ValueError(f"name_scope: {name!r} is not a valid scope name (letters, digits and _ . / - >)")
        self._name = name
        self._saved = []

    @property
    def name(self):
        return self._name

    def __enter__(self):
        prev = current()
        self._saved.append(prev)
        if not self._name:
            scope = ""
        elif self._name.endswith("/"):
            scope = self._name
        else:
            scope = prev + self._name + "/"
        _state.scope = scope
        return scope

    def __exit__(self, *exc):
        _state.scope = self._saved.pop()
        return False
