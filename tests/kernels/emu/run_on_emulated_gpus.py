"""Runs a Python script with emulated GPUs and the NCCL stand-in installed (emulated_device.py).

    python tests/kernels/emu/run_on_emulated_gpus.py --gpus 2 SCRIPT [ARGS...]
    mpiexec -n 2 python tests/kernels/emu/run_on_emulated_gpus.py --gpus 2 SCRIPT [ARGS...]

Under mpiexec each process sees the same emulated GPUs and picks one by local rank, as on a
machine with that many GPUs; the NCCL stand-in reduces across processes over MPI. When the
script ends, the process prints how many collectives went through the stand-in.
"""
import argparse
import runpy
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--gpus", type=int, default=1)
    p.add_argument("script")
    p.add_argument("args", nargs=argparse.REMAINDER)
    a = p.parse_args()
    from tests.kernels.emu.loader import load

    _, device = load()
    import pytest

    mp = pytest.MonkeyPatch()
    gpu = device.EmulatedDevice().install_device(mp, gpus=a.gpus, nccl=True)
    sys.argv = [a.script] + a.args
    try:
        runpy.run_path(a.script, run_name="__main__")
    except SystemExit as e:
        if e.code not in (None, 0):
            raise
    finally:
        print(f"emulated GPUs: {len(gpu.nccl.calls)} NCCL collectives, {len(gpu.launched)} kernel launches",
              flush=True)
        mp.undo()


if __name__ == "__main__":
    main()
