"""numpy implementations of the CTC loss and its fused backward (ops/ctc.py).

States ``s`` index the extended label sequence ``blank, l1, blank, l2, ..., blank``
(``S = 2 * max_label_length + 1`` per example; states past an example's own
``2 * label_length + 1`` never reach its result, as transitions only move
forward). Each frame is one vectorized step over the batch and the states, in
log space; frames past an example's ``logit_length`` leave its alphas as they
are. Only numpy functions CuPy also has are used, so the CUDA backend mirrors
these (one small step per frame on the device).
"""
import numpy as np

from tensorlab.core.registry import impl
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import ctc as C

NEG = -np.inf  # log(0); a Python float, so np.where keeps the arrays' dtype (NEP 50)


def _first(mask):
    return int(np.nonzero(mask)[0][0])


def _check(labels, label_length, logit_length, frames, classes, blank):
    """Raises for lengths or labels that no alignment can use (reads one flag back from a GPU)."""
    width = labels.shape[1]
    valid = np.arange(width)[None, :] < label_length[:, None]
    bad_label = valid & ((labels < 0) | (labels >= classes) | (labels == blank))
    bad_length = ((label_length < 0) | (label_length > width) | (logit_length < 0) | (logit_length > frames)
                  | (label_length > logit_length))
    if not (bool(bad_length.any()) or bool(bad_label.any())):
        return
    if bool(bad_length.any()):
        b = _first(bad_length)
        n, t = int(label_length[b]), int(logit_length[b])
        if not 0 <= n <= width:
            msg = f"label_length[{b}] = {n} is outside [0, {width}] (labels have shape [{labels.shape[0]},{width}])"
        elif not 0 <= t <= frames:
            msg = f"logit_length[{b}] = {t} is outside [0, {frames}] (logits have {frames} frames)"
        else:
            msg = (f"example {b} has {n} labels but only {t} frames (label_length[{b}] = {n} > logit_length[{b}] = "
                   f"{t}); a label sequence cannot be longer than its logits")
    else:
        b = _first(bad_label.any(axis=1))
        j = _first(bad_label[b])
        msg = (f"labels[{b}, {j}] = {int(labels[b, j])} is not a label: labels must be classes in [0, {classes}) "
               f"other than the blank index {blank}")
    raise InvalidArgumentError(f"ctc_loss: {msg}")


def _states(labels, label_length, blank):
    """The extended label sequences ``[batch, S]`` and where the skip ``s - 2 -> s`` is allowed
    (a label differing from the label before it)."""
    batch, width = labels.shape
    ext = np.full((batch, 2 * width + 1), blank, dtype=np.int64)
    valid = np.arange(width)[None, :] < label_length[:, None]
    ext[:, 1::2] = np.where(valid, labels, blank)
    skip = np.zeros(ext.shape, dtype=bool)
    skip[:, 3::2] = valid[:, 1:] & (ext[:, 3::2] != ext[:, 1:-2:2])
    return ext, skip


def _shift(a, k, fill):
    """``a[:, s - k]`` along the states (``fill`` where ``s - k`` is outside)."""
    out = np.full_like(a, fill)
    if k > 0:
        out[:, k:] = a[:, :-k]
    else:
        out[:, :k] = a[:, -k:]
    return out


def _state_log_probs(log_probs, ext):
    return log_probs[:, np.arange(ext.shape[0])[:, None], ext]  # [frames, batch, S]


@impl(C.ctc_loss_p, "cpu")
def ctc_loss(log_probs, labels, label_length, logit_length, blank):
    frames, batch, classes = log_probs.shape
    _check(labels, label_length, logit_length, frames, classes, blank)
    ext, skip = _states(labels, label_length, blank)
    lp = _state_log_probs(log_probs, ext)
    alpha = np.full(lp.shape, NEG, dtype=log_probs.dtype)
    a = np.full(ext.shape, NEG, dtype=log_probs.dtype)
    if frames:
        a[:, :2] = lp[0, :, :2]
    for t in range(frames):
        if t:
            step = np.logaddexp(np.logaddexp(a, _shift(a, 1, NEG)), np.where(skip, _shift(a, 2, NEG), NEG)) + lp[t]
            a = np.where((t < logit_length)[:, None], step, a)
        alpha[t] = a
    # a holds each example's alphas at its last frame: the paths end in the last label or blank.
    last = (2 * label_length)[:, None].astype(np.int64)
    end = np.take_along_axis(a, last, axis=1)[:, 0]
    before = np.take_along_axis(a, np.maximum(last - 1, 0), axis=1)[:, 0]
    loss = -np.logaddexp(end, np.where(label_length > 0, before, NEG))
    loss = np.where(logit_length == 0, np.where(label_length == 0, 0.0, np.inf), loss)  # no frames at all
    return loss.astype(log_probs.dtype), alpha


@impl(C.ctc_loss_grad_p, "cpu")
def ctc_loss_grad(log_probs, log_alpha, loss, labels, label_length, logit_length, blank):
    frames, batch, classes = log_probs.shape
    ext, skip = _states(labels, label_length, blank)
    lp = _state_log_probs(log_probs, ext)
    s = np.arange(ext.shape[1])[None, :]
    last = (2 * label_length)[:, None]
    final = (s == last) | ((s == last - 1) & (label_length[:, None] > 0))
    skip_next = _shift(skip, -2, False)  # the skip s -> s + 2
    ends = (logit_length - 1)[:, None]
    beta = np.full(ext.shape, NEG, dtype=log_probs.dtype)
    log_occupancy = np.empty(lp.shape, dtype=log_probs.dtype)
    for t in range(frames - 1, -1, -1):
        step = np.logaddexp(np.logaddexp(beta, _shift(beta, -1, NEG)),
                            np.where(skip_next, _shift(beta, -2, NEG), NEG)) + lp[t]
        beta = np.where(t == ends, np.where(final, lp[t], NEG), np.where(t < ends, step, NEG))
        # alpha * beta / y: the probability of the paths through state s at frame t (alpha and
        # beta both include frame t's emission); -inf where no path passes.
        both = log_alpha[t] + beta
        log_occupancy[t] = np.where(both > NEG, both - lp[t], NEG)
    feasible = np.isfinite(loss)[None, :, None]
    occupancy = np.where(feasible, np.exp(log_occupancy + np.where(feasible, loss[None, :, None], 0.0)), 0.0)
    # The states of one class add up: scatter-add into [frames, batch, classes].
    rows = np.arange(frames * batch, dtype=np.int64).reshape(frames, batch, 1)
    index = rows * classes + ext[None]
    grad = np.bincount(index.ravel(), weights=occupancy.ravel(), minlength=frames * batch * classes)
    return (-grad).reshape(frames, batch, classes).astype(log_probs.dtype)
