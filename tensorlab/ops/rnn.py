"""The fused LSTM cell: one time step of an LSTM from its gate pre-activations.

``LSTM`` layers with the default activations (tanh, sigmoid gates) call ``lstm_cell`` once per
step instead of a dozen elementwise ops (split, three sigmoids, two tanh, products, a sum), and
the backward pass is one ``lstm_cell_grad`` per step. An eager framework pays per op, so an LSTM
step costs far less this way on the CPU and launches fewer kernels on the GPU. The backward
primitive's own gradient (second order) goes through the same formulas written with tensorlab
ops, so nested tapes work as for the composite cell.

Gates are in Keras' order: input, forget, cell, output.
"""
from tensorlab.core.registry import defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import fmt, require_float, require_like, t
from tensorlab.ops.elementwise import add, multiply, subtract, tanh
from tensorlab.ops.shape import concat, split

__all__ = []  # internal: reached through tl.keras' LSTM layers (and ops.rnn)


def _cell_rule(z, c_prev):
    require_float("lstm_cell", z)
    if len(z.shape) != 2 or (z.shape[1] is not None and z.shape[1] % 4):
        raise InvalidArgumentError(f"lstm_cell: the gate pre-activations z must be [batch, 4 * units], got shape "
                                   f"{fmt(z.shape)}")
    units = None if z.shape[1] is None else z.shape[1] // 4
    want = TensorSpec((z.shape[0], units), z.dtype)
    require_like("lstm_cell", "c_prev", c_prev, want, "[batch, units] of z")
    return want, want, TensorSpec(tuple(z.shape), z.dtype)


def _cell_grad_rule(dh, dc, c_prev, c, act):
    require_like("lstm_cell_grad", "dh", dh, c, "c")
    require_like("lstm_cell_grad", "dc", dc, c, "c")
    require_like("lstm_cell_grad", "c_prev", c_prev, c, "c")
    return TensorSpec(tuple(act.shape), act.dtype), TensorSpec(tuple(c.shape), c.dtype)


# c and the activations are saved: the backward pass reads them even where the caller keeps
# only h (the last step of a sequence).
lstm_cell_p = primitive("lstm_cell", _cell_rule, multiple_results=True, saved_outputs=(1, 2),
                        doc="(z, c_prev) -> (h, c, gate activations) of one LSTM step")
lstm_cell_grad_p = primitive("lstm_cell_grad", _cell_grad_rule, multiple_results=True,
                             doc="(dh, dc, c_prev, c, gate activations) -> (dz, dc_prev)")


# ------------------------------------------------------------------ the formulas in tensorlab ops
def _activation_slopes(act):
    """d act / d z per gate: s(1 - s) for the sigmoid gates, 1 - g^2 for the tanh one."""
    i, f, g, o = split(act, 4, axis=-1)
    one = 1.0
    return concat([multiply(i, subtract(one, i)), multiply(f, subtract(one, f)),
                   subtract(one, multiply(g, g)), multiply(o, subtract(one, o))], axis=-1)


def _cell_backward(dh, dc, c_prev, c, act):
    i, f, g, o = split(act, 4, axis=-1)
    tc = tanh(c)
    dct = add(dc, multiply(multiply(dh, o), subtract(1.0, multiply(tc, tc))))
    dact = concat([multiply(dct, g), multiply(dct, c_prev), multiply(dct, i), multiply(dh, tc)], axis=-1)
    return multiply(dact, _activation_slopes(act)), multiply(dct, f)


@defgrad(lstm_cell_p)
def _cell_grad(g, out, z, c_prev):
    from tensorlab.ops.creation import zeros_like
    gh, gc, gact = g
    _, c, act = out  # h may be gone (dropped by the caller); c and act are kept for this rule
    dz, dc_prev = lstm_cell_grad_p(zeros_like(c) if gh is None else gh, zeros_like(c) if gc is None else gc,
                                   c_prev, c, act)
    if gact is not None:  # only a second-order pass reaches the saved activations
        dz = add(dz, multiply(gact, _activation_slopes(act)))
    return dz, dc_prev


@defgrad(lstm_cell_grad_p)
def _cell_grad_grad(g, out, dh, dc, c_prev, c, act):
    from tensorlab.core.autodiff import GradientTape
    with GradientTape() as tape:
        tape.watch([dh, dc, c_prev, c, act])
        outs = _cell_backward(dh, dc, c_prev, c, act)
    return tuple(tape.gradient(list(outs), [dh, dc, c_prev, c, act], output_gradients=list(g)))


def lstm_cell(z, c_prev):
    """One LSTM step: ``(h, c)`` from the gate pre-activations ``z`` ([batch, 4 * units], gates
    input, forget, cell, output) and the previous cell state ``c_prev`` ([batch, units]), with
    sigmoid gates and tanh: ``c = f * c_prev + i * g``, ``h = o * tanh(c)``."""
    z, c_prev = t(z), t(c_prev)
    if z.dtype != c_prev.dtype or len(z.shape) != 2 or len(c_prev.shape) != 2 or \
            z.shape[1] != 4 * c_prev.shape[1] or z.shape[0] != c_prev.shape[0]:
        from tensorlab.core.tensor import spec_of
        _cell_rule(spec_of(z), spec_of(c_prev))  # eager calls skip shape rules: raise its message here
    h, c, _ = lstm_cell_p(z, c_prev)
    return h, c

