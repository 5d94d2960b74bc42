"""The build path of architecture-specific kernel files (`_module.ARCH_SPECIFIC`, e.g. the sm_90a
wgmma matmul): NVRTC options, the on-disk cubin cache, and a real NVRTC compile where CuPy's NVRTC
binding and libnvrtc exist (not in CI; there nvcc compiles the file in test_nvcc_compile.py)."""
import sys
import types

import pytest

from tensorlab.backend.cuda.kernels import _module


def test_arch_specific_files_exist():
    for stem, arch in _module.ARCH_SPECIFIC.items():
        assert (_module.kernels_dir() / f"{stem}.cu").exists()
        assert arch.startswith("sm_")


def test_options_name_the_real_target_last():
    opts = _module.nvrtc_options("sm_90a", ("-DX=1",))
    assert opts[-1] == "--gpu-architecture=sm_90a"
    assert "-std=c++17" in opts and "-DX=1" in opts
    assert not any(o.startswith("-arch") for o in opts)


@pytest.fixture
def fake_nvrtc(monkeypatch):
    """A stand-in for cupy_backends' NVRTC binding that records compiles."""
    calls = []
    mod = types.ModuleType("cupy_backends.cuda.libs.nvrtc")

    class NVRTCError(Exception):
        pass

    mod.NVRTCError = NVRTCError
    mod.getVersion = lambda: (13, 0)
    mod.createProgram = lambda src, name, h, i: calls.append(("create", name)) or 7
    mod.compileProgram = lambda prog, opts: calls.append(("compile", tuple(opts)))
    mod.getCUBIN = lambda prog: b"\x7fELF-fake"
    mod.getProgramLog = lambda prog: "log"
    mod.destroyProgram = lambda prog: calls.append(("destroy", prog))
    for name in ("cupy_backends", "cupy_backends.cuda", "cupy_backends.cuda.libs"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "cupy_backends.cuda.libs.nvrtc", mod)
    sys.modules["cupy_backends.cuda.libs"].nvrtc = mod
    return mod, calls


def test_cubin_cache_compiles_once(fake_nvrtc, tmp_path, monkeypatch):
    mod, calls = fake_nvrtc
    monkeypatch.setenv("CUPY_CACHE_DIR", str(tmp_path))
    p1 = _module.cubin_path("matmul_sm90", "sm_90a")
    assert p1.read_bytes() == b"\x7fELF-fake" and p1.parent == tmp_path / "tensorlab"
    compiles = [c for c in calls if c[0] == "compile"]
    assert len(compiles) == 1 and compiles[0][1][-1] == "--gpu-architecture=sm_90a"
    assert ("destroy", 7) in calls
    p2 = _module.cubin_path("matmul_sm90", "sm_90a")
    assert p2 == p1 and len([c for c in calls if c[0] == "compile"]) == 1
    # other options or another NVRTC version: another file
    p3 = _module.cubin_path("matmul_sm90", "sm_90a", ("-DX=1",))
    mod.getVersion = lambda: (13, 1)
    p4 = _module.cubin_path("matmul_sm90", "sm_90a")
    assert len({p1, p3, p4}) == 3


def test_failed_compile_leaves_no_file(fake_nvrtc, tmp_path, monkeypatch):
    mod, calls = fake_nvrtc
    monkeypatch.setenv("CUPY_CACHE_DIR", str(tmp_path))

    def fail(prog, opts):
        raise mod.NVRTCError("NVRTC_ERROR_COMPILATION (6)")

    mod.compileProgram = fail
    mod.getProgramLog = lambda prog: "matmul_sm90.cu(1): error: wgmma needs sm_90a"
    with pytest.raises(RuntimeError, match="(?s)could not compile matmul_sm90.cu.*needs sm_90a"):
        _module.cubin_path("matmul_sm90", "sm_90a")
    assert list((tmp_path / "tensorlab").iterdir()) == []
    assert ("destroy", 7) in calls


def test_real_nvrtc_compiles_for_the_target():
    nvrtc = pytest.importorskip("cupy_backends.cuda.libs.nvrtc")
    try:
        nvrtc.getVersion()
    except Exception as e:  # the binding exists but libnvrtc does not
        pytest.skip(f"libnvrtc not loadable: {e}")
    for stem, arch in _module.ARCH_SPECIFIC.items():
        cubin = _module.compile_cubin(stem, arch)
        assert cubin[:4] == b"\x7fELF"
