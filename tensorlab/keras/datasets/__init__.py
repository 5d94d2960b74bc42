"""Built-in data sets (``keras.datasets``): ``digits`` ships with tensorlab; the others read the
files Keras downloads (``~/.keras/datasets/`` or ``path=``) if they are on disk: tensorlab never
downloads."""
from tensorlab.keras.datasets import (boston_housing, california_housing, cifar10, cifar100, digits, fashion_mnist,
                                      imdb, mnist, reuters)

__all__ = ["digits", "mnist", "fashion_mnist", "cifar10", "cifar100", "imdb", "reuters", "boston_housing",
           "california_housing"]
