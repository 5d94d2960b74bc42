"""``keras.datasets.cifar10`` / ``cifar100`` from Keras' download (``cifar-10-batches-py``,
``cifar-100-python``: the extracted directory or the ``.tar.gz``), laid out as Keras does.

The batches are Python pickles; they are read with an unpickler that only rebuilds numpy
arrays, dicts, lists and strings, so a tampered file cannot run code."""
import io
import os
import pickle
import tarfile

import numpy as np

from tensorlab.keras.datasets._npz import find

_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}


class _ArraysOnly(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"cifar: the batch file refers to {module}.{name}; only numpy arrays are "
                                     "allowed (is this Keras' CIFAR file?)")


def _batch(data, label_key, what):
    try:
        d = _ArraysOnly(io.BytesIO(data), encoding="bytes").load()
    except Exception as e:
        raise ValueError(f"{what}: not a CIFAR batch ({type(e).__name__}: {e})") from None
    d = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in d.items()}
    x = np.asarray(d["data"], dtype=np.uint8)
    return x.reshape(x.shape[0], 3, 32, 32), np.asarray(d[label_key])


class _Source:
    """Files of the extracted directory (searched below ``root``) or of the ``.tar.gz``."""

    def __init__(self, root, folder):
        self.root, self.folder, self._tar = root, folder, None
        if os.path.isfile(root):
            self._tar = tarfile.open(root, "r:gz")
        else:
            for base, dirs, _ in os.walk(root):  # Keras 3 nests it: <name>-target/<name>/
                if os.path.basename(base) == folder:
                    self.root = base
                    break

    def read(self, name):
        if self._tar is not None:
            return self._tar.extractfile(f"{self.folder}/{name}").read()
        with open(os.path.join(self.root, name), "rb") as f:
            return f.read()


def _layout(x, data_format):
    from tensorlab.keras import backend
    fmt = data_format or backend.image_data_format()
    return x.transpose(0, 2, 3, 1) if fmt == "channels_last" else x


def load_cifar10(path="cifar-10-batches-py", data_format=None):
    src = _Source(find("cifar10", path, "cifar-10-batches-py", "the extracted directory or the .tar.gz"),
                  "cifar-10-batches-py")
    parts = [_batch(src.read(f"data_batch_{i}"), "labels", "cifar10") for i in range(1, 6)]
    x_train = np.concatenate([p[0] for p in parts]).astype(np.uint8)
    y_train = np.concatenate([p[1] for p in parts]).astype(np.uint8).reshape(-1, 1)
    x_test, y_test = _batch(src.read("test_batch"), "labels", "cifar10")
    return (_layout(x_train, data_format), y_train), (_layout(x_test, data_format),
                                                      y_test.astype(np.uint8).reshape(-1, 1))


def load_cifar100(label_mode="fine", path="cifar-100-python", data_format=None):
    if label_mode not in ("fine", "coarse"):
        raise ValueError(f"cifar100.load_data: label_mode must be 'fine' or 'coarse'; received {label_mode!r}")
    src = _Source(find("cifar100", path, "cifar-100-python", "the extracted directory or the .tar.gz"),
                  "cifar-100-python")
    key = f"{label_mode}_labels"
    x_train, y_train = _batch(src.read("train"), key, "cifar100")
    x_test, y_test = _batch(src.read("test"), key, "cifar100")
    return ((_layout(x_train, data_format), y_train.astype(np.int64).reshape(-1, 1)),
            (_layout(x_test, data_format), y_test.astype(np.int64).reshape(-1, 1)))
