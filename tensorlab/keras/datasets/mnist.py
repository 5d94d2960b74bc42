"""MNIST handwritten digits (28x28), read from a local ``mnist.npz``."""
from tensorlab.keras.datasets._npz import load_npz


def load_data(path="mnist.npz"):
    """Loads MNIST from ``path`` (relative names are looked up in ``~/.keras/datasets/``).

    Returns:
      ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(n, 28, 28)`` and labels.

    Raises:
      FileNotFoundError: when the file is not on disk (there is no download).
    """
    return load_npz("mnist", path, "mnist.npz")
