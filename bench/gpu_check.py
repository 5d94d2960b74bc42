"""`make gpu-check`: the one command for a GPU machine (no installs, PYTHONPATH=.).

1. prints the card and software versions;
2. runs every `gpu`-marked test (pytest, junit XML to $OUT); the tests of kernels that have never
   run on a GPU (ISOLATED) run afterwards in a pytest process of their own, so that a sticky CUDA
   error from one of them cannot fail the others;
3. runs the kernel benchmarks (bench/gpu_kernels.py --quick, JSON to $OUT) and the
   all-reduce bandwidth benchmark (bench/distribute_allreduce.py);
4. writes $OUT/gpu_check.json and prints a short table last.

Budget: under 8 minutes on one H100/H200. Each stage has its own timeout so
a hang in one still leaves the others' results.
"""
import json
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

OUT = os.environ.get("OUT") or "gpu_check_out"
os.makedirs(OUT, exist_ok=True)
ENV = {**os.environ, "PYTHONPATH": ".", "PYTHONUNBUFFERED": "1"}
TEST_TIMEOUT = int(os.environ.get("GPU_CHECK_TEST_TIMEOUT", "270"))
BENCH_TIMEOUT = int(os.environ.get("GPU_CHECK_BENCH_TIMEOUT", "240"))
DIST_TIMEOUT = int(os.environ.get("GPU_CHECK_DIST_TIMEOUT", "90"))
# The whole run stays under 8 minutes: a stage gets its own limit or what is left of this
# budget after keeping `reserve` seconds for the stages after it, whichever is smaller.
TOTAL_BUDGET = int(os.environ.get("GPU_CHECK_TOTAL_BUDGET", "450"))
_T0 = time.time()
#: test files run in their own process, after the others (kernels not yet verified on a GPU)
ISOLATED = ("tests/gpu/test_kernels_sm90_gpu.py",)


def stage_timeout(limit, reserve=0):
    return max(10, min(limit, int(TOTAL_BUDGET - (time.time() - _T0) - reserve)))


def sh(cmd, timeout):
    t0 = time.time()
    try:
        r = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout + r.stderr, time.time() - t0
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        return 124, out + f"\n[timed out after {timeout}s]", time.time() - t0


def environment():
    info = {"time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    code = ("import cupy, numpy, json; p = cupy.cuda.runtime.getDeviceProperties(0);"
            "print(json.dumps({'card': p['name'].decode() if isinstance(p['name'], bytes) else p['name'],"
            "'cc': f\"{p['major']}.{p['minor']}\", 'sms': p['multiProcessorCount'],"
            "'cupy': cupy.__version__, 'numpy': numpy.__version__,"
            "'cuda_runtime': cupy.cuda.runtime.runtimeGetVersion(), 'driver': cupy.cuda.runtime.driverGetVersion()}))")
    rc, out, _ = sh([sys.executable, "-c", code], 120)
    try:
        info.update(json.loads(out.strip().splitlines()[-1]))
    except Exception:
        info["env_error"] = out[-2000:]
    try:
        import torch
        info["torch"] = torch.__version__
    except Exception:
        pass
    # Whether tl.distribute finds NCCL (a pip-installed libnccl included), and if not, why.
    code = ("import json; from tensorlab.distribute import nccl_loader; s = nccl_loader.load();"
            "print('NCCL_STATUS ' + json.dumps({'available': s.available, 'library': s.library,"
            "'version': s.version, 'reason': s.reason}))")
    out = ""
    try:
        rc, out, _ = sh([sys.executable, "-c", code], 120)
        line = [ln for ln in out.splitlines() if ln.startswith("NCCL_STATUS ")][-1]
        info["nccl"] = json.loads(line[len("NCCL_STATUS "):])
    except Exception as e:
        info["nccl"] = {"available": None, "error": f"{type(e).__name__}: {e}", "output": out[-2000:]}
    return info


def parse_junit(path):
    summary = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0, "failures": []}
    try:
        root = ET.parse(path).getroot()
    except Exception as e:
        summary["parse_error"] = repr(e)
        return summary
    for case in root.iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is not None:
            summary["failed" if bad.tag == "failure" else "errors"] += 1
            summary["failures"].append({"test": name, "message": (bad.get("message") or "")[:400]})
        elif case.find("skipped") is not None:
            summary["skipped"] += 1
        else:
            summary["passed"] += 1
    return summary


def merge_junit(a, b):
    """Sum of two parse_junit summaries."""
    out = {k: a.get(k, 0) + b.get(k, 0) for k in ("passed", "failed", "errors", "skipped")}
    out["failures"] = a.get("failures", []) + b.get("failures", [])
    errs = [x[k] for x in (a, b) for k in ("parse_error",) if k in x]
    if errs:
        out["parse_error"] = "; ".join(errs)
    return out


def main():
    t_start = time.time()
    env = environment()
    print("environment:", json.dumps(env), flush=True)
    xml = os.path.join(OUT, "gpu_tests.xml")
    # pytest-xdist (in the GPU image) isolates a crashing kernel test to its worker
    # and runs files in parallel; without it, one process runs everything.
    import importlib.util
    par = ["-n", "4", "--dist", "loadfile"] if importlib.util.find_spec("xdist") else []
    common = [sys.executable, "-m", "pytest", "-m", "gpu", "-q", "-p", "no:cacheprovider",
              "-p", "no:randomly"]
    rc, out, secs = sh([*common, *par, f"--junitxml={xml}",
                        *(f"--ignore={f}" for f in ISOLATED), "tests"],
                       stage_timeout(TEST_TIMEOUT, reserve=180))
    xml_iso = os.path.join(OUT, "gpu_tests_isolated.xml")
    rc_iso, out_iso, secs_iso = sh([*common, f"--junitxml={xml_iso}", *ISOLATED],
                                   stage_timeout(60, reserve=150))
    with open(os.path.join(OUT, "gpu_tests.log"), "w") as f:
        f.write(out + "\n==== isolated: " + " ".join(ISOLATED) + "\n" + out_iso)
    tests = merge_junit(parse_junit(xml), parse_junit(xml_iso))
    tests.update(returncode=rc or rc_iso, seconds=round(secs + secs_iso, 1),
                 isolated_returncode=rc_iso)
    print(out[-3000:], flush=True)
    print(out_iso[-1500:], flush=True)
    bench_json = os.path.join(OUT, "bench.json")
    rc_b, out_b, secs_b = sh([sys.executable, "bench/gpu_kernels.py", "--quick", "--json", bench_json],
                             stage_timeout(BENCH_TIMEOUT, reserve=40))
    with open(os.path.join(OUT, "bench.log"), "w") as f:
        f.write(out_b)
    try:
        bench = json.load(open(bench_json))  # written after every stage: partial if cut short
    except Exception:
        bench = [{"bench": "gpu_kernels", "error": out_b[-1500:] or "no output"}]
    if rc_b == 124:
        bench.append({"bench": "gpu_kernels", "error": "stopped at the time limit; the rows above are the "
                      "stages that finished (bench.log has the rest)"})
    # All-reduce bus bandwidth (nccl-tests' busbw) for the distribute layer.
    rc_d, out_d, secs_d = sh([sys.executable, "bench/distribute_allreduce.py"],
                             stage_timeout(DIST_TIMEOUT))
    with open(os.path.join(OUT, "distribute_allreduce.log"), "w") as f:
        f.write(out_d)
    try:
        dist = json.load(open(os.path.join(OUT, "distribute_allreduce.json")))
    except Exception:
        dist = {"error": out_d[-1500:] or "no output", "returncode": rc_d}
    result = {"environment": env, "tests": tests, "bench": bench, "distribute_allreduce": dist,
              "bench_returncode": rc_b, "bench_seconds": round(secs_b, 1),
              "total_seconds": round(time.time() - t_start, 1)}
    with open(os.path.join(OUT, "gpu_check.json"), "w") as f:
        json.dump(result, f, indent=1, default=str)
    # The short table, last.
    print("\n==== gpu-check summary ====")
    print(f"card {env.get('card')} cc {env.get('cc')} cupy {env.get('cupy')} torch {env.get('torch')}")
    print(f"gpu tests: {tests['passed']} passed, {tests['failed']} failed, {tests['errors']} errors, "
          f"{tests['skipped']} skipped ({tests['seconds']}s, rc {rc})")
    for f_ in tests["failures"][:12]:
        print(f"  FAIL {f_['test'][-90:]}: {f_['message'][:150]}")
    sys.path.insert(0, ".")
    from bench.gpu_kernels import print_table
    print_table(bench)
    print(f"total {result['total_seconds']}s")


if __name__ == "__main__":
    main()
