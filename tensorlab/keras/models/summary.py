"""``model.summary()``: a table of layers, output shapes and parameter counts."""


def _shape_str(layer):
    try:
        nodes = layer._inbound_nodes
    except AttributeError:
        nodes = []
    shapes = []
    for node in nodes[:1]:
        for t in node.output_tensors:
            shapes.append("(" + ", ".join("None" if d is None else str(d) for d in t.shape)
                          + ("," if len(t.shape) == 1 else "") + ")")
    if not shapes:
        return "?"
    return shapes[0] if len(shapes) == 1 else "[" + ", ".join(shapes) + "]"


def _params(layer):
    try:
        return sum(int(v.shape.num_elements()) for v in layer.weights)
    except Exception:
        return 0


def _size(n, bytes_per=4):
    b = n * bytes_per
    for unit in ("B", "KB", "MB", "GB"):
        if b < 1024 or unit == "GB":
            return f"{b:.2f} {unit}" if unit != "B" else f"{int(b)} B"
        b /= 1024.0


def _connected(layer, model_nodes):
    out = []
    for node in layer._inbound_nodes:
        if id(node) not in model_nodes:
            continue
        for t in node.input_tensors:
            src, ni, ti = t._keras_history
            out.append(f"{src.name}[{ni}][{ti}]")
    return out


def print_summary(model, line_length=None, print_fn=None, expand_nested=False, show_trainable=False):
    from tensorlab.keras.models.functional import Functional
    print_fn = print_fn or print
    functional = isinstance(model, Functional)
    layers = model.layers
    if functional:
        cols = [("Layer (type)", 30), ("Output Shape", 24), ("Param #", 12), ("Connected to", 28)]
        model_nodes = {id(n) for n in model._node_order}
    else:
        cols = [("Layer (type)", 32), ("Output Shape", 26), ("Param #", 12)]
        model_nodes = set()
    if show_trainable:
        cols.append(("Trainable", 10))
    width = line_length or sum(w for _, w in cols)

    def row(values):
        line = ""
        for (_, w), v in zip(cols, values):
            v = str(v)
            line += (v[: w - 1] + " ").ljust(w) if len(v) >= w else v.ljust(w)
        return line.rstrip()

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * width)
    print_fn(row([c for c, _ in cols]))
    print_fn("=" * width)

    def emit(layer, indent=""):
        vals = [f"{indent}{layer.name} ({type(layer).__name__})", _shape_str(layer), _params(layer)]
        if functional:
            conn = _connected(layer, model_nodes)
            vals.append(conn[0] if conn else "-")
        if show_trainable:
            vals.append("Y" if layer.trainable else "N")
        print_fn(row(vals))
        if functional:
            for extra in _connected(layer, model_nodes)[1:]:
                print_fn(row(["", "", "", extra] + ([""] if show_trainable else [])))
        if expand_nested and hasattr(layer, "layers") and layer.layers:
            for sub in layer.layers:
                emit(sub, indent + "  ")

    for i, layer in enumerate(layers):
        emit(layer)
        if i < len(layers) - 1:
            print_fn("")
    print_fn("=" * width)
    weights = model.weights
    seen = set()
    total = trainable = 0
    tw = {id(v) for v in model.trainable_weights}
    for v in weights:
        if id(v) in seen:
            continue
        seen.add(id(v))
        n = int(v.shape.num_elements())
        total += n
        if id(v) in tw:
            trainable += n
    print_fn(f"Total params: {total:,} ({_size(total)})")
    print_fn(f"Trainable params: {trainable:,} ({_size(trainable)})")
    print_fn(f"Non-trainable params: {total - trainable:,} ({_size(total - trainable)})")
    print_fn("_" * width)
