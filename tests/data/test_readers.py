"""Text and CSV readers, image_dataset_from_directory, device prefetching, fit integration."""
import gzip
import os

import numpy as np
import pytest

import tensorlab as tl


def test_text_line_dataset(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes(b"first\nsecond\r\n\nlast")
    ds = tl.data.TextLineDataset(str(p))
    assert list(ds.as_numpy_iterator()) == [b"first", b"second", b"", b"last"]
    g = tmp_path / "b.txt.gz"
    g.write_bytes(gzip.compress(b"x\ny\n"))
    two = tl.data.TextLineDataset([str(p), str(p)])
    assert list(two.as_numpy_iterator()) == [b"first", b"second", b"", b"last"] * 2
    assert list(tl.data.TextLineDataset(str(g), compression_type="GZIP").as_numpy_iterator()) == [b"x", b"y"]
    assert list(tl.data.TextLineDataset(str(p)).skip(1).map(lambda s: len(s)).as_numpy_iterator())[0] == 6


def _csv(tmp_path, text, name="d.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_csv_dataset_types_defaults_and_select(tmp_path):
    p = _csv(tmp_path, 'a,b,c,d\n1,2.5,"x,y",7\n3,,z,8\n,4.0,,9\n')
    ds = tl.data.experimental.CsvDataset(p, [[0], tl.float32, [""], tl.int64], header=True,
                                         select_cols=None)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"d\.csv:3: Field 1 is required but missing"):
        list(ds)
    ds = tl.data.experimental.CsvDataset(p, [[-1], [0.0], ["?"], tl.int64], header=True)
    rows = [tuple(v.numpy() if isinstance(v, tl.Tensor) else v for v in r) for r in ds]
    assert rows[0] == (1, 2.5, b"x,y", 7) and rows[1][1] == 0.0 and rows[2][0] == -1 and rows[2][2] == b"?"
    spec = ds.element_spec
    assert [s.dtype.name for s in spec] == ["int32", "float32", "string", "int64"]
    sel = tl.data.experimental.CsvDataset(p, [[0.0], tl.int64], header=True, select_cols=[1, 3])
    assert [(float(a), int(b)) for a, b in list(sel)[:1]] == [(2.5, 7)]


def test_error_csv_wrong_number_of_fields_names_file_and_line(tmp_path):
    p = _csv(tmp_path, "a,b\n1,2\n3,4,5\n", "bad.csv")
    ds = tl.data.experimental.CsvDataset(p, [tl.int32, tl.int32], header=True)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"bad\.csv:3: Expect 2 fields but have 3"):
        list(ds)
    p2 = _csv(tmp_path, "1,zz\n", "bad2.csv")
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"bad2\.csv:1: field 1 \('zz'\) is not a valid int32"):
        list(tl.data.experimental.CsvDataset(p2, [tl.int32, tl.int32]))


def test_make_csv_dataset_ignore_errors(tmp_path):
    p = _csv(tmp_path, "a,b\n1,2\n3\n4,x\n5,6\n")
    ds = tl.data.experimental.make_csv_dataset(p, batch_size=5, num_epochs=1, shuffle=False,
                                               column_defaults=[tl.int32, tl.int32], ignore_errors=True)
    (b,) = list(ds)
    assert b["a"].numpy().tolist() == [1, 5] and b["b"].numpy().tolist() == [2, 6]
    strict = tl.data.experimental.make_csv_dataset(p, batch_size=5, num_epochs=1, shuffle=False,
                                                   column_defaults=[tl.int32, tl.int32])
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"d\.csv:3: Expect 2 fields but have 1"):
        list(strict)


def test_text_line_dataset_zlib(tmp_path):
    import zlib
    p = tmp_path / "z.txt"
    p.write_bytes(zlib.compress(b"".join(b"line %d\n" % i for i in range(3000))))
    out = list(tl.data.TextLineDataset(str(p), compression_type="ZLIB").as_numpy_iterator())
    assert len(out) == 3000 and out[-1] == b"line 2999"


def test_make_csv_dataset(tmp_path):
    lines = ["f1,name,y"] + [f"{i * 0.5},n{i},{i % 2}" for i in range(10)] + [",n10,1"]
    p = _csv(tmp_path, "\n".join(lines) + "\n")
    ds = tl.data.experimental.make_csv_dataset(p, batch_size=4, label_name="y", num_epochs=1, shuffle=False)
    batches = list(ds)
    assert len(batches) == 3
    feats, labels = batches[0]
    assert sorted(feats) == ["f1", "name"]
    np.testing.assert_allclose(feats["f1"].numpy(), [0, 0.5, 1.0, 1.5])
    assert feats["f1"].dtype == tl.float32 and labels.dtype == tl.int32
    assert list(feats["name"]) == [b"n0", b"n1", b"n2", b"n3"]
    last_f, _ = batches[-1]
    assert float(last_f["f1"].numpy()[-1]) == 0.0  # missing value took the inferred default
    shuffled = tl.data.experimental.make_csv_dataset(p, batch_size=11, num_epochs=2, shuffle_seed=1,
                                                      select_columns=["f1"])
    out = [b["f1"].numpy() for b in shuffled]
    assert len(out) == 2
    assert sorted(np.concatenate(out).tolist()) == sorted(([i * 0.5 for i in range(10)] + [0.0]) * 2)


def test_prefetch_to_device_on_logical_cpus():
    tl.config.set_logical_device_configuration(
        tl.config.list_physical_devices("CPU")[0], [tl.config.LogicalDeviceConfiguration()] * 2)
    try:
        ds = tl.data.Dataset.range(6).batch(2).apply(tl.data.experimental.prefetch_to_device("/CPU:1", 2))
        out = list(ds)
        assert all(t.device.endswith("CPU:1") for t in out)
        assert [t.numpy().tolist() for t in out] == [[0, 1], [2, 3], [4, 5]]
        sync = tl.data.Dataset.range(2).apply(tl.data.experimental.copy_to_device("/CPU:1"))
        assert all(t.device.endswith("CPU:1") for t in sync)
        with pytest.raises(tl.errors.NotFoundError, match="CPU:5"):
            tl.data.Dataset.range(2).apply(tl.data.experimental.prefetch_to_device("/CPU:5"))
    finally:
        tl.config.set_logical_device_configuration(
            tl.config.list_physical_devices("CPU")[0], [tl.config.LogicalDeviceConfiguration()])


@pytest.mark.gpu
def test_prefetch_to_gpu():
    ds = tl.data.Dataset.from_tensor_slices(np.ones((8, 4), np.float32)).batch(4)
    out = list(ds.apply(tl.data.experimental.prefetch_to_device("/GPU:0")))
    assert all("GPU:0" in t.device for t in out) and float(tl.reduce_sum(out[0]).numpy()) == 16.0


def test_image_dataset_from_directory(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    from tensorlab.keras.utils.image_dataset import image_dataset_from_directory
    rng = np.random.default_rng(0)
    for c, n in (("a", 4), ("b", 3), ("c", 3)):
        os.makedirs(tmp_path / c)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (9 + i, 7, 3), dtype=np.uint8)).save(tmp_path / c / f"{i}.png")
    (tmp_path / "a" / "notes.txt").write_text("not an image")
    tr, va = image_dataset_from_directory(str(tmp_path), image_size=(6, 5), batch_size=4, validation_split=0.3,
                                          subset="both", seed=3, label_mode="categorical", verbose=False)
    assert tr.class_names == ["a", "b", "c"]
    xs = [x for x, _ in tr] + [x for x, _ in va]
    ys = np.concatenate([y.numpy() for _, y in tr] + [y.numpy() for _, y in va])
    assert sum(x.shape[0] for x in xs) == 10 and xs[0].shape[1:] == [6, 5, 3] and xs[0].dtype == tl.float32
    assert ys.sum(axis=0).tolist() == [4, 3, 3]
    assert not set(tr.file_paths) & set(va.file_paths) and len(va.file_paths) == 3
    g = image_dataset_from_directory(str(tmp_path), image_size=(4, 4), color_mode="grayscale", batch_size=None,
                                     shuffle=False, verbose=False)
    x0, y0 = next(iter(g))
    assert x0.shape == [4, 4, 1] and int(y0) == 0


def test_error_image_dataset_bad_args(tmp_path):
    pytest.importorskip("PIL.Image")
    from tensorlab.keras.utils.image_dataset import image_dataset_from_directory
    with pytest.raises(ValueError, match="not a directory"):
        image_dataset_from_directory(str(tmp_path / "none"))
    with pytest.raises(ValueError, match="no images"):
        image_dataset_from_directory(str(tmp_path), verbose=False)


def test_fit_accepts_dataset(rng):
    keras = tl.keras
    if not hasattr(keras, "Sequential"):
        pytest.skip("tl.keras.Sequential is not available yet")
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x @ np.float32([1.0, -2.0, 0.5]))[:, None]
    ds = tl.data.Dataset.from_tensor_slices((x, y)).shuffle(64, seed=0).batch(16).prefetch(tl.data.AUTOTUNE)
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    hist = model.fit(ds, epochs=5, verbose=0, validation_data=ds.take(2))
    assert hist.history["loss"][-1] < hist.history["loss"][0] and "val_loss" in hist.history
    weighted = tl.data.Dataset.from_tensor_slices((x, y, np.ones(64, np.float32))).batch(32)
    model.fit(weighted.repeat(), steps_per_epoch=3, epochs=2, verbose=0)
    assert model.predict(tl.data.Dataset.from_tensor_slices(x).batch(16), verbose=0).shape == (64, 1)
    assert np.isfinite(model.evaluate(ds, verbose=0))
