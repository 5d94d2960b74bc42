"""``get_config``/``from_config`` of Functional models (Keras 3's layout).

Each layer entry lists its calls as ``inbound_nodes``: the call's args and
kwargs with every symbolic tensor written as
``{"class_name": "__keras_tensor__", "config": {"keras_history": [layer, node, index]}}``.
Node indices count only the calls that belong to this model.
"""
from tensorlab.keras import _tree
from tensorlab.keras._node import KerasTensor

_KT = "__keras_tensor__"


def functional_config(model):
    from tensorlab.keras.saving.serialization import serialize_keras_object
    node_index = {}   # id(node) -> index among this model's nodes of that layer
    per_layer = {}
    for t in model.inputs:
        layer, ni, _ = t._keras_history
        node = layer._inbound_nodes[ni]
        node_index[id(node)] = 0
        per_layer.setdefault(id(layer), [])
    for node in model._node_order:
        lst = per_layer.setdefault(id(node.layer), [])
        node_index[id(node)] = len(lst)
        lst.append(node)

    def ref(t):
        layer, ni, ti = t._keras_history
        node = layer._inbound_nodes[ni]
        return [layer.name, node_index.get(id(node), 0), ti]

    def enc(v):
        if isinstance(v, KerasTensor):
            return {"class_name": _KT, "config": {"shape": list(v.shape), "dtype": v.dtype.name,
                                                  "keras_history": ref(v)}}
        if hasattr(v, "tolist"):
            return v.tolist()
        return v

    layers = []
    for layer in model._graph_layers:
        entry = serialize_keras_object(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [{"args": _tree.map_structure(enc, list(n.call_args)),
                                   "kwargs": _tree.map_structure(enc, dict(n.call_kwargs))}
                                  for n in per_layer.get(id(layer), [])]
        layers.append(entry)

    def io(struct):
        if isinstance(struct, dict):
            return {k: ref(v) for k, v in struct.items()}
        if isinstance(struct, list):
            return [ref(t) for t in struct]
        return ref(struct)
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": io(model._inputs_struct), "output_layers": io(model._outputs_struct)}


def functional_from_config(cls, config, custom_objects=None):
    from tensorlab.keras.saving.serialization import deserialize_keras_object
    created = {}
    produced = {}   # (layer name, node index) -> outputs
    pending = []
    for entry in config["layers"]:
        layer = deserialize_keras_object(entry, module="layers", custom_objects=custom_objects)
        created[entry["name"]] = layer
        if entry.get("class_name") == "InputLayer":
            produced[(entry["name"], 0)] = layer._output_tensor
        else:
            for i, node in enumerate(entry.get("inbound_nodes", [])):
                pending.append((entry["name"], i, node))

    def dec(v):
        if isinstance(v, dict) and v.get("class_name") == _KT:
            name, ni, ti = v["config"]["keras_history"]
            out = produced[(name, ni)]
            return _tree.flatten(out)[ti]
        return v

    def ready(v):
        ok = True

        def check(x):
            nonlocal ok
            if isinstance(x, dict) and x.get("class_name") == _KT:
                name, ni, _ = x["config"]["keras_history"]
                ok = ok and (name, ni) in produced
            elif isinstance(x, dict):
                for y in x.values():
                    check(y)
            elif isinstance(x, list):
                for y in x:
                    check(y)
        check(v)
        return ok

    while pending:
        progress = False
        rest = []
        for name, i, node in pending:
            if ready(node):
                args = [_decode(a, dec) for a in node.get("args", [])]
                kwargs = {k: _decode(v, dec) for k, v in node.get("kwargs", {}).items()}
                produced[(name, i)] = created[name](*args, **kwargs)
                progress = True
            else:
                rest.append((name, i, node))
        if not progress:
            raise ValueError(f"Functional.from_config: cannot rebuild the calls of layers "
                             f"{sorted({p[0] for p in rest})}: their inputs are never produced")
        pending = rest

    def io(spec):
        if isinstance(spec, dict):
            return {k: io(v) for k, v in spec.items()}
        if spec and isinstance(spec[0], list):
            return [io(s) for s in spec]
        name, ni, ti = spec
        return _tree.flatten(produced[(name, ni)])[ti]
    inputs = io(config["input_layers"])
    outputs = io(config["output_layers"])
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _decode(v, dec):
    if isinstance(v, dict) and v.get("class_name") == _KT:
        return dec(v)
    if isinstance(v, list):
        return [_decode(x, dec) for x in v]
    if isinstance(v, dict):
        return {k: _decode(x, dec) for k, x in v.items()}
    return v
