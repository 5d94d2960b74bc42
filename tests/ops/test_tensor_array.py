"""tl.TensorArray: TF's read/write/stack/unstack/gather/scatter/concat/split semantics, errors, gradients."""
import numpy as np
import pytest

import tensorlab as tl
from tests.ops.harness import assert_close, numeric_grad


def test_write_read_stack_size_and_functional_style(rng):
    rows = rng.uniform(-1, 1, size=(3, 2)).astype(np.float32)
    ta = tl.TensorArray(tl.float32, size=3)
    for i in range(3):
        ta = ta.write(i, tl.constant(rows[i]))
    assert int(ta.size()) == 3 and ta.size().dtype == tl.int32
    assert ta.dtype == tl.float32 and tuple(ta.element_shape) == (2,)
    np.testing.assert_array_equal(ta.stack().numpy(), rows)
    np.testing.assert_array_equal(ta.read(tl.constant(1)).numpy(), rows[1])


def test_dynamic_size_grows_and_python_values_convert():
    ta = tl.TensorArray(tl.float64, size=0, dynamic_size=True)
    ta.write(2, [1.0, 2.0]).write(0, [3.0, 4.0]).write(1, np.array([5.0, 6.0]))
    assert int(ta.size()) == 3
    np.testing.assert_array_equal(ta.stack().numpy(), [[3, 4], [5, 6], [1, 2]])


def test_clear_after_read_default_and_off():
    ta = tl.TensorArray(tl.int32, size=1).write(0, tl.constant([7]))
    assert ta.read(0).numpy().tolist() == [7]
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"TensorArray.read: index 0 was cleared by a previous "
                                                            r"read \(clear_after_read=True\)"):
        ta.read(0)
    keep = tl.TensorArray(tl.int32, size=1, clear_after_read=False).write(0, tl.constant([7]))
    assert keep.read(0).numpy().tolist() == keep.read(0).numpy().tolist() == [7]


def test_unstack_scatter_gather(rng):
    x = rng.uniform(-1, 1, size=(4, 3))
    ta = tl.TensorArray(tl.float64, size=4, clear_after_read=False).unstack(tl.constant(x))
    np.testing.assert_array_equal(ta.gather([3, 0, 3]).numpy(), x[[3, 0, 3]])
    ta = tl.TensorArray(tl.float64, size=5).scatter(tl.constant([4, 1]), tl.constant(x[:2]))
    np.testing.assert_array_equal(ta.gather(tl.constant([1, 4])).numpy(), x[[1, 0]])
    # unwritten elements of a known element shape stack as zeros (TF's eager TensorArray)
    np.testing.assert_array_equal(ta.stack().numpy(), np.stack([np.zeros(3), x[1], np.zeros(3), np.zeros(3), x[0]]))


def test_split_and_concat_with_ragged_lengths(rng):
    x = rng.uniform(-1, 1, size=(6, 2))
    ta = tl.TensorArray(tl.float64, size=3, clear_after_read=False).split(tl.constant(x), [1, 3, 2])
    assert tuple(ta.element_shape) == (None, 2)
    np.testing.assert_array_equal(ta.read(1).numpy(), x[1:4])
    np.testing.assert_array_equal(ta.concat().numpy(), x)


def test_empty_stack_concat_and_close():
    assert tuple(tl.TensorArray(tl.float32, size=0, element_shape=[2, 3]).stack().shape) == (0, 2, 3)
    assert tuple(tl.TensorArray(tl.float32, size=0, element_shape=[2, 3]).concat().shape) == (0, 3)
    assert tuple(tl.TensorArray(tl.float32, size=0).stack().shape) == (0,)
    ta = tl.TensorArray(tl.float32, size=2).write(0, [1.0]).write(1, [2.0])
    ta.close()
    assert int(ta.size()) == 0


def test_while_loop_with_a_tensor_array_variable():
    def body(i, ta):
        return i + 1, ta.write(i, tl.cast(i, tl.float32) ** 2)
    _, ta = tl.while_loop(lambda i, ta: i < 4, body, (tl.constant(0), tl.TensorArray(tl.float32, 0, True)))
    np.testing.assert_array_equal(ta.stack().numpy(), [0, 1, 4, 9])


def _written(x, how):
    """A float tensor built from x through a TensorArray, several ways."""
    if how == "stack":
        ta = tl.TensorArray(tl.float64, size=x.shape[0])
        for i in range(x.shape[0]):
            ta = ta.write(i, tl.sin(x[i]) * (i + 1))
        return ta.stack()
    if how == "read":
        ta = tl.TensorArray(tl.float64, size=x.shape[0]).unstack(x * x)
        return tl.stack([ta.read(i) * tl.exp(ta.read(i + 1)) for i in range(0, x.shape[0], 2)])
    if how == "gather":
        ta = tl.TensorArray(tl.float64, size=x.shape[0]).scatter([3, 2, 1, 0], tl.tanh(x))
        return ta.gather([0, 0, 3])
    ta = tl.TensorArray(tl.float64, size=2).split(x ** 3, [1, 3])
    return ta.concat()


@pytest.mark.parametrize("how", ["stack", "read", "gather", "split_concat"])
def test_gradients_flow_through_written_tensors(rng, how):
    x0 = rng.uniform(-1, 1, size=(4, 3))
    w = rng.uniform(0.5, 1.5, size=tuple(_written(tl.constant(x0), how).shape))
    x = tl.constant(x0)
    with tl.GradientTape() as tape:
        tape.watch(x)
        val = tl.reduce_sum(_written(x, how) * w)
    num = numeric_grad(lambda a: float(tl.reduce_sum(_written(tl.constant(a[0]), how) * w).numpy()), [x0.copy()], 0,
                       1e-6)
    assert_close(tape.gradient(val, x).numpy(), num, 1e-6, what=f"TensorArray {how} gradient")


# ----------------------------------------------------------------- errors
def test_error_read_unwritten_index_names_index_and_size():
    ta = tl.TensorArray(tl.float32, size=3).write(0, [1.0])
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"TensorArray.read: index 2 has not been written "
                                                            r"\(size 3"):
        ta.read(2)
    with pytest.raises(tl.errors.OutOfRangeError, match=r"TensorArray.read: index 3 is out of range for a "
                                                       r"TensorArray of size 3"):
        ta.read(3)


def test_error_write_past_size_without_dynamic_size():
    ta = tl.TensorArray(tl.float32, size=2)
    with pytest.raises(tl.errors.OutOfRangeError, match=r"TensorArray.write: index 2 is out of range for a "
                                                       r"TensorArray of size 2 \(dynamic_size=False\)"):
        ta.write(2, 1.0)
    with pytest.raises(tl.errors.OutOfRangeError, match=r"TensorArray.write: index -1 is negative"):
        ta.write(-1, 1.0)
    with pytest.raises(tl.errors.OutOfRangeError, match=r"TensorArray.scatter: index 5 is out of range"):
        ta.scatter([0, 5], tl.zeros([2]))


def test_error_dtype_and_shape_mismatch():
    ta = tl.TensorArray(tl.float32, size=2, element_shape=[2])
    with pytest.raises(TypeError, match=r"TensorArray.write: value has dtype float64 but the TensorArray holds "
                                        r"float32"):
        ta.write(0, tl.constant([1.0, 2.0], tl.float64))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"TensorArray.write: value has shape \[3\], "
                                                            r"incompatible with the element shape \[2\]"):
        ta.write(0, tl.zeros([3]))
    loose = tl.TensorArray(tl.float32, size=2, infer_shape=False).write(0, tl.zeros([2])).write(1, tl.zeros([3]))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"TensorArray.stack: element 0 has shape \[2\] but "
                                                            r"element 1 has \[3\]"):
        loose.stack()


def test_error_stack_unwritten_with_unknown_element_shape():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"TensorArray.stack: index 0 has not been written "
                                                            r"\(size 2, element shape unknown\)"):
        tl.TensorArray(tl.float32, size=2).stack()


def test_error_split_and_scatter_arguments():
    ta = tl.TensorArray(tl.float32, size=2)
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"TensorArray.split: lengths \[1, 1\] must be "
                                                            r"non-negative and sum to value.shape\[0\] = 3"):
        ta.split(tl.zeros([3]), [1, 1])
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"TensorArray.split: 3 lengths for a TensorArray of "
                                                            r"size 2 \(dynamic_size=False\)"):
        ta.split(tl.zeros([3]), [1, 1, 1])
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"TensorArray.scatter: value must have one row per "
                                                            r"index \(2\), got shape \[3\]"):
        ta.scatter([0, 1], tl.zeros([3]))
    with pytest.raises(TypeError, match=r"TensorArray.write: index must be a scalar integer"):
        ta.write(tl.constant(1.0), 1.0)


# ----------------------------------------------------------------- devices
@pytest.mark.gpu
def test_gpu_stack_and_gradient_on_the_written_device(rng):
    x0 = rng.uniform(-1, 1, size=(3, 2)).astype(np.float32)
    with tl.device("gpu:0"):
        x = tl.constant(x0)
    with tl.device("cpu"):  # the zeros for the unwritten element go to the elements' device
        with tl.GradientTape() as tape:
            tape.watch(x)
            ta = tl.TensorArray(tl.float32, size=4).write(0, x[0] * 2).write(3, tl.exp(x[2]))
            y = ta.stack()
            loss = tl.reduce_sum(y)
        g = tape.gradient(loss, x)
    assert "GPU" in y.device and "GPU" in g.device
    np.testing.assert_allclose(y.numpy(), [x0[0] * 2, np.zeros(2), np.zeros(2), np.exp(x0[2])], rtol=1e-6)
    np.testing.assert_allclose(g.numpy(), [[2, 2], [0, 0], np.exp(x0[2])], rtol=1e-6)
