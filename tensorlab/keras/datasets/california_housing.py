"""California housing prices (``keras.datasets.california_housing``), from Keras' npz on disk."""
from tensorlab.keras.datasets.tabular import load_california_housing as load_data

__all__ = ["load_data"]
