"""tl.nest against tf.nest's documented behaviour."""
import collections

import pytest

import tensorlab as tl

Point = collections.namedtuple("Point", "x y")


def test_flatten_and_pack_round_trip():
    s = {"b": [1, (2, 3)], "a": Point(4, {"z": 5, "c": None}), "d": "leaf"}
    flat = tl.nest.flatten(s)
    assert flat == [4, None, 5, 1, 2, 3, "leaf"]  # sorted keys at every level; None and str are leaves
    back = tl.nest.pack_sequence_as(s, [f"v{i}" for i in range(len(flat))])
    assert back == {"b": ["v3", ("v4", "v5")], "a": Point("v0", {"z": "v2", "c": "v1"}), "d": "v6"}
    assert list(back) == ["b", "a", "d"] and isinstance(back["a"], Point)
    assert tl.nest.flatten(7) == [7] and tl.nest.pack_sequence_as(7, [8]) == 8
    od = collections.OrderedDict([("y", 1), ("x", 2)])
    assert tl.nest.flatten(od) == [2, 1]
    assert type(tl.nest.pack_sequence_as(od, [5, 6])) is collections.OrderedDict
    dd = collections.defaultdict(list, {"k": 1})
    assert tl.nest.pack_sequence_as(dd, [2]).default_factory is list


def test_map_structure_and_tensors():
    a = {"x": tl.constant([1.0, 2.0]), "y": (tl.constant(3.0),)}
    b = {"x": tl.constant([10.0, 20.0]), "y": (tl.constant(30.0),)}
    out = tl.nest.map_structure(lambda p, q: p + q, a, b)
    assert out["x"].numpy().tolist() == [11.0, 22.0] and float(out["y"][0]) == 33.0
    assert tl.nest.is_nested([1]) and tl.nest.is_nested({}) and not tl.nest.is_nested(tl.constant([1, 2]))


def test_structure_mismatch_errors():
    with pytest.raises(ValueError, match="same sequence length at the top: 2 vs 3"):
        tl.nest.assert_same_structure([1, 2], [1, 2, 3])
    with pytest.raises(TypeError, match="same sequence type.*list vs tuple"):
        tl.nest.assert_same_structure([1, 2], (1, 2))
    tl.nest.assert_same_structure([1, 2], (1, 2), check_types=False)
    with pytest.raises(ValueError, match=r"at \['a'\]\[1\], one is a sequence"):
        tl.nest.assert_same_structure({"a": [1, [2]]}, {"a": [1, 2]})
    with pytest.raises(ValueError, match="same keys"):
        tl.nest.map_structure(lambda p, q: p, {"a": 1}, {"b": 1})
    with pytest.raises(ValueError, match="structure has 3 leaves but flat_sequence has 2"):
        tl.nest.pack_sequence_as([1, (2, 3)], [1, 2])


def test_tf_top_level_helpers(rng):
    # TF 2's top-level initializer names are Keras' initializers
    assert tl.zeros_initializer is tl.keras.initializers.Zeros
    w = tl.random_normal_initializer(mean=1.0, stddev=0.5, seed=3)((400, 50))
    assert abs(float(tl.reduce_mean(w)) - 1.0) < 0.02 and abs(float(tl.math.reduce_std(w)) - 0.5) < 0.02
    u = tl.random_uniform_initializer(-2.0, 2.0, seed=1)((1000,)).numpy()
    assert u.min() >= -2.0 and u.max() < 2.0 and u.min() < -1.9
    assert tl.constant_initializer(3.0)((2,), dtype=tl.float64).numpy().tolist() == [3.0, 3.0]
    assert tl.get_logger().name == "tensorlab" and tl.version.VERSION == tl.__version__
    f = tl.autograph.experimental.do_not_convert(lambda x: x + 1)
    assert f(1) == 2 and tl.autograph.experimental.do_not_convert()(len)("ab") == 2
    with tl.init_scope():
        assert tl.executing_eagerly()


def test_one_namedtuple_test_shared_by_every_structure_module():
    # tl.nest, keras.tree, the Keras engine's _tree and tl.data use one helper, not copies.
    import typing

    from tensorlab.data import _structure
    from tensorlab.keras import _tree, tree

    for mod in (tree, _tree, _structure):
        assert mod._is_namedtuple is tl.nest._is_namedtuple, mod.__name__

    class Typed(typing.NamedTuple):
        a: int
        b: int

    class Sub(Point):
        pass

    class PlainSub(tuple):
        pass

    yes = [Point(1, 2), Typed(1, 2), Sub(1, 2)]
    no = [(1, 2), (), [1, 2], PlainSub((1, 2)), Point, {"_fields": 1}, None]
    assert all(tl.nest._is_namedtuple(v) for v in yes)
    assert not any(tl.nest._is_namedtuple(v) for v in no)
    # Each module keeps the class of a namedtuple and makes plain tuples of other tuples.
    for s in yes:
        assert type(tl.nest.map_structure(lambda v: v + 1, s)) is type(s)
        assert type(tree.map_structure(lambda v: v + 1, s)) is type(s)
        assert type(_tree.map_structure(lambda v: v + 1, s)) is type(s)
        assert type(_tree.pack_like(s, [5, 6])) is type(s)
        assert type(_structure.map_structure(lambda v: v + 1, s)) is type(s)
    assert type(_tree.map_structure(lambda v: v, PlainSub((1, 2)))) is tuple
    assert type(_structure.map_structure(lambda v: v, PlainSub((1, 2)))) is tuple
    ds = tl.data.Dataset.from_tensors(Point(tl.constant(1.0), tl.constant(2.0))).map(lambda p: Point(p.y, p.x))
    got = next(iter(ds))
    assert isinstance(got, Point) and float(got.x) == 2.0 and float(got.y) == 1.0
