"""``keras.saving``: custom-object registration and (de)serialization of Keras objects."""
from tensorlab.keras.saving.object_registration import (CustomObjectScope, custom_object_scope,
                                                        get_custom_objects, get_registered_name,
                                                        get_registered_object, register_keras_serializable)
from tensorlab.keras.saving.serialization import deserialize_keras_object, serialize_keras_object
from tensorlab.keras.saving.file_format import load_model, save_model

__all__ = ["register_keras_serializable", "get_custom_objects", "custom_object_scope", "CustomObjectScope",
           "get_registered_name", "get_registered_object", "serialize_keras_object",
           "deserialize_keras_object", "save_model", "load_model"]
