"""MultiWorkerMirroredStrategy with real processes: ``mpiexec -n 2`` (mpi4py + the mpich wheel).

Two ranks never exceed the cores CI machines have; the tests skip where there
are fewer than two cores, or no mpiexec / mpi4py.
"""
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "mpi_train_example.py")
pytestmark = pytest.mark.mpi


def _mpiexec():
    exe = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    exe = exe if os.path.exists(exe) else shutil.which("mpiexec")
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        exe = None
    if exe is None:
        pytest.skip("needs mpiexec and mpi4py (pip install mpi4py mpich)")
    if (os.cpu_count() or 1) < 2:
        pytest.skip("needs 2 cores for 2 MPI ranks")
    return exe


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env["TENSORLAB_DEVICE"] = "cpu"
    env.pop("TF_CONFIG", None)
    return env


def _run(cmd, timeout):
    return subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                          stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("model,loop", [("mlp", "fit"), ("cnn", "fit"), ("cnn", "custom"), ("mlp", "fit-dataset"),
                                        ("cnn", "train-step")])
def test_two_processes_match_one(tmp_path, model, loop):
    mpiexec = _mpiexec()
    out = str(tmp_path)
    args = ["--out", out, "--model", model, "--loop", loop]
    logs = os.path.join(out, "logs")
    r = _run([mpiexec, "-n", "2", sys.executable, SCRIPT] + args + (["--log-dir", logs] if loop == "fit" else []),
             120)
    assert r.returncode == 0, r.stdout + r.stderr
    if loop == "fit":   # only the chief wrote: one event file (its name holds the writer's pid), one checkpoint
        assert len(os.listdir(os.path.join(logs, "train"))) == 1
        assert os.path.exists(os.path.join(logs, "ckpt.weights.h5"))
    w0, w1 = np.load(f"{out}/weights_0.npz"), np.load(f"{out}/weights_1.npz")
    os.rename(f"{out}/weights_0.npz", f"{out}/mpi_0.npz")
    r = _run([sys.executable, SCRIPT] + args + ["--no-strategy"], 120)
    assert r.returncode == 0, r.stdout + r.stderr
    ref = np.load(f"{out}/weights_0.npz")
    for k in ref.files:
        assert np.array_equal(w0[k], w1[k]), f"{k} differs between the workers"
        np.testing.assert_allclose(w0[k], ref[k], rtol=1e-5, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("how", ["killed", "hung"])
def test_a_dead_worker_makes_the_other_fail_in_time(tmp_path, how):
    mpiexec = _mpiexec()
    out = str(tmp_path)
    timeout = 3.0
    script = [sys.executable, SCRIPT, "--out", out, "--timeout", str(timeout), "--die-rank", "1", "--die-step", "1"]
    if how == "killed":
        # Through a shell, so that the launcher sees an ordinary exit and leaves rank 0 to
        # notice the death by itself (hydra may otherwise kill every rank at once).
        cmd = [mpiexec, "-disable-auto-cleanup", "-n", "2", "sh", "-c", " ".join(f"'{c}'" for c in script)]
    else:
        cmd = [mpiexec, "-n", "2"] + script + ["--hang"]
    t0 = time.monotonic()
    r = _run(cmd, 60)
    elapsed = time.monotonic() - t0
    assert r.returncode != 0
    assert os.path.exists(f"{out}/error_0.txt"), r.stdout + r.stderr
    msg = open(f"{out}/error_0.txt").read()
    assert "timed out after 3 s" in msg and "rank(s) [1] did not reach it" in msg, msg
    assert not os.path.exists(f"{out}/weights_0.npz")
    assert elapsed < timeout + 30


def test_a_gradient_only_some_workers_have(tmp_path):
    """Worker 1 has no gradient for `b`: both still issue the same collectives, and every
    worker applies the sum over the workers that have one (none anywhere: left alone)."""
    mpiexec = _mpiexec()
    script = os.path.join(ROOT, "tests", "distribute", "mpi_partial_gradients.py")
    r = _run([mpiexec, "-n", "2", sys.executable, script, str(tmp_path)], 120)
    assert r.returncode == 0, r.stdout + r.stderr
    from tests.distribute.mpi_partial_gradients import EXPECTED
    for rank in (0, 1):
        w = np.load(tmp_path / f"partial_{rank}.npz")
        for name, expected in EXPECTED.items():
            np.testing.assert_allclose(w[name], expected, err_msg=f"{name} on rank {rank}")


def test_a_weight_without_gradient_under_fit(tmp_path):
    """Keras fit with a weight nobody has a gradient for: whether any worker has one travels in
    the gradient buckets; that weight stays as it was and the others match one process."""
    mpiexec = _mpiexec()
    script = os.path.join(ROOT, "tests", "distribute", "mpi_unused_weight.py")
    r = _run([mpiexec, "-n", "2", sys.executable, script, str(tmp_path)], 120)
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run([sys.executable, script, str(tmp_path), "--no-strategy"], 120)
    assert r.returncode == 0, r.stdout + r.stderr
    ref = np.load(tmp_path / "unused_ref.npz")
    w0, w1 = np.load(tmp_path / "unused_0.npz"), np.load(tmp_path / "unused_1.npz")
    for k in ref.files:
        assert np.array_equal(w0[k], w1[k]), f"{k} differs between the workers"
        np.testing.assert_allclose(w0[k], ref[k], rtol=1e-5, atol=1e-6, err_msg=k)
    spare = [k for k in ref.files if ref[k].shape == (2,)]
    assert len(spare) == 1 and np.array_equal(w0[spare[0]], np.ones(2, np.float32))
