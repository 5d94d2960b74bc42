"""The README's Python examples run as written (and print what they claim).

Complete examples are fenced as ```python and run here; fragments that need the
reader's own model or data are fenced as ```py and are not run."""
import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("i", range(len(BLOCKS)))
def test_readme_example_runs(i, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples write logs and checkpoints into the working directory
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(BLOCKS[i], f"README.md[python block {i}]", "exec"), {"__name__": "__readme__"})
    if "d2y_dx2" in BLOCKS[i]:
        assert out.getvalue().split()[-2:] == ["27.0", "18.0"]
