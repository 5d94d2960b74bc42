"""Where a layer sits in a Functional graph: ``input``, ``output`` and their shapes."""
from tensorlab.keras._layer_utils import _shape_of


class GraphInfo:
    """Mixed into ``Layer``: properties read from the layer's first inbound node."""

    def _node_attr(self, attr, what):
        if not self._inbound_nodes:
            raise AttributeError(f'Layer "{self.name}" has no defined {what}: it has never been called on '
                                 "a symbolic input (keras.Input)")
        node = self._inbound_nodes[0]
        if attr == "input":
            t = node.input_tensors
            return t[0] if len(t) == 1 else t
        return node.outputs

    @property
    def input(self):
        return self._node_attr("input", "input")

    @property
    def output(self):
        return self._node_attr("output", "output")

    @property
    def input_shape(self):
        return _shape_of(self.input)

    @property
    def output_shape(self):
        return _shape_of(self.output)

    @property
    def inbound_nodes(self):
        return self._inbound_nodes
