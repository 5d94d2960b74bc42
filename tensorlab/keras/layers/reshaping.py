"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector, ZeroPadding1D/2D,
UpSampling1D/2D, Cropping1D/2D."""
import tensorlab as tl
from tensorlab.keras.layers._common import (check_ndim, normalize_data_format, normalize_tuple, shape_str,
                                            to_channels_first, to_channels_last)
from tensorlab.keras.layers.base import Layer


def _prod(dims):
    n = 1
    for d in dims:
        if d is None:
            return None
        n *= d
    return n


def _batch_reshape(x, inner):
    """Reshapes to ``(batch,) + inner`` whether or not the batch size is known."""
    b = x.shape[0]
    if b is None and -1 in inner:
        raise ValueError(f"cannot reshape an input of shape {shape_str(tuple(x.shape))} to (None,) + "
                         f"{tuple(inner)}: both the batch size and one target dimension are unknown")
    return tl.reshape(x, (-1 if b is None else b,) + tuple(inner))


class Flatten(Layer):
    """Flattens each example to one dimension: ``(batch, ...) -> (batch, prod(...))``.

    Args:
      data_format: ``"channels_last"`` (default) or ``"channels_first"``; with
        channels_first the input is first transposed to channels_last so the
        feature order matches a channels_last model.

    Example:
      >>> tl.keras.layers.Flatten()(tl.ones((2, 3, 4))).shape
      TensorShape([2, 12])
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        x = inputs
        check_ndim(self, x, min_ndim=1)
        if self.data_format == "channels_first" and len(x.shape) > 2:
            x = to_channels_last(x, len(x.shape) - 2)
        if len(x.shape) == 1:
            return _batch_reshape(x, (1,))
        n = _prod(x.shape[1:])
        if n is None:
            if x.shape[0] is None:
                raise ValueError(f'Layer "{self.name}" (Flatten) needs the non-batch dimensions to be known; '
                                 f"received input shape {shape_str(tuple(x.shape))}")
            return tl.reshape(x, (x.shape[0], -1))
        return _batch_reshape(x, (n,))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) == 1:
            return (input_shape[0], 1)
        return (input_shape[0], _prod(input_shape[1:]))

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes each example to ``target_shape`` (batch dimension kept).

    Args:
      target_shape: tuple of ints, without the batch dimension; one entry may be -1.

    Example:
      >>> tl.keras.layers.Reshape((3, 4))(tl.ones((2, 12))).shape
      TensorShape([2, 3, 4])
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in self.target_shape) > 1 or any(d < -1 or d == 0 for d in self.target_shape):
            raise ValueError(f"Reshape: target_shape {self.target_shape} may contain at most one -1 and "
                             "otherwise positive sizes")

    def _resolved(self, input_shape):
        target = list(self.target_shape)
        n_in = _prod(tuple(input_shape)[1:])
        known = _prod([d for d in target if d != -1])
        if -1 in target:
            if n_in is None:
                return tuple(target)
            if n_in % known:
                raise ValueError(f'Layer "{self.name}" (Reshape): cannot reshape input of shape '
                                 f"{shape_str(tuple(input_shape))} to target_shape {self.target_shape}")
            target[target.index(-1)] = n_in // known
        elif n_in is not None and n_in != known:
            raise ValueError(f'Layer "{self.name}" (Reshape): total size of the input, shape '
                             f"{shape_str(tuple(input_shape))}, is {n_in} per example, which does not match "
                             f"target_shape {self.target_shape} ({known} per example)")
        return tuple(target)

    def call(self, inputs):
        return _batch_reshape(inputs, self._resolved(inputs.shape))

    def compute_output_shape(self, input_shape):
        t = self._resolved(input_shape)
        return (tuple(input_shape)[0],) + tuple(None if d == -1 else d for d in t)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config


class Permute(Layer):
    """Permutes the non-batch dimensions of the input.

    Args:
      dims: permutation of ``1..rank-1`` (1-indexed; the batch axis stays first).

    Example:
      >>> tl.keras.layers.Permute((2, 1))(tl.ones((2, 3, 4))).shape
      TensorShape([2, 4, 3])
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: `dims` must be a permutation of 1..{len(self.dims)} "
                             f"(the batch axis is 0 and stays first); received dims={tuple(dims)}")

    def call(self, inputs):
        check_ndim(self, inputs, ndim=len(self.dims) + 1)
        return tl.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        return (s[0],) + tuple(s[d] for d in self.dims)

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    Example:
      >>> tl.keras.layers.RepeatVector(3)(tl.ones((2, 4))).shape
      TensorShape([2, 3, 4])
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n = int(n)

    def call(self, inputs):
        check_ndim(self, inputs, ndim=2)
        x = _batch_reshape(inputs, (1, inputs.shape[1]))
        return tl.tile(x, (1, self.n, 1))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


def _pairs(value, name):
    """Keras' 2-D padding/cropping argument: int, (sym_h, sym_w) or ((t, b), (l, r))."""
    if isinstance(value, int):
        return ((value, value), (value, value))
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f"`{name}` should have two elements; received {value!r}")
    out = []
    for v in value:
        out.append((v, v) if isinstance(v, int) else normalize_tuple(v, 2, name, allow_zero=True))
    if any(a < 0 for p in out for a in p):
        raise ValueError(f"`{name}` values must be >= 0; received {value!r}")
    return tuple(tuple(int(a) for a in p) for p in out)


class ZeroPadding2D(Layer):
    """Pads the rows and columns of an image with zeros.

    Args:
      padding: int, ``(pad_h, pad_w)`` or ``((top, bottom), (left, right))``.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.ZeroPadding2D(1)(tl.ones((1, 2, 2, 3))).shape
      TensorShape([1, 4, 4, 3])
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, "padding")
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        check_ndim(self, inputs, ndim=4)
        (t, b), (l, r) = self.padding
        if self.data_format == "channels_last":
            pads = [[0, 0], [t, b], [l, r], [0, 0]]
        else:
            pads = [[0, 0], [0, 0], [t, b], [l, r]]
        return tl.pad(inputs, pads)

    def compute_output_shape(self, input_shape):
        s = list(input_shape)
        h, w = (1, 2) if self.data_format == "channels_last" else (2, 3)
        (t, b), (l, r) = self.padding
        s[h] = None if s[h] is None else s[h] + t + b
        s[w] = None if s[w] is None else s[w] + l + r
        return tuple(s)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class Cropping2D(Layer):
    """Crops rows and columns off the borders of an image.

    Args:
      cropping: int, ``(crop_h, crop_w)`` or ``((top, bottom), (left, right))``.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> tl.keras.layers.Cropping2D(((1, 0), (0, 2)))(tl.ones((1, 5, 5, 3))).shape
      TensorShape([1, 4, 3, 3])
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, "cropping")
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        check_ndim(self, inputs, ndim=4)
        hs, ws = self._check(inputs.shape)
        if self.data_format == "channels_last":
            return tl.slice(inputs, [0, hs[0], ws[0], 0], [-1, hs[1], ws[1], -1])
        return tl.slice(inputs, [0, 0, hs[0], ws[0]], [-1, -1, hs[1], ws[1]])

    def _check(self, shape):
        h, w = (shape[1], shape[2]) if self.data_format == "channels_last" else (shape[2], shape[3])
        (t, b), (l, r) = self.cropping
        for size, (a, z), what in ((h, (t, b), "height"), (w, (l, r), "width")):
            if size is not None and a + z >= size:
                raise ValueError(f'Layer "{self.name}" (Cropping2D): cropping {self.cropping} removes the whole '
                                 f"{what} of an input of shape {shape_str(tuple(shape))}")
        if h is None or w is None:
            raise ValueError(f'Layer "{self.name}" (Cropping2D) needs known height and width; received '
                             f"input shape {shape_str(tuple(shape))}")
        return (t, h - t - b), (l, w - l - r)

    def compute_output_shape(self, input_shape):
        s = list(input_shape)
        h, w = (1, 2) if self.data_format == "channels_last" else (2, 3)
        (t, b), (l, r) = self.cropping
        s[h] = None if s[h] is None else s[h] - t - b
        s[w] = None if s[w] is None else s[w] - l - r
        return tuple(s)

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config


class UpSampling2D(Layer):
    """Repeats rows and columns of an image (nearest) or interpolates them (bilinear).

    Args:
      size: int or ``(rows, cols)`` upsampling factors.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      interpolation: ``"nearest"`` (default) or ``"bilinear"``.

    Example:
      >>> tl.keras.layers.UpSampling2D(2)(tl.ones((1, 2, 3, 1))).shape
      TensorShape([1, 4, 6, 1])
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 2, "size")
        self.data_format = normalize_data_format(data_format)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError("UpSampling2D: `interpolation` must be 'nearest' or 'bilinear'; "
                             f"received {interpolation!r}")
        self.interpolation = interpolation

    def call(self, inputs):
        check_ndim(self, inputs, ndim=4)
        x = inputs
        if self.data_format == "channels_first":
            x = to_channels_last(x, 2)
        _, h, w, c = x.shape
        if h is None or w is None or c is None:
            raise ValueError(f'Layer "{self.name}" (UpSampling2D) needs known height, width and channels; '
                             f"received input shape {shape_str(tuple(inputs.shape))}")
        sh, sw = self.size
        if self.interpolation == "nearest":
            x = _batch_reshape(x, (h, 1, w, 1, c))
            x = tl.tile(x, (1, 1, sh, 1, sw, 1))
            x = _batch_reshape(x, (h * sh, w * sw, c))
        else:
            x = _bilinear(x, h, w, c, sh, sw)
        if self.data_format == "channels_first":
            x = to_channels_first(x, 2)
        return x

    def compute_output_shape(self, input_shape):
        s = list(input_shape)
        h, w = (1, 2) if self.data_format == "channels_last" else (2, 3)
        s[h] = None if s[h] is None else s[h] * self.size[0]
        s[w] = None if s[w] is None else s[w] * self.size[1]
        return tuple(s)

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format, "interpolation": self.interpolation})
        return config


def _interp_matrix(n_in, scale, dtype):
    """``(n_out, n_in)`` weights of half-pixel-centred linear interpolation."""
    n_out = n_in * scale
    src = (tl.cast(tl.range(n_out), tl.float64) + 0.5) / scale - 0.5
    src = tl.clip_by_value(src, 0.0, float(n_in - 1))
    lo = tl.floor(src)
    frac = src - lo
    lo_i = tl.cast(lo, tl.int32)
    hi_i = tl.minimum(lo_i + 1, n_in - 1)
    m = tl.one_hot(lo_i, n_in, dtype=tl.float64) * tl.reshape(1.0 - frac, (-1, 1)) \
        + tl.one_hot(hi_i, n_in, dtype=tl.float64) * tl.reshape(frac, (-1, 1))
    return tl.cast(m, dtype)


def _bilinear(x, h, w, c, sh, sw):
    mh = _interp_matrix(h, sh, x.dtype)          # (H', H)
    mw = _interp_matrix(w, sw, x.dtype)          # (W', W)
    # Rows: (H', H) @ (H, W*C) per example; columns likewise after a transpose.
    y = tl.transpose(x, (1, 0, 2, 3))            # (H, B, W, C)
    y = tl.reshape(tl.matmul(mh, tl.reshape(y, (h, -1))), (h * sh, -1, w, c))
    y = tl.transpose(y, (2, 1, 0, 3))            # (W, B, H', C)
    y = tl.reshape(tl.matmul(mw, tl.reshape(y, (w, -1))), (w * sw, -1, h * sh, c))
    return tl.transpose(y, (1, 2, 0, 3))         # (B, H', W', C)


class UpSampling1D(Layer):
    """Repeats each step of a sequence ``size`` times along the time axis.

    Args:
      size: positive int, the upsampling factor (default 2).

    Input shape ``(batch, steps, features)``; output ``(batch, steps * size, features)``.

    Example:
      >>> tl.keras.layers.UpSampling1D(3)(tl.ones((2, 4, 5))).shape
      TensorShape([2, 12, 5])
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError(f"UpSampling1D: `size` must be a positive integer; received size={size!r}")
        self.size = size

    def call(self, inputs):
        check_ndim(self, inputs, ndim=3)
        return tl.repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        return (s[0], None if s[1] is None else s[1] * self.size, s[2])

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


class ZeroPadding1D(Layer):
    """Pads a sequence with zeros at the start and end of the time axis.

    Args:
      padding: int (the same on both sides) or ``(left, right)`` (default 1).
      data_format: ``"channels_last"`` (default, ``(batch, steps, features)``) or
        ``"channels_first"`` (``(batch, features, steps)``).

    Example:
      >>> tl.keras.layers.ZeroPadding1D((1, 2))(tl.ones((2, 4, 3))).shape
      TensorShape([2, 7, 3])
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = normalize_tuple(padding, 2, "padding", allow_zero=True)
        self.data_format = normalize_data_format(data_format)

    def call(self, inputs):
        check_ndim(self, inputs, ndim=3)
        pads = [[0, 0], list(self.padding), [0, 0]] if self.data_format == "channels_last" else \
            [[0, 0], [0, 0], list(self.padding)]
        return tl.pad(inputs, pads)

    def compute_output_shape(self, input_shape):
        s = list(input_shape)
        t = 1 if self.data_format == "channels_last" else 2
        s[t] = None if s[t] is None else s[t] + sum(self.padding)
        return tuple(s)

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config


class Cropping1D(Layer):
    """Crops steps off the start and end of a ``(batch, steps, features)`` sequence.

    Args:
      cropping: int (the same on both sides) or ``(start, end)`` (default ``(1, 1)``).

    Example:
      >>> tl.keras.layers.Cropping1D((1, 2))(tl.ones((2, 6, 3))).shape
      TensorShape([2, 3, 3])
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = normalize_tuple(cropping, 2, "cropping", allow_zero=True)

    def _check_length(self, shape):
        if shape[1] is not None and sum(self.cropping) >= shape[1]:
            raise ValueError(f'Layer "{self.name}" (Cropping1D): cropping {self.cropping} must remove fewer steps '
                             f"than the input has; received input shape {shape_str(tuple(shape))}")

    def call(self, inputs):
        check_ndim(self, inputs, ndim=3)
        self._check_length(inputs.shape)
        start, end = self.cropping
        return inputs[:, start:(-end if end else None), :]

    def compute_output_shape(self, input_shape):
        s = tuple(input_shape)
        self._check_length(s)
        return (s[0], None if s[1] is None else s[1] - sum(self.cropping), s[2])

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config
