"""tl.Module and tl.name_scope (TF's tf.Module / tf.name_scope in eager mode)."""
import copy

import numpy as np
import pytest

import tensorlab as tl


class Dense(tl.Module):
    def __init__(self, n_in, n_out, name=None):
        super().__init__(name=name)
        with self.name_scope:
            self.w = tl.Variable(tl.random.normal([n_in, n_out], dtype=tl.float64), name="w")
            self.b = tl.Variable(tl.zeros([n_out], dtype=tl.float64), name="b")
            self.steps = tl.Variable(0, trainable=False, name="steps")

    @tl.Module.with_name_scope
    def __call__(self, x):
        return tl.nn.relu(x @ self.w + self.b)


class MLP(tl.Module):
    def __init__(self, name=None):
        super().__init__(name=name)
        with self.name_scope:
            self.blocks = [Dense(3, 4), Dense(4, 2, name="head")]
            self.extra = {"keras": tl.keras.layers.Dense(2, name="proj")}
            self.extra["keras"].build((None, 2))
            self.note = "not a variable"

    def __call__(self, x):
        for b in self.blocks:
            x = b(x)
        return self.extra["keras"](x)


def test_names_and_variable_discovery():
    m = MLP()
    assert m.name == "mlp" and m.name_scope.name == "mlp/"
    names = [v.name for v in m.trainable_variables]
    # the module's own variables (none here), then its sub-modules' in attribute order (blocks, then
    # extra), each module's variables sorted by attribute name, each variable once
    assert names == ["mlp/dense/b:0", "mlp/dense/w:0", "mlp/head/b:0", "mlp/head/w:0", "mlp/proj/kernel:0",
                     "mlp/proj/bias:0"]
    assert [v.name for v in m.non_trainable_variables] == ["mlp/dense/steps:0", "mlp/head/steps:0"]
    assert len(m.variables) == 8
    assert [type(s).__name__ for s in m.submodules] == ["Dense", "Dense", "Dense"]
    assert m.blocks[0] in m.submodules and m.extra["keras"] in m.submodules


def test_module_trains_with_gradient_tape(rng):
    m = MLP()
    x = tl.constant(rng.normal(size=(5, 3)))
    with tl.GradientTape() as tape:
        loss = tl.reduce_sum(tl.square(m(x)))
    grads = tape.gradient(loss, m.blocks[0].trainable_variables)
    assert all(g is not None and g.shape == v.shape for g, v in zip(grads, m.blocks[0].trainable_variables))


def test_checkpoint_round_trip_of_a_module(tmp_path, rng):
    m, n = MLP(), MLP()
    path = tl.train.Checkpoint(model=m).save(str(tmp_path / "ck"))
    keys = dict(tl.train.list_variables(path))
    assert {"model/blocks/0/w", "model/blocks/1/b", "model/extra/keras/vars/0"} <= set(keys)
    tl.train.Checkpoint(model=n).restore(path).assert_consumed()
    for a, b in zip(m.variables, n.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_name_scope_nesting_absolute_and_errors():
    with tl.name_scope("outer") as s1:
        assert s1 == "outer/"
        with tl.name_scope("inner") as s2:
            assert s2 == "outer/inner/"
            v = tl.Variable(1.0, name="v")
            with tl.name_scope("top/") as s3:
                assert s3 == "top/"
                u = tl.Variable(1.0)
        w = copy.deepcopy(v)  # a copy keeps its name, not re-scoped
    assert (v.name, u.name, w.name) == ("outer/inner/v:0", "top/Variable:0", "outer/inner/v:0")
    assert tl.Variable(1.0, name="plain").name == "plain:0"
    with pytest.raises(ValueError, match="not a valid module name"):
        tl.Module(name="bad name")
    with pytest.raises(TypeError, match="name_scope: name must be a string"):
        tl.name_scope(3)
    assert tl.Module().name == "module"
