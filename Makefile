# Mienskip: `make demo` runs the whole system, `make test` proves it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PACKAGES := -e shared -e services/intake -e services/matching -e services/notify -e cli
PORT ?= 8000
PYTEST_ARGS ?=
ARGS ?=

.PHONY: install demo serve test test-fast lint bench clean

$(STAMP): requirements/constraints.txt requirements/dev.txt shared/pyproject.toml \
          services/intake/pyproject.toml services/matching/pyproject.toml \
          services/notify/pyproject.toml cli/pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements/constraints.txt $(PACKAGES) -r requirements/dev.txt
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/mienskip demo --port $(PORT) $(ARGS)

serve: install
	$(BIN)/mienskip serve --port $(PORT)

test: install  # in parallel, then the few `serial` tests alone: see tests/run_all.py
	$(BIN)/python tests/run_all.py $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest tests/unit $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check shared services cli tests benchmarks
	$(BIN)/lint-imports

bench: install
	$(BIN)/python -m benchmarks.intake

clean:
	rm -rf $(VENV) var .pytest_cache
