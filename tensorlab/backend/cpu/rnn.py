"""numpy implementations of the fused LSTM and GRU cell primitives (ops/rnn.py).

Written against numpy functions CuPy also has: the CUDA backend mirrors them. The sigmoid is
``(tanh(x / 2) + 1) / 2``, exact and free of overflow for any x, in one transcendental pass.
float16/bfloat16 steps are computed in float32 and rounded once.
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.ops import rnn as R


def _gates(z):
    """The gate activations [sigmoid(i), sigmoid(f), tanh(g), sigmoid(o)] of pre-activations z."""
    u = z.shape[-1] // 4
    act = np.tanh(z * np.asarray(0.5, z.dtype))
    act[:, 2 * u:3 * u] = np.tanh(z[:, 2 * u:3 * u])
    for lo in (0, u, 3 * u):
        s = act[:, lo:lo + u]
        s += 1
        s *= 0.5
    return act


def _wide(x):
    return x.astype(np.float32) if x.dtype.itemsize < 4 else x


@impl(R.lstm_cell_p, "cpu")
def lstm_cell(z, c_prev):
    dtype = z.dtype
    z, c_prev = _wide(z), _wide(c_prev)
    u = z.shape[-1] // 4
    act = _gates(z)
    c = act[:, u:2 * u] * c_prev + act[:, :u] * act[:, 2 * u:3 * u]
    h = act[:, 3 * u:] * np.tanh(c)
    return h.astype(dtype, copy=False), c.astype(dtype, copy=False), act.astype(dtype, copy=False)


@impl(R.lstm_cell_grad_p, "cpu")
def lstm_cell_grad(dh, dc, c_prev, c, act):
    dtype = act.dtype
    dh, dc, c_prev, c, act = (_wide(a) for a in (dh, dc, c_prev, c, act))
    u = act.shape[-1] // 4
    i, f, g, o = act[:, :u], act[:, u:2 * u], act[:, 2 * u:3 * u], act[:, 3 * u:]
    tc = np.tanh(c)
    dct = dc + dh * o * (1 - tc * tc)
    dz = np.empty_like(act)
    dz[:, :u] = dct * g * i * (1 - i)
    dz[:, u:2 * u] = dct * c_prev * f * (1 - f)
    dz[:, 2 * u:3 * u] = dct * i * (1 - g * g)
    dz[:, 3 * u:] = dh * tc * o * (1 - o)
    return dz.astype(dtype, copy=False), (dct * f).astype(dtype, copy=False)


@impl(R.gru_cell_p, "cpu")
def gru_cell(xp, rec, h_prev):
    dtype = xp.dtype
    xp, rec, h_prev = _wide(xp), _wide(rec), _wide(h_prev)
    u = xp.shape[-1] // 3
    act = np.empty_like(xp)
    zr = act[:, :2 * u]
    np.add(xp[:, :2 * u], rec[:, :2 * u], out=zr)
    zr *= 0.5
    np.tanh(zr, out=zr)
    zr += 1
    zr *= 0.5                                       # sigmoid of the update and reset parts
    hh = act[:, 2 * u:]
    np.multiply(act[:, u:2 * u], rec[:, 2 * u:], out=hh)
    hh += xp[:, 2 * u:]
    np.tanh(hh, out=hh)                             # the candidate
    z = act[:, :u]
    h = z * h_prev + (1 - z) * hh
    return h.astype(dtype, copy=False), act.astype(dtype, copy=False)


@impl(R.gru_cell_grad_p, "cpu")
def gru_cell_grad(dh, rec, h_prev, act):
    dtype = act.dtype
    dh, rec, h_prev, act = (_wide(a) for a in (dh, rec, h_prev, act))
    u = act.shape[-1] // 3
    z, r, hh = act[:, :u], act[:, u:2 * u], act[:, 2 * u:]
    a_z = dh * (h_prev - hh) * z * (1 - z)
    a_hh = dh * (1 - z) * (1 - hh * hh)
    a_r = a_hh * rec[:, 2 * u:] * r * (1 - r)
    dxp = np.concatenate([a_z, a_r, a_hh], axis=-1)
    drec = np.concatenate([a_z, a_r, a_hh * r], axis=-1)
    return dxp.astype(dtype, copy=False), drec.astype(dtype, copy=False), (dh * z).astype(dtype, copy=False)
