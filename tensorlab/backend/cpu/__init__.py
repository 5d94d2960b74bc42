"""The CPU backend: numpy arrays, one module per op family.

Array helpers used by ``tensorlab.core`` (conversion, copies, DLPack) live
here; op implementations live in the sibling modules, named like the op
modules in ``tensorlab/ops/``.
"""
import contextlib
import warnings

import numpy as np

from tensorlab.backend import import_all

xp = np
KIND = "cpu"

# TF semantics: a floating-point overflow or invalid operation gives inf or NaN, a value
# like any other (float16 gradients overflow routinely under loss scaling), not a warning.
# numpy reports them as RuntimeWarnings attributed to the calling module: silence those of
# this backend's modules only (one filter, instead of an errstate around every op).
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"tensorlab\.backend\.cpu(\.|$)")


def asarray(value, np_dtype=None):
    """A numpy array from a Python value or array-like (copies foreign memory)."""
    if hasattr(value, "__cuda_array_interface__") or type(value).__module__.startswith("cupy"):
        value = value.get()
    elif type(value).__module__.startswith("torch"):
        value = value.detach().cpu().numpy()
    if np_dtype is not None and isinstance(value, (float, int)) and not isinstance(value, bool):
        return np.array(value, dtype=np_dtype)
    arr = np.asarray(value)
    if np_dtype is not None and arr.dtype != np_dtype:
        if arr.dtype.kind == "f" and np.dtype(np_dtype).kind in "iub":
            with np.errstate(invalid="ignore"):
                arr = arr.astype(np_dtype)
        else:
            arr = arr.astype(np_dtype)
    elif arr is value:
        arr = arr.copy()  # tensors must not alias caller-owned, mutable arrays
    return arr


def to_numpy(arr):
    return arr


def from_numpy(arr):
    return np.ascontiguousarray(arr)


def copy_same_kind(arr, src_index, dst_index):
    return arr  # logical CPU devices share host memory; tensors are immutable


def broadcast_copy(arr, shape):
    return np.broadcast_to(arr, shape).copy()


def from_dlpack(obj):
    return np.from_dlpack(obj)


def device_context(index):
    return contextlib.nullcontext()


def load():
    """Registers every family's CPU implementations (called by Device.backend)."""
    import_all(__name__, __path__)
