"""The fused LSTM and GRU cells (ops/rnn.py) against float64 numpy steps, their gradients (and
second derivatives) against finite differences, GPU vs CPU, and their errors."""
import numpy as np
import pytest

import tensorlab as tl
from tensorlab.ops import rnn as R
from tests.ops.harness import Case, S, op_tests


def ref_lstm_cell(z, c_prev):
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    i, f, g, o = np.split(z, 4, axis=-1)
    c = sig(f) * c_prev + sig(i) * np.tanh(g)
    return [sig(o) * np.tanh(c), c]


def ref_gru_cell(xp, rec, h):
    sig = lambda v: 1.0 / (1.0 + np.exp(-v))  # noqa: E731
    xz, xr, xh = np.split(xp, 3, axis=-1)
    rz, rr, rh = np.split(rec, 3, axis=-1)
    z, r = sig(xz + rz), sig(xr + rr)
    return z * h + (1 - z) * np.tanh(xh + r * rh)


CASES = [
    Case("lstm_cell", lambda z, c: list(R.lstm_cell(z, c)), ref_lstm_cell, [S((3, 8), low=-3, high=3), S((3, 2))]),
    Case("lstm_cell_wide", lambda z, c: list(R.lstm_cell(z, c)), ref_lstm_cell, [S((2, 20), low=-4, high=4), S((2, 5))],
         second=False),
    # only h used downstream (the final c of a sequence is dropped)
    Case("lstm_cell_h_only", lambda z, c: R.lstm_cell(z, c)[0], lambda z, c: ref_lstm_cell(z, c)[0],
         [S((2, 4)), S((2, 1))]),
    Case("gru_cell", R.gru_cell, ref_gru_cell, [S((3, 6), low=-3, high=3), S((3, 6)), S((3, 2))]),
    Case("gru_cell_wide", R.gru_cell, ref_gru_cell, [S((2, 15), low=-4, high=4), S((2, 15)), S((2, 5))],
         second=False),
]
globals().update(op_tests(CASES))  # forward, gradient, second derivative, shape rule, GPU vs CPU


def test_large_pre_activations_saturate_without_overflow():
    z = tl.constant(np.array([[800.0, -800.0, 50.0, 800.0]], np.float32))
    h, c = R.lstm_cell(z, tl.constant([[2.0]]))
    np.testing.assert_allclose(c.numpy(), [[1.0]], rtol=1e-6)          # f = 0: c = i * g = 1
    np.testing.assert_allclose(h.numpy(), [[np.tanh(1.0)]], rtol=1e-6)


def test_half_precision_steps_match_float32():
    rng = np.random.default_rng(1)
    z, c = rng.standard_normal((4, 12)).astype(np.float16), rng.standard_normal((4, 3)).astype(np.float16)
    h16, c16 = R.lstm_cell(z, c)
    h32, c32 = R.lstm_cell(z.astype(np.float32), c.astype(np.float32))
    assert h16.dtype == tl.float16
    np.testing.assert_allclose(h16.numpy().astype(np.float32), h32.numpy(), rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(c16.numpy().astype(np.float32), c32.numpy(), rtol=2e-3, atol=2e-3)


def test_errors_name_the_op_and_shapes():
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"gru_cell: the input projection xp must be "
                                                             r"\[batch, 3 \* units\], got shape \[2,7\]"):
        R.gru_cell(tl.zeros((2, 7)), tl.zeros((2, 7)), tl.zeros((2, 2)))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"gru_cell: h_prev must match \[batch, units\] of xp"):
        R.gru_cell(tl.zeros((2, 6)), tl.zeros((2, 6)), tl.zeros((2, 3)))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"lstm_cell: the gate pre-activations z must be "
                                                             r"\[batch, 4 \* units\], got shape \[2,7\]"):
        R.lstm_cell(tl.zeros((2, 7)), tl.zeros((2, 2)))
    with pytest.raises(tl.errors.InvalidArgumentError, match=r"lstm_cell: c_prev must match \[batch, units\] of z"):
        R.lstm_cell(tl.zeros((2, 8)), tl.zeros((2, 3)))
