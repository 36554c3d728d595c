# seedmusic: `make demo` sets everything up and runs the main job; `make test` sets up and tests.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export NUMBA_CACHE_DIR := $(CURDIR)/.cache/numba
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export MPLBACKEND := Agg

.PHONY: setup demo test lint typecheck clean

setup:
	@bash scripts/setup.sh

demo: setup
	$(VENV)/bin/seedmusic demo -o out/demo

test: setup
	$(PY) -m pytest -n 2 --dist loadgroup -q

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

clean:
	rm -rf out .pytest_cache .cache
