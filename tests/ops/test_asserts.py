"""tl.debugging.assert_* and tl.Assert: pass silently when the condition holds, raise TF 2's eager
errors (InvalidArgumentError for values, ValueError for ranks/shapes, TypeError for dtypes) when not."""
import numpy as np
import pytest

import tensorlab as tl

D = tl.debugging
PAIRS = [(D.assert_equal, np.equal), (D.assert_none_equal, np.not_equal), (D.assert_less, np.less),
         (D.assert_less_equal, np.less_equal), (D.assert_greater, np.greater),
         (D.assert_greater_equal, np.greater_equal)]


@pytest.mark.parametrize("check,ref", PAIRS, ids=lambda f: getattr(f, "__name__", ""))
def test_pairwise_checks_agree_with_numpy(rng, check, ref):
    for _ in range(6):
        x = rng.integers(-3, 3, size=(4, 5))
        y = rng.integers(-3, 3, size=(5,))  # broadcasts
        if ref(x, y).all():
            assert check(tl.constant(x), tl.constant(y)) is None
        else:
            with pytest.raises(tl.errors.InvalidArgumentError, match="did not hold") as e:
                check(tl.constant(x), tl.constant(y), message="my check")
            assert str(e.value).startswith("my check")
            first = np.argwhere(~ref(x, np.broadcast_to(y, x.shape)))[:3].tolist()
            assert str(first) in str(e.value)
    y = next(v for v in (0.5, 1.0, 2.0) if ref(1.0, v))  # a Python value takes x's dtype
    assert check(tl.constant([1.0]), [y]) is None


def test_sign_checks_and_near(rng):
    x = rng.uniform(0.5, 2.0, size=7).astype(np.float32)
    D.assert_positive(x)
    D.assert_non_negative(tl.constant(x))
    D.assert_negative(-x)
    D.assert_non_positive(tl.constant(-x))
    with pytest.raises(tl.errors.InvalidArgumentError):
        D.assert_positive(tl.constant(np.r_[x, 0.0].astype(np.float32)))
    D.assert_near(tl.constant(x), x * (1 + 5e-7))
    with pytest.raises(tl.errors.InvalidArgumentError, match="not equal to tolerance"):
        D.assert_near(tl.constant(x), x * (1 + 1e-4))
    D.assert_near(tl.constant(x), x * (1 + 1e-4), rtol=1e-3)
    with pytest.raises(TypeError, match="floating"):
        D.assert_near(tl.constant([1]), [1])


def test_rank_type_and_shape_checks():
    x = tl.zeros([2, 3, 4])
    D.assert_rank(x, 3)
    D.assert_rank_at_least(x, 2)
    D.assert_rank_in(x, [1, 3])
    with pytest.raises(ValueError, match=r"shape \[2, 3, 4\] must have rank 2"):
        tl.assert_rank(x, 2)
    with pytest.raises(ValueError, match="rank at least 4"):
        D.assert_rank_at_least(x, 4)
    with pytest.raises(ValueError, match=r"rank in \[1, 2\]"):
        D.assert_rank_in(x, (1, 2))
    with pytest.raises(ValueError, match="Expected scalar"):
        D.assert_scalar(x)
    D.assert_type(x, tl.float32)
    with pytest.raises(TypeError, match="dtype float32, expected int32"):
        D.assert_type(x, tl.int32)
    with pytest.raises(TypeError, match="integer"):
        D.assert_integer(x)
    a, b = tl.zeros([5, 3]), tl.zeros([5])
    D.assert_shapes([(a, ("N", "Q")), (b, ("N",)), (tl.zeros([7, 2, 3]), ("*", "Q"))])
    with pytest.raises(ValueError, match="dimension 'N' is 4 here but 5"):
        D.assert_shapes([(a, ("N", "Q")), (tl.zeros([4]), ("N",))])
    with pytest.raises(ValueError, match="must have size 2 in dimension 1"):
        D.assert_shapes([(a, (5, 2))])


def test_assert_finite_and_tf_assert():
    t = tl.constant([1.0, np.inf])
    with pytest.raises(tl.errors.InvalidArgumentError, match="weights : Tensor had Inf"):
        D.assert_all_finite(t, "weights")
    assert tl.Assert(tl.constant(True), ["never shown"]) is None
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"assertion failed: \[x is\] \[\[1.0, inf\]\]"):
        tl.Assert(tl.reduce_all(tl.math.is_finite(t)), ["x is", t])
    with pytest.raises(TypeError, match="scalar bool"):
        tl.Assert(tl.constant([True, False]), [])


def test_predicates():
    assert D.is_numeric_tensor(tl.constant([1.0])) and not D.is_numeric_tensor(tl.constant([True]))
    assert not D.is_numeric_tensor(np.ones(2))
    assert bool(tl.math.is_non_decreasing(tl.constant([[1, 2], [2, 5]])))
    assert not bool(tl.math.is_strictly_increasing(tl.constant([1, 2, 2])))
    assert bool(tl.math.is_strictly_increasing(tl.constant([1.0, 2.5, 3.0])))
