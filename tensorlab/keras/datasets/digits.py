"""The UCI optical-recognition-of-handwritten-digits data (8x8 images, 10 classes).

1,797 grayscale images of 8x8 pixels with values 0..16 (uint8), bundled in
``tensorlab/data/digits.npz`` (source: E. Alpaydin and C. Kaynak, UCI Machine
Learning Repository, "Optical Recognition of Handwritten Digits", the
normalized 8x8 version also shipped with scikit-learn).

The split is fixed: a permutation drawn with ``numpy.random.default_rng(0)``
puts the first 1,437 images in the training set and the last 360 in the test set.
"""
import os

import numpy as np

N_TRAIN = 1437
N_TEST = 360
SEED = 0


def _path():
    import tensorlab
    return os.path.join(os.path.dirname(tensorlab.__file__), "data", "digits.npz")


def load_data():
    """Loads the digits.

    Returns:
      ``(x_train, y_train), (x_test, y_test)``: images as uint8 arrays of shape
      ``(n, 8, 8)`` with values 0..16, labels as uint8 arrays of shape ``(n,)``;
      1,437 training and 360 test samples.

    Example:
      >>> (x_train, y_train), (x_test, y_test) = keras.datasets.digits.load_data()
      >>> x_train = x_train[..., None].astype("float32") / 16.0
    """
    path = _path()
    if not os.path.exists(path):
        raise FileNotFoundError(f"digits.load_data: the bundled file {path} is missing; reinstall tensorlab")
    with np.load(path) as d:
        images, labels = d["images"], d["labels"]
    order = np.random.default_rng(SEED).permutation(len(images))
    tr, te = order[:N_TRAIN], order[N_TRAIN:]
    return (images[tr], labels[tr]), (images[te], labels[te])
