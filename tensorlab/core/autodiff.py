"""Reverse-mode autodiff: ``GradientTape``, ``custom_gradient``, jacobians.

A tape records each primitive call whose inputs it watches (see
``registry.Primitive.__call__``). ``gradient`` walks the recorded calls
backwards and applies each primitive's gradient rule. Rules are written with
tensorlab ops, so while an outer tape is recording, the backward pass is
itself recorded and can be differentiated again (higher-order gradients).
Broadcasting is undone here, once, not in every rule.
"""
import enum
import functools
import weakref

from tensorlab.core import device as _device_mod
from tensorlab.core import registry as _reg
from tensorlab.core import tensor as _tensor
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable


class UnconnectedGradients(enum.Enum):
    """What ``gradient`` returns for a source the target does not depend on."""
    NONE = "none"
    ZERO = "zero"


def _record(rule, name, args, params, res, saved=()):
    for tape in _reg.STATE.tapes:
        w = tape._watched
        for a in args:
            if id(a) in w:
                break
        else:
            continue
        tape._add_node(rule, name, args, params, res, saved)


_reg._record = _record


class _Held:
    """A strong reference with a weak reference's call syntax (a saved output of a node)."""
    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj

    def __call__(self):
        return self.obj


def record_custom(rule, name, args, res):
    """Records a call with a hand-written rule ``rule(g, out, *args)`` on active tapes."""
    if _reg.STATE.tapes:
        _record(rule, name, tuple(args), {}, res)


def _flatten(struct):
    """Flattens nested lists/tuples/dicts; returns (leaves, rebuild)."""
    if isinstance(struct, dict):
        keys = sorted(struct)
        parts = [_flatten(struct[k]) for k in keys]
        leaves = [x for p in parts for x in p[0]]

        def rebuild(vals):
            out, i = {}, 0
            for k, (lv, rb) in zip(keys, parts):
                out[k] = rb(vals[i:i + len(lv)])
                i += len(lv)
            return type(struct)(out) if type(struct) is not dict else out
        return leaves, rebuild
    if isinstance(struct, (list, tuple)):
        parts = [_flatten(s) for s in struct]
        leaves = [x for p in parts for x in p[0]]

        def rebuild(vals):
            out, i = [], 0
            for lv, rb in parts:
                out.append(rb(vals[i:i + len(lv)]))
                i += len(lv)
            if isinstance(struct, tuple):
                return type(struct)(*out) if hasattr(struct, "_fields") else tuple(out)
            return out
        return leaves, rebuild
    return [struct], lambda vals: vals[0]


def _unbroadcast(g, shape):
    """Sums ``g`` down to ``shape`` (undoes numpy-style broadcasting)."""
    gs = g._data.shape if type(g) is Tensor else tuple(g.shape)
    shape = tuple(shape)
    if gs == shape:
        return g
    ops = _tensor._ops
    lead = len(gs) - len(shape)
    axes = list(range(lead)) + [lead + i for i, d in enumerate(shape) if d == 1 and gs[lead + i] != 1]
    if axes:
        g = ops.reduce_sum(g, axis=axes)
    return ops.reshape(g, shape)


def _zeros(aval):
    shape, dtype, dev = aval
    with _device_mod.device(dev):
        return _tensor._ops.zeros(shape, dtype=dtype)


class _Capture:
    """A pseudo-tape that records which variables a function reads."""

    def __init__(self):
        self._watched = {}
        self.variables = []

    def _variable_read(self, var, snap):
        if all(v is not var for v in self.variables):
            self.variables.append(var)


class GradientTape:
    """Records operations for automatic differentiation, like ``tf.GradientTape``.

    Args:
      persistent: allow several ``gradient``/``jacobian`` calls.
      watch_accessed_variables: automatically watch trainable variables read
        while the tape is active.

    Example:
      >>> x = tl.constant(3.0)
      >>> with tl.GradientTape() as outer:
      ...     outer.watch(x)
      ...     with tl.GradientTape() as inner:
      ...         inner.watch(x)
      ...         y = x ** 3
      ...     dy = inner.gradient(y, x)      # 3x^2 = 27
      >>> outer.gradient(dy, x)              # 6x = 18
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = persistent
        self._watch_accessed = watch_accessed_variables
        self._nodes = {}          # insertion-ordered: key -> node
        self._watched = {}        # id(tensor) -> weakref, for tensors whose gradient is traced
        self._var_reads = {}      # variable uid -> list of snapshot tensors read
        self._watched_vars = {}   # variable uid -> variable (explicitly watched)
        self._read_var_objs = {}  # variable uid -> variable, in first-read order
        self._used = False
        self._active = False
        self._drop_cb = self._drop  # one bound method, not one per recorded op

    # -- context
    def __enter__(self):
        self._push()
        return self

    def __exit__(self, *exc):
        self._pop()
        return False

    def _push(self):
        if self not in _reg.STATE.tapes:
            _reg.STATE.tapes.append(self)
        self._active = True

    def _pop(self):
        try:
            _reg.STATE.tapes.remove(self)
        except ValueError:
            pass
        self._active = False

    # -- watching
    def watch(self, tensor):
        """Ensures ``tensor`` (or each tensor/variable in a nested structure) is traced."""
        for t in _flatten(tensor)[0]:
            if isinstance(t, Variable):
                self._watched_vars[t._uid] = t
                self._variable_read(t, t._read_untracked(), force=True)
            elif isinstance(t, (Tensor, SymbolicTensor)):
                self._watch_tensor(t)
            else:
                raise ValueError(f"GradientTape.watch: expected a tensor or variable, got {type(t).__name__}")

    def _watch_tensor(self, x):
        # Weak: a watched tensor that dies can no longer be a source or feed an op.
        k = id(x)
        if k not in self._watched:
            w = self._watched
            self._watched[k] = weakref.ref(x, lambda r, k=k, w=w: w.pop(k, None))

    def _add_node(self, rule, name, args, params, res, saved=()):
        """Records one op. The node lives only as long as one of its outputs:
        once every output is garbage, nothing downstream can need its gradient,
        so its inputs are released too (the tape's memory follows the graph).
        Outputs at the indices ``saved`` (``Primitive.saved_outputs``: what the
        rule needs, e.g. a fused norm's statistics) are held by the node itself
        and do not count: the node lives as long as one of the others."""
        if type(res) is not tuple:
            # Fast path: the node is keyed by the weak reference to its output.
            ref = weakref.ref(res, self._drop_cb)
            k = id(res)
            self._nodes[id(ref)] = (rule, name, args, params, (ref,), False, k)
            self._watched[k] = ref
            return
        nodes, w = self._nodes, self._watched
        key = object()
        alive = [len(res) - len(saved)]
        saved_ids = [id(res[i]) for i in saved]

        def dead(r, key=key, nodes=nodes, alive=alive, w=w):
            w.pop(id_of.get(id(r)), None)
            alive[0] -= 1
            if alive[0] == 0:
                nodes.pop(key, None)
                for k in saved_ids:  # they die with the node
                    w.pop(k, None)
        refs = tuple(_Held(o) if i in saved else weakref.ref(o, dead) for i, o in enumerate(res))
        id_of = {id(r): id(o) for r, o in zip(refs, res)}
        # Shapes of all outputs, so a dead (unused) output still gets a zero gradient.
        avals = tuple((tuple(o.shape), o.dtype, o._device) for o in res)
        nodes[key] = (rule, name, args, params, refs, True, avals)
        for r, o in zip(refs, res):
            w.setdefault(id(o), r)

    def _drop(self, ref):
        # Called when a single-output node's output dies; its id leaves the watch list with it.
        node = self._nodes.pop(id(ref), None)
        if node is not None:
            self._watched.pop(node[6], None)

    def _variable_read(self, var, snap, force=False):
        if force or (self._watch_accessed and var.trainable) or var._uid in self._watched_vars:
            self._watch_tensor(snap)
            reads = self._var_reads.setdefault(var._uid, [])
            if all(s is not snap for s in reads):
                reads.append(snap)
            self._read_var_objs.setdefault(var._uid, var)

    def watched_variables(self):
        """The variables this tape has watched, in the order first read."""
        return tuple(self._read_var_objs.values())

    class _Stop:
        def __init__(self, tape):
            self.tape = tape

        def __enter__(self):
            self.was = self.tape._active
            self.tape._pop()

        def __exit__(self, *exc):
            if self.was:
                self.tape._push()
            return False

    def stop_recording(self):
        """Context manager that temporarily pauses recording on this tape."""
        return GradientTape._Stop(self)

    def reset(self):
        """Clears everything recorded so far (the tape stays active)."""
        self._nodes = {}
        self._watched = {}
        self._var_reads = {}
        self._watched_vars = {}
        self._read_var_objs = {}

    # -- differentiation
    def _check_usable(self):
        if self._used and not self._persistent:
            raise RuntimeError("A non-persistent GradientTape can only be used to compute one set of "
                               "gradients (or jacobians)")

    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients=UnconnectedGradients.NONE):
        """Computes the gradient of ``target`` with respect to ``sources``.

        Args:
          target: a tensor or nested structure of tensors (their sum is differentiated).
          sources: a tensor/variable or nested list/tuple/dict of them.
          output_gradients: upstream gradients matching ``target`` (default ones).
          unconnected_gradients: ``UnconnectedGradients.NONE``/``"none"`` returns None
            for sources the target does not depend on; ``ZERO``/``"zero"`` zeros.

        Returns:
          Gradients with the structure of ``sources``.

        Raises:
          RuntimeError: when a non-persistent tape is used a second time.
        """
        self._check_usable()
        unconnected = UnconnectedGradients(unconnected_gradients.value if isinstance(
            unconnected_gradients, UnconnectedGradients) else str(unconnected_gradients).lower())
        flat_src, rebuild = _flatten(sources)
        targets = _flatten(target)[0]
        ogs = [None] * len(targets) if output_gradients is None else _flatten(output_gradients)[0]
        if len(ogs) != len(targets):
            raise ValueError(f"GradientTape.gradient: {len(targets)} targets but {len(ogs)} output_gradients")
        result = self._gradient(targets, flat_src, ogs, unconnected)
        if not self._persistent:
            self._used = True
            self._nodes, self._watched = {}, {}
        return rebuild(result)

    def _source_keys(self, s):
        if isinstance(s, Variable):
            return [id(x) for x in self._var_reads.get(s._uid, ())]
        if isinstance(s, (Tensor, SymbolicTensor)):
            # Only watched tensors (or outputs of recorded ops) get gradients, as in TF.
            return [id(s)] if id(s) in self._watched else []
        raise ValueError(f"GradientTape.gradient: sources must be tensors or variables, got {type(s).__name__}")

    def _gradient(self, targets, sources, ogs, unconnected):
        ops = _tensor._ops
        src_keys = [self._source_keys(s) for s in sources]
        relevant = {k for ks in src_keys for k in ks}
        useful = []
        for node in list(self._nodes.values()):
            args, refs = node[2], node[4]
            if any(id(a) in relevant for a in args):
                outs = [r() for r in refs]
                useful.append((node, outs))
                relevant.update(id(o) for o in outs if o is not None)
        grads = {}
        was_active = self._active
        self._pop()  # the backward pass is recorded by outer tapes only
        try:
            for t, og in zip(targets, ogs):
                if isinstance(t, Variable):
                    t = t._read_untracked()
                if t is None:
                    continue
                if og is None:
                    with _device_mod.device(t._device):
                        og = ops.ones_like(t)
                else:
                    og = _tensor.as_operand(og, t) if not isinstance(og, Tensor) else og
                k = id(t)
                grads[k] = og if k not in grads else ops.add(grads[k], og)
            for (rule, name, args, params, node_refs, multi, avals), outs in reversed(useful):
                if multi:
                    gs = [None if o is None else grads.get(id(o)) for o in outs]
                    if all(g is None for g in gs):
                        continue
                    res = tuple(outs)
                    # A saved output no gradient reached gets None (only its rule reads it);
                    # any other output without one, zeros.
                    g = tuple(gi if gi is not None else None if type(r) is _Held else _zeros(aval)
                              for gi, aval, r in zip(gs, avals, node_refs))
                else:
                    res = outs[0]
                    if res is None:
                        continue
                    g = grads.get(id(res))
                    if g is None:
                        continue
                in_grads = rule(g, res, *args, **params)
                if not isinstance(in_grads, (tuple, list)):
                    in_grads = (in_grads,)
                for a, ga in zip(args, in_grads):
                    if ga is None or id(a) not in relevant:
                        continue
                    if callable(ga) and not isinstance(ga, (Tensor, Variable)):
                        ga = ga()  # a rule may defer a costly gradient until it is needed
                        if ga is None:
                            continue
                    if isinstance(ga, Variable):
                        ga = ga._read_untracked()
                    ga = _unbroadcast(ga, a._data.shape if type(a) is Tensor else a.shape)
                    k = id(a)
                    grads[k] = ga if k not in grads else ops.add(grads[k], ga)
            out = []
            for s, ks in zip(sources, src_keys):
                gl = [grads[k] for k in ks if k in grads]
                if not gl:
                    if unconnected is UnconnectedGradients.ZERO:
                        with _device_mod.device(s._device):
                            out.append(ops.zeros_like(s))
                    else:
                        out.append(None)
                    continue
                g = gl[0]
                for more in gl[1:]:
                    g = ops.add(g, more)
                out.append(g)
            return out
        finally:
            if was_active:
                self._push()

    def jacobian(self, target, sources, unconnected_gradients=UnconnectedGradients.NONE,
                 parallel_iterations=None, experimental_use_pfor=True):
        """Jacobian of ``target`` w.r.t. each source: shape ``target.shape + source.shape``."""
        self._check_usable()
        ops = _tensor._ops
        unconnected = UnconnectedGradients(unconnected_gradients.value if isinstance(
            unconnected_gradients, UnconnectedGradients) else str(unconnected_gradients).lower())
        flat_src, rebuild = _flatten(sources)
        t = target._read_untracked() if isinstance(target, Variable) else target
        n = int(t.shape.num_elements())
        rows = [[] for _ in flat_src]
        with _device_mod.device(t._device):
            for i in range(n):
                og = ops.reshape(ops.one_hot(i, n, dtype=t.dtype), t.shape)
                gs = self._gradient([t], flat_src, [og], unconnected)
                for r, g, s in zip(rows, gs, flat_src):
                    r.append(g)
        out = []
        for r, s in zip(rows, flat_src):
            if any(g is None for g in r):
                out.append(None)
            else:
                out.append(ops.reshape(ops.stack(r), tuple(t.shape) + tuple(s.shape)))
        if not self._persistent:
            self._used = True
        return rebuild(out)

    def batch_jacobian(self, target, source, unconnected_gradients=UnconnectedGradients.NONE,
                       parallel_iterations=None, experimental_use_pfor=True):
        """Per-example jacobian: ``target[b, ...]`` w.r.t. ``source[b, ...]``.

        Returns a tensor of shape ``[b] + target.shape[1:] + source.shape[1:]``.
        Assumes, as TF does, that example ``b`` of the target depends only on
        example ``b`` of the source.
        """
        self._check_usable()
        ops = _tensor._ops
        unconnected = UnconnectedGradients(unconnected_gradients.value if isinstance(
            unconnected_gradients, UnconnectedGradients) else str(unconnected_gradients).lower())
        t = target
        b = t.shape[0]
        inner = tuple(t.shape[1:])
        m = 1
        for d in inner:
            m *= d
        cols = []
        with _device_mod.device(t._device):
            for j in range(m):
                og = ops.reshape(ops.tile(ops.reshape(ops.one_hot(j, m, dtype=t.dtype), (1, m)), (b, 1)),
                                 t.shape)
                g = self._gradient([t], [source], [og], unconnected)[0]
                if g is None:
                    if not self._persistent:
                        self._used = True
                    return None
                cols.append(g)
        out = ops.stack(cols, axis=1)
        if not self._persistent:
            self._used = True
        return ops.reshape(out, (b,) + inner + tuple(source.shape[1:]))



def custom_gradient(f=None):
    """Decorator defining a function with a hand-written gradient, like ``tf.custom_gradient``.

    ``f(*x)`` returns ``(y, grad_fn)``; ``grad_fn(*dy)`` returns the gradients
    with respect to ``x``. If ``f`` reads variables, ``grad_fn`` must accept a
    ``variables`` keyword and return ``(input_grads, variable_grads)``.

    Example:
      >>> @tl.custom_gradient
      ... def clip_grad_identity(x):
      ...     return tl.identity(x), lambda dy: tl.clip_by_value(dy, -1., 1.)
    """
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        saved = list(_reg.STATE.tapes)
        cap = _Capture()
        _reg.STATE.tapes[:] = [cap]
        try:
            y, grad_fn = f(*args, **kwargs)
        finally:
            _reg.STATE.tapes[:] = saved
        if not saved:
            return y
        ins = []
        for a in _flatten(list(args))[0]:
            if isinstance(a, Variable):
                ins.append(a._read())
            elif isinstance(a, Tensor):
                ins.append(a)
        n_in = len(ins)
        var_snaps = [v._read() for v in cap.variables]
        flat_y, rebuild_y = _flatten(y)
        outs = [_tensor.convert_to_tensor(o) for o in flat_y]
        multi = len(outs) > 1

        def rule(g, out, *inputs):
            gs = g if multi else (g,)
            if cap.variables:
                in_g, var_g = grad_fn(*gs, variables=list(cap.variables))
            else:
                in_g, var_g = grad_fn(*gs), []
            in_g = list(in_g) if isinstance(in_g, (list, tuple)) else [in_g]
            if len(in_g) != n_in:
                raise ValueError(f"custom_gradient: {f.__name__}'s gradient function returned {len(in_g)} "
                                 f"gradients for {n_in} tensor inputs")
            return tuple(in_g) + tuple(var_g)

        record_custom(rule, f"custom_gradient({f.__name__})", ins + var_snaps,
                      tuple(outs) if multi else outs[0])
        return rebuild_y(outs)
    return wrapper
