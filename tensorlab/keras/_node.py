"""Symbolic tensors of the Functional API and the call graph they record.

Calling a layer on ``KerasTensor``s runs its ops' shape rules only and
records a ``Node`` (layer, call arguments, outputs). Each output remembers
``(layer, node_index, tensor_index)`` in ``_keras_history``, so a Functional
model can walk from its outputs back to its inputs.
"""
from tensorlab.core.tensor import SymbolicTensor
from tensorlab.keras import _tree


class KerasTensor(SymbolicTensor):
    """A symbolic tensor produced by ``keras.Input`` or by a layer called on one.

    It has a shape (``None`` for unknown dims, usually the batch) and a dtype
    but no value.
    """

    __slots__ = ()

    def __repr__(self):
        name = f" name={self.name}" if self.name else ""
        src = self._keras_history[0].name if self._keras_history else "?"
        return f"<KerasTensor shape={tuple(self.shape)} dtype={self.dtype.name}{name} (created by layer '{src}')>"

    def __hash__(self):
        return id(self)

    @property
    def node(self):
        layer, ni, _ = self._keras_history
        return layer._inbound_nodes[ni]


def keras_tensor_from(sym, name=None):
    """A fresh KerasTensor with ``sym``'s shape and dtype."""
    return KerasTensor(sym.shape, sym.dtype, name=name)


class Node:
    """One call of a layer on symbolic inputs.

    Attributes:
      layer: the layer called.
      call_args, call_kwargs: the arguments as given, KerasTensors included.
      input_tensors: the KerasTensors found among the arguments, in order.
      outputs: the output structure; ``output_tensors`` its leaves.
    """

    def __init__(self, layer, call_args=(), call_kwargs=None, outputs=()):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.input_tensors = [x for x in _tree.flatten([self.call_args, self.call_kwargs])
                              if isinstance(x, KerasTensor)]
        self.outputs = outputs
        self.output_tensors = _tree.flatten(outputs)
        self.is_input = not self.input_tensors and not self.call_args
        layer._inbound_nodes.append(self)
        index = len(layer._inbound_nodes) - 1
        for i, t in enumerate(self.output_tensors):
            t._keras_history = (layer, index, i)

    @property
    def parent_nodes(self):
        out = []
        for t in self.input_tensors:
            if t._keras_history is not None:
                layer, ni, _ = t._keras_history
                out.append(layer._inbound_nodes[ni])
        return out

    def __repr__(self):
        return f"<Node {self.layer.name}: {len(self.input_tensors)} inputs -> {len(self.output_tensors)} outputs>"
