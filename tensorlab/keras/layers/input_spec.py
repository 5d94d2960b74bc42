"""``InputSpec``: what a layer accepts (rank, dtype, sizes), and the check that
raises an error naming the layer, the expectation and the received shape."""
from tensorlab.keras import _tree


class InputSpec:
    """Specifies the rank, dtype and shape of every input to a layer.

    Args:
      dtype: expected dtype, or None.
      shape: expected shape (``None`` entries match anything).
      ndim: expected rank.
      max_ndim, min_ndim: rank bounds.
      axes: dict mapping axes to expected sizes, e.g. ``{-1: 800}``.
      allow_last_axis_squeeze: accept a missing or extra trailing axis of size 1.
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None, axes=None,
                 allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.axes = {int(k): v for k, v in (axes or {}).items()}

    def __repr__(self):
        parts = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape), ("ndim", self.ndim),
                                         ("max_ndim", self.max_ndim), ("min_ndim", self.min_ndim),
                                         ("axes", self.axes or None)) if v is not None]
        return f"InputSpec({', '.join(parts)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim, "max_ndim": self.max_ndim,
                "min_ndim": self.min_ndim, "axes": self.axes}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _shape_str(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Raises ValueError naming the layer, the expectation and the received shape."""
    if not input_spec:
        return
    specs = input_spec if isinstance(input_spec, (list, tuple)) else [input_spec]
    flat = _tree.flatten(inputs)
    if len(flat) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
                         f"{len(flat)} input tensors")
    for i, (spec, x) in enumerate(zip(specs, flat)):
        if spec is None or x is None:
            continue
        shape = tuple(x.shape)
        nd = len(shape)
        pre = f'Input {i} of layer "{layer_name}" is incompatible with the layer: '
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and nd != spec.ndim:
            raise ValueError(pre + f"expected ndim={spec.ndim}, found ndim={nd}. Full shape received: "
                             f"{_shape_str(shape)}")
        if spec.max_ndim is not None and nd > spec.max_ndim:
            raise ValueError(pre + f"expected max_ndim={spec.max_ndim}, found ndim={nd}. Full shape received: "
                             f"{_shape_str(shape)}")
        if spec.min_ndim is not None and nd < spec.min_ndim:
            raise ValueError(pre + f"expected min_ndim={spec.min_ndim}, found ndim={nd}. Full shape received: "
                             f"{_shape_str(shape)}")
        if spec.dtype is not None and x.dtype.name != getattr(spec.dtype, "name", spec.dtype):
            raise ValueError(pre + f"expected dtype={getattr(spec.dtype, 'name', spec.dtype)}, found "
                             f"dtype={x.dtype.name}")
        for axis, value in spec.axes.items():
            if value is None:
                continue
            a = axis if axis >= 0 else nd + axis
            if not 0 <= a < nd or (shape[a] is not None and shape[a] != value):
                raise ValueError(pre + f"expected axis {axis} of input shape to have value {value}, but "
                                 f"received input with shape {_shape_str(shape)}")
        if spec.shape is not None and not spec.allow_last_axis_squeeze:
            for want, got in zip(spec.shape, shape):
                if want is not None and got is not None and want != got:
                    raise ValueError(pre + f"expected shape={_shape_str(spec.shape)}, found "
                                     f"shape={_shape_str(shape)}")
