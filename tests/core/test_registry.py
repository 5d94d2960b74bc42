"""The op registry: every primitive has a CPU implementation, a CUDA
implementation (our kernel or a documented CuPy fallback), a gradient rule
(or is marked not differentiable), and a shape rule."""
import importlib

import pytest

import tensorlab as tl  # noqa: F401  (imports every op family)
import tensorlab.backend.cpu

tensorlab.backend.cpu.load()  # backends register their implementations on first use
from tensorlab.core.registry import NOT_DIFFERENTIABLE, REGISTRY


PRIMS = sorted(REGISTRY.values(), key=lambda p: p.name)


@pytest.mark.parametrize("prim", PRIMS, ids=lambda p: p.name)
def test_primitive_is_complete(prim):
    assert "cpu" in prim.impls, f"{prim.name} has no CPU implementation"
    assert prim.grad is not None, f"{prim.name} has neither a gradient rule nor not_differentiable()"
    assert callable(prim.shape_rule)


def test_cuda_backend_covers_every_primitive():
    """Each family with a CPU module has a CUDA module; with CuPy present all register."""
    import pkgutil
    import tensorlab.backend.cpu as cpu_pkg
    from pathlib import Path
    cuda_dir = Path(cpu_pkg.__file__).parent.parent / "cuda"
    for info in pkgutil.iter_modules(cpu_pkg.__path__):
        if not info.name.startswith("_"):
            assert (cuda_dir / f"{info.name}.py").exists(), f"backend/cuda/{info.name}.py is missing"
    try:
        importlib.import_module("cupy")
        import tensorlab.backend.cuda as cuda_backend
    except Exception:
        pytest.skip("CuPy is not importable here; the CUDA registrations are checked on a GPU machine")
    cuda_backend.load()
    missing = [p.name for p in PRIMS if "cuda" not in p.impls]
    assert not missing, f"primitives without a CUDA implementation: {missing}"


def test_error_missing_impl_names_the_kernel():
    from tensorlab.core.registry import primitive, REGISTRY
    from tensorlab.core.spec import TensorSpec
    p = primitive("test_only_noimpl", lambda x: TensorSpec(x.shape, x.dtype))
    try:
        with pytest.raises(tl.errors.UnimplementedError, match="test_only_noimpl: no CPU implementation"):
            p(tl.constant(1.0))
    finally:
        del REGISTRY["test_only_noimpl"]


def test_nondifferentiable_marking_is_explicit():
    nd = [p.name for p in PRIMS if p.grad is NOT_DIFFERENTIABLE]
    assert {"equal", "argmax", "argsort", "fill", "random_normal"} <= set(nd)
    # and every differentiable primitive's rule is a callable
    assert all(callable(p.grad) for p in PRIMS if p.grad is not NOT_DIFFERENTIABLE)
