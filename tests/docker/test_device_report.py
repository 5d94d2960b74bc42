"""The container's start-up report: version, GPUs or the reason for the CPU fallback."""
import pytest

import tensorlab as tl
from tensorlab.examples import device_report


def _lines():
    out = []
    n = device_report.report(out.append)
    return n, out


def test_report_names_version_and_cpu_reason(monkeypatch):
    monkeypatch.setattr(tl.config, "list_physical_devices",
                        lambda t=None: [] if t == "GPU" else [tl.config.PhysicalDevice("/physical_device:CPU:0", "CPU")])
    monkeypatch.setenv("TENSORLAB_DEVICE", "cpu")
    n, out = _lines()
    assert n == 0
    assert out[0].startswith(f"[tensorlab] tensorlab {tl.__version__}, Python 3.")
    assert out[-1] == "[tensorlab] no GPU: running on the CPU because TENSORLAB_DEVICE=cpu selects the CPU"


def test_cpu_reasons(monkeypatch):
    monkeypatch.delenv("TENSORLAB_DEVICE", raising=False)
    monkeypatch.setattr(device_report.importlib.util, "find_spec", lambda name: None)
    assert device_report.cpu_fallback_reason().startswith("CuPy is not installed")
    monkeypatch.setattr(device_report.importlib.util, "find_spec", lambda name: object())
    monkeypatch.setattr(device_report, "_driver_loadable", lambda: False)
    assert "--gpus all" in device_report.cpu_fallback_reason()
    monkeypatch.setattr(device_report, "_driver_loadable", lambda: True)
    monkeypatch.setenv("NVIDIA_VISIBLE_DEVICES", "void")
    assert device_report.cpu_fallback_reason().endswith("(NVIDIA_VISIBLE_DEVICES/CUDA_VISIBLE_DEVICES='void')")


def test_gpu_lines_from_device_details(monkeypatch):
    gpu = tl.config.PhysicalDevice("/physical_device:GPU:0", "GPU")
    monkeypatch.setattr(tl.config, "list_physical_devices", lambda t=None: [gpu])
    monkeypatch.setattr(tl.config.experimental, "get_device_details",
                        lambda d: {"device_name": "NVIDIA H100 80GB HBM3", "total_memory": 85 * 2**30,
                                   "compute_capability": (9, 0), "driver_version": "580.65.06"})
    n, out = _lines()
    assert n == 1
    assert out[1] == "[tensorlab] GPU:0: NVIDIA H100 80GB HBM3, 85.0 GiB, compute capability 9.0, driver 580.65.06"
    assert out[2] == "[tensorlab] running on GPU:0 (1 GPU(s) visible)"


def test_require_gpu_exit_status(monkeypatch, capsys):
    monkeypatch.setattr(tl.config, "list_physical_devices", lambda t=None: [])
    assert device_report.main(["--require-gpu"]) == 1
    assert device_report.main([]) == 0
    assert "no GPU: running on the CPU because" in capsys.readouterr().out


@pytest.mark.gpu
def test_report_on_a_real_gpu():
    n, out = _lines()
    assert n == len(tl.config.list_physical_devices("GPU")) >= 1
    assert out[1].startswith("[tensorlab] GPU:0: ") and "GiB" in out[1] and "compute capability" in out[1]
    assert out[-1].startswith("[tensorlab] running on GPU:0")
