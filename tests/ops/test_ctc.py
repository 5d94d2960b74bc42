"""The CTC loss (ops/ctc.py) and Keras' CTC loss (keras/losses_ctc.py): forward vs brute force
over all alignments (tiny cases) and a float64 numpy alpha recursion (larger ones), gradients
vs finite differences, variable lengths, blank_index, layouts, error messages, GPU vs CPU."""
import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

import tensorlab as tl
from tensorlab import keras
from tests.ops.harness import Case, S, op_tests


def _log_softmax(x):
    return x - logsumexp(x, axis=-1, keepdims=True)


def _collapse(path, blank):
    out, prev = [], None
    for p in path:
        if p != prev and p != blank:
            out.append(p)
        prev = p
    return out


def _ctc_brute(logits, labels, label_length, logit_length, blank=0):
    """-log of the summed probability of every frame-by-frame path that collapses to the labels."""
    lp = _log_softmax(logits)
    classes = lp.shape[-1]
    out = []
    for b in range(lp.shape[1]):
        target, frames = list(labels[b, :label_length[b]]), logit_length[b]
        total = 0.0 if frames == 0 and not target else -np.inf
        for path in itertools.product(range(classes), repeat=frames) if frames else ():
            if _collapse(path, blank) == target:
                total = np.logaddexp(total, sum(lp[t, b, k] for t, k in enumerate(path)))
        out.append(-total)
    return np.array(out)


def _ctc_recursion(logits, labels, label_length, logit_length, blank=0):
    """The textbook alpha recursion, one example and one state at a time (float64)."""
    lp = _log_softmax(logits)
    out = []
    for b in range(lp.shape[1]):
        ext = [blank]
        for k in labels[b, :label_length[b]]:
            ext += [int(k), blank]
        frames = logit_length[b]
        if frames == 0:
            out.append(0.0 if len(ext) == 1 else np.inf)
            continue
        a = np.full(len(ext), -np.inf)
        a[:2] = [lp[0, b, k] for k in ext[:2]]
        for t in range(1, frames):
            new = np.empty_like(a)
            for s, k in enumerate(ext):
                terms = [a[s]] + ([a[s - 1]] if s >= 1 else [])
                if s >= 2 and k != blank and k != ext[s - 2]:
                    terms.append(a[s - 2])
                new[s] = logsumexp(terms) + lp[t, b, k]
            a = new
        out.append(-np.logaddexp(a[-1], a[-2] if len(ext) > 1 else -np.inf))
    return np.array(out)


def _const(v):
    return S(kind="const", value=np.asarray(v))


def _case(tag, frames, labels, label_length, logit_length, classes, ref=_ctc_recursion, blank_index=None,
          time_major=True, **kw):
    batch = len(labels)
    shape = (frames, batch, classes) if time_major else (batch, frames, classes)
    blank = 0 if blank_index is None else blank_index % classes

    def fn(x, lab, ll, tlen):
        return tl.nn.ctc_loss(lab, x, ll, tlen, logits_time_major=time_major, blank_index=blank_index)

    def reference(x, lab, ll, tlen):
        return ref(x if time_major else np.swapaxes(x, 0, 1), lab, ll, tlen, blank)
    return Case(f"ctc_loss[{tag}]", fn, reference,
                [S(shape, low=-3, high=3), _const(labels), _const(label_length), _const(logit_length)],
                second=False, **kw)


def _random_case(tag, seed, frames, batch, classes, width, **kw):
    r = np.random.default_rng(seed)
    label_length = r.integers(0, width + 1, size=batch)
    label_length[0] = width
    logit_length = np.maximum(r.integers(frames // 2, frames + 1, size=batch), 2 * label_length + 1)
    logit_length[0] = frames
    labels = r.integers(1, classes, size=(batch, width))
    labels[0, 1] = labels[0, 0]  # a repeat, which needs a blank between
    return _case(tag, frames, labels, label_length, np.minimum(logit_length, frames), classes, **kw)


CASES = [
    _case("brute,repeats", 5, [[1, 1], [2, 1]], [2, 2], [5, 4], 3, ref=_ctc_brute),
    _case("brute,lengths", 5, [[1, 2, 3], [3, 0, 0], [2, 2, 0]], [3, 1, 0], [5, 3, 4], 4, ref=_ctc_brute),
    _case("brute,blank last", 4, [[0, 1], [2, 2]], [2, 1], [4, 4], 4, ref=_ctc_brute, blank_index=-1),
    _case("brute,blank 1,batch major", 4, [[0, 2], [3, 0]], [2, 2], [4, 3], 4, ref=_ctc_brute, blank_index=1,
          time_major=False),
    _case("brute,labels fill the frames", 3, [[1, 2, 1]], [3], [3], 3, ref=_ctc_brute),
    _random_case("recursion", 1, 40, 4, 6, 8),
    _random_case("recursion,batch major", 2, 30, 3, 5, 6, time_major=False),
]

globals().update(op_tests(CASES))  # forward (float64/float32), gradient, shape rule, GPU


def test_ctc_long_sequences_match_the_recursion(rng):
    frames, batch, classes, width = 200, 3, 20, 40
    x = rng.normal(size=(frames, batch, classes)) * 2
    labels = rng.integers(1, classes, size=(batch, width))
    ll, tlen = np.array([40, 25, 0]), np.array([200, 150, 7])
    got = tl.nn.ctc_loss(tl.constant(labels), tl.constant(x), tl.constant(ll), tl.constant(tlen)).numpy()
    np.testing.assert_allclose(got, _ctc_recursion(x, labels, ll, tlen), rtol=1e-11)
    got32 = tl.nn.ctc_loss(tl.constant(labels), tl.constant(x, dtype=tl.float32), tl.constant(ll), tl.constant(tlen))
    assert got32.dtype == tl.float32
    np.testing.assert_allclose(got32.numpy(), got, rtol=1e-5)


def _loss_and_grad(labels, x, ll, tlen, **kw):
    xt = tl.constant(x)
    with tl.GradientTape() as tape:
        tape.watch(xt)
        loss = tl.nn.ctc_loss(tl.constant(labels), xt, tl.constant(ll), tl.constant(tlen), **kw)
        total = tl.reduce_sum(tl.where(tl.math.is_finite(loss), loss, tl.zeros_like(loss)))
    return loss.numpy(), tape.gradient(total, xt).numpy()


def test_ctc_gradient_is_zero_past_logit_length_and_sums_to_zero_per_frame(rng):
    x = rng.normal(size=(6, 2, 4))
    loss, g = _loss_and_grad([[1, 2], [3, 3]], x, [2, 2], [6, 4])
    assert np.all(np.isfinite(loss))
    np.testing.assert_array_equal(g[4:, 1], 0.0)  # frames 4 and 5 of example 1 do not count
    np.testing.assert_allclose(g.sum(-1), 0.0, atol=1e-12)  # softmax - occupancy: both sum to 1


def test_ctc_infeasible_alignment_is_inf_with_zero_gradient(rng):
    x = rng.normal(size=(3, 2, 3))
    # "1 1" needs 3 frames (1, blank, 1); "2 2 2" needs 5 but label_length <= logit_length holds.
    loss, g = _loss_and_grad([[1, 1, 0], [2, 2, 2]], x, [2, 3], [3, 3])
    assert np.isfinite(loss[0]) and loss[1] == np.inf
    np.testing.assert_array_equal(g[:, 1], 0.0)
    assert np.abs(g[:, 0]).max() > 0


def test_ctc_empty_labels_are_all_blanks(rng):
    x = rng.normal(size=(5, 2, 3))
    loss, _ = _loss_and_grad(np.zeros((2, 0), np.int32), x, [0, 0], [5, 0])
    np.testing.assert_allclose(loss, [-_log_softmax(x)[:, 0, 0].sum(), 0.0], rtol=1e-12)


def test_ctc_float16_logits_compute_in_float32(rng):
    x = rng.normal(size=(6, 2, 4))
    got = tl.nn.ctc_loss(tl.constant([[1, 2], [3, 0]]), tl.constant(x, dtype=tl.float16), tl.constant([2, 1]),
                         tl.constant([6, 5]))
    assert got.dtype == tl.float16
    want = _ctc_recursion(x.astype(np.float16).astype(np.float64), np.array([[1, 2], [3, 0]]), [2, 1], [6, 5])
    np.testing.assert_allclose(got.numpy(), want, rtol=2e-3)


def test_ctc_symbolic_shapes():
    loss = tl.nn.ctc_loss(tl.SymbolicTensor((None, 7), tl.int32), tl.SymbolicTensor((50, None, 6)),
                          tl.SymbolicTensor((None,), tl.int32), tl.SymbolicTensor((None,), tl.int32))
    assert tuple(loss.shape) == (None,) and loss.dtype == tl.float32


# ----------------------------------------------------------------- errors
_IAE = tl.errors.InvalidArgumentError


def _call(labels=((1, 2),), logits_shape=(4, 1, 3), ll=(2,), tlen=(4,), **kw):
    return tl.nn.ctc_loss(tl.constant(np.asarray(labels, np.int32)), tl.ones(logits_shape), tl.constant(ll),
                          tl.constant(tlen), **kw)


def test_error_ctc_label_longer_than_logits():
    with pytest.raises(_IAE, match=r"ctc_loss: example 1 has 3 labels but only 2 frames \(label_length\[1\] = 3 > "
                                   r"logit_length\[1\] = 2\)"):
        _call(labels=[[1, 2, 1], [1, 2, 1]], logits_shape=(4, 2, 3), ll=[2, 3], tlen=[4, 2])


def test_error_ctc_lengths_out_of_range():
    with pytest.raises(_IAE, match=r"ctc_loss: label_length\[0\] = 3 is outside \[0, 2\] "
                                   r"\(labels have shape \[1,2\]\)"):
        _call(ll=[3])
    with pytest.raises(_IAE, match=r"ctc_loss: logit_length\[0\] = 9 is outside \[0, 4\] \(logits have 4 frames\)"):
        _call(tlen=[9])
    with pytest.raises(_IAE, match=r"ctc_loss: label_length\[0\] = -1 is outside"):
        _call(ll=[-1])


def test_error_ctc_bad_labels_name_the_blank_and_the_classes():
    with pytest.raises(_IAE, match=r"ctc_loss: labels\[0, 1\] = 0 is not a label: labels must be classes in \[0, 3\) "
                                   r"other than the blank index 0"):
        _call(labels=[[1, 0]])
    with pytest.raises(_IAE, match=r"ctc_loss: labels\[0, 0\] = 5 is not a label.*\[0, 3\).*blank index 2"):
        _call(labels=[[5, 1]], blank_index=-1)
    _call(labels=[[1, 2, 7]])  # padding past label_length is never read


def test_error_ctc_shapes_dtypes_and_blank_index():
    with pytest.raises(_IAE, match=r"ctc_loss: logits must have rank 3 \(\[frames, batch, classes\]\), "
                                   r"got shape \[4,3\]"):
        _call(logits_shape=(4, 3))
    with pytest.raises(_IAE, match=r"ctc_loss: labels must have rank 2.*got shape \[2\]"):
        tl.nn.ctc_loss(tl.constant([1, 2]), tl.ones([4, 1, 3]), tl.constant([2]), tl.constant([4]))
    with pytest.raises(_IAE, match=r"ctc_loss: the batch sizes differ: logits 2, labels 1, label_length 1, "
                                   r"logit_length 1"):
        _call(logits_shape=(4, 2, 3))
    with pytest.raises(_IAE, match=r"ctc_loss: label_length must have rank 1 \(\[batch\]\), got shape \[1,1\]"):
        _call(ll=[[2]])
    with pytest.raises(TypeError, match=r"ctc_loss: labels must be int32 or int64, got dtype float32"):
        tl.nn.ctc_loss(tl.constant([[1.0, 2.0]]), tl.ones([4, 1, 3]), tl.constant([2]), tl.constant([4]))
    with pytest.raises(TypeError, match=r"ctc_loss: expected a floating-point tensor"):
        tl.nn.ctc_loss(tl.constant([[1, 2]]), tl.ones([4, 1, 3], dtype=tl.int32), tl.constant([2]), tl.constant([4]))
    with pytest.raises(_IAE, match=r"ctc_loss: blank_index 3 is out of range for logits with 3 classes "
                                   r"\(valid: -3..2\)"):
        _call(blank_index=3)
    with pytest.raises(TypeError, match=r"ctc_loss: SparseTensor labels are not supported"):
        from tensorlab.io.parsing import SparseTensor
        tl.nn.ctc_loss(SparseTensor([[0, 0]], tl.constant([1]), [1, 1]), tl.ones([4, 1, 3]), None, tl.constant([4]),
                       blank_index=0)


def test_error_ctc_second_derivative_is_not_implemented(rng):
    x = tl.constant(rng.normal(size=(4, 1, 3)))
    with tl.GradientTape() as outer:
        outer.watch(x)
        with tl.GradientTape() as inner:
            inner.watch(x)
            loss = tl.reduce_sum(tl.nn.ctc_loss(tl.constant([[1, 2]]), x, tl.constant([2]), tl.constant([4])))
        g = tl.reduce_sum(tl.square(inner.gradient(loss, x)))
    with pytest.raises(NotImplementedError, match=r"ctc_loss: second derivatives are not implemented"):
        outer.gradient(g, x)


@pytest.mark.gpu
def test_error_ctc_label_longer_than_logits_on_gpu():
    with tl.device("gpu:0"):
        with pytest.raises(_IAE, match=r"ctc_loss: example 0 has 2 labels but only 1 frames"):
            _call(tlen=[1])
        good = _call()  # the process stays usable
        np.testing.assert_allclose(good.numpy(), _ctc_brute(np.ones((4, 1, 3)), np.array([[1, 2]]), [2], [4]),
                                   rtol=1e-6)


# ----------------------------------------------------------------- keras.losses.CTC
def test_keras_ctc_counts_nonzero_labels_and_uses_every_frame(rng):
    y_pred = rng.normal(size=(3, 6, 4))
    y_true = np.array([[1, 2, 0], [3, 3, 0], [2, 0, 0]])
    got = keras.losses.ctc(tl.constant(y_true), tl.constant(y_pred)).numpy()
    want = _ctc_recursion(np.swapaxes(y_pred, 0, 1), y_true, [2, 2, 1], [6, 6, 6])
    np.testing.assert_allclose(got, want, rtol=1e-11)
    loss = keras.losses.CTC()
    np.testing.assert_allclose(loss(tl.constant(y_true), tl.constant(y_pred)).numpy(), want.mean(), rtol=1e-11)
    summed = keras.losses.CTC(reduction="sum")(y_true.astype(np.float32), tl.constant(y_pred))  # float labels too
    np.testing.assert_allclose(summed.numpy(), want.sum(), rtol=1e-11)
    half = keras.losses.CTC(reduction=None)(tl.constant(y_true), tl.constant(y_pred, dtype=tl.float16))
    assert half.dtype == tl.float32  # the loss computes in float32 for a float16 model output


def test_keras_ctc_config_and_lookup():
    loss = keras.losses.CTC(reduction="sum", name="my_ctc")
    assert loss.get_config() == {"name": "my_ctc", "reduction": "sum"}
    again = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(again, keras.losses.CTC) and again.get_config() == loss.get_config()
    assert keras.losses.get("ctc") is keras.losses.ctc
    got = keras.losses.get("CTC")
    assert got is keras.losses.CTC or isinstance(got, keras.losses.CTC)


def test_keras_ctc_trains_a_model_with_fit(rng):
    x = rng.normal(size=(8, 10, 5)).astype(np.float32)
    y = rng.integers(1, 4, size=(8, 3))
    model = keras.Sequential([keras.Input((10, 5)), keras.layers.Dense(4)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.CTC())
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_error_keras_ctc_ranks():
    with pytest.raises(ValueError, match=r"ctc: targets `y_true` are expected.*y_true.shape=\(2,\)"):
        keras.losses.ctc(tl.constant([1, 2]), tl.ones([1, 4, 3]))
    with pytest.raises(ValueError, match=r"ctc: logits `y_pred` are expected.*y_pred.shape=\(1, 4\)"):
        keras.losses.ctc(tl.constant([[1, 2]]), tl.ones([1, 4]))
