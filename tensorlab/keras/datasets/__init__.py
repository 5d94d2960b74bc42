"""Built-in data sets (``keras.datasets``): ``digits`` ships with tensorlab; ``mnist`` and
``fashion_mnist`` read the standard ``.npz`` files if they are on disk."""
from tensorlab.keras.datasets import digits, fashion_mnist, mnist

__all__ = ["digits", "mnist", "fashion_mnist"]
