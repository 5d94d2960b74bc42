"""Sorting ops: sort, argsort (stable), top_k: forward, gradients, shape rules, errors, GPU."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import S, op_tests
from tests.ops.test_shape import C

IAE = tl.errors.InvalidArgumentError


def _np_topk(x, k):
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    return [np.take_along_axis(x, idx, -1), idx.astype(np.int32)]


CASES = [
    C("sort", lambda x: tl.sort(x, axis=0), lambda x: np.sort(x, axis=0), [S((4, 3))]),
    C("sort_descending", lambda x: tl.sort(x, direction="DESCENDING"), lambda x: -np.sort(-x, axis=-1),
      [S((3, 5))]),
    C("top_k", lambda x: tl.math.top_k(x, k=3), lambda x: _np_topk(x, 3), [S((2, 5))]),
    C("top_k_all", lambda x: tl.nn.top_k(x, k=4), lambda x: _np_topk(x, 4), [S((4,))]),
]


globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU


def test_argsort_is_stable_both_directions():
    x = tl.constant([2, 1, 2, 1, 3, 2])
    np.testing.assert_array_equal(tl.argsort(x).numpy(), [1, 3, 0, 2, 5, 4])
    np.testing.assert_array_equal(tl.argsort(x, direction="DESCENDING").numpy(), [4, 0, 2, 5, 1, 3])
    assert tl.argsort(x).dtype == tl.int32


def test_argsort_along_axis_matches_numpy(rng):
    a = rng.normal(size=(3, 4, 5))
    for ax in (0, 1, -1):
        np.testing.assert_array_equal(tl.argsort(tl.constant(a), axis=ax).numpy(), np.argsort(a, axis=ax))
        np.testing.assert_array_equal(tl.argsort(tl.constant(a), axis=ax, direction="DESCENDING").numpy(),
                                      np.argsort(-a, axis=ax))


def test_top_k_ties_prefer_lower_index_and_gradient_scatters():
    x = tl.constant([[1.0, 3.0, 3.0, 2.0], [4.0, 0.5, 4.0, 4.0]])
    with tl.GradientTape() as tape:
        tape.watch(x)
        res = tl.math.top_k(x, k=2)
        loss = tl.reduce_sum(res.values * tl.constant([[1.0, 10.0], [100.0, 1000.0]]))
    np.testing.assert_array_equal(res.indices.numpy(), [[1, 2], [0, 2]])
    assert res.indices.dtype == tl.int32
    values, indices = res
    np.testing.assert_array_equal(values.numpy(), [[3, 3], [4, 4]])
    np.testing.assert_array_equal(tape.gradient(loss, x).numpy(), [[0, 1, 10, 0], [100, 0, 1000, 0]])


def test_sort_integers_and_top_k_batch(rng):
    a = rng.integers(-50, 50, size=(4, 6)).astype(np.int32)
    np.testing.assert_array_equal(tl.sort(tl.constant(a)).numpy(), np.sort(a))
    np.testing.assert_array_equal(tl.sort(tl.constant(a), axis=0, direction="DESCENDING").numpy(),
                                  -np.sort(-a, axis=0))
    v, i = tl.math.top_k(tl.constant(a), 2)
    np.testing.assert_array_equal(v.numpy(), np.take_along_axis(a, i.numpy(), -1))
    np.testing.assert_array_equal(v.numpy(), -np.sort(-a, -1)[:, :2])


def test_error_top_k_and_sort_arguments():
    with pytest.raises(IAE, match=r"top_k: k=6.*\[0, 5\].*\[2,5\]"):
        tl.math.top_k(tl.ones([2, 5]), 6)
    with pytest.raises(IAE, match=r"sort: direction must be"):
        tl.sort(tl.ones([3]), direction="UP")
    with pytest.raises(IAE, match=r"argsort: input must have rank >= 1"):
        tl.argsort(tl.constant(1.0))


@pytest.mark.gpu
def test_gpu_sorting_is_stable_and_shape_queries_live_on_the_gpu():
    with tl.device("gpu:0"):
        x = tl.constant([2, 1, 2, 1, 3, 2])
        np.testing.assert_array_equal(tl.argsort(x).numpy(), [1, 3, 0, 2, 5, 4])
        np.testing.assert_array_equal(tl.argsort(x, direction="DESCENDING").numpy(), [4, 0, 2, 5, 1, 3])
        v, i = tl.math.top_k(tl.cast(x, tl.float32), 2)
        np.testing.assert_array_equal(i.numpy(), [4, 0])
        s = tl.shape(tl.ones([2, 3]))
        assert "GPU" in s.device and s.numpy().tolist() == [2, 3]
        parts = tl.split(tl.ones([2, 7]), [3, -1, 2], axis=1)
        assert [p.shape[1] for p in parts] == [3, 2, 2] and "GPU" in parts[0].device
