# Quick start: `make train` (set up, then train on Lift) and `make test` (set up, then the test suite).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=
# torch's CPU build: on x86-64 Linux PyPI's torch==2.13.0 is the CUDA build (7 GB with triton, and triton beside
# Mesa's EGL segfaulted here); PyTorch's CPU index has 2.13.0+cpu. Elsewhere PyPI's build is the CPU one.
# The CPU index is asked only when the indexes pip already has (a local wheel folder, a mirror) lack the build:
# an unreachable extra index costs pip minutes of retries for every one of torch's dependencies.
ifeq ($(shell uname -sm),Linux x86_64)
TORCH := "torch==2.13.0+cpu"
TORCH_INDEX := --extra-index-url https://download.pytorch.org/whl/cpu
else
TORCH := torch==2.13.0
TORCH_INDEX :=
endif

# ROBOMIMIC: its own dataset code reads our demo files in a test; its other requirements (torchvision, which
# would pull another torch, and egl_probe, built with cmake) serve its training code, which no test runs.

.PHONY: setup train test eval clean

$(STAMP): pyproject.toml Makefile
	bash scripts/bootstrap_system.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH) 2>/dev/null \
		|| $(BIN)/pip install -q $(TORCH) $(TORCH_INDEX)   # the CPU build, before anything can pull a CUDA one
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/pip install -q --no-deps robomimic==0.3.0   # ROBOMIMIC, above
	touch $(STAMP)

setup: $(STAMP)

train: setup
	$(BIN)/wsa-robot train --task Lift $(ARGS)

eval: setup
	$(BIN)/wsa-robot eval --render $(ARGS)

# One worker per core (at most 4), a test file per worker at a time: module fixtures build once. The longest
# files first (tests/conftest.py SLOW_FILES): one drawn last would run alone while the other cores idle.
test: setup
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile --no-loadscope-reorder --durations 10 $(ARGS)

clean:
	rm -rf $(VENV) runs .pytest_cache
