# tagtrail: `make run` starts the server, `make test` runs the whole suite (both set everything up).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Debian packages the tests need (installed by `make test` when missing).
TEST_SYSTEM_PACKAGES := nginx chromium chromium-driver

.PHONY: run test lint bench tour clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	@echo "The CLI is $(BIN)/tagtrail (or run '. $(BIN)/activate' to type tagtrail)."
	$(BIN)/tagtrail serve

tour: $(VENV)/.installed
	@bash scripts/tour.sh $(BIN)/tagtrail

test: $(VENV)/.installed-dev
	bash scripts/system-packages.sh $(TEST_SYSTEM_PACKAGES)
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff format --check src tests bench scripts harness
	$(BIN)/ruff check src tests bench scripts harness
	$(BIN)/mypy src
	$(BIN)/vulture
	$(BIN)/python -m pytest -q tests/test_docs.py

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/build.py
	$(BIN)/python bench/check.py
	$(BIN)/python bench/attribution.py
	$(BIN)/python bench/collected.py
	$(BIN)/python bench/shapley.py
	$(BIN)/python bench/redirect.py
	$(BIN)/python bench/collect.py
	$(BIN)/python bench/profiles.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/messages.py
	$(BIN)/python bench/lift.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
