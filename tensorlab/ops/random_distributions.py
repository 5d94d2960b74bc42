"""Random distributions (``tl.random``): gamma, Poisson and binomial samples, their stateless
variants, ``stateless_categorical`` and ``tl.random.experimental``'s seed splitting.

The samples come from the generators of ``random_ops`` (numpy's PCG64 on the CPU, CuPy's on a
GPU) under its seeding rules (global seed, op seed, stateless seeds). They are drawn on the
device of the parameter tensors (alpha, lam, counts/probs); Python values go to the current one.

Gamma samples are differentiable in alpha by implicit reparameterization (Figurnov et al., 2018,
as TF): d sample / d alpha = -(d P(alpha, x) / d alpha) / p(alpha, x), P the regularized lower
incomplete gamma function and p the gamma density, which the ``random_gamma_grad`` primitive
computes. The gradient in beta flows through ``sample / beta``.
"""
import types

from tensorlab.core import device as _dev
from tensorlab.core import dtypes as dt
from tensorlab.core.registry import composite, defgrad, not_differentiable, primitive
from tensorlab.core.spec import TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable, as_operand, convert_to_tensor
from tensorlab.errors import InvalidArgumentError
from tensorlab.ops import elementwise as _ew
from tensorlab.ops import random_ops as _r
from tensorlab.ops import reduction as _red
from tensorlab.ops import shape as _sh
from tensorlab.ops._rules import FLOATS, broadcast_shapes, check_same_dtype, fmt, require_dtypes, t

_INTS = frozenset({dt.int32, dt.int64})
_PARAM_DTYPES = FLOATS | _INTS
_COUNT_DTYPES = frozenset({dt.float16, dt.float32, dt.float64, dt.int32, dt.int64})  # TF's poisson/binomial outputs
# The smallest normal number of each float dtype: TF's floor for gamma samples.
_TINY = {dt.float16: 2.0 ** -14, dt.bfloat16: 2.0 ** -126, dt.float32: 2.0 ** -126, dt.float64: 2.0 ** -1022}


# ----------------------------------------------------------------- primitives
def _fits(name, what, pshape, shape):
    """Checks that ``pshape`` broadcasts to the rightmost dimensions of the output shape ``shape``."""
    if len(pshape) > len(shape) or any(p is not None and s is not None and p not in (1, s)
                                       for p, s in zip(reversed(pshape), reversed(shape))):
        raise InvalidArgumentError(f"{name}: {what} of shape {fmt(pshape)} does not broadcast to the rightmost "
                                   f"dimensions of the output shape {fmt(shape)}")


def _gamma_rule(alpha, shape, gen):
    require_dtypes("random_gamma", alpha, FLOATS)
    _fits("random_gamma", "alpha", alpha.shape, shape)
    return TensorSpec(shape, alpha.dtype)


def _gamma_grad_rule(alpha, x):
    require_dtypes("random_gamma_grad", alpha, FLOATS)
    d = check_same_dtype("random_gamma_grad", alpha, x)
    return TensorSpec(broadcast_shapes("random_gamma_grad", alpha.shape, x.shape), d)


def _poisson_rule(lam, shape, dtype, gen):
    require_dtypes("random_poisson", lam, _PARAM_DTYPES)
    _fits("random_poisson", "lam", lam.shape, shape)
    return TensorSpec(shape, dtype)


def _binomial_rule(counts, probs, shape, dtype, gen):
    require_dtypes("random_binomial", probs, _PARAM_DTYPES)
    check_same_dtype("random_binomial", counts, probs)
    _fits("random_binomial", "broadcast(counts, probs)",
          broadcast_shapes("random_binomial", counts.shape, probs.shape), shape)
    return TensorSpec(shape, dtype)


random_gamma_p = primitive("random_gamma", _gamma_rule, doc="(alpha; shape, gen) -> standard gamma samples")
random_gamma_grad_p = primitive("random_gamma_grad", _gamma_grad_rule,
                                doc="(alpha, x) -> d x / d alpha for standard gamma samples x")
random_poisson_p = primitive("random_poisson", _poisson_rule)
random_binomial_p = primitive("random_binomial", _binomial_rule)
# As in TF, random_gamma_grad has no gradient of its own: gamma samples have first derivatives only.
not_differentiable(random_poisson_p, random_binomial_p, random_gamma_grad_p)


@defgrad(random_gamma_p)
def _random_gamma_grad(g, out, alpha, shape, gen):
    # The engine sums the sample dimensions (and alpha's broadcast ones) down to alpha's shape.
    return _ew.multiply(g, random_gamma_grad_p(alpha, out))


# ----------------------------------------------------------------- Functional-API inputs
def _symbolic(*values):
    return any(isinstance(v, SymbolicTensor) for v in values)


_REPLAYED = {}


def _replayed(name, fn, args, spec):
    """``fn(*args)`` on symbolic (Functional-API) arguments, recorded as one composite with result ``spec``.

    A ``keras.Model`` then calls ``fn`` on data each time it runs: a stateless op rebuilds its seed's
    generator every time (the sampling primitive recorded alone would keep the generator it was built with,
    which moves on between calls), and shapes unknown when the model was built are known. The tensors among
    ``args`` are the composite's inputs; other arguments (Python values, seed pairs, variables) are kept.
    """
    op = _REPLAYED.get(name)
    if op is None:
        op = _REPLAYED[name] = composite(name, lambda *specs, call, spec: spec)(lambda *xs, call, spec: call(*xs))
    slots = [i for i, v in enumerate(args) if isinstance(v, (Tensor, SymbolicTensor))]

    def call(*xs):
        vals = list(args)
        for i, v in zip(slots, xs):
            vals[i] = v
        return fn(*vals)
    return op(*[args[i] for i in slots], call=call, spec=spec)


def _bshape(*values):
    """The broadcast shape of the parameters among ``values`` (None: absent)."""
    shapes = [tuple(t(v).shape) for v in values if v is not None]
    out = shapes[0]
    for sh in shapes[1:]:
        out = broadcast_shapes("random", out, sh)
    return tuple(out)


# ----------------------------------------------------------------- arguments
def _params(name, dtype, **values):
    """The parameters as tensors on one device: that of the first tensor among them (else the
    current one). Python values take ``dtype``, or the first tensor's dtype; tensors keep theirs
    (and must have ``dtype`` when it is given)."""
    out = {k: v._read() if isinstance(v, Variable) else v for k, v in values.items()}
    like = next((v for v in out.values() if isinstance(v, (Tensor, SymbolicTensor))), None)
    for what, v in out.items():
        if isinstance(v, (Tensor, SymbolicTensor)):
            if dtype is not None and v.dtype != dtype:
                raise TypeError(f"{name}: {what} has dtype {v.dtype.name} but the op's dtype is {dtype.name}; "
                                f"pass dtype={v.dtype.name} or convert it with tl.cast")
            if type(v) is Tensor and type(like) is Tensor and v._device is not like._device:
                raise InvalidArgumentError(f"{name}: the parameters live on different devices ({like._device.name} "
                                           f"and {v._device.name}); copy them to one device first")
            continue
        try:
            if like is None:
                out[what] = like = convert_to_tensor(v, dtype=dtype, dtype_hint=dt.float32)
            else:
                out[what] = as_operand(v, like)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{name}: cannot use {what}={v!r} as a tensor: {e}") from None
    return out


def _require(name, what, x, ok, valid):
    """Raises InvalidArgumentError (with some bad values) unless the bool tensor ``ok`` holds everywhere."""
    if isinstance(x, SymbolicTensor) or bool(_red.reduce_all(ok).numpy()):  # one flag read back
        return
    bad = x.numpy()[~ok.numpy()]
    raise InvalidArgumentError(f"{name}: {what} must be {valid}; got {bad.size} invalid value(s), e.g. "
                               f"{bad[:4].tolist()} (shape {fmt(x.shape)}, dtype {x.dtype.name})")


def _param_dtype(name, what, x):
    if x.dtype not in _PARAM_DTYPES:
        raise TypeError(f"{name}: {what} must be a float or int32/int64 tensor, got dtype {x.dtype.name}")


def _positive(name, what, x):
    _require(name, what, x, _ew.greater(x, 0), "> 0")


def _out_dtype(name, dtype, allowed):
    d = dt.as_dtype(dtype)
    if d not in allowed:
        raise TypeError(f"{name}: dtype {d.name} is not supported; valid dtypes: "
                        + ", ".join(sorted(a.name for a in allowed)))
    return d


# ----------------------------------------------------------------- gamma
def _gamma_params(name, alpha, beta, dtype):
    d = _r._float_dtype(name, dtype)
    p = _params(name, d, alpha=alpha) if beta is None else _params(name, d, alpha=alpha, beta=beta)
    _positive(name, "alpha", p["alpha"])
    if beta is not None:
        _positive(name, "beta", p["beta"])
    return p["alpha"], p.get("beta")


def _draw_gamma(gen, shape, alpha, beta):
    _, g = gen._backend(alpha._device)
    x = random_gamma_p(alpha, shape=shape, gen=g)
    if beta is not None:
        x = _ew.truediv(x, beta)
    # As TF: samples that underflow to 0 become the smallest normal number (log(x) stays finite).
    return _ew.maximum(x, _TINY[x.dtype])


def gamma(shape, alpha, beta=None, dtype=dt.float32, seed=None, name=None):
    """Draws ``shape`` samples from each of the gamma distributions given by ``alpha`` and ``beta``.

    The samples are differentiable in ``alpha`` (implicit reparameterization, as TF) and ``beta``.

    Args:
      shape: the number of samples per distribution, a list of ints or a 1-D int tensor.
      alpha: the shape (concentration) parameters, > 0.
      beta: the inverse scale (rate) parameters, > 0; broadcastable with ``alpha``. Default 1.
      dtype: the dtype of ``alpha``, ``beta`` and the samples (a float dtype).
      seed: op-level seed (see ``tl.random.set_seed``).

    Returns:
      A tensor of shape ``shape + broadcast(alpha, beta).shape``.

    Example:
      >>> tl.random.gamma([10], [0.5, 1.5]).shape
      TensorShape([10, 2])
      >>> tl.random.gamma([30], [[1.0], [3.0], [5.0]], beta=[[3.0, 4.0]]).shape
      TensorShape([30, 3, 2])
    """
    shape = _r._shape_arg("gamma", shape)
    if _symbolic(alpha, beta):
        return _replayed("gamma", lambda a, b: gamma(shape, a, b, dtype, seed), [alpha, beta],
                         TensorSpec(shape + _bshape(alpha, beta), _r._float_dtype("gamma", dtype)))
    a, b = _gamma_params("gamma", alpha, beta, dtype)
    bshape = tuple(a.shape) if b is None else broadcast_shapes("gamma", a.shape, b.shape)
    return _draw_gamma(_r._op_generator(seed), shape + bshape, a, b)


def stateless_gamma(shape, seed, alpha, beta=None, dtype=dt.float32, name=None):
    """Gamma samples determined by ``seed`` alone (``tf.random.stateless_gamma``).

    Differentiable in ``alpha`` and ``beta`` as ``gamma``.

    Args:
      shape: the output shape; ``broadcast(alpha, beta)`` must broadcast to its rightmost dimensions.
      seed: a shape-[2] int32/int64 tensor or a pair of integers.
      alpha, beta: the shape and inverse-scale parameters (> 0; ``beta`` defaults to 1).
      dtype: a float dtype.

    Example:
      >>> tl.random.stateless_gamma([10, 2], seed=[1, 2], alpha=[0.5, 1.5]).shape
      TensorShape([10, 2])
    """
    shape = _r._shape_arg("stateless_gamma", shape)
    if _symbolic(seed, alpha, beta):
        return _replayed("stateless_gamma", lambda s, a, b: stateless_gamma(shape, s, a, b, dtype), [seed, alpha, beta],
                         TensorSpec(shape, _r._float_dtype("stateless_gamma", dtype)))
    a, b = _gamma_params("stateless_gamma", alpha, beta, dtype)
    if b is None:
        _fits("stateless_gamma", "alpha", a.shape, shape)
    else:
        _fits("stateless_gamma", "broadcast(alpha, beta)", broadcast_shapes("stateless_gamma", a.shape, b.shape),
              shape)
    return _draw_gamma(_r._stateless("stateless_gamma", seed), shape, a, b)


# ----------------------------------------------------------------- poisson
def _draw_poisson(name, gen, shape, lam, dtype, full_shape):
    d = _out_dtype(name, dtype, _COUNT_DTYPES)
    shape = _r._shape_arg(name, shape)
    lam = _params(name, None, lam=lam)["lam"]
    _param_dtype(name, "lam", lam)
    if full_shape:
        shape = shape + tuple(lam.shape)
    else:
        _fits(name, "lam", lam.shape, shape)
    ok = _ew.greater_equal(lam, 0)
    if lam.dtype in FLOATS:  # numpy refuses infinite rates; CuPy would loop on them
        ok = _ew.logical_and(ok, _ew.is_finite(lam))
    _require(name, "lam", lam, ok, "finite and >= 0")
    _, g = gen._backend(lam._device)
    return random_poisson_p(lam, shape=shape, dtype=d, gen=g)


def poisson(shape, lam, dtype=dt.float32, seed=None, name=None):
    """Draws ``shape`` samples from each of the Poisson distributions with rates ``lam``.

    Args:
      shape: the number of samples per distribution.
      lam: the rates (>= 0), a float or int32/int64 tensor or Python value.
      dtype: the output dtype: float16, float32, float64, int32 or int64.
      seed: op-level seed (see ``tl.random.set_seed``).

    Returns:
      A tensor of shape ``shape + lam.shape``.

    Example:
      >>> tl.random.poisson([10], [0.5, 1.5]).shape
      TensorShape([10, 2])
    """
    if _symbolic(lam):
        return _replayed("poisson", lambda v: poisson(shape, v, dtype, seed), [lam],
                         TensorSpec(_r._shape_arg("poisson", shape) + _bshape(lam),
                                    _out_dtype("poisson", dtype, _COUNT_DTYPES)))
    return _draw_poisson("poisson", _r._op_generator(seed), shape, lam, dtype, full_shape=True)


def stateless_poisson(shape, seed, lam, dtype=dt.int32, name=None):
    """Poisson samples determined by ``seed`` alone (``tf.random.stateless_poisson``).

    Args:
      shape: the output shape; ``lam`` must broadcast to its rightmost dimensions.
      seed: a shape-[2] int32/int64 tensor or a pair of integers.
      lam: the rates (>= 0).
      dtype: the output dtype: float16, float32, float64, int32 (default) or int64.

    Example:
      >>> tl.random.stateless_poisson([10, 2], seed=[1, 2], lam=[0.5, 1.5]).dtype
      tl.int32
    """
    if _symbolic(seed, lam):
        return _replayed("stateless_poisson", lambda s, v: stateless_poisson(shape, s, v, dtype), [seed, lam],
                         TensorSpec(_r._shape_arg("stateless_poisson", shape),
                                    _out_dtype("stateless_poisson", dtype, _COUNT_DTYPES)))
    return _draw_poisson("stateless_poisson", _r._stateless("stateless_poisson", seed), shape, lam, dtype,
                         full_shape=False)


# ----------------------------------------------------------------- binomial
def draw_binomial(gen, name, shape, counts, probs, dtype):
    """Binomial samples from ``gen`` (a ``tl.random.Generator``), for ``Generator.binomial`` and
    ``stateless_binomial``; ``name`` names the op in errors."""
    d = _out_dtype(name, dtype, _COUNT_DTYPES)
    shape = _r._shape_arg(name, shape)
    # probs first: as TF, Python counts take probs' dtype (float32 when both are Python values).
    p = _params(name, None, probs=probs, counts=counts)
    counts, probs = p["counts"], p["probs"]
    _param_dtype(name, "probs", probs)
    if counts.dtype != probs.dtype:
        raise TypeError(f"{name}: counts (dtype {counts.dtype.name}) and probs (dtype {probs.dtype.name}) must "
                        "have one dtype; convert one with tl.cast")
    _fits(name, "broadcast(counts, probs)", broadcast_shapes(name, counts.shape, probs.shape), shape)
    # The bound is CuPy's (its binomial kernel takes a C int); kept on every device for one behaviour.
    ok = _ew.logical_and(_ew.greater_equal(counts, 0), _ew.less(counts, 2 ** 31))
    if counts.dtype in FLOATS:
        ok = _ew.logical_and(ok, _ew.equal(_ew.floor(counts), counts))
    _require(name, "counts", counts, ok, "whole numbers in [0, 2**31)")
    _require(name, "probs", probs, _ew.logical_and(_ew.greater_equal(probs, 0), _ew.less_equal(probs, 1)),
             "in [0, 1]")
    _, g = gen._backend(probs._device)
    return random_binomial_p(counts, probs, shape=shape, dtype=d, gen=g)


def stateless_binomial(shape, seed, counts, probs, output_dtype=dt.int32, name=None):
    """Binomial samples determined by ``seed`` alone (``tf.random.stateless_binomial``).

    Args:
      shape: the output shape.
      seed: a shape-[2] int32/int64 tensor or a pair of integers.
      counts: the numbers of trials (whole numbers in [0, 2**31)).
      probs: the success probabilities, in [0, 1], of ``counts``' dtype; ``counts`` and
        ``probs`` broadcast with each other and with the rightmost dimensions of ``shape``.
      output_dtype: float16, float32, float64, int32 (default) or int64.

    Example:
      >>> tl.random.stateless_binomial([5, 2], seed=[3, 4], counts=[10.0, 20.0], probs=0.25)
    """
    if _symbolic(seed, counts, probs):
        return _replayed("stateless_binomial", lambda s, c, p: stateless_binomial(shape, s, c, p, output_dtype),
                         [seed, counts, probs], TensorSpec(_r._shape_arg("stateless_binomial", shape),
                                                           _out_dtype("stateless_binomial", output_dtype,
                                                                      _COUNT_DTYPES)))
    return draw_binomial(_r._stateless("stateless_binomial", seed), "stateless_binomial", shape, counts, probs,
                         output_dtype)


# ----------------------------------------------------------------- categorical
def stateless_categorical(logits, num_samples, seed, dtype=dt.int64, name=None):
    """``categorical`` samples determined by ``seed`` alone (``tf.random.stateless_categorical``).

    Args:
      logits: 2-D ``[batch_size, num_classes]`` unnormalized log-probabilities.
      num_samples: samples per row.
      seed: a shape-[2] int32/int64 tensor or a pair of integers.
      dtype: int32 or int64 (default) indices.

    Example:
      >>> tl.random.stateless_categorical(tl.math.log([[0.5, 0.5]]), 5, seed=[7, 17]).shape
      TensorShape([1, 5])
    """
    if _symbolic(seed, logits):
        x = t(logits)
        spec = _r._categorical_rule(x, int(num_samples), dt.int64 if dtype is None else dt.as_dtype(dtype), None)
        return _replayed("stateless_categorical", lambda s, v: stateless_categorical(v, num_samples, s, dtype),
                         [seed, x], spec)
    return _r._stateless("stateless_categorical", seed).categorical(logits, num_samples, dtype)


# ----------------------------------------------------------------- tl.random.experimental
def _int_tensor(name, what, value):
    x = t(value)
    if x.dtype not in _INTS:
        raise TypeError(f"{name}: {what} must be an int32 or int64 tensor, got dtype {x.dtype.name}")
    return x


def stateless_split(seed, num=2, alg="auto_select"):
    """Splits ``seed`` into ``num`` new seeds (``tf.random.experimental.stateless_split``).

    Args:
      seed: a shape-[2] int32/int64 tensor or a pair of integers.
      num: the number of new seeds.

    Returns:
      A ``[num, 2]`` tensor of ``seed``'s dtype: each row is a seed for the stateless ops.

    Example:
      >>> s1, s2 = tl.random.experimental.stateless_split([1, 2])
      >>> tl.random.stateless_normal([3], seed=s1)
    """
    s = _int_tensor("stateless_split", "seed", seed)
    return _r.stateless_uniform([int(num), 2], seed=s, minval=None, maxval=None, dtype=s.dtype)


def stateless_fold_in(seed, data, alg="auto_select"):
    """A new seed from ``seed`` and an integer ``data`` (``tf.random.experimental.stateless_fold_in``).

    Args:
      seed: a shape-[2] int32/int64 tensor or a pair of integers.
      data: an int32/int64 scalar (e.g. a step or a replica id).

    Returns:
      A shape-[2] tensor of ``data``'s dtype.

    Example:
      >>> step_seed = tl.random.experimental.stateless_fold_in([1, 2], 7)
    """
    d = _int_tensor("stateless_fold_in", "data", data)
    if len(d.shape) != 0:
        raise InvalidArgumentError(f"stateless_fold_in: data must be a scalar, got shape {fmt(d.shape)}")
    with _dev.device(d._device):
        s = _r.stateless_uniform([], seed=seed, minval=None, maxval=None, dtype=d.dtype)
    return _sh.stack([s, d])


def stateless_shuffle(value, seed, alg="auto_select"):
    """Permutes ``value`` along its first dimension as ``seed`` determines
    (``tf.random.experimental.stateless_shuffle``).

    Example:
      >>> tl.random.experimental.stateless_shuffle(tl.range(5), seed=[1, 2])
    """
    if _symbolic(seed, value):
        x = t(value)
        return _replayed("stateless_shuffle", lambda s, v: stateless_shuffle(v, s), [seed, x],
                         TensorSpec(x.shape, x.dtype))
    return _r._stateless("stateless_shuffle", seed).shuffle(value)


experimental = types.ModuleType("tensorlab.random.experimental",
                                "tf.random.experimental: seed splitting and folding, stateless shuffles, Generator.")
for _f in (stateless_split, stateless_fold_in, stateless_shuffle, _r.Generator, _r.get_global_generator,
           _r.set_global_generator):
    setattr(experimental, _f.__name__, _f)

__all__ = []
RANDOM = ["gamma", "poisson", "stateless_gamma", "stateless_poisson", "stateless_binomial", "stateless_categorical",
          "experimental"]
