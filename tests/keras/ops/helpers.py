"""Shared by the keras.ops tests."""
import numpy as np


def check(got, want, rtol=1e-10, atol=1e-12):
    """`got` (a tensor or array) has `want`'s shape and values."""
    got = got.numpy() if hasattr(got, "numpy") else np.asarray(got)
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)
