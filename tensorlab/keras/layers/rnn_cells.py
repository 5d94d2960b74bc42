"""Recurrent cells: SimpleRNNCell, LSTMCell, GRUCell (Keras 3 weight layouts).

A cell computes one time step: ``call(inputs, states) -> (output, new_states)``.
For speed, the ``RNN`` layer projects the inputs of all steps at once
(``project``) and then runs ``step`` on each projected slice.
"""
import tensorlab as tl
from tensorlab.keras import activations, constraints, initializers, regularizers
from tensorlab.keras.layers._common import is_symbolic, kernel_bias_config, set_kernel_bias_args
from tensorlab.keras.layers.base import Layer
from tensorlab.keras.layers.core import matmul_last
from tensorlab.ops import rnn as _rnn_ops


def set_recurrent_weight_args(layer, kernel_initializer, recurrent_initializer, bias_initializer,
                              kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                              recurrent_constraint, bias_constraint):
    """Resolves the initializer, regularizer and constraint arguments of a recurrent layer's three
    weights (kernel, recurrent kernel, bias) onto ``layer`` (the cells and ConvLSTM1D/2D/3D)."""
    set_kernel_bias_args(layer, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                         kernel_constraint, bias_constraint)
    layer.recurrent_initializer = initializers.get(recurrent_initializer)
    layer.recurrent_regularizer = regularizers.get(recurrent_regularizer)
    layer.recurrent_constraint = constraints.get(recurrent_constraint)


def recurrent_weight_config(layer):
    """The ``get_config`` entries of the arguments ``set_recurrent_weight_args`` set."""
    return dict(kernel_bias_config(layer),
                recurrent_initializer=initializers.serialize(layer.recurrent_initializer),
                recurrent_regularizer=regularizers.serialize(layer.recurrent_regularizer),
                recurrent_constraint=constraints.serialize(layer.recurrent_constraint))


class _Cell(Layer):
    n_gates = 1

    def __init__(self, units, activation="tanh", use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros", kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        if self.units <= 0:
            raise ValueError(f"{type(self).__name__}: `units` must be a positive integer; received {units!r}")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_recurrent_weight_args(self, kernel_initializer, recurrent_initializer, bias_initializer,
                                  kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
                                  recurrent_constraint, bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    def _bias_shape(self):
        return (self.n_gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def build(self, input_shape):
        d = tuple(input_shape)[-1]
        if d is None:
            raise ValueError(f'Layer "{self.name}" ({type(self).__name__}): the last input dimension must be known; '
                             f"received input shape {tuple(input_shape)}")
        g = self.n_gates * self.units
        self.kernel = self.add_weight(name="kernel", shape=(d, g), initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=(self.units, g), initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=self._bias_shape(), initializer=self._bias_init(),
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def _input_bias(self):
        return self.bias

    def project(self, x):
        """The input part of every gate, ``x @ kernel (+ input bias)``, for inputs of any rank."""
        y = matmul_last(x, self.kernel)
        b = self._input_bias()
        return y if b is None else y + b

    def get_initial_state(self, batch_size, dtype="float32"):
        return [tl.zeros((batch_size, self.units), dtype=dtype)]

    def dropout_masks(self, x, training):
        """(input mask, recurrent mask) for one sequence; None where no dropout applies."""
        if not training:
            return None, None
        b = x.shape[0]
        im = rm = None
        if 0 < self.dropout < 1:
            im = tl.nn.dropout(tl.ones((b, x.shape[-1]), dtype=x.dtype), self.dropout, seed=self.seed)
        if 0 < self.recurrent_dropout < 1:
            rm = tl.nn.dropout(tl.ones((b, self.units), dtype=x.dtype), self.recurrent_dropout, seed=self.seed)
        return im, rm

    def call(self, inputs, states, training=None):
        if not isinstance(states, (list, tuple)):
            states = [states]
        im, rm = self.dropout_masks(inputs, training)
        x = inputs if im is None else inputs * im
        out, new_states = self.step(self.project(x), list(states), rm)
        return out, new_states

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units, "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
            **recurrent_weight_config(self),
            "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout, "seed": self.seed,
        })
        return config


class SimpleRNNCell(_Cell):
    """One step of a fully-connected RNN: ``h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)``."""

    def step(self, xp, states, rm=None):
        h = states[0]
        if rm is not None:
            h = h * rm
        h = self.activation(xp + tl.matmul(h, self.recurrent_kernel))
        return h, [h]


class _ForgetBiasInit:
    """LSTM bias: zeros except ones for the forget gate (``unit_forget_bias``)."""

    def __init__(self, base, units):
        self.base, self.units = base, units

    def __call__(self, shape, dtype=None):
        u = self.units
        b = self.base
        return tl.concat([b((u,), dtype=dtype), tl.ones((u,), dtype=dtype), b((2 * u,), dtype=dtype)], axis=0)


class LSTMCell(_Cell):
    """One step of a long short-term memory layer (gates in Keras' order: input, forget, cell, output).

    Extra args:
      recurrent_activation: the gates' activation (default sigmoid).
      unit_forget_bias: initialize the forget-gate bias to 1 (default True).

    States: ``[h, c]``.
    """

    n_gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 unit_forget_bias=True, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def _bias_init(self):
        return _ForgetBiasInit(self.bias_initializer, self.units) if self.unit_forget_bias else self.bias_initializer

    def get_initial_state(self, batch_size, dtype="float32"):
        return [tl.zeros((batch_size, self.units), dtype=dtype), tl.zeros((batch_size, self.units), dtype=dtype)]

    def step(self, xp, states, rm=None):
        h, c = states
        if rm is not None:
            h = h * rm
        z = xp + tl.matmul(h, self.recurrent_kernel)
        if self.activation is activations.tanh and self.recurrent_activation is activations.sigmoid \
                and len(z.shape) == 2 and not is_symbolic(z):
            h, c = _rnn_ops.lstm_cell(z, c)  # the default activations: one fused op (ops/rnn.py)
            return h, [h, c]
        zi, zf, zc, zo = tl.split(z, 4, axis=-1)
        ra = self.recurrent_activation
        c = ra(zf) * c + ra(zi) * self.activation(zc)
        h = ra(zo) * self.activation(c)
        return h, [h, c]

    def get_config(self):
        config = super().get_config()
        config.update({"recurrent_activation": activations.serialize(self.recurrent_activation),
                       "unit_forget_bias": self.unit_forget_bias})
        return config


class GRUCell(_Cell):
    """One step of a gated recurrent unit (gates in Keras' order: update z, reset r, candidate h).

    Extra args:
      recurrent_activation: the gates' activation (default sigmoid).
      reset_after: apply the reset gate after the recurrent matmul (default
        True, the cuDNN-compatible variant); the bias then has shape ``(2, 3 * units)``
        (input bias, recurrent bias).
    """

    n_gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 reset_after=True, **kwargs):
        kwargs.pop("implementation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _input_bias(self):
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def step(self, xp, states, rm=None):
        h_prev = states[0]
        h = h_prev if rm is None else h_prev * rm
        ra = self.recurrent_activation
        u = self.units
        if self.reset_after:
            rec = tl.matmul(h, self.recurrent_kernel)
            if self.bias is not None:
                rec = rec + self.bias[1]
            if self.activation is activations.tanh and ra is activations.sigmoid \
                    and len(xp.shape) == 2 and not is_symbolic(xp):
                h_new = _rnn_ops.gru_cell(xp, rec, h_prev)  # the default activations: one fused op (ops/rnn.py)
                return h_new, [h_new]
        xz, xr, xh = tl.split(xp, 3, axis=-1)
        if self.reset_after:
            rz, rr, rh = tl.split(rec, 3, axis=-1)
            z = ra(xz + rz)
            r = ra(xr + rr)
            hh = self.activation(xh + r * rh)
        else:
            uzr, uh = tl.split(self.recurrent_kernel, [2 * u, u], axis=-1)
            rz, rr = tl.split(tl.matmul(h, uzr), 2, axis=-1)
            z = ra(xz + rz)
            r = ra(xr + rr)
            hh = self.activation(xh + tl.matmul(r * h, uh))
        h_new = z * h_prev + (1.0 - z) * hh
        return h_new, [h_new]

    def get_config(self):
        config = super().get_config()
        config.update({"recurrent_activation": activations.serialize(self.recurrent_activation),
                       "reset_after": self.reset_after})
        return config
