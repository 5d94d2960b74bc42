"""Says what this process will run on: tensorlab version, GPUs (name, memory, driver) or why the CPU.

    python -m tensorlab.examples.device_report            # the container entrypoint runs this
    python -m tensorlab.examples.device_report --require-gpu   # exit 1 without a GPU

Reads only ``tl.config``; the reasons for a CPU fallback are worked out from
the environment (``TENSORLAB_DEVICE``, whether CuPy is installed, whether the
NVIDIA driver library is visible) without initializing CUDA a second time.
"""
import argparse
import ctypes
import importlib.util
import os
import platform
import sys

import tensorlab as tl


def _driver_loadable():
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


def cpu_fallback_reason():
    """Why no GPU is used, as one sentence a user can act on."""
    forced = os.environ.get("TENSORLAB_DEVICE", "")
    if forced.lower().startswith("cpu"):
        return f"TENSORLAB_DEVICE={forced} selects the CPU"
    if importlib.util.find_spec("cupy") is None:
        return ("CuPy is not installed (the CPU image; use the GPU image, or pip install "
                "'tensorlab[cuda13]')")
    if not _driver_loadable():
        return ("CuPy is installed but the NVIDIA driver (libcuda.so.1) is not visible: run the container "
                "with --gpus all (NVIDIA Container Toolkit) on a host with a driver")
    visible = os.environ.get("NVIDIA_VISIBLE_DEVICES") or os.environ.get("CUDA_VISIBLE_DEVICES")
    hint = f" (NVIDIA_VISIBLE_DEVICES/CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
    return f"CuPy and the driver are present but CUDA reports no usable GPU{hint}"


def _gib(n):
    return f"{n / 2**30:.1f} GiB"


def describe_gpu(device):
    d = tl.config.experimental.get_device_details(device)
    parts = [d.get("device_name", "unknown GPU")]
    if "total_memory" in d:
        parts.append(_gib(d["total_memory"]))
    if "compute_capability" in d:
        parts.append("compute capability {}.{}".format(*d["compute_capability"]))
    if "driver_version" in d:
        parts.append(f"driver {d['driver_version']}")
    elif "nvml" in d:
        parts.append(f"pynvml {d['nvml']}")
    return ", ".join(parts)


def report(print_fn=print):
    """Prints the report; returns the number of GPUs found."""
    print_fn(f"[tensorlab] tensorlab {tl.__version__}, Python {platform.python_version()} on "
             f"{platform.machine()}, {os.cpu_count()} CPU core(s)")
    gpus = tl.config.list_physical_devices("GPU")
    for g in gpus:
        try:
            desc = describe_gpu(g)
        except Exception as e:  # a report must not stop the job it precedes
            desc = f"details unavailable ({type(e).__name__}: {e})"
        print_fn(f"[tensorlab] {g.name.replace('/physical_device:', '')}: {desc}")
    if gpus:
        print_fn(f"[tensorlab] running on GPU:0 ({len(gpus)} GPU(s) visible)")
    else:
        print_fn(f"[tensorlab] no GPU: running on the CPU because {cpu_fallback_reason()}")
    return len(gpus)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--require-gpu", action="store_true", help="exit with status 1 when no GPU is usable")
    args = parser.parse_args(argv)
    n = report(lambda s: print(s, flush=True))
    return 1 if args.require_gpu and n == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
