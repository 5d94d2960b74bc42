"""``keras.layers.ReversibleEmbedding``: an embedding that also maps vectors back to logits over
the vocabulary (``reverse=True``), with the table tied or a separate reverse matrix, as Keras 3."""
import tensorlab as tl
from tensorlab.keras.layers._common import is_symbolic, symbolic_like
from tensorlab.keras.layers.core import Embedding


class ReversibleEmbedding(Embedding):
    """``Embedding`` plus ``call(x, reverse=True)``: ``x @ embeddings.T`` (logits over the tokens).

    Args:
      input_dim, output_dim, embeddings_initializer, embeddings_regularizer,
        embeddings_constraint, mask_zero: as ``Embedding``.
      tie_weights: reuse the embedding table for the reverse projection (default); False adds a
        ``reverse_embeddings`` weight ``(output_dim, input_dim)``.
      reverse_dtype: compute the reverse projection in this dtype (e.g. "float32" under mixed
        precision).
      logit_soft_cap: if set, logits become ``tanh(logits / cap) * cap``.

    Example:
      >>> emb = tl.keras.layers.ReversibleEmbedding(100, 16)
      >>> h = emb(tl.constant([[1, 2, 3]]))            # (1, 3, 16)
      >>> emb(h, reverse=True).shape                   # logits over the 100 tokens
      TensorShape([1, 3, 100])
    """

    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer, embeddings_constraint=embeddings_constraint,
                         mask_zero=mask_zero, **kwargs)
        if logit_soft_cap is not None and not float(logit_soft_cap) > 0:
            raise ValueError(f"ReversibleEmbedding: logit_soft_cap must be positive or None; received "
                             f"{logit_soft_cap!r}")
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = None if reverse_dtype is None else tl.as_dtype(reverse_dtype).name
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape=None):
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(name="reverse_embeddings",
                                                      shape=(self.output_dim, self.input_dim),
                                                      initializer=self.embeddings_initializer, trainable=True)

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        if inputs.shape[-1] is not None and inputs.shape[-1] != self.output_dim:
            raise ValueError(f'Layer "{self.name}" (ReversibleEmbedding): reverse=True needs inputs whose last '
                             f"dimension is output_dim={self.output_dim}; received shape {tuple(inputs.shape)}")
        if is_symbolic(inputs):
            return symbolic_like(tuple(inputs.shape[:-1]) + (self.input_dim,), self.reverse_dtype or inputs.dtype)
        kernel = tl.transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        kernel = tl.identity(kernel)
        if self.reverse_dtype is not None:
            inputs, kernel = tl.cast(inputs, self.reverse_dtype), tl.cast(kernel, self.reverse_dtype)
        elif inputs.dtype != kernel.dtype:  # e.g. float16 activations, float32 table: promote, as Keras
            wide = kernel.dtype if kernel.dtype.size > inputs.dtype.size else inputs.dtype
            inputs, kernel = tl.cast(inputs, wide), tl.cast(kernel, wide)
        logits = tl.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            cap = float(self.logit_soft_cap)
            logits = tl.tanh(logits / cap) * cap
        return logits

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return tuple(input_shape)[:-1] + (self.input_dim,)
        return super().compute_output_shape(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"tie_weights": self.tie_weights, "reverse_dtype": self.reverse_dtype,
                       "logit_soft_cap": self.logit_soft_cap})
        return config
