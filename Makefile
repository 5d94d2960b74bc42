# tensorlab developer commands. `make demo` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev
RUN_STAMP := $(VENV)/.installed-run
# The demo installs the runtime only, plus CuPy when this machine has an NVIDIA driver.
RUN_EXTRAS := $(shell command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo '[cuda13]')

.PHONY: test demo venv kernels-check gpu-check bench docker-smoke clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.$(RUN_EXTRAS)'
	touch $(RUN_STAMP)

venv: $(STAMP)

## CPU-only test selection (what CI runs).
test: $(STAMP)
	$(PY) -m pytest -m "not gpu" -q -p no:randomly
	# the gpu tests once more, on an emulated GPU (our kernels on the host emulator; real runs: gpu-check)
	$(PY) -m pytest -m gpu --emulated-gpu -q -p no:randomly

## Train on the bundled digits data (GPU if there is one, else CPU).
demo: $(RUN_STAMP)
	$(PY) -m tensorlab.examples.digits

## Compile every CUDA kernel (sm_80, sm_90) with a register/spill report; run the CPU emulation tests.
kernels-check: $(STAMP)
	$(PY) -m pytest tests/kernels -q -s

## On a GPU machine (no installs): all gpu-marked tests + kernel benchmarks; table last, JSON to $$OUT.
gpu-check:
	PYTHONPATH=. python3 bench/gpu_check.py

## CPU benchmarks: eager dispatch vs numpy/PyTorch.
bench: $(STAMP)
	$(PY) bench/eager_dispatch.py

## Build the Docker images without a Docker daemon (buildah + debootstrap; needs root/apt) and run them.
docker-smoke:
	bash scripts/docker_smoke.sh

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis .benchmarks
