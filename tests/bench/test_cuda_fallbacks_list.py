"""bench/results/README.md's list of primitives on our kernels vs CuPy built-ins matches the registry."""
import importlib.util
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("cuda_fallbacks", _ROOT / "bench" / "cuda_fallbacks.py")
cuda_fallbacks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cuda_fallbacks)


def test_the_results_readme_lists_every_primitive_where_it_runs():
    _, in_readme = cuda_fallbacks.current()
    assert in_readme is not None, "bench/results/README.md lost its generated block"
    assert in_readme == cuda_fallbacks.block(), (
        "the primitive lists in bench/results/README.md are stale: run "
        "`PYTHONPATH=. python bench/cuda_fallbacks.py --write`")
    ours, cupy = cuda_fallbacks.split_primitives()
    assert "matmul" in ours and "conv2d" in ours and "add" in cupy and not set(ours) & set(cupy)
