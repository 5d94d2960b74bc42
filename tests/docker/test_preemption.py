"""SIGTERM during fit: the step finishes, a checkpoint is written, the process exits 0; a rerun resumes."""
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import tensorlab as tl
from tensorlab import keras
from tensorlab.keras import layers
from tensorlab.keras.callbacks_preempt import TerminateOnSignal, read_state

ROOT = Path(__file__).resolve().parents[2]
GRACE_S = 10  # docker stop's default
EPOCHS, BATCH, SAMPLES = 3, 16, 320
STEPS = SAMPLES // BATCH


def _run_args(ckpt, *extra):
    return [sys.executable, "-m", "tensorlab.examples.preemptible", "--checkpoint-dir", str(ckpt),
            "--epochs", str(EPOCHS), "--batch-size", str(BATCH), "--train-samples", str(SAMPLES), *extra]


def _env():
    return dict(os.environ, PYTHONPATH=str(ROOT), TENSORLAB_DEVICE="cpu", PYTHONUNBUFFERED="1")


def test_sigterm_checkpoints_exits_zero_and_resumes(tmp_path):
    ckpt = tmp_path / "ckpt"
    proc = subprocess.Popen(_run_args(ckpt, "--step-delay", "0.02"), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=_env())
    try:
        lines = []
        for line in proc.stdout:  # wait until fit runs and one epoch is behind it
            lines.append(line)
            if "saved after 1 epoch(s)" in line:
                break
        assert proc.poll() is None, "".join(lines)
        time.sleep(0.1)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=GRACE_S)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
    out = "".join(lines) + rest
    assert proc.returncode == 0, out
    assert took < GRACE_S
    assert "SIGTERM received; stopping after the current step" in out
    state = read_state(ckpt)
    assert state["reason"] == "SIGTERM", state
    assert list(ckpt.glob(state["checkpoint"] + "*")), f"no checkpoint file for {state['checkpoint']}"
    done = state["epoch"] * STEPS + state["step"]
    assert 0 < state["step"] < STEPS and state["epoch"] >= 1, state
    m = re.search(r"stopped by SIGTERM after (\d+) steps in this run \((\d+) in all\)", out)
    assert m and int(m.group(2)) == done, out

    r = subprocess.run(_run_args(ckpt), capture_output=True, text=True, env=_env(), timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"resuming after {state['epoch']} epoch(s) and {state['step']} step(s)" in r.stdout
    m = re.search(r"finished: (\d+) steps in this run, (\d+) of (\d+) in all; .*test accuracy ([0-9.]+)", r.stdout)
    assert m, r.stdout
    assert int(m.group(1)) == EPOCHS * STEPS - done, r.stdout  # no step trained twice, none skipped
    assert int(m.group(2)) == int(m.group(3)) == EPOCHS * STEPS
    assert float(m.group(4)) > 0.5
    final = read_state(ckpt)
    assert (final["epoch"], final["step"], final["reason"]) == (EPOCHS, 0, "epoch end")


def _model(seed=0, dropout=False):
    keras.utils.set_random_seed(seed)
    m = keras.Sequential([keras.Input(shape=(5,)), layers.Dense(7, activation="tanh")]
                         + ([layers.Dropout(0.3)] if dropout else []) + [layers.Dense(3)])
    m.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return m


def _data(rng, n=40):
    return rng.standard_normal((n, 5)).astype("float32"), rng.standard_normal((n, 3)).astype("float32")


def _slots(model):
    return [s.numpy() for s in model.optimizer.variables[2:]]


@pytest.mark.parametrize("store", ["npz", None])
def test_signal_in_process_finishes_step_and_restores_exactly(tmp_path, rng, store):
    x, y = _data(rng)
    model = _model()
    preempt = TerminateOnSignal(tmp_path, store=store, verbose=0)
    kill_at = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs=None: os.kill(os.getpid(), signal.SIGTERM) if b == 3 else None)
    before = signal.getsignal(signal.SIGTERM)
    model.fit(x, y, batch_size=4, epochs=5, callbacks=[kill_at, preempt], verbose=0)
    assert signal.getsignal(signal.SIGTERM) is before, "the previous handler is put back"
    assert preempt.stopped and preempt.received == signal.SIGTERM
    assert int(model.optimizer.iterations.numpy()) == 4, "the step in flight finishes, no later one starts"
    assert (read_state(tmp_path)["epoch"], read_state(tmp_path)["step"]) == (0, 4)

    fresh = _model(seed=1)
    assert not np.allclose(fresh.weights[0].numpy(), model.weights[0].numpy())
    resume = TerminateOnSignal(tmp_path, store=store, verbose=0)
    assert resume.restore(fresh) == 0 and resume.initial_step == 4
    for a, b in zip(fresh.weights, model.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert int(fresh.optimizer.iterations.numpy()) == 4
    for a, b in zip(_slots(fresh), _slots(model)):
        np.testing.assert_array_equal(a, b)


def test_resume_skips_the_steps_already_done(tmp_path, rng):
    x, y = _data(rng)  # 10 steps per epoch
    model = _model()
    preempt = TerminateOnSignal(tmp_path, verbose=0)
    kill_at = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs=None: os.kill(os.getpid(), signal.SIGTERM) if b == 6 else None)
    epochs_seen = []
    track = keras.callbacks.LambdaCallback(on_epoch_begin=lambda e, logs=None: epochs_seen.append(e))
    # stop in the second epoch, after 7 of its 10 steps
    model.fit(x, y, batch_size=4, epochs=1, callbacks=[preempt], verbose=0)
    model.fit(x, y, batch_size=4, epochs=3, initial_epoch=1, callbacks=[kill_at, preempt], verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 17
    assert (read_state(tmp_path)["epoch"], read_state(tmp_path)["step"]) == (1, 7)

    again = _model(seed=2)
    resume = TerminateOnSignal(tmp_path, verbose=0)
    initial = resume.restore(again)
    assert (initial, resume.initial_step) == (1, 7)
    again.fit(x, y, batch_size=4, epochs=3, initial_epoch=initial, callbacks=[track, resume], verbose=0)
    assert epochs_seen == [1, 2]
    assert int(again.optimizer.iterations.numpy()) == 30, "3 remaining steps of epoch 2, then 10 of epoch 3"
    assert "train_step" not in vars(again), "the skipping wrapper is removed after fit"
    assert (read_state(tmp_path)["epoch"], read_state(tmp_path)["step"]) == (3, 0)


def test_restore_without_checkpoint_starts_fresh(tmp_path):
    model = _model()
    preempt = TerminateOnSignal(tmp_path / "none", verbose=0)
    assert preempt.restore(model) == 0 and preempt.initial_step == 0


def test_state_written_atomically_and_old_checkpoints_pruned(tmp_path, rng):
    x, y = _data(rng, 8)
    model = _model()
    preempt = TerminateOnSignal(tmp_path, store="npz", verbose=0)
    model.fit(x, y, batch_size=4, epochs=4, callbacks=[preempt], verbose=0)
    files = sorted(os.listdir(tmp_path))
    state = json.loads((tmp_path / "state.json").read_text())
    assert files == sorted(["state.json", state["checkpoint"]]), files
    assert not any(".tmp-" in f for f in files)


def test_delete_checkpoint_after_completed_fit(tmp_path, rng):
    x, y = _data(rng, 8)
    model = _model()
    preempt = TerminateOnSignal(tmp_path, delete_checkpoint=True, store="npz", verbose=0)
    model.fit(x, y, batch_size=4, epochs=2, callbacks=[preempt], verbose=0)
    assert read_state(tmp_path) is None
    assert os.listdir(tmp_path) == []


def test_error_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match=r"TerminateOnSignal: save_freq must be 'epoch' or None, got 'batch'"):
        TerminateOnSignal(tmp_path, save_freq="batch")
    with pytest.raises(ValueError, match=r"TerminateOnSignal: store must be .* got 'h5'"):
        TerminateOnSignal(tmp_path, store="h5")


def test_error_restore_into_other_architecture(tmp_path, rng):
    x, y = _data(rng, 8)
    model = _model()
    model.fit(x, y, batch_size=4, epochs=1, callbacks=[TerminateOnSignal(tmp_path, store="npz", verbose=0)],
              verbose=0)
    other = keras.Sequential([keras.Input(shape=(5,)), layers.Dense(3)])
    other.compile(optimizer="adam", loss="mse")
    with pytest.raises(ValueError, match=r"TerminateOnSignal.restore: .*ckpt-\d+\.npz holds 4 weights but model "
                                         r'"\w+" has 2'):
        TerminateOnSignal(tmp_path, store="npz", verbose=0).restore(other)


@pytest.mark.parametrize("dropout", [False, True])
def test_interrupted_and_resumed_equals_uninterrupted(tmp_path, rng, dropout):
    x, y = _data(rng)
    ref = _model(dropout=dropout)
    np.random.seed(7)
    ref.fit(x, y, batch_size=4, epochs=3, verbose=0)  # shuffled: order drawn from numpy's global state

    model = _model(dropout=dropout)
    np.random.seed(7)
    kill_at = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, logs=None: os.kill(os.getpid(), signal.SIGTERM) if b == 5 else None)
    model.fit(x, y, batch_size=4, epochs=1, callbacks=[TerminateOnSignal(tmp_path, verbose=0)], verbose=0)
    model.fit(x, y, batch_size=4, epochs=3, initial_epoch=1, verbose=0,
              callbacks=[kill_at, TerminateOnSignal(tmp_path, verbose=0)])
    np.random.seed(12345)  # a new process: whatever state numpy starts with
    resumed = _model(seed=3, dropout=dropout)
    resume = TerminateOnSignal(tmp_path, verbose=0)
    resumed.fit(x, y, batch_size=4, epochs=3, initial_epoch=resume.restore(resumed), callbacks=[resume], verbose=0)
    assert int(resumed.optimizer.iterations.numpy()) == 30
    for a, b in zip(resumed.weights, ref.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
