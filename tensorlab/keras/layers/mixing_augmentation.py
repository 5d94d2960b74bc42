"""Mixing augmentation layers (Keras 3's): MixUp and CutMix.

They take a channels_last batch ``(batch, height, width, channels)`` (channels
first with ``data_format="channels_first"``) or a dict ``{"images": ...,
"labels": ...}``, and in training (a direct call defaults to
``training=True``) mix each image with the image at a random permutation of the
batch, mixing the labels in the same proportions (labels are cast to the
layer's dtype). Draws come from the layer's ``seed`` (or ``tl.random``'s global
stream); the Beta draws are ``tl.random.stateless_gamma`` ratios seeded from that stream.
"""
import tensorlab as tl
from tensorlab.keras.layers._common import is_symbolic, shape_str
from tensorlab.keras.layers.geometric_augmentation import _box_mask, _span
from tensorlab.keras.layers.image_augmentation import _RandomImageLayer
from tensorlab.keras.layers.preprocessing import from_channels_last_image, image_hw, to_channels_last_image

_SEED_MAX = 2 ** 31 - 1


class _MixingLayer(_RandomImageLayer):
    """Images (and labels) in, the same structure out; ``_mix`` gets a channels_last batch and returns the mixed
    images, each image's weight in its labels ``[n]`` and the permutation."""

    _FACTOR_BOUNDS = (0, 1)

    def call(self, inputs, training=True):
        data = dict(inputs) if isinstance(inputs, dict) else {"images": inputs}
        extra = sorted(set(data) - {"images", "labels"})
        if "images" not in data or extra:
            raise ValueError(f"{type(self).__name__}: a dict input must have an 'images' entry and may have "
                             f"'labels'; received keys {sorted(data)}")
        if not training or is_symbolic(data["images"]):
            return inputs
        x = to_channels_last_image(self, tl.cast(data["images"], self.compute_dtype))
        image_hw(self, x)
        if len(x.shape) == 3:  # one image: nothing to mix with
            return inputs
        labels = data.get("labels")
        if labels is not None:
            labels = tl.cast(labels, self.compute_dtype)
            if len(labels.shape) == 0 or labels.shape[0] != x.shape[0]:
                raise ValueError(f'Layer "{self.name}" ({type(self).__name__}): the labels must have one row per '
                                 f"image; received images of shape {shape_str(tuple(x.shape))} and labels of shape "
                                 f"{shape_str(tuple(labels.shape))}")
        y, weight, perm = self._mix(x)
        out = {"images": from_channels_last_image(self, y)}
        if labels is not None:
            w = tl.reshape(weight, [-1] + [1] * (len(labels.shape) - 1))
            out["labels"] = w * labels + (1.0 - w) * tl.gather(labels, perm)
        return out if isinstance(inputs, dict) else out["images"]

    def _source(self):
        return tl.random if self._generator is None else self._generator

    def _permutation(self, x):
        with tl.device(x.device):
            return self._source().shuffle(tl.range(x.shape[0]))

    def _beta(self, x, alpha):
        """``n`` draws from Beta(alpha, alpha) (``alpha`` a number or scalar tensor): ``g1 / (g1 + g2)``."""
        with tl.device(x.device):
            seeds = self._source().uniform([2, 2], 0, _SEED_MAX, dtype=tl.int32)
            a = tl.cast(alpha, tl.float32) if isinstance(alpha, tl.Tensor) else tl.constant(float(alpha))
            g1, g2 = (tl.random.stateless_gamma([x.shape[0]], seed=seeds[i], alpha=a) for i in range(2))
        return tl.cast(g1 / (g1 + g2), x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape


class MixUp(_MixingLayer):
    """MixUp (Zhang et al., 2018): blends each image with another of the batch, in training.

    With ``w`` drawn per image from Beta(alpha, alpha) and ``perm`` a random
    permutation: ``images * w + images[perm] * (1 - w)``, and the labels
    likewise. Draws: the permutation, then the Beta samples.

    Args:
      alpha: the Beta distribution's parameter, > 0 (default 0.2; small values mix little).
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.
      seed: an integer seed for the draws.

    Example:
      >>> out = tl.keras.layers.MixUp(alpha=0.2)({"images": images, "labels": one_hot_labels})
    """

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
            raise ValueError(f"MixUp: `alpha` must be a positive number; received alpha={alpha!r}")
        self.alpha = alpha

    def _mix(self, x):
        perm = self._permutation(x)
        w = self._beta(x, self.alpha)
        ww = tl.reshape(w, [-1, 1, 1, 1])
        return ww * x + (1.0 - ww) * tl.gather(x, perm), w, perm

    def get_config(self):
        config = super().get_config()
        config.update({"alpha": self.alpha, "seed": self.seed})
        return config


class CutMix(_MixingLayer):
    """CutMix (Yun et al., 2019): pastes a rectangle of another image of the batch into each image, in training.

    ``alpha`` is drawn from ``factor``'s range (plus ``1e-6``) and ``lam`` per
    image from Beta(alpha, alpha); the rectangle is ``sqrt(1 - lam)`` of the
    width and of the height, at a uniform position, taken from
    ``images[perm]``; the labels mix by the area kept. Draws: ``alpha``, the
    Beta samples, the column starts, the row starts, the permutation.
    Unbatched images pass through.

    Args:
      factor: ``f`` in [0, 1] (``(0, f)``) or a pair: the range of ``alpha`` (default 1.0).
      seed: an integer seed for the draws.
      data_format: ``"channels_last"`` (default) or ``"channels_first"``.

    Example:
      >>> out = tl.keras.layers.CutMix()({"images": images, "labels": one_hot_labels})
    """

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = self._set_factor(factor)

    def _mix(self, x):
        n, h, w, _ = x.shape
        alpha = self._uniform(x, [], float(self.factor[0]), float(self.factor[1])) + 1e-6
        ratio = tl.sqrt(1.0 - self._beta(x, alpha))
        x0, x1 = _span(self, x, w, ratio)
        y0, y1 = _span(self, x, h, ratio)
        perm = self._permutation(x)
        mask = tl.broadcast_to(_box_mask(x, x0, x1, y0, y1), tuple(x.shape))
        kept = 1.0 - (x1 - x0) * (y1 - y0) / float(w * h)
        return tl.where(mask, tl.gather(x, perm), x), kept, perm

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "seed": self.seed})
        return config
