"""Recurrent layers: RNN, SimpleRNN, LSTM, GRU, StackedRNNCells, and the wrappers Bidirectional and
TimeDistributed."""
import tensorlab as tl
from tensorlab.keras.layers._common import check_ndim, is_symbolic, shape_str
from tensorlab.keras.layers.base import Layer
from tensorlab.keras.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell, _Cell
from tensorlab.keras.layers.wrapper import Wrapper


def _state_sizes(cell):
    s = cell.state_size
    return list(s) if isinstance(s, (list, tuple)) else [s]


class StackedRNNCells(Layer):
    """Cells run one after the other within each time step: a deep RNN in one layer.

    ``RNN([cell_1, cell_2])`` builds one. The states are the cells' states in order
    (``[h1, c1, h2]`` for an LSTMCell then a GRUCell); each cell's output is the next one's input.

    Args:
      cells: a list of cells (``LSTMCell``, ``GRUCell``, ``SimpleRNNCell`` or any layer with
        ``state_size`` and ``call(inputs, states) -> (output, new_states)``).

    Example:
      >>> rnn = tl.keras.layers.RNN([tl.keras.layers.LSTMCell(8), tl.keras.layers.GRUCell(4)])
      >>> rnn(tl.ones((2, 5, 3))).shape
      TensorShape([2, 4])
    """

    def __init__(self, cells, **kwargs):
        kwargs.setdefault("autocast", False)  # a container: each cell casts its own inputs
        super().__init__(**kwargs)
        cells = list(cells)
        for c in cells:
            if not hasattr(c, "state_size"):
                raise ValueError(f"StackedRNNCells: every cell needs a `state_size` and a `call(inputs, states)`; "
                                 f"received {c!r}")
        if not cells:
            raise ValueError("StackedRNNCells: give at least one cell")
        self.cells = cells

    @property
    def state_size(self):
        return [n for c in self.cells for n in _state_sizes(c)]

    @property
    def output_size(self):
        last = self.cells[-1]
        return getattr(last, "output_size", _state_sizes(last)[0])

    def build(self, input_shape):
        batch, dim = tuple(input_shape)[0], tuple(input_shape)[-1]
        for c in self.cells:
            if not c.built:
                c.build((batch, dim))
                c.built = True
            dim = getattr(c, "output_size", _state_sizes(c)[0])
        self.built = True

    def call(self, inputs, states, training=None):
        x, new, i = inputs, [], 0
        for c in self.cells:
            n = len(_state_sizes(c))
            st = list(states[i:i + n])
            i += n
            st = st if isinstance(c.state_size, (list, tuple)) else st[0]
            x, ns = c(x, st, training=training) if _accepts_training(c) else c(x, st)
            new.extend(ns if isinstance(ns, (list, tuple)) else [ns])
        return x, new

    def get_config(self):
        from tensorlab.keras import layers as _layers
        config = super().get_config()
        config["cells"] = [_layers.serialize(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config):
        from tensorlab.keras import layers as _layers
        config = dict(config)
        config["cells"] = [_layers.deserialize(c) for c in config["cells"]]
        return cls(**config)


class RNN(Layer):
    """Runs a recurrent cell over the time axis of ``(batch, timesteps, features)`` inputs.

    Args:
      cell: a cell (``LSTMCell``...), any layer with ``state_size`` and
        ``call(inputs, states) -> (output, new_states)``, or a list of them (run as
        ``StackedRNNCells``).
      return_sequences: return the output of every step ``(batch, timesteps, units)``
        instead of the last one ``(batch, units)``.
      return_state: also return the final states: ``[output, *states]``.
      go_backwards: process the sequence in reverse (outputs come in processing order).
      stateful: carry the final states of a batch over as the initial states of the next one.
      zero_output_for_mask: with a mask, emit zeros (instead of the previous output) at masked steps.

    Call arguments:
      inputs: ``(batch, timesteps, features)``.
      initial_state: list of initial state tensors (default zeros).
      mask: boolean ``(batch, timesteps)``; masked steps keep the previous state.
      training: enables the cell's dropout.
    """

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, zero_output_for_mask=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(cell, dict):
            from tensorlab.keras import layers as _layers
            cell = _layers.deserialize(cell)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "state_size"):
            raise ValueError(f"RNN: `cell` must have a `state_size` attribute and a `call(inputs, states)` method; "
                             f"received {cell!r}")
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = self.return_sequences if zero_output_for_mask is None else bool(
            zero_output_for_mask)
        self.supports_masking = True
        self._carried = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 3:
            raise ValueError(f'Input 0 of layer "{self.name}" ({type(self).__name__}) is incompatible with the '
                             f"layer: expected ndim=3, found ndim={len(input_shape)}. Full shape received: "
                             f"{shape_str(input_shape)}")
        if not self.cell.built:
            self.cell.build((input_shape[0], input_shape[2]))
            self.cell.built = True
        self._input_dim = input_shape[2]
        self.built = True

    def reset_states(self, states=None):
        """Forgets the carried-over states of a stateful layer (or sets them)."""
        self._carried = None if states is None else list(states)

    reset_state = reset_states

    def _initial(self, x, initial_state):
        b = x.shape[0]
        sizes = _state_sizes(self.cell)
        if initial_state is not None:
            states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            if len(states) != len(sizes):
                raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) expects {len(sizes)} initial '
                                 f"state(s), but received {len(states)}")
            return [s if isinstance(s, (tl.Tensor, tl.SymbolicTensor)) else tl.convert_to_tensor(s, dtype=x.dtype)
                    for s in states]
        if is_symbolic(x):
            return [tl.SymbolicTensor((b, n), x.dtype) for n in sizes]
        if self.stateful and self._carried is not None and self._carried[0].shape[0] == b:
            return list(self._carried)
        with tl.device(x.device):  # the input's device, whatever the default
            return [tl.zeros((b, n), dtype=x.dtype) for n in sizes]

    def call(self, sequences, initial_state=None, mask=None, training=None):
        x = sequences
        check_ndim(self, x, ndim=3)
        if x.shape[2] is not None and x.shape[2] != self._input_dim:
            raise ValueError(f'Input 0 of layer "{self.name}" ({type(self).__name__}) is incompatible with the '
                             f"layer: expected axis -1 of input shape to have value {self._input_dim}, but "
                             f"received input with shape {shape_str(tuple(x.shape))}")
        steps = x.shape[1]
        if steps is None:
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) needs a known number of timesteps; '
                             f"received input shape {shape_str(tuple(x.shape))}")
        if steps == 0:
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) received an input with 0 timesteps '
                             f"(shape {shape_str(tuple(x.shape))})")
        states = self._initial(x, initial_state)
        cell = self.cell
        fast = isinstance(cell, _Cell)
        rm = None
        if fast:
            im, rm = (None, None) if is_symbolic(x) else cell.dropout_masks(x, training)
            if im is not None:
                x = x * tl.reshape(im, (x.shape[0], 1, x.shape[2]))
            seq = tl.unstack(cell.project(x), num=steps, axis=1)
        else:
            seq = tl.unstack(x, num=steps, axis=1)
        masks = None
        if mask is not None and not is_symbolic(x):
            masks = tl.unstack(tl.cast(tl.reshape(mask, (x.shape[0], steps, 1)), x.dtype), num=steps, axis=1)
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs = []
        prev_out = None
        for t in order:
            if fast:
                out, new = cell.step(seq[t], states, rm)
            else:
                st = states if isinstance(cell.state_size, (list, tuple)) else states[0]
                out, new = cell(seq[t], st, training=training) if _accepts_training(cell) else cell(seq[t], st)
                new = list(new) if isinstance(new, (list, tuple)) else [new]
            if masks is not None:
                m = masks[t]
                new = [m * n + (1.0 - m) * s for n, s in zip(new, states)]
                kept = m * out if prev_out is None else m * out + (1.0 - m) * prev_out
                outputs.append(m * out if self.zero_output_for_mask else kept)
                prev_out = kept
            else:
                outputs.append(out)
                prev_out = out
            states = new
        if self.stateful and not is_symbolic(x):
            self._carried = [tl.stop_gradient(s) for s in states]
        output = tl.stack(outputs, axis=1) if self.return_sequences else prev_out
        if self.return_state:
            return [output] + list(states)
        return output

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        out_size = getattr(self.cell, "output_size", _state_sizes(self.cell)[0])
        out = (s[0], s[1], out_size) if self.return_sequences else (s[0], out_size)
        if self.return_state:
            return [out] + [(s[0], n) for n in _state_sizes(self.cell)]
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.return_state:
            return [out] + [None] * len(_state_sizes(self.cell))
        return out

    def _rnn_config(self):
        return {"return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask}

    def get_config(self):
        from tensorlab.keras import layers as _layers
        config = super().get_config()
        config.update(self._rnn_config())
        config["cell"] = _layers.serialize(self.cell)
        return config


def _accepts_training(cell):
    import inspect
    try:
        return "training" in inspect.signature(cell.call).parameters
    except (TypeError, ValueError):
        return False


class _CellRNN(RNN):
    """An RNN whose cell is built from the layer's own arguments; config is flat, as in Keras."""

    cell_class = None
    _rnn_args = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll", "zero_output_for_mask")
    _base_args = ("name", "trainable", "dtype", "input_shape", "batch_input_shape", "batch_size", "input_dim",
                  "activity_regularizer", "autocast", "weights", "dtype_policy", "input_dtype")

    def __init__(self, units, **kwargs):
        rnn_kw = {k: kwargs.pop(k) for k in self._rnn_args if k in kwargs}
        base_kw = {k: kwargs.pop(k) for k in self._base_args if k in kwargs}
        kwargs.pop("time_major", None)
        cell = self.cell_class(units, name=f"{base_kw.get('name') or type(self).__name__.lower()}_cell",
                               dtype=base_kw.get("dtype"), **kwargs)
        super().__init__(cell, **rnn_kw, **base_kw)

    def __getattr__(self, name):
        # Cell hyper-parameters and weights read as layer attributes (layer.units, layer.kernel...).
        if name.startswith("_") or name == "cell":
            raise AttributeError(name)
        cell = self.__dict__.get("cell")
        if cell is not None and hasattr(cell, name):
            return getattr(cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def get_config(self):
        config = Layer.get_config(self)
        config.update(self._rnn_config())
        cell_cfg = self.cell.get_config()
        for k in ("name", "trainable", "dtype"):
            cell_cfg.pop(k, None)
        config.update(cell_cfg)
        return config


class SimpleRNN(_CellRNN):
    """Fully-connected RNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Args:
      units: dimensionality of the output and state.
      activation: default ``"tanh"``.
      use_bias, kernel_initializer, recurrent_initializer (default
        ``"orthogonal"``), bias_initializer, *_regularizer, *_constraint: for the weights.
      dropout, recurrent_dropout: fractions of the inputs / states dropped in training.
      return_sequences, return_state, go_backwards, stateful: see ``RNN``.

    Example:
      >>> tl.keras.layers.SimpleRNN(4)(tl.ones((2, 5, 3))).shape
      TensorShape([2, 4])
    """

    cell_class = SimpleRNNCell


class LSTM(_CellRNN):
    """Long short-term memory layer (Hochreiter & Schmidhuber, 1997).

    Weights (Keras 3 layout, gates in the order input, forget, cell, output):
    ``kernel (features, 4 * units)``, ``recurrent_kernel (units, 4 * units)``,
    ``bias (4 * units,)``.

    Args:
      units: dimensionality of the output and state.
      activation: default ``"tanh"``; recurrent_activation: default ``"sigmoid"``.
      unit_forget_bias: initialize the forget-gate bias to 1 (default True).
      use_bias, *_initializer, *_regularizer, *_constraint, dropout, recurrent_dropout:
        as in ``SimpleRNN``.
      return_sequences, return_state, go_backwards, stateful: see ``RNN``.
        With ``return_state`` the layer returns ``[output, h, c]``.

    Example:
      >>> out, h, c = tl.keras.layers.LSTM(4, return_state=True)(tl.ones((2, 5, 3)))
    """

    cell_class = LSTMCell


class GRU(_CellRNN):
    """Gated recurrent unit (Cho et al., 2014).

    Weights (Keras 3 layout, gates in the order update, reset, candidate):
    ``kernel (features, 3 * units)``, ``recurrent_kernel (units, 3 * units)``,
    ``bias (2, 3 * units)`` with ``reset_after=True`` (the default; input and
    recurrent biases) or ``(3 * units,)``.

    Args:
      units: dimensionality of the output and state.
      activation: default ``"tanh"``; recurrent_activation: default ``"sigmoid"``.
      reset_after: apply the reset gate after the recurrent matmul (default True).
      use_bias, *_initializer, *_regularizer, *_constraint, dropout, recurrent_dropout:
        as in ``SimpleRNN``.
      return_sequences, return_state, go_backwards, stateful: see ``RNN``.

    Example:
      >>> tl.keras.layers.GRU(4, return_sequences=True)(tl.ones((2, 5, 3))).shape
      TensorShape([2, 5, 4])
    """

    cell_class = GRUCell


class Bidirectional(Wrapper):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges their outputs.

    A ``Wrapper``: ``layer`` (also ``forward_layer``) is the forward layer, ``backward_layer``
    the backward one.

    Args:
      layer: an ``RNN`` instance (``LSTM``, ``GRU``, ``SimpleRNN``...).
      merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"``, or
        None (return a list ``[forward, backward]``).
      backward_layer: optional explicit backward layer (default: a copy of
        ``layer`` with ``go_backwards`` flipped).

    With ``return_sequences`` the backward outputs are reversed back so step
    ``t`` of both directions lines up. With ``return_state`` the layer returns
    ``[output, *forward_states, *backward_states]``.

    Example:
      >>> bi = tl.keras.layers.Bidirectional(tl.keras.layers.LSTM(4, return_sequences=True))
      >>> bi(tl.ones((2, 5, 3))).shape
      TensorShape([2, 5, 8])
    """

    _MODES = ("concat", "sum", "mul", "ave", None)

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        from tensorlab.keras import layers as _layers
        if isinstance(layer, dict):
            layer = _layers.deserialize(layer)
        if isinstance(backward_layer, dict):
            backward_layer = _layers.deserialize(backward_layer)
        if not isinstance(layer, Layer) or not hasattr(layer, "go_backwards"):
            raise ValueError(f"Bidirectional: `layer` must be a recurrent layer instance (LSTM, GRU, SimpleRNN, RNN); "
                             f"received {layer!r}")
        if merge_mode not in self._MODES:
            raise ValueError(f"Bidirectional: invalid merge_mode {merge_mode!r}; valid: {self._MODES}")
        super().__init__(layer, **kwargs)
        self.forward_layer = layer
        # Only an explicit backward layer goes into the config (tf.keras' format); the default
        # one is rebuilt from `layer`.
        self._backward_given = backward_layer is not None
        if backward_layer is None:
            cfg = layer.get_config()
            cfg["go_backwards"] = not layer.go_backwards
            cfg["name"] = "backward_" + layer.name
            backward_layer = type(layer).from_config(cfg)
        self.backward_layer = backward_layer
        if self.backward_layer.return_sequences != layer.return_sequences or \
                self.backward_layer.return_state != layer.return_state:
            raise ValueError("Bidirectional: forward and backward layers must agree on return_sequences and "
                             "return_state")
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        if weights is not None:
            self._initial_weights = weights

    def build(self, input_shape):
        for l in (self.forward_layer, self.backward_layer):
            if not l.built:
                l.build(tuple(input_shape))
                l.built = True
        self.built = True

    def _merge(self, y, y_rev):
        if self.merge_mode == "concat":
            return tl.concat([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "mul":
            return y * y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) * 0.5
        return [y, y_rev]

    def call(self, sequences, initial_state=None, mask=None, training=None):
        fw_init = bw_init = None
        if initial_state is not None:
            n = len(initial_state) // 2
            fw_init, bw_init = list(initial_state[:n]), list(initial_state[n:])
        y = self.forward_layer(sequences, initial_state=fw_init, mask=mask, training=training)
        y_rev = self.backward_layer(sequences, initial_state=bw_init, mask=mask, training=training)
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences and self.backward_layer.go_backwards != self.forward_layer.go_backwards:
            y_rev = tl.reverse(y_rev, axis=[1])
        out = self._merge(y, y_rev)
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def compute_output_shape(self, input_shape):
        fw = self.forward_layer.compute_output_shape(input_shape)
        bw = self.backward_layer.compute_output_shape(input_shape)
        fo, bo = (fw[0], bw[0]) if self.return_state else (fw, bw)
        if self.merge_mode == "concat":
            out = [tuple(fo[:-1]) + (fo[-1] + bo[-1],)]
        elif self.merge_mode is None:
            out = [tuple(fo), tuple(bo)]
        else:
            out = [tuple(fo)]
        if self.return_state:
            return out + [tuple(s) for s in fw[1:]] + [tuple(s) for s in bw[1:]]
        return out[0] if len(out) == 1 else out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        n_out = 2 if self.merge_mode is None else 1
        if self.return_state:
            n_states = len(_state_sizes(self.forward_layer.cell)) * 2
            return [out] * n_out + [None] * n_states
        return [out] * 2 if n_out == 2 else out

    def reset_states(self, states=None):
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def get_config(self):
        from tensorlab.keras import layers as _layers
        config = super().get_config()  # "layer": the forward layer
        if self._backward_given:
            config["backward_layer"] = _layers.serialize(self.backward_layer)
        config["merge_mode"] = self.merge_mode
        return config


class TimeDistributed(Wrapper):
    """Applies a layer to every temporal slice of an input ``(batch, timesteps, ...)``.

    The wrapped layer sees ``(batch * timesteps, ...)`` and shares its weights across steps.

    Args:
      layer: the layer to apply.

    Example:
      >>> td = tl.keras.layers.TimeDistributed(tl.keras.layers.Dense(8))
      >>> td(tl.ones((2, 10, 16))).shape
      TensorShape([2, 10, 8])
    """

    def __init__(self, layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _inner_shape(self, input_shape):
        s = tuple(input_shape)
        if len(s) < 3:
            raise ValueError(f'Input 0 of layer "{self.name}" (TimeDistributed) is incompatible with the layer: '
                             f"expected min_ndim=3, found ndim={len(s)}. Full shape received: {shape_str(s)}")
        b, t = s[0], s[1]
        return (None if b is None or t is None else b * t,) + s[2:]

    def build(self, input_shape):
        Wrapper.build(self, self._inner_shape(input_shape))

    def call(self, inputs, training=None, mask=None):
        x = inputs
        inner = self._inner_shape(x.shape)
        b, t = x.shape[0], x.shape[1]
        if any(d is None for d in inner[1:]) or (b is None and t is None):
            raise ValueError(f'Layer "{self.name}" (TimeDistributed) needs known non-batch dimensions; received '
                             f"input shape {shape_str(tuple(x.shape))}")
        flat = tl.reshape(x, (-1,) + tuple(inner[1:]))
        kwargs = {}
        if _accepts_training(self.layer):
            kwargs["training"] = training
        y = self.layer(flat, **kwargs)
        lead = (-1, t) if t is not None else (b, -1)
        return tl.reshape(y, lead + tuple(y.shape[1:]))

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        inner = self.layer.compute_output_shape(self._inner_shape(s))
        return (s[0], s[1]) + tuple(inner[1:])

    def compute_mask(self, inputs, mask=None):
        return mask

