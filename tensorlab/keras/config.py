"""``keras.config`` (Keras 3): global settings of tl.keras.

The default float dtype, the fuzz factor, the image data format, the global dtype
policy (``set_dtype_policy("mixed_float16")`` for mixed precision), interactive logging,
limits on epochs and steps for debugging runs, traceback filtering, the flash-attention
hint and unsafe deserialization. The dtype functions also live in ``keras.backend``
and ``keras.mixed_precision``, as in Keras.
"""
import os

from tensorlab.keras.backend import backend, epsilon, floatx, image_data_format, set_epsilon, set_floatx, \
    set_image_data_format
from tensorlab.keras.dtype_policies import dtype_policy, set_dtype_policy


def _env_int(name):
    value = os.environ.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"keras.config: the environment variable {name} must be an integer, got {value!r}") \
            from None


_state = {"interactive_logging": True, "max_epochs": _env_int("KERAS_MAX_EPOCHS"),
          "max_steps_per_epoch": _env_int("KERAS_MAX_STEPS_PER_EPOCH"), "flash_attention": None,
          "traceback_filtering": True, "safe_mode": None}


# ----------------------------------------------------------------------------- logging
def enable_interactive_logging():
    """Progress bars and messages go to stdout (the default), redrawn in place on a terminal."""
    _state["interactive_logging"] = True


def disable_interactive_logging():
    """Progress output goes to Python's ``logging`` (logger ``"tensorlab.keras"``, level INFO), one
    line per finished bar, as Keras sends it to absl logging: for jobs without a terminal."""
    _state["interactive_logging"] = False


def is_interactive_logging_enabled():
    """Whether progress output goes to stdout (True) or to ``logging`` (False)."""
    return _state["interactive_logging"]


# ----------------------------------------------------------------------------- debugging limits
def _limit(name, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"{name}: expected a positive int or None, got {value!r}")
    return value


def set_max_epochs(max_epochs):
    """Caps the epochs of every ``fit`` (for quick debugging runs); None removes the cap.

    Also set by the ``KERAS_MAX_EPOCHS`` environment variable at import.
    """
    _state["max_epochs"] = _limit("set_max_epochs", max_epochs)


def max_epochs():
    """The cap set by ``set_max_epochs`` (or ``KERAS_MAX_EPOCHS``), or None."""
    return _state["max_epochs"]


def set_max_steps_per_epoch(max_steps_per_epoch):
    """Caps the steps of each epoch of ``fit`` and of ``evaluate``/``predict``; None removes the cap.

    Also set by the ``KERAS_MAX_STEPS_PER_EPOCH`` environment variable at import.
    """
    _state["max_steps_per_epoch"] = _limit("set_max_steps_per_epoch", max_steps_per_epoch)


def max_steps_per_epoch():
    """The cap set by ``set_max_steps_per_epoch`` (or ``KERAS_MAX_STEPS_PER_EPOCH``), or None."""
    return _state["max_steps_per_epoch"]


# ----------------------------------------------------------------------------- tracebacks
def enable_traceback_filtering():
    """Errors raised through ``fit``/``evaluate``/``predict`` show the user's frames only, without
    tensorlab's internal ones (the default)."""
    _state["traceback_filtering"] = True


def disable_traceback_filtering():
    """Errors keep their full tracebacks, tensorlab's frames included (for debugging tensorlab)."""
    _state["traceback_filtering"] = False


def is_traceback_filtering_enabled():
    """Whether tracebacks are filtered (see ``enable_traceback_filtering``)."""
    return _state["traceback_filtering"]


# ----------------------------------------------------------------------------- flash attention
def enable_flash_attention():
    """Asks for flash attention where ``ops.dot_product_attention`` is not told otherwise.

    A hint, as in Keras (whose backends fall back to the plain computation when no fused
    kernel applies): tensorlab has no fused attention kernel, so the result and the
    computation are the same either way.
    """
    _state["flash_attention"] = True


def disable_flash_attention():
    """Asks for the plain attention computation (a hint; see ``enable_flash_attention``)."""
    _state["flash_attention"] = False


def is_flash_attention_enabled():
    """The flash-attention hint: True, False, or None (not set: automatic)."""
    return _state["flash_attention"]


# ----------------------------------------------------------------------------- deserialization
def enable_unsafe_deserialization():
    """Turns Keras' global safe mode off: ``in_safe_mode()`` returns False from then on.

    Keras then loads ``Lambda`` layers saved with Python bytecode. tensorlab never runs
    code from a file (a design rule), so its ``load_model`` still refuses such layers,
    naming the function to register instead; deserialization code of your own can read
    the setting with ``keras.config.in_safe_mode()``.
    """
    _state["safe_mode"] = False


def in_safe_mode():
    """False after ``enable_unsafe_deserialization``; else None (each call's ``safe_mode`` decides)."""
    return _state["safe_mode"]


__all__ = ["backend", "floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format",
           "set_image_data_format", "dtype_policy", "set_dtype_policy", "enable_interactive_logging",
           "disable_interactive_logging", "is_interactive_logging_enabled", "set_max_epochs", "max_epochs",
           "set_max_steps_per_epoch", "max_steps_per_epoch", "enable_traceback_filtering",
           "disable_traceback_filtering", "is_traceback_filtering_enabled", "enable_flash_attention",
           "disable_flash_attention", "is_flash_attention_enabled", "enable_unsafe_deserialization", "in_safe_mode"]
