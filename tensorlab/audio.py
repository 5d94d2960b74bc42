"""``tl.audio``: WAV decoding and encoding (``tf.audio.decode_wav`` / ``encode_wav``).

Encoded audio is ``bytes`` (what ``tl.io.read_file`` returns); decoded audio is a float32 CPU
tensor ``(samples, channels)`` in [-1, 1) and the sample rate an int32 scalar. Reading uses
Python's ``wave`` module: PCM with 8, 16, 24 or 32 bits per sample (TF reads 16 bits only).
"""
import io as _io
import wave as _wave

import numpy as np

import tensorlab as tl

__all__ = ["decode_wav", "encode_wav"]


def _bytes(contents, what):
    if isinstance(contents, np.ndarray) and contents.dtype == object and contents.ndim == 0:
        contents = contents.item()
    if not isinstance(contents, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what}: contents must be the WAV file's bytes (e.g. from tl.io.read_file); got "
                        f"{type(contents).__name__}")
    return bytes(contents)


def decode_wav(contents, desired_channels=-1, desired_samples=-1, name=None):
    """``(audio, sample_rate)`` of a PCM WAV file.

    Args:
      contents: the file's bytes.
      desired_channels: -1 keeps the file's channels; otherwise a mono file is repeated to that
        many channels and a wider one keeps its first ``desired_channels`` (as TF).
      desired_samples: -1 keeps every sample; otherwise the audio is cut or zero-padded to it.

    Example:
      >>> audio, rate = tl.audio.decode_wav(tl.io.read_file("yes.wav"), desired_channels=1)
    """
    data = _bytes(contents, "decode_wav")
    try:
        with _wave.open(_io.BytesIO(data), "rb") as w:
            channels, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(n)
    except (_wave.Error, EOFError) as e:
        raise tl.errors.InvalidArgumentError(f"decode_wav: not a PCM WAV file ({e}); {len(data)} bytes given") from None
    if width == 1:  # 8-bit WAV is unsigned
        x = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        x = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float32) / float(1 << 23)
    elif width == 4:
        x = (np.frombuffer(raw, "<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    else:
        raise tl.errors.InvalidArgumentError(f"decode_wav: {8 * width}-bit samples are not supported (8, 16, 24 or "
                                             "32-bit PCM are)")
    x = x.reshape(-1, channels)
    if desired_channels is not None and desired_channels != -1:
        c = int(desired_channels)
        if c <= 0:
            raise ValueError(f"decode_wav: desired_channels must be -1 or positive; got {desired_channels}")
        if channels == 1 and c > 1:
            x = np.repeat(x, c, axis=1)
        elif channels >= c:
            x = x[:, :c]
        else:
            raise tl.errors.InvalidArgumentError(f"decode_wav: the file has {channels} channels; cannot make "
                                                 f"{c} from them (only a mono file is repeated)")
    if desired_samples is not None and desired_samples != -1:
        s = int(desired_samples)
        if s < 0:
            raise ValueError(f"decode_wav: desired_samples must be -1 or >= 0; got {desired_samples}")
        x = x[:s] if len(x) >= s else np.concatenate([x, np.zeros((s - len(x), x.shape[1]), np.float32)])
    with tl.device("cpu"):
        return tl.constant(np.ascontiguousarray(x)), tl.constant(rate, dtype=tl.int32)


def encode_wav(audio, sample_rate, name=None):
    """A float ``(samples, channels)`` signal in [-1, 1] as 16-bit PCM WAV ``bytes`` (values clipped)."""
    a = audio.numpy() if isinstance(audio, (tl.Tensor, tl.Variable)) else np.asarray(audio)
    if a.ndim != 2 or not np.issubdtype(a.dtype, np.floating):
        raise tl.errors.InvalidArgumentError(f"encode_wav: audio must be a float (samples, channels) array; got "
                                             f"shape {list(a.shape)} and dtype {a.dtype}")
    rate = int(sample_rate.numpy() if isinstance(sample_rate, (tl.Tensor, tl.Variable)) else sample_rate)
    if rate <= 0:
        raise ValueError(f"encode_wav: sample_rate must be positive; got {rate}")
    pcm = np.clip(np.round(a.astype(np.float64) * 32768.0), -32768, 32767).astype("<i2")
    buf = _io.BytesIO()
    with _wave.open(buf, "wb") as w:
        w.setnchannels(a.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()
