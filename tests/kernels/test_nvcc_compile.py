"""Compile-checks every cuda_kernels/*.cu with nvcc for sm_80 and sm_90, with a ptxas report.

Files that use one architecture's own instructions (`_module.ARCH_SPECIFIC`, e.g. wgmma in
matmul_sm90.cu) are compiled for that target only (sm_90a).

Prints a table (registers/thread, spill stores/loads, static smem, stack) per kernel and arch
(`pytest -s` shows it; it is also in the captured output of the report). Fails if a .cu does not
compile, or if a kernel listed in any launcher's HOT_KERNELS spills registers.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KDIR = REPO / "cuda_kernels"
ARCHS = ("sm_80", "sm_90")
SOURCES = sorted(KDIR.glob("*.cu"))


def _arch_specific():
    sys.path.insert(0, str(REPO))
    from tensorlab.backend.cuda.kernels._module import ARCH_SPECIFIC

    return ARCH_SPECIFIC


def archs_of(src):
    """The targets a .cu is compiled for: its own architecture, or sm_80 and sm_90."""
    special = _arch_specific().get(src.stem)
    return (special,) if special else ARCHS


def _nvcc():
    for c in (os.environ.get("NVCC"), shutil.which("nvcc"), "/usr/local/cuda/bin/nvcc", "/usr/local/bin/nvcc"):
        if c and Path(c).exists():
            return c
    return None


NVCC = _nvcc()
pytestmark = pytest.mark.skipif(NVCC is None, reason="nvcc not found (set $NVCC or put nvcc on PATH)")


def parse_ptxas(text):
    """{kernel: {regs, spill_st, spill_ld, smem, stack}} from `-Xptxas -v` output (entry functions only)."""
    out, entry, props_for = {}, None, None
    for line in text.splitlines():
        m = re.search(r"Compiling entry function '([^']+)'", line)
        if m:
            entry = m.group(1)
            out[entry] = {"regs": 0, "spill_st": 0, "spill_ld": 0, "smem": 0, "stack": 0}
            continue
        m = re.search(r"Function properties for (\S+)", line)
        if m:
            props_for = m.group(1)
            continue
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads", line)
        if m and props_for in out:
            out[props_for].update(stack=int(m.group(1)), spill_st=int(m.group(2)), spill_ld=int(m.group(3)))
            continue
        m = re.search(r"Used (\d+) registers", line)
        if m and entry in out:
            out[entry]["regs"] = int(m.group(1))
            s = re.search(r"(\d+) bytes smem", line)
            out[entry]["smem"] = int(s.group(1)) if s else 0
    return out


def _compile(src, arch, tmp):
    cubin = Path(tmp) / f"{src.stem}.{arch}.cubin"
    # sm_90a and the like: the -gencode form (the -arch shorthand also runs a plain sm_90 pass)
    target = (f"-gencode=arch=compute_{arch[3:]},code={arch}" if arch[-1].isalpha()
              else f"-arch={arch}")
    cmd = [NVCC, "-cubin", "-std=c++17", target, "-Xptxas", "-v", f"-I{KDIR}", "-o", str(cubin),
           str(src)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr, " ".join(cmd)


@pytest.fixture(scope="module")
def reports():
    jobs = [(s, a) for s in SOURCES for a in archs_of(s)]
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as ex:
        # biggest files first so the pool stays busy
        jobs.sort(key=lambda j: -j[0].stat().st_size)
        results = list(ex.map(lambda j: _compile(j[0], j[1], tmp), jobs))
    return {j: r for j, r in zip(jobs, results)}


def _hot_kernels():
    sys.path.insert(0, str(REPO))
    from tensorlab.backend.cuda import kernels

    return kernels.hot_kernels()


@pytest.mark.parametrize("src", SOURCES, ids=[s.name for s in SOURCES])
def test_compiles(reports, src):
    for arch in archs_of(src):
        rc, log, cmd = reports[(src, arch)]
        assert rc == 0, f"{src.name} failed to compile for {arch}:\n{cmd}\n{log[-6000:]}"


def test_register_report_and_no_hot_spills(reports, record_property):
    hot = _hot_kernels()
    rows, spilling, seen = [], [], set()
    for (src, arch), (rc, log, _) in sorted(reports.items(), key=lambda kv: (kv[0][0].name, kv[0][1])):
        if rc != 0:
            continue
        for name, p in sorted(parse_ptxas(log).items()):
            seen.add(name)
            flag = "HOT" if name in hot else ""
            rows.append(f"{src.name:<14} {arch:<6} {name:<48} {p['regs']:>4} {p['spill_st']:>6} "
                        f"{p['spill_ld']:>6} {p['smem']:>7} {p['stack']:>6} {flag}")
            if name in hot and (p["spill_st"] or p["spill_ld"]):
                spilling.append(f"{name} ({arch}): {p['spill_st']} B spill stores, {p['spill_ld']} B spill loads")
    header = (f"{'file':<14} {'arch':<6} {'kernel':<48} {'regs':>4} {'sp_st':>6} {'sp_ld':>6} "
              f"{'smem':>7} {'stack':>6}")
    print("\nptxas report (registers/thread, spill store/load bytes, static smem bytes, stack bytes)")
    print(header + "\n" + "-" * len(header))
    print("\n".join(rows))
    record_property("ptxas_report", header + "\n" + "\n".join(rows))  # lands in --junitxml reports
    assert not spilling, "hot kernels spill registers:\n" + "\n".join(spilling)
    compiled_all = all(rc == 0 for rc, _, _ in reports.values())
    missing = sorted(hot - seen)
    if compiled_all:
        assert not missing, f"HOT_KERNELS not found in any compiled .cu: {missing}"
