"""Reading a checkpoint's values without the objects that wrote them (``tf.train.list_variables``,
``load_variable``, ``load_checkpoint``): inspecting or porting a checkpoint."""
import os

import tensorlab as tl
from tensorlab.train.checkpoint import latest_checkpoint, read_values


def _resolve(ckpt_dir_or_file, what):
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise ValueError(f"{what}: couldn't find a checkpoint in directory {path!r}")
        return latest
    return path


class CheckpointReader:
    """The values of one checkpoint, by key (``model/layers/dense/vars/0``, ``step``, ...)."""

    def __init__(self, path):
        self._path = path
        self._values = read_values(path, "load_checkpoint")

    def get_variable_to_shape_map(self):
        return {k: list(v.shape) for k, v in self._values.items()}

    def get_variable_to_dtype_map(self):
        return {k: tl.as_dtype(v.dtype) for k, v in self._values.items()}

    def has_tensor(self, name):
        return name in self._values

    def get_tensor(self, name):
        """The value saved under ``name``, as a numpy array."""
        if name not in self._values:
            close = sorted(self._values)[:10]
            raise tl.errors.NotFoundError(None, None, f"Key {name!r} not found in checkpoint {self._path!r}; its "
                                                      f"keys include {close}")
        return self._values[name].copy()


def load_checkpoint(ckpt_dir_or_file):
    """A ``CheckpointReader`` for a checkpoint prefix, or the latest checkpoint in a directory."""
    return CheckpointReader(_resolve(ckpt_dir_or_file, "load_checkpoint"))


def list_variables(ckpt_dir_or_file):
    """``[(key, shape), ...]`` of every value in the checkpoint, sorted by key."""
    shapes = load_checkpoint(ckpt_dir_or_file).get_variable_to_shape_map()
    return sorted(shapes.items())


def load_variable(ckpt_dir_or_file, name):
    """One saved value, as a numpy array."""
    return load_checkpoint(ckpt_dir_or_file).get_tensor(name)
