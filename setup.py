"""Ships the CUDA kernel sources inside the package (as tensorlab/_cuda_kernels).

Everything else is declared in pyproject.toml. A repository checkout (or an
editable install) reads ``cuda_kernels/`` directly; a built wheel carries a copy.
"""
import pathlib
import shutil

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithKernels(build_py):
    def run(self):
        super().run()
        src = pathlib.Path(__file__).resolve().parent / "cuda_kernels"
        if src.is_dir():
            dst = pathlib.Path(self.build_lib) / "tensorlab" / "_cuda_kernels"
            shutil.copytree(src, dst, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns("*.o", "*.cubin", "__pycache__"))


setup(cmdclass={"build_py": BuildPyWithKernels})
