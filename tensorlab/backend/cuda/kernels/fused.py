"""Launcher for cuda_kernels/fused.cu: bias + activation and in-place optimizer updates.

Example:
    >>> y = bias_act(x, b, "gelu")                    # exact erf GELU
    >>> dx, db = bias_act_grad(dy, x, b, "gelu_tanh")
    >>> adam_update(p, g, m, v, lr=1e-3, step=t)      # updates p, m, v in place
"""
from __future__ import annotations

import math

import numpy as np

from ._plan import Buf, Launch, Plan, ceil_div, i64, run_plan

STEM = "fused"
DEFAULT_SM = 132
#: activation name -> (act code, approximate flag); codes match fused.cu
ACTIVATIONS = {"linear": (0, 0), "relu": (1, 0), "gelu": (2, 0), "gelu_erf": (2, 0), "gelu_tanh": (2, 1),
               "silu": (3, 0), "swish": (3, 0), "sigmoid": (4, 0), "tanh": (5, 0)}
_SUF = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}

HOT_KERNELS = ["tl_bias_act_fwd_f32", "tl_bias_act_bwd_f32", "tl_sgd_momentum_update_f32", "tl_adam_update_f32"]
EMU_EXEMPT: dict = {}


def act_code(act) -> tuple:
    if act is None:
        return 0, 0
    try:
        return ACTIVATIONS[act]
    except KeyError:
        raise ValueError(f"unknown activation {act!r}; expected one of {sorted(ACTIVATIONS)}") from None


def elementwise_grid(n, vec, sm_count=DEFAULT_SM, threads=256):
    """Grid for a grid-stride elementwise kernel over n elements handled `vec` at a time."""
    return (max(1, min(ceil_div(max(n, 1), threads * vec), sm_count * 32)),), (threads,)


def plan_bias_act(dtype, n, C, act, backward=False, has_bias=True, sm_count=DEFAULT_SM) -> Plan:
    dtype = np.dtype(dtype)
    suf = _SUF[dtype]
    code, approx = act_code(act)
    grid, block = elementwise_grid(n, 16 // dtype.itemsize, sm_count)
    bias = Buf("bias") if has_bias else None
    if backward:
        args = (Buf("dy"), Buf("x"), bias, Buf("out"), i64(n), i64(C), np.int32(code), np.int32(approx))
        return Plan(STEM, [Launch(f"tl_bias_act_bwd_{suf}", grid, block, 0, args)])
    args = (Buf("x"), bias, Buf("out"), i64(n), i64(C), np.int32(code), np.int32(approx))
    return Plan(STEM, [Launch(f"tl_bias_act_fwd_{suf}", grid, block, 0, args)])


def _out(name, out_of_place):
    """The buffer an optimizer kernel writes for input `name`: the input itself (in place) or
    `<name>_out` (a fresh buffer: the primitives' value semantics without a copy of the input)."""
    return Buf(f"{name}_out" if out_of_place else name)


def plan_sgd(n, lr, momentum=0.0, weight_decay=0.0, nesterov=False, decoupled=True, has_mom=True,
             sm_count=DEFAULT_SM, out_of_place=False) -> Plan:
    grid, block = elementwise_grid(n, 4, sm_count)
    args = (Buf("param"), Buf("grad"), Buf("mom") if has_mom else None, _out("param", out_of_place),
            _out("mom", out_of_place) if has_mom else None, i64(n), np.float32(lr), np.float32(momentum),
            np.float32(weight_decay), np.int32(bool(decoupled)), np.int32(bool(nesterov)))
    return Plan(STEM, [Launch("tl_sgd_momentum_update_f32", grid, block, 0, args)])


def adam_scalars(lr, beta1, beta2, step, eps_style="keras"):
    """(step_size, inv_sqrt_bc2) folding bias correction for step `step` (1-based)."""
    bc1 = 1.0 - beta1 ** step
    bc2 = 1.0 - beta2 ** step
    if eps_style == "keras":
        return lr * math.sqrt(bc2) / bc1, 1.0
    if eps_style == "torch":
        return lr / bc1, 1.0 / math.sqrt(bc2)
    raise ValueError(f"eps_style must be 'keras' or 'torch', got {eps_style!r}")


def plan_adam(n, lr, beta1, beta2, eps, step, weight_decay=0.0, decoupled=True, amsgrad=False,
              eps_style="keras", sm_count=DEFAULT_SM, out_of_place=False) -> Plan:
    step_size, inv_sqrt_bc2 = adam_scalars(lr, beta1, beta2, step, eps_style)
    grid, block = elementwise_grid(n, 4, sm_count)
    f = np.float32
    o = out_of_place
    args = (Buf("param"), Buf("grad"), Buf("m"), Buf("v"), Buf("vhat") if amsgrad else None, _out("param", o),
            _out("m", o), _out("v", o), _out("vhat", o) if amsgrad else None, i64(n), f(lr), f(beta1),
            f(beta2), f(1.0 - beta1), f(1.0 - beta2), f(eps), f(step_size), f(inv_sqrt_bc2), f(weight_decay), np.int32(bool(decoupled)),
            np.int32(bool(amsgrad)))
    return Plan(STEM, [Launch("tl_adam_update_f32", grid, block, 0, args)])


# ------------------------------------------------------------------------------ CuPy entry points
def _sm():
    from ._module import sm_count

    return sm_count()


def bias_act(x, bias=None, act="relu"):
    """act(x + bias), bias broadcast over the last axis. act: see ACTIVATIONS ("gelu" is exact erf)."""
    import cupy

    x2 = cupy.ascontiguousarray(x)
    if x2.dtype not in _SUF:
        raise TypeError(f"bias_act supports float32/float64, got {x2.dtype}")
    C = x2.shape[-1] if x2.ndim else 1
    y = cupy.empty(x2.shape, x2.dtype)
    b = None if bias is None else cupy.ascontiguousarray(bias, dtype=x2.dtype)
    if x2.size:
        run_plan(plan_bias_act(x2.dtype, x2.size, C, act, False, b is not None, _sm()), {"x": x2, "bias": b, "out": y})
    return y


def bias_act_grad(dy, x, bias=None, act="relu", reduce_bias=True):
    """Gradients of act(x + bias): returns (dx, dbias) (dbias None without a bias, or with
    `reduce_bias=False` for a caller that sums dx over the rows itself)."""
    import cupy

    from .reduce import reduce

    x2 = cupy.ascontiguousarray(x)
    C = x2.shape[-1] if x2.ndim else 1
    dz = cupy.empty(x2.shape, x2.dtype)
    b = None if bias is None else cupy.ascontiguousarray(bias, dtype=x2.dtype)
    if x2.size:
        run_plan(plan_bias_act(x2.dtype, x2.size, C, act, True, b is not None, _sm()),
                 {"dy": cupy.ascontiguousarray(dy, dtype=x2.dtype), "x": x2, "bias": b, "out": dz})
    if b is None or not reduce_bias:
        return dz, None
    db = reduce(dz.reshape(-1, C), "sum", axes=(0,)) if x2.ndim > 1 else dz.copy()
    return dz, db


def _check_f32_contig(**arrs):
    for k, a in arrs.items():
        if a is not None and (a.dtype != np.float32 or not a.flags.c_contiguous):
            raise TypeError(f"{k} must be a C-contiguous float32 array (updated in place)")


def sgd_momentum_update(param, grad, mom=None, *, lr, momentum=0.0, weight_decay=0.0, nesterov=False,
                        decoupled=True):
    """In-place SGD step (Keras convention: m = momentum*m - lr*g; p += m, or nesterov form).

    `mom` may be None when momentum == 0. weight_decay: decoupled (p -= lr*wd*p) or, with
    decoupled=False, L2 added to the gradient.
    """
    _check_f32_contig(param=param, mom=mom)
    if momentum != 0.0 and mom is None:
        raise ValueError("momentum != 0 needs a momentum slot")
    import cupy

    g = cupy.ascontiguousarray(grad, dtype=np.float32)
    if param.size:
        run_plan(plan_sgd(param.size, lr, momentum, weight_decay, nesterov, decoupled, mom is not None, _sm()),
                 {"param": param, "grad": g, "mom": mom})
    return param


def adam_update(param, grad, m, v, vhat=None, *, lr, beta1=0.9, beta2=0.999, eps=1e-7, step,
                weight_decay=0.0, decoupled=True, amsgrad=False, eps_style="keras"):
    """In-place Adam / AdamW / AMSGrad step `step` (1-based) on float32 param and slots.

    eps_style "keras" adds eps to sqrt(v) (Keras/TF); "torch" adds it to the bias-corrected
    sqrt(v_hat) (PyTorch). decoupled=True with weight_decay > 0 is AdamW.
    """
    _check_f32_contig(param=param, m=m, v=v, vhat=vhat)
    if amsgrad and vhat is None:
        raise ValueError("amsgrad needs a vhat slot")
    import cupy

    g = cupy.ascontiguousarray(grad, dtype=np.float32)
    if param.size:
        run_plan(plan_adam(param.size, lr, beta1, beta2, eps, step, weight_decay, decoupled, amsgrad, eps_style,
                           _sm()), {"param": param, "grad": g, "m": m, "v": v, "vhat": vhat})
    return param
