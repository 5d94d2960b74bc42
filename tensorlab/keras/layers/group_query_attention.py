"""GroupQueryAttention: grouped-query attention (Ainslie et al., 2023) with Keras 3's weights."""
import math

import tensorlab as tl
from tensorlab.keras import regularizers
from tensorlab.keras.layers._common import kernel_bias_config, set_kernel_bias_args, shape_str
from tensorlab.keras.layers.attention import attend, check_attention_input, merged_attention_mask
from tensorlab.keras.layers.base import Layer
from tensorlab.keras.layers.core import EinsumDense


def _positive_int(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class GroupedQueryAttention(Layer):
    """Grouped-query attention (``keras.layers.GroupQueryAttention``): ``num_query_heads`` query heads
    share ``num_key_value_heads`` key/value heads.

    The query, key and value are projected to heads of size ``head_dim``; each key/value head is
    repeated for ``num_query_heads // num_key_value_heads`` consecutive query heads (query head
    ``u`` reads key/value head ``u // num_repeats``); then ``softmax(q @ k^T / sqrt(head_dim))``
    over the key positions is applied to the values and the heads are projected back to the
    query's feature size. ``num_key_value_heads == num_query_heads`` is multi-head attention,
    ``num_key_value_heads == 1`` multi-query attention.

    Args:
      head_dim: size of each attention head.
      num_query_heads: number of query heads.
      num_key_value_heads: number of key/value heads; must divide ``num_query_heads``.
      dropout: dropout rate on the attention probabilities (training only).
      use_bias: whether the projections have biases.
      sliding_window: None (default) or a positive int: query ``i`` only attends to keys ``j`` with
        ``|i - j| < sliding_window`` (with ``use_causal_mask``, the causal sliding window).
      flash_attention: accepted as in Keras. tensorlab has no separate flash-attention kernel, so
        the result is the same; True only brings Keras' restrictions (no dropout, no
        ``return_attention_scores``).
      kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer, kernel_constraint,
        bias_constraint: for the projections.
      activity_regularizer: applied to the layer's output.
      use_gate: gate the heads' outputs with ``sigmoid(query projection)`` before the output
        projection (gated attention).
      seed: seed of the attention dropout.

    Weights (Keras 3's sub-layers, ``EinsumDense``): ``query`` kernel ``(dim, num_query_heads,
    head_dim)`` and bias ``(num_query_heads, head_dim)``; ``key`` and ``value`` the same with
    ``num_key_value_heads``; with ``use_gate`` a ``gate`` like ``query``; ``attention_output``
    kernel ``(num_query_heads, head_dim, dim)`` and bias ``(dim,)``.

    Call arguments:
      query: ``(batch, Tq, dim)``.
      value: ``(batch, Tv, dim_v)``.
      key: optional ``(batch, Tv, dim_k)`` (default ``value``).
      query_mask, value_mask, key_mask: boolean ``(batch, Tq)`` / ``(batch, Tv)`` (default: the
        inputs' Keras masks).
      attention_mask: boolean ``(batch, Tq, Tv)``; False blocks attention. Masked probabilities
        are zero, so a query row with nothing to attend to gets only the output bias.
      return_attention_scores: also return the ``(batch, num_query_heads, Tq, Tv)`` probabilities.
      training: enables the attention dropout.
      use_causal_mask: block attention to later positions.

    Example:
      >>> gqa = tl.keras.layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
      >>> x = tl.random.normal((3, 5, 8))
      >>> out, scores = gqa(x, x, return_attention_scores=True)
      >>> out.shape, scores.shape
      (TensorShape([3, 5, 8]), TensorShape([3, 4, 5, 5]))
    """

    _keras_class_name = "GroupQueryAttention"  # the name Keras exports and writes in saved configs

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0, use_bias=True,
                 sliding_window=None, flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        sizes = {"head_dim": head_dim, "num_query_heads": num_query_heads, "num_key_value_heads": num_key_value_heads}
        if not all(_positive_int(v) for v in sizes.values()):
            raise ValueError("GroupQueryAttention: head_dim, num_query_heads and num_key_value_heads must be "
                             "positive integers; received " + ", ".join(f"{k}={v!r}" for k, v in sizes.items()))
        if num_query_heads % num_key_value_heads:
            raise ValueError(f"GroupQueryAttention: `num_query_heads` ({num_query_heads}) must be a multiple of "
                             f"`num_key_value_heads` ({num_key_value_heads})")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"GroupQueryAttention: `dropout` must be a float in [0, 1); received dropout={dropout!r}")
        if sliding_window is not None and not _positive_int(sliding_window):
            raise ValueError(f"GroupQueryAttention: `sliding_window` must be None or a positive integer; received "
                             f"sliding_window={sliding_window!r}")
        if flash_attention and dropout > 0:
            raise ValueError(f"GroupQueryAttention: dropout ({dropout}) is not supported with flash_attention=True; "
                             "set dropout=0.0 or flash_attention=None")
        self.head_dim, self.num_query_heads, self.num_key_value_heads = head_dim, num_query_heads, num_key_value_heads
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.sliding_window = sliding_window
        self.flash_attention = flash_attention
        self.use_gate = bool(use_gate)
        set_kernel_bias_args(self, kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
                             kernel_constraint, bias_constraint)
        self.seed = seed
        self.supports_masking = True

    def _dense(self, equation, heads, bias_axes, name, activation=None):
        return EinsumDense(equation, output_shape=(None,) + heads, bias_axes=bias_axes if self.use_bias else None,
                           activation=activation, name=name, kernel_initializer=self.kernel_initializer,
                           bias_initializer=self.bias_initializer, kernel_regularizer=self.kernel_regularizer,
                           bias_regularizer=self.bias_regularizer, kernel_constraint=self.kernel_constraint,
                           bias_constraint=self.bias_constraint, dtype=self.dtype_policy)

    def build(self, query_shape, value_shape, key_shape=None):
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        for what, s in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(s) != 3 or s[-1] is None:
                raise ValueError(f'Layer "{self.name}" (GroupQueryAttention) expects {what} of rank 3 (batch, '
                                 f"steps, features) with a known feature size; received {what} shape {shape_str(s)}")
        u, v, h = self.num_query_heads, self.num_key_value_heads, self.head_dim
        # Keras' sub-layers, in its order (query, key, gate, value, output): the weights' order.
        self._query_dense = self._dense("bqm,muh->bquh", (u, h), "uh", "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._dense("bkm,mvh->bkvh", (v, h), "vh", "key")
        self._key_dense.build(key_shape)
        if self.use_gate:
            self._gate_dense = self._dense("bqm,muh->bquh", (u, h), "uh", "gate", activation="sigmoid")
            self._gate_dense.build(query_shape)
        self._value_dense = self._dense("bkm,mvh->bkvh", (v, h), "vh", "value")
        self._value_dense.build(value_shape)
        self._output_dense = self._dense("bquh,uhm->bqm", (query_shape[-1],), "m", "attention_output")
        self._output_dense.build((None, None, u, h))
        self._dims = {"query": query_shape[-1], "value": value_shape[-1], "key": key_shape[-1]}
        self.built = True

    @property
    def query_dense(self):
        return self._query_dense

    @property
    def key_dense(self):
        return self._key_dense

    @property
    def value_dense(self):
        return self._value_dense

    @property
    def output_dense(self):
        return self._output_dense

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None, attention_mask=None,
             return_attention_scores=False, training=None, use_causal_mask=False):
        if self.flash_attention and return_attention_scores:
            raise ValueError(f'Layer "{self.name}" (GroupQueryAttention): return_attention_scores=True is not '
                             "supported with flash_attention=True; create the layer with flash_attention=None")
        key = value if key is None else key
        for what, x in (("query", query), ("value", value), ("key", key)):
            check_attention_input(self, what, x, 3, self._dims[what])
        if None not in (value.shape[1], key.shape[1]) and value.shape[1] != key.shape[1]:
            raise ValueError(f'Layer "{self.name}" (GroupQueryAttention): value and key must have the same number '
                             f"of steps; received value shape {shape_str(tuple(value.shape))} and key shape "
                             f"{shape_str(tuple(key.shape))}")
        mask = merged_attention_mask(query, value, key, query_mask, value_mask, key_mask, attention_mask,
                                     use_causal_mask, self.sliding_window)
        q = self._query_dense(query)                                  # (B, Tq, U, h)
        k = tl.repeat(self._key_dense(key), self.num_repeats, axis=2)  # (B, Tv, V, h) -> (B, Tv, U, h)
        v = tl.repeat(self._value_dense(value), self.num_repeats, axis=2)
        q, k, v = (tl.transpose(t, (0, 2, 1, 3)) for t in (q, k, v))
        ctx, probs = attend(self, q, k, v, mask, 1.0 / math.sqrt(self.head_dim), training, zero_masked=True)
        ctx = tl.transpose(ctx, (0, 2, 1, 3))                         # (B, Tq, U, h)
        if self.use_gate:
            ctx = ctx * self._gate_dense(query)
        out = self._output_dense(ctx)
        return (out, probs) if return_attention_scores else out

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return tuple(query_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "head_dim": self.head_dim, "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias, "use_gate": self.use_gate,
            "sliding_window": self.sliding_window, "dropout": self.dropout, "flash_attention": self.flash_attention,
            **kernel_bias_config(self),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "seed": self.seed,
        })
        return config



# Keras exports the class GroupedQueryAttention as keras.layers.GroupQueryAttention; its class name
# gives the default layer name and the weights' path in .keras files ("grouped_query_attention").
GroupQueryAttention = GroupedQueryAttention
