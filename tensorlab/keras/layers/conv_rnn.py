"""Convolutional LSTMs (ConvLSTM1D, ConvLSTM2D, ConvLSTM3D): LSTMs whose input and recurrent
transformations are convolutions.

Inputs are sequences of 1-D signals, images or volumes ``(batch, time, *spatial, channels)``
(next-frame prediction, precipitation nowcasting). One rank-generic class, ``_ConvLSTM``, does the
work; the public classes only fix ``rank``. The gates follow Keras' order (input, forget, cell,
output) and weight layout: ``kernel (*kernel_size, channels, 4 * filters)``, ``recurrent_kernel
(*kernel_size, filters, 4 * filters)``, ``bias (4 * filters,)``. The input convolution of every
step runs as one batched convolution; the recurrent one (stride 1, SAME padding, as in Keras)
runs per step.
"""
import tensorlab as tl
from tensorlab.keras import activations
from tensorlab.keras.layers._common import (check_ndim, conv_output_length, is_symbolic, normalize_data_format,
                                            normalize_padding, normalize_tuple, shape_str, to_channels_first,
                                            to_channels_last)
from tensorlab.keras.layers.base import Layer
from tensorlab.keras.layers.rnn_cells import _ForgetBiasInit, recurrent_weight_config, set_recurrent_weight_args

_ARGS_DOC = """
    Args:
      filters: channels of the hidden state and output.
      kernel_size: int or tuple of {rank} ints, of both convolutions.
      strides, dilation_rate: of the input convolution (int or tuple of {rank}).
      padding: ``"valid"`` (default) or ``"same"``, of the input convolution.
      data_format: ``"channels_last"`` (default) or ``"channels_first"`` (``{first}``).
      activation, recurrent_activation: of the cell (``tanh``) and of the gates (``sigmoid``).
      use_bias, unit_forget_bias: a bias, its forget-gate part initialized to 1 (default True).
      kernel_initializer, recurrent_initializer, bias_initializer, *_regularizer, *_constraint:
        for the three weights.
      dropout, recurrent_dropout: fractions of the input / hidden-state channels dropped in
        training (one mask per sequence, as in Keras).
      seed: seed of the dropout masks.
      return_sequences: every step's output ``{seq_out}`` instead of the last one.
      return_state: also return the final ``h`` and ``c``: ``[output, h, c]``.
      go_backwards: process the sequence in reverse.
      stateful: carry the final states of a batch over to the next one.

    Call arguments: ``inputs``, ``initial_state`` (``[h, c]``), ``training``.
"""


class _ConvLSTM(Layer):
    """The convolutional LSTM of spatial rank ``rank`` (1, 2 or 3); see ConvLSTM1D/2D/3D."""

    rank = None
    _spatial = ()  # the spatial axes' names, for messages

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, **kwargs):
        kwargs.pop("unroll", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        r = self.rank
        self.filters = int(filters)
        if self.filters <= 0:
            raise ValueError(f"{type(self).__name__}: `filters` must be a positive integer; received {filters!r}")
        try:
            self.kernel_size = normalize_tuple(kernel_size, r, "kernel_size")
            self.strides = normalize_tuple(strides, r, "strides")
            self.padding = normalize_padding(padding)
            self.data_format = normalize_data_format(data_format)
            self.dilation_rate = normalize_tuple(dilation_rate, r, "dilation_rate")
        except ValueError as e:
            raise ValueError(f"{type(self).__name__}: {e}") from None
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.unit_forget_bias = bool(unit_forget_bias)
        set_recurrent_weight_args(self, kernel_initializer, recurrent_initializer, bias_initializer,
                                  kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                                  recurrent_constraint, bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self._carried = None

    # ------------------------------------------------------------------ shapes
    def _channels_last_shape(self, input_shape):
        s, r = tuple(input_shape), self.rank
        if len(s) != r + 3:
            layout = ", ".join(("batch", "time") + self._spatial + ("channels",))
            raise ValueError(f'Input 0 of layer "{self.name}" ({type(self).__name__}) is incompatible with the '
                             f"layer: expected ndim={r + 3} ({layout}), found ndim={len(s)}. Full shape "
                             f"received: {shape_str(s)}")
        return s if self.data_format == "channels_last" else s[:2] + s[3:] + (s[2],)

    def _out_spatial(self, sizes):
        return tuple(conv_output_length(n, k, self.padding, st, d) for n, k, st, d in
                     zip(sizes, self.kernel_size, self.strides, self.dilation_rate))

    def build(self, input_shape):
        c = self._channels_last_shape(input_shape)[-1]
        if c is None:
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}): the channel dimension of the inputs '
                             f"must be known; received input shape {shape_str(tuple(input_shape))}")
        f4 = 4 * self.filters
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (c, f4),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=self.kernel_size + (self.filters, f4),
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            init = _ForgetBiasInit(self.bias_initializer, self.filters) if self.unit_forget_bias \
                else self.bias_initializer
            self.bias = self.add_weight(name="bias", shape=(f4,), initializer=init,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self._channels = c
        self.built = True

    def compute_output_shape(self, input_shape):
        s = self._channels_last_shape(input_shape)
        b, t = s[:2]
        spatial = self._out_spatial(s[2:-1])
        state = (b,) + spatial + (self.filters,) if self.data_format == "channels_last" \
            else (b, self.filters) + spatial
        out = (b, t) + state[1:] if self.return_sequences else state
        return [out, state, state] if self.return_state else out

    # ------------------------------------------------------------------ computation
    def _initial(self, x, spatial, initial_state):
        b = x.shape[0]
        if initial_state is not None:
            states = list(initial_state)
            if len(states) != 2:
                raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) expects 2 initial states [h, c], '
                                 f"but received {len(states)}")
            if self.data_format == "channels_first":
                states = [to_channels_last(s, self.rank) for s in states]
            return [tl.convert_to_tensor(s, dtype=x.dtype) for s in states]
        shape = (b,) + spatial + (self.filters,)
        if is_symbolic(x):
            zeros = tl.SymbolicTensor(shape, x.dtype)
            return [zeros, zeros]
        if self.stateful and self._carried is not None and self._carried[0].shape[0] == b:
            return list(self._carried)
        with tl.device(x.device):  # the input's device, whatever the default
            zeros = tl.zeros(shape, dtype=x.dtype)
        return [zeros, zeros]

    def _masks(self, x, training):
        if not training or is_symbolic(x):
            return None, None
        b, ones = x.shape[0], (1,) * self.rank
        im = rm = None
        with tl.device(x.device):
            if 0 < self.dropout < 1:
                im = tl.nn.dropout(tl.ones((b, 1) + ones + (x.shape[-1],), dtype=x.dtype), self.dropout,
                                   seed=self.seed)
            if 0 < self.recurrent_dropout < 1:
                rm = tl.nn.dropout(tl.ones((b,) + ones + (self.filters,), dtype=x.dtype), self.recurrent_dropout,
                                   seed=self.seed)
        return im, rm

    def call(self, inputs, initial_state=None, training=None):
        r = self.rank
        check_ndim(self, inputs, ndim=r + 3)
        x = inputs if self.data_format == "channels_last" else \
            tl.transpose(inputs, [0, 1] + list(range(3, r + 3)) + [2])
        steps, sizes, c = x.shape[1], tuple(x.shape[2:-1]), x.shape[-1]
        if steps is None or None in sizes or c != self._channels:
            known = ", ".join(self._spatial[:-1]) + (" and " if r > 1 else "") + self._spatial[-1]
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}) needs known time, {known} and '
                             f"{self._channels} channels; received input shape {shape_str(tuple(inputs.shape))}")
        spatial = self._out_spatial(sizes)
        im, rm = self._masks(x, training)
        if im is not None:
            x = x * im
        # The input convolution of all steps at once: time folded into the batch.
        xp = tl.nn.convolution(tl.reshape(x, (-1,) + sizes + (c,)), self.kernel, self.strides,
                               self.padding.upper(), dilations=self.dilation_rate)
        if self.bias is not None:
            xp = xp + self.bias
        xp = tl.unstack(tl.reshape(xp, (-1, steps) + spatial + (4 * self.filters,)), num=steps, axis=1)
        hs, cs = self._initial(x, spatial, initial_state)
        ra, act = self.recurrent_activation, self.activation
        outputs = []
        for t in (range(steps - 1, -1, -1) if self.go_backwards else range(steps)):
            hr = hs if rm is None else hs * rm
            z = xp[t] + tl.nn.convolution(hr, self.recurrent_kernel, 1, "SAME")
            zi, zf, zc, zo = tl.split(z, 4, axis=-1)
            cs = ra(zf) * cs + ra(zi) * act(zc)
            hs = ra(zo) * act(cs)
            outputs.append(hs)
        if self.stateful and not is_symbolic(x):
            self._carried = [tl.stop_gradient(hs), tl.stop_gradient(cs)]
        out = tl.stack(outputs, axis=1) if self.return_sequences else hs
        if self.data_format == "channels_first":
            out = tl.transpose(out, [0, 1, r + 2] + list(range(2, r + 2))) if self.return_sequences \
                else to_channels_first(out, r)
            hs, cs = (to_channels_first(s, r) for s in (hs, cs))
        return [out, hs, cs] if self.return_state else out

    def reset_states(self, states=None):
        """Forgets the carried-over states of a stateful layer (or sets them, ``[h, c]``)."""
        self._carried = None if states is None else list(states)

    reset_state = reset_states

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters, "kernel_size": self.kernel_size, "strides": self.strides,
            "padding": self.padding, "data_format": self.data_format, "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias, "unit_forget_bias": self.unit_forget_bias,
            **recurrent_weight_config(self),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
            "return_sequences": self.return_sequences, "return_state": self.return_state,
            "go_backwards": self.go_backwards, "stateful": self.stateful,
        })
        return config


class ConvLSTM1D(_ConvLSTM):
    __doc__ = """1-D convolutional LSTM over ``(batch, time, steps, channels)`` sequences.
""" + _ARGS_DOC.format(rank=1, first="(batch, time, channels, steps)",
                       seq_out="(batch, time, steps', filters)") + """
    Example:
      >>> tl.keras.layers.ConvLSTM1D(8, 3, padding="same")(tl.ones((2, 5, 16, 1))).shape
      TensorShape([2, 16, 8])
    """
    rank = 1
    _spatial = ("steps",)


class ConvLSTM2D(_ConvLSTM):
    __doc__ = """2-D convolutional LSTM over ``(batch, time, rows, cols, channels)`` sequences.
""" + _ARGS_DOC.format(rank=2, first="(batch, time, channels, rows, cols)",
                       seq_out="(batch, time, rows', cols', filters)") + """
    Example:
      >>> tl.keras.layers.ConvLSTM2D(8, 3, padding="same")(tl.ones((2, 5, 16, 16, 1))).shape
      TensorShape([2, 16, 16, 8])
    """
    rank = 2
    _spatial = ("rows", "cols")


class ConvLSTM3D(_ConvLSTM):
    __doc__ = """3-D convolutional LSTM over ``(batch, time, depth, rows, cols, channels)`` sequences (videos
    of volumes).
""" + _ARGS_DOC.format(rank=3, first="(batch, time, channels, depth, rows, cols)",
                       seq_out="(batch, time, depth', rows', cols', filters)") + """
    Example:
      >>> tl.keras.layers.ConvLSTM3D(4, 3, padding="same")(tl.ones((2, 3, 4, 8, 8, 1))).shape
      TensorShape([2, 4, 8, 8, 4])
    """
    rank = 3
    _spatial = ("depth", "rows", "cols")
