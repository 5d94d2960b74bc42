"""The real Keras 3, to compare with: ``K`` (None where it cannot be imported) and ``needs_keras``."""
import importlib.util
import os

import pytest

if "KERAS_BACKEND" not in os.environ:  # Keras 3 needs one backend; take the one installed
    for _backend, _module in (("torch", "torch"), ("jax", "jax"), ("tensorflow", "tensorflow")):
        if importlib.util.find_spec(_module) is not None:
            os.environ["KERAS_BACKEND"] = _backend
            break
try:
    import keras as K
    if not K.__version__.startswith("3."):  # pragma: no cover
        K = None
except Exception:  # pragma: no cover - depends on the environment
    K = None

needs_keras = pytest.mark.skipif(K is None, reason="Keras 3 with a backend (pip install keras torch) is not "
                                                   "importable")
