"""numpy implementations of the loss primitives (ops/losses.py)."""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import losses as L


@impl(L.sparse_softmax_xent_p, "cpu")
def sparse_softmax_cross_entropy(logits, labels, need_backprop):
    k = logits.shape[-1]
    bad = (labels < 0) | (labels >= k)
    if bool(np.any(bad)):
        first = int(labels[bad].reshape(-1)[0])
        raise InvalidArgumentError(
            f"sparse_softmax_cross_entropy_with_logits: Received a label value of {first} which is outside "
            f"the valid range of [0, {k}) ({k} classes); label values must be class indices")
    m = np.max(logits, axis=-1, keepdims=True)
    e = np.exp(logits - m)
    total = np.sum(e, axis=-1)
    lse = np.log(total) + m[..., 0]
    idx = labels[..., None].astype(np.int64)
    picked = np.take_along_axis(logits, idx, axis=-1)[..., 0]
    loss = (lse - picked).astype(logits.dtype, copy=False)
    if not need_backprop:
        return loss, np.broadcast_to(np.zeros((), logits.dtype), logits.shape)
    e /= total[..., None]                      # softmax, in place
    np.put_along_axis(e, idx, np.take_along_axis(e, idx, axis=-1) - 1, axis=-1)
    return loss, e.astype(logits.dtype, copy=False)
