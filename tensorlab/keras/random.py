"""Random numbers (``keras.random``) with Keras 3's seeding rules.

``seed`` is, in every function here:

* an int: the numbers depend on the seed alone, so each call returns the same values;
* a ``SeedGenerator``: each call draws the generator's next seed, so calls differ but the
  sequence is reproducible from the generator's initial seed;
* None: a fresh seed from tensorlab's global random state (reproducible after
  ``keras.utils.set_random_seed`` / ``tl.random.set_seed``).

    from tensorlab.keras import random
    gen = random.SeedGenerator(42)
    a = random.normal((2, 3), seed=gen)
    b = random.normal((2, 3), seed=gen)   # different from a
    c = random.normal((2, 3), seed=42)    # equal to a: both used the seed pair (42, 0)
"""
import tensorlab as tl
from tensorlab.keras import backend as _backend

__all__ = ["SeedGenerator", "normal", "uniform", "truncated_normal", "randint", "dropout", "shuffle",
           "categorical", "gamma", "beta", "binomial"]

_SEED_MAX = 2 ** 31 - 1


class SeedGenerator:
    """A seed state that advances on each draw, to pass as ``seed=`` to random functions.

    Args:
      seed: the initial seed, an int; None picks one from tensorlab's global random state.
      name: the generator's name.

    Example:
      >>> gen = keras.random.SeedGenerator(seed=1337)
      >>> keras.random.dropout(x, rate=0.5, seed=gen)
    """

    _count = 0

    def __init__(self, seed=None, name=None, **kwargs):
        if kwargs:
            raise ValueError(f"SeedGenerator: unrecognized keyword arguments {sorted(kwargs)}")
        if name is None:
            SeedGenerator._count += 1
            name = f"seed_generator_{SeedGenerator._count}"
        self.name = name
        self._initial_seed = seed
        if seed is None:
            seed = int(tl.random.uniform([], 1, 10 ** 9, dtype=tl.int64))
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"SeedGenerator: seed must be an integer or None, got seed={seed!r}")
        self.state = tl.Variable([seed, 0], dtype=tl.int64, trainable=False, name="seed_generator_state")

    def next(self, ordered=True):
        """The current seed pair (a shape-[2] int64 tensor); advances the state."""
        value = self.state * 1  # a copy, not a view of the variable
        if ordered:
            self.state.assign_add([0, 1])
        else:
            self.state.assign((self.state + 1) * 5387 % 933199)
        return value

    def get_config(self):
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def draw_seed(seed):
    """The seed pair ``seed`` stands for (see the module docstring)."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return tl.constant([seed, 0], dtype=tl.int64)
    if seed is None:
        return tl.random.uniform([2], 0, _SEED_MAX, dtype=tl.int64)
    raise ValueError(f"seed must be an int, a keras.random.SeedGenerator or None, got seed={seed!r}")


def _float_dtype(name, dtype):
    dtype = tl.as_dtype(dtype or _backend.floatx())
    if not dtype.is_floating:
        raise ValueError(f"{name} requires a floating point dtype, got dtype={dtype.name}")
    return dtype


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from a normal distribution with ``mean`` and ``stddev``.

    Example:
      >>> keras.random.normal((2, 3), seed=1)
    """
    dtype = _float_dtype("normal", dtype)
    return tl.random.stateless_normal(shape, draw_seed(seed), mean=mean, stddev=stddev, dtype=dtype)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples uniformly from ``[minval, maxval)``; ``dtype`` must be a float type."""
    dtype = _float_dtype("uniform", dtype)
    return tl.random.stateless_uniform(shape, draw_seed(seed), minval=minval, maxval=maxval, dtype=dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples, redrawn where more than two ``stddev`` from ``mean``."""
    dtype = _float_dtype("truncated_normal", dtype)
    return tl.random.stateless_truncated_normal(shape, draw_seed(seed), mean=mean, stddev=stddev, dtype=dtype)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from ``[minval, maxval)``; ``dtype`` must be an integer type."""
    dt = tl.as_dtype(dtype)
    if not dt.is_integer or dt.is_bool:
        raise ValueError(f"randint requires an integer dtype, got dtype={dt.name}")
    if maxval <= minval:
        raise ValueError(f"randint: maxval must be greater than minval, got minval={minval}, maxval={maxval}")
    seed = draw_seed(seed)
    if dt in (tl.int32, tl.int64):
        return tl.random.stateless_uniform(shape, seed, minval=minval, maxval=maxval, dtype=dt)
    return tl.cast(tl.random.stateless_uniform(shape, seed, minval=minval, maxval=maxval, dtype=tl.int64), dt)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes each entry with probability ``rate`` and scales the rest by ``1 / (1 - rate)``.

    ``noise_shape`` (None entries taken from ``inputs``) shares the mask along axes of size 1.
    """
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1], got rate={rate!r}")
    x = inputs if tl.is_tensor(inputs) else tl.convert_to_tensor(inputs)
    if rate == 1.0:
        return tl.zeros_like(x)
    if rate == 0.0:
        return x
    shape = tuple(x.shape) if noise_shape is None else tuple(
        n if n is not None else x.shape[i] for i, n in enumerate(noise_shape))
    keep = 1.0 - rate
    mask = tl.less(uniform(shape, dtype=x.dtype, seed=seed), keep)
    return tl.where(mask, x / keep, tl.zeros_like(x))


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order."""
    x = x if tl.is_tensor(x) else tl.convert_to_tensor(x)
    ndim = len(x.shape)
    if not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise ValueError(f"shuffle: axis must be an int in [{-ndim}, {ndim}) for a rank-{ndim} input, got {axis!r}")
    keys = tl.random.stateless_uniform([x.shape[axis]], draw_seed(seed))
    return tl.gather(x, tl.argsort(keys), axis=axis)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draws ``num_samples`` class indices per row of 2-D ``logits`` (unnormalized log-probabilities).

    Returns a ``(batch_size, num_samples)`` integer tensor.
    """
    logits = logits if tl.is_tensor(logits) else tl.convert_to_tensor(logits)
    if len(logits.shape) != 2:
        raise ValueError("categorical: logits must be a 2-D tensor of shape [batch_size, num_classes], got shape "
                         f"{tuple(logits.shape)}")
    if not logits.dtype.is_floating:
        logits = tl.cast(logits, _backend.floatx())
    batch, classes = logits.shape
    # Gumbel-max: argmax(logits + Gumbel noise) is a sample from softmax(logits)
    u = tl.random.stateless_uniform([batch, num_samples, classes], draw_seed(seed), minval=1e-20, maxval=1.0,
                                    dtype=tl.float64)
    gumbel = tl.cast(-tl.math.log(-tl.math.log(u)), logits.dtype)
    return tl.cast(tl.argmax(tl.expand_dims(logits, 1) + gumbel, axis=-1), dtype)


def gamma(shape, alpha, dtype=None, seed=None):
    """Gamma(``alpha``, 1) samples of ``shape`` (``alpha`` a scalar or broadcastable to ``shape``)."""
    dtype = _float_dtype("gamma", dtype)
    return tl.random.stateless_gamma(shape, draw_seed(seed), alpha=alpha, dtype=dtype)


def beta(shape, alpha, beta, dtype=None, seed=None):
    """Beta(``alpha``, ``beta``) samples of ``shape``, as ``X / (X + Y)`` with X ~ Gamma(alpha), Y ~ Gamma(beta)
    (two independent seeds derived from ``seed``, as Keras)."""
    dtype = _float_dtype("beta", dtype)
    s = draw_seed(seed)
    s1, s2 = tl.random.experimental.stateless_split(s, 2)
    x = tl.random.stateless_gamma(shape, s1, alpha=alpha, dtype=dtype)
    y = tl.random.stateless_gamma(shape, s2, alpha=beta, dtype=dtype)
    return x / (x + y)


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    """Binomial(``counts``, ``probabilities``) samples of ``shape``, returned in a float ``dtype`` as Keras does."""
    dtype = _float_dtype("binomial", dtype)
    counts = tl.cast(tl.convert_to_tensor(counts), dtype)
    probabilities = tl.cast(tl.convert_to_tensor(probabilities), dtype)
    out = tl.random.stateless_binomial(shape, draw_seed(seed), counts=counts, probs=probabilities,
                                       output_dtype=tl.int64)
    return tl.cast(out, dtype)
