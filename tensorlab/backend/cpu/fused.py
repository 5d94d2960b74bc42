"""numpy implementations of the fused bias + activation primitives (ops/fused.py).

The formulas are those of ``cuda_kernels/fused.cu`` (``tl_act`` / ``tl_act_grad``), so both
devices agree, NaN included: relu passes a NaN on, and so does its derivative.
"""
import math

import numpy as np

from tensorlab.backend.cpu.elementwise import erf as _erf
from tensorlab.backend.cpu.elementwise import sigmoid as _sigmoid
from tensorlab.core.registry import impl
from tensorlab.ops import fused as F

_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K1 = 0.044715


def _act(z, activation):
    if activation == "relu":
        return np.maximum(z, np.zeros((), z.dtype), out=z)
    if activation == "gelu":
        return z * (1 + _erf(z * z.dtype.type(_SQRT_HALF))) * z.dtype.type(0.5)
    if activation == "gelu_tanh":
        return z * (1 + np.tanh(z.dtype.type(_SQRT_2_OVER_PI) * (z + z.dtype.type(_K1) * z * z * z))) * \
            z.dtype.type(0.5)
    if activation == "silu":
        return z * _sigmoid(z)
    if activation == "sigmoid":
        return _sigmoid(z)
    return np.tanh(z, out=z)


def _act_grad_times(dy, z, y, activation):
    """dy * act'(z), from y = act(z) where that is cheaper. Masks multiply instead of np.where,
    whose data-dependent branches cost ten times more on random signs."""
    f = z.dtype.type if z is not None else y.dtype.type
    if activation == "relu":
        dz = dy * (y > 0)
        nan = np.isnan(y)
        if nan.any():  # a NaN input gives a NaN gradient, as on the GPU
            dz[nan] = np.nan
        return dz
    if activation == "sigmoid":
        return dy * y * (1 - y)
    if activation == "tanh":
        return dy * (1 - y * y)
    if activation == "gelu":
        return dy * ((1 + _erf(z * f(_SQRT_HALF))) * f(0.5) + z * np.exp(f(-0.5) * z * z) * f(_INV_SQRT_2PI))
    if activation == "gelu_tanh":
        tz = np.tanh(f(_SQRT_2_OVER_PI) * (z + f(_K1) * z * z * z))
        return dy * (f(0.5) * (1 + tz) + f(0.5) * z * (1 - tz * tz) * f(_SQRT_2_OVER_PI) * (1 + f(3 * _K1) * z * z))
    s = _sigmoid(z)  # silu
    return dy * s * (1 + z * (1 - s))


def _z(x, b):
    # 16-bit floats are computed in float32, like the other CPU kernels
    z = x + b
    return z.astype(np.float32) if z.dtype.itemsize < 4 else z


@impl(F.bias_act_p, "cpu")
def bias_act(x, b, activation):
    return _act(_z(x, b), activation).astype(x.dtype, copy=False)


@impl(F.bias_act_grad_p, "cpu")
def bias_act_grad(dy, x, b, y, activation):
    z = _z(x, b) if activation in ("gelu", "gelu_tanh", "silu") else None
    ya = y.astype(np.float32) if y.dtype.itemsize < 4 else y
    return _act_grad_times(dy, z, ya, activation).astype(x.dtype, copy=False)
