"""tl.test: GPU availability checks and TestCase's assertion helpers."""
import unittest

import numpy as np
import pytest

import tensorlab as tl


def test_gpu_checks_agree_with_the_device_list():
    has = bool(tl.config.list_physical_devices("GPU"))
    assert tl.test.is_gpu_available() == has
    assert tl.test.gpu_device_name() == ("/device:GPU:0" if has else "")
    assert isinstance(tl.test.is_built_with_cuda(), bool)


def test_testcase_helpers_pass_and_fail():
    class T(tl.test.TestCase):
        def runTest(self):  # noqa: N802
            pass

    t = T()
    x = tl.constant([1.0, 2.0])
    t.assertAllClose(x, [1.0, 2.0 + 1e-8])
    t.assertAllEqual(tl.constant([[1, 2]]), np.array([[1, 2]]))
    t.assertAllInRange(x, 1.0, 2.0)
    t.assertAllGreater(x, 0.5)
    t.assertShapeEqual(np.zeros((2,)), x)
    t.assertDTypeEqual(x, tl.float32)
    assert t.evaluate({"a": x, "b": [x]})["b"][0].tolist() == [1.0, 2.0]
    with pytest.raises(AssertionError):
        t.assertAllClose(x, [1.0, 2.1])
    with pytest.raises(AssertionError, match="shapes differ"):
        t.assertAllEqual(x, [[1.0, 2.0]])
    with pytest.raises(AssertionError, match="outside"):
        t.assertAllInRange(x, 1.0, 2.0, open_upper_bound=True)
    with pytest.raises(AssertionError):
        t.assertNotAllClose(x, x)
    assert isinstance(t, unittest.TestCase)
