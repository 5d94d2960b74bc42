"""CUDA implementations of the fused optimizer updates: one pass of our kernel.

float32 updates run ``tl_sgd_momentum_update_f32`` / ``tl_adam_update_f32``
(cuda_kernels/fused.cu, planned by kernels/fused.py), which read the inputs
and write fresh output buffers in one pass: a variable's earlier values may
still be held as tensors (tensors never change). Other dtypes use the CPU
expression on CuPy arrays. ``sgd_plan``/``adam_plan`` map the primitives'
parameters onto the kernels' (tests run them on the host emulator against
the CPU implementation).
"""
import numpy as np

from tensorlab.backend.cpu import training_ops as _cpu
from tensorlab.backend.cuda._mirror import cupy_versions, mirror
from tensorlab.backend.cuda.kernels import fused as _kfused
from tensorlab.backend.cuda.kernels._plan import run_plan
from tensorlab.core.registry import impl
from tensorlab.ops import training_ops as T

_fallback = cupy_versions(_cpu)
_F32 = np.dtype(np.float32)


def sgd_plan(n, has_slot, *, lr, momentum, nesterov, weight_decay, sm_count):
    """The launch plan of ``apply_sgd`` on ``n`` float32 elements (buffers: param, grad, mom)."""
    # Without a slot the kernel runs plain SGD (p -= lr*g): its momentum must be 0.
    return _kfused.plan_sgd(n, lr, momentum if has_slot else 0.0, weight_decay, nesterov, True, has_slot, sm_count,
                            out_of_place=True)


def adam_plan(n, amsgrad, *, lr, beta_1, beta_2, epsilon, step, weight_decay, sm_count):
    """The launch plan of ``apply_adam`` (buffers: param, grad, m, v, vhat), Keras' epsilon placement."""
    return _kfused.plan_adam(n, lr, beta_1, beta_2, epsilon, step, weight_decay, True, amsgrad, "keras", sm_count,
                             out_of_place=True)


def _in(a):
    import cupy
    return cupy.ascontiguousarray(a, dtype=_F32)  # the kernels index flat float32 buffers (0-d comes back 1-d)


def _new(a):
    import cupy
    return cupy.empty(a.shape, _F32)  # `a` as given: a 0-d variable's update stays 0-d


def _use_kernel(param, grad):
    return param.dtype == _F32 and grad.dtype == _F32 and param.size > 0


@impl(T.apply_sgd_p, "cuda")
def apply_sgd(param, grad, *slots, lr, momentum, nesterov, weight_decay):
    if not _use_kernel(param, grad):
        return _fallback["apply_sgd"](param, grad, *slots, lr=lr, momentum=momentum, nesterov=nesterov,
                                      weight_decay=weight_decay)
    p = _in(param)
    mom = _in(slots[0]) if slots else None
    out = {"param_out": _new(param), "mom_out": _new(slots[0]) if slots else None}
    plan = sgd_plan(p.size, mom is not None, lr=lr, momentum=momentum, nesterov=nesterov,
                    weight_decay=weight_decay, sm_count=_kfused._sm())
    run_plan(plan, {"param": p, "grad": _in(grad), "mom": mom, **out})
    return (out["param_out"],) if mom is None else (out["param_out"], out["mom_out"])


@impl(T.apply_adam_p, "cuda")
def apply_adam(param, grad, m, v, *v_hat, lr, beta_1, beta_2, epsilon, step, weight_decay):
    if not _use_kernel(param, grad):
        return _fallback["apply_adam"](param, grad, m, v, *v_hat, lr=lr, beta_1=beta_1, beta_2=beta_2,
                                       epsilon=epsilon, step=step, weight_decay=weight_decay)
    given = {"param": param, "m": m, "v": v, **({"vhat": v_hat[0]} if v_hat else {})}
    ins = {"grad": _in(grad), "vhat": None, **{k: _in(a) for k, a in given.items()}}
    outs = {f"{k}_out": _new(a) for k, a in given.items()}
    plan = adam_plan(ins["param"].size, bool(v_hat), lr=lr, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, step=step,
                     weight_decay=weight_decay, sm_count=_kfused._sm())
    run_plan(plan, {**ins, **outs})
    return tuple(outs.values())


mirror(_cpu)  # apply_moving_average: a CuPy expression (its factors travel as kernel arguments)
