PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs: `make run` needs only the product's dependencies; the dev extras (pytest,
# schemathesis, mypy, ruff, ...) are installed for the checks only.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck imports clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(RUN_STAMP)
	$(BIN)/trigger-harness run

lint: $(STAMP)
	$(BIN)/ruff check harness mock_server scenarios tests
	$(BIN)/ruff format --check harness mock_server scenarios tests

typecheck: $(STAMP)
	$(BIN)/mypy

imports: $(STAMP)
	$(BIN)/lint-imports

test: lint typecheck imports
	$(BIN)/python -m pytest

bench: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python -m scenarios.bench_status
	$(BIN)/python -m scenarios.bench_status --runs 100000 --in-flight
	$(BIN)/python -m scenarios.bench_memory
	$(BIN)/python -m scenarios.bench_pollers --pollers 10000
	$(BIN)/python -m scenarios.bench_flaky
	$(BIN)/python -m scenarios.bench_locust

clean:
	rm -rf $(VENV) reports/*/ reports/latest

.PHONY: test-browser
test-browser: $(STAMP)
	@if [ ! -x /usr/bin/chromium ]; then apt-get update && apt-get install -y chromium; fi
	rm -rf reports/browser-check
	$(BIN)/trigger-harness run --quiet --report-dir reports/browser-check || test $$? -eq 1
	$(BIN)/python scripts/browser_check.py reports/browser-check/latest/index.html --screenshot reports/browser-check/latest/screenshot.png
