"""Cross-entropy losses: forward vs numpy float64 (including huge logits), gradients, errors."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

import tensorlab as tl
from tests.ops.harness import Case, S, check_forward, check_grad, op_tests


def _lse(x, axis=-1):
    m = x.max(axis=axis, keepdims=True)
    return (np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m).squeeze(axis)


def _sparse_ref(logits, labels):
    picked = np.take_along_axis(logits, labels[..., None].astype(np.int64), -1)[..., 0]
    return _lse(logits) - picked


def _softmax_xent_ref(labels, logits, axis=-1):
    return -(labels * (logits - np.expand_dims(_lse(logits, axis), axis))).sum(axis=axis)


def _sigmoid_xent_ref(labels, logits):
    # log(1 + exp(-|x|)) + max(x, 0) - x z, in float64
    return np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))


def _sparse(logits, labels):
    return tl.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


LABELS = S(shape=(4,), kind="int", dtype="int32", low=0, high=5, diff=False)
CASES = [
    Case("sparse_softmax_xent", _sparse, _sparse_ref, [S(shape=(4, 5), low=-3, high=3), LABELS]),
    Case("sparse_softmax_xent_3d", _sparse, _sparse_ref,
         [S(shape=(2, 3, 4)), S(shape=(2, 3), kind="int", dtype="int64", low=0, high=4, diff=False)]),
    Case("softmax_xent", lambda z, x: tl.nn.softmax_cross_entropy_with_logits(labels=z, logits=x),
         _softmax_xent_ref, [S(shape=(3, 4), low=0, high=1), S(shape=(3, 4))]),
    Case("softmax_xent_axis0", lambda z, x: tl.nn.softmax_cross_entropy_with_logits(z, x, axis=0),
         lambda z, x: _softmax_xent_ref(z, x, 0), [S(shape=(4, 2), low=0, high=1), S(shape=(4, 2))]),
    Case("sigmoid_xent", lambda z, x: tl.nn.sigmoid_cross_entropy_with_logits(labels=z, logits=x),
         _sigmoid_xent_ref, [S(shape=(3, 4), low=0, high=1), S(shape=(3, 4), low=-4, high=4)]),
    Case("weighted_xent", lambda z, x: tl.nn.weighted_cross_entropy_with_logits(z, x, pos_weight=2.5),
         lambda z, x: z * 2.5 * np.log1p(np.exp(-x)) + (1 - z) * (x + np.log1p(np.exp(-x))),
         [S(shape=(3, 4), low=0, high=1), S(shape=(3, 4), low=-4, high=4)]),
    Case("log_poisson", lambda z, c: tl.nn.log_poisson_loss(z, c), lambda z, c: np.exp(c) - c * z,
         [S(shape=(5,), low=0, high=3), S(shape=(5,))]),
    Case("log_poisson_full", lambda z, c: tl.nn.log_poisson_loss(z, c, compute_full_loss=True),
         lambda z, c: np.exp(c) - c * z + np.where(
             z > 1, z * np.log(np.maximum(z, 1)) - z + 0.5 * np.log(2 * np.pi * np.maximum(z, 1)), 0),
         [S(shape=(6,), low=1.2, high=4), S(shape=(6,))]),
]


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3), k=st.integers(1, 5),
       seed=st.integers(0, 2 ** 32 - 1))
def test_sparse_xent_drawn_shapes(batch, k, seed):
    """Any batch shape (even scalar labels) and any class count, including a single class."""
    rng = np.random.default_rng(seed)
    case = Case("sparse", _sparse, _sparse_ref,
                [S(shape=batch + (k,)), S(shape=batch, kind="int", dtype="int32", low=0, high=k, diff=False)])
    check_forward(case, rng, dtypes=("float64",))
    check_grad(case, rng)


def test_sparse_gradient_is_softmax_minus_onehot(rng):
    logits = rng.normal(size=(3, 4))
    labels = np.array([0, 3, 1])
    x = tl.constant(logits)
    with tl.GradientTape() as tape:
        tape.watch(x)
        loss = tl.reduce_sum(_sparse(x, tl.constant(labels)))
    e = np.exp(logits - logits.max(-1, keepdims=True))
    np.testing.assert_allclose(tape.gradient(loss, x).numpy(), e / e.sum(-1, keepdims=True) - np.eye(4)[labels])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_huge_logits_do_not_overflow(rng, dtype):
    """Logits of size 1e4 (exp would overflow) give the float64 reference and finite gradients."""
    logits = (rng.normal(size=(4, 6)) * 1e4).astype(dtype)
    labels = rng.integers(0, 6, size=4)
    probs = rng.dirichlet(np.ones(6), size=4).astype(dtype)
    z = rng.uniform(size=(4, 6)).astype(dtype)
    x = tl.constant(logits)
    with tl.GradientTape(persistent=True) as tape:
        tape.watch(x)
        outs = {
            "sparse": _sparse(x, tl.constant(labels)),
            "softmax": tl.nn.softmax_cross_entropy_with_logits(tl.constant(probs), x),
            "sigmoid": tl.nn.sigmoid_cross_entropy_with_logits(labels=tl.constant(z), logits=x),
        }
    refs = {"sparse": _sparse_ref(logits.astype(np.float64), labels),
            "softmax": _softmax_xent_ref(probs.astype(np.float64), logits.astype(np.float64)),
            "sigmoid": _sigmoid_xent_ref(z.astype(np.float64), logits.astype(np.float64))}
    for k, y in outs.items():
        assert np.all(np.isfinite(y.numpy())), k
        # A loss near 0 is a difference of two ~1e4 terms: allow the input's rounding as absolute error.
        atol = 10 * np.finfo(dtype).eps * np.abs(logits).max()
        np.testing.assert_allclose(y.numpy(), refs[k], rtol=1e-5, atol=atol, err_msg=k)
        g = tape.gradient(y, x).numpy()
        assert np.all(np.isfinite(g)), k


def test_sigmoid_xent_matches_naive_formula_for_moderate_logits(rng):
    x = rng.normal(size=(10,))
    z = rng.uniform(size=(10,))
    s = 1 / (1 + np.exp(-x))
    naive = -z * np.log(s) - (1 - z) * np.log(1 - s)
    got = tl.nn.sigmoid_cross_entropy_with_logits(labels=tl.constant(z), logits=tl.constant(x)).numpy()
    np.testing.assert_allclose(got, naive, rtol=1e-10)


def test_softmax_xent_labels_list_takes_logits_dtype():
    y = tl.nn.softmax_cross_entropy_with_logits(labels=[[0.0, 1.0]], logits=tl.constant([[0.0, 0.0]]))
    assert y.dtype == tl.float32
    np.testing.assert_allclose(y.numpy(), [np.log(2)], rtol=1e-6)


def test_sparse_xent_symbolic_unknown_batch():
    y = _sparse(tl.SymbolicTensor((None, 10)), tl.SymbolicTensor((None,), tl.int32))
    assert tuple(y.shape) == (None,) and y.dtype == tl.float32


@pytest.mark.parametrize("bad", [5, -1, 7])
def test_error_sparse_label_out_of_range_names_value_and_classes(bad):
    with pytest.raises(tl.errors.InvalidArgumentError,
                       match=rf"sparse_softmax_cross_entropy_with_logits.*label value of {bad}.*\[0, 5\)"):
        _sparse(tl.ones([3, 5]), tl.constant([0, bad, 1]))


def test_error_sparse_label_shape_mismatch():
    with pytest.raises(tl.errors.InvalidArgumentError,
                       match=r"sparse_softmax_cross_entropy_with_logits: labels shape \[2\].*\[3,5\].*\[3\]"):
        _sparse(tl.ones([3, 5]), tl.constant([0, 1]))


def test_error_sparse_float_labels():
    with pytest.raises(TypeError, match="sparse_softmax_cross_entropy_with_logits.*float32"):
        _sparse(tl.ones([2, 3]), tl.constant([0.0, 1.0]))


def test_error_softmax_xent_shape_mismatch():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"softmax_cross_entropy_with_logits.*\[2,3\].*\[2,4\]"):
        tl.nn.softmax_cross_entropy_with_logits(tl.ones([2, 3]), tl.ones([2, 4]))


def test_error_sigmoid_xent_shape_mismatch():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"sigmoid_cross_entropy_with_logits.*\[3\].*\[2\]"):
        tl.nn.sigmoid_cross_entropy_with_logits(labels=tl.ones([2]), logits=tl.ones([3]))


def test_sparse_xent_computes_its_backprop_in_the_forward_pass_only_under_a_tape(monkeypatch, rng):
    import tensorlab.backend.cpu as cpu_backend
    from tensorlab.core.registry import REGISTRY

    cpu_backend.load()  # the CPU implementations register on first use
    impls = REGISTRY["sparse_softmax_cross_entropy_with_logits"].impls
    orig, asked = impls["cpu"], []
    monkeypatch.setitem(impls, "cpu", lambda lg, lb, need_backprop: asked.append(need_backprop) or
                        orig(lg, lb, need_backprop))
    logits = tl.constant(rng.normal(size=(4, 6)))
    labels = tl.constant(rng.integers(0, 6, size=4))
    plain = tl.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    with tl.GradientTape() as tape:
        tape.watch(logits)
        loss = tl.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    assert asked == [False, True]
    np.testing.assert_array_equal(plain.numpy(), loss.numpy())
    w = rng.uniform(0.5, 1.5, size=4)
    grad = tape.gradient(loss, logits, output_gradients=tl.constant(w)).numpy()
    x = logits.numpy()
    probs = np.exp(x - x.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    np.testing.assert_allclose(grad, (probs - np.eye(6)[labels.numpy()]) * w[:, None], rtol=1e-12, atol=1e-14)
