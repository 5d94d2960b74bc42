"""numpy implementations of the loss primitives (ops/losses.py)."""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import losses as L


@impl(L.sparse_softmax_xent_p, "cpu")
def sparse_softmax_cross_entropy(logits, labels):
    k = logits.shape[-1]
    bad = (labels < 0) | (labels >= k)
    if bool(np.any(bad)):
        first = int(labels[bad].reshape(-1)[0])
        raise InvalidArgumentError(
            f"sparse_softmax_cross_entropy_with_logits: Received a label value of {first} which is outside "
            f"the valid range of [0, {k}) ({k} classes); label values must be class indices")
    m = np.max(logits, axis=-1, keepdims=True)
    lse = np.log(np.sum(np.exp(logits - m), axis=-1)) + m[..., 0]
    picked = np.take_along_axis(logits, labels[..., None].astype(np.int64), axis=-1)[..., 0]
    return (lse - picked).astype(logits.dtype, copy=False)
