"""Math ops (``keras.ops.math``): reductions, top-k, segment sums, special functions, FFTs and the STFT.

    from tensorlab.keras import ops
    ops.logsumexp(logits, axis=-1)
    values, indices = ops.top_k(scores, k=5)
"""
import tensorlab as tl

from tensorlab.keras.ops.numpy import _axes, _t, _to_float
from tensorlab.ops import segment as _segment
# Keras 3 defines the spectral ops in keras.ops.math; they live in spectral.py (top level via keras.ops).
from tensorlab.keras.ops.spectral import fft, fft2, ifft2, irfft, istft, rfft, stft  # noqa: F401

__all__ = ["erf", "extract_sequences", "in_top_k", "logsumexp", "rsqrt", "segment_max", "segment_sum",
           "top_k"]


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` along ``axis``, computed stably."""
    return tl.reduce_logsumexp(_to_float(x), axis=_axes(axis), keepdims=keepdims)


def top_k(x, k, sorted=True):
    """The ``k`` largest values along the last axis and their (int32) indices."""
    if k < 1:
        raise ValueError(f"ops.top_k: k must be >= 1, got {k}")
    out = tl.math.top_k(_t(x), k=k, sorted=sorted)
    return out.values, tl.cast(out.indices, tl.int32)


def in_top_k(targets, predictions, k):
    """Whether each target class is among the ``k`` highest predictions of its row."""
    return tl.math.in_top_k(_t(targets), _t(predictions), k)


def _segment_validation(name, data, segment_ids):
    if len(segment_ids.shape) != 1:
        raise ValueError(f"ops.{name}: segment_ids must be 1-D, got shape {tuple(segment_ids.shape)}")
    if data.shape[0] is not None and segment_ids.shape[0] is not None and data.shape[0] != segment_ids.shape[0]:
        raise ValueError(f"ops.{name}: segment_ids ({segment_ids.shape[0]}) and data ({data.shape[0]}) "
                         "differ in length along the first axis")


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Sums the rows of ``data`` that share a segment id; empty segments give 0. Without
    ``num_segments`` there are ``max(segment_ids) + 1`` segments (a symbolic shape of None)."""
    data, segment_ids = _t(data), _t(segment_ids)
    _segment_validation("segment_sum", data, segment_ids)
    return _segment.segment_reduce("sum", data, segment_ids, num_segments)


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Maximum over the rows of ``data`` that share a segment id."""
    data, segment_ids = _t(data), _t(segment_ids)
    _segment_validation("segment_max", data, segment_ids)
    return _segment.segment_reduce("max", data, segment_ids, num_segments)


def rsqrt(x):
    """``1 / sqrt(x)``, elementwise."""
    return tl.math.rsqrt(_to_float(x))


def erf(x):
    """The Gauss error function, elementwise."""
    return tl.math.erf(_to_float(x))


def extract_sequences(x, sequence_length, sequence_stride):
    """Frames of ``sequence_length`` along the last axis, every ``sequence_stride`` samples.

    Returns a tensor of shape ``x.shape[:-1] + (num_frames, sequence_length)``.
    """
    x = _t(x)
    if sequence_length < 1 or sequence_stride < 1:
        raise ValueError(f"ops.extract_sequences: sequence_length and sequence_stride must be >= 1, "
                         f"got {sequence_length} and {sequence_stride}")
    n = x.shape[-1]
    num = 1 + (n - sequence_length) // sequence_stride
    if num < 1:
        raise ValueError(f"ops.extract_sequences: sequence_length {sequence_length} exceeds the last "
                         f"dimension ({n})")
    idx = tl.reshape(tl.range(0, num) * sequence_stride, [num, 1]) + tl.reshape(tl.range(0, sequence_length),
                                                                                 [1, sequence_length])
    return tl.gather(x, idx, axis=len(x.shape) - 1)
