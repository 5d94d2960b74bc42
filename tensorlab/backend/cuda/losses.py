"""CUDA implementations of the loss primitives.

The sparse softmax cross-entropy runs our fused row kernel (kernels/rowwise.py)
for float32/float64 logits: the loss and, when a tape needs it, the backprop
in the same pass; out-of-range labels are checked first so the error matches
the CPU's. The rest are CuPy mirrors.
"""
import numpy as np

from tensorlab.backend.cpu import losses as _cpu
from tensorlab.backend.cuda._mirror import cupy_versions, mirror
from tensorlab.backend.cuda.kernels import rowwise as _krow
from tensorlab.core.registry import impl
from tensorlab.ops import losses as Lo

_fallback = cupy_versions(_cpu)
_ROW_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


@impl(Lo.sparse_softmax_xent_p, "cuda")
def sparse_softmax_cross_entropy(logits, labels, need_backprop):
    import cupy

    k = logits.shape[-1] if logits.ndim else 0
    if logits.dtype in _ROW_DTYPES and logits.size > 0 and bool(((labels >= 0) & (labels < k)).all()):
        loss, backprop = _krow.sparse_xent(logits, labels, need_grad=need_backprop)
        if backprop is None:
            backprop = cupy.broadcast_to(cupy.zeros((), logits.dtype), logits.shape)
        return loss, backprop
    return _fallback["sparse_softmax_cross_entropy"](logits, labels, need_backprop)


mirror(_cpu)
