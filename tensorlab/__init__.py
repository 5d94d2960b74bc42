"""tensorlab: a GPU-first deep-learning framework with TensorFlow 2's programming model.

    import tensorlab as tl
    x = tl.constant([[1., 2.], [3., 4.]])
    with tl.GradientTape() as tape:
        tape.watch(x)
        y = tl.reduce_sum(x ** 2)
    tape.gradient(y, x)   # 2 * x

Ops run on each tensor's own device: a CUDA GPU through CuPy and our kernels
in ``cuda_kernels/``, or the CPU through numpy. Importing tensorlab never
fails for lack of CuPy, a driver or a GPU.
"""
__version__ = "0.1.0"

from tensorlab import errors
from tensorlab.core import dtypes as _dtypes
from tensorlab.core.dtypes import (DType, as_dtype, bfloat16, bool_ as bool, double, float16,
                                   float32, float64, half, int8, int16, int32, int64, uint8)
from tensorlab.core.device import device
from tensorlab.core.spec import TensorShape, TensorSpec
from tensorlab.core.tensor import SymbolicTensor, Tensor, Variable
from tensorlab.core.autodiff import GradientTape, UnconnectedGradients, custom_gradient
from tensorlab.core.name_scope import name_scope
from tensorlab import ops as _ops
from tensorlab.core import tensor as _tensor_mod

_tensor_mod._bind_ops(_ops.api)
globals().update(_ops.EXPORTS)  # the TF-named top-level ops (tl.add, tl.matmul, ...)
from tensorlab import config  # noqa: E402
from tensorlab import _namespaces  # noqa: E402
# (the module is not named "function": tl.function is the decorator, as tl.shape is the op)
from tensorlab.eager_function import function  # noqa: E402
from tensorlab.module import Module  # noqa: E402

math = _namespaces.build("MATH", "tensorlab.math", "Math ops (tf.math).")
nn = _namespaces.build("NN", "tensorlab.nn", "Neural-network ops (tf.nn).")
linalg = _namespaces.build("LINALG", "tensorlab.linalg", "Linear algebra (tf.linalg).")
random = _namespaces.build("RANDOM", "tensorlab.random", "Random numbers (tf.random).")
image = _namespaces.build("IMAGE", "tensorlab.image", "Image ops (tf.image).")
debugging = _namespaces.build("DEBUGGING", "tensorlab.debugging", "Debugging ops (tf.debugging).")
signal = _namespaces.build("SIGNAL", "tensorlab.signal", "Signal processing (tf.signal).")
bitwise = _namespaces.build("BITWISE", "tensorlab.bitwise", "Bitwise ops (tf.bitwise).")


def _image_codecs(name):
    # tl.image.decode_png & co. live in tensorlab.io (file formats, Pillow), loaded on first use.
    from tensorlab.io import images
    if name in images.IMAGE:
        return getattr(images, name)
    raise AttributeError(f"module 'tensorlab.image' has no attribute {name!r}")


image.__getattr__ = _image_codecs
newaxis = None


def from_dlpack(obj):
    """Wraps a DLPack-capable array (numpy, CuPy, PyTorch) as a tensor, zero-copy where possible."""
    from tensorlab.core import device as _d
    from tensorlab.core.tensor import wrap
    dev_type, dev_id = obj.__dlpack_device__()
    if int(dev_type) == 1:
        d = _d.get("cpu", 0)
    elif int(dev_type) == 2:
        d = _d.get("cuda", int(dev_id))
    else:
        raise ValueError(f"from_dlpack: unsupported DLPack device type {dev_type}; CPU (1) and CUDA (2) are")
    return wrap(d.backend.from_dlpack(obj), d)


def executing_eagerly():
    """tensorlab always executes eagerly."""
    return True


def is_tensor(x):
    """True for tensorlab tensors (including symbolic ones) and variables."""
    return isinstance(x, (Tensor, SymbolicTensor, Variable))


def get_logger():
    """The ``logging`` logger tensorlab writes to (``tf.get_logger``)."""
    import logging
    return logging.getLogger("tensorlab")


def init_scope():
    """``tf.init_scope``: lifts code out of a traced function; tensorlab always runs eagerly, so
    this is a context manager that changes nothing (as TF's does in eager code)."""
    import contextlib
    return contextlib.nullcontext()


version = __import__("types").SimpleNamespace(VERSION=__version__)

_LAZY = {"keras", "data", "train", "io", "summary", "distribute", "examples", "nest", "autograph", "test",
         "audio"}
# TF 2's top-level initializer names are the Keras initializers (``tf.zeros_initializer()``...).
_INITIALIZERS = {"zeros_initializer": "Zeros", "ones_initializer": "Ones", "constant_initializer": "Constant",
                 "random_normal_initializer": "RandomNormal", "random_uniform_initializer": "RandomUniform"}


def __getattr__(name):
    # Higher layers load on first use so `import tensorlab` stays fast.
    if name in _LAZY:
        import importlib
        mod = importlib.import_module(f"tensorlab.{name}")
        globals()[name] = mod
        return mod
    if name in _INITIALIZERS:
        from tensorlab.keras import initializers
        cls = getattr(initializers, _INITIALIZERS[name])
        globals()[name] = cls
        return cls
    raise AttributeError(f"module 'tensorlab' has no attribute {name!r}")
