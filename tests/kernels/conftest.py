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
