"""The ``Layer`` base class and ``InputSpec``.

A layer stores its configuration in ``__init__``, creates weights in
``build(input_shape)`` (called automatically on the first call, with the
input's shape) and computes in ``call``. Sub-layers and variables assigned
as attributes (also inside lists and dicts) are tracked automatically.

Called on ``KerasTensor``s (``keras.Input``), a layer runs ``call`` on symbolic
tensors (the ops only apply their shape rules) and records a Functional-graph node.
"""
import inspect
import threading

from tensorlab.core import dtypes as _dt
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable, convert_to_tensor
from tensorlab.core.variables import autocast_state as _autocast_state
from tensorlab.keras import _tree
from tensorlab.keras import backend as _backend
from tensorlab.keras import dtype_policies as _policies
from tensorlab.keras._layer_utils import (_accepts, _collect_mask, _jsonable, _set_mask, _shape_of,
                                          _specs_to_symbolic)
from tensorlab.keras._node import Node, keras_tensor_from
from tensorlab.keras.layers._graph_info import GraphInfo
from tensorlab.keras.layers.input_spec import InputSpec, assert_input_compatibility  # noqa: F401

_BASE_KWARGS = frozenset({"input_shape", "input_dim", "batch_input_shape", "batch_size", "autocast",
                          "weights", "dynamic", "dtype_policy", "input_dtype"})
# Call arguments that are never converted to tensors (flags, sizes, names).
_PLAIN_VALUES = frozenset({bool, int, float, str, type(None)})
# Bookkeeping attributes the weight/sub-layer tracker must not walk into.
_UNTRACKED = frozenset({"_k_cache", "_inbound_nodes", "_outbound_nodes", "_call_losses", "_own_weights",
                        "_regularized", "_init_args", "_build_shapes", "input_spec", "_input_layers_cache",
                        "_call_sig", "_nodes_by_depth", "_node_order", "compiled_loss", "compiled_metrics",
                        "optimizer", "history", "stop_training", "_compile_state", "_train_fn",
                        "_outputs_struct", "_inputs_struct", "_output_layers"})


class _CallContext(threading.local):
    def __init__(self):
        self.training = None
        self.symbolic_depth = 0   # >0 while running a layer's call on symbolic inputs
        self.depth = 0            # nesting of Layer.__call__


_ctx = _CallContext()
_losses_dirty = [False]
# Bumped whenever weights are created or trainability changes, so models can
# cache their trainable-variable lists between steps.
_tracking_version = [0]


class Layer(GraphInfo):
    """Base class of all layers: state (weights) plus a transformation (``call``).

    Args:
      trainable: whether the layer's weights are updated in training.
      name: the layer's name (default: the class name in snake_case, made unique).
      dtype: dtype of the weights and computations (default ``"float32"``).
      input_shape, input_dim, batch_input_shape: for the first layer of a
        ``Sequential`` model, the shape of its input (without the batch).
      activity_regularizer: a regularizer applied to the layer's output.

    Example:
      >>> class Linear(keras.layers.Layer):
      ...     def __init__(self, units=32, **kwargs):
      ...         super().__init__(**kwargs)
      ...         self.units = units
      ...     def build(self, input_shape):
      ...         self.w = self.add_weight(shape=(input_shape[-1], self.units))
      ...         self.b = self.add_weight(shape=(self.units,), initializer="zeros")
      ...     def call(self, inputs):
      ...         return tl.matmul(inputs, self.w) + self.b
    """

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        d = obj.__dict__
        d["_own_weights"] = []
        d["_regularized"] = []
        d["_call_losses"] = []
        d["_inbound_nodes"] = []
        d["_trainable"] = True
        d["built"] = False
        d["_init_args"] = (args, kwargs)
        return obj

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            user_build = cls.__dict__["build"]
            if not getattr(user_build, "_tl_wrapped", False):
                def build(self, *args, **kw):
                    user_build(self, *args, **kw)
                    self.built = True
                build._tl_wrapped = True
                build.__doc__ = user_build.__doc__
                build.__wrapped__ = user_build
                cls.build = build

    def __init__(self, trainable=True, name=None, dtype=None, activity_regularizer=None, **kwargs):
        unknown = set(kwargs) - _BASE_KWARGS
        if unknown:
            raise TypeError(f"{type(self).__name__}: unrecognized keyword argument(s) {sorted(unknown)} "
                            f"passed to the layer; valid base arguments: trainable, name, dtype, "
                            f"activity_regularizer, {', '.join(sorted(_BASE_KWARGS))}")
        self._trainable = bool(trainable)
        self.name = name or _backend.unique_name(_backend.to_snake_case(type(self).__name__))
        # None: the global policy (keras.mixed_precision.set_global_policy), else floatx.
        self._dtype_policy = _policies.get(dtype if dtype is not None else kwargs.get("dtype_policy"))
        self.autocast = kwargs.get("autocast", True)
        from tensorlab.keras import regularizers
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.input_spec = getattr(self, "input_spec", None)
        self.supports_masking = getattr(self, "supports_masking", False)
        bis = kwargs.get("batch_input_shape")
        if bis is None and kwargs.get("input_shape") is not None:
            shp = kwargs["input_shape"]
            shp = (shp,) if isinstance(shp, int) else tuple(shp)
            bis = (kwargs.get("batch_size"),) + shp
        elif bis is None and kwargs.get("input_dim") is not None:
            bis = (kwargs.get("batch_size"), int(kwargs["input_dim"]))
        self._batch_input_shape = None if bis is None else tuple(bis)
        self._initial_weights = kwargs.get("weights")
        self._call_sig = None

    def __setattr__(self, name, value):
        # Any other value may hold weights, layers or metrics: the cached lists are recomputed.
        # fit's History callback (``model.history``, set again at every epoch's end) holds none.
        if not isinstance(value, (int, float, str, bool, type(None), Tensor)) and not (
                name == "history" and type(value).__name__ == "History"):
            _tracking_version[0] += 1
        object.__setattr__(self, name, value)

    def _cached(self, key, compute):
        """``compute()``, cached until weights, sub-layers or trainability change."""
        cache = self.__dict__.get("_k_cache")
        v = _tracking_version[0]
        if cache is None or cache[0] != v:
            cache = (v, {})
            self.__dict__["_k_cache"] = cache
        d = cache[1]
        if key not in d:
            d[key] = compute()
        return d[key]

    # ------------------------------------------------------------------ dtype
    @property
    def dtype(self):
        """The dtype of the layer's weights, as a string."""
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self):
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self):
        return self._dtype_policy.variable_dtype

    @property
    def dtype_policy(self):
        """The layer's ``DTypePolicy`` (``keras.mixed_precision``)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value):
        self._dtype_policy = _policies.get(value)

    # Whether __call__ casts floating inputs to the compute dtype. Functional and
    # Sequential models take them in their variable dtype (their Input layers' float32
    # under a mixed policy) and leave the casting to each layer, as Keras does.
    _convert_input_args = True

    def _inputs_dtype(self):
        pol = self._dtype_policy
        return pol.compute if self._convert_input_args else pol.variable

    def _autocast_dtype(self, current):
        """The dtype autocasting weights are read as while this layer's ``call`` runs,
        given the one set by the enclosing layers (``current``): a mixed policy starts
        autocasting to its compute dtype; inside an autocasting layer, each layer
        autocasts to its own compute dtype, or not at all with ``autocast=False``."""
        pol = self._dtype_policy
        if current is None and not pol.is_mixed:
            return None
        return pol.compute if self.autocast and pol.compute_is_float else None

    # ------------------------------------------------------------------ weights
    def add_weight(self, name=None, shape=None, dtype=None, initializer=None, regularizer=None,
                   trainable=True, constraint=None, **kwargs):
        """Creates a weight variable owned by this layer.

        Args:
          name: the weight's name (``"kernel"``, ``"bias"``...).
          shape: its shape (tuple of ints).
          dtype: defaults to the layer's dtype.
          initializer: an initializer instance, name (``"glorot_uniform"``,
            ``"zeros"``, ``"normal"``...) or callable ``(shape, dtype)``.
          regularizer: adds ``regularizer(weight)`` to ``layer.losses``.
          trainable: whether optimizers update it.
          constraint: a function applied to the weight after each optimizer update.

        Returns:
          The new ``tl.Variable``.
        """
        from tensorlab.keras import constraints, initializers, regularizers
        if name is not None and not isinstance(name, str) and shape is None:
            name, shape = None, name  # Keras 3 order: add_weight(shape, ...)
        autocast = kwargs.pop("autocast", True)
        autocast = kwargs.pop("experimental_autocast", True) and autocast
        for k in ("aggregation", "synchronization", "use_resource"):
            kwargs.pop(k, None)
        if kwargs:
            raise TypeError(f"{self.name}.add_weight: unrecognized keyword argument(s) {sorted(kwargs)}")
        shape = () if shape is None else ((shape,) if isinstance(shape, int) else tuple(int(s) for s in shape))
        dtype = _dt.as_dtype(dtype or self.variable_dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.is_floating else "zeros"
        init = initializers.get(initializer)
        value = init(shape, dtype=dtype)
        if not isinstance(value, Tensor):
            value = convert_to_tensor(value, dtype=dtype)
        if value.dtype != dtype:
            import tensorlab as tl
            value = tl.cast(value, dtype)
        v = Variable(value, trainable=trainable, name=f"{self.name}/{name or 'variable'}")
        v.constraint = constraints.get(constraint)
        v._autocast = bool(autocast) and dtype.is_floating  # read as the compute dtype under a mixed policy
        v._keras_attrs = {"name": name or "variable", "layer": self.name}
        self._own_weights.append(v)
        _tracking_version[0] += 1
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._regularized.append((v, reg))
        return v

    def _tracked(self):
        """Direct sub-layers and own variables, in attribute order."""
        layers, variables = [], list(self._own_weights)
        seen = {id(v) for v in variables}
        seen_l = set()

        def visit(v, depth):
            if isinstance(v, Layer):
                if id(v) not in seen_l and v is not self:
                    seen_l.add(id(v))
                    layers.append(v)
            elif isinstance(v, Variable):
                if id(v) not in seen:
                    seen.add(id(v))
                    variables.append(v)
            elif depth < 4 and isinstance(v, (list, tuple)):
                for x in v:
                    visit(x, depth + 1)
            elif depth < 4 and isinstance(v, dict):
                for x in v.values():
                    visit(x, depth + 1)

        for k, v in self.__dict__.items():
            if k not in _UNTRACKED:
                visit(v, 0)
        return layers, variables

    def _flatten_layers(self, include_self=True, recursive=True):
        return list(self._cached(("layers", include_self, recursive),
                                 lambda: self._flatten_layers_uncached(include_self, recursive)))

    def _flatten_layers_uncached(self, include_self, recursive):
        out, seen = [], set()

        def walk(layer):
            for sub in layer._tracked()[0]:
                if id(sub) in seen:
                    continue
                seen.add(id(sub))
                out.append(sub)
                if recursive:
                    walk(sub)
        if include_self:
            out.append(self)
            seen.add(id(self))
        walk(self)
        return out

    def _all_weights(self, which):
        return list(self._cached(("weights", which), lambda: self._all_weights_uncached(which)))

    def _all_weights_uncached(self, which):
        out, seen = [], set()

        def walk(layer, frozen):
            frozen = frozen or not layer._trainable
            subs, own = layer._tracked()
            for v in own:
                if id(v) in seen:
                    continue
                keep = (which == "all" or (which == "trainable" and v.trainable and not frozen)
                        or (which == "non_trainable" and (not v.trainable or frozen)))
                if keep:
                    seen.add(id(v))
                    out.append(v)
            for s in subs:
                walk(s, frozen)
        walk(self, False)
        return out

    @property
    def weights(self):
        """All weights: the layer's own (in creation order), then its sub-layers'."""
        return self._all_weights("all")

    @property
    def trainable_weights(self):
        return self._all_weights("trainable")

    @property
    def non_trainable_weights(self):
        return self._all_weights("non_trainable")

    variables = weights
    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        for layer in self._flatten_layers():
            layer._trainable = bool(value)
        _tracking_version[0] += 1

    @property
    def layers(self):
        return self._flatten_layers(include_self=False, recursive=False)

    @property
    def submodules(self):
        return self._flatten_layers(include_self=False)

    def get_weights(self):
        """The weights' values as a list of numpy arrays (in ``weights`` order)."""
        return [v.numpy().copy() for v in self.weights]

    def set_weights(self, weights):
        """Sets the weights from a list of arrays (shapes must match ``get_weights()``)."""
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(f'Layer "{self.name}": set_weights expected a list of {len(params)} arrays '
                             f"(shapes {[tuple(p.shape) for p in params]}), received {len(weights)}")
        for p, w in zip(params, weights):
            shape = tuple(getattr(w, "shape", ()))
            if tuple(p.shape) != shape:
                raise ValueError(f'Layer "{self.name}": weight {p.name} has shape {tuple(p.shape)}, but the '
                                 f"value given to set_weights has shape {shape}")
            p.assign(convert_to_tensor(w, dtype=p.dtype) if not isinstance(w, Tensor) else w)

    def count_params(self):
        """Total number of scalars in the layer's weights (the layer must be built)."""
        if not self.built:
            raise ValueError(f'You tried to call count_params on layer "{self.name}", but the layer isn\'t '
                             "built. You can build it manually via: layer.build(input_shape)")
        return int(sum(int(v.shape.num_elements()) for v in self.weights))

    # ------------------------------------------------------------------ losses
    def add_loss(self, loss):
        """Adds a loss tensor (e.g. an activity penalty) to ``layer.losses`` for this call."""
        if callable(loss) and not isinstance(loss, (Tensor, SymbolicTensor)):
            loss = loss()
        self._call_losses.append(loss)
        _losses_dirty[0] = True

    @property
    def losses(self):
        """Losses added in the last call (``add_loss``) plus weight-regularization penalties."""
        out = []
        for layer in self._cached(("layers", True, True), lambda: self._flatten_layers_uncached(True, True)):
            if layer._call_losses:
                out.extend(x for x in layer._call_losses if not isinstance(x, SymbolicTensor))
            if layer._regularized:
                for v, reg in layer._regularized:
                    out.append(reg(v))
        return out

    def _clear_losses(self):
        for layer in self._flatten_layers():
            if layer._call_losses:
                layer._call_losses = []

    # ------------------------------------------------------------------ build / call
    def build(self, input_shape=None):
        """Creates the layer's weights, given the input's shape (override in subclasses)."""
        self.built = True

    def call(self, inputs, *args, **kwargs):
        """The layer's computation (override in subclasses)."""
        return inputs

    def _signature(self):
        sig = self._call_sig
        if sig is None:
            tr, tr_default = _accepts(self.call, "training")
            mk, _ = _accepts(self.call, "mask")
            cm = type(self).compute_mask is not Layer.compute_mask
            sig = self._call_sig = (tr, tr_default, mk, cm)
        return sig

    def _maybe_build(self, args, kwargs):
        if self.built:
            return
        if args and hasattr(args[0], "shape"):
            # Saved with the model, so that a loaded model can create its weights before loading them.
            shape = [None] + list(args[0].shape)[1:] if len(args[0].shape) else []
            self.__dict__["_build_shapes"] = {"input_shape": shape}
        build = type(self).build
        if getattr(build, "_tl_lazy", False):
            # A subclassed model: its layers build themselves during the call.
            self.built = True
            return
        try:
            params = [p for p in inspect.signature(getattr(build, "__wrapped__", build)).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)][1:]
        except (TypeError, ValueError):
            params = []
        if len(params) <= 1 or not params[1].name.endswith("_shape"):
            self.build(_shape_of(args[0]) if args else None)
        else:
            # build(query_shape, value_shape, ...) pairs with call(query, value, ...)
            call_params = list(inspect.signature(self.call).parameters)
            bound = dict(zip(call_params, args))
            bound.update(kwargs)
            shapes = {}
            for p in params:
                v = bound.get(p.name[:-len("_shape")])
                if v is not None:
                    shapes[p.name] = _shape_of(v)
            self.build(**shapes)
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def __call__(self, *args, **kwargs):
        if not args:
            if "inputs" not in kwargs:
                raise TypeError(f'Layer "{self.name}" was called without inputs')
            args = (kwargs.pop("inputs"),)
        first = args[0]
        autocast = self.autocast
        if type(first) is Tensor:
            # The eager hot path (a concrete tensor): cast only a float input of another dtype.
            if autocast:
                np_dtype = first._data.dtype
                if np_dtype.kind == "f":
                    pol = self._dtype_policy
                    if _dt.NP_TO_DTYPE.get(np_dtype) is not (pol.compute if self._convert_input_args
                                                              else pol.variable):
                        args = (self._convert_inputs(first),) + args[1:]
        elif isinstance(first, SymbolicTensor) or any(isinstance(x, SymbolicTensor)
                                                      for x in _tree.flatten([args, kwargs])):
            return self._symbolic_call(args, kwargs)
        else:
            args = (self._convert_inputs(first),) + args[1:]
        if (kwargs or len(args) > 1) and autocast:
            args, kwargs = self._cast_other_args(args, kwargs)
        ctx = _ctx
        if _losses_dirty[0] and ctx.depth == 0:
            self._clear_losses()
            _losses_dirty[0] = False
        if not self.built:
            self._maybe_build(args, kwargs)
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, args[0], self.name)
        sig = self._call_sig
        has_tr, tr_default, has_mask, computes_mask = sig if sig is not None else self._signature()
        prev = ctx.training
        if kwargs:
            training = kwargs.pop("training", None) if not has_tr else kwargs.get("training")
        else:
            training = None
        if training is None:
            training = prev if prev is not None else tr_default
        if has_tr:
            kwargs["training"] = training
        mask = None
        if has_mask or computes_mask or self.supports_masking:
            mask = kwargs.get("mask") if kwargs else None
            if mask is None:
                x0 = args[0]
                mask = getattr(x0, "_keras_mask", None) if type(x0) is Tensor else _collect_mask(x0)
            if has_mask and mask is not None:
                kwargs["mask"] = mask
            elif kwargs and not has_mask:
                kwargs.pop("mask", None)
        ctx.training = training
        ctx.depth += 1
        ac = _autocast_state
        prev_ac = ac.dtype
        try:
            if prev_ac is not None or self._dtype_policy.is_mixed:
                ac.dtype = self._autocast_dtype(prev_ac)
            outputs = self.call(*args, **kwargs)
        finally:
            ac.dtype = prev_ac
            ctx.depth -= 1
            ctx.training = prev
        if self.activity_regularizer is not None:
            for o in _tree.flatten(outputs):
                self.add_loss(self.activity_regularizer(o) / float(o.shape[0] or 1))
        if computes_mask or (mask is not None and self.supports_masking):
            _set_mask(outputs, self.compute_mask(args[0], mask))
        return outputs

    def _convert_inputs(self, x):
        target = self._inputs_dtype()

        def conv(v):
            if isinstance(v, Variable):
                v = v.read_value()
            if isinstance(v, (Tensor, SymbolicTensor)):
                if self.autocast and v.dtype.is_floating and v.dtype is not target:
                    import tensorlab as tl
                    return tl.cast(v, target)
                return v
            if v is None or isinstance(v, (str, bool)):
                return v
            kind = getattr(getattr(v, "dtype", None), "kind", None)
            if kind == "f" or (kind is None and isinstance(v, float)):
                return convert_to_tensor(v, dtype=target if self.autocast else None)
            if kind is None and isinstance(v, (list, tuple)):
                return v
            return convert_to_tensor(v)
        return _tree.map_structure(conv, x)

    def _cast_other_args(self, args, kwargs):
        """Floating tensors among the arguments after the first (an attention layer's
        ``value``, an RNN's ``initial_state``) in the dtype the layer computes in, as Keras
        converts every argument; other values (masks, flags, numbers) are left alone.
        ``kwargs`` is the caller's own dict and is updated in place."""
        if len(args) == 1:
            for v in kwargs.values():
                if type(v) not in _PLAIN_VALUES:
                    break
            else:
                return args, kwargs  # flags only (training=True, mask=None...): nothing to cast
        target = self._inputs_dtype()

        def cast(v):
            if isinstance(v, (Tensor, SymbolicTensor, Variable)):
                if v.dtype.is_floating and v.dtype is not target:
                    import tensorlab as tl
                    return tl.cast(v, target)
                return v
            if getattr(getattr(v, "dtype", None), "kind", None) == "f":  # a host array
                return convert_to_tensor(v, dtype=target)
            if isinstance(v, (list, tuple)) and any(hasattr(e, "dtype") for e in v):
                return type(v)(cast(e) for e in v)
            return v
        if len(args) > 1:
            args = (args[0],) + tuple(cast(a) for a in args[1:])
        for k, v in kwargs.items():
            if type(v) not in _PLAIN_VALUES:
                kwargs[k] = cast(v)
        return args, kwargs

    # ------------------------------------------------------------------ symbolic
    def _symbolic_call(self, args, kwargs):
        ctx = _ctx
        if ctx.symbolic_depth:
            # A layer called inside another layer's symbolic call: run it, record nothing.
            if not self.built:
                self._maybe_build(args, kwargs)
            if self.input_spec is not None:
                assert_input_compatibility(self.input_spec, args[0], self.name)
            kwargs = self._symbolic_kwargs(args, kwargs)
            return self._run_symbolic(args, kwargs)
        if not self.built:
            self._maybe_build(args, kwargs)
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, args[0], self.name)
        node_kwargs = dict(kwargs)
        kwargs = self._symbolic_kwargs(args, kwargs)
        raw = self._run_symbolic(args, kwargs)
        mask = kwargs.get("mask") if "mask" in kwargs else _collect_mask(args[0])
        outputs = _tree.map_structure(
            lambda o: keras_tensor_from(o) if isinstance(o, SymbolicTensor) else o, raw)
        _, _, _, computes_mask = self._signature()
        if computes_mask or self.supports_masking:
            _set_mask(outputs, self.compute_mask(args[0], mask))
        Node(self, args, node_kwargs, outputs)
        return outputs

    def _symbolic_kwargs(self, args, kwargs):
        has_tr, _, has_mask, _ = self._signature()
        kwargs = dict(kwargs)
        if not has_tr:
            kwargs.pop("training", None)
        if has_mask and kwargs.get("mask") is None:
            m = _collect_mask(args[0])
            if m is not None:
                kwargs["mask"] = m
        elif not has_mask:
            kwargs.pop("mask", None)
        return kwargs

    def _run_symbolic(self, args, kwargs):
        ctx = _ctx
        ctx.symbolic_depth += 1
        ac = _autocast_state
        prev_ac = ac.dtype
        try:
            ac.dtype = self._autocast_dtype(prev_ac)
            if self.autocast:  # as in __call__: floating inputs in the dtype the layer computes in
                args = (self._convert_inputs(args[0]),) + tuple(args[1:])
                if len(args) > 1 or kwargs:
                    args, kwargs = self._cast_other_args(args, kwargs)
            return self.call(*args, **kwargs)
        except Exception:
            if type(self).compute_output_shape is Layer.compute_output_shape:
                raise
            shapes = self.compute_output_shape(_shape_of(args[0]))
            return _specs_to_symbolic(shapes, self.compute_dtype)
        finally:
            ac.dtype = prev_ac
            ctx.symbolic_depth -= 1

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (default: runs ``call`` on symbolic inputs)."""
        def sym(s):
            return SymbolicTensor(s, self.compute_dtype)
        if isinstance(input_shape, (list, tuple)) and input_shape and isinstance(input_shape[0], (list, tuple)):
            x = [sym(s) for s in input_shape]
        else:
            x = sym(tuple(input_shape))
        if not self.built:
            self._maybe_build((x,), {})
        _ctx.symbolic_depth += 1
        prev_ac = _autocast_state.dtype
        try:
            _autocast_state.dtype = self._autocast_dtype(prev_ac)
            kwargs = self._symbolic_kwargs((x,), {})
            out = self.call(x, **kwargs)
        finally:
            _autocast_state.dtype = prev_ac
            _ctx.symbolic_depth -= 1
        return _tree.map_structure(lambda o: tuple(o.shape), out)

    def compute_output_spec(self, *args, **kwargs):
        from tensorlab.core.spec import TensorSpec
        out = self.compute_output_shape(_shape_of(args[0]))
        return _tree.map_structure(lambda s: TensorSpec(s, self.compute_dtype), out) \
            if not (isinstance(out, tuple) and all(isinstance(d, (int, type(None))) for d in out)) \
            else TensorSpec(out, self.compute_dtype)

    def compute_mask(self, inputs, mask=None):
        """The output mask (default: pass the input mask on if ``supports_masking``)."""
        return mask if self.supports_masking else None

    # ------------------------------------------------------------------ config
    def get_config(self):
        """The layer's constructor arguments as a JSON-friendly dict."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype_policy.name}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        cls = type(self)
        if cls.get_config is Layer.get_config and cls.__init__ is not Layer.__init__:
            # A custom layer without get_config: use its (simple) constructor arguments.
            args, kwargs = self._init_args
            try:
                bound = inspect.signature(cls.__init__).bind(self, *args, **kwargs)
                bound.apply_defaults()
                for k, v in bound.arguments.items():
                    if k == "self" or k in config:
                        continue
                    p = inspect.signature(cls.__init__).parameters[k]
                    if p.kind is p.VAR_KEYWORD:
                        config.update({a: b for a, b in v.items() if _jsonable(b) and a not in config})
                    elif _jsonable(v):
                        config[k] = v
            except TypeError:
                pass
        return config

    @classmethod
    def from_config(cls, config):
        """Creates a layer from ``get_config()``'s output."""
        config = dict(config)
        if "dtype" in config and isinstance(config["dtype"], dict):
            config["dtype"] = config["dtype"].get("config", {}).get("name", "float32")
        try:
            return cls(**config)
        except TypeError as e:
            raise TypeError(f"{cls.__name__}.from_config could not rebuild the layer from {config}: {e}. "
                            "Override get_config/from_config for custom constructor arguments") from e

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
