"""``keras.ops`` for tensorlab: backend-agnostic tensor ops with Keras 3's names and semantics.

    from tensorlab.keras import ops
    y = ops.mean(ops.square(x - ops.mean(x, axis=-1, keepdims=True)), axis=-1)

Everything in ``numpy``, ``core``, ``math``, ``nn`` and ``linalg`` is available at the top
level (``ops.relu``, ``ops.mean``); ``ops.numpy``, ``ops.core``, ``ops.math``,
``ops.nn``, ``ops.image`` and ``ops.linalg`` are the submodules.
"""
from tensorlab.keras.ops import core, image, linalg, math, nn, numpy
from tensorlab.keras.ops import spectral  # fft, rfft, stft, ... (also in ops.math, as in Keras)

# Like Keras 3, nn and linalg functions are top-level ops too (ops.relu, ops.norm); image ones are not.
_TOP_LEVEL = [numpy, core, math, nn, linalg, spectral]

__all__ = []
for _mod in _TOP_LEVEL:
    for _n in _mod.__all__:
        globals()[_n] = getattr(_mod, _n)
        __all__.append(_n)
