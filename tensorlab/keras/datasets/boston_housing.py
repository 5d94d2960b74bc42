"""Boston housing prices (``keras.datasets.boston_housing``), from Keras' ``boston_housing.npz`` on disk."""
from tensorlab.keras.datasets.tabular import load_boston_housing as load_data

__all__ = ["load_data"]
