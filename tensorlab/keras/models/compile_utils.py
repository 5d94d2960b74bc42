"""What ``compile`` builds: the combined loss over outputs and the compiled metrics."""
import tensorlab as tl
from tensorlab.keras import backend as _backend
from tensorlab.keras import losses as _losses
from tensorlab.keras import metrics as _metrics
from tensorlab.keras import _tree


def combine_losses(data_loss, regularization_losses, shares=None):
    """``data_loss`` (or None) plus the sum of ``regularization_losses``; None when both are absent.

    ``shares``: ``(data share, regularization share)`` in a replica of a distributed
    step (``backend.replica_shares``): each part is scaled to the replica's share of the
    global loss, so the replicas' gradients add up to the global batch's.
    """
    total = _losses.at_least_float32(data_loss)
    if shares is not None and total is not None:
        total = total * shares[0]
    if regularization_losses:
        # float32 at least: a mixed-precision layer's activity regularizer gives float16 values.
        regs = [_losses.at_least_float32(r) for r in regularization_losses]
        reg = tl.add_n(regs) if len(regs) > 1 else regs[0]
        if shares is not None:
            reg = reg * shares[1]
        total = reg if total is None else total + reg
    return total


def _per_output(kind, spec, output_names, allow_list_for_each=False):
    """Maps a loss/metric spec (single, list, dict) onto the model's outputs."""
    n = len(output_names)
    if spec is None:
        return [None] * n
    if isinstance(spec, dict):
        unknown = set(spec) - set(output_names)
        if unknown:
            raise ValueError(f"compile: {kind} dict has keys {sorted(unknown)} that name no model output; "
                             f"the outputs are {output_names}")
        return [spec.get(name) for name in output_names]
    if isinstance(spec, (list, tuple)) and not allow_list_for_each:
        if len(spec) != n:
            raise ValueError(f"compile: {kind} is a list of {len(spec)} entries, but the model has {n} "
                             f"output(s) {output_names}")
        return list(spec)
    return [spec] * n


class CompileLoss:
    """The weighted sum of one loss per model output (``model.compiled_loss``)."""

    def __init__(self, loss, loss_weights=None, output_names=None, tracker=None):
        self._spec = loss
        self._weights_spec = loss_weights
        self.output_names = output_names
        self._tracker = tracker
        self._built = False

    def build(self, output_names):
        self.output_names = list(output_names)
        fns = _per_output("loss", self._spec, self.output_names)
        self.losses = [self._resolve(f) for f in fns]
        if self._weights_spec is None:
            self.weights = [1.0] * len(fns)
        else:
            self.weights = [1.0 if w is None else float(w)
                            for w in _per_output("loss_weights", self._weights_spec, self.output_names)]
        multi = sum(f is not None for f in self.losses) > 1
        self.output_trackers = [_metrics.Mean(name=f"{n}_loss") if (multi and f is not None) else None
                                for n, f in zip(self.output_names, self.losses)]
        self._built = True
        from tensorlab.keras.layers import base
        base._tracking_version[0] += 1  # the model's metric list changed

    @staticmethod
    def _resolve(f):
        if f is None:
            return None
        f = _losses.get(f)
        if isinstance(f, _losses.Loss):
            return f
        if isinstance(f, type):
            return f()
        cls = _losses._CLASS_OF.get(getattr(f, "__name__", None))
        return cls() if cls is not None else _losses.LossFunctionWrapper(f)

    @property
    def has_loss(self):
        return self._spec is not None

    def compute(self, y_true, y_pred, sample_weight=None):
        """The total loss (a scalar tensor), or None when no output has a loss."""
        if not self._built:
            self.build(_output_names_for(y_pred))
        if len(self.losses) == 1:
            f = self.losses[0]
            if f is None:
                return None
            yt = y_true[0] if isinstance(y_true, (list, tuple)) and len(y_true) == 1 else y_true
            yp = y_pred[0] if isinstance(y_pred, (list, tuple)) and len(y_pred) == 1 else y_pred
            if isinstance(yt, dict):
                yt = yt[self.output_names[0]]
            if isinstance(yp, dict):
                yp = yp[self.output_names[0]]
            if yt is None:
                raise ValueError(f"compile: the loss {f.name} needs targets, but fit/evaluate got no y")
            value = f(yt, yp, sample_weight)
            return value if self.weights[0] == 1.0 else value * self.weights[0]
        yts = _match(y_true, self.output_names, "y")
        yps = _match(y_pred, self.output_names, "y_pred")
        sws = _match(sample_weight, self.output_names, "sample_weight") if isinstance(
            sample_weight, (list, tuple, dict)) else [sample_weight] * len(self.output_names)
        total = None
        for f, w, yt, yp, sw, tr in zip(self.losses, self.weights, yts, yps, sws, self.output_trackers):
            if f is None or yt is None:
                continue
            v = f(yt, yp, sw)
            if tr is not None:
                tr.update_state(v)
            v = v * w if w != 1.0 else v
            total = v if total is None else total + v
        return total

    def __call__(self, y_true, y_pred, sample_weight=None, regularization_losses=None):
        """tf.keras-style: loss plus ``regularization_losses``; also updates the model's loss tracker."""
        ctx = _backend.replica_context_of_many()
        total = combine_losses(self.compute(y_true, y_pred, sample_weight), regularization_losses,
                               None if ctx is None else _backend.replica_shares(ctx))
        if total is None:
            total = tl.constant(0.0)
        if self._tracker is not None:
            if ctx is None:
                self._tracker.update_state(total)
            else:  # weighted by the replica's share, the replicas' entries add up to one step's
                share = _backend.replica_shares(ctx)[0]
                self._tracker.update_state(_backend.unscaled_loss(total), sample_weight=share)
        return total

    @property
    def metrics(self):
        return [t for t in getattr(self, "output_trackers", ()) if t is not None]

    def reset_state(self):
        for t in self.metrics:
            t.reset_state()


def _output_names_for(y_pred):
    if isinstance(y_pred, dict):
        return list(y_pred)
    if isinstance(y_pred, (list, tuple)):
        return [f"output_{i}" for i in range(len(y_pred))]
    return ["output_0"]


def _match(struct, names, what):
    if struct is None:
        return [None] * len(names)
    if isinstance(struct, dict):
        return [struct.get(n) for n in names]
    if isinstance(struct, (list, tuple)):
        if len(struct) != len(names):
            raise ValueError(f"{what} has {len(struct)} entries but the model has {len(names)} outputs {names}")
        return list(struct)
    if len(names) != 1:
        raise ValueError(f"{what} is a single array but the model has {len(names)} outputs {names}; give a "
                         "list or a dict keyed by output name")
    return [struct]


_ACC = ("accuracy", "acc")
_CE = ("crossentropy", "ce")


def _resolve_metric(m, loss_fn, y_true, y_pred):
    if isinstance(m, str) and m in _ACC + _CE:
        lname = getattr(loss_fn, "fn", loss_fn)
        lname = getattr(lname, "__name__", "")
        yp_last = y_pred.shape[-1] if len(y_pred.shape) else None
        yt_shape = tuple(getattr(y_true, "shape", ()))
        if m in _ACC:
            if lname == "binary_crossentropy" or yp_last == 1:
                cls = _metrics.BinaryAccuracy
            elif lname == "sparse_categorical_crossentropy" or (
                    len(yt_shape) < len(y_pred.shape) or (yt_shape and yt_shape[-1] == 1)):
                cls = _metrics.SparseCategoricalAccuracy
            else:
                cls = _metrics.CategoricalAccuracy
        else:
            if lname == "binary_crossentropy" or yp_last == 1:
                cls = _metrics.BinaryCrossentropy
            elif lname == "sparse_categorical_crossentropy" or len(yt_shape) < len(y_pred.shape):
                cls = _metrics.SparseCategoricalCrossentropy
            else:
                cls = _metrics.CategoricalCrossentropy
        return cls(name=m)
    obj = _metrics.get(m)
    if isinstance(obj, _metrics.Metric):
        if isinstance(m, str):
            obj.name = m  # Keras logs a metric under the name it was given
        return obj
    return _metrics.MeanMetricWrapper(obj, name=getattr(obj, "__name__", "metric"))


class CompileMetrics(_metrics.Metric):
    """The metrics given to ``compile``, built on the first batch (``model.compiled_metrics``)."""

    def __init__(self, metrics=None, weighted_metrics=None, output_names=None, loss=None):
        super().__init__(name="compile_metrics")
        self._spec = metrics
        self._wspec = weighted_metrics
        self._loss = loss
        self.output_names = output_names
        self.built = False
        self._per_output = []

    @property
    def has_metrics(self):
        return bool(self._spec) or bool(self._wspec)

    def build(self, y_true, y_pred):
        names = self.output_names or _output_names_for(y_pred)
        self.output_names = names
        yts = _match(y_true, names, "y")
        yps = _match(y_pred, names, "y_pred")
        loss_fns = self._loss.losses if self._loss is not None and self._loss._built else [None] * len(names)
        multi = len(names) > 1
        self._per_output = []
        for spec_key, weighted in ((self._spec, False), (self._wspec, True)):
            specs = _per_output("metrics", spec_key, names, allow_list_for_each=not _is_list_of_lists(spec_key)) \
                if not isinstance(spec_key, dict) else _per_output("metrics", spec_key, names)
            if _is_list_of_lists(spec_key):
                specs = list(spec_key)
            for i, (spec, yt, yp) in enumerate(zip(specs, yts, yps)):
                if spec is None or yt is None:
                    continue
                for m in (spec if isinstance(spec, (list, tuple)) else [spec]):
                    obj = _resolve_metric(m, getattr(loss_fns[i], "fn", loss_fns[i]) if i < len(loss_fns) else None,
                                          yt, yp)
                    if multi:
                        obj.name = f"{names[i]}_{obj.name}"
                    if weighted:
                        obj.name = f"weighted_{obj.name}" if obj.name in [x[1].name for x in self._per_output] \
                            else obj.name
                    self._per_output.append((i, obj, weighted))
        self.built = True

    @property
    def metrics(self):
        return [m for _, m, _ in self._per_output]

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.built:
            self.build(y_true, y_pred)
        if len(self.output_names) == 1:
            yt = y_true[0] if isinstance(y_true, (list, tuple)) and len(y_true) == 1 else y_true
            yp = y_pred[0] if isinstance(y_pred, (list, tuple)) and len(y_pred) == 1 else y_pred
            if isinstance(yp, dict):
                yp = next(iter(yp.values()))
            if isinstance(yt, dict):
                yt = next(iter(yt.values()))
            for _, m, weighted in self._per_output:
                m.update_state(yt, yp, sample_weight if weighted else None)
            return
        yts = _match(y_true, self.output_names, "y")
        yps = _match(y_pred, self.output_names, "y_pred")
        sws = _match(sample_weight, self.output_names, "sample_weight") if isinstance(
            sample_weight, (list, tuple, dict)) else [sample_weight] * len(self.output_names)
        for i, m, weighted in self._per_output:
            m.update_state(yts[i], yps[i], sws[i] if weighted else None)

    def result(self):
        return {m.name: m.result() for _, m, _ in self._per_output}

    def reset_state(self):
        for _, m, _ in self._per_output:
            m.reset_state()

    @property
    def variables(self):
        return [v for _, m, _ in self._per_output for v in m.variables]


def _is_list_of_lists(spec):
    return isinstance(spec, (list, tuple)) and spec and all(isinstance(s, (list, tuple)) or s is None
                                                           for s in spec)


def flatten_logs(logs):
    """``{"loss": t, "compile_metrics": {"accuracy": t}}`` -> ``{"loss": t, "accuracy": t}``."""
    out = {}
    for k, v in logs.items():
        if isinstance(v, dict):
            out.update(flatten_logs(v))
        else:
            out[k] = v
    return out


__all__ = ["CompileLoss", "CompileMetrics", "flatten_logs", "_tree"]
