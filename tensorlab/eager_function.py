"""``tl.function``: TF's ``tf.function`` decorator, running the Python function eagerly.

tensorlab has no graph tracer yet, so a ``tl.function`` calls its Python
function on every call, exactly as TF does under
``tf.config.run_functions_eagerly(True)``: Python side effects happen each
time, ops run one by one, and ``GradientTape`` records them as usual. What it
does do is what a ported script relies on:

- the decorator forms ``@tl.function``, ``@tl.function(...)`` and
  ``tl.function(f)``, with TF's arguments (accepted; nothing is compiled);
- methods: a ``tl.function`` in a class is bound per instance, like TF's;
- ``python_function`` (the wrapped function) and ``input_signature``;
- with ``input_signature`` (a list of ``tl.TensorSpec``), arguments are
  converted to tensors and checked against their specs: a wrong dtype raises
  ``TypeError``, a wrong rank or shape ``ValueError``, each naming the
  function, the argument and the spec.
"""
import functools
import inspect
import types
import weakref

from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable, convert_to_tensor


class Function:
    """A callable made by ``tl.function``; calls ``python_function`` eagerly."""

    def __init__(self, python_function, input_signature=None, autograph=True, jit_compile=None,
                 reduce_retracing=False, experimental_implements=None, experimental_autograph_options=None,
                 experimental_attributes=None, experimental_relax_shapes=None, experimental_compile=None,
                 experimental_follow_type_hints=None, _instance=None):
        if not callable(python_function):
            raise TypeError(f"function: expected a callable to wrap, got {type(python_function).__name__}")
        self._fn = python_function
        self._instance = _instance  # for a method: a weak reference to (or a callable giving) its instance
        functools.update_wrapper(self, python_function, updated=())
        if _instance is not None:  # inspect.signature of a bound Function leaves out `self`, as for methods
            try:
                sig = inspect.signature(python_function)
                self.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])
            except (TypeError, ValueError):
                pass
        self._options = dict(autograph=autograph, jit_compile=jit_compile, reduce_retracing=reduce_retracing,
                             experimental_implements=experimental_implements,
                             experimental_autograph_options=experimental_autograph_options,
                             experimental_attributes=experimental_attributes,
                             experimental_relax_shapes=experimental_relax_shapes,
                             experimental_compile=experimental_compile,
                             experimental_follow_type_hints=experimental_follow_type_hints)
        self._input_signature = _check_signature(self.python_function, input_signature)
        self._bound = weakref.WeakKeyDictionary()

    @property
    def python_function(self):
        """The Python function this wraps (a bound method when reached through an instance)."""
        if self._instance is None:
            return self._fn
        instance = self._instance()
        if instance is None:
            raise ReferenceError(f"function: the instance that {_name(self._fn)} was bound to no longer exists")
        return types.MethodType(self._fn, instance)

    @property
    def input_signature(self):
        """The ``input_signature`` given to ``tl.function`` (a tuple), or None."""
        return self._input_signature

    def __call__(self, *args, **kwargs):
        fn = self.python_function
        if self._input_signature is not None:
            args, kwargs = _bind_to_signature(fn, self._input_signature, args, kwargs)
        return fn(*args, **kwargs)

    def __get__(self, instance, owner=None):
        # Like TF: one bound Function per instance (so `obj.f is obj.f`), holding the instance weakly so
        # the cache does not keep it alive.
        if instance is None or self._instance is not None:
            return self
        try:
            return self._bound[instance]
        except (KeyError, TypeError):
            pass
        try:
            ref = weakref.ref(instance)
        except TypeError:  # not weak-referenceable: hold it, and do not cache
            ref = lambda: instance  # noqa: E731
        bound = Function(self._fn, self._input_signature, _instance=ref, **self._options)
        try:
            self._bound[instance] = bound
        except TypeError:  # not hashable or not weak-referenceable: bind afresh each time
            pass
        return bound

    def experimental_get_tracing_count(self):
        """0: calls run eagerly, nothing is traced."""
        return 0

    def __repr__(self):
        return f"<tl.function {_name(self._fn)} (runs eagerly)>"


def function(func=None, input_signature=None, autograph=True, jit_compile=None, reduce_retracing=False,
             experimental_implements=None, experimental_autograph_options=None, experimental_attributes=None,
             experimental_relax_shapes=None, experimental_compile=None, experimental_follow_type_hints=None):
    """Makes ``func`` a ``tl.function`` (``tf.function``): it runs eagerly, as Python.

    Use it as ``@tl.function``, ``@tl.function(input_signature=...)`` or
    ``tl.function(f)``; on plain functions and on methods.

    Args:
      func: the function to wrap; None returns a decorator.
      input_signature: optional list (or tuple) of ``tl.TensorSpec`` (nested
        lists/tuples/dicts of specs for structured arguments), one per
        positional argument. Arguments are converted to tensors (Python and
        numpy integers take the spec's dtype, and floats a float spec's) and
        must match: a dtype mismatch raises ``TypeError``, a rank or shape
        mismatch ``ValueError``. Tensors are never cast.
      autograph, jit_compile, reduce_retracing, experimental_*: accepted for
        TF compatibility; there is no tracing or compilation yet.

    Returns:
      A ``Function`` (with ``python_function``), or a decorator when ``func`` is None.

    Example:
      >>> @tl.function(input_signature=[tl.TensorSpec([None], tl.float32)])
      ... def double(x):
      ...     return x * 2
      >>> double([1, 2]).numpy()
      array([2., 4.], dtype=float32)
    """
    options = dict(input_signature=input_signature, autograph=autograph, jit_compile=jit_compile,
                   reduce_retracing=reduce_retracing, experimental_implements=experimental_implements,
                   experimental_autograph_options=experimental_autograph_options,
                   experimental_attributes=experimental_attributes,
                   experimental_relax_shapes=experimental_relax_shapes, experimental_compile=experimental_compile,
                   experimental_follow_type_hints=experimental_follow_type_hints)
    if func is None:
        return lambda f: Function(f, **options)
    return Function(func, **options)


# ----------------------------------------------------------------- input_signature
def _name(fn):
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__


def _leaves(spec):
    if isinstance(spec, dict):
        return [x for k in spec for x in _leaves(spec[k])]
    if isinstance(spec, (list, tuple)):
        return [x for s in spec for x in _leaves(s)]
    return [spec]


def _check_signature(fn, sig):
    if sig is None:
        return None
    if not isinstance(sig, (list, tuple)):
        raise TypeError(f"function: input_signature of {_name(fn)} must be a list or tuple of tl.TensorSpec, "
                        f"got {type(sig).__name__}")
    for s in _leaves(sig):
        if not isinstance(s, TensorSpec):
            raise TypeError(f"function: input_signature of {_name(fn)} must hold only tl.TensorSpec (in nested "
                            f"lists, tuples or dicts), got {s!r}")
    params = _positional(fn)
    params = None if params is None else list(params)
    if params is not None and len(sig) > len(params):
        raise TypeError(f"function: input_signature of {_name(fn)} has {len(sig)} entries but the function takes "
                        f"only {len(params)} positional arguments ({', '.join(params)})")
    return tuple(sig)


def _positional(fn):
    """Names of ``fn``'s positional parameters, or None when it takes ``*args``."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return {p.name: p.default for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)}


def _varargs(fn):
    try:
        return next(p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.VAR_POSITIONAL)
    except (TypeError, ValueError, StopIteration):
        return "args"


def _bind_to_signature(fn, sig, args, kwargs):
    """Checks and converts the arguments covered by ``sig``; returns (args, kwargs)."""
    defaults = _positional(fn)
    params = [f"{_varargs(fn)}[{i}]" for i in range(len(sig))] if defaults is None else list(defaults)
    args, kwargs = list(args), dict(kwargs)
    if len(args) > len(sig):
        raise TypeError(f"{_name(fn)}: its input_signature has {len(sig)} entries, so it takes at most {len(sig)} "
                        f"arguments, but {len(args)} positional arguments were given")
    for i, p in enumerate(params[:len(sig)]):
        if i < len(args):
            if p in kwargs:
                raise TypeError(f"{_name(fn)}: got multiple values for argument '{p}'")
        elif p in kwargs:
            args.append(kwargs.pop(p))
        elif defaults is not None and defaults[p] is not inspect.Parameter.empty:
            args.append(defaults[p])
        else:
            raise TypeError(f"{_name(fn)}: missing argument '{p}' required by input_signature[{i}] {sig[i]!r}")
    extra = [p for p in params[len(sig):] if p in kwargs]
    if extra:
        raise TypeError(f"{_name(fn)}: argument(s) {extra} are not in the input_signature ({len(sig)} entries, "
                        f"for {params[:len(sig)]}) and cannot be given")
    return [_conform(fn, params[i], f"input_signature[{i}]", a, s)
            for i, (a, s) in enumerate(zip(args, sig))], kwargs


def _conform(fn, arg, where, value, spec):
    """``value`` as a tensor (or structure of tensors) matching ``spec``, or a TypeError/ValueError."""
    if isinstance(spec, (list, tuple, dict)):
        kind = "dict" if isinstance(spec, dict) else "list or tuple"
        ok = isinstance(value, dict) if isinstance(spec, dict) else isinstance(value, (list, tuple))
        if not ok or len(value) != len(spec) or (isinstance(spec, dict) and set(value) != set(spec)):
            raise ValueError(f"{_name(fn)}: argument '{arg}' = {_show(value)} does not match {where} {spec!r}: "
                             f"expected a {kind} with the same structure")
        if isinstance(spec, dict):
            return {k: _conform(fn, arg, f"{where}[{k!r}]", value[k], spec[k]) for k in spec}
        out = [_conform(fn, arg, f"{where}[{i}]", v, s) for i, (v, s) in enumerate(zip(value, spec))]
        return type(value)(*out) if hasattr(value, "_fields") else type(value)(out)
    x = value
    if not isinstance(value, (Tensor, Variable, SymbolicTensor)):
        try:
            x = convert_to_tensor(value)
            # Python and numpy numbers take the spec's dtype where TF converts them: integers to any number
            # type, floats to floats (never a float to an integer, or a bool to a number).
            if x.dtype != spec.dtype and (
                    (x.dtype.is_integer and (spec.dtype.is_integer or spec.dtype.is_floating))
                    or (x.dtype.is_floating and spec.dtype.is_floating)):
                x = convert_to_tensor(value, dtype=spec.dtype)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{_name(fn)}: argument '{arg}' = {_show(value)} cannot be converted to a tensor "
                            f"for {where} {spec!r}: {e}") from None
    if x.dtype != spec.dtype:
        raise TypeError(f"{_name(fn)}: argument '{arg}' has dtype {x.dtype.name}, which does not match {where} "
                        f"{spec!r}; the dtypes must be equal (use tl.cast)")
    if not spec.shape.is_compatible_with(x.shape):
        what = "rank" if len(x.shape) != len(spec.shape) else "shape"
        raise ValueError(f"{_name(fn)}: argument '{arg}' has shape {x.shape}, whose {what} does not match "
                         f"{where} {spec!r}")
    return x


def _show(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."

