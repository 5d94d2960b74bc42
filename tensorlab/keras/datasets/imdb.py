"""IMDB reviews as word indices (``keras.datasets.imdb``), from Keras' ``imdb.npz`` on disk."""
from tensorlab.keras.datasets.text import load_imdb as load_data
from tensorlab.keras.datasets.text import word_index


def get_word_index(path="imdb_word_index.json"):
    """``{word: index}`` from Keras' ``imdb_word_index.json`` (in ``~/.keras/datasets/`` or ``path``)."""
    return word_index("imdb", path, "imdb_word_index.json")


__all__ = ["load_data", "get_word_index"]
