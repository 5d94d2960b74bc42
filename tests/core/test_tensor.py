"""Tensors: creation, dtype inference and promotion, conversion, repr, DLPack,
Python protocol methods, and Variables."""
import numpy as np
import pytest

import tensorlab as tl


def test_constant_infers_tf_dtypes():
    assert tl.constant(1.5).dtype == tl.float32
    assert tl.constant([1, 2]).dtype == tl.int32
    assert tl.constant(True).dtype == tl.bool
    assert tl.constant(np.zeros(2)).dtype == tl.float64
    assert tl.constant(np.arange(3)).dtype == tl.int64
    assert tl.constant([2**40]).dtype == tl.int64


def test_constant_dtype_and_shape(rng):
    v = rng.normal(size=6)
    x = tl.constant(v, dtype=tl.float32, shape=[2, 3])
    assert x.shape == [2, 3] and x.shape == (2, 3) and x.dtype == tl.float32
    np.testing.assert_allclose(x.numpy(), v.reshape(2, 3).astype(np.float32))
    f = tl.constant(7.0, shape=[2, 2])
    np.testing.assert_array_equal(f.numpy(), np.full((2, 2), 7.0, np.float32))


def test_error_constant_bad_shape():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"constant.*6 elements.*\(4,\)"):
        tl.constant(np.arange(6), shape=[4])


def test_constant_copies_caller_array():
    a = np.ones(3)
    x = tl.constant(a)
    a[0] = 5
    assert x.numpy()[0] == 1


def test_convert_to_tensor_passthrough_and_dtype_check():
    x = tl.constant([1.0])
    assert tl.convert_to_tensor(x) is x
    with pytest.raises(ValueError, match="float64.*float32"):
        tl.convert_to_tensor(x, dtype=tl.float64)
    assert tl.convert_to_tensor([1, 2], dtype_hint=tl.float32).dtype == tl.float32


def test_creation_functions(rng):
    assert tl.zeros([2, 3]).numpy().sum() == 0 and tl.zeros([2, 3]).dtype == tl.float32
    assert tl.ones([4], dtype=tl.int64).dtype == tl.int64
    x = tl.constant(rng.normal(size=(2, 5)))
    assert tl.zeros_like(x).shape == (2, 5) and tl.zeros_like(x).dtype == tl.float64
    assert tl.ones_like(x, dtype=tl.int32).dtype == tl.int32
    np.testing.assert_array_equal(tl.fill([2], 3).numpy(), [3, 3])
    np.testing.assert_array_equal(tl.eye(2, 3).numpy(), np.eye(2, 3))
    np.testing.assert_array_equal(tl.range(1, 10, 3).numpy(), [1, 4, 7])
    assert tl.range(0.0, 1.0, 0.25).dtype == tl.float32
    np.testing.assert_allclose(tl.linspace(0.0, 1.0, 5).numpy(), np.linspace(0, 1, 5))
    oh = tl.one_hot(tl.constant([0, 2, 5]), 3)
    np.testing.assert_array_equal(oh.numpy(), [[1, 0, 0], [0, 0, 1], [0, 0, 0]])
    oh_axis0 = tl.one_hot([1, 0], 2, axis=0, on_value=5, off_value=-1)
    np.testing.assert_array_equal(oh_axis0.numpy(), [[-1, 5], [5, -1]])


def test_repr_like_tf():
    r = repr(tl.constant([1.0, 2.0]))
    assert r.startswith("<tl.Tensor: shape=(2,), dtype=float32, numpy=")
    assert "tl.Tensor(" in str(tl.constant(1))


def test_scalar_protocols():
    assert float(tl.constant(2.5)) == 2.5
    assert int(tl.constant(3)) == 3
    assert bool(tl.constant(True)) and not bool(tl.constant(0.0))
    assert [10, 20, 30][tl.constant(1)] == 20
    with pytest.raises(ValueError, match="one element"):
        bool(tl.constant([1.0, 2.0]))
    with pytest.raises(TypeError, match="len"):
        len(tl.constant(1.0))


def test_len_and_iteration(rng):
    v = rng.normal(size=(3, 2))
    x = tl.constant(v)
    assert len(x) == 3
    rows = list(x)
    assert len(rows) == 3
    np.testing.assert_allclose(rows[2].numpy(), v[2])


def test_array_protocol_and_dlpack_numpy_zero_copy(rng):
    v = rng.normal(size=(4,))
    x = tl.constant(v)
    np.testing.assert_array_equal(np.asarray(x), v)
    back = np.from_dlpack(x)
    assert np.shares_memory(back, x.numpy())
    y = tl.from_dlpack(back)
    assert np.shares_memory(y.numpy(), back)
    assert y.device.endswith("CPU:0")


def test_array_protocol_on_scalar_results(rng):
    v = float(rng.normal())
    s = tl.constant(v) * 2.0 + 1.0          # a 0-d op result
    a = np.asarray(s)
    assert isinstance(a, np.ndarray) and a.shape == ()
    np.testing.assert_allclose(a, 2 * v + 1, rtol=1e-6)
    assert np.asarray(tl.reduce_sum(tl.constant(rng.normal(size=(3,)))), dtype=np.float64).dtype == np.float64


def test_tensors_are_unhashable_but_have_refs():
    x = tl.constant(1.0)
    with pytest.raises(TypeError):
        hash(x)
    d = {x.ref(): 1}
    assert d[x.ref()] == 1 and x.ref().deref() is x


def test_variable_basics(rng):
    v0 = rng.normal(size=(2,)).astype(np.float32)
    v = tl.Variable(v0, name="w")
    assert v.name == "w:0" and v.trainable and v.shape == (2,) and v.dtype == tl.float32
    v.assign_add([1.0, 1.0])
    np.testing.assert_allclose(v.numpy(), v0 + 1)
    v.assign_sub(tl.constant([1.0, 1.0]))
    np.testing.assert_allclose(v.numpy(), v0, rtol=1e-6, atol=1e-6)  # float32 rounding of +1-1
    v.assign([5.0, 6.0])
    np.testing.assert_allclose((v * 2).numpy(), [10.0, 12.0])
    np.testing.assert_allclose(tl.add(v, v).numpy(), [10.0, 12.0])
    assert "tl.Variable 'w:0'" in repr(v)
    assert tl.Variable(lambda: tl.ones([3]), trainable=False).trainable is False


def test_error_variable_assign_wrong_shape_and_dtype():
    v = tl.Variable([1.0, 2.0])
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"assign.*\(2,\).*\(3,\)"):
        v.assign([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="float32.*int32"):
        v.assign(tl.constant([1, 2]))


def test_tensor_shape_helpers():
    s = tl.TensorShape([2, None, 3])
    assert s.rank == 3 and s.as_list() == [2, None, 3] and s.num_elements() is None
    assert not s.is_fully_defined() and s.is_compatible_with([2, 7, 3])
    assert tl.TensorShape([2, 3]) == [2, 3] and tl.TensorShape([2, 3])[1:] == [3]


def test_dtype_objects():
    assert tl.as_dtype("float32") is tl.float32
    assert tl.float32 == np.float32 and tl.int64 == "int64"
    assert tl.float16.is_floating and tl.int8.is_integer and tl.uint8.is_unsigned
    with pytest.raises(TypeError, match="valid dtypes"):
        tl.as_dtype("complex128")
    x = tl.constant([1.5, -2.5])
    for d in (tl.float16, tl.float64, tl.int8, tl.int16, tl.int32, tl.int64, tl.uint8, tl.bool):
        assert tl.cast(x, d).dtype == d


def test_bfloat16_through_ml_dtypes():
    pytest.importorskip("ml_dtypes")
    x = tl.cast(tl.constant([1.0, 2.5]), tl.bfloat16)
    assert x.dtype == tl.bfloat16
    np.testing.assert_allclose(tl.cast(x * 2.0, tl.float32).numpy(), [2.0, 5.0])
    assert float(tl.bfloat16.max) == pytest.approx(3.3895e38, rel=1e-3) and float(tl.bfloat16.min) == -float(tl.bfloat16.max)


def test_package_attributes_load_lazily_and_unknown_names_raise_attribute_error():
    # Every lazily loaded subpackage exists, and a missing name is an AttributeError (so
    # hasattr/getattr with a default work) rather than an import error.
    import tensorlab
    for name in tensorlab._LAZY:
        assert getattr(tensorlab, name).__name__ == f"tensorlab.{name}"
    assert not hasattr(tensorlab, "saved_model_that_does_not_exist")
    assert getattr(tensorlab, "no_such_module", None) is None
