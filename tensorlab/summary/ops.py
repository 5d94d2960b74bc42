"""Summary ops: ``scalar``, ``histogram``, ``image``, ``text`` and the Keras model graph.

Each writes what TF2's ``tf.summary`` writes: a ``TensorProto`` value with the
plugin's ``SummaryMetadata``, so TensorBoard's scalars, histograms, images and
text dashboards show them.
"""
import contextlib
import struct
import zlib

import numpy as np

from tensorlab.summary import _proto
from tensorlab.summary.writer import _stack, default_writer


class experimental:
    """``tl.summary.experimental``: the default step."""

    @staticmethod
    def set_step(step):
        """Sets the step used by summary ops called without ``step=``."""
        _stack().step = step

    @staticmethod
    def get_step():
        return _stack().step


def _step(step, what):
    if step is None:
        step = _stack().step
    if step is None:
        raise ValueError(f"{what}: no step given; pass step=, or set one with writer.as_default(step=...) or "
                         "tl.summary.experimental.set_step")
    return int(np.asarray(_host(step)).reshape(()))


def _host(x):
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


@contextlib.contextmanager
def record_if(condition):
    """``with tl.summary.record_if(cond):`` writes summaries only while ``cond`` (bool or callable) holds."""
    s = _stack()
    s.record.append(condition)
    try:
        yield
    finally:
        s.record.pop()


def _recording():
    for c in _stack().record:
        if not (c() if callable(c) else bool(c)):
            return False
    return True


def _write(name, array, metadata, step, what):
    w = default_writer()
    if w is None or not _recording():
        return False
    w.write_values(_step(step, what), [_proto.tensor_value(name, array, metadata)])
    return True


def scalar(name, data, step=None, description=None):
    """Writes a scalar (TensorBoard's scalars dashboard).

    Args:
      name: the tag, e.g. ``"loss"``.
      data: a real number (a scalar tensor or Python number).
      step: the step (default: the writer's ``as_default(step=...)``).
      description: optional longer description.

    Returns:
      True if written, False if there is no default writer.
    """
    value = np.asarray(_host(data), dtype=np.float32)
    if value.size != 1:
        raise ValueError(f"scalar {name!r}: data must be a scalar, got shape {value.shape}")
    meta = _proto.summary_metadata("scalars", data_class=_proto.DATA_CLASS_SCALAR, description=description)
    return _write(name, value.reshape(()), meta, step, "scalar")


def histogram_buckets(data, buckets=30):
    """``[k, 3]`` float64 (left edge, right edge, count), as TF2's ``tf.summary.histogram``."""
    a = np.asarray(data, dtype=np.float64).reshape(-1)
    if a.size == 0:
        return np.zeros((0, 3), np.float64)
    lo, hi = float(a.min()), float(a.max())
    if buckets == 0:
        return np.zeros((0, 3), np.float64)
    if lo == hi:
        # All values equal: TF puts them in the last of `buckets` zero-width buckets.
        edges = np.full(buckets + 1, lo)
        counts = np.zeros(buckets)
        counts[-1] = a.size
    else:
        counts, edges = np.histogram(a, bins=buckets, range=(lo, hi))
    return np.stack([edges[:-1], edges[1:], counts.astype(np.float64)], axis=1)


def histogram(name, data, step=None, buckets=None, description=None):
    """Writes a histogram of ``data``'s values (TensorBoard's histograms and distributions).

    Args:
      name: the tag.
      data: any numeric tensor or array (flattened).
      buckets: number of equal-width buckets (default 30).
    """
    meta = _proto.summary_metadata("histograms", data_class=_proto.DATA_CLASS_TENSOR, description=description)
    return _write(name, histogram_buckets(_host(data), 30 if buckets is None else int(buckets)), meta, step,
                  "histogram")


def _png(img):
    """PNG bytes of a ``[h, w, c]`` uint8 array (c = 1, 2, 3 or 4), without an image library."""
    h, w, c = img.shape
    color = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = np.concatenate([np.zeros((h, 1), np.uint8), img.reshape(h, w * c)], axis=1).tobytes()

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def image(name, data, step=None, max_outputs=3, description=None):
    """Writes up to ``max_outputs`` images (TensorBoard's images dashboard).

    Args:
      name: the tag.
      data: ``[k, h, w, c]`` with c in 1..4: floats in [0, 1] or uint8.
      max_outputs: how many of the ``k`` images to keep.
    """
    a = _host(data)
    if a.ndim != 4 or a.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"image {name!r}: data must be [k, h, w, c] with c in 1..4, got shape {a.shape}")
    if a.dtype != np.uint8:
        a = np.clip(np.round(np.asarray(a, np.float64) * 255.0), 0, 255).astype(np.uint8)
    imgs = [_png(x) for x in a[:max_outputs]]
    h, w = a.shape[1], a.shape[2]
    tensor = np.array([str(w).encode(), str(h).encode()] + imgs, dtype=object)
    meta = _proto.summary_metadata("images", data_class=_proto.DATA_CLASS_BLOB_SEQUENCE, description=description)
    return _write(name, tensor, meta, step, "image")


def text(name, data, step=None, description=None):
    """Writes a string (or an array of strings) to TensorBoard's text dashboard (Markdown)."""
    a = _host(data)
    flat = [x.encode("utf-8") if isinstance(x, str) else bytes(x) for x in np.asarray(a, dtype=object).reshape(-1)]
    tensor = np.array(flat, dtype=object).reshape(np.shape(a))
    meta = _proto.summary_metadata("text", data_class=_proto.DATA_CLASS_TENSOR, description=description)
    return _write(name, tensor, meta, step, "text")


def keras_model(name, data, step=0):
    """Writes a Keras model's architecture (its ``to_json()``) for TensorBoard's graph dashboard."""
    try:
        config = data.to_json()
    except Exception as e:  # subclassed models without get_config have no architecture to show
        import warnings
        warnings.warn(f"keras_model: model {getattr(data, 'name', '?')!r} has no config to write ({e})")
        return False
    meta = _proto.summary_metadata("graph_keras_model", content=b"1", data_class=_proto.DATA_CLASS_TENSOR)
    return _write(name, np.array(config.encode("utf-8"), dtype=object), meta, step, "keras_model")
