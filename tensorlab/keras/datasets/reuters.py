"""Reuters newswires as word indices (``keras.datasets.reuters``), from Keras' ``reuters.npz`` on disk."""
from tensorlab.keras.datasets.text import load_reuters as load_data
from tensorlab.keras.datasets.text import word_index


def get_word_index(path="reuters_word_index.json"):
    """``{word: index}`` from Keras' ``reuters_word_index.json`` (in ``~/.keras/datasets/`` or ``path``)."""
    return word_index("reuters", path, "reuters_word_index.json")


__all__ = ["load_data", "get_word_index"]
