"""Fused recurrent cells: one time step of an LSTM or a GRU from its pre-activations.

``LSTM`` and ``GRU`` layers with the default activations (tanh, sigmoid gates; for the GRU,
``reset_after=True``) call ``lstm_cell`` / ``gru_cell`` once per step instead of a dozen
elementwise ops (splits, sigmoids, tanh, products, sums), and the backward pass is one
``*_grad`` primitive per step. An eager framework pays per op, so a step costs far less this way
on the CPU and launches fewer kernels on the GPU. A backward primitive's own gradient (second
order) goes through the same formulas written with tensorlab ops, so nested tapes work as for
the composite cells.

Gates are in Keras' order: LSTM input, forget, cell, output; GRU update, reset, candidate.
"""
from tensorlab.core.registry import defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import fmt, require_float, require_like, t
from tensorlab.ops.elementwise import add, multiply, subtract, tanh
from tensorlab.ops.shape import concat, split

__all__ = []  # internal: reached through tl.keras' LSTM and GRU layers (and ops.rnn)


def _lstm_rule(z, c_prev):
    require_float("lstm_cell", z)
    if len(z.shape) != 2 or (z.shape[1] is not None and z.shape[1] % 4):
        raise InvalidArgumentError(f"lstm_cell: the gate pre-activations z must be [batch, 4 * units], got shape "
                                   f"{fmt(z.shape)}")
    units = None if z.shape[1] is None else z.shape[1] // 4
    want = TensorSpec((z.shape[0], units), z.dtype)
    require_like("lstm_cell", "c_prev", c_prev, want, "[batch, units] of z")
    return want, want, TensorSpec(tuple(z.shape), z.dtype)


def _lstm_grad_rule(dh, dc, c_prev, c, act):
    require_like("lstm_cell_grad", "dh", dh, c, "c")
    require_like("lstm_cell_grad", "dc", dc, c, "c")
    require_like("lstm_cell_grad", "c_prev", c_prev, c, "c")
    return TensorSpec(tuple(act.shape), act.dtype), TensorSpec(tuple(c.shape), c.dtype)


# c and the activations are saved: the backward pass reads them even where the caller keeps
# only h (the last step of a sequence).
lstm_cell_p = primitive("lstm_cell", _lstm_rule, multiple_results=True, saved_outputs=(1, 2),
                        doc="(z, c_prev) -> (h, c, gate activations) of one LSTM step")
lstm_cell_grad_p = primitive("lstm_cell_grad", _lstm_grad_rule, multiple_results=True,
                             doc="(dh, dc, c_prev, c, gate activations) -> (dz, dc_prev)")


# ------------------------------------------------------------------ LSTM, as tensorlab ops
def _activation_slopes(act):
    """d act / d z per gate: s(1 - s) for the sigmoid gates, 1 - g^2 for the tanh one."""
    i, f, g, o = split(act, 4, axis=-1)
    return concat([multiply(i, subtract(1.0, i)), multiply(f, subtract(1.0, f)),
                   subtract(1.0, multiply(g, g)), multiply(o, subtract(1.0, o))], axis=-1)


def _lstm_backward(dh, dc, c_prev, c, act):
    i, f, g, o = split(act, 4, axis=-1)
    tc = tanh(c)
    dct = add(dc, multiply(multiply(dh, o), subtract(1.0, multiply(tc, tc))))
    dact = concat([multiply(dct, g), multiply(dct, c_prev), multiply(dct, i), multiply(dh, tc)], axis=-1)
    return multiply(dact, _activation_slopes(act)), multiply(dct, f)


@defgrad(lstm_cell_p)
def _lstm_grad(g, out, z, c_prev):
    from tensorlab.ops.creation import zeros_like
    gh, gc, gact = g
    _, c, act = out  # h may be gone (dropped by the caller); c and act are kept for this rule
    dz, dc_prev = lstm_cell_grad_p(zeros_like(c) if gh is None else gh, zeros_like(c) if gc is None else gc,
                                   c_prev, c, act)
    if gact is not None:  # only a second-order pass reaches the saved activations
        dz = add(dz, multiply(gact, _activation_slopes(act)))
    return dz, dc_prev


@defgrad(lstm_cell_grad_p)
def _lstm_grad_grad(g, out, dh, dc, c_prev, c, act):
    from tensorlab.core.autodiff import GradientTape
    with GradientTape() as tape:
        tape.watch([dh, dc, c_prev, c, act])
        outs = _lstm_backward(dh, dc, c_prev, c, act)
    return tuple(tape.gradient(list(outs), [dh, dc, c_prev, c, act], output_gradients=list(g)))


# ------------------------------------------------------------------ GRU (reset_after=True)
def _gru_rule(xp, rec, h_prev):
    require_float("gru_cell", xp)
    if len(xp.shape) != 2 or (xp.shape[1] is not None and xp.shape[1] % 3):
        raise InvalidArgumentError(f"gru_cell: the input projection xp must be [batch, 3 * units], got shape "
                                   f"{fmt(xp.shape)}")
    require_like("gru_cell", "rec", rec, xp, "xp")
    units = None if xp.shape[1] is None else xp.shape[1] // 3
    want = TensorSpec((xp.shape[0], units), xp.dtype)
    require_like("gru_cell", "h_prev", h_prev, want, "[batch, units] of xp")
    return want, TensorSpec(tuple(xp.shape), xp.dtype)


def _gru_grad_rule(dh, rec, h_prev, act):
    require_like("gru_cell_grad", "dh", dh, h_prev, "h_prev")
    require_like("gru_cell_grad", "rec", rec, act, "the gate activations")
    return TensorSpec(tuple(act.shape), act.dtype), TensorSpec(tuple(act.shape), act.dtype), \
        TensorSpec(tuple(h_prev.shape), h_prev.dtype)


gru_cell_p = primitive("gru_cell", _gru_rule, multiple_results=True, saved_outputs=(1,),
                       doc="(xp, rec, h_prev) -> (h, gate activations z, r, candidate) of one GRU step")
gru_cell_grad_p = primitive("gru_cell_grad", _gru_grad_rule, multiple_results=True,
                            doc="(dh, rec, h_prev, gate activations) -> (dxp, drec, dh_prev)")


def _gru_pre_grads(dz, dr, dhh, act, rec):
    """(dxp, drec) from the gradients of the gate activations z, r (None: zero) and the candidate."""
    z, r, hh = split(act, 3, axis=-1)
    rh = split(rec, 3, axis=-1)[2]
    a_hh = multiply(dhh, subtract(1.0, multiply(hh, hh)))
    a_z = multiply(dz, multiply(z, subtract(1.0, z)))
    dr = multiply(a_hh, rh) if dr is None else add(dr, multiply(a_hh, rh))  # r reaches h through hh
    a_r = multiply(dr, multiply(r, subtract(1.0, r)))
    return concat([a_z, a_r, a_hh], axis=-1), concat([a_z, a_r, multiply(a_hh, r)], axis=-1)


def _gru_backward(dh, rec, h_prev, act):
    z, _, hh = split(act, 3, axis=-1)
    dxp, drec = _gru_pre_grads(multiply(dh, subtract(h_prev, hh)), None, multiply(dh, subtract(1.0, z)), act, rec)
    return dxp, drec, multiply(dh, z)


@defgrad(gru_cell_p)
def _gru_grad(g, out, xp, rec, h_prev):
    from tensorlab.ops.creation import zeros_like
    gh, gact = g
    act = out[1]
    dxp, drec, dh_prev = gru_cell_grad_p(zeros_like(h_prev) if gh is None else gh, rec, h_prev, act)
    if gact is not None:  # only a second-order pass reaches the saved activations
        ex, er = _gru_pre_grads(*split(gact, 3, axis=-1), act, rec)
        dxp, drec = add(dxp, ex), add(drec, er)
    return dxp, drec, dh_prev


@defgrad(gru_cell_grad_p)
def _gru_grad_grad(g, out, dh, rec, h_prev, act):
    from tensorlab.core.autodiff import GradientTape
    with GradientTape() as tape:
        tape.watch([dh, rec, h_prev, act])
        outs = _gru_backward(dh, rec, h_prev, act)
    return tuple(tape.gradient(list(outs), [dh, rec, h_prev, act], output_gradients=list(g)))


def gru_cell(xp, rec, h_prev):
    """One GRU step (``reset_after=True``, sigmoid gates, tanh): the new ``h`` from the input
    projection ``xp`` and the recurrent projection ``rec`` (both [batch, 3 * units], parts update,
    reset, candidate, biases included) and ``h_prev``: ``z = s(xz + rz)``, ``r = s(xr + rr)``,
    ``hh = tanh(xh + r * rh)``, ``h = z * h_prev + (1 - z) * hh``."""
    xp, rec, h_prev = t(xp), t(rec), t(h_prev)
    if xp.dtype != rec.dtype or xp.dtype != h_prev.dtype or len(xp.shape) != 2 or len(h_prev.shape) != 2 or \
            tuple(rec.shape) != tuple(xp.shape) or xp.shape[1] != 3 * h_prev.shape[1] or \
            xp.shape[0] != h_prev.shape[0]:
        from tensorlab.core.tensor import spec_of
        _gru_rule(spec_of(xp), spec_of(rec), spec_of(h_prev))  # eager calls skip shape rules
    return gru_cell_p(xp, rec, h_prev)[0]


def lstm_cell(z, c_prev):
    """One LSTM step: ``(h, c)`` from the gate pre-activations ``z`` ([batch, 4 * units], gates
    input, forget, cell, output) and the previous cell state ``c_prev`` ([batch, units]), with
    sigmoid gates and tanh: ``c = f * c_prev + i * g``, ``h = o * tanh(c)``."""
    z, c_prev = t(z), t(c_prev)
    if z.dtype != c_prev.dtype or len(z.shape) != 2 or len(c_prev.shape) != 2 or \
            z.shape[1] != 4 * c_prev.shape[1] or z.shape[0] != c_prev.shape[0]:
        from tensorlab.core.tensor import spec_of
        _lstm_rule(spec_of(z), spec_of(c_prev))  # eager calls skip shape rules: raise its message here
    h, c, _ = lstm_cell_p(z, c_prev)
    return h, c

