"""``keras.preprocessing`` (tf.keras' older home of the data utilities, kept for scripts that use it):
``sequence.pad_sequences``, ``image_dataset_from_directory``, ``timeseries_dataset_from_array``."""
from tensorlab.keras.preprocessing import sequence
from tensorlab.keras.utils.image_dataset import image_dataset_from_directory
from tensorlab.keras.utils.sequences import timeseries_dataset_from_array

__all__ = ["sequence", "image_dataset_from_directory", "timeseries_dataset_from_array"]
