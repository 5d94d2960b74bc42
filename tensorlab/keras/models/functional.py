"""Functional models: a graph of layer calls from ``keras.Input`` tensors to outputs.

The graph is discovered once, at construction, by walking back from the
outputs through each tensor's ``_keras_history``; calling the model runs the
recorded layer calls in topological order.
"""
from tensorlab.keras import _tree
from tensorlab.keras._node import KerasTensor
from tensorlab.keras.layers.input_layer import InputLayer
from tensorlab.keras.models.model import Model


def _flat_keras(struct, what):
    flat = _tree.flatten(struct)
    for t in flat:
        if not isinstance(t, KerasTensor) or t._keras_history is None:
            raise ValueError(f"Functional model: all {what} must be symbolic tensors from keras.Input or from "
                             f"layers called on them; got {type(t).__name__}: {t!r}")
    return flat


def discover_nodes(inputs, outputs):
    """Nodes needed to compute ``outputs`` from ``inputs``, in topological order."""
    input_ids = {id(t) for t in inputs}
    order, state = [], {}

    def visit(node):
        s = state.get(id(node))
        if s == 2:
            return
        if s == 1:
            raise ValueError(f"Functional model: the graph has a cycle at layer {node.layer.name!r}")
        state[id(node)] = 1
        for t in node.input_tensors:
            if id(t) in input_ids:
                continue
            layer, ni, _ = t._keras_history
            parent = layer._inbound_nodes[ni]
            if parent.is_input:
                raise ValueError(
                    f"Graph disconnected: cannot obtain value for tensor {t!r} at layer "
                    f'"{node.layer.name}". It comes from the input "{layer.name}", which is not among the '
                    f"model's inputs {[getattr(i, 'name', None) for i in inputs]}. Pass it in "
                    "keras.Model(inputs=[...])")
            visit(parent)
        state[id(node)] = 2
        order.append(node)

    for t in outputs:
        if id(t) in input_ids:
            continue
        layer, ni, _ = t._keras_history
        node = layer._inbound_nodes[ni]
        if node.is_input:
            raise ValueError(f"Graph disconnected: output {t!r} is the input of \"{layer.name}\", which is not "
                             "among the model's inputs")
        visit(node)
    return order


def _parent(t):
    layer, ni, _ = t._keras_history
    return layer._inbound_nodes[ni]


def keras_layer_order(inputs, outputs):
    """The model's layers in Keras 3's order (``map_graph``): by decreasing depth from the
    outputs, ties broken by the order a depth-first walk from the outputs first meets them.
    Weights, optimizer slots and saved files follow this order, so it must be Keras'."""
    input_ids = {id(t) for t in inputs}
    finished, in_progress, nodes, index = set(), set(), [], {}

    def walk(t):
        node = _parent(t)
        if id(node) in finished:
            return
        index.setdefault(id(node.layer), len(index))
        in_progress.add(id(node))
        if not node.is_input and id(t) not in input_ids:
            for u in node.input_tensors:
                walk(u)
        finished.add(id(node))
        in_progress.discard(id(node))
        nodes.append(node)

    for t in outputs:
        walk(t)
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(nodes):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        if not node.is_input:
            for u in node.input_tensors:
                p = _parent(u)
                node_depth[id(p)] = max(depth + 1, node_depth.get(id(p), 0))
    for t in inputs:  # inputs that no output depends on
        layer = t._keras_history[0]
        if id(layer) not in layer_depth:
            layer_depth[id(layer)], index[id(layer)], layers[id(layer)] = 0, -1, layer
    return [layers[k] for k in sorted(layer_depth, key=lambda k: (-layer_depth[k], index[k]))]


class Functional(Model):
    """A model defined by ``keras.Model(inputs, outputs)``.

    Args:
      inputs: a ``keras.Input`` tensor, or a list/dict of them.
      outputs: the tensor(s) computed from them (tensor, list or dict).
      name: the model's name.
    """

    _convert_input_args = False  # each layer casts its own inputs (mixed precision)

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs):
        if isinstance(inputs, dict):
            self._inputs_struct = dict(inputs)
        elif isinstance(inputs, (list, tuple)):
            self._inputs_struct = list(inputs)
        else:
            self._inputs_struct = inputs
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        self._outputs_struct = outputs
        self.inputs = _flat_keras(self._inputs_struct, "inputs") if not isinstance(inputs, dict) else \
            [inputs[k] for k in inputs]
        _flat_keras(self.inputs, "inputs")
        self.outputs = _flat_keras(outputs, "outputs") if not isinstance(outputs, dict) else \
            [outputs[k] for k in outputs]
        self._node_order = discover_nodes(self.inputs, self.outputs)
        self._graph_layers = keras_layer_order(self.inputs, self.outputs)
        self.input_names = [t._keras_history[0].name for t in self.inputs]
        if isinstance(outputs, dict):
            self.output_names = list(outputs)
        else:
            self.output_names = [t._keras_history[0].name for t in self.outputs]
        # Output layers used twice get unique names, as dict keys for losses/metrics.
        if len(set(self.output_names)) != len(self.output_names):
            self.output_names = [f"{n}_{i}" if self.output_names.count(n) > 1 else n
                                 for i, n in enumerate(self.output_names)]
        self._input_dtypes = [t.dtype for t in self.inputs]
        self.built = True
        if not self._inbound_nodes and all(isinstance(t._keras_history[0], InputLayer) for t in self.inputs):
            # The model's own node, so model.input / model.output work.
            pass

    # ------------------------------------------------------------------ structure
    @property
    def layers(self):
        """The model's layers, input layers first, in graph order."""
        return list(self._graph_layers)

    def _tracked(self):
        layers, variables = super()._tracked()
        seen = {id(x) for x in layers}
        return [x for x in self._graph_layers if id(x) not in seen] + layers, variables

    def _output_names(self):
        return list(self.output_names)

    @property
    def input(self):
        return self._inputs_struct if not isinstance(self._inputs_struct, list) or len(self.inputs) > 1 \
            else self.inputs[0]

    @property
    def output(self):
        return self._outputs_struct if not isinstance(self._outputs_struct, list) or len(self.outputs) > 1 \
            else self.outputs[0]

    @property
    def input_shape(self):
        shapes = [tuple(t.shape) for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [tuple(t.shape) for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    # ------------------------------------------------------------------ call
    def _standardize_inputs(self, inputs):
        import tensorlab as tl
        if isinstance(inputs, dict):
            try:
                flat = [inputs[n] for n in (list(self._inputs_struct) if isinstance(self._inputs_struct, dict)
                                            else self.input_names)]
            except KeyError as e:
                raise ValueError(f'Model "{self.name}": missing input {e.args[0]!r} in the dict of inputs; the '
                                 f"model's inputs are named {self.input_names}") from None
        elif isinstance(inputs, (list, tuple)) and len(self.inputs) > 1:
            flat = list(inputs)
        elif isinstance(inputs, (list, tuple)) and len(inputs) == 1 and len(self.inputs) == 1:
            flat = [inputs[0]]
        else:
            flat = [inputs]
        if len(flat) != len(self.inputs):
            raise ValueError(f'Model "{self.name}" expects {len(self.inputs)} input(s) {self.input_names}, but it '
                             f"received {len(flat)} input tensors")
        out = []
        for x, want, spec in zip(flat, self._input_dtypes, self.inputs):
            if not isinstance(x, (tl.Tensor, tl.SymbolicTensor)):
                x = tl.convert_to_tensor(x.read_value() if isinstance(x, tl.Variable) else x)
            if x.dtype != want and (x.dtype.is_floating or want.is_floating or not want.is_integer
                                    or not x.dtype.is_integer):
                x = tl.cast(x, want)
            shape = tuple(x.shape)
            exp = tuple(spec.shape)
            if len(shape) != len(exp) or any(a is not None and b is not None and a != b
                                             for a, b in zip(exp, shape)):
                raise ValueError(f'Input "{spec._keras_history[0].name}" of model "{self.name}" is incompatible: '
                                 f"expected shape={_s(exp)}, found shape={_s(shape)}")
            out.append(x)
        return out

    def call(self, inputs, training=None, mask=None):
        values = {}
        for t, x in zip(self.inputs, self._standardize_inputs(inputs)):
            values[id(t)] = x

        def get(v):
            return values[id(v)] if isinstance(v, KerasTensor) else v
        for node in self._node_order:
            args = [get(a) if not isinstance(a, (list, tuple, dict)) else _tree.map_structure(get, a)
                    for a in node.call_args]
            kwargs = {k: (get(v) if not isinstance(v, (list, tuple, dict)) else _tree.map_structure(get, v))
                      for k, v in node.call_kwargs.items()} if node.call_kwargs else {}
            out = node.layer(*args, **kwargs)
            if len(node.output_tensors) == 1:
                values[id(node.output_tensors[0])] = out if not isinstance(out, (list, tuple)) else out[0]
            else:
                for t, o in zip(node.output_tensors, _tree.flatten(out)):
                    values[id(t)] = o
        if isinstance(self._outputs_struct, dict):
            return {k: values[id(v)] for k, v in self._outputs_struct.items()}
        if isinstance(self._outputs_struct, list):
            return [values[id(t)] for t in self._outputs_struct]
        return values[id(self._outputs_struct)]

    def compute_output_shape(self, input_shape):
        shapes = [tuple(t.shape) for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    # ------------------------------------------------------------------ config
    def get_config(self):
        from tensorlab.keras.models.functional_config import functional_config
        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from tensorlab.keras.models.functional_config import functional_from_config
        return functional_from_config(cls, config, custom_objects)


def _s(shape):
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"
