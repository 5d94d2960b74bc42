"""``keras.ops.ctc_loss`` and ``keras.ops.ctc_decode`` (greedy and beam search), as in Keras 3.

    from tensorlab.keras import ops
    loss = ops.ctc_loss(labels, logits, label_lengths, frame_lengths)
    (paths,), scores = ops.ctc_decode(logits, frame_lengths)
"""
import math

import tensorlab as tl
from tensorlab.core.tensor import SymbolicTensor
from tensorlab.keras.ops._common import at_least_float32, constant_like, on_device_of, tensor

__all__ = ["ctc_loss", "ctc_decode"]

_STRATEGIES = ("greedy", "beam_search")


def _int32(x):
    x = tensor(x)
    return x if x.dtype == tl.int32 else tl.cast(x, tl.int32)


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """Per-sample CTC loss (Keras 3's ``ops.ctc_loss``), over ``tl.nn.ctc_loss``.

    Args:
      target: integer labels ``(batch, max_label_length)``.
      output: logits ``(batch, frames, classes)`` (the softmax is applied here).
      target_length: ``(batch,)`` label lengths.
      output_length: ``(batch,)`` numbers of valid frames.
      mask_index: the blank class (default 0).

    Returns:
      ``(batch,)`` negative log-likelihoods, float32 or wider.

    Example:
      >>> ops.ctc_loss([[1, 2]], tl.zeros([1, 4, 3]), [2], [4])   # [1.686399]
    """
    output = at_least_float32(output)
    if len(output.shape) != 3:
        raise ValueError(f"ctc_loss: output must be logits of shape (batch, frames, classes), got shape "
                         f"{tuple(output.shape)}")
    target = _int32(target)
    if len(target.shape) != 2:
        raise ValueError(f"ctc_loss: target must be integer labels of shape (batch, max_label_length), got shape "
                         f"{tuple(target.shape)}")
    return tl.nn.ctc_loss(target, output, _int32(target_length), _int32(output_length), logits_time_major=False,
                          blank_index=mask_index)


def _check_decode(inputs, sequence_lengths, strategy, beam_width, top_paths, mask_index):
    if strategy not in _STRATEGIES:
        raise ValueError(f"ctc_decode: invalid strategy {strategy!r}; supported values are 'greedy' and "
                         "'beam_search'")
    if len(inputs.shape) != 3:
        raise ValueError(f"ctc_decode: inputs must have shape (batch, frames, classes), got shape "
                         f"{tuple(inputs.shape)}")
    if len(sequence_lengths.shape) != 1 or sequence_lengths.shape[0] != inputs.shape[0]:
        raise ValueError(f"ctc_decode: sequence_lengths must have shape (batch,) = ({inputs.shape[0]},), got shape "
                         f"{tuple(sequence_lengths.shape)}")
    classes = inputs.shape[-1]
    mask_index = classes - 1 if mask_index is None else int(mask_index)
    if not 0 <= mask_index < classes:
        raise ValueError(f"ctc_decode: mask_index must be in [0, {classes}) for {classes} classes, got {mask_index}")
    if strategy == "beam_search":
        for what, v in (("beam_width", beam_width), ("top_paths", top_paths)):
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"ctc_decode: {what} must be a positive int, got {v!r}")
        if top_paths > beam_width:
            raise ValueError(f"ctc_decode: top_paths ({top_paths}) must be <= beam_width ({beam_width})")
    return mask_index


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1, merge_repeated=True,
               mask_index=0):
    """Decodes CTC outputs, Keras 3's ``ops.ctc_decode``.

    ``"greedy"`` takes the best class of each frame, merges repeats (with
    ``merge_repeated``) and drops the blanks; ``"beam_search"`` runs a CTC
    prefix beam search over the log-softmax of ``inputs`` (on the host: the
    search is sequential and data-dependent, as TF's CPU kernel is).

    Args:
      inputs: ``(batch, frames, classes)`` logits or scores.
      sequence_lengths: ``(batch,)`` numbers of valid frames.
      strategy: ``"greedy"`` or ``"beam_search"``.
      beam_width: the beam size (beam search).
      top_paths: how many paths to return (beam search).
      merge_repeated: merge repeated classes (greedy).
      mask_index: the blank class; None means the last class.

    Returns:
      ``(paths, scores)``: int32 ``paths`` of shape ``(top_paths, batch, frames)``
      (one path for greedy) padded with -1; ``scores`` of shape ``(batch, top_paths)``:
      the negative sum of each frame's best score (greedy) or the paths' log-probabilities
      (beam search).

    Example:
      >>> (paths,), scores = ops.ctc_decode(logits, [frames] * batch)
    """
    x = at_least_float32(inputs)
    lengths = _int32(sequence_lengths)
    blank = _check_decode(x, lengths, strategy, beam_width, top_paths, mask_index)
    if strategy == "greedy":
        return _greedy(x, lengths, merge_repeated, blank)
    return _beam_search(x, lengths, beam_width, top_paths, blank)


def _greedy(x, lengths, merge_repeated, blank):
    frames = x.shape[1]
    best = tl.cast(tl.argmax(x, axis=-1), tl.int32)
    with on_device_of(x):
        steps = tl.expand_dims(tl.range(0, frames), 0)
    past = tl.greater_equal(steps, tl.expand_dims(lengths, 1))
    best = tl.where(past, blank, best)
    scores = tl.where(past, 0.0, tl.reduce_max(x, axis=-1))
    if merge_repeated and frames > 1:
        repeat = tl.pad(tl.equal(best[:, 1:], best[:, :-1]), [[0, 0], [1, 0]])
        best = tl.where(repeat, blank, best)
    dropped = tl.equal(best, blank)
    # The kept classes move to the front in order; the dropped ones (-1) fill the end.
    order = tl.argsort(tl.where(dropped, frames, steps), axis=-1, stable=True)
    best = tl.gather(tl.where(dropped, -1, best), order, batch_dims=1)
    return tl.expand_dims(best, 0), -tl.reduce_sum(scores, axis=1, keepdims=True)


def _logaddexp(a, b):
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def _beam_one(log_probs, length, beam_width, top_paths, blank):
    """Prefix beam search over one example's ``[frames][classes]`` log-probabilities.

    Each prefix keeps two scores, of its alignments ending in a class and in a
    blank (Keras' "emit" and "mask" scores); the ``beam_width`` best prefixes by
    their total survive each frame. The first frame is always read.
    """
    first = log_probs[0]
    ranked = sorted(range(len(first)), key=lambda c: first[c], reverse=True)[:beam_width]
    beams = {}
    for c in ranked:
        if c == blank:
            beams[()] = (-math.inf, first[c])
        else:
            beams[(c,)] = (first[c], -math.inf)
    for t in range(1, min(length, len(log_probs))):
        row = log_probs[t]
        grown = {}
        for path, (emit, masked) in beams.items():
            tail = path[-1] if path else None
            for c, lp in enumerate(row):
                for score, ended_blank in ((emit, False), (masked, True)):
                    if score == -math.inf:
                        continue
                    if c == blank:
                        key, slot = path, 1
                    elif c == tail and not ended_blank:
                        key, slot = path, 0  # a repeat without a blank between merges
                    else:
                        key, slot = path + (c,), 0
                    pair = grown.get(key, [-math.inf, -math.inf])
                    pair[slot] = _logaddexp(pair[slot], score + lp)
                    grown[key] = pair
        best = sorted(grown.items(), key=lambda kv: (_logaddexp(*kv[1]), kv[0]), reverse=True)[:beam_width]
        beams = {k: tuple(v) for k, v in best}
    final = sorted(((_logaddexp(*v), k) for k, v in beams.items()), reverse=True)[:top_paths]
    final += [(-math.inf, ())] * (top_paths - len(final))
    return [k for _, k in final], [s for s, _ in final]


def _beam_search(x, lengths, beam_width, top_paths, blank):
    if isinstance(x, SymbolicTensor) or isinstance(lengths, SymbolicTensor):
        raise ValueError("ctc_decode: the beam search runs on concrete values (a host-side search); call it on "
                         "tensors, e.g. on a model's predictions, not on symbolic keras.Input tensors")
    batch, frames = x.shape[0], x.shape[1]
    log_probs = tl.nn.log_softmax(x, axis=-1).numpy().tolist()
    lengths_host = [int(v) for v in lengths.numpy().tolist()]
    paths = [[[-1] * frames for _ in range(batch)] for _ in range(top_paths)]
    scores = []
    for b in range(batch):
        found, found_scores = _beam_one(log_probs[b], lengths_host[b], beam_width, top_paths, blank)
        for k, path in enumerate(found):
            paths[k][b][:len(path)] = list(path)
        scores.append(found_scores)
    return constant_like(paths, tl.int32, x), constant_like(scores, x.dtype, x)
