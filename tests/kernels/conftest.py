"""Kernel tests: makes the host emulator importable as `tl_emu` (from tl_emu import build, launch)."""
import importlib.util
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_REPO = _HERE.parents[1]
if str(_REPO) not in sys.path:
    sys.path.insert(0, str(_REPO))

if "tl_emu" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("tl_emu", _HERE / "emu" / "build.py")
    _mod = importlib.util.module_from_spec(_spec)
    sys.modules["tl_emu"] = _mod
    _spec.loader.exec_module(_mod)


def pytest_configure(config):
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU")
    config.addinivalue_line("markers", "slow: slow test")


def _make_launchers_importable_without_cupy():
    """`tensorlab/backend/cuda/__init__.py` imports CuPy eagerly; the launcher modules under
    `tensorlab.backend.cuda.kernels` do not need it. Without CuPy, register a bare package object
    for `tensorlab.backend.cuda` so the launchers (pure-Python planning) can be imported."""
    try:
        import cupy  # noqa: F401
        return
    except ImportError:
        pass
    import types

    name = "tensorlab.backend.cuda"
    if name in sys.modules:
        return
    import tensorlab.backend  # noqa: F401

    pkg = types.ModuleType(name)
    pkg.__path__ = [str(_REPO / "tensorlab" / "backend" / "cuda")]
    pkg.__package__ = name
    pkg.__doc__ = "stub: CuPy is not installed (tests/kernels/conftest.py)"
    sys.modules[name] = pkg


_make_launchers_importable_without_cupy()
