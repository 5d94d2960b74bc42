"""N logical CPU replicas at global batch B train to the weights of one device at batch B.

Models: an MLP, and a CNN with BatchNormalization (synchronized, and not:
then each replica normalizes its own rows, and the single-device reference
does the same per part of the batch). After every step, the values every
replica reads are bit-identical.
"""
import numpy as np
import pytest

import tensorlab as tl

L = tl.keras.layers
GLOBAL_BATCH = 8


def make(kind):
    if kind == "mlp":
        return tl.keras.Sequential([tl.keras.Input((5,)), L.Dense(7, activation="tanh"),
                                    L.Dense(3, kernel_regularizer=tl.keras.regularizers.L2(0.01))])
    return tl.keras.Sequential([tl.keras.Input((5, 5, 2)), L.Conv2D(3, 3),
                                L.BatchNormalization(synchronized=kind == "cnn_sync_bn", momentum=0.8),
                                L.Activation("relu"), L.Flatten(), L.Dense(3)])


def data(kind, rng, n):
    x = rng.normal(size=(n, 5) if kind == "mlp" else (n, 5, 5, 2)).astype(np.float32)
    return x, rng.integers(0, 3, size=(n,)).astype(np.int32)


def compile_(m):
    m.compile(optimizer=tl.keras.optimizers.SGD(0.2, momentum=0.9),
              loss=tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])


def twin(strategy, build):
    """(ref, m): `build()` outside `strategy`'s scope and again inside it, m starting from ref's weights."""
    ref = build()
    with strategy.scope():
        m = build()
        for w, r in zip(m.weights, ref.weights):
            w.assign(r.numpy())
    return ref, m


def pair(strategy, kind):
    def build():
        m = make(kind)
        compile_(m)
        return m
    return twin(strategy, build)


class ReplicasIdentical(tl.keras.callbacks.Callback):
    """After each step, reads every weight in every replica and compares the bits."""

    def __init__(self, strategy):
        super().__init__()
        self.strategy = strategy
        self.steps = 0

    def on_train_batch_end(self, batch, logs=None):
        s = self.strategy
        per_replica = s.run(lambda: [w.read_value() for w in self.model.weights])
        for w in per_replica:
            vals = [v.numpy() for v in s.experimental_local_results(w)]
            assert len(vals) == s.num_replicas_in_sync
            for v in vals[1:]:
                assert np.array_equal(v, vals[0])
        self.steps += 1


def ghost_bn_reference_step(ref, x, y, parts):
    """One step of ``ref`` where BatchNormalization sees each part alone (as unsynchronized replicas do)."""
    bns = [la for la in ref.layers if isinstance(la, L.BatchNormalization)]
    saved = [(b.moving_mean.numpy(), b.moving_variance.numpy()) for b in bns]
    news, total = [], None
    loss_fn = tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    start = 0
    for rows in parts:
        for b, (mm, mv) in zip(bns, saved):
            b.moving_mean.assign(mm)
            b.moving_variance.assign(mv)
        xp, yp = tl.constant(x[start:start + rows]), tl.constant(y[start:start + rows])
        start += rows
        with tl.GradientTape() as tape:
            loss = loss_fn(yp, ref(xp, training=True)) * (rows / len(x))
        g = tape.gradient(loss, ref.trainable_variables)
        total = g if total is None else [a + b for a, b in zip(total, g)]
        news.append([(b.moving_mean.numpy(), b.moving_variance.numpy()) for b in bns])
    for i, b in enumerate(bns):
        b.moving_mean.assign(np.mean([n[i][0] for n in news], axis=0))
        b.moving_variance.assign(np.mean([n[i][1] for n in news], axis=0))
    ref.optimizer.apply_gradients(zip(total, ref.trainable_variables))


def assert_same_weights(ref, m):
    for r, w in zip(ref.weights, m.weights):
        np.testing.assert_allclose(w.numpy(), r.numpy(), rtol=1e-5, atol=1e-6, err_msg=w.name)


@pytest.mark.parametrize("kind", ["mlp", "cnn_sync_bn", "cnn_bn"])
@pytest.mark.parametrize("n", [2, 3])
def test_fit_matches_one_device(cpus, rng, kind, n):
    s = tl.distribute.MirroredStrategy(cpus(n))
    ref, m = pair(s, kind)
    x, y = data(kind, rng, 3 * GLOBAL_BATCH)
    check = ReplicasIdentical(s)
    hist = m.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[check])
    assert check.steps == 3
    if kind == "cnn_bn":
        parts = [GLOBAL_BATCH // n + (i < GLOBAL_BATCH % n) for i in range(n)]
        for i in range(3):
            sl = slice(i * GLOBAL_BATCH, (i + 1) * GLOBAL_BATCH)
            ghost_bn_reference_step(ref, x[sl], y[sl], parts)
    else:
        ref_hist = ref.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
        np.testing.assert_allclose(hist.history["loss"], ref_hist.history["loss"], rtol=1e-5)
        np.testing.assert_allclose(hist.history["accuracy"], ref_hist.history["accuracy"])
    assert_same_weights(ref, m)
    assert int(m.optimizer.iterations.numpy()) == 3


def test_evaluate_predict_and_on_batch(cpus, rng):
    s = tl.distribute.MirroredStrategy(cpus(2))
    ref, m = pair(s, "cnn_sync_bn")
    x, y = data("cnn", rng, 13)   # 13 rows: uneven batches (5 = 3 + 2, and 3 = 2 + 1)
    np.testing.assert_allclose(m.predict(x, batch_size=5, verbose=0), ref.predict(x, batch_size=5, verbose=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.evaluate(x, y, batch_size=5, verbose=0),
                               ref.evaluate(x, y, batch_size=5, verbose=0), rtol=1e-5)
    a = m.train_on_batch(x[:5], y[:5])
    b = ref.train_on_batch(x[:5], y[:5])
    np.testing.assert_allclose(a, b, rtol=1e-5)
    assert_same_weights(ref, m)
    np.testing.assert_allclose(m.predict_on_batch(x[:3]), ref.predict_on_batch(x[:3]), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kind", ["mlp", "cnn_bn"])
def test_fit_with_a_final_batch_smaller_than_the_replicas(cpus, rng, kind):
    s = tl.distribute.MirroredStrategy(cpus(2))
    ref, m = pair(s, kind)
    x, y = data(kind, rng, 9)   # batches of 4, 4, 1: replica 1 gets no rows in the last step
    m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    if kind == "mlp":
        ref.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    else:
        for sl, parts in ((slice(0, 4), [2, 2]), (slice(4, 8), [2, 2]), (slice(8, 9), [1])):
            ghost_bn_reference_step(ref, x[sl], y[sl], parts)
    assert all(np.isfinite(w.numpy()).all() for w in m.weights)
    assert_same_weights(ref, m)


def test_custom_loop_apply_gradients_in_replicas(cpus, rng):
    s = tl.distribute.MirroredStrategy(cpus(2))
    ref, m = twin(s, lambda: make("mlp"))
    opt_ref = tl.keras.optimizers.Adam(0.05)
    with s.scope():
        opt = tl.keras.optimizers.Adam(0.05)
    x, y = data("mlp", rng, 21)
    ds = tl.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH)
    loss_fn = tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def loss_of(model, xb, yb):
        per = loss_fn(yb, model(xb, training=True))
        return tl.nn.compute_average_loss(per, global_batch_size=GLOBAL_BATCH) + \
            tl.add_n(model.losses) / s.num_replicas_in_sync

    def step(xb, yb):
        with tl.GradientTape() as tape:
            loss = loss_of(m, xb, yb)
        opt.apply_gradients(zip(tape.gradient(loss, m.trainable_variables), m.trainable_variables))
        return loss

    for xb, yb in s.experimental_distribute_dataset(ds):
        total = s.reduce("SUM", s.run(step, args=(xb, yb)), axis=None)
        gx, gy = s.gather(xb, 0), s.gather(yb, 0)
        with tl.GradientTape() as tape:
            per = loss_fn(gy, ref(gx, training=True))
            ref_loss = tl.nn.compute_average_loss(per, global_batch_size=GLOBAL_BATCH) + tl.add_n(ref.losses)
        opt_ref.apply_gradients(zip(tape.gradient(ref_loss, ref.trainable_variables), ref.trainable_variables))
        np.testing.assert_allclose(float(total), float(ref_loss), rtol=1e-5)
    assert int(opt.iterations.numpy()) == 3
    assert_same_weights(ref, m)


class WithUnusedWeight(tl.keras.Model):
    """A model with a trainable weight its loss never reaches: its gradient is None."""

    def __init__(self):
        super().__init__()
        self.dense = L.Dense(3)
        self.unused = self.add_weight(shape=(4,), initializer="ones", name="unused")

    def call(self, x):
        return self.dense(x)


def test_a_weight_without_gradient_is_left_alone_as_on_one_device(cpus, rng):
    """No replica has a gradient for it: the optimizer skips it (AdamW's decay included)."""
    s = tl.distribute.MirroredStrategy(cpus(2))

    def build():
        m = WithUnusedWeight()
        m(tl.zeros((1, 5)))
        m.compile(optimizer=tl.keras.optimizers.AdamW(0.05, weight_decay=0.5),
                  loss=tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return m
    ref, m = twin(s, build)
    x, y = data("mlp", rng, 2 * GLOBAL_BATCH)
    m.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    ref.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_array_equal(m.unused.numpy(), np.ones(4, np.float32))
    assert_same_weights(ref, m)


def test_custom_loop_where_one_replica_has_no_gradient_for_a_variable(cpus):
    """Replica 1 never reads `b`: b's gradient is replica 0's alone, the others' are summed."""
    from tests.distribute.mpi_partial_gradients import EXPECTED, run_one_step

    got = run_one_step(tl.distribute.MirroredStrategy(cpus(2)))
    for name, expected in EXPECTED.items():
        np.testing.assert_allclose(got[name], expected, err_msg=name)


def test_buckets_are_reduced_during_the_backward_pass(cpus, rng):
    s = tl.distribute.MirroredStrategy(cpus(2))
    s.extended._bucket_bytes = 64   # a few weights per bucket
    ref, m = pair(s, "mlp")
    x, y = data("mlp", rng, GLOBAL_BATCH)
    m.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    ref.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    n_buckets, early = s.extended._last_step_buckets
    assert n_buckets >= 3 and early >= n_buckets - 1
    assert_same_weights(ref, m)


def test_error_model_built_outside_the_scope(cpus, rng):
    s = tl.distribute.MirroredStrategy(cpus(2))
    m = make("mlp")
    with s.scope():
        compile_(m)
    x, y = data("mlp", rng, 4)
    with pytest.raises(ValueError, match=r"compiled under MirroredStrategy.scope\(\) but its variables "
                                         r"\['dense(_\d+)?/kernel:0'"):
        m.fit(x, y, batch_size=4, verbose=0)


def test_loss_scaling_helpers_follow_the_strategy(cpus):
    s = tl.distribute.MirroredStrategy(cpus(2))

    def fn():
        per = tl.constant([1.0, 3.0])   # 2 rows per replica, 4 in all
        return tl.nn.compute_average_loss(per), tl.nn.scale_regularization_loss(tl.constant(2.0))
    avg, reg = s.run(fn)
    assert [float(v) for v in s.experimental_local_results(avg)] == [1.0, 1.0]
    assert [float(v) for v in s.experimental_local_results(reg)] == [1.0, 1.0]


class Keras3StyleStep(tl.keras.Model):
    """A subclassed model whose own train_step/test_step use compute_loss and the metrics."""

    def __init__(self):
        super().__init__()
        self.hidden = L.Dense(7, activation="tanh")
        self.out = L.Dense(3, kernel_regularizer=tl.keras.regularizers.L2(0.01))
        self.calls = 0

    def call(self, x, training=False):
        return self.out(self.hidden(x))

    def train_step(self, data):
        x, y = data
        self.calls += 1
        with tl.GradientTape() as tape:
            pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, pred)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        pred = self(x, training=False)
        self.compiled_metrics.update_state(y, pred)
        return {m.name: m.result() for m in self.compiled_metrics.metrics}

    def predict_step(self, data):
        (x,) = data
        return tl.nn.softmax(self(x, training=False))


class TfKerasStyleStep(Keras3StyleStep):
    """tf.keras 2 spelling: the compiled loss with the regularization losses."""

    def train_step(self, data):
        x, y = data
        self.calls += 1
        with tl.GradientTape() as tape:
            pred = self(x, training=True)
            loss = self.compiled_loss(y, pred, regularization_losses=self.losses)
        self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_variables), self.trainable_variables))
        self.compiled_metrics.update_state(y, pred)
        return {m.name: m.result() for m in self.metrics}


@pytest.mark.parametrize("cls", [Keras3StyleStep, TfKerasStyleStep])
@pytest.mark.parametrize("n", [2, 3])
def test_overridden_steps_run_in_every_replica_and_match_one_device(cpus, rng, cls, n):
    s = tl.distribute.MirroredStrategy(cpus(n))
    x, y = data("mlp", rng, 2 * GLOBAL_BATCH + 5)   # a final batch of 5: uneven over 2 and 3 replicas

    def build(model):
        model(x[:1])
        model.compile(optimizer=tl.keras.optimizers.SGD(0.2, momentum=0.9),
                      loss=tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        return model
    ref, m = twin(s, lambda: build(cls()))
    hist = m.fit(x, y, batch_size=GLOBAL_BATCH, epochs=2, shuffle=False, verbose=0, callbacks=[ReplicasIdentical(s)])
    ref_hist = ref.fit(x, y, batch_size=GLOBAL_BATCH, epochs=2, shuffle=False, verbose=0)
    assert m.calls == 6 * n and ref.calls == 6    # 3 steps an epoch, in every replica
    assert_same_weights(ref, m)
    # the metrics count every replica's rows: the same values as on one device. (The Keras 3
    # style step tracks the loss it optimizes, which in a replica is that replica's share of
    # the global loss, as in TF; the compiled loss of tf.keras tracks the unscaled loss.)
    for key in ref_hist.history:
        if key == "loss" and cls is Keras3StyleStep:
            continue
        np.testing.assert_allclose(hist.history[key], ref_hist.history[key], rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(m.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)["accuracy"],
                               ref.evaluate(x, y, batch_size=7, verbose=0, return_dict=True)["accuracy"])
    np.testing.assert_allclose(m.predict(x, batch_size=7, verbose=0), ref.predict(x, batch_size=7, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_confusion_metrics_updated_in_replicas_count_every_replica(cpus, rng):
    s = tl.distribute.MirroredStrategy(cpus(2))

    class Binary(tl.keras.Model):
        def __init__(self):
            super().__init__()
            self.d = L.Dense(1, activation="sigmoid")

        def call(self, x, training=False):
            return self.d(x)

        def train_step(self, data):
            x, y = data
            with tl.GradientTape() as tape:
                p = self(x, training=True)
                loss = self.compute_loss(x=x, y=y, y_pred=p)
            self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_variables),
                                               self.trainable_variables))
            self.compiled_metrics.update_state(y, p)
            return {m.name: m.result() for m in self.compiled_metrics.metrics}

    x = rng.normal(size=(42, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)   # learnable in a few steps

    def build(model):
        model(x[:1])
        model.compile(tl.keras.optimizers.SGD(0.5), "binary_crossentropy",
                      metrics=[tl.keras.metrics.AUC(num_thresholds=50), tl.keras.metrics.Precision(),
                               tl.keras.metrics.Recall(thresholds=[0.3, 0.7])])
        return model
    ref, m = twin(s, lambda: build(Binary()))
    hist = m.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False).history
    ref_hist = ref.fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False).history
    assert set(hist) == {"auc", "precision", "recall"}
    for key in hist:
        np.testing.assert_allclose(hist[key], ref_hist[key], rtol=1e-5, err_msg=key)
    assert hist["auc"][-1] > 0.8   # it learned: the values compared above are not trivial
    assert_same_weights(ref, m)


@pytest.mark.parametrize("n", [2, 3])
def test_fit_evaluate_predict_on_a_distributed_dataset(cpus, rng, n):
    s = tl.distribute.MirroredStrategy(cpus(n))
    ref, m = pair(s, "mlp")
    x, y = data("mlp", rng, 2 * GLOBAL_BATCH + 5)   # a final global batch of 5, uneven over the replicas
    ds = tl.data.Dataset.from_tensor_slices((x, y)).batch(GLOBAL_BATCH)
    dist = s.experimental_distribute_dataset(ds)
    hist = m.fit(dist, epochs=2, verbose=0, callbacks=[ReplicasIdentical(s)])
    ref_hist = ref.fit(ds, epochs=2, verbose=0)
    assert int(m.optimizer.iterations.numpy()) == 6
    assert_same_weights(ref, m)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(hist.history[key], ref_hist.history[key], rtol=1e-5, err_msg=key)
    np.testing.assert_allclose(m.evaluate(dist, verbose=0), ref.evaluate(ds, verbose=0), rtol=1e-5)
    xs = tl.data.Dataset.from_tensor_slices(x).batch(GLOBAL_BATCH)
    np.testing.assert_allclose(m.predict(s.experimental_distribute_dataset(xs), verbose=0),
                               ref.predict(xs, verbose=0), rtol=1e-5, atol=1e-6)


def test_distributed_dataset_needs_a_model_compiled_in_its_strategy(cpus, rng):
    s = tl.distribute.MirroredStrategy(cpus(2))
    x, y = data("mlp", rng, 8)
    model = make("mlp")
    compile_(model)
    dist = s.experimental_distribute_dataset(tl.data.Dataset.from_tensor_slices((x, y)).batch(4))
    with pytest.raises(ValueError, match=r"fit: x is a distributed dataset of MirroredStrategy.*strategy.scope"):
        model.fit(dist, verbose=0)


@pytest.mark.parametrize("kind", ["mlp", "cnn_sync_bn"])
@pytest.mark.parametrize("initial_scale", [2.0 ** 15, 2.0 ** 40])
def test_mixed_float16_fit_matches_one_device(cpus, rng, kind, initial_scale):
    """Loss scaling decides once, on the all-reduced gradients: the replicas skip or apply
    the same steps as one device (2**40 overflows float16 gradients: every step is skipped)."""
    tl.keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        s = tl.distribute.MirroredStrategy(cpus(2))

        def build():
            m = make(kind)
            m.compile(optimizer=tl.keras.mixed_precision.LossScaleOptimizer(
                tl.keras.optimizers.SGD(0.1, momentum=0.9), initial_scale=initial_scale),
                loss=tl.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
            return m
        ref, m = twin(s, build)
    finally:
        tl.keras.mixed_precision.set_global_policy(None)
    assert m.layers[0].compute_dtype == "float16" and m.layers[0].kernel.dtype == tl.float32
    x, y = data(kind, rng, 2 * GLOBAL_BATCH)
    check = ReplicasIdentical(s)
    m.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[check])
    ref.fit(x, y, batch_size=GLOBAL_BATCH, epochs=1, shuffle=False, verbose=0)
    assert check.steps == 2
    applied = 2 if initial_scale < 2.0 ** 20 else 0
    for opt in (m.optimizer, ref.optimizer):
        assert int(opt.iterations.numpy()) == applied
        assert float(opt.dynamic_scale.numpy()) == (initial_scale if applied else initial_scale / 4)
    # float16 partial sums per replica round differently from one device's: float16 tolerance.
    # (Two steps only: later steps amplify the differences where a float16 rounding flips.)
    for r, w in zip(ref.weights, m.weights):
        np.testing.assert_allclose(w.numpy(), r.numpy(), rtol=1e-2, atol=2e-3, err_msg=w.name)
