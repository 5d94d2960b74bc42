"""The one op registry: primitives, their per-backend implementations, dispatch.

A primitive is defined once, in ``tensorlab/ops/<family>.py``::

    add_p = primitive("add", shape_rule=broadcast_rule)

    @defgrad(add_p)
    def _add_grad(g, out, x, y):
        return g, g            # the autodiff engine undoes broadcasting

and gets one implementation per backend, in ``backend/cpu/<family>.py`` and
``backend/cuda/<family>.py``::

    @impl(add_p, "cpu")
    def add(x, y):
        return np.add(x, y)

Calling a primitive with tensors (``add_p(x, y)``) checks that all inputs sit
on one device, runs that device's implementation on the raw arrays, wraps the
result and, if a ``GradientTape`` watches an input, records the call. With a
symbolic input (Keras' Functional API) it runs the shape rule instead. A
``composite`` (an op of other ops that needs concrete shapes) does the same with
symbolic inputs, so the Functional API records it like a primitive.
"""
import threading

from tensorlab.errors import InvalidArgumentError, OpError, UnimplementedError

REGISTRY = {}
NOT_DIFFERENTIABLE = "not differentiable"


class _State(threading.local):
    """Per-thread autodiff state: the tapes that are recording right now."""

    def __init__(self):
        self.tapes = []


STATE = _State()
# Filled in by tensorlab.core.tensor / autodiff (they import this module).
_hooks = {"wrap": None, "symbolic": None, "spec_of": None}
_record = None  # autodiff's recorder; set by tensorlab.core.autodiff


class Primitive:
    """A primitive op: name, shape/dtype rule, gradient rule, per-backend impls.

    Args:
      name: the op name used in errors and registry listings.
      shape_rule: ``rule(*specs, **params) -> TensorSpec`` (or a tuple of
        specs when ``multiple_results``); raises ``InvalidArgumentError`` with
        a clear message for invalid inputs. Works without data.
      multiple_results: the implementation returns a tuple of arrays.
      saved_outputs: indices of outputs the gradient rule reads (e.g. a fused norm's
        statistics): a tape keeps them while the op's other outputs live, even if the
        caller drops them, and the rule gets None (not zeros) as the gradient of a saved
        output that no gradient reached. At least one output must not be saved.
    """

    __slots__ = ("name", "shape_rule", "_grad", "diff", "impls", "multiple_results", "fallbacks", "doc",
                 "saved_outputs")

    def __init__(self, name, shape_rule, multiple_results=False, doc="", saved_outputs=()):
        self.name = name
        self.saved_outputs = tuple(saved_outputs)  # outputs the gradient rule reads even if the caller drops them
        self.shape_rule = shape_rule
        self._grad = None
        self.diff = False  # has a gradient rule (recorded on tapes)
        self.impls = {}
        self.fallbacks = {}  # backend kind -> reason a library call stands in for our kernel
        self.multiple_results = multiple_results
        self.doc = doc

    def __repr__(self):
        return f"<primitive {self.name}>"

    @property
    def grad(self):
        """The gradient rule, ``NOT_DIFFERENTIABLE``, or None (not yet defined)."""
        return self._grad

    @grad.setter
    def grad(self, rule):
        self._grad = rule
        self.diff = rule is not None and rule is not NOT_DIFFERENTIABLE

    def abstract_eval(self, *specs, **params):
        """Runs the shape/dtype rule on specs (no data)."""
        return self.shape_rule(*specs, **params)

    def create(self, dev, **params):
        """Runs a creation primitive (no tensor inputs) on device ``dev``."""
        if dev.kind == "symbolic":
            from tensorlab.core import device as _d
            dev = _d.default_device()
        fn = self.impls.get(dev.kind)
        if fn is None:
            dev.backend  # backends register their implementations when first imported
            fn = self.impls.get(dev.kind)
            if fn is None:
                return _no_impl(self, dev, (), params)
        try:
            if dev.needs_context:
                with dev.context():
                    out = fn(**params)
            else:
                out = fn(**params)
        except Exception as e:
            raise _op_error(self, (), params, e) from e
        return _hooks["wrap"](out, dev)

    def __call__(self, *args, **params):
        dev = args[0]._device
        for a in args:
            if a._device is not dev:
                return _mixed_devices(self, args, params)
        fn = self.impls.get(dev.kind)
        if fn is None:
            if dev.kind != "symbolic":
                dev.backend  # backends register their implementations when first imported
                fn = self.impls.get(dev.kind)
            if fn is None:
                return _no_impl(self, dev, args, params)
        try:
            if dev.needs_context:
                with dev.context():
                    out = fn(*[a._data for a in args], **params)
            else:
                out = fn(*[a._data for a in args], **params)
        except Exception as e:  # turn raw numpy/CuPy errors into op errors
            out = _recover(self, fn, dev, args, params, e)
        wrap = _hooks["wrap"]
        res = tuple(wrap(o, dev) for o in out) if self.multiple_results else wrap(out, dev)
        if STATE.tapes and self.diff:
            _record(self._grad, self.name, args, params, res, self.saved_outputs)
        return res


def primitive(name, shape_rule, multiple_results=False, doc="", saved_outputs=()):
    """Creates and registers a primitive (see ``Primitive``)."""
    if name in REGISTRY:
        raise ValueError(f"primitive {name!r} is already registered")
    if saved_outputs and not multiple_results:
        raise ValueError(f"primitive {name!r}: saved_outputs needs multiple_results")
    p = Primitive(name, shape_rule, multiple_results, doc, saved_outputs)
    REGISTRY[name] = p
    return p


class Composite:
    """An op written with other ops whose index arithmetic needs concrete shapes (ranges over
    batch dims), so it cannot run op by op on symbolic tensors.

    On eager tensors it calls ``fn(*args, **params)``. With a symbolic input it runs
    ``shape_rule`` through the same hook as a primitive, so the Functional API records the
    call as one node (a ``keras.Model`` replays ``fn`` on data) and stays on its graph.
    Not registered: it has no backend implementations and no gradient rule of its own.
    """

    def __init__(self, name, fn, shape_rule, multiple_results=False):
        self.name, self.fn, self.shape_rule = name, fn, shape_rule
        self.multiple_results = multiple_results

    def __repr__(self):
        return f"<composite {self.name}>"

    def __call__(self, *args, **params):
        if any(a._device.kind == "symbolic" for a in args):
            return _hooks["symbolic"](self, args, params)
        return self.fn(*args, **params)


def composite(name, shape_rule, multiple_results=False):
    """Decorator making ``fn(*tensors, **params)`` a ``Composite`` with this shape rule."""
    def deco(fn):
        return Composite(name, fn, shape_rule, multiple_results)
    return deco


def impl(prim, kind, fallback=None):
    """Decorator attaching ``fn`` as ``prim``'s implementation on backend ``kind``.

    ``fallback``: for the CUDA backend, a short reason when the implementation
    is a library call (CuPy built-in) rather than one of our kernels.
    """
    def deco(fn):
        prim.impls[kind] = fn
        if fallback:
            prim.fallbacks[kind] = fallback
        return fn
    return deco


def defgrad(prim):
    """Decorator setting ``prim``'s gradient rule ``rule(g, out, *inputs, **params)``.

    The rule returns one gradient per input: a tensor, ``None`` where none
    flows, or a zero-argument callable that computes it, which the engine
    calls only if that input's gradient is needed (e.g. a conv's input
    gradient for the data, which nobody asks for). It is
    written with tensorlab ops, so it runs on every device and can itself be
    differentiated by an outer tape.
    """
    def deco(fn):
        prim.grad = fn
        return fn
    return deco


def not_differentiable(*prims):
    """Marks primitives whose outputs carry no gradient (integer/bool results)."""
    for p in prims:
        p.grad = NOT_DIFFERENTIABLE


def _specs(args):
    spec_of = _hooks["spec_of"]
    return [spec_of(a) for a in args]


def _describe(args):
    parts = []
    for i, a in enumerate(args):
        try:
            parts.append(f"#{i} shape={tuple(a.shape)} dtype={a.dtype.name} device={a._device.short_name}")
        except Exception:
            parts.append(f"#{i} {type(a).__name__}")
    return "; ".join(parts)


def _mixed_devices(prim, args, params):
    if any(a._device.kind == "symbolic" for a in args):
        return _hooks["symbolic"](prim, args, params)
    devs = []
    for a in args:
        if a._device not in devs:
            devs.append(a._device)
    raise InvalidArgumentError(
        f"{prim.name}: inputs live on different devices ({' and '.join(d.name for d in devs)}); "
        f"inputs: {_describe(args)}. Copy them to one device first, e.g. with tensor.cpu(), "
        "tensor.gpu() or tl.identity under tl.device(...)")


def _no_impl(prim, dev, args, params):
    if dev.kind == "symbolic":
        return _hooks["symbolic"](prim, args, params)
    raise UnimplementedError(
        f"{prim.name}: no {dev.kind.upper()} implementation is registered for this primitive "
        f"(device {dev.name}); registered backends: {sorted(prim.impls) or 'none'}")


def _recover(prim, fn, dev, args, params, err):
    """Retries once after a GPU out-of-memory error (cached pool blocks are
    freed first, so the process stays usable); otherwise raises an op error."""
    if isinstance(err, MemoryError) and dev.kind == "cuda":
        try:
            dev.backend.release_cached_memory(dev.index)
            with dev.context():
                return fn(*[a._data for a in args], **params)
        except Exception as e2:
            err = e2
    raise _op_error(prim, args, params, err) from err


def _op_error(prim, args, params, err):
    if isinstance(err, (OpError, TypeError)):
        return err
    if isinstance(err, MemoryError):
        from tensorlab.errors import ResourceExhaustedError
        detail = str(err)
        dev = args[0]._device if args else None
        if dev is not None and dev.kind == "cuda":
            try:
                from tensorlab.backend.cuda import memory
                detail = memory.describe_oom(dev.index, err)
            except Exception:
                pass
        return ResourceExhaustedError(f"{prim.name}: out of memory: {detail}; inputs: {_describe(args)}")
    # Ask the shape rule, which knows how to explain bad shapes and values.
    try:
        prim.shape_rule(*_specs(args), **params)
    except (OpError, TypeError, ValueError) as rule_err:
        return rule_err
    except Exception:
        pass
    p = ", ".join(f"{k}={v!r}" for k, v in params.items())
    return InvalidArgumentError(
        f"{prim.name}: {type(err).__name__}: {err}; inputs: {_describe(args)}"
        + (f"; params: {p}" if p else ""))
