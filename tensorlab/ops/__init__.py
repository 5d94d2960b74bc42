"""All ops, by family. Each module defines primitives (name, shape rule,
gradient rule) and the public TF-named functions built on them; its
``__all__`` is what ``tensorlab`` exports at the top level.

``EXPORTS`` maps each exported name to its function and ``api`` holds them
as attributes (Tensor operators call ``api.add`` etc.). Exported names are
kept out of this package's own namespace so a function may share its
family's module name (``tl.shape`` the op vs ``tensorlab.ops.shape`` the module).
"""
import importlib
import types

FAMILIES = ["elementwise", "reduction", "linalg", "linalg_solvers", "shape", "sorting", "indexing", "creation",
            "linalg_decompositions", "linalg_general", "ctc", "spectral", "signal",
            "random_ops", "random_distributions",
            "bitwise", "special_math",
            "nn", "conv", "conv3d", "pooling", "losses", "control_flow", "gradient_ops", "image",
            "training_ops", "normalization", "fused", "segment", "rnn", "functional_ops", "tensor_array",
            "image_quality", "asserts", "image_color", "image_geometry", "image_nms"]

EXPORTS = {}
for _fam in FAMILIES:
    try:
        _mod = importlib.import_module(f"tensorlab.ops.{_fam}")
    except ModuleNotFoundError as _e:  # a family not written yet
        if _e.name != f"tensorlab.ops.{_fam}":
            raise
        continue
    for _name in getattr(_mod, "__all__", ()):
        EXPORTS[_name] = getattr(_mod, _name)

api = types.SimpleNamespace(**EXPORTS)
