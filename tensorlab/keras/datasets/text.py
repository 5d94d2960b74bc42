"""``keras.datasets.imdb`` and ``reuters``: word-index sequences from Keras' ``.npz`` files,
re-indexed, filtered and split exactly as Keras does.

Those files hold arrays of Python lists (``object`` arrays), which numpy can only read with
pickle: load only files you trust (Keras' own downloads)."""
import json

import numpy as np

from tensorlab.keras.datasets._npz import find


def _remove_long(maxlen, xs, labels):
    kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def _reindex(xs, start_char, index_from):
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    if index_from:
        return [[w + index_from for w in x] for x in xs]
    return [list(x) for x in xs]


def _vocab(xs, num_words, skip_top, oov_char):
    if not num_words:
        num_words = max(max(x) for x in xs if len(x))
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def _objects(xs):
    out = np.empty(len(xs), dtype=object)
    out[:] = xs
    return out


def _load(dataset, path, default_name, keys):
    c = find(dataset, path, default_name, "Keras' file")
    with np.load(c, allow_pickle=True) as f:
        if not set(keys) <= set(f.files):
            raise ValueError(f"{dataset}.load_data: {c} must hold arrays {list(keys)}; it holds {sorted(f.files)}")
        return [f[k] for k in keys]


def load_imdb(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1, oov_char=2,
              index_from=3):
    x_train, y_train, x_test, y_test = _load("imdb", path, "imdb.npz", ("x_train", "y_train", "x_test", "y_test"))
    rng = np.random.RandomState(seed)
    idx = np.arange(len(x_train))
    rng.shuffle(idx)
    x_train, y_train = x_train[idx], y_train[idx]
    idx = np.arange(len(x_test))
    rng.shuffle(idx)
    x_test, y_test = x_test[idx], y_test[idx]
    x_train, x_test = _reindex(x_train, start_char, index_from), _reindex(x_test, start_char, index_from)
    if maxlen:
        x_train, y_train = _remove_long(maxlen, x_train, y_train)
        x_test, y_test = _remove_long(maxlen, x_test, y_test)
        if not x_train or not x_test:
            raise ValueError(f"imdb.load_data: after keeping sequences shorter than maxlen={maxlen}, no sequence "
                             "was left; increase maxlen")
    xs = _vocab(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(y_train), np.asarray(y_test)])
    n = len(x_train)
    return (_objects(xs[:n]), labels[:n]), (_objects(xs[n:]), labels[n:])


def load_reuters(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2, seed=113,
                 start_char=1, oov_char=2, index_from=3):
    xs, labels = _load("reuters", path, "reuters.npz", ("x", "y"))
    idx = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(idx)
    xs, labels = _reindex(xs[idx], start_char, index_from), labels[idx]
    if maxlen:
        xs, labels = _remove_long(maxlen, xs, labels)
    xs = _vocab(xs, num_words, skip_top, oov_char)
    n = int(len(xs) * (1 - test_split))
    labels = np.asarray(labels)
    return (_objects(xs[:n]), labels[:n]), (_objects(xs[n:]), labels[n:])


def word_index(dataset, path, default_name):
    """The ``{word: index}`` dictionary of Keras' ``*_word_index.json``."""
    with open(find(dataset, path, default_name, "Keras' word index JSON")) as f:
        return json.load(f)
