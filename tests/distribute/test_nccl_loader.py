"""tl.distribute's NCCL loader: where libnccl is looked for, how it is loaded, what is reported (CPU only)."""
import ctypes
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
import uuid
import warnings

import pytest

from tensorlab.distribute import nccl_loader

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NOT_FOUND = "libnccl.so.2: cannot open shared object file: No such file or directory"


@pytest.fixture(autouse=True)
def _hermetic(monkeypatch):
    """Every test starts without a memoized status and without TL_NCCL_LIBRARY; both are restored after."""
    monkeypatch.setattr(nccl_loader, "_status", None)
    monkeypatch.delenv(nccl_loader.ENV_VAR, raising=False)


def _touch(path, text="x"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def _compile(tmp_path, rel, source, soname=None):
    """Builds ``source`` into the shared object ``tmp_path/rel``."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no C compiler (cc, gcc or clang) to build a test libnccl.so.2")
    out = tmp_path / rel
    out.parent.mkdir(parents=True, exist_ok=True)
    src = tmp_path / f"src_{uuid.uuid4().hex}.c"
    src.write_text(source)
    cmd = [cc, "-shared", "-fPIC", "-o", str(out), str(src)]
    if soname:
        cmd.insert(3, f"-Wl,-soname,{soname}")
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return str(out)


def _globally_visible(symbol):
    """True when ``symbol`` is in the process' global scope (a library loaded with RTLD_GLOBAL exports it)."""
    return hasattr(ctypes.CDLL(None), symbol)


def _fake_cupy(monkeypatch, ready, available=False, dirs=()):
    """Replaces the loader's imports by a CuPy whose NCCL bindings import only once ``ready()`` is true.

    The fake ``cupy.cuda.nccl`` starts unavailable (warning like CuPy does) and
    becomes available on reload once the bindings import. The search
    directories are ``dirs`` and cuda.pathfinder is absent, so nothing outside
    the test's tmp dir is looked at.
    """
    nccl = types.ModuleType("cupy.cuda.nccl")
    nccl.available = available
    if available:
        nccl.NcclCommunicator = object
        nccl.get_version = lambda: 22703
    calls = []

    def fake_import(name):
        calls.append(name)
        if name == "cupy":
            return types.ModuleType("cupy")
        if name == "cupy.cuda.nccl":
            if not nccl.available:
                warnings.warn("\nnccl library could not be loaded.\n", UserWarning)
            return nccl
        if name == nccl_loader._EXTENSION:
            if ready():
                return types.ModuleType(name)
            raise ImportError(NOT_FOUND)
        raise AssertionError(f"unexpected import {name}")

    def fake_reload(module):
        calls.append("reload")
        assert module is nccl
        if ready():
            module.available = True
            module.NcclCommunicator = object
            module.get_version = lambda: 22707
        return module

    def no_pathfinder():
        raise ImportError("No module named 'cuda.pathfinder'")

    monkeypatch.setattr(nccl_loader, "_import", fake_import)
    monkeypatch.setattr(nccl_loader, "_reload", fake_reload)
    monkeypatch.setattr(nccl_loader, "_pathfinder_load", no_pathfinder)
    monkeypatch.setattr(nccl_loader, "default_search_dirs", lambda: [str(d) for d in dirs])
    return nccl, calls


# ----------------------------------------------------------------- candidate_paths
def test_candidate_paths_order_and_decoys(tmp_path, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    nccl_lib = _touch(a / "nvidia/nccl/lib/libnccl.so.2")
    os.symlink("libnccl.so.2", a / "nvidia/nccl/lib/libnccl.so")          # the same file: listed once
    cu13_full = _touch(a / "nvidia/cu13/lib/libnccl.so.2.27.7")           # a distinct file, after .so.2
    cu13 = _touch(a / "nvidia/cu13/lib/libnccl.so.2")
    cu12 = _touch(a / "nvidia/cu12/lib/libnccl.so.2")                     # older CUDA after cu13
    torch_lib = _touch(a / "torch/lib/libnccl.so.2")
    _touch(a / "nvidia/cu13/lib/libnccl-net.so")                          # decoys
    _touch(a / "nvidia/cu13/lib/libnccl.so.2.bak")
    (a / "torch/lib/libnccl.so.9").mkdir()
    _touch(a / "nvidia/cudnn/lib/libnccl.so.2")
    _touch(a / "nvidia/cudnn/lib/libcudnn.so.9")
    _touch(a / "libnccl.so.2")
    b_lib = _touch(b / "nvidia/nccl/lib/libnccl.so.2")
    expected = [nccl_lib, cu13, cu13_full, cu12, torch_lib, b_lib]
    assert nccl_loader.candidate_paths([str(a), str(b), str(a)]) == expected
    assert nccl_loader.candidate_paths([str(b), str(a)]) == [b_lib] + expected[:-1]
    assert nccl_loader.candidate_paths([str(tmp_path / "missing")]) == []

    custom = _touch(tmp_path / "custom/libnccl.so.2")
    monkeypatch.setenv(nccl_loader.ENV_VAR, custom)
    assert nccl_loader.candidate_paths([str(a), str(b)]) == [custom] + expected
    monkeypatch.setenv(nccl_loader.ENV_VAR, nccl_lib)                     # not listed twice
    assert nccl_loader.candidate_paths([str(a), str(b)]) == expected
    monkeypatch.setenv(nccl_loader.ENV_VAR, str(tmp_path / "nope/libnccl.so.2"))
    assert nccl_loader.candidate_paths([str(a), str(b)]) == expected


def test_candidate_paths_default_dirs(tmp_path, monkeypatch):
    site_dir, user_dir, path_dir = tmp_path / "site", tmp_path / "user", tmp_path / "path"
    for d in (site_dir, user_dir, path_dir):
        d.mkdir()
    os.symlink(path_dir, tmp_path / "link")
    monkeypatch.setattr(nccl_loader.site, "getsitepackages", lambda: [str(site_dir), str(tmp_path / "gone")])
    monkeypatch.setattr(nccl_loader.site, "getusersitepackages", lambda: str(user_dir))
    monkeypatch.setattr(sys, "path", ["", str(path_dir), str(site_dir), str(tmp_path / "link"),
                                      _touch(tmp_path / "x.zip")])
    assert nccl_loader.default_search_dirs() == [str(site_dir), str(user_dir), str(path_dir)]
    lib = _touch(user_dir / "nvidia/cu13/lib/libnccl.so.2")
    lib2 = _touch(path_dir / "torch/lib/libnccl.so.2")
    assert nccl_loader.candidate_paths() == [lib, lib2]


# ----------------------------------------------------------------- load
def test_load_preloads_pip_library_with_rtld_global(tmp_path, monkeypatch):
    symbol = f"tl_nccl_test_{uuid.uuid4().hex}"
    source = f"int {symbol}(void) {{ return 7; }}\n"
    # The fake bindings need the symbol in the global scope: a library loaded
    # RTLD_LOCAL (ctypes' default) does not put it there, so the check can fail.
    local = _compile(tmp_path, "local/libnccl.so.2", source)
    ctypes.CDLL(local)
    assert not _globally_visible(symbol)
    lib = _compile(tmp_path, "site/nvidia/cu13/lib/libnccl.so.2", source)
    _touch(tmp_path / "site/nvidia/cudnn/lib/libcudnn.so.9")
    nccl, calls = _fake_cupy(monkeypatch, lambda: _globally_visible(symbol), dirs=[tmp_path / "site"])

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = nccl_loader.load(refresh=True)
    assert status.available is True
    assert status.library == lib
    assert status.reason == ""
    assert status.version == 22707
    assert status.module is nccl
    assert _globally_visible(symbol)
    assert not [w for w in caught if "nccl" in str(w.message)]       # CuPy's warning is held back on success
    assert calls == ["cupy", "cupy.cuda.nccl", nccl_loader._EXTENSION, nccl_loader._EXTENSION, "reload"]

    # Memoized: the same status, no new imports.
    assert nccl_loader.load() is status
    from tensorlab.distribute.cross_device_ops import nccl_available
    assert nccl_available() is True
    assert len(calls) == 5
    # refresh=True computes again; the bindings now import at once, nothing is preloaded.
    again = nccl_loader.load(refresh=True)
    assert again is not status and nccl_loader.load() is again
    assert again.available and again.library is None and again.version == 22707 and again.reason == ""
    assert calls[5:] == ["cupy", "cupy.cuda.nccl"]


def test_load_when_cupy_finds_nccl_itself(tmp_path, monkeypatch):
    _touch(tmp_path / "nvidia/cu13/lib/libnccl.so.2")   # not even looked at
    nccl, calls = _fake_cupy(monkeypatch, lambda: True, available=True, dirs=[tmp_path])
    status = nccl_loader.load(refresh=True)
    assert (status.available, status.library, status.version, status.reason) == (True, None, 22703, "")
    assert status.module is nccl
    assert calls == ["cupy", "cupy.cuda.nccl"]


def test_load_without_cupy(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    status = nccl_loader.load(refresh=True)
    assert status.available is False
    assert status.module is None and status.library is None and status.version is None
    assert "cupy" in status.reason and "not installed" in status.reason
    from tensorlab.distribute.cross_device_ops import nccl_available
    assert nccl_available() is False


def test_load_reports_missing_env_library(tmp_path, monkeypatch):
    _touch(tmp_path / "site/nvidia/cu13/lib/libnccl.so.2", "not a shared object")
    missing = str(tmp_path / "nope" / "libnccl.so.2")
    monkeypatch.setenv(nccl_loader.ENV_VAR, missing)
    _, calls = _fake_cupy(monkeypatch, lambda: False, dirs=[tmp_path / "site"])
    with pytest.warns(UserWarning, match="nccl library could not be loaded"):   # CuPy's warning is repeated
        status = nccl_loader.load(refresh=True)
    assert status.available is False and status.library is None
    assert missing in status.reason and nccl_loader.ENV_VAR in status.reason
    assert NOT_FOUND in status.reason
    assert "cannot load" not in status.reason   # an explicit library that is missing stops the search
    assert "reload" not in calls


def test_load_reports_every_path_tried(tmp_path, monkeypatch):
    bad = _touch(tmp_path / "site/nvidia/nccl/lib/libnccl.so.2", "not a shared object")
    other = _compile(tmp_path, "site/torch/lib/libnccl.so.2", f"int tl_other_{uuid.uuid4().hex}(void) {{ return 0; }}\n")
    _fake_cupy(monkeypatch, lambda: False, dirs=[tmp_path / "site"])
    with pytest.warns(UserWarning, match="nccl library could not be loaded"):
        status = nccl_loader.load(refresh=True)
    assert status.available is False and status.library is None and status.version is None
    assert status.reason.startswith(f"CuPy could not load NCCL ({NOT_FOUND})")
    assert f"cannot load {bad}: " in status.reason
    assert f"loaded {other} but import still failed: {NOT_FOUND}" in status.reason


def test_load_reports_searched_dirs_when_nothing_found(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    _fake_cupy(monkeypatch, lambda: False, dirs=[tmp_path / "empty"])
    with pytest.warns(UserWarning):
        status = nccl_loader.load(refresh=True)
    assert status.available is False
    assert f"no libnccl.so* found in: {tmp_path / 'empty'}" in status.reason
    assert NOT_FOUND in status.reason


def test_load_uses_pathfinder_last(tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    loaded = []
    _fake_cupy(monkeypatch, lambda: bool(loaded), dirs=[tmp_path / "empty"])

    def pathfinder():
        loaded.append(True)
        return "/opt/nccl/lib/libnccl.so.2"

    monkeypatch.setattr(nccl_loader, "_pathfinder_load", pathfinder)
    status = nccl_loader.load(refresh=True)
    assert (status.available, status.library, status.reason) == (True, "/opt/nccl/lib/libnccl.so.2", "")

    def failing():
        raise RuntimeError("pathfinder broke")

    _fake_cupy(monkeypatch, lambda: False, dirs=[tmp_path / "empty"])   # a fresh, unavailable CuPy
    monkeypatch.setattr(nccl_loader, "_pathfinder_load", failing)
    with pytest.warns(UserWarning):
        status = nccl_loader.load(refresh=True)
    assert not status.available and "cuda.pathfinder: RuntimeError: pathfinder broke" in status.reason


def test_load_with_real_cupy_and_stub_library(tmp_path):
    """The real CuPy bindings import after a stub libnccl.so.2 (soname and symbols) is found under nvidia/cu13/lib.

    Runs in a subprocess: the stub stays loaded in the process that loads it.
    """
    if importlib.util.find_spec("cupy") is None:
        pytest.skip("cupy is not installed")
    spec = importlib.util.find_spec(nccl_loader._EXTENSION)
    if spec is None or not spec.origin:
        pytest.skip("this CuPy has no NCCL bindings")
    symbols = {"ncclAllGather", "ncclAllReduce", "ncclBcast", "ncclBroadcast", "ncclCommAbort", "ncclCommCount",
               "ncclCommCuDevice", "ncclCommDestroy", "ncclCommGetAsyncError", "ncclCommInitAll",
               "ncclCommInitRankConfig", "ncclCommSplit", "ncclCommUserRank", "ncclGetErrorString",
               "ncclGetUniqueId", "ncclGetVersion", "ncclGroupEnd", "ncclGroupStart", "ncclRecv", "ncclReduce",
               "ncclReduceScatter", "ncclSend"}
    nm = shutil.which("nm")
    if nm:
        r = subprocess.run([nm, "-D", "--undefined-only", spec.origin], capture_output=True, text=True)
        symbols |= {ln.split()[-1] for ln in r.stdout.splitlines() if ln.split() and ln.split()[-1].startswith("nccl")}
    lines = ["int ncclGetVersion(int *v) { *v = 22707; return 0; }",
             'const char *ncclGetErrorString(int r) { (void)r; return "stub"; }']
    lines += [f"int {s}(void) {{ return 0; }}" for s in sorted(symbols - {"ncclGetVersion", "ncclGetErrorString"})]
    lib = _compile(tmp_path, "site/nvidia/cu13/lib/libnccl.so.2", "\n".join(lines) + "\n", soname="libnccl.so.2")
    code = ("import json, sys\n"
            "from tensorlab.distribute import nccl_loader\n"
            "nccl_loader.default_search_dirs = lambda: [sys.argv[1]]\n"
            "from tensorlab.distribute.cross_device_ops import nccl_available\n"
            "ok = nccl_available()\n"
            "s = nccl_loader.load()\n"
            "import cupy.cuda.nccl as n\n"
            "print('STATUS ' + json.dumps({'ok': ok, 'available': s.available, 'library': s.library,"
            " 'version': s.version, 'reason': s.reason, 'same_module': s.module is n,"
            " 'comm': hasattr(n, 'NcclCommunicator'), 'flag': n.available}))\n")
    env = {k: v for k, v in os.environ.items() if k != nccl_loader.ENV_VAR}
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "site")], capture_output=True, text=True,
                       env=env, cwd=ROOT, timeout=240)
    assert r.returncode == 0, r.stdout + r.stderr
    got = json.loads([ln for ln in r.stdout.splitlines() if ln.startswith("STATUS ")][-1][len("STATUS "):])
    if got["available"] and got["library"] is None:
        pytest.skip("CuPy finds an NCCL library by itself here")
    assert got == {"ok": True, "available": True, "library": lib, "version": 22707, "reason": "",
                   "same_module": True, "comm": True, "flag": True}
    assert "nccl library could not be loaded" not in r.stderr


# ----------------------------------------------------------------- error messages
def test_nccl_all_reduce_error_names_the_reason(monkeypatch):
    import tensorlab as tl
    reason = "CuPy could not load NCCL (sentinel); no libnccl.so* found in: /sentinel/site-packages"
    monkeypatch.setattr(nccl_loader, "_status", nccl_loader.NcclStatus(False, reason=reason))
    with pytest.raises(RuntimeError, match="ReductionToOneDevice") as e:
        tl.distribute.NcclAllReduce()._setup((0,))
    assert reason in str(e.value) and "NcclAllReduce" in str(e.value)


def test_status_is_frozen():
    s = nccl_loader.NcclStatus(False, reason="x")
    with pytest.raises(Exception):
        s.available = True
    assert (s.module, s.library, s.version) == (None, None, None)
