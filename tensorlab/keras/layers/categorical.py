"""Categorical preprocessing layers: CategoryEncoding, Discretization, IntegerLookup and Hashing.

Every computation (encoding, bucketing, vocabulary lookup, hashing, and the
statistics that ``adapt`` learns) is written with tensorlab ops, so the layers
run on whichever device holds their inputs.
"""
import tensorlab as tl
from tensorlab.keras.layers._common import is_symbolic, shape_str, symbolic_like
from tensorlab.keras.layers.base import Layer

_ENCODINGS = ("one_hot", "multi_hot", "count")


# ----------------------------------------------------------------- helpers
def _to_tensor(x):
    if isinstance(x, tl.Variable):
        return x.read_value()
    return x if isinstance(x, (tl.Tensor, tl.SymbolicTensor)) else tl.convert_to_tensor(x)


def _const(value, dtype, like):
    """A constant on the device of ``like``."""
    if isinstance(like, tl.Tensor):
        with tl.device(like.device):
            return tl.constant(value, dtype=dtype)
    return tl.constant(value, dtype=dtype)


def _searchsorted(sorted_values, x, right):
    """Per element of ``x``: how many of the 1-D ``sorted_values`` are < x (<= x if ``right``), int64."""
    flat = tl.reshape(x, [-1])
    pos = tl.searchsorted(sorted_values, tl.cast(flat, sorted_values.dtype), side="right" if right else "left",
                          out_type=tl.int64)
    shape = tuple(x.shape)
    return tl.reshape(pos, shape if None not in shape else tl.shape(x))


def _unique_counts(flat, weights=None):
    """The distinct values of a 1-D tensor (ascending) and their (weighted) counts, int64."""
    order = tl.argsort(flat, stable=True)
    s = tl.gather(flat, order)
    w = tl.ones_like(s, dtype=tl.int64) if weights is None else tl.gather(weights, order)
    first = tl.concat([tl.ones_like(s[:1], dtype=tl.bool), tl.not_equal(s[1:], s[:-1])], axis=0)
    seg = tl.cumsum(tl.cast(first, tl.int64)) - 1
    num = int(tl.reduce_sum(tl.cast(first, tl.int64)).numpy())
    return tl.boolean_mask(s, first), tl.math.unsorted_segment_sum(w, seg, num)


def encode_categorical(layer, indices, output_mode, depth, dtype, count_weights=None):
    """Keras' categorical encoding of integer ``indices`` in ``[0, depth)`` (others encode to zeros).

    ``"one_hot"`` encodes each element (a trailing axis of size 1 is replaced);
    ``"multi_hot"``/``"count"`` reduce the last axis of rank-1 or rank-2 inputs.
    """
    if output_mode == "int":
        return tl.cast(indices, dtype)
    shape = tuple(indices.shape)
    if not shape:
        indices, shape = tl.reshape(indices, [1]), (1,)
    if output_mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            indices = tl.squeeze(indices, axis=-1)
        return tl.one_hot(indices, depth, dtype=dtype)
    if len(shape) > 2:
        raise ValueError(f'Layer "{layer.name}" ({type(layer).__name__}): output_mode="{output_mode}" takes '
                         f"inputs of rank 1 or 2; received shape {shape_str(shape)}")
    encoded = tl.one_hot(indices, depth, dtype=dtype)
    axis = len(shape) - 1
    if output_mode == "multi_hot":
        return tl.reduce_max(encoded, axis=axis)
    if count_weights is not None:
        encoded = encoded * tl.expand_dims(tl.cast(count_weights, dtype), -1)
    return tl.reduce_sum(encoded, axis=axis)


def encoded_shape(input_shape, output_mode, depth):
    input_shape = tuple(input_shape)
    if output_mode == "int":
        return input_shape
    if not input_shape:
        return (depth,)
    if output_mode == "one_hot":
        if len(input_shape) > 1 and input_shape[-1] == 1:
            return input_shape[:-1] + (depth,)
        return input_shape + (depth,)
    return input_shape[:-1] + (depth,)


def _check_output_mode(cls, output_mode, valid):
    if output_mode not in valid:
        raise ValueError(f"{cls}: `output_mode` must be one of {valid}; received output_mode={output_mode!r}")


def _check_sparse(cls, sparse):
    if sparse:
        raise ValueError(f"{cls}: sparse=True is not supported (tensorlab has no sparse tensors); "
                         "received sparse=True, use sparse=False")


def _raise_values(layer, x, bad, what):
    values = sorted(set(tl.boolean_mask(x, bad).numpy().tolist()))
    shown = ", ".join(str(v) for v in values[:10]) + (", ..." if len(values) > 10 else "")
    raise ValueError(f'Layer "{layer.name}" ({type(layer).__name__}): {what}; received values [{shown}]')


# ----------------------------------------------------------------- CategoryEncoding
class CategoryEncoding(Layer):
    """Encodes integer category ids as one-hot, multi-hot or count vectors.

    Args:
      num_tokens: the number of categories; inputs must lie in ``[0, num_tokens)``
        (other values raise a ValueError naming them, when called eagerly).
      output_mode: ``"multi_hot"`` (default; a 1 for each id present in a
        sample, the last axis being the sample), ``"one_hot"`` (each element
        encoded; a trailing axis of size 1 is replaced) or ``"count"`` (how
        often each id occurs in a sample, weighted by ``count_weights``).
      sparse: must be False (tensorlab has no sparse tensors).

    Call arguments:
      inputs: a rank-1 or rank-2 integer tensor (``"one_hot"`` takes any rank).
      count_weights: in ``"count"`` mode, a tensor shaped like ``inputs`` giving
        each occurrence's weight.

    Example:
      >>> layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")(tl.constant([3, 0])).numpy()
      array([[0., 0., 0., 1.],
             [1., 0., 0., 0.]], dtype=float32)
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        _check_output_mode("CategoryEncoding", output_mode, _ENCODINGS)
        if num_tokens is None:
            raise ValueError("CategoryEncoding: `num_tokens` must be set; received num_tokens=None (use "
                             "IntegerLookup when the number of tokens is not known beforehand)")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, int) or num_tokens < 1:
            raise ValueError(f"CategoryEncoding: `num_tokens` must be an integer >= 1; received "
                             f"num_tokens={num_tokens!r}")
        _check_sparse("CategoryEncoding", sparse)
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = False
        self.autocast = False

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f'Layer "{self.name}" (CategoryEncoding): `count_weights` is only used when '
                             f'output_mode="count"; received output_mode="{self.output_mode}"')
        x = _to_tensor(inputs)
        if is_symbolic(x):
            return symbolic_like(self.compute_output_shape(x.shape), self.compute_dtype)
        if not x.dtype.is_integer:
            x = tl.cast(x, tl.int64)
        bad = tl.logical_or(tl.less(x, 0), tl.greater_equal(x, self.num_tokens))
        if bool(tl.reduce_any(bad).numpy()):
            _raise_values(self, x, bad, f"input values must be in the range [0, {self.num_tokens}) "
                                        f"(num_tokens={self.num_tokens})")
        if count_weights is not None:
            count_weights = _to_tensor(count_weights)
            if tuple(count_weights.shape) != tuple(x.shape):
                raise ValueError(f'Layer "{self.name}" (CategoryEncoding): `count_weights` must have the shape '
                                 f"of the inputs {shape_str(tuple(x.shape))}; received "
                                 f"{shape_str(tuple(count_weights.shape))}")
        return encode_categorical(self, x, self.output_mode, self.num_tokens, self.compute_dtype, count_weights)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self):
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode, "sparse": self.sparse})
        return config


# ----------------------------------------------------------------- Discretization
class Discretization(Layer):
    """Buckets continuous values by ranges: ``bin_boundaries=[0., 1.]`` gives bins
    ``(-inf, 0)``, ``[0, 1)``, ``[1, inf)``.

    The boundaries are given, or learned with ``adapt(data)`` as the
    ``num_bins - 1`` quantiles of the data. tensorlab computes these quantiles
    exactly (all adapted values are sorted; boundary ``j`` is the linear
    interpolation at rank ``j * n / num_bins - 1`` of the ``n`` sorted values,
    the convention Keras uses), where Keras merges approximate summaries whose
    precision is set by ``epsilon``; so boundaries learned from large data can
    differ slightly from Keras'. ``epsilon`` is kept for compatibility.

    Args:
      bin_boundaries: a sorted list of boundaries (then do not call ``adapt``).
      num_bins: the number of bins to learn with ``adapt``.
      epsilon: Keras' quantile-sketch tolerance (unused: quantiles are exact).
      output_mode: ``"int"`` (default: the int64 bin index), ``"one_hot"``,
        ``"multi_hot"`` or ``"count"`` (encoded over ``len(bin_boundaries) + 1`` bins).
      sparse: must be False (tensorlab has no sparse tensors).

    Example:
      >>> layer = layers.Discretization(bin_boundaries=[0., 1., 2.])
      >>> layer(tl.constant([[-1.5, 1.0, 3.4, .5]])).numpy()
      array([[0, 2, 3, 1]])
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int", sparse=False,
                 **kwargs):
        super().__init__(**kwargs)
        _check_output_mode("Discretization", output_mode, ("int",) + _ENCODINGS)
        _check_sparse("Discretization", sparse)
        if num_bins is not None and (isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins < 0):
            raise ValueError(f"Discretization: `num_bins` must be an integer >= 0; received num_bins={num_bins!r}")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Discretization: set `num_bins` or `bin_boundaries`, not both; received "
                             f"num_bins={num_bins!r} and bin_boundaries={bin_boundaries!r}")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("Discretization: set either `num_bins` (and call adapt) or `bin_boundaries`; "
                             "received neither")
        if bin_boundaries is not None:
            bin_boundaries = self._checked_boundaries(bin_boundaries)
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = False

    @staticmethod
    def _checked_boundaries(bin_boundaries):
        if hasattr(bin_boundaries, "numpy"):
            bin_boundaries = bin_boundaries.numpy()
        if hasattr(bin_boundaries, "tolist"):
            bin_boundaries = bin_boundaries.tolist()
        b = [float(v) for v in bin_boundaries]
        if any(b[i] > b[i + 1] for i in range(len(b) - 1)):
            raise ValueError(f"Discretization: `bin_boundaries` must be sorted in increasing order; received "
                             f"bin_boundaries={b}")
        return b

    def adapt(self, data, batch_size=None, steps=None):
        """Learns ``num_bins - 1`` boundaries: the exact quantiles of all values in ``data``.

        Args:
          data: an array, a tensor, or an iterable of batches (e.g. a
            ``tl.data.Dataset``; for ``(x, y)`` batches, ``x`` is used).
          batch_size: for compatibility (unused).
          steps: how many batches of an iterable to use (all by default).
        """
        from tensorlab.keras.layers.preprocessing import _batches
        if self.num_bins is None:
            raise ValueError(f'Layer "{self.name}" (Discretization): cannot adapt a layer built with '
                             "`bin_boundaries`; construct it with `num_bins` instead")
        values = [tl.reshape(tl.cast(b, tl.float32), [-1]) for b in _batches(data, steps)]
        values = tl.sort(tl.concat(values, axis=0)) if values else None
        n = 0 if values is None else int(values.shape[0])
        if n == 0:
            raise ValueError(f'Layer "{self.name}" (Discretization): adapt() received no data')
        ranks = [min(max(j * n / self.num_bins - 1.0, 0.0), n - 1.0) for j in range(1, self.num_bins)]
        if not ranks:
            self.bin_boundaries = []
            return
        lo = [int(r) for r in ranks]
        hi = [min(i + 1, n - 1) for i in lo]
        frac = _const([r - i for r, i in zip(ranks, lo)], tl.float32, values)
        a = tl.gather(values, _const(lo, tl.int64, values))
        b = tl.gather(values, _const(hi, tl.int64, values))
        self.bin_boundaries = [float(v) for v in (a + (b - a) * frac).numpy().tolist()]

    def _out_dtype(self):
        return "int64" if self.output_mode == "int" else self.compute_dtype

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(f'Layer "{self.name}" (Discretization): pass `bin_boundaries` or call adapt() '
                             "before using the layer")
        x = _to_tensor(inputs)
        if is_symbolic(x):
            return symbolic_like(self.compute_output_shape(x.shape), self._out_dtype())
        if not x.dtype.is_floating:
            x = tl.cast(x, self.compute_dtype)
        if self.bin_boundaries:
            idx = _searchsorted(_const(self.bin_boundaries, x.dtype, x), x, right=True)
        else:
            idx = tl.zeros_like(x, dtype=tl.int64)
        return encode_categorical(self, idx, self.output_mode, len(self.bin_boundaries) + 1, self._out_dtype())

    def compute_output_shape(self, input_shape):
        depth = None if self.bin_boundaries is None else len(self.bin_boundaries) + 1
        return encoded_shape(input_shape, self.output_mode, depth)

    def get_config(self):
        config = super().get_config()
        config.update({"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins, "epsilon": self.epsilon,
                       "output_mode": self.output_mode, "sparse": self.sparse})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            # An adapted layer: both are set, which the constructor refuses.
            boundaries = config.pop("bin_boundaries")
            layer = super().from_config(config)
            layer.bin_boundaries = cls._checked_boundaries(boundaries)
            return layer
        return super().from_config(config)


# ----------------------------------------------------------------- IntegerLookup
def _int_list(values, what):
    if hasattr(values, "numpy"):
        values = values.numpy()
    if hasattr(values, "tolist"):
        values = values.tolist()
    if isinstance(values, (int, float)) or values is None:
        raise ValueError(f"IntegerLookup: `{what}` must be a list of integers; received {values!r}")
    return [int(v) for v in values]


class IntegerLookup(Layer):
    """Maps integer tokens to contiguous indices through a vocabulary (or back with ``invert=True``).

    The index layout is Keras': the mask token (if ``mask_token`` is set and
    ``output_mode="int"``) at 0, then ``num_oov_indices`` out-of-vocabulary
    indices, then the vocabulary in order. With several OOV indices, an
    unknown token ``t`` goes to OOV index ``t mod num_oov_indices``. The
    vocabulary is given or learned with ``adapt`` (most frequent first, ties
    broken by the larger token first, as Keras does).

    Args:
      max_tokens: the largest vocabulary size, special indices included (None: no limit).
      num_oov_indices: how many indices unknown tokens share (0: unknown tokens raise).
      mask_token: a token that marks padding (index 0 in ``"int"`` mode,
        encoded as zeros otherwise); None for no mask.
      oov_token: what ``invert=True`` returns for OOV indices (default -1).
      vocabulary: a list of tokens (optionally starting with the special tokens).
      vocabulary_dtype: must be ``"int64"``.
      idf_weights: for ``"tf_idf"``, one weight per vocabulary token.
      invert: map indices back to tokens (``output_mode`` must be ``"int"``).
      output_mode: ``"int"`` (int64 indices), ``"one_hot"``, ``"multi_hot"``,
        ``"count"`` or ``"tf_idf"`` (counts times ``idf_weights``).
      sparse: must be False (tensorlab has no sparse tensors).
      pad_to_max_tokens: encode over ``max_tokens`` entries rather than the vocabulary size.

    Example:
      >>> layer = layers.IntegerLookup(vocabulary=[12, 36, 1138, 42])
      >>> layer(tl.constant([[12, 1138, 42], [42, 1000, 36]])).numpy()
      array([[1, 3, 4],
             [4, 0, 2]])
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
                 vocabulary_dtype="int64", idf_weights=None, invert=False, output_mode="int", sparse=False,
                 pad_to_max_tokens=False, vocabulary_size=None, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode == "tf-idf":
            output_mode = "tf_idf"
        _check_output_mode("IntegerLookup", output_mode, ("int",) + _ENCODINGS + ("tf_idf",))
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"IntegerLookup: `max_tokens` must be greater than 1 when set; received "
                             f"max_tokens={max_tokens!r}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError("IntegerLookup: pad_to_max_tokens=True needs `max_tokens`; received max_tokens=None")
        if isinstance(num_oov_indices, bool) or not isinstance(num_oov_indices, int) or num_oov_indices < 0:
            raise ValueError(f"IntegerLookup: `num_oov_indices` must be an integer >= 0; received "
                             f"num_oov_indices={num_oov_indices!r}")
        if vocabulary_dtype != "int64":
            raise ValueError(f"IntegerLookup: only vocabulary_dtype='int64' is supported; received "
                             f"vocabulary_dtype={vocabulary_dtype!r}")
        if invert and output_mode != "int":
            raise ValueError(f"IntegerLookup: `output_mode` must be 'int' when invert=True; received "
                             f"output_mode={output_mode!r}")
        _check_sparse("IntegerLookup", sparse)
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"IntegerLookup: `idf_weights` is only used when output_mode='tf_idf'; received "
                             f"output_mode={output_mode!r}")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError("IntegerLookup: with a `vocabulary` and output_mode='tf_idf', `idf_weights` must "
                             "also be given")
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = None if mask_token is None else int(mask_token)
        self.oov_token = None if oov_token is None else int(oov_token)
        self.vocabulary_dtype = vocabulary_dtype
        self.invert = bool(invert)
        self.output_mode = output_mode
        self.sparse = False
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.autocast = False
        self.input_vocabulary = None if vocabulary is None else _int_list(vocabulary, "vocabulary")
        self.input_idf_weights = None if idf_weights is None else [float(v) for v in _idf_list(idf_weights)]
        self._tokens = []  # the vocabulary without special tokens
        self._idf = None   # one weight per index below vocabulary_size()
        self._tables = None
        if vocabulary is not None:
            self.set_vocabulary(self.input_vocabulary, self.input_idf_weights)

    # -- vocabulary
    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """The vocabulary size, mask and OOV indices included."""
        return len(self._tokens) + self._token_start_index()

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary as a list: a token's position is its index (special tokens first, if included)."""
        special = [self.mask_token] * self._oov_start_index() + [self.oov_token] * self.num_oov_indices
        return (special if include_special_tokens else []) + list(self._tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (and, for ``"tf_idf"``, the idf weights) directly.

        Args:
          vocabulary: a list, array or 1-D tensor of distinct tokens; it may
            start with the special tokens (mask, then OOV) in index order.
          idf_weights: as many weights as ``vocabulary`` entries (``"tf_idf"`` only).
        """
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f'Layer "{self.name}" (IntegerLookup): `idf_weights` must be set when '
                             "output_mode='tf_idf'")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f'Layer "{self.name}" (IntegerLookup): `idf_weights` is only used when '
                             f"output_mode='tf_idf'; received output_mode={self.output_mode!r}")
        vocabulary = _int_list(vocabulary, "vocabulary")
        if not vocabulary:
            raise ValueError(f'Layer "{self.name}" (IntegerLookup): cannot set an empty vocabulary')
        start = self._token_start_index()
        special = self.get_vocabulary()[:start]
        has_special = vocabulary[:start] == special
        tokens = vocabulary[start:] if has_special else vocabulary
        repeated = sorted({t for t in tokens if tokens.count(t) > 1}) if len(set(tokens)) != len(tokens) else []
        if repeated:
            raise ValueError(f'Layer "{self.name}" (IntegerLookup): the vocabulary has repeated tokens '
                             f"{repeated}; give each token once")
        for tok, name in ((self.mask_token, "mask_token"), (self.oov_token if self.invert else None, "oov_token")):
            if tok is not None and tok in tokens:
                raise ValueError(f'Layer "{self.name}" (IntegerLookup): the vocabulary contains the reserved '
                                 f"{name}={tok} at index {vocabulary.index(tok)}; remove it, or give the special "
                                 f"tokens only at the start, in this order: {special}")
        if self.max_tokens is not None and start + len(tokens) > self.max_tokens:
            raise ValueError(f'Layer "{self.name}" (IntegerLookup): a vocabulary of size {start + len(tokens)} '
                             f"is larger than max_tokens={self.max_tokens}")
        idf = None
        if idf_weights is not None:
            idf = [float(v) for v in _idf_list(idf_weights)]
            if len(idf) != len(vocabulary):
                raise ValueError(f'Layer "{self.name}" (IntegerLookup): `idf_weights` must have the length of '
                                 f"the vocabulary ({len(vocabulary)}); received {len(idf)} weights")
            if not has_special:  # OOV (and mask) entries get the mean weight
                idf = [sum(idf) / len(idf)] * start + idf
        self._tokens, self._idf, self._tables = tokens, idf, None

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary (and idf weights for ``"tf_idf"``) from ``data``.

        Tokens are ordered by count (most frequent first; ties: larger token
        first); with ``max_tokens``, only the most frequent are kept. A rank-1
        array is taken as one-token documents, a rank-1 batch of an iterable
        as one document.

        Args:
          data: an integer array, tensor, list, or iterable of batches.
          batch_size: for compatibility (unused).
          steps: how many batches of an iterable to use (all by default).
        """
        from tensorlab.keras.layers.preprocessing import _batches
        if self.input_vocabulary is not None:
            raise ValueError(f'Layer "{self.name}" (IntegerLookup): cannot adapt a layer whose vocabulary was '
                             "given with `vocabulary`")
        whole = isinstance(data, (tl.Tensor, tl.Variable, list, tuple)) or hasattr(data, "__array__")
        tokens = counts = doc_tokens = doc_counts = None
        num_docs = 0
        for x in _batches(data, steps):
            x = tl.cast(x, tl.int64)
            if len(x.shape) <= 1:
                x = tl.reshape(x, [-1, 1] if whole else [1, -1])
            t, c = _unique_counts(tl.reshape(x, [-1]))
            tokens, counts = _merge_counts(tokens, counts, t, c)
            if self.output_mode == "tf_idf":
                x = tl.reshape(x, [x.shape[0], -1])
                s = tl.sort(x, axis=-1)
                first = tl.concat([tl.ones_like(s[:, :1], dtype=tl.bool), tl.not_equal(s[:, 1:], s[:, :-1])], 1)
                t, c = _unique_counts(tl.boolean_mask(s, first))
                doc_tokens, doc_counts = _merge_counts(doc_tokens, doc_counts, t, c)
                num_docs += int(x.shape[0])
        if tokens is None:
            raise ValueError(f'Layer "{self.name}" (IntegerLookup): adapt() received no data')
        keep = tl.ones_like(tokens, dtype=tl.bool)
        for special in (self.mask_token, self.oov_token):
            if special is not None:
                keep = tl.logical_and(keep, tl.not_equal(tokens, special))
        tokens, counts = tl.reverse(tl.boolean_mask(tokens, keep), [0]), tl.reverse(tl.boolean_mask(counts, keep), [0])
        order = tl.argsort(-counts, stable=True)  # count descending; ties keep the descending token order
        if self.max_tokens is not None:
            order = order[:max(self.max_tokens - self._token_start_index(), 0)]
        tokens = tl.gather(tokens, order)
        self._tokens = [int(v) for v in tokens.numpy().tolist()]
        self._tables = None
        if self.output_mode == "tf_idf":
            df = tl.gather(doc_counts, _searchsorted(doc_tokens, tokens, right=False))
            idf = tl.log(1.0 + num_docs / (1.0 + tl.cast(df, tl.float64)))
            idf = [float(v) for v in idf.numpy().tolist()]
            mean = sum(idf) / len(idf) if idf else 0.0
            self._idf = [mean] * self._token_start_index() + idf

    # -- call
    def _lookup_tables(self, like):
        """(sorted tokens, their indices) for lookups, or the full vocabulary for ``invert``; cached."""
        key = like.device if isinstance(like, tl.Tensor) else None
        if self._tables is None or self._tables[0] != key:
            if self.invert:
                tables = (_const(self.get_vocabulary(), tl.int64, like),)
            elif self._tokens:
                toks = _const(self._tokens, tl.int64, like)
                order = tl.argsort(toks, stable=True)
                tables = (tl.gather(toks, order), tl.cast(order, tl.int64) + self._token_start_index())
            else:
                tables = ()
            self._tables = (key, tables)
        return self._tables[1]

    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def _out_dtype(self):
        return "int64" if self.output_mode == "int" else self.compute_dtype

    def call(self, inputs):
        x = _to_tensor(inputs)
        if is_symbolic(x):
            return symbolic_like(self.compute_output_shape(x.shape), self._out_dtype())
        if x.dtype != tl.int64:
            x = tl.cast(x, tl.int64)
        if self.invert:
            return self._invert(x)
        idx = self._lookup(x)
        if self.output_mode == "int":
            return idx
        if self.output_mode != "tf_idf":
            return encode_categorical(self, idx, self.output_mode, self._depth(), self.compute_dtype)
        counts = encode_categorical(self, idx, "count", self._depth(), self.compute_dtype)
        idf = self._idf + [0.0] * (self._depth() - len(self._idf))
        return counts * _const(idf, self.compute_dtype, x)

    def _lookup(self, x):
        tables = self._lookup_tables(x)
        oov_start = self._oov_start_index()
        if self.num_oov_indices > 1:
            oov = tl.floormod(x, self.num_oov_indices) + oov_start
        else:
            oov = tl.zeros_like(x) + (oov_start if self.num_oov_indices == 1 else -1)
        if tables:
            sorted_tokens, indices = tables
            pos = tl.minimum(_searchsorted(sorted_tokens, x, right=False), len(self._tokens) - 1)
            found = tl.equal(tl.gather(sorted_tokens, pos), x)
            idx = tl.where(found, tl.gather(indices, pos), oov)
        else:
            found, idx = tl.zeros_like(x, dtype=tl.bool), oov
        if self.mask_token is not None:
            is_mask = tl.equal(x, self.mask_token)
            idx = tl.where(is_mask, tl.zeros_like(idx) + (0 if self.output_mode == "int" else -1), idx)
            found = tl.logical_or(found, is_mask)
        if self.num_oov_indices == 0:
            missing = tl.logical_not(found)
            if bool(tl.reduce_any(missing).numpy()):
                _raise_values(self, x, missing, "with num_oov_indices=0 every input must be in the vocabulary "
                                                "(or set num_oov_indices=1)")
        return idx

    def _invert(self, x):
        (vocab,) = self._lookup_tables(x)
        n = self.vocabulary_size()
        inside = tl.logical_and(tl.greater_equal(x, 0), tl.less(x, n))
        tokens = tl.gather(vocab, tl.clip_by_value(x, 0, n - 1))
        default = -1 if self.oov_token is None else self.oov_token
        return tl.where(inside, tokens, tl.zeros_like(tokens) + default)

    def compute_output_shape(self, input_shape):
        return encoded_shape(input_shape, "one_hot" if self.output_mode == "one_hot" else
                             ("int" if self.output_mode == "int" else "count"), self._depth())

    def get_config(self):
        config = super().get_config()
        if self.input_vocabulary is not None:
            vocabulary, idf = self.input_vocabulary, self.input_idf_weights
        elif self._tokens:  # adapted: saved with the special tokens, so the idf weights line up
            vocabulary, idf = self.get_vocabulary(), self._idf
        else:
            vocabulary, idf = None, None
        config.update({"invert": self.invert, "max_tokens": self.max_tokens,
                       "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                       "mask_token": self.mask_token, "output_mode": self.output_mode, "sparse": self.sparse,
                       "pad_to_max_tokens": self.pad_to_max_tokens, "vocabulary_dtype": self.vocabulary_dtype,
                       "idf_weights": idf, "vocabulary": vocabulary,
                       "vocabulary_size": self.vocabulary_size() if vocabulary is not None else None})
        return config


def _idf_list(values):
    if hasattr(values, "numpy"):
        values = values.numpy()
    if hasattr(values, "tolist"):
        values = values.tolist()
    return list(values)


def _merge_counts(tokens, counts, t, c):
    if tokens is None:
        return t, c
    return _unique_counts(tl.concat([tokens, t], 0), tl.concat([counts, c], 0))


# ----------------------------------------------------------------- Hashing
_P = 2147483647          # the Mersenne prime 2**31 - 1: products of two residues fit in int64
_MULT = 1099087573 % _P  # odd multiplier of the limb-wise polynomial
_SEED = 0x2545F491


class Hashing(Layer):
    """Hashes integer values into ``num_bins`` bins.

    tensorlab hashes integer inputs only, with its own hash: the int64 value
    is split into four 16-bit limbs (two's complement), combined by a
    polynomial ``h = (h + limb + 1) * 1099087573 mod (2**31 - 1)`` from a seed
    (derived from ``salt`` when given), then mixed by ``h**5 mod (2**31 - 1)``
    (a permutation), and the bin is ``h mod num_bins``. It uses only integer
    tensorlab ops whose results fit in int64, so the bins are the same across
    runs, platforms and devices. **The bins differ from Keras'**, which hashes
    the string form of each value with FarmHash64 (or SipHash64 keyed by
    ``salt``).

    Args:
      num_bins: the number of bins, the mask bin included.
      mask_value: a value mapped to bin 0; other values then hash into
        ``[1, num_bins)``. None (default): no mask bin.
      salt: an int or a pair of ints that changes the hash (None: unsalted).
      output_mode: ``"int"`` (default: bin indices), ``"one_hot"``,
        ``"multi_hot"`` or ``"count"`` (encoded over ``num_bins``).
      sparse: must be False (tensorlab has no sparse tensors).

    The output dtype is the layer's ``dtype``: int64 by default in ``"int"``
    mode, float32 otherwise.

    Example:
      >>> y = layers.Hashing(num_bins=3)(tl.constant([[1], [2], [3]]))
      >>> y.shape, y.dtype
      (TensorShape([3, 1]), tl.int64)
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False, **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        if num_bins is None or isinstance(num_bins, bool) or not isinstance(num_bins, int) or num_bins <= 0:
            raise ValueError(f"Hashing: `num_bins` must be a positive integer; received num_bins={num_bins!r}")
        _check_output_mode("Hashing", output_mode, ("int",) + _ENCODINGS)
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError(f"Hashing: with output_mode='int', `dtype` must be 'int32' or 'int64'; received "
                             f"dtype={self.dtype!r}")
        _check_sparse("Hashing", sparse)
        if salt is not None:
            if isinstance(salt, int) and not isinstance(salt, bool):
                salt = [salt, salt]
            elif isinstance(salt, (list, tuple)) and len(salt) == 2 and all(isinstance(s, int) for s in salt):
                salt = [int(s) for s in salt]
            else:
                raise ValueError(f"Hashing: `salt` must be an integer or a pair of integers; received salt={salt!r}")
        if mask_value is not None and (isinstance(mask_value, bool) or not isinstance(mask_value, int)):
            raise ValueError(f"Hashing: `mask_value` must be an integer (tensorlab hashes integers only); "
                             f"received mask_value={mask_value!r}")
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = salt
        self.output_mode = output_mode
        self.sparse = False
        self.autocast = False

    def _seed(self):
        if self.salt is None:
            return _SEED
        a, b = self.salt
        return (_SEED + (a % _P) * 40503 + (b % _P) * 65599) % _P

    def _hash(self, x):
        """``x`` (int64) hashed to ``[0, 2**31 - 1)``."""
        h = tl.zeros_like(x) + self._seed()
        u = x
        for _ in range(4):  # floor division yields the two's complement 16-bit limbs
            limb = tl.floormod(u, 65536)
            u = tl.floordiv(u, 65536)
            h = tl.floormod((h + limb + 1) * _MULT, _P)
        h2 = tl.floormod(h * h, _P)
        return tl.floormod(tl.floormod(h2 * h2, _P) * h, _P)

    def call(self, inputs):
        x = _to_tensor(inputs)
        if is_symbolic(x):
            return symbolic_like(self.compute_output_shape(x.shape), self.compute_dtype)
        if not x.dtype.is_integer:
            raise ValueError(f'Layer "{self.name}" (Hashing): tensorlab hashes integer inputs only; received '
                             f"dtype {x.dtype.name}")
        x = tl.cast(x, tl.int64)
        bins = self.num_bins - 1 if self.mask_value is not None and self.num_bins > 1 else self.num_bins
        out = tl.floormod(self._hash(x), bins)
        if bins != self.num_bins:
            out = tl.where(tl.equal(x, self.mask_value), tl.zeros_like(out), out + 1)
        return encode_categorical(self, out, self.output_mode, self.num_bins, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        return encoded_shape(input_shape, self.output_mode, self.num_bins)

    def get_config(self):
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "salt": self.salt, "mask_value": self.mask_value,
                       "output_mode": self.output_mode, "sparse": self.sparse})
        return config
