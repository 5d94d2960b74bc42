"""tl.io: read_file / write_file / gfile, and the image codecs (also under tl.image)."""
import os

import numpy as np
import pytest

import tensorlab as tl

PIL = pytest.importorskip("PIL.Image")


def test_read_write_and_gfile(tmp_path):
    p = str(tmp_path / "a.bin")
    tl.io.write_file(p, b"\x00\x01payload")
    assert tl.io.read_file(p) == b"\x00\x01payload"
    tl.io.write_file(p, "text")  # str is written as UTF-8 and replaces the file whole
    assert tl.io.read_file(p.encode()) == b"text"
    with pytest.raises(tl.errors.NotFoundError, match="no such file"):
        tl.io.read_file(str(tmp_path / "missing"))
    g = tl.io.gfile
    g.makedirs(str(tmp_path / "d" / "e"))
    with g.GFile(str(tmp_path / "d" / "x.txt"), "w") as f:
        f.write("line1\nline2\n")
    with g.GFile(str(tmp_path / "d" / "x.txt")) as f:
        assert list(f) == ["line1\n", "line2\n"]
    assert g.exists(str(tmp_path / "d" / "x.txt")) and g.isdir(str(tmp_path / "d"))
    assert g.listdir(str(tmp_path / "d")) == ["e", "x.txt"]
    assert g.glob(str(tmp_path / "d" / "*.txt")) == [str(tmp_path / "d" / "x.txt")]
    g.copy(str(tmp_path / "d" / "x.txt"), str(tmp_path / "y.txt"))
    with pytest.raises(tl.errors.AlreadyExistsError, match="exists"):
        g.copy(str(tmp_path / "d" / "x.txt"), str(tmp_path / "y.txt"))
    g.rename(str(tmp_path / "y.txt"), str(tmp_path / "z.txt"))
    assert [w[0] for w in g.walk(str(tmp_path / "d"))] == [str(tmp_path / "d"), str(tmp_path / "d" / "e")]
    assert g.stat(str(tmp_path / "z.txt")).length == 12 and g.stat(str(tmp_path)).is_directory
    g.remove(str(tmp_path / "z.txt"))
    assert not g.exists(str(tmp_path / "z.txt"))
    g.rmtree(str(tmp_path / "d"))
    assert not g.exists(str(tmp_path / "d"))


def test_gfile_write_is_atomic(tmp_path):
    p = str(tmp_path / "keep.txt")
    tl.io.write_file(p, b"old")
    with pytest.raises(RuntimeError, match="crash"):
        with tl.io.gfile.GFile(p, "wb") as f:
            f.write(b"half of the new")
            raise RuntimeError("crash")
    assert tl.io.read_file(p) == b"old" and os.listdir(tmp_path) == ["keep.txt"]


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_png_round_trip_and_channels(rng, channels):
    a = rng.integers(0, 256, size=(6, 9, channels)).astype(np.uint8)
    data = tl.io.encode_png(a, compression=9)
    assert isinstance(data, bytes) and data[:4] == b"\x89PNG"
    for dec in (tl.io.decode_png, tl.image.decode_png, tl.io.decode_image):
        img = dec(data)
        assert img.dtype == tl.uint8 and img.shape == (6, 9, channels)
        np.testing.assert_array_equal(img.numpy(), a)
    f = tl.io.decode_png(data, dtype=tl.float32)
    np.testing.assert_allclose(f.numpy(), a / 255.0, rtol=1e-6)
    if channels == 3:
        gray = tl.io.decode_png(data, channels=1).numpy()
        ref = np.asarray(PIL.fromarray(a).convert("L"))[:, :, None]
        np.testing.assert_array_equal(gray, ref)


def test_jpeg_bmp_gif_and_16bit_png(rng, tmp_path):
    a = rng.integers(0, 256, size=(16, 12, 3)).astype(np.uint8)
    yy, xx = np.mgrid[0:16, 0:12]  # a smooth image: JPEG keeps it to within a few levels
    smooth = np.stack([yy * 15, xx * 20, (yy + xx) * 9], -1).astype(np.uint8) + rng.integers(0, 3, (16, 12, 3),
                                                                                                dtype=np.uint8)
    for chroma in (True, False):
        j = tl.io.decode_jpeg(tl.io.encode_jpeg(smooth, quality=100, chroma_downsampling=chroma))
        assert j.shape == (16, 12, 3) and np.abs(j.numpy().astype(int) - smooth).mean() < 4
    assert tl.io.decode_jpeg(tl.io.encode_jpeg(a), ratio=2).shape == (8, 6, 3)
    buf = tmp_path / "x.bmp"
    PIL.fromarray(a).save(buf)
    np.testing.assert_array_equal(tl.io.decode_bmp(tl.io.read_file(str(buf))).numpy(), a)
    frames = [PIL.fromarray(rng.integers(0, 256, (5, 4, 3)).astype(np.uint8)).convert("P") for _ in range(3)]
    gif = tmp_path / "x.gif"
    frames[0].save(gif, save_all=True, append_images=frames[1:])
    data = tl.io.read_file(str(gif))
    assert tl.io.decode_gif(data).shape == (3, 5, 4, 3)
    assert tl.io.decode_image(data).shape == (3, 5, 4, 3)
    assert tl.io.decode_image(data, expand_animations=False).shape == (5, 4, 3)
    deep = rng.integers(0, 65536, size=(4, 5)).astype(np.uint16)
    png16 = tmp_path / "d.png"
    PIL.fromarray(deep).save(png16)
    raw = tl.io.read_file(str(png16))
    np.testing.assert_array_equal(tl.io.decode_png(raw, dtype=tl.int32).numpy()[:, :, 0], deep)
    np.testing.assert_array_equal(tl.io.decode_png(raw).numpy()[:, :, 0], deep >> 8)
    np.testing.assert_allclose(tl.io.decode_png(raw, dtype=tl.float64).numpy()[:, :, 0], deep / 65535.0)


def test_codec_errors(rng):
    with pytest.raises(tl.errors.InvalidArgumentError, match="cannot decode the 5 bytes"):
        tl.io.decode_png(b"hello")
    png = tl.io.encode_png(np.zeros((2, 2, 3), np.uint8) + 7)
    with pytest.raises(tl.errors.InvalidArgumentError, match="is a PNG image, expected JPEG"):
        tl.io.decode_jpeg(png)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"got shape \[4, 4\]"):
        tl.io.encode_png(np.zeros((4, 4), np.uint8))
    with pytest.raises(tl.errors.InvalidArgumentError, match="must be uint8"):
        tl.io.encode_png(np.zeros((4, 4, 3), np.float32))
    with pytest.raises(TypeError, match="contents must be bytes"):
        tl.io.decode_png(3)
    with pytest.raises(ValueError, match="channels must be 0"):
        tl.io.decode_png(png, channels=5)


def test_decoding_inside_a_dataset_map(tmp_path, rng):
    imgs = [rng.integers(0, 256, size=(4, 4, 3)).astype(np.uint8) for _ in range(3)]
    for i, a in enumerate(imgs):
        tl.io.write_file(str(tmp_path / f"{i}.png"), tl.io.encode_png(a))
    ds = tl.data.Dataset.list_files(str(tmp_path / "*.png"), shuffle=False).map(
        lambda p: tl.image.convert_image_dtype(tl.io.decode_png(tl.io.read_file(p), channels=3), tl.float32))
    out = np.stack(list(ds.as_numpy_iterator()))
    np.testing.assert_allclose(out, np.stack(imgs) / 255.0, rtol=1e-6)
