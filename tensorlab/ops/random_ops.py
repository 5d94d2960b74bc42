"""Random numbers (``tl.random``): seeds, ``Generator`` and the sampling ops.

Sampling primitives are creation primitives (no tensor inputs, except the
value to shuffle or the logits to sample from) run on the current device.
Their ``gen`` param is the device's backend generator (numpy's PCG64 on the
CPU, CuPy's on a GPU); each backend registers how to make one from an
integer seed with ``@generator_factory(kind)``.

Seeds follow TF 2:

* neither a global nor an op seed: fresh, unpredictable numbers;
* ``tl.random.set_seed(s)``: the sequence of random ops that follows is
  reproducible (re-running ``set_seed(s)`` replays it);
* an op ``seed``: that op draws from its own stream, determined by the pair
  (global seed, op seed), so it is reproducible whatever ran before it.
"""
import hashlib
import os

from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite, not_differentiable, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable
from tensorlab.errors import InvalidArgumentError, UnimplementedError
from tensorlab.ops._rules import FLOATS, fmt, require_float, t, tf

_INT_DTYPES = frozenset({dt.int32, dt.int64})
_DEFAULT_GLOBAL_SEED = 87654321  # TF's seed when only an op seed is given

# ----------------------------------------------------------------- backend generators
_FACTORIES = {}


def generator_factory(kind):
    """Decorator registering ``fn(seed: int) -> backend generator`` for device kind ``kind``."""
    def deco(fn):
        _FACTORIES[kind] = fn
        return fn
    return deco


_STATE_IO = {}  # kind -> (get(gen) -> JSON-able state, set(gen, state))


def generator_state_io(kind, get, set_):
    """Registers how to read and restore the position of kind ``kind``'s backend generators
    (for ``get_global_state``); kinds without one restart from their seeds on restore."""
    _STATE_IO[kind] = (get, set_)


def _mix(*parts):
    """A 63-bit seed from any tuple of ints/strings (stable across runs and platforms)."""
    h = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(h[:8], "little") >> 1


def _state_seed(state):
    """The seed a TF-style RNG state (an int, or a list or 1-D tensor of ints) stands for."""
    if isinstance(state, (Tensor, Variable)):
        state = state.numpy().tolist()
    if isinstance(state, (list, tuple)):
        return _mix(*(int(s) for s in state))
    return int(state)


def _fresh_seed():
    return int.from_bytes(os.urandom(8), "little") >> 1


# ----------------------------------------------------------------- primitives
random_normal_p = primitive("random_normal", lambda shape, mean, stddev, dtype, gen: TensorSpec(shape, dtype))
random_uniform_p = primitive("random_uniform", lambda shape, minval, maxval, dtype, gen: TensorSpec(shape, dtype))
truncated_normal_p = primitive("truncated_normal",
                               lambda shape, mean, stddev, dtype, gen: TensorSpec(shape, dtype))
random_uniform_full_int_p = primitive("random_uniform_full_int", lambda shape, dtype, gen: TensorSpec(shape, dtype))


def _categorical_rule(logits, num_samples, dtype, gen):
    require_float("categorical", logits)
    if len(logits.shape) != 2:
        raise InvalidArgumentError(f"categorical: logits must be 2-D [batch_size, num_classes], got shape "
                                   f"{fmt(logits.shape)}")
    return TensorSpec((logits.shape[0], num_samples), dtype)


random_shuffle_p = primitive("random_shuffle", lambda x, gen: TensorSpec(x.shape, x.dtype))
categorical_p = primitive("categorical", _categorical_rule)
not_differentiable(random_normal_p, random_uniform_p, truncated_normal_p, random_shuffle_p, categorical_p,
                   random_uniform_full_int_p)


# ----------------------------------------------------------------- argument checks
def _key_counter_state(key, counter):
    if isinstance(counter, (Tensor, Variable)):
        counter = counter.numpy().tolist()
    return list(counter) + [int(_scalar(key))]


def _shape_arg(name, shape):
    if isinstance(shape, (Tensor, Variable)):
        shape = shape.numpy().tolist()
    if isinstance(shape, int):
        shape = [shape]
    try:
        shape = tuple(int(s) for s in shape)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"{name}: shape must be a list of non-negative integers, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise InvalidArgumentError(f"{name}: shape {list(shape)} has a negative dimension")
    return shape


def _scalar(v):
    return v.numpy().item() if isinstance(v, (Tensor, Variable)) else v


def _float_dtype(name, dtype):
    d = dt.as_dtype(dtype)
    if d not in FLOATS:
        raise TypeError(f"{name}: dtype must be a floating-point type (float16, bfloat16, float32, float64), "
                        f"got {d.name}")
    return d


# ----------------------------------------------------------------- Generator
class Generator:
    """A random-number generator with its own state, like ``tf.random.Generator``.

    It keeps one backend generator per device (numpy PCG64 on the CPU, CuPy's
    on a GPU), all seeded from the same seed, and samples on the current
    device. The same seed gives the same numbers on the same kind of device.

    Example:
      >>> g = tl.random.Generator.from_seed(1234)
      >>> a = g.normal([2, 3])
      >>> tl.random.Generator.from_seed(1234).normal([2, 3])   # equal to a
    """

    def __init__(self, copy_from=None, state=None, alg=None, seed=None):
        if copy_from is not None:
            seed = copy_from._seed
        elif state is not None:
            seed = _state_seed(state)
        self._seed = _fresh_seed() if seed is None else int(seed)
        self._gens = {}
        self._splits = 0

    @classmethod
    def from_seed(cls, seed, alg=None):
        """A generator whose numbers are determined by the integer ``seed``."""
        if isinstance(seed, (Tensor, Variable)):
            seed = int(seed)
        return cls(seed=_mix("generator", int(seed)))

    @classmethod
    def from_non_deterministic_state(cls, alg=None):
        """A generator seeded from the operating system's entropy."""
        return cls(seed=_fresh_seed())

    @classmethod
    def from_state(cls, state, alg=None):
        """A generator determined by ``state`` (an int, or a list or 1-D tensor of ints)."""
        return cls(state=state)

    @classmethod
    def from_key_counter(cls, key, counter, alg=None):
        """A generator determined by an integer ``key`` and a list of integers ``counter``
        (the same as ``from_state(counter + [key])``, TF's state layout)."""
        return cls(state=_key_counter_state(key, counter))

    def _restart(self, seed):
        self._seed = seed
        self._gens = {}
        self._splits = 0

    def reset(self, state):
        """Restarts this generator as ``Generator.from_state(state)``."""
        self._restart(_state_seed(state))

    def reset_from_seed(self, seed):
        """Restarts this generator as ``Generator.from_seed(seed)``."""
        self._restart(_mix("generator", int(_scalar(seed))))

    def reset_from_key_counter(self, key, counter):
        """Restarts this generator as ``Generator.from_key_counter(key, counter)``."""
        self._restart(_state_seed(_key_counter_state(key, counter)))

    def _backend(self, dev):
        """This generator's backend generator on ``dev`` (made on first use)."""
        if dev.kind == "symbolic":
            dev = _dev.default_device()
        g = self._gens.get(dev)
        if g is None:
            dev.backend  # importing the backend registers its generator factory
            make = _FACTORIES.get(dev.kind)
            if make is None:
                raise UnimplementedError(f"random: no generator is registered for {dev.kind} devices")
            if dev.needs_context:
                with dev.context():
                    g = make(self._seed)
            else:
                g = make(self._seed)
            self._gens[dev] = g
        return dev, g

    def normal(self, shape, mean=0.0, stddev=1.0, dtype=dt.float32, name=None):
        """Samples from a normal distribution with ``mean`` and ``stddev``."""
        d = _float_dtype("normal", dtype)
        dev, g = self._backend(_dev.current())
        return random_normal_p.create(dev, shape=_shape_arg("normal", shape), mean=float(_scalar(mean)),
                                      stddev=float(_scalar(stddev)), dtype=d, gen=g)

    def uniform(self, shape, minval=0, maxval=None, dtype=dt.float32, name=None):
        """Samples uniformly from ``[minval, maxval)``; integer dtypes need ``maxval``.

        Raises:
          ValueError: an integer ``dtype`` without ``maxval``.
          InvalidArgumentError: ``minval >= maxval`` for integers.
        """
        d = dt.as_dtype(dtype)
        minval = _scalar(minval)
        maxval = _scalar(maxval)
        if d in _INT_DTYPES:
            if minval is None and maxval is None:
                return self.uniform_full_int(shape, d)
            if minval is None:
                raise ValueError(f"uniform: for integer dtype {d.name}, give both minval and maxval, or neither "
                                 f"(the dtype's full range); got minval=None and maxval={maxval!r}")
            if maxval is None:
                raise ValueError(f"uniform: must specify maxval for integer dtype {d.name}")
            minval, maxval = int(minval), int(maxval)
            if minval >= maxval:
                raise InvalidArgumentError(f"uniform: need minval < maxval for integers, got minval={minval} "
                                           f"and maxval={maxval}")
        elif d in FLOATS:
            minval, maxval = float(minval), float(1.0 if maxval is None else maxval)
        else:
            raise TypeError(f"uniform: dtype {d.name} is not supported; valid dtypes: float16, bfloat16, "
                            "float32, float64, int32, int64")
        dev, g = self._backend(_dev.current())
        return random_uniform_p.create(dev, shape=_shape_arg("uniform", shape), minval=minval, maxval=maxval,
                                       dtype=d, gen=g)

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=dt.float32, name=None):
        """Normal samples, redrawn until within two standard deviations of ``mean``."""
        d = _float_dtype("truncated_normal", dtype)
        dev, g = self._backend(_dev.current())
        return truncated_normal_p.create(dev, shape=_shape_arg("truncated_normal", shape),
                                         mean=float(_scalar(mean)), stddev=float(_scalar(stddev)), dtype=d, gen=g)

    def uniform_full_int(self, shape, dtype=dt.int64, name=None):
        """Integers drawn uniformly from the whole range of ``dtype`` (int32 or int64).

        TF's default dtype is uint64, which tensorlab does not have: the default is int64.
        """
        d = dt.as_dtype(dtype)
        if d not in _INT_DTYPES:
            raise TypeError(f"uniform_full_int: dtype must be int32 or int64, got {d.name}")
        dev, g = self._backend(_dev.current())
        return random_uniform_full_int_p.create(dev, shape=_shape_arg("uniform_full_int", shape), dtype=d, gen=g)

    def binomial(self, shape, counts, probs, dtype=dt.int32, name=None):
        """Binomial samples of ``shape``: successes in ``counts`` trials of success probability ``probs``.

        Args:
          shape: the output shape.
          counts, probs: tensors of one dtype (float or int32/int64), broadcastable with each other
            and with the rightmost dimensions of ``shape``; counts are whole numbers in [0, 2**31),
            probs in [0, 1].
          dtype: the output dtype: float16, float32, float64, int32 or int64.

        Example:
          >>> tl.random.Generator.from_seed(1).binomial([4, 2], counts=[10.0, 20.0], probs=0.5)
        """
        from tensorlab.ops.random_distributions import draw_binomial  # that module imports this one
        return draw_binomial(self, "binomial", shape, counts, probs, dtype)

    def make_seeds(self, count=1):
        """``count`` new seed pairs, an int64 tensor of shape ``[2, count]``."""
        return self.uniform_full_int([2, int(count)], dt.int64)

    def split(self, count=1):
        """``count`` new generators with independent streams derived from this one."""
        self._splits += 1
        return [Generator(seed=_mix(self._seed, "split", self._splits, i)) for i in range(int(count))]

    def shuffle(self, value):
        """Randomly permutes ``value`` along its first dimension."""
        x = t(value)
        dev, g = self._backend(x._device)
        return random_shuffle_p(x, gen=g)

    def categorical(self, logits, num_samples, dtype=None):
        """Samples class indices ``[batch, num_samples]`` from 2-D ``logits``."""
        x = tf(logits, "categorical")
        dev, g = self._backend(x._device)
        return categorical_p(x, num_samples=int(num_samples),
                             dtype=dt.int64 if dtype is None else dt.as_dtype(dtype), gen=g)

    def __repr__(self):
        return f"<tl.random.Generator seed={self._seed}>"

    # ------------------------------------------------------------- state (see get_global_state)
    def _state(self):
        streams = {}
        for dev, g in self._gens.items():
            io = _STATE_IO.get(dev.kind)
            if io is not None:
                streams[dev.name] = io[0](g)
        return {"seed": self._seed, "splits": self._splits, "devices": streams}

    @classmethod
    def _from_state(cls, state):
        gen = cls(seed=int(state["seed"]))
        gen._splits = int(state["splits"])
        for name, st in state["devices"].items():
            dev, g = gen._backend(_dev.parse(name))
            _STATE_IO[dev.kind][1](g, st)
        return gen


# ----------------------------------------------------------------- global seed and streams
class _Seeds:
    global_seed = None
    streams = {}          # (global seed, op seed or None) -> Generator
    unseeded = None       # the stream used when no seed at all is set
    global_generator = None


def set_seed(seed):
    """Sets the global random seed, as ``tf.random.set_seed``.

    After ``set_seed(s)`` the random ops that follow draw a reproducible
    sequence; ops given their own ``seed`` are determined by (s, seed).
    It also restarts the global ``Generator`` from ``s``.

    Example:
      >>> tl.random.set_seed(7); a = tl.random.uniform([2])
      >>> tl.random.set_seed(7); b = tl.random.uniform([2])   # equal to a
    """
    _Seeds.global_seed = None if seed is None else int(_scalar(seed))
    _Seeds.streams = {}
    _Seeds.global_generator = None


def _op_generator(seed):
    g = _Seeds.global_seed
    if seed is None and g is None:
        if _Seeds.unseeded is None:
            _Seeds.unseeded = Generator.from_non_deterministic_state()
        return _Seeds.unseeded
    if seed is not None:
        seed = int(_scalar(seed))
    key = (_DEFAULT_GLOBAL_SEED if g is None else g, seed)
    gen = _Seeds.streams.get(key)
    if gen is None:
        gen = _Seeds.streams[key] = Generator(seed=_mix("op", *key))
    return gen


def get_global_generator():
    """The global ``Generator`` (seeded by ``set_seed`` if one was set, else non-deterministic)."""
    if _Seeds.global_generator is None:
        g = _Seeds.global_seed
        _Seeds.global_generator = (Generator.from_non_deterministic_state() if g is None
                                   else Generator.from_seed(g))
    return _Seeds.global_generator


def get_global_state():
    """The state of tl.random's global streams, as JSON-serializable data.

    It holds the global seed and, for every stream drawn from so far (the global
    ``Generator``, each op-seed stream, the unseeded stream), its seed and its
    position on each CPU device. ``set_global_state`` puts it back, so that the
    random ops that follow (e.g. Dropout's) draw what they would have drawn: this
    is what ``BackupAndRestore`` saves. Streams on a GPU restart from their seeds.
    """
    def gen(g):
        return None if g is None else g._state()
    return {"global_seed": _Seeds.global_seed,
            "streams": [[k[0], k[1], g._state()] for k, g in _Seeds.streams.items()],
            "unseeded": gen(_Seeds.unseeded), "global_generator": gen(_Seeds.global_generator)}


def set_global_state(state):
    """Restores the streams saved by ``get_global_state``."""
    def gen(st):
        return None if st is None else Generator._from_state(st)
    try:
        _Seeds.global_seed = state["global_seed"]
        _Seeds.streams = {(k0, k1): Generator._from_state(st) for k0, k1, st in state["streams"]}
        _Seeds.unseeded = gen(state["unseeded"])
        _Seeds.global_generator = gen(state["global_generator"])
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"tl.random.set_global_state: not a state from get_global_state ({e})") from None


def set_global_generator(generator):
    """Replaces the global ``Generator``."""
    if not isinstance(generator, Generator):
        raise TypeError(f"set_global_generator: expected a tl.random.Generator, got {type(generator).__name__}")
    _Seeds.global_generator = generator


# ----------------------------------------------------------------- sampling ops
def normal(shape, mean=0.0, stddev=1.0, dtype=dt.float32, seed=None, name=None):
    """Samples from a normal distribution on the current device.

    Args:
      shape: the output shape (list of ints or 1-D int tensor).
      mean, stddev: the distribution's mean and standard deviation.
      dtype: a float dtype.
      seed: op-level seed (see ``set_seed``).

    Returns:
      A tensor of ``shape`` and ``dtype``.

    Example:
      >>> tl.random.normal([2, 3], seed=1).shape
      TensorShape([2, 3])
    """
    return _op_generator(seed).normal(shape, mean, stddev, dtype)


def uniform(shape, minval=0, maxval=None, dtype=dt.float32, seed=None, name=None):
    """Samples uniformly from ``[minval, maxval)`` (``maxval`` defaults to 1 for floats).

    Args:
      shape: the output shape.
      minval, maxval: the range; integer dtypes (int32, int64) need ``maxval``.
      dtype: float16/bfloat16/float32/float64/int32/int64.
      seed: op-level seed.

    Raises:
      ValueError: an integer ``dtype`` without ``maxval``.

    Example:
      >>> tl.random.uniform([4], maxval=10, dtype=tl.int32)
    """
    return _op_generator(seed).uniform(shape, minval, maxval, dtype)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dt.float32, seed=None, name=None):
    """Normal samples with values beyond two standard deviations redrawn.

    Example:
      >>> w = tl.random.truncated_normal([64, 32], stddev=0.05)
    """
    return _op_generator(seed).truncated_normal(shape, mean, stddev, dtype)


def shuffle(value, seed=None, name=None):
    """Randomly permutes ``value`` along its first dimension.

    Example:
      >>> tl.random.shuffle(tl.range(5))   # e.g. [3, 0, 4, 1, 2]
    """
    return _shuffle(t(value), seed=op_seed(seed))


# On Functional-API tensors these run as composites, so that a model draws from the op-seed stream that
# stands when it runs (after a set_seed too), on the data's device, as the eager op does on each call.
@composite("shuffle", lambda x, seed: TensorSpec(x.shape, x.dtype))
def _shuffle(x, seed):
    return _op_generator(seed).shuffle(x)


@composite("categorical", lambda x, num_samples, dtype, seed: _categorical_rule(x, num_samples, dtype, None))
def _categorical(x, num_samples, dtype, seed):
    return _op_generator(seed).categorical(x, num_samples, dtype)


def categorical(logits, num_samples, dtype=None, seed=None, name=None):
    """Draws ``num_samples`` class indices per row of 2-D ``logits`` (unnormalized log-probabilities).

    Returns:
      An int64 (or ``dtype``) tensor of shape ``[batch_size, num_samples]``.
    """
    return _categorical(tf(logits, "categorical"), num_samples=int(num_samples),
                        dtype=dt.int64 if dtype is None else dt.as_dtype(dtype), seed=op_seed(seed))


# ----------------------------------------------------------------- stateless sampling
def _stateless(name, seed):
    """The generator that ``seed`` (a shape-[2] integer tensor or pair) determines."""
    if isinstance(seed, (Tensor, Variable)):
        if not seed.dtype.is_integer or seed.dtype.is_bool:
            raise TypeError(f"{name}: seed must be an int32 or int64 tensor, got dtype {seed.dtype.name}")
        shape, seed = tuple(seed.shape), seed.numpy().tolist()
    else:
        try:
            shape = (len(seed),)
        except TypeError:
            shape = ()
    if shape != (2,):
        raise InvalidArgumentError(f"{name}: seed must have shape [2], got {list(shape)}")
    if not all(isinstance(s, int) or (hasattr(s, "dtype") and getattr(s.dtype, "kind", "") in "iu")
               for s in seed):
        raise TypeError(f"{name}: seed must be a pair of integers, got {seed!r}")
    return Generator(seed=_mix("stateless", int(seed[0]), int(seed[1])))


def op_seed(seed):
    """An op-level ``seed`` (None, an int or an eager integer scalar) as None or a Python int, to keep as a
    registry composite's param: the composite draws from that op seed's stream each time it runs."""
    return None if seed is None else int(_scalar(seed))


def stateless_seed_inputs(name, seed):
    """A stateless ``seed`` for a registry composite, as ``(tensor inputs, param)``.

    A symbolic seed (a Functional-API tensor) travels as the composite's extra input: ``((seed,), None)``.
    Any other is checked now and kept as the param: a pair of Python ints, or a ``tl.Variable`` (read each
    time the composite runs, so a seed variable that changes keeps changing the draws). Either way the
    composite rebuilds the seed's generator every time it runs, as the eager op does on every call.
    """
    if isinstance(seed, SymbolicTensor):
        stateless_seed_spec(name, seed)
        return (seed,), None
    _stateless(name, seed)  # checks it
    if isinstance(seed, Variable):
        return (), seed
    values = seed.numpy().tolist() if isinstance(seed, Tensor) else seed
    return (), (int(values[0]), int(values[1]))


def stateless_seed_of(inputs, param):
    """The seed that ``stateless_seed_inputs`` split: the extra tensor input if there is one, else the param."""
    return inputs[0] if inputs else param


def stateless_seed_spec(name, *seed_specs):
    """Shape-rule check of a symbolic seed input (none when the seed is a param)."""
    for s in seed_specs:
        if not s.dtype.is_integer or s.dtype.is_bool or len(s.shape) != 1 or s.shape[0] not in (2, None):
            raise InvalidArgumentError(f"{name}: seed must be a shape-[2] int32/int64 tensor, got shape "
                                       f"{fmt(s.shape)} and dtype {s.dtype.name}")


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype=dt.float32, name=None, alg="auto_select"):
    """Uniform samples from ``[minval, maxval)`` determined by ``seed`` alone (``tf.random.stateless_uniform``).

    The same ``seed`` gives the same numbers on every call (on the same kind
    of device); different seeds give independent streams. The numbers come
    from tensorlab's generators, so they differ from TF's Philox values.

    Args:
      shape: the output shape.
      seed: a shape-[2] int32/int64 tensor or a pair of integers.
      minval, maxval: the range (``maxval`` defaults to 1 for floats); for integer
        dtypes (int32, int64) give both, or both ``None`` for the dtype's full range.
      dtype: float16/bfloat16/float32/float64/int32/int64.

    Raises:
      ValueError: an integer ``dtype`` with only one of ``minval`` and ``maxval``.

    Example:
      >>> a = tl.random.stateless_uniform([2, 3], seed=[1, 2])
      >>> b = tl.random.stateless_uniform([2, 3], seed=[1, 2])   # equal to a
      >>> tl.random.stateless_uniform([2], seed=[1, 2], minval=None, maxval=None, dtype=tl.int64)  # full range
    """
    d = dt.as_dtype(dtype)
    if d in _INT_DTYPES and (minval is None) != (maxval is None):
        raise ValueError(f"stateless_uniform: for integer dtype {d.name}, give both minval and maxval, or neither "
                         f"(the dtype's full range); got minval={minval!r} and maxval={maxval!r}")
    if d not in _INT_DTYPES and minval is None:
        minval = 0
    return _stateless("stateless_uniform", seed).uniform(shape, minval, maxval, dtype)


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dt.float32, name=None, alg="auto_select"):
    """Normal samples determined by ``seed`` alone (``tf.random.stateless_normal``).

    The same ``seed`` gives the same numbers on every call (on the same kind
    of device); the numbers differ from TF's Philox values.

    Args:
      shape: the output shape.
      seed: a shape-[2] int32/int64 tensor or a pair of integers.
      mean, stddev: the distribution's mean and standard deviation.
      dtype: a float dtype.

    Example:
      >>> tl.random.stateless_normal([3], seed=(7, 0)).shape
      TensorShape([3])
    """
    return _stateless("stateless_normal", seed).normal(shape, mean, stddev, dtype)


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dt.float32, name=None,
                               alg="auto_select"):
    """``truncated_normal`` samples determined by ``seed`` alone (``tf.random.stateless_truncated_normal``)."""
    return _stateless("stateless_truncated_normal", seed).truncated_normal(shape, mean, stddev, dtype)


__all__ = []
RANDOM = ["set_seed", "normal", "uniform", "truncated_normal", "shuffle", "categorical", "Generator",
          "get_global_generator", "set_global_generator", "get_global_state", "set_global_state",
          "stateless_uniform", "stateless_normal", "stateless_truncated_normal"]
