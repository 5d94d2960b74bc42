"""Reading the standard ``mnist.npz``-style files (there is no download)."""
import os

import numpy as np


def find(dataset, path, default_name, what="arrays x_train, y_train, x_test, y_test"):
    """The existing file or directory ``path`` names: as given when it has a directory part,
    else in ``~/.keras/datasets/`` (where Keras keeps its downloads) or the working directory."""
    candidates = []
    p = os.path.expanduser(os.fspath(path))
    if os.path.isabs(p) or os.path.dirname(p):
        candidates.append(p)
    else:
        candidates += [os.path.join(os.path.expanduser("~/.keras/datasets"), p), os.path.abspath(p)]
    for c in candidates:
        if os.path.exists(c):
            return c
    raise FileNotFoundError(
        f"{dataset}.load_data: {default_name} was not found (looked in {', '.join(candidates)}). tensorlab does "
        f"not download data: put the standard {default_name} ({what}) at ~/.keras/datasets/{default_name}, or "
        f"pass path='/path/to/{default_name}'. keras.datasets.digits ships with tensorlab and needs no file")


def load_npz(dataset, path, default_name):
    """``(x_train, y_train), (x_test, y_test)`` from an npz with those four keys."""
    c = find(dataset, path, default_name)
    with np.load(c, allow_pickle=False) as d:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(d.files)
        if missing:
            raise ValueError(f"{dataset}.load_data: {c} lacks the arrays {sorted(missing)}; it needs "
                             "x_train, y_train, x_test, y_test")
        return (d["x_train"], d["y_train"]), (d["x_test"], d["y_test"])


def split(dataset, x, y, test_split, seed):
    """Keras' shuffled train/test split of ``x``, ``y`` (numpy RandomState(seed))."""
    if not 0 <= test_split < 1:
        raise ValueError(f"{dataset}.load_data: test_split must be in [0, 1); received {test_split}")
    idx = np.arange(len(x))
    np.random.RandomState(seed).shuffle(idx)
    x, y = x[idx], y[idx]
    n = int(len(x) * (1 - test_split))
    return (np.array(x[:n]), np.array(y[:n])), (np.array(x[n:]), np.array(y[n:]))
