"""tensorlab ops applied directly to Functional-API tensors (``x + y``, ``tl.nn.relu(x)``).

When a primitive runs symbolically on a ``KerasTensor`` outside any layer's
call, the call is recorded as a node of an ``OpLayer``, so that
``keras.Model(inputs, outputs)`` can replay it on data, as tf.keras does with
TensorFlow ops.
"""
from tensorlab.core import registry as _registry
from tensorlab.core.tensor import SymbolicTensor
from tensorlab.keras._node import KerasTensor, Node, keras_tensor_from
from tensorlab.keras.layers import base as _base


class OpLayer(_base.Layer):
    """Replays one primitive call recorded on symbolic inputs."""

    def __init__(self, prim, params, **kwargs):
        super().__init__(name=_base._backend.unique_name(f"tl_op_{prim.name}"), autocast=False, **kwargs)
        self.prim = prim
        self.params = dict(params)
        self.built = True

    def call(self, *args):
        return self.prim(*args, **self.params)

    def get_config(self):
        raise NotImplementedError(
            f'Layer "{self.name}" replays the tensorlab op {self.prim.name!r} applied directly to a symbolic '
            "tensor; such models cannot be serialized. Wrap the computation in a keras.layers.Lambda or a "
            "custom layer to save the architecture")


_plain_symbolic = _registry._hooks["symbolic"]


def _symbolic(prim, args, params):
    out = _plain_symbolic(prim, args, params)
    if _base._ctx.symbolic_depth or not any(isinstance(a, KerasTensor) and a._keras_history is not None
                                            for a in args):
        return out
    layer = OpLayer(prim, params)
    if isinstance(out, tuple):
        outs = tuple(keras_tensor_from(o) if isinstance(o, SymbolicTensor) else o for o in out)
    else:
        outs = keras_tensor_from(out)
    Node(layer, args, {}, outs)
    return outs


if getattr(_plain_symbolic, "__module__", None) != __name__:
    _registry._hooks["symbolic"] = _symbolic
