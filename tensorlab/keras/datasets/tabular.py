"""``keras.datasets.boston_housing`` and ``california_housing`` from Keras' ``.npz`` files
(arrays ``x`` and ``y``), split as Keras splits them."""
import numpy as np

from tensorlab.keras.datasets._npz import find, split


def _xy(dataset, path, default_name):
    c = find(dataset, path, default_name, "arrays x and y")
    with np.load(c, allow_pickle=False) as f:
        if not {"x", "y"} <= set(f.files):
            raise ValueError(f"{dataset}.load_data: {c} must hold arrays x and y; it holds {sorted(f.files)}")
        return f["x"], f["y"]


def load_boston_housing(path="boston_housing.npz", test_split=0.2, seed=113):
    x, y = _xy("boston_housing", path, "boston_housing.npz")
    return split("boston_housing", x, y, test_split, seed)


def load_california_housing(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    if version not in ("large", "small"):
        raise ValueError(f"california_housing.load_data: version must be 'large' or 'small'; received {version!r}")
    x, y = _xy("california_housing", path, "california_housing.npz")
    if version == "small":
        x, y = x[:600], y[:600]
    return split("california_housing", x, y, test_split, seed)
