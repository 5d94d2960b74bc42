"""Helpers of the Layer base class: signatures, shapes, masks, config values."""
import inspect

from tensorlab.core.tensor import SymbolicTensor, Tensor
from tensorlab.keras import _tree


def _accepts(fn, name):
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False, None
    if name in params:
        d = params[name].default
        return True, None if d is inspect.Parameter.empty else d
    return any(p.kind is p.VAR_KEYWORD for p in params.values()), None


def _shape_of(struct):
    return _tree.map_structure(lambda x: tuple(x.shape) if hasattr(x, "shape") else x, struct)


def _jsonable(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return True
    if isinstance(v, (list, tuple)):
        return all(_jsonable(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _jsonable(x) for k, x in v.items())
    return False


def _collect_mask(x):
    if isinstance(x, (list, tuple)):
        masks = [getattr(v, "_keras_mask", None) for v in x]
        return None if all(m is None for m in masks) else masks
    return getattr(x, "_keras_mask", None)


def _set_mask(outputs, mask):
    if isinstance(outputs, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(outputs)
        for o, m in zip(outputs, masks):
            _set_mask(o, m)
    elif isinstance(outputs, (Tensor, SymbolicTensor)):
        try:
            outputs._keras_mask = mask
        except AttributeError:
            pass


def _specs_to_symbolic(shapes, dtype):
    if isinstance(shapes, (list, tuple)) and shapes and isinstance(shapes[0], (list, tuple)):
        return [SymbolicTensor(s, dtype) for s in shapes]
    return SymbolicTensor(tuple(shapes), dtype)
