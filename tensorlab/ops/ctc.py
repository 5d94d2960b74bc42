"""Connectionist temporal classification: ``tl.nn.ctc_loss`` (TF 2's dense-label semantics).

Primitives: ``ctc_loss`` runs the forward (alpha) recursion in log space over log-probabilities
``[frames, batch, classes]`` and returns the per-example negative log-likelihood with the alphas;
``ctc_loss_grad`` is its fused backward: the beta recursion, giving ``d loss / d log_probs`` as
minus each frame's posterior class occupancy. Both loop over frames in the backend (vectorized
over the batch and the label states). ``ctc_loss`` composes them with ``log_softmax``.
"""
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import defgrad, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops._rules import fmt, require_dtypes, tf

_FLOATS = frozenset({dt.float32, dt.float64})
_INTS = frozenset({dt.int32, dt.int64})


def _check_inputs(name, log_probs, labels, label_length, logit_length):
    require_dtypes(name, log_probs, _FLOATS)
    if len(log_probs.shape) != 3:
        raise InvalidArgumentError(f"{name}: logits must have rank 3 ([frames, batch, classes]), got shape "
                                   f"{fmt(log_probs.shape)}")
    if len(labels.shape) != 2:
        raise InvalidArgumentError(f"{name}: labels must have rank 2 ([batch, max_label_length], dense and padded), "
                                   f"got shape {fmt(labels.shape)}")
    for what, s in (("labels", labels), ("label_length", label_length), ("logit_length", logit_length)):
        if s.dtype not in _INTS:
            raise TypeError(f"{name}: {what} must be int32 or int64, got dtype {s.dtype.name}")
    for what, s in (("label_length", label_length), ("logit_length", logit_length)):
        if len(s.shape) != 1:
            raise InvalidArgumentError(f"{name}: {what} must have rank 1 ([batch]), got shape {fmt(s.shape)}")
    batches = [("logits", log_probs.shape[1]), ("labels", labels.shape[0]),
               ("label_length", label_length.shape[0]), ("logit_length", logit_length.shape[0])]
    known = {b for _, b in batches if b is not None}
    if len(known) > 1:
        raise InvalidArgumentError(
            f"{name}: the batch sizes differ: " + ", ".join(f"{w} {b}" for w, b in batches)
            + f" (logits shape {fmt(log_probs.shape)}, labels shape {fmt(labels.shape)})")
    return next(iter(known)) if known else None


def _ctc_rule(log_probs, labels, label_length, logit_length, blank):
    batch = _check_inputs("ctc_loss", log_probs, labels, label_length, logit_length)
    width = labels.shape[1]
    states = None if width is None else 2 * width + 1
    return (TensorSpec((batch,), log_probs.dtype),
            TensorSpec((log_probs.shape[0], batch, states), log_probs.dtype))


def _ctc_grad_rule(log_probs, log_alpha, loss, labels, label_length, logit_length, blank):
    _check_inputs("ctc_loss_grad", log_probs, labels, label_length, logit_length)
    return TensorSpec(log_probs.shape, log_probs.dtype)


# saved_outputs: the alphas live with the loss for the backward pass, never handed to callers.
ctc_loss_p = primitive("ctc_loss", _ctc_rule, multiple_results=True, saved_outputs=(1,))
ctc_loss_grad_p = primitive("ctc_loss_grad", _ctc_grad_rule)


@defgrad(ctc_loss_p)
def _ctc_loss_grad(g, out, log_probs, labels, label_length, logit_length, blank):
    from tensorlab.ops.elementwise import multiply
    from tensorlab.ops.shape import reshape
    loss, log_alpha = out
    d = ctc_loss_grad_p(log_probs, log_alpha, loss, labels, label_length, logit_length, blank=blank)
    return multiply(d, reshape(g[0], [1, -1, 1])), None, None, None


@defgrad(ctc_loss_grad_p)
def _ctc_loss_grad_grad(g, out, *args, **params):
    raise NotImplementedError("ctc_loss: second derivatives are not implemented (the gradient is the fused "
                              "ctc_loss_grad primitive); take only first derivatives of the CTC loss")


def ctc_loss(labels, logits, label_length, logit_length, logits_time_major=True, unique=None, blank_index=None,
             name=None):
    """The CTC (connectionist temporal classification) loss of dense, padded label sequences.

    ``-log p(labels | logits)`` summed over all alignments (Graves et al., 2006), with
    repeated labels needing a blank between them (TF 2's ``tf.nn.ctc_loss``). The
    softmax over classes is applied here: pass unnormalized logits.

    Args:
      labels: int32/int64 ``[batch, max_label_length]``; entries past ``label_length``
        are ignored. Labels must lie in ``[0, classes)`` and differ from the blank.
      logits: float ``[frames, batch, classes]`` (``[batch, frames, classes]`` with
        ``logits_time_major=False``).
      label_length: int ``[batch]``, the length of each label sequence.
      logit_length: int ``[batch]``, the number of valid frames of each example.
      logits_time_major: the layout of ``logits`` (see above).
      unique: accepted for TF compatibility (a speed hint there); the result is the same.
      blank_index: the class of the blank; default 0 (TF 2's default for dense labels);
        negative values count from ``classes`` (-1 is the last class).

    Returns:
      float ``[batch]``: each example's negative log-likelihood, ``inf`` when no
      alignment fits (repeats needing more frames than there are). The gradient is
      exact and zero for frames past ``logit_length`` and for infinite losses.

    Raises:
      InvalidArgumentError: bad shapes, a label sequence longer than its frames
        (``label_length > logit_length``), lengths out of range, or a label that is
        the blank or not a class (the lengths and labels are checked on the device:
        one sync on a GPU).

    Example:
      >>> logits = tl.zeros([4, 1, 3])  # 4 frames, 1 example, classes {blank, a, b}
      >>> tl.nn.ctc_loss(tl.constant([[1, 2]]), logits, tl.constant([2]), tl.constant([4])).numpy()
      array([1.686399], dtype=float32)
    """
    if hasattr(labels, "indices") and hasattr(labels, "dense_shape"):
        raise TypeError("ctc_loss: SparseTensor labels are not supported; pass dense padded labels with "
                        "label_length (labels.to_dense() and each row's label count)")
    if label_length is None:
        raise InvalidArgumentError("ctc_loss: label_length is required with dense labels")
    from tensorlab.ops.elementwise import cast
    from tensorlab.ops.indexing import _on_device_of
    from tensorlab.ops.nn import log_softmax
    from tensorlab.ops.shape import transpose
    x = tf(logits, "ctc_loss")
    if len(x.shape) != 3:
        layout = "[frames, batch, classes]" if logits_time_major else "[batch, frames, classes]"
        raise InvalidArgumentError(f"ctc_loss: logits must have rank 3 ({layout}), got shape {fmt(x.shape)}")
    if not logits_time_major:
        x = transpose(x, [1, 0, 2])
    classes = x.shape[-1]
    blank = 0 if blank_index is None else int(blank_index)
    if classes is not None and blank < 0:
        blank += classes
    if blank < 0 or (classes is not None and blank >= classes):
        raise InvalidArgumentError(f"ctc_loss: blank_index {blank_index} is out of range for logits with {classes} "
                                   f"classes (valid: {-classes if classes else '-classes'}..{(classes or 0) - 1})")
    ints = [_on_device_of(x, v, "ctc_loss") for v in (labels, label_length, logit_length)]
    out_dtype = x.dtype
    if x.dtype not in _FLOATS:  # float16/bfloat16: the recursions run in float32
        x = cast(x, dt.float32)
    ctc_loss_p.shape_rule(x, *ints, blank=blank)  # numpy would broadcast mismatched batch sizes silently
    loss = ctc_loss_p(log_softmax(x, axis=-1), *ints, blank=blank)[0]
    return loss if loss.dtype == out_dtype else cast(loss, out_dtype)


__all__ = []
NN = ["ctc_loss"]
