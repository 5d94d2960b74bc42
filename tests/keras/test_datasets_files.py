"""keras.datasets loaders for the files Keras downloads: small stand-ins in Keras' formats."""
import os
import pickle
import tarfile

import numpy as np
import pytest

from tensorlab import keras


def _cifar_dir(root, folder, files, label_key, rng, n=4):
    d = root / folder
    d.mkdir(parents=True)
    truth = {}
    for name in files:
        data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
        labels = rng.integers(0, 100, size=n).tolist()
        with open(d / name, "wb") as f:
            pickle.dump({b"data": data, label_key: labels, b"batch_label": b"x"}, f, protocol=2)
        truth[name] = (data, labels)
    return truth


def test_cifar10_from_directory_and_tarball(tmp_path, rng):
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    truth = _cifar_dir(tmp_path / "nested-target", "cifar-10-batches-py", names, b"labels", rng)
    (x, y), (xt, yt) = keras.datasets.cifar10.load_data(path=str(tmp_path / "nested-target"))
    assert x.shape == (20, 32, 32, 3) and y.shape == (20, 1) and x.dtype == np.uint8 and y.dtype == np.uint8
    first = truth["data_batch_1"][0][0].reshape(3, 32, 32).transpose(1, 2, 0)
    np.testing.assert_array_equal(x[0], first)
    assert y[4:8, 0].tolist() == truth["data_batch_2"][1] and yt[:, 0].tolist() == truth["test_batch"][1]
    tgz = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tgz, "w:gz") as t:
        t.add(tmp_path / "nested-target" / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    (x2, _), (xt2, _) = keras.datasets.cifar10.load_data(path=str(tgz), data_format="channels_first")
    np.testing.assert_array_equal(x2.transpose(0, 2, 3, 1), x)
    np.testing.assert_array_equal(xt2.transpose(0, 2, 3, 1), xt)


def test_cifar100_label_modes_and_a_tampered_file(tmp_path, rng):
    d = tmp_path / "cifar-100-python"
    d.mkdir()
    fine, coarse = rng.integers(0, 100, 3).tolist(), rng.integers(0, 20, 3).tolist()
    for name in ("train", "test"):
        with open(d / name, "wb") as f:
            pickle.dump({b"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8), b"fine_labels": fine,
                         b"coarse_labels": coarse}, f)
    (_, yf), _ = keras.datasets.cifar100.load_data(path=str(d))
    (_, yc), _ = keras.datasets.cifar100.load_data("coarse", path=str(d))
    assert yf[:, 0].tolist() == fine and yc[:, 0].tolist() == coarse
    with pytest.raises(ValueError, match="label_mode must be 'fine' or 'coarse'"):
        keras.datasets.cifar100.load_data("medium", path=str(d))

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    with open(d / "train", "wb") as f:
        pickle.dump(Evil(), f)
    with pytest.raises(ValueError, match="not a CIFAR batch.*only numpy arrays are allowed"):
        keras.datasets.cifar100.load_data(path=str(d))


def _imdb_file(path, rng):
    def seqs(n):
        out = np.empty(n, dtype=object)
        out[:] = [list(rng.integers(1, 30, size=rng.integers(2, 9))) for _ in range(n)]
        return out
    xtr, xte = seqs(12), seqs(8)
    ytr, yte = rng.integers(0, 2, 12), rng.integers(0, 2, 8)
    np.savez(path, x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
    return xtr, ytr, xte, yte


def _keras_imdb_reference(xtr, ytr, xte, yte, num_words, skip_top, maxlen, seed, start, oov, index_from):
    rng = np.random.RandomState(seed)
    i = np.arange(len(xtr)); rng.shuffle(i); xtr, ytr = xtr[i], ytr[i]  # noqa: E702
    i = np.arange(len(xte)); rng.shuffle(i); xte, yte = xte[i], yte[i]  # noqa: E702
    xtr = [[start] + [w + index_from for w in x] for x in xtr]
    xte = [[start] + [w + index_from for w in x] for x in xte]
    if maxlen:
        keep = [k for k, x in enumerate(xtr) if len(x) < maxlen]
        xtr, ytr = [xtr[k] for k in keep], [ytr[k] for k in keep]
        keep = [k for k, x in enumerate(xte) if len(x) < maxlen]
        xte, yte = [xte[k] for k in keep], [yte[k] for k in keep]
    xs = xtr + xte
    xs = [[w if skip_top <= w < num_words else oov for w in x] for x in xs]
    return xs[:len(xtr)], list(ytr), xs[len(xtr):], list(yte)


@pytest.mark.parametrize("num_words,skip_top,maxlen", [(None, 0, None), (20, 3, 8)])
def test_imdb_matches_keras_processing(tmp_path, rng, num_words, skip_top, maxlen):
    raw = _imdb_file(tmp_path / "imdb.npz", rng)
    (x, y), (xt, yt) = keras.datasets.imdb.load_data(path=str(tmp_path / "imdb.npz"), num_words=num_words,
                                                     skip_top=skip_top, maxlen=maxlen)
    nw = num_words or max(max(s) + 3 for s in list(raw[0]) + list(raw[2]))
    ref = _keras_imdb_reference(*raw, nw, skip_top, maxlen, 113, 1, 2, 3)
    assert [list(s) for s in x] == ref[0] and y.tolist() == ref[1]
    assert [list(s) for s in xt] == ref[2] and yt.tolist() == ref[3]
    assert x.dtype == object


def test_reuters_boston_california_and_word_index(tmp_path, rng):
    xs = np.empty(10, dtype=object)
    xs[:] = [list(rng.integers(1, 9, size=4)) for _ in range(10)]
    np.savez(tmp_path / "reuters.npz", x=xs, y=np.arange(10))
    (x, y), (xt, yt) = keras.datasets.reuters.load_data(path=str(tmp_path / "reuters.npz"), test_split=0.3)
    assert len(x) == 7 and len(xt) == 3 and sorted(y.tolist() + yt.tolist()) == list(range(10))
    assert all(s[0] == 1 for s in x)  # start_char, then indices shifted by index_from=3
    bx, by = rng.normal(size=(50, 13)), rng.normal(size=50)
    np.savez(tmp_path / "boston_housing.npz", x=bx, y=by)
    (x, y), (xt, yt) = keras.datasets.boston_housing.load_data(path=str(tmp_path / "boston_housing.npz"))
    idx = np.arange(50)
    np.random.RandomState(113).shuffle(idx)
    np.testing.assert_array_equal(x, bx[idx][:40])
    np.testing.assert_array_equal(yt, by[idx][40:])
    np.savez(tmp_path / "california_housing.npz", x=rng.normal(size=(700, 8)), y=rng.normal(size=700))
    (x, _), (xt, _) = keras.datasets.california_housing.load_data(
        version="small", path=str(tmp_path / "california_housing.npz"))
    assert len(x) + len(xt) == 600 and len(xt) == 120
    (tmp_path / "imdb_word_index.json").write_text('{"the": 1, "movie": 17}')
    assert keras.datasets.imdb.get_word_index(str(tmp_path / "imdb_word_index.json"))["movie"] == 17
    with pytest.raises(FileNotFoundError, match="tensorlab does not download data"):
        keras.datasets.boston_housing.load_data(path=str(tmp_path / "missing.npz"))
    with pytest.raises(ValueError, match="version must be 'large' or 'small'"):
        keras.datasets.california_housing.load_data(version="tiny")
