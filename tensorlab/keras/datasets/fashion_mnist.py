"""Fashion-MNIST (28x28 clothing images), read from a local ``fashion_mnist.npz``."""
from tensorlab.keras.datasets._npz import load_npz


def load_data(path="fashion_mnist.npz"):
    """Loads Fashion-MNIST from ``path`` (relative names are looked up in ``~/.keras/datasets/``).

    Returns:
      ``(x_train, y_train), (x_test, y_test)``: uint8 images ``(n, 28, 28)`` and labels.

    Raises:
      FileNotFoundError: when the file is not on disk (there is no download).
    """
    return load_npz("fashion_mnist", path, "fashion_mnist.npz")
