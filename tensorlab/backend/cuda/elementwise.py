"""CUDA implementations of ops/elementwise.py.

Plain elementwise math is CuPy's own generated kernels (mirrored from the CPU
implementations); the fused bias+activation kernels that matter for training
live in nn.py / fused kernels. Overrides below cover what cannot be mirrored.
"""
import cupy as cp

from tensorlab.backend.cpu import elementwise as _cpu
from tensorlab.backend.cuda._mirror import REASON, mirror
from tensorlab.core.registry import impl
from tensorlab.ops import elementwise as E


@impl(E.erf_p, "cuda", fallback="cupyx.scipy.special.erf")
def erf(x):
    from cupyx.scipy.special import erf as _erf
    return _erf(x).astype(x.dtype, copy=False)


def _int_divisor_ok(y):
    if y.dtype.kind in "iu" and not bool(cp.all(y)):
        from tensorlab.errors import InvalidArgumentError
        raise InvalidArgumentError("Integer division by zero (floordiv/floormod with an integer divisor of 0)")


@impl(E.floordiv_p, "cuda", fallback=REASON)
def floordiv(x, y):
    _int_divisor_ok(y)
    return cp.floor_divide(x, y)


@impl(E.floormod_p, "cuda", fallback=REASON)
def floormod(x, y):
    _int_divisor_ok(y)
    return cp.mod(x, y)


@impl(E.pow_p, "cuda", fallback=REASON)
def pow(x, y):
    if x.dtype.kind in "iu" and bool(cp.any(y < 0)):
        from tensorlab.errors import InvalidArgumentError
        raise InvalidArgumentError("pow: integers to negative integer powers are not allowed")
    return cp.power(x, y)


mirror(_cpu)
