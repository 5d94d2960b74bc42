"""``tl.test``: GPU checks and ``TestCase`` with ``tf.test``'s assertion helpers, for test
suites written against TensorFlow."""
import unittest

import numpy as np


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
    """True when a GPU is usable (with ``min_cuda_compute_capability=(major, minor)``: at least that)."""
    import tensorlab as tl
    gpus = tl.config.list_physical_devices("GPU")
    if not gpus:
        return False
    if min_cuda_compute_capability is None:
        return True
    need = tuple(min_cuda_compute_capability)
    for g in gpus:
        cc = tl.config.experimental.get_device_details(g).get("compute_capability")
        if cc is not None and tuple(cc) >= need:
            return True
    return False


def is_built_with_cuda():
    """True when CuPy (tensorlab's CUDA backend) is importable."""
    try:
        import cupy  # noqa: F401
    except Exception:
        return False
    return True


def is_built_with_gpu_support():
    return is_built_with_cuda()


def gpu_device_name():
    """``"/device:GPU:0"`` when a GPU is usable, else ``""``."""
    return "/device:GPU:0" if is_gpu_available() else ""


def _np(x):
    if hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    if isinstance(x, (list, tuple)) and x and hasattr(x[0], "numpy"):
        return np.asarray([v.numpy() for v in x])
    return np.asarray(x)


class TestCase(unittest.TestCase):
    """``unittest.TestCase`` plus ``tf.test.TestCase``'s helpers (everything runs eagerly)."""

    def evaluate(self, tensors):
        """Tensors (or nested structures of them) as numpy values."""
        import tensorlab as tl
        return tl.nest.map_structure(lambda t: t.numpy() if hasattr(t, "numpy") else t, tensors)

    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802 (TF's names)
        np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol, err_msg=msg or "")

    def assertAllEqual(self, a, b, msg=None):  # noqa: N802
        a, b = _np(a), _np(b)
        self.assertEqual(a.shape, b.shape, msg or f"shapes differ: {a.shape} vs {b.shape}")
        np.testing.assert_array_equal(a, b, err_msg=msg or "")

    def assertNotAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        if np.allclose(_np(a), _np(b), rtol=rtol, atol=atol):
            raise AssertionError(msg or "the values are all close")

    def assertAllGreater(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(_np(a) > comparison_target), f"not all > {comparison_target}")

    def assertAllLess(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(_np(a) < comparison_target), f"not all < {comparison_target}")

    def assertAllInRange(self, target, lower_bound, upper_bound, open_lower_bound=False,  # noqa: N802
                         open_upper_bound=False):
        t = _np(target)
        lo = t > lower_bound if open_lower_bound else t >= lower_bound
        hi = t < upper_bound if open_upper_bound else t <= upper_bound
        self.assertTrue(np.all(lo & hi), f"values outside [{lower_bound}, {upper_bound}]: {t[~(lo & hi)][:10]}")

    def assertShapeEqual(self, expected, actual, msg=None):  # noqa: N802
        self.assertEqual(tuple(_np(expected).shape), tuple(actual.shape), msg)

    def assertDTypeEqual(self, target, expected_dtype):  # noqa: N802
        import tensorlab as tl
        self.assertEqual(tl.as_dtype(target.dtype), tl.as_dtype(expected_dtype))


def main(argv=None):
    """Runs the tests of ``__main__`` (``tf.test.main``)."""
    unittest.main(argv=argv)
