"""The training loop of ``keras.Model``: compile, fit, evaluate, predict and the *_step hooks.

The per-step path is kept short: trainable variables are cached between
steps, metric results are read from running totals, callbacks are only
called when they override a hook, and the progress bar redraws at most ten
times a second.
"""
import sys
import warnings

import numpy as np

import tensorlab as tl
from tensorlab.keras import _tree
from tensorlab.keras import backend as _backend
from tensorlab.keras import callbacks as _callbacks
from tensorlab.keras import config as _config
from tensorlab.keras import metrics as _metrics
from tensorlab.keras import optimizers as _optimizers
from tensorlab.keras.models import data_adapter as _da
from tensorlab.keras.models.compile_utils import CompileLoss, CompileMetrics, combine_losses, flatten_logs
from tensorlab.keras.utils.traceback_utils import filter_traceback


def _batch_size_of(x):
    if type(x) is tl.Tensor:  # the common case, without building a TensorShape
        shape = x._data.shape
        return float(shape[0]) if shape else 1.0
    leaf = x
    while isinstance(leaf, (list, tuple)) and leaf:
        leaf = leaf[0]
    if isinstance(leaf, dict):
        leaf = next(iter(leaf.values()))
    shape = getattr(leaf, "shape", None)
    return float(shape[0]) if shape else 1.0


def _numpy(t):
    return t.numpy()


def _to_host(out):
    """A batch of model outputs (a tensor, or a structure of them) as numpy arrays."""
    return out.numpy() if type(out) is tl.Tensor else _tree.map_structure(_numpy, out)


def _host_logs(logs):
    """Step logs -> host values: floats, or numpy arrays for metrics with several values
    (e.g. ``Recall(thresholds=[0.3, 0.7])``), as Keras keeps them."""
    out = {}
    for k, v in flatten_logs(logs).items():
        arr = np.asarray(v.numpy() if hasattr(v, "numpy") else v)
        out[k] = float(arr.reshape(-1)[0]) if arr.size == 1 else arr
    return out


def _check_input_strategy(model, x, what):
    """A distributed dataset goes only to a model compiled in the same strategy's scope."""
    strategy = _da.distributed_source_strategy(x)
    if strategy is not None and model.__dict__.get("_distribute_strategy") is not strategy:
        raise ValueError(f"{what}: x is a distributed dataset of {type(strategy).__name__}, but model "
                         f'"{model.name}" was not compiled in that strategy\'s scope(); create and compile the '
                         "model inside strategy.scope(), or pass the undistributed dataset")


def _step(model, name):
    """``model.<name>``, or the tl.distribute step when the model was compiled in a strategy's scope."""
    if model.__dict__.get("_distribute_strategy") is None:
        return getattr(model, name)
    from tensorlab.distribute import keras_step
    return lambda data: getattr(keras_step, name)(model, data)


def _resolve_verbose(verbose):
    return 1 if verbose == "auto" else int(verbose)


def _capped_steps(what, steps):
    """``steps`` capped by ``keras.config.set_max_steps_per_epoch`` (a debugging limit), with a warning."""
    limit = _config.max_steps_per_epoch()
    if limit and (not steps or limit < steps):
        warnings.warn(f"{what}: limiting steps to {limit} (keras.config.set_max_steps_per_epoch)", stacklevel=3)
        return limit
    return steps


class Trainer:
    """Mixin holding Keras' training API (``keras.Model`` inherits it)."""

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, weighted_metrics=None,
                run_eagerly=False, steps_per_execution=1, jit_compile="auto", auto_scale_loss=True, **kwargs):
        """Configures the model for training.

        Args:
          optimizer: name (``"adam"``) or optimizer instance.
          loss: name, function or ``Loss``; a list or dict (by output name) for several outputs.
          metrics: list of names/functions/``Metric``s (``"accuracy"`` picks the right accuracy
            for the loss and shapes); a dict or list of lists for several outputs.
          loss_weights: weights of the per-output losses (list or dict).
          weighted_metrics: metrics that also receive ``sample_weight``.
          run_eagerly: accepted for compatibility (tensorlab always runs eagerly).

        Example:
          >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        """
        kwargs.pop("experimental_run_tf_function", None)
        kwargs.pop("sample_weight_mode", None)
        kwargs.pop("target_tensors", None)
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {sorted(kwargs)}")
        self.optimizer = _optimizers.get(optimizer)
        if self.dtype_policy.name == "mixed_float16" and self.optimizer is not None and \
                not isinstance(self.optimizer, _optimizers.LossScaleOptimizer):
            # float16 gradients underflow without loss scaling (Keras wraps the same way).
            self.optimizer = _optimizers.LossScaleOptimizer(self.optimizer)
        self._loss_tracker = _metrics.Mean(name="loss")
        self.compiled_loss = CompileLoss(loss, loss_weights, tracker=self._loss_tracker)
        self.compiled_metrics = CompileMetrics(metrics, weighted_metrics, loss=self.compiled_loss)
        names = self._output_names()
        if names is not None:
            self.compiled_loss.build(names)
            self.compiled_metrics.output_names = names
        self.loss = loss
        self.run_eagerly = run_eagerly
        self.steps_per_execution = steps_per_execution
        self.compiled = True
        self.stop_training = False
        dist = sys.modules.get("tensorlab.distribute")  # no strategy can exist before it is imported
        self._distribute_strategy = dist.get_strategy() if dist is not None and dist.has_strategy() else None

    def _output_names(self):
        return None

    def _require_compiled(self, what):
        if not getattr(self, "compiled", False):
            raise RuntimeError(f"Model \"{self.name}\": you must compile the model before calling {what}(); "
                               "e.g. model.compile(optimizer='adam', loss='sparse_categorical_crossentropy')")

    # ------------------------------------------------------------------ metrics
    @property
    def metrics(self):
        """The loss tracker, the compiled metrics, and metrics tracked as attributes."""
        return list(self._cached("metrics", self._metrics_uncached))

    def _metrics_uncached(self):
        out = []
        if getattr(self, "compiled", False):
            out.append(self._loss_tracker)
            out.extend(self.compiled_loss.metrics)
            if self.compiled_metrics.has_metrics:
                out.append(self.compiled_metrics)
        seen = {id(m) for m in out}
        for layer in self._flatten_layers():
            for k, v in layer.__dict__.items():
                if isinstance(v, _metrics.Metric) and id(v) not in seen and k not in (
                        "_loss_tracker", "compiled_metrics"):
                    out.append(v)
                    seen.add(id(v))
        return out

    @property
    def metrics_names(self):
        names = []
        for m in self.metrics:
            if isinstance(m, CompileMetrics):
                names.extend(x.name for x in m.metrics)
            else:
                names.append(m.name)
        return names

    def reset_metrics(self):
        for m in self._cached("metrics", self._metrics_uncached):
            m.reset_state()

    def get_metrics_result(self):
        """``{name: value}`` of all metrics, flattened."""
        out = {}
        for m in self._cached("metrics", self._metrics_uncached):
            r = m.result()
            if isinstance(r, dict):
                out.update(r)
            else:
                out[m.name] = r
        return out

    # ------------------------------------------------------------------ steps
    def _trainable_vars(self):
        return self._cached(("weights", "trainable"), lambda: self._all_weights_uncached("trainable"))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss: the compiled loss(es) plus the model's ``losses`` (regularizers, ``add_loss``)."""
        data = self.compiled_loss.compute(y, y_pred, sample_weight) if getattr(self, "compiled", False) \
            and self.compiled_loss.has_loss else None
        ctx = _backend.replica_context_of_many()
        total = combine_losses(data, self.losses, None if ctx is None else _backend.replica_shares(ctx))
        if total is None:
            raise ValueError(f'Model "{self.name}" has no loss to optimize: pass loss= to compile() or add '
                             "losses with add_loss()")
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics and returns ``get_metrics_result()``."""
        if self.compiled_metrics.has_metrics and y is not None:
            self.compiled_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def train_step(self, data):
        """One optimization step on one batch; returns the logs (metric results).

        Override for custom training logic (keep the same return convention).
        """
        x, y, sample_weight = _da.unpack_x_y_sample_weight(data)
        with tl.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight, training=True)
            scaled = self.optimizer.scale_loss(loss)  # the loss scale (mixed_float16), else loss itself
        tv = self._trainable_vars()
        grads = tape.gradient(scaled, tv)
        self.optimizer.apply_gradients(zip(grads, tv))
        self._loss_tracker.update_state(_backend.unscaled_loss(loss), sample_weight=_batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data):
        """One evaluation step on one batch; returns the logs."""
        x, y, sample_weight = _da.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x, y, y_pred, sample_weight, training=False)
        self._loss_tracker.update_state(_backend.unscaled_loss(loss), sample_weight=_batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data):
        """The model's output for one batch."""
        x, _, _ = _da.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # ------------------------------------------------------------------ fit
    @filter_traceback
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None, sample_weight=None,
            initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_batch_size=None,
            validation_freq=1, **kwargs):
        """Trains the model for ``epochs`` epochs and returns a ``History``.

        Args:
          x, y: numpy arrays or tensors (lists/dicts for several inputs/outputs), or
            ``x`` alone as a generator / ``PyDataset`` / dataset yielding ``(x, y)``.
          batch_size: samples per step (default 32) for array data.
          epochs: index of the last epoch (training runs from ``initial_epoch``).
          verbose: 0 silent, 1 progress bar, 2 one line per epoch, ``"auto"`` = 1.
          callbacks: list of ``keras.callbacks.Callback``.
          validation_split: fraction of the array data (taken from the end) held out.
          validation_data: ``(x_val, y_val)`` or ``(x_val, y_val, sw)`` or a dataset.
          shuffle: shuffle array data each epoch.
          class_weight: dict class index -> weight of that class's samples in the loss.
          sample_weight: per-sample weights.
          steps_per_epoch: batches per epoch (required for endless generators); each epoch
            continues the input where the last one stopped, and starts it over, with a
            warning, when it runs out.

        Returns:
          A ``History`` whose ``history`` dict holds per-epoch values of the loss and metrics.
        """
        kwargs.pop("workers", None)
        kwargs.pop("use_multiprocessing", None)
        kwargs.pop("max_queue_size", None)
        if kwargs:
            raise TypeError(f"fit: unexpected keyword argument(s) {sorted(kwargs)}")
        self._require_compiled("fit")
        verbose = _resolve_verbose(verbose)
        epoch_limit = _config.max_epochs()
        if epoch_limit and epoch_limit < epochs:
            warnings.warn(f"fit: limiting epochs to {epoch_limit} (keras.config.set_max_epochs)", stacklevel=2)
            epochs = epoch_limit
        steps_per_epoch = _capped_steps("fit", steps_per_epoch)
        if validation_data is not None or validation_split:
            validation_steps = _capped_steps("fit (validation)", validation_steps)
        _check_input_strategy(self, x, "fit")
        _check_input_strategy(self, validation_data, "fit (validation_data)")
        # steps_per_epoch is the loop's business (EpochIterator), not the adapter's: the
        # batches continue across epochs where the last epoch stopped.
        adapter = _da.get_adapter(x, y, sample_weight, batch_size, shuffle, None, class_weight, "fit")
        if validation_split and validation_data is None:
            if not isinstance(adapter, _da.ArrayAdapter):
                raise ValueError("fit: validation_split is only supported for array inputs; pass "
                                 "validation_data for generators and datasets")
            validation_data = adapter.split(validation_split)
        val_adapter = None
        if validation_data is not None:
            if isinstance(validation_data, tuple) and _da._is_array_like(validation_data[0]):
                vx, vy, vsw = _da.unpack_x_y_sample_weight(validation_data)
                val_adapter = _da.get_adapter(vx, vy, vsw, validation_batch_size or batch_size, False,
                                              validation_steps, None, "fit (validation_data)")
            else:
                val_adapter = _da.get_adapter(validation_data, steps=validation_steps, what="fit (validation_data)")
        cbs = callbacks if isinstance(callbacks, _callbacks.CallbackList) else _callbacks.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose, epochs=epochs,
            steps=int(steps_per_epoch) if steps_per_epoch is not None else adapter.num_batches)
        batches = _da.EpochIterator(adapter, steps_per_epoch)
        try:
            return self._fit_epochs(x, batches, val_adapter, cbs, initial_epoch, epochs, validation_freq)
        finally:
            batches.close()

    def _fit_epochs(self, x, batches, val_adapter, cbs, initial_epoch, epochs, validation_freq):
        self.stop_training = False
        train_step = _step(self, "train_step")
        wants_begin = cbs.wants("on_train_batch_begin")
        wants_end = cbs.wants("on_train_batch_end")
        cbs.on_train_begin()
        # BackupAndRestore sets _initial_epoch when it restores; a tl.data pipeline is
        # advanced to that epoch so shuffles replay exactly (bit-identical resume).
        initial_epoch = max(initial_epoch, getattr(self, "_initial_epoch", None) or 0)
        self._initial_epoch = None
        if initial_epoch and hasattr(x, "_advance_epochs"):
            x._advance_epochs(initial_epoch)
        logs = {}
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            step = -1
            for step, batch in enumerate(batches.epoch()):
                if wants_begin:
                    cbs.on_train_batch_begin(step)
                logs = train_step(batch)
                if wants_end:
                    cbs.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            if step < 0:
                if batches.ran_out and epoch > initial_epoch:
                    break  # the input is used up (warned); the epochs done stand
                raise ValueError("fit: the data produced no batches; check x, batch_size and steps_per_epoch")
            epoch_logs = _host_logs(logs)
            if val_adapter is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_adapter(val_adapter, cbs=cbs)  # test hooks fire, as in Keras
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        if isinstance(self.optimizer, _optimizers.Optimizer) and epochs > 0:
            # With use_ema the variables end with their moving averages (a no-op otherwise).
            self.optimizer.finalize_variable_values(self._trainable_vars())
        cbs.on_train_end(epoch_logs)
        history = getattr(cbs, "history", None)
        if history is None:
            history = next((c for c in cbs if isinstance(c, _callbacks.History)), _callbacks.History())
        self.history = history
        return history

    # ------------------------------------------------------------------ evaluate / predict
    def _evaluate_adapter(self, adapter, cbs):
        self.reset_metrics()
        test_step = _step(self, "test_step")
        logs = {}
        step = -1
        wants_begin = cbs is not None and cbs.wants("on_test_batch_begin")
        wants_end = cbs is not None and cbs.wants("on_test_batch_end")
        if cbs is not None:
            cbs.on_test_begin()
        for step, batch in enumerate(adapter):
            if wants_begin:
                cbs.on_test_batch_begin(step)
            logs = test_step(batch)
            if wants_end:
                cbs.on_test_batch_end(step, logs)
        if step < 0:
            raise ValueError("evaluate: the data produced no batches")
        out = _host_logs(logs)
        if cbs is not None:
            cbs.on_test_end(out)
        return out

    @filter_traceback
    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None, steps=None,
                 callbacks=None, return_dict=False, **kwargs):
        """Returns the loss (and metrics) on the given data, in test mode.

        Returns:
          A scalar loss when there are no metrics; otherwise ``[loss, metric1, ...]`` in
          ``metrics_names`` order; or a dict with ``return_dict=True``.
        """
        self._require_compiled("evaluate")
        verbose = _resolve_verbose(verbose)
        steps = _capped_steps("evaluate", steps)
        _check_input_strategy(self, x, "evaluate")
        adapter = _da.get_adapter(x, y, sample_weight, batch_size, False, steps, None, "evaluate")
        cbs = _callbacks.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                                      epochs=1, steps=adapter.num_batches, mode="evaluate")
        logs = self._evaluate_adapter(adapter, cbs)
        return self._format_logs(logs, return_dict)

    def _format_logs(self, logs, return_dict):
        if return_dict:
            return logs
        if len(logs) == 1:
            return next(iter(logs.values()))
        names = [n for n in self.metrics_names if n in logs]
        return [logs[n] for n in names] + [v for k, v in logs.items() if k not in names]

    @filter_traceback
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None, **kwargs):
        """The model's outputs for the inputs ``x`` (in inference mode), as numpy arrays.

        Args:
          x: arrays/tensors (lists/dicts for several inputs), a generator or a dataset.
          batch_size: samples per batch (default 32).

        Returns:
          Numpy array(s) with the structure of the model's outputs.
        """
        verbose = _resolve_verbose(verbose)
        steps = _capped_steps("predict", steps)
        predict_step = _step(self, "predict_step")
        if isinstance(x, np.ndarray) and callbacks is None and steps is None and verbose == 0 and \
                len(x) <= (batch_size or 32):
            # One batch: skip the adapter and callback machinery.
            return _to_host(predict_step((_da.to_tensor(x),)))
        _check_input_strategy(self, x, "predict")
        adapter = _da.get_adapter(x, None, None, batch_size, False, steps, None, "predict")
        cbs = _callbacks.CallbackList(callbacks, add_progbar=verbose != 0, model=self, verbose=verbose,
                                      epochs=1, steps=adapter.num_batches, mode="predict")
        wants_begin = cbs.wants("on_predict_batch_begin")
        wants_end = cbs.wants("on_predict_batch_end")
        cbs.on_predict_begin()
        outs = []
        for step, batch in enumerate(adapter):
            if wants_begin:
                cbs.on_predict_batch_begin(step)
            out = predict_step(batch)
            outs.append(_to_host(out))
            if wants_end:
                cbs.on_predict_batch_end(step, {"outputs": out})
        cbs.on_predict_end()
        if not outs:
            raise ValueError("predict: the data produced no batches")
        flat = [_tree.flatten(o) for o in outs]
        cat = [np.concatenate([f[i] for f in flat], axis=0) for i in range(len(flat[0]))]
        return _tree.pack_like(outs[0], cat)

    # ------------------------------------------------------------------ *_on_batch
    def _batch_data(self, x, y=None, sample_weight=None, class_weight=None):
        xs = _tree.map_structure(_da.to_tensor, x)
        ys = None if y is None else _tree.map_structure(_da.to_tensor, y)
        if class_weight is not None:
            sw_np = _da._apply_class_weight(_da._host(y), None if sample_weight is None else
                                            _da._host(sample_weight), class_weight)
            sample_weight = sw_np
        sws = None if sample_weight is None else _tree.map_structure(_da.to_tensor, sample_weight)
        if ys is not None:
            lx = _batch_size_of(xs)
            ly = _batch_size_of(ys)
            if lx != ly:
                raise ValueError(f"Data cardinality is ambiguous: x sizes: {int(lx)}, y sizes: {int(ly)}. Make "
                                 "sure all arrays contain the same number of samples")
        return _da.pack_x_y_sample_weight(xs, ys, sws)

    @filter_traceback
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, reset_metrics=True,
                       return_dict=False):
        """Runs one training step on one batch; returns the loss (and metrics) like ``evaluate``."""
        self._require_compiled("train_on_batch")
        if reset_metrics:
            self.reset_metrics()
        logs = _step(self, "train_step")(self._batch_data(x, y, sample_weight, class_weight))
        return self._format_logs(_host_logs(logs), return_dict)

    @filter_traceback
    def test_on_batch(self, x, y=None, sample_weight=None, reset_metrics=True, return_dict=False):
        """Evaluates one batch; returns the loss (and metrics) like ``evaluate``."""
        self._require_compiled("test_on_batch")
        if reset_metrics:
            self.reset_metrics()
        logs = _step(self, "test_step")(self._batch_data(x, y, sample_weight))
        return self._format_logs(_host_logs(logs), return_dict)

    @filter_traceback
    def predict_on_batch(self, x):
        """The model's outputs for one batch, as numpy arrays."""
        return _to_host(_step(self, "predict_step")((_tree.map_structure(_da.to_tensor, x),)))
