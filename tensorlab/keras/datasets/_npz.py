"""Reading the standard ``mnist.npz``-style files (there is no download)."""
import os

import numpy as np


def load_npz(dataset, path, default_name):
    """``(x_train, y_train), (x_test, y_test)`` from an npz with those four keys."""
    candidates = []
    p = os.path.expanduser(os.fspath(path))
    if os.path.isabs(p) or os.path.dirname(p):
        candidates.append(p)
    else:
        candidates += [os.path.join(os.path.expanduser("~/.keras/datasets"), p), os.path.abspath(p)]
    for c in candidates:
        if os.path.exists(c):
            with np.load(c, allow_pickle=False) as d:
                missing = {"x_train", "y_train", "x_test", "y_test"} - set(d.files)
                if missing:
                    raise ValueError(f"{dataset}.load_data: {c} lacks the arrays {sorted(missing)}; it needs "
                                     "x_train, y_train, x_test, y_test")
                return (d["x_train"], d["y_train"]), (d["x_test"], d["y_test"])
    raise FileNotFoundError(
        f"{dataset}.load_data: {default_name} was not found (looked in {', '.join(candidates)}). tensorlab does "
        f"not download data: put the standard {default_name} (arrays x_train, y_train, x_test, y_test) at "
        f"~/.keras/datasets/{default_name}, or pass path='/path/to/{default_name}'. "
        "keras.datasets.digits ships with tensorlab and needs no file")
