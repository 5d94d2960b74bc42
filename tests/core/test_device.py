"""Devices: device strings, scopes, default placement, mixing devices."""
import os
import subprocess
import sys

import pytest

import tensorlab as tl
from tensorlab.core import device as D


@pytest.mark.parametrize("spec", ["cpu", "CPU", "/cpu:0", "/CPU:0", "/device:CPU:0", "cpu:0",
                                  "/job:localhost/replica:0/task:0/device:CPU:0"])
def test_device_strings_parse_case_insensitively(spec):
    assert D.parse(spec) is D.get("cpu", 0)


def test_error_bad_device_string():
    with pytest.raises(tl.errors.InvalidArgumentError, match="cannot parse device string 'tpu:0'"):
        tl.device("tpu:0")


def test_error_missing_gpu_names_the_count():
    n = len(tl.config.list_physical_devices("GPU"))
    with pytest.raises(tl.errors.NotFoundError, match=f"sees {n} usable GPU"):
        tl.device(f"/GPU:{n}")


def test_device_scope_places_tensors():
    with tl.device("/CPU:0"):
        x = tl.ones([2])
    assert x.device == "/job:localhost/replica:0/task:0/device:CPU:0"
    assert x.cpu() is not None and x.cpu().device == x.device


def test_list_physical_devices():
    cpus = tl.config.list_physical_devices("CPU")
    assert len(cpus) == 1 and cpus[0].device_type == "CPU"
    assert all(d.device_type == "GPU" for d in tl.config.list_physical_devices("gpu"))


def test_error_mixed_devices_names_op_and_both_devices():
    tl.config.set_logical_device_configuration(
        tl.config.list_physical_devices("CPU")[0], [tl.config.LogicalDeviceConfiguration()] * 2)
    try:
        with tl.device("/CPU:0"):
            a = tl.ones([2])
        with tl.device("/CPU:1"):
            b = tl.ones([2])
            c = tl.identity(a)  # copies onto CPU:1
        assert c.device.endswith("CPU:1")
        with pytest.raises(tl.errors.InvalidArgumentError, match=r"add: inputs live on different devices.*CPU:0.*CPU:1"):
            a + b
        # Gradients flow back through a device copy.
        with tl.GradientTape() as tape:
            tape.watch(a)
            with tl.device("/CPU:1"):
                y = tl.reduce_sum(tl.identity(a) * 3.0)
        g = tape.gradient(y, a)
        assert g.device.endswith("CPU:0") and g.numpy().tolist() == [3.0, 3.0]
    finally:
        D.set_logical_cpu_count(1)


def test_import_without_cupy_is_silent_and_uses_cpu():
    code = ("import sys; sys.modules['cupy'] = None\n"
            "import tensorlab as tl\n"
            "print(tl.constant(1.0).device, len(tl.config.list_physical_devices('GPU')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.strip() == "/job:localhost/replica:0/task:0/device:CPU:0 0"


def test_tensorlab_device_env_forces_cpu():
    code = "import tensorlab as tl; print(tl.constant(1.0).device)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": os.getcwd(), "TENSORLAB_DEVICE": "cpu"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("CPU:0")


@pytest.mark.gpu
def test_gpu_copies_and_default_device(rng):
    import numpy as np
    v = rng.normal(size=(3, 3)).astype(np.float32)
    x = tl.constant(v)
    assert x.device.endswith("GPU:0")  # the default device is the first GPU
    c = x.cpu()
    assert c.device.endswith("CPU:0")
    np.testing.assert_array_equal(c.numpy(), v)
    g = c.gpu()
    assert g.device.endswith("GPU:0")
    with tl.device("cpu"):
        h = tl.identity(x)
    assert h.device.endswith("CPU:0")
    with pytest.raises(tl.errors.InvalidArgumentError, match="different devices"):
        c + x


def test_a_process_default_device_reaches_every_thread():
    """set_process_default (a multi-worker strategy's GPU) moves new tensors in all threads,
    including threads that had already placed tensors, until it is restored."""
    import threading

    old_cpus = D.logical_cpu_count()
    D.set_logical_cpu_count(2)
    seen = []

    def make():
        seen.append(tl.ones([1]).device)

    try:
        make()
        previous = D.set_process_default("/CPU:1")
        assert previous is None
        try:
            make()
            t = threading.Thread(target=make)
            t.start()
            t.join()
            with tl.device("/CPU:0"):
                make()   # an explicit scope still wins
        finally:
            assert D.set_process_default(previous).name.endswith("CPU:1")
        make()
        usual, cpu0, cpu1 = D.default_device().name, D.parse("/CPU:0").name, D.parse("/CPU:1").name
    finally:
        D.set_logical_cpu_count(old_cpus)
    assert seen == [usual, cpu1, cpu1, cpu0, usual]
