# Every target bootstraps .venv by itself, idempotently.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-fast lint bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[all,dev]"
	@# headless Chromium from Debian for the browser tests (as root; they skip without it)
	@if ! command -v chromium >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
		else echo "note: install Debian's chromium for the browser tests"; fi; \
	fi
	@touch $(STAMP)

demo: setup
	$(BIN)/streamlearn demo --out demo-out

test: setup
	$(BIN)/python -m pytest -q

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not spark and not browser"

lint: setup
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

bench: setup
	$(BIN)/python benchmarks/rls.py
	$(BIN)/python benchmarks/generators.py
	$(BIN)/python benchmarks/kafka_e2e.py
	$(BIN)/python benchmarks/job1.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-out
