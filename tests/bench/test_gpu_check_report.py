"""The GPU benchmark report's pure-Python parts (run without a GPU): candidate rows are matched
to their default rows of the same shape, and the summary table prints them."""
import importlib.util
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("gpu_kernels_report", _ROOT / "bench" / "gpu_kernels.py")
gpu_kernels = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gpu_kernels)


ROWS = [
    {"bench": "matmul_float16", "shape": "4096x4096x4096", "ours_ms": 0.6, "ref_ms": 0.2, "ratio": 0.333},
    {"bench": "matmul_float16[128x256]", "shape": "4096x4096x4096", "ours_ms": 0.4, "ref_ms": 0.2, "ratio": 0.5},
    {"bench": "matmul_float16[128x256]", "shape": "2048x2048x2048", "ours_ms": 0.1},  # no default row
    {"bench": "softmax", "shape": [8192, 4096], "ours_ms": 0.2, "frac_of_copy": 0.68},
    {"bench": "softmax[cached]", "shape": [8192, 4096], "ours_ms": 0.25, "frac_of_copy": 0.55},
    {"bench": "log_softmax[cached]", "shape": [8192, 4096], "error": "Traceback ...\nRuntimeError: x"},
    {"bench": "matmul_sm90", "skipped": "needs compute capability 9.0"},
]


def test_candidate_speedups_match_same_bench_and_shape():
    got = sorted(gpu_kernels.candidate_speedups(ROWS))
    assert got == [("matmul_float16[128x256]", "4096x4096x4096", 1.5),
                   ("softmax[cached]", "[8192, 4096]", 0.8)]


def test_print_table_lists_candidates_last(capsys):
    gpu_kernels.print_table(ROWS)
    out = capsys.readouterr().out.splitlines()
    i = next(k for k, line in enumerate(out) if line.startswith("candidates vs the default"))
    assert "matmul_float16[128x256]" in out[i + 1] and out[i + 1].rstrip().endswith("1.500")
    assert "softmax[cached]" in out[i + 2] and out[i + 2].rstrip().endswith("0.800")
    assert any("ERROR" in line and "RuntimeError: x" in line for line in out[:i])
    assert any(line.startswith("matmul_sm90") and "SKIPPED needs compute capability 9.0" in line
               for line in out[:i])


def test_stage_timeouts_keep_the_run_inside_its_budget(tmp_path, monkeypatch):
    monkeypatch.setenv("OUT", str(tmp_path))
    spec = importlib.util.spec_from_file_location("gpu_check_budget", _ROOT / "bench" / "gpu_check.py")
    gc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gc)
    now = [1000.0]
    monkeypatch.setattr(gc.time, "time", lambda: now[0])
    gc._T0, gc.TOTAL_BUDGET = 1000.0, 450
    assert gc.stage_timeout(270, reserve=150) == 270      # fresh run: the stage's own limit
    now[0] += 200                                          # 200 s gone (a slow start)
    assert gc.stage_timeout(270, reserve=150) == 100      # 450 - 200 - 150
    now[0] += 230
    assert gc.stage_timeout(240, reserve=40) == 10        # nothing left: a short floor, not zero


def test_kernel_benchmarks_save_after_every_stage(tmp_path, monkeypatch):
    """A run cut short (gpu-check's time limit kills it) keeps the stages that finished."""
    import json
    import sys
    import types

    out = tmp_path / "bench.json"

    def stage(rows):
        return types.SimpleNamespace(run=lambda results, quick=False: results.extend(rows))

    def killed(results, quick=False):
        raise SystemExit("killed")  # not an Exception: nothing after this runs, as with a kill

    fake = {"bench.gpu.matmul_conv": stage([{"bench": "matmul_float32", "ours_ms": 1.0}]),
            "bench.gpu.rowwise": types.SimpleNamespace(run=killed)}
    monkeypatch.setattr(importlib, "import_module", lambda name: fake[name])
    monkeypatch.setattr(sys, "argv", ["gpu_kernels.py", "--quick", "--json", str(out)])
    try:
        gpu_kernels.main()
    except SystemExit:
        pass
    assert json.loads(out.read_text()) == [{"bench": "matmul_float32", "ours_ms": 1.0}]
    assert not (tmp_path / "bench.json.part").exists()


def _gpu_check(tmp_path, monkeypatch):
    monkeypatch.setenv("OUT", str(tmp_path))
    spec = importlib.util.spec_from_file_location("gpu_check_merge", _ROOT / "bench" / "gpu_check.py")
    gc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gc)
    return gc


def test_isolated_test_files_exist_and_results_merge(tmp_path, monkeypatch):
    """Tests of never-verified kernels run in a pytest process of their own; their junit
    summary is added to the main run's."""
    gc = _gpu_check(tmp_path, monkeypatch)
    assert gc.ISOLATED and all((_ROOT / f).is_file() for f in gc.ISOLATED)
    main = {"passed": 500, "failed": 1, "errors": 0, "skipped": 3,
            "failures": [{"test": "a::b", "message": "m"}]}
    iso = {"passed": 40, "failed": 0, "errors": 2, "skipped": 0,
           "failures": [{"test": "c::d", "message": "CUDA_ERROR_ILLEGAL_INSTRUCTION"}]}
    merged = gc.merge_junit(main, iso)
    assert (merged["passed"], merged["failed"], merged["errors"], merged["skipped"]) == (540, 1, 2, 3)
    assert [f["test"] for f in merged["failures"]] == ["a::b", "c::d"]
    assert "parse_error" not in merged
    assert "parse_error" in gc.merge_junit(main, gc.parse_junit(str(tmp_path / "missing.xml")))
