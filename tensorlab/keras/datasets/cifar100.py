"""CIFAR-100 (``keras.datasets.cifar100``), read from Keras' download on disk (no download here)."""
from tensorlab.keras.datasets.cifar import load_cifar100 as load_data

__all__ = ["load_data"]
