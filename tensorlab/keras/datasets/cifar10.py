"""CIFAR-10 (``keras.datasets.cifar10``), read from Keras' download on disk (no download here)."""
from tensorlab.keras.datasets.cifar import load_cifar10 as load_data

__all__ = ["load_data"]
