"""``keras.models``: ``Model``, ``Sequential``, cloning and loading."""
import json

from tensorlab.keras.models.functional import Functional
from tensorlab.keras.models.model import Model
from tensorlab.keras.models.sequential import Sequential
from tensorlab.keras.saving.file_format import load_model, save_model


def model_from_json(json_string, custom_objects=None):
    """Builds a model (without weights) from ``model.to_json()``."""
    from tensorlab.keras.saving.serialization import deserialize_keras_object
    config = json.loads(json_string)
    config.pop("compile_config", None)
    return deserialize_keras_object(config, custom_objects=custom_objects, module="models")


def model_from_config(config, custom_objects=None):
    from tensorlab.keras.saving.serialization import deserialize_keras_object
    return deserialize_keras_object(config, custom_objects=custom_objects, module="models")


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and freshly initialized weights.

    Works for Sequential and Functional models (through their configs).
    """
    from tensorlab.keras.saving.serialization import deserialize_keras_object, serialize_keras_object
    if not isinstance(model, (Sequential, Functional)):
        raise ValueError(f"clone_model: only Sequential and Functional models can be cloned; "
                         f"{type(model).__name__} is a subclassed model")
    cfg = serialize_keras_object(model)
    cfg.pop("compile_config", None)
    return deserialize_keras_object(cfg, module="models")


__all__ = ["Model", "Sequential", "Functional", "load_model", "save_model", "model_from_json",
           "model_from_config", "clone_model"]
