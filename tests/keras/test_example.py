"""The main job: the digits CNN example reaches the target accuracy."""
import contextlib
import io

import pytest


@pytest.mark.slow
def test_digits_example_reaches_target_accuracy():
    from tensorlab.examples import digits
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = digits.main(["--verbose", "0"])
    out = buf.getvalue()
    assert code == 0, out
    assert "running on" in out and "test accuracy" in out
    acc = float(out.split("test accuracy ")[1].split()[0])
    assert acc >= digits.TARGET
