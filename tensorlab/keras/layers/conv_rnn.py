"""ConvLSTM2D: an LSTM whose input and recurrent transformations are 2-D convolutions.

Inputs are sequences of images ``(batch, time, rows, cols, channels)`` (next-frame
prediction, precipitation nowcasting). The gates follow Keras' order (input, forget, cell,
output) and weight layout: ``kernel (kh, kw, channels, 4 * filters)``, ``recurrent_kernel
(kh, kw, filters, 4 * filters)``, ``bias (4 * filters,)``. The input convolution of every step
runs as one batched convolution; the recurrent one (stride 1, SAME padding, as in Keras)
runs per step.
"""
import tensorlab as tl
from tensorlab.keras import activations
from tensorlab.keras.layers._common import (check_ndim, conv_output_length, is_symbolic, normalize_data_format,
                                            normalize_padding, normalize_tuple, shape_str)
from tensorlab.keras.layers.base import Layer
from tensorlab.keras.layers.rnn_cells import _ForgetBiasInit, recurrent_weight_config, set_recurrent_weight_args


class ConvLSTM2D(Layer):
    """2-D convolutional LSTM over ``(batch, time, rows, cols, channels)`` sequences.

    Args:
      filters: channels of the hidden state and output.
      kernel_size: int or ``(kh, kw)`` of both convolutions.
      strides, dilation_rate: of the input convolution (int or pair).
      padding: ``"valid"`` (default) or ``"same"``, of the input convolution.
      data_format: ``"channels_last"`` (default) or ``"channels_first"`` (``(batch, time, channels,
        rows, cols)``).
      activation, recurrent_activation: of the cell (``tanh``) and of the gates (``sigmoid``).
      use_bias, unit_forget_bias: a bias, its forget-gate part initialized to 1 (default True).
      kernel_initializer, recurrent_initializer, bias_initializer, *_regularizer, *_constraint:
        for the three weights.
      dropout, recurrent_dropout: fractions of the input / hidden-state channels dropped in
        training (one mask per sequence, as in Keras).
      seed: seed of the dropout masks.
      return_sequences: every step's output ``(batch, time, rows', cols', filters)`` instead of
        the last one.
      return_state: also return the final ``h`` and ``c``: ``[output, h, c]``.
      go_backwards: process the sequence in reverse.
      stateful: carry the final states of a batch over to the next one.

    Call arguments: ``inputs``, ``initial_state`` (``[h, c]``), ``training``.

    Example:
      >>> tl.keras.layers.ConvLSTM2D(8, 3, padding="same")(tl.ones((2, 5, 16, 16, 1))).shape
      TensorShape([2, 16, 16, 8])
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, **kwargs):
        kwargs.pop("unroll", None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = int(filters)
        if self.filters <= 0:
            raise ValueError(f"ConvLSTM2D: `filters` must be a positive integer; received {filters!r}")
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
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
        s = tuple(input_shape)
        if len(s) != 5:
            raise ValueError(f'Input 0 of layer "{self.name}" (ConvLSTM2D) is incompatible with the layer: expected '
                             f"ndim=5 (batch, time, rows, cols, channels), found ndim={len(s)}. Full shape received: "
                             f"{shape_str(s)}")
        return s if self.data_format == "channels_last" else (s[0], s[1], s[3], s[4], s[2])

    def _out_hw(self, h, w):
        return tuple(conv_output_length(n, k, self.padding, st, d) for n, k, st, d in
                     zip((h, w), self.kernel_size, self.strides, self.dilation_rate))

    def build(self, input_shape):
        c = self._channels_last_shape(input_shape)[-1]
        if c is None:
            raise ValueError(f'Layer "{self.name}" (ConvLSTM2D): the channel dimension of the inputs must be known; '
                             f"received input shape {shape_str(tuple(input_shape))}")
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
        b, t, h, w, _ = self._channels_last_shape(input_shape)
        oh, ow = self._out_hw(h, w)
        state = (b, oh, ow, self.filters) if self.data_format == "channels_last" else (b, self.filters, oh, ow)
        out = (b, t) + state[1:] if self.return_sequences else state
        return [out, state, state] if self.return_state else out

    # ------------------------------------------------------------------ computation
    def _initial(self, x, oh, ow, initial_state):
        b = x.shape[0]
        if initial_state is not None:
            states = list(initial_state)
            if len(states) != 2:
                raise ValueError(f'Layer "{self.name}" (ConvLSTM2D) expects 2 initial states [h, c], but received '
                                 f"{len(states)}")
            if self.data_format == "channels_first":
                states = [tl.transpose(s, [0, 2, 3, 1]) for s in states]
            return [tl.convert_to_tensor(s, dtype=x.dtype) for s in states]
        if is_symbolic(x):
            zeros = tl.SymbolicTensor((b, oh, ow, self.filters), x.dtype)
            return [zeros, zeros]
        if self.stateful and self._carried is not None and self._carried[0].shape[0] == b:
            return list(self._carried)
        with tl.device(x.device):  # the input's device, whatever the default
            zeros = tl.zeros((b, oh, ow, self.filters), dtype=x.dtype)
        return [zeros, zeros]

    def _masks(self, x, oh, ow, training):
        if not training or is_symbolic(x):
            return None, None
        b = x.shape[0]
        im = rm = None
        with tl.device(x.device):
            if 0 < self.dropout < 1:
                im = tl.nn.dropout(tl.ones((b, 1, 1, 1, x.shape[-1]), dtype=x.dtype), self.dropout, seed=self.seed)
            if 0 < self.recurrent_dropout < 1:
                rm = tl.nn.dropout(tl.ones((b, 1, 1, self.filters), dtype=x.dtype), self.recurrent_dropout,
                                   seed=self.seed)
        return im, rm

    def call(self, inputs, initial_state=None, training=None):
        check_ndim(self, inputs, ndim=5)
        x = inputs if self.data_format == "channels_last" else tl.transpose(inputs, [0, 1, 3, 4, 2])
        b, steps, h, w, c = x.shape
        if None in (steps, h, w) or c != self._channels:
            raise ValueError(f'Layer "{self.name}" (ConvLSTM2D) needs known time, rows and cols and '
                             f"{self._channels} channels; received input shape {shape_str(tuple(inputs.shape))}")
        oh, ow = self._out_hw(h, w)
        im, rm = self._masks(x, oh, ow, training)
        if im is not None:
            x = x * im
        # The input convolution of all steps at once: time folded into the batch.
        xp = tl.nn.conv2d(tl.reshape(x, (-1, h, w, c)), self.kernel, self.strides, self.padding.upper(),
                          dilations=self.dilation_rate)
        if self.bias is not None:
            xp = xp + self.bias
        xp = tl.unstack(tl.reshape(xp, (-1, steps, oh, ow, 4 * self.filters)), num=steps, axis=1)
        hs, cs = self._initial(x, oh, ow, initial_state)
        ra, act = self.recurrent_activation, self.activation
        outputs = []
        for t in (range(steps - 1, -1, -1) if self.go_backwards else range(steps)):
            hr = hs if rm is None else hs * rm
            z = xp[t] + tl.nn.conv2d(hr, self.recurrent_kernel, 1, "SAME")
            zi, zf, zc, zo = tl.split(z, 4, axis=-1)
            cs = ra(zf) * cs + ra(zi) * act(zc)
            hs = ra(zo) * act(cs)
            outputs.append(hs)
        if self.stateful and not is_symbolic(x):
            self._carried = [tl.stop_gradient(hs), tl.stop_gradient(cs)]
        out = tl.stack(outputs, axis=1) if self.return_sequences else hs
        if self.data_format == "channels_first":
            out = tl.transpose(out, [0, 1, 4, 2, 3] if self.return_sequences else [0, 3, 1, 2])
            hs, cs = (tl.transpose(s, [0, 3, 1, 2]) for s in (hs, cs))
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
