"""Image codecs: ``tl.io.decode_png`` / ``decode_jpeg`` / ``decode_bmp`` / ``decode_gif`` /
``decode_image`` and ``encode_png`` / ``encode_jpeg`` (also under ``tl.image``), with TF's
arguments. Encoded images are ``bytes`` (what ``tl.io.read_file`` returns and what string
dataset elements are); decoded ones are uint8 (or float) CPU tensors
``(height, width, channels)``, GIFs ``(frames, height, width, 3)``. Decoding uses Pillow
(the optional ``image`` extra), imported on first use.
"""
import io as _io

import numpy as np

import tensorlab as tl

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def pil_image(what):
    """``PIL.Image``, or an ImportError saying that ``what`` needs Pillow (also used by keras.utils)."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError(f"{what} needs Pillow to read and write images: pip install pillow "
                          "(or tensorlab[image])") from None
    return Image


def _bytes(contents, what):
    if isinstance(contents, (tl.Tensor, tl.Variable)):
        a = contents.numpy()
        if a.dtype == np.uint8 and a.ndim == 1:
            return a.tobytes()
        raise TypeError(f"{what}: contents must be the encoded bytes (e.g. from tl.io.read_file); got a tensor of "
                        f"dtype {contents.dtype.name} and shape {list(contents.shape)}")
    if isinstance(contents, np.ndarray) and contents.dtype == object and contents.ndim == 0:
        contents = contents.item()
    if isinstance(contents, str):
        contents = contents.encode("latin-1")
    if not isinstance(contents, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what}: contents must be bytes (e.g. from tl.io.read_file); got {type(contents).__name__}")
    return bytes(contents)


def _open(contents, what, formats=None):
    Image = pil_image(what)
    data = _bytes(contents, what)
    try:
        im = Image.open(_io.BytesIO(data))
        im.load()
    except Exception as e:
        raise tl.errors.InvalidArgumentError(f"{what}: cannot decode the {len(data)} bytes given as an image "
                                             f"({type(e).__name__}: {e})") from None
    if formats is not None and im.format not in formats:
        raise tl.errors.InvalidArgumentError(f"{what}: the data is a {im.format} image, expected "
                                             f"{' or '.join(formats)}")
    return im


def _to_array(im, channels, what):
    if channels not in (0, 1, 2, 3, 4):
        raise ValueError(f"{what}: channels must be 0 (as stored), 1, 2, 3 or 4; got {channels!r}")
    if im.mode in ("I;16", "I;16B", "I;16L", "I") and channels in (0, 1):
        a = np.asarray(im, dtype=np.uint16)  # 16-bit grayscale PNG
    else:
        if channels == 0:
            mode = im.mode if im.mode in ("L", "LA", "RGB", "RGBA") else ("RGBA" if "A" in im.getbands() else "RGB")
        else:
            mode = _MODES[channels]
        a = np.asarray(im.convert(mode), dtype=np.uint8)
    return a[:, :, None] if a.ndim == 2 else a


def _out(a, dtype, what):
    """``a`` (uint8, or uint16 from a 16-bit PNG) as a CPU tensor of ``dtype``: uint8 (16-bit data
    keeps its high byte, as TF), a float dtype (scaled to [0, 1]) or, since tensorlab has no
    uint16, int32 for 16-bit values as they are."""
    dtype = tl.as_dtype(dtype)
    if a.dtype == np.uint16:
        if dtype == tl.uint8:
            a = (a >> 8).astype(np.uint8)
        elif dtype.is_floating:
            with tl.device("cpu"):
                return tl.constant(a.astype(np.float64) / 65535.0, dtype=dtype)
        elif dtype == tl.int32:
            a = a.astype(np.int32)
        else:
            raise ValueError(f"{what}: a 16-bit image decodes to uint8, int32 (its 16-bit values) or a float dtype; "
                             f"got {dtype.name}")
    with tl.device("cpu"):
        t = tl.constant(a)
        if dtype == t.dtype:
            return t
        if dtype.is_floating:
            return tl.image.convert_image_dtype(t, dtype)
    raise ValueError(f"{what}: dtype must be uint8 or a float dtype; got {dtype.name}")


def decode_png(contents, channels=0, dtype=tl.uint8, name=None):
    """A PNG image as a ``(height, width, channels)`` tensor (``channels=0``: as stored; see ``_out``
    for 16-bit images)."""
    return _out(_to_array(_open(contents, "decode_png", ("PNG",)), channels, "decode_png"), dtype, "decode_png")


def decode_jpeg(contents, channels=0, ratio=1, fancy_upscaling=True, try_recover_truncated=False,
                acceptable_fraction=1, dct_method="", name=None):
    """A JPEG image as a uint8 ``(height, width, channels)`` tensor (``ratio``: 1, 2, 4 or 8 downscale)."""
    im = _open(contents, "decode_jpeg", ("JPEG", "MPO"))
    if ratio not in (1, 2, 4, 8):
        raise ValueError(f"decode_jpeg: ratio must be 1, 2, 4 or 8; got {ratio!r}")
    if ratio > 1:
        im = im.reduce(ratio)
    return _out(_to_array(im, channels, "decode_jpeg"), tl.uint8, "decode_jpeg")


def decode_bmp(contents, channels=0, name=None):
    """A BMP image as a uint8 ``(height, width, channels)`` tensor."""
    return _out(_to_array(_open(contents, "decode_bmp", ("BMP",)), channels, "decode_bmp"), tl.uint8, "decode_bmp")


def decode_gif(contents, name=None):
    """Every frame of a GIF as a uint8 ``(frames, height, width, 3)`` tensor."""
    im = _open(contents, "decode_gif", ("GIF",))
    frames = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        frames.append(np.asarray(im.convert("RGB"), dtype=np.uint8))
    return _out(np.stack(frames), tl.uint8, "decode_gif")


def decode_image(contents, channels=None, dtype=tl.uint8, name=None, expand_animations=True):
    """Any of PNG, JPEG, BMP, GIF: 3-D ``(h, w, c)``, or 4-D for a GIF with ``expand_animations``."""
    im = _open(contents, "decode_image", ("PNG", "JPEG", "MPO", "BMP", "GIF"))
    if im.format == "GIF":
        if channels not in (None, 0, 3):
            raise ValueError(f"decode_image: a GIF decodes to 3 channels; got channels={channels}")
        frames = decode_gif(contents)
        a = frames.numpy() if expand_animations else frames.numpy()[0]
        return _out(a, dtype, "decode_image")
    return _out(_to_array(im, channels or 0, "decode_image"), dtype, "decode_image")


def _encode(image, fmt, what, **kw):
    Image = pil_image(what)
    a = image.numpy() if isinstance(image, (tl.Tensor, tl.Variable)) else np.asarray(image)
    if a.ndim != 3 or a.shape[-1] not in (1, 2, 3, 4) or (fmt == "JPEG" and a.shape[-1] not in (1, 3)):
        allowed = "1 or 3" if fmt == "JPEG" else "1 to 4"
        raise tl.errors.InvalidArgumentError(f"{what}: image must be (height, width, channels) with {allowed} "
                                             f"channels; got shape {list(a.shape)}")
    if a.dtype != np.uint8 and not (fmt == "PNG" and a.dtype == np.uint16 and a.shape[-1] == 1):
        raise tl.errors.InvalidArgumentError(f"{what}: image must be uint8 (or uint16 single-channel for PNG); "
                                             f"got dtype {a.dtype}")
    im = Image.fromarray(a[:, :, 0] if a.shape[-1] == 1 else a, mode=None if a.dtype == np.uint16 or
                         a.shape[-1] != 1 else "L")
    buf = _io.BytesIO()
    im.save(buf, format=fmt, **kw)
    return buf.getvalue()


def encode_png(image, compression=-1, name=None):
    """A uint8 (or uint16 grayscale) ``(h, w, c)`` image as PNG ``bytes`` (``compression``: -1, or 0-9)."""
    if not -1 <= int(compression) <= 9:
        raise ValueError(f"encode_png: compression must be -1 (default) or 0..9; got {compression}")
    level = 6 if int(compression) == -1 else int(compression)
    return _encode(image, "PNG", "encode_png", compress_level=level)


def encode_jpeg(image, format="", quality=95, progressive=False, optimize_size=False, chroma_downsampling=True,
                density_unit="in", x_density=300, y_density=300, xmp_metadata="", name=None):
    """A uint8 ``(h, w, 1 or 3)`` image as JPEG ``bytes``."""
    if not 0 <= int(quality) <= 100:
        raise ValueError(f"encode_jpeg: quality must be in [0, 100]; got {quality}")
    return _encode(image, "JPEG", "encode_jpeg", quality=int(quality), progressive=bool(progressive),
                   optimize=bool(optimize_size), subsampling=-1 if chroma_downsampling else 0,
                   dpi=(int(x_density), int(y_density)))


IMAGE = ["decode_png", "decode_jpeg", "decode_bmp", "decode_gif", "decode_image", "encode_png", "encode_jpeg"]
