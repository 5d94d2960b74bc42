"""Attention layers: MultiHeadAttention (Vaswani et al., 2017, with Keras 3's weight layout), Attention
and AdditiveAttention; the mask merging and scaled dot-product attention MultiHeadAttention shares with
GroupQueryAttention (group_query_attention.py)."""
import math

import tensorlab as tl
from tensorlab.keras import initializers
from tensorlab.keras.layers._common import is_symbolic, kernel_bias_config, set_kernel_bias_args, shape_str
from tensorlab.keras.layers.base import Layer
from tensorlab.keras.layers.core import matmul_last


def _prod(dims):
    n = 1
    for d in dims:
        if d is None:
            return None
        n *= d
    return n


def check_attention_input(layer, what, x, rank, dim):
    """A ValueError naming ``layer`` unless ``x`` (query, value or key) has ``rank`` and last dimension ``dim``."""
    name = type(layer).__name__
    if len(x.shape) != rank:
        raise ValueError(f'Layer "{layer.name}" ({name}): {what} must have rank {rank} like the query the layer '
                         f"was built for; received {what} shape {shape_str(tuple(x.shape))}")
    if x.shape[-1] is not None and x.shape[-1] != dim:
        raise ValueError(f'Layer "{layer.name}" ({name}): expected the last dimension of {what} to be {dim}, but '
                         f"received {what} with shape {shape_str(tuple(x.shape))}")


def merged_attention_mask(query, value, key, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
                          use_causal_mask=False, sliding_window=None):
    """The boolean ``(batch, Tq, Tv)`` mask (or a broadcastable part of it, or None) of an attention call.

    Keras' rules: the query's mask ``(B, Tq)`` (default: its Keras mask) keeps rows, the value's and
    the key's ``(B, Tv)`` keep columns (the key's only when ``key`` is not ``value``), and they are
    ANDed with ``attention_mask``, the causal mask ``j <= i`` and the band ``|i - j| < sliding_window``.
    """
    tq, tv = query.shape[1], value.shape[1]
    mask = None
    if query_mask is None:
        query_mask = getattr(query, "_keras_mask", None)
    if value_mask is None:
        value_mask = getattr(value, "_keras_mask", None)
    if key_mask is None and key is not value:
        key_mask = getattr(key, "_keras_mask", None)
    for m, shape in ((query_mask, (-1, tq, 1)), (value_mask, (-1, 1, tv)), (key_mask, (-1, 1, tv))):
        if m is not None:
            m = tl.reshape(tl.cast(m, tl.bool), shape)
            mask = m if mask is None else tl.logical_and(mask, m)
    if attention_mask is not None:
        am = attention_mask if isinstance(attention_mask, (tl.Tensor, tl.SymbolicTensor)) else \
            tl.convert_to_tensor(attention_mask)
        am = tl.cast(am, tl.bool)
        mask = am if mask is None else tl.logical_and(mask, am)
    # Lengths are unknown only in a symbolic call, whose output shapes these masks do not change.
    if (use_causal_mask or sliding_window is not None) and None not in (tq, tv):
        rows, cols = tl.reshape(tl.range(tq), (tq, 1)), tl.reshape(tl.range(tv), (1, tv))
        if use_causal_mask:
            causal = tl.greater_equal(rows, cols)
            mask = causal if mask is None else tl.logical_and(mask, causal)
        if sliding_window is not None:
            band = tl.less(tl.abs(rows - cols), sliding_window)
            mask = band if mask is None else tl.logical_and(mask, band)
    return mask


def attend(layer, q, k, v, mask, scale, training, zero_masked=False):
    """Scaled dot-product attention of heads ``q (B, H, Tq, d)``, ``k (B, H, Tv, d)``, ``v (B, H, Tv, dv)``.

    Returns ``(context (B, H, Tq, dv), probabilities (B, H, Tq, Tv))``. Masked-out scores get a
    large negative number; with ``zero_masked`` the masked probabilities are then set to zero,
    so a query row with nothing to attend to attends to nothing (Keras 3's Softmax), instead
    of uniformly. ``layer.dropout`` (seeded by ``layer.seed``) drops probabilities in training.
    """
    dt = q.dtype
    scores = tl.matmul(q * scale, k, transpose_b=True)
    if mask is not None:
        if len(mask.shape) == 3:
            mask = tl.reshape(mask, (-1 if mask.shape[0] is None else mask.shape[0], 1) + tuple(mask.shape[1:]))
        big = 3e4 if dt == tl.float16 else 1e9
        keep = tl.cast(mask, dt)
        scores = scores + (1.0 - keep) * (-big)
    probs = tl.nn.softmax(scores, axis=-1)
    if mask is not None and zero_masked:
        probs = probs * keep
    drop = probs
    if training and layer.dropout > 0 and not is_symbolic(probs):
        drop = tl.nn.dropout(probs, layer.dropout, seed=layer.seed)
    return tl.matmul(drop, v), probs


class MultiHeadAttention(Layer):
    """Multi-head scaled dot-product attention.

    Each head projects query, key and value (``(batch, ..., dim)``) to
    ``key_dim``/``value_dim`` features, computes
    ``softmax(q @ k^T / sqrt(key_dim))`` over the key positions and applies it
    to the values; the heads are then projected back to ``output_shape``.
    Attention runs over all axes between the batch and the feature axis
    (e.g. the sequence axis of ``(batch, seq, dim)`` inputs).

    Args:
      num_heads: number of attention heads.
      key_dim: size of each head for query and key.
      value_dim: size of each head for value (default ``key_dim``).
      dropout: dropout rate on the attention probabilities (training only).
      use_bias: whether the projections have biases.
      output_shape: last dimension of the output (default: the query's last dimension).
      attention_axes: only the default (None: every axis between batch and features) is supported.
      kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, kernel_constraint, bias_constraint: for all projections.
      seed: seed of the attention dropout.

    Weights (in order): ``query/kernel (dim, num_heads, key_dim)``, ``query/bias
    (num_heads, key_dim)``, the same for key and value, ``attention_output/kernel
    (num_heads, value_dim, output_dim)``, ``attention_output/bias (output_dim,)``.

    Call arguments:
      query: ``(batch, Tq, dim)``.
      value: ``(batch, Tv, dim_v)``.
      key: optional ``(batch, Tv, dim_k)`` (default ``value``).
      attention_mask: boolean ``(batch, Tq, Tv)``; False blocks attention.
      return_attention_scores: also return the ``(batch, num_heads, Tq, Tv)`` probabilities.
      training: enables the attention dropout.
      use_causal_mask: block attention to later positions.

    Example:
      >>> mha = tl.keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)
      >>> x = tl.random.normal((3, 5, 8))
      >>> out, scores = mha(x, x, return_attention_scores=True)
      >>> out.shape, scores.shape
      (TensorShape([3, 5, 8]), TensorShape([3, 2, 5, 5]))
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True, output_shape=None,
                 attention_axes=None, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = int(value_dim) if value_dim is not None else self.key_dim
        if self.num_heads <= 0 or self.key_dim <= 0 or self.value_dim <= 0:
            raise ValueError(f"MultiHeadAttention: num_heads, key_dim and value_dim must be positive; received "
                             f"num_heads={num_heads}, key_dim={key_dim}, value_dim={value_dim}")
        self.dropout = float(dropout)
        self.use_bias = use_bias
        if output_shape is not None and not isinstance(output_shape, int):
            output_shape = tuple(int(d) for d in output_shape)
            if len(output_shape) != 1:
                raise ValueError(f"MultiHeadAttention: only a 1-D output_shape is supported; received "
                                 f"{output_shape}")
            output_shape = output_shape[0]
        self._output_shape = output_shape
        if attention_axes is not None:
            attention_axes = (attention_axes,) if isinstance(attention_axes, int) else tuple(attention_axes)
        self.attention_axes = attention_axes
        set_kernel_bias_args(self, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                             kernel_constraint, bias_constraint)
        self.seed = seed

    def _dense(self, prefix, kernel_shape, bias_shape, input_axes, output_axes):
        # Keras 3 builds these kernels as EinsumDense layers: a VarianceScaling initializer takes its fans
        # from the projection's units (input_axes, output_axes), not from the convolution-kernel rule.
        init = initializers._with_fan_axes(self.kernel_initializer, input_axes, output_axes)
        k = self.add_weight(name=f"{prefix}/kernel", shape=kernel_shape, initializer=init,
                            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        b = None
        if self.use_bias:
            b = self.add_weight(name=f"{prefix}/bias", shape=bias_shape, initializer=self.bias_initializer,
                                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        return k, b

    def build(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        value_shape = tuple(value_shape) if value_shape is not None else query_shape
        key_shape = tuple(key_shape) if key_shape is not None else value_shape
        rank = len(query_shape)
        if rank < 3:
            raise ValueError(f'Layer "{self.name}" (MultiHeadAttention) expects inputs of rank >= 3 '
                             f"(batch, ..., features); received query shape {shape_str(query_shape)}")
        default_axes = tuple(range(1, rank - 1))
        if self.attention_axes is not None and tuple(a % rank for a in self.attention_axes) != default_axes:
            raise NotImplementedError(f'Layer "{self.name}" (MultiHeadAttention): only the default attention_axes '
                                      f"{default_axes} are supported; received {self.attention_axes}")
        for what, s in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if s[-1] is None:
                raise ValueError(f'Layer "{self.name}" (MultiHeadAttention): the last dimension of {what} must be '
                                 f"known; received shape {shape_str(s)}")
        h = self.num_heads
        self._query_dim, self._key_in, self._value_in = query_shape[-1], key_shape[-1], value_shape[-1]
        self._rank = rank
        proj = ([0], [1, 2])  # [features, heads, head_dim]: features in, heads x head_dim out
        self.query_kernel, self.query_bias = self._dense("query", (query_shape[-1], h, self.key_dim),
                                                         (h, self.key_dim), *proj)
        self.key_kernel, self.key_bias = self._dense("key", (key_shape[-1], h, self.key_dim), (h, self.key_dim),
                                                     *proj)
        self.value_kernel, self.value_bias = self._dense("value", (value_shape[-1], h, self.value_dim),
                                                         (h, self.value_dim), *proj)
        out_dim = self._output_shape or query_shape[-1]
        self.output_kernel, self.output_bias = self._dense("attention_output", (h, self.value_dim, out_dim),
                                                           (out_dim,), [0, 1], [2])
        self._out_dim = out_dim
        self.built = True

    def _project(self, x, kernel, bias, head_dim):
        """``(B, T, dim) -> (B, H, T, head_dim)``."""
        h = self.num_heads
        y = matmul_last(x, tl.reshape(kernel, (kernel.shape[0], h * head_dim)))
        if bias is not None:
            y = y + tl.reshape(bias, (h * head_dim,))
        y = tl.reshape(y, (-1 if x.shape[0] is None else x.shape[0], x.shape[1], h, head_dim))
        return tl.transpose(y, (0, 2, 1, 3))

    def _flatten_positions(self, x):
        """``(B, d1, ..., dk, F) -> (B, d1*...*dk, F)`` for attention over several axes."""
        if len(x.shape) == 3:
            return x
        n = _prod(x.shape[1:-1])
        if n is None:
            raise ValueError(f'Layer "{self.name}" (MultiHeadAttention): the attention axes must have known sizes '
                             f"for inputs of rank > 3; received shape {shape_str(tuple(x.shape))}")
        return tl.reshape(x, (-1 if x.shape[0] is None else x.shape[0], n, x.shape[-1]))

    def call(self, query, value=None, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None, use_causal_mask=False):
        value = query if value is None else value
        key = value if key is None else key
        check_attention_input(self, "query", query, self._rank, self._query_dim)
        check_attention_input(self, "value", value, self._rank, self._value_in)
        check_attention_input(self, "key", key, self._rank, self._key_in)
        q_full_shape = tuple(query.shape)
        query, value, key = (self._flatten_positions(t) for t in (query, value, key))
        q = self._project(query, self.query_kernel, self.query_bias, self.key_dim)
        k = self._project(key, self.key_kernel, self.key_bias, self.key_dim)
        v = self._project(value, self.value_kernel, self.value_bias, self.value_dim)
        mask = merged_attention_mask(query, value, key, query_mask, value_mask, key_mask, attention_mask,
                                     use_causal_mask)
        ctx, probs = attend(self, q, k, v, mask, 1.0 / math.sqrt(self.key_dim), training)  # (B, H, Tq, vd)
        ctx = tl.transpose(ctx, (0, 2, 1, 3))
        b = -1 if ctx.shape[0] is None else ctx.shape[0]
        ctx = tl.reshape(ctx, (b, ctx.shape[1], self.num_heads * self.value_dim))
        out = matmul_last(ctx, tl.reshape(self.output_kernel, (self.num_heads * self.value_dim, self._out_dim)))
        if self.output_bias is not None:
            out = out + self.output_bias
        if len(q_full_shape) > 3:
            out = tl.reshape(out, (b,) + q_full_shape[1:-1] + (self._out_dim,))
        if return_attention_scores:
            return out, probs
        return out

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return tuple(query_shape)[:-1] + (self._out_dim if self.built else (self._output_shape or query_shape[-1]),)

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads, "key_dim": self.key_dim, "value_dim": self.value_dim,
            "dropout": self.dropout, "use_bias": self.use_bias, "output_shape": self._output_shape,
            "attention_axes": self.attention_axes,
            **kernel_bias_config(self),
            "seed": self.seed,
        })
        return config


class Attention(Layer):
    """Dot-product attention (Luong-style) over ``[query, value]`` or ``[query, value, key]``.

    ``scores = query @ key^T`` (``score_mode="dot"``, times a learned scalar
    ``scale`` if ``use_scale``) or ``scores = concat_score_weight *
    sum(tanh(scale * (query + key)), -1)`` (``score_mode="concat"``), then
    ``softmax(scores)`` over the value positions applied to ``value``.

    Args:
      use_scale: learn a scalar ``scale`` (initialized to 1) for the scores.
      score_mode: ``"dot"`` (default) or ``"concat"``.
      dropout: dropout rate on the attention distribution (training only).
      seed: seed of the attention dropout.

    Call arguments:
      inputs: ``[query (batch, Tq, dim), value (batch, Tv, dim_v)]`` with an optional
        third ``key (batch, Tv, dim)`` (default ``value``).
      mask: ``[query_mask (batch, Tq), value_mask (batch, Tv)]``, either may be None
        (default: the inputs' Keras masks). Value positions where the mask is False
        get no attention; output rows where the query mask is False are zero.
      training: enables the dropout.
      return_attention_scores: also return the ``(batch, Tq, Tv)`` distribution.
      use_causal_mask: query position ``i`` cannot attend to value positions ``j > i``.

    Output: ``(batch, Tq, dim_v)``.

    Example:
      >>> q, v = tl.random.normal((2, 3, 4)), tl.random.normal((2, 5, 4))
      >>> out, scores = tl.keras.layers.Attention()([q, v], return_attention_scores=True)
      >>> out.shape, scores.shape
      (TensorShape([2, 3, 4]), TensorShape([2, 3, 5]))
    """

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"{type(self).__name__}: `score_mode` must be one of 'dot', 'concat'; received "
                             f"score_mode={score_mode!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1:
            raise ValueError(f"{type(self).__name__}: `dropout` must be a float in [0, 1]; received "
                             f"dropout={dropout!r}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        self.supports_masking = True

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, (list, tuple)) or any(i is None or isinstance(i, int) for i in inputs):
            raise ValueError(f'Layer "{self.name}" ({name}) must be called on a list of inputs, namely '
                             f"[query, value] or [query, value, key]; received inputs={inputs!r}")
        if not 2 <= len(inputs) <= 3:
            raise ValueError(f'Layer "{self.name}" ({name}) accepts a list of 2 or 3 inputs, namely '
                             f"[query, value] or [query, value, key]; received {len(inputs)}")
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(f'Layer "{self.name}" ({name}): `mask` must be a list [query_mask, value_mask]; '
                             f"received mask={mask!r}")

    def _check_shapes(self, shapes):
        q, v = tuple(shapes[0]), tuple(shapes[1])
        k = tuple(shapes[2]) if len(shapes) > 2 else v
        name = type(self).__name__
        for what, s in (("query", q), ("value", v), ("key", k)):
            if len(s) != 3:
                raise ValueError(f'Layer "{self.name}" ({name}): {what} must have rank 3 (batch, steps, dim); '
                                 f"received {what} shape {shape_str(s)}")
        if None not in (q[-1], k[-1]) and q[-1] != k[-1]:
            raise ValueError(f'Layer "{self.name}" ({name}): query and key must have the same last dimension; '
                             f"received query shape {shape_str(q)} and key shape {shape_str(k)}")
        if None not in (v[1], k[1]) and v[1] != k[1]:
            raise ValueError(f'Layer "{self.name}" ({name}): value and key must have the same number of steps; '
                             f"received value shape {shape_str(v)} and key shape {shape_str(k)}")
        return q, v, k

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self._check_shapes(input_shape)
        self.scale = self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones", trainable=True)
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(), initializer="ones",
                                                       trainable=True)
        self.built = True

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = tl.matmul(query, key, transpose_b=True)
            return scores * tl.cast(self.scale, scores.dtype) if self.scale is not None else scores
        s = tl.expand_dims(query, -2) + tl.expand_dims(key, -3)          # (B, Tq, Tv, dim)
        if self.scale is not None:
            s = s * tl.cast(self.scale, s.dtype)
        return tl.cast(self.concat_score_weight, s.dtype) * tl.reduce_sum(tl.tanh(s), axis=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        self._check_shapes([x.shape for x in inputs])
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask, v_mask = (mask[0], mask[1]) if mask else (None, None)
        scores = self._calculate_scores(q, k)                            # (B, Tq, Tv)
        keep = None
        if v_mask is not None:
            keep = tl.expand_dims(tl.cast(v_mask, tl.bool), -2)          # (B, 1, Tv)
        if use_causal_mask:
            tq, tv = scores.shape[1], scores.shape[2]
            causal = tl.greater_equal(tl.reshape(tl.range(tq), (1, tq, 1)), tl.reshape(tl.range(tv), (1, 1, tv)))
            keep = causal if keep is None else tl.logical_and(keep, causal)
        if keep is not None:
            big = 65504.0 if scores.dtype == tl.float16 else 1e9
            scores = scores - big * tl.cast(tl.logical_not(keep), scores.dtype)
        weights = tl.nn.softmax(scores, axis=-1)
        drop = weights
        if training and self.dropout > 0 and not is_symbolic(weights):
            drop = tl.nn.dropout(weights, self.dropout, seed=self.seed)
        out = tl.matmul(drop, v)
        if q_mask is not None:
            out = out * tl.expand_dims(tl.cast(q_mask, out.dtype), -1)
        return (out, weights) if return_attention_scores else out

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs, mask)
        return None if not mask or mask[0] is None else mask[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])[:-1] + (tuple(input_shape[1])[-1],)

    def get_config(self):
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode, "dropout": self.dropout})
        return config


class AdditiveAttention(Attention):
    """Additive attention (Bahdanau-style) over ``[query, value]`` or ``[query, value, key]``.

    ``scores = sum(scale * tanh(query + key), -1)`` with a learned per-feature
    ``scale`` of shape ``(dim,)`` (if ``use_scale``), then ``softmax(scores)``
    over the value positions applied to ``value``. Call arguments, masks and
    output as in ``Attention``.

    Args:
      use_scale: learn the ``(dim,)`` ``scale`` vector (default True, glorot_uniform).
      dropout: dropout rate on the attention distribution (training only).
      seed: seed of the attention dropout.

    Example:
      >>> q, v = tl.random.normal((2, 3, 4)), tl.random.normal((2, 5, 4))
      >>> tl.keras.layers.AdditiveAttention()([q, v]).shape
      TensorShape([2, 3, 4])
    """

    def __init__(self, use_scale=True, dropout=0.0, seed=None, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, seed=seed, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        q, _, _ = self._check_shapes(input_shape)
        if self.use_scale and q[-1] is None:
            raise ValueError(f'Layer "{self.name}" (AdditiveAttention): the last dimension of the query must be '
                             f"known to create `scale`; received query shape {shape_str(q)}")
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(q[-1],), initializer="glorot_uniform", trainable=True)
        self.built = True

    def _calculate_scores(self, query, key):
        s = tl.tanh(tl.expand_dims(query, -2) + tl.expand_dims(key, -3))  # (B, Tq, Tv, dim)
        if self.scale is not None:
            s = s * tl.cast(self.scale, s.dtype)
        return tl.reduce_sum(s, axis=-1)

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
