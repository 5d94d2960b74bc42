"""``SwapEMAWeights`` and ``fit``'s EMA handling: the optimizer's averages are in the model
during evaluation (and, with ``swap_on_epoch``, at the end of each epoch), and training
itself goes on from the training weights."""
import numpy as np
import pytest

from tensorlab import keras
from tensorlab.keras import callbacks, optimizers
from tests.keras.test_optimizers_extra import small_model as model_with, train_data as data


def weights(m):
    return [w.copy() for w in m.get_weights()]


def averages(m):
    opt = getattr(m.optimizer, "inner_optimizer", m.optimizer)
    return [a.numpy().copy() for a in opt._model_variables_moving_average]


def assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_evaluate_and_predict_use_the_averages_and_swap_back(rng):
    x, y = data(rng)
    m = model_with(optimizers.SGD(0.05, use_ema=True, ema_momentum=0.8))
    for _ in range(5):
        m.train_on_batch(x, y)
    trained, avg = weights(m), averages(m)
    assert not np.allclose(trained[0], avg[0])
    swap = callbacks.SwapEMAWeights()
    got = m.evaluate(x, y, verbose=0, callbacks=[swap])
    pred = m.predict(x, verbose=0, callbacks=[swap])
    assert_same(weights(m), trained)  # swapped back, in place
    assert_same(averages(m), avg)
    m.set_weights(avg)
    assert got == pytest.approx(m.evaluate(x, y, verbose=0), rel=1e-6)
    np.testing.assert_allclose(pred, m.predict(x, verbose=0), rtol=1e-6)


def test_fit_validates_with_the_averages_and_ends_with_them(rng):
    x, y = data(rng)
    xv, yv = data(rng, 16)
    m = model_with(optimizers.Adam(0.01, use_ema=True, ema_momentum=0.9))
    hist = m.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=False, validation_data=(xv, yv),
                 callbacks=[callbacks.SwapEMAWeights()])
    # fit ends with the averages in the model (finalize_variable_values), the weights the
    # last validation used.
    assert_same(weights(m), averages(m))
    assert hist.history["val_loss"][-1] == pytest.approx(m.evaluate(xv, yv, verbose=0), rel=1e-6)
    # The same training without the callback: same updates, same averages, but validated
    # with the training weights.
    r = model_with(optimizers.Adam(0.01, use_ema=True, ema_momentum=0.9))
    hist_r = r.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=False, validation_data=(xv, yv))
    assert_same(averages(r), averages(m))
    assert hist_r.history["val_loss"][-1] != pytest.approx(hist.history["val_loss"][-1], rel=1e-4)


def test_swap_on_epoch_shows_the_averages_to_later_callbacks(rng):
    x, y = data(rng)
    seen = []

    class Record(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append((weights(self.model), averages(self.model)))

    m = model_with(optimizers.SGD(0.05, momentum=0.5, use_ema=True, ema_momentum=0.7))
    m.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=False,
          callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True), Record()])
    r = model_with(optimizers.SGD(0.05, momentum=0.5, use_ema=True, ema_momentum=0.7))
    ref = []

    class RecordPlain(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            ref.append((weights(self.model), averages(self.model)))

    r.fit(x, y, epochs=3, batch_size=16, verbose=0, shuffle=False, callbacks=[RecordPlain()])
    for (w, a), (w_ref, a_ref) in zip(seen[:-1], ref[:-1]):
        assert_same(w, a_ref)  # the model holds the averages at the epoch's end...
        assert_same(a, w_ref)  # ...and the averages the training weights, swapped in place
    assert_same(seen[-1][0], ref[-1][1])
    assert_same(weights(m), ref[-1][1])  # after the last epoch the model keeps the averages
    assert_same(weights(r), ref[-1][1])  # as fit's finalize_variable_values does without the callback


def test_works_through_a_loss_scale_optimizer(rng):
    x, y = data(rng)
    m = model_with(keras.mixed_precision.LossScaleOptimizer(optimizers.Lion(0.01, use_ema=True)))
    m.fit(x, y, epochs=1, batch_size=16, verbose=0)
    trained = weights(m)
    avg = averages(m)
    m.evaluate(x, y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    assert_same(weights(m), trained)
    assert_same(avg, trained)  # fit's finalize_variable_values reached the inner optimizer


def test_error_without_use_ema(rng):
    x, y = data(rng, 8)
    m = model_with(optimizers.SGD(0.05))
    m.fit(x, y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"SwapEMAWeights must be used when `use_ema=True`.*use_ema=False \(SGD\)"):
        m.evaluate(x, y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
