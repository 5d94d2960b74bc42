"""``tl.summary``: event files read back with the real TensorBoard (``EventAccumulator``)."""
import io
import os

import numpy as np
import pytest

import tensorlab as tl
from tensorlab.data.tfrecord import read_records

pytest.importorskip("tensorboard", reason="the tensorboard package is needed to read event files back")
from tensorboard.backend.event_processing import plugin_event_accumulator as pea  # noqa: E402
from tensorboard.compat.proto import event_pb2  # noqa: E402
from tensorboard.util import tensor_util  # noqa: E402


def load(logdir):
    acc = pea.EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    acc.Reload()
    return acc


def values(acc, tag):
    return [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]


def test_scalars_every_value_and_step(tmp_path, rng):
    data = rng.normal(size=12).astype(np.float32)
    w = tl.summary.create_file_writer(tmp_path)
    with w.as_default():
        for i, v in enumerate(data):
            assert tl.summary.scalar("loss", v, step=i * 3)
        with w.as_default(step=100):
            assert tl.summary.scalar("lr", tl.constant(0.125), description="learning rate")
    w.close()
    acc = load(tmp_path)
    got = values(acc, "loss")
    assert [s for s, _ in got] == [i * 3 for i in range(12)]
    np.testing.assert_array_equal(np.array([a for _, a in got]), data)
    assert all(a.shape == () and a.dtype == np.float32 for _, a in got)
    assert values(acc, "lr") == [(100, np.float32(0.125))]
    meta = acc.SummaryMetadata("lr")
    assert meta.plugin_data.plugin_name == "scalars" and meta.summary_description == "learning rate"


def test_histogram_buckets_match_data(tmp_path, rng):
    data = rng.normal(size=(50, 7))
    w = tl.summary.create_file_writer(tmp_path)
    with w.as_default(step=4):
        tl.summary.histogram("w", tl.constant(data.astype(np.float32)))
        tl.summary.histogram("few", data[:3, 0], buckets=5, step=5)
        tl.summary.histogram("same", np.full(6, 2.5), buckets=4, step=6)
    w.close()
    acc = load(tmp_path)
    (step, h), = values(acc, "w")
    assert step == 4 and h.shape == (30, 3)
    d32 = data.astype(np.float32).astype(np.float64)
    assert h[:, 2].sum() == d32.size
    np.testing.assert_allclose(h[0, 0], d32.min()) and np.testing.assert_allclose(h[-1, 1], d32.max())
    counts, edges = np.histogram(d32, bins=30, range=(d32.min(), d32.max()))
    np.testing.assert_array_equal(h[:, 2], counts)
    np.testing.assert_allclose(h[:, 0], edges[:-1])
    (_, few), = values(acc, "few")
    assert few.shape == (5, 3) and few[:, 2].sum() == 3
    (_, same), = values(acc, "same")
    assert same.shape == (4, 3) and same[-1, 2] == 6 and (same[:, :2] == 2.5).all()
    assert acc.SummaryMetadata("w").plugin_data.plugin_name == "histograms"


def test_images_decode_to_the_pixels(tmp_path, rng):
    from PIL import Image
    floats = rng.random((4, 5, 6, 3))
    gray = rng.integers(0, 256, (1, 3, 2, 1), dtype=np.uint8)
    w = tl.summary.create_file_writer(tmp_path)
    with w.as_default(step=2):
        tl.summary.image("rgb", floats, max_outputs=2)
        tl.summary.image("gray", gray)
    w.close()
    acc = load(tmp_path)
    (step, t), = values(acc, "rgb")
    assert step == 2 and t.shape == (4,) and t[0] == b"6" and t[1] == b"5"
    for k in range(2):
        img = np.asarray(Image.open(io.BytesIO(t[2 + k])))
        np.testing.assert_array_equal(img, np.clip(np.round(floats[k] * 255), 0, 255).astype(np.uint8))
    (_, g), = values(acc, "gray")
    np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(g[2]))), gray[0, :, :, 0])
    assert acc.SummaryMetadata("rgb").plugin_data.plugin_name == "images"


def test_text_and_record_if(tmp_path):
    w = tl.summary.create_file_writer(tmp_path)
    with w.as_default(step=1):
        tl.summary.text("note", "héllo **markdown**")
        tl.summary.text("table", np.array([["a", "b"], ["c", "d"]]), step=2)
        with tl.summary.record_if(False):
            assert not tl.summary.scalar("hidden", 1.0)
        with tl.summary.record_if(lambda: True):
            assert tl.summary.scalar("shown", 2.0)
    w.close()
    acc = load(tmp_path)
    assert values(acc, "note")[0][1] == "héllo **markdown**".encode()
    np.testing.assert_array_equal(values(acc, "table")[0][1], np.array([[b"a", b"b"], [b"c", b"d"]], dtype=object))
    assert "hidden" not in acc.Tags()["tensors"] and values(acc, "shown") == [(1, np.float32(2.0))]
    assert acc.SummaryMetadata("note").plugin_data.plugin_name == "text"


def test_file_framing_version_and_flush(tmp_path):
    w = tl.summary.create_file_writer(tmp_path, max_queue=100, filename_suffix=".x")
    name = os.path.basename(w.path)
    assert name.startswith("events.out.tfevents.") and name.endswith(".v2.x")
    with w.as_default(step=0):
        tl.summary.scalar("a", 1.0)
    records = list(read_records(w.path))  # as_default's exit flushed; CRCs are checked by the reader
    first = event_pb2.Event.FromString(records[0])
    assert first.file_version == "brain.Event:2" and first.wall_time > 0
    second = event_pb2.Event.FromString(records[1])
    assert second.summary.value[0].tag == "a" and second.step == 0
    w.close()


def test_no_default_writer_writes_nothing(tmp_path):
    assert tl.summary.scalar("x", 1.0, step=0) is False
    w = tl.summary.create_noop_writer()
    with w.as_default():
        assert tl.summary.scalar("x", 1.0, step=0) is False


def test_error_missing_step_and_bad_shapes(tmp_path):
    w = tl.summary.create_file_writer(tmp_path)
    with w.as_default():
        with pytest.raises(ValueError, match="scalar: no step given"):
            tl.summary.scalar("x", 1.0)
        with pytest.raises(ValueError, match=r"scalar 'v': data must be a scalar, got shape \(2,\)"):
            tl.summary.scalar("v", [1.0, 2.0], step=0)
        with pytest.raises(ValueError, match=r"image 'im'.*\[k, h, w, c\].*\(4, 4\)"):
            tl.summary.image("im", np.zeros((4, 4)), step=0)
    w.close()
    with pytest.raises(RuntimeError, match="closed"):
        w.write_values(0, [])
